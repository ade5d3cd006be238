// Interoperability with Cap'n Proto's own RPC implementation (kj), in both directions: a kj
// client calling a crossproc server (bootstrap, pipelined calls, capabilities both ways,
// exceptions) and a crossproc client calling a kj server, plus disconnects on either side.
#include <crossproc/connection.h>
#include <crossproc/errors.h>

#include "test_interfaces.h"
#include "transport/socket.h"

#include <capnp/rpc-twoparty.h>
#include <gtest/gtest.h>
#include <kj/async-io.h>
#include <sys/socket.h>

#include <future>
#include <thread>

namespace {

// ---------------------------------------------------------------------------------------------
// kj implementations of the test interfaces. kj's Server classes are destroyed through
// kj::Own, which knows their dynamic type; their destructors are not virtual.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"

class KjCallback final : public rt::wire::Callback::Server {
 protected:
  kj::Promise<void> call(CallContext context) override {
    context.getResults().setResult(context.getParams().getValue() * 3);
    return kj::READY_NOW;
  }
  kj::Promise<void> destroy(DestroyContext) override { return kj::READY_NOW; }
};

class KjEcho final : public rt::wire::Echo::Server {
 protected:
  kj::Promise<void> destroy(DestroyContext) override { return kj::READY_NOW; }
  kj::Promise<void> echo(EchoContext context) override {
    context.getResults().setResult(context.getParams().getText());
    return kj::READY_NOW;
  }
  kj::Promise<void> fail(FailContext context) override {
    return KJ_EXCEPTION(FAILED, "kj server refused", context.getParams().getMessage());
  }
  kj::Promise<void> callBack(CallBackContext context) override {
    auto request = context.getParams().getCallback().callRequest();
    request.setValue(context.getParams().getValue());
    return request.send().then([context](capnp::Response<rt::wire::Callback::CallResults> response) mutable {
      context.getResults().setResult(response.getResult() + 1);
    });
  }
  kj::Promise<void> threadName(ThreadNameContext context) override {
    context.getResults().setResult("kj");
    return kj::READY_NOW;
  }
  kj::Promise<void> ping(PingContext) override { return kj::READY_NOW; }
};

class KjInit final : public rt::wire::Init::Server {
 protected:
  kj::Promise<void> construct(ConstructContext) override { return kj::READY_NOW; }  // no ThreadMap
  kj::Promise<void> makeEcho(MakeEchoContext context) override {
    context.getResults().setResult(kj::heap<KjEcho>());
    return kj::READY_NOW;
  }
};

#pragma GCC diagnostic pop

// crossproc implementations.
class EchoImpl final : public rt::Echo {
 public:
  std::string echo(const std::string& text) override { return text; }
  void fail(const std::string& message) override { throw std::invalid_argument(message); }
  int32_t callBack(const std::shared_ptr<rt::Callback>& callback, int32_t value) override {
    return callback->call(value) + 1;
  }
  std::string threadName() override { return "crossproc"; }
  void ping() override {}
  int32_t nested(const std::shared_ptr<rt::Callback>& callback, int32_t depth) override { return callback->call(depth); }
  void storeCallback(const std::shared_ptr<rt::Callback>&) override {}
  int32_t callStoredFromNewThread(int32_t) override { return 0; }
  void waitForInterrupt() override {}
  void interrupt() override {}
  void barrier(int32_t count) override { rt::WaitAtBarrier(count); }
};

class InitImpl final : public rt::Init {
 public:
  std::unique_ptr<rt::Echo> makeEcho() override { return std::make_unique<EchoImpl>(); }
};

class Doubler final : public rt::Callback {
 public:
  int32_t call(int32_t value) override { return value * 2; }
};

// ---------------------------------------------------------------------------------------------

TEST(KjInterop, KjClientCallsCrossprocServer) {
  auto [a, b] = crossproc::transport::SocketPair();
  crossproc::ConnectionOptions options;
  options.name = "server";
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()), options);

  auto outcome = std::async(std::launch::async, [fd = b.release()] {
    std::vector<std::string> seen;
    auto io = kj::setupAsyncIo();
    auto stream = io.lowLevelProvider->wrapSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
    capnp::TwoPartyClient client(*stream);
    auto init = client.bootstrap().castAs<rt::wire::Init>();
    // Pipelined: the echo call is sent before makeEcho's answer is known.
    auto echo = init.makeEchoRequest().send().getResult();
    auto request = echo.echoRequest();
    request.setText("pipelined");
    auto second = echo.echoRequest();
    second.setText("second");
    auto first_promise = request.send();
    auto second_promise = second.send();
    seen.push_back(first_promise.wait(io.waitScope).getResult());
    seen.push_back(second_promise.wait(io.waitScope).getResult());
    // A kj capability passed to crossproc, which calls it back.
    auto callback = echo.callBackRequest();
    callback.setCallback(kj::heap<KjCallback>());
    callback.setValue(20);
    seen.push_back(std::to_string(callback.send().wait(io.waitScope).getResult()));
    // An exception thrown by the crossproc implementation.
    auto fail = echo.failRequest();
    fail.setMessage("bad input");
    try {
      fail.send().wait(io.waitScope);
      seen.push_back("no exception");
    } catch (const kj::Exception& e) {
      seen.push_back(e.getDescription().cStr());
    }
    // An event-loop method (no Context).
    echo.pingRequest().send().wait(io.waitScope);
    seen.push_back("pinged");
    return seen;
  });
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  auto seen = outcome.get();
  ASSERT_EQ(seen.size(), 5u);
  EXPECT_EQ(seen[0], "pipelined");
  EXPECT_EQ(seen[1], "second");
  EXPECT_EQ(seen[2], "61");  // 20 * 3 by kj, + 1 by crossproc
  EXPECT_NE(seen[3].find("std::invalid_argument: bad input"), std::string::npos) << seen[3];
  EXPECT_EQ(seen[4], "pinged");
}

TEST(KjInterop, KjClientMakesAPoolForCallsWithoutThreads) {
  auto [a, b] = crossproc::transport::SocketPair();
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()));
  auto outcome = std::async(std::launch::async, [fd = b.release()] {
    auto io = kj::setupAsyncIo();
    auto stream = io.lowLevelProvider->wrapSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
    capnp::TwoPartyClient client(*stream);
    auto init = client.bootstrap().castAs<rt::wire::Init>();
    // The construct convention hands back the server's ThreadMap; ask it for two pool threads.
    auto thread_map = init.constructRequest().send().wait(io.waitScope).getThreadMap();
    auto make_pool = thread_map.makePoolRequest();
    make_pool.setCount(2);
    make_pool.send().wait(io.waitScope);
    auto echo = init.makeEchoRequest().send().getResult();
    // Two calls without context.thread that only return once both run at the same time.
    auto first = echo.barrierRequest();
    first.setCount(2);
    auto second = echo.barrierRequest();
    second.setCount(2);
    auto first_done = first.send();
    auto second_done = second.send();
    first_done.wait(io.waitScope);
    second_done.wait(io.waitScope);
    return true;
  });
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_TRUE(outcome.get());
}

// Runs a kj RPC server on its own thread until the connection closes.
class KjServerThread {
 public:
  explicit KjServerThread(int fd) : m_thread([this, fd] { Run(fd); }) {}
  ~KjServerThread() { m_thread.join(); }

 private:
  void Run(int fd) {
    auto io = kj::setupAsyncIo();
    auto stream = io.lowLevelProvider->wrapSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
    capnp::TwoPartyVatNetwork network(*stream, capnp::rpc::twoparty::Side::SERVER);
    auto rpc = capnp::makeRpcServer(network, capnp::Capability::Client(kj::heap<KjInit>()));
    network.onDisconnect().wait(io.waitScope);
  }
  std::thread m_thread;
};

TEST(KjInterop, CrossprocClientCallsKjServer) {
  auto [a, b] = crossproc::transport::SocketPair();
  KjServerThread kj_server(a.release());
  {
    crossproc::Connection client(b.release());
    auto init = client.Bootstrap<rt::Init>();
    auto echo = init->makeEcho();
    EXPECT_EQ(echo->echo("to kj"), "to kj");
    EXPECT_EQ(echo->echo(""), "");
    EXPECT_EQ(echo->threadName(), "kj");
    // A crossproc capability passed to kj, which calls it back.
    EXPECT_EQ(echo->callBack(std::make_shared<Doubler>(), 5), 11);
    try {
      echo->fail("nope");
      FAIL() << "no exception";
    } catch (const crossproc::RemoteError& e) {
      EXPECT_EQ(e.kind(), crossproc::ErrorKind::kFailed);
      EXPECT_NE(std::string(e.what()).find("kj server refused"), std::string::npos) << e.what();
    }
    echo->ping();
    echo.reset();  // destroy + release
  }
}

TEST(KjInterop, KjServerDisconnectFailsCrossprocCalls) {
  auto [a, b] = crossproc::transport::SocketPair();
  int kj_fd = a.release();
  std::unique_ptr<rt::Echo> echo;
  crossproc::Connection client(b.release());
  {
    KjServerThread kj_server(kj_fd);
    auto init = client.Bootstrap<rt::Init>();
    echo = init->makeEcho();
    EXPECT_EQ(echo->echo("x"), "x");
    ::shutdown(kj_fd, SHUT_RDWR);  // the kj side goes away
  }
  EXPECT_THROW(echo->echo("y"), crossproc::Disconnected);
}

TEST(KjInterop, CrossprocServerDisconnectFailsKjCalls) {
  auto [a, b] = crossproc::transport::SocketPair();
  auto server = std::make_unique<crossproc::Connection>(a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()));
  auto outcome = std::async(std::launch::async, [fd = b.release(), &server] {
    auto io = kj::setupAsyncIo();
    auto stream = io.lowLevelProvider->wrapSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
    capnp::TwoPartyClient client(*stream);
    auto init = client.bootstrap().castAs<rt::wire::Init>();
    auto echo = init.makeEchoRequest().send().getResult();
    auto request = echo.echoRequest();
    request.setText("before");
    std::string first = request.send().wait(io.waitScope).getResult();
    server.reset();  // crossproc closes the connection
    try {
      auto again = echo.echoRequest();
      again.setText("after");
      again.send().wait(io.waitScope);
      return first + "|returned";
    } catch (const kj::Exception& e) {
      return first + "|" + (e.getType() == kj::Exception::Type::DISCONNECTED ? "disconnected" : "failed");
    }
  });
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(outcome.get(), "before|disconnected");
}

}  // namespace
