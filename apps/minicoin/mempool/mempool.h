// The memory pool of unconfirmed transactions, its listeners, and a coin view layering it over the chain.
#pragma once

#include "primitives/block.h"
#include "primitives/transaction.h"
#include "validation/coins.h"

#include <crossproc/worker_pool.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace minicoin {

// The height GetPoolCoin reports for outputs of unconfirmed transactions (never a coinbase, so
// maturity does not depend on it).
inline constexpr uint32_t kMempoolHeight = 0x7fffffff;

// Why Accept refused a transaction: AcceptResult::reason is one of these, or the text of the
// rule of CheckTransaction / CheckTransactionInputs the transaction breaks.
inline constexpr const char* kRejectCoinbase = "coinbase";
inline constexpr const char* kRejectTooLarge = "tx-size";
inline constexpr const char* kRejectAlreadyInPool = "txn-already-in-mempool";
inline constexpr const char* kRejectConflict = "txn-mempool-conflict";
inline constexpr const char* kRejectMissingInputs = "missing-inputs";
inline constexpr const char* kRejectTooManyAncestors = "too-long-mempool-chain";
inline constexpr const char* kRejectMinFee = "min-fee-not-met";
inline constexpr const char* kRejectPoolFull = "mempool-full";
// Refused before Accept: the lock time has not passed for the next block (IsFinal).
inline constexpr const char* kRejectNonFinal = "non-final";
// TestAccept only: the package holds the transaction twice, or two of its transactions spend
// the same output.
inline constexpr const char* kRejectPackageDuplicate = "package-contains-duplicates";
inline constexpr const char* kRejectPackageConflict = "conflict-in-package";

// A transaction in the pool. Value type.
struct MempoolEntry {
  Transaction tx;
  Uint256 txid;
  uint64_t fee = 0;
  std::size_t size = 0;              // encoded bytes
  int64_t time = 0;                  // unix seconds when added
  std::vector<Uint256> depends;      // in-pool parents (transactions whose outputs it spends)
  uint32_t height = 0;               // the chain's height when it entered the pool
};

enum class RemovalReason {
  kBlock,      // confirmed in a connected block
  kConflict,   // spends an output a connected block spent (or descends from such a transaction)
  kReorg,      // no longer valid at the new tip after a reorganisation
  kExpiry,     // older than the expiry time
  kSizeLimit,  // evicted to keep the pool within max_bytes
};

// "block", "conflict", "reorg", "expiry", "size-limit".
const char* RemovalReasonName(RemovalReason reason);

// Receives the pool's changes. Calls come in the order the changes happened, one at a time,
// outside the pool's lock (a listener may call the pool), on the thread of the pool call that
// made the change or of a concurrent pool call. A listener must not block for long, and must not
// throw (the exception would leave the pool call that delivered it).
class MempoolListener {
 public:
  virtual ~MempoolListener() = default;
  virtual void TransactionAdded(const MempoolEntry& entry) { (void)entry; }
  virtual void TransactionRemoved(const Transaction& tx, RemovalReason reason) {
    (void)tx;
    (void)reason;
  }
};

struct MempoolOptions {
  std::size_t max_bytes = 50 << 20;  // total encoded size of the pool
  uint64_t min_fee_per_kb = 0;       // minimum fee rate, per 1000 encoded bytes
  std::size_t max_ancestors = 25;    // in-pool ancestors of a transaction, itself included
  std::size_t max_descendants = 25;  // in-pool descendants of any transaction, itself included
  std::size_t max_tx_bytes = 100'000;  // a larger transaction is refused
  // Seconds since 1970 for MempoolEntry::time; the system clock when empty (tests set it).
  std::function<int64_t()> clock = {};
};

// The unconfirmed transactions the node knows: accepted after checking them against the chain's
// coins and the pool itself, kept consistent as blocks connect and disconnect, and chosen from
// for new blocks. Thread-safe: every method may be called from any thread; the costly signature
// checks of Accept run without holding the pool's lock. Not copyable or movable.
//
//   minicoin::Mempool mempool;
//   auto result = mempool.Accept(tx, chain_coins, tip_height + 1, worker_pool);
//   if (!result.accepted) std::cerr << result.reason;
class Mempool {
 public:
  explicit Mempool(MempoolOptions options = {});
  Mempool(const Mempool&) = delete;
  Mempool& operator=(const Mempool&) = delete;

  struct AcceptResult {
    bool accepted = false;
    std::string reason;  // why it was refused (see kReject*), empty when accepted
    Uint256 txid;
    uint64_t fee = 0;  // when accepted
  };

  // Checks `tx` and adds it. Rules, in order: CheckTransaction; not a coinbase; at most
  // max_tx_bytes; not already in the pool; no input spent by a pool transaction (double spend, no
  // replacement); every input an output of a pool transaction or in `chain_coins` (else
  // "missing-inputs"); ancestor and descendant limits; fee rate at least min_fee_per_kb;
  // CheckTransactionInputs at `next_height` (maturity, amounts, signatures in chunks on `pool`);
  // room in the pool (evicting transactions of lower descendant fee rate if needed). On success
  // notifies the listeners. `chain_coins` must not change during the call.
  AcceptResult Accept(const Transaction& tx, const CoinsView& chain_coins, uint32_t next_height,
                      crossproc::WorkerPool& pool);

  // A block connected: drops its transactions (reason kBlock), then the pool transactions that
  // spend an input the block spent, with their descendants (kConflict).
  void RemoveForBlock(const Block& block);

  // After a reorganisation (blocks disconnected, then others connected and passed to
  // RemoveForBlock): re-adds the non-coinbase transactions of the disconnected blocks, in block
  // order (without fee-rate and chain limits), then re-checks every pool transaction against the
  // new tip (`chain_coins`, `next_height`): inputs that vanished, coinbase spends that became
  // immature, and (when `is_final` is given) a lock time that no longer passes at the new tip.
  // What fails is dropped with its descendants (kReorg); then the pool is trimmed to max_bytes
  // (kSizeLimit).
  void Reorganized(const std::vector<Transaction>& disconnected, const CoinsView& chain_coins,
                   uint32_t next_height, crossproc::WorkerPool& pool,
                   const std::function<bool(const Transaction&)>& is_final = {});

  // Drops the transactions added before `cutoff_time` (unix seconds), with their descendants
  // (kExpiry). Returns how many were dropped.
  std::size_t Expire(int64_t cutoff_time);

  bool Contains(const Uint256& txid) const;
  std::optional<MempoolEntry> Get(const Uint256& txid) const;
  // Every entry, parents before children.
  std::vector<MempoolEntry> Entries() const;
  std::vector<Uint256> Txids() const;

  // Whether a pool transaction spends `outpoint`.
  bool IsSpent(const OutPoint& outpoint) const;
  // The txid of the pool transaction spending `outpoint`, if any.
  std::optional<Uint256> GetSpender(const OutPoint& outpoint) const;
  // An output created by a pool transaction (height kMempoolHeight, not a coinbase), whether or
  // not another pool transaction spends it.
  std::optional<Coin> GetPoolCoin(const OutPoint& outpoint) const;

  // A pool transaction with the figures of its in-pool relatives. Value type.
  struct EntryDetails {
    MempoolEntry entry;
    std::size_t ancestor_count = 0;  // in-pool ancestors, itself included
    std::size_t ancestor_size = 0;
    uint64_t ancestor_fee = 0;
    std::size_t descendant_count = 0;  // in-pool descendants, itself included
    std::size_t descendant_size = 0;
    uint64_t descendant_fee = 0;
    std::vector<Uint256> spent_by;  // in-pool children (transactions spending its outputs)
  };
  std::optional<EntryDetails> GetDetails(const Uint256& txid) const;
  // Every entry's details, parents before children (the order of Entries).
  std::vector<EntryDetails> AllDetails() const;

  // What Accept would say about each of `txs`, without adding any: each is checked by Accept's
  // rules as if the ones before it had been accepted (so it may spend their outputs; spending an
  // output one of them spends is kRejectPackageConflict, a repeated transaction
  // kRejectPackageDuplicate). Checking stops at the first refused transaction: the results are
  // those of every transaction up to and including it. `chain_coins` must not change during the
  // call.
  std::vector<AcceptResult> TestAccept(const std::vector<Transaction>& txs, const CoinsView& chain_coins,
                                       uint32_t next_height, crossproc::WorkerPool& pool) const;

  struct Info {
    std::size_t size = 0;       // transactions
    std::size_t bytes = 0;      // their total encoded size
    std::size_t usage = 0;      // estimated memory use
    uint64_t total_fee = 0;
    std::size_t max_bytes = 0;
  };
  Info GetInfo() const;

  // Transactions for a block, best ancestor-package fee rate first (a parent with a high-fee child
  // is chosen for the pair's combined rate), every parent before its children, total encoded
  // size at most `max_bytes` and at most `max_count` transactions.
  std::vector<MempoolEntry> SelectForBlock(std::size_t max_bytes,
                                           std::size_t max_count = kMaxBlockTransactions - 1) const;

  // A listener must outlive its registration. RemoveListener waits until no call to it is running
  // (unless called from that listener's own callback).
  void AddListener(MempoolListener* listener);
  void RemoveListener(MempoolListener* listener);

 private:
  struct Node {
    MempoolEntry entry;  // entry.depends is filled when the entry is handed out
    std::set<Uint256> parents;
    std::set<Uint256> children;
    uint64_t sequence = 0;
    // Of the transaction with all its in-pool descendants.
    uint64_t descendant_fee = 0;
    std::size_t descendant_size = 0;
    std::size_t descendant_count = 0;
  };
  struct OutPointLess {
    bool operator()(const OutPoint& a, const OutPoint& b) const {
      if (a.txid == b.txid) return a.index < b.index;
      return a.txid < b.txid;
    }
  };
  // What the pool-dependent checks of Accept found.
  struct InputsFound {
    std::vector<Coin> coins;  // of each input
    std::set<Uint256> parents;
    std::set<Uint256> package_parents;  // TestAccept: earlier transactions of the package it spends
  };
  // The transactions TestAccept has let through so far, as if they were in the pool.
  struct Package {
    std::map<Uint256, const Transaction*> members;
    std::set<OutPoint, OutPointLess> spent;
    std::map<Uint256, std::set<Uint256>> pool_ancestors;     // of each member
    std::map<Uint256, std::set<Uint256>> package_ancestors;  // of each member, in the package
  };
  struct Event {
    bool added = false;
    MempoolEntry entry;  // added
    Transaction tx;      // removed
    RemovalReason reason = RemovalReason::kBlock;
  };

  // The Accept rules that depend on the pool (and on `package`, for TestAccept; null otherwise);
  // needs m_mutex. Empty string when they pass.
  std::string CheckAgainstPool(const Transaction& tx, const Uint256& txid, const CoinsView& chain_coins,
                               bool bypass_limits, InputsFound& found, const Package* package = nullptr) const;
  AcceptResult AcceptLocked(std::unique_lock<std::mutex>& lock, const Transaction& tx, const CoinsView& chain_coins,
                            uint32_t next_height, crossproc::WorkerPool& pool, bool bypass_limits);
  // The in-pool ancestors of a transaction whose inputs are `found`, and (TestAccept) its
  // ancestors among the package's members; needs m_mutex.
  void AncestorsOf(const InputsFound& found, const Package* package, std::set<Uint256>& pool_ancestors,
                   std::set<Uint256>& package_ancestors) const;
  // TestAccept's check of one transaction against the pool and the package so far; takes m_mutex.
  // Empty string when it passes, with `fee` set and the transaction added to `package`.
  std::string TestOne(const Transaction& tx, const Uint256& txid, const CoinsView& chain_coins, uint32_t next_height,
                      crossproc::WorkerPool& pool, Package& package, std::size_t& package_bytes, uint64_t& fee) const;
  // Needs m_mutex.
  std::set<Uint256> Ancestors(const Uint256& txid) const;
  std::set<Uint256> AncestorsOfParents(const std::set<Uint256>& parents) const;
  std::set<Uint256> WithDescendants(const std::set<Uint256>& txids) const;
  // Recomputes the descendant figures of `txids`.
  void RefreshDescendantStats(const std::set<Uint256>& txids);
  void Insert(MempoolEntry entry, const std::set<Uint256>& parents);
  // Removes every transaction of `txids` (a set closed under descendants, or transactions whose
  // descendants stay), children first.
  void RemoveSet(const std::set<Uint256>& txids, RemovalReason reason);
  void RemoveOne(const Uint256& txid, RemovalReason reason);
  // The transactions to evict, lowest descendant fee rate first, so that `needed` more bytes fit;
  // none is in `keep`, and each evicted package's rate must be below `rate_fee`/`rate_size` (no
  // bound when rate_size is 0). Nullopt if that is impossible.
  std::optional<std::set<Uint256>> PlanEviction(std::size_t needed, const std::set<Uint256>& keep,
                                                uint64_t rate_fee, std::size_t rate_size) const;
  MempoolEntry ToEntry(const Node& node) const;
  // Needs m_mutex.
  EntryDetails DetailsOf(const Node& node) const;
  // Every node, parents before children; needs m_mutex.
  std::vector<const Node*> InParentOrder() const;
  int64_t Now() const;
  // Hands the queued events to the listeners unless another thread is doing so; takes and
  // releases `lock` (on m_mutex) around the calls.
  void DeliverEvents(std::unique_lock<std::mutex>& lock);

  const MempoolOptions m_options;
  mutable std::mutex m_mutex;
  // Guarded by m_mutex:
  std::map<Uint256, Node> m_nodes;
  std::map<OutPoint, Uint256, OutPointLess> m_spenders;  // outpoint -> pool tx spending it
  std::size_t m_bytes = 0;
  uint64_t m_total_fee = 0;
  uint64_t m_next_sequence = 0;
  std::vector<MempoolListener*> m_listeners;
  std::deque<Event> m_events;
  bool m_delivering = false;
  std::thread::id m_delivering_thread;
  MempoolListener* m_calling = nullptr;  // the listener being called, if any
  std::condition_variable m_delivered;
};

// Coins as seen with the pool on top of the chain: outputs of pool transactions are added,
// outputs that pool transactions spend are gone. As thread-safe as `chain`; each lookup is
// consistent with the pool at that moment. Both references must outlive the view.
class MempoolCoinsView final : public CoinsView {
 public:
  MempoolCoinsView(const CoinsView& chain, const Mempool& mempool) : m_chain(chain), m_mempool(mempool) {}
  std::optional<Coin> Get(const OutPoint& outpoint) const override;

 private:
  const CoinsView& m_chain;
  const Mempool& m_mempool;
};

}  // namespace minicoin
