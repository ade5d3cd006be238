// Codecs for C++ enums, carried as schema enums or as integers.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/types/checks.h>

#include <type_traits>

namespace crossproc {

// A C++ enum as any schema enum or integer type, by its underlying value (range-checked). Read
// accepts values the C++ enum has no enumerator for, as Cap'n Proto does for a peer built from a
// newer schema: a switch over a received enum needs a default. The C++ enum must have a fixed
// underlying type (every `enum class` has one) so that such values are well-defined.
template <typename Wire, typename T>
struct Codec<
    Wire, T,
    std::enable_if_t<std::is_enum_v<T> && (std::is_enum_v<Wire> || detail::kIsInteger<Wire>)>> {
  using Underlying = std::underlying_type_t<T>;
  // The integer a Wire value is: itself, or a schema enum's underlying uint16_t.
  using WireInteger = typename std::conditional_t<std::is_enum_v<Wire>, std::underlying_type<Wire>,
                                                  std::type_identity<Wire>>::type;

  static Wire Build(Encoder&, T value) {
    return static_cast<Wire>(detail::ConvertNumber<WireInteger>(static_cast<Underlying>(value)));
  }
  static T Read(Decoder&, Wire value) {
    return static_cast<T>(detail::ConvertNumber<Underlying>(static_cast<WireInteger>(value)));
  }
};

}  // namespace crossproc
