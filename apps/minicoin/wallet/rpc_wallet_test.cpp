// Tests of the wallet RPC methods through an RpcTable, over a loader and a TestChain.
#include "wallet/rpc_wallet.h"

#include "crypto/key.h"
#include "primitives/address.h"
#include "primitives/hash.h"
#include "rpc/protocol.h"
#include "validation/block_check.h"
#include "validation/coins.h"
#include "wallet/test_chain.h"
#include "wallet/wallet_loader.h"

#include <crossproc/connection.h>
#include <crossproc/listener.h>
#include <crossproc/server.h>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

namespace minicoin {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Hex(const std::vector<uint8_t>& bytes) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t byte : bytes) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 15];
  }
  return hex;
}

class WalletRpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_dir = fs::temp_directory_path() / ("minicoin_wallet_rpc_test_" + std::string(info->name()) + "_" +
                                         std::to_string(::getpid()));
    fs::remove_all(m_dir);
    fs::create_directories(m_dir);
    m_chain = std::make_shared<test::TestChain>(m_dir / "chain");
    WalletOptions options;
    options.kdf_iterations = 1000;
    options.clock = [this] { return m_now.load(); };
    m_loader = std::shared_ptr<ipc::WalletLoader>(MakeWalletLoader(m_dir, m_chain, options));
    m_wallets = std::make_unique<LocalWalletDirectory>(m_loader);
    RegisterWalletRpc(m_table, *m_wallets);
  }
  void TearDown() override {
    m_loader->shutdown();
    m_wallets.reset();
    m_loader.reset();
    m_chain.reset();
    fs::remove_all(m_dir);
  }

  json Call(const std::string& method, json params = json::array(), const std::string& uri = "/") {
    RpcRequest request;
    request.method = method;
    request.uri = uri;
    return m_table.Execute(request, params);
  }
  // The error code of a call that must fail (0 if it did not).
  int ErrorOf(const std::string& method, json params = json::array(), const std::string& uri = "/",
              std::string* message = nullptr) {
    try {
      Call(method, std::move(params), uri);
    } catch (const RpcError& e) {
      if (message != nullptr) *message = e.what();
      return e.code;
    }
    return 0;
  }
  void Mine(const std::string& address, int count = 1) {
    for (int i = 0; i < count; ++i) m_chain->Mine(DecodeAddress(address).value());
    ASSERT_TRUE(m_chain->Flush());
  }

  fs::path m_dir;
  std::atomic<int64_t> m_now{1'800'000'000};
  std::shared_ptr<test::TestChain> m_chain;
  std::shared_ptr<ipc::WalletLoader> m_loader;
  std::unique_ptr<LocalWalletDirectory> m_wallets;
  RpcTable m_table;
  std::string m_other = EncodeAddress(PrivateKey::Derive(std::vector<uint8_t>(32, 9), 0).PublicKey());
};

TEST_F(WalletRpcTest, WalletSelection) {
  std::string message;
  EXPECT_EQ(ErrorOf("getbalance", json::array(), "/", &message), kRpcWalletNotFound);
  EXPECT_EQ(message, "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet.");
  EXPECT_EQ(Call("createwallet", json{"a"}), (json{{"name", "a"}, {"warning", ""}}));
  EXPECT_EQ(Call("getbalance"), 0.0);
  EXPECT_EQ(Call("createwallet", json{{"wallet_name", "b"}}), (json{{"name", "b"}, {"warning", ""}}));
  EXPECT_EQ(ErrorOf("getbalance", json::array(), "/", &message), kRpcWalletNotSpecified);
  EXPECT_EQ(message, "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).");
  EXPECT_EQ(Call("getwalletinfo", json::array(), "/wallet/b")["walletname"], "b");
  EXPECT_EQ(ErrorOf("getbalance", json::array(), "/wallet/c", &message), kRpcWalletNotFound);
  EXPECT_EQ(message, "Requested wallet does not exist or is not loaded");
  EXPECT_EQ(Call("listwallets"), (json{"a", "b"}));

  EXPECT_EQ(ErrorOf("unloadwallet", json{"a"}, "/wallet/b"), kRpcInvalidParameter);
  EXPECT_EQ(ErrorOf("unloadwallet"), kRpcInvalidParameter);
  EXPECT_EQ(Call("unloadwallet", json::array(), "/wallet/b"), (json{{"warning", ""}}));
  EXPECT_EQ(Call("listwallets"), (json{"a"}));
  EXPECT_EQ(Call("getwalletinfo")["walletname"], "a");  // the only one again
  EXPECT_EQ(ErrorOf("unloadwallet", json{"b"}), kRpcWalletNotFound);
  EXPECT_EQ(Call("listwalletdir"), (json{{"wallets", json{json{{"name", "a"}}, json{{"name", "b"}}}}}));
  EXPECT_EQ(Call("loadwallet", json{"b"}), (json{{"name", "b"}, {"warning", ""}}));
  EXPECT_EQ(ErrorOf("loadwallet", json{"b"}), kRpcWalletAlreadyLoaded);
  EXPECT_EQ(ErrorOf("loadwallet", json{"nothere"}), kRpcWalletNotFound);
  EXPECT_EQ(ErrorOf("createwallet", json{"a"}), kRpcWalletAlreadyExists);
  EXPECT_EQ(ErrorOf("createwallet", json{"c", true}), kRpcWalletError);
  EXPECT_EQ(ErrorOf("createwallet", json{"c", false, true}), kRpcWalletError);
  EXPECT_EQ(ErrorOf("createwallet", json{"../c"}), kRpcInvalidParameter);
  EXPECT_EQ(ErrorOf("createwallet"), kRpcMiscError);  // missing argument: help
}

TEST_F(WalletRpcTest, ReceiveSendAndList) {
  Call("createwallet", json{"w"});
  std::string address = Call("getnewaddress").get<std::string>();
  ASSERT_TRUE(DecodeAddress(address).has_value());
  Mine(address);
  EXPECT_EQ(Call("getbalances")["mine"], (json{{"trusted", 0.0}, {"untrusted_pending", 0.0}, {"immature", 50.0}}));
  Mine(m_other, static_cast<int>(kCoinbaseMaturity) - 1);
  EXPECT_EQ(Call("getbalance"), 50.0);
  json info = Call("getwalletinfo");
  EXPECT_EQ(info["balance"], 50.0);
  EXPECT_EQ(info["txcount"], 1);
  EXPECT_EQ(info["keypoolsize"], kDefaultLookahead);
  EXPECT_FALSE(info.contains("unlocked_until"));
  EXPECT_EQ(info["lastprocessedblock"]["height"], m_chain->Height());
  EXPECT_EQ(info["lastprocessedblock"]["hash"], m_chain->state().Tip().hash.ToHex());

  EXPECT_EQ(ErrorOf("sendtoaddress", json{"nonsense", 1}), kRpcInvalidAddressOrKey);
  EXPECT_EQ(ErrorOf("sendtoaddress", json{m_other, 0}), kRpcTypeError);
  EXPECT_EQ(ErrorOf("sendtoaddress", json{m_other, 60}), kRpcWalletInsufficientFunds);
  EXPECT_EQ(ErrorOf("sendtoaddress", json{m_other, -1}), kRpcTypeError);
  std::string txid = Call("sendtoaddress", json{m_other, "1.5"}).get<std::string>();
  EXPECT_EQ(txid.size(), 64u);
  json verbose = Call("sendtoaddress", json{{"address", m_other}, {"amount", 0.25}, {"fee_rate", 3}, {"verbose", true}});
  EXPECT_EQ(verbose["txid"].get<std::string>().size(), 64u);
  ASSERT_TRUE(m_chain->Flush());

  json list = Call("listtransactions");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["category"], "generate");  // oldest first
  EXPECT_EQ(list[0]["amount"], 50.0);
  EXPECT_EQ(list[0]["confirmations"], kCoinbaseMaturity);
  EXPECT_EQ(list[0]["blockheight"], 1);
  EXPECT_EQ(list[1]["category"], "send");
  EXPECT_EQ(list[1]["txid"], txid);
  EXPECT_EQ(list[1]["address"], m_other);
  EXPECT_LT(list[1]["amount"].get<double>(), -1.5);
  EXPECT_LT(list[1]["fee"].get<double>(), 0.0);
  EXPECT_NEAR(list[1]["amount"].get<double>() - list[1]["fee"].get<double>(), -1.5, 1e-9);
  EXPECT_EQ(list[1]["confirmations"], 0);
  EXPECT_FALSE(list[1].contains("blockhash"));
  EXPECT_EQ(list[2]["txid"], verbose["txid"]);
  // The last one only; then skipping it.
  EXPECT_EQ(Call("listtransactions", json{"*", 1})[0]["txid"], verbose["txid"]);
  EXPECT_EQ(Call("listtransactions", json{"*", 1, 1})[0]["txid"], txid);
  EXPECT_EQ(ErrorOf("listtransactions", json{"*", -1}), kRpcInvalidParameter);

  // Unspent: the unconfirmed change only with minconf 0.
  EXPECT_TRUE(Call("listunspent").empty());
  json unspent = Call("listunspent", json{0});
  ASSERT_EQ(unspent.size(), 1u);
  EXPECT_EQ(unspent[0]["txid"], verbose["txid"]);
  EXPECT_EQ(unspent[0]["safe"], true);
  Mine(m_other);
  unspent = Call("listunspent");
  ASSERT_EQ(unspent.size(), 1u);
  EXPECT_EQ(unspent[0]["confirmations"], 1);
  EXPECT_NEAR(unspent[0]["amount"].get<double>(), Call("getbalance").get<double>(), 1e-9);

  json rescan = Call("rescanblockchain", json{0});
  EXPECT_EQ(rescan, (json{{"start_height", 0}, {"stop_height", m_chain->Height()}}));
  EXPECT_EQ(Call("listtransactions", json{"*", 100}).size(), 3u);
  EXPECT_EQ(ErrorOf("rescanblockchain", json{m_chain->Height() + 1}), kRpcInvalidParameter);
}

TEST_F(WalletRpcTest, EncryptionFlow) {
  Call("createwallet", json{"w"});
  std::string address = Call("getnewaddress").get<std::string>();
  Mine(address);
  Mine(m_other, static_cast<int>(kCoinbaseMaturity) - 1);
  EXPECT_EQ(ErrorOf("walletpassphrase", json{"x", 10}), kRpcWalletWrongEncState);
  EXPECT_EQ(ErrorOf("walletlock"), kRpcWalletWrongEncState);
  EXPECT_EQ(ErrorOf("encryptwallet", json{""}), kRpcInvalidParameter);
  EXPECT_TRUE(Call("encryptwallet", json{"secret"}).is_string());
  EXPECT_EQ(Call("getwalletinfo")["unlocked_until"], 0);
  EXPECT_EQ(ErrorOf("sendtoaddress", json{m_other, 1}), kRpcWalletUnlockNeeded);
  EXPECT_EQ(ErrorOf("walletpassphrase", json{"wrong", 10}), kRpcWalletPassphraseIncorrect);
  EXPECT_EQ(ErrorOf("walletpassphrase", json{"secret", -1}), kRpcInvalidParameter);
  EXPECT_TRUE(Call("walletpassphrase", json{"secret", 30}).is_null());
  EXPECT_EQ(Call("getwalletinfo")["unlocked_until"], m_now.load() + 30);
  EXPECT_EQ(Call("sendtoaddress", json{m_other, 1}).get<std::string>().size(), 64u);
  EXPECT_TRUE(Call("walletlock").is_null());
  EXPECT_EQ(ErrorOf("sendtoaddress", json{m_other, 1}), kRpcWalletUnlockNeeded);
  EXPECT_EQ(ErrorOf("encryptwallet", json{"again"}), kRpcWalletWrongEncState);
  EXPECT_EQ(Call("createwallet", json{"e", false, false, "pw"})["name"], "e");
  EXPECT_EQ(Call("getwalletinfo", json::array(), "/wallet/e")["unlocked_until"], 0);
}

TEST_F(WalletRpcTest, SignRawTransactionWithWallet) {
  Call("createwallet", json{"w"});
  std::string address = Call("getnewaddress").get<std::string>();
  Mine(address);
  Mine(m_other, static_cast<int>(kCoinbaseMaturity) - 1);
  const Uint256 coinbase = m_chain->state().ReadBlock(*m_chain->state().AtHeight(1))->transactions[0].Txid();
  Transaction tx;
  tx.inputs = {TxIn{OutPoint{coinbase, 0}, {}}};
  tx.outputs = {TxOut{kCoin, DecodeAddress(m_other).value()}};
  std::string hex = Hex(tx.Encode());

  json result = Call("signrawtransactionwithwallet", json{hex});
  EXPECT_EQ(result["complete"], true);
  EXPECT_FALSE(result.contains("errors"));
  ASSERT_TRUE(result["hex"].is_string());
  EXPECT_EQ(result["hex"].get<std::string>().size(), hex.size());
  EXPECT_NE(result["hex"], hex);
  EXPECT_EQ(Call("signrawtransactionwithwallet", json{hex, nullptr, "ALL"})["complete"], true);
  json named{{"hexstring", hex}, {"sighashtype", "DEFAULT"}};
  EXPECT_EQ(Call("signrawtransactionwithwallet", named)["complete"], true);

  // An output the node does not know: an error entry, unless prevtxs describes it.
  Uint256 ghost = Sha256(std::vector<uint8_t>{4});
  Transaction unknown;
  unknown.inputs = {TxIn{OutPoint{ghost, 1}, {}}};
  unknown.outputs = tx.outputs;
  std::string unknown_hex = Hex(unknown.Encode());
  result = Call("signrawtransactionwithwallet", json{unknown_hex});
  EXPECT_EQ(result["complete"], false);
  ASSERT_EQ(result["errors"].size(), 1u);
  EXPECT_EQ(result["errors"][0]["txid"], ghost.ToHex());
  EXPECT_EQ(result["errors"][0]["vout"], 1);
  EXPECT_EQ(result["errors"][0]["signature"], std::string(128, '0'));
  EXPECT_EQ(result["errors"][0]["error"], "Input not found or already spent");
  json prevtxs = json::array({json{{"txid", ghost.ToHex()}, {"vout", 1}, {"address", address}}});
  EXPECT_EQ(Call("signrawtransactionwithwallet", json{unknown_hex, prevtxs})["complete"], true);

  // Errors: bad hex, bad prevtxs, a sighash type minicoin does not have, a locked wallet.
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet"), kRpcMiscError);
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet", json{"zz"}), kRpcDeserializationError);
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet", json{hex.substr(2)}), kRpcDeserializationError);
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet", json{5}), kRpcTypeError);
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet", json{hex, "x"}), kRpcTypeError);
  json no_address = json::array({json{{"txid", ghost.ToHex()}, {"vout", 1}}});
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet", json{hex, no_address}), kRpcTypeError);
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet",
                    json{hex, json::array({json{{"txid", "ab"}, {"vout", 1}, {"address", address}}})}),
            kRpcInvalidParameter);
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet",
                    json{hex, json::array({json{{"txid", ghost.ToHex()}, {"vout", -1}, {"address", address}}})}),
            kRpcInvalidParameter);
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet",
                    json{hex, json::array({json{{"txid", ghost.ToHex()}, {"vout", 1}, {"address", "nonsense"}}})}),
            kRpcInvalidAddressOrKey);
  std::string message;
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet", json{hex, nullptr, "NONE"}, "/", &message), kRpcInvalidParameter);
  EXPECT_EQ(message, "'NONE' is not a valid sighash parameter.");
  EXPECT_TRUE(Call("encryptwallet", json{"secret"}).is_string());
  EXPECT_EQ(ErrorOf("signrawtransactionwithwallet", json{hex}), kRpcWalletUnlockNeeded);
}

TEST_F(WalletRpcTest, HelpStartsWithTheUsageLine) {
  for (const std::string& name : m_table.Methods()) {
    const RpcMethod* method = m_table.Find(name);
    ASSERT_NE(method, nullptr);
    EXPECT_EQ(method->help.rfind(name, 0), 0u) << name;
    EXPECT_EQ(method->category, "Wallet") << name;
  }
  EXPECT_EQ(m_table.Methods().size(), 18u);
}

TEST_F(WalletRpcTest, ListWalletBalancesOfRealWallets) {
  EXPECT_EQ(Call("listwalletbalances"), (json{{"wallets", json::array()}}));
  Call("createwallet", json{"a"});
  Call("createwallet", json{"b"});
  std::string address = Call("getnewaddress", json::array(), "/wallet/b").get<std::string>();
  Mine(address);
  json result = Call("listwalletbalances");
  ASSERT_EQ(result["wallets"].size(), 2u);
  EXPECT_EQ(result["wallets"][0], (json{{"name", "a"}, {"mine", {{"trusted", 0.0}, {"untrusted_pending", 0.0}, {"immature", 0.0}}}}));
  EXPECT_EQ(result["wallets"][1], (json{{"name", "b"}, {"mine", {{"trusted", 0.0}, {"untrusted_pending", 0.0}, {"immature", 50.0}}}}));
  EXPECT_EQ(Call("listwalletbalances", json{{"timeout", 0.5}})["wallets"].size(), 2u);
  EXPECT_EQ(ErrorOf("listwalletbalances", json{0}), kRpcInvalidParameter);
  EXPECT_EQ(ErrorOf("listwalletbalances", json{-1}), kRpcInvalidParameter);
  EXPECT_EQ(ErrorOf("listwalletbalances", json{3601}), kRpcInvalidParameter);
  EXPECT_EQ(ErrorOf("listwalletbalances", json{"5"}), kRpcTypeError);
  EXPECT_EQ(ErrorOf("listwalletbalances", json{1, 2}), kRpcMiscError);
}

// A wallet that answers getBalances as told and implements nothing else.
class FakeWallet final : public ipc::Wallet {
 public:
  enum class Mode { kAnswer, kThrow, kHang, kMeet };
  // Shared by the fakes of one test: releases hung calls, and lets kMeet calls see each other.
  struct Gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;      // guarded by mutex; hung calls return
    int met = 0;            // guarded by mutex; kMeet calls that have started
    int canceled_seen = 0;  // guarded by mutex; hung calls that were told they were canceled
  };

  FakeWallet(std::string name, Mode mode, uint64_t confirmed, std::shared_ptr<Gate> gate)
      : m_name(std::move(name)), m_mode(mode), m_confirmed(confirmed), m_gate(std::move(gate)) {}

  std::string getName() override { return m_name; }
  ipc::Balances getBalances() override {
    using namespace std::chrono_literals;
    std::unique_lock<std::mutex> lock(m_gate->mutex);
    switch (m_mode) {
      case Mode::kAnswer:
        break;
      case Mode::kThrow:
        throw WalletError(WalletError::kWalletError, "the database is locked");
      case Mode::kHang: {
        // Until the test opens the gate (bounded), or the caller cancels the call.
        auto deadline = std::chrono::steady_clock::now() + 20s;
        while (!m_gate->open && std::chrono::steady_clock::now() < deadline) {
          if (crossproc::CurrentCallCanceled()) {
            ++m_gate->canceled_seen;
            m_gate->cv.notify_all();
            throw std::runtime_error("canceled");
          }
          m_gate->cv.wait_for(lock, 10ms);
        }
        break;
      }
      case Mode::kMeet:
        // Answers only once every kMeet wallet has been asked: they must be asked together.
        ++m_gate->met;
        m_gate->cv.notify_all();
        if (!m_gate->cv.wait_for(lock, 10s, [&] { return m_gate->met >= 3; })) {
          throw std::runtime_error("asked one after the other");
        }
        break;
    }
    return ipc::Balances{m_confirmed, 1, 2};
  }
  std::string getNewAddress(const std::string&) override { throw std::logic_error("not implemented"); }
  std::vector<uint8_t> sendToAddress(const std::string&, uint64_t, uint64_t) override { throw std::logic_error("not implemented"); }
  std::vector<ipc::WalletTransaction> listTransactions(uint32_t, uint32_t) override { throw std::logic_error("not implemented"); }
  std::vector<ipc::UnspentOutput> listUnspent() override { throw std::logic_error("not implemented"); }
  ipc::WalletInfo getWalletInfo() override { throw std::logic_error("not implemented"); }
  void encryptWallet(const std::string&) override { throw std::logic_error("not implemented"); }
  void walletPassphrase(const std::string&, uint32_t) override { throw std::logic_error("not implemented"); }
  void walletLock() override { throw std::logic_error("not implemented"); }
  uint32_t rescan(uint32_t) override { throw std::logic_error("not implemented"); }
  std::unique_ptr<ipc::Handler> handleBalanceChanged(const std::function<void(const ipc::Balances&)>&) override {
    throw std::logic_error("not implemented");
  }
  ipc::SignedTransaction signRawTransaction(const std::vector<uint8_t>&, const std::vector<ipc::PrevOut>&) override {
    throw std::logic_error("not implemented");
  }

 private:
  std::string m_name;
  Mode m_mode;
  uint64_t m_confirmed;
  std::shared_ptr<Gate> m_gate;
};

// Wallets by name, each either in this process or behind a crossproc connection of its own
// (over a socket pair, so its calls are real messages). "gone" is listed but no longer found;
// "crashed" fails to be found. Thread-safe after setup.
class FakeWalletDirectory final : public WalletDirectory {
 public:
  ~FakeWalletDirectory() override {
    m_wallets.clear();
    m_connections.clear();
  }
  void AddLocal(const std::string& name, std::shared_ptr<ipc::Wallet> wallet) { m_wallets[name] = std::move(wallet); }
  void AddRemote(const std::string& name, std::shared_ptr<ipc::Wallet> wallet) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    auto server = std::make_unique<crossproc::Connection>(fds[0], crossproc::MakeServer<ipc::Wallet>(std::move(wallet)));
    auto client = std::make_unique<crossproc::Connection>(fds[1]);
    m_wallets[name] = std::shared_ptr<ipc::Wallet>(client->Bootstrap<ipc::Wallet>());
    m_connections[name] = {std::move(server), std::move(client)};
  }
  // Closes the server end of a remote wallet's connection, as if its process had died.
  void Kill(const std::string& name) { m_connections.at(name).first.reset(); }

  std::shared_ptr<ipc::Wallet> Create(const std::string&, const std::string&) override { throw std::logic_error("no"); }
  std::shared_ptr<ipc::Wallet> Load(const std::string&) override { throw std::logic_error("no"); }
  void Unload(const std::string&) override { throw std::logic_error("no"); }
  std::shared_ptr<ipc::Wallet> Get(const std::string& name) override {
    if (name == "crashed") throw WalletError(WalletError::kNotFound, "Wallet \"crashed\" is not available");
    auto it = m_wallets.find(name);
    return it == m_wallets.end() ? nullptr : it->second;
  }
  std::vector<std::string> List() override {
    std::vector<std::string> names{"crashed", "gone"};
    for (const auto& [name, wallet] : m_wallets) names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
  }
  std::vector<std::string> ListDir() override { return List(); }

 private:
  std::map<std::string, std::shared_ptr<ipc::Wallet>> m_wallets;
  std::map<std::string, std::pair<std::unique_ptr<crossproc::Connection>, std::unique_ptr<crossproc::Connection>>> m_connections;
};

using Mode = FakeWallet::Mode;
using Clock = std::chrono::steady_clock;

std::map<std::string, const WalletBalancesEntry*> ByName(const std::vector<WalletBalancesEntry>& entries) {
  std::map<std::string, const WalletBalancesEntry*> by_name;
  for (const WalletBalancesEntry& entry : entries) by_name[entry.name] = &entry;
  return by_name;
}

// One wallet per way of failing, in this process and in others: each gets its own entry, and a
// hung one costs the timeout, not more.
void CheckFailuresStayApart(bool remote) {
  auto gate = std::make_shared<FakeWallet::Gate>();
  FakeWalletDirectory directory;
  auto add = [&](const std::string& name, std::shared_ptr<ipc::Wallet> wallet) {
    if (remote) {
      directory.AddRemote(name, std::move(wallet));
    } else {
      directory.AddLocal(name, std::move(wallet));
    }
  };
  add("good", std::make_shared<FakeWallet>("good", Mode::kAnswer, 7, gate));
  add("hangs", std::make_shared<FakeWallet>("hangs", Mode::kHang, 0, gate));
  add("throws", std::make_shared<FakeWallet>("throws", Mode::kThrow, 0, gate));
  if (remote) {
    add("dead", std::make_shared<FakeWallet>("dead", Mode::kAnswer, 0, gate));
    directory.Kill("dead");
  }
  {
    WalletBalancesFanout fanout(directory);
    auto start = Clock::now();
    std::vector<WalletBalancesEntry> entries = fanout.Collect(std::chrono::milliseconds(300));
    auto elapsed = Clock::now() - start;
    EXPECT_GE(elapsed, std::chrono::milliseconds(300));
    EXPECT_LT(elapsed, std::chrono::seconds(5));  // not the hung call's 20 s
    ASSERT_EQ(entries.size(), remote ? 6u : 5u);
    EXPECT_EQ(entries[0].name, "crashed");  // in List's order
    auto by_name = ByName(entries);
    ASSERT_TRUE(by_name["good"]->balances);
    EXPECT_EQ(by_name["good"]->balances->confirmed, 7u);
    EXPECT_EQ(by_name["good"]->balances->immature, 2u);
    EXPECT_EQ(by_name["good"]->error_code, 0);
    EXPECT_FALSE(by_name["hangs"]->balances);
    EXPECT_EQ(by_name["hangs"]->error_code, kRpcWalletError);
    EXPECT_EQ(by_name["hangs"]->error, "the wallet did not answer within 300 ms");
    EXPECT_FALSE(by_name["throws"]->balances);
    EXPECT_EQ(by_name["throws"]->error_code, kRpcWalletError);
    EXPECT_NE(by_name["throws"]->error.find("the database is locked"), std::string::npos) << by_name["throws"]->error;
    EXPECT_EQ(by_name["gone"]->error_code, kRpcWalletNotFound);
    EXPECT_EQ(by_name["crashed"]->error_code, kRpcWalletNotFound);
    EXPECT_EQ(by_name["crashed"]->error, "Wallet \"crashed\" is not available");
    if (remote) {
      EXPECT_FALSE(by_name["dead"]->balances);
      EXPECT_EQ(by_name["dead"]->error_code, kRpcWalletError);
      EXPECT_NE(by_name["dead"]->error.find("process is gone"), std::string::npos) << by_name["dead"]->error;
      // The hung wallet's process was told its call is no longer wanted.
      std::unique_lock<std::mutex> lock(gate->mutex);
      EXPECT_TRUE(gate->cv.wait_for(lock, std::chrono::seconds(10), [&] { return gate->canceled_seen == 1; }));
    }
    // Asking again works the same (the hung in-process call still holds a pool thread).
    EXPECT_TRUE(ByName(fanout.Collect(std::chrono::milliseconds(100)))["good"]->balances);
    {
      std::lock_guard<std::mutex> lock(gate->mutex);
      gate->open = true;
    }
    gate->cv.notify_all();
  }  // the fanout waits for the in-process calls here
}

TEST(WalletBalancesFanout, InProcessFailuresStayApart) { CheckFailuresStayApart(false); }
TEST(WalletBalancesFanout, OtherProcessFailuresStayApart) { CheckFailuresStayApart(true); }

// Three wallets that answer only once all three have been asked: the calls are in flight together.
TEST(WalletBalancesFanout, AsksEveryWalletAtOnce) {
  for (bool remote : {false, true}) {
    auto gate = std::make_shared<FakeWallet::Gate>();
    FakeWalletDirectory directory;
    for (const char* name : {"w1", "w2", "w3"}) {
      auto wallet = std::make_shared<FakeWallet>(name, Mode::kMeet, 5, gate);
      if (remote) {
        directory.AddRemote(name, wallet);
      } else {
        directory.AddLocal(name, wallet);
      }
    }
    WalletBalancesFanout fanout(directory);
    std::vector<WalletBalancesEntry> entries = fanout.Collect(std::chrono::seconds(20));
    auto by_name = ByName(entries);
    for (const char* name : {"w1", "w2", "w3"}) {
      ASSERT_TRUE(by_name[name]->balances) << name << (remote ? " remote: " : " local: ") << by_name[name]->error;
      EXPECT_EQ(by_name[name]->balances->confirmed, 5u);
    }
  }
}

TEST(WalletBalancesFanout, ThroughTheRpcTable) {
  auto gate = std::make_shared<FakeWallet::Gate>();
  FakeWalletDirectory directory;
  directory.AddRemote("good", std::make_shared<FakeWallet>("good", Mode::kAnswer, 150'000'000, gate));
  directory.AddRemote("hangs", std::make_shared<FakeWallet>("hangs", Mode::kHang, 0, gate));
  RpcTable table;
  RegisterWalletRpc(table, directory);
  RpcRequest request;
  request.method = "listwalletbalances";
  json result = table.Execute(request, json{0.2});
  ASSERT_EQ(result["wallets"].size(), 4u);
  EXPECT_EQ(result["wallets"][0]["name"], "crashed");
  EXPECT_EQ(result["wallets"][0]["error"]["code"], kRpcWalletNotFound);
  EXPECT_EQ(result["wallets"][2], (json{{"name", "good"}, {"mine", {{"trusted", 1.5}, {"untrusted_pending", 0.00000001}, {"immature", 0.00000002}}}}));
  EXPECT_EQ(result["wallets"][3], (json{{"name", "hangs"}, {"error", {{"code", kRpcWalletError}, {"message", "the wallet did not answer within 200 ms"}}}}));
  std::lock_guard<std::mutex> lock(gate->mutex);
  gate->open = true;
  gate->cv.notify_all();
}

}  // namespace
}  // namespace minicoin
