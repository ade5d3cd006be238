// Helpers for RPC handlers: positional parameters with type checks, amounts in coins.
#pragma once

#include "primitives/transaction.h"  // kCoin, kMaxMoney
#include "rpc/table.h"

#include <cstdint>
#include <optional>
#include <string>

namespace minicoin {

// JSON value types as RPC errors name them (bitcoind's names: "bool", not "boolean").
enum class JsonType { kNull, kBool, kNumber, kString, kArray, kObject };
const char* JsonTypeName(JsonType type);
JsonType TypeOf(const nlohmann::json& value);
// Throws RpcError(kRpcTypeError, "JSON value of type string is not of expected type number").
void CheckType(const nlohmann::json& value, JsonType expected);

// The number of positional parameters (trailing nulls included).
std::size_t ParamCount(const RpcRequest& request);
// Parameter `index`, or null when absent.
const nlohmann::json& Param(const RpcRequest& request, std::size_t index);
// Present and not null.
bool HasParam(const RpcRequest& request, std::size_t index);

// Required parameters: a missing or null one is a type error, as in bitcoind.
std::string ParamString(const RpcRequest& request, std::size_t index);
int64_t ParamInt(const RpcRequest& request, std::size_t index);
bool ParamBool(const RpcRequest& request, std::size_t index);
const nlohmann::json& ParamArray(const RpcRequest& request, std::size_t index);
const nlohmann::json& ParamObject(const RpcRequest& request, std::size_t index);
// Optional parameters: nullopt when absent or null.
std::optional<std::string> OptionalParamString(const RpcRequest& request, std::size_t index);
std::optional<int64_t> OptionalParamInt(const RpcRequest& request, std::size_t index);
std::optional<bool> OptionalParamBool(const RpcRequest& request, std::size_t index);

// A JSON number that is an integer in int64 range; kRpcTypeError otherwise.
int64_t JsonToInt(const nlohmann::json& value);

// Parses a decimal ("1.5", "-0.25", "1e-8", "12") into an integer scaled by 10^decimals; nullopt
// when malformed, with more significant decimals than `decimals`, or beyond 10^18.
std::optional<int64_t> ParseFixedPoint(const std::string& text, int decimals);
// An amount in coins (number or string, at most 8 decimals) as units. Throws RpcError
// kRpcTypeError: "Amount is not a number or string", "Invalid amount", "Amount out of range"
// (negative or more than 21 million coins).
uint64_t AmountFromJson(const nlohmann::json& value);
// Units as a JSON number of coins (1 unit -> 1e-08). Exact: AmountFromJson gives back `units`.
nlohmann::json AmountToJson(uint64_t units);
// Units as "12.34500000" (always 8 decimals), for text output.
std::string FormatAmount(uint64_t units);

}  // namespace minicoin
