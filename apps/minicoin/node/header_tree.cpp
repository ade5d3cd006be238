// HeaderTree: checking and remembering headers ahead of their blocks.
#include "node/header_tree.h"

#include "chain/params.h"
#include "chain/work.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace minicoin {
namespace {

HeaderRef RefOf(const BlockIndex& index) { return HeaderRef{index.hash, index.height, index.chain_work}; }

}  // namespace

HeaderTree::HeaderTree(const ChainState& chain, std::size_t max_entries)
    : m_chain(chain), m_max_entries(max_entries), m_prune_at(std::min(kHeaderTreePruneFloor, max_entries)) {}

HeaderTree::~HeaderTree() = default;

bool HeaderTree::Owns(const BlockIndex* index) const {
  if (index == nullptr) return false;
  auto it = m_entries.find(index->hash);
  return it != m_entries.end() && it->second.get() == index;
}

const BlockIndex* HeaderTree::FindLocked(const Uint256& hash) const {
  if (const BlockIndex* stored = m_chain.Lookup(hash)) return stored;
  auto it = m_entries.find(hash);
  return it == m_entries.end() ? nullptr : it->second.get();
}

bool HeaderTree::IsInvalidLocked(const BlockIndex& index) const {
  if (!Owns(&index)) {
    return (m_chain.StatusOf(index) & (BlockIndex::kFailed | BlockIndex::kFailedParent)) != 0;
  }
  // Refresh dropped the entries it found invalid; marks the chain state set since, on this block
  // or its parent, are read here.
  for (const BlockIndex* walk : {&index, index.prev}) {
    if (walk == nullptr) continue;
    const BlockIndex* stored = m_chain.Lookup(walk->hash);
    if (stored != nullptr && (m_chain.StatusOf(*stored) & (BlockIndex::kFailed | BlockIndex::kFailedParent)) != 0) {
      return true;
    }
  }
  return false;
}

HeadersResult HeaderTree::AcceptHeaders(const std::vector<BlockHeader>& headers, int64_t now) {
  std::lock_guard<std::mutex> lock(m_mutex);
  HeadersResult result;
  auto fail = [&](std::string error, bool fault) {
    result.error = std::move(error);
    result.peer_fault = fault;
    return result;
  };
  Uint256 previous_hash;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const BlockHeader& header = headers[i];
    const Uint256 hash = header.Hash();
    if (i > 0 && header.previous != previous_hash) {
      return fail("headers are not in a chain: header " + std::to_string(i) + " does not follow the one before it",
                  true);
    }
    previous_hash = hash;
    if (const BlockIndex* known = FindLocked(hash)) {
      if (i == 0) result.connects = true;
      if (IsInvalidLocked(*known)) return fail("header of an invalid block " + hash.ToHex(), true);
      result.last = RefOf(*known);
      continue;
    }
    const BlockIndex* parent = FindLocked(header.previous);
    if (parent == nullptr) return fail("headers do not connect", false);
    if (i == 0) result.connects = true;
    if (IsInvalidLocked(*parent)) return fail("header descends from an invalid block (bad-prevblk)", true);
    if (!CheckProofOfWork(hash, header.bits)) return fail("bad proof of work", true);
    if (header.bits != m_chain.NextBits(*parent)) return fail("wrong difficulty bits (bad-diffbits)", true);
    if (header.time <= m_chain.MedianTimePast(*parent)) {
      return fail("time not after the median time past (time-too-old)", true);
    }
    if (static_cast<int64_t>(header.time) > now + kMaxFutureBlockTime) {
      return fail("time too far in the future (time-too-new)", false);
    }
    // A full tree is pruned again only once the tip moved (pruning can free nothing before).
    if (m_entries.size() >= m_prune_at && (m_entries.size() < m_max_entries || m_chain.Tip().hash != m_refreshed_tip)) {
      RefreshLocked();
    }
    if (m_entries.size() >= m_max_entries) return fail("header tree full", false);
    // Refresh may have replaced the parent by the chain state's entry for it.
    parent = FindLocked(header.previous);
    if (parent == nullptr) return fail("headers do not connect", false);

    auto entry = std::make_unique<BlockIndex>();
    entry->hash = hash;
    entry->header = header;
    entry->height = parent->height + 1;
    entry->chain_work = Add256(parent->chain_work, BlockWork(header.bits));
    entry->prev = parent;
    const BlockIndex* added = entry.get();
    m_entries.emplace(hash, std::move(entry));
    if (m_best == nullptr || m_best->chain_work < added->chain_work) m_best = added;
    result.last = RefOf(*added);
  }
  return result;
}

const BlockIndex* HeaderTree::BestLocked() const {
  if (m_best == nullptr) return nullptr;
  if (!(m_chain.Tip().chain_work < m_best->chain_work)) return nullptr;
  return m_best;
}

HeaderRef HeaderTree::BestHeader() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  const BlockIndex* best = BestLocked();
  return RefOf(best != nullptr ? *best : m_chain.Tip());
}

std::optional<HeaderRef> HeaderTree::Find(const Uint256& hash) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  const BlockIndex* index = FindLocked(hash);
  if (index == nullptr) return std::nullopt;
  return RefOf(*index);
}

bool HeaderTree::Contains(const Uint256& hash) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_entries.contains(hash);
}

std::size_t HeaderTree::size() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_entries.size();
}

std::vector<Uint256> HeaderTree::Locator() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  const BlockIndex* walk = BestLocked();
  if (walk == nullptr) walk = &m_chain.Tip();
  // From the best header's parent: a peer whose chain ends at our best header then answers with
  // at least that header, which tells us it has it (a node whose net process restarted must
  // learn what each peer has even when it knows every header already).
  if (walk->prev != nullptr) walk = walk->prev;
  std::vector<Uint256> locator;
  uint32_t step = 1;
  while (walk != nullptr) {
    if (locator.size() + 1 == kMaxLocatorSize && walk->height != 0) walk = &m_chain.Genesis();
    locator.push_back(walk->hash);
    if (walk->height == 0) break;
    if (locator.size() >= 10) step *= 2;
    const uint32_t next = walk->height > step ? walk->height - step : 0;
    // The active chain answers by height at once; other branches are walked.
    walk = !Owns(walk) && m_chain.IsActive(*walk) ? m_chain.AtHeight(next) : walk->Ancestor(next);
  }
  return locator;
}

std::vector<Uint256> HeaderTree::MissingBlocks(const Uint256& target_hash, std::size_t max, uint32_t max_height,
                                               const std::function<bool(const Uint256&)>& skip) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  std::vector<Uint256> missing;
  const BlockIndex* target = FindLocked(target_hash);
  if (target == nullptr || max == 0 || IsInvalidLocked(*target)) return missing;
  // The fork by hash: until Refresh swaps them out, the tree's own entries stand for blocks the
  // chain stored since, so following pointers into the active chain would find the fork where
  // the tree was last refreshed, and every block above it would be looked up on each call.
  const BlockIndex* fork = target->Ancestor(std::min(target->height, m_chain.Height()));
  while (fork != nullptr) {
    const BlockIndex* active = m_chain.AtHeight(fork->height);
    if (active != nullptr && active->hash == fork->hash) break;
    fork = fork->prev;
  }
  if (fork == nullptr) return missing;
  const uint32_t top = std::min(target->height, max_height);
  if (top <= fork->height) return missing;
  std::vector<const BlockIndex*> path;
  for (const BlockIndex* walk = target->Ancestor(top); walk != nullptr && walk->height > fork->height;
       walk = walk->prev) {
    path.push_back(walk);
  }
  std::reverse(path.begin(), path.end());
  for (const BlockIndex* index : path) {
    if (missing.size() == max) break;
    const BlockIndex* stored = m_chain.Lookup(index->hash);
    if (stored != nullptr && (m_chain.StatusOf(*stored) & BlockIndex::kHaveData) != 0) continue;
    if (skip && skip(index->hash)) continue;
    missing.push_back(index->hash);
  }
  return missing;
}

void HeaderTree::Refresh() {
  std::lock_guard<std::mutex> lock(m_mutex);
  RefreshLocked();
}

void HeaderTree::RefreshLocked() {
  // 1. Entries whose blocks the chain state stores give way to its entries.
  std::unordered_map<const BlockIndex*, const BlockIndex*> replaced;
  for (const auto& [hash, entry] : m_entries) {
    if (const BlockIndex* stored = m_chain.Lookup(hash)) replaced.emplace(entry.get(), stored);
  }
  for (const auto& [hash, entry] : m_entries) {
    if (auto it = replaced.find(entry->prev); it != replaced.end()) entry->prev = it->second;
  }
  for (const auto& [entry, stored] : replaced) {
    const Uint256 hash = entry->hash;  // a copy: erasing destroys the entry
    m_entries.erase(hash);
  }

  // 2. Parents before children.
  std::vector<BlockIndex*> order;
  order.reserve(m_entries.size());
  for (const auto& [hash, entry] : m_entries) order.push_back(entry.get());
  std::sort(order.begin(), order.end(), [](const BlockIndex* a, const BlockIndex* b) { return a->height < b->height; });

  // 3. Invalid branches, and the most work in each entry's subtree (children before parents).
  constexpr uint32_t kInvalid = BlockIndex::kFailed | BlockIndex::kFailedParent;
  for (BlockIndex* entry : order) {
    const bool parent_invalid = Owns(entry->prev) ? (entry->prev->status & BlockIndex::kFailedParent) != 0
                                                  : (m_chain.StatusOf(*entry->prev) & kInvalid) != 0;
    entry->status = parent_invalid ? static_cast<uint32_t>(BlockIndex::kFailedParent) : 0u;
  }
  std::unordered_map<const BlockIndex*, Uint256> subtree_work;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const BlockIndex* entry = *it;
    Uint256& work = subtree_work[entry];
    if (entry->status == 0 && work < entry->chain_work) work = entry->chain_work;
    if (Owns(entry->prev)) {
      Uint256& parent_work = subtree_work[entry->prev];
      if (parent_work < work) parent_work = work;
    }
  }

  // 4. Drop invalid entries, and branches with less work than the tip far below it.
  const BlockIndex& tip = m_chain.Tip();
  std::unordered_set<const BlockIndex*> dropped;
  for (const BlockIndex* entry : order) {
    const bool stale = subtree_work[entry] < tip.chain_work &&
                       static_cast<uint64_t>(entry->height) + kHeaderTreeStaleDepth < tip.height;
    if (entry->status != 0 || stale || dropped.contains(entry->prev)) dropped.insert(entry);
  }
  for (const BlockIndex* entry : dropped) {
    const Uint256 hash = entry->hash;  // a copy: erasing destroys the entry
    m_entries.erase(hash);
  }

  // 5. The best entry.
  m_best = nullptr;
  for (const auto& [hash, entry] : m_entries) {
    if (m_best == nullptr || m_best->chain_work < entry->chain_work) m_best = entry.get();
  }
  m_prune_at = std::min(m_max_entries, std::max(kHeaderTreePruneFloor, 2 * m_entries.size()));
  m_refreshed_tip = tip.hash;
}

}  // namespace minicoin

