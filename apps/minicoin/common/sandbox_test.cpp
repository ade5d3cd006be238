// Tests of ApplySandbox: each runs in a forked child that sandboxes itself and reports back what
// worked and what was refused, as "name=errno" lines.
#include "common/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;

// Results of the child: "key=value" per line.
using Results = std::map<std::string, std::string>;

// Runs `body` in a forked child (single-threaded, so it may sandbox itself) and returns what it
// reported. Waits at most 30 s.
Results RunInChild(const std::function<void(Results&)>& body) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(pipe_fds[0]);
    Results results;
    try {
      body(results);
    } catch (const std::exception& e) {
      results["exception"] = e.what();
    }
    std::string text;
    for (const auto& [key, value] : results) text += key + "=" + value + "\n";
    (void)!write(pipe_fds[1], text.data(), text.size());
    _exit(0);  // a forked child runs none of the test framework's exit handlers
  }
  close(pipe_fds[1]);
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  char buffer[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd poll_fd{pipe_fds[0], POLLIN, 0};
    if (left.count() <= 0 || poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) {
      kill(pid, SIGKILL);
      text += "timeout=1\n";
      break;
    }
    ssize_t got = read(pipe_fds[0], buffer, sizeof(buffer));
    if (got <= 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  Results results;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    std::size_t eq = line.find('=');
    if (eq != std::string::npos) results[line.substr(0, eq)] = line.substr(eq + 1);
    start = end == std::string::npos ? text.size() : end + 1;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) results["child_status"] = std::to_string(status);
  return results;
}

// "0" if `rc` says success, else the errno name's number.
std::string Outcome(long rc) { return rc >= 0 ? "0" : std::to_string(errno); }

std::string OpenOutcome(const fs::path& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, 0600);
  std::string outcome = Outcome(fd);
  if (fd >= 0) close(fd);
  return outcome;
}

const std::string kOk = "0";
const std::string kEacces = std::to_string(EACCES);
const std::string kEperm = std::to_string(EPERM);

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_root = fs::temp_directory_path() / ("minicoin-sandbox-" + std::to_string(getpid()) + "-" +
                                          ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_root);
    fs::create_directories(m_root / "wallet");
    fs::create_directories(m_root / "outside");
    fs::create_directories(m_root / "readonly");
    std::ofstream(m_root / "outside" / "secret") << "secret";
    std::ofstream(m_root / "wallet" / "existing") << "wallet data";
    std::ofstream(m_root / "readonly" / "config") << "config";
  }
  void TearDown() override { fs::remove_all(m_root); }

  fs::path m_root;
};

TEST_F(SandboxTest, FilesOnlyInsideTheGivenFolders) {
  if (minicoin::LandlockAbiVersion() == 0) GTEST_SKIP() << "this kernel has no Landlock: only seccomp applies";
  fs::path wallet = m_root / "wallet";
  fs::path outside = m_root / "outside";
  fs::path readonly = m_root / "readonly";
  Results results = RunInChild([&](Results& r) {
    minicoin::SandboxOptions options;
    options.read_write = {wallet};
    options.read_only = {readonly};
    minicoin::SandboxReport report = minicoin::ApplySandbox(options);
    r["landlock"] = std::to_string(report.landlock_abi);
    r["read_existing"] = OpenOutcome(wallet / "existing", O_RDONLY);
    r["create_inside"] = OpenOutcome(wallet / "new.db", O_CREAT | O_WRONLY);
    r["rename_inside"] = Outcome(rename((wallet / "new.db").c_str(), (wallet / "renamed.db").c_str()));
    r["mkdir_inside"] = Outcome(mkdir((wallet / "backups").c_str(), 0700));
    r["unlink_inside"] = Outcome(unlink((wallet / "renamed.db").c_str()));
    r["read_outside"] = OpenOutcome(outside / "secret", O_RDONLY);
    r["create_outside"] = OpenOutcome(outside / "planted", O_CREAT | O_WRONLY);
    r["read_etc"] = OpenOutcome("/etc/passwd", O_RDONLY);
    r["read_readonly"] = OpenOutcome(readonly / "config", O_RDONLY);
    r["write_readonly"] = OpenOutcome(readonly / "config", O_WRONLY);
  });
  EXPECT_EQ(results.count("exception"), 0u) << results["exception"];
  EXPECT_NE(results["landlock"], "0");
  EXPECT_EQ(results["read_existing"], kOk);
  EXPECT_EQ(results["create_inside"], kOk);
  EXPECT_EQ(results["rename_inside"], kOk);
  EXPECT_EQ(results["mkdir_inside"], kOk);
  EXPECT_EQ(results["unlink_inside"], kOk);
  EXPECT_EQ(results["read_outside"], kEacces);
  EXPECT_EQ(results["create_outside"], kEacces);
  EXPECT_EQ(results["read_etc"], kEacces);
  EXPECT_EQ(results["read_readonly"], kOk);
  EXPECT_EQ(results["write_readonly"], kEacces);
  EXPECT_TRUE(fs::exists(m_root / "wallet" / "backups"));
  EXPECT_FALSE(fs::exists(m_root / "outside" / "planted"));
}

TEST_F(SandboxTest, ForbiddenSystemCallsFailWithEperm) {
  fs::path wallet = m_root / "wallet";
  int ipc[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ipc), 0);
  Results results = RunInChild([&](Results& r) {
    minicoin::SandboxOptions options;
    options.read_write = {wallet};
    minicoin::ApplySandbox(options);
    r["socket_inet"] = Outcome(socket(AF_INET, SOCK_STREAM, 0));
    r["socket_unix"] = Outcome(socket(AF_UNIX, SOCK_STREAM, 0));
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    r["execve"] = Outcome(execve("/bin/true", argv, environ));
    pid_t child = fork();
    if (child == 0) _exit(0);
    r["fork"] = Outcome(child);
    r["kill_parent"] = Outcome(kill(getppid(), 0));
    // What a wallet process does keep working: threads, socket pairs, the IPC socket.
    int value = 0;
    std::thread([&] { value = 42; }).join();
    r["thread"] = std::to_string(value);
    int pair[2];
    r["socketpair"] = Outcome(socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
    r["ipc_write"] = Outcome(write(ipc[1], "ping", 4));
  });
  EXPECT_EQ(results.count("exception"), 0u) << results["exception"];
  EXPECT_EQ(results["socket_inet"], kEperm);
  EXPECT_EQ(results["socket_unix"], kEperm);
  EXPECT_EQ(results["execve"], kEperm);
  EXPECT_EQ(results["fork"], kEperm);
  EXPECT_EQ(results["kill_parent"], kEperm);
  EXPECT_EQ(results["thread"], "42");
  EXPECT_EQ(results["socketpair"], kOk);
  EXPECT_EQ(results["ipc_write"], kOk);
  char buffer[4] = {};
  EXPECT_EQ(read(ipc[0], buffer, sizeof(buffer)), 4);
  EXPECT_EQ(std::string(buffer, 4), "ping");
  close(ipc[0]);
  close(ipc[1]);
}

TEST_F(SandboxTest, NetworkSocketsWhenAllowed) {
  Results results = RunInChild([&](Results& r) {
    minicoin::SandboxOptions options;
    options.read_write = {m_root / "wallet"};
    options.allow_network = true;
    minicoin::ApplySandbox(options);
    r["socket_inet"] = Outcome(socket(AF_INET, SOCK_STREAM, 0));
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    r["execve"] = Outcome(execve("/bin/true", argv, environ));
  });
  EXPECT_EQ(results.count("exception"), 0u) << results["exception"];
  EXPECT_EQ(results["socket_inet"], kOk);
  EXPECT_EQ(results["execve"], kEperm);
}

TEST_F(SandboxTest, RefusedOnceThreadsRun) {
  Results results = RunInChild([&](Results& r) {
    bool stop = false;
    std::thread sleeper([&] {
      while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    try {
      minicoin::ApplySandbox({});
      r["applied"] = "1";
    } catch (const std::logic_error& e) {
      r["refused"] = e.what();
    }
    __atomic_store_n(&stop, true, __ATOMIC_RELEASE);
    sleeper.join();
    // Not sandboxed: files elsewhere still open.
    r["read_etc"] = OpenOutcome("/etc/passwd", O_RDONLY);
  });
  EXPECT_EQ(results.count("applied"), 0u);
  EXPECT_NE(results["refused"].find("before the process starts threads"), std::string::npos) << results["refused"];
  EXPECT_EQ(results["read_etc"], kOk);
}

TEST_F(SandboxTest, MissingFolderIsAClearError) {
  if (minicoin::LandlockAbiVersion() == 0) GTEST_SKIP() << "this kernel has no Landlock: folders are not checked";
  Results results = RunInChild([&](Results& r) {
    minicoin::SandboxOptions options;
    options.read_write = {m_root / "no-such-folder"};
    minicoin::ApplySandbox(options);
    r["applied"] = "1";
  });
  EXPECT_EQ(results.count("applied"), 0u);
  EXPECT_NE(results["exception"].find("no-such-folder"), std::string::npos) << results["exception"];
}

}  // namespace
