// Tests of minicoin's data model: hashes, encoding limits, transactions, blocks, merkle roots,
// proof of work and Schnorr signatures.
#include "crypto/key.h"
#include "primitives/block.h"

#include <gtest/gtest.h>

#include <string>

namespace minicoin {
namespace {

std::vector<uint8_t> Bytes(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

Transaction SampleTransaction() {
  Transaction tx;
  tx.inputs.push_back({OutPoint{Sha256(Bytes("prev")), 3}, {}});
  tx.outputs.push_back({50 * kCoin, PrivateKey::Derive(Bytes("seed"), 0).PublicKey()});
  tx.outputs.push_back({1, {}});
  return tx;
}

TEST(Hash, KnownSha256AndHex) {
  // SHA-256("abc"), shown most significant byte first as ToHex prints it: the digest reversed.
  Uint256 digest = Sha256(Bytes("abc"));
  EXPECT_EQ(digest.ToHex(), "ad1500f261ff10b49c7a1796a36103b02322ae5dde404141eacf018fbf1678ba");
  Uint256 parsed;
  ASSERT_TRUE(Uint256::FromHex(digest.ToHex(), parsed));
  EXPECT_EQ(parsed, digest);
  EXPECT_FALSE(Uint256::FromHex("zz", parsed));
  EXPECT_EQ(Sha256d(Bytes("abc")), Sha256(digest.bytes()));
}

TEST(Serialize, CompactSizesAreCanonical) {
  for (uint64_t value : {uint64_t{0}, uint64_t{252}, uint64_t{253}, uint64_t{65535}, uint64_t{65536},
                         uint64_t{0xffffffff}, uint64_t{0x100000000}, ~uint64_t{0}}) {
    Writer writer;
    writer.CompactSize(value);
    Reader reader(writer.bytes());
    EXPECT_EQ(reader.CompactSize(), value);
    reader.ExpectEnd("size");
  }
  std::vector<uint8_t> padded = {0xfd, 0x10, 0x00};  // 16 in three bytes
  Reader reader(padded);
  EXPECT_THROW(reader.CompactSize(), DecodeError);
}

TEST(Transaction, RoundTripAndIdentifiers) {
  Transaction tx = SampleTransaction();
  EXPECT_EQ(Transaction::Decode(tx.Encode()), tx);
  Uint256 txid = tx.Txid();
  tx.inputs[0].signature[0] = 1;  // signatures do not change the identifier
  EXPECT_EQ(tx.Txid(), txid);
  EXPECT_NE(tx.SignatureHash(0), txid);
  tx.outputs[1].amount = 2;
  EXPECT_NE(tx.Txid(), txid);
  EXPECT_EQ(tx.OutputTotal(), 50 * kCoin + 2);
}

TEST(Transaction, DecodeRejectsMalformedInput) {
  std::vector<uint8_t> good = SampleTransaction().Encode();
  for (std::size_t size = 0; size < good.size(); ++size) {
    EXPECT_THROW(Transaction::Decode(std::span(good).first(size)), DecodeError) << size;
  }
  std::vector<uint8_t> trailing = good;
  trailing.push_back(0);
  EXPECT_THROW(Transaction::Decode(trailing), DecodeError);
  std::vector<uint8_t> bad_version = good;
  bad_version[0] = 3;
  EXPECT_THROW(Transaction::Decode(bad_version), DecodeError);
  Transaction too_rich = SampleTransaction();
  too_rich.outputs[0].amount = kMaxMoney;
  too_rich.outputs[1].amount = 1;
  EXPECT_THROW(Transaction::Decode(too_rich.Encode()), DecodeError);
  Writer many_inputs;
  many_inputs.U32(kTransactionVersion);
  many_inputs.CompactSize(kMaxTransactionInputs + 1);
  EXPECT_THROW(Transaction::Decode(many_inputs.bytes()), DecodeError);
}

TEST(Block, RoundTripMerkleRootAndProofOfWork) {
  Block block;
  Transaction coinbase;
  coinbase.inputs.push_back({OutPoint{Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back({50 * kCoin, {}});
  coinbase.height = 1;
  EXPECT_TRUE(coinbase.IsCoinbase());
  block.transactions = {coinbase, SampleTransaction(), SampleTransaction()};
  block.transactions[2].height = 7;
  block.header.merkle_root = block.ComputeMerkleRoot();
  block.header.bits = 0x207fffff;  // the easiest target: about every other hash
  while (!CheckProofOfWork(block.header.Hash(), block.header.bits)) ++block.header.nonce;
  Block decoded = Block::Decode(block.Encode());
  EXPECT_EQ(decoded, block);
  EXPECT_EQ(decoded.header.Hash(), block.header.Hash());
  // Merkle root of three: the third is paired with itself.
  std::vector<Uint256> ids = {block.transactions[0].Wtxid(), block.transactions[1].Wtxid(),
                              block.transactions[2].Wtxid()};
  auto pair = [](const Uint256& a, const Uint256& b) {
    std::vector<uint8_t> both(a.bytes().begin(), a.bytes().end());
    both.insert(both.end(), b.bytes().begin(), b.bytes().end());
    return Sha256d(both);
  };
  EXPECT_EQ(block.header.merkle_root, pair(pair(ids[0], ids[1]), pair(ids[2], ids[2])));
  EXPECT_EQ(MerkleRoot({ids[0]}), ids[0]);
}

TEST(Block, MerkleRootCommitsToSignaturesButTxidDoesNot) {
  Transaction tx = SampleTransaction();
  Transaction malleated = tx;
  malleated.inputs[0].signature[63] ^= 0x01;
  EXPECT_EQ(malleated.Txid(), tx.Txid());  // signing does not change the identifier
  EXPECT_NE(malleated.Wtxid(), tx.Wtxid());
  EXPECT_NE(tx.Wtxid(), tx.Txid());
  Block block;
  Transaction coinbase;
  coinbase.inputs.push_back({OutPoint{Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back({50 * kCoin, {}});
  block.transactions = {coinbase, tx};
  Block other = block;
  other.transactions[1] = malleated;
  EXPECT_NE(other.ComputeMerkleRoot(), block.ComputeMerkleRoot());
  // The coinbase's signature field is free data, but committed all the same.
  Block extra = block;
  extra.transactions[0].inputs[0].signature.fill(0xab);
  EXPECT_NE(extra.ComputeMerkleRoot(), block.ComputeMerkleRoot());
}

TEST(Transaction, LockTimeIsEncodedFromVersionTwoAndSigned) {
  Transaction tx = SampleTransaction();
  EXPECT_EQ(tx.EncodedSize(), tx.Encode().size());
  Transaction locked = tx;
  locked.version = kLockTimeTransactionVersion;
  locked.lock_time = 1234;
  EXPECT_EQ(locked.Encode().size(), tx.Encode().size() + 4);
  EXPECT_EQ(locked.EncodedSize(), locked.Encode().size());
  EXPECT_EQ(Transaction::Decode(locked.Encode()), locked);
  Transaction later = locked;
  later.lock_time = 1235;
  EXPECT_NE(later.Txid(), locked.Txid());  // the lock time is signed
  std::vector<uint8_t> unknown = locked.Encode();
  unknown[0] = 3;
  EXPECT_THROW(Transaction::Decode(unknown), DecodeError);
  Block block;
  block.transactions = {tx, locked};
  EXPECT_EQ(block.EncodedSize(), block.Encode().size());
}

TEST(Block, CompactTargets) {
  auto target = TargetFromBits(0x1d00ffff);  // Bitcoin's first target: 0x00000000ffff0000...
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->ToHex(), "00000000ffff0000000000000000000000000000000000000000000000000000");
  EXPECT_FALSE(TargetFromBits(0x04923456).has_value());  // negative
  EXPECT_FALSE(TargetFromBits(0xff123456).has_value());  // overflow
  EXPECT_FALSE(CheckProofOfWork(Uint256(), 0));           // zero target: nothing passes
}

TEST(Key, SchnorrSignaturesVerifyAndDetectTampering) {
  PrivateKey key = PrivateKey::Generate();
  Transaction tx = SampleTransaction();
  Uint256 message = tx.SignatureHash(0);
  SchnorrSignature signature = key.Sign(message);
  EXPECT_TRUE(VerifySchnorr(key.PublicKey(), message, signature));
  EXPECT_FALSE(VerifySchnorr(key.PublicKey(), tx.SignatureHash(1), signature));
  signature[10] ^= 1;
  EXPECT_FALSE(VerifySchnorr(key.PublicKey(), message, signature));
  XOnlyPublicKey not_a_key{};
  not_a_key.fill(0xff);
  EXPECT_FALSE(VerifySchnorr(not_a_key, message, key.Sign(message)));
  // Derivation is deterministic and index-dependent.
  EXPECT_EQ(PrivateKey::Derive(Bytes("seed"), 5).PublicKey(), PrivateKey::Derive(Bytes("seed"), 5).PublicKey());
  EXPECT_NE(PrivateKey::Derive(Bytes("seed"), 5).PublicKey(), PrivateKey::Derive(Bytes("seed"), 6).PublicKey());
}

}  // namespace
}  // namespace minicoin
