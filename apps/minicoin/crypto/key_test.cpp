// Tests of raw secret keys: validity of the scalar, round trip, known public keys.
#include "crypto/key.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace minicoin {
namespace {

std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

TEST(Key, FromBytesChecksTheScalar) {
  // Zero and the group order n are not keys; n - 1 is.
  EXPECT_FALSE(PrivateKey::FromBytes(std::vector<uint8_t>(32, 0)).has_value());
  EXPECT_FALSE(PrivateKey::FromBytes(FromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")).has_value());
  EXPECT_FALSE(PrivateKey::FromBytes(std::vector<uint8_t>(32, 0xff)).has_value());
  EXPECT_TRUE(PrivateKey::FromBytes(FromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")).has_value());
  // Only exactly 32 bytes.
  EXPECT_FALSE(PrivateKey::FromBytes(std::vector<uint8_t>(31, 1)).has_value());
  EXPECT_FALSE(PrivateKey::FromBytes(std::vector<uint8_t>(33, 1)).has_value());
  EXPECT_FALSE(PrivateKey::FromBytes(std::vector<uint8_t>{}).has_value());
}

TEST(Key, FromBytesGivesKnownPublicKeys) {
  std::optional<PrivateKey> one = PrivateKey::FromBytes(FromHex("0000000000000000000000000000000000000000000000000000000000000001"));
  ASSERT_TRUE(one.has_value());
  XOnlyPublicKey generator_x{};
  std::vector<uint8_t> expected = FromHex("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
  std::copy(expected.begin(), expected.end(), generator_x.begin());
  EXPECT_EQ(one->PublicKey(), generator_x);
  // BIP340's first test vector: secret 3.
  std::optional<PrivateKey> three = PrivateKey::FromBytes(FromHex("0000000000000000000000000000000000000000000000000000000000000003"));
  ASSERT_TRUE(three.has_value());
  expected = FromHex("f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9");
  XOnlyPublicKey three_x{};
  std::copy(expected.begin(), expected.end(), three_x.begin());
  EXPECT_EQ(three->PublicKey(), three_x);
}

TEST(Key, BytesRoundTrip) {
  PrivateKey key = PrivateKey::Generate();
  std::array<uint8_t, 32> bytes = key.Bytes();
  std::optional<PrivateKey> again = PrivateKey::FromBytes(bytes);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->Bytes(), bytes);
  EXPECT_EQ(again->PublicKey(), key.PublicKey());
  Uint256 message = Sha256(bytes);
  EXPECT_TRUE(VerifySchnorr(key.PublicKey(), message, again->Sign(message)));
  EXPECT_NE(PrivateKey::Generate().Bytes(), bytes);
}

}  // namespace
}  // namespace minicoin
