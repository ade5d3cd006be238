// WalletDatabase over SQLite.
#include "wallet/wallet_db.h"

#include "ipc/wallet_error.h"

#include <sqlite3.h>

#include <cstring>

namespace minicoin {
namespace {

// A prepared statement, finalized when it goes out of scope. Errors throw through `fail`.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : m_db(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK) {
      throw WalletError(WalletError::kWalletError, std::string("database error: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(m_stmt); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void Bind(int i, int64_t value) { Check(sqlite3_bind_int64(m_stmt, i, value)); }
  void Bind(int i, const std::string& text) {
    Check(sqlite3_bind_text(m_stmt, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT));
  }
  void BindBlob(int i, const uint8_t* data, std::size_t size) {
    // A zero-length blob must not be bound as NULL: give SQLite a valid pointer.
    static const uint8_t kEmpty = 0;
    Check(sqlite3_bind_blob(m_stmt, i, size == 0 ? &kEmpty : data, static_cast<int>(size), SQLITE_TRANSIENT));
  }
  void BindBlob(int i, const std::vector<uint8_t>& bytes) { BindBlob(i, bytes.data(), bytes.size()); }

  // True while a row is available.
  bool Step() {
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw WalletError(WalletError::kWalletError, std::string("database error: ") + sqlite3_errmsg(m_db));
  }
  int64_t Int(int column) { return sqlite3_column_int64(m_stmt, column); }
  std::string Text(int column) {
    const unsigned char* text = sqlite3_column_text(m_stmt, column);
    return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text),
                                                         static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column)));
  }
  std::vector<uint8_t> Blob(int column) {
    const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(m_stmt, column));
    int size = sqlite3_column_bytes(m_stmt, column);
    if (data == nullptr || size <= 0) return {};
    return std::vector<uint8_t>(data, data + size);
  }
  // Exactly 32 bytes, else zero.
  Uint256 Hash(int column) {
    std::vector<uint8_t> bytes = Blob(column);
    std::array<uint8_t, 32> out{};
    if (bytes.size() == out.size()) std::memcpy(out.data(), bytes.data(), out.size());
    return Uint256(out);
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK) {
      throw WalletError(WalletError::kWalletError, std::string("database error: ") + sqlite3_errmsg(m_db));
    }
  }

  sqlite3* m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

const char* const kSchema =
    "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS keys (idx INTEGER PRIMARY KEY, pubkey BLOB NOT NULL UNIQUE,"
    " used INTEGER NOT NULL, internal INTEGER NOT NULL, label TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS transactions (seq INTEGER PRIMARY KEY AUTOINCREMENT, txid BLOB NOT NULL UNIQUE,"
    " raw BLOB NOT NULL, state INTEGER NOT NULL, block_hash BLOB NOT NULL, block_height INTEGER NOT NULL,"
    " block_time INTEGER NOT NULL, time INTEGER NOT NULL, from_me INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash BLOB NOT NULL);";

}  // namespace

WalletDatabase::WalletDatabase(const std::filesystem::path& path) : m_path(path) {
  int rc = sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = m_db != nullptr ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
    sqlite3_close(m_db);
    m_db = nullptr;
    throw WalletError(WalletError::kWalletError, "cannot open wallet database " + path.string() + ": " + reason);
  }
  try {
    sqlite3_busy_timeout(m_db, 2000);
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=FULL");
    Exec("PRAGMA secure_delete=ON");
    Exec("PRAGMA foreign_keys=OFF");
    Exec(kSchema);
    Statement check(m_db, "PRAGMA quick_check");
    if (!check.Step() || check.Text(0) != "ok") Fail("integrity check failed");
  } catch (...) {
    sqlite3_close(m_db);
    m_db = nullptr;
    throw;
  }
}

WalletDatabase::~WalletDatabase() {
  if (m_depth > 0) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(m_db);
}

void WalletDatabase::Fail(const std::string& what) {
  throw WalletError(WalletError::kWalletError, "wallet database " + m_path.string() + ": " + what);
}

void WalletDatabase::Exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string reason = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    Fail(reason);
  }
}

void WalletDatabase::Begin() {
  if (m_depth++ == 0) Exec("BEGIN IMMEDIATE");
}

void WalletDatabase::Commit() {
  if (m_depth == 0) return;
  if (--m_depth == 0) Exec("COMMIT");
}

void WalletDatabase::Rollback() {
  if (m_depth == 0) return;
  m_depth = 0;
  Exec("ROLLBACK");
}

std::optional<std::vector<uint8_t>> WalletDatabase::ReadSetting(const std::string& key) {
  Statement stmt(m_db, "SELECT value FROM settings WHERE key = ?");
  stmt.Bind(1, key);
  if (!stmt.Step()) return std::nullopt;
  return stmt.Blob(0);
}

void WalletDatabase::WriteSetting(const std::string& key, const std::vector<uint8_t>& value) {
  Statement stmt(m_db, "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)");
  stmt.Bind(1, key);
  stmt.BindBlob(2, value);
  stmt.Step();
}

void WalletDatabase::EraseSetting(const std::string& key) {
  Statement stmt(m_db, "DELETE FROM settings WHERE key = ?");
  stmt.Bind(1, key);
  stmt.Step();
}

std::optional<int64_t> WalletDatabase::ReadIntSetting(const std::string& key) {
  std::optional<std::vector<uint8_t>> bytes = ReadSetting(key);
  if (!bytes) return std::nullopt;
  if (bytes->size() != 8) Fail("setting " + key + " has the wrong size");
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | (*bytes)[static_cast<std::size_t>(i)];
  return static_cast<int64_t>(value);
}

void WalletDatabase::WriteIntSetting(const std::string& key, int64_t value) {
  std::vector<uint8_t> bytes(8);
  auto bits = static_cast<uint64_t>(value);
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<uint8_t>(bits >> (8 * i));
  WriteSetting(key, bytes);
}

std::vector<KeyRecord> WalletDatabase::ReadKeys() {
  Statement stmt(m_db, "SELECT idx, pubkey, used, internal, label FROM keys ORDER BY idx");
  std::vector<KeyRecord> keys;
  while (stmt.Step()) {
    KeyRecord key;
    key.index = static_cast<uint32_t>(stmt.Int(0));
    std::vector<uint8_t> pubkey = stmt.Blob(1);
    if (pubkey.size() != key.pubkey.size()) Fail("key " + std::to_string(key.index) + " has a malformed public key");
    std::memcpy(key.pubkey.data(), pubkey.data(), key.pubkey.size());
    key.used = stmt.Int(2) != 0;
    key.internal = stmt.Int(3) != 0;
    key.label = stmt.Text(4);
    keys.push_back(std::move(key));
  }
  return keys;
}

void WalletDatabase::WriteKey(const KeyRecord& key) {
  Statement stmt(m_db, "INSERT OR REPLACE INTO keys (idx, pubkey, used, internal, label) VALUES (?, ?, ?, ?, ?)");
  stmt.Bind(1, static_cast<int64_t>(key.index));
  stmt.BindBlob(2, key.pubkey.data(), key.pubkey.size());
  stmt.Bind(3, key.used ? 1 : 0);
  stmt.Bind(4, key.internal ? 1 : 0);
  stmt.Bind(5, key.label);
  stmt.Step();
}

std::vector<TxRecord> WalletDatabase::ReadTransactions() {
  Statement stmt(m_db,
                 "SELECT seq, txid, raw, state, block_hash, block_height, block_time, time, from_me FROM transactions "
                 "ORDER BY seq");
  std::vector<TxRecord> txs;
  while (stmt.Step()) {
    TxRecord tx;
    tx.seq = stmt.Int(0);
    tx.txid = stmt.Hash(1);
    tx.raw = stmt.Blob(2);
    int64_t state = stmt.Int(3);
    if (state < 0 || state > static_cast<int>(TxState::kAbandoned)) Fail("transaction with unknown state");
    tx.state = static_cast<TxState>(state);
    tx.block_hash = stmt.Hash(4);
    tx.block_height = static_cast<uint32_t>(stmt.Int(5));
    tx.block_time = static_cast<uint32_t>(stmt.Int(6));
    tx.time = stmt.Int(7);
    tx.from_me = stmt.Int(8) != 0;
    txs.push_back(std::move(tx));
  }
  return txs;
}

void WalletDatabase::WriteTransaction(TxRecord& tx) {
  if (tx.seq == 0) {
    Statement stmt(m_db,
                   "INSERT INTO transactions (txid, raw, state, block_hash, block_height, block_time, time, from_me) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    stmt.BindBlob(1, tx.txid.data(), 32);
    stmt.BindBlob(2, tx.raw);
    stmt.Bind(3, static_cast<int64_t>(tx.state));
    stmt.BindBlob(4, tx.block_hash.data(), 32);
    stmt.Bind(5, static_cast<int64_t>(tx.block_height));
    stmt.Bind(6, static_cast<int64_t>(tx.block_time));
    stmt.Bind(7, tx.time);
    stmt.Bind(8, tx.from_me ? 1 : 0);
    stmt.Step();
    tx.seq = sqlite3_last_insert_rowid(m_db);
    return;
  }
  Statement stmt(m_db,
                 "UPDATE transactions SET state = ?, block_hash = ?, block_height = ?, block_time = ?, from_me = ? "
                 "WHERE seq = ?");
  stmt.Bind(1, static_cast<int64_t>(tx.state));
  stmt.BindBlob(2, tx.block_hash.data(), 32);
  stmt.Bind(3, static_cast<int64_t>(tx.block_height));
  stmt.Bind(4, static_cast<int64_t>(tx.block_time));
  stmt.Bind(5, tx.from_me ? 1 : 0);
  stmt.Bind(6, tx.seq);
  stmt.Step();
}

std::vector<std::pair<uint32_t, Uint256>> WalletDatabase::ReadBlocks() {
  Statement stmt(m_db, "SELECT height, hash FROM blocks ORDER BY height DESC");
  std::vector<std::pair<uint32_t, Uint256>> blocks;
  while (stmt.Step()) blocks.emplace_back(static_cast<uint32_t>(stmt.Int(0)), stmt.Hash(1));
  return blocks;
}

void WalletDatabase::WriteBlock(uint32_t height, const Uint256& hash, uint32_t keep) {
  {
    Statement stmt(m_db, "DELETE FROM blocks WHERE height > ? OR height + ? < ?");
    stmt.Bind(1, static_cast<int64_t>(height));
    stmt.Bind(2, static_cast<int64_t>(keep));
    stmt.Bind(3, static_cast<int64_t>(height));
    stmt.Step();
  }
  Statement stmt(m_db, "INSERT OR REPLACE INTO blocks (height, hash) VALUES (?, ?)");
  stmt.Bind(1, static_cast<int64_t>(height));
  stmt.BindBlob(2, hash.data(), 32);
  stmt.Step();
}

void WalletDatabase::Checkpoint() { Exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

}  // namespace minicoin
