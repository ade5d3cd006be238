// OrphanPool: transactions whose inputs spend transactions the node does not know yet, kept
// until those parents arrive, bounded by count, bytes and age.
#pragma once

#include "net/peer_handler.h"
#include "primitives/hash.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace minicoin::net {

// One orphan transaction. Value type.
struct OrphanTx {
  Uint256 txid;
  std::vector<uint8_t> data;             // Transaction::Encode
  std::vector<Uint256> missing_parents;  // the parents the node reported unknown
  PeerId from = 0;                       // the peer that sent it
  std::chrono::microseconds added{0};
};

// The orphan transactions of the peer logic. Each orphan is indexed by its missing parents, so
// that when a parent is accepted its children can be retried. Bounds: at most `max_count`
// orphans and `max_bytes` of encoded transactions (a larger transaction is refused); adding past
// a bound evicts the oldest orphans; an orphan older than `expiry` is dropped by Expire. Memory
// is bounded by max_bytes plus a fixed cost per orphan and per missing parent (at most
// kMaxTransactionInputs each, checked by the caller's decoder). Event-loop thread only (the peer
// logic's message thread).
//
//   OrphanPool pool(100, 100'000, std::chrono::minutes(20));
//   pool.Add({txid, bytes, {parent}, peer, now});
//   for (OrphanTx& child : pool.TakeChildrenOf({parent})) Retry(child);
class OrphanPool {
 public:
  OrphanPool(std::size_t max_count, std::size_t max_bytes, std::chrono::microseconds expiry);
  OrphanPool(const OrphanPool&) = delete;
  OrphanPool& operator=(const OrphanPool&) = delete;

  // Keeps `orphan`, evicting the oldest orphans if a bound would be exceeded. False (and nothing
  // changes) if it is already kept, has no missing parent, or alone exceeds max_bytes.
  bool Add(OrphanTx orphan);
  bool Contains(const Uint256& txid) const { return m_orphans.contains(txid); }
  // Removes and returns the orphans missing any of `parents`, oldest first.
  std::vector<OrphanTx> TakeChildrenOf(const std::vector<Uint256>& parents);
  // Drops the orphans `peer` sent; returns how many.
  std::size_t EraseFrom(PeerId peer);
  // Drops the orphans added more than `expiry` before `now`; returns how many.
  std::size_t Expire(std::chrono::microseconds now);

  std::size_t size() const { return m_orphans.size(); }
  std::size_t bytes() const { return m_bytes; }

 private:
  void Erase(const Uint256& txid);

  const std::size_t m_max_count;
  const std::size_t m_max_bytes;
  const std::chrono::microseconds m_expiry;
  std::map<Uint256, OrphanTx> m_orphans;
  // (added, sequence) -> txid: the eviction and expiry order.
  std::map<std::pair<std::chrono::microseconds, uint64_t>, Uint256> m_by_age;
  std::map<Uint256, std::pair<std::chrono::microseconds, uint64_t>> m_age_of;
  // parent txid -> the orphans missing it.
  std::map<Uint256, std::set<Uint256>> m_by_parent;
  std::size_t m_bytes = 0;
  uint64_t m_sequence = 0;
};

}  // namespace minicoin::net
