// Exception types carried by calculator.capnp's $Cp.exception results (golden test).
#pragma once

#include <stdexcept>

namespace golden::calc {

// Thrown by Calculator::divide. Immutable.
class DivisionByZero : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by Calculator::minMax. Immutable.
class Overflow : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace golden::calc
