// Codecs for Text and Data: strings and byte buffers.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/errors.h>

#include <capnp/blob.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace crossproc {
namespace detail {

template <typename T>
inline constexpr bool kIsByteVector =
    std::is_same_v<T, std::vector<uint8_t>> || std::is_same_v<T, std::vector<std::byte>> ||
    std::is_same_v<T, std::vector<char>>;

template <typename T>
struct IsByteArray : std::false_type {};
template <std::size_t N>
struct IsByteArray<std::array<uint8_t, N>> : std::true_type {};
template <std::size_t N>
struct IsByteArray<std::array<std::byte, N>> : std::true_type {};

inline capnp::Orphan<capnp::Data> CopyData(Encoder& encoder, const void* bytes, std::size_t size) {
  auto orphan = encoder.orphanage().newOrphan<capnp::Data>(static_cast<capnp::uint>(size));
  if (size != 0) std::memcpy(orphan.get().begin(), bytes, size);
  return orphan;
}

}  // namespace detail

// Text <-> std::string (also built from std::string_view). Text may hold any bytes but NUL.
template <typename T>
struct Codec<capnp::Text, T, std::enable_if_t<std::is_same_v<T, std::string> || std::is_same_v<T, std::string_view>>> {
  static capnp::Orphan<capnp::Text> Build(Encoder& encoder, std::string_view value) {
    auto orphan = encoder.orphanage().newOrphan<capnp::Text>(static_cast<capnp::uint>(value.size()));
    if (!value.empty()) std::memcpy(orphan.get().begin(), value.data(), value.size());
    return orphan;
  }
  static std::string Read(Decoder&, capnp::Text::Reader reader) { return std::string(reader.cStr(), reader.size()); }
};

// Data <-> std::vector of bytes (uint8_t, std::byte, char) or std::string.
template <typename T>
struct Codec<capnp::Data, T, std::enable_if_t<detail::kIsByteVector<T> || std::is_same_v<T, std::string>>> {
  static capnp::Orphan<capnp::Data> Build(Encoder& encoder, const T& value) {
    return detail::CopyData(encoder, value.data(), value.size());
  }
  static T Read(Decoder&, capnp::Data::Reader reader) {
    using Element = typename T::value_type;
    const auto* bytes = reinterpret_cast<const Element*>(reader.begin());
    return T(bytes, bytes + reader.size());  // one copy, no zero-filling first
  }
};

// Data <-> std::array of N bytes (hashes, keys): the size must match exactly.
template <typename T>
struct Codec<capnp::Data, T, std::enable_if_t<detail::IsByteArray<T>::value>> {
  static capnp::Orphan<capnp::Data> Build(Encoder& encoder, const T& value) {
    return detail::CopyData(encoder, value.data(), value.size());
  }
  static T Read(Decoder&, capnp::Data::Reader reader) {
    T value{};
    if (reader.size() != value.size()) {
      throw RemoteError(ErrorKind::kFailed, "", "expected " + std::to_string(value.size()) + " bytes, got " +
                                                    std::to_string(reader.size()));
    }
    std::memcpy(value.data(), reader.begin(), value.size());
    return value;
  }
};

}  // namespace crossproc
