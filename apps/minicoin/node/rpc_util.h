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
#include <optional>
#include <string>
#include <vector>

namespace minicoin {

class Node;

// The RPC methods of each part of the node.
void RegisterBlockchainRpc(RpcTable& table, Node& node);
void RegisterMempoolRpc(RpcTable& table, Node& node);
void RegisterMiningRpc(RpcTable& table, Node& node);
void RegisterMiscRpc(RpcTable& table, Node& node);

// A 64-digit hex hash argument; throws RpcError -8 "<name> must be of length 64 (not N, for 'x')"
// or "<name> must be hexadecimal string".
Uint256 ParseHashArg(const nlohmann::json& value, const std::string& name);
// A hex argument decoded to bytes; throws RpcError with `error_code` and `what` if it is not hex.
std::vector<uint8_t> ParseHexArg(const nlohmann::json& value, int error_code, const std::string& what);
// An address argument; throws RpcError -5 "Invalid address: <reason>".
XOnlyPublicKey ParseAddressArg(const nlohmann::json& value);
// Optional positional argument `index`: null when absent or JSON null.
const nlohmann::json& OptionalParam(const RpcRequest& request, std::size_t index);
// Required positional argument `index`: throws RpcError -1 with the method's help if absent.
const nlohmann::json& RequiredParam(const RpcRequest& request, std::size_t index);

std::string HexEncode(const std::vector<uint8_t>& bytes);
// The compact target as Bitcoin prints it: 8 hex digits.
std::string BitsToHex(uint32_t bits);

// {txid, hash, version, size, vin, vout, height}; with `hex`, also the raw transaction.
nlohmann::json TransactionToJson(const Transaction& tx, bool include_hex);
// getblockheader's object; `chain` gives confirmations and the next block.
nlohmann::json HeaderToJson(const ChainState& chain, const BlockIndex& index);
// getblock's object: verbosity 1 lists txids, 2 the transactions.
nlohmann::json BlockToJson(const ChainState& chain, const BlockIndex& index, const Block& block, int verbosity);

}  // namespace minicoin
