// The wallet RPC methods.
#include "wallet/rpc_wallet.h"

#include "ipc/wallet_error.h"
#include "primitives/address.h"
#include "primitives/hash.h"
#include "primitives/transaction.h"
#include "rpc/protocol.h"
#include "rpc/util.h"

#include <crossproc/errors.h>
#include <crossproc/task_group.h>
#include <crossproc/worker_pool.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

namespace minicoin {

using nlohmann::json;

namespace {

using Handler = std::function<json(const RpcRequest&)>;

std::string HashHex(const std::vector<uint8_t>& bytes) {
  std::array<uint8_t, 32> out{};
  if (bytes.size() == out.size()) std::memcpy(out.data(), bytes.data(), out.size());
  return Uint256(out).ToHex();
}

json SignedAmountToJson(int64_t units) {
  if (units >= 0) return AmountToJson(static_cast<uint64_t>(units));
  return -AmountToJson(static_cast<uint64_t>(-units)).get<double>();
}

// A handler whose WalletError becomes the RPC error with the same code and message.
Handler Wrap(Handler handler) {
  return [handler = std::move(handler)](const RpcRequest& request) -> json {
    try {
      return handler(request);
    } catch (const WalletError& e) {
      throw RpcError(e.code(), e.message());
    }
  };
}

void Add(RpcTable& table, std::string name, std::vector<std::string> args, std::string help, Handler handler,
         std::size_t min_args = 0) {
  table.Add({std::move(name), "Wallet", std::move(args), std::move(help), Wrap(std::move(handler)), min_args});
}

// An optional boolean argument (false when absent).
bool OptionalBool(const RpcRequest& request, std::size_t index) { return OptionalParamBool(request, index).value_or(false); }

json BalancesToJson(const ipc::Balances& balances) {
  return json{{"trusted", AmountToJson(balances.confirmed)},
              {"untrusted_pending", AmountToJson(balances.unconfirmed)},
              {"immature", AmountToJson(balances.immature)}};
}

json TransactionToJson(const ipc::WalletTransaction& tx) {
  json entry{{"address", tx.address},
             {"category", tx.category},
             {"amount", SignedAmountToJson(tx.amount)}};
  if (tx.category == "send") entry["fee"] = SignedAmountToJson(-static_cast<int64_t>(tx.fee));
  entry["confirmations"] = tx.confirmations;
  if (tx.confirmations > 0) {
    entry["blockhash"] = HashHex(tx.blockHash);
    entry["blockheight"] = tx.blockHeight;
  }
  if (tx.category == "generate" || tx.category == "immature" || tx.category == "orphan") entry["generated"] = true;
  entry["trusted"] = tx.confirmations > 0 || (tx.confirmations == 0 && tx.category == "send");
  entry["txid"] = HashHex(tx.txid);
  entry["time"] = tx.time;
  entry["timereceived"] = tx.time;
  return entry;
}

std::string HexEncode(const std::vector<uint8_t>& bytes) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (uint8_t byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 15]);
  }
  return hex;
}

// A hex string as bytes; nullopt if it is not hex.
std::optional<std::vector<uint8_t>> HexDecode(const std::string& hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::vector<uint8_t> bytes(hex.size() / 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    int high = digit(hex[2 * i]);
    int low = digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes[i] = static_cast<uint8_t>(high * 16 + low);
  }
  return bytes;
}

// signrawtransactionwithwallet's prevtxs: [{"txid": hex, "vout": n, "address": str}, ...].
std::vector<ipc::PrevOut> ParsePrevTxs(const json& value) {
  std::vector<ipc::PrevOut> prevouts;
  if (value.is_null()) return prevouts;
  CheckType(value, JsonType::kArray);
  for (const json& item : value) {
    CheckType(item, JsonType::kObject);
    for (const char* key : {"txid", "vout", "address"}) {
      if (!item.contains(key)) throw RpcError(kRpcTypeError, std::string("Missing ") + key);
    }
    const json& txid = item["txid"];
    CheckType(txid, JsonType::kString);
    std::string txid_hex = txid.get<std::string>();
    if (txid_hex.size() != 64) {
      throw RpcError(kRpcInvalidParameter, "txid must be of length 64 (not " + std::to_string(txid_hex.size()) +
                                               ", for '" + txid_hex + "')");
    }
    Uint256 hash;
    if (!Uint256::FromHex(txid_hex, hash)) {
      throw RpcError(kRpcInvalidParameter, "txid must be hexadecimal string (not '" + txid_hex + "')");
    }
    int64_t vout = JsonToInt(item["vout"]);
    if (vout < 0) throw RpcError(kRpcInvalidParameter, "vout cannot be negative");
    if (vout > 0xffffffffLL) throw RpcError(kRpcInvalidParameter, "vout is out of range");
    const json& address = item["address"];
    CheckType(address, JsonType::kString);
    std::string error;
    std::optional<XOnlyPublicKey> pubkey = DecodeAddress(address.get<std::string>(), &error);
    if (!pubkey) throw RpcError(kRpcInvalidAddressOrKey, "Invalid address: " + error);
    prevouts.push_back(ipc::PrevOut{std::vector<uint8_t>(hash.bytes().begin(), hash.bytes().end()),
                                    static_cast<uint32_t>(vout), std::vector<uint8_t>(pubkey->begin(), pubkey->end())});
  }
  return prevouts;
}

// A count or offset argument: a non-negative integer.
uint32_t CountParam(const RpcRequest& request, std::size_t index, int64_t default_value, const char* negative_error) {
  int64_t value = OptionalParamInt(request, index).value_or(default_value);
  if (value < 0) throw RpcError(kRpcInvalidParameter, negative_error);
  return static_cast<uint32_t>(std::min<int64_t>(value, 0xffffffffLL));
}

}  // namespace

std::shared_ptr<ipc::Wallet> WalletForRequest(const RpcRequest& request, WalletDirectory& wallets) {
  if (request.uri.rfind("/wallet/", 0) == 0) {
    std::shared_ptr<ipc::Wallet> wallet = wallets.Get(request.WalletName());
    if (!wallet) throw RpcError(kRpcWalletNotFound, "Requested wallet does not exist or is not loaded");
    return wallet;
  }
  std::vector<std::string> names = wallets.List();
  if (names.empty()) {
    throw RpcError(kRpcWalletNotFound,
                   "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet.");
  }
  if (names.size() > 1) {
    throw RpcError(kRpcWalletNotSpecified,
                   "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).");
  }
  std::shared_ptr<ipc::Wallet> wallet = wallets.Get(names[0]);
  if (!wallet) throw RpcError(kRpcWalletNotFound, "Requested wallet does not exist or is not loaded");
  return wallet;
}

namespace {

// The RPC error code and message for a failed balance call.
std::pair<int, std::string> DescribeError(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const WalletError& e) {
    return {e.code(), e.message()};
  } catch (const crossproc::Disconnected& e) {
    return {kRpcWalletError, "the wallet's process is gone: " + e.message()};
  } catch (const crossproc::RemoteError& e) {
    return {kRpcWalletError, e.message()};
  } catch (const std::exception& e) {
    return {kRpcWalletError, e.what()};
  } catch (...) {
    return {kRpcWalletError, "unknown error"};
  }
}

// Where one branch of a Collect puts its answer: written by the branch's handler, read after
// the group has joined.
struct BalancesSlot {
  std::optional<ipc::Balances> balances;
};

// One wallet's balance call, started on the pool: the call to the wallet's process once it is
// sent, and whether the caller gave up first. Thread-safe.
struct PendingBalances {
  std::mutex mutex;
  crossproc::Future<ipc::Balances> sent;  // guarded by mutex; invalid until sent
  bool canceled = false;                  // guarded by mutex
};

std::exception_ptr CanceledError() {
  return std::make_exception_ptr(crossproc::RemoteError(crossproc::ErrorKind::kFailed, "", "canceled"));
}

}  // namespace

WalletBalancesFanout::WalletBalancesFanout(WalletDirectory& wallets) : m_wallets(wallets) {}

WalletBalancesFanout::~WalletBalancesFanout() = default;

crossproc::WorkerPool& WalletBalancesFanout::Pool() {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!m_pool) {
    m_pool = std::make_unique<crossproc::WorkerPool>(crossproc::WorkerPoolOptions{.threads = kThreads, .name = "walletrpc"});
  }
  return *m_pool;
}

crossproc::Future<ipc::Balances> WalletBalancesFanout::Start(const std::string& name) {
  using State = crossproc::Future<ipc::Balances>::State;
  auto result = std::make_shared<State>();
  auto pending = std::make_shared<PendingBalances>();
  // A cancel (the timeout) fails the result at once and cancels the call if it was sent.
  std::weak_ptr<State> weak = result;
  result->SetCanceler([weak, pending] {
    crossproc::Future<ipc::Balances> sent;
    {
      std::lock_guard<std::mutex> lock(pending->mutex);
      pending->canceled = true;
      sent = pending->sent;
    }
    if (sent.valid()) sent.Cancel();
    if (auto state = weak.lock()) state->SetError(CanceledError());
  });
  WalletDirectory* wallets = &m_wallets;
  bool posted = Pool().Post([wallets, name, result, pending] {
    try {
      {
        std::lock_guard<std::mutex> lock(pending->mutex);
        if (pending->canceled) return;
      }
      std::shared_ptr<ipc::Wallet> wallet = wallets->Get(name);
      if (!wallet) throw WalletError(WalletError::kNotFound, "Requested wallet does not exist or is not loaded");
      auto* client = dynamic_cast<ipc::WalletClient*>(wallet.get());
      if (client == nullptr) {
        result->SetValue(wallet->getBalances());  // in this process: no asynchronous twin
        return;
      }
      crossproc::Future<ipc::Balances> sent = client->getBalancesAsync();
      bool canceled;
      {
        std::lock_guard<std::mutex> lock(pending->mutex);
        pending->sent = sent;
        canceled = pending->canceled;
      }
      if (canceled) sent.Cancel();
      sent.OnComplete([sent, result]() mutable {
        if (std::exception_ptr error = sent.error()) {
          result->SetError(error);
        } else {
          result->SetValue(sent.get());
        }
      });
    } catch (...) {
      result->SetError(std::current_exception());
    }
  });
  if (!posted) result->SetError(std::make_exception_ptr(std::runtime_error("the wallet RPC is shutting down")));
  return crossproc::Future<ipc::Balances>(result);
}

std::vector<WalletBalancesEntry> WalletBalancesFanout::Collect(std::chrono::milliseconds timeout) {
  std::vector<std::string> names = m_wallets.List();
  std::vector<WalletBalancesEntry> entries(names.size());
  std::vector<std::shared_ptr<BalancesSlot>> slots(names.size());
  std::vector<crossproc::Future<ipc::Balances>> futures(names.size());
  std::vector<std::size_t> branches(names.size());
  crossproc::TaskGroup group(crossproc::JoinMode::kBestEffort);
  for (std::size_t i = 0; i < names.size(); ++i) {
    entries[i].name = names[i];
    slots[i] = std::make_shared<BalancesSlot>();
    futures[i] = Start(names[i]);
    branches[i] = group.Add(futures[i], [slot = slots[i]](ipc::Balances balances) { slot->balances = balances; });
  }
  // Every call is on its way: wait for the answers until the deadline (the waits overlap, so the
  // total is at most `timeout`), note which ended by then, and cancel the others.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& future : futures) {
    future.wait_for(std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero()));
  }
  std::vector<bool> in_time(names.size(), false);
  for (std::size_t i = 0; i < names.size(); ++i) in_time[i] = futures[i].ready();
  group.JoinFor(std::chrono::milliseconds(0));  // cancels what still runs, waits for the handlers
  for (std::size_t i = 0; i < names.size(); ++i) {
    WalletBalancesEntry& entry = entries[i];
    if (slots[i]->balances) {
      entry.balances = slots[i]->balances;
    } else if (!in_time[i]) {
      entry.error_code = kRpcWalletError;
      entry.error = "the wallet did not answer within " + std::to_string(timeout.count()) + " ms";
    } else if (std::exception_ptr error = group.error(branches[i])) {
      std::tie(entry.error_code, entry.error) = DescribeError(error);
    }
  }
  return entries;
}

void RegisterWalletRpc(RpcTable& table, WalletDirectory& wallets) {
  WalletDirectory* dir = &wallets;

  Add(table, "createwallet",
      {"wallet_name", "disable_private_keys", "blank", "passphrase", "avoid_reuse", "descriptors", "load_on_startup"},
      "createwallet \"wallet_name\" ( disable_private_keys blank \"passphrase\" avoid_reuse descriptors load_on_startup )\n\n"
      "Creates and loads a new wallet in <datadir>/wallets/<wallet_name>/.\n\n"
      "Arguments:\n"
      "1. wallet_name             (string, required) The name for the new wallet\n"
      "2. disable_private_keys    (boolean, optional, default=false) Not supported: must be false\n"
      "3. blank                   (boolean, optional, default=false) Not supported: must be false\n"
      "4. passphrase              (string, optional) Encrypt the wallet with this passphrase\n"
      "5. avoid_reuse             (boolean, optional) Ignored\n"
      "6. descriptors             (boolean, optional) Ignored\n"
      "7. load_on_startup         (boolean, optional) Ignored\n\n"
      "Result:\n"
      "{\n  \"name\" : \"str\",      (string) The wallet name\n  \"warning\" : \"str\"    (string) Warnings, if any\n}\n\n"
      "Examples:\n> minicoin-cli createwallet \"testwallet\"\n",
      [dir](const RpcRequest& request) -> json {
        std::string name = ParamString(request, 0);
        if (OptionalBool(request, 1)) {
          throw RpcError(kRpcWalletError, "Wallets without private keys (disable_private_keys) are not supported");
        }
        if (OptionalBool(request, 2)) throw RpcError(kRpcWalletError, "Blank wallets are not supported");
        std::string passphrase = OptionalParamString(request, 3).value_or("");
        dir->Create(name, passphrase);
        return json{{"name", name}, {"warning", ""}};
      },
      1);

  Add(table, "loadwallet", {"filename", "load_on_startup"},
      "loadwallet \"filename\" ( load_on_startup )\n\n"
      "Loads a wallet from <datadir>/wallets/<filename>/.\n\n"
      "Arguments:\n"
      "1. filename           (string, required) The wallet's name\n"
      "2. load_on_startup    (boolean, optional) Ignored\n\n"
      "Result:\n{\n  \"name\" : \"str\",      (string) The wallet name\n  \"warning\" : \"str\"    (string) Warnings, if any\n}\n\n"
      "Examples:\n> minicoin-cli loadwallet \"testwallet\"\n",
      [dir](const RpcRequest& request) -> json {
        std::string name = ParamString(request, 0);
        dir->Load(name);
        return json{{"name", name}, {"warning", ""}};
      },
      1);

  Add(table, "unloadwallet", {"wallet_name", "load_on_startup"},
      "unloadwallet ( \"wallet_name\" load_on_startup )\n\n"
      "Unloads the wallet named by the argument, or by the RPC endpoint (/wallet/<name>).\n\n"
      "Arguments:\n"
      "1. wallet_name        (string, optional, default=the endpoint's wallet) The wallet to unload\n"
      "2. load_on_startup    (boolean, optional) Ignored\n\n"
      "Result:\n{\n  \"warning\" : \"str\"    (string) Warnings, if any\n}\n\n"
      "Examples:\n> minicoin-cli unloadwallet \"testwallet\"\n",
      [dir](const RpcRequest& request) -> json {
        std::optional<std::string> argument = OptionalParamString(request, 0);
        bool endpoint = request.uri.rfind("/wallet/", 0) == 0;
        if (endpoint && argument && *argument != request.WalletName()) {
          throw RpcError(kRpcInvalidParameter, "RPC endpoint wallet and wallet_name parameter specify different wallets");
        }
        if (!endpoint && !argument) {
          throw RpcError(kRpcInvalidParameter,
                         "Either the RPC endpoint wallet or the wallet name parameter must be provided");
        }
        dir->Unload(argument ? *argument : request.WalletName());
        return json{{"warning", ""}};
      });

  Add(table, "listwallets", {},
      "listwallets\n\nReturns the names of the loaded wallets.\n\n"
      "Result:\n[\n  \"walletname\",    (string) the wallet name\n  ...\n]\n\n"
      "Examples:\n> minicoin-cli listwallets\n",
      [dir](const RpcRequest&) -> json { return json(dir->List()); });

  Add(table, "listwalletdir", {},
      "listwalletdir\n\nReturns the wallets in the wallet directory, loaded or not.\n\n"
      "Result:\n{\n  \"wallets\" : [\n    {\n      \"name\" : \"str\"    (string) The wallet name\n    },\n    ...\n  ]\n}\n\n"
      "Examples:\n> minicoin-cli listwalletdir\n",
      [dir](const RpcRequest&) -> json {
        json list = json::array();
        for (const std::string& name : dir->ListDir()) list.push_back(json{{"name", name}});
        return json{{"wallets", list}};
      });

  Add(table, "getbalance", {"dummy", "minconf", "include_watchonly", "avoid_reuse"},
      "getbalance ( \"dummy\" minconf include_watchonly avoid_reuse )\n\n"
      "Returns the wallet's trusted balance: confirmed mature coins plus the change of its own\n"
      "unconfirmed transactions.\n\n"
      "Arguments:\n"
      "1. dummy                (string, optional) Must be \"*\" if given\n"
      "2. minconf              (numeric, optional) Ignored\n"
      "3. include_watchonly    (boolean, optional) Ignored\n"
      "4. avoid_reuse          (boolean, optional) Ignored\n\n"
      "Result:\nn    (numeric) The balance in coins\n\n"
      "Examples:\n> minicoin-cli getbalance\n",
      [dir](const RpcRequest& request) -> json {
        if (std::optional<std::string> dummy = OptionalParamString(request, 0); dummy && *dummy != "*") {
          throw RpcError(kRpcMethodDeprecated, "dummy first argument must be excluded or set to \"*\".");
        }
        return AmountToJson(WalletForRequest(request, *dir)->getBalances().confirmed);
      });

  Add(table, "getbalances", {},
      "getbalances\n\nReturns the wallet's balances in coins.\n\n"
      "Result:\n{\n  \"mine\" : {\n"
      "    \"trusted\" : n,              (numeric) confirmed mature coins and own unconfirmed change\n"
      "    \"untrusted_pending\" : n,    (numeric) unconfirmed coins from others\n"
      "    \"immature\" : n              (numeric) coinbase coins with fewer than 100 confirmations\n  }\n}\n\n"
      "Examples:\n> minicoin-cli getbalances\n",
      [dir](const RpcRequest& request) -> json {
        return json{{"mine", BalancesToJson(WalletForRequest(request, *dir)->getBalances())}};
      });

  Add(table, "getnewaddress", {"label", "address_type"},
      "getnewaddress ( \"label\" \"address_type\" )\n\n"
      "Returns a new address for receiving payments (also while the wallet is locked, from the keys\n"
      "derived ahead).\n\n"
      "Arguments:\n"
      "1. label           (string, optional, default=\"\") A label for the address\n"
      "2. address_type    (string, optional) Ignored: every address is a Bech32m key address\n\n"
      "Result:\n\"str\"    (string) The new address\n\n"
      "Examples:\n> minicoin-cli getnewaddress\n",
      [dir](const RpcRequest& request) -> json {
        std::string label = OptionalParamString(request, 0).value_or("");
        if (label == "*") throw RpcError(kRpcWalletInvalidLabelName, "Invalid label name");
        return WalletForRequest(request, *dir)->getNewAddress(label);
      });

  Add(table, "sendtoaddress",
      {"address", "amount", "comment", "comment_to", "subtractfeefromamount", "replaceable", "conf_target",
       "estimate_mode", "avoid_reuse", "fee_rate", "verbose"},
      "sendtoaddress \"address\" amount ( \"comment\" \"comment_to\" subtractfeefromamount replaceable conf_target \"estimate_mode\" avoid_reuse fee_rate verbose )\n\n"
      "Sends an amount to an address. Coins are chosen largest first; change goes to a new key of\n"
      "the wallet; the fee is the fee rate times the transaction's encoded size.\n\n"
      "Arguments:\n"
      "1. address                  (string, required) The address to send to\n"
      "2. amount                   (numeric or string, required) The amount in coins\n"
      "3. comment                  (string, optional) Ignored\n"
      "4. comment_to               (string, optional) Ignored\n"
      "5. subtractfeefromamount    (boolean, optional, default=false) Not supported: must be false\n"
      "6. replaceable              (boolean, optional) Ignored\n"
      "7. conf_target              (numeric, optional) Ignored\n"
      "8. estimate_mode            (string, optional) Ignored\n"
      "9. avoid_reuse              (boolean, optional) Ignored\n"
      "10. fee_rate                (numeric or string, optional, default=the node's estimate, at least 1)\n"
      "                            Fee rate in units per byte (up to 3 decimals)\n"
      "11. verbose                 (boolean, optional, default=false) Return {txid, fee_reason}\n\n"
      "Result:\n\"hex\"    (string) The transaction id\n\n"
      "Examples:\n> minicoin-cli sendtoaddress \"mcrt1p...\" 0.1\n",
      [dir](const RpcRequest& request) -> json {
        std::string address = ParamString(request, 0);
        if (!HasParam(request, 1)) throw RpcError(kRpcTypeError, "Invalid amount for send");
        uint64_t amount = AmountFromJson(Param(request, 1));
        if (amount == 0) throw RpcError(kRpcTypeError, "Invalid amount for send");
        if (OptionalBool(request, 4)) throw RpcError(kRpcInvalidParameter, "subtractfeefromamount is not supported");
        uint64_t fee_rate = 0;
        if (HasParam(request, 9)) {
          const json& value = Param(request, 9);
          std::string text = value.is_string() ? value.get<std::string>() : value.is_number() ? value.dump() : "";
          std::optional<int64_t> per_kb = ParseFixedPoint(text, 3);
          if (!per_kb || *per_kb <= 0) throw RpcError(kRpcInvalidParameter, "Invalid fee_rate (units per byte, above 0)");
          fee_rate = static_cast<uint64_t>(*per_kb);
        }
        std::shared_ptr<ipc::Wallet> wallet = WalletForRequest(request, *dir);
        std::string txid = HashHex(wallet->sendToAddress(address, amount, fee_rate));
        if (OptionalBool(request, 10)) return json{{"txid", txid}, {"fee_reason", fee_rate != 0 ? "Fee rate" : "Estimate"}};
        return txid;
      },
      2);

  Add(table, "listtransactions", {"label", "count", "skip", "include_watchonly"},
      "listtransactions ( \"label\" count skip include_watchonly )\n\n"
      "Returns the most recent wallet transactions, skipping the `skip` most recent ones, oldest first.\n\n"
      "Arguments:\n"
      "1. label                (string, optional) \"*\" or a label: ignored, every transaction is listed\n"
      "2. count                (numeric, optional, default=10) How many transactions\n"
      "3. skip                 (numeric, optional, default=0) How many of the newest to skip\n"
      "4. include_watchonly    (boolean, optional) Ignored\n\n"
      "Result:\n[\n  {\n"
      "    \"address\" : \"str\",       (string) The address paid (receive) or paid to (send)\n"
      "    \"category\" : \"str\",      (string) send, receive, generate, immature or orphan\n"
      "    \"amount\" : n,            (numeric) Net effect on the wallet in coins, negative for a send\n"
      "    \"fee\" : n,               (numeric) The fee, negative (sends only)\n"
      "    \"confirmations\" : n,     (numeric) 0 unconfirmed, -1 conflicted or abandoned\n"
      "    \"blockhash\" : \"hex\",     (string) The block (confirmed only)\n"
      "    \"blockheight\" : n,       (numeric) Its height (confirmed only)\n"
      "    \"txid\" : \"hex\",          (string) The transaction id\n"
      "    \"time\" : n               (numeric) When the wallet first saw it (unix seconds)\n  },\n  ...\n]\n\n"
      "Examples:\n> minicoin-cli listtransactions \"*\" 20\n",
      [dir](const RpcRequest& request) -> json {
        uint32_t count = CountParam(request, 1, 10, "Negative count");
        uint32_t skip = CountParam(request, 2, 0, "Negative from");
        std::vector<ipc::WalletTransaction> txs = WalletForRequest(request, *dir)->listTransactions(count, skip);
        json result = json::array();
        for (auto it = txs.rbegin(); it != txs.rend(); ++it) result.push_back(TransactionToJson(*it));
        return result;
      });

  Add(table, "listunspent", {"minconf", "maxconf", "addresses", "include_unsafe"},
      "listunspent ( minconf maxconf [\"address\",...] include_unsafe )\n\n"
      "Returns the wallet's spendable outputs with between minconf and maxconf confirmations.\n\n"
      "Arguments:\n"
      "1. minconf           (numeric, optional, default=1) The minimum confirmations\n"
      "2. maxconf           (numeric, optional, default=9999999) The maximum confirmations\n"
      "3. addresses         (json array, optional) Only outputs paying to these addresses\n"
      "4. include_unsafe    (boolean, optional, default=true) Include unconfirmed outputs from others\n\n"
      "Result:\n[\n  {\n    \"txid\" : \"hex\", \"vout\" : n, \"address\" : \"str\", \"amount\" : n,\n"
      "    \"confirmations\" : n, \"spendable\" : true, \"solvable\" : true, \"safe\" : bool\n  },\n  ...\n]\n\n"
      "Examples:\n> minicoin-cli listunspent 0\n",
      [dir](const RpcRequest& request) -> json {
        int64_t minconf = OptionalParamInt(request, 0).value_or(1);
        int64_t maxconf = OptionalParamInt(request, 1).value_or(9999999);
        std::set<std::string> addresses;
        if (HasParam(request, 2)) {
          for (const json& address : ParamArray(request, 2)) {
            if (!address.is_string() || !DecodeAddress(address.get<std::string>())) {
              throw RpcError(kRpcInvalidAddressOrKey, "Invalid address: " + address.dump());
            }
            if (!addresses.insert(address.get<std::string>()).second) {
              throw RpcError(kRpcInvalidParameter, "Invalid parameter, duplicated address: " + address.get<std::string>());
            }
          }
        }
        bool include_unsafe = OptionalParamBool(request, 3).value_or(true);
        std::shared_ptr<ipc::Wallet> wallet = WalletForRequest(request, *dir);
        std::set<std::string> own_sends;
        for (const ipc::WalletTransaction& tx : wallet->listTransactions(0xffffffffu, 0)) {
          if (tx.category == "send") own_sends.insert(HashHex(tx.txid));
        }
        json result = json::array();
        for (const ipc::UnspentOutput& unspent : wallet->listUnspent()) {
          if (!unspent.spendable || unspent.confirmations < minconf || unspent.confirmations > maxconf) continue;
          if (!addresses.empty() && addresses.count(unspent.address) == 0) continue;
          std::string txid = HashHex(unspent.txid);
          bool safe = unspent.confirmations > 0 || own_sends.count(txid) != 0;
          if (!safe && !include_unsafe) continue;
          result.push_back(json{{"txid", txid},
                                {"vout", unspent.vout},
                                {"address", unspent.address},
                                {"amount", AmountToJson(unspent.amount)},
                                {"confirmations", unspent.confirmations},
                                {"spendable", true},
                                {"solvable", true},
                                {"safe", safe}});
        }
        return result;
      });

  Add(table, "getwalletinfo", {},
      "getwalletinfo\n\nReturns the state of the wallet.\n\n"
      "Result:\n{\n"
      "  \"walletname\" : \"str\",           (string) The wallet name\n"
      "  \"walletversion\" : n,            (numeric) The database version\n"
      "  \"format\" : \"sqlite\",            (string) The database format\n"
      "  \"balance\" : n,                  (numeric) Trusted balance in coins\n"
      "  \"unconfirmed_balance\" : n,      (numeric) Unconfirmed balance from others\n"
      "  \"immature_balance\" : n,         (numeric) Immature coinbase balance\n"
      "  \"txcount\" : n,                  (numeric) Transactions in the wallet\n"
      "  \"keypoolsize\" : n,              (numeric) Keys derived ahead and not handed out\n"
      "  \"unlocked_until\" : n,           (numeric, encrypted wallets only) Unix time the unlock ends, 0 locked\n"
      "  \"private_keys_enabled\" : true,  (boolean)\n"
      "  \"lastprocessedblock\" : {        The last block the wallet processed\n"
      "    \"hash\" : \"hex\", \"height\" : n\n  }\n}\n\n"
      "Examples:\n> minicoin-cli getwalletinfo\n",
      [dir](const RpcRequest& request) -> json {
        ipc::WalletInfo info = WalletForRequest(request, *dir)->getWalletInfo();
        json result{{"walletname", info.name},
                    {"walletversion", 1},
                    {"format", "sqlite"},
                    {"balance", AmountToJson(info.balances.confirmed)},
                    {"unconfirmed_balance", AmountToJson(info.balances.unconfirmed)},
                    {"immature_balance", AmountToJson(info.balances.immature)},
                    {"txcount", info.txCount},
                    {"keypoolsize", info.keypoolSize}};
        if (info.encrypted) result["unlocked_until"] = info.unlockedUntil;
        result["private_keys_enabled"] = true;
        result["lastprocessedblock"] = json{{"hash", HashHex(info.lastScannedHash)}, {"height", info.lastScannedHeight}};
        return result;
      });

  Add(table, "encryptwallet", {"passphrase"},
      "encryptwallet \"passphrase\"\n\n"
      "Encrypts the wallet's seed with a passphrase (PBKDF2-HMAC-SHA512 and AES-256-GCM) and locks the\n"
      "wallet. Sending then needs walletpassphrase first.\n\n"
      "Arguments:\n1. passphrase    (string, required) At least one character\n\n"
      "Result:\n\"str\"    (string) A confirmation\n\n"
      "Examples:\n> minicoin-cli encryptwallet \"my pass phrase\"\n",
      [dir](const RpcRequest& request) -> json {
        std::string passphrase = ParamString(request, 0);
        if (passphrase.empty()) throw RpcError(kRpcInvalidParameter, "passphrase cannot be empty");
        WalletForRequest(request, *dir)->encryptWallet(passphrase);
        return "wallet encrypted; the wallet is locked: unlock it with walletpassphrase to send";
      },
      1);

  Add(table, "walletpassphrase", {"passphrase", "timeout"},
      "walletpassphrase \"passphrase\" timeout\n\n"
      "Unlocks the wallet for `timeout` seconds (at most 100000000).\n\n"
      "Arguments:\n"
      "1. passphrase    (string, required) The wallet passphrase\n"
      "2. timeout       (numeric, required) Seconds to keep the wallet unlocked\n\n"
      "Result:\nnull\n\n"
      "Examples:\n> minicoin-cli walletpassphrase \"my pass phrase\" 60\n",
      [dir](const RpcRequest& request) -> json {
        std::string passphrase = ParamString(request, 0);
        int64_t timeout = ParamInt(request, 1);
        if (timeout < 0) throw RpcError(kRpcInvalidParameter, "Timeout cannot be negative.");
        if (passphrase.empty()) throw RpcError(kRpcInvalidParameter, "passphrase cannot be empty");
        WalletForRequest(request, *dir)->walletPassphrase(passphrase,
                                                          static_cast<uint32_t>(std::min<int64_t>(timeout, 100000000)));
        return nullptr;
      },
      2);

  Add(table, "walletlock", {},
      "walletlock\n\nForgets the decrypted seed now: sending needs walletpassphrase again.\n\n"
      "Result:\nnull\n\n"
      "Examples:\n> minicoin-cli walletlock\n",
      [dir](const RpcRequest& request) -> json {
        WalletForRequest(request, *dir)->walletLock();
        return nullptr;
      });

  Add(table, "rescanblockchain", {"start_height"},
      "rescanblockchain ( start_height )\n\n"
      "Scans the active chain from start_height to the tip for the wallet's transactions (the node\n"
      "matches the blocks against the wallet's keys and coins).\n\n"
      "Arguments:\n1. start_height    (numeric, optional, default=0) Where to start\n\n"
      "Result:\n{\n  \"start_height\" : n,    (numeric) Where the scan started\n"
      "  \"stop_height\" : n      (numeric) The last block scanned\n}\n\n"
      "Examples:\n> minicoin-cli rescanblockchain 100\n",
      [dir](const RpcRequest& request) -> json {
        int64_t start = OptionalParamInt(request, 0).value_or(0);
        if (start < 0 || start > 0xffffffffLL) throw RpcError(kRpcInvalidParameter, "Invalid start_height");
        uint32_t stop = WalletForRequest(request, *dir)->rescan(static_cast<uint32_t>(start));
        return json{{"start_height", start}, {"stop_height", stop}};
      });

  Add(table, "signrawtransactionwithwallet", {"hexstring", "prevtxs", "sighashtype"},
      "signrawtransactionwithwallet \"hexstring\" ( [{\"txid\":\"hex\",\"vout\":n,\"address\":\"str\"},...] \"sighashtype\" )\n\n"
      "Signs the inputs of a raw transaction (serialized, hex-encoded) that spend outputs paying the\n"
      "wallet's keys. The output each input spends is looked up among the node's unspent outputs\n"
      "(mempool included), then in prevtxs. Inputs the wallet cannot sign keep their signature.\n"
      "The transaction is neither recorded nor broadcast (see sendrawtransaction). An encrypted\n"
      "wallet must be unlocked (walletpassphrase).\n\n"
      "Arguments:\n"
      "1. hexstring      (string, required) The transaction hex string\n"
      "2. prevtxs        (json array, optional) Outputs the node may not know (their transactions\n"
      "                  are not yet broadcast):\n"
      "     [\n       {\n"
      "         \"txid\": \"hex\",       (string, required) The transaction id\n"
      "         \"vout\": n,           (numeric, required) The output number\n"
      "         \"address\": \"str\",    (string, required) The address the output pays\n"
      "       },\n       ...\n     ]\n"
      "3. sighashtype    (string, optional, default=\"DEFAULT\") \"DEFAULT\" or \"ALL\": minicoin has\n"
      "                  one kind of signature, over the whole transaction\n\n"
      "Result:\n{\n"
      "  \"hex\" : \"hex\",            (string) The transaction with the signatures\n"
      "  \"complete\" : true|false,  (boolean) Whether every input carries a valid signature\n"
      "  \"errors\" : [              (json array, only when there are errors)\n    {\n"
      "      \"txid\" : \"hex\",         (string) The spent output's transaction\n"
      "      \"vout\" : n,             (numeric) The spent output's number\n"
      "      \"signature\" : \"hex\",    (string) The input's signature (64 bytes)\n"
      "      \"error\" : \"str\"         (string) Why the input is not signed\n    },\n    ...\n  ]\n}\n\n"
      "Examples:\n> minicoin-cli signrawtransactionwithwallet \"myhex\"\n",
      [dir](const RpcRequest& request) -> json {
        std::shared_ptr<ipc::Wallet> wallet = WalletForRequest(request, *dir);
        std::string hex = ParamString(request, 0);
        std::optional<std::vector<uint8_t>> bytes = HexDecode(hex);
        if (!bytes) throw RpcError(kRpcDeserializationError, "TX decode failed: not a hex string");
        Transaction tx;
        try {
          tx = Transaction::Decode(*bytes);
        } catch (const DecodeError& e) {
          throw RpcError(kRpcDeserializationError, std::string("TX decode failed: ") + e.what());
        }
        std::vector<ipc::PrevOut> prevouts = ParsePrevTxs(Param(request, 1));
        if (std::optional<std::string> sighash = OptionalParamString(request, 2)) {
          if (*sighash != "DEFAULT" && *sighash != "ALL") {
            throw RpcError(kRpcInvalidParameter, "'" + *sighash + "' is not a valid sighash parameter.");
          }
        }
        ipc::SignedTransaction signed_tx = wallet->signRawTransaction(tx.Encode(), prevouts);
        json result{{"hex", HexEncode(signed_tx.tx)}, {"complete", signed_tx.complete}};
        if (!signed_tx.errors.empty()) {
          Transaction out = Transaction::Decode(signed_tx.tx);
          json errors = json::array();
          for (const ipc::InputError& error : signed_tx.errors) {
            if (error.index >= out.inputs.size()) continue;
            const TxIn& input = out.inputs[error.index];
            std::vector<uint8_t> signature(input.signature.begin(), input.signature.end());
            errors.push_back(json{{"txid", input.prevout.txid.ToHex()},
                                  {"vout", input.prevout.index},
                                  {"signature", HexEncode(signature)},
                                  {"error", error.message}});
          }
          result["errors"] = std::move(errors);
        }
        return result;
      },
      1);

  // Shared by the copies of the handler the table keeps; lives as long as the table.
  auto fanout = std::make_shared<WalletBalancesFanout>(wallets);
  Add(table, "listwalletbalances", {"timeout"},
      "listwalletbalances ( timeout )\n\n"
      "Returns the balances of every loaded wallet. All the wallets are asked at once (with\n"
      "minicoin-node, each in its own process), so the call takes as long as the slowest wallet,\n"
      "not the sum. Best effort: a wallet that fails, whose process died, or that does not answer\n"
      "within `timeout` gets an error entry and the others are still listed. No wallet loaded: an\n"
      "empty list.\n\n"
      "Arguments:\n"
      "1. timeout    (numeric, optional, default=5) Seconds to wait for the wallets' answers\n"
      "              (above 0, at most 3600; fractions allowed)\n\n"
      "Result:\n{\n  \"wallets\" : [\n    {\n"
      "      \"name\" : \"str\",              (string) The wallet name\n"
      "      \"mine\" : {                   (json object, when the wallet answered) as in getbalances\n"
      "        \"trusted\" : n, \"untrusted_pending\" : n, \"immature\" : n\n      },\n"
      "      \"error\" : {                  (json object, when it did not)\n"
      "        \"code\" : n,                (numeric) The RPC error code (-4 failed or timed out,\n"
      "                                   -18 not loaded any more)\n"
      "        \"message\" : \"str\"          (string) What happened\n      }\n    },\n    ...\n  ]\n}\n\n"
      "Examples:\n> minicoin-cli listwalletbalances\n> minicoin-cli listwalletbalances 0.5\n",
      [fanout](const RpcRequest& request) -> json {
        std::chrono::milliseconds timeout = kDefaultWalletBalancesTimeout;
        if (HasParam(request, 0)) {
          const json& value = Param(request, 0);
          if (!value.is_number()) throw RpcError(kRpcTypeError, "timeout must be a number of seconds");
          double seconds = value.get<double>();
          if (!std::isfinite(seconds) || seconds <= 0 || seconds > 3600) {
            throw RpcError(kRpcInvalidParameter, "timeout must be above 0 and at most 3600 seconds");
          }
          timeout = std::chrono::milliseconds(std::max<int64_t>(1, std::llround(seconds * 1000)));
        }
        json list = json::array();
        for (const WalletBalancesEntry& entry : fanout->Collect(timeout)) {
          json item{{"name", entry.name}};
          if (entry.balances) {
            item["mine"] = BalancesToJson(*entry.balances);
          } else {
            item["error"] = json{{"code", entry.error_code}, {"message", entry.error}};
          }
          list.push_back(std::move(item));
        }
        return json{{"wallets", list}};
      });
}

}  // namespace minicoin
