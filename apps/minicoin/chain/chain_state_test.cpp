// Tests of the chain state: accepting blocks, rejections, reorganisations, reopening.
#include "chain/chain_state.h"
#include "chain/params.h"
#include "chain/test_util.h"
#include "chain/work.h"
#include "storage/database.h"
#include "storage/records.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace minicoin {
namespace {

using test::CoinbaseOf;
using test::MakeBlock;
using test::MakeSpend;


// Records what the chain reports, as strings like "connect 3 <hash prefix>".
class Recorder final : public ChainListener {
 public:
  explicit Recorder(const ChainState* chain = nullptr) : m_chain(chain) {}
  void BlockConnected(const Block& block, const BlockIndex& index) override {
    EXPECT_EQ(block.header.Hash(), index.hash);
    if (m_chain != nullptr) {
      EXPECT_EQ(&m_chain->Tip(), &index);  // queries work from a callback
    }
    events.push_back("connect " + std::to_string(index.height) + " " + index.hash.ToHex().substr(0, 8));
  }
  void BlockDisconnected(const Block& block, const BlockIndex& index) override {
    EXPECT_EQ(block.header.Hash(), index.hash);
    events.push_back("disconnect " + std::to_string(index.height) + " " + index.hash.ToHex().substr(0, 8));
  }
  void TipChanged(const BlockIndex& tip) override {
    events.push_back("tip " + std::to_string(tip.height) + " " + tip.hash.ToHex().substr(0, 8));
  }
  std::vector<std::string> events;

 private:
  const ChainState* m_chain;
};

std::string Event(const char* what, const Block& block, uint32_t height) {
  return std::string(what) + " " + std::to_string(height) + " " + block.header.Hash().ToHex().substr(0, 8);
}

class ChainStateTest : public ::testing::Test {
 protected:
  ChainStateOptions Options(bool sync = false) {
    return ChainStateOptions{.dir = dir.path, .pool = &pool, .sync_writes = sync};
  }
  // Extends the active tip by `count` blocks paying alice; returns the last one.
  Block Extend(ChainState& chain, int count) {
    Block block;
    for (int i = 0; i < count; ++i) {
      block = MakeBlock(chain.Tip(), alice.PublicKey());
      ChainState::BlockResult result = chain.ProcessBlock(block);
      EXPECT_TRUE(result.accepted) << result.reason;
    }
    return block;
  }
  test::TempDir dir;
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
  PrivateKey alice = PrivateKey::Derive(std::vector<uint8_t>{1}, 0);
  PrivateKey bob = PrivateKey::Derive(std::vector<uint8_t>{2}, 0);
};

TEST_F(ChainStateTest, StartsAtGenesisAndFollowsALinearChain) {
  ChainState chain(Options());
  EXPECT_EQ(chain.Height(), 0u);
  EXPECT_EQ(chain.Tip().hash, GenesisBlock().header.Hash());
  EXPECT_EQ(chain.ReadBlock(chain.Tip()), GenesisBlock());
  // The genesis coinbase is not spendable: its coin is not in the set.
  EXPECT_FALSE(chain.GetCoin(OutPoint{GenesisBlock().transactions[0].Txid(), 0}).has_value());
  EXPECT_EQ(chain.GetCoinsStats().coins, 0u);

  Recorder recorder(&chain);
  chain.AddListener(&recorder);
  std::vector<Block> blocks;
  for (uint32_t height = 1; height <= 5; ++height) {
    blocks.push_back(MakeBlock(chain.Tip(), alice.PublicKey()));
    ChainState::BlockResult result = chain.ProcessBlock(blocks.back());
    EXPECT_TRUE(result.accepted) << result.reason;
    EXPECT_TRUE(result.new_tip);
    EXPECT_FALSE(result.duplicate);
    EXPECT_EQ(result.reason, "");
    EXPECT_EQ(chain.Height(), height);
  }
  chain.RemoveListener(&recorder);
  ASSERT_EQ(recorder.events.size(), 10u);
  EXPECT_EQ(recorder.events[0], Event("connect", blocks[0], 1));
  EXPECT_EQ(recorder.events[1], Event("tip", blocks[0], 1));
  EXPECT_EQ(recorder.events[9], Event("tip", blocks[4], 5));
  for (uint32_t height = 1; height <= 5; ++height) {
    const BlockIndex* index = chain.AtHeight(height);
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(index->hash, blocks[height - 1].header.Hash());
    EXPECT_EQ(index->prev, chain.AtHeight(height - 1));
    EXPECT_EQ(chain.Lookup(index->hash), index);
    EXPECT_TRUE(chain.IsActive(*index));
    EXPECT_EQ(chain.ReadBlock(*index), blocks[height - 1]);
    EXPECT_EQ(index->chain_work, Uint256FromU64(512 * (height + 1)));
    std::optional<Coin> coin = chain.GetCoin(CoinbaseOf(chain, height));
    ASSERT_TRUE(coin.has_value());
    EXPECT_TRUE(coin->coinbase);
    EXPECT_EQ(coin->height, height);
    EXPECT_EQ(coin->output.amount, kBlockSubsidy);
  }
  EXPECT_EQ(chain.AtHeight(6), nullptr);
  ChainState::CoinsStats stats = chain.GetCoinsStats();
  EXPECT_EQ(stats.height, 5u);
  EXPECT_EQ(stats.best_block, blocks[4].header.Hash());
  EXPECT_EQ(stats.coins, 5u);
  EXPECT_EQ(stats.total_amount, 5 * kBlockSubsidy);
  std::vector<std::pair<OutPoint, Coin>> expected;
  for (uint32_t height = 1; height <= 5; ++height) {
    expected.emplace_back(CoinbaseOf(chain, height), *chain.GetCoin(CoinbaseOf(chain, height)));
  }
  EXPECT_EQ(stats.hash, HashCoins(expected));
  std::reverse(expected.begin(), expected.end());
  EXPECT_EQ(stats.hash, HashCoins(expected));  // any order
  expected.pop_back();
  EXPECT_NE(stats.hash, HashCoins(expected));
  uint32_t mtp = chain.MedianTimePast(chain.Tip());
  EXPECT_EQ(mtp, kGenesisTime + 3);  // times genesis+0..+5: the median of six is the fourth
}

TEST_F(ChainStateTest, RejectsDuplicatesUnknownParentsAndContextualRuleBreaks) {
  ChainState chain(ChainStateOptions{.dir = dir.path, .pool = &pool, .sync_writes = false,
                                     .now = [] { return int64_t{kGenesisTime} + 1000; }});
  Block first = Extend(chain, 1);
  ChainState::BlockResult again = chain.ProcessBlock(first);
  EXPECT_FALSE(again.accepted);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.reason, "duplicate");

  Block orphan = MakeBlock(Sha256(std::vector<uint8_t>{7}), 2, kGenesisTime + 5, alice.PublicKey());
  EXPECT_EQ(chain.ProcessBlock(orphan).reason, "prev-blk-not-found");

  Block bad_bits = MakeBlock(chain.Tip(), alice.PublicKey());
  bad_bits.header.bits = 0x207fffff;
  test::Mine(bad_bits);
  EXPECT_EQ(chain.ProcessBlock(bad_bits).reason, "bad-diffbits");

  Block bad_height = MakeBlock(chain.Tip().hash, 5, chain.Tip().header.time + 1, alice.PublicKey());
  EXPECT_EQ(chain.ProcessBlock(bad_height).reason, "bad-cb-height");

  // The clock says genesis + 1000: two hours later is the limit.
  Block future = MakeBlock(chain.Tip().hash, 2, kGenesisTime + 1000 + 7201, alice.PublicKey());
  EXPECT_EQ(chain.ProcessBlock(future).reason, "time-too-new");
  Block limit = MakeBlock(chain.Tip().hash, 2, kGenesisTime + 1000 + 7200, alice.PublicKey());
  EXPECT_TRUE(chain.ProcessBlock(limit).accepted);
  // A job can be given its own clock.
  Block later = MakeBlock(chain.Tip().hash, 3, kGenesisTime + 50000, alice.PublicKey());
  auto job = chain.AddBlock(later);
  job->SetNow(kGenesisTime + 50000);
  job->Start();
  job->Wait();
  EXPECT_TRUE(job->accepted()) << job->reason();
  EXPECT_THROW(job->SetNow(0), std::logic_error);

  // Context-free rules: CheckBlock's texts.
  Block bad_root = MakeBlock(chain.Tip(), alice.PublicKey());
  bad_root.header.merkle_root = Uint256();
  while (!CheckProofOfWork(bad_root.header.Hash(), bad_root.header.bits)) ++bad_root.header.nonce;
  EXPECT_EQ(chain.ProcessBlock(bad_root).reason, "merkle root does not match");
  Block weak = MakeBlock(chain.Tip(), alice.PublicKey());
  while (CheckProofOfWork(weak.header.Hash(), weak.header.bits)) ++weak.header.nonce;
  EXPECT_EQ(chain.ProcessBlock(weak).reason, "proof of work too weak");

  EXPECT_EQ(chain.Height(), 3u);
  EXPECT_EQ(chain.BlockCount(), 4u);  // nothing rejected was stored
  EXPECT_EQ(chain.Lookup(bad_bits.header.Hash()), nullptr);
}

TEST_F(ChainStateTest, RejectsABlockWithABadSignatureAndDoesNotConnectIt) {
  ChainState chain(Options());
  Extend(chain, 101);
  OutPoint mature = CoinbaseOf(chain, 1);
  const BlockIndex& tip = chain.Tip();
  ChainState::CoinsStats before = chain.GetCoinsStats();

  Transaction forged = MakeSpend(mature, alice, kBlockSubsidy - 1000, bob.PublicKey());
  forged.inputs[0].signature[10] ^= 1;
  Block bad = MakeBlock(tip, alice.PublicKey(), {forged});
  ChainState::BlockResult result = chain.ProcessBlock(bad);
  EXPECT_FALSE(result.accepted);
  EXPECT_FALSE(result.new_tip);
  EXPECT_EQ(result.reason, "transaction 1: input 0 has an invalid signature");
  EXPECT_EQ(&chain.Tip(), &tip);
  const BlockIndex* stored = chain.Lookup(bad.header.Hash());
  ASSERT_NE(stored, nullptr);
  EXPECT_TRUE(stored->IsInvalid());
  EXPECT_FALSE(chain.IsActive(*stored));
  EXPECT_EQ(chain.GetCoinsStats().hash, before.hash);
  EXPECT_TRUE(chain.GetCoin(mature).has_value());
  EXPECT_EQ(chain.ProcessBlock(bad).reason, "duplicate-invalid");
  EXPECT_EQ(chain.ProcessBlock(MakeBlock(*stored, alice.PublicKey())).reason, "bad-prevblk");

  // The honest spend goes through, paying the fee to the miner.
  Transaction spend = MakeSpend(mature, alice, kBlockSubsidy - 1000, bob.PublicKey());
  Block good = MakeBlock(tip, alice.PublicKey(), {spend}, 1000);
  ChainState::BlockResult ok = chain.ProcessBlock(good);
  EXPECT_TRUE(ok.accepted) << ok.reason;
  EXPECT_FALSE(chain.GetCoin(mature).has_value());
  EXPECT_EQ(chain.GetCoin(OutPoint{spend.Txid(), 0})->output.pubkey, bob.PublicKey());
  EXPECT_EQ(chain.GetCoinsStats().total_amount, before.total_amount + kBlockSubsidy);
  bool seen = false;
  chain.WithTip([&](const BlockIndex& tip_now, const CoinsView& coins) {
    EXPECT_EQ(tip_now.hash, good.header.Hash());
    EXPECT_TRUE(coins.Get(OutPoint{spend.Txid(), 0}).has_value());
    seen = true;
  });
  EXPECT_TRUE(seen);
  std::optional<BlockUndo> undo = chain.ReadUndo(chain.Tip());
  ASSERT_TRUE(undo.has_value());
  ASSERT_EQ(undo->spent.size(), 1u);
  EXPECT_EQ(undo->spent[0][0].height, 1u);
}

// A copy of a valid block with a changed signature (or coinbase signature field) has the same
// header, so the same hash. It must be rejected without marking that hash invalid: the genuine
// block is accepted afterwards, and so is a child of it, also after a restart.
TEST_F(ChainStateTest, AMalleatedCopyOfAValidBlockDoesNotMakeItUnacceptable) {
  {
    ChainState chain(Options());
    Extend(chain, 101);
    OutPoint mature = CoinbaseOf(chain, 1);
    Transaction spend = MakeSpend(mature, alice, kBlockSubsidy - 1000, bob.PublicKey());
    Block genuine = MakeBlock(chain.Tip(), alice.PublicKey(), {spend}, 1000);

    Block bad_signature = genuine;
    bad_signature.transactions[1].inputs[0].signature[0] ^= 0x01;
    ASSERT_EQ(bad_signature.header.Hash(), genuine.header.Hash());
    EXPECT_EQ(chain.ProcessBlock(bad_signature).reason, "merkle root does not match");
    Block coinbase_junk = genuine;
    coinbase_junk.transactions[0].inputs[0].signature.fill(0x5a);
    EXPECT_EQ(chain.ProcessBlock(coinbase_junk).reason, "merkle root does not match");
    EXPECT_EQ(chain.Lookup(genuine.header.Hash()), nullptr);  // nothing stored, nothing marked

    ChainState::BlockResult ok = chain.ProcessBlock(genuine);
    EXPECT_TRUE(ok.accepted) << ok.reason;
    EXPECT_TRUE(ok.new_tip);
    // The copy is still refused for what it is.
    EXPECT_EQ(chain.ProcessBlock(bad_signature).reason, "merkle root does not match");
  }
  ChainState reopened(Options());
  EXPECT_EQ(reopened.Height(), 102u);
  Block child = MakeBlock(reopened.Tip(), bob.PublicKey());
  EXPECT_TRUE(reopened.ProcessBlock(child).accepted);
  EXPECT_EQ(reopened.Height(), 103u);
}

// A miner may fill the coinbase's signature field (extra nonce space): it is committed by the
// merkle root like everything else.
TEST_F(ChainStateTest, AcceptsCommittedDataInTheCoinbaseSignatureField) {
  ChainState chain(Options());
  Block block = MakeBlock(chain.Tip(), alice.PublicKey());
  block.transactions[0].inputs[0].signature.fill(0x42);
  test::Mine(block);
  EXPECT_TRUE(chain.ProcessBlock(block).accepted);
  EXPECT_EQ(chain.ReadBlock(chain.Tip())->transactions[0].inputs[0].signature[5], 0x42);
}

TEST_F(ChainStateTest, ReorganisesToABranchWithMoreWork) {
  ChainState chain(Options());
  Extend(chain, 101);
  const BlockIndex& fork = chain.Tip();
  OutPoint mature = CoinbaseOf(chain, 1);
  Recorder recorder;
  chain.AddListener(&recorder);

  // Branch A spends the mature coin.
  Transaction spend = MakeSpend(mature, alice, kBlockSubsidy, bob.PublicKey());
  Block a1 = MakeBlock(fork, alice.PublicKey(), {spend});
  ASSERT_TRUE(chain.ProcessBlock(a1).accepted);
  Block a2 = MakeBlock(*chain.Lookup(a1.header.Hash()), alice.PublicKey());
  ASSERT_TRUE(chain.ProcessBlock(a2).accepted);
  EXPECT_FALSE(chain.GetCoin(mature).has_value());

  // Branch B, paying bob: as long as A is not enough (first seen stays), longer wins.
  Block b1 = MakeBlock(fork, bob.PublicKey(), {}, 0, 7);
  ChainState::BlockResult r1 = chain.ProcessBlock(b1);
  EXPECT_TRUE(r1.accepted);
  EXPECT_FALSE(r1.new_tip);
  Block b2 = MakeBlock(*chain.Lookup(b1.header.Hash()), bob.PublicKey());
  ChainState::BlockResult r2 = chain.ProcessBlock(b2);
  EXPECT_TRUE(r2.accepted);
  EXPECT_FALSE(r2.new_tip);
  EXPECT_EQ(chain.Tip().hash, a2.header.Hash());
  EXPECT_EQ(recorder.events.size(), 4u);  // a1 and a2 connected, each a new tip

  Block b3 = MakeBlock(*chain.Lookup(b2.header.Hash()), bob.PublicKey());
  ChainState::BlockResult r3 = chain.ProcessBlock(b3);
  EXPECT_TRUE(r3.accepted) << r3.reason;
  EXPECT_TRUE(r3.new_tip);
  EXPECT_EQ(chain.Tip().hash, b3.header.Hash());
  EXPECT_EQ(chain.Height(), 104u);
  std::vector<std::string> expected = {
      Event("connect", a1, 102),    Event("tip", a1, 102),         Event("connect", a2, 103),
      Event("tip", a2, 103),        Event("disconnect", a2, 103),  Event("disconnect", a1, 102),
      Event("connect", b1, 102),    Event("connect", b2, 103),     Event("connect", b3, 104),
      Event("tip", b3, 104)};
  EXPECT_EQ(recorder.events, expected);
  chain.RemoveListener(&recorder);

  // Coins: the spend is undone, A's coinbases are gone, B's are there.
  EXPECT_TRUE(chain.GetCoin(mature).has_value());
  EXPECT_FALSE(chain.GetCoin(OutPoint{spend.Txid(), 0}).has_value());
  EXPECT_FALSE(chain.GetCoin(OutPoint{a1.transactions[0].Txid(), 0}).has_value());
  EXPECT_FALSE(chain.GetCoin(OutPoint{a2.transactions[0].Txid(), 0}).has_value());
  EXPECT_EQ(chain.GetCoin(OutPoint{b3.transactions[0].Txid(), 0})->output.pubkey, bob.PublicKey());
  ChainState::CoinsStats stats = chain.GetCoinsStats();
  EXPECT_EQ(stats.coins, 104u);
  EXPECT_EQ(stats.total_amount, 104 * kBlockSubsidy);
  EXPECT_FALSE(chain.IsActive(*chain.Lookup(a1.header.Hash())));
  EXPECT_EQ(chain.FindFork(*chain.Lookup(a2.header.Hash())), &fork);

  std::vector<const BlockIndex*> tips = chain.ChainTips();
  ASSERT_EQ(tips.size(), 2u);
  EXPECT_EQ(tips[0]->hash, b3.header.Hash());
  EXPECT_EQ(tips[1]->hash, a2.header.Hash());

  // And back again when A overtakes: the spend is applied again.
  Block a3 = MakeBlock(*chain.Lookup(a2.header.Hash()), alice.PublicKey());
  ASSERT_TRUE(chain.ProcessBlock(a3).accepted);
  Block a4 = MakeBlock(*chain.Lookup(a3.header.Hash()), alice.PublicKey());
  ChainState::BlockResult r4 = chain.ProcessBlock(a4);
  EXPECT_TRUE(r4.new_tip);
  EXPECT_EQ(chain.Tip().hash, a4.header.Hash());
  EXPECT_FALSE(chain.GetCoin(mature).has_value());
  EXPECT_TRUE(chain.GetCoin(OutPoint{spend.Txid(), 0}).has_value());
}

TEST_F(ChainStateTest, FallsBackWhenTheNewBranchHasAnInvalidBlock) {
  ChainState chain(Options());
  Extend(chain, 3);
  const BlockIndex& fork = *chain.AtHeight(2);
  const BlockIndex& old_tip = chain.Tip();
  ChainState::CoinsStats before = chain.GetCoinsStats();
  Recorder recorder;
  chain.AddListener(&recorder);

  Block x1 = MakeBlock(fork, bob.PublicKey(), {}, 0, 9);
  EXPECT_FALSE(chain.ProcessBlock(x1).new_tip);  // same work as the tip: seen later, stays aside
  // x2 spends an output that does not exist.
  Transaction ghost = MakeSpend(OutPoint{Sha256(std::vector<uint8_t>{3}), 0}, alice, kCoin, bob.PublicKey());
  Block x2 = MakeBlock(*chain.Lookup(x1.header.Hash()), bob.PublicKey(), {ghost});
  ChainState::BlockResult result = chain.ProcessBlock(x2);
  EXPECT_FALSE(result.accepted);
  EXPECT_FALSE(result.new_tip);  // it went there and back
  EXPECT_EQ(result.reason, "transaction 1: input 0 spends a missing or spent output");
  EXPECT_EQ(&chain.Tip(), &old_tip);
  std::vector<std::string> expected = {Event("disconnect", *chain.ReadBlock(old_tip), 3),
                                       Event("connect", x1, 3),
                                       Event("disconnect", x1, 3),
                                       Event("connect", *chain.ReadBlock(old_tip), 3),
                                       Event("tip", *chain.ReadBlock(old_tip), 3)};
  EXPECT_EQ(recorder.events, expected);
  chain.RemoveListener(&recorder);
  const BlockIndex* x1_index = chain.Lookup(x1.header.Hash());
  EXPECT_FALSE(x1_index->IsInvalid());
  EXPECT_NE(x1_index->status & BlockIndex::kValid, 0u);
  EXPECT_NE(chain.Lookup(x2.header.Hash())->status & BlockIndex::kFailed, 0u);
  EXPECT_EQ(chain.GetCoinsStats().hash, before.hash);
  EXPECT_EQ(chain.ProcessBlock(MakeBlock(*chain.Lookup(x2.header.Hash()), bob.PublicKey())).reason, "bad-prevblk");
  // A valid sibling of x2 makes the branch the best again.
  Block y2 = MakeBlock(*x1_index, bob.PublicKey(), {}, 0, 3);
  ChainState::BlockResult y = chain.ProcessBlock(y2);
  EXPECT_TRUE(y.accepted && y.new_tip) << y.reason;
  EXPECT_EQ(chain.Height(), 4u);
}

TEST_F(ChainStateTest, ValidatesManyBlocksConcurrently) {
  ChainState chain(Options());
  Extend(chain, 2);
  std::vector<std::shared_ptr<AddBlockJob>> jobs;
  for (uint32_t i = 0; i < 12; ++i) {
    jobs.push_back(chain.AddBlock(MakeBlock(chain.Tip(), alice.PublicKey(), {}, 0, i)));
  }
  for (auto& job : jobs) job->Start();
  int new_tips = 0;
  for (auto& job : jobs) {
    job->Wait();
    EXPECT_TRUE(job->accepted()) << job->reason();
    EXPECT_TRUE(job->errors().empty());
    new_tips += job->new_tip() ? 1 : 0;
  }
  EXPECT_EQ(new_tips, 1);  // the first one processed; the siblings have equal work
  EXPECT_EQ(chain.Height(), 3u);
  EXPECT_EQ(chain.BlockCount(), 15u);
  EXPECT_EQ(chain.ChainTips().size(), 12u);
}

TEST_F(ChainStateTest, ReopensAfterACleanClose) {
  Uint256 tip;
  Uint256 side;
  ChainState::CoinsStats stats;
  ChainStateOptions options = Options(true);
  options.max_block_file_size = 8192;  // several block files
  {
    ChainState chain(options);
    Extend(chain, 101);
    Transaction spend = MakeSpend(CoinbaseOf(chain, 1), alice, kBlockSubsidy / 2, bob.PublicKey());
    Block block = MakeBlock(chain.Tip(), alice.PublicKey(), {spend}, kBlockSubsidy / 2);
    ASSERT_TRUE(chain.ProcessBlock(block).accepted);
    Block aside = MakeBlock(*chain.AtHeight(101), bob.PublicKey(), {}, 0, 5);
    ASSERT_TRUE(chain.ProcessBlock(aside).accepted);
    tip = chain.Tip().hash;
    side = aside.header.Hash();
    stats = chain.GetCoinsStats();
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path / "blocks" / "blk00002.dat"));
  EXPECT_TRUE(std::filesystem::exists(dir.path / "blocks" / "rev00000.dat"));
  ChainState chain(options);
  EXPECT_EQ(chain.Tip().hash, tip);
  EXPECT_EQ(chain.Height(), 102u);
  ChainState::CoinsStats again = chain.GetCoinsStats();
  EXPECT_EQ(again.hash, stats.hash);
  EXPECT_EQ(again.coins, stats.coins);
  EXPECT_EQ(again.total_amount, stats.total_amount);
  const BlockIndex* aside = chain.Lookup(side);
  ASSERT_NE(aside, nullptr);
  EXPECT_FALSE(chain.IsActive(*aside));
  EXPECT_TRUE(chain.ReadBlock(*aside).has_value());
  EXPECT_EQ(aside->chain_work, chain.AtHeight(102)->chain_work);
  for (uint32_t height = 0; height <= chain.Height(); ++height) {
    EXPECT_TRUE(chain.ReadBlock(*chain.AtHeight(height)).has_value()) << height;
  }
  EXPECT_TRUE(chain.GetCoin(CoinbaseOf(chain, 2)).has_value());
  EXPECT_FALSE(chain.GetCoin(CoinbaseOf(chain, 1)).has_value());
  Extend(chain, 1);
  EXPECT_EQ(chain.Height(), 103u);
}

TEST_F(ChainStateTest, DeferredBlocksBecomeDurableTogether) {
  ChainStateOptions options = Options(true);
  options.max_block_file_size = 4096;  // the batch crosses into new block files
  Uint256 synced_tip;
  Uint256 closed_tip;
  {
    ChainState chain(options);
    Extend(chain, 2);
    EXPECT_FALSE(chain.HasPendingWrites());
    for (int i = 0; i < 30; ++i) {
      ChainState::BlockResult result = chain.ProcessBlock(MakeBlock(chain.Tip(), alice.PublicKey()), {.sync = BlockSync::kDeferred});
      ASSERT_TRUE(result.accepted) << result.reason;
      EXPECT_TRUE(chain.HasPendingWrites());
    }
    // Readable at once; durable, with their index entries written, after the sync.
    EXPECT_TRUE(chain.ReadBlock(chain.Tip()).has_value());
    chain.SyncPendingWrites();
    EXPECT_FALSE(chain.HasPendingWrites());
    synced_tip = chain.Tip().hash;
    // A block accepted the usual way writes what a deferred one left pending.
    chain.ProcessBlock(MakeBlock(chain.Tip(), alice.PublicKey()), {.sync = BlockSync::kDeferred});
    EXPECT_TRUE(chain.HasPendingWrites());
    Extend(chain, 1);
    EXPECT_FALSE(chain.HasPendingWrites());
    // Left pending at close: the close writes them.
    chain.ProcessBlock(MakeBlock(chain.Tip(), alice.PublicKey()), {.sync = BlockSync::kDeferred});
    EXPECT_TRUE(chain.HasPendingWrites());
    closed_tip = chain.Tip().hash;
  }
  EXPECT_TRUE(std::filesystem::exists(dir.path / "blocks" / "blk00001.dat"));
  ChainState chain(options);
  EXPECT_EQ(chain.Height(), 35u);
  EXPECT_EQ(chain.Tip().hash, closed_tip);
  ASSERT_NE(chain.Lookup(synced_tip), nullptr);
  for (uint32_t height = 0; height <= chain.Height(); ++height) {
    const BlockIndex* index = chain.AtHeight(height);
    EXPECT_TRUE(chain.ReadBlock(*index).has_value()) << height;
    if (height > 0) {
      EXPECT_TRUE(chain.ReadUndo(*index).has_value()) << height;
    }
  }
}

TEST_F(ChainStateTest, RemembersInvalidBlocksAcrossRestarts) {
  Uint256 bad_hash;
  {
    ChainState chain(Options(true));
    Extend(chain, 2);
    Transaction ghost = MakeSpend(OutPoint{Sha256(std::vector<uint8_t>{5}), 1}, alice, kCoin, bob.PublicKey());
    Block bad = MakeBlock(chain.Tip(), alice.PublicKey(), {ghost});
    EXPECT_FALSE(chain.ProcessBlock(bad).accepted);
    bad_hash = bad.header.Hash();
  }
  ChainState chain(Options(true));
  const BlockIndex* bad = chain.Lookup(bad_hash);
  ASSERT_NE(bad, nullptr);
  EXPECT_NE(chain.StatusOf(*bad) & BlockIndex::kFailed, 0u);
  EXPECT_EQ(chain.StatusOf(*bad) & BlockIndex::kValid, 0u);
  EXPECT_EQ(chain.StatusOf(chain.Tip()) & (BlockIndex::kValid | BlockIndex::kHaveData | BlockIndex::kHaveUndo),
            BlockIndex::kValid | BlockIndex::kHaveData | BlockIndex::kHaveUndo);
  EXPECT_EQ(chain.Height(), 2u);
  EXPECT_EQ(chain.ProcessBlock(*chain.ReadBlock(*bad)).reason, "duplicate-invalid");
  EXPECT_EQ(chain.ProcessBlock(MakeBlock(*bad, alice.PublicKey())).reason, "bad-prevblk");
}

TEST_F(ChainStateTest, AJobOnAStoppedPoolReportsWhy) {
  crossproc::WorkerPool stopped(crossproc::WorkerPoolOptions{.threads = 1});
  ChainState chain(ChainStateOptions{.dir = dir.path, .pool = &stopped, .sync_writes = false});
  Block block = MakeBlock(chain.Tip(), alice.PublicKey());
  stopped.Stop(crossproc::WorkerPool::Shutdown::kDrain);
  ChainState::BlockResult result = chain.ProcessBlock(block);
  EXPECT_FALSE(result.accepted);
  EXPECT_EQ(result.reason, "internal error: the worker pool has stopped");
  EXPECT_EQ(chain.Height(), 0u);
}

TEST_F(ChainStateTest, RefusesAnUnusableOrCorruptDirectory) {
  // A regular file where the directory should be.
  std::filesystem::create_directories(dir.path);
  std::ofstream(dir.path / "file") << "x";
  try {
    ChainState chain(ChainStateOptions{.dir = dir.path / "file", .pool = &pool});
    FAIL() << "opened a file as the chain directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path.string()), std::string::npos) << e.what();
  }
  // A subdirectory that cannot be made.
  {
    std::filesystem::create_directories(dir.path / "y");
    std::ofstream(dir.path / "y" / "blocks") << "x";
    EXPECT_THROW(ChainState(ChainStateOptions{.dir = dir.path / "y", .pool = &pool}), std::runtime_error);
  }

  std::filesystem::path datadir = dir.path / "chain";
  ChainStateOptions options{.dir = datadir, .pool = &pool, .sync_writes = false};
  {
    ChainState chain(options);
    Extend(chain, 3);
    // Two openers of one directory: the second is kept out.
    try {
      ChainState second(options);
      FAIL() << "opened the same directory twice";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("chainstate"), std::string::npos) << e.what();
    }
  }
  std::filesystem::copy(datadir, dir.path / "copy", std::filesystem::copy_options::recursive);

  // The coins no longer match the best block.
  {
    Database db({.dir = datadir / "chainstate"});
    std::string first_coin;
    db.ForEach("c", [&](std::string_view key, std::string_view) {
      first_coin = std::string(key);
      return false;
    });
    ASSERT_FALSE(first_coin.empty());
    DatabaseBatch batch;
    batch.Delete(first_coin);
    db.Write(batch, true);
  }
  // Opening does not read the coins (start-up stays fast); reading them all finds the loss.
  try {
    ChainState chain(options);
    chain.GetCoinsStats();
    FAIL() << "counted a coin set that does not match the best block";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("coins do not match"), std::string::npos) << e.what();
  }

  // The best block's data is gone.
  options.dir = dir.path / "copy";
  { ChainState chain(options); }  // the copy is intact
  std::filesystem::resize_file(options.dir / "blocks" / "blk00000.dat", 200);
  try {
    ChainState chain(options);
    FAIL() << "opened a chain whose best block is unreadable";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("best block cannot be read"), std::string::npos) << e.what();
  }
}

TEST_F(ChainStateTest, InvalidateBlockDisconnectsItAndItsDescendants) {
  ChainState chain(Options());
  Extend(chain, 5);
  const BlockIndex& third = *chain.AtHeight(3);
  const BlockIndex& old_tip = chain.Tip();
  EXPECT_EQ(chain.GetCoinsStats().transactions, 5u);
  Recorder recorder;
  chain.AddListener(&recorder);
  EXPECT_EQ(chain.InvalidateBlock(third.hash), std::nullopt);
  chain.RemoveListener(&recorder);
  EXPECT_EQ(chain.Height(), 2u);
  EXPECT_EQ(&chain.Tip(), chain.AtHeight(2));
  std::vector<std::string> expected = {Event("disconnect", *chain.ReadBlock(old_tip), 5),
                                       Event("disconnect", *chain.ReadBlock(*chain.Lookup(old_tip.prev->hash)), 4),
                                       Event("disconnect", *chain.ReadBlock(third), 3),
                                       Event("tip", *chain.ReadBlock(chain.Tip()), 2)};
  EXPECT_EQ(recorder.events, expected);
  EXPECT_NE(chain.StatusOf(third) & BlockIndex::kFailed, 0u);
  EXPECT_NE(chain.StatusOf(old_tip) & BlockIndex::kFailedParent, 0u);
  EXPECT_EQ(chain.StatusOf(*chain.AtHeight(2)) & (BlockIndex::kFailed | BlockIndex::kFailedParent), 0u);
  EXPECT_EQ(chain.GetCoinsStats().coins, 2u);
  EXPECT_FALSE(chain.GetCoin(OutPoint{chain.ReadBlock(third)->transactions[0].Txid(), 0}).has_value());
  // The tips: the invalid branch and the active tip below it.
  std::vector<const BlockIndex*> tips = chain.ChainTips();
  ASSERT_EQ(tips.size(), 2u);
  EXPECT_EQ(tips[0], &old_tip);
  EXPECT_EQ(tips[1], &chain.Tip());
  // Blocks on the invalid branch are refused; the chain grows from the new tip.
  EXPECT_EQ(chain.ProcessBlock(MakeBlock(old_tip, alice.PublicKey())).reason, "bad-prevblk");
  EXPECT_EQ(chain.ProcessBlock(*chain.ReadBlock(third)).reason, "duplicate-invalid");
  Block next = MakeBlock(chain.Tip(), bob.PublicKey(), {}, 0, 11);
  EXPECT_TRUE(chain.ProcessBlock(next).new_tip);
  EXPECT_EQ(chain.Height(), 3u);

  // Invalidating a block off the active chain changes nothing but its branch's flags.
  const BlockIndex& fourth = *chain.Lookup(old_tip.prev->hash);
  EXPECT_EQ(chain.InvalidateBlock(fourth.hash), std::nullopt);
  EXPECT_EQ(chain.Tip().hash, next.header.Hash());

  // Unknown blocks and the genesis block are refused.
  EXPECT_EQ(chain.InvalidateBlock(Sha256(std::vector<uint8_t>{1})), std::optional<std::string>("Block not found"));
  EXPECT_TRUE(chain.InvalidateBlock(chain.Genesis().hash).has_value());
  EXPECT_EQ(chain.Height(), 3u);
  EXPECT_EQ(chain.ReconsiderBlock(Sha256(std::vector<uint8_t>{1})), std::optional<std::string>("Block not found"));
}

TEST_F(ChainStateTest, InvalidateBlockMovesToTheBestRemainingBranch) {
  ChainState chain(Options());
  Extend(chain, 101);
  const BlockIndex& fork = chain.Tip();
  // Branch A (active, three blocks) spends a mature coin; branch B has two blocks.
  Transaction spend = MakeSpend(CoinbaseOf(chain, 1), alice, kBlockSubsidy, bob.PublicKey());
  ASSERT_TRUE(chain.ProcessBlock(MakeBlock(fork, alice.PublicKey(), {spend})).new_tip);
  std::vector<Uint256> a{chain.Tip().hash};
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(chain.ProcessBlock(MakeBlock(chain.Tip(), alice.PublicKey())).new_tip);
    a.push_back(chain.Tip().hash);
  }
  Block b1 = MakeBlock(fork, bob.PublicKey(), {}, 0, 20);
  ASSERT_TRUE(chain.ProcessBlock(b1).accepted);
  Block b2 = MakeBlock(*chain.Lookup(b1.header.Hash()), bob.PublicKey());
  ASSERT_TRUE(chain.ProcessBlock(b2).accepted);
  EXPECT_EQ(chain.Tip().hash, a[2]);

  // Invalidating A's second block: A's first block (103 blocks of work) stays valid, but B
  // (104) has more.
  EXPECT_EQ(chain.InvalidateBlock(a[1]), std::nullopt);
  EXPECT_EQ(chain.Tip().hash, b2.header.Hash());
  EXPECT_TRUE(chain.GetCoin(CoinbaseOf(chain, 1)).has_value());  // the spend is undone
  EXPECT_FALSE(chain.GetCoin(OutPoint{spend.Txid(), 0}).has_value());

  // Reconsidering brings A back: it has the most work again.
  EXPECT_EQ(chain.ReconsiderBlock(a[1]), std::nullopt);
  EXPECT_EQ(chain.Tip().hash, a[2]);
  EXPECT_EQ(chain.StatusOf(*chain.Lookup(a[1])) & (BlockIndex::kFailed | BlockIndex::kFailedParent), 0u);
  EXPECT_EQ(chain.StatusOf(*chain.Lookup(a[2])) & (BlockIndex::kFailed | BlockIndex::kFailedParent), 0u);
  EXPECT_TRUE(chain.GetCoin(OutPoint{spend.Txid(), 0}).has_value());

  // Reconsidering an ancestor clears the marks of its descendants too.
  EXPECT_EQ(chain.InvalidateBlock(a[0]), std::nullopt);
  EXPECT_EQ(chain.Tip().hash, b2.header.Hash());
  EXPECT_EQ(chain.ReconsiderBlock(fork.hash), std::nullopt);
  EXPECT_EQ(chain.Tip().hash, a[2]);
}

TEST_F(ChainStateTest, InvalidatedBlocksStayInvalidAcrossRestartsUntilReconsidered) {
  Uint256 tip;
  Uint256 invalidated;
  {
    ChainState chain(Options(true));
    Extend(chain, 4);
    tip = chain.Tip().hash;
    invalidated = chain.AtHeight(3)->hash;
    ASSERT_EQ(chain.InvalidateBlock(invalidated), std::nullopt);
    ASSERT_EQ(chain.Height(), 2u);
  }
  {
    ChainState chain(Options(true));
    EXPECT_EQ(chain.Height(), 2u);
    EXPECT_NE(chain.StatusOf(*chain.Lookup(invalidated)) & BlockIndex::kFailed, 0u);
    EXPECT_NE(chain.StatusOf(*chain.Lookup(tip)) & BlockIndex::kFailedParent, 0u);
    ASSERT_EQ(chain.ReconsiderBlock(invalidated), std::nullopt);
    EXPECT_EQ(chain.Tip().hash, tip);
  }
  ChainState chain(Options(true));
  EXPECT_EQ(chain.Tip().hash, tip);
  EXPECT_EQ(chain.StatusOf(*chain.Lookup(tip)) & (BlockIndex::kFailed | BlockIndex::kFailedParent), 0u);
}

TEST_F(ChainStateTest, ReconsideringABlockThatBreaksARuleFindsItInvalidAgain) {
  ChainState chain(Options());
  Extend(chain, 2);
  const BlockIndex& tip = chain.Tip();
  Transaction ghost = MakeSpend(OutPoint{Sha256(std::vector<uint8_t>{7}), 0}, alice, kCoin, bob.PublicKey());
  Block bad = MakeBlock(tip, alice.PublicKey(), {ghost});
  EXPECT_FALSE(chain.ProcessBlock(bad).accepted);
  const BlockIndex* bad_index = chain.Lookup(bad.header.Hash());
  ASSERT_NE(bad_index, nullptr);
  EXPECT_EQ(chain.ReconsiderBlock(bad_index->hash), std::nullopt);
  EXPECT_EQ(&chain.Tip(), &tip);
  EXPECT_NE(chain.StatusOf(*bad_index) & BlockIndex::kFailed, 0u);
}

}  // namespace
}  // namespace minicoin
