// A real `minicoin-node -ipcfd` spawned by this test as a front end would spawn it: the Node
// interface through Init.makeNode (mining with progress, tip notifications, log lines, a
// wallet's balance), and the node's clean exit when the connection closes or on shutdown.
#include "ipc/partial_init.h"

#include <crossproc/process.h>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

namespace minicoin {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool ExitedWith(const std::optional<int>& status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

class NodeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    m_dir = fs::temp_directory_path() / ("minicoin_node_process_test_" + std::to_string(random()));
    fs::create_directories(m_dir);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(m_dir, ignored);
  }

  crossproc::Spawned<ipc::Init> SpawnNode(const std::string& executable) {
    crossproc::SpawnOptions options;
    std::string datadir = m_dir.string();
    options.command_line = [datadir](const std::string& exe, int fd) {
      return std::vector<std::string>{exe, "-ipcfd", std::to_string(fd), "-datadir=" + datadir, "-regtest",
                                       "-server=0", "-debug=validation", "-printtoconsole=0"};
    };
    options.connection.name = "node-process-test";
    return crossproc::SpawnProcess<ipc::Init>(executable, options);
  }

  fs::path m_dir;
};

TEST_F(NodeProcessTest, FrontEndOverIpcfdAndExitWhenItGoes) {
  crossproc::Spawned<ipc::Init> spawned = SpawnNode(MINICOIN_NODE_EXE);
  std::unique_ptr<ipc::Node> node = spawned.init->makeNode();
  ipc::NodeStatus status = node->getStatus();
  EXPECT_EQ(status.executable, "minicoin-node");
  EXPECT_EQ(fs::path(status.dataDir), m_dir / "regtest");
  EXPECT_EQ(status.tip.height, 0u);
  EXPECT_TRUE(status.walletsEnabled);

  std::mutex mutex;
  std::vector<uint32_t> tips;
  std::vector<std::string> lines;
  auto tip_handler = node->handleTipChanged([&](const ipc::BlockRef& tip) {
    std::lock_guard<std::mutex> lock(mutex);
    tips.push_back(tip.height);
  });
  auto log_handler = node->handleLog("validation", [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(line);
  });

  std::unique_ptr<ipc::Wallet> wallet = node->createWallet("gui", "");
  EXPECT_EQ(node->listWallets(), std::vector<std::string>{"gui"});
  std::string address = wallet->getNewAddress("");

  std::vector<std::pair<uint32_t, uint32_t>> progress;
  std::vector<std::vector<uint8_t>> hashes = node->generateToAddress(3, address, [&](uint32_t done, uint32_t total) {
    progress.emplace_back(done, total);
    return true;
  });
  EXPECT_EQ(hashes.size(), 3u);
  EXPECT_EQ(progress, (std::vector<std::pair<uint32_t, uint32_t>>{{1, 3}, {2, 3}, {3, 3}}));
  EXPECT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return !tips.empty() && tips.back() == 3;
  }));
  EXPECT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(mutex);
    return std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
      return line.find("[validation] connected block") != std::string::npos && line.find("at height 3") != std::string::npos;
    });
  }));
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (const std::string& line : lines) EXPECT_NE(line.find("[validation]"), std::string::npos) << line;
  }
  EXPECT_TRUE(WaitUntil([&] { return wallet->getBalances().immature == 3 * 50 * 100'000'000ull; }))
      << wallet->getBalances().immature;
  EXPECT_EQ(node->executeRpc("getblockcount", ""), "3");

  // The front end goes away: the node shuts down by itself and exits 0.
  log_handler.reset();
  tip_handler.reset();
  wallet.reset();
  node.reset();
  spawned.init.reset();
  auto started = std::chrono::steady_clock::now();
  spawned.connection.reset();
  std::optional<int> exit_status = spawned.process->WaitFor(30s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  EXPECT_TRUE(ExitedWith(exit_status, 0)) << (exit_status ? *exit_status : -1);
  std::cout << "minicoin-node exited " << took.count() << " ms after the connection closed\n";
  EXPECT_FALSE(fs::exists(m_dir / "regtest" / "minicoin-node.pid"));

  // The chain was flushed: a new node over the same directory starts at height 3.
  crossproc::Spawned<ipc::Init> again = SpawnNode(MINICOIN_NODE_EXE);
  EXPECT_EQ(again.init->makeNode()->getStatus().tip.height, 3u);
}

TEST_F(NodeProcessTest, ShutdownFromTheFrontEnd) {
  crossproc::Spawned<ipc::Init> spawned = SpawnNode(MINICOIN_NODE_EXE);
  std::unique_ptr<ipc::Node> node = spawned.init->makeNode();
  node->shutdown();
  std::optional<int> exit_status = spawned.process->WaitFor(30s);
  EXPECT_TRUE(ExitedWith(exit_status, 0)) << (exit_status ? *exit_status : -1);
  EXPECT_TRUE(WaitUntil([&] { return !spawned.connection->connected(); }));
  EXPECT_THROW(node->getStatus(), std::exception);
}

TEST_F(NodeProcessTest, MinicoindRejectsIpcfd) {
  std::string datadir = "-datadir=" + m_dir.string();
  crossproc::SpawnedSocket spawned = crossproc::SpawnWithSocket(MINICOIND_EXE, [&](const std::string& exe, int fd) {
    return std::vector<std::string>{exe, "-ipcfd", std::to_string(fd), datadir};
  });
  std::optional<int> exit_status = spawned.process->WaitFor(30s);
  ::close(spawned.fd);
  EXPECT_TRUE(ExitedWith(exit_status, 1)) << (exit_status ? *exit_status : -1);
  EXPECT_FALSE(fs::exists(m_dir / "minicoind.pid"));
}

TEST_F(NodeProcessTest, BadIpcfdValues) {
  for (const char* value : {"x", "-3", "987"}) {
    std::string datadir = "-datadir=" + m_dir.string();
    std::string fd_text = value;
    crossproc::SpawnedSocket spawned = crossproc::SpawnWithSocket(MINICOIN_NODE_EXE, [&](const std::string& exe, int) {
      return std::vector<std::string>{exe, "-ipcfd", fd_text, datadir};
    });
    std::optional<int> exit_status = spawned.process->WaitFor(30s);
    ::close(spawned.fd);
    EXPECT_TRUE(ExitedWith(exit_status, 1)) << value;
  }
}

}  // namespace
}  // namespace minicoin
