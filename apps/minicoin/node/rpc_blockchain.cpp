// RPC methods of the chain: blocks, headers, tips, coins, difficulty; invalidating blocks.
#include "chain/work.h"
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
  result["locktime"] = tx.lock_time;
  json vin = json::array();
  for (const TxIn& input : tx.inputs) {
    if (input.prevout.IsNull()) {
      vin.push_back({{"coinbase", true}});
    } else {
      vin.push_back({{"txid", input.prevout.txid.ToHex()},
                     {"vout", input.prevout.index},
                     {"signature", HexEncode(std::vector<uint8_t>(input.signature.begin(), input.signature.end()))}});
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

double Uint256ToDouble(const Uint256& value) {
  double result = 0;
  for (std::size_t i = value.bytes().size(); i-- > 0;) result = result * 256 + value.bytes()[i];
  return result;
}

double Difficulty(uint32_t bits) {
  std::optional<Uint256> target = TargetFromBits(bits);
  std::optional<Uint256> one = TargetFromBits(kDifficultyOneBits);
  if (!target || !one || target->IsZero()) return 0;
  return Uint256ToDouble(*one) / Uint256ToDouble(*target);
}

double NetworkHashesPerSecond(const ChainState& chain, uint32_t lookup) {
  const BlockIndex& tip = chain.Tip();
  lookup = std::min(lookup, tip.height);
  if (lookup == 0) return 0;
  const BlockIndex* first = &tip;
  uint32_t min_time = tip.header.time;
  uint32_t max_time = tip.header.time;
  for (uint32_t i = 0; i < lookup; ++i) {
    first = first->prev;
    min_time = std::min(min_time, first->header.time);
    max_time = std::max(max_time, first->header.time);
  }
  if (min_time == max_time) return 0;
  return Uint256ToDouble(Subtract256(tip.chain_work, first->chain_work)) / (max_time - min_time);
}

json HeaderToJson(const ChainState& chain, const BlockIndex& index) {
  json result;
  result["hash"] = index.hash.ToHex();
  result["confirmations"] = Confirmations(chain, index);
  result["height"] = index.height;
  result["version"] = index.header.version;
  result["versionHex"] = BitsToHex(index.header.version);
  result["merkleroot"] = index.header.merkle_root.ToHex();
  result["time"] = index.header.time;
  result["mediantime"] = chain.MedianTimePast(index);
  result["nonce"] = index.header.nonce;
  result["bits"] = BitsToHex(index.header.bits);
  std::optional<Uint256> target = TargetFromBits(index.header.bits);
  result["target"] = target ? target->ToHex() : std::string();
  result["difficulty"] = Difficulty(index.header.bits);
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

}  // namespace

int VerbosityArg(const json& value, int default_value) {
  if (value.is_null()) return default_value;
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  if (!value.is_number_integer()) throw RpcError(kRpcTypeError, "verbosity must be a number");
  return value.get<int>();
}

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
             },
             1});
  table.Add({"getblock", "Blockchain", {"blockhash", "verbosity"},
             "getblock \"blockhash\" ( verbosity )\n\n"
             "If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'.\n"
             "If verbosity is 1, returns an Object with information about block <hash>.\n"
             "If verbosity is 2, returns an Object with information about block <hash> and information about each transaction.\n\n"
             "Arguments:\n1. blockhash    (string, required) The block hash\n2. verbosity    (numeric, optional, default=1) 0 for hex-encoded data, 1 for a JSON object, and 2 for JSON object with transaction data\n\n"
             "Result (verbosity 1): the fields of getblockheader, and\n"
             "  \"size\" : n,       (numeric) The block size in bytes\n"
             "  \"tx\" : [\"hex\", ...]   (json array) The transaction ids (verbosity 2: the transactions as in\n"
             "                         getrawtransaction, each with its \"fee\")",
             [&chain](const RpcRequest& request) -> json {
               const BlockIndex& index = LookupBlockArg(chain, RequiredParam(request, 0));
               int verbosity = VerbosityArg(OptionalParam(request, 1), 1);
               std::optional<Block> block = chain.ReadBlock(index);
               if (!block) throw RpcError(kRpcMiscError, "Block not available (not fully downloaded or pruned)");
               if (verbosity <= 0) return HexEncode(block->Encode());
               return BlockToJson(chain, index, *block, verbosity);
             },
             1});
  table.Add({"getblockheader", "Blockchain", {"blockhash", "verbose"},
             "getblockheader \"blockhash\" ( verbose )\n\n"
             "Returns a known block's header (of any branch): as an object, or as the 80 bytes in hex.\n\n"
             "Arguments:\n1. blockhash    (string, required) The block's hash\n"
             "2. verbose      (boolean, optional, default=true) true: an object; false: hex\n\n"
             "Result (verbose true):\n{\n"
             "  \"hash\" : \"hex\",                (string) The block's hash\n"
             "  \"confirmations\" : n,           (numeric) Blocks from it to the tip, itself included; -1 off the active chain\n"
             "  \"height\" : n,                  (numeric) Its height (genesis: 0)\n"
             "  \"version\" : n,                 (numeric) The header's version\n"
             "  \"versionHex\" : \"hex\",          (string) The same, as 8 hex digits\n"
             "  \"merkleroot\" : \"hex\",          (string) The merkle root of its transactions\n"
             "  \"time\" : n,                    (numeric) The header's time (seconds since 1970)\n"
             "  \"mediantime\" : n,              (numeric) The median time of the block and its 10 ancestors\n"
             "  \"nonce\" : n,                   (numeric) The nonce\n"
             "  \"bits\" : \"hex\",                (string) The compact target\n"
             "  \"target\" : \"hex\",              (string) The target the bits stand for\n"
             "  \"difficulty\" : n,              (numeric) The difficulty (see getdifficulty)\n"
             "  \"chainwork\" : \"hex\",           (string) Expected hashes to build the chain up to this block\n"
             "  \"nTx\" : n,                     (numeric) Its number of transactions\n"
             "  \"previousblockhash\" : \"hex\",   (string, not for genesis) The parent's hash\n"
             "  \"nextblockhash\" : \"hex\"        (string, active chain below the tip only) The child's hash\n"
             "}\n"
             "Result (verbose false):\n\"hex\"    (string) The serialized header\n\n"
             "Examples:\n> minicoin-cli getblockheader \"$(minicoin-cli getbestblockhash)\"\n"
             "> minicoin-cli getblockheader \"$(minicoin-cli getbestblockhash)\" false",
             [&chain](const RpcRequest& request) -> json {
               const BlockIndex& index = LookupBlockArg(chain, RequiredParam(request, 0));
               std::optional<bool> verbose = OptionalParamBool(request, 1);
               if (verbose && !*verbose) {
                 Writer writer;
                 index.header.Serialize(writer);
                 return HexEncode(writer.bytes());
               }
               return HeaderToJson(chain, index);
             },
             1});
  table.Add({"getblockchaininfo", "Blockchain", {},
             "getblockchaininfo\n\nReturns an object containing various state info regarding blockchain processing.\n\n"
             "Result: {chain, blocks, headers, bestblockhash, bestheaderhash, bits, target, difficulty, time, mediantime,\n"
             "chainwork, initialblockdownload, pruned, pruneheight, automatic_pruning, prune_target_size, warnings}\n"
             "  headers, bestheaderhash: the height and hash of the valid header with the most work known (the tip\n"
             "  unless peers announced headers ahead of it)\n"
             "  initialblockdownload: the node is catching up (true from the start until the tip's time first comes\n"
             "  within a day of the node's clock)\n"
             "  pruned: whether old block files are deleted (-prune); with pruning only:\n"
             "  pruneheight: the lowest height from which every block is stored, automatic_pruning: true,\n"
             "  prune_target_size: the -prune target in bytes (0 for regtest's -prune=1: keep only the last 288 blocks)",
             [&chain, &node](const RpcRequest&) -> json {
               const BlockIndex& tip = chain.Tip();
               const HeaderRef best_header = node.header_tree().BestHeader();
               std::optional<Uint256> target = TargetFromBits(tip.header.bits);
               json pruning{{"pruned", chain.PruneMode()}};
               if (chain.PruneMode()) {
                 pruning["pruneheight"] = chain.PruneHeight();
                 pruning["automatic_pruning"] = true;
                 pruning["prune_target_size"] = chain.PruneTargetBytes();
               }
               json result{{"chain", chain.params().name},
                           {"blocks", tip.height},
                           {"headers", best_header.height},
                           {"bestblockhash", tip.hash.ToHex()},
                           {"bestheaderhash", best_header.hash.ToHex()},
                           {"bits", BitsToHex(tip.header.bits)},
                           {"target", target ? target->ToHex() : std::string()},
                           {"difficulty", Difficulty(tip.header.bits)},
                           {"time", tip.header.time},
                           {"mediantime", chain.MedianTimePast(tip)},
                           {"chainwork", tip.chain_work.ToHex()},
                           {"initialblockdownload", node.IsInitialBlockDownload()},
                           {"warnings", ""}};
               result.update(pruning);
               return result;
             }});
  table.Add({"getdifficulty", "Blockchain", {},
             "getdifficulty\n\n"
             "Returns how much harder the tip's proof of work is than difficulty 1: the target of compact bits\n"
             "0x1d00ffff divided by the tip's target.\n\n"
             "Result:\nn    (numeric) The difficulty\n\n"
             "Examples:\n> minicoin-cli getdifficulty",
             [&chain](const RpcRequest&) -> json { return Difficulty(chain.Tip().header.bits); }});
  table.Add({"getchaintips", "Blockchain", {},
             "getchaintips\n\n"
             "Lists the tips of the block tree: the active chain's tip and every known block without a child,\n"
             "highest first.\n\n"
             "Result:\n[\n  {\n"
             "    \"height\" : n,        (numeric) The tip's height\n"
             "    \"hash\" : \"hex\",      (string) The tip's hash\n"
             "    \"branchlen\" : n,     (numeric) Blocks from the tip down to the active chain (0 for the active tip)\n"
             "    \"status\" : \"str\"     (string) One of\n"
             "                         \"active\"         the tip of the active chain\n"
             "                         \"valid-fork\"     off the active chain, connected once and found valid\n"
             "                         \"valid-headers\"  off the active chain, stored but never connected\n"
             "                         \"invalid\"        the tip or one of its ancestors is invalid (it broke a rule,\n"
             "                                        or invalidateblock marked it)\n"
             "  },\n  ...\n]\n\n"
             "Examples:\n> minicoin-cli getchaintips",
             [&chain](const RpcRequest&) -> json {
               json tips = json::array();
               for (const BlockIndex* tip : chain.ChainTips()) {
                 const BlockIndex* fork = chain.FindFork(*tip);
                 uint32_t status = chain.StatusOf(*tip);
                 const char* state = "valid-headers";
                 if (chain.IsActive(*tip)) {
                   state = "active";
                 } else if ((status & (BlockIndex::kFailed | BlockIndex::kFailedParent)) != 0) {
                   state = "invalid";
                 } else if ((status & BlockIndex::kValid) != 0) {
                   state = "valid-fork";
                 }
                 tips.push_back(json{{"height", tip->height},
                                     {"hash", tip->hash.ToHex()},
                                     {"branchlen", fork == nullptr ? tip->height : tip->height - fork->height},
                                     {"status", state}});
               }
               return tips;
             }});
  table.Add({"invalidateblock", "Blockchain", {"blockhash"},
             "invalidateblock \"blockhash\"\n\n"
             "Treats a block as if it broke a consensus rule, and its descendants as built on an invalid block. If\n"
             "it is in the active chain, it and the blocks above it are disconnected (their transactions go back to\n"
             "the mempool when still valid) and the node switches to the valid chain with the most work that\n"
             "remains. The mark is stored and survives a restart; reconsiderblock removes it.\n\n"
             "Arguments:\n1. blockhash    (string, required) The block's hash (not the genesis block)\n\n"
             "Result:\nnull    (json null)\n\n"
             "Examples:\n> minicoin-cli invalidateblock \"$(minicoin-cli getbestblockhash)\"",
             [&node](const RpcRequest& request) -> json {
               const BlockIndex& index = LookupBlockArg(node.chain(), RequiredParam(request, 0));
               if (index.height == 0) throw RpcError(kRpcInvalidParameter, "The genesis block cannot be invalidated");
               if (std::optional<std::string> error = node.InvalidateBlock(index.hash)) {
                 throw RpcError(kRpcDatabaseError, *error);
               }
               return nullptr;
             },
             1});
  table.Add({"reconsiderblock", "Blockchain", {"blockhash"},
             "reconsiderblock \"blockhash\"\n\n"
             "Undoes invalidateblock: clears the invalid mark of the block, of its ancestors and of its\n"
             "descendants, then switches to the valid chain with the most work (which may be the one the block\n"
             "is on). A block among them that really breaks a rule is found invalid again when connected.\n\n"
             "Arguments:\n1. blockhash    (string, required) The block's hash\n\n"
             "Result:\nnull    (json null)\n\n"
             "Examples:\n> minicoin-cli reconsiderblock \"blockhash\"",
             [&node](const RpcRequest& request) -> json {
               const BlockIndex& index = LookupBlockArg(node.chain(), RequiredParam(request, 0));
               if (std::optional<std::string> error = node.ReconsiderBlock(index.hash)) {
                 throw RpcError(kRpcDatabaseError, *error);
               }
               return nullptr;
             },
             1});
  table.Add({"gettxout", "Blockchain", {"txid", "n", "include_mempool"},
             "gettxout \"txid\" n ( include_mempool )\n\n"
             "Returns an unspent output of the tip's coin set (and of the mempool's transactions), or null when the\n"
             "output does not exist or is spent.\n\n"
             "Arguments:\n"
             "1. txid               (string, required) The transaction's id\n"
             "2. n                  (numeric, required) The output's number\n"
             "3. include_mempool    (boolean, optional, default=true) Also look at the mempool: outputs of its\n"
             "                      transactions are found, outputs its transactions spend are not\n\n"
             "Result (no such unspent output):\nnull    (json null)\n\n"
             "Result (otherwise):\n{\n"
             "  \"bestblock\" : \"hex\",     (string) The tip's hash\n"
             "  \"confirmations\" : n,     (numeric) Blocks that confirm it (0 in the mempool)\n"
             "  \"value\" : n,             (numeric) The amount in coins\n"
             "  \"address\" : \"str\",       (string) The address it pays\n"
             "  \"coinbase\" : true|false  (boolean) Whether a coinbase created it\n"
             "}\n\n"
             "Examples:\n> minicoin-cli gettxout \"txid\" 0",
             [&node](const RpcRequest& request) -> json {
               OutPoint outpoint;
               outpoint.txid = ParseHashArg(RequiredParam(request, 0), "txid");
               int64_t n = ParamInt(request, 1);
               if (n < 0 || n > 0xffffffffLL) throw RpcError(kRpcInvalidParameter, "Invalid vout number");
               outpoint.index = static_cast<uint32_t>(n);
               bool include_mempool = OptionalParamBool(request, 2).value_or(true);
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
                   if (in_mempool && node.mempool().IsSpent(outpoint)) return nullptr;
                 }
               }
               if (!coin) return nullptr;
               return json{{"bestblock", best.ToHex()},
                           {"confirmations", in_mempool ? 0 : static_cast<int64_t>(tip_height) - coin->height + 1},
                           {"value", AmountToJson(coin->output.amount)},
                           {"address", EncodeAddress(coin->output.pubkey)},
                           {"coinbase", coin->coinbase}};
             },
             2});
  table.Add({"gettxoutsetinfo", "Blockchain", {"hash_type", "hash_or_height", "use_index"},
             "gettxoutsetinfo ( \"hash_type\" hash_or_height use_index )\n\n"
             "Returns figures of the tip's set of unspent outputs (reads the whole set: may take a while).\n\n"
             "Arguments:\n"
             "1. hash_type         (string, optional, default=\"hash_serialized\") \"hash_serialized\": a double SHA-256\n"
             "                     of every coin in key order; \"none\": no hash (faster)\n"
             "2. hash_or_height    (string or numeric, optional) Another block: not available (the node keeps no\n"
             "                     coin statistics index), must be omitted or null\n"
             "3. use_index         (boolean, optional) Ignored\n\n"
             "Result:\n{\n"
             "  \"height\" : n,               (numeric) The tip's height\n"
             "  \"bestblock\" : \"hex\",        (string) The tip's hash\n"
             "  \"txouts\" : n,               (numeric) Unspent outputs\n"
             "  \"transactions\" : n,         (numeric) Transactions with at least one unspent output\n"
             "  \"hash_serialized\" : \"hex\",  (string, hash_type \"hash_serialized\" only) The hash of the set\n"
             "  \"total_amount\" : n          (numeric) The coins' total in coins\n"
             "}\n\n"
             "Examples:\n> minicoin-cli gettxoutsetinfo\n> minicoin-cli gettxoutsetinfo none",
             [&chain](const RpcRequest& request) -> json {
               std::string hash_type = OptionalParamString(request, 0).value_or("hash_serialized");
               if (hash_type != "hash_serialized" && hash_type != "none") {
                 throw RpcError(kRpcInvalidParameter, "'" + hash_type + "' is not a valid hash_type");
               }
               if (HasParam(request, 1)) {
                 throw RpcError(kRpcInvalidParameter, "Querying specific block heights requires coinstatsindex");
               }
               OptionalParamBool(request, 2);  // type check only
               ChainState::CoinsStats stats = chain.GetCoinsStats();
               json result{{"height", stats.height},
                           {"bestblock", stats.best_block.ToHex()},
                           {"txouts", stats.coins},
                           {"transactions", stats.transactions},
                           {"total_amount", AmountToJson(stats.total_amount)}};
               if (hash_type == "hash_serialized") result["hash_serialized"] = stats.hash.ToHex();
               return result;
             }});
}

}  // namespace minicoin
