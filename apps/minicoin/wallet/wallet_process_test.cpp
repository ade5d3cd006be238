// A real minicoin-wallet process behind a crossproc connection: spawned with -ipcfd (the node's
// Chain crosses to it, notifications and balance callbacks come back), killed and restarted, and
// attached to a listening "node" with -ipcconnect.
#include "crypto/key.h"
#include "ipc/partial_init.h"
#include "ipc/wallet_error.h"
#include "primitives/address.h"
#include "validation/block_check.h"
#include "validation/coins.h"
#include "wallet/test_chain.h"

#include <crossproc/listener.h>
#include <crossproc/process.h>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <thread>

namespace minicoin {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Uint256 ToHash(const std::vector<uint8_t>& bytes) {
  std::array<uint8_t, 32> out{};
  if (bytes.size() == 32) std::memcpy(out.data(), bytes.data(), 32);
  return Uint256(out);
}

// Waits up to `timeout` for `done`.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A Chain that forwards to the shared TestChain (makeChain returns a unique_ptr).
class ChainRef final : public ipc::Chain {
 public:
  explicit ChainRef(std::shared_ptr<test::TestChain> chain) : m_chain(std::move(chain)) {}
  ipc::BlockRef getTip() override { return m_chain->getTip(); }
  std::optional<ipc::BlockRef> getBlockRef(uint32_t height) override { return m_chain->getBlockRef(height); }
  std::optional<ipc::BlockRef> findActiveBlock(const std::vector<uint8_t>& hash) override {
    return m_chain->findActiveBlock(hash);
  }
  std::optional<std::vector<uint8_t>> getBlock(const std::vector<uint8_t>& hash) override { return m_chain->getBlock(hash); }
  std::vector<std::vector<uint8_t>> getBlocks(uint32_t start, uint32_t count) override {
    return m_chain->getBlocks(start, count);
  }
  ipc::ScanResult scanBlocks(uint32_t start, uint32_t stop, const std::vector<std::vector<uint8_t>>& keys,
                             const std::vector<ipc::OutPointRef>& outpoints, uint32_t max_blocks) override {
    return m_chain->scanBlocks(start, stop, keys, outpoints, max_blocks);
  }
  std::vector<ipc::CoinInfo> findCoins(const std::vector<ipc::OutPointRef>& outpoints) override {
    return m_chain->findCoins(outpoints);
  }
  std::string broadcastTransaction(const std::vector<uint8_t>& tx) override { return m_chain->broadcastTransaction(tx); }
  uint64_t estimateFee() override { return m_chain->estimateFee(); }
  bool isInMempool(const std::vector<uint8_t>& txid) override { return m_chain->isInMempool(txid); }
  std::unique_ptr<ipc::Handler> handleNotifications(const std::shared_ptr<ipc::ChainNotifications>& n) override {
    return m_chain->handleNotifications(n);
  }
  void logMessage(const std::string& message) override { m_chain->logMessage(message); }

 private:
  std::shared_ptr<test::TestChain> m_chain;
};

class WalletProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = fs::temp_directory_path() /
            ("minicoin_wallet_process_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir / "data");
    m_chain = std::make_shared<test::TestChain>(m_dir / "chain");
  }
  void TearDown() override {
    m_chain.reset();
    fs::remove_all(m_dir);
  }

  crossproc::Spawned<ipc::Init> Spawn() {
    crossproc::SpawnOptions options;
    std::string datadir = "-datadir=" + (m_dir / "data").string();
    options.command_line = [datadir](const std::string& exe, int fd) {
      return std::vector<std::string>{exe, "-ipcfd", std::to_string(fd), datadir};
    };
    options.connection.name = "test-node";
    return crossproc::SpawnProcess<ipc::Init>(MINICOIN_WALLET_EXE, options);
  }

  fs::path m_dir;
  std::shared_ptr<test::TestChain> m_chain;
  XOnlyPublicKey m_other = PrivateKey::Derive(std::vector<uint8_t>(32, 5), 0).PublicKey();
};

TEST_F(WalletProcessTest, SpawnedWalletFollowsTheChainAndCallsBack) {
  auto child = Spawn();
  EXPECT_EQ(child.init->makeEcho()->echo("ping"), "ping");
  std::unique_ptr<ipc::WalletLoader> loader = child.init->makeWalletLoader(m_chain);
  std::unique_ptr<ipc::Wallet> wallet = loader->createWallet("w", "");
  EXPECT_EQ(wallet->getName(), "w");
  EXPECT_EQ(m_chain->subscriber_count(), 1u);

  std::mutex mutex;
  std::condition_variable cv;
  ipc::Balances last;
  int calls = 0;
  std::unique_ptr<ipc::Handler> callback = wallet->handleBalanceChanged([&](const ipc::Balances& balances) {
    std::lock_guard lock(mutex);
    last = balances;
    ++calls;
    cv.notify_all();
  });

  XOnlyPublicKey key = DecodeAddress(wallet->getNewAddress("")).value();
  m_chain->Mine(key);
  ASSERT_TRUE(m_chain->Flush());
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, 20s, [&] { return calls > 0; }));
    EXPECT_EQ(last.immature, kBlockSubsidy);  // called back in this process from the wallet's
  }
  m_chain->MineBlocks(static_cast<int>(kCoinbaseMaturity) - 1, m_other);
  ASSERT_TRUE(m_chain->Flush());
  EXPECT_EQ(wallet->getBalances().confirmed, kBlockSubsidy);

  // The wallet broadcasts through the Chain it got from this process.
  std::vector<uint8_t> txid = wallet->sendToAddress(EncodeAddress(m_other), 3 * kCoin, 0);
  EXPECT_TRUE(m_chain->mempool().Contains(ToHash(txid)));
  try {
    wallet->sendToAddress(EncodeAddress(m_other), 1000 * kCoin, 0);
    FAIL() << "expected insufficient funds";
  } catch (const WalletError& e) {  // rebuilt on this side with its code
    EXPECT_EQ(e.code(), WalletError::kInsufficientFunds);
    EXPECT_EQ(e.message(), "Insufficient funds");
  }
  ipc::WalletInfo info = wallet->getWalletInfo();
  EXPECT_EQ(info.txCount, 2u);
  EXPECT_EQ(info.lastScannedHeight, m_chain->Height());

  callback.reset();
  wallet.reset();
  loader->unloadWallet("w");
  EXPECT_TRUE(WaitUntil([&] { return m_chain->subscriber_count() == 0; }));
  wallet = loader->loadWallet("w");
  EXPECT_EQ(wallet->listTransactions(10, 0).size(), 2u);
  wallet.reset();
  loader.reset();

  // Dropping the connection ends the child.
  std::unique_ptr<crossproc::Process> process = std::move(child.process);
  child.init.reset();
  child.connection.reset();
  std::optional<int> status = process->WaitFor(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST_F(WalletProcessTest, KilledWalletLosesNothingAndRebroadcasts) {
  std::vector<uint8_t> txid;
  {
    auto child = Spawn();
    std::unique_ptr<ipc::WalletLoader> loader = child.init->makeWalletLoader(m_chain);
    std::unique_ptr<ipc::Wallet> wallet = loader->createWallet("w", "");
    m_chain->Mine(DecodeAddress(wallet->getNewAddress("")).value());
    m_chain->MineBlocks(static_cast<int>(kCoinbaseMaturity) - 1, m_other);
    ASSERT_TRUE(m_chain->Flush());
    txid = wallet->sendToAddress(EncodeAddress(m_other), kCoin, 0);
    child.process->Signal(SIGKILL);
    std::optional<int> status = child.process->WaitFor(10s);
    ASSERT_TRUE(status && WIFSIGNALED(*status));
    EXPECT_THROW(wallet->getBalances(), std::exception);  // the process is gone
  }
  // The node loses the transaction meanwhile (as after its own restart).
  m_chain->mempool().Expire(std::numeric_limits<int64_t>::max());
  ASSERT_FALSE(m_chain->mempool().Contains(ToHash(txid)));
  ASSERT_TRUE(m_chain->Flush());
  auto child = Spawn();
  std::unique_ptr<ipc::WalletLoader> loader = child.init->makeWalletLoader(m_chain);
  std::unique_ptr<ipc::Wallet> wallet = loader->loadWallet("w");  // the folder lock died with the process
  EXPECT_TRUE(m_chain->mempool().Contains(ToHash(txid)));        // broadcast again at load
  std::vector<ipc::WalletTransaction> txs = wallet->listTransactions(10, 0);
  ASSERT_EQ(txs.size(), 2u);
  EXPECT_EQ(txs[0].txid, txid);
  EXPECT_EQ(txs[0].confirmations, 0);
  EXPECT_EQ(txs[0].category, "send");
  std::string address = wallet->getNewAddress("");
  // No key handed out before the kill comes again (address 0 and the change key 1 were used).
  for (const ipc::UnspentOutput& unspent : wallet->listUnspent()) EXPECT_NE(unspent.address, address);
}

// The "node" side of an attached wallet: offers its chain and takes the wallet loader.
class AttachInit final : public ipc::PartialInit {
 public:
  explicit AttachInit(std::shared_ptr<test::TestChain> chain) : PartialInit("test-node"), m_chain(std::move(chain)) {}
  std::unique_ptr<ipc::Chain> makeChain() override { return std::make_unique<ChainRef>(m_chain); }
  std::unique_ptr<ipc::Handler> registerWalletLoader(const std::shared_ptr<ipc::WalletLoader>& loader) override;

  std::shared_ptr<ipc::WalletLoader> loader() {
    std::lock_guard lock(m_mutex);
    return m_loader;
  }
  bool registered() {
    std::lock_guard lock(m_mutex);
    return m_registered;
  }

 private:
  friend class Registration;
  std::shared_ptr<test::TestChain> m_chain;
  std::mutex m_mutex;
  std::shared_ptr<ipc::WalletLoader> m_loader;
  bool m_registered = false;
};

class Registration final : public ipc::Handler {
 public:
  explicit Registration(AttachInit& init) : m_init(init) {}
  ~Registration() override { disconnect(); }
  void disconnect() override {
    std::lock_guard lock(m_init.m_mutex);
    m_init.m_registered = false;
    m_init.m_loader.reset();
  }

 private:
  AttachInit& m_init;
};

std::unique_ptr<ipc::Handler> AttachInit::registerWalletLoader(const std::shared_ptr<ipc::WalletLoader>& loader) {
  std::lock_guard lock(m_mutex);
  m_loader = loader;
  m_registered = true;
  return std::make_unique<Registration>(*this);
}

TEST_F(WalletProcessTest, AttachedWalletServesUntilSignalledOrTheNodeGoes) {
  const std::string socket = (m_dir / "node.sock").string();
  auto init = std::make_shared<AttachInit>(m_chain);
  auto listener = std::make_unique<crossproc::Listener>(
      socket, [&] { return crossproc::MakeServer<ipc::Init>(std::shared_ptr<ipc::Init>(init)); });
  std::string datadir = "-datadir=" + (m_dir / "data").string();
  auto command = [&](const std::string& exe, int) {
    return std::vector<std::string>{exe, "-ipcconnect=unix:" + socket, datadir, "-wallet=a", "-createwallet"};
  };

  // Detach on SIGTERM: exit 0, registration released.
  {
    crossproc::SpawnedSocket child = crossproc::SpawnWithSocket(MINICOIN_WALLET_EXE, command);
    ::close(child.fd);
    ASSERT_TRUE(WaitUntil([&] { return init->registered(); }));
    std::shared_ptr<ipc::WalletLoader> loader = init->loader();
    EXPECT_EQ(loader->listWallets(), (std::vector<std::string>{"a"}));
    std::unique_ptr<ipc::Wallet> wallet = loader->getWallet("a");
    ASSERT_NE(wallet, nullptr);
    m_chain->Mine(DecodeAddress(wallet->getNewAddress("")).value());
    ASSERT_TRUE(m_chain->Flush());
    EXPECT_EQ(wallet->getBalances().immature, kBlockSubsidy);
    wallet.reset();
    loader.reset();
    child.process->Signal(SIGTERM);
    std::optional<int> status = child.process->WaitFor(20s);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_FALSE(init->registered());
  }
  // The node goes away: exit 1. The wallet exists now, so -createwallet is not needed.
  {
    auto load = [&](const std::string& exe, int) {
      return std::vector<std::string>{exe, "-ipcconnect=unix:" + socket, datadir, "-wallet=a"};
    };
    crossproc::SpawnedSocket child = crossproc::SpawnWithSocket(MINICOIN_WALLET_EXE, load);
    ::close(child.fd);
    ASSERT_TRUE(WaitUntil([&] { return init->registered(); }));
    std::unique_ptr<ipc::Wallet> wallet = init->loader()->getWallet("a");
    ASSERT_NE(wallet, nullptr);
    EXPECT_EQ(wallet->getBalances().immature, kBlockSubsidy);
    wallet.reset();
    listener->DisconnectIncoming();
    std::optional<int> status = child.process->WaitFor(20s);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 1);
  }
  listener.reset();
  // No node at all: a clear error.
  {
    crossproc::SpawnedSocket child = crossproc::SpawnWithSocket(MINICOIN_WALLET_EXE, command);
    ::close(child.fd);
    std::optional<int> status = child.process->WaitFor(20s);
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(WEXITSTATUS(*status), 1);
  }
}

}  // namespace
}  // namespace minicoin
