// PeerLogic: minicoin's protocol decisions above the connection manager: headers-first sync,
// block download with a stall rule, transaction and block relay, and misbehaviour.
#pragma once

#include "common/logging.h"
#include "net.crossproc.h"
#include "net/block_submitter.h"
#include "net/orphan_pool.h"
#include "net/peer_handler.h"
#include "net/protocol.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace minicoin::net {

// Tunables of PeerLogic. Value type.
struct PeerLogicOptions {
  // The block holding up the download window (the lowest one still needed), in flight longer
  // than this from one peer while another peer could serve it: it is requested from that other
  // peer too, and the slow peer gets no new block requests until it delivers one.
  std::chrono::seconds block_stall_timeout{2};
  // A block request older than this: the peer is disconnected and its requests go to others.
  std::chrono::seconds block_download_timeout{60};
  std::size_t max_blocks_in_flight_per_peer = 16;
  // Passed as `max` to NetChain::getBlocksToDownload.
  uint32_t download_window = 1024;
  // Orphan transactions kept (count and encoded bytes) and how long.
  std::size_t max_orphans = 100;
  std::size_t max_orphan_tx_bytes = 100'000;
  std::chrono::minutes orphan_expiry{20};
};

// Transaction requests in flight to one peer; inv entries past this are ignored.
inline constexpr std::size_t kMaxTxRequestsPerPeer = 100;
// A transaction request unanswered this long is forgotten (another peer may be asked).
inline constexpr std::chrono::seconds kTxRequestTimeout{60};
// Peers remembered per requested transaction as having announced it too (asked in turn if the
// request fails).
inline constexpr std::size_t kMaxTxAnnouncers = 8;
// Entries remembered per peer as known to it (announced by it, sent to it or announced to it);
// the oldest are forgotten first.
inline constexpr std::size_t kMaxKnownInventory = 50'000;
// getdata entries waiting to be served to one peer; a peer asking for more is misbehaving.
inline constexpr std::size_t kMaxPendingGetData = 50'000;
// An inv of an unknown block is answered with getheaders unless one was sent to that peer less
// than this long ago and is still unanswered.
inline constexpr std::chrono::seconds kHeadersRequestTimeout{2 * 60};
// Consecutive headers messages that do not connect to our headers before the peer is
// misbehaving.
inline constexpr int kMaxNonConnectingHeaders = 8;
// Unrequested blocks and transactions accepted from one peer within a minute; more is a flood.
inline constexpr std::size_t kMaxUnrequestedBlocksPerMinute = 10;
inline constexpr std::size_t kMaxUnrequestedTxPerMinute = 100;
// Received blocks are handed to the chain at the next OnTick, or at once when they add up to
// this many bytes. With a BlockSubmitter, blocks received and not yet answered by the node
// (waiting or in a call) add up to at most about this much: past it no block is requested.
inline constexpr std::size_t kMaxPendingBlockBytes = 32u << 20;
// One processBlocks call carries at most this many blocks and bytes (at least one block).
inline constexpr std::size_t kMaxBlocksPerNodeCall = 64;
inline constexpr std::size_t kMaxBlockBytesPerNodeCall = kMaxPendingBlockBytes / 2;
// getdata is served in batches of at most this many blocks or transactions (one NetChain call
// each); the send queue is checked between batches, so it may exceed kSendQueuePauseBytes by
// one batch.
inline constexpr std::size_t kGetDataBlockBatch = 8;
inline constexpr std::size_t kGetDataTxBatch = 1'000;

// The peer logic of a node: implements PeerHandler (driven by the connection manager), sends
// through PeerSink and asks the node through ipc::NetChain (a blocking round trip each when the
// node is another process, so calls are batched: one per message or per tick, never one per
// item). Received blocks go to the node in batches (kMaxBlocksPerNodeCall), by default on the
// message thread; with a BlockSubmitter, through it: a batch goes when no call is under way, or
// when the submitter has a free slot and a full batch has arrived, so that the node prepares the
// next batch while it connects one. Blocks with the node are neither requested again nor
// counted as in flight. Holds every peer's sync and relay state, bounded per peer; forgets a peer in
// PeerDisconnected (its block requests go to other peers, its orphans are dropped). The sink,
// chain and logger must outlive it. Message thread only: every method, BlockTipChanged,
// TransactionsAccepted and SyncStats included, runs on the manager's message thread.
// Exceptions thrown by the chain (a lost node process) propagate to the caller.
//
//   PeerLogic logic(PeerLogicOptions{}, sink, chain, log);  // the manager is the sink
//   // The manager calls PeerConnected/ProcessMessage/OnTick... on its message thread; the
//   // node's notifications are posted to that thread:
//   logic.BlockTipChanged(header, height, initial_download);
class PeerLogic final : public PeerHandler {
 public:
  // `submitter`, if given, must outlive the logic, and its outcomes must reach the message
  // thread.
  PeerLogic(PeerLogicOptions options, PeerSink& sink, ipc::NetChain& chain, Logger& log,
            BlockSubmitter* submitter = nullptr);
  PeerLogic(const PeerLogic&) = delete;
  PeerLogic& operator=(const PeerLogic&) = delete;

  void PeerConnected(PeerId peer, const net::PeerConnected& info,
                     std::chrono::microseconds now) override;
  void PeerDisconnected(PeerId peer) override;
  void ProcessMessage(PeerId peer, Message message, std::chrono::microseconds now) override;
  void SendSpaceAvailable(PeerId peer, std::chrono::microseconds now) override;
  void OnTick(std::chrono::microseconds now) override;

  // The node's active tip moved to `header`: announce it to every peer that does not know it
  // (headers to peers that sent sendheaders and are known to have its parent, inv to the
  // others). Nothing during initial download (`initial_download`, as the node says with the
  // tip: the chain is not asked again).
  void BlockTipChanged(const BlockHeader& header, uint32_t height, bool initial_download);
  // The mempool accepted these transactions: retry the orphans that spend them, and announce
  // them with one inv per peer, leaving out what each peer already knows.
  void TransactionsAccepted(const std::vector<Uint256>& txids);

  struct PeerSyncStats {
    int64_t synced_headers = -1;  // height of the best header the peer is known to have
    // The height up to which we know the peer has our blocks: min(synced_headers, our tip).
    int64_t synced_blocks = -1;
    uint32_t blocks_in_flight = 0;
  };
  // Asks the chain for its tip first (on failure the last known one is used).
  std::map<PeerId, PeerSyncStats> SyncStats();

  std::size_t orphan_count() const { return m_orphans.size(); }

 private:
  // A bounded set of inventory hashes known to one peer; the oldest entries are forgotten first.
  // Stores 64 bits of each hash (a salted mix, so peers cannot aim at hash-table buckets).
  class KnownInventory {
   public:
    explicit KnownInventory(uint64_t salt) : m_salt(salt) {}
    bool Contains(const Uint256& hash) const { return m_set.contains(Key(hash)); }
    void Insert(const Uint256& hash);

   private:
    uint64_t Key(const Uint256& hash) const;
    uint64_t m_salt;
    std::unordered_set<uint64_t> m_set;
    std::deque<uint64_t> m_order;
  };

  struct PeerState {
    explicit PeerState(uint64_t salt) : known(salt) {}
    bool send_headers = false;  // the peer asked for headers announcements
    uint64_t fee_filter = 0;
    bool disconnecting = false;        // we asked the manager to close it: ignore its messages
    std::optional<Uint256> best_hash;  // best header the peer is known to have
    int64_t best_height = -1;
    int non_connecting_headers = 0;
    // When we last sent it getheaders and no headers message has come since.
    std::optional<std::chrono::microseconds> headers_asked;
    bool stalling = false;  // held up the download window: no new block requests
    std::set<Uint256> blocks_in_flight;
    // Blocks another peer delivered first: a late copy from this one is not "unrequested".
    std::deque<Uint256> recently_cancelled;
    // Blocks the peer answered with notfound: not asked of it again (oldest forgotten first).
    std::deque<Uint256> not_found;
    std::set<Uint256> txs_in_flight;
    std::deque<InvEntry> pending_getdata;
    std::deque<std::chrono::microseconds> unrequested_blocks;  // arrival times, last minute
    std::deque<std::chrono::microseconds> unrequested_txs;
    KnownInventory known;
  };

  struct BlockRequest {
    PeerId peer = 0;
    std::chrono::microseconds requested{0};
  };
  struct TxRequest {
    PeerId peer = 0;
    std::chrono::microseconds requested{0};
    // Other peers that announced it, asked in turn if this request fails (kMaxTxAnnouncers).
    std::vector<PeerId> alternates;
  };
  struct ReceivedBlock {
    PeerId peer = 0;
    Uint256 hash;
    bool requested = false;
    std::vector<uint8_t> data;
  };

  void OnHeaders(PeerId peer, PeerState& state, const HeadersMessage& message);
  void OnBlock(PeerId peer, PeerState& state, const BlockMessage& message,
               std::chrono::microseconds now);
  void OnInv(PeerId peer, PeerState& state, const InvMessage& message,
             std::chrono::microseconds now);
  void OnGetData(PeerId peer, PeerState& state, const GetDataMessage& message,
                 std::chrono::microseconds now);
  void OnNotFound(PeerId peer, PeerState& state, const NotFoundMessage& message);
  void OnGetHeaders(PeerId peer, PeerState& state, const GetHeadersMessage& message);
  void OnTx(PeerId peer, PeerState& state, const TxMessage& message, std::chrono::microseconds now);

  // Sends getheaders with the node's locator.
  void SendGetHeaders(PeerId peer);
  // Serves `peer`'s pending getdata entries while its send queue is below the pause mark.
  void ServePendingGetData(PeerId peer, PeerState& state);
  // Hands the received blocks to the chain in one call (through the submitter if any and if the
  // rule above lets it) and applies the verdicts.
  void ProcessReceivedBlocks();
  // Punishes the senders of the blocks the node refused as their fault.
  void ApplyBlockVerdicts(const std::vector<ReceivedBlock>& received,
                          const std::vector<ipc::BlockVerdict>& verdicts);
  // A submitted batch came back (on the message thread).
  void BatchDone(std::vector<ReceivedBlock> received, std::size_t bytes,
                 std::vector<ipc::BlockVerdict> verdicts, std::exception_ptr error);
  // True if blocks may be asked of `state`'s peer: connected, not stalling, and with a best
  // header above `tip_height`.
  static bool CanServeBlocks(const PeerState& state, int64_t tip_height);
  // True if a peer ahead of the node's tip (as last known) has half its block slots free.
  bool RoomForBlockRequests() const;
  // Requests blocks from the peers that have free slots; applies the stall rule.
  void ScheduleDownloads(std::chrono::microseconds now);
  void ExpireRequests(std::chrono::microseconds now);
  // Submits one transaction; an orphan goes to the pool and its parents are requested.
  void SubmitTransaction(PeerId from, const Uint256& txid, std::vector<uint8_t> data,
                         std::chrono::microseconds now);
  void RequestTransactions(PeerId peer, PeerState& state, const std::vector<Uint256>& txids,
                           std::chrono::microseconds now);
  // These transaction requests ended without the transaction (notfound, timeout, the peer
  // gone): each goes to the next peer that announced it, if any.
  void RetryTransactions(const std::vector<std::pair<Uint256, TxRequest>>& failed,
                         std::chrono::microseconds now);
  // Logs, asks the manager to ban the peer, and releases its work.
  void Punish(PeerId peer, const std::string& reason);
  void DropPeer(PeerId peer, const std::string& reason);
  // Forgets `peer`'s block and transaction requests and pending getdata.
  void ReleaseWork(PeerId peer, PeerState& state);
  void CancelBlockRequest(const Uint256& hash, PeerId peer);
  // True (and counts it) while `times` holds at most `limit` arrivals in the last minute.
  static bool WithinRate(std::deque<std::chrono::microseconds>& times, std::size_t limit,
                         std::chrono::microseconds now);
  PeerState* Find(PeerId peer);

  const PeerLogicOptions m_options;
  PeerSink& m_sink;
  ipc::NetChain& m_chain;
  Logger& m_log;
  uint64_t m_salt;

  std::map<PeerId, PeerState> m_peers;
  // Block hash -> its requests (one, or two after the stall rule asked a second peer).
  std::map<Uint256, std::vector<BlockRequest>> m_blocks_in_flight;
  std::map<Uint256, TxRequest> m_txs_in_flight;
  std::vector<ReceivedBlock> m_received_blocks;
  std::size_t m_received_bytes = 0;
  BlockSubmitter* const m_submitter;
  // Submitted and not yet answered: calls, the blocks' hashes, their bytes.
  std::size_t m_batches_at_node = 0;
  std::multiset<Uint256> m_blocks_at_node;
  std::size_t m_bytes_at_node = 0;
  OrphanPool m_orphans;
  // The node's status as of the last getStatus call or tip notification, and when
  // ScheduleDownloads last asked for it.
  ipc::NetChainStatus m_status;
  std::optional<std::chrono::microseconds> m_status_asked;
  bool m_download_dirty = false;
  std::chrono::microseconds m_last_schedule{0};
  // The time of the latest call that passed one (for work started by the node's calls).
  std::chrono::microseconds m_now{0};
};

}  // namespace minicoin::net
