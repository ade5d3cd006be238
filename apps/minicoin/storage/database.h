// A key-value database (LevelDB) with atomic batches and prefix scans.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace minicoin {

// Puts and deletes applied together, in order, by Database::Write. Not thread-safe.
class DatabaseBatch {
 public:
  DatabaseBatch();
  ~DatabaseBatch();
  DatabaseBatch(const DatabaseBatch&) = delete;
  DatabaseBatch& operator=(const DatabaseBatch&) = delete;

  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  std::size_t size() const { return m_count; }

 private:
  friend class Database;
  struct State;
  std::unique_ptr<State> m_state;
  std::size_t m_count = 0;
};

struct DatabaseOptions {
  std::filesystem::path dir;           // created if missing
  std::size_t cache_bytes = 8u << 20;  // block cache
};

// One LevelDB database, open for the object's lifetime (LevelDB's lock keeps a second opener
// out). Thread-safe.
//
//   Database db({.dir = path});
//   DatabaseBatch batch; batch.Put("k", "v"); db.Write(batch, /*sync=*/true);
class Database {
 public:
  // Throws std::runtime_error with LevelDB's reason if the database cannot be opened.
  explicit Database(DatabaseOptions options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  std::optional<std::string> Get(std::string_view key) const;
  // Applies the batch atomically; with `sync` it is on disk when this returns. Throws
  // std::runtime_error on failure.
  void Write(DatabaseBatch& batch, bool sync);
  // Writes what only the log holds (the writes since the last table was made) into tables, so
  // that the next open has no long log to replay (a large batch written just before closing
  // would otherwise be re-inserted and written out at the next open). Throws std::runtime_error
  // on failure.
  void WriteOutLog();
  // Calls fn for every key starting with `prefix`, in key order, from one consistent snapshot;
  // fn returns false to stop. Throws std::runtime_error on a read error.
  void ForEach(std::string_view prefix, const std::function<bool(std::string_view key, std::string_view value)>& fn) const;

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

}  // namespace minicoin
