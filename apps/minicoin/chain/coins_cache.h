// CoinsCache: the stored coin set seen through a memory cache of the coins read or changed.
#pragma once

#include "validation/coins.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

namespace minicoin {

class Database;
class DatabaseBatch;

// The coin set stored in a chain database (`c<txid><index>` records), with every coin read or
// changed since the last flush kept in memory. Each cached entry is a coin or a "spent" mark,
// with two flags:
//   dirty  the entry differs from the database: a flush writes it (a put, or a delete for a
//          spent mark);
//   fresh  the database has no coin at this outpoint: spending the entry simply forgets it,
//          since there is nothing stored to delete.
// A clean entry is a coin read from the database; spent marks are always dirty and never fresh.
// Flush() writes the changes in one batch together with whatever the caller put in it (the
// best-block record), then empties the cache, so memory stays bounded by how often the owner
// flushes.
//
// Adding a coin at an outpoint not in the cache marks it fresh: the caller promises that the
// database has no unspent coin there. Connecting and disconnecting blocks of one chain keeps
// that promise (a transaction id is unique in an active chain: coinbases carry their height
// and other transactions spend outputs no other transaction spends; a coin restored by a
// disconnection was spent, so either its spent mark is cached or its deletion was flushed).
//
// Not thread-safe, not even for Get (a read fills the cache): the owner serializes every call.
// The database must outlive the cache.
//
//   CoinsCache coins(db);
//   coins.Add(outpoint, coin);                        // in memory only
//   DatabaseBatch batch; batch.Put("B", best);
//   coins.Flush(batch, /*sync=*/true);                // the coin and "B" land together
class CoinsCache final : public CoinsSet {
 public:
  explicit CoinsCache(Database& db);
  CoinsCache(const CoinsCache&) = delete;
  CoinsCache& operator=(const CoinsCache&) = delete;

  // The coin, from the cache or else the database (then cached). Throws std::runtime_error if
  // the stored coin does not decode.
  std::optional<Coin> Get(const OutPoint& outpoint) const override;
  void Add(const OutPoint& outpoint, const Coin& coin) override;
  std::optional<Coin> Spend(const OutPoint& outpoint) override;

  // Adds every change to `batch` (after what the caller put there), writes the batch in one
  // step (synced to disk with `sync`) and empties the cache. If the write throws, the cache
  // keeps every entry and the database is unchanged.
  void Flush(DatabaseBatch& batch, bool sync);

  // Calls fn for every change not yet flushed, in no particular order: the coin, or nullopt
  // for a coin spent since the last flush.
  void ForEachChange(
      const std::function<void(const OutPoint&, const std::optional<Coin>&)>& fn) const;

  // An estimate of the heap memory the cache takes (entries and the hash table's buckets).
  std::size_t MemoryUsage() const;
  std::size_t size() const { return m_entries.size(); }  // cached coins and spent marks
  std::size_t DirtyCount() const { return m_dirty; }
  uint64_t flushes() const { return m_flushes; }

 private:
  struct Entry {
    Coin coin;
    bool spent = false;
    bool dirty = false;
    bool fresh = false;
  };
  struct Hash {
    uint64_t salt;
    std::size_t operator()(const OutPoint& outpoint) const noexcept;
  };
  using Map = std::unordered_map<OutPoint, Entry, Hash>;

  // The cached entry, reading it from the database on a miss; end() if there is no coin.
  Map::iterator Fetch(const OutPoint& outpoint) const;
  void MarkDirty(Entry& entry) const;

  Database& m_db;
  mutable Map m_entries;
  mutable std::size_t m_dirty = 0;
  uint64_t m_flushes = 0;
};

}  // namespace minicoin
