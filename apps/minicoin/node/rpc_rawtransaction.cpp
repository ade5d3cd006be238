// RPC methods of raw transactions: creating, decoding and finding them.
#include "chain/params.h"
#include "chain/tx_index.h"
#include "node/node.h"
#include "node/rpc_util.h"
#include "primitives/address.h"

#include <map>

namespace minicoin {

using nlohmann::json;

Transaction DecodeTransactionArg(const json& value) {
  std::vector<uint8_t> bytes = ParseHexArg(value, kRpcDeserializationError, "TX decode failed");
  try {
    return Transaction::Decode(bytes);
  } catch (const DecodeError& e) {
    throw RpcError(kRpcDeserializationError, std::string("TX decode failed: ") + e.what());
  }
}

namespace {

TxIn InputFromJson(const json& input) {
  CheckType(input, JsonType::kObject);
  TxIn result;
  result.prevout.txid = ParseHashArg(input.contains("txid") ? input["txid"] : json(), "txid");
  if (!input.contains("vout") || !input["vout"].is_number()) {
    throw RpcError(kRpcInvalidParameter, "Invalid parameter, missing vout key");
  }
  int64_t vout = JsonToInt(input["vout"]);
  if (vout < 0) throw RpcError(kRpcInvalidParameter, "Invalid parameter, vout cannot be negative");
  if (vout > 0xffffffffLL) {
    throw RpcError(kRpcInvalidParameter, "Invalid parameter, vout is too large");
  }
  result.prevout.index = static_cast<uint32_t>(vout);
  if (result.prevout.IsNull()) {
    throw RpcError(kRpcInvalidParameter,
                   "Invalid parameter, the null outpoint is a coinbase's input");
  }
  return result;
}

}  // namespace

Transaction CreateRawTransaction(const json& inputs, const json& outputs, const json& locktime) {
  if (inputs.is_null() || outputs.is_null()) {
    throw RpcError(kRpcInvalidParameter, "Invalid parameter, arguments 1 and 2 must be non-null");
  }
  CheckType(inputs, JsonType::kArray);
  Transaction tx;
  if (!locktime.is_null()) {
    if (!locktime.is_number_integer() || locktime.get<int64_t>() < 0 || locktime.get<int64_t>() > 0xffffffffLL) {
      throw RpcError(kRpcInvalidParameter, "Invalid parameter, locktime out of range");
    }
    tx.lock_time = static_cast<uint32_t>(locktime.get<int64_t>());
    if (tx.lock_time != 0) tx.version = kLockTimeTransactionVersion;
  }
  for (const json& input : inputs) tx.inputs.push_back(InputFromJson(input));

  // Outputs as [{"address": amount}, ...] (in this order) or {"address": amount, ...}.
  std::vector<std::pair<std::string, json>> pairs;
  if (outputs.is_array()) {
    for (const json& output : outputs) {
      if (!output.is_object()) {
        throw RpcError(kRpcInvalidParameter,
                       "Invalid parameter, key-value pair not an object as expected");
      }
      if (output.size() != 1) {
        throw RpcError(kRpcInvalidParameter,
                       "Invalid parameter, key-value pair must contain exactly one key");
      }
      pairs.emplace_back(output.begin().key(), output.begin().value());
    }
  } else if (outputs.is_object()) {
    for (const auto& [address, amount] : outputs.items()) pairs.emplace_back(address, amount);
  } else {
    throw RpcError(kRpcTypeError, std::string("JSON value of type ") +
                                      JsonTypeName(TypeOf(outputs)) +
                                      " is not of expected type array or object");
  }
  std::map<XOnlyPublicKey, std::string> seen;
  for (const auto& [address, amount] : pairs) {
    XOnlyPublicKey pubkey = ParseAddressArg(json(address));
    if (!seen.emplace(pubkey, address).second) {
      throw RpcError(kRpcInvalidParameter, "Invalid parameter, duplicated address: " + address);
    }
    tx.outputs.push_back(TxOut{AmountFromJson(amount), pubkey});
  }

  const char* problem = nullptr;
  if (tx.inputs.empty()) problem = "a transaction needs at least one input";
  if (tx.outputs.empty()) problem = "a transaction needs at least one output";
  if (tx.inputs.size() > kMaxTransactionInputs) problem = "too many inputs";
  if (tx.outputs.size() > kMaxTransactionOutputs) problem = "too many outputs";
  if (problem != nullptr) {
    throw RpcError(kRpcInvalidParameter, std::string("Invalid parameter, ") + problem);
  }
  try {
    tx.OutputTotal();
  } catch (const DecodeError&) {
    throw RpcError(kRpcTypeError,
                   "Amount out of range: the outputs add up to more than 21000000 coins");
  }
  return tx;
}

namespace {

// getrawtransaction's object for a transaction of `index`'s block (the `position`th): the block's
// place, and with verbosity 2 the fee and the outputs its inputs spent (from the undo data).
json BlockTransactionToJson(const ChainState& chain, const BlockIndex& index, const Transaction& tx,
                            std::size_t position, int verbosity) {
  json result = TransactionToJson(tx, true);
  const bool active = chain.IsActive(index);
  result["in_active_chain"] = active;
  result["blockhash"] = index.hash.ToHex();
  if (active) {
    result["confirmations"] = static_cast<int64_t>(chain.Height()) - index.height + 1;
    result["time"] = index.header.time;
    result["blocktime"] = index.header.time;
  } else {
    result["confirmations"] = 0;
  }
  if (verbosity < 2 || position == 0) return result;
  std::optional<BlockUndo> undo = chain.ReadUndo(index);
  if (!undo || position - 1 >= undo->spent.size() ||
      undo->spent[position - 1].size() != tx.inputs.size()) {
    return result;
  }
  const std::vector<Coin>& spent = undo->spent[position - 1];
  uint64_t in = 0;
  for (std::size_t i = 0; i < spent.size(); ++i) {
    const Coin& coin = spent[i];
    in += coin.output.amount;
    result["vin"][i]["prevout"] = json{{"generated", coin.coinbase},
                                       {"height", coin.height},
                                       {"value", AmountToJson(coin.output.amount)},
                                       {"address", EncodeAddress(coin.output.pubkey)}};
  }
  uint64_t out = tx.OutputTotal();
  if (in >= out) result["fee"] = AmountToJson(in - out);
  return result;
}

// A confirmed transaction found through the transaction index, as getrawtransaction returns
// it; nullopt if the index does not know it (or its block cannot be read any more).
std::optional<json> FindIndexedTransaction(Node& node, const Uint256& txid, int verbosity) {
  std::optional<TxIndex::Location> location = node.tx_index()->Find(txid);
  if (!location) return std::nullopt;
  const ChainState& chain = node.chain();
  const BlockIndex* index = chain.Lookup(location->block);
  if (index == nullptr) return std::nullopt;
  std::optional<Block> block = chain.ReadBlock(*index);
  if (!block || location->position >= block->transactions.size()) return std::nullopt;
  const Transaction& tx = block->transactions[location->position];
  if (tx.Txid() != txid) return std::nullopt;
  if (verbosity <= 0) return json(HexEncode(tx.Encode()));
  json result = BlockTransactionToJson(chain, *index, tx, location->position, verbosity);
  result.erase("in_active_chain");  // only with an explicit block hash, as in Bitcoin Core
  return result;
}

// The fields of decoderawtransaction's and getrawtransaction's transaction object.
std::string TransactionFieldsHelp() {
  return "  \"txid\" : \"hex\",       (string) The id: the hash without the signatures\n"
         "  \"hash\" : \"hex\",       (string) The hash with the signatures\n"
         "  \"version\" : n,        (numeric) The version\n"
         "  \"size\" : n,           (numeric) The size in bytes\n"
         "  \"height\" : n,         (numeric) A coinbase's block height (else 0)\n"
         "  \"vin\" : [             (json array) The inputs\n"
         "    {\n"
         "      \"coinbase\" : true,    (boolean) Only in a coinbase\n"
         "      \"txid\" : \"hex\",       (string) The transaction it spends from\n"
         "      \"vout\" : n,           (numeric) The output it spends\n"
         "      \"signature\" : \"hex\"   (string) The Schnorr signature (64 bytes)\n"
         "    },\n"
         "    ...\n"
         "  ],\n"
         "  \"vout\" : [            (json array) The outputs\n"
         "    {\n"
         "      \"value\" : n,          (numeric) The amount in coins\n"
         "      \"n\" : n,              (numeric) The output's number\n"
         "      \"address\" : \"str\"     (string) The address it pays\n"
         "    },\n"
         "    ...\n"
         "  ]\n";
}

std::string GetRawTransactionHelp() {
  std::string help =
      "getrawtransaction \"txid\" ( verbosity \"blockhash\" )\n\n"
      "Returns a transaction of the mempool or, with blockhash, of that block\n"
      "(of any branch). Without blockhash the mempool is searched, then, with\n"
      "-txindex, the transactions of the active chain; without -txindex only\n"
      "the mempool.\n\n"
      "Arguments:\n"
      "1. txid         (string, required) The transaction's id\n"
      "2. verbosity    (numeric or boolean, optional, default=0) 0 (false): the\n"
      "                hex; 1 (true): an object; 2: the object with the fee and\n"
      "                the outputs the inputs spent (transactions of blocks)\n"
      "3. blockhash    (string, optional) The block to look in\n\n"
      "Result (verbosity 0):\n\"hex\"    (string) The serialized transaction\n\n"
      "Result (verbosity 1):\n{\n";
  help += TransactionFieldsHelp();
  help +=
      "  \"hex\" : \"hex\",            (string) The serialized transaction\n"
      "  \"in_active_chain\" : bool, (boolean, with blockhash) Is the block active\n"
      "  \"blockhash\" : \"hex\",      (string, confirmed) The block\n"
      "  \"confirmations\" : n,      (numeric, confirmed) Blocks confirming\n"
      "                            it (0 off the active chain)\n"
      "  \"time\" : n,               (numeric, active chain) The block's time\n"
      "  \"blocktime\" : n           (numeric, active chain) The same\n"
      "}\n\n"
      "Result (verbosity 2): as 1, and\n"
      "  \"fee\" : n,                (numeric, not a coinbase) The fee in coins\n"
      "  each input's \"prevout\" : { \"generated\" : bool, \"height\" : n,\n"
      "                \"value\" : n, \"address\" : \"str\" }   (the output spent)\n\n"
      "Examples:\n> minicoin-cli getrawtransaction \"txid\" 1\n"
      "> minicoin-cli getrawtransaction \"txid\" 2 \"blockhash\"";
  return help;
}

std::string CreateRawTransactionHelp() {
  return "createrawtransaction [{\"txid\":\"hex\",\"vout\":n},...] "
         "[{\"address\":amount},...] ( locktime )\n\n"
         "Creates a transaction spending the given outputs and paying the given\n"
         "addresses, and returns it hex-encoded. Its signatures are zero: sign it\n"
         "(signrawtransactionwithwallet, or minicoin-tx) before sendrawtransaction.\n"
         "The node's coins are not consulted: the inputs need not exist.\n\n"
         "Arguments:\n"
         "1. inputs     (json array, required) The outputs to spend\n"
         "     [\n"
         "       {\n"
         "         \"txid\": \"hex\",    (string, required) The transaction's id\n"
         "         \"vout\": n         (numeric, required) The output's number\n"
         "       },\n"
         "       ...\n"
         "     ]\n"
         "2. outputs    (json array or object, required) The payments:\n"
         "              [{\"address\": amount}, ...] keeps their order;\n"
         "              {\"address\": amount, ...} orders them by address.\n"
         "              Each address at most once; amounts in coins (numbers or\n"
         "              strings, up to 8 decimals)\n"
         "3. locktime   (numeric, optional, default=0) The earliest block: a height, or\n"
         "              from 500000000 on a time; non-zero makes a version 2 transaction\n\n"
         "Result:\n\"hex\"    (string) The unsigned transaction\n\n"
         "Examples:\n"
         "> minicoin-cli createrawtransaction '[{\"txid\":\"myid\",\"vout\":0}]' "
         "'[{\"address\":0.01}]'";
}

std::string DecodeRawTransactionHelp() {
  return "decoderawtransaction \"hexstring\"\n\n"
         "Returns the transaction a hex string encodes, as an object.\n\n"
         "Arguments:\n1. hexstring    (string, required) The transaction's hex\n\n"
         "Result:\n{\n" +
         TransactionFieldsHelp() +
         "}\n\n"
         "Examples:\n> minicoin-cli decoderawtransaction \"hexstring\"";
}

}  // namespace

void RegisterRawTransactionRpc(RpcTable& table, Node& node) {
  table.Add({"getrawtransaction",
             "Rawtransactions",
             {"txid", "verbosity", "blockhash"},
             GetRawTransactionHelp(),
             [&node](const RpcRequest& request) -> json {
               Uint256 txid = ParseHashArg(RequiredParam(request, 0), "txid");
               int verbosity = VerbosityArg(OptionalParam(request, 1), 0);
               const json& block_arg = OptionalParam(request, 2);
               if (txid == GenesisBlock().transactions[0].Txid()) {
                 throw RpcError(kRpcInvalidAddressOrKey,
                                "The genesis block coinbase is not considered an ordinary "
                                "transaction and cannot be retrieved");
               }
               if (block_arg.is_null()) {
                 std::optional<MempoolEntry> entry = node.mempool().Get(txid);
                 if (entry) {
                   if (verbosity <= 0) return HexEncode(entry->tx.Encode());
                   return TransactionToJson(entry->tx, true);
                 }
                 if (node.tx_index() == nullptr) {
                   throw RpcError(kRpcInvalidAddressOrKey,
                                  "No such mempool transaction. Use -txindex or provide a block "
                                  "hash to enable blockchain transaction queries");
                 }
                 if (std::optional<json> found = FindIndexedTransaction(node, txid, verbosity)) return *found;
                 throw RpcError(kRpcInvalidAddressOrKey,
                                "No such mempool or blockchain transaction. Use gettransaction for "
                                "wallet transactions.");
               }
               const BlockIndex* index = node.chain().Lookup(ParseHashArg(block_arg, "blockhash"));
               if (index == nullptr)
                 throw RpcError(kRpcInvalidAddressOrKey, "Block hash not found");
               std::optional<Block> block = node.chain().ReadBlock(*index);
               if (!block) throw RpcError(kRpcMiscError, "Block not available");
               for (std::size_t i = 0; i < block->transactions.size(); ++i) {
                 const Transaction& tx = block->transactions[i];
                 if (tx.Txid() != txid) continue;
                 if (verbosity <= 0) return HexEncode(tx.Encode());
                 return BlockTransactionToJson(node.chain(), *index, tx, i, verbosity);
               }
               throw RpcError(kRpcInvalidAddressOrKey,
                              "No such transaction found in the provided block");
             },
             1});
  table.Add({"createrawtransaction",
             "Rawtransactions",
             {"inputs", "outputs", "locktime"},
             CreateRawTransactionHelp(),
             [](const RpcRequest& request) -> json {
               Transaction tx = CreateRawTransaction(Param(request, 0), Param(request, 1), OptionalParam(request, 2));
               return HexEncode(tx.Encode());
             },
             2});
  table.Add({"decoderawtransaction",
             "Rawtransactions",
             {"hexstring"},
             DecodeRawTransactionHelp(),
             [](const RpcRequest& request) -> json {
               return TransactionToJson(DecodeTransactionArg(RequiredParam(request, 0)), false);
             },
             1});
}

}  // namespace minicoin
