// Codecs for lists (std::vector, std::set, std::unordered_set, std::list), maps (as lists of
// key/value structs), std::pair and std::tuple (as structs).
#pragma once

#include <crossproc/codec.h>
#include <crossproc/errors.h>

#include <capnp/list.h>

#include <cstddef>
#include <list>
#include <map>
#include <set>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace crossproc {
namespace detail {

template <typename T, typename = void>
struct IsMap : std::false_type {};
template <typename T>
struct IsMap<T, std::void_t<typename T::key_type, typename T::mapped_type>> : std::true_type {};

template <typename T>
struct IsSequence : std::false_type {};
template <typename T, typename A>
struct IsSequence<std::vector<T, A>> : std::true_type {};
template <typename T, typename A>
struct IsSequence<std::list<T, A>> : std::true_type {};
template <typename T, typename C, typename A>
struct IsSequence<std::set<T, C, A>> : std::true_type {};
template <typename T, typename H, typename E, typename A>
struct IsSequence<std::unordered_set<T, H, E, A>> : std::true_type {};

// Stores one element of a list, as the element's kind requires.
template <typename Element, typename T>
void SetElement(Encoder& encoder, typename capnp::List<Element>::Builder list, capnp::uint index, const T& value) {
  constexpr capnp::Kind kind = capnp::kind<Element>();
  if constexpr (kind == capnp::Kind::PRIMITIVE || kind == capnp::Kind::ENUM || kind == capnp::Kind::INTERFACE) {
    list.set(index, crossproc::Build<Element>(encoder, value));
  } else if constexpr (kind == capnp::Kind::STRUCT) {
    Codec<Element, T>::Fill(encoder, list[index], value);
  } else {
    list.adopt(index, crossproc::Build<Element>(encoder, value));
  }
}

template <typename Container, typename Value>
void Insert(Container& container, Value&& value) {
  if constexpr (requires { container.push_back(std::forward<Value>(value)); }) {
    container.push_back(std::forward<Value>(value));
  } else {
    container.insert(std::forward<Value>(value));
  }
}

template <typename Wire, typename Tuple, std::size_t... I>
void FillFields(Encoder& encoder, typename Wire::Builder builder, const Tuple& value, std::index_sequence<I...>) {
  (StructFields<Wire>::template Set<I>(encoder, builder, std::get<I>(value)), ...);
}

template <typename Wire, typename Tuple, std::size_t... I>
Tuple ReadFields(Decoder& decoder, typename Wire::Reader reader, std::index_sequence<I...>) {
  return Tuple(crossproc::Read<typename StructFields<Wire>::template FieldWire<I>, std::tuple_element_t<I, Tuple>>(
      decoder, StructFields<Wire>::template Get<I>(reader))...);
}

template <typename T>
struct IsPairOrTuple : std::false_type {};
template <typename A, typename B>
struct IsPairOrTuple<std::pair<A, B>> : std::true_type {};
template <typename... T>
struct IsPairOrTuple<std::tuple<T...>> : std::true_type {};

}  // namespace detail

// List(E) <-> std::vector<T>, std::list<T>, std::set<T>, std::unordered_set<T>.
template <typename Element, typename T>
struct Codec<capnp::List<Element, capnp::kind<Element>()>, T, std::enable_if_t<detail::IsSequence<T>::value>> {
  using Wire = capnp::List<Element, capnp::kind<Element>()>;
  using Value = typename T::value_type;
  static capnp::Orphan<Wire> Build(Encoder& encoder, const T& value) {
    auto orphan = encoder.orphanage().template newOrphan<Wire>(static_cast<capnp::uint>(value.size()));
    auto list = orphan.get();
    capnp::uint index = 0;
    for (const auto& element : value) detail::SetElement<Element>(encoder, list, index++, static_cast<const Value&>(element));
    return orphan;
  }
  static T Read(Decoder& decoder, typename Wire::Reader reader) {
    T value;
    if constexpr (requires { value.reserve(reader.size()); }) value.reserve(reader.size());
    for (auto element : reader) detail::Insert(value, crossproc::Read<Element, Value>(decoder, element));
    return value;
  }
};

// List(S) <-> std::map<K, V> / std::unordered_map<K, V>, where S is a struct of two fields
// (key first, value second).
template <typename Element, typename T>
struct Codec<capnp::List<Element, capnp::Kind::STRUCT>, T, std::enable_if_t<detail::IsMap<T>::value>> {
  using Wire = capnp::List<Element, capnp::Kind::STRUCT>;
  static_assert(StructFields<Element>::kCount == 2, "a map travels as a list of two-field structs");
  using Key = typename T::key_type;
  using Mapped = typename T::mapped_type;
  static capnp::Orphan<Wire> Build(Encoder& encoder, const T& value) {
    auto orphan = encoder.orphanage().template newOrphan<Wire>(static_cast<capnp::uint>(value.size()));
    auto list = orphan.get();
    capnp::uint index = 0;
    for (const auto& [key, mapped] : value) {
      auto entry = list[index++];
      StructFields<Element>::template Set<0>(encoder, entry, key);
      StructFields<Element>::template Set<1>(encoder, entry, mapped);
    }
    return orphan;
  }
  static T Read(Decoder& decoder, typename Wire::Reader reader) {
    T value;
    for (auto entry : reader) {
      auto key = crossproc::Read<typename StructFields<Element>::template FieldWire<0>, Key>(
          decoder, StructFields<Element>::template Get<0>(entry));
      auto mapped = crossproc::Read<typename StructFields<Element>::template FieldWire<1>, Mapped>(
          decoder, StructFields<Element>::template Get<1>(entry));
      if (!value.emplace(std::move(key), std::move(mapped)).second) {
        throw RemoteError(ErrorKind::kFailed, "", "duplicate key in a map");
      }
    }
    return value;
  }
};

// A struct S <-> std::pair / std::tuple with as many elements as S has fields, in order.
template <typename Wire, typename T>
struct Codec<Wire, T, std::enable_if_t<capnp::kind<Wire>() == capnp::Kind::STRUCT && detail::IsPairOrTuple<T>::value>> {
  static_assert(StructFields<Wire>::kCount == std::tuple_size_v<T>, "struct and tuple sizes differ");
  static void Fill(Encoder& encoder, typename Wire::Builder builder, const T& value) {
    detail::FillFields<Wire>(encoder, builder, value, std::make_index_sequence<std::tuple_size_v<T>>());
  }
  static capnp::Orphan<Wire> Build(Encoder& encoder, const T& value) {
    auto orphan = encoder.orphanage().template newOrphan<Wire>();
    Fill(encoder, orphan.get(), value);
    return orphan;
  }
  static T Read(Decoder& decoder, typename Wire::Reader reader) {
    return detail::ReadFields<Wire, T>(decoder, reader, std::make_index_sequence<std::tuple_size_v<T>>());
  }
};

}  // namespace crossproc
