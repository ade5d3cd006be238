// The server side of an interface: what generated server adapters derive from.
#pragma once

#include <crossproc/codec.h>

#include <capnp/any.h>

#include <cstdint>
#include <memory>

namespace crossproc {

// One call being served. Created by the runtime on the thread that runs the call and valid
// until Dispatch returns. Not thread-safe.
class IncomingCall {
 public:
  virtual ~IncomingCall() = default;

  virtual uint16_t method() const = 0;
  virtual Decoder& decoder() = 0;
  virtual Encoder& encoder() = 0;

  // Typed access for generated code.
  template <typename Params>
  typename Params::Reader Params() {
    return ParamsRoot().template getAs<Params>();
  }
  template <typename Results>
  typename Results::Builder Results() {
    return ResultsRoot().template initAs<Results>();
  }

  // Serves the bootstrap convention `construct (threadMap :ThreadMap) -> (threadMap :ThreadMap)`:
  // keeps the peer's ThreadMap and answers with this side's.
  virtual void ExchangeThreadMaps() = 0;

 protected:
  virtual capnp::AnyPointer::Reader ParamsRoot() = 0;
  virtual capnp::AnyPointer::Builder ResultsRoot() = 0;
};

// A local object that peers can call. Generated `<Interface>Server` classes derive from it and
// forward each method to an implementation. Thread-safe as far as the implementation is: the
// runtime may call Dispatch from several threads at once.
class ServerBase {
 public:
  virtual ~ServerBase() = default;

  // The Cap'n Proto interface ID and the schema's name of the interface, for routing and logs.
  virtual uint64_t InterfaceId() const = 0;
  virtual const char* InterfaceName() const = 0;
  // The schema name of a method, for logs; nullptr for an unknown method.
  virtual const char* MethodName(uint16_t method) const = 0;
  // Pointer index of the Context field in the method's params struct, or -1 if the method has
  // none (it then runs on the connection's event-loop thread).
  virtual int ContextIndex(uint16_t method) const = 0;
  // Runs the call. Exceptions propagate to the runtime, which returns them to the caller.
  virtual void Dispatch(IncomingCall& call) = 0;
};

}  // namespace crossproc
