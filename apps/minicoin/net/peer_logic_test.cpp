// Tests of PeerLogic over a fake node (FakeChain, a chain of headers and blocks it knows) and a
// fake connection manager (FakeSink, recording what was sent and whom it was asked to drop):
// headers-first sync, block download and its stall and timeout rules, getdata serving and its
// pause, relay, orphans and every kind of misbehaviour.
#include "net/peer_logic.h"

#include "primitives/serialize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <exception>
#include <stdexcept>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace minicoin::net {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr uint32_t kBadBits = 1;  // FakeChain treats headers with these bits as invalid

std::vector<uint8_t> Bytes(const Uint256& hash) {
  return {hash.bytes().begin(), hash.bytes().end()};
}

Uint256 HashFrom(const std::vector<uint8_t>& bytes) {
  std::array<uint8_t, 32> array{};
  if (bytes.size() == 32) std::copy(bytes.begin(), bytes.end(), array.begin());
  return Uint256(array);
}

Uint256 Filler(uint32_t n, uint8_t tag) {
  std::array<uint8_t, 32> bytes{};
  bytes[0] = static_cast<uint8_t>(n);
  bytes[1] = static_cast<uint8_t>(n >> 8);
  bytes[2] = static_cast<uint8_t>(n >> 16);
  bytes[31] = tag;
  return Uint256(bytes);
}

// A transaction spending output 0 of `parent` (unique per `n`).
Transaction MakeTx(uint32_t n, const Uint256& parent) {
  Transaction tx;
  tx.inputs.push_back({{parent, 0}, {}});
  tx.outputs.push_back({1'000 + n, {}});
  return tx;
}

// The node as PeerLogic sees it: a fixed "network" chain of headers 0..length (each block holds
// no transactions), of which the node knows some headers and holds some blocks; a mempool; and
// scripted transaction verdicts. Records every call.
class FakeChain final : public ipc::NetChain {
 public:
  explicit FakeChain(uint32_t length) {
    Uint256 previous;
    for (uint32_t height = 0; height <= length; ++height) {
      BlockHeader header;
      header.previous = previous;
      header.merkle_root = Filler(height, 0x4d);
      header.time = 1'600'000'000 + height;
      header.bits = 0x207fffff;
      header.nonce = height;
      previous = header.Hash();
      network.push_back(header);
      height_of[previous] = height;
    }
    HaveUpTo(0);
  }

  // The node holds the headers and blocks up to `height`.
  void HaveUpTo(uint32_t height) {
    for (uint32_t h = 0; h <= height; ++h) {
      known_headers[network[h].Hash()] = h;
      have_blocks.insert(network[h].Hash());
    }
    AdvanceTip();
  }
  Uint256 HashAt(uint32_t height) const { return network.at(height).Hash(); }
  Block BlockAt(uint32_t height) const { return Block{network.at(height), {}}; }

  ipc::NetChainStatus getStatus() override {
    ++status_calls;
    ipc::NetChainStatus status;
    status.tipHash = Bytes(HashAt(tip));
    status.tipHeight = tip;
    const uint32_t best = BestHeaderHeight();
    status.bestHeaderHash = Bytes(HashAt(best));
    status.bestHeaderHeight = best;
    status.initialDownload = initial_download;
    return status;
  }
  std::vector<std::vector<uint8_t>> getLocator() override {
    return {Bytes(HashAt(BestHeaderHeight())), Bytes(HashAt(0))};
  }
  ipc::HeadersVerdict processHeaders(const std::vector<std::vector<uint8_t>>& headers) override {
    ++process_headers_calls;
    ipc::HeadersVerdict verdict;
    verdict.connects = true;
    for (std::size_t i = 0; i < headers.size(); ++i) {
      Reader reader(headers[i]);
      const BlockHeader header = BlockHeader::Deserialize(reader);
      const auto parent = known_headers.find(header.previous);
      if (parent == known_headers.end()) {
        verdict.error = "headers do not connect";
        verdict.connects = i > 0;
        return verdict;
      }
      if (header.bits == kBadBits) {
        verdict.error = "bad proof of work";
        verdict.peerFault = true;
        return verdict;
      }
      known_headers[header.Hash()] = parent->second + 1;
      verdict.lastHash = Bytes(header.Hash());
      verdict.lastHeight = parent->second + 1;
    }
    return verdict;
  }
  std::vector<std::vector<uint8_t>> getBlocksToDownload(const std::vector<uint8_t>& peer_best,
                                                        uint32_t max) override {
    ++blocks_to_download_calls;
    std::vector<std::vector<uint8_t>> hashes;
    const auto best = known_headers.find(HashFrom(peer_best));
    if (best == known_headers.end()) return hashes;
    const uint32_t last = std::min<uint32_t>(best->second, tip + max);
    for (uint32_t h = tip + 1; h <= last; ++h) {
      if (!have_blocks.contains(HashAt(h))) hashes.push_back(Bytes(HashAt(h)));
    }
    return hashes;
  }
  std::vector<ipc::BlockVerdict> processBlocks(
      const std::vector<std::vector<uint8_t>>& blocks) override {
    process_blocks_batches.push_back(blocks.size());
    std::vector<ipc::BlockVerdict> verdicts;
    for (const auto& bytes : blocks) {
      const Block block = Block::Decode(bytes);
      const Uint256 hash = block.header.Hash();
      ipc::BlockVerdict verdict;
      verdict.hash = Bytes(hash);
      if (bad_blocks.contains(hash)) {
        verdict.reason = "bad merkle root";
        verdict.peerFault = true;
      } else if (!known_headers.contains(hash)) {
        verdict.reason = "unknown header";
      } else {
        verdict.accepted = true;
        have_blocks.insert(hash);
      }
      verdicts.push_back(verdict);
    }
    AdvanceTip();
    return verdicts;
  }
  ipc::TxVerdict processTransaction(const std::vector<uint8_t>& bytes) override {
    const Transaction tx = Transaction::Decode(bytes);
    const Uint256 txid = tx.Txid();
    processed_txs.push_back(txid);
    if (const auto it = tx_verdicts.find(txid); it != tx_verdicts.end()) return it->second;
    mempool[txid] = bytes;
    ipc::TxVerdict verdict;
    verdict.accepted = true;
    return verdict;
  }
  std::vector<std::vector<uint8_t>> findHeaders(const std::vector<std::vector<uint8_t>>& locator,
                                                const std::vector<uint8_t>& stop) override {
    uint32_t start = 0;
    for (const auto& bytes : locator) {
      const auto it = height_of.find(HashFrom(bytes));
      if (it != height_of.end() && it->second <= tip) {
        start = it->second;
        break;
      }
    }
    std::vector<std::vector<uint8_t>> headers;
    for (uint32_t h = start + 1; h <= tip && headers.size() < kMaxHeadersEntries; ++h) {
      Writer writer;
      network[h].Serialize(writer);
      headers.push_back(writer.Take());
      if (!stop.empty() && HashFrom(stop) == HashAt(h)) break;
    }
    return headers;
  }
  std::vector<std::vector<uint8_t>> getBlockData(
      const std::vector<std::vector<uint8_t>>& hashes) override {
    ++block_data_calls;
    std::vector<std::vector<uint8_t>> blocks;
    for (const auto& bytes : hashes) {
      const auto it = height_of.find(HashFrom(bytes));
      const bool have = it != height_of.end() && have_blocks.contains(HashFrom(bytes));
      blocks.push_back(have ? BlockAt(it->second).Encode() : std::vector<uint8_t>{});
    }
    return blocks;
  }
  std::vector<std::vector<uint8_t>> getTransactionData(
      const std::vector<std::vector<uint8_t>>& txids) override {
    std::vector<std::vector<uint8_t>> txs;
    for (const auto& bytes : txids) {
      const auto it = mempool.find(HashFrom(bytes));
      txs.push_back(it != mempool.end() ? it->second : std::vector<uint8_t>{});
    }
    return txs;
  }
  std::vector<bool> haveItems(const std::vector<ipc::InvItem>& items) override {
    ++have_items_calls;
    std::vector<bool> have;
    for (const ipc::InvItem& item : items) {
      const Uint256 hash = HashFrom(item.hash);
      have.push_back(item.type == 2 ? known_headers.contains(hash) : mempool.contains(hash));
    }
    return have;
  }
  void logMessage(const std::string&, const std::string&) override {}

  std::vector<BlockHeader> network;
  std::map<Uint256, uint32_t> height_of;      // every network header
  std::map<Uint256, uint32_t> known_headers;  // the node's headers and their heights
  std::set<Uint256> have_blocks;
  std::set<Uint256> bad_blocks;
  uint32_t tip = 0;
  bool initial_download = false;
  std::map<Uint256, std::vector<uint8_t>> mempool;
  std::map<Uint256, ipc::TxVerdict> tx_verdicts;

  int status_calls = 0;
  int process_headers_calls = 0;
  int blocks_to_download_calls = 0;
  int have_items_calls = 0;
  int block_data_calls = 0;
  std::vector<std::size_t> process_blocks_batches;
  std::vector<Uint256> processed_txs;

 private:
  uint32_t BestHeaderHeight() const {
    uint32_t best = 0;
    for (const auto& [hash, height] : known_headers) best = std::max(best, height);
    return best;
  }
  void AdvanceTip() {
    while (tip + 1 < network.size() && have_blocks.contains(HashAt(tip + 1))) ++tip;
  }
};

// The connection manager as PeerLogic sees it: records messages, disconnects and bans; a
// disconnected or banned peer's messages are dropped, as the real manager does.
class FakeSink final : public PeerSink {
 public:
  void Send(PeerId peer, const Message& message) override {
    if (misbehaving.contains(peer) || disconnected.contains(peer)) return;
    sent.push_back({peer, message});
  }
  void Disconnect(PeerId peer, const std::string& reason) override { disconnected[peer] = reason; }
  void Misbehaving(PeerId peer, const std::string& reason) override { misbehaving[peer] = reason; }
  std::size_t QueuedSendBytes(PeerId peer) const override {
    const auto it = queued.find(peer);
    return it == queued.end() ? 0 : it->second;
  }

  template <typename T>
  std::vector<T> SentTo(PeerId peer) const {
    std::vector<T> result;
    for (const auto& [to, message] : sent) {
      if (to == peer && std::holds_alternative<T>(message)) result.push_back(std::get<T>(message));
    }
    return result;
  }
  std::size_t CountTo(PeerId peer) const {
    return static_cast<std::size_t>(
        std::count_if(sent.begin(), sent.end(), [&](const auto& s) { return s.first == peer; }));
  }

  std::vector<std::pair<PeerId, Message>> sent;
  std::map<PeerId, std::string> disconnected;
  std::map<PeerId, std::string> misbehaving;
  std::map<PeerId, std::size_t> queued;
};

// The block hashes of every getdata sent to `peer`, in order.
std::vector<Uint256> RequestedBlocks(const FakeSink& sink, PeerId peer) {
  std::vector<Uint256> hashes;
  for (const GetDataMessage& getdata : sink.SentTo<GetDataMessage>(peer)) {
    for (const InvEntry& entry : getdata.entries) {
      if (entry.type == InvType::kBlock) hashes.push_back(entry.hash);
    }
  }
  return hashes;
}

class PeerLogicTest : public ::testing::Test {
 protected:
  void Start() { logic = std::make_unique<PeerLogic>(options, sink, chain, log); }

  void Connect(PeerId peer, bool inbound = false, uint32_t best_height = 0) {
    PeerConnected info;
    info.address = "203.0.113." + std::to_string(peer) + ":8433";
    info.inbound = inbound;
    info.version.best_height = best_height;
    logic->PeerConnected(peer, info, now);
  }
  void Deliver(PeerId peer, Message message) {
    logic->ProcessMessage(peer, std::move(message), now);
  }
  void Tick() { logic->OnTick(now); }
  // Peer 1 announces 40 headers and delivers blocks 1 and 2, which the node finds invalid.
  void DeliverBlocksOneAndABadTwo() {
    Connect(1);
    Deliver(1, Headers(1, 40));
    Tick();
    chain.bad_blocks.insert(chain.HashAt(2));
    Deliver(1, BlockMessage{chain.BlockAt(1)});
    Deliver(1, BlockMessage{chain.BlockAt(2)});
    Tick();
  }

  // The network's headers from..to (heights, inclusive).
  HeadersMessage Headers(uint32_t from, uint32_t to) const {
    HeadersMessage message;
    for (uint32_t h = from; h <= to; ++h) message.headers.push_back(chain.network[h]);
    return message;
  }
  std::vector<Uint256> Hashes(uint32_t from, uint32_t to) const {
    std::vector<Uint256> hashes;
    for (uint32_t h = from; h <= to; ++h) hashes.push_back(chain.HashAt(h));
    return hashes;
  }

  FakeChain chain{2'100};
  FakeSink sink;
  Logger log;
  PeerLogicOptions options;
  std::unique_ptr<PeerLogic> logic;
  microseconds now = seconds(1'000'000);
};

// ---- connection and headers ----

TEST_F(PeerLogicTest, NewOutboundPeerGetsSendHeadersThenGetHeaders) {
  chain.HaveUpTo(5);
  Start();
  Connect(1);
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<SendHeadersMessage>(sink.sent[0].second));
  const auto getheaders = sink.SentTo<GetHeadersMessage>(1);
  ASSERT_EQ(getheaders.size(), 1u);
  EXPECT_EQ(getheaders[0].locator, (std::vector<Uint256>{chain.HashAt(5), chain.HashAt(0)}));
  EXPECT_TRUE(getheaders[0].stop.IsZero());
}

TEST_F(PeerLogicTest, InboundPeerGetsGetHeadersOnlyWhenAheadOrDuringInitialDownload) {
  chain.HaveUpTo(10);
  Start();
  Connect(1, /*inbound=*/true, /*best_height=*/10);
  EXPECT_EQ(sink.SentTo<SendHeadersMessage>(1).size(), 1u);
  EXPECT_TRUE(sink.SentTo<GetHeadersMessage>(1).empty());
  Connect(2, /*inbound=*/true, /*best_height=*/11);
  EXPECT_EQ(sink.SentTo<GetHeadersMessage>(2).size(), 1u);
  chain.initial_download = true;
  Connect(3, /*inbound=*/true, /*best_height=*/0);
  EXPECT_EQ(sink.SentTo<GetHeadersMessage>(3).size(), 1u);
}

TEST_F(PeerLogicTest, HeadersLeadToGetDataWithinThePerPeerLimit) {
  Start();
  Connect(1);
  Deliver(1, Headers(1, 40));
  EXPECT_EQ(logic->SyncStats().at(1).synced_headers, 40);
  EXPECT_TRUE(RequestedBlocks(sink, 1).empty());  // downloads are scheduled by OnTick
  Tick();
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 16));
  EXPECT_EQ(sink.SentTo<GetDataMessage>(1).size(), 1u);  // one getdata for the batch
  EXPECT_EQ(logic->SyncStats().at(1).blocks_in_flight, 16u);
  Tick();  // nothing new: no duplicate requests
  EXPECT_EQ(RequestedBlocks(sink, 1).size(), 16u);
}

TEST_F(PeerLogicTest, DownloadSplitsAcrossTwoPeersWithoutDuplicates) {
  Start();
  Connect(1);
  Connect(2);
  Deliver(1, Headers(1, 40));
  Deliver(2, Headers(1, 40));
  Tick();
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 16));
  EXPECT_EQ(RequestedBlocks(sink, 2), Hashes(17, 32));
  // Both peers have the same best header: the node was asked once.
  EXPECT_EQ(chain.blocks_to_download_calls, 1);
}

TEST_F(PeerLogicTest, BlocksOfOneRoundGoToTheChainInOneCall) {
  Start();
  Connect(1);
  Deliver(1, Headers(1, 40));
  Tick();
  for (uint32_t h = 1; h <= 16; ++h) Deliver(1, BlockMessage{chain.BlockAt(h)});
  EXPECT_TRUE(chain.process_blocks_batches.empty());
  Tick();
  EXPECT_EQ(chain.process_blocks_batches, std::vector<std::size_t>{16});
  EXPECT_EQ(chain.tip, 16u);
  // The freed slots get the next blocks at once.
  const std::vector<Uint256> requested = RequestedBlocks(sink, 1);
  EXPECT_EQ(std::vector<Uint256>(requested.begin() + 16, requested.end()), Hashes(17, 32));
  EXPECT_EQ(logic->SyncStats().at(1).synced_blocks, 16);
  EXPECT_TRUE(sink.misbehaving.empty());
}

TEST_F(PeerLogicTest, AFullHeadersMessageAsksForMore) {
  Start();
  Connect(1);
  sink.sent.clear();
  Deliver(1, Headers(1, 2'000));
  const auto getheaders = sink.SentTo<GetHeadersMessage>(1);
  ASSERT_EQ(getheaders.size(), 1u);
  EXPECT_EQ(getheaders[0].locator, std::vector<Uint256>{chain.HashAt(2'000)});
  Deliver(1, Headers(2'001, 2'100));  // not full: done
  EXPECT_EQ(sink.SentTo<GetHeadersMessage>(1).size(), 1u);
  EXPECT_EQ(logic->SyncStats().at(1).synced_headers, 2'100);
}

TEST_F(PeerLogicTest, EmptyHeadersAreFine) {
  Start();
  Connect(1);
  Deliver(1, HeadersMessage{});
  EXPECT_TRUE(sink.misbehaving.empty());
  EXPECT_EQ(chain.process_headers_calls, 0);
}

TEST_F(PeerLogicTest, NonConnectingHeadersGetGetHeadersThenMisbehaving) {
  Start();
  Connect(1);
  sink.sent.clear();
  BlockHeader orphan = chain.network[50];  // its parent (49) is unknown to the node
  for (int i = 1; i <= kMaxNonConnectingHeaders; ++i) {
    Deliver(1, HeadersMessage{{orphan}});
    EXPECT_EQ(sink.SentTo<GetHeadersMessage>(1).size(), static_cast<std::size_t>(i));
  }
  EXPECT_TRUE(sink.misbehaving.empty());
  // A connecting message resets the count.
  Deliver(1, Headers(1, 2));
  for (int i = 1; i <= kMaxNonConnectingHeaders; ++i) Deliver(1, HeadersMessage{{orphan}});
  EXPECT_TRUE(sink.misbehaving.empty());
  Deliver(1, HeadersMessage{{orphan}});
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("do not connect"), std::string::npos);
}

TEST_F(PeerLogicTest, InvalidHeadersAreMisbehaving) {
  Start();
  Connect(1);
  HeadersMessage headers = Headers(1, 3);
  headers.headers[2].bits = kBadBits;
  Deliver(1, headers);
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("bad proof of work"), std::string::npos);
  // Nothing more is done for a punished peer.
  Deliver(1, Headers(1, 3));
  EXPECT_EQ(chain.process_headers_calls, 1);
}

TEST_F(PeerLogicTest, NonContinuousHeadersAreMisbehavingWithoutAskingTheNode) {
  Start();
  Connect(1);
  HeadersMessage headers = Headers(1, 3);
  headers.headers[1] = chain.network[5];
  Deliver(1, headers);
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("non-continuous"), std::string::npos);
  EXPECT_EQ(chain.process_headers_calls, 0);
}

TEST_F(PeerLogicTest, GetHeadersIsAnsweredFromTheNodesChain) {
  chain.HaveUpTo(10);
  Start();
  Connect(1, /*inbound=*/true, 10);
  sink.sent.clear();
  Deliver(1, GetHeadersMessage{kProtocolVersion, {chain.HashAt(4), chain.HashAt(0)}, {}});
  auto answers = sink.SentTo<HeadersMessage>(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0], Headers(5, 10));
  // With a stop hash.
  Deliver(1, GetHeadersMessage{kProtocolVersion, {chain.HashAt(4)}, chain.HashAt(6)});
  answers = sink.SentTo<HeadersMessage>(1);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[1], Headers(5, 6));
}

TEST_F(PeerLogicTest, GetHeadersIsAnsweredEvenDuringInitialDownload) {
  chain.HaveUpTo(10);
  chain.initial_download = true;
  Start();
  Connect(1, /*inbound=*/true);
  Connect(2, /*inbound=*/false);
  Deliver(1, GetHeadersMessage{kProtocolVersion, {chain.HashAt(0)}, {}});
  Deliver(2, GetHeadersMessage{kProtocolVersion, {chain.HashAt(8)}, {}});
  ASSERT_EQ(sink.SentTo<HeadersMessage>(1).size(), 1u);
  EXPECT_EQ(sink.SentTo<HeadersMessage>(1)[0], Headers(1, 10));
  ASSERT_EQ(sink.SentTo<HeadersMessage>(2).size(), 1u);
  EXPECT_EQ(sink.SentTo<HeadersMessage>(2)[0], Headers(9, 10));
}

TEST_F(PeerLogicTest, GetHeadersFromTheTipGetsAnEmptyAnswer) {
  chain.HaveUpTo(10);
  Start();
  Connect(1, /*inbound=*/true, 10);
  Deliver(1, GetHeadersMessage{kProtocolVersion, {chain.HashAt(10)}, {}});
  ASSERT_EQ(sink.SentTo<HeadersMessage>(1).size(), 1u);
  EXPECT_TRUE(sink.SentTo<HeadersMessage>(1)[0].headers.empty());
}

// ---- download: stall, timeout, disconnect, notfound ----

TEST_F(PeerLogicTest, StalledBlockIsRequestedFromAnotherPeerAfterTheStallTimeout) {
  options.max_blocks_in_flight_per_peer = 4;
  options.download_window = 8;
  Start();
  Connect(1);
  Connect(2);
  Deliver(1, Headers(1, 40));
  Deliver(2, Headers(1, 40));
  Tick();
  ASSERT_EQ(RequestedBlocks(sink, 1), Hashes(1, 4));
  ASSERT_EQ(RequestedBlocks(sink, 2), Hashes(5, 8));
  // Peer 2 delivers; peer 1 does not: the window (1..8) is stuck on block 1.
  for (uint32_t h = 5; h <= 8; ++h) Deliver(2, BlockMessage{chain.BlockAt(h)});
  Tick();
  EXPECT_EQ(RequestedBlocks(sink, 2).size(), 4u);  // nothing else to ask yet
  now += options.block_stall_timeout;              // exactly at the limit: still waiting
  Tick();
  EXPECT_EQ(RequestedBlocks(sink, 2).size(), 4u);
  now += seconds(1);
  Tick();
  const std::vector<Uint256> requested = RequestedBlocks(sink, 2);
  ASSERT_EQ(requested.size(), 5u);
  EXPECT_EQ(requested[4], chain.HashAt(1));
  // Peer 2 delivers block 1; peer 1's late copy is not counted as unrequested.
  Deliver(2, BlockMessage{chain.BlockAt(1)});
  Tick();
  EXPECT_EQ(chain.tip, 1u);
  Deliver(1, BlockMessage{chain.BlockAt(1)});
  Tick();
  EXPECT_TRUE(sink.misbehaving.empty());
  // The staller got no new requests.
  EXPECT_EQ(RequestedBlocks(sink, 1).size(), 4u);
  // Peer 2 took the window's next blocks (2 by the stall rule, then 9) and, once peer 1 says it
  // lacks 2..4, those too.
  Deliver(1, NotFoundMessage{{{InvType::kBlock, chain.HashAt(2)},
                              {InvType::kBlock, chain.HashAt(3)},
                              {InvType::kBlock, chain.HashAt(4)}}});
  Tick();
  const std::vector<Uint256> second = RequestedBlocks(sink, 2);
  EXPECT_EQ(
      std::vector<Uint256>(second.begin() + 5, second.end()),
      (std::vector<Uint256>{chain.HashAt(2), chain.HashAt(9), chain.HashAt(3), chain.HashAt(4)}));
  for (uint32_t h : {2, 3, 4, 9}) Deliver(2, BlockMessage{chain.BlockAt(h)});
  Tick();
  EXPECT_EQ(chain.tip, 9u);
  // Peer 1's requests are all gone: it is no longer held back.
  const std::vector<Uint256> first = RequestedBlocks(sink, 1);
  EXPECT_EQ(std::vector<Uint256>(first.begin() + 4, first.end()), Hashes(10, 13));
  EXPECT_TRUE(sink.misbehaving.empty());
}

TEST_F(PeerLogicTest, BlockDownloadTimeoutDisconnectsAndOthersGetTheBlocks) {
  options.download_window = 16;
  Start();
  Connect(1);
  Deliver(1, Headers(1, 40));
  Tick();
  ASSERT_EQ(RequestedBlocks(sink, 1).size(), 16u);
  Connect(2);
  Deliver(2, Headers(1, 40));
  Tick();
  EXPECT_TRUE(RequestedBlocks(sink, 2).empty());  // the window is all with peer 1
  now += options.block_download_timeout;
  Tick();
  EXPECT_TRUE(sink.disconnected.empty());
  now += seconds(1);
  Tick();
  ASSERT_TRUE(sink.disconnected.contains(1));
  EXPECT_NE(sink.disconnected[1].find("timed out"), std::string::npos);
  EXPECT_TRUE(sink.misbehaving.empty());
  EXPECT_EQ(RequestedBlocks(sink, 2), Hashes(1, 16));
}

TEST_F(PeerLogicTest, DisconnectFreesThePeersRequests) {
  options.download_window = 20;
  Start();
  Connect(1);
  Connect(2);
  Deliver(1, Headers(1, 40));
  Deliver(2, Headers(1, 40));
  Tick();
  ASSERT_EQ(RequestedBlocks(sink, 1), Hashes(1, 16));
  ASSERT_EQ(RequestedBlocks(sink, 2), Hashes(17, 20));
  logic->PeerDisconnected(1);
  EXPECT_FALSE(logic->SyncStats().contains(1));
  Tick();
  const std::vector<Uint256> requested = RequestedBlocks(sink, 2);
  EXPECT_EQ(std::vector<Uint256>(requested.begin() + 4, requested.end()), Hashes(1, 12));
  EXPECT_EQ(logic->SyncStats().at(2).blocks_in_flight, 16u);
}

TEST_F(PeerLogicTest, NotFoundFreesTheBlockForAnotherPeer) {
  options.download_window = 20;
  Start();
  Connect(1);
  Connect(2);
  Deliver(1, Headers(1, 40));
  Deliver(2, Headers(1, 40));
  Tick();
  Deliver(1, NotFoundMessage{{{InvType::kBlock, chain.HashAt(3)}}});
  Tick();
  EXPECT_EQ(logic->SyncStats().at(1).blocks_in_flight, 15u);
  // Not asked of peer 1 again, even though it has a free slot.
  EXPECT_EQ(RequestedBlocks(sink, 1).size(), 16u);
  const std::vector<Uint256> requested = RequestedBlocks(sink, 2);
  ASSERT_EQ(requested.size(), 5u);
  EXPECT_EQ(requested[4], chain.HashAt(3));
}

TEST_F(PeerLogicTest, InvalidBlockIsMisbehaving) {
  Start();
  DeliverBlocksOneAndABadTwo();
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("bad merkle root"), std::string::npos);
  EXPECT_EQ(chain.tip, 1u);
  EXPECT_EQ(logic->SyncStats().at(1).blocks_in_flight, 0u);  // released
}

TEST_F(PeerLogicTest, UnrequestedBlocksArePassedOnButAFloodIsMisbehaving) {
  chain.HaveUpTo(1);
  Start();
  Connect(1);
  for (std::size_t i = 0; i < kMaxUnrequestedBlocksPerMinute; ++i) {
    Deliver(1, BlockMessage{chain.BlockAt(2)});
  }
  Tick();
  EXPECT_EQ(chain.process_blocks_batches, std::vector<std::size_t>{kMaxUnrequestedBlocksPerMinute});
  EXPECT_TRUE(sink.misbehaving.empty());
  Deliver(1, BlockMessage{chain.BlockAt(2)});
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("unrequested blocks"), std::string::npos);
}

TEST_F(PeerLogicTest, UnrequestedBlocksSpreadOverMinutesAreFine) {
  chain.HaveUpTo(1);
  Start();
  Connect(1);
  for (std::size_t i = 0; i < 3 * kMaxUnrequestedBlocksPerMinute; ++i) {
    Deliver(1, BlockMessage{chain.BlockAt(2)});
    now += seconds(7);
  }
  EXPECT_TRUE(sink.misbehaving.empty());
}

// ---- inventory, getdata ----

TEST_F(PeerLogicTest, InvOfUnknownTxGetsGetDataKnownGetsNothing) {
  Start();
  Connect(1);
  const Transaction known = MakeTx(1, Filler(1, 1));
  chain.mempool[known.Txid()] = known.Encode();
  const Uint256 unknown = Filler(2, 2);
  sink.sent.clear();
  Deliver(1, InvMessage{{{InvType::kTx, known.Txid()}, {InvType::kTx, unknown}}});
  auto getdata = sink.SentTo<GetDataMessage>(1);
  ASSERT_EQ(getdata.size(), 1u);
  EXPECT_EQ(getdata[0].entries, (std::vector<InvEntry>{{InvType::kTx, unknown}}));
  EXPECT_EQ(chain.have_items_calls, 1);
  // Announced again (by anyone) while requested: not asked twice.
  Connect(2);
  Deliver(1, InvMessage{{{InvType::kTx, unknown}}});
  Deliver(2, InvMessage{{{InvType::kTx, unknown}}});
  EXPECT_EQ(sink.SentTo<GetDataMessage>(1).size(), 1u);
  EXPECT_TRUE(sink.SentTo<GetDataMessage>(2).empty());
  // Only known entries: nothing sent.
  Deliver(2, InvMessage{{{InvType::kTx, known.Txid()}}});
  EXPECT_TRUE(sink.SentTo<GetDataMessage>(2).empty());
}

TEST_F(PeerLogicTest, AFailedTxRequestGoesToTheNextAnnouncer) {
  Start();
  for (PeerId peer : {1, 2, 3, 4}) Connect(peer);
  const Uint256 a = Filler(1, 1);
  const Uint256 b = Filler(2, 2);
  const Uint256 c = Filler(3, 3);
  for (PeerId peer : {1, 2, 3}) Deliver(peer, InvMessage{{{InvType::kTx, a}, {InvType::kTx, b}}});
  Deliver(4, InvMessage{{{InvType::kTx, c}}});
  Deliver(1, InvMessage{{{InvType::kTx, c}}});
  auto asked = [&](PeerId peer) {
    std::vector<Uint256> txids;
    for (const auto& getdata : sink.SentTo<GetDataMessage>(peer)) {
      for (const InvEntry& entry : getdata.entries) txids.push_back(entry.hash);
    }
    return txids;
  };
  ASSERT_EQ(asked(1), (std::vector<Uint256>{a, b}));
  ASSERT_TRUE(asked(2).empty());
  // notfound: the next announcer (peer 2) is asked for that one only.
  Deliver(1, NotFoundMessage{{{InvType::kTx, a}}});
  EXPECT_EQ(asked(2), std::vector<Uint256>{a});
  // Peer 1 goes: its remaining request (b) goes to peer 2 as well.
  logic->PeerDisconnected(1);
  EXPECT_EQ(asked(2), (std::vector<Uint256>{a, b}));
  // Timeout: peer 2's requests go to peer 3; c (asked of 4 first) times out with nobody left.
  now += kTxRequestTimeout + seconds(1);
  Tick();
  EXPECT_EQ(asked(3), (std::vector<Uint256>{a, b}));
  EXPECT_EQ(asked(4), std::vector<Uint256>{c});
  // Peer 3 fails too and nobody else announced them: nothing more is asked.
  now += kTxRequestTimeout + seconds(1);
  Tick();
  EXPECT_EQ(asked(3).size(), 2u);
  EXPECT_EQ(asked(4).size(), 1u);
  EXPECT_EQ(asked(2).size(), 2u);
}

TEST_F(PeerLogicTest, TxAnnouncementsAreIgnoredDuringInitialDownload) {
  chain.initial_download = true;
  Start();
  Connect(1);
  Deliver(1, InvMessage{{{InvType::kTx, Filler(1, 1)}}});
  EXPECT_TRUE(sink.SentTo<GetDataMessage>(1).empty());
  EXPECT_EQ(chain.have_items_calls, 0);
}

TEST_F(PeerLogicTest, TxRequestsPerPeerAreBounded) {
  Start();
  Connect(1);
  InvMessage inv;
  for (uint32_t n = 0; n < kMaxTxRequestsPerPeer + 50; ++n)
    inv.entries.push_back({InvType::kTx, Filler(n, 9)});
  Deliver(1, inv);
  const auto getdata = sink.SentTo<GetDataMessage>(1);
  ASSERT_EQ(getdata.size(), 1u);
  EXPECT_EQ(getdata[0].entries.size(), kMaxTxRequestsPerPeer);
  // An unanswered request is forgotten after the timeout, making room.
  now += kTxRequestTimeout + seconds(1);
  Tick();
  Deliver(1, InvMessage{{{InvType::kTx, Filler(1'000, 9)}}});
  EXPECT_EQ(sink.SentTo<GetDataMessage>(1).size(), 2u);
}

TEST_F(PeerLogicTest, InvOfUnknownBlockGetsGetHeaders) {
  chain.HaveUpTo(3);
  Start();
  Connect(1, /*inbound=*/true, 3);
  sink.sent.clear();
  Deliver(1, InvMessage{{{InvType::kBlock, chain.HashAt(2)}}});  // known
  EXPECT_TRUE(sink.SentTo<GetHeadersMessage>(1).empty());
  Deliver(1, InvMessage{{{InvType::kBlock, chain.HashAt(4)}}});
  EXPECT_EQ(sink.SentTo<GetHeadersMessage>(1).size(), 1u);
  EXPECT_TRUE(sink.SentTo<GetDataMessage>(1).empty());  // headers first
}

TEST_F(PeerLogicTest, InvOfUnknownBlocksWaitsForAnOutstandingGetHeaders) {
  Start();
  Connect(1);  // outbound: getheaders sent, no answer yet
  ASSERT_EQ(sink.SentTo<GetHeadersMessage>(1).size(), 1u);
  Deliver(1, InvMessage{{{InvType::kBlock, chain.HashAt(4)}}});
  EXPECT_EQ(sink.SentTo<GetHeadersMessage>(1).size(), 1u);
  now += kHeadersRequestTimeout;  // unanswered for that long: ask again
  Deliver(1, InvMessage{{{InvType::kBlock, chain.HashAt(4)}}});
  EXPECT_EQ(sink.SentTo<GetHeadersMessage>(1).size(), 2u);
  Deliver(1, Headers(1, 3));  // an answer: the next inv asks at once
  Deliver(1, InvMessage{{{InvType::kBlock, chain.HashAt(5)}}});
  EXPECT_EQ(sink.SentTo<GetHeadersMessage>(1).size(), 3u);
}

TEST_F(PeerLogicTest, GetDataIsServedWithNotFoundForTheMissing) {
  chain.HaveUpTo(5);
  const Transaction tx = MakeTx(1, Filler(1, 1));
  chain.mempool[tx.Txid()] = tx.Encode();
  Start();
  Connect(1, /*inbound=*/true, 5);
  sink.sent.clear();
  Deliver(1, GetDataMessage{{{InvType::kBlock, chain.HashAt(3)},
                             {InvType::kBlock, chain.HashAt(150)},
                             {InvType::kTx, tx.Txid()},
                             {InvType::kTx, Filler(7, 7)}}});
  const auto blocks = sink.SentTo<BlockMessage>(1);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(blocks[0].block, chain.BlockAt(3));
  const auto txs = sink.SentTo<TxMessage>(1);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(txs[0].tx, tx);
  std::vector<InvEntry> missing;
  for (const auto& notfound : sink.SentTo<NotFoundMessage>(1)) {
    missing.insert(missing.end(), notfound.entries.begin(), notfound.entries.end());
  }
  EXPECT_EQ(missing, (std::vector<InvEntry>{{InvType::kBlock, chain.HashAt(150)},
                                            {InvType::kTx, Filler(7, 7)}}));
}

TEST_F(PeerLogicTest, GetDataPausesOnAFullSendQueueAndResumes) {
  chain.HaveUpTo(5);
  Start();
  Connect(1, /*inbound=*/true, 5);
  sink.queued[1] = kSendQueuePauseBytes;
  Deliver(1,
          GetDataMessage{{{InvType::kBlock, chain.HashAt(1)}, {InvType::kBlock, chain.HashAt(2)}}});
  Tick();
  EXPECT_TRUE(sink.SentTo<BlockMessage>(1).empty());
  EXPECT_EQ(chain.block_data_calls, 0);
  sink.queued[1] = kSendQueuePauseBytes - 1;
  logic->SendSpaceAvailable(1, now);
  ASSERT_EQ(sink.SentTo<BlockMessage>(1).size(), 2u);
  EXPECT_EQ(sink.SentTo<BlockMessage>(1)[1].block, chain.BlockAt(2));
  EXPECT_EQ(chain.block_data_calls, 1);  // one call for the batch
}

TEST_F(PeerLogicTest, TooManyPendingGetDataEntriesAreMisbehaving) {
  Start();
  Connect(1, /*inbound=*/true);
  sink.queued[1] = kSendQueuePauseBytes;
  GetDataMessage getdata;
  for (uint32_t n = 0; n < kMaxPendingGetData; ++n)
    getdata.entries.push_back({InvType::kTx, Filler(n, 3)});
  Deliver(1, getdata);
  EXPECT_TRUE(sink.misbehaving.empty());
  Deliver(1, GetDataMessage{{{InvType::kTx, Filler(1, 4)}}});
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("getdata"), std::string::npos);
}

// ---- announcements ----

TEST_F(PeerLogicTest, BlockTipChangedAnnouncesWithHeadersOrInvButNotToTheSender) {
  chain.HaveUpTo(5);
  Start();
  Connect(1);
  Connect(2);
  Connect(3);
  Deliver(1, SendHeadersMessage{});
  Deliver(1, Headers(5, 5));  // peer 1 has block 6's parent
  Deliver(3, SendHeadersMessage{});
  Deliver(3, Headers(6, 6));
  Deliver(3, BlockMessage{chain.BlockAt(6)});
  Tick();
  ASSERT_EQ(chain.tip, 6u);
  sink.sent.clear();
  logic->BlockTipChanged(chain.network[6], 6, false);
  const auto headers = sink.SentTo<HeadersMessage>(1);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].headers, std::vector<BlockHeader>{chain.network[6]});
  const auto inv = sink.SentTo<InvMessage>(2);
  ASSERT_EQ(inv.size(), 1u);
  EXPECT_EQ(inv[0].entries, (std::vector<InvEntry>{{InvType::kBlock, chain.HashAt(6)}}));
  EXPECT_EQ(sink.CountTo(3), 0u);
  EXPECT_EQ(sink.sent.size(), 2u);
  // Announced once only.
  logic->BlockTipChanged(chain.network[6], 6, false);
  EXPECT_EQ(sink.sent.size(), 2u);
}

TEST_F(PeerLogicTest, BlockTipChangedUsesInvWhenThePeerMayLackTheParent) {
  chain.HaveUpTo(7);
  Start();
  Connect(1);
  Deliver(1, SendHeadersMessage{});
  sink.sent.clear();
  logic->BlockTipChanged(chain.network[6], 6, false);  // peer 1 is not known to have block 5
  EXPECT_TRUE(sink.SentTo<HeadersMessage>(1).empty());
  ASSERT_EQ(sink.SentTo<InvMessage>(1).size(), 1u);
  logic->BlockTipChanged(chain.network[7], 7, false);  // it was told of block 6: headers from now on
  const auto headers = sink.SentTo<HeadersMessage>(1);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].headers, std::vector<BlockHeader>{chain.network[7]});
}

TEST_F(PeerLogicTest, BlockTipChangedIsSilentDuringInitialDownload) {
  chain.HaveUpTo(5);
  Start();
  Connect(1);
  sink.sent.clear();
  logic->BlockTipChanged(chain.network[5], 5, true);
  EXPECT_TRUE(sink.sent.empty());
}

TEST_F(PeerLogicTest, TxRelayNeverGoesBackToTheAnnouncer) {
  Start();
  Connect(1);
  Connect(2);
  Connect(3);
  const Transaction tx = MakeTx(1, Filler(1, 1));
  Deliver(1, InvMessage{{{InvType::kTx, tx.Txid()}}});
  Deliver(1, TxMessage{tx});
  EXPECT_EQ(chain.processed_txs, std::vector<Uint256>{tx.Txid()});
  sink.sent.clear();
  logic->TransactionsAccepted({tx.Txid()});
  EXPECT_EQ(sink.CountTo(1), 0u);
  for (PeerId peer : {2, 3}) {
    const auto inv = sink.SentTo<InvMessage>(peer);
    ASSERT_EQ(inv.size(), 1u);
    EXPECT_EQ(inv[0].entries, (std::vector<InvEntry>{{InvType::kTx, tx.Txid()}}));
  }
  logic->TransactionsAccepted({tx.Txid()});  // known to everyone now
  EXPECT_EQ(sink.sent.size(), 2u);
}

// ---- transactions and orphans ----

TEST_F(PeerLogicTest, InvalidTxIsMisbehaving) {
  Start();
  Connect(1);
  const Transaction tx = MakeTx(1, Filler(1, 1));
  ipc::TxVerdict bad;
  bad.reason = "bad signature";
  bad.peerFault = true;
  chain.tx_verdicts[tx.Txid()] = bad;
  Deliver(1, TxMessage{tx});
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("bad signature"), std::string::npos);
}

TEST_F(PeerLogicTest, PolicyRefusalIsNotMisbehaving) {
  Start();
  Connect(1);
  const Transaction tx = MakeTx(1, Filler(1, 1));
  ipc::TxVerdict refused;
  refused.reason = "fee too low";
  chain.tx_verdicts[tx.Txid()] = refused;
  Deliver(1, TxMessage{tx});
  EXPECT_TRUE(sink.misbehaving.empty());
  EXPECT_EQ(logic->orphan_count(), 0u);
}

TEST_F(PeerLogicTest, UnrequestedTxFloodIsMisbehaving) {
  Start();
  Connect(1);
  for (uint32_t n = 0; n < kMaxUnrequestedTxPerMinute; ++n)
    Deliver(1, TxMessage{MakeTx(n, Filler(n, 1))});
  EXPECT_TRUE(sink.misbehaving.empty());
  Deliver(1, TxMessage{MakeTx(1'000, Filler(1, 1))});
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("unrequested transactions"), std::string::npos);
}

TEST_F(PeerLogicTest, OrphanIsKeptItsParentRequestedAndRetriedWhenTheParentIsAccepted) {
  Start();
  Connect(1);
  const Transaction parent = MakeTx(1, Filler(1, 1));
  const Transaction child = MakeTx(2, parent.Txid());
  ipc::TxVerdict orphan;
  orphan.reason = "missing inputs";
  orphan.missingParents = {Bytes(parent.Txid())};
  chain.tx_verdicts[child.Txid()] = orphan;
  sink.sent.clear();
  Deliver(1, TxMessage{child});
  EXPECT_EQ(logic->orphan_count(), 1u);
  const auto getdata = sink.SentTo<GetDataMessage>(1);
  ASSERT_EQ(getdata.size(), 1u);
  EXPECT_EQ(getdata[0].entries, (std::vector<InvEntry>{{InvType::kTx, parent.Txid()}}));
  // The same orphan again is not resubmitted.
  Deliver(1, TxMessage{child});
  EXPECT_EQ(chain.processed_txs.size(), 1u);
  // The parent arrives; the node accepts it and says so; the child is retried.
  Deliver(1, TxMessage{parent});
  chain.tx_verdicts.erase(child.Txid());
  logic->TransactionsAccepted({parent.Txid()});
  EXPECT_EQ(chain.processed_txs, (std::vector<Uint256>{child.Txid(), parent.Txid(), child.Txid()}));
  EXPECT_EQ(logic->orphan_count(), 0u);
  EXPECT_TRUE(chain.mempool.contains(child.Txid()));
  EXPECT_TRUE(sink.misbehaving.empty());
}

TEST_F(PeerLogicTest, OrphansAreBoundedExpireAndGoWithTheirPeer) {
  options.max_orphans = 3;
  Start();
  Connect(1);
  Connect(2);
  auto send_orphan = [&](PeerId peer, uint32_t n) {
    const Transaction tx = MakeTx(n, Filler(n, 5));
    ipc::TxVerdict orphan;
    orphan.missingParents = {Bytes(Filler(n, 5))};
    chain.tx_verdicts[tx.Txid()] = orphan;
    Deliver(peer, TxMessage{tx});
  };
  for (uint32_t n = 0; n < 5; ++n) send_orphan(1, n);
  EXPECT_EQ(logic->orphan_count(), 3u);  // the two oldest were evicted
  now += options.orphan_expiry;
  send_orphan(2, 10);  // evicts one more old orphan
  Tick();
  EXPECT_EQ(logic->orphan_count(), 3u);  // the old ones are exactly at the expiry: kept
  now += seconds(1);
  Tick();
  EXPECT_EQ(logic->orphan_count(), 1u);  // the two old ones expired
  logic->PeerDisconnected(2);
  EXPECT_EQ(logic->orphan_count(), 0u);
}

TEST_F(PeerLogicTest, FeeFilterAndSendHeadersAreRecordedAndOtherMessagesIgnored) {
  Start();
  Connect(1);
  Deliver(1, FeeFilterMessage{1'000});
  Deliver(1, PingMessage{1});
  Deliver(1, AddrMessage{});
  EXPECT_TRUE(sink.misbehaving.empty());
}

TEST_F(PeerLogicTest, MessagesFromUnknownPeersAreIgnored) {
  Start();
  Deliver(9, Headers(1, 3));
  Deliver(9, GetDataMessage{{{InvType::kBlock, chain.HashAt(0)}}});
  logic->PeerDisconnected(9);
  Tick();
  EXPECT_TRUE(sink.sent.empty());
  EXPECT_EQ(chain.process_headers_calls, 0);
}

// Two nodes, each with its own PeerLogic, fake node and fake manager, their messages carried
// through the wire encoding: B (empty, connecting out) syncs A's 2,100 blocks headers first,
// then learns A's next block from A's announcement.
// ---- blocks handed to the node through a BlockSubmitter ----

// A BlockSubmitter the test drives: calls wait until RunOldest runs one on the test's thread
// (which plays the message thread) and hands its outcome back at once.
class ManualSubmitter final : public BlockSubmitter {
 public:
  ManualSubmitter(ipc::NetChain& chain, std::size_t capacity) : m_chain(chain), m_capacity(capacity) {}
  std::size_t capacity() const override { return m_capacity; }
  void Submit(std::vector<std::vector<uint8_t>> blocks, Done done) override {
    pending.push_back({std::move(blocks), std::move(done)});
  }
  // Runs the oldest call: the chain answers, or `error` stands for a call that threw.
  void RunOldest(std::exception_ptr error = nullptr) {
    ASSERT_FALSE(pending.empty());
    Call call = std::move(pending.front());
    pending.pop_front();
    if (error) {
      call.done({}, error);
      return;
    }
    call.done(m_chain.processBlocks(call.blocks), nullptr);
  }

  struct Call {
    std::vector<std::vector<uint8_t>> blocks;
    Done done;
  };
  std::deque<Call> pending;

 private:
  ipc::NetChain& m_chain;
  const std::size_t m_capacity;
};

class PeerLogicSubmitterTest : public PeerLogicTest {
 protected:
  void StartWithSubmitter() { logic = std::make_unique<PeerLogic>(options, sink, chain, log, &submitter); }
  // A block of the network chain padded with a transaction of 9,000 inputs (about 900 KB;
  // FakeChain judges headers only).
  Block BigBlockAt(uint32_t height) const {
    Block block = chain.BlockAt(height);
    Transaction padding = MakeTx(height, Filler(height, 0x7a));
    padding.inputs.resize(9'000, padding.inputs[0]);
    block.transactions.push_back(padding);
    return block;
  }

  ManualSubmitter submitter{chain, 2};
};

TEST_F(PeerLogicSubmitterTest, TheNextBatchGoesToTheNodeWhileItWorksOnOne) {
  ASSERT_EQ(kMaxBlocksPerNodeCall, 64u);
  options.max_blocks_in_flight_per_peer = 64;
  StartWithSubmitter();
  Connect(1);
  Deliver(1, Headers(1, 200));
  Tick();
  ASSERT_EQ(RequestedBlocks(sink, 1), Hashes(1, 64));
  auto deliver = [&](uint32_t from, uint32_t to) {
    for (uint32_t h = from; h <= to; ++h) Deliver(1, BlockMessage{chain.BlockAt(h)});
    Tick();
  };
  deliver(1, 64);
  // Handed over without waiting for the node; the freed slots are asked again at once, and the
  // blocks with the node are not asked for twice.
  ASSERT_EQ(submitter.pending.size(), 1u);
  EXPECT_TRUE(chain.process_blocks_batches.empty());
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 128));
  // While a call is under way, a second goes only with a full batch.
  deliver(65, 96);
  EXPECT_EQ(submitter.pending.size(), 1u);
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 160));  // half the slots free: a new round
  deliver(97, 128);
  ASSERT_EQ(submitter.pending.size(), 2u);
  EXPECT_EQ(submitter.pending[1].blocks.size(), 64u);
  // Both slots taken: what arrives now waits.
  deliver(129, 192);
  EXPECT_EQ(submitter.pending.size(), 2u);
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 200));
  // An answer frees a slot: the waiting blocks go at once.
  submitter.RunOldest();
  EXPECT_EQ(chain.tip, 64u);
  ASSERT_EQ(submitter.pending.size(), 2u);
  submitter.RunOldest();
  submitter.RunOldest();
  EXPECT_EQ(chain.tip, 192u);
  deliver(193, 200);
  ASSERT_EQ(submitter.pending.size(), 1u);  // nothing under way: a short batch goes too
  submitter.RunOldest();
  EXPECT_EQ(chain.tip, 200u);
  EXPECT_EQ(chain.process_blocks_batches, (std::vector<std::size_t>{64, 64, 64, 8}));
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 200));  // no block asked twice
  EXPECT_TRUE(sink.misbehaving.empty());
}

TEST_F(PeerLogicTest, AtMostABatchOfBlocksGoesToTheNodeInOneCall) {
  options.max_blocks_in_flight_per_peer = 100;
  Start();
  Connect(1);
  Deliver(1, Headers(1, 200));
  Tick();
  for (uint32_t h = 1; h <= 100; ++h) Deliver(1, BlockMessage{chain.BlockAt(h)});
  Tick();
  EXPECT_EQ(chain.process_blocks_batches, (std::vector<std::size_t>{kMaxBlocksPerNodeCall, 100 - kMaxBlocksPerNodeCall}));
  EXPECT_EQ(chain.tip, 100u);
}

TEST_F(PeerLogicSubmitterTest, AFaultFoundByTheNodeLaterIsStillPunished) {
  StartWithSubmitter();
  DeliverBlocksOneAndABadTwo();
  EXPECT_TRUE(sink.misbehaving.empty());  // the node has not answered yet
  submitter.RunOldest();
  ASSERT_TRUE(sink.misbehaving.contains(1));
  EXPECT_NE(sink.misbehaving[1].find("bad merkle root"), std::string::npos);
  EXPECT_EQ(chain.tip, 1u);
}

TEST_F(PeerLogicSubmitterTest, AnAnswerForAPeerGoneMeanwhileIsApplied) {
  StartWithSubmitter();
  Connect(1);
  Deliver(1, Headers(1, 40));
  Tick();
  chain.bad_blocks.insert(chain.HashAt(1));
  Deliver(1, BlockMessage{chain.BlockAt(1)});
  Tick();
  logic->PeerDisconnected(1);
  Connect(2);
  Deliver(2, Headers(1, 40));
  submitter.RunOldest();  // the sender is gone: nothing to punish, nothing breaks
  EXPECT_TRUE(sink.misbehaving.empty());
  Tick();
  // The block was refused: it is needed again and goes to the peer left.
  EXPECT_EQ(RequestedBlocks(sink, 2), Hashes(1, 16));
}

TEST_F(PeerLogicSubmitterTest, AnErrorFromTheNodeReachesTheMessageThread) {
  StartWithSubmitter();
  Connect(1);
  Deliver(1, Headers(1, 40));
  Tick();
  Deliver(1, BlockMessage{chain.BlockAt(1)});
  Tick();
  EXPECT_THROW(submitter.RunOldest(std::make_exception_ptr(std::runtime_error("node gone"))),
               std::runtime_error);
}

TEST_F(PeerLogicSubmitterTest, BlocksWaitingForTheNodeBoundWhatIsRequested) {
  options.max_blocks_in_flight_per_peer = 20;
  StartWithSubmitter();
  Connect(1);
  Deliver(1, Headers(1, 100));
  Tick();
  ASSERT_EQ(RequestedBlocks(sink, 1), Hashes(1, 20));
  // 20 blocks of 900 KB go to the node, 20 more arrive while it works: past
  // kMaxPendingBlockBytes together.
  for (uint32_t h = 1; h <= 20; ++h) Deliver(1, BlockMessage{BigBlockAt(h)});
  Tick();
  ASSERT_EQ(submitter.pending.size(), 1u);
  ASSERT_EQ(RequestedBlocks(sink, 1), Hashes(1, 40));
  for (uint32_t h = 21; h <= 40; ++h) Deliver(1, BlockMessage{BigBlockAt(h)});
  Tick();
  ASSERT_EQ(submitter.pending.size(), 2u);
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 40));  // no more requests
  now += seconds(2);
  Tick();
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 40));
  // The node answers: requests resume.
  submitter.RunOldest();
  Tick();
  EXPECT_EQ(RequestedBlocks(sink, 1), Hashes(1, 60));
  while (!submitter.pending.empty()) submitter.RunOldest();
  EXPECT_EQ(chain.tip, 40u);
}

TEST(PeerLogicTwoNodesTest, HeadersFirstSyncThenANewBlockIsAnnouncedAndFetched) {
  constexpr uint32_t kLength = 2'101;
  FakeChain chain_a(kLength);
  FakeChain chain_b(kLength);
  chain_a.HaveUpTo(kLength - 1);
  FakeSink sink_a;
  FakeSink sink_b;
  Logger log;
  PeerLogic a(PeerLogicOptions{}, sink_a, chain_a, log);
  PeerLogic b(PeerLogicOptions{}, sink_b, chain_b, log);
  constexpr PeerId kAtoB = 7;  // how A names B
  constexpr PeerId kBtoA = 3;  // how B names A
  microseconds now = seconds(1'000'000);
  PeerConnected a_info;  // what B learns about A
  a_info.version.best_height = kLength - 1;
  PeerConnected b_info;  // what A learns about B
  b_info.inbound = true;
  b.PeerConnected(kBtoA, a_info, now);
  a.PeerConnected(kAtoB, b_info, now);
  std::size_t a_done = 0;
  std::size_t b_done = 0;
  std::map<std::string, int> b_sent_commands;
  // Carries what each side sent since the last call to the other side, then ticks both.
  auto exchange = [&]() {
    const std::size_t a_end = sink_a.sent.size();
    const std::size_t b_end = sink_b.sent.size();
    for (; b_done < b_end; ++b_done) {
      const Message& message = sink_b.sent[b_done].second;
      ++b_sent_commands[std::string(CommandOf(message))];
      DecodedMessage decoded = DecodeMessage(CommandOf(message), EncodePayload(message));
      ASSERT_EQ(decoded.status, DecodedMessage::Status::kOk) << decoded.error;
      a.ProcessMessage(kAtoB, std::move(*decoded.message), now);
    }
    for (; a_done < a_end; ++a_done) {
      const Message& message = sink_a.sent[a_done].second;
      DecodedMessage decoded = DecodeMessage(CommandOf(message), EncodePayload(message));
      ASSERT_EQ(decoded.status, DecodedMessage::Status::kOk) << decoded.error;
      b.ProcessMessage(kBtoA, std::move(*decoded.message), now);
    }
    now += milliseconds(100);
    a.OnTick(now);
    b.OnTick(now);
  };
  for (int round = 0; round < 1'000 && chain_b.tip < kLength - 1; ++round) {
    exchange();
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_EQ(chain_b.tip, kLength - 1);
  // Headers came in two messages (2,000, then 100), asked for twice.
  EXPECT_EQ(b_sent_commands["getheaders"], 2);
  EXPECT_EQ(chain_b.process_headers_calls, 2);
  EXPECT_EQ(b.SyncStats().at(kBtoA).synced_headers, kLength - 1);
  EXPECT_EQ(b.SyncStats().at(kBtoA).blocks_in_flight, 0u);
  // Batches: at most 16 blocks per processBlocks call, one call per round.
  EXPECT_LE(*std::max_element(chain_b.process_blocks_batches.begin(),
                              chain_b.process_blocks_batches.end()),
            16u);
  // A mines the next block and announces it; B fetches it.
  chain_a.HaveUpTo(kLength);
  a.BlockTipChanged(chain_a.network[kLength], kLength, chain_a.initial_download);
  for (int round = 0; round < 10 && chain_b.tip < kLength; ++round) {
    exchange();
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_EQ(chain_b.tip, kLength);
  EXPECT_EQ(b_sent_commands["getheaders"], 2);  // the announcement was a header: no getheaders
  EXPECT_TRUE(sink_a.misbehaving.empty());
  EXPECT_TRUE(sink_b.misbehaving.empty());
  EXPECT_TRUE(sink_a.disconnected.empty());
  EXPECT_TRUE(sink_b.disconnected.empty());
}

// Fixed-seed runs of random peers, messages and clock steps (valid and invalid headers, blocks
// asked for or not, notfound, inv, getdata, transactions, disconnects). Throughout: nothing is
// sent to a peer that is not connected, no peer has more blocks in flight than the limit. After
// the noise, with the noisy peers gone, one honest peer must bring the node to the network's tip.
TEST(PeerLogicRandomTest, InvariantsHoldAndAnHonestPeerStillSyncsTheNode) {
  constexpr uint32_t kLength = 120;
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    FakeChain chain(kLength);
    FakeSink sink;
    Logger log;
    PeerLogicOptions options;
    options.max_blocks_in_flight_per_peer = 4;
    options.download_window = 16;
    options.max_orphans = 5;
    PeerLogic logic(options, sink, chain, log);
    std::mt19937 rng(seed);
    auto pick = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
    microseconds now = seconds(1'000'000);
    std::set<PeerId> connected;
    PeerId next_peer = 1;
    std::size_t checked = 0;
    auto random_peer = [&]() -> std::optional<PeerId> {
      if (connected.empty()) return std::nullopt;
      auto it = connected.begin();
      std::advance(it, pick(static_cast<uint32_t>(connected.size())));
      return *it;
    };
    auto check = [&]() {
      for (; checked < sink.sent.size(); ++checked) {
        ASSERT_TRUE(connected.contains(sink.sent[checked].first))
            << "sent to peer " << sink.sent[checked].first;
      }
      for (const auto& [peer, stats] : logic.SyncStats()) {
        ASSERT_TRUE(connected.contains(peer));
        ASSERT_LE(stats.blocks_in_flight, options.max_blocks_in_flight_per_peer);
      }
    };
    for (int step = 0; step < 400; ++step) {
      const uint32_t action = pick(11);
      const std::optional<PeerId> peer = random_peer();
      if (action == 0 || !peer) {
        if (connected.size() < 4) {
          connected.insert(next_peer);
          PeerConnected info;
          info.inbound = pick(2) == 0;
          info.version.best_height = pick(kLength);
          logic.PeerConnected(next_peer++, info, now);
        }
      } else if (action == 1) {
        logic.PeerDisconnected(*peer);
        connected.erase(*peer);
        sink.misbehaving.erase(*peer);
        sink.disconnected.erase(*peer);
      } else if (action == 2) {
        const uint32_t from = 1 + pick(kLength);
        const uint32_t to = std::min(kLength, from + pick(30));
        HeadersMessage headers;
        for (uint32_t h = from; h <= to; ++h) headers.headers.push_back(chain.network[h]);
        if (pick(10) == 0) headers.headers.back().bits = kBadBits;
        logic.ProcessMessage(*peer, headers, now);
      } else if (action == 3) {
        // Mostly a block it was asked for, sometimes any block.
        std::vector<Uint256> asked = RequestedBlocks(sink, *peer);
        const uint32_t height =
            !asked.empty() && pick(4) != 0
                ? chain.height_of.at(asked[pick(static_cast<uint32_t>(asked.size()))])
                : 1 + pick(kLength);
        logic.ProcessMessage(*peer, BlockMessage{chain.BlockAt(height)}, now);
      } else if (action == 4) {
        logic.ProcessMessage(
            *peer, NotFoundMessage{{{InvType::kBlock, chain.HashAt(1 + pick(kLength))}}}, now);
      } else if (action == 5) {
        logic.ProcessMessage(
            *peer,
            InvMessage{{{pick(2) == 0 ? InvType::kTx : InvType::kBlock,
                         pick(2) == 0 ? chain.HashAt(pick(kLength + 1)) : Filler(pick(50), 6)}}},
            now);
      } else if (action == 6) {
        logic.ProcessMessage(
            *peer, GetDataMessage{{{InvType::kBlock, chain.HashAt(pick(kLength + 1))}}}, now);
      } else if (action == 7 || action == 8) {
        now += milliseconds(pick(action == 7 ? 5'000 : 100'000));
        logic.OnTick(now);
      } else if (action == 9) {
        const Transaction tx = MakeTx(pick(40), Filler(pick(40), 8));
        if (pick(2) == 0) {
          ipc::TxVerdict orphan;
          orphan.missingParents = {Bytes(tx.inputs[0].prevout.txid)};
          chain.tx_verdicts[tx.Txid()] = orphan;
        }
        logic.ProcessMessage(*peer, TxMessage{tx}, now);
      } else {
        logic.TransactionsAccepted({Filler(pick(40), 8)});
        logic.BlockTipChanged(chain.network[chain.tip], chain.tip, chain.initial_download);
      }
      // The manager closes what the logic asked it to close.
      for (const auto& drops : {sink.misbehaving, sink.disconnected}) {
        for (const auto& [dropped, reason] : drops) {
          if (connected.erase(dropped) > 0) logic.PeerDisconnected(dropped);
        }
      }
      check();
      if (HasFatalFailure()) return;
    }
    // The noise ends; one honest peer that has every block.
    for (const PeerId peer : std::set<PeerId>(connected)) logic.PeerDisconnected(peer);
    connected.clear();
    sink.misbehaving.clear();
    sink.disconnected.clear();
    const PeerId honest = next_peer;
    connected.insert(honest);
    PeerConnected info;
    logic.PeerConnected(honest, info, now);
    HeadersMessage headers;
    for (uint32_t h = 1; h <= kLength; ++h) headers.headers.push_back(chain.network[h]);
    logic.ProcessMessage(honest, headers, now);
    std::size_t answered = sink.sent.size();
    for (int round = 0; round < 200 && chain.tip < kLength; ++round) {
      now += milliseconds(100);
      logic.OnTick(now);
      const std::size_t end = sink.sent.size();
      for (std::size_t i = answered; i < end; ++i) {
        if (sink.sent[i].first != honest) continue;
        if (const auto* getdata = std::get_if<GetDataMessage>(&sink.sent[i].second)) {
          for (const InvEntry& entry : getdata->entries) {
            if (entry.type == InvType::kBlock) {
              logic.ProcessMessage(
                  honest, BlockMessage{chain.BlockAt(chain.height_of.at(entry.hash))}, now);
            }
          }
        }
      }
      answered = end;
      check();
      if (HasFatalFailure()) return;
    }
    EXPECT_EQ(chain.tip, kLength);
    EXPECT_TRUE(sink.misbehaving.empty());
    EXPECT_TRUE(sink.disconnected.empty());
  }
}

}  // namespace
}  // namespace minicoin::net
