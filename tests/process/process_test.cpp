// Multi-process tests: real executables spawned over socket pairs or reached over unix sockets.
#include <crossproc/listener.h>
#include <crossproc/process.h>

#include "test_interfaces.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

namespace {

using namespace std::chrono_literals;

constexpr const char* kServer = "crossproc-test-server";

// A fresh folder for sockets, removed afterwards.
struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/crossproc-test-XXXXXX";
    path = ::mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// An Init that makes nothing: for tests about connections, not calls.
struct NullInit : rt::Init {
  std::unique_ptr<rt::Echo> makeEcho() override { return nullptr; }
};

// Runs the test server with `argument` as user and group nobody; returns its wait status.
int RunAsNobody(const std::string& argument) {
  std::string exe = crossproc::FindExecutable(kServer);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    ::execl(exe.c_str(), exe.c_str(), argument.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool Exited(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

// Starts the test server listening at `path` and waits until it accepts connections.
struct ListeningServer {
  explicit ListeningServer(const std::string& socket_path) : path(socket_path) {
    std::string exe = crossproc::FindExecutable(kServer);
    pid = ::fork();
    if (pid == 0) {
      std::string bind = "-ipcbind=unix:" + path;
      ::execl(exe.c_str(), exe.c_str(), bind.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    auto started = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - started < 10s) {
      try {
        crossproc::ConnectUnix(path);
        return;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(5ms);
      }
    }
    ADD_FAILURE() << "server did not start listening at " << path;
  }
  ~ListeningServer() { Stop(SIGTERM); }
  void Stop(int signal) {
    if (pid <= 0) return;
    ::kill(pid, signal);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
  std::string path;
  pid_t pid = -1;
};

TEST(Process, SpawnCallAndReap) {
  pid_t pid;
  {
    auto child = crossproc::SpawnProcess<rt::Init>(kServer);
    pid = child.process->pid();
    auto echo = child.init->makeEcho();
    EXPECT_EQ(echo->echo("across processes"), "across processes");
    EXPECT_EQ(echo->threadName().rfind(std::to_string(pid) + ":", 0), 0u);  // really ran in the child
  }
  // The child exited once released, and was reaped: no zombie is left.
  EXPECT_TRUE(Exited(pid));
}

TEST(Process, ThreadsCallbacksAndLifetimeAcrossProcesses) {
  // One server thread per client thread, named after it, keeping its thread-locals.
  std::string thread_name;
  std::thread([&] {
    pthread_setname_np(pthread_self(), "proc-test");
    auto named = crossproc::SpawnProcess<rt::Init>(kServer);
    thread_name = named.init->makeEcho()->threadName();
  }).join();
  EXPECT_NE(thread_name.find(":proc-test/test-#1"), std::string::npos) << thread_name;
  auto child = crossproc::SpawnProcess<rt::Init>(kServer);
  std::shared_ptr<rt::Echo> echo = child.init->makeEcho();
  std::string first = echo->threadName();
  std::string second = echo->threadName();
  EXPECT_EQ(first.substr(0, first.find('#')), second.substr(0, second.find('#')));
  EXPECT_EQ(second.substr(second.find('#')), "#2");
  std::string other;
  std::thread([&] { other = echo->threadName(); }).join();
  EXPECT_EQ(other.substr(other.find('#')), "#1");  // a server thread of its own
  // A callback into this process runs on this (waiting) thread, which holds a lock.
  std::recursive_mutex mutex;
  std::lock_guard<std::recursive_mutex> lock(mutex);
  struct Locker final : rt::Callback {
    std::recursive_mutex* mutex = nullptr;
    std::thread::id thread;
    int32_t call(int32_t value) override {
      std::lock_guard<std::recursive_mutex> inner(*mutex);
      thread = std::this_thread::get_id();
      return value * 2;
    }
  };
  auto locker = std::make_shared<Locker>();
  locker->mutex = &mutex;
  EXPECT_EQ(echo->callBack(locker, 20), 41);
  EXPECT_EQ(locker->thread, std::this_thread::get_id());
  // Nested call/callback chains, alternating between the two processes.
  struct Bouncer final : rt::Callback, std::enable_shared_from_this<Bouncer> {
    rt::Echo* echo = nullptr;
    int32_t call(int32_t depth) override { return depth <= 0 ? 0 : echo->nested(shared_from_this(), depth - 1) + 1; }
  };
  auto bouncer = std::make_shared<Bouncer>();
  bouncer->echo = echo.get();
  EXPECT_EQ(echo->nested(bouncer, 8), 17);
}

TEST(Process, ChildIgnoresSigintMeantForTheGroup) {
  auto child = crossproc::SpawnProcess<rt::Init>(kServer);
  auto echo = child.init->makeEcho();
  child.process->Signal(SIGINT);  // what Ctrl-C sends to every process of the terminal's group
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(child.process->WaitFor(0ms).has_value());
  EXPECT_EQ(echo->echo("still here"), "still here");
}

TEST(Process, ChildExitsWhenItsInitIsReleased) {
  auto child = crossproc::SpawnProcess<rt::Init>(kServer);
  EXPECT_EQ(child.init->makeEcho()->echo("x"), "x");
  child.init.reset();
  auto status = child.process->WaitFor(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(Process, CustomCommandLine) {
  crossproc::SpawnOptions options;
  options.command_line = [](const std::string& exe, int fd) {
    return std::vector<std::string>{exe, "-debug=ipc", "-ipcfd", std::to_string(fd)};
  };
  auto child = crossproc::SpawnProcess<rt::Init>(kServer, options);
  EXPECT_EQ(child.init->makeEcho()->echo("custom"), "custom");
}

TEST(Process, MissingExecutableGivesClearError) {
  try {
    crossproc::SpawnProcess<rt::Init>("no-such-crossproc-program");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-crossproc-program"), std::string::npos);
  }
}

TEST(Process, ChildKilledDuringCallGivesDisconnectedWithinOneSecond) {
  auto child = crossproc::SpawnProcess<rt::Init>(kServer);
  std::shared_ptr<rt::Echo> echo = child.init->makeEcho();
  auto pending = std::async(std::launch::async, [&] {
    try {
      echo->waitForInterrupt();  // blocks in the child
      return std::string("returned");
    } catch (const crossproc::Disconnected&) {
      return std::string("disconnected");
    }
  });
  ASSERT_EQ(pending.wait_for(100ms), std::future_status::timeout);
  auto killed = std::chrono::steady_clock::now();
  child.process->Signal(SIGKILL);
  ASSERT_EQ(pending.wait_for(1s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 1s);
  EXPECT_EQ(pending.get(), "disconnected");
  EXPECT_THROW(echo->echo("after"), crossproc::Disconnected);
}

TEST(Process, ChildExitsWithinOneSecondWhenParentIsKilled) {
  // This test process adopts orphans, so that it can reap the grandchild and time its exit.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  std::string exe = crossproc::FindExecutable(kServer);
  pid_t parent = ::fork();
  if (parent == 0) {
    ::dup2(out[1], 1);
    ::execl(exe.c_str(), exe.c_str(), "-spawn-child", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  char buffer[32] = {};
  ssize_t length = ::read(out[0], buffer, sizeof(buffer) - 1);
  ::close(out[0]);
  ASSERT_GT(length, 0);
  pid_t grandchild = std::atoi(buffer);
  ASSERT_GT(grandchild, 0);
  auto killed = std::chrono::steady_clock::now();
  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  bool exited = false;
  while (std::chrono::steady_clock::now() - killed < 1s) {
    int status = 0;
    if (::waitpid(grandchild, &status, WNOHANG) == grandchild) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  if (!exited) {
    ::kill(grandchild, SIGKILL);
    ::waitpid(grandchild, nullptr, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  EXPECT_TRUE(exited) << "the child outlived its killed parent by more than 1 s";
}

TEST(Process, SixtyFourClientsOnOneSocket) {
  TempDir dir;
  ListeningServer server(dir.path + "/server.sock");
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 64; ++c) {
    clients.emplace_back([&, c] {
      try {
        auto connection = crossproc::ConnectUnix(server.path);
        auto init = connection->Bootstrap<rt::Init>();
        auto echo = init->makeEcho();
        for (int i = 0; i < 20; ++i) {
          std::string text = std::to_string(c) + "/" + std::to_string(i);
          if (echo->echo(text) != text) return;
        }
        ++ok;
      } catch (const std::exception& e) {
        ADD_FAILURE() << "client " << c << ": " << e.what();
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(ok.load(), 64);
}

TEST(Process, ReconnectAfterServerRestart) {
  TempDir dir;
  std::string path = dir.path + "/server.sock";
  {
    ListeningServer server(path);
    auto connection = crossproc::ConnectUnix(path);
    auto echo = connection->Bootstrap<rt::Init>()->makeEcho();
    EXPECT_EQ(echo->echo("first"), "first");
    server.Stop(SIGKILL);  // leaves a stale socket file behind
    EXPECT_THROW(echo->echo("gone"), crossproc::Disconnected);
  }
  ListeningServer restarted(path);  // replaces the stale file
  auto connection = crossproc::ConnectUnix(path);
  EXPECT_EQ(connection->Bootstrap<rt::Init>()->makeEcho()->echo("second"), "second");
}

TEST(Process, ClientDisconnectsAndReconnectsToTheSameServer) {
  TempDir dir;
  ListeningServer server(dir.path + "/server.sock");
  for (int round = 0; round < 3; ++round) {
    auto connection = crossproc::ConnectAddress("unix:" + server.path, "unused");
    EXPECT_EQ(connection->Bootstrap<rt::Init>()->makeEcho()->echo("round"), "round");
    connection->Close();  // the server keeps running and accepts the next connection
  }
}

TEST(Process, ConnectAddressForms) {
  TempDir dir;
  std::string default_path = dir.path + "/default.sock";
  // auto: nobody listens yet, so the caller gets nullptr and falls back.
  EXPECT_EQ(crossproc::ConnectAddress("auto", default_path), nullptr);
  EXPECT_THROW(crossproc::ConnectAddress("unix", default_path), std::runtime_error);
  EXPECT_THROW(crossproc::ConnectAddress("tcp:127.0.0.1", default_path), std::invalid_argument);
  ListeningServer server(default_path);
  for (const char* address : {"auto", "unix"}) {
    auto connection = crossproc::ConnectAddress(address, default_path);
    ASSERT_NE(connection, nullptr) << address;
    EXPECT_EQ(connection->Bootstrap<rt::Init>()->makeEcho()->echo(address), address);
  }
}

TEST(Process, ListenErrorsAreClear) {
  auto message_of = [](const std::string& path) {
    try {
      crossproc::Listener listener(path, [] { return crossproc::MakeServer<rt::Init>(nullptr); });
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string long_path = "/tmp/" + std::string(200, 'x') + ".sock";
  EXPECT_NE(message_of(long_path).find("more than the"), std::string::npos) << message_of(long_path);
  EXPECT_NE(message_of("/dev/null/sub/server.sock").find("cannot create folder"), std::string::npos);
  // Two listeners on one path: the second is told the path is in use.
  TempDir dir;
  crossproc::Listener first(dir.path + "/s.sock", [] { return crossproc::MakeServer<rt::Init>(nullptr); });
  EXPECT_NE(message_of(dir.path + "/s.sock").find("another process is listening"), std::string::npos);
  // Missing permissions on the folder, checked as an unprivileged user.
  if (::geteuid() == 0) {
    std::string locked = dir.path + "/locked";
    ASSERT_EQ(::mkdir(locked.c_str(), 0700), 0);
    int status = RunAsNobody("-probe-listen=" + locked + "/s.sock");
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
}

TEST(Process, ConnectionFromAnotherUserIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as another user";
  TempDir dir;
  ::chmod(dir.path.c_str(), 0755);
  std::string path = dir.path + "/s.sock";
  crossproc::ConnectionOptions quiet;
  quiet.log = nullptr;
  crossproc::Listener listener(path, [] { return crossproc::MakeServer<rt::Init>(std::shared_ptr<rt::Init>()); },
                               crossproc::ListenOptions{128, std::nullopt, quiet});
  ::chmod(path.c_str(), 0666);  // let the other user reach the socket: the credential check must refuse
  int status = RunAsNobody("-probe=" + path);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(Process, MaximumConnectionsRefusesCleanly) {
  TempDir dir;
  crossproc::ConnectionOptions quiet;
  quiet.log = nullptr;
  crossproc::Listener listener(dir.path + "/s.sock",
                               [] { return crossproc::MakeServer<rt::Init>(std::make_shared<NullInit>()); },
                               crossproc::ListenOptions{2, std::nullopt, quiet});
  auto first = crossproc::ConnectUnix(listener.path());
  auto first_init = first->Bootstrap<rt::Init>();
  auto second = crossproc::ConnectUnix(listener.path());
  auto second_init = second->Bootstrap<rt::Init>();
  auto third = crossproc::ConnectUnix(listener.path());
  // The peer over the limit is told why, not just closed.
  try {
    third->Bootstrap<rt::Init>();
    ADD_FAILURE() << "the third connection was served";
  } catch (const crossproc::Disconnected& e) {
    EXPECT_NE(e.message().find("serves at most 2 connections at once"), std::string::npos) << e.message();
  }
  EXPECT_EQ(listener.connection_count(), 2u);
  // The connections within the limit keep working.
  EXPECT_EQ(first_init->makeEcho(), nullptr);
  EXPECT_EQ(second_init->makeEcho(), nullptr);
  listener.DisconnectIncoming();
  EXPECT_THROW(first_init->makeEcho(), crossproc::Disconnected);
}

}  // namespace
