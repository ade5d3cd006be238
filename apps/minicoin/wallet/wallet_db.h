// WalletDatabase: the SQLite file of one wallet (settings, keys, transactions, scanned blocks).
#pragma once

#include "primitives/hash.h"
#include "primitives/transaction.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct sqlite3;

namespace minicoin {

// One derived key: its index in the seed's sequence and its public key, kept in clear so that a
// locked wallet can still hand out addresses and recognise payments.
struct KeyRecord {
  uint32_t index = 0;
  XOnlyPublicKey pubkey{};
  bool used = false;      // handed out (address or change) or seen paid
  bool internal = false;  // used as change
  std::string label;
};

// Where a wallet transaction stands.
enum class TxState : int {
  kConfirmed = 0,   // in a block of the active chain (block_hash, block_height)
  kMempool = 1,     // in the node's mempool (or believed to be)
  kInactive = 2,    // unconfirmed and not in the mempool (expired, evicted, not yet broadcast)
  kConflicted = 3,  // a confirmed transaction spends one of its inputs (block_hash names its block)
  kAbandoned = 4,   // the node refused it when the wallet broadcast it
};

// A wallet transaction as stored.
struct TxRecord {
  int64_t seq = 0;  // order in which the wallet first saw it (assigned on first write)
  Uint256 txid;
  std::vector<uint8_t> raw;  // Transaction::Encode()
  TxState state = TxState::kInactive;
  Uint256 block_hash;  // confirmed: its block; conflicted: the conflicting block (or zero)
  uint32_t block_height = 0;
  uint32_t block_time = 0;
  int64_t time = 0;  // unix seconds when first seen
  bool from_me = false;
};

// The wallet.sqlite file: WAL journal, synchronous=FULL and secure_delete, so every write below
// is durable when it returns (or, inside Begin/Commit, when Commit returns) and erased secrets do
// not linger in free pages. Errors throw WalletError (kWalletError) naming the file and the
// reason. Not thread-safe: its owner (Wallet) serializes the calls. Not copyable or movable.
//
//   WalletDatabase db(dir / "wallet.sqlite");
//   db.Begin(); db.WriteKey(key); db.WriteTransaction(tx); db.Commit();
class WalletDatabase {
 public:
  explicit WalletDatabase(const std::filesystem::path& path);
  ~WalletDatabase();
  WalletDatabase(const WalletDatabase&) = delete;
  WalletDatabase& operator=(const WalletDatabase&) = delete;

  // Groups the writes until the matching Commit into one atomic transaction. Nests: only the
  // outermost pair touches the file. Rollback undoes the outermost transaction.
  void Begin();
  void Commit();
  void Rollback();

  std::optional<std::vector<uint8_t>> ReadSetting(const std::string& key);
  void WriteSetting(const std::string& key, const std::vector<uint8_t>& value);
  void EraseSetting(const std::string& key);
  std::optional<int64_t> ReadIntSetting(const std::string& key);
  void WriteIntSetting(const std::string& key, int64_t value);

  // By index.
  std::vector<KeyRecord> ReadKeys();
  void WriteKey(const KeyRecord& key);

  // In order of `seq`.
  std::vector<TxRecord> ReadTransactions();
  // Inserts (assigning tx.seq when it is 0) or updates the record of tx.txid.
  void WriteTransaction(TxRecord& tx);

  // The processed blocks kept to find a fork point after a reorganisation, highest first.
  std::vector<std::pair<uint32_t, Uint256>> ReadBlocks();
  // Records `hash` at `height`, forgets blocks above it and those more than `keep` below it.
  void WriteBlock(uint32_t height, const Uint256& hash, uint32_t keep);

  // Moves the WAL's content into the main file and truncates the WAL (after erasing a secret).
  void Checkpoint();

 private:
  void Exec(const char* sql);
  [[noreturn]] void Fail(const std::string& what);

  std::filesystem::path m_path;
  sqlite3* m_db = nullptr;
  int m_depth = 0;
};

}  // namespace minicoin
