// The coin set of the chain database seen through a memory cache.
#include "chain/coins_cache.h"

#include "storage/database.h"
#include "storage/records.h"

#include <cstring>
#include <random>
#include <stdexcept>

namespace minicoin {
namespace {

// What the C library's allocator takes for a block of `bytes` (a 64-bit glibc: an 8-byte header,
// 16-byte alignment, 32 bytes at least).
std::size_t AllocatedBytes(std::size_t bytes) {
  std::size_t chunk = (bytes + 8 + 15) & ~std::size_t{15};
  return chunk < 32 ? 32 : chunk;
}

uint64_t RandomSalt() {
  std::random_device random;
  return (static_cast<uint64_t>(random()) << 32) | random();
}

}  // namespace

std::size_t CoinsCache::Hash::operator()(const OutPoint& outpoint) const noexcept {
  // Transaction ids are hashes already; the salt keeps ground ids from filling one bucket.
  uint64_t head = 0;
  std::memcpy(&head, outpoint.txid.data(), sizeof(head));
  uint64_t value = (head ^ salt) + outpoint.index * 0x9e3779b97f4a7c15ull;
  value ^= value >> 31;
  value *= 0xbf58476d1ce4e5b9ull;
  value ^= value >> 29;
  return static_cast<std::size_t>(value);
}

CoinsCache::CoinsCache(Database& db) : m_db(db), m_entries(0, Hash{RandomSalt()}) {}

CoinsCache::Map::iterator CoinsCache::Fetch(const OutPoint& outpoint) const {
  auto it = m_entries.find(outpoint);
  if (it != m_entries.end()) return it->second.spent ? m_entries.end() : it;
  std::optional<std::string> bytes = m_db.Get(CoinKey(outpoint));
  if (!bytes) return m_entries.end();
  Entry entry;
  try {
    entry.coin = DecodeCoin(*bytes);
  } catch (const DecodeError& e) {
    throw std::runtime_error("bad coin record for " + outpoint.txid.ToHex() + ":" +
                             std::to_string(outpoint.index) + ": " + e.what());
  }
  return m_entries.emplace(outpoint, entry).first;
}

void CoinsCache::MarkDirty(Entry& entry) const {
  if (!entry.dirty) ++m_dirty;
  entry.dirty = true;
}

std::optional<Coin> CoinsCache::Get(const OutPoint& outpoint) const {
  auto it = Fetch(outpoint);
  if (it == m_entries.end()) return std::nullopt;
  return it->second.coin;
}

void CoinsCache::Add(const OutPoint& outpoint, const Coin& coin) {
  auto [it, inserted] = m_entries.try_emplace(outpoint);
  Entry& entry = it->second;
  if (inserted) entry.fresh = true;  // the caller's promise: nothing unspent is stored there
  // A spent mark stands for a stored coin, so the entry stays not fresh: the flush overwrites it.
  entry.coin = coin;
  entry.spent = false;
  MarkDirty(entry);
}

std::optional<Coin> CoinsCache::Spend(const OutPoint& outpoint) {
  auto it = Fetch(outpoint);
  if (it == m_entries.end()) return std::nullopt;
  Coin coin = it->second.coin;
  if (it->second.fresh) {
    if (it->second.dirty) --m_dirty;
    m_entries.erase(it);
  } else {
    it->second.spent = true;
    MarkDirty(it->second);
  }
  return coin;
}

void CoinsCache::Flush(DatabaseBatch& batch, bool sync) {
  for (const auto& [outpoint, entry] : m_entries) {
    if (!entry.dirty) continue;
    if (entry.spent) {
      batch.Delete(CoinKey(outpoint));
    } else {
      batch.Put(CoinKey(outpoint), EncodeCoin(entry.coin));
    }
  }
  m_db.Write(batch, sync);
  m_entries = Map(0, m_entries.hash_function());  // gives the buckets back too
  m_dirty = 0;
  ++m_flushes;
}

void CoinsCache::ForEachChange(
    const std::function<void(const OutPoint&, const std::optional<Coin>&)>& fn) const {
  for (const auto& [outpoint, entry] : m_entries) {
    if (!entry.dirty) continue;
    fn(outpoint, entry.spent ? std::nullopt : std::optional<Coin>(entry.coin));
  }
}

std::size_t CoinsCache::MemoryUsage() const {
  // A node holds the next pointer and the key-value pair.
  const std::size_t node = AllocatedBytes(sizeof(void*) + sizeof(Map::value_type));
  return m_entries.size() * node + AllocatedBytes(m_entries.bucket_count() * sizeof(void*));
}

}  // namespace minicoin
