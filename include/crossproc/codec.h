// The customization point that converts C++ values to and from Cap'n Proto message fields.
#pragma once

#include <capnp/capability.h>
#include <capnp/message.h>
#include <capnp/orphan.h>

#include <cstddef>
#include <memory>
#include <type_traits>

namespace crossproc {

class ServerBase;
class ClientBase;
namespace detail {
class CapRef;
}

// Gives codecs what they need while a message is built: the message's orphanage (to allocate
// Text, Data, lists and structs in place) and a way to store capabilities. Implemented by the
// runtime; one per message, used by one thread.
class Encoder {
 public:
  explicit Encoder(capnp::Orphanage orphanage) : m_orphanage(orphanage) {}
  virtual ~Encoder() = default;
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  capnp::Orphanage orphanage() const { return m_orphanage; }

  // Stores a local object in the message; the peer receives a capability to it.
  virtual capnp::Capability::Client ExportServer(std::shared_ptr<ServerBase> server) = 0;
  // Stores the object a proxy refers to (passes a remote object back or on).
  virtual capnp::Capability::Client ExportRef(const std::shared_ptr<detail::CapRef>& ref) = 0;

 private:
  capnp::Orphanage m_orphanage;
};

// Gives codecs what they need while a message is read: access to the capabilities it carries.
// Implemented by the runtime; one per message, used by one thread.
class Decoder {
 public:
  Decoder() = default;
  virtual ~Decoder() = default;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // The capability stored in a field, or nullptr if the field holds none.
  virtual std::shared_ptr<detail::CapRef> Import(capnp::Capability::Client cap) = 0;
};

// Codec<Wire, T> converts a C++ value of type T to and from the Cap'n Proto type Wire (int32_t,
// capnp::Text, capnp::Data, capnp::List<...>, a generated struct, an interface...). It is THE
// customization point for user types: specialize it (see docs/types.md) with
//
//   static <built> Build(Encoder& encoder, const T& value);   // or T&& for move-only T
//   static T Read(Decoder& decoder, capnp::ReaderFor<Wire> reader);
//
// where <built> is Wire itself for primitive and enum wire types, Wire::Client for interfaces,
// and capnp::Orphan<Wire> for everything else (Text, Data, lists, structs). Codecs for struct
// wire types also provide
//
//   static void Fill(Encoder& encoder, capnp::BuilderFor<Wire> builder, const T& value);
//
// used for list elements and nested structs; crossproc::StructCodec derives Build from Fill.
template <typename Wire, typename T, typename Enable = void>
struct Codec;

// The Cap'n Proto kind of a wire type.
template <typename Wire>
inline constexpr capnp::Kind kKindOf = capnp::kind<Wire>();

// True for wire types whose codec Build returns the value itself (set, not adopt).
template <typename Wire>
inline constexpr bool kIsValueWire =
    kKindOf<Wire> == capnp::Kind::PRIMITIVE || kKindOf<Wire> == capnp::Kind::ENUM;

// Convenience wrappers used by generated code and by container codecs.
// Build takes `const T&`, or `T&&` for move-only types such as std::unique_ptr.
template <typename Wire, typename T>
auto Build(Encoder& encoder, T&& value) {
  return Codec<Wire, std::remove_cvref_t<T>>::Build(encoder, std::forward<T>(value));
}

template <typename Wire, typename T>
T Read(Decoder& decoder, capnp::ReaderFor<Wire> reader) {
  return Codec<Wire, T>::Read(decoder, reader);
}

// Positional access to the fields of a struct wire type, emitted by crossproc-gen for every
// struct in a schema (fields in declaration order). Generic codecs for std::pair, std::tuple and
// the map types use it:
//
//   static constexpr std::size_t kCount;                        // number of fields
//   template <std::size_t I> using FieldWire = <wire type of field I>;
//   template <std::size_t I>
//   static capnp::ReaderFor<FieldWire<I>> Get(typename Wire::Reader reader);
//   template <std::size_t I, typename T>
//   static void Set(Encoder& encoder, typename Wire::Builder builder, T&& value);
//
// Set builds the value with Codec<FieldWire<I>, T> and stores it (set or adopt as the field's
// kind requires).
template <typename Wire>
struct StructFields;

// Base for codecs of struct wire types that only define Fill and Read.
template <typename Wire, typename T, typename Derived>
struct StructCodec {
  static capnp::Orphan<Wire> Build(Encoder& encoder, const T& value) {
    auto orphan = encoder.orphanage().template newOrphan<Wire>();
    Derived::Fill(encoder, orphan.get(), value);
    return orphan;
  }
};

}  // namespace crossproc
