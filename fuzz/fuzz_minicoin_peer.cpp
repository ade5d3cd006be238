// Fuzz target: a peer's messages through minicoin's peer state machines and into a real node.
//
// A regtest node (a NodeRuntime on a temporary directory) is made once; its NodeNetChain serves a
// PeerLogic, as in minicoind. Each input is a script of operations over up to four peers, each
// with a PeerSession as the connection manager keeps one:
//   connect a peer (inbound or outbound), disconnect it, deliver a message (a command chosen by
//   the input and a payload from the input, decoded strictly; what the session delivers goes to
//   the logic), let time pass (OnTick), announce the node's tip, signal send space, announce
//   accepted transactions.
// Whatever the script:
// - every message the logic or a session sends encodes, and decodes back to itself;
// - no peer has more blocks in flight than the logic's per-peer limit;
// - a peer the logic disconnects or punishes gets no further input (as the manager closes it);
// - the node stays queryable and its tip is a block it stored.
// Anything else aborts: an exception, a sanitizer report, a broken invariant.
//
// CROSSPROC_FUZZ_WRITE_SEEDS=<dir> writes seed scripts there (a handshake, headers and blocks of
// a short valid chain, transactions, getdata and getheaders) and exits.
#include "chain/params.h"
#include "chain/test_util.h"
#include "net/peer_logic.h"
#include "net/peer_session.h"
#include "net/protocol.h"
#include "minicoin_node_harness.h"
#include "node/net_chain.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace minicoin;
using namespace minicoin::net;
using std::chrono::microseconds;

constexpr std::size_t kPeers = 4;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_minicoin_peer: %s\n", what.c_str());
  std::abort();
}

// Every command the logic or a session handles, by index.
constexpr std::array<std::string_view, 15> kCommands = {
    VersionMessage::kCommand,   VerackMessage::kCommand,  PingMessage::kCommand,
    PongMessage::kCommand,      GetAddrMessage::kCommand, AddrMessage::kCommand,
    InvMessage::kCommand,       GetDataMessage::kCommand, NotFoundMessage::kCommand,
    GetHeadersMessage::kCommand, HeadersMessage::kCommand, BlockMessage::kCommand,
    TxMessage::kCommand,        SendHeadersMessage::kCommand, FeeFilterMessage::kCommand};

void CheckEncodes(const Message& message) {
  std::vector<uint8_t> payload = EncodePayload(message);
  DecodedMessage decoded = DecodeMessage(CommandOf(message), payload);
  if (decoded.status != DecodedMessage::Status::kOk || !decoded.message || *decoded.message != message) {
    Fail("a sent '" + std::string(CommandOf(message)) + "' does not decode back to itself: " + decoded.error);
  }
}

// What the connection manager would do with the logic's output.
class Sink final : public PeerSink {
 public:
  void Send(PeerId, const Message& message) override { CheckEncodes(message); }
  void Disconnect(PeerId peer, const std::string&) override { closed.push_back(peer); }
  void Misbehaving(PeerId peer, const std::string&) override { closed.push_back(peer); }
  std::size_t QueuedSendBytes(PeerId) const override { return queued; }
  std::vector<PeerId> closed;
  std::size_t queued = 0;
};

struct Harness {
  fuzz::NodeHarness node;
  std::unique_ptr<NodeNetChain> chain;
};

Harness& GetHarness() {
  static Harness* harness = [] {
    auto* h = new Harness;
    fuzz::StartNode(h->node, "fuzz_minicoin_peer", {"-disablewallet", "-noconnect", "-listen=0"});
    h->chain = std::make_unique<NodeNetChain>(h->node.runtime->node());
    return h;
  }();
  return *harness;
}

// Reads the script.
class Script {
 public:
  Script(const uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}
  bool done() const { return m_pos >= m_size; }
  uint8_t Byte() { return m_pos < m_size ? m_data[m_pos++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Byte() | (Byte() << 8)); }
  std::vector<uint8_t> Bytes(std::size_t n) {
    n = std::min(n, m_size - std::min(m_pos, m_size));
    std::vector<uint8_t> out(m_data + m_pos, m_data + m_pos + n);
    m_pos += n;
    return out;
  }

 private:
  const uint8_t* m_data;
  std::size_t m_size;
  std::size_t m_pos = 0;
};

VersionMessage OurVersion(uint64_t nonce) {
  VersionMessage version;
  version.services = kServiceNetwork;
  version.nonce = nonce;
  version.user_agent = "/fuzz:0.1/";
  return version;
}

void Drain(PeerSession& session) {
  for (const Message& message : session.TakeOutgoing()) CheckEncodes(message);
}

}  // namespace

// Seeds: scripts a fuzzer would take long to find (a valid chain's headers and blocks).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("CROSSPROC_FUZZ_WRITE_SEEDS");
  if (dir == nullptr) return 0;
  const ChainParams& params = ChainParams::Get(ChainType::kRegtest);
  std::vector<Block> blocks;
  const XOnlyPublicKey payee = PrivateKey::Derive(std::vector<uint8_t>{'f', 'u', 'z', 'z'}, 0).PublicKey();
  Uint256 previous = params.GenesisHash();
  uint32_t time = params.genesis.header.time;
  for (uint32_t height = 1; height <= 3; ++height) {
    blocks.push_back(test::MakeBlock(previous, height, ++time, payee));
    previous = blocks.back().header.Hash();
  }
  auto message = [](uint8_t peer, std::size_t command, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> out{2, peer, static_cast<uint8_t>(command), static_cast<uint8_t>(payload.size() & 0xff),
                             static_cast<uint8_t>(payload.size() >> 8)};
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
  };
  auto index_of = [](std::string_view command) {
    for (std::size_t i = 0; i < kCommands.size(); ++i) {
      if (kCommands[i] == command) return i;
    }
    return std::size_t{0};
  };
  // Connect peer 0 (inbound), its version and verack, then the chain's headers and blocks.
  std::vector<uint8_t> script{0, 0, 1};
  auto append = [&script](const std::vector<uint8_t>& bytes) { script.insert(script.end(), bytes.begin(), bytes.end()); };
  VersionMessage version = OurVersion(42);
  version.best_height = 3;
  append(message(0, index_of(VersionMessage::kCommand), version.Encode()));
  append(message(0, index_of(VerackMessage::kCommand), {}));
  std::vector<std::vector<uint8_t>> seeds;
  seeds.push_back(script);
  HeadersMessage headers;
  for (const Block& block : blocks) headers.headers.push_back(block.header);
  append(message(0, index_of(HeadersMessage::kCommand), headers.Encode()));
  append({3, 10});  // tick
  seeds.push_back(script);
  for (const Block& block : blocks) append(message(0, index_of(BlockMessage::kCommand), block.Encode()));
  append({3, 10, 4});  // tick, announce the tip
  seeds.push_back(script);
  GetHeadersMessage getheaders;
  getheaders.locator = {params.GenesisHash()};
  append(message(0, index_of(GetHeadersMessage::kCommand), getheaders.Encode()));
  GetDataMessage getdata;
  getdata.entries = {InvEntry{InvType::kBlock, blocks[0].header.Hash()}, InvEntry{InvType::kTx, Uint256{}}};
  append(message(0, index_of(GetDataMessage::kCommand), getdata.Encode()));
  InvMessage inv;
  inv.entries = {InvEntry{InvType::kTx, blocks[1].transactions[0].Txid()}};
  append(message(0, index_of(InvMessage::kCommand), inv.Encode()));
  seeds.push_back(script);
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    std::ofstream out(std::string(dir) + "/seed" + std::to_string(i), std::ios::binary);
    out.write(reinterpret_cast<const char*>(seeds[i].data()), static_cast<std::streamsize>(seeds[i].size()));
  }
  std::exit(0);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  Harness& harness = GetHarness();
  Sink sink;
  PeerLogicOptions options;
  PeerLogic logic(options, sink, *harness.chain, harness.node.log);
  std::array<std::unique_ptr<PeerSession>, kPeers> sessions;
  std::array<bool, kPeers> connected{};  // passed to PeerConnected
  microseconds now{1'000'000'000};
  uint64_t next_nonce = 1;

  auto close = [&](std::size_t slot) {
    if (connected[slot]) logic.PeerDisconnected(static_cast<PeerId>(slot));
    connected[slot] = false;
    sessions[slot].reset();
  };
  auto apply_closes = [&] {
    for (PeerId peer : sink.closed) {
      if (peer >= 0 && static_cast<std::size_t>(peer) < kPeers) close(static_cast<std::size_t>(peer));
    }
    sink.closed.clear();
  };

  Script script(data, size);
  for (int steps = 0; !script.done() && steps < 64; ++steps) {
    const uint8_t op = script.Byte() % 7;
    const std::size_t slot = script.Byte() % kPeers;
    switch (op) {
      case 0: {  // connect
        close(slot);
        const bool inbound = (script.Byte() & 1) != 0;
        const uint64_t nonce = next_nonce++;
        sessions[slot] = std::make_unique<PeerSession>(
            inbound ? PeerSession::Direction::kInbound : PeerSession::Direction::kOutbound, OurVersion(nonce),
            [nonce](uint64_t n) { return n == nonce; }, PeerSession::PingNonceSource{}, now);
        Drain(*sessions[slot]);
        break;
      }
      case 1:  // disconnect
        close(slot);
        break;
      case 2: {  // a message
        const std::string command(kCommands[script.Byte() % kCommands.size()]);
        const std::vector<uint8_t> payload = script.Bytes(script.U16());
        if (!sessions[slot]) break;
        DecodedMessage decoded = DecodeMessage(command, payload);
        if (decoded.status != DecodedMessage::Status::kOk) break;  // the manager bans: covered elsewhere
        std::optional<Message> delivered = sessions[slot]->OnMessage(std::move(*decoded.message), now);
        Drain(*sessions[slot]);
        if (sessions[slot]->Disconnect()) {
          close(slot);
          break;
        }
        if (!connected[slot] && sessions[slot]->HandshakeComplete()) {
          PeerConnected info;
          info.address = "127.0.0." + std::to_string(slot + 2) + ":19444";
          info.inbound = sessions[slot]->GetDirection() == PeerSession::Direction::kInbound;
          info.version = *sessions[slot]->PeerVersion();
          connected[slot] = true;
          logic.PeerConnected(static_cast<PeerId>(slot), info, now);
          apply_closes();
        }
        if (delivered && connected[slot] && !std::holds_alternative<GetAddrMessage>(*delivered) &&
            !std::holds_alternative<AddrMessage>(*delivered)) {
          logic.ProcessMessage(static_cast<PeerId>(slot), std::move(*delivered), now);
          apply_closes();
        }
        break;
      }
      case 3: {  // time passes
        now += microseconds(static_cast<int64_t>(script.Byte()) * 100'000);
        for (std::size_t i = 0; i < kPeers; ++i) {
          if (!sessions[i]) continue;
          sessions[i]->OnTick(now);
          Drain(*sessions[i]);
          if (sessions[i]->Disconnect()) close(i);
        }
        logic.OnTick(now);
        apply_closes();
        break;
      }
      case 4: {  // the node's tip, announced
        Node& node = harness.node.runtime->node();
        const BlockIndex& tip = node.chain().Tip();
        logic.BlockTipChanged(tip.header, tip.height, node.IsInitialBlockDownload());
        apply_closes();
        break;
      }
      case 5:  // send queue full or drained
        sink.queued = (script.Byte() & 1) != 0 ? kSendQueuePauseBytes : 0;
        if (sink.queued == 0 && connected[slot]) logic.SendSpaceAvailable(static_cast<PeerId>(slot), now);
        apply_closes();
        break;
      case 6: {  // transactions accepted
        std::vector<uint8_t> bytes = script.Bytes(32);
        bytes.resize(32);
        logic.TransactionsAccepted({*Uint256::FromBytes(bytes)});
        apply_closes();
        break;
      }
    }
    for (const auto& [peer, stats] : logic.SyncStats()) {
      if (stats.blocks_in_flight > options.max_blocks_in_flight_per_peer) Fail("too many blocks in flight");
      if (peer < 0 || static_cast<std::size_t>(peer) >= kPeers || !connected[static_cast<std::size_t>(peer)]) {
        Fail("the logic keeps state for a peer that is not connected");
      }
    }
  }
  for (std::size_t i = 0; i < kPeers; ++i) close(i);
  if (!logic.SyncStats().empty()) Fail("state left after every peer disconnected");
  const BlockIndex& tip = harness.node.runtime->node().chain().Tip();
  if ((harness.node.runtime->node().chain().StatusOf(tip) & BlockIndex::kHaveData) == 0) Fail("the tip has no data");
  return 0;
}
