// minicoin-tx's commands and text formats.
#include "tools/tx_tool.h"

#include "crypto/key.h"
#include "primitives/address.h"
#include "primitives/serialize.h"

#include <sstream>

namespace minicoin {
namespace {

constexpr int kDecimals = 8;

constexpr std::string_view kUsage =
    "Usage: minicoin-tx <command> [options]\n"
    "\n"
    "Builds, signs and decodes minicoin transactions offline.\n"
    "\n"
    "Commands:\n"
    "  genkey                       Print a new key as JSON: {\"secret\", \"pubkey\", \"address\"}\n"
    "  create -in=<txid>:<vout>:<secret hex> [-in=...] -out=<address>:<amount> [-out=...]\n"
    "         [-locktime=<n>]\n"
    "                               Print the signed raw transaction (hex). Amounts are in coins\n"
    "                               with at most 8 decimals, e.g. 12.5. -locktime makes a version 2\n"
    "                               transaction that no block below height <n> + 1 (or, from\n"
    "                               500000000 on, before that time) may hold\n"
    "  decode <hex>                 Print the transaction as JSON\n"
    "\n"
    "Options:\n"
    "  -help, -h, --help            Print this help and exit\n";

ToolResult Ok(std::string text) { return {true, std::move(text)}; }
ToolResult Error(std::string text) { return {false, std::move(text)}; }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::optional<uint32_t> ParseIndex(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > 0xffffffffu) return std::nullopt;
  return static_cast<uint32_t>(value);
}

// Splits "a:b:c" at every ':'.
std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) return parts;
    start = colon + 1;
  }
}

struct SignedInput {
  OutPoint prevout;
  PrivateKey key;
};

std::optional<SignedInput> ParseInput(const std::string& text, std::string& error) {
  std::vector<std::string> parts = Split(text);
  if (parts.size() != 3) {
    error = "invalid -in '" + text + "': expected <txid>:<vout>:<secret hex>";
    return std::nullopt;
  }
  Uint256 txid;
  if (parts[0].size() != 64 || !HexDecode(parts[0]) || !Uint256::FromHex(parts[0], txid)) {
    error = "invalid -in '" + text + "': the txid must be 64 hex characters";
    return std::nullopt;
  }
  std::optional<uint32_t> vout = ParseIndex(parts[1]);
  if (!vout) {
    error = "invalid -in '" + text + "': the output index must be a number from 0 to 4294967295";
    return std::nullopt;
  }
  std::optional<std::vector<uint8_t>> secret = HexDecode(parts[2]);
  if (!secret || secret->size() != 32) {
    error = "invalid -in '" + text + "': the secret must be 64 hex characters";
    return std::nullopt;
  }
  std::optional<PrivateKey> key = PrivateKey::FromBytes(*secret);
  if (!key) {
    error = "invalid -in '" + text + "': the secret is not a valid secp256k1 key";
    return std::nullopt;
  }
  return SignedInput{OutPoint{txid, *vout}, *key};
}

std::optional<TxOut> ParseOutput(const std::string& text, std::string& error) {
  std::vector<std::string> parts = Split(text);
  if (parts.size() != 2) {
    error = "invalid -out '" + text + "': expected <address>:<amount>";
    return std::nullopt;
  }
  std::string reason;
  std::optional<XOnlyPublicKey> pubkey = DecodeAddress(parts[0], &reason);
  if (!pubkey) {
    error = "invalid -out '" + text + "': " + reason;
    return std::nullopt;
  }
  std::optional<uint64_t> amount = ParseAmount(parts[1], &reason);
  if (!amount) {
    error = "invalid -out '" + text + "': " + reason;
    return std::nullopt;
  }
  return TxOut{*amount, *pubkey};
}

bool IsHelp(const std::string& arg) { return arg == "-help" || arg == "-h" || arg == "--help" || arg == "-?"; }

}  // namespace

std::optional<uint64_t> ParseAmount(std::string_view text, std::string* error) {
  auto fail = [&](const std::string& reason) -> std::optional<uint64_t> {
    if (error) *error = "invalid amount '" + std::string(text) + "': " + reason;
    return std::nullopt;
  };
  std::size_t point = text.find('.');
  std::string_view whole = text.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  if (whole.empty()) return fail("expected digits before the decimal point");
  if (point != std::string_view::npos && fraction.empty()) return fail("expected digits after the decimal point");
  for (std::string_view part : {whole, fraction}) {
    for (char c : part) {
      if (!IsDigit(c)) return fail("expected a number of coins such as 12.5");
    }
  }
  if (fraction.size() > kDecimals) return fail("more than 8 decimals");
  // 21'000'000 has 8 digits: more digits than that (after leading zeros) is out of range.
  std::size_t first = whole.find_first_not_of('0');
  if (first != std::string_view::npos && whole.size() - first > 8) return fail("more than 21000000 coins");
  uint64_t units = 0;
  for (char c : whole) units = units * 10 + static_cast<uint64_t>(c - '0');
  units *= kCoin;
  uint64_t scale = kCoin;
  for (char c : fraction) {
    scale /= 10;
    units += scale * static_cast<uint64_t>(c - '0');
  }
  if (units > kMaxMoney) return fail("more than 21000000 coins");
  return units;
}

std::string FormatAmount(uint64_t units) {
  std::string fraction = std::to_string(units % kCoin);
  fraction.insert(0, kDecimals - fraction.size(), '0');
  return std::to_string(units / kCoin) + "." + fraction;
}

std::string HexEncode(std::span<const uint8_t> bytes) {
  constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

std::optional<std::vector<uint8_t>> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<uint8_t> out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int high = nibble(hex[i]);
    int low = nibble(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<uint8_t>(high * 16 + low));
  }
  return out;
}

std::string TransactionJson(const Transaction& tx) {
  std::ostringstream json;
  json << "{\"txid\": \"" << tx.Txid().ToHex() << "\", \"version\": " << tx.version
       << ", \"size\": " << tx.Encode().size() << ", \"vin\": [";
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
    const TxIn& input = tx.inputs[i];
    if (i > 0) json << ", ";
    if (input.prevout.IsNull()) {
      json << "{\"coinbase\": true}";
    } else {
      json << "{\"txid\": \"" << input.prevout.txid.ToHex() << "\", \"vout\": " << input.prevout.index
           << ", \"signature\": \"" << HexEncode(input.signature) << "\"}";
    }
  }
  json << "], \"vout\": [";
  for (std::size_t n = 0; n < tx.outputs.size(); ++n) {
    if (n > 0) json << ", ";
    json << "{\"n\": " << n << ", \"value\": " << FormatAmount(tx.outputs[n].amount) << ", \"address\": \""
         << EncodeAddress(tx.outputs[n].pubkey) << "\"}";
  }
  json << "], \"height\": " << tx.height;
  if (tx.version >= kLockTimeTransactionVersion) json << ", \"locktime\": " << tx.lock_time;
  json << "}";
  return json.str();
}

ToolResult GenerateKeyCommand() {
  PrivateKey key = PrivateKey::Generate();
  XOnlyPublicKey pubkey = key.PublicKey();
  return Ok("{\"secret\": \"" + HexEncode(key.Bytes()) + "\", \"pubkey\": \"" + HexEncode(pubkey) +
            "\", \"address\": \"" + EncodeAddress(pubkey) + "\"}");
}

ToolResult CreateCommand(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                         std::optional<uint32_t> lock_time) {
  if (inputs.empty()) return Error("create needs at least one -in=<txid>:<vout>:<secret hex>");
  if (outputs.empty()) return Error("create needs at least one -out=<address>:<amount>");
  if (inputs.size() > kMaxTransactionInputs) return Error("too many inputs");
  if (outputs.size() > kMaxTransactionOutputs) return Error("too many outputs");
  std::string error;
  Transaction tx;
  if (lock_time) {
    tx.version = kLockTimeTransactionVersion;
    tx.lock_time = *lock_time;
  }
  std::vector<PrivateKey> keys;
  for (const std::string& text : inputs) {
    std::optional<SignedInput> input = ParseInput(text, error);
    if (!input) return Error(error);
    if (input->prevout.IsNull()) return Error("invalid -in '" + text + "': the null outpoint marks a coinbase");
    tx.inputs.push_back(TxIn{input->prevout, {}});
    keys.push_back(input->key);
  }
  for (const std::string& text : outputs) {
    std::optional<TxOut> output = ParseOutput(text, error);
    if (!output) return Error(error);
    tx.outputs.push_back(*output);
  }
  try {
    tx.OutputTotal();
  } catch (const DecodeError&) {
    return Error("the outputs add up to more than 21000000 coins");
  }
  Uint256 txid = tx.Txid();
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
    tx.inputs[i].signature = keys[i].Sign(Transaction::SignatureHash(txid, i));
  }
  return Ok(HexEncode(tx.Encode()));
}

ToolResult DecodeCommand(const std::string& hex) {
  std::optional<std::vector<uint8_t>> bytes = HexDecode(hex);
  if (!bytes) return Error("invalid hex: expected an even number of hex characters");
  try {
    return Ok(TransactionJson(Transaction::Decode(*bytes)));
  } catch (const DecodeError& e) {
    return Error(std::string("cannot decode the transaction: ") + e.what());
  }
}

int RunTxTool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  for (const std::string& arg : args) {
    if (IsHelp(arg)) {
      out << kUsage;
      return 0;
    }
  }
  if (args.empty()) {
    err << "error: no command given (genkey, create, decode)\n\n" << kUsage;
    return 1;
  }
  const std::string& command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  ToolResult result;
  if (command == "genkey") {
    if (!rest.empty()) {
      err << "error: genkey takes no arguments, got '" << rest[0] << "'\n";
      return 1;
    }
    result = GenerateKeyCommand();
  } else if (command == "create") {
    std::vector<std::string> inputs;
    std::vector<std::string> outputs;
    std::optional<uint32_t> lock_time;
    for (const std::string& arg : rest) {
      if (arg.starts_with("-in=")) {
        inputs.push_back(arg.substr(4));
      } else if (arg.starts_with("-out=")) {
        outputs.push_back(arg.substr(5));
      } else if (arg.starts_with("-locktime=")) {
        lock_time = ParseIndex(arg.substr(10));
        if (!lock_time) {
          err << "error: invalid -locktime '" << arg.substr(10) << "': expected a number from 0 to 4294967295\n";
          return 1;
        }
      } else {
        err << "error: unknown create argument '" << arg << "' (expected -in=..., -out=... or -locktime=...)\n";
        return 1;
      }
    }
    result = CreateCommand(inputs, outputs, lock_time);
  } else if (command == "decode") {
    if (rest.size() != 1) {
      err << "error: decode takes exactly one argument, the transaction hex\n";
      return 1;
    }
    result = DecodeCommand(rest[0]);
  } else {
    err << "error: unknown command '" << command << "' (genkey, create, decode; -help for usage)\n";
    return 1;
  }
  if (!result.ok) {
    err << "error: " << result.text << "\n";
    return 1;
  }
  out << result.text << "\n";
  return 0;
}

}  // namespace minicoin
