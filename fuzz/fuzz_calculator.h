// The reference implementation of the golden Calculator and Init interfaces that the runtime
// fuzz targets serve, and compare remote results against.
#pragma once

#include "calculator.crossproc.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace crossproc::fuzz {

// Calculators alive in this process (the fuzz targets check that none leak).
extern std::atomic<int> g_live_calculators;

// A deterministic calculator: every result depends only on its arguments and on the calls made
// before on the same object. Never has undefined behaviour: divmod by zero or of INT64_MIN by -1
// throws std::invalid_argument. Not thread-safe (one caller at a time, as in the fuzz targets).
class ReferenceCalculator final : public golden::calc::Calculator {
 public:
  explicit ReferenceCalculator(std::string name);
  ~ReferenceCalculator() override;

  double add(double a, double b) override;
  double divide(double a, double b) override;
  void divmod(int64_t a, int64_t b, int64_t& quotient, int64_t& remainder) override;
  void accumulate(double& total, double value) override;
  bool minMax(const std::vector<double>& values, double& min, double& max) override;
  void reset() override;
  void forEach(const std::shared_ptr<golden::calc::Visitor>& visitor) override;
  void apply(const std::function<double(double)>& fn) override;
  void subscribe(const std::shared_ptr<golden::calc::Visitor>& visitor,
                 std::unique_ptr<golden::calc::Subscription>& subscription) override;
  std::optional<std::string> lastError() override;
  std::vector<std::string> history() override;
  void transfer(std::unique_ptr<golden::calc::Calculator> target) override;
  void run(const std::function<void(const std::string&, int32_t)>& progress) override;

 private:
  std::string m_name;
  std::vector<std::string> m_history;
  std::vector<std::unique_ptr<golden::calc::Calculator>> m_kept;
};

// Makes ReferenceCalculators. Thread-safe.
class ReferenceInit final : public golden::calc::Init {
 public:
  std::unique_ptr<golden::calc::Calculator> makeCalculator(const std::string& name) override;
};

// Text for a double that tells every value apart (NaN payloads included): the bits in hex.
std::string DoubleBits(double value);

}  // namespace crossproc::fuzz
