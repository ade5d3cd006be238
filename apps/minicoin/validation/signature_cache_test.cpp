// SignatureCache: hits only for the exact verified triple, the size bound, and VerifySignatures
// with a cache never accepting a signature that was not verified.
#include "crypto/key.h"
#include "validation/signature_cache.h"
#include "validation/tx_check.h"

#include <gtest/gtest.h>

namespace minicoin {
namespace {

SignatureCheck Signed(uint32_t key_index, uint8_t message) {
  PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{4, 5, 6}, key_index);
  Uint256 hash = Sha256(std::vector<uint8_t>{message});
  return SignatureCheck{key.PublicKey(), hash, key.Sign(hash)};
}

TEST(SignatureCache, HitsOnlyTheExactTriple) {
  SignatureCache cache;
  SignatureCheck check = Signed(0, 1);
  EXPECT_FALSE(cache.Contains(check));
  cache.Add(check);
  cache.Add(check);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_TRUE(cache.Contains(check));
  EXPECT_EQ(cache.hits(), 1u);
  SignatureCheck other_signature = check;
  other_signature.signature[0] ^= 1;
  EXPECT_FALSE(cache.Contains(other_signature));
  SignatureCheck other_hash = check;
  other_hash.hash = Sha256(std::vector<uint8_t>{2});
  EXPECT_FALSE(cache.Contains(other_hash));
  SignatureCheck other_key = check;
  other_key.pubkey = Signed(1, 1).pubkey;
  EXPECT_FALSE(cache.Contains(other_key));
}

TEST(SignatureCache, ForgetsTheOldestPastItsBound) {
  SignatureCache cache(2);
  SignatureCheck a = Signed(0, 1), b = Signed(0, 2), c = Signed(0, 3);
  cache.Add(a);
  cache.Add(b);
  cache.Add(c);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.Contains(a));
  EXPECT_TRUE(cache.Contains(b));
  EXPECT_TRUE(cache.Contains(c));
}

TEST(SignatureCache, VerifySignaturesFillsAndConsultsTheCache) {
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
  SignatureCache cache;
  std::vector<SignatureCheck> good{Signed(0, 1), Signed(1, 2), Signed(2, 3)};
  EXPECT_FALSE(VerifySignatures(good, pool, &cache).has_value());
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_FALSE(VerifySignatures(good, pool, &cache).has_value());
  EXPECT_EQ(cache.hits(), 3u);
  // A forged signature next to cached good ones: still found, and not cached.
  std::vector<SignatureCheck> mixed = good;
  mixed[1].signature[5] ^= 0x40;
  EXPECT_EQ(VerifySignatures(mixed, pool, &cache), std::optional<std::size_t>(1));
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(VerifySignatures(mixed, pool, &cache), std::optional<std::size_t>(1));
}

}  // namespace
}  // namespace minicoin
