// The C++ interfaces mp_style.capnp binds, in the shape of libmultiprocess applications'
// interfaces/*.h (golden test).
#pragma once

#include "mp_style_types.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mpgolden {

// Echoes text back. Implementations decide their threading.
class Echo {
 public:
  virtual ~Echo() = default;
  virtual std::string echo(const std::string& echo) = 0;
  virtual std::string repeat(const std::string& echo) = 0;
  virtual uint32_t count(const std::vector<std::string>& words) = 0;
  virtual void interrupt() = 0;
};

// What a process offers when another connects to it.
class Init {
 public:
  virtual ~Init() = default;
  virtual std::unique_ptr<Echo> makeEcho() = 0;
};

}  // namespace mpgolden
