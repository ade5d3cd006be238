// The chain state: the block tree, the active chain with the most work, its coins, stored
// blocks, and the validation engine that accepts new blocks (AddBlockJob).
#pragma once

#include "chain/coins_cache.h"
#include "chain/params.h"
#include "primitives/block.h"
#include "storage/block_files.h"
#include "validation/block_check.h"
#include "validation/coins.h"

#include <crossproc/job.h>
#include <crossproc/worker_pool.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace minicoin {

class Database;

// One per known block (every block the chain stored). Owned by ChainState and never freed
// while it lives, so pointers stay valid. The fields other than `status` and `undo_position`
// never change after the index is published; read `status` through ChainState::StatusOf (or
// from a listener callback or WithTip, which hold the update lock).
struct BlockIndex {
  enum Status : uint32_t {
    kHaveData = 1,        // the block is in the block files
    kHaveUndo = 2,        // its undo data is in the undo files
    kValid = 4,           // it was connected once: fully valid
    kFailed = 8,          // it broke a rule when connected
    kFailedParent = 16,   // an ancestor broke a rule
  };

  Uint256 hash;
  BlockHeader header;
  uint32_t height = 0;
  Uint256 chain_work;  // total work of the chain up to and including this block
  const BlockIndex* prev = nullptr;
  uint32_t tx_count = 0;
  uint32_t status = 0;
  FilePosition data_position;  // also the order blocks were first seen in
  FilePosition undo_position;

  bool IsInvalid() const { return (status & (kFailed | kFailedParent)) != 0; }
  // The ancestor at `at_height` (this block for its own height); nullptr above it.
  const BlockIndex* Ancestor(uint32_t at_height) const;
};

// Told about changes of the active chain. Called synchronously, in order, on the thread that
// updates the chain, while the chain's update lock is held (so listeners see each change
// atomically). A listener may call ChainState's queries but not its mutating API (AddBlock,
// ProcessBlock, AddListener, RemoveListener). Lock order: the update lock comes first, so code
// holding a lock that a listener also takes must not call into ChainState (take the chain's
// view first, e.g. inside WithTip, then the own lock).
class ChainListener {
 public:
  virtual ~ChainListener() = default;
  virtual void BlockConnected(const Block& /*block*/, const BlockIndex& /*index*/) {}
  virtual void BlockDisconnected(const Block& /*block*/, const BlockIndex& /*index*/) {}
  // Once per activation that moved the tip, after its last connect or disconnect.
  virtual void TipChanged(const BlockIndex& /*tip*/) {}
};

// -dbcache: megabytes for the chain database's block cache and the coins cache together.
inline constexpr int64_t kDefaultDbCacheMiB = 450;
inline constexpr int64_t kMinDbCacheMiB = 4;

struct CacheSizes {
  std::size_t database_bytes = 0;  // LevelDB's block cache (ChainStateOptions::database_cache_bytes)
  std::size_t coins_bytes = 0;     // the coins cache (ChainStateOptions::coins_cache_bytes)
};
// Splits `mib` megabytes (at least kMinDbCacheMiB): an eighth, at most 8 MiB, to the database's
// block cache, the rest to the coins cache.
CacheSizes SplitDbCache(int64_t mib);

struct ChainStateOptions {
  std::filesystem::path dir = {};             // holds blocks/ and chainstate/; created if missing
  const ChainParams* params = nullptr;        // the chain's rules; null: regtest's. Must outlive the state.
  crossproc::WorkerPool* pool = nullptr;      // runs jobs and signature checks; null: an own pool
  // Signatures verified before (speculatively, or by an earlier connection) that connecting a
  // block need not verify again; null: none. Must outlive the state.
  SignatureCache* signature_cache = nullptr;
  bool sync_writes = true;                    // fsync the files and sync the database writes
  uint32_t max_block_file_size = 128u << 20;  // start a new blk/rev file past this size
  std::size_t database_cache_bytes = 8u << 20;
  // The coins read or changed since the last flush may take this much memory: past it, the
  // changes are written after the block being connected or disconnected.
  std::size_t coins_cache_bytes = static_cast<std::size_t>(kDefaultDbCacheMiB - 8) << 20;
  // The node's clock in seconds since 1970 (for the "not too far in the future" rule and the
  // hourly flush of the coins); null: the system clock.
  std::function<int64_t()> now = {};
  // Pruning: after each new tip, delete the oldest whole blk/rev files while they add up to more
  // than prune_target_bytes, keeping the files of the last kMinBlocksToKeep active blocks and
  // the files being written (chain/prune.h). Pruned blocks lose kHaveData / kHaveUndo.
  bool prune = false;
  uint64_t prune_target_bytes = 0;
  // At open, forget the coins and the best block (and every block's undo data) and connect the
  // best stored chain again from the block files. The block index is kept.
  bool reindex_chainstate = false;
  // Progress lines for long operations (connecting many stored blocks at open, pruning); null:
  // silent. Called with the update lock held.
  std::function<void(const std::string&)> log = {};
};

class ChainState;

// Adding one block: the context-free checks run in parallel with other jobs, the rest is
// serialized by the chain's update lock. Configure before Start(); read the results after
// Wait(). Thread-safe after Start().
// When a block's records are made durable: before its acceptance returns, or at the next
// ChainState::SyncPendingWrites (see AddBlockJob::SetDeferSync).
enum class BlockSync { kNow, kDeferred };

// How ChainState::ProcessBlock (and Node::SubmitBlock) take a block.
struct SubmitOptions {
  BlockSync sync = BlockSync::kNow;
  // CheckProofOfWork and CheckBlock passed for this very block already (AddBlockJob::SetChecked).
  bool checked = false;
  // Validate on the calling thread (Job::RunHere), for a caller that is itself running on the
  // chain's worker pool; otherwise the job is queued on the pool and waited for.
  bool on_this_thread = false;
};

class AddBlockJob : public crossproc::Job {
 public:
  AddBlockJob(ChainState& chain, crossproc::WorkerPool& pool, Block block);

  // The block's time may be at most kMaxFutureBlockTime after `now` (default: the chain's clock).
  void SetNow(int64_t now);
  // The block is already in the block files at `position` (reindexing): it is indexed there
  // instead of being appended again.
  void SetStoredPosition(FilePosition position);
  // The block's data and undo records are not synced, nor its index entry written, before the
  // job completes: ChainState::SyncPendingWrites() (or any later write of the index) does it,
  // for every such block at once. For batches of blocks from the network, which a crash would
  // only make the node download again.
  void SetDeferSync();
  // The caller ran CheckProofOfWork and CheckBlock on this block and both passed: the job skips
  // them. For a caller that checks a batch's blocks side by side before they connect one by one.
  void SetChecked();

  const Block& block() const { return m_block; }
  // After Wait():
  bool accepted() const { return m_accepted; }    // stored (and valid as far as it was checked)
  bool new_tip() const { return m_new_tip; }      // the active chain moved
  bool duplicate() const { return m_duplicate; }  // the block was already known
  // Why the block was rejected (a ValidationError text or a short code such as "duplicate",
  // "prev-blk-not-found"), or empty.
  // A job that could not run (the pool stopped) gives its error here, after "internal error: "
  // (as an exception while it ran does): nothing the block's sender can be blamed for.
  std::string reason() const;

 protected:
  void Run() override;

 private:
  ChainState& m_chain;
  Block m_block;
  std::optional<int64_t> m_now;
  std::optional<FilePosition> m_stored_position;
  bool m_defer_sync = false;
  bool m_checked = false;
  bool m_accepted = false;
  bool m_new_tip = false;
  bool m_duplicate = false;
  std::string m_reason;
};

// The chain: opens or creates the stored state, accepts blocks, follows the valid chain with
// the most work (reorganising when another branch gets more), and answers queries. Blocks and
// undo data live in append-only files (synced before anything points to them); the block index,
// the coins and the best block in LevelDB. The coins are read on demand through a cache
// (CoinsCache) that holds the changes of the blocks connected since the last flush; a flush
// writes them with the best block in one synchronous batch when the cache outgrows
// `coins_cache_bytes`, at least hourly, and on destruction. A crash loses only unflushed
// coin changes: the next open connects the stored blocks again from the flushed best block.
// Thread-safe. Not copyable or movable; every job must have finished before it is destroyed.
//
//   crossproc::WorkerPool pool;
//   ChainState chain({.dir = datadir, .pool = &pool});
//   ChainState::BlockResult result = chain.ProcessBlock(block);
//   if (!result.accepted) std::cerr << result.reason;
class ChainState {
 public:
  // Opens or creates (with the genesis block) the state in options.dir. Throws
  // std::runtime_error with a clear message if the directory is unusable or the data is
  // corrupt beyond repair.
  explicit ChainState(ChainStateOptions options);
  ~ChainState();
  ChainState(const ChainState&) = delete;
  ChainState& operator=(const ChainState&) = delete;

  // Never blocks: returns the job unstarted; the caller Start()s and Wait()s it.
  std::shared_ptr<AddBlockJob> AddBlock(Block block);
  struct BlockResult {
    bool accepted = false;
    bool new_tip = false;
    bool duplicate = false;
    std::string reason;
  };
  // AddBlock, Start, Wait. Must not be called from the pool's threads if the pool has one thread.
  // SubmitOptions: BlockSync::kDeferred is AddBlockJob::SetDeferSync, `checked` SetChecked.
  BlockResult ProcessBlock(Block block, SubmitOptions options = {});
  // ProcessBlock for a block already in the block files at `position` (reindexing).
  BlockResult ProcessStoredBlock(Block block, FilePosition position);
  // Syncs the records of blocks accepted with AddBlockJob::SetDeferSync and writes their index
  // entries (one sync per file, one index batch). Throws std::runtime_error on an I/O error.
  void SyncPendingWrites();
  // Whether records or index entries wait for SyncPendingWrites (or the next index write).
  bool HasPendingWrites() const;

  const BlockIndex& Tip() const;
  uint32_t Height() const;
  const BlockIndex& Genesis() const;
  // The active chain's block at `height`; nullptr above the tip.
  const BlockIndex* AtHeight(uint32_t height) const;
  // Any known block; nullptr if unknown.
  const BlockIndex* Lookup(const Uint256& hash) const;
  bool IsActive(const BlockIndex& index) const;
  // The index's status flags (BlockIndex::Status), read under the update lock.
  uint32_t StatusOf(const BlockIndex& index) const;
  // The block's data from the block files; nullopt if it cannot be read.
  std::optional<Block> ReadBlock(const BlockIndex& index) const;
  // The block's undo data (blocks connected at least once, except genesis); nullopt otherwise.
  std::optional<BlockUndo> ReadUndo(const BlockIndex& index) const;
  // The tip's coins.
  std::optional<Coin> GetCoin(const OutPoint& outpoint) const;
  // Runs fn with the tip and its coins, consistent with each other (the update lock is held:
  // keep it short, and do not call the mutating API from it).
  void WithTip(const std::function<void(const BlockIndex& tip, const CoinsView& coins)>& fn) const;

  struct CoinsStats {
    uint32_t height = 0;
    Uint256 best_block;
    uint64_t coins = 0;
    uint64_t transactions = 0;  // distinct txids among the coins
    uint64_t total_amount = 0;
    Uint256 hash;  // HashCoins over the coin set
  };
  // The stored coin set with the cache's unflushed changes merged in. Throws std::runtime_error
  // if the stored coins do not add up to the count and amount the best block says.
  CoinsStats GetCoinsStats() const;

  struct CoinsCacheUsage {
    std::size_t bytes = 0;  // CoinsCache::MemoryUsage
    std::size_t limit = 0;  // ChainStateOptions::coins_cache_bytes
    std::size_t entries = 0;
    std::size_t dirty = 0;
    uint64_t flushes = 0;  // since the state was opened
  };
  CoinsCacheUsage CoinsCacheInfo() const;
  // Writes the coins cache's changes, the index entries not yet written and the best block in
  // one batch (synced with `sync_writes`), and empties the cache. Throws std::runtime_error if
  // the write fails (the cache then keeps its changes).
  void FlushCoins();

  // The median of the times of `index` and its up to 10 ancestors.
  uint32_t MedianTimePast(const BlockIndex& index) const;
  // The bits a block on `parent` must carry (NextWorkRequired with the parent's interval).
  uint32_t NextBits(const BlockIndex& parent) const;
  // The height, subsidy and lock-time cut-off of a block on `parent` (what ConnectBlock applies).
  BlockContext NextContext(const BlockIndex& parent) const;
  // The rules a block on `parent` must meet that depend on the parent and the clock `now`, in
  // order: "bad-diffbits" (NextBits), "bad-cb-height", "time-too-old" (not after the parent's
  // median time past), "time-too-new" (more than kMaxFutureBlockTime ahead of `now`),
  // "bad-blk-length" (over the chain's maximum block size). Empty if all hold.
  std::string ContextualCheck(const Block& block, const BlockIndex& parent, int64_t now) const;
  // The time a new block on `parent` should carry: `now`, or the earliest time the
  // median-time-past rule allows if that is later.
  uint32_t NextBlockTime(const BlockIndex& parent, int64_t now) const;
  const ChainParams& params() const { return m_params; }
  // Blocks without known children, and the active tip; with their state, for getchaintips.
  std::vector<const BlockIndex*> ChainTips() const;
  // The last block `index` and the active chain have in common.
  const BlockIndex* FindFork(const BlockIndex& index) const;
  // Number of known blocks.
  std::size_t BlockCount() const;

  // Pruning (ChainStateOptions::prune): whether it is on, its target, and the lowest height from
  // which every active block still has its data (0 when nothing was pruned).
  bool PruneMode() const { return m_options.prune; }
  uint64_t PruneTargetBytes() const { return m_options.prune_target_bytes; }
  uint32_t PruneHeight() const;

  void AddListener(ChainListener* listener);
  void RemoveListener(ChainListener* listener);

  crossproc::WorkerPool& pool() const { return *m_pool; }

  // ---------------------------------------------------------------------------------------
  // Validity set by hand (the invalidateblock and reconsiderblock RPC methods). Both persist
  // the flags they change, tell the listeners about every block they disconnect and connect,
  // and must not be called from a listener or a WithTip callback.

  // Marks the block `hash` failed and its descendants as having a failed parent; if it is in
  // the active chain, disconnects it and the blocks above it, then moves to the remaining valid
  // chain with the most work. Returns nullopt on success, else why nothing was done (unknown
  // block, the genesis block, an active block deeper than the data a pruned chain keeps).
  // Throws std::runtime_error if stored data cannot be read.
  std::optional<std::string> InvalidateBlock(const Uint256& hash);
  // Undoes InvalidateBlock and earlier failures around `hash`: clears the failure flags of the
  // block, of its ancestors and of its descendants, then moves to the chain with the most work
  // (a block that really breaks a rule fails again when it is connected). Returns nullopt on
  // success, else why nothing was done (unknown block).
  std::optional<std::string> ReconsiderBlock(const Uint256& hash);

 private:
  friend class AddBlockJob;
  // The serialized part of AddBlockJob.
  BlockResult AcceptBlock(const Block& block, const Uint256& hash, int64_t now,
                          const std::optional<FilePosition>& stored, bool defer_sync);
  // The rule behind every write of index entries: the records they point to are durable first.
  void SyncRecordFiles();
  int64_t Now() const;

  void Load();
  // ChainStateOptions::reindex_chainstate, before Load: one batch drops the coins and every
  // block's undo flag and sets the best block to genesis; then the undo files go.
  void ResetChainstate();
  // Deletes old files past the prune target (ChainStateOptions::prune).
  void PruneFiles();
  // Whether the active chain can move to `target`: the blocks to disconnect have their data and
  // undo data, the blocks to connect their data (false after pruning for a deep reorganisation).
  bool CanActivate(const BlockIndex& target) const;
  void CreateGenesis();
  BlockIndex* InsertIndex(const BlockIndex& fields);
  void ActivateBestChain(const BlockIndex* received, const Block* received_block, bool& tip_changed);
  bool ConnectTip(BlockIndex& index, const Block& block, std::string& reason);
  // The height, subsidy and lock-time cut-off ConnectBlock applies to `index`'s block.
  BlockContext ContextOf(const BlockIndex& index) const;
  void DisconnectTip();
  void MarkInvalid(BlockIndex& index);
  void FindBestCandidate();
  bool BetterCandidate(const BlockIndex& a, const BlockIndex& b) const;
  void WriteIndexTo(class DatabaseBatch& batch, const BlockIndex& index) const;
  void FlushDirty();
  void FlushCoinsUnlocked();
  // After a block was connected or disconnected: flushes if the cache is over its limit or the
  // last flush is an hour old.
  void MaybeFlushCoins();
  std::optional<Block> ReadBlockUnlocked(const BlockIndex& index, std::string* error) const;

  ChainStateOptions m_options;
  const ChainParams& m_params;
  std::unique_ptr<crossproc::WorkerPool> m_own_pool;
  crossproc::WorkerPool* m_pool;
  std::unique_ptr<RecordFiles> m_block_files;
  std::unique_ptr<RecordFiles> m_undo_files;
  std::unique_ptr<Database> m_db;

  // The update lock: guards everything below. Recursive so that listeners and WithTip
  // callbacks may call the queries.
  mutable std::recursive_mutex m_mutex;
  struct UintLess {
    bool operator()(const Uint256& a, const Uint256& b) const { return a.bytes() < b.bytes(); }
  };
  std::map<Uint256, std::unique_ptr<BlockIndex>, UintLess> m_index;
  std::vector<BlockIndex*> m_active;  // m_active[h] is the active block at height h
  BlockIndex* m_best_candidate = nullptr;
  std::vector<BlockIndex*> m_dirty;   // index entries not yet written to the database
  std::unique_ptr<CoinsCache> m_coins;  // over m_db
  uint64_t m_coin_count = 0;  // of the tip's coin set
  uint64_t m_coin_total = 0;
  const BlockIndex* m_flushed_best = nullptr;  // the best block on disk
  int64_t m_last_flush = 0;  // Now() at the last coins flush (or the open)
  std::vector<ChainListener*> m_listeners;
  std::string m_last_failure;  // why the block being accepted failed to connect
  bool m_defer_sync = false;  // the block being accepted defers its syncs (AddBlockJob::SetDeferSync)
};

// Sha256d over the coins in the canonical order (by CoinKey), each as its key and its
// encoding. `coins` may be in any order.
Uint256 HashCoins(std::vector<std::pair<OutPoint, Coin>> coins);

}  // namespace minicoin
