// Encoder and Decoder over Cap'n Proto messages, storing capabilities as CapTokens.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/server.h>

#include "runtime/connection_state.h"

namespace crossproc::detail {

// Encoder of one message being built. Used by one thread.
class MessageEncoder final : public Encoder {
 public:
  explicit MessageEncoder(capnp::Orphanage orphanage) : Encoder(orphanage) {}
  capnp::Capability::Client ExportServer(std::shared_ptr<ServerBase> server) override {
    return CapToken::Wrap(std::make_shared<LocalCap>(std::move(server)));
  }
  capnp::Capability::Client ExportRef(const std::shared_ptr<CapRef>& ref) override {
    return CapToken::Wrap(ref);
  }
};

// Decoder of one received message. Used by one thread.
class MessageDecoder final : public Decoder {
 public:
  std::shared_ptr<CapRef> Import(capnp::Capability::Client cap) override {
    return CapToken::Unwrap(std::move(cap));
  }
};

// The IncomingCall handed to ServerBase::Dispatch.
class IncomingCallImpl final : public IncomingCall {
 public:
  IncomingCallImpl(ConnectionState* connection, uint16_t method, capnp::AnyPointer::Reader params,
                   capnp::AnyPointer::Builder results, capnp::Orphanage orphanage)
      : m_connection(connection), m_method(method), m_params(params), m_results(results), m_encoder(orphanage) {}

  uint16_t method() const override { return m_method; }
  Decoder& decoder() override { return m_decoder; }
  Encoder& encoder() override { return m_encoder; }
  void ExchangeThreadMaps() override;

 protected:
  capnp::AnyPointer::Reader ParamsRoot() override { return m_params; }
  capnp::AnyPointer::Builder ResultsRoot() override { return m_results; }

 private:
  ConnectionState* m_connection;  // null for calls on local capabilities
  uint16_t m_method;
  capnp::AnyPointer::Reader m_params;
  capnp::AnyPointer::Builder m_results;
  MessageEncoder m_encoder;
  MessageDecoder m_decoder;
};

}  // namespace crossproc::detail
