// Tests of block rules, connecting and disconnecting blocks.
#include "crypto/key.h"
#include "validation/block_check.h"

#include <gtest/gtest.h>

namespace minicoin {
namespace {

constexpr uint32_t kEasyBits = 0x207fffff;

void Mine(Block& block) {
  block.header.merkle_root = block.ComputeMerkleRoot();
  block.header.bits = kEasyBits;
  while (!CheckProofOfWork(block.header.Hash(), block.header.bits)) ++block.header.nonce;
}

Transaction Coinbase(uint32_t height, uint64_t amount, const XOnlyPublicKey& to) {
  Transaction tx;
  tx.inputs.push_back({OutPoint{Uint256(), 0xffffffffu}, {}});
  tx.outputs.push_back({amount, to});
  tx.height = height;
  return tx;
}

Transaction Pay(const OutPoint& from, const PrivateKey& key, uint64_t amount, const XOnlyPublicKey& to) {
  Transaction tx;
  tx.inputs.push_back({from, {}});
  tx.outputs.push_back({amount, to});
  tx.inputs[0].signature = key.Sign(tx.SignatureHash(0));
  return tx;
}

struct Chain {
  Chain() {
    seeded = OutPoint{Sha256(std::vector<uint8_t>{42}), 0};
    coins.Add(seeded, Coin{TxOut{10 * kCoin, alice.PublicKey()}, 0, false});
  }
  PrivateKey alice = PrivateKey::Derive(std::vector<uint8_t>{1}, 0);
  PrivateKey bob = PrivateKey::Derive(std::vector<uint8_t>{2}, 0);
  OutPoint seeded;
  MemoryCoins coins;
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
};

TEST(BlockCheck, ConnectAndDisconnectRestoresTheCoins) {
  Chain chain;
  MemoryCoins before = chain.coins;
  Transaction first = Pay(chain.seeded, chain.alice, 9 * kCoin, chain.bob.PublicKey());          // fee 1
  Transaction second = Pay(OutPoint{first.Txid(), 0}, chain.bob, 8 * kCoin, chain.alice.PublicKey());  // fee 1
  Block block;
  block.transactions = {Coinbase(1, kBlockSubsidy + 2 * kCoin, chain.bob.PublicKey()), first, second};
  Mine(block);
  BlockUndo undo;
  auto error = ConnectBlock(block, BlockContext{.height = 1}, chain.coins, chain.pool, undo);
  ASSERT_FALSE(error.has_value()) << error->reason;
  EXPECT_FALSE(chain.coins.Get(chain.seeded).has_value());
  EXPECT_FALSE(chain.coins.Get(OutPoint{first.Txid(), 0}).has_value());  // created and spent in the block
  EXPECT_EQ(chain.coins.Get(OutPoint{second.Txid(), 0})->output.amount, 8 * kCoin);
  auto reward = chain.coins.Get(OutPoint{block.transactions[0].Txid(), 0});
  ASSERT_TRUE(reward.has_value());
  EXPECT_TRUE(reward->coinbase);
  EXPECT_EQ(chain.coins.size(), 2u);
  DisconnectBlock(block, undo, chain.coins);
  EXPECT_EQ(chain.coins.size(), before.size());
  EXPECT_EQ(chain.coins.Get(chain.seeded), before.Get(chain.seeded));
}

TEST(BlockCheck, BrokenBlocksLeaveTheCoinsAlone) {
  Chain chain;
  BlockUndo undo;
  Transaction spend = Pay(chain.seeded, chain.alice, 9 * kCoin, chain.bob.PublicKey());

  Block greedy;
  greedy.transactions = {Coinbase(1, kBlockSubsidy + kCoin + 1, chain.bob.PublicKey()), spend};
  Mine(greedy);
  EXPECT_EQ(ConnectBlock(greedy, BlockContext{.height = 1}, chain.coins, chain.pool, undo)->reason, "coinbase pays more than subsidy plus fees");

  Block double_spend;
  Transaction again = Pay(chain.seeded, chain.alice, 8 * kCoin, chain.alice.PublicKey());
  double_spend.transactions = {Coinbase(1, kBlockSubsidy, chain.bob.PublicKey()), spend, again};
  Mine(double_spend);
  EXPECT_EQ(ConnectBlock(double_spend, BlockContext{.height = 1}, chain.coins, chain.pool, undo)->reason,
            "transaction 2: input 0 spends a missing or spent output");

  Block bad_root;
  bad_root.transactions = {Coinbase(1, kBlockSubsidy, chain.bob.PublicKey())};
  Mine(bad_root);
  bad_root.transactions[0].outputs[0].amount -= 1;
  EXPECT_EQ(CheckBlock(bad_root)->reason, "merkle root does not match");

  Block no_coinbase;
  no_coinbase.transactions = {spend};
  Mine(no_coinbase);
  EXPECT_EQ(CheckBlock(no_coinbase)->reason, "first transaction is not a coinbase");

  Block wrong_height;
  wrong_height.transactions = {Coinbase(7, kBlockSubsidy, chain.bob.PublicKey())};
  Mine(wrong_height);
  EXPECT_EQ(ConnectBlock(wrong_height, BlockContext{.height = 1}, chain.coins, chain.pool, undo)->reason,
            "coinbase height does not match the block height");

  EXPECT_EQ(chain.coins.size(), 1u);
  EXPECT_TRUE(chain.coins.Get(chain.seeded).has_value());
}

}  // namespace
}  // namespace minicoin
