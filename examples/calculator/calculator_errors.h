// The exception calculator.capnp names; the generated code throws and catches it.
#pragma once

#include <stdexcept>

namespace calc {

// Thrown by Calculator::divide; crosses the process boundary as itself.
class DivisionByZero : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace calc
