// The reference calculator of the runtime fuzz targets.
#include "fuzz_calculator.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace crossproc::fuzz {

std::atomic<int> g_live_calculators{0};

std::string DoubleBits(double value) {
  char text[24];
  std::snprintf(text, sizeof(text), "%016" PRIx64, std::bit_cast<uint64_t>(value));
  return text;
}

ReferenceCalculator::ReferenceCalculator(std::string name) : m_name(std::move(name)) { ++g_live_calculators; }
ReferenceCalculator::~ReferenceCalculator() { --g_live_calculators; }

double ReferenceCalculator::add(double a, double b) { return a + b; }

double ReferenceCalculator::divide(double a, double b) {
  if (b == 0) throw golden::calc::DivisionByZero("division of " + DoubleBits(a) + " by zero");
  return a / b;
}

void ReferenceCalculator::divmod(int64_t a, int64_t b, int64_t& quotient, int64_t& remainder) {
  if (b == 0) throw std::invalid_argument("divmod by zero");
  if (a == std::numeric_limits<int64_t>::min() && b == -1) throw std::invalid_argument("divmod overflows");
  quotient = a / b;
  remainder = a % b;
}

void ReferenceCalculator::accumulate(double& total, double value) {
  total += value;
  m_history.push_back("total " + DoubleBits(total));
}

bool ReferenceCalculator::minMax(const std::vector<double>& values, double& min, double& max) {
  if (values.empty()) return false;
  if (values.size() > 100) throw golden::calc::Overflow("too many values: " + std::to_string(values.size()));
  min = *std::min_element(values.begin(), values.end());
  max = *std::max_element(values.begin(), values.end());
  return true;
}

void ReferenceCalculator::reset() { m_history.clear(); }

void ReferenceCalculator::forEach(const std::shared_ptr<golden::calc::Visitor>& visitor) {
  for (double value : {1.0, -2.5, 1e300}) m_history.push_back("visit " + DoubleBits(visitor->call(value)));
}

void ReferenceCalculator::apply(const std::function<double(double)>& fn) {
  m_history.push_back("apply " + DoubleBits(fn(10)));
}

void ReferenceCalculator::subscribe(const std::shared_ptr<golden::calc::Visitor>& visitor,
                                    std::unique_ptr<golden::calc::Subscription>& subscription) {
  // The subscription calls the visitor once when cancelled.
  struct Cancel final : golden::calc::Subscription {
    explicit Cancel(std::shared_ptr<golden::calc::Visitor> v) : visitor(std::move(v)) {}
    void cancel() override {
      if (visitor) visitor->call(0);
      visitor.reset();
    }
    std::shared_ptr<golden::calc::Visitor> visitor;
  };
  subscription = std::make_unique<Cancel>(visitor);
}

std::optional<std::string> ReferenceCalculator::lastError() {
  if (m_history.empty()) return std::nullopt;
  return m_history.back();
}

std::vector<std::string> ReferenceCalculator::history() { return m_history; }

void ReferenceCalculator::transfer(std::unique_ptr<golden::calc::Calculator> target) {
  if (!target) throw std::invalid_argument("transfer of no calculator");
  m_history.push_back("transferred adds " + DoubleBits(target->add(20, 22)));
  m_kept.push_back(std::move(target));
}

void ReferenceCalculator::run(const std::function<void(const std::string&, int32_t)>& progress) {
  for (int32_t percent : {0, 50, 100}) progress(m_name, percent);
}

std::unique_ptr<golden::calc::Calculator> ReferenceInit::makeCalculator(const std::string& name) {
  return std::make_unique<ReferenceCalculator>(name);
}

}  // namespace crossproc::fuzz
