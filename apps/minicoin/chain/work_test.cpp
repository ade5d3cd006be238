// Tests of the 256-bit arithmetic and block work.
#include "chain/params.h"
#include "chain/work.h"

#include <gtest/gtest.h>

namespace minicoin {
namespace {

Uint256 FromHex(const std::string& hex) {
  Uint256 value;
  EXPECT_TRUE(Uint256::FromHex(hex, value)) << hex;
  return value;
}

const std::string kMax = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

TEST(Work, AddCarriesAcrossLimbsAndWraps) {
  Uint256 a = FromHex(std::string(48, '0') + std::string(16, 'f'));
  EXPECT_EQ(Add256(a, Uint256FromU64(1)).ToHex(),
            "0000000000000000000000000000000000000000000000010000000000000000");
  EXPECT_EQ(Add256(FromHex(kMax), Uint256FromU64(2)), Uint256FromU64(1));
  EXPECT_EQ(Subtract256(Uint256FromU64(1), Uint256FromU64(2)), FromHex(kMax));
  EXPECT_EQ(Subtract256(FromHex("0000000000000000000000000000000100000000000000000000000000000000"),
                        Uint256FromU64(1))
                .ToHex(),
            "00000000000000000000000000000000ffffffffffffffffffffffffffffffff");
  EXPECT_EQ(LowU64(Add256(Uint256FromU64(40), Uint256FromU64(2))), 42u);
  EXPECT_EQ(Not256(Uint256()), FromHex(kMax));
}

TEST(Work, ComparesAsNumbers) {
  EXPECT_TRUE(Uint256FromU64(255) < Uint256FromU64(256));
  EXPECT_FALSE(Uint256FromU64(256) < Uint256FromU64(255));
  EXPECT_TRUE(Uint256FromU64(~uint64_t{0}) <
              FromHex("0000000000000000000000000000000000000000000000010000000000000000"));
}

TEST(Work, DividesExactlyAndRoundsDown) {
  EXPECT_FALSE(Divide256(Uint256FromU64(5), Uint256()).has_value());
  EXPECT_EQ(*Divide256(Uint256FromU64(100), Uint256FromU64(7)), Uint256FromU64(14));
  EXPECT_EQ(*Divide256(Uint256FromU64(6), Uint256FromU64(7)), Uint256());
  // (2^256 - 1) / (2^128) = 2^128 - 1.
  EXPECT_EQ(Divide256(FromHex(kMax), FromHex("0000000000000000000000000000000100000000000000000000000000000000"))->ToHex(),
            "00000000000000000000000000000000ffffffffffffffffffffffffffffffff");
  // A large divisor with its top bit set.
  EXPECT_EQ(*Divide256(FromHex(kMax), FromHex("8000000000000000000000000000000000000000000000000000000000000000")),
            Uint256FromU64(1));
  Uint256 big = FromHex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  Uint256 divisor = FromHex("00000000000000000000000000000000000000000000000000000000deadbeef");
  Uint256 quotient = *Divide256(big, divisor);
  // quotient * divisor <= big < (quotient + 1) * divisor, checked by repeated addition of the
  // remainder: big - quotient * divisor must be below divisor. Multiply by adding in binary.
  Uint256 product;
  Uint256 addend = quotient;
  uint64_t d = LowU64(divisor);
  while (d != 0) {
    if ((d & 1) != 0) product = Add256(product, addend);
    addend = Add256(addend, addend);
    d >>= 1;
  }
  Uint256 remainder = Subtract256(big, product);
  EXPECT_FALSE(big < product);
  EXPECT_TRUE(remainder < divisor);
}

TEST(Work, BlockWorkIsTwoTo256OverTargetPlusOne) {
  // kRegtestBits: target 0x7fffff << 224, so work = 2^256 / (0x7fffff * 2^224 + 1) = 512 (just).
  EXPECT_EQ(BlockWork(kRegtestBits), Uint256FromU64(512));
  // 0x207fffff (target ~2^255): work 2.
  EXPECT_EQ(BlockWork(0x207fffff), Uint256FromU64(2));
  // Bitcoin's first difficulty, 0x1d00ffff: 0x100010001 hashes.
  EXPECT_EQ(BlockWork(0x1d00ffff), Uint256FromU64(0x100010001ull));
  EXPECT_TRUE(BlockWork(0x01003456).IsZero());  // zero target
  EXPECT_TRUE(BlockWork(0x04923456).IsZero());  // negative
}

TEST(Params, GenesisIsDeterministicAndMeetsTheBits) {
  const Block& genesis = GenesisBlock();
  EXPECT_EQ(&genesis, &GenesisBlock());
  EXPECT_EQ(genesis.header.bits, kRegtestBits);
  EXPECT_EQ(genesis.header.time, kGenesisTime);
  EXPECT_TRUE(genesis.header.previous.IsZero());
  EXPECT_TRUE(CheckProofOfWork(genesis.header.Hash(), kRegtestBits));
  ASSERT_EQ(genesis.transactions.size(), 1u);
  EXPECT_TRUE(genesis.transactions[0].IsCoinbase());
  EXPECT_EQ(genesis.transactions[0].height, 0u);
  EXPECT_EQ(genesis.transactions[0].outputs[0].pubkey, XOnlyPublicKey{});
  // The first passing nonce: every smaller one fails.
  BlockHeader header = genesis.header;
  for (header.nonce = 0; header.nonce < genesis.header.nonce; ++header.nonce) {
    EXPECT_FALSE(CheckProofOfWork(header.Hash(), kRegtestBits));
  }
}

}  // namespace
}  // namespace minicoin
