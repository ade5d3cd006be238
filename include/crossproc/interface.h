// Ties a C++ interface to its wire type, client proxy and server adapter, and maps interface
// pointers (std::unique_ptr<I>, std::shared_ptr<I>) to capabilities.
#pragma once

#include <crossproc/client.h>
#include <crossproc/codec.h>
#include <crossproc/server.h>

#include <memory>
#include <type_traits>

namespace crossproc {

// Specialized by generated code for each interface I:
//   using Wire = <Cap'n Proto interface type>;
//   using Client = <generated proxy, derives from I and ClientBase>;
//   using Server = <generated adapter, derives from ServerBase, constructible from shared_ptr<I>>;
template <typename I>
struct InterfaceTraits;

namespace detail {
// Returns the local server behind a capability that this process exported and got back, or
// nullptr if the capability is remote. Defined by the runtime.
std::shared_ptr<ServerBase> LocalServerOf(const std::shared_ptr<CapRef>& ref);

template <typename I>
typename InterfaceTraits<I>::Wire::Client BuildInterface(Encoder& encoder, std::shared_ptr<I> value) {
  using Wire = typename InterfaceTraits<I>::Wire;
  if (!value) return typename Wire::Client(nullptr);
  // A proxy handed on: pass the capability it refers to rather than wrapping the proxy.
  if (auto* client = dynamic_cast<ClientBase*>(value.get())) {
    return encoder.ExportRef(client->ref()).template castAs<Wire>();
  }
  using Server = typename InterfaceTraits<I>::Server;
  return encoder.ExportServer(std::make_shared<Server>(std::move(value))).template castAs<Wire>();
}

template <typename I>
std::shared_ptr<I> ReadInterface(Decoder& decoder, typename InterfaceTraits<I>::Wire::Client cap) {
  std::shared_ptr<CapRef> ref = decoder.Import(std::move(cap));
  if (!ref) return nullptr;
  // One of our own objects came back: call it directly.
  if (auto local = LocalServerOf(ref)) {
    using Server = typename InterfaceTraits<I>::Server;
    if (auto* server = dynamic_cast<Server*>(local.get())) return server->impl();
  }
  // Shared ownership: the object's owner may hold it too, so dropping this proxy releases the
  // reference (a Release message, not a synchronous destroy call).
  auto client = std::make_shared<typename InterfaceTraits<I>::Client>(std::move(ref));
  client->ReleaseOwnership();
  return client;
}
}  // namespace detail

// std::shared_ptr<I>: the object lives while either side holds it. A proxy received this way
// releases its reference when dropped; it does not call the schema's destroy.
template <typename Wire, typename I>
struct Codec<Wire, std::shared_ptr<I>,
             std::enable_if_t<std::is_same_v<typename InterfaceTraits<I>::Wire, Wire>>> {
  static typename Wire::Client Build(Encoder& encoder, const std::shared_ptr<I>& value) {
    return detail::BuildInterface<I>(encoder, value);
  }
  static std::shared_ptr<I> Read(Decoder& decoder, typename Wire::Client cap) {
    return detail::ReadInterface<I>(decoder, std::move(cap));
  }
};

// std::unique_ptr<I>: ownership moves to the receiver; dropping the proxy destroys the object
// (the schema's destroy, synchronously) before the proxy's destructor returns.
template <typename Wire, typename I>
struct Codec<Wire, std::unique_ptr<I>,
             std::enable_if_t<std::is_same_v<typename InterfaceTraits<I>::Wire, Wire>>> {
  static typename Wire::Client Build(Encoder& encoder, std::unique_ptr<I>&& value) {
    // A proxy handed on gives its object to the receiver: it must not destroy it on the way.
    if (auto* client = dynamic_cast<ClientBase*>(value.get())) {
      auto cap = encoder.ExportRef(client->ref()).template castAs<Wire>();
      client->ReleaseOwnership();
      return cap;
    }
    return detail::BuildInterface<I>(encoder, std::shared_ptr<I>(std::move(value)));
  }
  static std::unique_ptr<I> Read(Decoder& decoder, typename Wire::Client cap) {
    std::shared_ptr<detail::CapRef> ref = decoder.Import(std::move(cap));
    if (!ref) return nullptr;
    return std::make_unique<typename InterfaceTraits<I>::Client>(std::move(ref));
  }
};

}  // namespace crossproc
