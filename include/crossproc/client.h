// The client side of an interface: what generated client proxies derive from.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/future.h>

#include <capnp/any.h>
#include <capnp/schema.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>

namespace crossproc {
namespace detail {

// A capability of a connection: an object the peer exports (remote) or one of ours that came
// back. Shared by the proxies that use it; the peer is told to release it when the last one
// goes. Thread-safe. Defined by the runtime.
class CapRef;

// Static description of one method, emitted by the generator.
struct MethodInfo {
  uint64_t interface_id;
  uint16_t method_id;
  int context_index;       // pointer index of the Context param, or -1
  const char* interface_name;
  const char* method_name;
  // The interface's schema (capnp::Schema::from<Wire>), for -debug=ipc logs of arguments and
  // results; may be null.
  capnp::InterfaceSchema (*schema)() = nullptr;
};

class OutgoingCallState;

// One outgoing call, untyped. Holds the request while it is built, sends it, waits for the
// answer (serving callbacks addressed to this thread meanwhile) and holds the answer until
// destroyed. Used by one thread.
class OutgoingCall {
 public:
  OutgoingCall(const std::shared_ptr<CapRef>& target, const MethodInfo& method);
  ~OutgoingCall();
  OutgoingCall(const OutgoingCall&) = delete;
  OutgoingCall& operator=(const OutgoingCall&) = delete;

  capnp::AnyPointer::Builder ParamsRoot();
  Encoder& encoder();
  // Sends the request and blocks until the answer arrives. Throws RemoteError (or Disconnected)
  // if the call failed.
  void Send();
  // Sends the request without waiting. `done` runs once, with null when the results are ready
  // or with the error, on the thread that read the answer (or that saw the connection end).
  void SendAsync(std::function<void(std::exception_ptr)> done);
  // For an asynchronous call: tells the peer the answer is no longer wanted; `done` then runs
  // with a "canceled" error unless the answer arrived first.
  void Cancel();
  capnp::AnyPointer::Reader ResultsRoot();
  Decoder& decoder();

 private:
  std::unique_ptr<OutgoingCallState> m_state;
};

}  // namespace detail

// Base of generated client proxies: holds the capability the proxy forwards calls to.
// Thread-safe: any thread may call through the same proxy.
class ClientBase {
 public:
  explicit ClientBase(std::shared_ptr<detail::CapRef> ref) : m_ref(std::move(ref)) {}
  virtual ~ClientBase() = default;
  ClientBase(const ClientBase&) = delete;
  ClientBase& operator=(const ClientBase&) = delete;

  const std::shared_ptr<detail::CapRef>& ref() const { return m_ref; }

  // The proxy no longer destroys the object when it goes away (it only releases it): for an
  // object handed on (a std::unique_ptr passed to a peer) or shared (a std::shared_ptr proxy).
  void ReleaseOwnership() { m_owns_object = false; }

 protected:
  // Calls the schema's `destroy` method, for proxies whose interface has one; called from the
  // generated destructor. Errors (a peer already gone) are ignored: there is nothing to destroy.
  // Does nothing once ownership was handed on.
  void CallDestroy(const detail::MethodInfo& destroy_method) noexcept;

 private:
  std::shared_ptr<detail::CapRef> m_ref;
  bool m_owns_object = true;
};

// Typed view of an OutgoingCall for generated code.
template <typename Params, typename Results>
class ClientCall {
 public:
  ClientCall(const ClientBase& client, const detail::MethodInfo& method)
      : m_call(client.ref(), method), m_params(m_call.ParamsRoot().template initAs<Params>()) {}

  typename Params::Builder params() { return m_params; }
  Encoder& encoder() { return m_call.encoder(); }
  typename Results::Reader Send() {
    m_call.Send();
    return m_call.ResultsRoot().template getAs<Results>();
  }
  void SendAsync(std::function<void(std::exception_ptr)> done) { m_call.SendAsync(std::move(done)); }
  void Cancel() { m_call.Cancel(); }
  typename Results::Reader results() { return m_call.ResultsRoot().template getAs<Results>(); }
  Decoder& decoder() { return m_call.decoder(); }

 private:
  detail::OutgoingCall m_call;
  typename Params::Builder m_params;
};

// Sends `call` without waiting and returns a future for `read(decoder, results)`. Used by the
// generated `<method>Async` client methods.
template <typename T, typename Params, typename Results, typename ReadFn>
Future<T> SendAsync(std::shared_ptr<ClientCall<Params, Results>> call, ReadFn read) {
  auto state = std::make_shared<detail::FutureState<T>>();
  state->SetCanceler([weak = std::weak_ptr<ClientCall<Params, Results>>(call)] {
    if (auto strong = weak.lock()) strong->Cancel();
  });
  // The completion keeps the call (and its answer) alive until it has run.
  call->SendAsync([call, state, read = std::move(read)](std::exception_ptr error) mutable {
    if (error) {
      state->SetError(std::move(error));
    } else {
      try {
        if constexpr (std::is_void_v<T>) {
          read(call->decoder(), call->results());
          state->SetValue(true);
        } else {
          state->SetValue(read(call->decoder(), call->results()));
        }
      } catch (...) {
        state->SetError(std::current_exception());
      }
    }
    call.reset();
  });
  return Future<T>(state);
}

}  // namespace crossproc
