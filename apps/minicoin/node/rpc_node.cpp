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

Transaction DecodeTransactionArg(const json& value) {
  std::vector<uint8_t> bytes = ParseHexArg(value, kRpcDeserializationError, "TX decode failed");
  try {
    return Transaction::Decode(bytes);
  } catch (const DecodeError& e) {
    throw RpcError(kRpcDeserializationError, std::string("TX decode failed: ") + e.what());
  }
}

json MempoolEntryToJson(const MempoolEntry& entry) {
  json depends = json::array();
  for (const Uint256& parent : entry.depends) depends.push_back(parent.ToHex());
  return json{{"fee", AmountToJson(entry.fee)}, {"size", entry.size}, {"time", entry.time}, {"depends", depends}};
}

}  // namespace

void RegisterMempoolRpc(RpcTable& table, Node& node) {
  table.Add({"getrawmempool", "Blockchain", {"verbose"},
             "getrawmempool ( verbose )\n\nReturns all transaction ids in memory pool as a json array of string transaction ids.\n\n"
             "Arguments:\n1. verbose    (boolean, optional, default=false) True for a json object, false for array of transaction ids",
             [&node](const RpcRequest& request) -> json {
               const json& verbose = OptionalParam(request, 0);
               if (!verbose.is_null() && !verbose.is_boolean()) throw RpcError(kRpcTypeError, "verbose must be a boolean");
               std::vector<MempoolEntry> entries = node.mempool().Entries();
               if (!verbose.is_null() && verbose.get<bool>()) {
                 json result = json::object();
                 for (const MempoolEntry& entry : entries) result[entry.txid.ToHex()] = MempoolEntryToJson(entry);
                 return result;
               }
               json result = json::array();
               for (const MempoolEntry& entry : entries) result.push_back(entry.txid.ToHex());
               return result;
             }});
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
  table.Add({"sendrawtransaction", "Rawtransactions", {"hexstring"},
             "sendrawtransaction \"hexstring\"\n\nSubmit a raw transaction (serialized, hex-encoded) to the node's mempool.\n\n"
             "Arguments:\n1. hexstring    (string, required) The hex string of the raw transaction\n\n"
             "Result:\n\"hex\"    (string) The transaction hash in hex",
             [&node](const RpcRequest& request) -> json {
               Transaction tx = DecodeTransactionArg(RequiredParam(request, 0));
               Mempool::AcceptResult result = node.SubmitTransaction(tx);
               if (!result.accepted && result.reason == kRejectAlreadyInPool) return tx.Txid().ToHex();
               if (!result.accepted) {
                 if (result.reason == "missing-inputs") throw RpcError(kRpcVerifyError, "bad-txns-inputs-missingorspent");
                 throw RpcError(kRpcVerifyRejected, result.reason);
               }
               return result.txid.ToHex();
             }});
  table.Add({"getrawtransaction", "Rawtransactions", {"txid", "verbose", "blockhash"},
             "getrawtransaction \"txid\" ( verbose \"blockhash\" )\n\n"
             "Return the raw transaction data: from the mempool, or from the block given by blockhash.\n\n"
             "Arguments:\n1. txid         (string, required) The transaction id\n"
             "2. verbose      (boolean, optional, default=false) If false, return a string, otherwise return a json object\n"
             "3. blockhash    (string, optional) The block in which to look for the transaction",
             [&node](const RpcRequest& request) -> json {
               Uint256 txid = ParseHashArg(RequiredParam(request, 0), "txid");
               const json& verbose_arg = OptionalParam(request, 1);
               bool verbose = verbose_arg.is_boolean() ? verbose_arg.get<bool>()
                                                       : (verbose_arg.is_number() && verbose_arg.get<int>() != 0);
               const json& block_arg = OptionalParam(request, 2);
               std::optional<Transaction> found;
               json extra = json::object();
               if (block_arg.is_null()) {
                 if (auto entry = node.mempool().Get(txid)) found = entry->tx;
                 if (!found) {
                   throw RpcError(kRpcInvalidAddressOrKey,
                                  "No such mempool transaction. Provide the block hash to look it up in a block.");
                 }
               } else {
                 const BlockIndex* index = node.chain().Lookup(ParseHashArg(block_arg, "blockhash"));
                 if (index == nullptr) throw RpcError(kRpcInvalidAddressOrKey, "Block hash not found");
                 std::optional<Block> block = node.chain().ReadBlock(*index);
                 if (!block) throw RpcError(kRpcMiscError, "Block not available");
                 for (const Transaction& tx : block->transactions) {
                   if (tx.Txid() == txid) found = tx;
                 }
                 if (!found) throw RpcError(kRpcInvalidAddressOrKey, "No such transaction found in the provided block");
                 extra["blockhash"] = index->hash.ToHex();
                 extra["in_active_chain"] = node.chain().IsActive(*index);
               }
               if (!verbose) return HexEncode(found->Encode());
               json result = TransactionToJson(*found, true);
               result.update(extra);
               return result;
             }});
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
             }});
  table.Add({"submitblock", "Mining", {"hexdata"},
             "submitblock \"hexdata\"\n\nAttempts to submit a new block to the network.\n\n"
             "Arguments:\n1. hexdata    (string, required) the hex-encoded block data to submit\n\n"
             "Result: null when the block became the tip; otherwise \"duplicate\", \"inconclusive\" (valid, not on the best chain) or the reason it was rejected",
             [&node](const RpcRequest& request) -> json {
               std::vector<uint8_t> bytes = ParseHexArg(RequiredParam(request, 0), kRpcDeserializationError, "Block decode failed");
               Block block;
               try {
                 block = Block::Decode(bytes);
               } catch (const DecodeError& e) {
                 throw RpcError(kRpcDeserializationError, std::string("Block decode failed: ") + e.what());
               }
               ChainState::BlockResult result = node.SubmitBlock(std::move(block));
               if (result.duplicate) return "duplicate";
               if (!result.accepted) return result.reason;
               if (!result.new_tip) return "inconclusive";
               return nullptr;
             }});
}

void RegisterMiscRpc(RpcTable& table, Node& node) {
  table.Add({"uptime", "Control", {},
             "uptime\n\nReturns the total uptime of the server.\n\nResult:\nn    (numeric) The number of seconds that the server has been running",
             [&node](const RpcRequest&) -> json { return node.Uptime(); }});
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
