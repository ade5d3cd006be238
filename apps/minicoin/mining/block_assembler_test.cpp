// Tests of block assembly from the mempool and of proof-of-work grinding.
#include "crypto/key.h"
#include "mempool/mempool.h"
#include "mining/block_assembler.h"
#include "validation/block_check.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace minicoin {
namespace {

constexpr uint32_t kEasyBits = 0x1f7fffff;  // about one hash in 512 passes
constexpr uint32_t kHardBits = 0x03000001;  // a target of 1: never met in a test

struct Fixture {
  Fixture() {
    for (uint32_t i = 0; i < 4; ++i) {
      OutPoint outpoint{Sha256(std::vector<uint8_t>{static_cast<uint8_t>(i), 7}), i};
      coins.Add(outpoint, Coin{TxOut{10 * kCoin, key.PublicKey()}, 1, false});
      outpoints.push_back(outpoint);
    }
  }
  Transaction Spend(const OutPoint& outpoint, uint64_t amount) const {
    Transaction tx;
    tx.inputs.push_back({outpoint, {}});
    tx.outputs.push_back({amount, key.PublicKey()});
    tx.inputs[0].signature = key.Sign(tx.SignatureHash(0));
    return tx;
  }
  PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{8}, 0);
  XOnlyPublicKey payout = PrivateKey::Derive(std::vector<uint8_t>{8}, 1).PublicKey();
  MemoryCoins coins;
  std::vector<OutPoint> outpoints;
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
};

TEST(BlockAssembler, SolvedBlockIsValidAndPaysSubsidyAndFees) {
  Fixture f;
  Mempool mempool;
  Transaction parent = f.Spend(f.outpoints[0], 9 * kCoin);
  Transaction child = f.Spend(OutPoint{parent.Txid(), 0}, 8 * kCoin);
  Transaction other = f.Spend(f.outpoints[1], 10 * kCoin - 5000);
  for (const auto* tx : {&parent, &child, &other}) ASSERT_TRUE(mempool.Accept(*tx, f.coins, 11, f.pool).accepted);

  Uint256 prev = Sha256(std::vector<uint8_t>{1});
  Block block = AssembleBlock(mempool, NextBlock{prev, 11, 1'700'000'000, kEasyBits, kBlockSubsidy}, f.payout);
  ASSERT_EQ(block.transactions.size(), 4u);
  const Transaction& coinbase = block.transactions[0];
  EXPECT_TRUE(coinbase.IsCoinbase());
  EXPECT_EQ(coinbase.height, 11u);
  ASSERT_EQ(coinbase.outputs.size(), 1u);
  EXPECT_EQ(coinbase.outputs[0].amount, kBlockSubsidy + 2 * kCoin + 5000);
  EXPECT_EQ(coinbase.outputs[0].pubkey, f.payout);
  EXPECT_EQ(block.header.previous, prev);
  EXPECT_EQ(block.header.merkle_root, block.ComputeMerkleRoot());
  EXPECT_EQ(block.header.nonce, 0u);
  EXPECT_EQ(block.header.time, 1'700'000'000u);
  EXPECT_EQ(block.header.bits, kEasyBits);

  ASSERT_TRUE(SolveBlock(block, 1'000'000));
  EXPECT_TRUE(CheckProofOfWork(block.header.Hash(), kEasyBits));
  auto error = CheckBlock(block);
  EXPECT_FALSE(error.has_value()) << error->reason;
  BlockUndo undo;
  error = ConnectBlock(block, BlockContext{.height = 11}, f.coins, f.pool, undo);
  EXPECT_FALSE(error.has_value()) << error->reason;

  // Paying one unit more than subsidy plus fees is refused by the block rules.
  Block greedy = CreateNewBlock(NextBlock{prev, 12, 1'700'000'000, kEasyBits, kBlockSubsidy}, f.payout, {});
  greedy.transactions[0].outputs[0].amount += 1;
  greedy.header.merkle_root = greedy.ComputeMerkleRoot();
  ASSERT_TRUE(SolveBlock(greedy, 1'000'000));
  EXPECT_EQ(ConnectBlock(greedy, BlockContext{.height = 12}, f.coins, f.pool, undo)->reason, "coinbase pays more than subsidy plus fees");
}

TEST(BlockAssembler, BlockStaysWithinTheSizeLimit) {
  Fixture f;
  Mempool mempool;
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(mempool.Accept(f.Spend(f.outpoints[i], 10 * kCoin - 1000 * (i + 1)), f.coins, 11, f.pool).accepted);
  }
  const std::size_t tx_size = f.Spend(f.outpoints[0], kCoin).Encode().size();
  Block empty = CreateNewBlock(NextBlock{Uint256(), 11, 0, kEasyBits, kBlockSubsidy}, f.payout, {});
  BlockAssemblerOptions options{.max_block_bytes = empty.Encode().size() + 8 + 2 * tx_size};
  Block block = AssembleBlock(mempool, NextBlock{Uint256(), 11, 0, kEasyBits, kBlockSubsidy}, f.payout, options);
  EXPECT_LE(block.Encode().size(), options.max_block_bytes);
  ASSERT_EQ(block.transactions.size(), 3u);
  // The two best fee rates: fees 4000 and 3000.
  EXPECT_EQ(block.transactions[1].outputs[0].amount, 10 * kCoin - 4000);
  EXPECT_EQ(block.transactions[2].outputs[0].amount, 10 * kCoin - 3000);
  EXPECT_EQ(BlockTransactionBudget(BlockAssemblerOptions{.max_block_bytes = 10}, 11), 0u);
}

TEST(BlockAssembler, SolveBlockHonoursMaxTries) {
  Block block = CreateNewBlock(NextBlock{Uint256(), 1, 100, kHardBits, kBlockSubsidy}, XOnlyPublicKey{}, {});
  EXPECT_FALSE(SolveBlock(block, 1000));
  EXPECT_EQ(block.header.nonce, 1000u);
  EXPECT_EQ(block.header.time, 100u);
  EXPECT_FALSE(SolveBlock(block, 0));
  EXPECT_EQ(block.header.nonce, 1000u);
}

TEST(BlockAssembler, ExhaustedNoncesBumpTheTime) {
  Block block = CreateNewBlock(NextBlock{Uint256(), 1, 100, kHardBits, kBlockSubsidy}, XOnlyPublicKey{}, {});
  block.header.nonce = 0xffffffffu - 4;
  EXPECT_FALSE(SolveBlock(block, 10));
  EXPECT_EQ(block.header.time, 101u);
  EXPECT_EQ(block.header.nonce, 5u);
  // Grinding resumes from there and finds a solution with the new time.
  block.header.bits = kEasyBits;
  ASSERT_TRUE(SolveBlock(block, 1'000'000));
  EXPECT_EQ(block.header.time, 101u);
  EXPECT_TRUE(CheckProofOfWork(block.header.Hash(), kEasyBits));
}

TEST(BlockAssembler, SolveBlockStopsOnInterrupt) {
  Block block = CreateNewBlock(NextBlock{Uint256(), 1, 100, kHardBits, kBlockSubsidy}, XOnlyPublicKey{}, {});
  std::atomic<bool> interrupt{true};
  EXPECT_FALSE(SolveBlock(block, 1000, &interrupt));
  EXPECT_EQ(block.header.nonce, 0u);

  interrupt = false;
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    interrupt = true;
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(SolveBlock(block, ~uint64_t{0}, &interrupt));
  stopper.join();
  EXPECT_GT(block.header.nonce, 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(BlockAssembler, InvalidBitsAreNeverSolved) {
  Block block = CreateNewBlock(NextBlock{Uint256(), 1, 100, 0x01800001, kBlockSubsidy}, XOnlyPublicKey{}, {});  // negative
  EXPECT_FALSE(SolveBlock(block, 1000));
  block.header.bits = 0;  // zero target
  EXPECT_FALSE(SolveBlock(block, 1000));
}

}  // namespace
}  // namespace minicoin
