// Codecs for numbers, bool, enums and std::chrono durations.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/errors.h>

#include <chrono>
#include <string>
#include <type_traits>
#include <utility>

namespace crossproc {
namespace detail {

[[noreturn]] inline void ThrowOutOfRange(const char* what) {
  throw RemoteError(ErrorKind::kFailed, "", std::string("value out of range for ") + what);
}

// Converts between arithmetic types, refusing integer values the target cannot hold.
template <typename To, typename From>
To NarrowValue(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (std::is_same_v<To, bool> || std::is_same_v<From, bool>) {
    return static_cast<To>(value);
  } else if constexpr (std::is_integral_v<To> && std::is_integral_v<From>) {
    if (!std::in_range<To>(value)) ThrowOutOfRange("an integer field");
    return static_cast<To>(value);
  } else {
    return static_cast<To>(value);
  }
}

}  // namespace detail

// bool, integers, float and double, also between different widths (range-checked both ways).
template <typename Wire, typename T>
struct Codec<Wire, T, std::enable_if_t<std::is_arithmetic_v<Wire> && std::is_arithmetic_v<T>>> {
  static Wire Build(Encoder&, T value) { return detail::NarrowValue<Wire>(value); }
  static T Read(Decoder&, Wire value) { return detail::NarrowValue<T>(value); }
};

// A C++ enum as a schema enum or as an integer (its underlying value).
template <typename Wire, typename T>
struct Codec<Wire, T, std::enable_if_t<std::is_enum_v<T> && (std::is_enum_v<Wire> || std::is_integral_v<Wire>)>> {
  using Underlying = std::underlying_type_t<T>;
  static Wire Build(Encoder&, T value) {
    if constexpr (std::is_enum_v<Wire>) {
      using WireUnderlying = std::underlying_type_t<Wire>;
      return static_cast<Wire>(detail::NarrowValue<WireUnderlying>(static_cast<Underlying>(value)));
    } else {
      return detail::NarrowValue<Wire>(static_cast<Underlying>(value));
    }
  }
  static T Read(Decoder&, Wire value) {
    if constexpr (std::is_enum_v<Wire>) {
      return static_cast<T>(detail::NarrowValue<Underlying>(static_cast<std::underlying_type_t<Wire>>(value)));
    } else {
      return static_cast<T>(detail::NarrowValue<Underlying>(value));
    }
  }
};

// A duration as the count of its own unit (std::chrono::seconds as seconds, and so on).
template <typename Wire, typename Rep, typename Period>
struct Codec<Wire, std::chrono::duration<Rep, Period>, std::enable_if_t<std::is_arithmetic_v<Wire>>> {
  using Duration = std::chrono::duration<Rep, Period>;
  static Wire Build(Encoder&, const Duration& value) { return detail::NarrowValue<Wire>(value.count()); }
  static Duration Read(Decoder&, Wire value) { return Duration(detail::NarrowValue<Rep>(value)); }
};

}  // namespace crossproc
