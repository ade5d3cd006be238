// GenError: a schema crossproc-gen cannot translate; reported as `<file>: <message>`.
#pragma once

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace crossproc::gen {

// Thrown while a file is translated; main() prints it after the file name and exits with 1.
// Immutable.
class GenError : public std::runtime_error {
 public:
  explicit GenError(const std::string& message) : std::runtime_error(message) {}
};

// Throws GenError with the concatenation of `parts`.
[[noreturn]] inline void Fail(std::initializer_list<std::string_view> parts) {
  std::string message;
  for (std::string_view part : parts) message += part;
  throw GenError(message);
}

}  // namespace crossproc::gen
