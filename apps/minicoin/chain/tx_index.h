// The transaction index (-txindex): where each transaction of the active chain is, in a LevelDB
// of its own, kept in step with the chain by a ChainListener.
#pragma once

#include "chain/chain_state.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace minicoin {

class Database;

struct TxIndexOptions {
  std::filesystem::path dir;  // <datadir>/indexes/txindex; created if missing
  // Progress lines while catching up; null: silent.
  std::function<void(const std::string&)> log = {};
};

// Maps the txid of every transaction in the active chain (except the genesis coinbase) to its
// block and its place in the block. The database holds `t<txid>` -> block hash and position,
// and `B` -> the block the index has reached. Opening catches up with the chain's tip (a new
// index, one enabled on an existing chain, one that lagged when the node was killed, or one
// left on a branch the chain has since left), reading the blocks from the block files; from
// then on BlockConnected / BlockDisconnected keep it current, each block one batch written with
// the index's best block. Lookups are thread-safe. The chain must outlive the index; the index
// stops listening when destroyed.
//
//   TxIndex index(chain, {.dir = datadir / "indexes" / "txindex"});
//   if (auto where = index.Find(txid)) block = chain.ReadBlock(*chain.Lookup(where->block));
class TxIndex final : private ChainListener {
 public:
  struct Location {
    Uint256 block;
    uint32_t position = 0;  // the transaction's index in the block
  };

  // Throws std::runtime_error if the database cannot be opened, or if a block needed to catch
  // up cannot be read (pruned or damaged block files).
  TxIndex(ChainState& chain, TxIndexOptions options);
  ~TxIndex() override;
  TxIndex(const TxIndex&) = delete;
  TxIndex& operator=(const TxIndex&) = delete;

  std::optional<Location> Find(const Uint256& txid) const;
  // The last block the index covers (the chain's tip once opened).
  Uint256 BestBlock() const;

 private:
  void BlockConnected(const Block& block, const BlockIndex& index) override;
  void BlockDisconnected(const Block& block, const BlockIndex& index) override;
  // Under the chain's update lock (WithTip): brings the index to the active tip.
  void CatchUp(const BlockIndex& tip);
  void WriteBlock(const Block& block, const BlockIndex& index, bool connect);
  void Log(const std::string& line) const;

  ChainState& m_chain;
  TxIndexOptions m_options;
  std::unique_ptr<Database> m_db;
  mutable std::mutex m_mutex;
  Uint256 m_best;  // guarded by m_mutex
  bool m_synced =
      false;  // guarded by the chain's update lock: events before the catch-up are ignored
};

}  // namespace minicoin
