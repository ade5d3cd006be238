// Codecs for std::map and std::unordered_map, carried as lists of key/value structs.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/types/checks.h>
#include <crossproc/types/list.h>

#include <capnp/list.h>

#include <map>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace crossproc {
namespace detail {

template <typename T>
struct IsMap : std::false_type {};
template <typename K, typename V, typename C, typename A>
struct IsMap<std::map<K, V, C, A>> : std::true_type {};
template <typename K, typename V, typename H, typename E, typename A>
struct IsMap<std::unordered_map<K, V, H, E, A>> : std::true_type {};

}  // namespace detail

// List(S) <-> std::map<K, V> or std::unordered_map<K, V>, where S is a struct of two fields: the
// key first, the value second, each through its own codec. Reading refuses a repeated key.
template <typename Entry, typename T>
struct Codec<capnp::List<Entry, capnp::Kind::STRUCT>, T,
             std::enable_if_t<detail::IsMap<T>::value>> {
  using Wire = capnp::List<Entry>;
  using Fields = StructFields<Entry>;
  static_assert(Fields::kCount == 2,
                "a map needs a list of structs with two fields, key and value");
  using KeyWire = typename Fields::template FieldWire<0>;
  using ValueWire = typename Fields::template FieldWire<1>;

  static capnp::Orphan<Wire> Build(Encoder& encoder, const T& value) {
    auto orphan = detail::NewList<Entry>(encoder, value.size());
    auto list = orphan.get();
    capnp::uint index = 0;
    for (const auto& [key, mapped] : value) {
      auto entry = list[index++];
      Fields::template Set<0>(encoder, entry, key);
      Fields::template Set<1>(encoder, entry, mapped);
    }
    return orphan;
  }

  static T Read(Decoder& decoder, typename Wire::Reader reader) {
    T value;
    if constexpr (requires { value.reserve(reader.size()); }) value.reserve(reader.size());
    for (auto entry : reader) {
      auto key =
          Codec<KeyWire, typename T::key_type>::Read(decoder, Fields::template Get<0>(entry));
      auto mapped =
          Codec<ValueWire, typename T::mapped_type>::Read(decoder, Fields::template Get<1>(entry));
      if (!value.emplace(std::move(key), std::move(mapped)).second) {
        detail::ThrowCodecError("duplicate key in a list read as a map");
      }
    }
    return value;
  }
};

}  // namespace crossproc
