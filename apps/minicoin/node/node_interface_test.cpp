// NodeRuntime and the local ipc::Node on a temporary data directory (minicoind's layout: the
// wallets in this process), and the Logger sinks behind handleLog.
#include "node/node_interface.h"

#include "ipc/wallet_error.h"
#include "node/node.h"
#include "primitives/hash.h"
#include "wallet/wallet_directory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

namespace minicoin {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string HashHex(const std::vector<uint8_t>& bytes) {
  std::array<uint8_t, 32> out{};
  if (bytes.size() == 32) std::memcpy(out.data(), bytes.data(), 32);
  return Uint256(out).ToHex();
}

// Collects what callbacks receive, from any thread.
template <typename T>
class Inbox {
 public:
  void Add(T value) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_values.push_back(std::move(value));
  }
  std::vector<T> Values() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_values;
  }
  bool WaitFor(const std::function<bool(const std::vector<T>&)>& done) const {
    return WaitUntil([&] { return done(Values()); });
  }

 private:
  mutable std::mutex m_mutex;
  std::vector<T> m_values;
};

class NodeRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    m_dir = fs::temp_directory_path() / ("minicoin_node_interface_test_" + std::to_string(random()));
    fs::create_directories(m_dir);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(m_dir, ignored);
  }

  // Starts a runtime with `extra` options after -datadir, -regtest and -server=0.
  std::unique_ptr<NodeRuntime> Start(ArgsManager& args, const std::vector<std::string>& extra = {}) {
    NodeOptions options;
    AddNodeOptions(args, options);
    std::vector<std::string> words{"minicoind", "-datadir=" + m_dir.string(), "-regtest", "-server=0"};
    words.insert(words.end(), extra.begin(), extra.end());
    std::vector<const char*> argv;
    for (const std::string& word : words) argv.push_back(word.c_str());
    std::string error;
    EXPECT_TRUE(args.ParseParameters(static_cast<int>(argv.size()), argv.data(), error)) << error;
    EXPECT_TRUE(args.CheckDataDir(error)) << error;
    EXPECT_TRUE(m_log.Open(LoggerOptions{}, error)) << error;
    return NodeRuntime::Start(args, m_log, options);
  }

  fs::path m_dir;
  Logger m_log;
};

TEST_F(NodeRuntimeTest, StatusAndRpc) {
  ArgsManager args;
  auto runtime = Start(args);
  auto node = runtime->MakeNodeInterface();
  ipc::NodeStatus status = node->getStatus();
  EXPECT_EQ(status.tip.height, 0u);
  EXPECT_EQ(status.mempoolTransactions, 0u);
  EXPECT_EQ(status.executable, "minicoind");
  EXPECT_EQ(fs::path(status.dataDir), m_dir / "regtest");
  EXPECT_TRUE(status.walletsEnabled);
  EXPECT_GE(status.uptimeSeconds, 0);
  // A fresh node: its tip (genesis, older than a day) is its best header, it counts as catching
  // up, and it has no peers.
  EXPECT_EQ(status.headers, 0u);
  EXPECT_TRUE(status.initialDownload);
  EXPECT_EQ(status.verificationProgress, 1.0);
  EXPECT_EQ(status.connections, 0u);
  EXPECT_TRUE(node->getPeers().empty());
  EXPECT_TRUE(fs::exists(m_dir / "regtest" / "minicoind.pid"));

  EXPECT_EQ(node->executeRpc("getblockcount", ""), "0");
  EXPECT_EQ(node->executeRpc("getblockhash", "[0]"), "\"" + HashHex(status.tip.hash) + "\"");
  EXPECT_EQ(node->executeRpc("getblockhash", "{\"height\": 0}"), "\"" + HashHex(status.tip.hash) + "\"");
  try {
    node->executeRpc("nosuchmethod", "[]");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Method not found"), std::string::npos) << e.what();
  }
  EXPECT_THROW(node->executeRpc("getblockhash", "[99]"), std::runtime_error);
  try {
    node->executeRpc("getblockcount", "[1,");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not JSON"), std::string::npos) << e.what();
  }
  EXPECT_THROW(node->executeRpc("getblockcount", "7"), std::runtime_error);

  node->shutdown();
  EXPECT_TRUE(runtime->node().ShutdownRequested());
  runtime->Stop();
  // The peer-to-peer layer is gone: no peers, no connections, and no error.
  EXPECT_TRUE(node->getPeers().empty());
  EXPECT_EQ(node->getStatus().connections, 0u);
  node.reset();
  runtime->Stop();  // idempotent
  EXPECT_FALSE(fs::exists(m_dir / "regtest" / "minicoind.pid"));
}

TEST_F(NodeRuntimeTest, SecondRuntimeOnTheSameDataDirFails) {
  ArgsManager args;
  auto runtime = Start(args);
  ArgsManager other_args;
  Logger other_log;
  NodeOptions options;
  AddNodeOptions(other_args, options);
  std::string datadir = "-datadir=" + m_dir.string();
  const char* argv[] = {"minicoind", datadir.c_str(), "-regtest", "-server=0"};
  std::string error;
  ASSERT_TRUE(other_args.ParseParameters(4, argv, error));
  try {
    NodeRuntime::Start(other_args, other_log, options);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Cannot obtain a lock"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::exists(m_dir / "regtest" / "minicoind.pid"));  // the failed start left the running one alone
}

TEST_F(NodeRuntimeTest, WalletsMiningAndNotifications) {
  ArgsManager args;
  auto runtime = Start(args, {"-wallet=startup"});
  auto node = runtime->MakeNodeInterface();
  EXPECT_EQ(node->listWallets(), std::vector<std::string>{"startup"});

  std::unique_ptr<ipc::Wallet> wallet = node->createWallet("w1", "");
  EXPECT_EQ(wallet->getName(), "w1");
  EXPECT_EQ(node->listWallets(), (std::vector<std::string>{"startup", "w1"}));
  try {
    node->getWallet("nope");
    FAIL() << "no error";
  } catch (const WalletError& e) {
    EXPECT_EQ(e.code(), WalletError::kNotFound);
  }
  EXPECT_THROW(node->createWallet("w1", ""), WalletError);
  EXPECT_EQ(node->getWallet("startup")->getName(), "startup");
  runtime->wallets()->Unload("startup");
  EXPECT_EQ(node->listWallets(), std::vector<std::string>{"w1"});
  std::vector<std::string> on_disk = node->listWalletDir();
  EXPECT_NE(std::find(on_disk.begin(), on_disk.end(), "startup"), on_disk.end());
  EXPECT_EQ(node->loadWallet("startup")->getName(), "startup");

  Inbox<uint32_t> tips;
  auto tip_handler = node->handleTipChanged([&](const ipc::BlockRef& tip) { tips.Add(tip.height); });
  Inbox<uint32_t> mempool;
  auto mempool_handler = node->handleMempoolChanged([&](uint32_t count) { mempool.Add(count); });

  // Progress after each block; the hashes returned are the chain's.
  std::string address = wallet->getNewAddress("");
  std::vector<std::pair<uint32_t, uint32_t>> progress;
  auto hashes = node->generateToAddress(3, address, [&](uint32_t done, uint32_t total) {
    progress.emplace_back(done, total);
    return true;
  });
  ASSERT_EQ(hashes.size(), 3u);
  EXPECT_EQ(progress, (std::vector<std::pair<uint32_t, uint32_t>>{{1, 3}, {2, 3}, {3, 3}}));
  EXPECT_EQ(node->getStatus().tip.height, 3u);
  EXPECT_EQ(node->getStatus().headers, 3u);
  EXPECT_FALSE(node->getStatus().initialDownload);  // blocks of today end the download
  EXPECT_EQ(node->getStatus().verificationProgress, 1.0);
  EXPECT_EQ(HashHex(node->getStatus().tip.hash), HashHex(hashes.back()));
  EXPECT_TRUE(tips.WaitFor([](const std::vector<uint32_t>& v) { return !v.empty() && v.back() == 3; }));

  // Progress returning false stops the work.
  auto stopped = node->generateToAddress(5, address, [](uint32_t done, uint32_t) { return done < 2; });
  EXPECT_EQ(stopped.size(), 2u);
  EXPECT_EQ(node->getStatus().tip.height, 5u);
  try {
    node->generateToAddress(1, "notanaddress", {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("Invalid address"), std::string::npos) << e.what();
  }
  EXPECT_EQ(node->getStatus().tip.height, 5u);

  // Coinbases mature after 100 blocks; a payment enters the mempool and leaves it in a block.
  EXPECT_GT(wallet->getBalances().immature, 0u);
  EXPECT_EQ(node->generateToAddress(100, node->getWallet("startup")->getNewAddress(""), {}).size(), 100u);
  EXPECT_TRUE(WaitUntil([&] { return wallet->getBalances().confirmed > 0; }));
  std::string to = node->getWallet("startup")->getNewAddress("");
  wallet->sendToAddress(to, 100'000'000, 0);
  EXPECT_TRUE(mempool.WaitFor([](const std::vector<uint32_t>& v) { return !v.empty() && v.back() == 1; }));
  EXPECT_EQ(node->getStatus().mempoolTransactions, 1u);
  EXPECT_GT(node->getStatus().mempoolBytes, 0u);
  node->generateToAddress(1, to, {});
  EXPECT_TRUE(mempool.WaitFor([](const std::vector<uint32_t>& v) { return !v.empty() && v.back() == 0; }));

  // A destroyed handler gets nothing more.
  tip_handler.reset();
  std::size_t seen = tips.Values().size();
  node->generateToAddress(1, to, {});
  EXPECT_TRUE(runtime->node().notifications().Flush(10s));
  EXPECT_EQ(tips.Values().size(), seen);

  // A shutdown stops mining at once.
  node->shutdown();
  EXPECT_TRUE(node->generateToAddress(3, to, {}).empty());
  mempool_handler.reset();
  wallet.reset();
  node.reset();
  runtime->Stop();
}

TEST_F(NodeRuntimeTest, WithoutWallets) {
  ArgsManager args;
  auto runtime = Start(args, {"-disablewallet"});
  auto node = runtime->MakeNodeInterface();
  EXPECT_FALSE(node->getStatus().walletsEnabled);
  EXPECT_TRUE(node->listWallets().empty());
  EXPECT_TRUE(node->listWalletDir().empty());
  EXPECT_THROW(node->createWallet("w", ""), WalletError);
  EXPECT_THROW(node->getWallet("w"), WalletError);
  EXPECT_THROW(node->executeRpc("getbalance", ""), std::runtime_error);
}

TEST_F(NodeRuntimeTest, BadOptionsFailToStart) {
  ArgsManager args;
  EXPECT_THROW(Start(args, {"-disablewallet", "-wallet=w"}), std::runtime_error);
  ArgsManager ipc_args;
  try {
    Start(ipc_args, {"-ipcbind=unix"});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("-ipcbind needs minicoin-node"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(m_dir / "regtest" / "minicoind.pid"));
}

TEST_F(NodeRuntimeTest, LogLinesByCategory) {
  ArgsManager args;
  auto runtime = Start(args);
  m_log.EnableCategory(LogCategory::kMempool);
  auto node = runtime->MakeNodeInterface();
  Inbox<std::string> all;
  Inbox<std::string> mempool;
  auto all_handler = node->handleLog("", [&](const std::string& line) { all.Add(line); });
  auto mempool_handler = node->handleLog(" mempool , rpc", [&](const std::string& line) { mempool.Add(line); });
  m_log.Info("plain line %d", 1);
  m_log.Debug(LogCategory::kMempool, "mempool line %d", 2);
  m_log.Debug(LogCategory::kRpc, "rpc line %d", 3);  // not enabled: logged nowhere
  auto has = [](const std::string& text) {
    return [text](const std::vector<std::string>& lines) {
      return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(text) != std::string::npos; });
    };
  };
  EXPECT_TRUE(all.WaitFor(has("plain line 1")));
  EXPECT_TRUE(all.WaitFor(has("[mempool] mempool line 2")));
  EXPECT_TRUE(mempool.WaitFor(has("[mempool] mempool line 2")));
  EXPECT_FALSE(has("plain line 1")(mempool.Values()));
  EXPECT_FALSE(has("rpc line 3")(all.Values()));
  for (const std::string& line : all.Values()) EXPECT_NE(line.back(), '\n');

  all_handler.reset();
  EXPECT_EQ(m_log.sink_count(), 1u);
  m_log.Info("after the handler went");
  EXPECT_TRUE(mempool.WaitFor(has("mempool line")));
  EXPECT_FALSE(has("after the handler went")(all.Values()));

  try {
    node->handleLog("mempool,nosuch", [](const std::string&) {});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown log category 'nosuch'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(node->handleLog("none", [](const std::string&) {}), std::runtime_error);
  // A callback that throws (its receiver went away) ends its delivery, nobody else's.
  auto failing = node->handleLog("", [](const std::string&) { throw std::runtime_error("gone"); });
  m_log.Debug(LogCategory::kMempool, "still delivered");
  EXPECT_TRUE(mempool.WaitFor(has("still delivered")));
}

TEST(LoggerSinkTest, RemovalInsideTheSinkAndNoFeedback) {
  Logger log;
  std::string error;
  ASSERT_TRUE(log.Open(LoggerOptions{}, error));
  std::vector<std::string> lines;
  std::unique_ptr<LogSubscription> subscription;
  subscription = log.AddSink(LogCategory::kAll, [&](const std::string& line) {
    lines.push_back(line);
    log.Info("logged by the sink");  // reaches no sink: no recursion
    if (lines.size() == 2) subscription.reset();
  });
  log.Info("one");
  log.Info("two");
  log.Info("three");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("one"), std::string::npos);
  EXPECT_NE(lines[1].find("two"), std::string::npos);
  EXPECT_EQ(log.sink_count(), 0u);

  std::vector<std::string> paused_lines;
  auto other = log.AddSink(LogCategory::kAll, [&](const std::string& line) { paused_lines.push_back(line); });
  {
    LogSinkPause pause;
    log.Info("paused");
  }
  log.Info("live");
  ASSERT_EQ(paused_lines.size(), 1u);
  EXPECT_NE(paused_lines[0].find("live"), std::string::npos);
}

TEST(LoggerSinkTest, ConcurrentLoggingAndRemoval) {
  Logger log;
  std::string error;
  ASSERT_TRUE(log.Open(LoggerOptions{}, error));
  std::atomic<int> calls{0};
  std::atomic<bool> run{true};
  std::vector<std::thread> writers;
  for (int i = 0; i < 4; ++i) {
    writers.emplace_back([&] {
      while (run) log.Info("line");
    });
  }
  for (int round = 0; round < 50; ++round) {
    auto counter = std::make_unique<int>(0);
    int* target = counter.get();
    auto subscription = log.AddSink(LogCategory::kAll, [target, &calls](const std::string&) {
      ++*target;  // would be a use after free if a call outlived the subscription
      ++calls;
    });
    std::this_thread::sleep_for(1ms);
    subscription.reset();
    counter.reset();
  }
  run = false;
  for (std::thread& writer : writers) writer.join();
  EXPECT_GT(calls.load(), 0);
}

}  // namespace
}  // namespace minicoin
