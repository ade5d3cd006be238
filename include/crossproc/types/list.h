// Codecs for List schema types: std::vector, std::list, std::set and std::unordered_set.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/types/checks.h>

#include <capnp/list.h>

#include <list>
#include <set>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

namespace crossproc {
namespace detail {

// The containers a list travels into; kIsSet marks those that refuse duplicate elements.
template <typename T>
struct ListContainer : std::false_type {
  static constexpr bool kIsSet = false;
};
template <typename T, typename A>
struct ListContainer<std::vector<T, A>> : std::true_type {
  static constexpr bool kIsSet = false;
};
template <typename T, typename A>
struct ListContainer<std::list<T, A>> : std::true_type {
  static constexpr bool kIsSet = false;
};
template <typename T, typename C, typename A>
struct ListContainer<std::set<T, C, A>> : std::true_type {
  static constexpr bool kIsSet = true;
};
template <typename T, typename H, typename E, typename A>
struct ListContainer<std::unordered_set<T, H, E, A>> : std::true_type {
  static constexpr bool kIsSet = true;
};

// Stores element `index` of a list under construction, the way its kind requires: numbers,
// enums and capabilities are set, structs are filled in place, the rest is built and adopted.
template <typename Element, typename T>
void SetListElement(Encoder& encoder, typename capnp::List<Element>::Builder list,
                    capnp::uint index, const T& value) {
  if constexpr (kKindOf<Element> == capnp::Kind::STRUCT) {
    Codec<Element, T>::Fill(encoder, list[index], value);
  } else if constexpr (kIsValueWire<Element> || kKindOf<Element> == capnp::Kind::INTERFACE) {
    list.set(index, Codec<Element, T>::Build(encoder, value));
  } else {
    list.adopt(index, Codec<Element, T>::Build(encoder, value));
  }
}

// Allocates a list of `size` elements of wire type Element.
template <typename Element>
capnp::Orphan<capnp::List<Element>> NewList(Encoder& encoder, std::size_t size) {
  return encoder.orphanage().template newOrphan<capnp::List<Element>>(
      CheckedSize(size, kMaxListElements, "list"));
}

}  // namespace detail

// List(E) <-> std::vector<T> (the default), std::list<T>, std::set<T> or std::unordered_set<T>,
// each element through Codec<E, T>. Reading a set refuses a list with the same element twice.
template <typename Element, typename T>
struct Codec<capnp::List<Element, capnp::kind<Element>()>, T,
             std::enable_if_t<detail::ListContainer<T>::value>> {
  using Wire = capnp::List<Element>;
  using Value = typename T::value_type;

  static capnp::Orphan<Wire> Build(Encoder& encoder, const T& value) {
    auto orphan = detail::NewList<Element>(encoder, value.size());
    auto list = orphan.get();
    capnp::uint index = 0;
    // `const Value&` also binds std::vector<bool>'s proxy elements (to a temporary bool).
    for (const Value& element : value) {
      detail::SetListElement<Element, Value>(encoder, list, index++, element);
    }
    return orphan;
  }

  static T Read(Decoder& decoder, typename Wire::Reader reader) {
    T value;
    if constexpr (requires { value.reserve(reader.size()); }) value.reserve(reader.size());
    for (auto element : reader) {
      if constexpr (detail::ListContainer<T>::kIsSet) {
        if (!value.insert(Codec<Element, Value>::Read(decoder, element)).second) {
          detail::ThrowCodecError("duplicate element in a list read as a set");
        }
      } else {
        value.push_back(Codec<Element, Value>::Read(decoder, element));
      }
    }
    return value;
  }
};

}  // namespace crossproc
