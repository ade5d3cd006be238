// Codecs for the Data schema type: byte vectors, std::string and fixed-size byte arrays.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/types/checks.h>

#include <capnp/blob.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace crossproc {
namespace detail {

// The one-byte element types a Data value can be copied into.
template <typename T>
inline constexpr bool kIsByte =
    std::is_same_v<T, unsigned char> || std::is_same_v<T, char> || std::is_same_v<T, std::byte>;

template <typename T>
struct IsByteBuffer : std::false_type {};
template <typename Byte>
struct IsByteBuffer<std::vector<Byte>> : std::bool_constant<kIsByte<Byte>> {};
template <>
struct IsByteBuffer<std::string> : std::true_type {};

template <typename T>
struct IsByteArray : std::false_type {};
template <typename Byte, std::size_t N>
struct IsByteArray<std::array<Byte, N>> : std::bool_constant<kIsByte<Byte>> {};

inline capnp::Orphan<capnp::Data> BuildData(Encoder& encoder, const void* bytes, std::size_t size) {
  auto orphan =
      encoder.orphanage().newOrphan<capnp::Data>(CheckedSize(size, kMaxDataBytes, "data"));
  if (size != 0) std::memcpy(orphan.get().begin(), bytes, size);
  return orphan;
}

}  // namespace detail

// Data <-> std::vector<uint8_t> (the default), std::vector<std::byte>, std::vector<char> or
// std::string: any number of bytes.
template <typename T>
struct Codec<capnp::Data, T, std::enable_if_t<detail::IsByteBuffer<T>::value>> {
  static capnp::Orphan<capnp::Data> Build(Encoder& encoder, const T& value) {
    return detail::BuildData(encoder, value.data(), value.size());
  }
  static T Read(Decoder&, capnp::Data::Reader reader) {
    // One-byte types may alias the message's bytes; constructing from the range copies once.
    const auto* bytes = reinterpret_cast<const typename T::value_type*>(reader.begin());
    return T(bytes, bytes + reader.size());
  }
};

// Data <-> std::array of N bytes (hashes, keys). Read refuses Data of any other size.
template <typename T>
struct Codec<capnp::Data, T, std::enable_if_t<detail::IsByteArray<T>::value>> {
  static capnp::Orphan<capnp::Data> Build(Encoder& encoder, const T& value) {
    return detail::BuildData(encoder, value.data(), value.size());
  }
  static T Read(Decoder&, capnp::Data::Reader reader) {
    T value{};
    if (reader.size() != value.size()) {
      detail::ThrowCodecError("wrong data size: expected " + std::to_string(value.size()) +
                              " bytes, got " + std::to_string(reader.size()));
    }
    if (!value.empty()) std::memcpy(value.data(), reader.begin(), value.size());
    return value;
  }
};

}  // namespace crossproc
