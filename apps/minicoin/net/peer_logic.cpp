// PeerLogic: headers-first sync, block download, relay and misbehaviour.
#include "net/peer_logic.h"

#include "primitives/serialize.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <random>
#include <type_traits>
#include <utility>

namespace minicoin::net {
namespace {

using std::chrono::microseconds;

constexpr microseconds kOneMinute = std::chrono::minutes(1);
// Without a reason to schedule (a new header, a block, a freed request), downloads and the stall
// rule are looked at this often while blocks are in flight or a peer is ahead.
constexpr microseconds kScheduleInterval = std::chrono::seconds(1);
// Blocks remembered per peer as delivered by another peer first.
constexpr std::size_t kMaxRecentlyCancelled = 64;
// Blocks remembered per peer as answered with notfound.
constexpr std::size_t kMaxNotFound = 1'024;

bool Holds(const std::deque<Uint256>& hashes, const Uint256& hash) {
  return std::find(hashes.begin(), hashes.end(), hash) != hashes.end();
}

std::optional<BlockHeader> DecodeHeader(const std::vector<uint8_t>& bytes) {
  try {
    return BlockHeader::Decode(bytes);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

long long Id(PeerId peer) { return static_cast<long long>(peer); }

}  // namespace

void PeerLogic::KnownInventory::Insert(const Uint256& hash) {
  const uint64_t key = Key(hash);
  if (!m_set.insert(key).second) return;
  m_order.push_back(key);
  if (m_order.size() > kMaxKnownInventory) {
    m_set.erase(m_order.front());
    m_order.pop_front();
  }
}

uint64_t PeerLogic::KnownInventory::Key(const Uint256& hash) const {
  uint64_t value = 0;
  std::memcpy(&value, hash.data(), sizeof(value));
  // splitmix64 of the salted value: the bucket a hash lands in is not predictable.
  value += m_salt + 0x9e3779b97f4a7c15ULL;
  value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
  value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

PeerLogic::PeerLogic(PeerLogicOptions options, PeerSink& sink, ipc::NetChain& chain, Logger& log,
                     BlockSubmitter* submitter)
    : m_options(options),
      m_sink(sink),
      m_chain(chain),
      m_log(log),
      m_salt(std::random_device{}() | (uint64_t{std::random_device{}()} << 32)),
      m_submitter(submitter),
      m_orphans(options.max_orphans, options.max_orphan_tx_bytes, options.orphan_expiry) {}

PeerLogic::PeerState* PeerLogic::Find(PeerId peer) {
  const auto it = m_peers.find(peer);
  return it == m_peers.end() ? nullptr : &it->second;
}

void PeerLogic::PeerConnected(PeerId peer, const net::PeerConnected& info, microseconds now) {
  m_now = now;
  if (!m_peers.try_emplace(peer, m_salt ^ static_cast<uint64_t>(peer)).second) {
    m_log.Warning("net: peer=%lld connected twice; ignored", Id(peer));
    return;
  }
  m_sink.Send(peer, SendHeadersMessage{});
  m_status = m_chain.getStatus();
  const bool ask = !info.inbound || m_status.initialDownload ||
                   info.version.best_height > m_status.bestHeaderHeight;
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld connected (%s, %s, height %u)%s",
                     Id(peer), info.address.c_str(), info.inbound ? "inbound" : "outbound",
                     info.version.best_height, ask ? "; asking for headers" : "");
  if (ask) SendGetHeaders(peer);
}

void PeerLogic::PeerDisconnected(PeerId peer) {
  const auto it = m_peers.find(peer);
  if (it == m_peers.end()) return;
  ReleaseWork(peer, it->second);
  const std::size_t orphans = m_orphans.EraseFrom(peer);
  // Blocks it sent this round are still processed (their verdicts skip the missing peer).
  m_peers.erase(it);
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld gone (%zu orphans dropped)", Id(peer),
                     orphans);
}

void PeerLogic::ProcessMessage(PeerId peer, Message message, microseconds now) {
  m_now = now;
  PeerState* state = Find(peer);
  if (state == nullptr || state->disconnecting) return;
  std::visit(
      [&](auto& typed) {
        using T = std::decay_t<decltype(typed)>;
        if constexpr (std::is_same_v<T, HeadersMessage>) {
          OnHeaders(peer, *state, typed);
        } else if constexpr (std::is_same_v<T, BlockMessage>) {
          OnBlock(peer, *state, typed, now);
        } else if constexpr (std::is_same_v<T, InvMessage>) {
          OnInv(peer, *state, typed, now);
        } else if constexpr (std::is_same_v<T, GetDataMessage>) {
          OnGetData(peer, *state, typed, now);
        } else if constexpr (std::is_same_v<T, NotFoundMessage>) {
          OnNotFound(peer, *state, typed);
        } else if constexpr (std::is_same_v<T, GetHeadersMessage>) {
          OnGetHeaders(peer, *state, typed);
        } else if constexpr (std::is_same_v<T, TxMessage>) {
          OnTx(peer, *state, typed, now);
        } else if constexpr (std::is_same_v<T, SendHeadersMessage>) {
          state->send_headers = true;
        } else if constexpr (std::is_same_v<T, FeeFilterMessage>) {
          state->fee_filter = typed.fee_rate;
        }
        // version, verack, ping, pong, getaddr and addr belong to the manager.
      },
      message);
}

void PeerLogic::SendSpaceAvailable(PeerId peer, microseconds now) {
  m_now = now;
  PeerState* state = Find(peer);
  if (state != nullptr && !state->disconnecting) ServePendingGetData(peer, *state);
}

void PeerLogic::OnTick(microseconds now) {
  m_now = now;
  ExpireRequests(now);
  // The next requests go out before the node validates what has arrived, so that the peers send
  // the next blocks while it works.
  if (!m_received_blocks.empty()) {
    // (With a submitter the call does not block: the requests go out below.)
    if (m_submitter == nullptr) ScheduleDownloads(now);
    ProcessReceivedBlocks();
  }
  const std::size_t expired = m_orphans.Expire(now);
  if (expired > 0) {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "%zu orphan transactions expired", expired);
  }
  for (auto& [peer, state] : m_peers) {
    if (!state.disconnecting && !state.pending_getdata.empty()) ServePendingGetData(peer, state);
  }
  // Something changed, and a peer that can serve blocks has room for a batch of requests (half
  // its slots: requests go out in batches, not one by one as blocks arrive).
  bool worth_looking = m_download_dirty && RoomForBlockRequests();
  if (!worth_looking && now - m_last_schedule >= kScheduleInterval) {
    worth_looking = !m_blocks_in_flight.empty();
    for (const auto& [peer, state] : m_peers) {
      if (state.best_height > static_cast<int64_t>(m_status.tipHeight)) worth_looking = true;
    }
  }
  if (worth_looking) ScheduleDownloads(now);
}

// ---- headers ----

void PeerLogic::SendGetHeaders(PeerId peer) {
  if (PeerState* state = Find(peer)) state->headers_asked = m_now;
  GetHeadersMessage message;
  for (const auto& bytes : m_chain.getLocator()) {
    if (message.locator.size() == kMaxLocatorHashes) break;
    if (auto hash = Uint256::FromBytes(bytes)) message.locator.push_back(*hash);
  }
  m_sink.Send(peer, message);
}

void PeerLogic::OnHeaders(PeerId peer, PeerState& state, const HeadersMessage& message) {
  state.headers_asked.reset();
  if (message.headers.empty()) return;
  if (message.headers.size() > kMaxHeadersEntries) {
    Punish(peer, "headers message with " + std::to_string(message.headers.size()) + " headers");
    return;
  }
  std::vector<std::vector<uint8_t>> encoded;
  encoded.reserve(message.headers.size());
  Uint256 previous_hash;
  for (std::size_t i = 0; i < message.headers.size(); ++i) {
    const BlockHeader& header = message.headers[i];
    if (i > 0 && header.previous != previous_hash) {
      Punish(peer, "non-continuous headers (header " + std::to_string(i) + " of " +
                       std::to_string(message.headers.size()) + ")");
      return;
    }
    previous_hash = header.Hash();
    state.known.Insert(previous_hash);
    encoded.push_back(header.Encode());
  }
  const ipc::HeadersVerdict verdict = m_chain.processHeaders(encoded);
  if (verdict.peerFault) {
    Punish(peer, "invalid headers: " + verdict.error);
    return;
  }
  if (!verdict.connects) {
    ++state.non_connecting_headers;
    if (state.non_connecting_headers > kMaxNonConnectingHeaders) {
      Punish(peer, std::to_string(state.non_connecting_headers) +
                       " headers messages in a row that do not connect");
      return;
    }
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet,
                       "peer=%lld headers do not connect (%d in a row); asking for headers",
                       Id(peer), state.non_connecting_headers);
    SendGetHeaders(peer);
    return;
  }
  state.non_connecting_headers = 0;
  if (!verdict.error.empty()) {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld headers: %s", Id(peer),
                       verdict.error.c_str());
  }
  const std::optional<Uint256> last = Uint256::FromBytes(verdict.lastHash);
  if (last && static_cast<int64_t>(verdict.lastHeight) > state.best_height) {
    state.best_hash = *last;
    state.best_height = verdict.lastHeight;
  }
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld sent %zu headers, best height %lld",
                     Id(peer), message.headers.size(), static_cast<long long>(state.best_height));
  if (last && message.headers.size() == kMaxHeadersEntries) {
    // A full message: the peer probably has more after its last.
    GetHeadersMessage more;
    more.locator.push_back(*last);
    state.headers_asked = m_now;
    m_sink.Send(peer, more);
  }
  m_download_dirty = true;
}

void PeerLogic::OnGetHeaders(PeerId peer, PeerState& state, const GetHeadersMessage& message) {
  if (message.locator.size() > kMaxLocatorHashes) {
    Punish(peer, "getheaders with " + std::to_string(message.locator.size()) + " locator hashes");
    return;
  }
  // Answered even while the node is catching up: its headers are the best it has, and in a
  // small network the node holding the blocks may itself count as catching up (an old tip);
  // refusing would leave its peers nothing to sync from.
  std::vector<std::vector<uint8_t>> locator;
  locator.reserve(message.locator.size());
  for (const Uint256& hash : message.locator) locator.push_back(hash.ToBytes());
  const std::vector<uint8_t> stop = message.stop.IsZero() ? std::vector<uint8_t>{}
                                                          : message.stop.ToBytes();
  HeadersMessage answer;
  for (const auto& bytes : m_chain.findHeaders(locator, stop)) {
    if (answer.headers.size() == kMaxHeadersEntries) break;
    const std::optional<BlockHeader> header = DecodeHeader(bytes);
    if (!header) {
      m_log.Error("net: the node returned a malformed header for getheaders");
      break;
    }
    answer.headers.push_back(*header);
  }
  if (!answer.headers.empty()) state.known.Insert(answer.headers.back().Hash());
  m_sink.Send(peer, answer);
}

// ---- blocks ----

void PeerLogic::OnBlock(PeerId peer, PeerState& state, const BlockMessage& message,
                        microseconds now) {
  const Uint256 hash = message.block.header.Hash();
  state.known.Insert(hash);
  bool requested = state.blocks_in_flight.contains(hash);
  if (requested) {
    state.stalling = false;
    // Every request for it is settled; a copy still coming from a peer asked in parallel is
    // dropped when it arrives.
    const auto it = m_blocks_in_flight.find(hash);
    if (it != m_blocks_in_flight.end()) {
      const std::vector<BlockRequest> requests = it->second;
      for (const BlockRequest& request : requests) {
        CancelBlockRequest(hash, request.peer);
        if (request.peer == peer) continue;
        if (PeerState* other = Find(request.peer)) {
          other->recently_cancelled.push_back(hash);
          if (other->recently_cancelled.size() > kMaxRecentlyCancelled) {
            other->recently_cancelled.pop_front();
          }
        }
      }
    }
  } else {
    const auto late =
        std::find(state.recently_cancelled.begin(), state.recently_cancelled.end(), hash);
    if (late != state.recently_cancelled.end()) {
      state.recently_cancelled.erase(late);
      return;  // a copy of a block another peer delivered first: already handed on
    }
    if (!WithinRate(state.unrequested_blocks, kMaxUnrequestedBlocksPerMinute, now)) {
      Punish(peer, "more than " + std::to_string(kMaxUnrequestedBlocksPerMinute) +
                       " unrequested blocks in a minute");
      return;
    }
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld sent unrequested block %s", Id(peer),
                       hash.ToHex().c_str());
  }
  std::vector<uint8_t> data = message.block.Encode();
  m_received_bytes += data.size();
  m_received_blocks.push_back({peer, hash, requested, std::move(data)});
  if (m_received_bytes >= kMaxPendingBlockBytes) ProcessReceivedBlocks();
}

void PeerLogic::ProcessReceivedBlocks() {
  while (!m_received_blocks.empty()) {
    const bool full_batch = m_received_blocks.size() >= kMaxBlocksPerNodeCall ||
                            m_received_bytes >= kMaxBlockBytesPerNodeCall;
    if (m_submitter != nullptr) {
      if (m_batches_at_node >= std::max<std::size_t>(m_submitter->capacity(), 1)) return;
      // The node is busy: another call goes with a full batch only (smaller ones would leave it
      // little to prepare while it connects the first).
      if (m_batches_at_node > 0 && !full_batch) return;
    }
    // The oldest blocks, up to a batch.
    std::size_t count = 0;
    std::size_t bytes = 0;
    while (count < m_received_blocks.size() && count < kMaxBlocksPerNodeCall &&
           (count == 0 || bytes + m_received_blocks[count].data.size() <= kMaxBlockBytesPerNodeCall)) {
      bytes += m_received_blocks[count].data.size();
      ++count;
    }
    std::vector<ReceivedBlock> received(std::make_move_iterator(m_received_blocks.begin()),
                                        std::make_move_iterator(m_received_blocks.begin() + static_cast<std::ptrdiff_t>(count)));
    m_received_blocks.erase(m_received_blocks.begin(), m_received_blocks.begin() + static_cast<std::ptrdiff_t>(count));
    m_received_bytes -= bytes;
    std::vector<std::vector<uint8_t>> blocks;
    blocks.reserve(received.size());
    for (ReceivedBlock& block : received) blocks.push_back(std::move(block.data));
    if (m_submitter == nullptr) {
      const std::vector<ipc::BlockVerdict> verdicts = m_chain.processBlocks(blocks);
      m_download_dirty = true;
      ApplyBlockVerdicts(received, verdicts);
      continue;
    }
    ++m_batches_at_node;
    m_bytes_at_node += bytes;
    for (const ReceivedBlock& block : received) m_blocks_at_node.insert(block.hash);
    m_submitter->Submit(std::move(blocks), [this, received = std::move(received), bytes](
                                               std::vector<ipc::BlockVerdict> verdicts,
                                               std::exception_ptr error) mutable {
      BatchDone(std::move(received), bytes, std::move(verdicts), error);
    });
  }
}

void PeerLogic::BatchDone(std::vector<ReceivedBlock> received, std::size_t bytes,
                          std::vector<ipc::BlockVerdict> verdicts, std::exception_ptr error) {
  --m_batches_at_node;
  m_bytes_at_node -= bytes;
  for (const ReceivedBlock& block : received) {
    m_blocks_at_node.erase(m_blocks_at_node.find(block.hash));
  }
  m_download_dirty = true;
  if (error) std::rethrow_exception(error);  // as a call on this thread would have
  ApplyBlockVerdicts(received, verdicts);
  ProcessReceivedBlocks();
}

void PeerLogic::ApplyBlockVerdicts(const std::vector<ReceivedBlock>& received,
                                   const std::vector<ipc::BlockVerdict>& verdicts) {
  if (verdicts.size() != received.size()) {
    m_log.Error("net: the node returned %zu verdicts for %zu blocks", verdicts.size(),
                received.size());
    return;
  }
  for (std::size_t i = 0; i < verdicts.size(); ++i) {
    const ipc::BlockVerdict& verdict = verdicts[i];
    const ReceivedBlock& block = received[i];
    if (verdict.peerFault) {
      if (PeerState* state = Find(block.peer); state != nullptr && !state->disconnecting) {
        Punish(block.peer, "invalid block " + block.hash.ToHex() + ": " + verdict.reason);
      }
      continue;
    }
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld block %s %s%s", Id(block.peer),
                       block.hash.ToHex().c_str(),
                       verdict.accepted ? "accepted" : "refused: ", verdict.reason.c_str());
  }
}

void PeerLogic::CancelBlockRequest(const Uint256& hash, PeerId peer) {
  const auto it = m_blocks_in_flight.find(hash);
  if (it != m_blocks_in_flight.end()) {
    std::erase_if(it->second, [&](const BlockRequest& request) { return request.peer == peer; });
    if (it->second.empty()) m_blocks_in_flight.erase(it);
  }
  if (PeerState* state = Find(peer)) {
    state->blocks_in_flight.erase(hash);
    // A stalling peer whose requests are all gone (others delivered them) may be asked again.
    if (state->blocks_in_flight.empty()) state->stalling = false;
  }
  m_download_dirty = true;
}

bool PeerLogic::CanServeBlocks(const PeerState& state, int64_t tip_height) {
  return !state.disconnecting && !state.stalling && state.best_hash &&
         state.best_height > tip_height;
}

bool PeerLogic::RoomForBlockRequests() const {
  const std::size_t max = m_options.max_blocks_in_flight_per_peer;
  const std::size_t batch = std::max<std::size_t>(1, max / 2);
  const auto tip_height = static_cast<int64_t>(m_status.tipHeight);
  for (const auto& [peer, state] : m_peers) {
    if (CanServeBlocks(state, tip_height) && state.blocks_in_flight.size() + batch <= max) return true;
  }
  return false;
}

void PeerLogic::ScheduleDownloads(microseconds now) {
  m_download_dirty = false;
  m_last_schedule = now;
  // The blocks waiting for the node or with it hold enough memory: more are asked for once it
  // answers (which marks the download dirty again).
  if (m_received_bytes + m_bytes_at_node >= kMaxPendingBlockBytes) return;
  // The tip as of the node's last notification or answer; asked again at most once a schedule
  // interval (a round trip to the node's process each time). A stale height only makes a peer
  // look ahead for a while: the node's answer below is always current.
  if (!m_status_asked || now - *m_status_asked >= kScheduleInterval) {
    m_status = m_chain.getStatus();
    m_status_asked = now;
  }
  const int64_t tip_height = m_status.tipHeight;
  // One getBlocksToDownload per distinct peer best header, as long as this pass can use: the
  // hashes it filters out (in flight, received, announced as not found) plus a full set of
  // requests for every peer. Asking for the whole window each time made the node look up a
  // thousand blocks per tick.
  std::size_t filtered = m_blocks_in_flight.size() + m_received_blocks.size() + m_blocks_at_node.size();
  std::size_t not_found = 0;
  for (const auto& [peer, state] : m_peers) not_found = std::max(not_found, state.not_found.size());
  const std::size_t wanted = std::min<std::size_t>(
      m_options.download_window, filtered + not_found + m_peers.size() * m_options.max_blocks_in_flight_per_peer);
  // Received and not yet answered by the node (waiting for a call or in one): the node does not
  // count them as stored yet.
  std::set<Uint256> waiting(m_blocks_at_node.begin(), m_blocks_at_node.end());
  for (const ReceivedBlock& block : m_received_blocks) waiting.insert(block.hash);
  std::map<Uint256, std::vector<Uint256>> lists;
  for (auto& entry : m_peers) {
    const PeerId peer = entry.first;  // named, not bound: the lambdas below capture them
    PeerState& state = entry.second;
    if (!CanServeBlocks(state, tip_height) ||
        state.blocks_in_flight.size() >= m_options.max_blocks_in_flight_per_peer) {
      continue;
    }
    auto list_it = lists.find(*state.best_hash);
    if (list_it == lists.end()) {
      std::vector<Uint256> hashes;
      for (const auto& bytes :
           m_chain.getBlocksToDownload((*state.best_hash).ToBytes(), static_cast<uint32_t>(wanted))) {
        if (auto hash = Uint256::FromBytes(bytes)) hashes.push_back(*hash);
      }
      list_it = lists.emplace(*state.best_hash, std::move(hashes)).first;
    }
    std::vector<Uint256> list = list_it->second;
    if (!waiting.empty()) {
      std::erase_if(list, [&](const Uint256& hash) { return waiting.contains(hash); });
    }
    if (!state.not_found.empty()) {
      std::erase_if(list, [&](const Uint256& hash) { return Holds(state.not_found, hash); });
    }
    if (list.empty()) continue;
    std::size_t slots = m_options.max_blocks_in_flight_per_peer - state.blocks_in_flight.size();
    GetDataMessage getdata;
    auto request = [&](const Uint256& hash) {
      getdata.entries.push_back({InvType::kBlock, hash});
      m_blocks_in_flight[hash].push_back({peer, now});
      state.blocks_in_flight.insert(hash);
      --slots;
    };
    // The stall rule: the lowest block we need, held by one other peer for too long.
    const auto first = m_blocks_in_flight.find(list.front());
    if (first != m_blocks_in_flight.end() && first->second.size() == 1 &&
        first->second.front().peer != peer &&
        now - first->second.front().requested > m_options.block_stall_timeout) {
      const PeerId staller = first->second.front().peer;
      if (PeerState* slow = Find(staller)) slow->stalling = true;
      m_log.Info("net: peer=%lld stalls the block download at %s; asking peer=%lld too",
                 Id(staller), list.front().ToHex().c_str(), Id(peer));
      request(list.front());
    }
    for (const Uint256& hash : list) {
      if (slots == 0) break;
      if (!m_blocks_in_flight.contains(hash)) request(hash);
    }
    if (!getdata.entries.empty()) {
      MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld requesting %zu blocks", Id(peer),
                         getdata.entries.size());
      m_sink.Send(peer, getdata);
    }
  }
}

void PeerLogic::ExpireRequests(microseconds now) {
  std::set<PeerId> slow;
  for (const auto& [hash, requests] : m_blocks_in_flight) {
    for (const BlockRequest& request : requests) {
      if (now - request.requested > m_options.block_download_timeout) slow.insert(request.peer);
    }
  }
  for (const PeerId peer : slow) {
    DropPeer(peer, "block download timed out (no block within " +
                       std::to_string(m_options.block_download_timeout.count()) + " s)");
  }
  std::vector<std::pair<Uint256, TxRequest>> failed;
  for (auto it = m_txs_in_flight.begin(); it != m_txs_in_flight.end();) {
    if (now - it->second.requested > kTxRequestTimeout) {
      if (PeerState* state = Find(it->second.peer)) state->txs_in_flight.erase(it->first);
      failed.emplace_back(it->first, std::move(it->second));
      it = m_txs_in_flight.erase(it);
    } else {
      ++it;
    }
  }
  RetryTransactions(failed, now);
}

// ---- inventory and data ----

void PeerLogic::OnInv(PeerId peer, PeerState& state, const InvMessage& message, microseconds now) {
  if (message.entries.size() > kMaxInvEntries) {
    Punish(peer, "inv with " + std::to_string(message.entries.size()) + " entries");
    return;
  }
  std::vector<ipc::InvItem> items;
  std::vector<const InvEntry*> asked;
  for (const InvEntry& entry : message.entries) {
    state.known.Insert(entry.hash);
    // While catching up the node cannot judge transactions: their announcements are ignored.
    if (entry.type == InvType::kTx && m_status.initialDownload) continue;
    if (entry.type == InvType::kTx) {
      const auto request = m_txs_in_flight.find(entry.hash);
      if (request != m_txs_in_flight.end()) {
        std::vector<PeerId>& alternates = request->second.alternates;
        if (request->second.peer != peer && alternates.size() < kMaxTxAnnouncers &&
            std::find(alternates.begin(), alternates.end(), peer) == alternates.end()) {
          alternates.push_back(peer);
        }
        continue;
      }
    }
    if (entry.type == InvType::kTx && m_orphans.Contains(entry.hash)) continue;
    items.push_back({static_cast<uint32_t>(entry.type), entry.hash.ToBytes()});
    asked.push_back(&entry);
  }
  if (items.empty()) return;
  const std::vector<bool> have = m_chain.haveItems(items);
  if (have.size() != items.size()) {
    m_log.Error("net: the node answered %zu of %zu inventory items", have.size(), items.size());
    return;
  }
  bool unknown_block = false;
  std::vector<Uint256> wanted_txs;
  for (std::size_t i = 0; i < asked.size(); ++i) {
    if (have[i]) continue;
    if (asked[i]->type == InvType::kBlock) {
      unknown_block = true;
    } else {
      wanted_txs.push_back(asked[i]->hash);
    }
  }
  // Headers first: the headers lead to the block download.
  // One getheaders at a time: the answer to an outstanding one will hold these blocks too.
  if (unknown_block &&
      (!state.headers_asked || now - *state.headers_asked >= kHeadersRequestTimeout)) {
    SendGetHeaders(peer);
  }
  RequestTransactions(peer, state, wanted_txs, now);
}

void PeerLogic::RequestTransactions(PeerId peer, PeerState& state,
                                    const std::vector<Uint256>& txids, microseconds now) {
  GetDataMessage getdata;
  for (const Uint256& txid : txids) {
    if (state.txs_in_flight.size() >= kMaxTxRequestsPerPeer) break;
    if (m_txs_in_flight.contains(txid)) continue;
    m_txs_in_flight.emplace(txid, TxRequest{peer, now, {}});
    state.txs_in_flight.insert(txid);
    getdata.entries.push_back({InvType::kTx, txid});
  }
  if (!getdata.entries.empty()) m_sink.Send(peer, getdata);
}

void PeerLogic::RetryTransactions(const std::vector<std::pair<Uint256, TxRequest>>& failed,
                                  microseconds now) {
  std::map<PeerId, GetDataMessage> getdata;
  for (const auto& [txid, request] : failed) {
    if (m_txs_in_flight.contains(txid)) continue;  // asked again meanwhile
    for (std::size_t i = 0; i < request.alternates.size(); ++i) {
      const PeerId next = request.alternates[i];
      PeerState* state = Find(next);
      if (next == request.peer || state == nullptr || state->disconnecting ||
          state->txs_in_flight.size() >= kMaxTxRequestsPerPeer) {
        continue;
      }
      TxRequest retry{next, now, {}};
      retry.alternates.assign(request.alternates.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                              request.alternates.end());
      m_txs_in_flight.emplace(txid, std::move(retry));
      state->txs_in_flight.insert(txid);
      getdata[next].entries.push_back({InvType::kTx, txid});
      break;
    }
  }
  for (const auto& [peer, message] : getdata) {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet,
                       "peer=%lld asked for %zu transactions another peer did not deliver",
                       Id(peer), message.entries.size());
    m_sink.Send(peer, message);
  }
}

void PeerLogic::OnGetData(PeerId peer, PeerState& state, const GetDataMessage& message,
                          microseconds now) {
  (void)now;
  if (state.pending_getdata.size() + message.entries.size() > kMaxPendingGetData) {
    Punish(peer, "more than " + std::to_string(kMaxPendingGetData) + " getdata entries pending");
    return;
  }
  state.pending_getdata.insert(state.pending_getdata.end(), message.entries.begin(),
                               message.entries.end());
  ServePendingGetData(peer, state);
}

void PeerLogic::ServePendingGetData(PeerId peer, PeerState& state) {
  while (!state.pending_getdata.empty() && !state.disconnecting &&
         m_sink.QueuedSendBytes(peer) < kSendQueuePauseBytes) {
    // A run of entries of one type, served with one chain call.
    const InvType type = state.pending_getdata.front().type;
    const std::size_t limit = type == InvType::kBlock ? kGetDataBlockBatch : kGetDataTxBatch;
    std::vector<Uint256> hashes;
    while (!state.pending_getdata.empty() && hashes.size() < limit &&
           state.pending_getdata.front().type == type) {
      hashes.push_back(state.pending_getdata.front().hash);
      state.pending_getdata.pop_front();
    }
    std::vector<std::vector<uint8_t>> request;
    request.reserve(hashes.size());
    for (const Uint256& hash : hashes) request.push_back(hash.ToBytes());
    const std::vector<std::vector<uint8_t>> found = type == InvType::kBlock
                                                        ? m_chain.getBlockData(request)
                                                        : m_chain.getTransactionData(request);
    NotFoundMessage notfound;
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      if (i >= found.size() || found[i].empty()) {
        notfound.entries.push_back({type, hashes[i]});
        continue;
      }
      try {
        if (type == InvType::kBlock) {
          m_sink.Send(peer, BlockMessage{Block::Decode(found[i])});
        } else {
          m_sink.Send(peer, TxMessage{Transaction::Decode(found[i])});
        }
        state.known.Insert(hashes[i]);
      } catch (const std::exception& error) {
        m_log.Error("net: the node returned undecodable data for %s: %s", hashes[i].ToHex().c_str(),
                    error.what());
        notfound.entries.push_back({type, hashes[i]});
      }
    }
    if (!notfound.entries.empty()) m_sink.Send(peer, notfound);
  }
}

void PeerLogic::OnNotFound(PeerId peer, PeerState& state, const NotFoundMessage& message) {
  std::vector<std::pair<Uint256, TxRequest>> failed;
  for (const InvEntry& entry : message.entries) {
    if (entry.type == InvType::kBlock) {
      if (state.blocks_in_flight.contains(entry.hash)) {
        CancelBlockRequest(entry.hash, peer);
        state.not_found.push_back(entry.hash);
        if (state.not_found.size() > kMaxNotFound) state.not_found.pop_front();
        MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld does not have block %s", Id(peer),
                           entry.hash.ToHex().c_str());
      }
    } else if (state.txs_in_flight.erase(entry.hash) > 0) {
      const auto request = m_txs_in_flight.find(entry.hash);
      if (request != m_txs_in_flight.end()) {
        failed.emplace_back(request->first, std::move(request->second));
        m_txs_in_flight.erase(request);
      }
    }
  }
  RetryTransactions(failed, m_now);
}

// ---- transactions ----

void PeerLogic::OnTx(PeerId peer, PeerState& state, const TxMessage& message, microseconds now) {
  const Uint256 txid = message.tx.Txid();
  state.known.Insert(txid);
  if (state.txs_in_flight.erase(txid) > 0) {
    m_txs_in_flight.erase(txid);
  } else if (!WithinRate(state.unrequested_txs, kMaxUnrequestedTxPerMinute, now)) {
    Punish(peer, "more than " + std::to_string(kMaxUnrequestedTxPerMinute) +
                     " unrequested transactions in a minute");
    return;
  }
  if (m_orphans.Contains(txid)) return;
  SubmitTransaction(peer, txid, message.tx.Encode(), now);
}

void PeerLogic::SubmitTransaction(PeerId from, const Uint256& txid, std::vector<uint8_t> data,
                                  microseconds now) {
  const ipc::TxVerdict verdict = m_chain.processTransaction(data);
  PeerState* state = Find(from);
  const bool connected = state != nullptr && !state->disconnecting;
  if (verdict.accepted) {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld tx %s accepted", Id(from),
                       txid.ToHex().c_str());
    return;
  }
  if (verdict.peerFault) {
    if (connected) Punish(from, "invalid transaction " + txid.ToHex() + ": " + verdict.reason);
    return;
  }
  if (verdict.missingParents.empty()) {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld tx %s refused: %s", Id(from),
                       txid.ToHex().c_str(), verdict.reason.c_str());
    return;
  }
  std::vector<Uint256> parents;
  for (const auto& bytes : verdict.missingParents) {
    if (parents.size() == kMaxTransactionInputs) break;
    if (auto parent = Uint256::FromBytes(bytes)) parents.push_back(*parent);
  }
  if (parents.empty() || !connected) return;
  if (!m_orphans.Add({txid, std::move(data), parents, from, now})) {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "peer=%lld orphan tx %s not kept", Id(from),
                       txid.ToHex().c_str());
    return;
  }
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet,
                     "peer=%lld orphan tx %s kept (%zu parents missing, %zu orphans)", Id(from),
                     txid.ToHex().c_str(), parents.size(), m_orphans.size());
  std::vector<Uint256> wanted;
  for (const Uint256& parent : parents) {
    if (!m_orphans.Contains(parent)) wanted.push_back(parent);
  }
  RequestTransactions(from, *state, wanted, now);
}

void PeerLogic::TransactionsAccepted(const std::vector<Uint256>& txids) {
  for (OrphanTx& child : m_orphans.TakeChildrenOf(txids)) {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "retrying orphan tx %s",
                       child.txid.ToHex().c_str());
    SubmitTransaction(child.from, child.txid, std::move(child.data), m_now);
  }
  for (auto& [peer, state] : m_peers) {
    if (state.disconnecting) continue;
    InvMessage inv;
    for (const Uint256& txid : txids) {
      if (state.known.Contains(txid)) continue;
      state.known.Insert(txid);
      inv.entries.push_back({InvType::kTx, txid});
      if (inv.entries.size() == kMaxInvEntries) {
        m_sink.Send(peer, inv);
        inv.entries.clear();
      }
    }
    if (!inv.entries.empty()) m_sink.Send(peer, inv);
  }
}

void PeerLogic::BlockTipChanged(const BlockHeader& header, uint32_t height, bool initial_download) {
  const Uint256 hash = header.Hash();
  // Notifications trail the chain: one older than the status last read moves nothing.
  if (height >= m_status.tipHeight) {
    m_status.tipHash = hash.ToBytes();
    m_status.tipHeight = height;
  }
  m_status.initialDownload = m_status.initialDownload && initial_download;  // the node's latch
  if (initial_download) return;
  std::size_t announced = 0;
  for (auto& [peer, state] : m_peers) {
    if (state.disconnecting || state.known.Contains(hash)) continue;
    state.known.Insert(hash);
    // A header whose parent the peer may lack would not connect there; an inv makes the peer
    // ask for the headers it is missing instead.
    if (state.send_headers && state.known.Contains(header.previous)) {
      m_sink.Send(peer, HeadersMessage{{header}});
    } else {
      m_sink.Send(peer, InvMessage{{{InvType::kBlock, hash}}});
    }
    ++announced;
  }
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "new tip %s at height %u announced to %zu peers",
                     hash.ToHex().c_str(), height, announced);
}

// ---- peers ----

bool PeerLogic::WithinRate(std::deque<microseconds>& times, std::size_t limit, microseconds now) {
  while (!times.empty() && now - times.front() >= kOneMinute) times.pop_front();
  times.push_back(now);
  return times.size() <= limit;
}

void PeerLogic::Punish(PeerId peer, const std::string& reason) {
  PeerState* state = Find(peer);
  if (state == nullptr || state->disconnecting) return;
  m_log.Info("net: peer=%lld misbehaving: %s", Id(peer), reason.c_str());
  state->disconnecting = true;
  ReleaseWork(peer, *state);
  m_sink.Misbehaving(peer, reason);
}

void PeerLogic::DropPeer(PeerId peer, const std::string& reason) {
  PeerState* state = Find(peer);
  if (state == nullptr || state->disconnecting) return;
  m_log.Info("net: peer=%lld disconnected: %s", Id(peer), reason.c_str());
  state->disconnecting = true;
  ReleaseWork(peer, *state);
  m_sink.Disconnect(peer, reason);
}

void PeerLogic::ReleaseWork(PeerId peer, PeerState& state) {
  const std::set<Uint256> blocks = state.blocks_in_flight;
  for (const Uint256& hash : blocks) CancelBlockRequest(hash, peer);
  std::vector<std::pair<Uint256, TxRequest>> failed;
  for (const Uint256& txid : state.txs_in_flight) {
    const auto request = m_txs_in_flight.find(txid);
    if (request == m_txs_in_flight.end()) continue;
    failed.emplace_back(request->first, std::move(request->second));
    m_txs_in_flight.erase(request);
  }
  state.txs_in_flight.clear();
  RetryTransactions(failed, m_now);
  state.pending_getdata.clear();
}

std::map<PeerId, PeerLogic::PeerSyncStats> PeerLogic::SyncStats() {
  // Tip notifications arrive behind the chain (and at most one a second during initial
  // download): the figures asked for now use the tip of now.
  try {
    m_status = m_chain.getStatus();
  } catch (const std::exception& e) {
    m_log.Warning("net: cannot read the chain's status: %s", e.what());
  }
  std::map<PeerId, PeerSyncStats> stats;
  for (const auto& [peer, state] : m_peers) {
    PeerSyncStats& entry = stats[peer];
    entry.synced_headers = state.best_height;
    entry.synced_blocks =
        state.best_height < 0 ? -1 : std::min<int64_t>(state.best_height, m_status.tipHeight);
    entry.blocks_in_flight = static_cast<uint32_t>(state.blocks_in_flight.size());
  }
  return stats;
}

}  // namespace minicoin::net
