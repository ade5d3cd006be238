// Bech32m strings (BIP350) and minicoin addresses.
#include "primitives/address.h"

#include <stdexcept>

namespace minicoin {
namespace {

constexpr std::string_view kCharset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
constexpr uint32_t kBech32mConstant = 0x2bc830a3;
constexpr std::size_t kMaxLength = 90;
constexpr std::size_t kChecksumLength = 6;

// The BCH checksum polynomial of BIP173, over 5-bit values.
uint32_t PolyMod(std::span<const uint8_t> values) {
  constexpr uint32_t kGenerator[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
  uint32_t checksum = 1;
  for (uint8_t value : values) {
    uint32_t top = checksum >> 25;
    checksum = ((checksum & 0x1ffffff) << 5) ^ value;
    for (int bit = 0; bit < 5; ++bit) {
      if ((top >> bit) & 1) checksum ^= kGenerator[bit];
    }
  }
  return checksum;
}

// The hrp expanded for checksumming: high bits of each character, a zero, the low bits.
std::vector<uint8_t> ExpandHrp(std::string_view hrp) {
  std::vector<uint8_t> out;
  out.reserve(hrp.size() * 2 + 1);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(c) >> 5));
  out.push_back(0);
  for (char c : hrp) out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(c) & 31));
  return out;
}

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int CharsetIndex(char c) {
  std::size_t position = kCharset.find(c);
  return position == std::string_view::npos ? -1 : static_cast<int>(position);
}

bool Fail(std::string* error, std::string message) {
  if (error) *error = std::move(message);
  return false;
}

}  // namespace

std::string Bech32mEncode(std::string_view hrp, std::span<const uint8_t> values) {
  if (hrp.empty()) throw std::invalid_argument("bech32m: empty human-readable part");
  for (char c : hrp) {
    if (c < 33 || c > 126 || (c >= 'A' && c <= 'Z')) {
      throw std::invalid_argument("bech32m: invalid human-readable part character");
    }
  }
  for (uint8_t value : values) {
    if (value >= 32) throw std::invalid_argument("bech32m: data value above 31");
  }
  if (hrp.size() + 1 + values.size() + kChecksumLength > kMaxLength) {
    throw std::invalid_argument("bech32m: string longer than 90 characters");
  }
  std::vector<uint8_t> checked = ExpandHrp(hrp);
  checked.insert(checked.end(), values.begin(), values.end());
  checked.insert(checked.end(), kChecksumLength, 0);
  uint32_t checksum = PolyMod(checked) ^ kBech32mConstant;

  std::string out(hrp);
  out += '1';
  for (uint8_t value : values) out += kCharset[value];
  for (std::size_t i = 0; i < kChecksumLength; ++i) out += kCharset[(checksum >> (5 * (5 - i))) & 31];
  return out;
}

std::optional<Bech32mData> Bech32mDecode(std::string_view text, std::string* error) {
  if (text.size() > kMaxLength) {
    Fail(error, "longer than 90 characters");
    return std::nullopt;
  }
  bool lower = false;
  bool upper = false;
  for (char c : text) {
    if (c < 33 || c > 126) {
      Fail(error, "invalid character (outside printable ASCII)");
      return std::nullopt;
    }
    if (c >= 'a' && c <= 'z') lower = true;
    if (c >= 'A' && c <= 'Z') upper = true;
  }
  if (lower && upper) {
    Fail(error, "mixed upper and lower case");
    return std::nullopt;
  }
  std::size_t separator = text.rfind('1');
  if (separator == std::string_view::npos) {
    Fail(error, "missing separator '1'");
    return std::nullopt;
  }
  if (separator == 0) {
    Fail(error, "empty human-readable part");
    return std::nullopt;
  }
  if (text.size() - separator - 1 < kChecksumLength) {
    Fail(error, "checksum too short");
    return std::nullopt;
  }
  Bech32mData out;
  for (char c : text.substr(0, separator)) out.hrp += ToLower(c);
  std::vector<uint8_t> values;
  for (char c : text.substr(separator + 1)) {
    int index = CharsetIndex(ToLower(c));
    if (index < 0) {
      Fail(error, std::string("invalid data character '") + c + "'");
      return std::nullopt;
    }
    values.push_back(static_cast<uint8_t>(index));
  }
  std::vector<uint8_t> checked = ExpandHrp(out.hrp);
  checked.insert(checked.end(), values.begin(), values.end());
  if (PolyMod(checked) != kBech32mConstant) {
    Fail(error, "bad bech32m checksum");
    return std::nullopt;
  }
  values.resize(values.size() - kChecksumLength);
  out.values = std::move(values);
  return out;
}

std::string EncodeAddress(const XOnlyPublicKey& pubkey) {
  std::vector<uint8_t> values{kAddressVersion};
  uint32_t accumulator = 0;
  int bits = 0;
  for (uint8_t byte : pubkey) {
    accumulator = (accumulator << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      values.push_back(static_cast<uint8_t>((accumulator >> bits) & 31));
    }
  }
  if (bits > 0) values.push_back(static_cast<uint8_t>((accumulator << (5 - bits)) & 31));
  return Bech32mEncode(kAddressHrp, values);
}

std::optional<XOnlyPublicKey> DecodeAddress(const std::string& address, std::string* error) {
  std::string reason;
  std::optional<Bech32mData> decoded = Bech32mDecode(address, &reason);
  if (!decoded) {
    Fail(error, "invalid address: " + reason);
    return std::nullopt;
  }
  if (decoded->hrp != kAddressHrp) {
    Fail(error, "invalid address: human-readable part is '" + decoded->hrp + "', expected '" +
                    std::string(kAddressHrp) + "'");
    return std::nullopt;
  }
  if (decoded->values.empty() || decoded->values[0] != kAddressVersion) {
    Fail(error, decoded->values.empty() ? "invalid address: no version"
                                        : "invalid address: unsupported version " +
                                              std::to_string(decoded->values[0]));
    return std::nullopt;
  }
  // 32 bytes are 256 bits: 52 five-bit groups, the last one padded with 4 zero bits.
  constexpr std::size_t kGroups = 52;
  if (decoded->values.size() - 1 != kGroups) {
    Fail(error, "invalid address: wrong length (" + std::to_string(decoded->values.size() - 1) +
                    " data characters, expected 52)");
    return std::nullopt;
  }
  XOnlyPublicKey pubkey{};
  uint32_t accumulator = 0;
  int bits = 0;
  std::size_t filled = 0;
  for (std::size_t i = 1; i < decoded->values.size(); ++i) {
    accumulator = ((accumulator << 5) | decoded->values[i]) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      pubkey[filled++] = static_cast<uint8_t>((accumulator >> bits) & 0xff);
    }
  }
  if ((accumulator & ((1u << bits) - 1)) != 0) {
    Fail(error, "invalid address: non-zero padding bits");
    return std::nullopt;
  }
  return pubkey;
}

}  // namespace minicoin
