// JSON forms of minicoin's data for the node's RPC methods, and parsing of their arguments.
#pragma once

#include "chain/chain_state.h"
#include "primitives/block.h"
#include "primitives/transaction.h"
#include "rpc/protocol.h"
#include "rpc/table.h"
#include "rpc/util.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {

class NetBridge;
class Node;

// The RPC methods of each part of the node.
void RegisterBlockchainRpc(RpcTable& table, Node& node);
void RegisterMempoolRpc(RpcTable& table, Node& node);
void RegisterMiningRpc(RpcTable& table, Node& node);
void RegisterRawTransactionRpc(RpcTable& table, Node& node);
void RegisterMiscRpc(RpcTable& table, Node& node);
// The network methods ask `bridge` for the peer-to-peer layer at each call (null: not running).
void RegisterNetRpc(RpcTable& table, Node& node, std::function<NetBridge*()> bridge);

// The compact bits of difficulty 1: Bitcoin's easiest mainnet target, 0xffff * 2^208. A block's
// difficulty is this target divided by the block's target, so minicoin's figures read as Bitcoin's
// do (minicoin's regtest bits 0x1f7fffff are difficulty 1.19e-7).
inline constexpr uint32_t kDifficultyOneBits = 0x1d00ffff;
// The difficulty of a block with these bits; 0 for bits that stand for no valid target.
double Difficulty(uint32_t bits);
// The value of a 256-bit number (little-endian, as Uint256 stores it), rounded to a double.
double Uint256ToDouble(const Uint256& value);
// Estimated hashes per second over the `lookup` blocks below the tip (fewer near genesis): their
// work divided by the spread of their times. 0 without blocks or time spread.
double NetworkHashesPerSecond(const ChainState& chain, uint32_t lookup);

// A 64-digit hex hash argument; throws RpcError -8 "<name> must be of length 64 (not N, for 'x')"
// or "<name> must be hexadecimal string".
Uint256 ParseHashArg(const nlohmann::json& value, const std::string& name);
// A hex argument decoded to bytes; throws RpcError with `error_code` and `what` if it is not hex.
std::vector<uint8_t> ParseHexArg(const nlohmann::json& value, int error_code, const std::string& what);
// An address argument; throws RpcError -5 "Invalid address: <reason>".
XOnlyPublicKey ParseAddressArg(const nlohmann::json& value);
// Optional positional argument `index`: null when absent or JSON null.
const nlohmann::json& OptionalParam(const RpcRequest& request, std::size_t index);
// A verbosity argument: a number, or a boolean (true 1, false 0); `default_value` when null.
int VerbosityArg(const nlohmann::json& value, int default_value);
// Required positional argument `index`: throws RpcError -1 with the method's help if absent.
const nlohmann::json& RequiredParam(const RpcRequest& request, std::size_t index);

std::string HexEncode(const std::vector<uint8_t>& bytes);
// The compact target as Bitcoin prints it: 8 hex digits.
std::string BitsToHex(uint32_t bits);

// {txid, hash, version, size, vin, vout, height}: vin [{txid, vout, signature}] or [{coinbase:
// true}], vout [{value, n, address}]; with `hex`, also the raw transaction.
nlohmann::json TransactionToJson(const Transaction& tx, bool include_hex);
// A hex argument decoded to a transaction; throws RpcError -22 "TX decode failed: <reason>".
Transaction DecodeTransactionArg(const nlohmann::json& value);
// createrawtransaction's transaction: `inputs` [{"txid": hex, "vout": n}, ...], `outputs`
// [{"address": amount}, ...] or {"address": amount, ...}; the signatures are zero; a non-zero
// `locktime` (null: 0) makes it version 2. Throws RpcError with Bitcoin Core's codes (-8 bad parameter, -5 bad address, -3 bad amount or type).
Transaction CreateRawTransaction(const nlohmann::json& inputs, const nlohmann::json& outputs,
                                 const nlohmann::json& locktime = nullptr);
// getblockheader's object; `chain` gives confirmations and the next block.
nlohmann::json HeaderToJson(const ChainState& chain, const BlockIndex& index);
// getblock's object: verbosity 1 lists txids, 2 the transactions.
nlohmann::json BlockToJson(const ChainState& chain, const BlockIndex& index, const Block& block, int verbosity);

}  // namespace minicoin
