// RPC methods that read the chain: blocks, headers, coins.
#include "node/node.h"
#include "node/rpc_util.h"
#include "primitives/address.h"

#include <cstdio>

namespace minicoin {

using nlohmann::json;

const json& OptionalParam(const RpcRequest& request, std::size_t index) {
  static const json kNull;
  if (!request.params.is_array() || index >= request.params.size()) return kNull;
  return request.params[index];
}

const json& RequiredParam(const RpcRequest& request, std::size_t index) {
  const json& value = OptionalParam(request, index);
  if (value.is_null()) {
    throw RpcError(kRpcMiscError, "missing argument " + std::to_string(index + 1) + " of " + request.method +
                                      " (see: help " + request.method + ")");
  }
  return value;
}

Uint256 ParseHashArg(const json& value, const std::string& name) {
  if (!value.is_string()) throw RpcError(kRpcTypeError, name + " must be a hex string");
  const std::string hex = value.get<std::string>();
  if (hex.size() != 64) {
    throw RpcError(kRpcInvalidParameter,
                   name + " must be of length 64 (not " + std::to_string(hex.size()) + ", for '" + hex + "')");
  }
  Uint256 hash;
  if (!Uint256::FromHex(hex, hash)) throw RpcError(kRpcInvalidParameter, name + " must be hexadecimal string (not '" + hex + "')");
  return hash;
}

std::vector<uint8_t> ParseHexArg(const json& value, int error_code, const std::string& what) {
  if (!value.is_string()) throw RpcError(kRpcTypeError, what + ": expected a hex string");
  const std::string hex = value.get<std::string>();
  if (hex.size() % 2 != 0) throw RpcError(error_code, what + ": odd number of hex digits");
  std::vector<uint8_t> bytes(hex.size() / 2);
  auto digit = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw RpcError(error_code, what + ": not a hex string");
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(digit(hex[2 * i]) * 16 + digit(hex[2 * i + 1]));
  }
  return bytes;
}

XOnlyPublicKey ParseAddressArg(const json& value) {
  if (!value.is_string()) throw RpcError(kRpcTypeError, "address must be a string");
  std::string error;
  auto key = DecodeAddress(value.get<std::string>(), &error);
  if (!key) throw RpcError(kRpcInvalidAddressOrKey, "Invalid address: " + error);
  return *key;
}

std::string HexEncode(const std::vector<uint8_t>& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (uint8_t byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 15]);
  }
  return hex;
}

std::string BitsToHex(uint32_t bits) {
  char text[9];
  std::snprintf(text, sizeof(text), "%08x", bits);
  return text;
}

json TransactionToJson(const Transaction& tx, bool include_hex) {
  std::vector<uint8_t> raw = tx.Encode();
  json result;
  result["txid"] = tx.Txid().ToHex();
  result["hash"] = Sha256d(raw).ToHex();
  result["version"] = tx.version;
  result["size"] = raw.size();
  result["height"] = tx.height;
  json vin = json::array();
  for (const TxIn& input : tx.inputs) {
    if (input.prevout.IsNull()) {
      vin.push_back({{"coinbase", true}});
    } else {
      vin.push_back({{"txid", input.prevout.txid.ToHex()}, {"vout", input.prevout.index}});
    }
  }
  result["vin"] = std::move(vin);
  json vout = json::array();
  for (std::size_t n = 0; n < tx.outputs.size(); ++n) {
    const TxOut& output = tx.outputs[n];
    vout.push_back({{"value", AmountToJson(output.amount)}, {"n", n}, {"address", EncodeAddress(output.pubkey)}});
  }
  result["vout"] = std::move(vout);
  if (include_hex) result["hex"] = HexEncode(raw);
  return result;
}

namespace {

int64_t Confirmations(const ChainState& chain, const BlockIndex& index) {
  if (!chain.IsActive(index)) return -1;
  return static_cast<int64_t>(chain.Height()) - index.height + 1;
}

}  // namespace

json HeaderToJson(const ChainState& chain, const BlockIndex& index) {
  json result;
  result["hash"] = index.hash.ToHex();
  result["confirmations"] = Confirmations(chain, index);
  result["height"] = index.height;
  result["version"] = index.header.version;
  result["merkleroot"] = index.header.merkle_root.ToHex();
  result["time"] = index.header.time;
  result["nonce"] = index.header.nonce;
  result["bits"] = BitsToHex(index.header.bits);
  result["chainwork"] = index.chain_work.ToHex();
  result["nTx"] = index.tx_count;
  if (index.prev != nullptr) result["previousblockhash"] = index.prev->hash.ToHex();
  if (chain.IsActive(index)) {
    if (const BlockIndex* next = chain.AtHeight(index.height + 1)) result["nextblockhash"] = next->hash.ToHex();
  }
  return result;
}

json BlockToJson(const ChainState& chain, const BlockIndex& index, const Block& block, int verbosity) {
  json result = HeaderToJson(chain, index);
  result["size"] = block.Encode().size();
  json txs = json::array();
  // The undo data holds the coins the block spent: with it, each transaction's fee.
  std::optional<BlockUndo> undo;
  if (verbosity >= 2) undo = chain.ReadUndo(index);
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    const Transaction& tx = block.transactions[i];
    if (verbosity >= 2) {
      json entry = TransactionToJson(tx, true);
      if (i > 0 && undo && i - 1 < undo->spent.size()) {
        uint64_t in = 0;
        for (const Coin& coin : undo->spent[i - 1]) in += coin.output.amount;
        uint64_t out = tx.OutputTotal();
        if (in >= out) entry["fee"] = AmountToJson(in - out);
      }
      txs.push_back(std::move(entry));
    } else {
      txs.push_back(tx.Txid().ToHex());
    }
  }
  result["tx"] = std::move(txs);
  return result;
}

namespace {

const BlockIndex& LookupBlockArg(const ChainState& chain, const json& value) {
  const BlockIndex* index = chain.Lookup(ParseHashArg(value, "blockhash"));
  if (index == nullptr) throw RpcError(kRpcInvalidAddressOrKey, "Block not found");
  return *index;
}

int VerbosityArg(const json& value, int default_value) {
  if (value.is_null()) return default_value;
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  if (!value.is_number_integer()) throw RpcError(kRpcTypeError, "verbosity must be a number");
  return value.get<int>();
}

}  // namespace

void RegisterBlockchainRpc(RpcTable& table, Node& node) {
  ChainState& chain = node.chain();
  table.Add({"getblockcount", "Blockchain", {},
             "getblockcount\n\nReturns the height of the most-work fully-validated chain (the genesis block has height 0).\n\n"
             "Result:\nn    (numeric) The current block count",
             [&chain](const RpcRequest&) -> json { return chain.Height(); }});
  table.Add({"getbestblockhash", "Blockchain", {},
             "getbestblockhash\n\nReturns the hash of the best (tip) block in the most-work fully-validated chain.\n\n"
             "Result:\n\"hex\"    (string) the block hash, hex-encoded",
             [&chain](const RpcRequest&) -> json { return chain.Tip().hash.ToHex(); }});
  table.Add({"getblockhash", "Blockchain", {"height"},
             "getblockhash height\n\nReturns hash of block in best-block-chain at height provided.\n\n"
             "Arguments:\n1. height    (numeric, required) The height index",
             [&chain](const RpcRequest& request) -> json {
               const json& height = RequiredParam(request, 0);
               if (!height.is_number_integer()) throw RpcError(kRpcTypeError, "height must be a number");
               int64_t value = height.get<int64_t>();
               const BlockIndex* index = value < 0 || value > 0xffffffffLL ? nullptr : chain.AtHeight(static_cast<uint32_t>(value));
               if (index == nullptr) throw RpcError(kRpcInvalidParameter, "Block height out of range");
               return index->hash.ToHex();
             }});
  table.Add({"getblock", "Blockchain", {"blockhash", "verbosity"},
             "getblock \"blockhash\" ( verbosity )\n\n"
             "If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'.\n"
             "If verbosity is 1, returns an Object with information about block <hash>.\n"
             "If verbosity is 2, returns an Object with information about block <hash> and information about each transaction.\n\n"
             "Arguments:\n1. blockhash    (string, required) The block hash\n2. verbosity    (numeric, optional, default=1) 0 for hex-encoded data, 1 for a JSON object, and 2 for JSON object with transaction data",
             [&chain](const RpcRequest& request) -> json {
               const BlockIndex& index = LookupBlockArg(chain, RequiredParam(request, 0));
               int verbosity = VerbosityArg(OptionalParam(request, 1), 1);
               std::optional<Block> block = chain.ReadBlock(index);
               if (!block) throw RpcError(kRpcMiscError, "Block not available (not fully downloaded or pruned)");
               if (verbosity <= 0) return HexEncode(block->Encode());
               return BlockToJson(chain, index, *block, verbosity);
             }});
  table.Add({"getblockheader", "Blockchain", {"blockhash", "verbose"},
             "getblockheader \"blockhash\" ( verbose )\n\n"
             "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.\n"
             "If verbose is true, returns an Object with information about blockheader <hash>.\n\n"
             "Arguments:\n1. blockhash    (string, required) The block hash\n2. verbose      (boolean, optional, default=true) true for a json object, false for the hex-encoded data",
             [&chain](const RpcRequest& request) -> json {
               const BlockIndex& index = LookupBlockArg(chain, RequiredParam(request, 0));
               const json& verbose = OptionalParam(request, 1);
               if (!verbose.is_null() && !verbose.is_boolean()) throw RpcError(kRpcTypeError, "verbose must be a boolean");
               if (!verbose.is_null() && !verbose.get<bool>()) {
                 Writer writer;
                 index.header.Serialize(writer);
                 return HexEncode(writer.bytes());
               }
               return HeaderToJson(chain, index);
             }});
  table.Add({"getblockchaininfo", "Blockchain", {},
             "getblockchaininfo\n\nReturns an object containing various state info regarding blockchain processing.\n\n"
             "Result: {chain, blocks, headers, bestblockhash, bits, target, time, chainwork, warnings}",
             [&chain](const RpcRequest&) -> json {
               const BlockIndex& tip = chain.Tip();
               std::optional<Uint256> target = TargetFromBits(tip.header.bits);
               return json{{"chain", chain.params().name},
                           {"blocks", tip.height},
                           {"headers", tip.height},
                           {"bestblockhash", tip.hash.ToHex()},
                           {"bits", BitsToHex(tip.header.bits)},
                           {"target", target ? target->ToHex() : std::string()},
                           {"time", tip.header.time},
                           {"chainwork", tip.chain_work.ToHex()},
                           {"warnings", ""}};
             }});
  table.Add({"gettxout", "Blockchain", {"txid", "n", "include_mempool"},
             "gettxout \"txid\" n ( include_mempool )\n\nReturns details about an unspent transaction output (null if spent or unknown).\n\n"
             "Arguments:\n1. txid               (string, required) The transaction id\n2. n                  (numeric, required) vout number\n"
             "3. include_mempool    (boolean, optional, default=true) Whether to include the mempool. Note that an unspent output that is spent in the mempool won't appear.",
             [&node](const RpcRequest& request) -> json {
               OutPoint outpoint;
               outpoint.txid = ParseHashArg(RequiredParam(request, 0), "txid");
               const json& n = RequiredParam(request, 1);
               if (!n.is_number_integer() || n.get<int64_t>() < 0 || n.get<int64_t>() > 0xffffffffLL) {
                 throw RpcError(kRpcInvalidParameter, "Invalid vout number");
               }
               outpoint.index = n.get<uint32_t>();
               const json& mempool_arg = OptionalParam(request, 2);
               bool include_mempool = mempool_arg.is_null() ? true : mempool_arg.get<bool>();
               std::optional<Coin> coin;
               uint32_t tip_height = 0;
               Uint256 best;
               node.chain().WithTip([&](const BlockIndex& tip, const CoinsView& coins) {
                 tip_height = tip.height;
                 best = tip.hash;
                 coin = coins.Get(outpoint);
               });
               bool in_mempool = false;
               if (include_mempool) {
                 if (coin && node.mempool().IsSpent(outpoint)) return nullptr;
                 if (!coin) {
                   coin = node.mempool().GetPoolCoin(outpoint);
                   in_mempool = coin.has_value();
                 }
               }
               if (!coin) return nullptr;
               return json{{"bestblock", best.ToHex()},
                           {"confirmations", in_mempool ? 0 : static_cast<int64_t>(tip_height) - coin->height + 1},
                           {"value", AmountToJson(coin->output.amount)},
                           {"address", EncodeAddress(coin->output.pubkey)},
                           {"coinbase", coin->coinbase}};
             }});
  table.Add({"gettxoutsetinfo", "Blockchain", {},
             "gettxoutsetinfo\n\nReturns statistics about the unspent transaction output set.\n\n"
             "Result: {height, bestblock, txouts, total_amount, hash_serialized}",
             [&chain](const RpcRequest&) -> json {
               ChainState::CoinsStats stats = chain.GetCoinsStats();
               return json{{"height", stats.height},
                           {"bestblock", stats.best_block.ToHex()},
                           {"txouts", stats.coins},
                           {"total_amount", AmountToJson(stats.total_amount)},
                           {"hash_serialized", stats.hash.ToHex()}};
             }});
}

}  // namespace minicoin
