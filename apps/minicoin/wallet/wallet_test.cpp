// Tests of the wallet against a real chain state and mempool (TestChain).
#include "wallet/wallet.h"

#include "chain/test_util.h"
#include "crypto/key.h"
#include "ipc/wallet_error.h"
#include "primitives/address.h"
#include "validation/block_check.h"
#include "wallet/test_chain.h"
#include "wallet/wallet_db.h"
#include "wallet/wallet_loader.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <cstdio>
#include <thread>

namespace minicoin {
namespace {

namespace fs = std::filesystem;

XOnlyPublicKey KeyOf(const std::string& address) {
  std::optional<XOnlyPublicKey> key = DecodeAddress(address);
  EXPECT_TRUE(key.has_value()) << address;
  return key.value_or(XOnlyPublicKey{});
}

Uint256 ToHash(const std::vector<uint8_t>& bytes) {
  std::array<uint8_t, 32> out{};
  if (bytes.size() == 32) std::memcpy(out.data(), bytes.data(), 32);
  return Uint256(out);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::string content;
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return content;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) content.append(buffer, n);
  std::fclose(file);
  return content;
}

int ErrorCode(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const WalletError& e) {
    return e.code();
  }
  return 0;
}

class WalletTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = fs::temp_directory_path() /
            ("minicoin_wallet_test_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    m_chain = std::make_shared<test::TestChain>(m_dir / "chain");
    m_options.clock = [this] { return m_now.load(); };
    m_options.kdf_iterations = 1000;
  }
  void TearDown() override {
    m_chain.reset();
    fs::remove_all(m_dir);
  }

  fs::path WalletDir(const std::string& name) { return m_dir / "wallets" / name; }
  std::shared_ptr<Wallet> Create(const std::string& name, const std::string& passphrase = "") {
    return Wallet::Open(WalletDir(name), name, m_chain, m_options, true, passphrase);
  }
  std::shared_ptr<Wallet> Reopen(const std::string& name) {
    return Wallet::Open(WalletDir(name), name, m_chain, m_options, false, "");
  }
  void Flush() { ASSERT_TRUE(m_chain->Flush()); }
  // A coinbase to `to`, then blocks to someone else until it is mature (100 confirmations).
  void FundMature(const XOnlyPublicKey& to) {
    m_chain->Mine(to);
    m_chain->MineBlocks(static_cast<int>(kCoinbaseMaturity) - 1, m_other);
    Flush();
  }

  fs::path m_dir;
  std::shared_ptr<test::TestChain> m_chain;
  std::atomic<int64_t> m_now{1'800'000'000};
  WalletOptions m_options;
  PrivateKey m_other_key = PrivateKey::Derive(std::vector<uint8_t>(32, 7), 0);
  XOnlyPublicKey m_other = m_other_key.PublicKey();
};

TEST_F(WalletTest, AddressesAreTheSeedsKeysInOrderAndNeverReused) {
  std::vector<std::string> addresses;
  {
    auto wallet = Create("w");
    for (int i = 0; i < 3; ++i) addresses.push_back(wallet->getNewAddress("label"));
    ipc::WalletInfo info = wallet->getWalletInfo();
    EXPECT_EQ(info.addressCount, 3u);
    EXPECT_EQ(info.keypoolSize, kDefaultLookahead);
    EXPECT_FALSE(info.encrypted);
  }
  std::vector<uint8_t> seed;
  {
    WalletDatabase db(WalletDir("w") / "wallet.sqlite");
    seed = db.ReadSetting("seed").value();
    EXPECT_EQ(db.ReadKeys().size(), 3u + kDefaultLookahead);
  }
  ASSERT_EQ(seed.size(), 32u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(addresses[i], EncodeAddress(PrivateKey::Derive(seed, i).PublicKey())) << i;
  }
  auto wallet = Reopen("w");
  EXPECT_EQ(wallet->getNewAddress(""), EncodeAddress(PrivateKey::Derive(seed, 3).PublicKey()));
}

TEST_F(WalletTest, ImmatureCoinbaseBecomesConfirmedAtOneHundredConfirmations) {
  auto wallet = Create("w");
  XOnlyPublicKey key = KeyOf(wallet->getNewAddress(""));
  m_chain->Mine(key);
  m_chain->MineBlocks(static_cast<int>(kCoinbaseMaturity) - 2, m_other);
  Flush();
  ipc::Balances balances = wallet->getBalances();
  EXPECT_EQ(balances.immature, kBlockSubsidy);
  EXPECT_EQ(balances.confirmed, 0u);
  EXPECT_EQ(wallet->listTransactions(10, 0).at(0).category, "immature");
  m_chain->Mine(m_other);
  Flush();
  balances = wallet->getBalances();
  EXPECT_EQ(balances.immature, 0u);
  EXPECT_EQ(balances.confirmed, kBlockSubsidy);
  std::vector<ipc::WalletTransaction> txs = wallet->listTransactions(10, 0);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].category, "generate");
  EXPECT_EQ(txs[0].confirmations, static_cast<int32_t>(kCoinbaseMaturity));
  EXPECT_EQ(txs[0].blockHeight, 1u);
  ipc::WalletInfo info = wallet->getWalletInfo();
  EXPECT_EQ(info.lastScannedHeight, m_chain->Height());
}

TEST_F(WalletTest, SendMakesChangeToANewKeyAndPaysTheFeeRate) {
  auto wallet = Create("w");
  XOnlyPublicKey key = KeyOf(wallet->getNewAddress(""));
  FundMature(key);
  const uint64_t amount = 10 * kCoin;
  const uint64_t rate = 2000;
  std::vector<uint8_t> txid = wallet->sendToAddress(EncodeAddress(m_other), amount, rate);
  ASSERT_TRUE(m_chain->mempool().Contains(ToHash(txid)));
  Transaction tx = m_chain->mempool().Get(ToHash(txid))->tx;
  ASSERT_EQ(tx.inputs.size(), 1u);
  ASSERT_EQ(tx.outputs.size(), 2u);
  EXPECT_EQ(tx.outputs[0].amount, amount);
  EXPECT_EQ(tx.outputs[0].pubkey, m_other);
  EXPECT_NE(tx.outputs[1].pubkey, key);  // change goes to a new key
  uint64_t fee = kBlockSubsidy - amount - tx.outputs[1].amount;
  EXPECT_EQ(fee, (rate * tx.Encode().size() + 999) / 1000);
  Flush();
  // The change is the wallet's own: trusted at once.
  EXPECT_EQ(wallet->getBalances().confirmed, kBlockSubsidy - amount - fee);
  EXPECT_EQ(wallet->getBalances().unconfirmed, 0u);
  std::vector<ipc::WalletTransaction> txs = wallet->listTransactions(1, 0);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].category, "send");
  EXPECT_EQ(txs[0].amount, -static_cast<int64_t>(amount + fee));
  EXPECT_EQ(txs[0].fee, fee);
  EXPECT_EQ(txs[0].address, EncodeAddress(m_other));
  EXPECT_EQ(txs[0].confirmations, 0);

  // A second send spends the unconfirmed change; then both confirm.
  std::vector<uint8_t> second = wallet->sendToAddress(EncodeAddress(m_other), amount, 0);
  ASSERT_TRUE(m_chain->mempool().Contains(ToHash(second)));
  m_chain->Mine(m_other);
  Flush();
  txs = wallet->listTransactions(10, 0);
  ASSERT_EQ(txs.size(), 3u);
  EXPECT_EQ(txs[0].confirmations, 1);
  EXPECT_EQ(txs[1].confirmations, 1);
  uint64_t left = 0;
  for (const ipc::UnspentOutput& unspent : wallet->listUnspent()) {
    EXPECT_TRUE(unspent.spendable);
    left += unspent.amount;
  }
  EXPECT_EQ(left, wallet->getBalances().confirmed);
  EXPECT_LT(left, kBlockSubsidy - 2 * amount);
}

TEST_F(WalletTest, SendErrors) {
  auto wallet = Create("w");
  XOnlyPublicKey key = KeyOf(wallet->getNewAddress(""));
  const std::string to = EncodeAddress(m_other);
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress(to, kCoin, 0); }), WalletError::kInsufficientFunds);
  FundMature(key);
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress(to, kBlockSubsidy, 0); }), WalletError::kInsufficientFunds);
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress("mcrt1notanaddress", kCoin, 0); }), WalletError::kInvalidAddress);
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress(to, 0, 0); }), WalletError::kInvalidParameter);
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress(to, 5, 1000); }), WalletError::kInvalidParameter);
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress(to, kMaxMoney + 1, 0); }), WalletError::kInvalidParameter);
  EXPECT_TRUE(m_chain->mempool().Txids().empty());
  EXPECT_EQ(wallet->getBalances().confirmed, kBlockSubsidy);
  // Spending everything but the fee works.
  std::vector<uint8_t> txid = wallet->sendToAddress(to, kBlockSubsidy - 200'000, 0);
  EXPECT_TRUE(m_chain->mempool().Contains(ToHash(txid)));
}

TEST_F(WalletTest, RefusedSendIsAbandonedAndFreesItsCoins) {
  auto wallet = Create("w");
  FundMature(KeyOf(wallet->getNewAddress("")));
  m_chain->SetBroadcastRefusal("min-fee-not-met");
  try {
    wallet->sendToAddress(EncodeAddress(m_other), kCoin, 0);
    FAIL() << "the send should be refused";
  } catch (const WalletError& e) {
    EXPECT_EQ(e.code(), WalletError::kWalletError);
    EXPECT_NE(e.message().find("min-fee-not-met"), std::string::npos) << e.message();
  }
  std::vector<ipc::WalletTransaction> txs = wallet->listTransactions(1, 0);
  ASSERT_EQ(txs.at(0).category, "send");
  EXPECT_EQ(txs[0].confirmations, -1);  // abandoned
  EXPECT_EQ(wallet->getBalances().confirmed, kBlockSubsidy);
  m_chain->SetBroadcastRefusal("");
  std::vector<uint8_t> txid = wallet->sendToAddress(EncodeAddress(m_other), kCoin, 0);
  EXPECT_TRUE(m_chain->mempool().Contains(ToHash(txid)));
}

TEST_F(WalletTest, EncryptionLocksTheSeed) {
  auto wallet = Create("w", "correct horse");
  ipc::WalletInfo info = wallet->getWalletInfo();
  EXPECT_TRUE(info.encrypted);
  EXPECT_EQ(info.unlockedUntil, 0);
  // Locked: addresses still come from the derived keys.
  XOnlyPublicKey key = KeyOf(wallet->getNewAddress(""));
  FundMature(key);
  const std::string to = EncodeAddress(m_other);
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress(to, kCoin, 0); }), WalletError::kUnlockNeeded);
  EXPECT_EQ(ErrorCode([&] { wallet->walletPassphrase("wrong", 60); }), WalletError::kPassphraseIncorrect);
  EXPECT_EQ(ErrorCode([&] { wallet->encryptWallet("again"); }), WalletError::kWrongEncryptionState);
  wallet->walletPassphrase("correct horse", 60);
  EXPECT_EQ(wallet->getWalletInfo().unlockedUntil, m_now.load() + 60);
  wallet->sendToAddress(to, kCoin, 0);
  m_now += 61;  // the unlock times out
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress(to, kCoin, 0); }), WalletError::kUnlockNeeded);
  EXPECT_EQ(wallet->getWalletInfo().unlockedUntil, 0);
  wallet->walletPassphrase("correct horse", 60);
  wallet->walletLock();
  EXPECT_EQ(ErrorCode([&] { wallet->sendToAddress(to, kCoin, 0); }), WalletError::kUnlockNeeded);
  // The keys run out while locked after the lookahead is used up.
  for (uint32_t i = 0; i < kDefaultLookahead; ++i) wallet->getNewAddress("");
  EXPECT_EQ(ErrorCode([&] { wallet->getNewAddress(""); }), -12);
  wallet->walletPassphrase("correct horse", 60);
  EXPECT_FALSE(wallet->getNewAddress("").empty());
}

TEST_F(WalletTest, EncryptWalletRemovesTheClearSeedAndSurvivesReopen) {
  std::vector<uint8_t> seed;
  {
    auto wallet = Create("w");
    EXPECT_EQ(ErrorCode([&] { wallet->walletPassphrase("x", 10); }), WalletError::kWrongEncryptionState);
    EXPECT_EQ(ErrorCode([&] { wallet->walletLock(); }), WalletError::kWrongEncryptionState);
    {
      WalletDatabase db(WalletDir("w") / "wallet.sqlite");
      seed = db.ReadSetting("seed").value();
    }
    wallet->encryptWallet("pass phrase");
    EXPECT_TRUE(wallet->getWalletInfo().encrypted);
  }
  // The seed's bytes appear nowhere in the wallet's files.
  for (const char* file : {"wallet.sqlite", "wallet.sqlite-wal"}) {
    std::string content = ReadFile(WalletDir("w") / file);
    EXPECT_EQ(content.find(std::string(seed.begin(), seed.end())), std::string::npos) << file;
  }
  auto wallet = Reopen("w");
  EXPECT_TRUE(wallet->getWalletInfo().encrypted);
  EXPECT_EQ(ErrorCode([&] { wallet->walletPassphrase("pass phras", 10); }), WalletError::kPassphraseIncorrect);
  wallet->walletPassphrase("pass phrase", 10);
  EXPECT_GT(wallet->getWalletInfo().unlockedUntil, 0);
}

TEST_F(WalletTest, ReorgUnconfirmsAPaymentAndTheMempoolTakesItBack) {
  auto wallet = Create("w");
  XOnlyPublicKey key = KeyOf(wallet->getNewAddress(""));
  // Someone else's mature coin pays the wallet.
  Block funding = m_chain->Mine(m_other);
  m_chain->MineBlocks(static_cast<int>(kCoinbaseMaturity), m_other);
  Transaction payment =
      test::MakeSpend(OutPoint{funding.transactions[0].Txid(), 0}, m_other_key, 3 * kCoin, key);
  ASSERT_EQ(m_chain->broadcastTransaction(payment.Encode()), "");
  Flush();
  EXPECT_EQ(wallet->getBalances().unconfirmed, 3 * kCoin);
  uint32_t fork = m_chain->Height();
  m_chain->Mine(m_other);
  Flush();
  EXPECT_EQ(wallet->getBalances().confirmed, 3 * kCoin);
  EXPECT_EQ(wallet->listTransactions(1, 0).at(0).confirmations, 1);
  // A longer branch without the payment replaces the block.
  m_chain->MineBranch(fork, 2, m_other);
  ASSERT_EQ(m_chain->Height(), fork + 2);
  Flush();
  ipc::Balances balances = wallet->getBalances();
  EXPECT_EQ(balances.confirmed, 0u);
  EXPECT_EQ(balances.unconfirmed, 3 * kCoin);
  std::vector<ipc::WalletTransaction> txs = wallet->listTransactions(1, 0);
  EXPECT_EQ(txs.at(0).confirmations, 0);
  EXPECT_TRUE(txs.at(0).blockHash.empty());
  EXPECT_EQ(wallet->getWalletInfo().lastScannedHeight, fork + 2);
  EXPECT_TRUE(m_chain->mempool().Contains(payment.Txid()));
  m_chain->Mine(m_other);
  Flush();
  EXPECT_EQ(wallet->getBalances().confirmed, 3 * kCoin);
}

TEST_F(WalletTest, ConfirmedDoubleSpendConflictsTheUnconfirmedSend) {
  std::vector<uint8_t> seed;
  Block funding;
  auto wallet = Create("w");
  XOnlyPublicKey key = KeyOf(wallet->getNewAddress(""));
  funding = m_chain->Mine(key);
  m_chain->MineBlocks(static_cast<int>(kCoinbaseMaturity) - 1, m_other);
  Flush();
  {
    WalletDatabase db(WalletDir("w") / "wallet.sqlite");
    seed = db.ReadSetting("seed").value();
  }
  Uint256 first = ToHash(wallet->sendToAddress(EncodeAddress(m_other), kCoin, 0));
  // The node forgets it, and another copy of the wallet spends the same coin in a block.
  m_chain->mempool().Expire(std::numeric_limits<int64_t>::max());
  Flush();
  EXPECT_EQ(wallet->listTransactions(1, 0).at(0).confirmations, 0);  // inactive
  Transaction other = test::MakeSpend(OutPoint{funding.transactions[0].Txid(), 0}, PrivateKey::Derive(seed, 0),
                                      kBlockSubsidy - 100'000, m_other);
  uint32_t fork = m_chain->Height();
  m_chain->Mine(m_other, {other});
  Flush();
  std::vector<ipc::WalletTransaction> txs = wallet->listTransactions(10, 0);
  ASSERT_EQ(txs.size(), 3u);
  EXPECT_EQ(ToHash(txs[0].txid), other.Txid());
  EXPECT_EQ(txs[0].confirmations, 1);
  EXPECT_EQ(ToHash(txs[1].txid), first);
  EXPECT_EQ(txs[1].confirmations, -1);  // conflicted
  EXPECT_EQ(wallet->getBalances().confirmed, 0u);
  // The block leaves the chain: the conflict ends, the double spend is unconfirmed again.
  m_chain->MineBranch(fork, 2, m_other);
  Flush();
  txs = wallet->listTransactions(10, 0);
  EXPECT_EQ(txs[0].confirmations, 0);
  EXPECT_EQ(txs[1].confirmations, 0);
  EXPECT_TRUE(m_chain->mempool().Contains(other.Txid()));
}

TEST_F(WalletTest, ReorgWhileUnloadedIsFoundAtLoad) {
  XOnlyPublicKey key;
  uint32_t fork = 0;
  {
    auto wallet = Create("w");
    key = KeyOf(wallet->getNewAddress(""));
    fork = m_chain->Height();
    m_chain->Mine(key);
    Flush();
    EXPECT_EQ(wallet->getBalances().immature, kBlockSubsidy);
  }
  m_chain->MineBranch(fork, 3, m_other);
  auto wallet = Reopen("w");
  EXPECT_EQ(wallet->getBalances().immature, 0u);
  std::vector<ipc::WalletTransaction> txs = wallet->listTransactions(10, 0);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].category, "orphan");
  EXPECT_EQ(txs[0].confirmations, -1);
  EXPECT_EQ(wallet->getWalletInfo().lastScannedHeight, fork + 3);
}

TEST_F(WalletTest, LoadCatchesUpWithScanBlocksIncludingLookaheadKeys) {
  std::vector<uint8_t> seed;
  XOnlyPublicKey handed_out;
  {
    auto wallet = Create("w");
    handed_out = KeyOf(wallet->getNewAddress(""));
  }
  {
    WalletDatabase db(WalletDir("w") / "wallet.sqlite");
    seed = db.ReadSetting("seed").value();
  }
  // While unloaded: a payment to the handed-out key and one to key 7, never handed out (as if
  // handed out before a crash lost the record).
  XOnlyPublicKey lookahead = PrivateKey::Derive(seed, 7).PublicKey();
  m_chain->Mine(handed_out);
  m_chain->Mine(lookahead);
  m_chain->MineBlocks(static_cast<int>(kCoinbaseMaturity), m_other);
  int scans = m_chain->scan_calls();
  auto wallet = Reopen("w");
  EXPECT_GT(m_chain->scan_calls(), scans);
  EXPECT_EQ(m_chain->block_fetches(), 0);  // node-side matching only
  EXPECT_EQ(wallet->getBalances().confirmed, 2 * kBlockSubsidy);
  EXPECT_EQ(wallet->getWalletInfo().lastScannedHeight, m_chain->Height());
  // Key 7 is used now: the lookahead extends past it and new addresses skip nothing used.
  EXPECT_EQ(wallet->getWalletInfo().keypoolSize, kDefaultLookahead + 7 - 1);
  // A rescan finds the same, without duplicates.
  EXPECT_EQ(wallet->rescan(0), m_chain->Height());
  EXPECT_EQ(wallet->listTransactions(100, 0).size(), 2u);
  EXPECT_EQ(wallet->getBalances().confirmed, 2 * kBlockSubsidy);
  EXPECT_EQ(ErrorCode([&] { wallet->rescan(m_chain->Height() + 1); }), WalletError::kInvalidParameter);
}

TEST_F(WalletTest, ScanInSmallBatchesFindsSpendsOfEarlierMatches) {
  m_options.scan_batch_blocks = 3;
  std::vector<uint8_t> seed;
  XOnlyPublicKey key;
  {
    auto wallet = Create("w");
    key = KeyOf(wallet->getNewAddress(""));
  }
  Block funding = m_chain->Mine(key);
  m_chain->MineBlocks(static_cast<int>(kCoinbaseMaturity), m_other);
  {
    WalletDatabase db(WalletDir("w") / "wallet.sqlite");
    seed = db.ReadSetting("seed").value();
  }
  // Someone holding the seed (another copy of the wallet) spends the coin while it is unloaded.
  Transaction spend =
      test::MakeSpend(OutPoint{funding.transactions[0].Txid(), 0}, PrivateKey::Derive(seed, 0), kCoin, m_other);
  m_chain->Mine(m_other, {spend});
  int scans = m_chain->scan_calls();
  auto wallet = Reopen("w");
  EXPECT_GE(m_chain->scan_calls() - scans, 30);  // about 102 blocks, 3 at a time
  EXPECT_EQ(wallet->getBalances().confirmed, 0u);
  std::vector<ipc::WalletTransaction> txs = wallet->listTransactions(10, 0);
  ASSERT_EQ(txs.size(), 2u);
  EXPECT_EQ(txs[0].amount, -static_cast<int64_t>(kBlockSubsidy));
  EXPECT_EQ(txs[0].category, "send");
}

TEST_F(WalletTest, SendRecordedBeforeBroadcastIsBroadcastAgainAtLoad) {
  std::vector<uint8_t> txid;
  {
    auto wallet = Create("w");
    FundMature(KeyOf(wallet->getNewAddress("")));
    m_chain->SetBroadcastThrows(true);
    try {
      wallet->sendToAddress(EncodeAddress(m_other), kCoin, 0);
      FAIL() << "the send should fail";
    } catch (const WalletError& e) {
      EXPECT_EQ(e.code(), WalletError::kWalletError);
      EXPECT_NE(e.message().find("broadcast again"), std::string::npos) << e.message();
    }
    txid = wallet->listTransactions(1, 0).at(0).txid;
    EXPECT_FALSE(m_chain->mempool().Contains(ToHash(txid)));
  }
  m_chain->SetBroadcastThrows(false);
  auto wallet = Reopen("w");
  EXPECT_TRUE(m_chain->mempool().Contains(ToHash(txid)));
  EXPECT_EQ(wallet->listTransactions(1, 0).at(0).txid, txid);
  EXPECT_EQ(wallet->listTransactions(1, 0).at(0).category, "send");
}

TEST_F(WalletTest, ReopenKeepsTransactionsAndBalances) {
  ipc::Balances before;
  std::size_t count = 0;
  {
    auto wallet = Create("w");
    FundMature(KeyOf(wallet->getNewAddress("")));
    wallet->sendToAddress(EncodeAddress(m_other), 2 * kCoin, 0);
    Flush();
    before = wallet->getBalances();
    count = wallet->listTransactions(100, 0).size();
  }
  auto wallet = Reopen("w");
  ipc::Balances after = wallet->getBalances();
  EXPECT_EQ(after.confirmed, before.confirmed);
  EXPECT_EQ(after.unconfirmed, before.unconfirmed);
  EXPECT_EQ(wallet->listTransactions(100, 0).size(), count);
}

TEST_F(WalletTest, SecondOpenOfTheSameFolderFails) {
  auto wallet = Create("w");
  try {
    Reopen("w");
    FAIL() << "a second open should fail";
  } catch (const WalletError& e) {
    EXPECT_EQ(e.code(), WalletError::kWalletError);
    EXPECT_NE(e.message().find("in use"), std::string::npos) << e.message();
  }
  wallet->Close();
  EXPECT_EQ(ErrorCode([&] { wallet->getBalances(); }), WalletError::kNotFound);
  EXPECT_NO_THROW(Reopen("w"));
}

// Not a WalletTest: the fixture starts threads, and a child forked from a process with threads
// may hang on a lock another thread held (ctest runs each test in a process of its own).
TEST(WalletDatabaseTest, SurvivesAKillWithoutClose) {
  const fs::path dir = fs::temp_directory_path() / ("minicoin-wallet-kill-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "killed.sqlite";
  XOnlyPublicKey other{};
  other[0] = 7;
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Only SQLite runs in the child: write records, then die without closing anything.
    WalletDatabase db(file);
    KeyRecord key;
    key.index = 0;
    key.pubkey = other;
    key.used = true;
    db.WriteKey(key);
    TxRecord tx;
    tx.txid = Uint256(std::array<uint8_t, 32>{1, 2, 3});
    tx.raw = {9, 9, 9};
    tx.state = TxState::kMempool;
    db.WriteTransaction(tx);
    db.Begin();
    db.WriteIntSetting("uncommitted", 1);  // never committed: must not appear
    ::raise(SIGKILL);
    ::_exit(1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  WalletDatabase db(file);
  std::vector<KeyRecord> keys = db.ReadKeys();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].pubkey, other);
  EXPECT_TRUE(keys[0].used);
  std::vector<TxRecord> txs = db.ReadTransactions();
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].raw, (std::vector<uint8_t>{9, 9, 9}));
  EXPECT_EQ(txs[0].state, TxState::kMempool);
  EXPECT_FALSE(db.ReadIntSetting("uncommitted").has_value());
  fs::remove_all(dir);
}

TEST_F(WalletTest, BalanceCallbacksFireAfterChangesUntilTheHandlerGoes) {
  auto wallet = Create("w");
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<ipc::Balances> seen;
  auto handler = wallet->handleBalanceChanged([&](const ipc::Balances& balances) {
    std::lock_guard lock(mutex);
    seen.push_back(balances);
    cv.notify_all();
  });
  m_chain->Mine(KeyOf(wallet->getNewAddress("")));
  Flush();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return !seen.empty(); }));
    EXPECT_EQ(seen.back().immature, kBlockSubsidy);
  }
  handler.reset();
  std::size_t count = seen.size();
  m_chain->Mine(KeyOf(wallet->getNewAddress("")));
  Flush();
  EXPECT_EQ(wallet->getBalances().immature, 2 * kBlockSubsidy);
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.size(), count);
}

TEST_F(WalletTest, LoaderNamesAndStates) {
  std::unique_ptr<ipc::WalletLoader> loader = MakeWalletLoader(m_dir, m_chain, m_options);
  std::unique_ptr<ipc::Wallet> a = loader->createWallet("a", "");
  EXPECT_EQ(a->getName(), "a");
  loader->createWallet("b", "secret");
  EXPECT_EQ(ErrorCode([&] { loader->createWallet("a", ""); }), WalletError::kAlreadyExists);
  EXPECT_EQ(ErrorCode([&] { loader->loadWallet("a"); }), WalletError::kAlreadyLoaded);
  EXPECT_EQ(ErrorCode([&] { loader->loadWallet("missing"); }), WalletError::kNotFound);
  EXPECT_EQ(ErrorCode([&] { loader->unloadWallet("missing"); }), WalletError::kNotFound);
  EXPECT_EQ(ErrorCode([&] { loader->createWallet("../escape", ""); }), WalletError::kInvalidParameter);
  EXPECT_EQ(ErrorCode([&] { loader->createWallet("", ""); }), WalletError::kInvalidParameter);
  EXPECT_EQ(loader->listWallets(), (std::vector<std::string>{"a", "b"}));
  loader->unloadWallet("a");
  EXPECT_EQ(ErrorCode([&] { a->getBalances(); }), WalletError::kNotFound);
  EXPECT_EQ(loader->getWallet("a"), nullptr);
  EXPECT_NE(loader->getWallet("b"), nullptr);
  EXPECT_EQ(loader->listWallets(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(loader->listWalletDir(), (std::vector<std::string>{"a", "b"}));
  // The same data directory in a second loader (another process): the loaded wallet is refused.
  std::unique_ptr<ipc::WalletLoader> other = MakeWalletLoader(m_dir, m_chain, m_options);
  EXPECT_EQ(ErrorCode([&] { other->loadWallet("b"); }), WalletError::kWalletError);
  EXPECT_NO_THROW(other->loadWallet("a"));
  other->shutdown();
  loader->shutdown();
  EXPECT_TRUE(loader->listWallets().empty());
  EXPECT_EQ(m_chain->subscriber_count(), 0u);
}

TEST_F(WalletTest, TwoWalletsPayEachOther) {
  std::unique_ptr<ipc::WalletLoader> loader = MakeWalletLoader(m_dir, m_chain, m_options);
  std::unique_ptr<ipc::Wallet> a = loader->createWallet("a", "");
  std::unique_ptr<ipc::Wallet> b = loader->createWallet("b", "");
  FundMature(KeyOf(a->getNewAddress("")));
  a->sendToAddress(b->getNewAddress(""), 7 * kCoin, 0);
  Flush();
  EXPECT_EQ(b->getBalances().unconfirmed, 7 * kCoin);
  EXPECT_EQ(b->listTransactions(1, 0).at(0).category, "receive");
  EXPECT_EQ(b->listTransactions(1, 0).at(0).amount, static_cast<int64_t>(7 * kCoin));
  m_chain->Mine(m_other);
  Flush();
  EXPECT_EQ(b->getBalances().confirmed, 7 * kCoin);
  b->sendToAddress(a->getNewAddress(""), 2 * kCoin, 0);
  m_chain->Mine(m_other);
  Flush();
  EXPECT_LT(b->getBalances().confirmed, 5 * kCoin);
  EXPECT_GT(b->getBalances().confirmed, 5 * kCoin - 10'000);
  loader->shutdown();
}

TEST_F(WalletTest, SignRawTransactionSignsTheInputsOfItsKeys) {
  auto wallet = Create("w");
  XOnlyPublicKey mine = KeyOf(wallet->getNewAddress(""));
  FundMature(mine);  // height 1 pays the wallet, heights 2..100 pay m_other
  ChainState& state = m_chain->state();
  OutPoint own{state.ReadBlock(*state.AtHeight(1))->transactions[0].Txid(), 0};
  OutPoint foreign{state.ReadBlock(*state.AtHeight(2))->transactions[0].Txid(), 0};
  const uint32_t txs_before = wallet->getWalletInfo().txCount;

  // The wallet's coin alone: complete, the txid unchanged, accepted by the node.
  Transaction tx;
  tx.inputs = {TxIn{own, {}}};
  tx.outputs = {TxOut{kBlockSubsidy - 100'000, m_other}};
  ipc::SignedTransaction result = wallet->signRawTransaction(tx.Encode(), {});
  EXPECT_TRUE(result.complete);
  EXPECT_TRUE(result.errors.empty());
  Transaction signed_tx = Transaction::Decode(result.tx);
  EXPECT_EQ(signed_tx.Txid(), tx.Txid());
  EXPECT_TRUE(VerifySchnorr(mine, signed_tx.SignatureHash(0), signed_tx.inputs[0].signature));
  EXPECT_EQ(wallet->getWalletInfo().txCount, txs_before);  // neither recorded
  EXPECT_TRUE(m_chain->mempool().Txids().empty());         // nor broadcast

  // With another key's coin first: that input stays unsigned, the transaction is incomplete.
  Transaction both;
  both.inputs = {TxIn{foreign, {}}, TxIn{own, {}}};
  both.outputs = {TxOut{kCoin, m_other}};
  ipc::SignedTransaction partly = wallet->signRawTransaction(both.Encode(), {});
  EXPECT_FALSE(partly.complete);
  ASSERT_EQ(partly.errors.size(), 1u);
  EXPECT_EQ(partly.errors[0].index, 0u);
  EXPECT_NE(partly.errors[0].message.find("does not have the key"), std::string::npos) << partly.errors[0].message;
  Transaction partly_tx = Transaction::Decode(partly.tx);
  EXPECT_EQ(partly_tx.inputs[0].signature, SchnorrSignature{});
  EXPECT_TRUE(VerifySchnorr(mine, partly_tx.SignatureHash(1), partly_tx.inputs[1].signature));

  // Once the first transaction is in the mempool, the coin it spends is gone for the node.
  EXPECT_EQ(m_chain->broadcastTransaction(result.tx), "");
  result = wallet->signRawTransaction(both.Encode(), {});
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_EQ(result.errors[1].message, "Input not found or already spent");

  // Signed beforehand by its owner, the foreign input keeps its signature and counts as complete.
  Transaction foreign_only;
  foreign_only.inputs = {TxIn{foreign, {}}};
  foreign_only.outputs = {TxOut{kCoin, mine}};
  foreign_only.inputs[0].signature = m_other_key.Sign(foreign_only.SignatureHash(0));
  result = wallet->signRawTransaction(foreign_only.Encode(), {});
  EXPECT_TRUE(result.complete);
  EXPECT_EQ(Transaction::Decode(result.tx), foreign_only);

  // An output the node does not know: missing, unless the caller says which key it pays.
  Transaction unknown;
  unknown.inputs = {TxIn{OutPoint{Sha256(std::vector<uint8_t>{9}), 3}, {}}};
  unknown.outputs = {TxOut{kCoin, m_other}};
  result = wallet->signRawTransaction(unknown.Encode(), {});
  EXPECT_FALSE(result.complete);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message, "Input not found or already spent");
  const Uint256& unknown_txid = unknown.inputs[0].prevout.txid;
  ipc::PrevOut described{std::vector<uint8_t>(unknown_txid.bytes().begin(), unknown_txid.bytes().end()), 3,
                         std::vector<uint8_t>(mine.begin(), mine.end())};
  result = wallet->signRawTransaction(unknown.Encode(), {described});
  EXPECT_TRUE(result.complete);
  EXPECT_TRUE(VerifySchnorr(mine, unknown.SignatureHash(0), Transaction::Decode(result.tx).inputs[0].signature));

  // A description that contradicts the node's coin, a malformed one, and bytes that are no
  // transaction are refused.
  ipc::PrevOut contradicting{std::vector<uint8_t>(foreign.txid.bytes().begin(), foreign.txid.bytes().end()), 0,
                             std::vector<uint8_t>(mine.begin(), mine.end())};
  EXPECT_EQ(ErrorCode([&] { wallet->signRawTransaction(foreign_only.Encode(), {contradicting}); }),
            WalletError::kDeserializationError);
  ipc::PrevOut short_key{described.txid, 3, std::vector<uint8_t>(31, 1)};
  EXPECT_EQ(ErrorCode([&] { wallet->signRawTransaction(unknown.Encode(), {short_key}); }),
            WalletError::kInvalidParameter);
  EXPECT_EQ(ErrorCode([&] { wallet->signRawTransaction({1, 2, 3}, {}); }), WalletError::kDeserializationError);
}

TEST_F(WalletTest, SignRawTransactionNeedsAnUnlockedWallet) {
  auto wallet = Create("w", "secret");
  XOnlyPublicKey mine = KeyOf(wallet->getNewAddress(""));
  FundMature(mine);
  Transaction tx;
  const Uint256 coinbase = m_chain->state().ReadBlock(*m_chain->state().AtHeight(1))->transactions[0].Txid();
  tx.inputs = {TxIn{OutPoint{coinbase, 0}, {}}};
  tx.outputs = {TxOut{kCoin, m_other}};
  EXPECT_EQ(ErrorCode([&] { wallet->signRawTransaction(tx.Encode(), {}); }), WalletError::kUnlockNeeded);
  wallet->walletPassphrase("secret", 60);
  EXPECT_TRUE(wallet->signRawTransaction(tx.Encode(), {}).complete);
}

}  // namespace
}  // namespace minicoin
