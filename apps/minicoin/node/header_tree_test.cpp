// HeaderTree over a regtest ChainState: the header rules and their fault flags, the best header,
// locators, the blocks to download, pruning and the size bound.
#include "node/header_tree.h"

#include "chain/params.h"
#include "chain/test_util.h"
#include "crypto/key.h"

#include <gtest/gtest.h>

#include <thread>

namespace minicoin {
namespace {

class HeaderTreeTest : public ::testing::Test {
 protected:
  // `count` mined blocks on `parent` (hash, height, time), not stored anywhere.
  std::vector<Block> Branch(const Uint256& parent, uint32_t height, uint32_t time, int count, uint32_t salt = 0) {
    return test::MakeBranch(parent, height, time, count, alice.PublicKey(), salt);
  }
  std::vector<Block> Branch(const BlockIndex& parent, int count, uint32_t salt = 0) {
    return Branch(parent.hash, parent.height, parent.header.time, count, salt);
  }
  static std::vector<BlockHeader> Headers(const std::vector<Block>& blocks) {
    std::vector<BlockHeader> headers;
    headers.reserve(blocks.size());
    for (const Block& block : blocks) headers.push_back(block.header);
    return headers;
  }
  void Store(const std::vector<Block>& blocks) {
    for (const Block& block : blocks) {
      ChainState::BlockResult result = chain.ProcessBlock(block);
      ASSERT_TRUE(result.accepted) << result.reason;
    }
  }
  // A header on `parent` meeting every rule except the one the caller breaks afterwards.
  BlockHeader On(const BlockIndex& parent) { return Branch(parent, 1)[0].header; }
  static void Remine(BlockHeader& header) {
    while (!CheckProofOfWork(header.Hash(), header.bits)) ++header.nonce;
  }
  int64_t Now() const { return static_cast<int64_t>(chain.Tip().header.time) + 1000; }

  test::TempDir dir;
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
  ChainState chain{ChainStateOptions{.dir = dir.path, .pool = &pool, .sync_writes = false}};
  PrivateKey alice = PrivateKey::Derive(std::vector<uint8_t>{1}, 0);
};

TEST_F(HeaderTreeTest, AcceptsHeadersAndTheBestHeaderMoves) {
  HeaderTree tree(chain);
  EXPECT_EQ(tree.BestHeader().hash, chain.Tip().hash);
  std::vector<Block> blocks = Branch(chain.Tip(), 5);
  HeadersResult result = tree.AcceptHeaders(Headers(blocks), Now());
  EXPECT_EQ(result.error, "");
  EXPECT_FALSE(result.peer_fault);
  EXPECT_TRUE(result.connects);
  ASSERT_TRUE(result.last);
  EXPECT_EQ(result.last->hash, blocks[4].header.Hash());
  EXPECT_EQ(result.last->height, 5u);
  EXPECT_EQ(tree.size(), 5u);
  EXPECT_EQ(tree.BestHeader().hash, blocks[4].header.Hash());
  EXPECT_EQ(tree.BestHeader().height, 5u);
  EXPECT_TRUE(tree.Contains(blocks[2].header.Hash()));
  ASSERT_TRUE(tree.Find(blocks[2].header.Hash()));
  EXPECT_EQ(tree.Find(blocks[2].header.Hash())->height, 3u);

  // Known headers again, then a longer list overlapping them: fine.
  result = tree.AcceptHeaders(Headers({blocks[1], blocks[2]}), Now());
  EXPECT_EQ(result.error, "");
  EXPECT_TRUE(result.connects);
  EXPECT_EQ(result.last->height, 3u);
  std::vector<Block> more = Branch(blocks[4].header.Hash(), 5, blocks[4].header.time, 2);
  std::vector<Block> overlap{blocks[3], blocks[4], more[0], more[1]};
  result = tree.AcceptHeaders(Headers(overlap), Now());
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.last->height, 7u);
  EXPECT_EQ(tree.size(), 7u);
  EXPECT_EQ(tree.BestHeader().height, 7u);

  // The genesis block's header is known too (a stored block).
  result = tree.AcceptHeaders({chain.Genesis().header}, Now());
  EXPECT_EQ(result.error, "");
  EXPECT_TRUE(result.connects);
  EXPECT_EQ(result.last->height, 0u);

  // An empty list: nothing to say.
  result = tree.AcceptHeaders({}, Now());
  EXPECT_EQ(result.error, "");
  EXPECT_FALSE(result.last);
}

TEST_F(HeaderTreeTest, TheTipWinsUntilAHeaderHasMoreWork) {
  Store(Branch(chain.Tip(), 3));
  HeaderTree tree(chain);
  // A fork from height 1 with as much work as the tip: the tip stays best.
  std::vector<Block> fork = Branch(*chain.AtHeight(1), 2, 5);
  EXPECT_EQ(tree.AcceptHeaders(Headers(fork), Now()).error, "");
  EXPECT_EQ(tree.BestHeader().hash, chain.Tip().hash);
  std::vector<Block> longer = Branch(fork[1].header.Hash(), 3, fork[1].header.time, 1);
  EXPECT_EQ(tree.AcceptHeaders(Headers(longer), Now()).error, "");
  EXPECT_EQ(tree.BestHeader().hash, longer[0].header.Hash());
  EXPECT_EQ(tree.BestHeader().height, 4u);
}

TEST_F(HeaderTreeTest, RefusesEachBrokenRuleWithTheRightFaultFlag) {
  Store(Branch(chain.Tip(), 2));
  HeaderTree tree(chain);
  const BlockIndex& tip = chain.Tip();

  BlockHeader weak = On(tip);
  while (CheckProofOfWork(weak.Hash(), weak.bits)) ++weak.nonce;
  HeadersResult result = tree.AcceptHeaders({weak}, Now());
  EXPECT_EQ(result.error, "bad proof of work");
  EXPECT_TRUE(result.peer_fault);
  EXPECT_TRUE(result.connects);
  EXPECT_FALSE(result.last);

  BlockHeader easy_bits = On(tip);
  easy_bits.bits = 0x207fffff;  // an easier target than regtest's fixed bits
  Remine(easy_bits);
  result = tree.AcceptHeaders({easy_bits}, Now());
  EXPECT_NE(result.error.find("bad-diffbits"), std::string::npos) << result.error;
  EXPECT_TRUE(result.peer_fault);

  BlockHeader old = On(tip);
  old.time = chain.MedianTimePast(tip);
  Remine(old);
  result = tree.AcceptHeaders({old}, Now());
  EXPECT_NE(result.error.find("time-too-old"), std::string::npos) << result.error;
  EXPECT_TRUE(result.peer_fault);

  BlockHeader future = On(tip);
  future.time = static_cast<uint32_t>(Now() + kMaxFutureBlockTime + 1);
  Remine(future);
  result = tree.AcceptHeaders({future}, Now());
  EXPECT_NE(result.error.find("time-too-new"), std::string::npos) << result.error;
  EXPECT_FALSE(result.peer_fault);
  future.time = static_cast<uint32_t>(Now() + kMaxFutureBlockTime);  // at the limit: fine
  Remine(future);
  EXPECT_EQ(tree.AcceptHeaders({future}, Now()).error, "");

  BlockHeader orphan = On(tip);
  orphan.previous = Sha256(std::vector<uint8_t>{9});
  Remine(orphan);
  result = tree.AcceptHeaders({orphan}, Now());
  EXPECT_EQ(result.error, "headers do not connect");
  EXPECT_FALSE(result.peer_fault);
  EXPECT_FALSE(result.connects);

  // Two headers that are not parent and child.
  std::vector<Block> a = Branch(tip, 1, 1);
  std::vector<Block> b = Branch(tip, 1, 2);
  result = tree.AcceptHeaders(Headers({a[0], b[0]}), Now());
  EXPECT_NE(result.error.find("not in a chain"), std::string::npos) << result.error;
  EXPECT_TRUE(result.peer_fault);
  EXPECT_TRUE(result.connects);
  ASSERT_TRUE(result.last);  // the first one was taken
  EXPECT_EQ(result.last->hash, a[0].header.Hash());

  // Good headers before a bad one are kept; the verdict names the bad one's rule.
  std::vector<Block> good = Branch(tip, 3, 3);
  BlockHeader bad = On(tip);
  bad.previous = good[2].header.Hash();
  bad.bits = 0x207fffff;
  Remine(bad);
  std::vector<BlockHeader> list = Headers(good);
  list.push_back(bad);
  result = tree.AcceptHeaders(list, Now());
  EXPECT_TRUE(result.peer_fault);
  ASSERT_TRUE(result.last);
  EXPECT_EQ(result.last->hash, good[2].header.Hash());
  EXPECT_TRUE(tree.Contains(good[2].header.Hash()));
}

TEST_F(HeaderTreeTest, RefusesHeadersOnAnInvalidBlock) {
  std::vector<Block> stored = Branch(chain.Tip(), 3);
  Store(stored);
  HeaderTree tree(chain);
  std::vector<Block> ahead = Branch(chain.Tip(), 3);
  EXPECT_EQ(tree.AcceptHeaders(Headers({ahead[0], ahead[1]}), Now()).error, "");
  EXPECT_EQ(tree.BestHeader().height, 5u);

  ASSERT_FALSE(chain.InvalidateBlock(stored[1].header.Hash()));
  // Before a Refresh the tree still sees the invalid block right under its entries' parents.
  HeadersResult result = tree.AcceptHeaders({stored[2].header}, Now());
  EXPECT_NE(result.error.find("invalid"), std::string::npos) << result.error;
  EXPECT_TRUE(result.peer_fault);

  tree.Refresh();
  EXPECT_EQ(tree.size(), 0u);  // the invalid branch is gone
  EXPECT_EQ(tree.BestHeader().hash, chain.Tip().hash);
  EXPECT_EQ(chain.Tip().height, 1u);
  // A header on the invalid block: a fault. Its child, whose parent the tree let go: no
  // connection, no fault.
  result = tree.AcceptHeaders({ahead[0].header}, Now());
  EXPECT_TRUE(result.peer_fault) << result.error;
  EXPECT_NE(result.error.find("invalid"), std::string::npos) << result.error;
  result = tree.AcceptHeaders({ahead[1].header}, Now());
  EXPECT_FALSE(result.peer_fault);
  EXPECT_FALSE(result.connects);
  // The invalid block's own header: a fault.
  result = tree.AcceptHeaders({stored[1].header}, Now());
  EXPECT_TRUE(result.peer_fault) << result.error;
}

TEST_F(HeaderTreeTest, LocatorIsNewestFirstWithDoublingStepsAndGenesisLast) {
  Store(Branch(chain.Tip(), 5));
  HeaderTree tree(chain);
  std::vector<Block> ahead = Branch(chain.Tip(), 25);
  ASSERT_EQ(tree.AcceptHeaders(Headers(ahead), Now()).error, "");
  std::vector<Uint256> locator = tree.Locator();
  std::vector<uint32_t> heights;
  heights.reserve(locator.size());
  for (const Uint256& hash : locator) heights.push_back(tree.Find(hash)->height);
  // From the best header's parent (29): 29..20 one apart, then steps of 2, 4, 8, 16...
  EXPECT_EQ(heights, (std::vector<uint32_t>{29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 18, 14, 6, 0}));
  EXPECT_EQ(locator.front(), ahead[ahead.size() - 2].header.Hash());
  EXPECT_EQ(locator.back(), chain.Genesis().hash);
  EXPECT_LE(locator.size(), HeaderTree::kMaxLocatorSize);

  // Without headers ahead: the active chain's.
  HeaderTree empty(chain);
  std::vector<Uint256> short_locator = empty.Locator();
  ASSERT_EQ(short_locator.size(), 5u);
  EXPECT_EQ(short_locator.front(), chain.Tip().prev->hash);
  EXPECT_EQ(short_locator.back(), chain.Genesis().hash);
}

TEST_F(HeaderTreeTest, MissingBlocksLowestFirstWithinTheWindowAcrossForks) {
  std::vector<Block> active = Branch(chain.Tip(), 3);
  Store(active);
  HeaderTree tree(chain);
  std::vector<Block> ahead = Branch(chain.Tip(), 10);
  ASSERT_EQ(tree.AcceptHeaders(Headers(ahead), Now()).error, "");
  const Uint256 target = ahead.back().header.Hash();

  std::vector<Uint256> missing = tree.MissingBlocks(target, 4, 1000, {});
  ASSERT_EQ(missing.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(missing[i], ahead[i].header.Hash());
  // The window: nothing above height 6.
  missing = tree.MissingBlocks(target, 100, 6, {});
  ASSERT_EQ(missing.size(), 3u);
  EXPECT_EQ(missing.back(), ahead[2].header.Hash());
  // Skipped blocks (already on their way) are left out.
  const Uint256 skipped = ahead[1].header.Hash();
  missing = tree.MissingBlocks(target, 3, 1000, [&](const Uint256& hash) { return hash == skipped; });
  EXPECT_EQ(missing, (std::vector<Uint256>{ahead[0].header.Hash(), ahead[2].header.Hash(), ahead[3].header.Hash()}));
  // A target inside the active chain, an unknown one, max 0: nothing.
  EXPECT_TRUE(tree.MissingBlocks(active[1].header.Hash(), 10, 1000, {}).empty());
  EXPECT_TRUE(tree.MissingBlocks(Sha256(std::vector<uint8_t>{1}), 10, 1000, {}).empty());
  EXPECT_TRUE(tree.MissingBlocks(target, 0, 1000, {}).empty());

  // A fork from height 1, its first two blocks stored (less work than the tip, so inactive):
  // the download starts above them.
  std::vector<Block> fork = Branch(*chain.AtHeight(1), 5, 7);
  Store({fork[0], fork[1]});
  EXPECT_EQ(chain.Tip().hash, active.back().header.Hash());
  ASSERT_EQ(tree.AcceptHeaders(Headers(fork), Now()).error, "");
  missing = tree.MissingBlocks(fork.back().header.Hash(), 10, 1000, {});
  EXPECT_EQ(missing, (std::vector<Uint256>{fork[2].header.Hash(), fork[3].header.Hash(), fork[4].header.Hash()}));
}

TEST_F(HeaderTreeTest, MissingBlocksFollowsTheChainStoredSinceTheLastRefresh) {
  HeaderTree tree(chain);
  std::vector<Block> blocks = Branch(chain.Tip(), 12);
  ASSERT_EQ(tree.AcceptHeaders(Headers(blocks), Now()).error, "");
  // Stored without a Refresh: the tree's entries still stand for these blocks.
  Store({blocks.begin(), blocks.begin() + 8});
  const Uint256 target = blocks.back().header.Hash();
  EXPECT_EQ(tree.MissingBlocks(target, 3, 1000, {}),
            (std::vector<Uint256>{blocks[8].header.Hash(), blocks[9].header.Hash(), blocks[10].header.Hash()}));
  // The window counts from the chain's tip (height 8).
  EXPECT_EQ(tree.MissingBlocks(target, 10, 9, {}), (std::vector<Uint256>{blocks[8].header.Hash()}));
  // A branch from below the stored blocks, with more work: its blocks above the fork.
  std::vector<Block> fork = Branch(*chain.AtHeight(6), 8, 3);
  ASSERT_EQ(tree.AcceptHeaders(Headers(fork), Now()).error, "");
  EXPECT_EQ(tree.MissingBlocks(fork.back().header.Hash(), 2, 1000, {}),
            (std::vector<Uint256>{fork[0].header.Hash(), fork[1].header.Hash()}));
}

TEST_F(HeaderTreeTest, RefreshGivesStoredEntriesToTheChainAndDropsStaleBranches) {
  HeaderTree tree(chain);
  std::vector<Block> blocks = Branch(chain.Tip(), 6);
  ASSERT_EQ(tree.AcceptHeaders(Headers(blocks), Now()).error, "");
  Store({blocks[0], blocks[1], blocks[2]});
  tree.Refresh();
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_FALSE(tree.Contains(blocks[2].header.Hash()));
  EXPECT_TRUE(tree.Contains(blocks[3].header.Hash()));
  EXPECT_EQ(tree.BestHeader().hash, blocks[5].header.Hash());
  EXPECT_EQ(tree.MissingBlocks(blocks[5].header.Hash(), 10, 1000, {}),
            (std::vector<Uint256>{blocks[3].header.Hash(), blocks[4].header.Hash(), blocks[5].header.Hash()}));
  // The remaining entries still carry the chain: more headers and the blocks connect.
  std::vector<Block> more = Branch(blocks[5].header.Hash(), 6, blocks[5].header.time, 2);
  EXPECT_EQ(tree.AcceptHeaders(Headers(more), Now()).error, "");
  EXPECT_EQ(tree.BestHeader().height, 8u);
  Store({blocks[3], blocks[4], blocks[5], more[0], more[1]});
  tree.Refresh();
  EXPECT_EQ(tree.size(), 0u);
  EXPECT_EQ(tree.BestHeader().hash, chain.Tip().hash);

  // A short fork far below the tip, with less work: dropped.
  std::vector<Block> fork = Branch(*chain.AtHeight(2), 2, 9);
  ASSERT_EQ(tree.AcceptHeaders(Headers(fork), Now()).error, "");
  tree.Refresh();
  EXPECT_EQ(tree.size(), 2u);  // not yet far below
  Store(Branch(chain.Tip(), static_cast<int>(HeaderTree::kHeaderTreeStaleDepth)));
  tree.Refresh();
  EXPECT_EQ(tree.size(), 0u);
}

TEST_F(HeaderTreeTest, AFullTreeRefusesWithoutFault) {
  HeaderTree tree(chain, 3);
  std::vector<Block> blocks = Branch(chain.Tip(), 5);
  HeadersResult result = tree.AcceptHeaders(Headers(blocks), Now());
  EXPECT_EQ(result.error, "header tree full");
  EXPECT_FALSE(result.peer_fault);
  ASSERT_TRUE(result.last);
  EXPECT_EQ(result.last->height, 3u);
  EXPECT_EQ(tree.size(), 3u);
  // Once blocks are stored the tree makes room.
  Store({blocks[0], blocks[1]});
  result = tree.AcceptHeaders(Headers(blocks), Now());
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_EQ(tree.BestHeader().height, 5u);
}

TEST_F(HeaderTreeTest, ConcurrentCallersSeeOneTree) {
  HeaderTree tree(chain);
  std::vector<Block> blocks = Branch(chain.Tip(), 40);
  std::vector<BlockHeader> headers = Headers(blocks);
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (std::size_t start = 0; start < headers.size(); start += 5) {
        std::vector<BlockHeader> part(headers.begin(), headers.begin() + static_cast<std::ptrdiff_t>(start + 5));
        EXPECT_EQ(tree.AcceptHeaders(part, Now()).error, "");
        (void)tree.Locator();
        (void)tree.BestHeader();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(tree.size(), 40u);
  EXPECT_EQ(tree.BestHeader().height, 40u);
}

}  // namespace
}  // namespace minicoin
