// Hand-written C++ that wrapped.capnp binds with $Cp.wrap (golden test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace golden::wrapped {
class Watcher;  // generated from wrapped.capnp
}  // namespace golden::wrapped

namespace golden::hand {

// Settings of one key. A plain value.
struct Settings {
  std::string name;
  int32_t level = 0;
  std::vector<std::string> tags;
};

// A key/value store, written before the schema was. Implementations decide their threading.
class Store {
 public:
  virtual ~Store() = default;
  virtual Settings get(const std::string& key) = 0;
  virtual void put(const std::string& key, const Settings& value) = 0;
#ifdef GOLDEN_WRAP_MISMATCH
  // Differs from the schema: the generated client must fail to compile (golden_wrap_mismatch).
  virtual std::vector<std::string> keys(std::size_t limit) = 0;
#else
  virtual std::vector<std::string> keys() = 0;
#endif
  virtual std::unique_ptr<golden::wrapped::Watcher> watch(const std::string& key) = 0;
};

}  // namespace golden::hand
