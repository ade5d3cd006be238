// Codecs for std::pair and std::tuple, carried as structs.
#pragma once

#include <crossproc/codec.h>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace crossproc {
namespace detail {

template <typename T>
struct IsPairOrTuple : std::false_type {};
template <typename A, typename B>
struct IsPairOrTuple<std::pair<A, B>> : std::true_type {};
template <typename... T>
struct IsPairOrTuple<std::tuple<T...>> : std::true_type {};

// Fills field I of a Wire struct with element I of `value`, for each I.
template <typename Wire, typename T, std::size_t... I>
void FillFromTuple(Encoder& encoder, typename Wire::Builder builder, const T& value,
                   std::index_sequence<I...>) {
  (StructFields<Wire>::template Set<I>(encoder, builder, std::get<I>(value)), ...);
}

// Reads element I of a T from field I of a Wire struct, for each I, in order (braced
// initialization evaluates left to right).
template <typename Wire, typename T, std::size_t... I>
T ReadIntoTuple(Decoder& decoder, typename Wire::Reader reader, std::index_sequence<I...>) {
  using Fields = StructFields<Wire>;
  return T{Codec<typename Fields::template FieldWire<I>, std::tuple_element_t<I, T>>::Read(
      decoder, Fields::template Get<I>(reader))...};
}

}  // namespace detail

// A struct S <-> std::pair or std::tuple: element I is field I of S (in declaration order), each
// through its own codec. S must have exactly as many fields as the tuple has elements.
template <typename Wire, typename T>
struct Codec<
    Wire, T,
    std::enable_if_t<detail::IsPairOrTuple<T>::value && kKindOf<Wire> == capnp::Kind::STRUCT>>
    : StructCodec<Wire, T, Codec<Wire, T>> {
  static constexpr std::size_t kSize = std::tuple_size_v<T>;
  static_assert(StructFields<Wire>::kCount == kSize,
                "a std::pair or std::tuple needs a struct with as many fields as it has elements");

  static void Fill(Encoder& encoder, typename Wire::Builder builder, const T& value) {
    detail::FillFromTuple<Wire>(encoder, builder, value, std::make_index_sequence<kSize>());
  }
  static T Read(Decoder& decoder, typename Wire::Reader reader) {
    return detail::ReadIntoTuple<Wire, T>(decoder, reader, std::make_index_sequence<kSize>());
  }
};

}  // namespace crossproc
