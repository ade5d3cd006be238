// minicoin-tx's commands (genkey, create, decode) and the amount and hex text formats they use.
#pragma once

#include "primitives/transaction.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace minicoin {

// Parses an amount in coins with at most 8 decimals ("12.5", "0.00000001", "21000000") into
// units, exactly (no floating point). Rejects signs, exponents, empty parts ("5.", ".5"), more
// than 8 decimals and amounts above kMaxMoney; the reason goes to `error`.
std::optional<uint64_t> ParseAmount(std::string_view text, std::string* error = nullptr);
// Units as coins with exactly 8 decimals: 1250000000 -> "12.50000000".
std::string FormatAmount(uint64_t units);

// Lowercase hex of bytes, and its inverse (either case; odd lengths and non-hex characters fail).
std::string HexEncode(std::span<const uint8_t> bytes);
std::optional<std::vector<uint8_t>> HexDecode(std::string_view hex);

// JSON of a transaction: txid, version, size, vin ([{txid, vout, signature}] or [{coinbase:
// true}]), vout ([{n, value (coins), address}]), height. Amounts are printed with 8 decimals.
std::string TransactionJson(const Transaction& tx);

// The result of a command: its output on success, the reason of the failure otherwise.
struct ToolResult {
  bool ok = false;
  std::string text;
};

// `genkey`: a fresh key as {"secret": hex, "pubkey": hex, "address": ...}.
ToolResult GenerateKeyCommand();
// `create`: `inputs` are "<txid>:<vout>:<secret hex>", `outputs` "<address>:<amount>"; the
// signed transaction's hex (input i signed by its key over SignatureHash(i)). With `lock_time`,
// a version 2 transaction carrying it.
ToolResult CreateCommand(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                         std::optional<uint32_t> lock_time = std::nullopt);
// `decode`: TransactionJson of the hex-encoded transaction.
ToolResult DecodeCommand(const std::string& hex);

// The whole tool: parses `args` (without the program name), writes the output to `out` and
// errors to `err`. Returns the exit code: 0 on success, 1 on any error.
int RunTxTool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace minicoin
