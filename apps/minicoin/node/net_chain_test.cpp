// NodeNetChain over a regtest Node on a temporary data directory: headers, block download and
// parking, reorganisation, transactions, what it serves, and which refusals are peer faults.
#include "node/net_chain.h"

#include "chain/test_util.h"
#include "crypto/key.h"
#include "mempool/mempool.h"
#include "node/header_tree.h"
#include "node/node.h"
#include "validation/coins.h"
#include "validation/signature_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

namespace minicoin {
namespace {

using test::MakeBlock;
using Bytes = std::vector<uint8_t>;

Bytes HashBytes(const Uint256& hash) { return {hash.bytes().begin(), hash.bytes().end()}; }

Bytes EncodeHeader(const BlockHeader& header) {
  Writer writer;
  header.Serialize(writer);
  return writer.Take();
}

class NetChainTest : public ::testing::Test {
 protected:
  // A regtest node with `extra` options.
  explicit NetChainTest(const std::vector<std::string>& extra = {}) {
    std::filesystem::create_directories(dir.path);
    std::vector<std::string> words{"minicoind", "-datadir=" + dir.path.string(), "-regtest"};
    words.insert(words.end(), extra.begin(), extra.end());
    std::vector<const char*> argv;
    argv.reserve(words.size());
    for (const std::string& word : words) argv.push_back(word.c_str());
    std::string error;
    AddNodeOptions(args, NodeOptions{});
    EXPECT_TRUE(args.ParseParameters(static_cast<int>(argv.size()), argv.data(), error)) << error;
    EXPECT_TRUE(args.CheckDataDir(error)) << error;
    EXPECT_TRUE(log.Open(LoggerOptions{}, error)) << error;
    node = std::make_unique<Node>(args, log, NodeOptions{});
  }

  ChainState& Chain() { return node->chain(); }

  // `count` mined blocks on `parent` (hash, height, time), not submitted.
  std::vector<Block> Branch(const Uint256& parent, uint32_t height, uint32_t time, int count, uint32_t salt = 0,
                            const std::vector<Transaction>& first_txs = {}) {
    return test::MakeBranch(parent, height, time, count, alice.PublicKey(), salt, first_txs);
  }
  std::vector<Block> Branch(const BlockIndex& parent, int count, uint32_t salt = 0) {
    return Branch(parent.hash, parent.height, parent.header.time, count, salt);
  }
  // `count` blocks on the tip, the i-th spending the coinbase of height i + 1 (which must be
  // mature) with alice's key.
  std::vector<Block> SpendingBlocks(uint32_t count) {
    const BlockIndex& tip = Chain().Tip();
    std::vector<Block> blocks;
    Uint256 previous = tip.hash;
    uint32_t time = tip.header.time;
    for (uint32_t i = 0; i < count; ++i) {
      Transaction spend = test::MakeSpend(test::CoinbaseOf(Chain(), i + 1), alice, 49 * kCoin, bob.PublicKey());
      blocks.push_back(MakeBlock(previous, tip.height + 1 + i, ++time, alice.PublicKey(), {spend}, kCoin));
      previous = blocks.back().header.Hash();
    }
    return blocks;
  }
  static std::vector<Bytes> Headers(const std::vector<Block>& blocks) {
    std::vector<Bytes> headers;
    headers.reserve(blocks.size());
    for (const Block& block : blocks) headers.push_back(EncodeHeader(block.header));
    return headers;
  }
  static std::vector<Bytes> Encoded(const std::vector<Block>& blocks) {
    std::vector<Bytes> encoded;
    encoded.reserve(blocks.size());
    for (const Block& block : blocks) encoded.push_back(block.Encode());
    return encoded;
  }
  void Submit(const std::vector<Block>& blocks) {
    for (const Block& block : blocks) {
      ChainState::BlockResult result = node->SubmitBlock(block);
      ASSERT_TRUE(result.accepted) << result.reason;
    }
  }
  static std::vector<Bytes> Hashes(const std::vector<Block>& blocks) {
    std::vector<Bytes> hashes;
    hashes.reserve(blocks.size());
    for (const Block& block : blocks) hashes.push_back(HashBytes(block.header.Hash()));
    return hashes;
  }

  test::TempDir dir{"minicoin-net-chain"};
  ArgsManager args;
  Logger log;
  std::unique_ptr<Node> node;
  PrivateKey alice = PrivateKey::Derive(std::vector<uint8_t>{1}, 0);
  PrivateKey bob = PrivateKey::Derive(std::vector<uint8_t>{2}, 0);
};

TEST_F(NetChainTest, HeadersMoveTheBestHeaderAndMalformedOnesAreFaults) {
  NodeNetChain net(*node);
  ipc::NetChainStatus status = net.getStatus();
  EXPECT_EQ(status.tipHeight, 0u);
  EXPECT_EQ(status.bestHeaderHash, HashBytes(Chain().Genesis().hash));

  std::vector<Block> blocks = Branch(Chain().Tip(), 4);
  ipc::HeadersVerdict verdict = net.processHeaders(Headers(blocks));
  EXPECT_EQ(verdict.error, "");
  EXPECT_FALSE(verdict.peerFault);
  EXPECT_TRUE(verdict.connects);
  EXPECT_EQ(verdict.lastHash, HashBytes(blocks[3].header.Hash()));
  EXPECT_EQ(verdict.lastHeight, 4u);
  status = net.getStatus();
  EXPECT_EQ(status.bestHeaderHeight, 4u);
  EXPECT_EQ(status.bestHeaderHash, HashBytes(blocks[3].header.Hash()));
  EXPECT_EQ(status.tipHeight, 0u);

  // A header one byte short after a good one: the good one is kept, the sender is at fault.
  std::vector<Block> more = Branch(blocks[3].header.Hash(), 4, blocks[3].header.time, 2);
  std::vector<Bytes> list = Headers(more);
  list[1].pop_back();
  verdict = net.processHeaders(list);
  EXPECT_TRUE(verdict.peerFault);
  EXPECT_NE(verdict.error.find("malformed header 1"), std::string::npos) << verdict.error;
  EXPECT_EQ(verdict.lastHeight, 5u);
  // Trailing bytes, an unknown version: faults too.
  Bytes long_header = EncodeHeader(more[1].header);
  long_header.push_back(0);
  EXPECT_TRUE(net.processHeaders({long_header}).peerFault);
  BlockHeader version2 = more[1].header;
  version2.version = 2;
  EXPECT_TRUE(net.processHeaders({EncodeHeader(version2)}).peerFault);

  // Not connecting: no fault.
  std::vector<Block> orphans = Branch(Sha256(Bytes{5}), 10, blocks[0].header.time, 2);
  verdict = net.processHeaders(Headers(orphans));
  EXPECT_FALSE(verdict.connects);
  EXPECT_FALSE(verdict.peerFault);
  EXPECT_EQ(verdict.error, "headers do not connect");
  EXPECT_TRUE(verdict.lastHash.empty());

  // The locator follows the best header, from its parent.
  std::vector<Bytes> locator = net.getLocator();
  ASSERT_EQ(locator.size(), 5u);
  EXPECT_EQ(locator.front(), HashBytes(more[0].header.previous));
  EXPECT_EQ(locator.back(), HashBytes(Chain().Genesis().hash));
}

TEST_F(NetChainTest, BlocksToDownloadAreLowestFirstWithinTheWindow) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), NodeNetChain::kDownloadWindow + 6);
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  const Bytes best = HashBytes(blocks.back().header.Hash());
  std::vector<Bytes> wanted = net.getBlocksToDownload(best, 3);
  EXPECT_EQ(wanted, Hashes({blocks[0], blocks[1], blocks[2]}));
  wanted = net.getBlocksToDownload(best, 100'000);
  ASSERT_EQ(wanted.size(), NodeNetChain::kDownloadWindow);  // heights 1..1024
  EXPECT_EQ(wanted.back(), HashBytes(blocks[NodeNetChain::kDownloadWindow - 1].header.Hash()));
  // Stored and parked blocks are not asked for again.
  Submit({blocks[0]});
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded({blocks[2]}));
  ASSERT_TRUE(verdicts[0].accepted) << verdicts[0].reason;
  EXPECT_EQ(net.getBlocksToDownload(best, 3), Hashes({blocks[1], blocks[3], blocks[4]}));
  // The window moved with the tip.
  EXPECT_EQ(net.getBlocksToDownload(best, 100'000).back(), HashBytes(blocks[NodeNetChain::kDownloadWindow].header.Hash()));
  // Unknown or malformed targets: nothing.
  EXPECT_TRUE(net.getBlocksToDownload(HashBytes(Sha256(Bytes{1})), 10).empty());
  EXPECT_TRUE(net.getBlocksToDownload(Bytes{1, 2, 3}, 10).empty());
}

TEST_F(NetChainTest, BlocksOnAForkAreDownloadedFromTheForkPoint) {
  NodeNetChain net(*node);
  std::vector<Block> active = Branch(Chain().Tip(), 3);
  Submit(active);
  std::vector<Block> fork = Branch(*Chain().AtHeight(1), 4, 3);  // heights 2..5
  ASSERT_EQ(net.processHeaders(Headers(fork)).error, "");
  EXPECT_EQ(net.getBlocksToDownload(HashBytes(fork.back().header.Hash()), 10), Hashes(fork));
  // A peer whose best is on the active chain has nothing for us.
  EXPECT_TRUE(net.getBlocksToDownload(HashBytes(active.back().header.Hash()), 10).empty());
}

TEST_F(NetChainTest, BlocksDeliveredOutOfOrderConnectInOrder) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), 6);
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  // Heights 6 to 3 first, one call each: they wait (their parents' data is missing).
  for (int i = 5; i >= 2; --i) {
    std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded({blocks[static_cast<std::size_t>(i)]}));
    ASSERT_EQ(verdicts.size(), 1u);
    EXPECT_TRUE(verdicts[0].accepted) << verdicts[0].reason;
    EXPECT_FALSE(verdicts[0].peerFault);
    EXPECT_EQ(verdicts[0].hash, HashBytes(blocks[static_cast<std::size_t>(i)].header.Hash()));
  }
  EXPECT_EQ(net.ParkedCount(), 4u);
  EXPECT_EQ(Chain().Height(), 0u);
  // Parked again: a duplicate, no fault.
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded({blocks[3]}));
  EXPECT_FALSE(verdicts[0].accepted);
  EXPECT_EQ(verdicts[0].reason, "duplicate");
  EXPECT_FALSE(verdicts[0].peerFault);
  // Height 1 connects; 3 to 6 still wait for height 2. Then it arrives: all connect.
  verdicts = net.processBlocks(Encoded({blocks[0]}));
  EXPECT_TRUE(verdicts[0].accepted) << verdicts[0].reason;
  EXPECT_EQ(Chain().Height(), 1u);
  EXPECT_EQ(net.ParkedCount(), 4u);
  verdicts = net.processBlocks(Encoded({blocks[1]}));
  EXPECT_TRUE(verdicts[0].accepted) << verdicts[0].reason;
  EXPECT_EQ(Chain().Height(), 6u);
  EXPECT_EQ(Chain().Tip().hash, blocks[5].header.Hash());
  EXPECT_EQ(net.ParkedCount(), 0u);
  EXPECT_EQ(net.getStatus().bestHeaderHeight, 6u);
  // A stored block again: a duplicate, no fault.
  verdicts = net.processBlocks(Encoded({blocks[2]}));
  EXPECT_FALSE(verdicts[0].accepted);
  EXPECT_EQ(verdicts[0].reason, "duplicate");
  EXPECT_FALSE(verdicts[0].peerFault);
}

TEST_F(NetChainTest, OneBatchInReverseOrderConnectsEveryBlock) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), 5);
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  std::vector<Block> reversed(blocks.rbegin(), blocks.rend());
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded(reversed));
  ASSERT_EQ(verdicts.size(), 5u);
  for (const auto& verdict : verdicts) {
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
    EXPECT_FALSE(verdict.peerFault);
  }
  EXPECT_EQ(Chain().Tip().hash, blocks[4].header.Hash());
  EXPECT_EQ(net.ParkedCount(), 0u);
}

TEST_F(NetChainTest, ALongerForkAsHeadersThenBlocksReorganisesTheChain) {
  NodeNetChain net(*node);
  std::vector<Block> active = Branch(Chain().Tip(), 3);
  Submit(active);
  std::vector<Block> fork = Branch(*Chain().AtHeight(1), 4, 5);
  ASSERT_EQ(net.processHeaders(Headers(fork)).error, "");
  EXPECT_EQ(net.getStatus().bestHeaderHash, HashBytes(fork.back().header.Hash()));
  std::vector<Bytes> wanted = net.getBlocksToDownload(HashBytes(fork.back().header.Hash()), 16);
  ASSERT_EQ(wanted, Hashes(fork));
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded(fork));
  for (const auto& verdict : verdicts) EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(Chain().Tip().hash, fork.back().header.Hash());
  EXPECT_EQ(Chain().Height(), 5u);
  EXPECT_FALSE(Chain().IsActive(*Chain().Lookup(active.back().header.Hash())));
  ipc::NetChainStatus status = net.getStatus();
  EXPECT_EQ(status.tipHash, status.bestHeaderHash);
}

TEST_F(NetChainTest, BadBlocksAreFaultsAndUnknownParentsAreNot) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), 2);
  // Malformed bytes.
  Bytes truncated = blocks[0].Encode();
  truncated.resize(truncated.size() - 3);
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks({truncated, Bytes{}});
  ASSERT_EQ(verdicts.size(), 2u);
  for (const auto& verdict : verdicts) {
    EXPECT_FALSE(verdict.accepted);
    EXPECT_TRUE(verdict.peerFault);
    EXPECT_NE(verdict.reason.find("malformed block"), std::string::npos) << verdict.reason;
  }
  // A body that does not match its header (merkle root), on a stored parent and parked.
  Block mutated = blocks[0];
  mutated.transactions[0].outputs[0].amount -= 1;
  verdicts = net.processBlocks(Encoded({mutated}));
  EXPECT_FALSE(verdicts[0].accepted);
  EXPECT_TRUE(verdicts[0].peerFault) << verdicts[0].reason;
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  Block mutated_child = blocks[1];
  mutated_child.transactions[0].outputs[0].amount -= 1;
  verdicts = net.processBlocks(Encoded({mutated_child}));
  EXPECT_FALSE(verdicts[0].accepted);
  EXPECT_TRUE(verdicts[0].peerFault) << verdicts[0].reason;
  EXPECT_EQ(net.ParkedCount(), 0u);
  // The good copies still go in: a bad body did not condemn the header.
  verdicts = net.processBlocks(Encoded(blocks));
  for (const auto& verdict : verdicts) EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(Chain().Height(), 2u);

  // A block that breaks a consensus rule when connected (the coinbase claims too much).
  Block greedy = MakeBlock(Chain().Tip().hash, 3, Chain().Tip().header.time + 1, alice.PublicKey(), {}, 1);
  verdicts = net.processBlocks(Encoded({greedy}));
  EXPECT_FALSE(verdicts[0].accepted);
  EXPECT_TRUE(verdicts[0].peerFault) << verdicts[0].reason;
  // Its header is now known invalid, and so is a child's.
  std::vector<Block> on_greedy = Branch(greedy.header.Hash(), 3, greedy.header.time, 1);
  ipc::HeadersVerdict headers = net.processHeaders(Headers({greedy, on_greedy[0]}));
  EXPECT_TRUE(headers.peerFault) << headers.error;
  EXPECT_EQ(net.getStatus().bestHeaderHeight, 2u);
  // Sent again: a known invalid block is a fault too.
  verdicts = net.processBlocks(Encoded({greedy}));
  EXPECT_TRUE(verdicts[0].peerFault) << verdicts[0].reason;

  // Unknown parent: not accepted, no fault.
  std::vector<Block> orphans = Branch(Sha256(Bytes{3}), 7, Chain().Tip().header.time, 1);
  verdicts = net.processBlocks(Encoded(orphans));
  EXPECT_FALSE(verdicts[0].accepted);
  EXPECT_EQ(verdicts[0].reason, "prev-blk-not-found");
  EXPECT_FALSE(verdicts[0].peerFault);

  // A block ahead of the clock: refused, no fault.
  node->SetMockTime(static_cast<int64_t>(Chain().Tip().header.time));
  Block future = MakeBlock(Chain().Tip().hash, 3, Chain().Tip().header.time + 3 * 60 * 60, alice.PublicKey());
  verdicts = net.processBlocks(Encoded({future}));
  EXPECT_FALSE(verdicts[0].accepted);
  EXPECT_FALSE(verdicts[0].peerFault) << verdicts[0].reason;
}

TEST_F(NetChainTest, ParkingIsBounded) {
  NodeNetChain net(*node, NetChainOptions{.max_parked_blocks = 3});
  std::vector<Block> blocks = Branch(Chain().Tip(), 6);
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded({blocks[1], blocks[2], blocks[3], blocks[4]}));
  EXPECT_TRUE(verdicts[0].accepted);
  EXPECT_TRUE(verdicts[1].accepted);
  EXPECT_TRUE(verdicts[2].accepted);
  EXPECT_FALSE(verdicts[3].accepted);
  EXPECT_EQ(verdicts[3].reason, "parked pool full");
  EXPECT_FALSE(verdicts[3].peerFault);
  EXPECT_EQ(net.ParkedCount(), 3u);
  // The parent arrives: the parked ones connect and make room.
  verdicts = net.processBlocks(Encoded({blocks[0], blocks[4], blocks[5]}));
  for (const auto& verdict : verdicts) EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(Chain().Height(), 6u);
  EXPECT_EQ(net.ParkedCount(), 0u);

  NodeNetChain small(*node, NetChainOptions{.max_parked_bytes = 10});
  std::vector<Block> more = Branch(Chain().Tip(), 2);
  ASSERT_EQ(small.processHeaders(Headers(more)).error, "");
  verdicts = small.processBlocks(Encoded({more[1]}));
  EXPECT_EQ(verdicts[0].reason, "parked pool full");
}

TEST_F(NetChainTest, TransactionsMissingParentsPolicyAndFaults) {
  NodeNetChain net(*node);
  Submit(Branch(Chain().Tip(), static_cast<int>(kCoinbaseMaturity) + 3));  // coinbases 1 to 3 mature
  const OutPoint coin = test::CoinbaseOf(Chain(), 1);
  Transaction parent = test::MakeSpend(coin, alice, 40 * kCoin, alice.PublicKey());
  Transaction child = test::MakeSpend(OutPoint{parent.Txid(), 0}, alice, 39 * kCoin, bob.PublicKey());

  // The child first: its parent's txid comes back, no fault.
  ipc::TxVerdict verdict = net.processTransaction(child.Encode());
  EXPECT_FALSE(verdict.accepted);
  EXPECT_EQ(verdict.reason, kRejectMissingInputs);
  EXPECT_FALSE(verdict.peerFault);
  EXPECT_EQ(verdict.missingParents, std::vector<Bytes>{HashBytes(parent.Txid())});
  EXPECT_FALSE(net.haveItems({ipc::InvItem{1, HashBytes(child.Txid())}})[0]);

  verdict = net.processTransaction(parent.Encode());
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  verdict = net.processTransaction(child.Encode());
  EXPECT_TRUE(verdict.accepted) << verdict.reason;
  // Again: already there, no fault.
  verdict = net.processTransaction(child.Encode());
  EXPECT_FALSE(verdict.accepted);
  EXPECT_FALSE(verdict.peerFault);
  EXPECT_EQ(net.getTransactionData({HashBytes(parent.Txid()), HashBytes(Sha256(Bytes{1})), Bytes{1}}),
            (std::vector<Bytes>{parent.Encode(), Bytes{}, Bytes{}}));

  // A double spend of the parent's coin: policy, no fault, remembered.
  Transaction rival = test::MakeSpend(coin, alice, 30 * kCoin, bob.PublicKey());
  verdict = net.processTransaction(rival.Encode());
  EXPECT_FALSE(verdict.accepted);
  EXPECT_FALSE(verdict.peerFault) << verdict.reason;
  // A bad signature: a fault, remembered.
  Transaction forged = test::MakeSpend(test::CoinbaseOf(Chain(), 2), bob, 10 * kCoin, bob.PublicKey());
  verdict = net.processTransaction(forged.Encode());
  EXPECT_FALSE(verdict.accepted);
  EXPECT_TRUE(verdict.peerFault) << verdict.reason;
  // Spending more than the inputs: a fault.
  Transaction inflated = test::MakeSpend(test::CoinbaseOf(Chain(), 3), alice, 60 * kCoin, bob.PublicKey());
  verdict = net.processTransaction(inflated.Encode());
  EXPECT_TRUE(verdict.peerFault) << verdict.reason;
  // Malformed bytes: a fault.
  Bytes broken = parent.Encode();
  broken.pop_back();
  verdict = net.processTransaction(broken);
  EXPECT_TRUE(verdict.peerFault);
  EXPECT_NE(verdict.reason.find("malformed transaction"), std::string::npos);

  std::vector<bool> have = net.haveItems({ipc::InvItem{1, HashBytes(parent.Txid())}, ipc::InvItem{1, HashBytes(rival.Txid())},
                                          ipc::InvItem{1, HashBytes(forged.Txid())}, ipc::InvItem{1, HashBytes(Sha256(Bytes{4}))},
                                          ipc::InvItem{7, HashBytes(parent.Txid())}, ipc::InvItem{1, Bytes{1}}});
  EXPECT_EQ(have, (std::vector<bool>{true, true, true, false, false, false}));
  // A new tip forgets the refusals (they may be valid now).
  Submit(Branch(Chain().Tip(), 1));
  EXPECT_FALSE(net.haveItems({ipc::InvItem{1, HashBytes(rival.Txid())}})[0]);
}

TEST_F(NetChainTest, HaveItemsKnowsStoredBlocksHeadersAndParkedBlocks) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), 3);
  Submit({blocks[0]});
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  std::vector<Block> parked = Branch(blocks[2].header.Hash(), 3, blocks[2].header.time, 1);
  ASSERT_EQ(net.processHeaders(Headers(parked)).error, "");
  ASSERT_TRUE(net.processBlocks(Encoded(parked))[0].accepted);
  std::vector<bool> have = net.haveItems({ipc::InvItem{2, HashBytes(Chain().Genesis().hash)},
                                          ipc::InvItem{2, HashBytes(blocks[0].header.Hash())},
                                          ipc::InvItem{2, HashBytes(blocks[2].header.Hash())},
                                          ipc::InvItem{2, HashBytes(parked[0].header.Hash())},
                                          ipc::InvItem{2, HashBytes(Sha256(Bytes{8}))}});
  EXPECT_EQ(have, (std::vector<bool>{true, true, true, true, false}));
}

TEST_F(NetChainTest, FindHeadersFollowsTheLocatorAndStop) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), 8);
  Submit(blocks);
  auto heights = [&](const std::vector<Bytes>& headers) {
    std::vector<uint32_t> result;
    for (const Bytes& bytes : headers) {
      Reader reader(bytes);
      BlockHeader header = BlockHeader::Deserialize(reader);
      result.push_back(Chain().Lookup(header.Hash())->height);
    }
    return result;
  };
  // No locator: after genesis.
  EXPECT_EQ(heights(net.findHeaders({}, {})), (std::vector<uint32_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  // The first active entry of the locator counts; unknown and malformed entries are skipped.
  std::vector<Bytes> locator{HashBytes(Sha256(Bytes{1})), Bytes{1, 2}, HashBytes(blocks[4].header.Hash()),
                             HashBytes(blocks[1].header.Hash())};
  EXPECT_EQ(heights(net.findHeaders(locator, {})), (std::vector<uint32_t>{6, 7, 8}));
  // Up to and including `stop`; an unknown stop does not stop.
  EXPECT_EQ(heights(net.findHeaders({HashBytes(blocks[1].header.Hash())}, HashBytes(blocks[3].header.Hash()))),
            (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(heights(net.findHeaders({HashBytes(blocks[5].header.Hash())}, HashBytes(Sha256(Bytes{2})))),
            (std::vector<uint32_t>{7, 8}));
  // A locator on a branch that is no longer active: it falls back to the fork's active entries.
  std::vector<Block> fork = Branch(*Chain().AtHeight(6), 1, 4);
  Submit(fork);  // less work than the tip: stored, inactive
  EXPECT_EQ(heights(net.findHeaders({HashBytes(fork[0].header.Hash()), HashBytes(blocks[5].header.Hash())}, {})),
            (std::vector<uint32_t>{7, 8}));
  // At the tip: nothing to send.
  EXPECT_TRUE(net.findHeaders({HashBytes(blocks[7].header.Hash())}, {}).empty());
}

TEST_F(NetChainTest, GetBlockDataServesStoredBlocksAndCapsTheCount) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), 20);
  Submit(blocks);
  std::vector<Bytes> data = net.getBlockData({HashBytes(blocks[0].header.Hash()), HashBytes(Sha256(Bytes{1})), Bytes{9},
                                              HashBytes(blocks[1].header.Hash())});
  ASSERT_EQ(data.size(), 4u);
  EXPECT_EQ(data[0], blocks[0].Encode());
  EXPECT_TRUE(data[1].empty());
  EXPECT_TRUE(data[2].empty());
  EXPECT_EQ(data[3], blocks[1].Encode());
  data = net.getBlockData(Hashes(blocks));
  ASSERT_EQ(data.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(data[i].empty(), i >= NodeNetChain::kMaxBlocksPerGetData) << i;
}

TEST_F(NetChainTest, InitialDownloadLatchesOffOnceTheTipIsRecent) {
  NodeNetChain net(*node);
  const int64_t tip_time = Chain().Tip().header.time;
  constexpr int64_t kHour = int64_t{60} * 60;
  constexpr int64_t kDay = 24 * kHour;
  node->SetMockTime(tip_time + 2 * kDay);
  EXPECT_TRUE(node->IsInitialBlockDownload());
  EXPECT_TRUE(net.getStatus().initialDownload);
  node->SetMockTime(tip_time + kHour);
  EXPECT_FALSE(net.getStatus().initialDownload);
  // Latched: a clock far ahead again does not bring it back.
  node->SetMockTime(tip_time + 30 * kDay);
  EXPECT_FALSE(node->IsInitialBlockDownload());
}

TEST_F(NetChainTest, DuringInitialDownloadBatchesAreMadeDurableAtMostEveryInterval) {
  const int64_t tip_time = Chain().Tip().header.time;
  constexpr int64_t kDay = int64_t{24} * 60 * 60;
  node->SetMockTime(tip_time + 30 * kDay);
  NodeNetChain net(*node, NetChainOptions{.initial_download_sync_interval = std::chrono::hours(1)});
  std::vector<Block> blocks = Branch(Chain().Tip(), 6);
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  auto accept = [&](std::vector<Block> batch) {
    for (const ipc::BlockVerdict& verdict : net.processBlocks(Encoded(batch))) EXPECT_TRUE(verdict.accepted) << verdict.reason;
  };
  accept({blocks[0], blocks[1]});  // the first batch: no sync has happened yet
  EXPECT_FALSE(Chain().HasPendingWrites());
  accept({blocks[2], blocks[3]});  // within the interval, the best header still ahead
  EXPECT_EQ(Chain().Height(), 4u);
  EXPECT_TRUE(Chain().HasPendingWrites());
  accept({blocks[4], blocks[5]});  // the chain reaches the best header
  EXPECT_FALSE(Chain().HasPendingWrites());

  // Out of initial download every batch is made durable.
  node->SetMockTime(tip_time + 60);
  ASSERT_FALSE(node->IsInitialBlockDownload());
  std::vector<Block> more = Branch(Chain().Tip(), 3);
  ASSERT_EQ(net.processHeaders(Headers(more)).error, "");
  accept({more[0]});
  EXPECT_FALSE(Chain().HasPendingWrites());
}

TEST_F(NetChainTest, ABatchOnAStoppedPoolEndsWithoutAcceptingAnything) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), 2);
  node->pool().Stop(crossproc::WorkerPool::Shutdown::kCancel);  // as at shutdown
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded(blocks));
  ASSERT_EQ(verdicts.size(), 2u);
  for (const ipc::BlockVerdict& verdict : verdicts) {
    EXPECT_FALSE(verdict.accepted);
    EXPECT_FALSE(verdict.peerFault) << verdict.reason;
  }
  EXPECT_EQ(Chain().Height(), 0u);
}

TEST_F(NetChainTest, LogMessagesReachTheNodeLog) {
  NodeNetChain net(*node);
  std::mutex mutex;
  std::vector<std::string> lines;
  std::unique_ptr<LogSubscription> sink = log.AddSink(LogCategory::kAll, [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex);
    lines.push_back(line);
  });
  net.logMessage("", "always shown");
  net.logMessage("net", "net detail");
  net.logMessage("nosuchcategory", "still net");
  // Sinks run on the logger's thread: wait for the line (a hang here fails by the test timeout).
  auto found = [&] {
    std::lock_guard<std::mutex> lock(mutex);
    for (const std::string& line : lines) {
      if (line.find("always shown") != std::string::npos) return true;
    }
    return false;
  };
  while (!found()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

TEST_F(NetChainTest, SignaturesOfAParkedBlockAreVerifiedAheadAndUsedWhenItConnects) {
  NodeNetChain net(*node);
  Submit(Branch(Chain().Tip(), static_cast<int>(kCoinbaseMaturity) + 3));
  std::vector<Transaction> spends;
  for (uint32_t height = 1; height <= 3; ++height) {
    spends.push_back(test::MakeSpend(test::CoinbaseOf(Chain(), height), alice, 49 * kCoin, bob.PublicKey()));
  }
  const BlockIndex& tip = Chain().Tip();
  std::vector<Block> blocks = Branch(tip.hash, tip.height, tip.header.time, 2);
  // The second block spends tip coins: its signatures can be checked before the first arrives.
  blocks[1] = MakeBlock(blocks[0].header.Hash(), tip.height + 2, blocks[0].header.time + 1, alice.PublicKey(), spends,
                        3 * kCoin);
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  SignatureCache& cache = node->signature_cache();
  const std::size_t before = cache.size();
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded({blocks[1]}));
  ASSERT_TRUE(verdicts[0].accepted) << verdicts[0].reason;
  EXPECT_EQ(cache.size(), before + 3);  // verified while parked
  const std::size_t hits = cache.hits();
  verdicts = net.processBlocks(Encoded({blocks[0]}));
  ASSERT_TRUE(verdicts[0].accepted) << verdicts[0].reason;
  EXPECT_EQ(Chain().Tip().hash, blocks[1].header.Hash());
  EXPECT_EQ(cache.hits(), hits + 3);  // the connection found all three

  // Without speculation nothing is verified ahead.
  NodeNetChain plain(*node, NetChainOptions{.speculative_signature_checks = false});
  std::vector<Transaction> more;
  for (uint32_t height = 4; height <= 5; ++height) {
    more.push_back(test::MakeSpend(test::CoinbaseOf(Chain(), height), alice, 49 * kCoin, bob.PublicKey()));
  }
  const BlockIndex& tip2 = Chain().Tip();
  std::vector<Block> later = Branch(tip2.hash, tip2.height, tip2.header.time, 1);
  Block child = MakeBlock(later[0].header.Hash(), tip2.height + 2, later[0].header.time + 1, alice.PublicKey(), more,
                          2 * kCoin);
  ASSERT_EQ(plain.processHeaders(Headers({later[0], child})).error, "");
  const std::size_t size = cache.size();
  ASSERT_TRUE(plain.processBlocks(Encoded({child}))[0].accepted);
  EXPECT_EQ(cache.size(), size);
  ASSERT_TRUE(plain.processBlocks(Encoded({later[0]}))[0].accepted);
  EXPECT_EQ(Chain().Tip().hash, child.header.Hash());
  EXPECT_EQ(cache.size(), size + 2);  // verified when connected
}

TEST_F(NetChainTest, ABatchSpendingThePreviousBatchsOutputsIsVerifiedAheadToo) {
  NodeNetChain net(*node);
  Submit(Branch(Chain().Tip(), static_cast<int>(kCoinbaseMaturity) + 1));
  const BlockIndex& tip = Chain().Tip();
  // parent <- a (pays bob) <- b (bob spends a's output): a's output exists only in a batch.
  std::vector<Block> parent = Branch(tip, 1);
  Transaction pay = test::MakeSpend(test::CoinbaseOf(Chain(), 1), alice, 49 * kCoin, bob.PublicKey());
  Block a = MakeBlock(parent[0].header.Hash(), tip.height + 2, parent[0].header.time + 1, alice.PublicKey(), {pay},
                      kCoin);
  Transaction spend = test::MakeSpend(OutPoint{pay.Txid(), 0}, bob, 48 * kCoin, alice.PublicKey());
  Block b = MakeBlock(a.header.Hash(), tip.height + 3, a.header.time + 1, alice.PublicKey(), {spend}, kCoin);
  ASSERT_EQ(net.processHeaders(Headers({parent[0], a, b})).error, "");
  SignatureCache& cache = node->signature_cache();
  const std::size_t before = cache.size();
  // a and b arrive in separate calls before their parent: neither connects, yet b's signature is
  // checked with the key from a's output.
  ASSERT_TRUE(net.processBlocks(Encoded({a}))[0].accepted);
  ASSERT_TRUE(net.processBlocks(Encoded({b}))[0].accepted);
  EXPECT_EQ(net.ParkedCount(), 2u);
  EXPECT_EQ(cache.size(), before + 2);
  const std::size_t hits = cache.hits();
  ASSERT_TRUE(net.processBlocks(Encoded(parent))[0].accepted);
  EXPECT_EQ(Chain().Tip().hash, b.header.Hash());
  EXPECT_EQ(cache.hits(), hits + 2);
}

TEST_F(NetChainTest, OverlappingCallsFromTwoThreadsConnectEveryBlock) {
  NodeNetChain net(*node);
  Submit(Branch(Chain().Tip(), static_cast<int>(kCoinbaseMaturity) + 8));
  const std::vector<Block> blocks = SpendingBlocks(8);
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  const std::vector<Block> first(blocks.begin(), blocks.begin() + 4);
  const std::vector<Block> second(blocks.begin() + 4, blocks.end());
  // Whichever call prepares first, both batches end connected, in chain order.
  std::vector<ipc::BlockVerdict> first_verdicts;
  std::vector<ipc::BlockVerdict> second_verdicts;
  std::thread one([&] { first_verdicts = net.processBlocks(Encoded(first)); });
  std::thread two([&] { second_verdicts = net.processBlocks(Encoded(second)); });
  one.join();
  two.join();
  for (const ipc::BlockVerdict& verdict : first_verdicts) EXPECT_TRUE(verdict.accepted) << verdict.reason;
  for (const ipc::BlockVerdict& verdict : second_verdicts) EXPECT_TRUE(verdict.accepted) << verdict.reason;
  EXPECT_EQ(Chain().Tip().hash, blocks.back().header.Hash());
  EXPECT_EQ(net.ParkedCount(), 0u);
}

TEST_F(NetChainTest, ABadSignatureIsCaughtWhateverTheSpeculationDid) {
  NodeNetChain net(*node);
  Submit(Branch(Chain().Tip(), static_cast<int>(kCoinbaseMaturity) + 1));
  Transaction forged = test::MakeSpend(test::CoinbaseOf(Chain(), 1), alice, 49 * kCoin, bob.PublicKey());
  forged.inputs[0].signature[3] ^= 1;
  const BlockIndex& tip = Chain().Tip();
  Block block = MakeBlock(tip.hash, tip.height + 1, tip.header.time + 1, alice.PublicKey(), {forged}, kCoin);
  std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(Encoded({block}));
  EXPECT_FALSE(verdicts[0].accepted);
  EXPECT_TRUE(verdicts[0].peerFault);
  EXPECT_NE(verdicts[0].reason.find("invalid signature"), std::string::npos) << verdicts[0].reason;
  EXPECT_EQ(Chain().Tip().hash, tip.hash);
}

TEST_F(NetChainTest, ConcurrentCallersEndOnTheFullChain) {
  NodeNetChain net(*node);
  std::vector<Block> blocks = Branch(Chain().Tip(), 40);
  std::atomic<bool> done{false};
  // A peer thread delivering headers then blocks out of order, in small batches.
  std::thread deliverer([&] {
    EXPECT_EQ(net.processHeaders(Headers(blocks)).error, "");
    for (std::size_t start = 0; start < blocks.size(); start += 4) {
      std::vector<Block> batch(blocks.begin() + static_cast<std::ptrdiff_t>(start),
                               blocks.begin() + static_cast<std::ptrdiff_t>(start + 4));
      std::reverse(batch.begin(), batch.end());
      for (const ipc::BlockVerdict& verdict : net.processBlocks(Encoded(batch))) {
        EXPECT_TRUE(verdict.accepted) << verdict.reason;
      }
    }
    done = true;
  });
  // Other peers asking questions meanwhile.
  std::thread asker([&] {
    const Bytes best = HashBytes(blocks.back().header.Hash());
    while (!done) {
      (void)net.getStatus();
      (void)net.getLocator();
      (void)net.getBlocksToDownload(best, 16);
      (void)net.haveItems({ipc::InvItem{2, best}});
      (void)net.findHeaders({}, {});
      (void)net.processHeaders(Headers({blocks[0], blocks[1]}));
    }
  });
  deliverer.join();
  asker.join();
  EXPECT_EQ(Chain().Tip().hash, blocks.back().header.Hash());
  EXPECT_EQ(net.ParkedCount(), 0u);
  EXPECT_TRUE(net.getBlocksToDownload(HashBytes(blocks.back().header.Hash()), 16).empty());
}

TEST_F(NetChainTest, ABlockFailingToConnectTakesItsHeadersDownWithIt) {
  NodeNetChain net(*node);
  const BlockIndex& tip = Chain().Tip();
  // Valid headers, but the first block's coinbase claims too much: found only when connected.
  Block greedy = MakeBlock(tip.hash, tip.height + 1, tip.header.time + 1, alice.PublicKey(), {}, 1);
  std::vector<Block> children = Branch(greedy.header.Hash(), tip.height + 1, greedy.header.time, 2);
  std::vector<Block> all{greedy, children[0], children[1]};
  ASSERT_EQ(net.processHeaders(Headers(all)).error, "");
  EXPECT_EQ(net.getStatus().bestHeaderHeight, 3u);
  // Submitted outside the peer-to-peer layer (submitblock).
  ChainState::BlockResult result = node->SubmitBlock(greedy);
  EXPECT_FALSE(result.accepted);
  ipc::NetChainStatus status = net.getStatus();
  EXPECT_EQ(status.bestHeaderHeight, 0u);
  EXPECT_EQ(status.bestHeaderHash, status.tipHash);
  EXPECT_TRUE(net.getBlocksToDownload(HashBytes(children[1].header.Hash()), 16).empty());
  std::vector<Block> grandchild = Branch(children[1].header.Hash(), tip.height + 3, children[1].header.time, 1);
  ipc::HeadersVerdict verdict = net.processHeaders(Headers({children[1], grandchild[0]}));
  EXPECT_FALSE(verdict.connects);  // the tree let the invalid branch go
  EXPECT_FALSE(verdict.peerFault);
  verdict = net.processHeaders(Headers({children[0]}));
  EXPECT_TRUE(verdict.peerFault) << verdict.error;  // on the invalid block itself
}

// One validation thread: the speculative checks and the connections share it without deadlock.
class NetChainOneThreadTest : public NetChainTest {
 protected:
  NetChainOneThreadTest() : NetChainTest({"-par=1"}) {}
};

TEST_F(NetChainOneThreadTest, SpeculationAndConnectionShareOneThread) {
  ASSERT_EQ(node->pool().thread_count(), 1u);
  NodeNetChain net(*node);
  Submit(Branch(Chain().Tip(), static_cast<int>(kCoinbaseMaturity) + 4));
  const std::vector<Block> blocks = SpendingBlocks(4);
  ASSERT_EQ(net.processHeaders(Headers(blocks)).error, "");
  std::vector<Block> shuffled{blocks[2], blocks[0], blocks[3], blocks[1]};
  for (const ipc::BlockVerdict& verdict : net.processBlocks(Encoded(shuffled))) {
    EXPECT_TRUE(verdict.accepted) << verdict.reason;
  }
  EXPECT_EQ(Chain().Tip().hash, blocks.back().header.Hash());
}

}  // namespace
}  // namespace minicoin
