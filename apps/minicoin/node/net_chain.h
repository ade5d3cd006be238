// NodeNetChain: the node as the peer-to-peer layer sees it (ipc::NetChain over a Node).
#pragma once

#include "net.crossproc.h"
#include "node/node.h"
#include "primitives/block.h"
#include "validation/tx_check.h"

#include <crossproc/worker_pool.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace minicoin {

class HeaderTree;

// How NodeNetChain handles blocks.
struct NetChainOptions {
  // Blocks kept waiting for their parents at most, and their encoded bytes at most.
  std::size_t max_parked_blocks = 1024;
  std::size_t max_parked_bytes = std::size_t{256} << 20;
  // Verify the signatures of a processBlocks batch on the worker pool while its blocks connect,
  // filling the node's signature cache.
  bool speculative_signature_checks = true;
  // The blocks a processBlocks call accepted are made durable (one sync of the block and undo
  // files, one index write) when the call ends; during initial download at most this often, or
  // when the chain reaches the best header. A crash loses the blocks accepted since (nothing
  // points to their records yet), and the node downloads them again.
  std::chrono::milliseconds initial_download_sync_interval{1000};
};

// The NetChain the peer-to-peer layer calls: in minicoind directly, in minicoin-node through a
// proxy from the minicoin-net process. Everything it is handed comes from peers and is checked:
// malformed data and broken consensus rules are answered with peerFault, never with an
// exception or a crash; refusals that are no fault of the sender (duplicates, missing parents,
// policy) are answered without it.
//
// Blocks whose header is known but whose parent's data has not arrived are parked (at most
// NetChainOptions: by default 1,024 blocks and 256 MiB) and submitted, in order, once the
// parent is stored. Transactions recently refused are remembered (at most kMaxRecentRejects,
// forgotten when the tip moves) so that haveItems does not ask for them again.
//
// Speculative signature checks: when a processBlocks call starts, the signatures of its blocks
// whose spent outputs are known (the tip's coins, the mempool's, the outputs of the batch's
// earlier blocks) are verified on the node's worker pool, and those that verify go to the node's
// SignatureCache, which connecting a block consults. They take one thread fewer than the pool
// has (at least one) and go from the batch's last block backwards, while the blocks' validation
// jobs run on the thread left free from the first block forwards: the two meet once, and the
// jobs past that point find their signatures already verified. The cache holds exactly the verified
// (hash, key, signature) triples, so a wrong guess costs time, never correctness. The call
// returns once the speculative checks are done (parked blocks find theirs in the cache when they
// connect later), unless the pool is stopping; at most kMaxSpeculativeChecks per call.
//
// Overlapping calls: processBlocks has two stages. The first decodes the blocks, runs their
// context-free checks and starts their speculative checks (the outputs of the two calls prepared
// before count as known, connected or not), once the previous batch's speculative checks are
// done; the second connects them. Calls prepare one at a time and connect one at a time, in the
// order they finished preparing, so a caller that keeps several calls under way (the peer logic
// keeps three) lets the pool verify the next batches' signatures while a batch connects. Both
// stages run their work as jobs on the node's worker pool (WorkerPool::RunAndWait,
// Node::SubmitBlocksOnPool): the calling thread only waits, so -par bounds the threads that
// validate. On a stopped pool nothing connects and no verdict blames a peer.
//
// Thread-safe. `node` must outlive it.
class NodeNetChain final : public ipc::NetChain {
 public:
  // getBlockData serves at most this many blocks per call (empty entries after them).
  static constexpr std::size_t kMaxBlocksPerGetData = 16;
  // getBlocksToDownload names no block higher than the tip plus this.
  static constexpr uint32_t kDownloadWindow = 1024;
  // findHeaders answers at most this many headers.
  static constexpr std::size_t kMaxHeadersPerFind = 2000;
  static constexpr std::size_t kMaxRecentRejects = 50'000;
  static constexpr std::size_t kMaxSpeculativeChecks = 100'000;

  explicit NodeNetChain(Node& node, NetChainOptions options = {});
  ~NodeNetChain() override;
  NodeNetChain(const NodeNetChain&) = delete;
  NodeNetChain& operator=(const NodeNetChain&) = delete;

  ipc::NetChainStatus getStatus() override;
  std::vector<std::vector<uint8_t>> getLocator() override;
  ipc::HeadersVerdict processHeaders(const std::vector<std::vector<uint8_t>>& headers) override;
  std::vector<std::vector<uint8_t>> getBlocksToDownload(const std::vector<uint8_t>& peer_best, uint32_t max) override;
  std::vector<ipc::BlockVerdict> processBlocks(const std::vector<std::vector<uint8_t>>& blocks) override;
  ipc::TxVerdict processTransaction(const std::vector<uint8_t>& tx) override;
  std::vector<std::vector<uint8_t>> findHeaders(const std::vector<std::vector<uint8_t>>& locator,
                                                const std::vector<uint8_t>& stop) override;
  std::vector<std::vector<uint8_t>> getBlockData(const std::vector<std::vector<uint8_t>>& hashes) override;
  std::vector<std::vector<uint8_t>> getTransactionData(const std::vector<std::vector<uint8_t>>& txids) override;
  std::vector<bool> haveItems(const std::vector<ipc::InvItem>& items) override;
  void logMessage(const std::string& category, const std::string& message) override;

  // The blocks parked now (for tests and logs).
  std::size_t ParkedCount() const;

 private:
  struct UintLess {
    bool operator()(const Uint256& a, const Uint256& b) const { return a.bytes() < b.bytes(); }
  };
  struct OutPointLess {
    bool operator()(const OutPoint& a, const OutPoint& b) const {
      if (a.txid == b.txid) return a.index < b.index;
      return a.txid.bytes() < b.txid.bytes();
    }
  };
  // The key of each output a batch creates.
  using OutputKeys = std::map<OutPoint, XOnlyPublicKey, OutPointLess>;
  // A processBlocks call between its stages.
  struct PreparedBatch {
    std::vector<ipc::BlockVerdict> verdicts;  // set for the blocks refused while decoding
    std::vector<std::optional<Block>> blocks;  // empty: refused while decoding
    std::vector<uint8_t> checked;              // 1: the context-free checks passed
    std::map<Uint256, std::size_t, UintLess> index;  // hash -> position in the call
    std::optional<crossproc::ParallelForHandle> speculation;
  };
  struct Parked {
    Block block;
    std::size_t bytes = 0;
  };

  // The first stage of processBlocks. Needs m_prepare_mutex.
  PreparedBatch PrepareBatch(const std::vector<std::vector<uint8_t>>& encoded);
  // Decodes the blocks into `batch` (with the verdicts of those refused) and runs their
  // context-free checks. Part of PrepareBatch.
  void DecodeAndCheck(const std::vector<std::vector<uint8_t>>& encoded, PreparedBatch& batch);
  // The second: submits or parks the blocks and releases parked children (SubmitBatch, as one
  // job on the pool), then syncs. Needs m_process_mutex.
  void ConnectBatch(const std::vector<std::vector<uint8_t>>& encoded, PreparedBatch& batch);
  void SubmitBatch(const Node::SubmitFn& submit, const std::vector<std::vector<uint8_t>>& encoded,
                   PreparedBatch& batch);
  // Submits `block` through `submit` (its parent is stored; `checked`: its context-free checks
  // passed) and then the parked blocks waiting for it and for them, in order. Sets the verdicts
  // of this call's blocks it submits (by hash in `batch`). Needs m_process_mutex.
  void SubmitWithChildren(const Node::SubmitFn& submit, Block block, bool checked,
                          std::vector<ipc::BlockVerdict>& verdicts,
                          const std::map<Uint256, std::size_t, UintLess>& batch);
  // Removes the blocks parked on `parent` from the pool and returns them. Needs m_park_mutex.
  std::vector<Block> TakeParkedChildrenLocked(const Uint256& parent);
  // Fills `verdict` from a Node::SubmitBlock result.
  void SetVerdict(ipc::BlockVerdict& verdict, const Uint256& hash, bool accepted, bool duplicate,
                  const std::string& reason);
  // Parks `block`; false if the pool is full even after dropping blocks nothing waits for.
  bool Park(const Uint256& hash, Block block, std::size_t bytes);
  bool IsParked(const Uint256& hash) const;
  // Makes the accepted blocks durable when NetChainOptions::initial_download_sync_interval says
  // so. Needs m_process_mutex.
  void SyncAcceptedBlocks();
  // The signature checks of `blocks` whose spent outputs are known (see the class comment).
  // Needs m_prepare_mutex.
  std::shared_ptr<std::vector<SignatureCheck>> CollectSpeculativeChecks(const std::vector<std::optional<Block>>& blocks);
  // The key of `outpoint` if a recent batch (m_recent_batch_outputs) creates it. Needs
  // m_prepare_mutex.
  std::optional<XOnlyPublicKey> RecentBatchOutput(const OutPoint& outpoint) const;
  // Starts verifying `checks` on the pool; the handle completes when they are done.
  crossproc::ParallelForHandle StartSpeculativeChecks(std::shared_ptr<std::vector<SignatureCheck>> checks);
  void RememberReject(const Uint256& txid);
  bool RecentlyRejected(const Uint256& txid);

  Node& m_node;
  HeaderTree& m_tree;
  const NetChainOptions m_options;

  // Batches prepared before the one preparing whose outputs count as known (kRecentBatches
  // calls may be ahead of the chain: connecting, and waiting to).
  static constexpr std::size_t kRecentBatches = 2;

  std::mutex m_prepare_mutex;  // held through a call's first stage
  // Guarded by m_prepare_mutex: the outputs of the latest prepared batches, newest first; the
  // latest batch's speculative checks; the ticket the next prepared call takes.
  std::deque<OutputKeys> m_recent_batch_outputs;
  std::optional<crossproc::ParallelForHandle> m_speculation;
  uint64_t m_next_ticket = 0;
  std::mutex m_process_mutex;  // held through a call's second stage
  std::condition_variable m_turn_cv;
  uint64_t m_connect_turn = 0;  // guarded by m_process_mutex: the ticket that connects next
  // The last sync; none yet makes the first batch due (the clock's epoch is the machine's boot,
  // which may be less than an interval ago).
  std::optional<std::chrono::steady_clock::time_point> m_last_sync;  // guarded by m_process_mutex

  mutable std::mutex m_park_mutex;
  // Guarded by m_park_mutex: parked blocks by hash, their hashes by parent (in arrival order),
  // and the bytes they hold.
  std::map<Uint256, Parked, UintLess> m_parked;
  std::multimap<Uint256, Uint256, UintLess> m_parked_by_parent;
  std::size_t m_parked_bytes = 0;

  std::mutex m_reject_mutex;
  // Guarded by m_reject_mutex: recently refused txids, oldest first, and the tip they were
  // refused at.
  std::set<Uint256, UintLess> m_rejects;
  std::deque<Uint256> m_reject_order;
  Uint256 m_rejects_tip;
};

}  // namespace minicoin
