// Tests of the coins cache: its entries and flags, flushing, and a chain state killed with a
// tiny or a huge cache reopening to the coin set of a state that never crashed.
#include "chain/coins_cache.h"

#include "chain/chain_state.h"
#include "chain/params.h"
#include "chain/prune.h"
#include "chain/test_util.h"
#include "primitives/serialize.h"
#include "storage/database.h"
#include "storage/records.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <map>

namespace minicoin {
namespace {

OutPoint Point(uint8_t tag, uint32_t index) {
  std::array<uint8_t, 32> bytes{};
  bytes[0] = tag;
  bytes[31] = static_cast<uint8_t>(tag * 7);
  return OutPoint{Uint256(bytes), index};
}

Coin MakeCoin(uint64_t amount, uint32_t height = 1) {
  Coin coin;
  coin.output.amount = amount;
  coin.height = height;
  return coin;
}

// The coins stored in the database, by key.
std::map<std::string, Coin> Stored(const Database& db) {
  std::map<std::string, Coin> coins;
  db.ForEach("c", [&](std::string_view key, std::string_view value) {
    coins.emplace(std::string(key), DecodeCoin(value));
    return true;
  });
  return coins;
}

class CoinsCacheTest : public ::testing::Test {
 protected:
  test::TempDir dir{"minicoin-coins-cache"};
  Database db{DatabaseOptions{.dir = dir.path / "db"}};
};

TEST_F(CoinsCacheTest, ReadsThroughAndKeepsChangesUntilFlushed) {
  {
    DatabaseBatch batch;
    batch.Put(CoinKey(Point(1, 0)), EncodeCoin(MakeCoin(10)));
    batch.Put(CoinKey(Point(1, 1)), EncodeCoin(MakeCoin(11)));
    db.Write(batch, true);
  }
  CoinsCache cache(db);
  EXPECT_EQ(cache.size(), 0u);
  const std::size_t empty_usage = cache.MemoryUsage();

  // A read fills the cache with a clean entry; a miss is not cached.
  EXPECT_EQ(cache.Get(Point(1, 0)), MakeCoin(10));
  EXPECT_FALSE(cache.Get(Point(2, 0)).has_value());
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.DirtyCount(), 0u);
  EXPECT_GT(cache.MemoryUsage(), empty_usage);

  // A new coin is dirty and fresh: spending it leaves nothing to write.
  cache.Add(Point(3, 0), MakeCoin(30));
  EXPECT_EQ(cache.DirtyCount(), 1u);
  EXPECT_EQ(cache.Spend(Point(3, 0)), MakeCoin(30));
  EXPECT_EQ(cache.DirtyCount(), 0u);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_FALSE(cache.Spend(Point(3, 0)).has_value());

  // A stored coin spent becomes a spent mark (a delete at the flush).
  EXPECT_EQ(cache.Spend(Point(1, 1)), MakeCoin(11));
  EXPECT_FALSE(cache.Get(Point(1, 1)).has_value());
  EXPECT_EQ(cache.DirtyCount(), 1u);
  cache.Add(Point(4, 0), MakeCoin(40));

  // The changes, and nothing of them stored yet.
  std::map<std::string, std::optional<Coin>> changes;
  cache.ForEachChange([&](const OutPoint& outpoint, const std::optional<Coin>& coin) {
    changes.emplace(CoinKey(outpoint), coin);
  });
  EXPECT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[CoinKey(Point(1, 1))], std::nullopt);
  EXPECT_EQ(changes[CoinKey(Point(4, 0))], MakeCoin(40));
  EXPECT_EQ(Stored(db).size(), 2u);

  // The flush writes the changes with the caller's records, then empties the cache.
  DatabaseBatch batch;
  batch.Put("B", "best");
  cache.Flush(batch, true);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.DirtyCount(), 0u);
  EXPECT_EQ(cache.flushes(), 1u);
  EXPECT_EQ(cache.MemoryUsage(), empty_usage);
  EXPECT_EQ(db.Get("B"), "best");
  std::map<std::string, Coin> stored = Stored(db);
  EXPECT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[CoinKey(Point(1, 0))], MakeCoin(10));
  EXPECT_EQ(stored[CoinKey(Point(4, 0))], MakeCoin(40));
  EXPECT_EQ(stored.count(CoinKey(Point(1, 1))), 0u);
}

TEST_F(CoinsCacheTest, ASpentStoredCoinAddedAgainIsWrittenOver) {
  {
    DatabaseBatch batch;
    batch.Put(CoinKey(Point(1, 0)), EncodeCoin(MakeCoin(10)));
    db.Write(batch, true);
  }
  CoinsCache cache(db);
  ASSERT_TRUE(cache.Spend(Point(1, 0)).has_value());
  // Restored (a disconnected block gives it back): the stored coin must be replaced, and a
  // second spend must still delete it.
  cache.Add(Point(1, 0), MakeCoin(12));
  EXPECT_EQ(cache.Get(Point(1, 0)), MakeCoin(12));
  EXPECT_EQ(cache.Spend(Point(1, 0)), MakeCoin(12));
  EXPECT_EQ(cache.DirtyCount(), 1u);
  DatabaseBatch batch;
  cache.Flush(batch, false);
  EXPECT_TRUE(Stored(db).empty());

  cache.Add(Point(2, 0), MakeCoin(20));
  ASSERT_TRUE(cache.Spend(Point(2, 0)));
  cache.Add(Point(2, 0), MakeCoin(21));
  DatabaseBatch again;
  cache.Flush(again, false);
  EXPECT_EQ(Stored(db)[CoinKey(Point(2, 0))], MakeCoin(21));
}

TEST_F(CoinsCacheTest, ABadStoredCoinIsAClearError) {
  DatabaseBatch batch;
  batch.Put(CoinKey(Point(1, 0)), "junk");
  db.Write(batch, true);
  CoinsCache cache(db);
  try {
    cache.Get(Point(1, 0));
    FAIL() << "decoded a bad coin record";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad coin record"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// A chain state killed with its cache unflushed.

// The best block record's height, read from the database of a closed or killed state.
uint32_t StoredBestHeight(const std::filesystem::path& chain_dir) {
  Database db(DatabaseOptions{.dir = chain_dir / "chainstate"});
  std::optional<std::string> best = db.Get("B");
  if (!best) throw std::runtime_error("no best block record");
  Reader reader(AsBytes(*best));
  return reader.U32();
}

// The kill tests fork a child that starts threads of its own; ThreadSanitizer cannot follow
// a fork of a process that has had threads, so under it they are reported as skipped (they run in
// the default and AddressSanitizer builds).
#if defined(__SANITIZE_THREAD__)
constexpr bool kForkUnsupported = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kForkUnsupported = true;
#else
constexpr bool kForkUnsupported = false;
#endif
#else
constexpr bool kForkUnsupported = false;
#endif
#define SKIP_IF_FORK_UNSUPPORTED() \
  if (kForkUnsupported) GTEST_SKIP() << "ThreadSanitizer does not support fork() after threads"

class CoinsCacheCrashTest : public ::testing::Test {
 protected:
  // Builds the blocks (mature coinbases spent, a two-block reorganisation near the end) on a
  // state that is closed cleanly, and records its final coin set.
  void SetUp() override {
    const PrivateKey miner = PrivateKey::Derive(std::vector<uint8_t>{9}, 0);
    crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 2});
    ChainState chain(
        ChainStateOptions{.dir = dir.path / "reference", .pool = &pool, .sync_writes = false});
    auto add = [&](const Block& block) {
      ChainState::BlockResult result = chain.ProcessBlock(block);
      ASSERT_TRUE(result.accepted) << result.reason;
      blocks.push_back(block);
    };
    for (uint32_t height = 1; height <= kCoinbaseMaturity + 20; ++height) {
      std::vector<Transaction> spends;
      if (height > kCoinbaseMaturity) {
        OutPoint matured = test::CoinbaseOf(chain, height - kCoinbaseMaturity);
        std::optional<Coin> coin = chain.GetCoin(matured);
        ASSERT_TRUE(coin.has_value());
        uint64_t third = coin->output.amount / 3;
        spends.push_back(test::MakeSpend(
            {matured}, miner, {third, third, coin->output.amount - 2 * third}, miner.PublicKey()));
      }
      add(test::MakeBlock(chain.Tip(), miner.PublicKey(), std::move(spends)));
      if (::testing::Test::HasFatalFailure()) return;
    }
    // A branch from the tip's parent takes over.
    const BlockIndex& fork = *chain.Tip().prev;
    add(test::MakeBlock(fork, miner.PublicKey(), {}, 0, 500));
    add(test::MakeBlock(*chain.Lookup(blocks.back().header.Hash()), miner.PublicKey()));
    reference = chain.GetCoinsStats();
    ASSERT_EQ(reference.height, kCoinbaseMaturity + 21);
  }

  struct Run {
    uint64_t flushes = 0;
    std::size_t max_bytes = 0;  // the cache's largest size after a block
  };

  // Adds every block to a state in `chain_dir` with a coins cache of `cache_bytes` in a child
  // process, which runs `then` and is SIGKILLed (by itself) after it. Returns what the child saw.
  Run AddAndKill(const std::filesystem::path& chain_dir, std::size_t cache_bytes,
                 const std::function<void(ChainState&)>& then = {}) {
    const std::filesystem::path report = chain_dir.string() + ".report";
    pid_t pid = ::fork();
    if (pid == 0) {
      // The child: nothing of gtest, no destructors.
      try {
        ChainState chain(ChainStateOptions{
            .dir = chain_dir, .sync_writes = true, .coins_cache_bytes = cache_bytes});
        std::size_t max_bytes = 0;
        for (const Block& block : blocks) {
          ChainState::BlockResult result = chain.ProcessBlock(block);
          if (!result.accepted) ::_exit(3);
          max_bytes = std::max(max_bytes, chain.CoinsCacheInfo().bytes);
        }
        if (then) then(chain);
        std::ofstream(report) << chain.CoinsCacheInfo().flushes << " " << max_bytes << "\n";
        ::raise(SIGKILL);  // with the state open: nothing written on close
      } catch (...) {
        ::_exit(4);
      }
      ::_exit(5);
    }
    Run run;
    EXPECT_GT(pid, 0);
    if (pid <= 0) return run;
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "the child ended with status " << status;
    std::ifstream(report) >> run.flushes >> run.max_bytes;
    return run;
  }

  // Reopens the state and compares it with `expected` (default: the reference).
  void ExpectReference(const std::filesystem::path& chain_dir,
                       const ChainState::CoinsStats* expected = nullptr) {
    const ChainState::CoinsStats& want = expected != nullptr ? *expected : reference;
    crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 2});
    ChainState chain(ChainStateOptions{.dir = chain_dir, .pool = &pool, .sync_writes = false});
    ChainState::CoinsStats stats = chain.GetCoinsStats();
    EXPECT_EQ(stats.height, want.height);
    EXPECT_EQ(stats.best_block, want.best_block);
    EXPECT_EQ(stats.coins, want.coins);
    EXPECT_EQ(stats.total_amount, want.total_amount);
    EXPECT_EQ(stats.hash, want.hash);
  }

  test::TempDir dir{"minicoin-coins-crash"};
  std::vector<Block> blocks;
  ChainState::CoinsStats reference;
};

TEST_F(CoinsCacheCrashTest, ATinyCacheFlushesEveryBlockAndSurvivesAKill) {
  SKIP_IF_FORK_UNSUPPORTED();
  const std::filesystem::path chain_dir = dir.path / "tiny";
  constexpr std::size_t kTiny = 128;  // less than one coin's entry: every block goes over it
  Run run = AddAndKill(chain_dir, kTiny);
  // Every connected and disconnected block went over the limit.
  EXPECT_GE(run.flushes, blocks.size());
  EXPECT_LE(run.max_bytes, kTiny);
  EXPECT_EQ(StoredBestHeight(chain_dir), reference.height);
  ExpectReference(chain_dir);
}

TEST_F(CoinsCacheCrashTest, AHugeCacheWritesNothingBeforeCloseAndTheBlocksAreConnectedAgain) {
  SKIP_IF_FORK_UNSUPPORTED();
  const std::filesystem::path chain_dir = dir.path / "huge";
  Run run = AddAndKill(chain_dir, std::size_t{1} << 30);
  EXPECT_EQ(run.flushes, 0u);
  // The coins on disk are still those of the genesis block; the stored blocks are connected
  // again at the next open.
  EXPECT_EQ(StoredBestHeight(chain_dir), 0u);
  ExpectReference(chain_dir);
  EXPECT_EQ(StoredBestHeight(chain_dir), reference.height);  // caught up and written
}

TEST_F(CoinsCacheCrashTest, AHugeCacheIsWrittenOnCloseAndCountedBeforeIt) {
  const std::filesystem::path chain_dir = dir.path / "closed";
  {
    ChainState chain(ChainStateOptions{
        .dir = chain_dir, .sync_writes = false, .coins_cache_bytes = std::size_t{1} << 30});
    for (const Block& block : blocks) ASSERT_TRUE(chain.ProcessBlock(block).accepted);
    EXPECT_EQ(chain.CoinsCacheInfo().flushes, 0u);
    EXPECT_GT(chain.CoinsCacheInfo().dirty, 0u);
    // The statistics include the unflushed changes.
    ChainState::CoinsStats stats = chain.GetCoinsStats();
    EXPECT_EQ(stats.hash, reference.hash);
    EXPECT_EQ(stats.coins, reference.coins);
    EXPECT_EQ(chain.CoinsCacheInfo().flushes, 0u);
  }
  EXPECT_EQ(StoredBestHeight(chain_dir), reference.height);
  ExpectReference(chain_dir);
}

TEST_F(CoinsCacheCrashTest, AKillAfterInvalidateBlockMovesAwayFromTheInvalidBlockAtTheNextOpen) {
  SKIP_IF_FORK_UNSUPPORTED();
  // The block 10 below the tip is invalidated after a flush: the stored best block is then one
  // the index marks invalid, and the open must disconnect to the fork with the stored undo data.
  const Uint256 target = blocks[blocks.size() - 12].header.Hash();
  ChainState::CoinsStats expected;
  {
    ChainState chain(ChainStateOptions{.dir = dir.path / "clean", .sync_writes = false});
    for (const Block& block : blocks) ASSERT_TRUE(chain.ProcessBlock(block).accepted);
    ASSERT_EQ(chain.InvalidateBlock(target), std::nullopt);
    expected = chain.GetCoinsStats();
    ASSERT_EQ(expected.height, reference.height - 11);
  }
  const std::filesystem::path chain_dir = dir.path / "invalidated";
  Run run = AddAndKill(chain_dir, std::size_t{1} << 30, [&](ChainState& chain) {
    chain.FlushCoins();
    if (chain.InvalidateBlock(target)) ::_exit(6);
  });
  EXPECT_EQ(run.flushes, 1u);
  EXPECT_EQ(StoredBestHeight(chain_dir), reference.height);
  ExpectReference(chain_dir, &expected);
}

// Pruning writes the coins first: otherwise a kill would leave a stored best block whose
// successors are in deleted files, and the next open could not connect them again.
TEST_F(CoinsCacheCrashTest, PruningFlushesTheCoinsBeforeDeletingFiles) {
  SKIP_IF_FORK_UNSUPPORTED();
  const std::filesystem::path chain_dir = dir.path / "pruned";
  const PrivateKey miner = PrivateKey::Derive(std::vector<uint8_t>{9}, 0);
  constexpr uint32_t kHeight = kMinBlocksToKeep + 60;
  pid_t pid = ::fork();
  if (pid == 0) {
    try {
      ChainState chain(ChainStateOptions{.dir = chain_dir,
                                         .sync_writes = true,
                                         .max_block_file_size = 4096,
                                         .coins_cache_bytes = std::size_t{1} << 30,
                                         .prune = true,
                                         .prune_target_bytes = 0});
      while (chain.Height() < kHeight) {
        if (!chain.ProcessBlock(test::MakeBlock(chain.Tip(), miner.PublicKey())).accepted) ::_exit(3);
      }
      if (chain.PruneHeight() == 0) ::_exit(6);  // nothing was pruned: the test would prove nothing
      ::raise(SIGKILL);
    } catch (...) {
      ::_exit(4);
    }
    ::_exit(5);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child ended with status " << status;
  // The huge cache never went over its limit, yet the coins were written when files went.
  EXPECT_GT(StoredBestHeight(chain_dir), kMinBlocksToKeep);
  ChainState chain(ChainStateOptions{.dir = chain_dir, .sync_writes = false, .prune = true});
  EXPECT_EQ(chain.Height(), kHeight);
  EXPECT_EQ(chain.GetCoinsStats().coins, kHeight);  // one coinbase output per block after genesis
}

TEST_F(CoinsCacheCrashTest, AHugeCacheIsWrittenOnceAnHourHasPassed) {
  int64_t now = kGenesisTime + 1'000'000;
  ChainState chain(ChainStateOptions{.dir = dir.path / "hourly",
                                     .sync_writes = false,
                                     .coins_cache_bytes = std::size_t{1} << 30,
                                     .now = [&] { return now; }});
  ASSERT_TRUE(chain.ProcessBlock(blocks[0]).accepted);
  now += 3599;
  ASSERT_TRUE(chain.ProcessBlock(blocks[1]).accepted);
  EXPECT_EQ(chain.CoinsCacheInfo().flushes, 0u);
  now += 1;  // an hour after the open
  ASSERT_TRUE(chain.ProcessBlock(blocks[2]).accepted);
  EXPECT_EQ(chain.CoinsCacheInfo().flushes, 1u);
  EXPECT_EQ(chain.CoinsCacheInfo().dirty, 0u);
  ASSERT_TRUE(chain.ProcessBlock(blocks[3]).accepted);
  EXPECT_EQ(chain.CoinsCacheInfo().flushes, 1u);  // the hour starts again at the flush
}

TEST(DbCache, SplitsBetweenTheDatabaseAndTheCoins) {
  CacheSizes sizes = SplitDbCache(kDefaultDbCacheMiB);
  EXPECT_EQ(sizes.database_bytes, std::size_t{8} << 20);
  EXPECT_EQ(sizes.database_bytes + sizes.coins_bytes, std::size_t{450} << 20);
  sizes = SplitDbCache(16);
  EXPECT_EQ(sizes.database_bytes, std::size_t{2} << 20);
  EXPECT_EQ(sizes.coins_bytes, std::size_t{14} << 20);
  sizes = SplitDbCache(1);  // below the minimum: the minimum
  EXPECT_EQ(sizes.database_bytes + sizes.coins_bytes, static_cast<std::size_t>(kMinDbCacheMiB)
                                                          << 20);
}

}  // namespace
}  // namespace minicoin
