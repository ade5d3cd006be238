// Tests of OrphanPool: adding, the count and byte bounds (oldest evicted), expiry, children of
// accepted parents, and dropping a peer's orphans.
#include "net/orphan_pool.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace minicoin::net {
namespace {

using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Uint256 HashOf(uint8_t n) {
  std::array<uint8_t, 32> bytes{};
  bytes[0] = n;
  bytes[31] = 0xab;
  return Uint256(bytes);
}

// Orphan `n`, added at `added` (n seconds when not given).
OrphanTx Orphan(uint8_t n, std::vector<Uint256> parents, std::size_t size = 10, PeerId from = 1,
                std::optional<microseconds> added = std::nullopt) {
  return {HashOf(n), std::vector<uint8_t>(size, n), std::move(parents), from,
          added.value_or(seconds(n))};
}

TEST(OrphanPoolTest, AddsAndRefusesDuplicatesParentlessAndOversized) {
  OrphanPool pool(10, 100, minutes(20));
  EXPECT_TRUE(pool.Add(Orphan(1, {HashOf(100)})));
  EXPECT_FALSE(pool.Add(Orphan(1, {HashOf(100)})));       // already there
  EXPECT_FALSE(pool.Add(Orphan(2, {})));                  // nothing missing: not an orphan
  EXPECT_FALSE(pool.Add(Orphan(3, {HashOf(100)}, 101)));  // larger than the whole pool
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool.bytes(), 10u);
  EXPECT_TRUE(pool.Contains(HashOf(1)));
  EXPECT_FALSE(pool.Contains(HashOf(3)));
}

TEST(OrphanPoolTest, CountBoundEvictsTheOldest) {
  OrphanPool pool(3, 1'000, minutes(20));
  for (uint8_t n = 1; n <= 5; ++n) ASSERT_TRUE(pool.Add(Orphan(n, {HashOf(100)})));
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_FALSE(pool.Contains(HashOf(1)));
  EXPECT_FALSE(pool.Contains(HashOf(2)));
  EXPECT_TRUE(pool.Contains(HashOf(3)));
  EXPECT_TRUE(pool.Contains(HashOf(5)));
  EXPECT_EQ(pool.bytes(), 30u);
}

TEST(OrphanPoolTest, ByteBoundEvictsTheOldest) {
  OrphanPool pool(100, 100, minutes(20));
  ASSERT_TRUE(pool.Add(Orphan(1, {HashOf(100)}, 40)));
  ASSERT_TRUE(pool.Add(Orphan(2, {HashOf(100)}, 40)));
  ASSERT_TRUE(pool.Add(Orphan(3, {HashOf(100)}, 40)));  // 120 > 100: the first goes
  EXPECT_FALSE(pool.Contains(HashOf(1)));
  EXPECT_EQ(pool.bytes(), 80u);
  ASSERT_TRUE(pool.Add(Orphan(4, {HashOf(100)}, 100)));  // needs the whole pool
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool.bytes(), 100u);
  // The evicted ones are no longer anyone's children.
  EXPECT_EQ(pool.TakeChildrenOf({HashOf(100)}).size(), 1u);
  EXPECT_EQ(pool.bytes(), 0u);
}

TEST(OrphanPoolTest, ExpiresAfterTheExpiryNotAtIt) {
  OrphanPool pool(10, 1'000, minutes(20));
  ASSERT_TRUE(pool.Add(Orphan(1, {HashOf(100)}, 10, 1, seconds(0))));
  ASSERT_TRUE(pool.Add(Orphan(2, {HashOf(100)}, 10, 1, seconds(60))));
  EXPECT_EQ(pool.Expire(minutes(20)), 0u);  // exactly at the limit: kept
  EXPECT_EQ(pool.Expire(minutes(20) + microseconds(1)), 1u);
  EXPECT_FALSE(pool.Contains(HashOf(1)));
  EXPECT_TRUE(pool.Contains(HashOf(2)));
  EXPECT_EQ(pool.Expire(minutes(22)), 1u);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.bytes(), 0u);
}

TEST(OrphanPoolTest, TakeChildrenOfReturnsEachChildOnceOldestFirst) {
  OrphanPool pool(10, 1'000, minutes(20));
  ASSERT_TRUE(pool.Add(Orphan(3, {HashOf(100), HashOf(101)})));
  ASSERT_TRUE(pool.Add(Orphan(1, {HashOf(101)})));
  ASSERT_TRUE(pool.Add(Orphan(2, {HashOf(102)})));
  const std::vector<OrphanTx> children = pool.TakeChildrenOf({HashOf(100), HashOf(101)});
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].txid, HashOf(1));  // added at 1 s
  EXPECT_EQ(children[1].txid, HashOf(3));  // added at 3 s
  EXPECT_EQ(children[1].data, std::vector<uint8_t>(10, 3));
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_TRUE(pool.TakeChildrenOf({HashOf(100)}).empty());
  EXPECT_EQ(pool.TakeChildrenOf({HashOf(102)}).size(), 1u);
}

TEST(OrphanPoolTest, EraseFromDropsOnlyThatPeersOrphans) {
  OrphanPool pool(10, 1'000, minutes(20));
  ASSERT_TRUE(pool.Add(Orphan(1, {HashOf(100)}, 10, 7)));
  ASSERT_TRUE(pool.Add(Orphan(2, {HashOf(100)}, 10, 8)));
  ASSERT_TRUE(pool.Add(Orphan(3, {HashOf(101)}, 10, 7)));
  EXPECT_EQ(pool.EraseFrom(7), 2u);
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_TRUE(pool.Contains(HashOf(2)));
  EXPECT_EQ(pool.bytes(), 10u);
}

TEST(OrphanPoolTest, ZeroCountKeepsNothing) {
  OrphanPool pool(0, 1'000, minutes(20));
  EXPECT_FALSE(pool.Add(Orphan(1, {HashOf(100)})));
  EXPECT_EQ(pool.size(), 0u);
}

}  // namespace
}  // namespace minicoin::net
