// Hand-written client proxies and server adapters for runtime_test.capnp, in the shape
// crossproc-gen emits, so that the runtime's tests do not depend on the generator.
#pragma once

#include <crossproc/connection.h>
#include <crossproc/errors.h>

#include "runtime_test.capnp.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace rt {

class Callback {
 public:
  virtual ~Callback() = default;
  virtual int32_t call(int32_t value) = 0;
};

class Echo {
 public:
  virtual ~Echo() = default;
  virtual std::string echo(const std::string& text) = 0;
  virtual void fail(const std::string& message) = 0;
  virtual int32_t callBack(std::shared_ptr<Callback> callback, int32_t value) = 0;
  virtual std::string threadName() = 0;
  virtual void ping() = 0;
  virtual int32_t nested(std::shared_ptr<Callback> callback, int32_t depth) = 0;
  virtual void storeCallback(std::shared_ptr<Callback> callback) = 0;
  virtual int32_t callStoredFromNewThread(int32_t value) = 0;
  virtual void waitForInterrupt() = 0;
  virtual void interrupt() = 0;
  // Returns once `count` calls are inside barrier at the same time.
  virtual void barrier(int32_t count) = 0;
};

class Init {
 public:
  virtual ~Init() = default;
  virtual std::unique_ptr<Echo> makeEcho() = 0;
};

class CallbackClient;
class CallbackServer;
class EchoClient;
class EchoServer;
class InitClient;
class InitServer;

}  // namespace rt

template <>
struct crossproc::InterfaceTraits<rt::Callback> {
  using Wire = rt::wire::Callback;
  using Client = rt::CallbackClient;
  using Server = rt::CallbackServer;
  static constexpr const detail::MethodInfo* kConstruct = nullptr;
};
template <>
struct crossproc::InterfaceTraits<rt::Echo> {
  using Wire = rt::wire::Echo;
  using Client = rt::EchoClient;
  using Server = rt::EchoServer;
  static constexpr const detail::MethodInfo* kConstruct = nullptr;
};
namespace rt {
// Returns once `count` threads of this process are inside at the same time (throws after 10 s):
// proves that calls run concurrently.
inline void WaitAtBarrier(int32_t count) {
  static std::mutex mutex;
  static std::condition_variable cv;
  static int inside = 0;
  static int generation = 0;
  std::unique_lock<std::mutex> lock(mutex);
  int my_generation = generation;
  if (++inside >= count) {
    inside = 0;
    ++generation;
    cv.notify_all();
    return;
  }
  if (!cv.wait_for(lock, std::chrono::seconds(10), [&] { return generation != my_generation; })) {
    --inside;
    throw std::runtime_error("barrier timed out");
  }
}

inline constexpr crossproc::detail::MethodInfo kInitConstruct{capnp::typeId<wire::Init>(), 0, -1, "Init", "construct"};
}
template <>
struct crossproc::InterfaceTraits<rt::Init> {
  using Wire = rt::wire::Init;
  using Client = rt::InitClient;
  using Server = rt::InitServer;
  static constexpr const detail::MethodInfo* kConstruct = &rt::kInitConstruct;
};

namespace rt {
using crossproc::detail::MethodInfo;
inline constexpr uint64_t kCallbackId = capnp::typeId<wire::Callback>();
inline constexpr uint64_t kEchoId = capnp::typeId<wire::Echo>();
inline constexpr uint64_t kInitId = capnp::typeId<wire::Init>();
inline constexpr MethodInfo kCallbackDestroy{kCallbackId, 0, 0, "Callback", "destroy"};
inline constexpr MethodInfo kCallbackCall{kCallbackId, 1, 0, "Callback", "call"};
inline constexpr MethodInfo kEchoMethods[] = {
    {kEchoId, 0, 0, "Echo", "destroy", &capnp::Schema::from<wire::Echo>},  {kEchoId, 1, 0, "Echo", "echo", &capnp::Schema::from<wire::Echo>},
    {kEchoId, 2, 0, "Echo", "fail", &capnp::Schema::from<wire::Echo>},     {kEchoId, 3, 0, "Echo", "callBack", &capnp::Schema::from<wire::Echo>},
    {kEchoId, 4, 0, "Echo", "threadName", &capnp::Schema::from<wire::Echo>}, {kEchoId, 5, -1, "Echo", "ping", &capnp::Schema::from<wire::Echo>},
    {kEchoId, 6, 0, "Echo", "nested", &capnp::Schema::from<wire::Echo>},     {kEchoId, 7, 0, "Echo", "storeCallback", &capnp::Schema::from<wire::Echo>},
    {kEchoId, 8, 0, "Echo", "callStoredFromNewThread", &capnp::Schema::from<wire::Echo>}, {kEchoId, 9, 0, "Echo", "waitForInterrupt", &capnp::Schema::from<wire::Echo>},
    {kEchoId, 10, -1, "Echo", "interrupt", &capnp::Schema::from<wire::Echo>},
    {kEchoId, 11, 0, "Echo", "barrier", &capnp::Schema::from<wire::Echo>},
};
inline constexpr uint16_t kEchoMethodCount = 12;
inline constexpr MethodInfo kInitMakeEcho{kInitId, 1, 0, "Init", "makeEcho"};

class CallbackClient final : public Callback, public crossproc::ClientBase {
 public:
  using ClientBase::ClientBase;
  ~CallbackClient() override { CallDestroy(kCallbackDestroy); }
  int32_t call(int32_t value) override {
    crossproc::ClientCall<wire::Callback::CallParams, wire::Callback::CallResults> c(*this, kCallbackCall);
    c.params().setValue(value);
    return c.Send().getResult();
  }
};

class CallbackServer final : public crossproc::ServerFor<Callback> {
 public:
  using ServerFor::ServerFor;
  uint64_t InterfaceId() const override { return kCallbackId; }
  const char* InterfaceName() const override { return "Callback"; }
  const char* MethodName(uint16_t m) const override { return m == 1 ? "call" : "destroy"; }
  int ContextIndex(uint16_t) const override { return 0; }
  void Dispatch(crossproc::IncomingCall& call) override {
    if (call.method() == 0) return DestroyImpl();
    int32_t value = call.Params<wire::Callback::CallParams>().getValue();
    call.Results<wire::Callback::CallResults>().setResult(CheckedImpl()->call(value));
  }
};

class EchoClient final : public Echo, public crossproc::ClientBase {
 public:
  using ClientBase::ClientBase;
  ~EchoClient() override { CallDestroy(kEchoMethods[0]); }
  std::string echo(const std::string& text) override {
    crossproc::ClientCall<wire::Echo::EchoParams, wire::Echo::EchoResults> c(*this, kEchoMethods[1]);
    c.params().setText(kj::StringPtr(text.c_str(), text.size()));
    return c.Send().getResult();
  }
  void fail(const std::string& message) override {
    crossproc::ClientCall<wire::Echo::FailParams, wire::Echo::FailResults> c(*this, kEchoMethods[2]);
    c.params().setMessage(message);
    c.Send();
  }
  int32_t callBack(std::shared_ptr<Callback> callback, int32_t value) override {
    crossproc::ClientCall<wire::Echo::CallBackParams, wire::Echo::CallBackResults> c(*this, kEchoMethods[3]);
    c.params().setCallback(crossproc::Build<wire::Callback>(c.encoder(), callback));
    c.params().setValue(value);
    return c.Send().getResult();
  }
  std::string threadName() override {
    crossproc::ClientCall<wire::Echo::ThreadNameParams, wire::Echo::ThreadNameResults> c(*this, kEchoMethods[4]);
    return c.Send().getResult();
  }
  void ping() override {
    crossproc::ClientCall<wire::Echo::PingParams, wire::Echo::PingResults> c(*this, kEchoMethods[5]);
    c.Send();
  }
  int32_t nested(std::shared_ptr<Callback> callback, int32_t depth) override {
    crossproc::ClientCall<wire::Echo::NestedParams, wire::Echo::NestedResults> c(*this, kEchoMethods[6]);
    c.params().setCallback(crossproc::Build<wire::Callback>(c.encoder(), callback));
    c.params().setDepth(depth);
    return c.Send().getResult();
  }
  void storeCallback(std::shared_ptr<Callback> callback) override {
    crossproc::ClientCall<wire::Echo::StoreCallbackParams, wire::Echo::StoreCallbackResults> c(*this, kEchoMethods[7]);
    c.params().setCallback(crossproc::Build<wire::Callback>(c.encoder(), callback));
    c.Send();
  }
  int32_t callStoredFromNewThread(int32_t value) override {
    crossproc::ClientCall<wire::Echo::CallStoredFromNewThreadParams, wire::Echo::CallStoredFromNewThreadResults> c(
        *this, kEchoMethods[8]);
    c.params().setValue(value);
    return c.Send().getResult();
  }
  void waitForInterrupt() override {
    crossproc::ClientCall<wire::Echo::WaitForInterruptParams, wire::Echo::WaitForInterruptResults> c(*this, kEchoMethods[9]);
    c.Send();
  }
  void interrupt() override {
    crossproc::ClientCall<wire::Echo::InterruptParams, wire::Echo::InterruptResults> c(*this, kEchoMethods[10]);
    c.Send();
  }
  void barrier(int32_t count) override {
    crossproc::ClientCall<wire::Echo::BarrierParams, wire::Echo::BarrierResults> c(*this, kEchoMethods[11]);
    c.params().setCount(count);
    c.Send();
  }
  crossproc::Future<std::string> threadNameAsync() {
    auto c = std::make_shared<crossproc::ClientCall<wire::Echo::ThreadNameParams, wire::Echo::ThreadNameResults>>(
        *this, kEchoMethods[4]);
    return crossproc::SendAsync<std::string>(
        c, [](crossproc::Decoder&, wire::Echo::ThreadNameResults::Reader results) { return std::string(results.getResult()); });
  }
  crossproc::Future<std::string> echoAsync(const std::string& text) {
    auto c = std::make_shared<crossproc::ClientCall<wire::Echo::EchoParams, wire::Echo::EchoResults>>(*this, kEchoMethods[1]);
    c->params().setText(text);
    return crossproc::SendAsync<std::string>(
        c, [](crossproc::Decoder&, wire::Echo::EchoResults::Reader results) { return std::string(results.getResult()); });
  }
  crossproc::Future<void> failAsync(const std::string& message) {
    auto c = std::make_shared<crossproc::ClientCall<wire::Echo::FailParams, wire::Echo::FailResults>>(*this, kEchoMethods[2]);
    c->params().setMessage(message);
    return crossproc::SendAsync<void>(c, [](crossproc::Decoder&, wire::Echo::FailResults::Reader) {});
  }
  crossproc::Future<void> waitForInterruptAsync() {
    auto c = std::make_shared<crossproc::ClientCall<wire::Echo::WaitForInterruptParams, wire::Echo::WaitForInterruptResults>>(
        *this, kEchoMethods[9]);
    return crossproc::SendAsync<void>(c, [](crossproc::Decoder&, wire::Echo::WaitForInterruptResults::Reader) {});
  }
};

class EchoServer final : public crossproc::ServerFor<Echo> {
 public:
  using ServerFor::ServerFor;
  uint64_t InterfaceId() const override { return kEchoId; }
  const char* InterfaceName() const override { return "Echo"; }
  const char* MethodName(uint16_t m) const override {
    return m < kEchoMethodCount ? kEchoMethods[m].method_name : nullptr;
  }
  int ContextIndex(uint16_t m) const override { return m < kEchoMethodCount ? kEchoMethods[m].context_index : -1; }
  std::optional<capnp::InterfaceSchema> Schema() const override { return capnp::Schema::from<wire::Echo>(); }
  void Dispatch(crossproc::IncomingCall& call) override {
    switch (call.method()) {
      case 0: return DestroyImpl();
      case 1: {
        std::string text = call.Params<wire::Echo::EchoParams>().getText();
        call.Results<wire::Echo::EchoResults>().setResult(CheckedImpl()->echo(text));
        return;
      }
      case 2: return CheckedImpl()->fail(call.Params<wire::Echo::FailParams>().getMessage());
      case 3: {
        auto params = call.Params<wire::Echo::CallBackParams>();
        auto callback = crossproc::Read<wire::Callback, std::shared_ptr<Callback>>(call.decoder(), params.getCallback());
        call.Results<wire::Echo::CallBackResults>().setResult(CheckedImpl()->callBack(callback, params.getValue()));
        return;
      }
      case 4: call.Results<wire::Echo::ThreadNameResults>().setResult(CheckedImpl()->threadName()); return;
      case 5: return CheckedImpl()->ping();
      case 6: {
        auto params = call.Params<wire::Echo::NestedParams>();
        auto callback = crossproc::Read<wire::Callback, std::shared_ptr<Callback>>(call.decoder(), params.getCallback());
        call.Results<wire::Echo::NestedResults>().setResult(CheckedImpl()->nested(callback, params.getDepth()));
        return;
      }
      case 7: {
        auto params = call.Params<wire::Echo::StoreCallbackParams>();
        CheckedImpl()->storeCallback(
            crossproc::Read<wire::Callback, std::shared_ptr<Callback>>(call.decoder(), params.getCallback()));
        return;
      }
      case 8: {
        int32_t value = call.Params<wire::Echo::CallStoredFromNewThreadParams>().getValue();
        call.Results<wire::Echo::CallStoredFromNewThreadResults>().setResult(CheckedImpl()->callStoredFromNewThread(value));
        return;
      }
      case 9: return CheckedImpl()->waitForInterrupt();
      case 10: return CheckedImpl()->interrupt();
      case 11: return CheckedImpl()->barrier(call.Params<wire::Echo::BarrierParams>().getCount());
      default: throw crossproc::RemoteError(crossproc::ErrorKind::kUnimplemented, "", "no such method");
    }
  }
};

class InitClient final : public Init, public crossproc::ClientBase {
 public:
  using ClientBase::ClientBase;
  std::unique_ptr<Echo> makeEcho() override {
    crossproc::ClientCall<wire::Init::MakeEchoParams, wire::Init::MakeEchoResults> c(*this, kInitMakeEcho);
    auto results = c.Send();
    return crossproc::Read<wire::Echo, std::unique_ptr<Echo>>(c.decoder(), results.getResult());
  }
};

class InitServer final : public crossproc::ServerFor<Init> {
 public:
  using ServerFor::ServerFor;
  uint64_t InterfaceId() const override { return kInitId; }
  const char* InterfaceName() const override { return "Init"; }
  const char* MethodName(uint16_t m) const override { return m == 0 ? "construct" : "makeEcho"; }
  int ContextIndex(uint16_t m) const override { return m == 0 ? -1 : 0; }
  void Dispatch(crossproc::IncomingCall& call) override {
    if (call.method() == 0) return call.ExchangeThreadMaps();
    call.Results<wire::Init::MakeEchoResults>().setResult(
        crossproc::Build<wire::Echo>(call.encoder(), CheckedImpl()->makeEcho()));
  }
};

}  // namespace rt

