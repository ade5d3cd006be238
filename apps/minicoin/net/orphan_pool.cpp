// OrphanPool: bounded storage of transactions waiting for their parents.
#include "net/orphan_pool.h"

#include <utility>

namespace minicoin::net {

OrphanPool::OrphanPool(std::size_t max_count, std::size_t max_bytes,
                       std::chrono::microseconds expiry)
    : m_max_count(max_count), m_max_bytes(max_bytes), m_expiry(expiry) {}

bool OrphanPool::Add(OrphanTx orphan) {
  if (m_max_count == 0 || orphan.missing_parents.empty() || orphan.data.size() > m_max_bytes ||
      m_orphans.contains(orphan.txid)) {
    return false;
  }
  while (!m_orphans.empty() &&
         (m_orphans.size() + 1 > m_max_count || m_bytes + orphan.data.size() > m_max_bytes)) {
    Erase(m_by_age.begin()->second);
  }
  const Uint256 txid = orphan.txid;
  const auto age = std::make_pair(orphan.added, m_sequence++);
  for (const Uint256& parent : orphan.missing_parents) m_by_parent[parent].insert(txid);
  m_by_age.emplace(age, txid);
  m_age_of.emplace(txid, age);
  m_bytes += orphan.data.size();
  m_orphans.emplace(txid, std::move(orphan));
  return true;
}

std::vector<OrphanTx> OrphanPool::TakeChildrenOf(const std::vector<Uint256>& parents) {
  std::set<std::pair<std::chrono::microseconds, uint64_t>> ages;
  for (const Uint256& parent : parents) {
    const auto it = m_by_parent.find(parent);
    if (it == m_by_parent.end()) continue;
    for (const Uint256& child : it->second) ages.insert(m_age_of.at(child));
  }
  std::vector<OrphanTx> children;
  children.reserve(ages.size());
  for (const auto& age : ages) {
    const Uint256 txid = m_by_age.at(age);
    children.push_back(m_orphans.at(txid));
    Erase(txid);
  }
  return children;
}

std::size_t OrphanPool::EraseFrom(PeerId peer) {
  std::vector<Uint256> doomed;
  for (const auto& [txid, orphan] : m_orphans) {
    if (orphan.from == peer) doomed.push_back(txid);
  }
  for (const Uint256& txid : doomed) Erase(txid);
  return doomed.size();
}

std::size_t OrphanPool::Expire(std::chrono::microseconds now) {
  std::size_t expired = 0;
  while (!m_by_age.empty() && now - m_by_age.begin()->first.first > m_expiry) {
    Erase(m_by_age.begin()->second);
    ++expired;
  }
  return expired;
}

void OrphanPool::Erase(const Uint256& txid) {
  const auto it = m_orphans.find(txid);
  if (it == m_orphans.end()) return;
  for (const Uint256& parent : it->second.missing_parents) {
    const auto children = m_by_parent.find(parent);
    if (children == m_by_parent.end()) continue;
    children->second.erase(txid);
    if (children->second.empty()) m_by_parent.erase(children);
  }
  const auto age = m_age_of.find(txid);
  m_by_age.erase(age->second);
  m_age_of.erase(age);
  m_bytes -= it->second.data.size();
  m_orphans.erase(it);
}

}  // namespace minicoin::net
