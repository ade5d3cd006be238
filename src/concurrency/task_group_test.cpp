// Tests of TaskGroup: fan-out over real connections, fail-fast cancellation, best-effort
// outcomes, destruction during flight, nesting.
#include <crossproc/connection.h>
#include <crossproc/task_group.h>

#include "test_interfaces.h"
#include "transport/socket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

using namespace std::chrono_literals;

// An Echo whose waitForInterrupt blocks until canceled; records cancellations.
class EchoImpl final : public rt::Echo {
 public:
  explicit EchoImpl(std::atomic<int>* cancellations) : m_cancellations(cancellations) {}
  std::string echo(const std::string& text) override { return text; }
  void fail(const std::string& message) override { throw std::runtime_error(message); }
  int32_t callBack(const std::shared_ptr<rt::Callback>& callback, int32_t value) override { return callback->call(value); }
  std::string threadName() override { return ""; }
  void ping() override {}
  int32_t nested(const std::shared_ptr<rt::Callback>&, int32_t) override { return 0; }
  void storeCallback(const std::shared_ptr<rt::Callback>&) override {}
  int32_t callStoredFromNewThread(int32_t) override { return 0; }
  void waitForInterrupt() override {
    while (!crossproc::CurrentCallCanceled()) std::this_thread::sleep_for(1ms);
    ++*m_cancellations;
  }
  void interrupt() override {}
  void barrier(int32_t count) override { rt::WaitAtBarrier(count); }

 private:
  std::atomic<int>* m_cancellations;
};

class InitImpl final : public rt::Init {
 public:
  explicit InitImpl(std::atomic<int>* cancellations) : m_cancellations(cancellations) {}
  std::unique_ptr<rt::Echo> makeEcho() override { return std::make_unique<EchoImpl>(m_cancellations); }

 private:
  std::atomic<int>* m_cancellations;
};

// N servers, each on its own connection.
struct Servers {
  explicit Servers(int count) {
    for (int i = 0; i < count; ++i) {
      auto [a, b] = crossproc::transport::SocketPair();
      servers.push_back(std::make_unique<crossproc::Connection>(
          a.release(), std::shared_ptr<rt::Init>(std::make_shared<InitImpl>(&cancellations))));
      clients.push_back(std::make_unique<crossproc::Connection>(b.release()));
      echoes.push_back(clients.back()->Bootstrap<rt::Init>()->makeEcho());
    }
  }
  rt::EchoClient& echo(int i) { return static_cast<rt::EchoClient&>(*echoes[i]); }
  std::atomic<int> cancellations{0};
  std::vector<std::unique_ptr<crossproc::Connection>> servers;
  std::vector<std::unique_ptr<crossproc::Connection>> clients;
  std::vector<std::unique_ptr<rt::Echo>> echoes;
};

TEST(TaskGroup, FansOutOverSeveralConnections) {
  Servers servers(4);
  std::mutex mutex;
  std::vector<std::string> seen;
  crossproc::TaskGroup group;
  for (int i = 0; i < 100; ++i) {
    group.Add(servers.echo(i % 4).echoAsync(std::to_string(i)), [&](std::string text) {
      std::lock_guard<std::mutex> lock(mutex);
      seen.push_back(text);
    });
  }
  group.Join();
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(group.size(), 100u);
}

TEST(TaskGroup, FailFastCancelsTheOthersAndRethrows) {
  Servers servers(3);
  crossproc::TaskGroup group(crossproc::JoinMode::kFailFast);
  group.Add(servers.echo(0).waitForInterruptAsync());
  group.Add(servers.echo(1).waitForInterruptAsync());
  group.Add(servers.echo(2).failAsync("branch 2 failed"));
  try {
    group.Join();
    FAIL() << "no exception";
  } catch (const crossproc::RemoteError& e) {
    EXPECT_EQ(e.message(), "branch 2 failed");
  }
  // The servers saw the cancellation of the two blocked calls.
  auto started = std::chrono::steady_clock::now();
  while (servers.cancellations < 2 && std::chrono::steady_clock::now() - started < 2s) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(servers.cancellations.load(), 2);
  EXPECT_NE(group.error(0), nullptr);  // canceled
  EXPECT_NE(group.error(2), nullptr);
}

TEST(TaskGroup, BestEffortReportsEveryBranch) {
  Servers servers(2);
  crossproc::TaskGroup group(crossproc::JoinMode::kBestEffort);
  std::atomic<int> values{0};
  group.Add(servers.echo(0).echoAsync("a"), [&](std::string) { ++values; });
  group.Add(servers.echo(1).failAsync("b failed"));
  group.Add(servers.echo(0).echoAsync("c"), [&](std::string) { ++values; });
  EXPECT_NO_THROW(group.Join());
  EXPECT_EQ(values.load(), 2);
  EXPECT_EQ(group.error(0), nullptr);
  EXPECT_NE(group.error(1), nullptr);
  EXPECT_EQ(group.error(2), nullptr);
}

TEST(TaskGroup, DestroyingCancelsAndNoHandlerRunsAfterwards) {
  Servers servers(2);
  std::atomic<bool> group_alive{true};
  std::atomic<int> late_handlers{0};
  {
    crossproc::TaskGroup group;
    for (int i = 0; i < 2; ++i) {
      group.Add(servers.echo(i).waitForInterruptAsync(), [&] {
        if (!group_alive) ++late_handlers;
      });
    }
  }  // destroyed with both calls in flight
  group_alive = false;
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(late_handlers.load(), 0);
  EXPECT_EQ(servers.echo(0).echo("usable"), "usable");
}

TEST(TaskGroup, TimeoutCancelsAndThrows) {
  Servers servers(1);
  crossproc::TaskGroup group;
  group.Add(servers.echo(0).waitForInterruptAsync());
  auto started = std::chrono::steady_clock::now();
  EXPECT_THROW(group.JoinFor(50ms), crossproc::RemoteError);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(TaskGroup, GroupsNest) {
  Servers servers(2);
  crossproc::TaskGroup outer;
  crossproc::TaskGroup inner;
  std::atomic<int> values{0};
  inner.Add(servers.echo(0).echoAsync("x"), [&](std::string) { ++values; });
  inner.Add(servers.echo(1).echoAsync("y"), [&](std::string) { ++values; });
  outer.Add(inner.AsFuture());
  outer.Add(servers.echo(0).echoAsync("z"), [&](std::string) { ++values; });
  outer.Join();
  EXPECT_EQ(values.load(), 3);

  // A failing inner group fails the outer one, which cancels its other branches.
  crossproc::TaskGroup outer2;
  crossproc::TaskGroup inner2;
  inner2.Add(servers.echo(0).failAsync("inner failure"));
  outer2.Add(inner2.AsFuture());
  outer2.Add(servers.echo(1).waitForInterruptAsync());
  EXPECT_THROW(outer2.Join(), crossproc::RemoteError);
}

TEST(TaskGroup, DeterministicWithReadyFutures) {
  crossproc::TaskGroup group;
  int sum = 0;
  for (int i = 1; i <= 4; ++i) group.Add(crossproc::MakeReadyFuture(i), [&](int value) { sum += value; });
  group.Join();
  EXPECT_EQ(sum, 10);
}

}  // namespace
