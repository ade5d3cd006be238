// Tests of the wallet RPC methods through an RpcTable, over a loader and a TestChain.
#include "wallet/rpc_wallet.h"

#include "crypto/key.h"
#include "primitives/address.h"
#include "rpc/protocol.h"
#include "validation/block_check.h"
#include "validation/coins.h"
#include "wallet/test_chain.h"
#include "wallet/wallet_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

namespace minicoin {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

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

TEST_F(WalletRpcTest, HelpStartsWithTheUsageLine) {
  for (const std::string& name : m_table.Methods()) {
    const RpcMethod* method = m_table.Find(name);
    ASSERT_NE(method, nullptr);
    EXPECT_EQ(method->help.rfind(name, 0), 0u) << name;
    EXPECT_EQ(method->category, "Wallet") << name;
  }
  EXPECT_EQ(m_table.Methods().size(), 16u);
}

}  // namespace
}  // namespace minicoin
