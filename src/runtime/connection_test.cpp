// Tests of the runtime over socket pairs: calls, errors, callbacks, threads, object lifetime,
// disconnects and malformed input. The adapters below are written by hand in the shape
// crossproc-gen emits, so that these tests exercise the runtime alone.
#include <crossproc/connection.h>
#include <crossproc/errors.h>

#include "runtime/connection_state.h"
#include "transport/framing.h"
#include "runtime_test.capnp.h"
#include "transport/socket.h"

#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <dirent.h>
#include <thread>

#include "test_interfaces.h"

namespace {

std::atomic<int> g_live_echoes{0};

class EchoImpl : public rt::Echo {
 public:
  EchoImpl() { ++g_live_echoes; }
  ~EchoImpl() override { --g_live_echoes; }
  std::string echo(const std::string& text) override { return text; }
  void fail(const std::string& message) override { throw std::invalid_argument(message); }
  int32_t callBack(const std::shared_ptr<rt::Callback>& callback, int32_t value) override {
    return callback->call(value) + 1;
  }
  std::string threadName() override {
    static thread_local int calls_on_this_thread = 0;
    ++calls_on_this_thread;
    return crossproc::detail::CurrentThreadName() + "#" + std::to_string(calls_on_this_thread);
  }
  void ping() override {}
  int32_t nested(const std::shared_ptr<rt::Callback>& callback, int32_t depth) override {
    server_threads.insert(std::this_thread::get_id());
    return callback->call(depth) + 1;
  }
  void storeCallback(const std::shared_ptr<rt::Callback>& callback) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stored = std::move(callback);
  }
  int32_t callStoredFromNewThread(int32_t value) override {
    std::shared_ptr<rt::Callback> callback;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      callback = m_stored;
    }
    int32_t result = 0;
    std::thread([&] { result = callback->call(value); }).join();
    return result;
  }
  void waitForInterrupt() override {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_waiting = true;
    while (!m_interrupted) {
      m_cv.wait_for(lock, std::chrono::milliseconds(5));
      if (crossproc::CurrentCallCanceled()) {
        saw_cancel = true;
        break;
      }
    }
    m_interrupted = false;
    m_waiting = false;
  }
  std::atomic<bool> saw_cancel{false};
  void interrupt() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_interrupted = true;
    m_cv.notify_all();
  }
  void barrier(int32_t count) override { rt::WaitAtBarrier(count); }

  bool waiting() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_waiting;
  }

  std::set<std::thread::id> server_threads;  // used by one test thread at a time

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_interrupted = false;
  bool m_waiting = false;
  std::shared_ptr<rt::Callback> m_stored;
};

class InitImpl final : public rt::Init {
 public:
  std::unique_ptr<rt::Echo> makeEcho() override { return std::make_unique<EchoImpl>(); }
};

// A server and a client connected by a socket pair, in this process.
struct Pair {
  explicit Pair(std::chrono::microseconds spin = {}) {
    auto [a, b] = crossproc::transport::SocketPair();
    crossproc::ConnectionOptions server_options;
    server_options.name = "server";
    server_options.spin_before_sleep = spin;
    server = std::make_unique<crossproc::Connection>(a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()),
                                                     server_options);
    crossproc::ConnectionOptions client_options;
    client_options.name = "client";
    client_options.spin_before_sleep = spin;
    client = std::make_unique<crossproc::Connection>(b.release(), client_options);
    init = client->Bootstrap<rt::Init>();
  }
  std::unique_ptr<crossproc::Connection> server;
  std::unique_ptr<crossproc::Connection> client;
  std::unique_ptr<rt::InitClient> init;
};

TEST(Connection, CallReturnsResult) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  EXPECT_EQ(echo->echo("hello"), "hello");
  EXPECT_EQ(echo->echo(""), "");
  std::string big(1 << 20, 'x');
  EXPECT_EQ(echo->echo(big), big);
}

TEST(Connection, RemoteExceptionKeepsTypeAndMessage) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  try {
    echo->fail("bad value");
    FAIL() << "no exception";
  } catch (const crossproc::RemoteError& e) {
    EXPECT_EQ(e.kind(), crossproc::ErrorKind::kFailed);
    EXPECT_EQ(e.type_name(), "std::invalid_argument");
    EXPECT_EQ(e.message(), "bad value");
  }
  EXPECT_EQ(echo->echo("still works"), "still works");
}

TEST(Connection, CallbackRunsOnWaitingThread) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  struct Doubler : rt::Callback {
    std::thread::id ran_on;
    int32_t call(int32_t value) override {
      ran_on = std::this_thread::get_id();
      return value * 2;
    }
  };
  auto doubler = std::make_shared<Doubler>();
  EXPECT_EQ(echo->callBack(doubler, 21), 43);
  EXPECT_EQ(doubler->ran_on, std::this_thread::get_id());
}

TEST(Connection, CallbackTakesRecursiveMutexHeldByCaller) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  std::recursive_mutex mutex;
  struct Locker : rt::Callback {
    std::recursive_mutex* mutex;
    int32_t call(int32_t value) override {
      std::lock_guard<std::recursive_mutex> lock(*mutex);
      return value;
    }
  };
  auto locker = std::make_shared<Locker>();
  locker->mutex = &mutex;
  std::lock_guard<std::recursive_mutex> lock(mutex);
  EXPECT_EQ(echo->callBack(locker, 7), 8);
}

TEST(Connection, ThreadMappingIsOneToOne) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  std::string first = echo->threadName();
  std::string second = echo->threadName();
  // Same server thread (its thread_local counter goes on), named after this thread.
  EXPECT_EQ(first.substr(0, first.find('#')), second.substr(0, second.find('#')));
  EXPECT_EQ(first.substr(first.find('#')), "#1");
  EXPECT_EQ(second.substr(second.find('#')), "#2");
  std::string other;
  std::thread([&] { other = echo->threadName(); }).join();
  EXPECT_EQ(other.substr(other.find('#')), "#1");
}

// Counts this process's threads.
int CountThreads() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
    closedir(dir);
  }
  return count;
}

TEST(Connection, ServerThreadEndsWhenClientThreadExits) {
  Pair pair;
  std::shared_ptr<rt::Echo> echo = pair.init->makeEcho();
  echo->echo("warm up");  // maps this thread
  int before = CountThreads();
  std::thread([&] { echo->echo("from a short-lived thread"); }).join();
  auto started = std::chrono::steady_clock::now();
  while (CountThreads() != before && std::chrono::steady_clock::now() - started < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(CountThreads(), before);
}

// Calls back and forth: each level of the chain crosses the connection once in each direction.
class Bouncer final : public rt::Callback, public std::enable_shared_from_this<Bouncer> {
 public:
  rt::Echo* echo = nullptr;
  std::thread::id expected_thread;
  std::atomic<int> wrong_thread{0};
  int32_t call(int32_t depth) override {
    if (std::this_thread::get_id() != expected_thread) ++wrong_thread;
    if (depth <= 0) return 0;
    return echo->nested(shared_from_this(), depth - 1) + 1;
  }
};

TEST(Connection, NestedCallbacksAlternateBetweenTwoThreads) {
  auto init_impl = std::make_shared<InitImpl>();
  auto [a, b] = crossproc::transport::SocketPair();
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(init_impl));
  crossproc::Connection client(b.release());
  auto init = client.Bootstrap<rt::Init>();
  auto echo = init->makeEcho();
  auto bouncer = std::make_shared<Bouncer>();
  bouncer->echo = echo.get();
  bouncer->expected_thread = std::this_thread::get_id();
  std::recursive_mutex mutex;
  std::lock_guard<std::recursive_mutex> lock(mutex);
  EXPECT_EQ(echo->nested(bouncer, 10), 21);  // 10 levels, each adds 1 on both sides, plus 1
  EXPECT_EQ(bouncer->wrong_thread.load(), 0);
}

TEST(Connection, StoredCallbackCalledLaterRunsOnDedicatedThread) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  struct Recorder : rt::Callback {
    std::thread::id ran_on;
    int32_t call(int32_t value) override {
      ran_on = std::this_thread::get_id();
      return value + 100;
    }
  };
  auto recorder = std::make_shared<Recorder>();
  echo->storeCallback(recorder);
  EXPECT_EQ(echo->callStoredFromNewThread(5), 105);
  EXPECT_NE(recorder->ran_on, std::this_thread::get_id());
  EXPECT_NE(recorder->ran_on, std::thread::id());
}

TEST(Connection, EventLoopMethodReleasesBlockedCall) {
  Pair pair;
  std::shared_ptr<rt::Echo> echo = pair.init->makeEcho();
  auto waiter = std::async(std::launch::async, [&] { echo->waitForInterrupt(); });
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  echo->interrupt();  // from this thread, while the other one's call is blocked in the server
  EXPECT_EQ(waiter.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

// An InitImpl that keeps the Echo objects it made, so tests can look at them.
class KeepingInit final : public rt::Init {
 public:
  std::unique_ptr<rt::Echo> makeEcho() override {
    auto echo = std::make_unique<EchoImpl>();
    last = echo.get();
    return echo;
  }
  EchoImpl* last = nullptr;
};

TEST(Async, SixtyFourCallsInFlightFromOneThread) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  auto* client = static_cast<rt::EchoClient*>(echo.get());
  std::vector<crossproc::Future<std::string>> futures;
  for (int i = 0; i < 64; ++i) futures.push_back(client->echoAsync("call " + std::to_string(i)));
  for (int i = 0; i < 64; ++i) EXPECT_EQ(futures[i].get(), "call " + std::to_string(i));
  EXPECT_EQ(echo->echo("sync after async"), "sync after async");
}

// Relays a client and a server through a second socket pair and counts the Finish messages
// the client sends: those that leave with a later message or with the event-loop thread's
// flush must all arrive.
TEST(Async, EveryAnswerIsFinishedOnceTheCallerGoesQuiet) {
  auto [server_end, relay_server] = crossproc::transport::SocketPair();
  auto [client_end, relay_client] = crossproc::transport::SocketPair();
  std::atomic<int> finishes{0};
  int to_server = relay_server.get();
  int to_client = relay_client.get();
  std::thread upstream([&] {  // client -> server, frame by frame
    crossproc::transport::FrameReader reader(crossproc::transport::FrameLimits{});
    try {
      while (auto frame = reader.ReadFrame(to_client)) {
        kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments(frame.segments.data(), frame.segments.size());
        capnp::SegmentArrayMessageReader message(segments);
        if (message.getRoot<capnp::rpc::Message>().isFinish()) ++finishes;
        auto flat = capnp::messageToFlatArray(segments);
        auto bytes = flat.asBytes();
        if (::send(to_server, bytes.begin(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) break;
      }
    } catch (...) {
    }
    ::shutdown(to_server, SHUT_WR);
  });
  std::thread downstream([&] {  // server -> client, bytes
    char buffer[4096];
    ssize_t count;
    while ((count = ::read(to_server, buffer, sizeof(buffer))) > 0) {
      if (::send(to_client, buffer, static_cast<std::size_t>(count), MSG_NOSIGNAL) != count) break;
    }
    ::shutdown(to_client, SHUT_WR);
  });
  {
    crossproc::ConnectionOptions quiet;
    quiet.log = nullptr;
    crossproc::Connection server(server_end.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()), quiet);
    crossproc::Connection client(client_end.release(), quiet);
    auto init = client.Bootstrap<rt::Init>();
    auto echo = init->makeEcho();
    auto* proxy = static_cast<rt::EchoClient*>(echo.get());
    EXPECT_EQ(echo->echo("mapped"), "mapped");
    auto wait_for = [&](int count) {
      auto started = std::chrono::steady_clock::now();
      while (finishes < count && std::chrono::steady_clock::now() - started < std::chrono::seconds(5)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return finishes.load();
    };
    int before = wait_for(1);  // the bootstrap calls' Finishes, and the synchronous call's
    for (int round = 0; round < 3; ++round) {
      std::vector<crossproc::Future<std::string>> futures;
      {
        crossproc::SendBatch batch;
        for (int i = 0; i < 64; ++i) futures.push_back(proxy->echoAsync(std::to_string(i)));
      }
      for (int i = 0; i < 64; ++i) EXPECT_EQ(futures[i].get(), std::to_string(i));
      // No further call: the Finishes still leave, by the event-loop thread.
      EXPECT_GE(wait_for(before + 64 * (round + 1)), before + 64 * (round + 1));
    }
    EXPECT_EQ(echo->echo("after"), "after");
  }
  upstream.join();
  downstream.join();
}

TEST(Async, CallsFromOneThreadQueueInOrderOnItsServerThread) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  auto* client = static_cast<rt::EchoClient*>(echo.get());
  std::vector<crossproc::Future<std::string>> names;
  for (int i = 0; i < 20; ++i) names.push_back(client->threadNameAsync());
  // All ran on this thread's server thread, one after the other, in the order sent: its
  // thread-local call counter reads 1, 2, 3...
  std::string thread;
  for (int i = 0; i < 20; ++i) {
    std::string name = names[i].get();
    EXPECT_EQ(name.substr(name.find('#')), "#" + std::to_string(i + 1));
    if (i == 0) thread = name.substr(0, name.find('#'));
    EXPECT_EQ(name.substr(0, name.find('#')), thread);
  }
}

TEST(Async, ErrorsAndContinuations) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  auto* client = static_cast<rt::EchoClient*>(echo.get());
  auto failed = client->failAsync("async failure");
  EXPECT_THROW(failed.get(), crossproc::RemoteError);
  auto length = client->echoAsync("12345").then([](std::string text) { return text.size(); });
  EXPECT_EQ(length.get(), 5u);
  std::atomic<bool> called{false};
  auto future = client->echoAsync("callback");
  future.OnComplete([&] { called = true; });
  future.wait();
  EXPECT_TRUE(future.ready());
  // OnComplete runs before wait() returns or right after, on the completing thread.
  auto started = std::chrono::steady_clock::now();
  while (!called && std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) std::this_thread::yield();
  EXPECT_TRUE(called);
}

TEST(Async, CancelReachesTheServer) {
  auto init_impl = std::make_shared<KeepingInit>();
  auto [a, b] = crossproc::transport::SocketPair();
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(init_impl));
  crossproc::Connection client(b.release());
  auto echo = client.Bootstrap<rt::Init>()->makeEcho();
  auto* proxy = static_cast<rt::EchoClient*>(echo.get());
  auto pending = proxy->waitForInterruptAsync();
  auto started = std::chrono::steady_clock::now();
  while (!init_impl->last->waiting() && std::chrono::steady_clock::now() - started < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  pending.Cancel();
  try {
    pending.get();
    FAIL() << "no exception";
  } catch (const crossproc::RemoteError& e) {
    EXPECT_EQ(e.message(), "canceled");
  }
  started = std::chrono::steady_clock::now();
  while (!init_impl->last->saw_cancel && std::chrono::steady_clock::now() - started < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(init_impl->last->saw_cancel);
  EXPECT_EQ(echo->echo("still usable"), "still usable");
}

// Large arguments and results, with shared-memory segments on both sides, on one side only
// (the other never offers them, so neither sends them), and off.
TEST(Connection, LargeMessagesWithAndWithoutSharedSegments) {
  std::string big(3u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>('a' + i % 26);
  for (auto [server_threshold, client_threshold] :
       {std::pair<std::size_t, std::size_t>{256u << 10, 256u << 10}, {0, 256u << 10}, {256u << 10, 0}, {0, 0}}) {
    auto [a, b] = crossproc::transport::SocketPair();
    crossproc::ConnectionOptions server_options;
    server_options.shared_memory_threshold = server_threshold;
    crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()), server_options);
    crossproc::ConnectionOptions client_options;
    client_options.shared_memory_threshold = client_threshold;
    crossproc::Connection client(b.release(), client_options);
    auto echo = client.Bootstrap<rt::Init>()->makeEcho();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(echo->echo(big), big) << server_threshold << " " << client_threshold;
    EXPECT_EQ(echo->echo("small"), "small");
  }
}

TEST(Limits, CallsOverTheInFlightLimitFailWithOverloaded) {
  auto init_impl = std::make_shared<KeepingInit>();
  auto [a, b] = crossproc::transport::SocketPair();
  crossproc::ConnectionOptions options;
  options.max_calls_in_flight = 2;
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(init_impl), options);
  crossproc::Connection client(b.release());
  auto echo = client.Bootstrap<rt::Init>()->makeEcho();
  auto* proxy = static_cast<rt::EchoClient*>(echo.get());
  // Two calls in flight: one blocked in the server, one queued behind it on the same thread.
  auto blocked = proxy->waitForInterruptAsync();
  auto queued = proxy->echoAsync("queued");
  auto started = std::chrono::steady_clock::now();
  while (!init_impl->last->waiting() && std::chrono::steady_clock::now() - started < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(init_impl->last->waiting());
  // The third fails at once, with a clear error.
  try {
    echo->echo("one too many");
    ADD_FAILURE() << "the call over the limit was served";
  } catch (const crossproc::RemoteError& e) {
    EXPECT_EQ(e.kind(), crossproc::ErrorKind::kOverloaded);
    EXPECT_NE(e.message().find("at most 2 calls at once"), std::string::npos) << e.message();
  }
  // Another peer of the same process is served meanwhile.
  Pair other;
  EXPECT_EQ(other.init->makeEcho()->echo("other peer"), "other peer");
  // Once the calls in flight end, this peer is served again.
  blocked.Cancel();
  EXPECT_THROW(blocked.get(), crossproc::RemoteError);
  EXPECT_EQ(queued.get(), "queued");
  EXPECT_TRUE(server.connected());
  EXPECT_EQ(echo->echo("served again"), "served again");
  EXPECT_EQ(echo->echo("and again"), "and again");
}

TEST(Async, DisconnectFailsPendingFutures) {
  auto [a, b] = crossproc::transport::SocketPair();
  int server_fd = a.release();
  crossproc::Connection server(server_fd, std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()));
  crossproc::Connection client(b.release());
  auto echo = client.Bootstrap<rt::Init>()->makeEcho();
  auto pending = static_cast<rt::EchoClient*>(echo.get())->waitForInterruptAsync();
  ::shutdown(server_fd, SHUT_RDWR);
  EXPECT_TRUE(pending.wait_for(std::chrono::seconds(1)));
  EXPECT_THROW(pending.get(), crossproc::Disconnected);
  EXPECT_THROW(echo->interrupt(), crossproc::Disconnected);
  // The server's call sees that its caller is gone (CurrentCallCanceled) and ends, so the
  // server connection can be destroyed.
}

TEST(Connection, ThreadStackSizeIsConfigurable) {
  struct StackEcho final : EchoImpl {
    std::string echo(const std::string&) override {
      pthread_attr_t attributes;
      pthread_getattr_np(pthread_self(), &attributes);
      std::size_t size = 0;
      pthread_attr_getstacksize(&attributes, &size);
      pthread_attr_destroy(&attributes);
      return std::to_string(size);
    }
  };
  struct StackInit final : rt::Init {
    std::unique_ptr<rt::Echo> makeEcho() override { return std::make_unique<StackEcho>(); }
  };
  auto [a, b] = crossproc::transport::SocketPair();
  crossproc::ConnectionOptions options;
  options.thread_stack_bytes = 256 * 1024;
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(std::make_shared<StackInit>()), options);
  crossproc::Connection client(b.release());
  auto echo = client.Bootstrap<rt::Init>()->makeEcho();
  // The mapped server thread's stack: the size asked for (sanitizer runtimes may add their own
  // reserve to it), far below the 8 MiB default.
  std::size_t size = std::stoul(echo->echo(""));
  EXPECT_GE(size, 256u * 1024);
  EXPECT_LT(size, 2u * 1024 * 1024);
}

// `threads` threads each echo `calls` distinct texts; returns how many came back unchanged.
int EchoFromThreads(rt::Echo& echo, int threads, int calls) {
  std::vector<std::thread> workers;
  std::atomic<int> ok{0};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < calls; ++i) {
        std::string text = std::to_string(t) + ":" + std::to_string(i);
        if (echo.echo(text) == text) ++ok;
      }
    });
  }
  for (auto& worker : workers) worker.join();
  return ok.load();
}

TEST(Connection, ManyThreadsCallConcurrently) {
  Pair pair;
  std::shared_ptr<rt::Echo> echo = pair.init->makeEcho();
  EXPECT_EQ(EchoFromThreads(*echo, 8, 200), 8 * 200);
}

// Threads that take turns at reading the socket, each with Finishes waiting to be written before
// it reads: a thread whose answer another reader dispatched while it was writing must not go on
// to read (it would wait forever). Rounds of new threads, whose first call also maps a server
// thread, as a burst of concurrent calls. Fails by timing out, not by hanging the suite.
TEST(Connection, NoAnswerIsMissedWhileReadersTakeTurns) {
  crossproc::detail::g_test_hook_after_flush_before_read = [] { std::this_thread::sleep_for(std::chrono::microseconds(200)); };
  struct Unhook {
    ~Unhook() { crossproc::detail::g_test_hook_after_flush_before_read = nullptr; }
  } unhook;
  Pair pair;
  std::shared_ptr<rt::Echo> echo = pair.init->makeEcho();
  auto run = std::async(std::launch::async, [&] {
    int ok = 0;
    for (int round = 0; round < 40; ++round) {
      std::vector<std::thread> threads;
      std::atomic<int> round_ok{0};
      for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&] {
          for (int i = 0; i < 150; ++i) {
            echo->ping();
            ++round_ok;
          }
        });
      }
      for (auto& thread : threads) thread.join();
      ok += round_ok.load();
    }
    return ok;
  });
  if (run.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    std::fprintf(stderr, "NoAnswerIsMissedWhileReadersTakeTurns: calls still waiting after 20 s\n");
    std::abort();  // the threads cannot be joined
  }
  EXPECT_EQ(run.get(), 40 * 6 * 150);
}

// With both sides polling before they sleep: calls, callbacks on the waiting thread, many
// threads, asynchronous calls, and a peer that goes away while a thread polls.
TEST(Connection, PollingBeforeSleepingChangesNothingButTheWaiting) {
  auto pair = std::make_unique<Pair>(std::chrono::microseconds(200));
  std::shared_ptr<rt::Echo> echo = pair->init->makeEcho();
  EXPECT_EQ(echo->echo("polled"), "polled");
  struct Here final : rt::Callback {
    int32_t call(int32_t value) override {
      ran_on = std::this_thread::get_id();
      return value * 2;
    }
    std::thread::id ran_on;
  };
  auto here = std::make_shared<Here>();
  EXPECT_EQ(echo->callBack(here, 20), 41);
  EXPECT_EQ(here->ran_on, std::this_thread::get_id());
  EXPECT_EQ(EchoFromThreads(*echo, 4, 200), 4 * 200);
  auto* client = static_cast<rt::EchoClient*>(echo.get());
  std::vector<crossproc::Future<std::string>> futures;
  for (int i = 0; i < 64; ++i) futures.push_back(client->echoAsync(std::to_string(i)));
  for (int i = 0; i < 64; ++i) EXPECT_EQ(futures[i].get(), std::to_string(i));
  // The server side goes while the client's thread may be polling for its next message.
  auto started = std::chrono::steady_clock::now();
  pair->server.reset();
  EXPECT_THROW(echo->echo("gone"), crossproc::Disconnected);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(Connection, EventLoopMethodRuns) {
  Pair pair;
  auto echo = pair.init->makeEcho();
  echo->ping();
  EXPECT_EQ(echo->echo("after ping"), "after ping");
}

TEST(Connection, DestroyRunsDestructorBeforeReleaseReturns) {
  Pair pair;
  int before = g_live_echoes.load();
  auto echo = pair.init->makeEcho();
  EXPECT_EQ(g_live_echoes.load(), before + 1);
  echo.reset();
  EXPECT_EQ(g_live_echoes.load(), before);
}

TEST(Connection, CloseDestroysObjectsThePeerHeld) {
  int before = g_live_echoes.load();
  {
    Pair pair;
    auto echo = pair.init->makeEcho();
    EXPECT_EQ(g_live_echoes.load(), before + 1);
    pair.client->Close();
    pair.server->Close();
    EXPECT_EQ(g_live_echoes.load(), before);
    EXPECT_THROW(echo->echo("x"), crossproc::Disconnected);
  }
  EXPECT_EQ(g_live_echoes.load(), before);
}

// An Echo whose echo() blocks until released, to have a call in flight.
struct BlockingInit : rt::Init {
  struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool entered = false;
    bool open = false;
  };
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  struct BlockingEcho : EchoImpl {
    std::shared_ptr<Gate> gate;
    std::string echo(const std::string& text) override {
      std::unique_lock<std::mutex> lock(gate->mutex);
      gate->entered = true;
      gate->cv.notify_all();
      gate->cv.wait(lock, [&] { return gate->open; });
      return text;
    }
  };
  std::unique_ptr<rt::Echo> makeEcho() override {
    auto echo = std::make_unique<BlockingEcho>();
    echo->gate = gate;
    return echo;
  }
};

TEST(Connection, PendingCallFailsPromptlyWhenPeerGoes) {
  auto [a, b] = crossproc::transport::SocketPair();
  int server_fd = a.release();
  auto init_impl = std::make_shared<BlockingInit>();
  auto gate = init_impl->gate;
  crossproc::Connection server(server_fd, std::shared_ptr<rt::Init>(init_impl));
  crossproc::Connection client(b.release());
  auto init = client.Bootstrap<rt::Init>();
  auto echo = init->makeEcho();
  auto pending = std::async(std::launch::async, [&] {
    try {
      echo->echo("in flight");
      return std::string("returned");
    } catch (const crossproc::Disconnected&) {
      return std::string("disconnected");
    } catch (const std::exception& e) {
      return std::string("other: ") + e.what();
    }
  });
  {
    std::unique_lock<std::mutex> lock(gate->mutex);
    gate->cv.wait(lock, [&] { return gate->entered; });
  }
  auto started = std::chrono::steady_clock::now();
  ::shutdown(server_fd, SHUT_RDWR);  // as if the server process died
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(pending.get(), "disconnected");
  EXPECT_THROW(echo->echo("later"), crossproc::Disconnected);
  {
    std::lock_guard<std::mutex> lock(gate->mutex);
    gate->open = true;
    gate->cv.notify_all();
  }
}

TEST(Connection, DebugIpcLogsRequestsAndResponses) {
  auto [a, b] = crossproc::transport::SocketPair();
  std::vector<std::string> lines;
  std::mutex mutex;
  crossproc::ConnectionOptions options;
  options.debug_ipc = true;
  options.log = [&](crossproc::LogLevel, const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(line);
  };
  options.name = "srv";
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()), options);
  options.name = "cli";
  crossproc::Connection client(b.release(), options);
  auto echo = client.Bootstrap<rt::Init>()->makeEcho();
  EXPECT_EQ(echo->echo("hello log"), "hello log");
  std::lock_guard<std::mutex> lock(mutex);
  auto has = [&](const std::string& a_part, const std::string& b_part) {
    for (auto& line : lines) {
      if (line.find(a_part) != std::string::npos && line.find(b_part) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("cli#", "Echo.echo(text = \"hello log\") from"));
  EXPECT_TRUE(has("srv#", "serving #"));
  EXPECT_TRUE(has("srv#", "Echo.echo returned (result = \"hello log\") in"));
  EXPECT_TRUE(has("cli#", "Echo.echo returned (result = \"hello log\") in"));
}

TEST(Connection, MalformedMessageClosesConnectionWithoutCrash) {
  auto [a, b] = crossproc::transport::SocketPair();
  std::vector<std::string> logged;
  std::mutex log_mutex;
  crossproc::ConnectionOptions options;
  options.log = [&](crossproc::LogLevel, const std::string& line) {
    std::lock_guard<std::mutex> lock(log_mutex);
    logged.push_back(line);
  };
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()), options);
  // A frame header announcing one segment of 2 words, followed by words that are not a valid
  // rpc::Message (a struct pointer pointing far outside the segment).
  uint32_t header[2] = {0, 2};
  uint64_t words[2] = {0x0000ffff7ffffff0ull, 0};
  ASSERT_EQ(::write(b.get(), header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
  ASSERT_EQ(::write(b.get(), words, sizeof(words)), static_cast<ssize_t>(sizeof(words)));
  auto started = std::chrono::steady_clock::now();
  while (server.connected() && std::chrono::steady_clock::now() - started < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(server.connected());
  std::lock_guard<std::mutex> lock(log_mutex);
  bool found = false;
  for (auto& line : logged) found = found || line.find("malformed message") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST(Connection, OversizedMessageIsRejected) {
  auto [a, b] = crossproc::transport::SocketPair();
  crossproc::ConnectionOptions options;
  options.max_message_bytes = 1024;
  options.log = nullptr;
  crossproc::Connection server(a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()), options);
  uint32_t header[2] = {0, 1u << 20};
  ASSERT_EQ(::write(b.get(), header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
  auto started = std::chrono::steady_clock::now();
  while (server.connected() && std::chrono::steady_clock::now() - started < std::chrono::seconds(2)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(server.connected());
}

}  // namespace
