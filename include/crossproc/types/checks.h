// Range and size checks the codecs share; not API (use the codecs in the other types/ headers).
#pragma once

#include <crossproc/errors.h>

#include <capnp/common.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

namespace crossproc::detail {

// Integer types a number field converts to and from: every integral type but bool.
template <typename T>
inline constexpr bool kIsInteger = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// The longest Data, Text (without its NUL) and list a Cap'n Proto message can hold.
inline constexpr std::size_t kMaxDataBytes = (std::size_t{1} << capnp::BLOB_SIZE_BITS) - 1;
inline constexpr std::size_t kMaxTextBytes = kMaxDataBytes - 1;
inline constexpr std::size_t kMaxListElements =
    (std::size_t{1} << capnp::LIST_ELEMENT_COUNT_BITS) - 1;

// Every codec failure: RemoteError of kind kFailed, no exception type name.
[[noreturn]] inline void ThrowCodecError(std::string message) {
  throw RemoteError(ErrorKind::kFailed, "", std::move(message));
}

// Returns `size` as a Cap'n Proto element count, or throws if a `what` ("text", "list"...) that
// long cannot be stored. Without it a size above 4 GiB would wrap around when narrowed.
inline capnp::uint CheckedSize(std::size_t size, std::size_t max, const char* what) {
  if (size > max) {
    ThrowCodecError(std::string(what) + " too long for a message: " + std::to_string(size) +
                    " elements, at most " + std::to_string(max));
  }
  return static_cast<capnp::uint>(size);
}

// "a signed 16-bit integer", "a 64-bit float": how an error message names a number type.
template <typename T>
std::string NumberTypeName() {
  std::string bits = std::to_string(sizeof(T) * 8) + "-bit ";
  if constexpr (std::is_floating_point_v<T>) {
    return "a " + bits + "float";
  } else if constexpr (std::is_signed_v<T>) {
    return "a signed " + bits + "integer";
  } else {
    return "an unsigned " + bits + "integer";
  }
}

template <typename T>
std::string NumberText(T value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (error != std::errc()) return "?";
  return std::string(buffer, end);
}

// Converts between two integer types or two floating-point types, throwing RemoteError instead
// of wrapping or truncating when the value does not fit the target. Floating-point values keep
// NaN and infinities and may lose precision (a double read into a float), but not range.
template <typename To, typename From>
To ConvertNumber(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (kIsInteger<To> && kIsInteger<From>) {
    // std::in_range takes standard integer types only: char, wchar_t... go as their equivalents.
    using StdTo =
        std::conditional_t<std::is_signed_v<To>, std::make_signed_t<To>, std::make_unsigned_t<To>>;
    using StdFrom = std::conditional_t<std::is_signed_v<From>, std::make_signed_t<From>,
                                       std::make_unsigned_t<From>>;
    if (!std::in_range<StdTo>(static_cast<StdFrom>(value))) {
      ThrowCodecError("number out of range: " + NumberText(static_cast<StdFrom>(value)) +
                      " does not fit in " + NumberTypeName<To>());
    }
    return static_cast<To>(value);
  } else {
    static_assert(std::is_floating_point_v<To> && std::is_floating_point_v<From>,
                  "numbers convert integer to integer or floating point to floating point");
    if constexpr (std::numeric_limits<To>::max() < std::numeric_limits<From>::max()) {
      // NaN and the infinities exist in every floating-point type and pass.
      if (std::isfinite(value) &&
          (value > std::numeric_limits<To>::max() || value < std::numeric_limits<To>::lowest())) {
        ThrowCodecError("number out of range: " + NumberText(value) + " does not fit in " +
                        NumberTypeName<To>());
      }
    }
    return static_cast<To>(value);
  }
}

}  // namespace crossproc::detail
