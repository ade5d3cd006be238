// Tests of the storage options: the transaction index, pruning, reindexing.
#include "chain/chain_state.h"
#include "chain/prune.h"
#include "chain/reindex.h"
#include "chain/test_util.h"
#include "chain/tx_index.h"
#include "storage/block_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace minicoin {
namespace {

using test::CoinbaseOf;
using test::MakeBlock;
using test::MakeSpend;

class StorageOptionsTest : public ::testing::Test {
 protected:
  ChainStateOptions Options() {
    return ChainStateOptions{.dir = dir.path, .pool = &pool, .sync_writes = false};
  }
  ChainStateOptions PruneOptions() {
    ChainStateOptions options = Options();
    options.max_block_file_size = 1024;
    options.prune = true;
    options.prune_target_bytes = 0;
    return options;
  }
  void Extend(ChainState& chain, int count, const PrivateKey& to) {
    for (int i = 0; i < count; ++i) {
      ChainState::BlockResult result = chain.ProcessBlock(MakeBlock(chain.Tip(), to.PublicKey()));
      ASSERT_TRUE(result.accepted) << result.reason;
    }
  }
  std::vector<uint32_t> Files(const char* prefix) {
    return ListRecordFiles(dir.path / "blocks", prefix);
  }

  test::TempDir dir;
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
  PrivateKey alice = PrivateKey::Derive(std::vector<uint8_t>{1}, 0);
  PrivateKey bob = PrivateKey::Derive(std::vector<uint8_t>{2}, 0);
};

// ---------------------------------------------------------------------------------------------
// The choice of files to prune

std::vector<uint32_t> Numbers(const std::vector<PruneCandidate>& files, bool undo) {
  std::vector<uint32_t> numbers;
  for (const PruneCandidate& file : files) {
    if (file.undo == undo) numbers.push_back(file.number);
  }
  return numbers;
}

TEST(ChooseFilesToPrune, OldestFirstUntilTheTargetKeepingRecentAndCurrentFiles) {
  std::vector<PruneCandidate> files = {
      {.undo = false, .number = 0, .size = 100, .highest_block = 10},
      {.undo = false, .number = 1, .size = 100, .highest_block = 20},
      {.undo = false, .number = 2, .size = 100, .highest_block = 30},
      {.undo = false, .number = 3, .size = 100, .highest_block = 40},  // the current block file
      {.undo = true, .number = 0, .size = 50, .highest_block = 25},
      {.undo = true, .number = 1, .size = 50, .highest_block = 40},  // the current undo file
      {.undo = true,
       .number = 7,
       .size = 10,
       .highest_block = std::nullopt},  // nothing refers to it
  };
  // Within the target: nothing goes.
  EXPECT_TRUE(ChooseFilesToPrune(files, 510, 0, 3, 1).empty());
  // Just over it: the unreferenced file goes first.
  std::vector<PruneCandidate> chosen = ChooseFilesToPrune(files, 505, 100, 3, 1);
  EXPECT_EQ(Numbers(chosen, true), (std::vector<uint32_t>{7}));
  EXPECT_TRUE(Numbers(chosen, false).empty());
  // Further: by highest block, blk 0 (10), blk 1 (20), rev 0 (25).
  chosen = ChooseFilesToPrune(files, 260, 100, 3, 1);
  EXPECT_EQ(Numbers(chosen, false), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(Numbers(chosen, true), (std::vector<uint32_t>{7, 0}));
  // Everything allowed: never the current files.
  chosen = ChooseFilesToPrune(files, 0, 1000, 3, 1);
  EXPECT_EQ(Numbers(chosen, false), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(Numbers(chosen, true), (std::vector<uint32_t>{7, 0}));
  // Files with blocks at or above the kept height stay, whatever the target.
  chosen = ChooseFilesToPrune(files, 0, 20, 3, 1);
  EXPECT_EQ(Numbers(chosen, false), (std::vector<uint32_t>{0}));
  EXPECT_EQ(Numbers(chosen, true), (std::vector<uint32_t>{7}));
}

// ---------------------------------------------------------------------------------------------
// Pruning in the chain state

TEST_F(StorageOptionsTest, PruningDeletesOldFilesAndKeepsTheLastBlocks) {
  const uint32_t blocks =
      kMinBlocksToKeep + 120;  // enough for undo files (small records) to go too
  Uint256 genesis;
  uint32_t prune_height = 0;
  {
    ChainState chain(PruneOptions());
    genesis = chain.Genesis().hash;
    EXPECT_TRUE(chain.PruneMode());
    EXPECT_EQ(chain.PruneHeight(), 0u);
    Extend(chain, static_cast<int>(blocks), alice);
    const uint32_t keep_from = blocks + 1 - kMinBlocksToKeep;
    prune_height = chain.PruneHeight();
    EXPECT_GT(prune_height, 0u);
    EXPECT_LE(prune_height, keep_from);
    // The genesis block's file went, and with it the flags; blocks from the prune height on stay.
    std::vector<uint32_t> blk = Files("blk");
    std::vector<uint32_t> rev = Files("rev");
    EXPECT_NE(blk.front(), 0u);
    EXPECT_NE(rev.front(), 0u);  // undo files go too (small records: several files' worth here)
    EXPECT_EQ(chain.StatusOf(chain.Genesis()) & BlockIndex::kHaveData, 0u);
    EXPECT_FALSE(chain.ReadBlock(chain.Genesis()).has_value());
    for (uint32_t height = prune_height; height <= blocks; ++height) {
      const BlockIndex& index = *chain.AtHeight(height);
      EXPECT_NE(chain.StatusOf(index) & BlockIndex::kHaveData, 0u) << height;
      EXPECT_TRUE(chain.ReadBlock(index).has_value()) << height;
    }
    for (uint32_t height = keep_from; height <= blocks; ++height) {
      EXPECT_TRUE(chain.ReadUndo(*chain.AtHeight(height)).has_value()) << height;
    }
    EXPECT_FALSE(chain.ReadBlock(*chain.AtHeight(prune_height - 1)).has_value());
    // Every file left holds a block the rule keeps, or is being written.
    std::set<uint32_t> needed;
    for (uint32_t height = keep_from; height <= blocks; ++height)
      needed.insert(chain.AtHeight(height)->data_position.file);
    for (uint32_t file : blk) {
      EXPECT_TRUE(needed.count(file) != 0 || file == blk.back())
          << "blk file " << file << " should have gone";
    }
  }
  // The flags are stored: a reopened chain knows what is gone, and goes on.
  ChainState chain(PruneOptions());
  EXPECT_EQ(chain.Height(), blocks);
  EXPECT_EQ(chain.StatusOf(*chain.Lookup(genesis)) & BlockIndex::kHaveData, 0u);
  EXPECT_EQ(chain.PruneHeight(), prune_height);
  Extend(chain, 40, alice);
  EXPECT_GT(chain.PruneHeight(), prune_height);
}

TEST_F(StorageOptionsTest, PruningToATargetKeepsFilesUpToIt) {
  ChainStateOptions options = PruneOptions();
  options.prune_target_bytes = 100000;  // more than the files of the last 288 blocks (about 75000)
  ChainState chain(options);
  Extend(chain, static_cast<int>(kMinBlocksToKeep + 300), alice);
  uint64_t total = 0;
  for (const char* prefix : {"blk", "rev"}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir.path / "blocks")) {
      if (entry.path().filename().string().rfind(prefix, 0) == 0) total += entry.file_size();
    }
  }
  EXPECT_LE(total, options.prune_target_bytes);
  EXPECT_GT(total + 2 * 1024, options.prune_target_bytes);  // no more than a file each below it
  EXPECT_GT(chain.PruneHeight(), 0u);
  EXPECT_LT(chain.PruneHeight(), chain.Height() + 1 - kMinBlocksToKeep);
}

TEST_F(StorageOptionsTest, APrunedNodeRefusesAReorganisationBelowItsKeptBlocks) {
  ChainState chain(PruneOptions());
  const uint32_t blocks = kMinBlocksToKeep + 40;
  Extend(chain, static_cast<int>(blocks), alice);
  const Uint256 tip = chain.Tip().hash;

  // A branch from block 1 that ends up with more work: its early blocks' files are pruned as it
  // grows (they are old), and the chain cannot move to it.
  const BlockIndex* parent = chain.AtHeight(1);
  Uint256 previous = parent->hash;
  uint32_t time = parent->header.time + 1000;
  ChainState::BlockResult last;
  for (uint32_t height = 2; height <= blocks + 1; ++height) {
    Block block = MakeBlock(previous, height, time++, bob.PublicKey());
    previous = block.header.Hash();
    last = chain.ProcessBlock(block);
  }
  EXPECT_FALSE(last.accepted);
  EXPECT_NE(last.reason.find("below the blocks this pruned node keeps"), std::string::npos)
      << last.reason;
  EXPECT_EQ(chain.Tip().hash, tip);
  ASSERT_NE(chain.Lookup(previous), nullptr);  // stored all the same
  // Invalidating a block below the kept ones is refused the same way.
  std::optional<std::string> refused = chain.InvalidateBlock(chain.AtHeight(2)->hash);
  ASSERT_TRUE(refused.has_value());
  EXPECT_NE(refused->find("was pruned"), std::string::npos) << *refused;
  EXPECT_EQ(chain.Tip().hash, tip);
  EXPECT_FALSE(chain.AtHeight(2)->IsInvalid());

  // A shallow reorganisation still works.
  const BlockIndex& fork = *chain.AtHeight(blocks - 5);
  Block side = MakeBlock(fork, bob.PublicKey(), {}, 0, 9);
  for (int i = 0; i < 7; ++i) {
    ChainState::BlockResult result = chain.ProcessBlock(side);
    ASSERT_TRUE(result.accepted) << result.reason;
    side = MakeBlock(*chain.Lookup(side.header.Hash()), bob.PublicKey());
  }
  EXPECT_EQ(chain.Height(), blocks + 2);
  EXPECT_EQ(chain.AtHeight(blocks - 4)->header.previous, fork.hash);
  EXPECT_NE(chain.AtHeight(blocks)->hash, tip);
}

// ---------------------------------------------------------------------------------------------
// The transaction index

TEST_F(StorageOptionsTest, TxIndexFollowsTheChainAndCatchesUp) {
  ChainState chain(Options());
  Extend(chain, 101, alice);
  const std::filesystem::path index_dir = dir.path / "indexes" / "txindex";
  Transaction spend = MakeSpend(CoinbaseOf(chain, 1), alice, kBlockSubsidy, bob.PublicKey());
  Block with_spend = MakeBlock(chain.Tip(), alice.PublicKey(), {spend});
  {
    // Opened on an existing chain: catches up.
    TxIndex index(chain, {.dir = index_dir});
    EXPECT_EQ(index.BestBlock(), chain.Tip().hash);
    for (uint32_t height = 1; height <= 101; ++height) {
      std::optional<TxIndex::Location> found = index.Find(CoinbaseOf(chain, height).txid);
      ASSERT_TRUE(found.has_value()) << height;
      EXPECT_EQ(found->block, chain.AtHeight(height)->hash);
      EXPECT_EQ(found->position, 0u);
    }
    EXPECT_FALSE(index.Find(spend.Txid()).has_value());
    // Follows a new block.
    ASSERT_TRUE(chain.ProcessBlock(with_spend).accepted);
    std::optional<TxIndex::Location> found = index.Find(spend.Txid());
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->block, with_spend.header.Hash());
    EXPECT_EQ(found->position, 1u);
    // And its disconnection, and the reconnection.
    ASSERT_FALSE(chain.InvalidateBlock(with_spend.header.Hash()).has_value());
    EXPECT_FALSE(index.Find(spend.Txid()).has_value());
    EXPECT_EQ(index.BestBlock(), chain.Tip().hash);
    ASSERT_FALSE(chain.ReconsiderBlock(with_spend.header.Hash()).has_value());
    EXPECT_EQ(index.Find(spend.Txid())->block, with_spend.header.Hash());
  }
  // Closed while the chain moves on (or a node killed before the index wrote): it lags, and
  // catches up when opened again.
  Extend(chain, 3, bob);
  {
    TxIndex index(chain, {.dir = index_dir});
    EXPECT_EQ(index.BestBlock(), chain.Tip().hash);
    EXPECT_EQ(index.Find(CoinbaseOf(chain, 105).txid)->block, chain.Tip().hash);
    EXPECT_EQ(index.Find(spend.Txid())->block, with_spend.header.Hash());
  }
  // Left on a branch the chain has since abandoned: the index goes back to the fork first.
  const Uint256 abandoned = chain.AtHeight(104)->hash;
  const OutPoint abandoned_coinbase = CoinbaseOf(chain, 104);
  ASSERT_FALSE(chain.InvalidateBlock(abandoned).has_value());
  Extend(chain, 3, alice);
  TxIndex index(chain, {.dir = index_dir});
  EXPECT_EQ(index.BestBlock(), chain.Tip().hash);
  EXPECT_FALSE(index.Find(abandoned_coinbase.txid).has_value());
  EXPECT_EQ(index.Find(CoinbaseOf(chain, 104).txid)->block, chain.AtHeight(104)->hash);
  EXPECT_EQ(index.Find(spend.Txid())->block, with_spend.header.Hash());
}

TEST_F(StorageOptionsTest, TxIndexRebuildsWhenItsBestBlockIsUnknown) {
  const std::filesystem::path index_dir = dir.path / "indexes" / "txindex";
  Uint256 first_coinbase;
  {
    test::TempDir other;
    ChainState chain(ChainStateOptions{.dir = other.path, .pool = &pool, .sync_writes = false});
    Extend(chain, 3, bob);
    first_coinbase = CoinbaseOf(chain, 1).txid;
    TxIndex index(chain, {.dir = index_dir});
  }
  ChainState chain(Options());
  Extend(chain, 2, alice);
  std::vector<std::string> lines;
  TxIndex index(chain,
                {.dir = index_dir, .log = [&](const std::string& line) { lines.push_back(line); }});
  EXPECT_EQ(index.BestBlock(), chain.Tip().hash);
  EXPECT_FALSE(index.Find(first_coinbase).has_value());
  EXPECT_TRUE(index.Find(CoinbaseOf(chain, 2).txid).has_value());
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("unknown to the chain"), std::string::npos) << lines.front();
}

// ---------------------------------------------------------------------------------------------
// Reindexing

TEST_F(StorageOptionsTest, ReindexRebuildsTheSameChainFromTheBlockFiles) {
  ChainStateOptions options = Options();
  options.max_block_file_size = 4096;
  Uint256 tip;
  Uint256 side;
  ChainState::CoinsStats stats;
  {
    ChainState chain(options);
    Extend(chain, 101, alice);
    Transaction spend = MakeSpend(CoinbaseOf(chain, 1), alice, kBlockSubsidy, bob.PublicKey());
    ASSERT_TRUE(chain.ProcessBlock(MakeBlock(chain.Tip(), alice.PublicKey(), {spend})).accepted);
    Block aside = MakeBlock(*chain.AtHeight(100), bob.PublicKey(), {}, 0, 3);
    ASSERT_TRUE(chain.ProcessBlock(aside).accepted);
    side = aside.header.Hash();
    Extend(chain, 5, bob);
    tip = chain.Tip().hash;
    stats = chain.GetCoinsStats();
  }
  const std::vector<uint32_t> blk_before = Files("blk");
  RecordFiles reader({.dir = dir.path / "blocks", .prefix = "blk", .sync = false});
  const std::filesystem::path last_file = reader.FilePath(blk_before.back());
  const uint64_t last_size_before = std::filesystem::file_size(last_file);
  WipeForReindex(dir.path);
  EXPECT_FALSE(std::filesystem::exists(dir.path / "chainstate"));
  EXPECT_TRUE(Files("rev").empty());
  {
    ChainState chain(options);
    EXPECT_EQ(chain.Height(), 0u);
    std::vector<std::string> lines;
    ReindexResult result =
        ReindexBlockFiles(chain, dir.path, [&](const std::string& line) { lines.push_back(line); });
    EXPECT_EQ(result.added, 108u);
    EXPECT_EQ(result.duplicates, 1u);  // the genesis block
    EXPECT_EQ(result.orphans, 0u);
    EXPECT_EQ(chain.Tip().hash, tip);
    ASSERT_NE(chain.Lookup(side), nullptr);
    EXPECT_FALSE(chain.IsActive(*chain.Lookup(side)));
    ChainState::CoinsStats again = chain.GetCoinsStats();
    EXPECT_EQ(again.hash, stats.hash);
    EXPECT_EQ(again.coins, stats.coins);
    EXPECT_FALSE(lines.empty());
  }
  // Nothing was appended again (not even the genesis block): the blocks were indexed where they
  // lie.
  EXPECT_EQ(Files("blk"), blk_before);
  EXPECT_EQ(std::filesystem::file_size(last_file), last_size_before);
  // Reopened normally.
  ChainState chain(options);
  EXPECT_EQ(chain.Tip().hash, tip);
  EXPECT_EQ(chain.GetCoinsStats().hash, stats.hash);
}

TEST_F(StorageOptionsTest, ReindexTakesBlocksBeforeTheirParents) {
  const ChainParams& params = ChainParams::Get(ChainType::kRegtest);
  const Block& genesis = params.genesis;
  Block first = MakeBlock(genesis.header.Hash(), 1, genesis.header.time + 1, alice.PublicKey());
  Block second = MakeBlock(first.header.Hash(), 2, genesis.header.time + 2, alice.PublicKey());
  Block third = MakeBlock(second.header.Hash(), 3, genesis.header.time + 3, alice.PublicKey());
  {
    // The files hold the children first (as when blocks were received out of order).
    RecordFiles files({.dir = dir.path / "blocks", .prefix = "blk", .sync = false});
    files.Append(third.Encode());
    files.Append(second.Encode());
    files.Append(std::vector<uint8_t>{1, 2, 3});  // not a block
    files.Append(first.Encode());
  }
  ChainState chain(Options());
  ReindexResult result = ReindexBlockFiles(chain, dir.path, nullptr);
  EXPECT_EQ(result.records, 5u);  // with the genesis block the chain appended
  EXPECT_EQ(result.added, 3u);
  EXPECT_EQ(result.rejected, 1u);
  EXPECT_EQ(result.orphans, 0u);
  EXPECT_EQ(chain.Tip().hash, third.header.Hash());
  // A block whose parent never comes is reported.
  Block stray =
      MakeBlock(Uint256(std::array<uint8_t, 32>{7}), 9, genesis.header.time + 9, alice.PublicKey());
  {
    RecordFiles files({.dir = dir.path / "blocks", .prefix = "blk", .sync = false});
    files.Append(stray.Encode());
  }
  result = ReindexBlockFiles(chain, dir.path, nullptr);
  EXPECT_EQ(result.orphans, 1u);
  EXPECT_EQ(result.added, 0u);
}

TEST_F(StorageOptionsTest, ReindexChainstateReconnectsTheStoredChain) {
  Uint256 tip;
  ChainState::CoinsStats stats;
  {
    ChainState chain(Options());
    Extend(chain, 101, alice);
    Transaction spend = MakeSpend(CoinbaseOf(chain, 1), alice, kBlockSubsidy, bob.PublicKey());
    ASSERT_TRUE(chain.ProcessBlock(MakeBlock(chain.Tip(), alice.PublicKey(), {spend})).accepted);
    Extend(chain, 2, bob);
    tip = chain.Tip().hash;
    stats = chain.GetCoinsStats();
  }
  ChainStateOptions options = Options();
  options.reindex_chainstate = true;
  std::vector<std::string> lines;
  options.log = [&](const std::string& line) { lines.push_back(line); };
  {
    ChainState chain(options);
    EXPECT_EQ(chain.Tip().hash, tip);
    EXPECT_EQ(chain.GetCoinsStats().hash, stats.hash);
    EXPECT_TRUE(chain.ReadUndo(chain.Tip()).has_value());
    EXPECT_EQ(Files("rev"), (std::vector<uint32_t>{0}));
  }
  // Again (as after a kill midway), then a normal start.
  { ChainState chain(options); }
  options.reindex_chainstate = false;
  ChainState chain(options);
  EXPECT_EQ(chain.Tip().hash, tip);
  EXPECT_EQ(chain.GetCoinsStats().hash, stats.hash);
  // The undo data was written again: a reorganisation over the reconnected blocks works.
  ASSERT_FALSE(chain.InvalidateBlock(chain.AtHeight(100)->hash).has_value());
  EXPECT_EQ(chain.Height(), 99u);
}

}  // namespace
}  // namespace minicoin
