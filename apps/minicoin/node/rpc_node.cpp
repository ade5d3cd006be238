// RPC methods of the mempool, mining and the node itself.
#include "chain/params.h"
#include "mining/block_assembler.h"
#include "node/node.h"
#include "node/rpc_util.h"
#include "primitives/address.h"

#include <algorithm>
#include <ctime>

namespace minicoin {

using nlohmann::json;

namespace {

// getmininginfo's networkhashps looks at this many blocks below the tip.
constexpr uint32_t kHashRateBlocks = 120;

// The fee `rate` (units per 1000 bytes) allows for `size` bytes; at least 1 unit for a rate above 0.
uint64_t FeeAtRate(uint64_t rate, std::size_t size) {
  uint64_t fee = rate * size / 1000;
  return fee == 0 && rate > 0 && size > 0 ? 1 : fee;
}

// The maxfeerate argument in units per 1000 bytes; 0 (no limit) when absent.
uint64_t MaxFeeRateArg(const json& value) {
  if (value.is_null()) return 0;
  uint64_t rate = AmountFromJson(value);
  if (rate >= kCoin) {
    throw RpcError(kRpcInvalidParameter, "Fee rates larger than or equal to 1 coin per 1000 bytes are not accepted");
  }
  return rate;
}

// getmempoolentry's object (also getrawmempool's with verbose).
json MempoolEntryToJson(const Mempool::EntryDetails& details) {
  const MempoolEntry& entry = details.entry;
  json depends = json::array();
  for (const Uint256& parent : entry.depends) depends.push_back(parent.ToHex());
  json spent_by = json::array();
  for (const Uint256& child : details.spent_by) spent_by.push_back(child.ToHex());
  return json{{"vsize", entry.size},
              {"size", entry.size},
              {"fee", AmountToJson(entry.fee)},
              {"time", entry.time},
              {"height", entry.height},
              {"descendantcount", details.descendant_count},
              {"descendantsize", details.descendant_size},
              {"ancestorcount", details.ancestor_count},
              {"ancestorsize", details.ancestor_size},
              {"wtxid", Sha256d(entry.tx.Encode()).ToHex()},
              {"fees",
               json{{"base", AmountToJson(entry.fee)},
                    {"modified", AmountToJson(entry.fee)},
                    {"ancestor", AmountToJson(details.ancestor_fee)},
                    {"descendant", AmountToJson(details.descendant_fee)}}},
              {"depends", depends},
              {"spentby", spent_by}};
}

constexpr const char* kMempoolEntryHelp =
    "{\n"
    "  \"vsize\" : n,              (numeric) The transaction's size in bytes (minicoin has no witness data)\n"
    "  \"size\" : n,               (numeric) The same\n"
    "  \"fee\" : n,                (numeric) The fee in coins (also fees.base)\n"
    "  \"time\" : n,               (numeric) When it entered the pool (seconds since 1970)\n"
    "  \"height\" : n,             (numeric) The chain's height then\n"
    "  \"descendantcount\" : n,    (numeric) Pool transactions that descend from it, itself included\n"
    "  \"descendantsize\" : n,     (numeric) Their size in bytes\n"
    "  \"ancestorcount\" : n,      (numeric) Pool transactions it descends from, itself included\n"
    "  \"ancestorsize\" : n,       (numeric) Their size in bytes\n"
    "  \"wtxid\" : \"hex\",          (string) The hash of the whole transaction, signatures included\n"
    "  \"fees\" : {\n"
    "    \"base\" : n,             (numeric) Its fee in coins\n"
    "    \"modified\" : n,         (numeric) The same (fees are never changed by hand)\n"
    "    \"ancestor\" : n,         (numeric) The fees of its ancestors and itself\n"
    "    \"descendant\" : n        (numeric) The fees of its descendants and itself\n"
    "  },\n"
    "  \"depends\" : [\"hex\",...],  (json array) Pool transactions whose outputs it spends\n"
    "  \"spentby\" : [\"hex\",...]   (json array) Pool transactions that spend its outputs\n"
    "}";

}  // namespace

void RegisterMempoolRpc(RpcTable& table, Node& node) {
  table.Add({"getrawmempool", "Blockchain", {"verbose"},
             "getrawmempool ( verbose )\n\n"
             "Returns the mempool's transactions: their ids, or (verbose) an object with each one's details.\n\n"
             "Arguments:\n1. verbose    (boolean, optional, default=false) true: an object by txid; false: an array of txids\n\n"
             "Result (verbose false):\n[\"hex\", ...]    (json array) The txids, parents before children\n\n"
             "Result (verbose true):\n{\n  \"txid\" : " + std::string(kMempoolEntryHelp) + ",\n  ...\n}\n\n"
             "Examples:\n> minicoin-cli getrawmempool true",
             [&node](const RpcRequest& request) -> json {
               if (OptionalParamBool(request, 0).value_or(false)) {
                 json result = json::object();
                 for (const Mempool::EntryDetails& details : node.mempool().AllDetails()) {
                   result[details.entry.txid.ToHex()] = MempoolEntryToJson(details);
                 }
                 return result;
               }
               json result = json::array();
               for (const MempoolEntry& entry : node.mempool().Entries()) result.push_back(entry.txid.ToHex());
               return result;
             }});
  table.Add({"getmempoolentry", "Blockchain", {"txid"},
             "getmempoolentry \"txid\"\n\n"
             "Returns the details of a transaction in the mempool.\n\n"
             "Arguments:\n1. txid    (string, required) The transaction's id\n\n"
             "Result:\n" + std::string(kMempoolEntryHelp) + "\n\n"
             "Examples:\n> minicoin-cli getmempoolentry \"txid\"",
             [&node](const RpcRequest& request) -> json {
               Uint256 txid = ParseHashArg(RequiredParam(request, 0), "txid");
               std::optional<Mempool::EntryDetails> details = node.mempool().GetDetails(txid);
               if (!details) throw RpcError(kRpcInvalidAddressOrKey, "Transaction not in mempool");
               return MempoolEntryToJson(*details);
             },
             1});
  table.Add({"getmempoolinfo", "Blockchain", {},
             "getmempoolinfo\n\nReturns details on the active state of the TX memory pool.\n\n"
             "Result: {size, bytes, usage, total_fee, maxmempool}",
             [&node](const RpcRequest&) -> json {
               Mempool::Info info = node.mempool().GetInfo();
               return json{{"loaded", true},
                           {"size", info.size},
                           {"bytes", info.bytes},
                           {"usage", info.usage},
                           {"total_fee", AmountToJson(info.total_fee)},
                           {"maxmempool", info.max_bytes}};
             }});
  table.Add({"sendrawtransaction", "Rawtransactions", {"hexstring", "maxfeerate"},
             "sendrawtransaction \"hexstring\" ( maxfeerate )\n\n"
             "Checks a signed transaction (serialized, hex-encoded) and adds it to the node's mempool, from where\n"
             "mining takes it. A transaction already in the mempool is accepted again (the same txid).\n\n"
             "Arguments:\n"
             "1. hexstring     (string, required) The transaction's hex\n"
             "2. maxfeerate    (numeric or string, optional, default=0) Refuse the transaction if its fee is more than\n"
             "                 this many coins per 1000 bytes (below 1); 0: no limit\n\n"
             "Result:\n\"hex\"    (string) The transaction's id\n\n"
             "Errors: -22 the hex does not decode; -25 an input is missing or spent (bad-txns-inputs-missingorspent),\n"
             "or the fee is above maxfeerate; -26 a rule refuses it (the reason); -27 its outputs are already in the\n"
             "chain's coin set.\n\n"
             "Examples:\n> minicoin-cli sendrawtransaction \"signedhex\"",
             [&node](const RpcRequest& request) -> json {
               Transaction tx = DecodeTransactionArg(RequiredParam(request, 0));
               uint64_t max_fee_rate = MaxFeeRateArg(Param(request, 1));
               const Uint256 txid = tx.Txid();
               if (!node.mempool().Contains(txid)) {
                 bool in_chain = false;
                 node.chain().WithTip([&](const BlockIndex&, const CoinsView& coins) {
                   for (uint32_t n = 0; n < tx.outputs.size() && !in_chain; ++n) {
                     in_chain = coins.Get(OutPoint{txid, n}).has_value();
                   }
                 });
                 if (in_chain) throw RpcError(kRpcVerifyAlreadyInChain, "Transaction outputs already in utxo set");
               }
               if (max_fee_rate > 0) {
                 std::vector<Mempool::AcceptResult> tested = node.TestTransactions({tx});
                 const uint64_t max_fee = FeeAtRate(max_fee_rate, tx.Encode().size());
                 if (!tested.empty() && tested[0].accepted && tested[0].fee > max_fee) {
                   throw RpcError(kRpcVerifyError, "Fee exceeds maximum configured by user (maxfeerate)");
                 }
               }
               Mempool::AcceptResult result = node.SubmitTransaction(tx);
               if (!result.accepted && result.reason == kRejectAlreadyInPool) return txid.ToHex();
               if (!result.accepted) {
                 if (result.reason == kRejectMissingInputs) {
                   throw RpcError(kRpcVerifyError, "bad-txns-inputs-missingorspent");
                 }
                 throw RpcError(kRpcVerifyRejected, result.reason);
               }
               return result.txid.ToHex();
             },
             1});
  table.Add({"testmempoolaccept", "Rawtransactions", {"rawtxs", "maxfeerate"},
             "testmempoolaccept [\"rawtx\",...] ( maxfeerate )\n\n"
             "Tells whether the mempool would accept the transactions, without adding them. They are checked in\n"
             "order, each as if the ones before it had been accepted (so a transaction may spend an earlier one's\n"
             "outputs). Checking stops at the first refused transaction: the ones after it get no \"allowed\".\n\n"
             "Arguments:\n"
             "1. rawtxs        (json array, required) 1 to 25 signed transactions, hex-encoded\n"
             "2. maxfeerate    (numeric or string, optional, default=0) Refuse a transaction whose fee is more than this\n"
             "                 many coins per 1000 bytes (below 1), as max-fee-exceeded; 0: no limit\n\n"
             "Result:\n[\n  {\n"
             "    \"txid\" : \"hex\",            (string) The transaction's id\n"
             "    \"wtxid\" : \"hex\",           (string) The hash of the whole transaction, signatures included\n"
             "    \"allowed\" : true|false,    (boolean, when checked) Whether the mempool would accept it\n"
             "    \"vsize\" : n,               (numeric, when allowed) Its size in bytes\n"
             "    \"fees\" : {\n"
             "      \"base\" : n               (numeric, when allowed) Its fee in coins\n"
             "    },\n"
             "    \"reject-reason\" : \"str\"    (string, when refused) Why (the reason sendrawtransaction gives)\n"
             "  },\n  ...\n]\n\n"
             "Examples:\n> minicoin-cli testmempoolaccept '[\"signedhex\"]'",
             [&node](const RpcRequest& request) -> json {
               const json& rawtxs = ParamArray(request, 0);
               if (rawtxs.empty() || rawtxs.size() > 25) {
                 throw RpcError(kRpcInvalidParameter, "Array must contain between 1 and 25 transactions.");
               }
               uint64_t max_fee_rate = MaxFeeRateArg(Param(request, 1));
               std::vector<Transaction> txs;
               for (const json& raw : rawtxs) txs.push_back(DecodeTransactionArg(raw));
               std::vector<Mempool::AcceptResult> results = node.TestTransactions(txs);
               json list = json::array();
               bool stopped = false;
               for (std::size_t i = 0; i < txs.size(); ++i) {
                 std::vector<uint8_t> raw = txs[i].Encode();
                 json item{{"txid", txs[i].Txid().ToHex()}, {"wtxid", Sha256d(raw).ToHex()}};
                 if (!stopped && i < results.size()) {
                   const Mempool::AcceptResult& result = results[i];
                   if (!result.accepted) {
                     item["allowed"] = false;
                     item["reject-reason"] = result.reason;
                     stopped = true;
                   } else if (max_fee_rate > 0 && result.fee > FeeAtRate(max_fee_rate, raw.size())) {
                     item["allowed"] = false;
                     item["reject-reason"] = "max-fee-exceeded";
                     stopped = true;
                   } else {
                     item["allowed"] = true;
                     item["vsize"] = raw.size();
                     item["fees"] = json{{"base", AmountToJson(result.fee)}};
                   }
                 }
                 list.push_back(std::move(item));
               }
               return list;
             },
             1});
}

void RegisterMiningRpc(RpcTable& table, Node& node) {
  table.Add({"generatetoaddress", "Generating", {"nblocks", "address", "maxtries"},
             "generatetoaddress nblocks \"address\" ( maxtries )\n\nMine blocks immediately to a specified address (before the RPC call returns).\n\n"
             "Arguments:\n1. nblocks     (numeric, required) How many blocks are generated.\n"
             "2. address     (string, required) The address to send the newly generated coins to.\n"
             "3. maxtries    (numeric, optional, default=1000000) How many iterations to try.\n\n"
             "Result:\n[\"hex\", ...]    (json array) hashes of blocks generated",
             [&node](const RpcRequest& request) -> json {
               const json& count_arg = RequiredParam(request, 0);
               if (!count_arg.is_number_integer()) throw RpcError(kRpcTypeError, "nblocks must be a number");
               int64_t count = count_arg.get<int64_t>();
               XOnlyPublicKey payout = ParseAddressArg(RequiredParam(request, 1));
               const json& tries_arg = OptionalParam(request, 2);
               uint64_t max_tries = 1'000'000;
               if (!tries_arg.is_null()) {
                 if (!tries_arg.is_number_integer() || tries_arg.get<int64_t>() < 0) throw RpcError(kRpcInvalidParameter, "maxtries must be a positive number");
                 max_tries = tries_arg.get<uint64_t>();
               }
               json hashes = json::array();
               for (int64_t i = 0; i < count && !node.ShutdownRequested(); ++i) {
                 std::optional<Block> block = node.MineBlock(payout, max_tries);
                 if (!block) break;  // max_tries ran out
                 Uint256 hash = block->header.Hash();
                 ChainState::BlockResult result = node.SubmitBlock(std::move(*block));
                 if (!result.accepted) throw RpcError(kRpcInternalError, "mined block rejected: " + result.reason);
                 hashes.push_back(hash.ToHex());
               }
               return hashes;
             },
             2});
  table.Add({"submitblock", "Mining", {"hexdata"},
             "submitblock \"hexdata\"\n\nAttempts to submit a new block to the network.\n\n"
             "Arguments:\n1. hexdata    (string, required) the hex-encoded block data to submit\n\n"
             "Result: null when the block became the tip; otherwise \"duplicate\" (known), \"duplicate-invalid\" (known and\n"
             "invalid), \"inconclusive\" (valid, not on the best chain) or the reason it was rejected",
             [&node](const RpcRequest& request) -> json {
               std::vector<uint8_t> bytes = ParseHexArg(RequiredParam(request, 0), kRpcDeserializationError, "Block decode failed");
               Block block;
               try {
                 block = Block::Decode(bytes);
               } catch (const DecodeError& e) {
                 throw RpcError(kRpcDeserializationError, std::string("Block decode failed: ") + e.what());
               }
               ChainState::BlockResult result = node.SubmitBlock(std::move(block));
               if (result.duplicate) return result.reason == "duplicate-invalid" ? "duplicate-invalid" : "duplicate";
               if (!result.accepted) return result.reason;
               if (!result.new_tip) return "inconclusive";
               return nullptr;
             },
             1});
  table.Add({"getmininginfo", "Mining", {},
             "getmininginfo\n\n"
             "Returns figures about mining: the chain, its difficulty, an estimate of the hash rate, the mempool.\n\n"
             "Result:\n{\n"
             "  \"blocks\" : n,           (numeric) The tip's height\n"
             "  \"bits\" : \"hex\",         (string) The tip's compact target\n"
             "  \"difficulty\" : n,       (numeric) The tip's difficulty (see getdifficulty)\n"
             "  \"target\" : \"hex\",       (string) The tip's target\n"
             "  \"networkhashps\" : n,    (numeric) Hashes per second, estimated from the work and times of the\n"
             "                          last 120 blocks\n"
             "  \"pooledtx\" : n,         (numeric) Transactions in the mempool\n"
             "  \"chain\" : \"str\",        (string) The chain: \"main\", \"test\" or \"regtest\"\n"
             "  \"warnings\" : \"str\"      (string) Warnings (none)\n"
             "}\n\n"
             "Examples:\n> minicoin-cli getmininginfo",
             [&node](const RpcRequest&) -> json {
               const BlockIndex& tip = node.chain().Tip();
               std::optional<Uint256> target = TargetFromBits(tip.header.bits);
               return json{{"blocks", tip.height},
                           {"bits", BitsToHex(tip.header.bits)},
                           {"difficulty", Difficulty(tip.header.bits)},
                           {"target", target ? target->ToHex() : std::string()},
                           {"networkhashps", NetworkHashesPerSecond(node.chain(), kHashRateBlocks)},
                           {"pooledtx", node.mempool().GetInfo().size},
                           {"chain", node.chain().params().name},
                           {"warnings", ""}};
             }});
}

void RegisterMiscRpc(RpcTable& table, Node& node) {
  table.Add({"uptime", "Control", {},
             "uptime\n\nReturns the total uptime of the server.\n\nResult:\nn    (numeric) The number of seconds that the server has been running",
             [&node](const RpcRequest&) -> json { return node.Uptime(); }});
  table.Add({"setmocktime", "hidden", {"timestamp"},
             "setmocktime timestamp\n\nSet the node's clock (regtest only): block times, the \"time-too-new\" rule, mempool\n"
             "entry times and mempool expiry follow it. Not listed by help.\n\nArguments:\n"
             "1. timestamp    (numeric, required) Unix seconds to use as the current time; 0 returns to\n"
             "                the system clock",
             [&node](const RpcRequest& request) -> json {
               if (node.chain().params().type != ChainType::kRegtest) {
                 throw RpcError(kRpcMiscError, "setmocktime works on regtest only (this is " + node.chain().params().name + ")");
               }
               int64_t time = ParamInt(request, 0);
               if (time < 0) throw RpcError(kRpcInvalidParameter, "the time cannot be negative: " + std::to_string(time));
               node.SetMockTime(time);
               return nullptr;
             }});
  table.Add({"stop", "Control", {},
             "stop\n\nRequest a graceful shutdown of the minicoin server.",
             [&node](const RpcRequest&) -> json {
               node.RequestShutdown();
               return "minicoin stopping";
             }});
  table.Add({"help", "Control", {"command"},
             "help ( \"command\" )\n\nList all commands, or get help for a specified command.\n\n"
             "Arguments:\n1. command    (string, optional, default=all commands) The command to get help on",
             [&table](const RpcRequest& request) -> json {
               const json& command = OptionalParam(request, 0);
               if (!command.is_null() && !command.is_string()) throw RpcError(kRpcTypeError, "command must be a string");
               return table.Help(command.is_null() ? std::string() : command.get<std::string>());
             }});
  table.Add({"echoipc", "Util", {"arg"},
             "echoipc \"arg\"\n\nEcho back the input argument, passing it through an Echo interface: in minicoin-node a spawned "
             "minicoin-echo process, in minicoind an object in this process.\n\n"
             "Arguments:\n1. arg    (string, required) The string to echo",
             [&node](const RpcRequest& request) -> json {
               const json& text = RequiredParam(request, 0);
               if (!text.is_string()) throw RpcError(kRpcTypeError, "arg must be a string");
               std::unique_ptr<ipc::Echo> echo = node.MakeEcho();
               return echo->echo(text.get<std::string>());
             }});
  table.Add({"validateaddress", "Util", {"address"},
             "validateaddress \"address\"\n\nReturn information about the given minicoin address.\n\n"
             "Arguments:\n1. address    (string, required) The minicoin address to validate\n\n"
             "Result: {isvalid, address, pubkey} or {isvalid: false, error}",
             [](const RpcRequest& request) -> json {
               const json& address = RequiredParam(request, 0);
               if (!address.is_string()) throw RpcError(kRpcTypeError, "address must be a string");
               std::string error;
               std::optional<XOnlyPublicKey> key = DecodeAddress(address.get<std::string>(), &error);
               if (!key) return json{{"isvalid", false}, {"error", error}};
               return json{{"isvalid", true},
                           {"address", EncodeAddress(*key)},
                           {"pubkey", HexEncode(std::vector<uint8_t>(key->begin(), key->end()))}};
             }});
}

}  // namespace minicoin
