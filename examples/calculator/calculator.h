// The calculator example's implementation and the exception its schema names.
#pragma once

#include "calculator.crossproc.h"
#include "calculator_errors.h"

#include <string>
#include <vector>

namespace calc {

// A Calculator that remembers what it computed. Used by one client thread at a time.
class CalculatorImpl final : public Calculator {
 public:
  explicit CalculatorImpl(std::string name) : m_name(std::move(name)) {}
  double add(double a, double b) override;
  double divide(double a, double b) override;
  std::vector<std::string> history() override;

 private:
  std::string m_name;
  std::vector<std::string> m_history;
};

// The server's Init: makes calculators.
class InitImpl final : public Init {
 public:
  std::unique_ptr<Calculator> makeCalculator(const std::string& name) override {
    return std::make_unique<CalculatorImpl>(name);
  }
};

}  // namespace calc
