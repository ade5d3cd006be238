// The server side of an interface: what generated server adapters derive from.
#pragma once

#include <crossproc/codec.h>
#include <crossproc/sync.h>

#include <capnp/any.h>
#include <capnp/schema.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

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
  template <typename P>
  typename P::Reader Params() {
    return ParamsRoot().template getAs<P>();
  }
  template <typename R>
  typename R::Builder Results() {
    return ResultsRoot().template initAs<R>();
  }

  // Serves the bootstrap convention `construct (threadMap :ThreadMap) -> (threadMap :ThreadMap)`:
  // keeps the peer's ThreadMap and answers with this side's.
  virtual void ExchangeThreadMaps() = 0;

 protected:
  virtual capnp::AnyPointer::Reader ParamsRoot() = 0;
  virtual capnp::AnyPointer::Builder ResultsRoot() = 0;
};

// Inside a method being served for a peer: true once the caller has canceled the call (for
// example a task group that failed fast). Long methods may poll it and give up early.
bool CurrentCallCanceled();

// Throws RemoteError(kFailed) saying that an object of `interface_name` was destroyed.
[[noreturn]] void ThrowDestroyed(const char* interface_name);

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
  // The interface's schema, for -debug=ipc logs of arguments and results (none by default).
  virtual std::optional<capnp::InterfaceSchema> Schema() const { return std::nullopt; }
  // Runs the call. Exceptions propagate to the runtime, which returns them to the caller.
  virtual void Dispatch(IncomingCall& call) = 0;
  // True if destroying this object now runs no implementation code (someone else still shares
  // the implementation). The runtime then drops it where the peer released it, instead of
  // handing it to the connection's event-loop thread.
  virtual bool DropIsTrivial() const { return false; }
};

// Base of the generated server adapter of interface I: holds the implementation. The schema's
// `destroy` method (and the release of the last reference) destroys it. Thread-safe.
template <typename I>
class ServerFor : public ServerBase {
 public:
  explicit ServerFor(std::shared_ptr<I> impl) : m_impl(std::move(impl)) {}

  // The implementation, or nullptr once destroyed.
  std::shared_ptr<I> impl() const {
    MutexLock lock(m_mutex);
    return m_impl;
  }
  // The implementation; throws RemoteError(kFailed) once destroyed. Used by Dispatch.
  std::shared_ptr<I> CheckedImpl() const {
    std::shared_ptr<I> impl = this->impl();
    if (!impl) ThrowDestroyed(InterfaceName());
    return impl;
  }
  // Nothing to destroy, or a local owner (the caller that passed this object as an argument,
  // typically) still shares the implementation. If that owner lets go at the same moment, the
  // destructor runs where the adapter is dropped: still outside the runtime's locks.
  bool DropIsTrivial() const override {
    MutexLock lock(m_mutex);
    return m_impl == nullptr || m_impl.use_count() > 1;
  }
  // Drops this adapter's reference; the implementation's destructor runs here unless a local
  // caller still shares it.
  void DestroyImpl() {
    std::shared_ptr<I> impl;
    {
      MutexLock lock(m_mutex);
      impl.swap(m_impl);
    }
  }

 private:
  mutable Mutex m_mutex;
  std::shared_ptr<I> m_impl CROSSPROC_GUARDED_BY(m_mutex);
};

}  // namespace crossproc
