// HeaderTree: the block headers the node knows before it has their blocks (headers-first sync).
#pragma once

#include "chain/chain_state.h"
#include "primitives/block.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {

// A header the node knows (a tree entry or a block of the chain state).
struct HeaderRef {
  Uint256 hash;
  uint32_t height = 0;
  Uint256 chain_work;
};

// What HeaderTree::AcceptHeaders made of a list of headers.
struct HeadersResult {
  // Empty when every header was accepted or already known; else why the first one that was not
  // failed.
  std::string error;
  // The failing header breaks a rule (bad proof of work, wrong bits, too old, on an invalid
  // block, not chained to the one before it). Not connecting, a time too far ahead of the clock
  // and a full tree are no fault.
  bool peer_fault = false;
  // The first header's parent (or the header itself) is known.
  bool connects = false;
  // The last header of the list that is now known; nullopt if none.
  std::optional<HeaderRef> last;
};

// Headers the node knows and has checked but whose blocks it has not stored: the map a
// headers-first download follows. Entries are BlockIndex objects (status 0, no data) owned by
// the tree; each one's `prev` points to another entry or into the chain state's index (which
// never frees its entries), so ChainState::NextBits, MedianTimePast and FindFork work on them.
//
// Bounds: every entry carries valid proof of work at the chain's required difficulty, so a peer
// pays for each one in hashing (as for Bitcoin's headers). On top of that the tree is pruned
// whenever it has grown past twice its size after the last pruning (and at least
// kHeaderTreePruneFloor entries): entries whose blocks the chain state now stores are replaced
// by the chain state's own entries, and branches whose every entry has less work than the active
// tip and lies more than kHeaderTreeStaleDepth blocks below it are dropped. It never holds more
// than `max_entries` headers: past that, new headers are refused ("header tree full", no fault)
// until the blocks catch up.
//
// Invalid blocks: a header descending from a block the chain state marked invalid is refused.
// Refresh() re-reads those marks (Node calls it when a stored block fails to connect and after
// invalidateblock and reconsiderblock); the best header skips invalid branches from then on.
//
// Thread-safe. `chain` must outlive the tree. Lock order: the tree's lock, then the chain's.
//
//   HeaderTree tree(chain);
//   HeadersResult result = tree.AcceptHeaders(headers, now);
//   if (result.peer_fault) ... punish the sender ...
//   HeaderRef best = tree.BestHeader();
class HeaderTree {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 200'000;  // about 50 MiB
  static constexpr std::size_t kHeaderTreePruneFloor = 4'096;
  static constexpr uint32_t kHeaderTreeStaleDepth = 144;
  // The number of hashes in a locator at most.
  static constexpr std::size_t kMaxLocatorSize = 101;

  explicit HeaderTree(const ChainState& chain, std::size_t max_entries = kDefaultMaxEntries);
  ~HeaderTree();
  HeaderTree(const HeaderTree&) = delete;
  HeaderTree& operator=(const HeaderTree&) = delete;

  // Checks and remembers `headers`, in order, each on the one before (the first on any known
  // header or stored block). Stops at the first that fails: it must connect, carry valid proof
  // of work, the bits NextBits requires of its parent, a time after its parent's median time
  // past and at most kMaxFutureBlockTime after `now`, and not descend from an invalid block.
  // Already known headers are fine.
  HeadersResult AcceptHeaders(const std::vector<BlockHeader>& headers, int64_t now);

  // The valid header with the most work: a tree entry or the active tip (the tip on a tie).
  HeaderRef BestHeader() const;
  // A known header (tree entry or chain state block) by hash.
  std::optional<HeaderRef> Find(const Uint256& hash) const;
  // Whether the tree holds `hash` (as a header without a stored block).
  bool Contains(const Uint256& hash) const;
  // The tree's entries.
  std::size_t size() const;

  // A block locator of the best header chain, starting at the best header's parent (so that a
  // peer with the same best header answers getheaders with it): hashes newest first, the first
  // ten one apart, then doubling steps, genesis last; at most kMaxLocatorSize.
  std::vector<Uint256> Locator() const;

  // The blocks the chain state has no data for on the way from the active chain's fork to the
  // known header `target`, lowest first, at most `max`, none above `max_height`, leaving out those
  // `skip` returns true for. Empty if `target` is unknown or invalid.
  std::vector<Uint256> MissingBlocks(const Uint256& target, std::size_t max, uint32_t max_height,
                                     const std::function<bool(const Uint256&)>& skip) const;

  // Prunes (see the class comment) and re-reads the chain state's invalid marks now.
  void Refresh();

 private:
  // The entry for `hash`: the chain state's when it has one, else the tree's; nullptr if unknown.
  const BlockIndex* FindLocked(const Uint256& hash) const;
  // Whether `index` (an entry of either) is invalid or descends from an invalid block.
  bool IsInvalidLocked(const BlockIndex& index) const;
  bool Owns(const BlockIndex* index) const;
  void RefreshLocked();
  // The best tree entry, or nullptr when none has more work than the active tip.
  const BlockIndex* BestLocked() const;

  struct UintLess {
    bool operator()(const Uint256& a, const Uint256& b) const { return a.bytes() < b.bytes(); }
  };

  const ChainState& m_chain;
  const std::size_t m_max_entries;
  mutable std::mutex m_mutex;
  // Guarded by m_mutex. Entries' `status` is 0 (Refresh marks the invalid ones while it runs and
  // drops them).
  std::map<Uint256, std::unique_ptr<BlockIndex>, UintLess> m_entries;
  const BlockIndex* m_best = nullptr;  // the valid entry with the most work; guarded by m_mutex
  std::size_t m_prune_at;              // prune when m_entries reaches it; guarded by m_mutex
  Uint256 m_refreshed_tip;             // the active tip at the last pruning; guarded by m_mutex
};

}  // namespace minicoin
