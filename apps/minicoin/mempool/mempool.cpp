// The memory pool of unconfirmed transactions.
#include "mempool/mempool.h"

#include "validation/tx_check.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <tuple>

namespace minicoin {
namespace {

__extension__ typedef unsigned __int128 Uint128;

// a_fee / a_size < b_fee / b_size, exactly.
bool RateLess(uint64_t a_fee, std::size_t a_size, uint64_t b_fee, std::size_t b_size) {
  return Uint128{a_fee} * b_size < Uint128{b_fee} * a_size;
}

// A std::map node's bookkeeping, for the memory estimate.
constexpr std::size_t kMapNodeOverhead = 48;

}  // namespace

const char* RemovalReasonName(RemovalReason reason) {
  switch (reason) {
    case RemovalReason::kBlock: return "block";
    case RemovalReason::kConflict: return "conflict";
    case RemovalReason::kReorg: return "reorg";
    case RemovalReason::kExpiry: return "expiry";
    case RemovalReason::kSizeLimit: return "size-limit";
  }
  return "unknown";
}

Mempool::Mempool(MempoolOptions options) : m_options(std::move(options)) {}

int64_t Mempool::Now() const {
  if (m_options.clock) return m_options.clock();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Mempool::AcceptResult Mempool::Accept(const Transaction& tx, const CoinsView& chain_coins, uint32_t next_height,
                                      crossproc::WorkerPool& pool) {
  std::unique_lock lock(m_mutex);
  AcceptResult result = AcceptLocked(lock, tx, chain_coins, next_height, pool, false);
  DeliverEvents(lock);
  return result;
}

std::string Mempool::CheckAgainstPool(const Transaction& tx, const Uint256& txid, const CoinsView& chain_coins,
                                      bool bypass_limits, InputsFound& found, const Package* package) const {
  found = {};
  if (m_nodes.contains(txid)) return kRejectAlreadyInPool;
  if (package != nullptr && package->members.contains(txid)) return kRejectPackageDuplicate;
  for (const auto& input : tx.inputs) {
    if (m_spenders.contains(input.prevout)) return kRejectConflict;
    if (package != nullptr && package->spent.contains(input.prevout)) return kRejectPackageConflict;
  }
  found.coins.reserve(tx.inputs.size());
  for (const auto& input : tx.inputs) {
    if (package != nullptr) {
      auto member = package->members.find(input.prevout.txid);
      if (member != package->members.end()) {
        const auto& outputs = member->second->outputs;
        if (input.prevout.index >= outputs.size()) return kRejectMissingInputs;
        found.coins.push_back(Coin{outputs[input.prevout.index], kMempoolHeight, false});
        found.package_parents.insert(member->first);
        continue;
      }
    }
    auto parent = m_nodes.find(input.prevout.txid);
    if (parent != m_nodes.end()) {
      const auto& outputs = parent->second.entry.tx.outputs;
      if (input.prevout.index >= outputs.size()) return kRejectMissingInputs;
      found.coins.push_back(Coin{outputs[input.prevout.index], kMempoolHeight, false});
      found.parents.insert(parent->first);
      continue;
    }
    std::optional<Coin> coin = chain_coins.Get(input.prevout);
    if (!coin) return kRejectMissingInputs;
    found.coins.push_back(*coin);
  }
  if (!bypass_limits) {
    std::set<Uint256> ancestors;
    std::set<Uint256> package_ancestors;
    AncestorsOf(found, package, ancestors, package_ancestors);
    if (ancestors.size() + package_ancestors.size() + 1 > m_options.max_ancestors) return kRejectTooManyAncestors;
    for (const auto& ancestor : ancestors) {
      // Earlier package members below this ancestor count as its descendants too.
      std::size_t package_descendants = 0;
      if (package != nullptr) {
        for (const auto& [member, above] : package->pool_ancestors) {
          if (above.contains(ancestor)) ++package_descendants;
        }
      }
      if (m_nodes.at(ancestor).descendant_count + package_descendants + 1 > m_options.max_descendants) {
        return kRejectTooManyAncestors;
      }
    }
  }
  return {};
}

void Mempool::AncestorsOf(const InputsFound& found, const Package* package, std::set<Uint256>& pool_ancestors,
                          std::set<Uint256>& package_ancestors) const {
  pool_ancestors = AncestorsOfParents(found.parents);
  package_ancestors.clear();
  if (package == nullptr) return;
  for (const Uint256& parent : found.package_parents) {
    const std::set<Uint256>& pool = package->pool_ancestors.at(parent);
    pool_ancestors.insert(pool.begin(), pool.end());
    const std::set<Uint256>& members = package->package_ancestors.at(parent);
    package_ancestors.insert(members.begin(), members.end());
    package_ancestors.insert(parent);
  }
}

Mempool::AcceptResult Mempool::AcceptLocked(std::unique_lock<std::mutex>& lock, const Transaction& tx,
                                            const CoinsView& chain_coins, uint32_t next_height,
                                            crossproc::WorkerPool& pool, bool bypass_limits) {
  AcceptResult result;
  result.txid = tx.Txid();
  auto reject = [&](std::string reason) {
    result.reason = std::move(reason);
    return result;
  };
  if (auto error = CheckTransaction(tx)) return reject(error->reason);
  if (tx.IsCoinbase()) return reject(kRejectCoinbase);
  const std::size_t size = tx.Encode().size();
  if (size > m_options.max_tx_bytes) return reject(kRejectTooLarge);

  InputsFound found;
  if (std::string reason = CheckAgainstPool(tx, result.txid, chain_coins, bypass_limits, found); !reason.empty()) {
    return reject(std::move(reason));
  }
  // The fee rate before the costly signatures (CheckTransactionInputs reports broken amounts).
  uint64_t total_in = 0;
  bool amounts_in_range = true;
  for (const auto& coin : found.coins) {
    if (coin.output.amount > kMaxMoney - total_in) {
      amounts_in_range = false;
      break;
    }
    total_in += coin.output.amount;
  }
  const uint64_t total_out = tx.OutputTotal();
  if (!bypass_limits && amounts_in_range && total_in >= total_out && m_options.min_fee_per_kb > 0) {
    const uint64_t fee = total_in - total_out;
    if (RateLess(fee, size, m_options.min_fee_per_kb, 1000)) return reject(kRejectMinFee);
  }

  // Maturity, amounts and signatures, without the lock: the inputs found are copied.
  lock.unlock();
  MemoryCoins spent;
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) spent.Add(tx.inputs[i].prevout, found.coins[i]);
  uint64_t fee = 0;
  std::optional<ValidationError> error = CheckTransactionInputs(tx, spent, next_height, pool, fee);
  lock.lock();
  if (error) return reject(error->reason);

  // The pool may have changed meanwhile: check again what depends on it.
  InputsFound again;
  if (std::string reason = CheckAgainstPool(tx, result.txid, chain_coins, bypass_limits, again); !reason.empty()) {
    return reject(std::move(reason));
  }
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
    if (again.coins[i].output != found.coins[i].output) return reject(kRejectMissingInputs);
  }

  if (!bypass_limits && m_bytes + size > m_options.max_bytes) {
    std::set<Uint256> keep = AncestorsOfParents(again.parents);
    std::optional<std::set<Uint256>> evict = PlanEviction(m_bytes + size - m_options.max_bytes, keep, fee, size);
    if (!evict) return reject(kRejectPoolFull);
    RemoveSet(*evict, RemovalReason::kSizeLimit);
  }

  MempoolEntry entry{tx, result.txid, fee, size, Now(), {}, next_height > 0 ? next_height - 1 : 0};
  Insert(std::move(entry), again.parents);
  result.accepted = true;
  result.fee = fee;
  return result;
}

std::vector<Mempool::AcceptResult> Mempool::TestAccept(const std::vector<Transaction>& txs,
                                                       const CoinsView& chain_coins, uint32_t next_height,
                                                       crossproc::WorkerPool& pool) const {
  Package package;
  std::size_t package_bytes = 0;
  std::vector<AcceptResult> results;
  for (const Transaction& tx : txs) {
    AcceptResult result;
    result.txid = tx.Txid();
    result.reason = TestOne(tx, result.txid, chain_coins, next_height, pool, package, package_bytes, result.fee);
    result.accepted = result.reason.empty();
    results.push_back(result);
    if (!result.accepted) break;
  }
  return results;
}

std::string Mempool::TestOne(const Transaction& tx, const Uint256& txid, const CoinsView& chain_coins,
                             uint32_t next_height, crossproc::WorkerPool& pool, Package& package,
                             std::size_t& package_bytes, uint64_t& fee) const {
  if (auto error = CheckTransaction(tx)) return error->reason;
  if (tx.IsCoinbase()) return kRejectCoinbase;
  const std::size_t size = tx.Encode().size();
  if (size > m_options.max_tx_bytes) return kRejectTooLarge;

  InputsFound found;
  std::set<Uint256> pool_ancestors;
  std::set<Uint256> package_ancestors;
  {
    std::lock_guard lock(m_mutex);
    if (std::string reason = CheckAgainstPool(tx, txid, chain_coins, false, found, &package); !reason.empty()) {
      return reason;
    }
    AncestorsOf(found, &package, pool_ancestors, package_ancestors);
    // The fee rate and the room in the pool, from the amounts (CheckTransactionInputs below
    // refuses broken ones).
    uint64_t total_in = 0;
    bool amounts_in_range = true;
    for (const auto& coin : found.coins) {
      if (coin.output.amount > kMaxMoney - total_in) {
        amounts_in_range = false;
        break;
      }
      total_in += coin.output.amount;
    }
    const uint64_t total_out = tx.OutputTotal();
    if (amounts_in_range && total_in >= total_out) {
      const uint64_t expected_fee = total_in - total_out;
      if (m_options.min_fee_per_kb > 0 && RateLess(expected_fee, size, m_options.min_fee_per_kb, 1000)) {
        return kRejectMinFee;
      }
      const std::size_t needed = m_bytes + package_bytes + size;
      if (needed > m_options.max_bytes &&
          !PlanEviction(needed - m_options.max_bytes, pool_ancestors, expected_fee, size)) {
        return kRejectPoolFull;
      }
    }
  }

  // Maturity, amounts and signatures, without the lock.
  MemoryCoins spent;
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) spent.Add(tx.inputs[i].prevout, found.coins[i]);
  if (std::optional<ValidationError> error = CheckTransactionInputs(tx, spent, next_height, pool, fee)) {
    return error->reason;
  }
  package.members[txid] = &tx;
  for (const auto& input : tx.inputs) package.spent.insert(input.prevout);
  package.pool_ancestors[txid] = std::move(pool_ancestors);
  package.package_ancestors[txid] = std::move(package_ancestors);
  package_bytes += size;
  return {};
}

std::set<Uint256> Mempool::Ancestors(const Uint256& txid) const {
  auto it = m_nodes.find(txid);
  if (it == m_nodes.end()) return {};
  return AncestorsOfParents(it->second.parents);
}

std::set<Uint256> Mempool::AncestorsOfParents(const std::set<Uint256>& parents) const {
  std::set<Uint256> result;
  std::vector<Uint256> todo(parents.begin(), parents.end());
  while (!todo.empty()) {
    Uint256 txid = todo.back();
    todo.pop_back();
    if (!result.insert(txid).second) continue;
    for (const auto& parent : m_nodes.at(txid).parents) todo.push_back(parent);
  }
  return result;
}

std::set<Uint256> Mempool::WithDescendants(const std::set<Uint256>& txids) const {
  std::set<Uint256> result;
  std::vector<Uint256> todo(txids.begin(), txids.end());
  while (!todo.empty()) {
    Uint256 txid = todo.back();
    todo.pop_back();
    auto it = m_nodes.find(txid);
    if (it == m_nodes.end() || !result.insert(txid).second) continue;
    for (const auto& child : it->second.children) todo.push_back(child);
  }
  return result;
}

void Mempool::RefreshDescendantStats(const std::set<Uint256>& txids) {
  for (const auto& txid : txids) {
    auto it = m_nodes.find(txid);
    if (it == m_nodes.end()) continue;
    Node& node = it->second;
    node.descendant_fee = 0;
    node.descendant_size = 0;
    node.descendant_count = 0;
    for (const auto& member : WithDescendants({txid})) {
      const Node& descendant = m_nodes.at(member);
      node.descendant_fee += descendant.entry.fee;
      node.descendant_size += descendant.entry.size;
      ++node.descendant_count;
    }
  }
}

void Mempool::Insert(MempoolEntry entry, const std::set<Uint256>& parents) {
  const Uint256 txid = entry.txid;
  Node& node = m_nodes[txid];
  node.entry = std::move(entry);
  node.parents = parents;
  node.sequence = m_next_sequence++;
  for (const auto& parent : parents) m_nodes.at(parent).children.insert(txid);
  for (const auto& input : node.entry.tx.inputs) m_spenders[input.prevout] = txid;
  // Pool transactions may already spend its outputs (it came back from a disconnected block).
  for (uint32_t i = 0; i < node.entry.tx.outputs.size(); ++i) {
    auto spender = m_spenders.find(OutPoint{txid, i});
    if (spender == m_spenders.end()) continue;
    node.children.insert(spender->second);
    m_nodes.at(spender->second).parents.insert(txid);
  }
  m_bytes += node.entry.size;
  m_total_fee += node.entry.fee;
  std::set<Uint256> affected = Ancestors(txid);
  affected.insert(txid);
  RefreshDescendantStats(affected);
  Event event;
  event.added = true;
  event.entry = ToEntry(node);
  m_events.push_back(std::move(event));
}

void Mempool::RemoveSet(const std::set<Uint256>& txids, RemovalReason reason) {
  std::set<Uint256> affected;
  std::vector<std::pair<std::size_t, Uint256>> order;  // (ancestor count, txid): children first
  for (const auto& txid : txids) {
    if (!m_nodes.contains(txid)) continue;
    std::set<Uint256> ancestors = Ancestors(txid);
    order.emplace_back(ancestors.size(), txid);
    affected.insert(ancestors.begin(), ancestors.end());
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [count, txid] : order) RemoveOne(txid, reason);
  for (const auto& txid : txids) affected.erase(txid);
  RefreshDescendantStats(affected);
}

void Mempool::RemoveOne(const Uint256& txid, RemovalReason reason) {
  auto it = m_nodes.find(txid);
  if (it == m_nodes.end()) return;
  Node& node = it->second;
  for (const auto& input : node.entry.tx.inputs) {
    auto spender = m_spenders.find(input.prevout);
    if (spender != m_spenders.end() && spender->second == txid) m_spenders.erase(spender);
  }
  for (const auto& parent : node.parents) m_nodes.at(parent).children.erase(txid);
  for (const auto& child : node.children) m_nodes.at(child).parents.erase(txid);
  m_bytes -= node.entry.size;
  m_total_fee -= node.entry.fee;
  Event event;
  event.tx = std::move(node.entry.tx);
  event.reason = reason;
  m_events.push_back(std::move(event));
  m_nodes.erase(it);
}

std::optional<std::set<Uint256>> Mempool::PlanEviction(std::size_t needed, const std::set<Uint256>& keep,
                                                       uint64_t rate_fee, std::size_t rate_size) const {
  std::vector<const Node*> candidates;
  for (const auto& [txid, node] : m_nodes) {
    if (!keep.contains(txid)) candidates.push_back(&node);
  }
  // Lowest descendant fee rate first; among equals, the newest.
  std::sort(candidates.begin(), candidates.end(), [](const Node* a, const Node* b) {
    if (RateLess(a->descendant_fee, a->descendant_size, b->descendant_fee, b->descendant_size)) return true;
    if (RateLess(b->descendant_fee, b->descendant_size, a->descendant_fee, a->descendant_size)) return false;
    return a->sequence > b->sequence;
  });
  std::set<Uint256> evict;
  std::size_t freed = 0;
  for (const Node* candidate : candidates) {
    if (freed >= needed) break;
    if (evict.contains(candidate->entry.txid)) continue;
    if (rate_size != 0 && !RateLess(candidate->descendant_fee, candidate->descendant_size, rate_fee, rate_size)) {
      return std::nullopt;
    }
    std::set<Uint256> package = WithDescendants({candidate->entry.txid});
    if (std::any_of(package.begin(), package.end(), [&](const Uint256& txid) { return keep.contains(txid); })) continue;
    for (const auto& txid : package) {
      if (evict.insert(txid).second) freed += m_nodes.at(txid).entry.size;
    }
  }
  if (freed < needed) return std::nullopt;
  return evict;
}

void Mempool::RemoveForBlock(const Block& block) {
  std::unique_lock lock(m_mutex);
  for (const auto& tx : block.transactions) {
    Uint256 txid = tx.Txid();
    if (m_nodes.contains(txid)) RemoveSet({txid}, RemovalReason::kBlock);
  }
  std::set<Uint256> conflicts;
  for (const auto& tx : block.transactions) {
    if (tx.IsCoinbase()) continue;
    for (const auto& input : tx.inputs) {
      auto spender = m_spenders.find(input.prevout);
      if (spender != m_spenders.end()) conflicts.insert(spender->second);
    }
  }
  RemoveSet(WithDescendants(conflicts), RemovalReason::kConflict);
  DeliverEvents(lock);
}

void Mempool::Reorganized(const std::vector<Transaction>& disconnected, const CoinsView& chain_coins,
                          uint32_t next_height, crossproc::WorkerPool& pool,
                          const std::function<bool(const Transaction&)>& is_final) {
  std::unique_lock lock(m_mutex);
  for (const auto& tx : disconnected) {
    if (tx.IsCoinbase() || (is_final && !is_final(tx))) continue;
    AcceptLocked(lock, tx, chain_coins, next_height, pool, true);
  }
  std::set<Uint256> failed;
  for (const auto& [txid, node] : m_nodes) {
    if (is_final && !is_final(node.entry.tx)) {
      failed.insert(txid);
      continue;
    }
    for (const auto& input : node.entry.tx.inputs) {
      if (node.parents.contains(input.prevout.txid)) continue;
      std::optional<Coin> coin = chain_coins.Get(input.prevout);
      if (!coin || (coin->coinbase && next_height < coin->height + kCoinbaseMaturity)) {
        failed.insert(txid);
        break;
      }
    }
  }
  RemoveSet(WithDescendants(failed), RemovalReason::kReorg);
  if (m_bytes > m_options.max_bytes) {
    if (auto evict = PlanEviction(m_bytes - m_options.max_bytes, {}, 0, 0)) {
      RemoveSet(*evict, RemovalReason::kSizeLimit);
    }
  }
  DeliverEvents(lock);
}

std::size_t Mempool::Expire(int64_t cutoff_time) {
  std::unique_lock lock(m_mutex);
  std::set<Uint256> expired;
  for (const auto& [txid, node] : m_nodes) {
    if (node.entry.time < cutoff_time) expired.insert(txid);
  }
  std::set<Uint256> removed = WithDescendants(expired);
  RemoveSet(removed, RemovalReason::kExpiry);
  DeliverEvents(lock);
  return removed.size();
}

MempoolEntry Mempool::ToEntry(const Node& node) const {
  MempoolEntry entry = node.entry;
  entry.depends.assign(node.parents.begin(), node.parents.end());
  return entry;
}

bool Mempool::Contains(const Uint256& txid) const {
  std::lock_guard lock(m_mutex);
  return m_nodes.contains(txid);
}

std::optional<MempoolEntry> Mempool::Get(const Uint256& txid) const {
  std::lock_guard lock(m_mutex);
  auto it = m_nodes.find(txid);
  if (it == m_nodes.end()) return std::nullopt;
  return ToEntry(it->second);
}

std::vector<const Mempool::Node*> Mempool::InParentOrder() const {
  // A transaction has more ancestors than each of its parents: sorting by the count puts
  // parents first.
  std::vector<std::tuple<std::size_t, uint64_t, const Node*>> order;
  order.reserve(m_nodes.size());
  for (const auto& [txid, node] : m_nodes) order.emplace_back(Ancestors(txid).size(), node.sequence, &node);
  std::sort(order.begin(), order.end());
  std::vector<const Node*> nodes;
  nodes.reserve(order.size());
  for (const auto& item : order) nodes.push_back(std::get<2>(item));
  return nodes;
}

std::vector<MempoolEntry> Mempool::Entries() const {
  std::lock_guard lock(m_mutex);
  std::vector<MempoolEntry> entries;
  for (const Node* node : InParentOrder()) entries.push_back(ToEntry(*node));
  return entries;
}

Mempool::EntryDetails Mempool::DetailsOf(const Node& node) const {
  EntryDetails details;
  details.entry = ToEntry(node);
  details.ancestor_count = 1;
  details.ancestor_size = node.entry.size;
  details.ancestor_fee = node.entry.fee;
  for (const Uint256& ancestor : Ancestors(node.entry.txid)) {
    const MempoolEntry& entry = m_nodes.at(ancestor).entry;
    ++details.ancestor_count;
    details.ancestor_size += entry.size;
    details.ancestor_fee += entry.fee;
  }
  details.descendant_count = node.descendant_count;
  details.descendant_size = node.descendant_size;
  details.descendant_fee = node.descendant_fee;
  details.spent_by.assign(node.children.begin(), node.children.end());
  return details;
}

std::optional<Mempool::EntryDetails> Mempool::GetDetails(const Uint256& txid) const {
  std::lock_guard lock(m_mutex);
  auto it = m_nodes.find(txid);
  if (it == m_nodes.end()) return std::nullopt;
  return DetailsOf(it->second);
}

std::vector<Mempool::EntryDetails> Mempool::AllDetails() const {
  std::lock_guard lock(m_mutex);
  std::vector<EntryDetails> all;
  for (const Node* node : InParentOrder()) all.push_back(DetailsOf(*node));
  return all;
}

std::vector<Uint256> Mempool::Txids() const {
  std::lock_guard lock(m_mutex);
  std::vector<Uint256> txids;
  txids.reserve(m_nodes.size());
  for (const auto& [txid, node] : m_nodes) txids.push_back(txid);
  return txids;
}

bool Mempool::IsSpent(const OutPoint& outpoint) const {
  std::lock_guard lock(m_mutex);
  return m_spenders.contains(outpoint);
}

std::optional<Uint256> Mempool::GetSpender(const OutPoint& outpoint) const {
  std::lock_guard lock(m_mutex);
  auto it = m_spenders.find(outpoint);
  if (it == m_spenders.end()) return std::nullopt;
  return it->second;
}

std::optional<Coin> Mempool::GetPoolCoin(const OutPoint& outpoint) const {
  std::lock_guard lock(m_mutex);
  auto it = m_nodes.find(outpoint.txid);
  if (it == m_nodes.end() || outpoint.index >= it->second.entry.tx.outputs.size()) return std::nullopt;
  return Coin{it->second.entry.tx.outputs[outpoint.index], kMempoolHeight, false};
}

Mempool::Info Mempool::GetInfo() const {
  std::lock_guard lock(m_mutex);
  Info info;
  info.size = m_nodes.size();
  info.bytes = m_bytes;
  info.total_fee = m_total_fee;
  info.max_bytes = m_options.max_bytes;
  for (const auto& [txid, node] : m_nodes) {
    const Transaction& tx = node.entry.tx;
    info.usage += sizeof(Node) + kMapNodeOverhead + tx.inputs.capacity() * sizeof(TxIn) +
                  tx.outputs.capacity() * sizeof(TxOut) +
                  (node.parents.size() + node.children.size()) * (sizeof(Uint256) + kMapNodeOverhead) +
                  tx.inputs.size() * (sizeof(OutPoint) + sizeof(Uint256) + kMapNodeOverhead);
  }
  return info;
}

std::vector<MempoolEntry> Mempool::SelectForBlock(std::size_t max_bytes, std::size_t max_count) const {
  std::lock_guard lock(m_mutex);
  // Greedy selection by ancestor package: take the transaction whose not-yet-selected ancestors
  // and itself pay the best rate, add that package (parents first), and lower the package
  // figures of its descendants.
  const std::size_t count = m_nodes.size();
  std::vector<const Node*> nodes;
  std::map<Uint256, std::size_t> index;
  nodes.reserve(count);
  for (const auto& [txid, node] : m_nodes) {
    index.emplace(txid, nodes.size());
    nodes.push_back(&node);
  }
  std::vector<std::vector<std::size_t>> ancestors(count);  // without the transaction itself
  std::vector<uint64_t> package_fee(count);
  std::vector<std::size_t> package_size(count);
  for (std::size_t i = 0; i < count; ++i) {
    package_fee[i] = nodes[i]->entry.fee;
    package_size[i] = nodes[i]->entry.size;
    for (const auto& ancestor : Ancestors(nodes[i]->entry.txid)) {
      std::size_t a = index.at(ancestor);
      ancestors[i].push_back(a);
      package_fee[i] += nodes[a]->entry.fee;
      package_size[i] += nodes[a]->entry.size;
    }
  }
  auto better = [&](std::size_t a, std::size_t b) {
    if (RateLess(package_fee[b], package_size[b], package_fee[a], package_size[a])) return true;
    if (RateLess(package_fee[a], package_size[a], package_fee[b], package_size[b])) return false;
    if (package_size[a] != package_size[b]) return package_size[a] < package_size[b];
    return nodes[a]->sequence < nodes[b]->sequence;
  };
  std::set<std::size_t, decltype(better)> queue(better);
  for (std::size_t i = 0; i < count; ++i) queue.insert(i);
  std::vector<bool> selected(count, false);
  std::vector<MempoolEntry> result;
  std::size_t remaining = max_bytes;
  while (!queue.empty() && result.size() < max_count) {
    const std::size_t best = *queue.begin();
    queue.erase(queue.begin());
    std::vector<std::size_t> package{best};
    for (std::size_t a : ancestors[best]) {
      if (!selected[a]) package.push_back(a);
    }
    if (package_size[best] > remaining || result.size() + package.size() > max_count) continue;
    std::sort(package.begin(), package.end(),
              [&](std::size_t a, std::size_t b) { return ancestors[a].size() < ancestors[b].size(); });
    for (std::size_t member : package) {
      selected[member] = true;
      queue.erase(member);
      result.push_back(ToEntry(*nodes[member]));
      remaining -= nodes[member]->entry.size;
    }
    for (std::size_t member : package) {
      for (const auto& descendant : WithDescendants(nodes[member]->children)) {
        std::size_t d = index.at(descendant);
        if (selected[d]) continue;
        bool queued = queue.erase(d) > 0;
        package_fee[d] -= nodes[member]->entry.fee;
        package_size[d] -= nodes[member]->entry.size;
        if (queued) queue.insert(d);
      }
    }
  }
  return result;
}

void Mempool::AddListener(MempoolListener* listener) {
  std::lock_guard lock(m_mutex);
  m_listeners.push_back(listener);
}

void Mempool::RemoveListener(MempoolListener* listener) {
  std::unique_lock lock(m_mutex);
  std::erase(m_listeners, listener);
  if (m_delivering_thread == std::this_thread::get_id()) return;
  m_delivered.wait(lock, [&] { return m_calling != listener; });
}

void Mempool::DeliverEvents(std::unique_lock<std::mutex>& lock) {
  while (!m_delivering && !m_events.empty()) {
    m_delivering = true;
    m_delivering_thread = std::this_thread::get_id();
    Event event = std::move(m_events.front());
    m_events.pop_front();
    std::vector<MempoolListener*> listeners = m_listeners;
    for (MempoolListener* listener : listeners) {
      if (std::find(m_listeners.begin(), m_listeners.end(), listener) == m_listeners.end()) continue;
      m_calling = listener;
      lock.unlock();
      try {
        if (event.added) {
          listener->TransactionAdded(event.entry);
        } else {
          listener->TransactionRemoved(event.tx, event.reason);
        }
      } catch (...) {
        lock.lock();
        m_calling = nullptr;
        m_delivering = false;
        m_delivering_thread = {};
        m_delivered.notify_all();
        throw;
      }
      lock.lock();
      m_calling = nullptr;
      m_delivered.notify_all();
    }
    m_delivering = false;
    m_delivering_thread = {};
  }
}

std::optional<Coin> MempoolCoinsView::Get(const OutPoint& outpoint) const {
  if (m_mempool.IsSpent(outpoint)) return std::nullopt;
  if (auto coin = m_mempool.GetPoolCoin(outpoint)) return coin;
  return m_chain.Get(outpoint);
}

}  // namespace minicoin
