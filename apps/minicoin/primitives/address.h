// Bech32m strings (BIP350) and minicoin addresses: "mcrt1p..." encoding an x-only public key.
#pragma once

#include "primitives/transaction.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace minicoin {

// The human-readable part of every minicoin address.
inline constexpr std::string_view kAddressHrp = "mcrt";
// The address version (as a taproot witness version): 1, followed by the 32 key bytes.
inline constexpr uint8_t kAddressVersion = 1;

// A decoded Bech32m string: the human-readable part (lowercase) and the 5-bit data values
// without the checksum. Value type.
struct Bech32mData {
  std::string hrp;
  std::vector<uint8_t> values;
};

// Encodes `values` (each below 32) with a Bech32m checksum; lowercase. Throws
// std::invalid_argument for an invalid hrp or value, or a result longer than 90 characters.
std::string Bech32mEncode(std::string_view hrp, std::span<const uint8_t> values);
// Decodes and checks a Bech32m string (either all lowercase or all uppercase, at most 90
// characters). On failure returns nullopt and, if `error` is given, sets it to the reason.
std::optional<Bech32mData> Bech32mDecode(std::string_view text, std::string* error = nullptr);

// The address paying to `pubkey`.
std::string EncodeAddress(const XOnlyPublicKey& pubkey);
// The public key of an address; nullopt (with the reason in `error`) for a wrong human-readable
// part, a bad checksum, mixed case, or a wrong version or length.
std::optional<XOnlyPublicKey> DecodeAddress(const std::string& address, std::string* error = nullptr);

}  // namespace minicoin
