// Codecs for the Text schema type: std::string, and std::string_view to send.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/types/checks.h>

#include <capnp/blob.h>

#include <cstring>
#include <string>
#include <string_view>

namespace crossproc {
namespace detail {

inline capnp::Orphan<capnp::Text> BuildText(Encoder& encoder, std::string_view value) {
  auto orphan =
      encoder.orphanage().newOrphan<capnp::Text>(CheckedSize(value.size(), kMaxTextBytes, "text"));
  if (!value.empty()) std::memcpy(orphan.get().begin(), value.data(), value.size());
  return orphan;
}

}  // namespace detail

// Text <-> std::string. The bytes travel unchanged: the codec neither checks nor repairs UTF-8.
template <>
struct Codec<capnp::Text, std::string> {
  static capnp::Orphan<capnp::Text> Build(Encoder& encoder, const std::string& value) {
    return detail::BuildText(encoder, value);
  }
  static std::string Read(Decoder&, capnp::Text::Reader reader) {
    return std::string(reader.begin(), reader.size());
  }
};

// Text from a std::string_view, to send without a copy into a std::string first. Received Text is
// read as std::string: a view would point into a message that is freed after the call.
template <>
struct Codec<capnp::Text, std::string_view> {
  static capnp::Orphan<capnp::Text> Build(Encoder& encoder, std::string_view value) {
    return detail::BuildText(encoder, value);
  }
};

}  // namespace crossproc
