// Tests of the transaction rules, signatures checked on a WorkerPool.
#include "crypto/key.h"
#include "validation/tx_check.h"

#include <gtest/gtest.h>

namespace minicoin {
namespace {

struct Fixture {
  Fixture() {
    for (uint32_t i = 0; i < 4; ++i) {
      keys.push_back(PrivateKey::Derive(std::vector<uint8_t>{1, 2, 3}, i));
      OutPoint outpoint{Sha256(std::vector<uint8_t>{static_cast<uint8_t>(i)}), i};
      coins.Add(outpoint, Coin{TxOut{10 * kCoin, keys.back().PublicKey()}, 5, i == 3});
      outpoints.push_back(outpoint);
    }
  }
  // Spends the first `count` coins to one output of `amount`, signed.
  Transaction Spend(std::size_t count, uint64_t amount) const {
    Transaction tx;
    for (std::size_t i = 0; i < count; ++i) tx.inputs.push_back({outpoints[i], {}});
    tx.outputs.push_back({amount, keys[0].PublicKey()});
    for (std::size_t i = 0; i < count; ++i) tx.inputs[i].signature = keys[i].Sign(tx.SignatureHash(i));
    return tx;
  }
  std::vector<PrivateKey> keys;
  std::vector<OutPoint> outpoints;
  MemoryCoins coins;
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
};

TEST(TxCheck, ValidSpendPaysTheFee) {
  Fixture f;
  Transaction tx = f.Spend(3, 29 * kCoin);
  EXPECT_FALSE(CheckTransaction(tx).has_value());
  uint64_t fee = 0;
  auto error = CheckTransactionInputs(tx, f.coins, 10, f.pool, fee);
  EXPECT_FALSE(error.has_value()) << error->reason;
  EXPECT_EQ(fee, kCoin);
}

TEST(TxCheck, BrokenRulesAreNamed) {
  Fixture f;
  uint64_t fee = 0;
  Transaction bad_signature = f.Spend(3, 29 * kCoin);
  bad_signature.inputs[1].signature[5] ^= 1;
  auto error = CheckTransactionInputs(bad_signature, f.coins, 10, f.pool, fee);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, "input 1 has an invalid signature");

  Transaction too_much = f.Spend(1, 11 * kCoin);
  EXPECT_EQ(CheckTransactionInputs(too_much, f.coins, 10, f.pool, fee)->reason, "outputs exceed inputs");

  Transaction missing = f.Spend(1, kCoin);
  missing.inputs[0].prevout.index = 99;
  EXPECT_EQ(CheckTransactionInputs(missing, f.coins, 10, f.pool, fee)->reason,
            "input 0 spends a missing or spent output");

  Transaction immature = f.Spend(4, kCoin);  // the fourth coin comes from a coinbase at height 5
  EXPECT_EQ(CheckTransactionInputs(immature, f.coins, 104, f.pool, fee)->reason, "input 3 spends an immature coinbase");
  EXPECT_FALSE(CheckTransactionInputs(immature, f.coins, 105, f.pool, fee).has_value());

  Transaction twice = f.Spend(1, kCoin);
  twice.inputs.push_back(twice.inputs[0]);
  EXPECT_EQ(CheckTransaction(twice)->reason, "transaction spends an output twice");

  Transaction null_input = f.Spend(2, kCoin);
  null_input.inputs[1].prevout = OutPoint{Uint256(), 0xffffffffu};
  EXPECT_EQ(CheckTransaction(null_input)->reason, "null outpoint outside a coinbase");
}

TEST(TxCheck, SignaturesOfManyInputsOnTheDeterministicPool) {
  MemoryCoins coins;
  PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{9}, 0);
  Transaction tx;
  for (uint32_t i = 0; i < 50; ++i) {
    OutPoint outpoint{Sha256(std::vector<uint8_t>{7}), i};
    coins.Add(outpoint, Coin{TxOut{kCoin, key.PublicKey()}, 1, false});
    tx.inputs.push_back({outpoint, {}});
  }
  tx.outputs.push_back({50 * kCoin, key.PublicKey()});
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) tx.inputs[i].signature = key.Sign(tx.SignatureHash(i));
  crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.deterministic = true});
  uint64_t fee = 1;
  EXPECT_FALSE(CheckTransactionInputs(tx, coins, 2, pool, fee).has_value());
  EXPECT_EQ(fee, 0u);
  tx.inputs[37].signature[0] ^= 1;
  tx.inputs[12].signature[0] ^= 1;
  EXPECT_EQ(CheckTransactionInputs(tx, coins, 2, pool, fee)->reason, "input 12 has an invalid signature");
}

}  // namespace
}  // namespace minicoin
