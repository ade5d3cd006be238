// The transaction index.
#include "chain/tx_index.h"

#include "storage/database.h"
#include "storage/records.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace minicoin {
namespace {

constexpr char kTxPrefix = 't';
constexpr std::string_view kBestKey = "B";

std::string TxKey(const Uint256& txid) {
  std::string key(1, kTxPrefix);
  key.append(reinterpret_cast<const char*>(txid.data()), 32);
  return key;
}

std::string HashBytes(const Uint256& hash) {
  return std::string(reinterpret_cast<const char*>(hash.data()), 32);
}

}  // namespace

TxIndex::TxIndex(ChainState& chain, TxIndexOptions options)
    : m_chain(chain), m_options(std::move(options)) {
  try {
    m_db = std::make_unique<Database>(DatabaseOptions{.dir = m_options.dir});
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("cannot open the transaction index in " + m_options.dir.string() +
                             ": " + e.what());
  }
  // Listening first, catching up under the update lock: events from before the catch-up are
  // ignored (m_synced), every later one is applied.
  m_chain.AddListener(this);
  try {
    m_chain.WithTip([&](const BlockIndex& tip, const CoinsView&) { CatchUp(tip); });
  } catch (...) {
    m_chain.RemoveListener(this);
    throw;
  }
}

TxIndex::~TxIndex() { m_chain.RemoveListener(this); }

void TxIndex::Log(const std::string& line) const {
  if (m_options.log) m_options.log(line);
}

void TxIndex::CatchUp(const BlockIndex& tip) {
  std::optional<std::string> stored = m_db->Get(kBestKey);
  const BlockIndex* best = nullptr;
  if (stored && stored->size() == 32) {
    Reader reader(AsBytes(*stored));
    Uint256 hash = reader.Hash();
    best = m_chain.Lookup(hash);
    if (best == nullptr)
      Log("txindex: its best block " + hash.ToHex() + " is unknown to the chain: rebuilding it");
  }
  if (best == nullptr) {
    // Start over: drop every entry.
    DatabaseBatch batch;
    m_db->ForEach(std::string(1, kTxPrefix), [&](std::string_view key, std::string_view) {
      batch.Delete(key);
      return true;
    });
    best = &m_chain.Genesis();
    batch.Put(kBestKey, HashBytes(best->hash));
    m_db->Write(batch, false);
  }
  // Back to the active chain if the index followed a branch the chain has left.
  while (!m_chain.IsActive(*best)) {
    std::optional<Block> block = m_chain.ReadBlock(*best);
    if (!block)
      throw std::runtime_error("txindex: cannot read block " + best->hash.ToHex() +
                               " to leave its branch");
    WriteBlock(*block, *best, false);
    best = best->prev;
  }
  if (best->height < tip.height) {
    Log("txindex: indexing blocks " + std::to_string(best->height + 1) + " to " +
        std::to_string(tip.height));
  }
  for (uint32_t height = best->height + 1; height <= tip.height; ++height) {
    const BlockIndex* index = m_chain.AtHeight(height);
    std::optional<Block> block = index != nullptr ? m_chain.ReadBlock(*index) : std::nullopt;
    if (!block) {
      throw std::runtime_error("txindex: cannot read the block at height " +
                               std::to_string(height) +
                               " (pruned or damaged block files; start with -reindex to rebuild)");
    }
    WriteBlock(*block, *index, true);
    if (height % 1000 == 0) Log("txindex: indexed up to height " + std::to_string(height));
  }
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_best = tip.hash;
  }
  m_synced = true;
}

void TxIndex::WriteBlock(const Block& block, const BlockIndex& index, bool connect) {
  DatabaseBatch batch;
  for (uint32_t i = 0; i < block.transactions.size(); ++i) {
    Uint256 txid = block.transactions[i].Txid();
    if (connect) {
      // The block hash, then the position as u32 little-endian.
      std::string value = HashBytes(index.hash);
      for (int shift = 0; shift < 32; shift += 8)
        value.push_back(static_cast<char>((i >> shift) & 0xff));
      batch.Put(TxKey(txid), value);
    } else {
      batch.Delete(TxKey(txid));
    }
  }
  const Uint256& best = connect ? index.hash : index.prev->hash;
  batch.Put(kBestKey, HashBytes(best));
  // Not synced: losing the last writes in a system crash only makes the index lag, and the next
  // open catches up.
  m_db->Write(batch, false);
  std::lock_guard<std::mutex> lock(m_mutex);
  m_best = best;
}

void TxIndex::BlockConnected(const Block& block, const BlockIndex& index) {
  if (m_synced) WriteBlock(block, index, true);
}

void TxIndex::BlockDisconnected(const Block& block, const BlockIndex& index) {
  if (m_synced) WriteBlock(block, index, false);
}

std::optional<TxIndex::Location> TxIndex::Find(const Uint256& txid) const {
  std::optional<std::string> value = m_db->Get(TxKey(txid));
  if (!value) return std::nullopt;
  try {
    Reader reader(AsBytes(*value));
    Location location;
    location.block = reader.Hash();
    location.position = reader.U32();
    reader.ExpectEnd("transaction index entry");
    return location;
  } catch (const DecodeError&) {
    return std::nullopt;
  }
}

Uint256 TxIndex::BestBlock() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_best;
}

}  // namespace minicoin
