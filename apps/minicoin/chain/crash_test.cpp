// Crash safety: a writer process adding blocks is SIGKILLed at random moments; after each kill
// the reopened state must be consistent with a replay of its active chain from genesis. Odd
// rounds give the writer a coins cache of a few KiB (a flush every block or two, so kills land in
// and between flushes), even ones the default (nothing written before the kill).
#include "chain/chain_state.h"
#include "storage/records.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>
#include <thread>

namespace minicoin {
namespace {

struct OutPointLess {
  bool operator()(const OutPoint& a, const OutPoint& b) const { return CoinKey(a) < CoinKey(b); }
};

// Reopens the state in `dir` and checks it against a replay; returns the height.
uint32_t CheckState(const std::filesystem::path& dir, crossproc::WorkerPool& pool) {
  ChainState chain(ChainStateOptions{.dir = dir, .pool = &pool, .sync_writes = true});
  const uint32_t height = chain.Height();
  MemoryCoins replay;
  std::set<OutPoint, OutPointLess> created;
  for (uint32_t h = 0; h <= height; ++h) {
    const BlockIndex* index = chain.AtHeight(h);
    EXPECT_NE(index, nullptr);
    if (index == nullptr) return height;
    std::optional<Block> block = chain.ReadBlock(*index);
    EXPECT_TRUE(block.has_value()) << "active block at height " << h << " is unreadable";
    if (!block) return height;
    if (h == 0) continue;
    BlockUndo undo;
    std::optional<ValidationError> error = ConnectBlock(*block, chain.NextContext(*index->prev), replay, pool, undo);
    EXPECT_FALSE(error.has_value()) << "height " << h << ": " << error->reason;
    for (const auto& tx : block->transactions) {
      for (uint32_t i = 0; i < tx.outputs.size(); ++i) created.insert(OutPoint{tx.Txid(), i});
    }
  }
  std::vector<std::pair<OutPoint, Coin>> expected;
  uint64_t total = 0;
  for (const OutPoint& outpoint : created) {
    std::optional<Coin> coin = replay.Get(outpoint);
    EXPECT_EQ(chain.GetCoin(outpoint), coin);
    if (!coin) continue;
    expected.emplace_back(outpoint, *coin);
    total += coin->output.amount;
  }
  ChainState::CoinsStats stats = chain.GetCoinsStats();
  EXPECT_EQ(stats.height, height);
  EXPECT_EQ(stats.best_block, chain.Tip().hash);
  EXPECT_EQ(stats.coins, replay.size());
  EXPECT_EQ(stats.coins, expected.size());
  EXPECT_EQ(stats.total_amount, total);
  EXPECT_EQ(stats.hash, HashCoins(expected));
  return height;
}

TEST(ChainCrash, StateIsConsistentAfterKillsAtRandomMoments) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("minicoin-crash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::filesystem::path marker = dir.string() + ".mature";
  std::filesystem::remove(marker);
  const unsigned seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 2});
  uint32_t height = 0;
  auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < 6; ++round) {
    const std::string cache_bytes = std::to_string(round % 2 == 1 ? 4u << 10 : ChainStateOptions{}.coins_cache_bytes);
    // The last rounds take the main chain's blocks with deferred syncs, as from the network.
    const char* sync_mode = round >= 3 ? "deferred" : nullptr;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl(MINICOIN_CRASH_WRITER, MINICOIN_CRASH_WRITER, dir.c_str(), marker.c_str(), cache_bytes.c_str(),
              sync_mode, static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (round == 0) {
      // The first round goes past coinbase maturity, so that spends are exercised, however slow
      // the machine (sanitizers).
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
      while (!std::filesystem::exists(marker) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      EXPECT_TRUE(std::filesystem::exists(marker)) << "the writer did not get past coinbase maturity";
    }
    int millis = std::uniform_int_distribution<int>(round == 0 ? 0 : 50, round == 0 ? 300 : 900)(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(millis));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself with status " << status;
    uint32_t now = CheckState(dir, pool);
    EXPECT_GE(now, height) << "round " << round << " lost blocks";
    height = now;
    if (::testing::Test::HasFailure()) break;
  }
  EXPECT_GT(height, 100u);  // spends were exercised
  std::filesystem::remove_all(dir);
  std::filesystem::remove(marker);
  RecordProperty("final_height", static_cast<int>(height));
  std::printf("crash test: height %u after 6 kills in %.1f s\n", height,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace
}  // namespace minicoin
