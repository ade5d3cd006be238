// Codecs for the number schema types: Bool, Int8 ... UInt64, Float32 and Float64.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/types/checks.h>

#include <type_traits>

namespace crossproc {
namespace detail {

// True when a C++ number type T can travel as the number schema type Wire: bool as Bool, any
// integer type as any integer type, any floating-point type as Float32 or Float64.
template <typename Wire, typename T>
inline constexpr bool kIsNumberPair = (std::is_same_v<Wire, bool> && std::is_same_v<T, bool>) ||
                                      (kIsInteger<Wire> && kIsInteger<T>) ||
                                      (std::is_floating_point_v<Wire> &&
                                       std::is_floating_point_v<T>);

}  // namespace detail

// Numbers, also of another width than the schema's (int on Int64, size_t on UInt32...): a value
// that does not fit the receiving type is refused with RemoteError, when it is built as when it
// is read. Integers and floating-point numbers do not mix, nor do bool and integers.
template <typename Wire, typename T>
struct Codec<Wire, T, std::enable_if_t<detail::kIsNumberPair<Wire, T>>> {
  static Wire Build(Encoder&, T value) { return detail::ConvertNumber<Wire>(value); }
  static T Read(Decoder&, Wire value) { return detail::ConvertNumber<T>(value); }
};

}  // namespace crossproc
