// Tests of Bech32m (BIP350's published checksum vectors) and minicoin addresses.
#include "primitives/address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace minicoin {
namespace {

XOnlyPublicKey KeyFromHex(const std::string& hex) {
  XOnlyPublicKey key{};
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  return key;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

TEST(Bech32m, Bip350ValidChecksums) {
  const std::vector<std::string> valid = {
      "A1LQFN3A",
      "a1lqfn3a",
      "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
      "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
      "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
      "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
      "?1v759aa",
  };
  for (const std::string& text : valid) {
    std::string error;
    std::optional<Bech32mData> decoded = Bech32mDecode(text, &error);
    ASSERT_TRUE(decoded.has_value()) << text << ": " << error;
    EXPECT_EQ(Bech32mEncode(decoded->hrp, decoded->values), Lower(text));
  }
  // The data part of "abcdef1..." spells the charset backwards.
  std::optional<Bech32mData> decoded = Bech32mDecode("abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx");
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->values.size(), 32u);
  for (std::size_t i = 0; i < 32; ++i) EXPECT_EQ(decoded->values[i], 31 - i);
}

TEST(Bech32m, Bip350InvalidChecksums) {
  struct Case {
    std::string text;
    std::string reason;  // a substring of the error message
  };
  const std::vector<Case> invalid = {
      {std::string("\x20") + "1xj0phk", "printable"},
      {std::string("\x7f") + "1g6xzxy", "printable"},
      {std::string("\x80") + "1vctc34", "printable"},
      {"an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4", "90"},
      {"qyrz8wqd2c9m", "separator"},
      {"1qyrz8wqd2c9m", "empty human-readable"},
      {"y1b0jsk6g", "invalid data character"},
      {"lt1igcx5c0", "invalid data character"},
      {"in1muywd", "too short"},
      {"mm1crxm3i", "invalid data character"},
      {"au1s5cgom", "invalid data character"},
      {"M1VUXWEZ", "checksum"},
      {"16plkw9", "empty human-readable"},
      {"1p2gdwpf", "empty human-readable"},
  };
  for (const Case& c : invalid) {
    std::string error;
    EXPECT_FALSE(Bech32mDecode(c.text, &error).has_value()) << c.text;
    EXPECT_NE(error.find(c.reason), std::string::npos) << c.text << ": " << error;
  }
  // A valid Bech32 (BIP173, not m) string fails the Bech32m checksum.
  std::string error;
  EXPECT_FALSE(Bech32mDecode("a12uel5l", &error).has_value());
  EXPECT_NE(error.find("checksum"), std::string::npos);
  // Encoding refuses what it could not decode back.
  EXPECT_THROW(Bech32mEncode("", std::vector<uint8_t>{}), std::invalid_argument);
  EXPECT_THROW(Bech32mEncode("Abc", std::vector<uint8_t>{}), std::invalid_argument);
  EXPECT_THROW(Bech32mEncode("abc", std::vector<uint8_t>{32}), std::invalid_argument);
  EXPECT_THROW(Bech32mEncode("abc", std::vector<uint8_t>(82, 0)), std::invalid_argument);
}

TEST(Address, RoundTripAndTaprootLayout) {
  // The generator's x coordinate (the public key of secret 1).
  XOnlyPublicKey key = KeyFromHex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  std::string address = EncodeAddress(key);
  EXPECT_EQ(address.substr(0, 6), "mcrt1p");  // 'p' is version 1
  EXPECT_EQ(address.size(), 4u + 1 + 1 + 52 + 6);
  std::string error;
  std::optional<XOnlyPublicKey> decoded = DecodeAddress(address, &error);
  ASSERT_TRUE(decoded.has_value()) << error;
  EXPECT_EQ(*decoded, key);
  // Upper case is the same address; the data part is the one of BIP350's taproot vector for
  // this key (only the human-readable part and so the checksum differ).
  std::string upper = address;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(DecodeAddress(upper), key);
  std::optional<Bech32mData> taproot = Bech32mDecode("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0");
  ASSERT_TRUE(taproot.has_value());
  EXPECT_EQ(Bech32mDecode(address)->values, taproot->values);

  for (uint8_t fill : {0x00, 0x01, 0x80, 0xff}) {
    XOnlyPublicKey other{};
    other.fill(fill);
    EXPECT_EQ(DecodeAddress(EncodeAddress(other)), other);
  }
}

TEST(Address, DecodeRejectsWithClearReasons) {
  XOnlyPublicKey key = KeyFromHex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  std::string address = EncodeAddress(key);
  std::vector<uint8_t> values = Bech32mDecode(address)->values;
  auto expect_error = [](const std::string& text, const std::string& reason) {
    std::string error;
    EXPECT_FALSE(DecodeAddress(text, &error).has_value()) << text;
    EXPECT_NE(error.find(reason), std::string::npos) << text << ": " << error;
  };
  // Wrong human-readable part: BIP350's own taproot address for the same key.
  expect_error("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "human-readable part is 'bc'");
  // One changed character breaks the checksum.
  std::string changed = address;
  changed[10] = changed[10] == 'q' ? 'p' : 'q';
  expect_error(changed, "checksum");
  // Mixed case.
  std::string mixed = address;
  mixed[0] = 'M';
  expect_error(mixed, "mixed");
  // Wrong version.
  std::vector<uint8_t> version0 = values;
  version0[0] = 0;
  expect_error(Bech32mEncode("mcrt", version0), "version 0");
  expect_error(Bech32mEncode("mcrt", std::vector<uint8_t>{}), "no version");
  // Wrong lengths: one group fewer, one more.
  std::vector<uint8_t> shorter(values.begin(), values.end() - 1);
  expect_error(Bech32mEncode("mcrt", shorter), "length");
  std::vector<uint8_t> longer = values;
  longer.push_back(0);
  expect_error(Bech32mEncode("mcrt", longer), "length");
  // Non-zero padding in the last group's 4 low bits.
  std::vector<uint8_t> padded = values;
  padded.back() |= 1;
  expect_error(Bech32mEncode("mcrt", padded), "padding");
  expect_error("", "separator");
  expect_error("mcrt1", "too short");
}

}  // namespace
}  // namespace minicoin
