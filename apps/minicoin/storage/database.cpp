// LevelDB behind Database.
#include "storage/database.h"

#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>

#include <stdexcept>
#include <system_error>

namespace minicoin {

struct DatabaseBatch::State {
  leveldb::WriteBatch batch;
};

DatabaseBatch::DatabaseBatch() : m_state(std::make_unique<State>()) {}
DatabaseBatch::~DatabaseBatch() = default;

void DatabaseBatch::Put(std::string_view key, std::string_view value) {
  m_state->batch.Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
  ++m_count;
}

void DatabaseBatch::Delete(std::string_view key) {
  m_state->batch.Delete(leveldb::Slice(key.data(), key.size()));
  ++m_count;
}

struct Database::State {
  std::unique_ptr<leveldb::Cache> cache;
  std::unique_ptr<const leveldb::FilterPolicy> filter;
  std::unique_ptr<leveldb::DB> db;
  std::filesystem::path dir;
};

Database::Database(DatabaseOptions options) : m_state(std::make_unique<State>()) {
  m_state->dir = options.dir;
  std::error_code error;
  std::filesystem::create_directories(options.dir, error);
  if (error || !std::filesystem::is_directory(options.dir)) {
    throw std::runtime_error("cannot create database directory " + options.dir.string() + ": " +
                             (error ? error.message() : "not a directory"));
  }
  m_state->cache.reset(leveldb::NewLRUCache(options.cache_bytes));
  m_state->filter.reset(leveldb::NewBloomFilterPolicy(10));
  leveldb::Options db_options;
  db_options.create_if_missing = true;
  db_options.paranoid_checks = true;
  db_options.block_cache = m_state->cache.get();
  db_options.filter_policy = m_state->filter.get();
  leveldb::DB* db = nullptr;
  leveldb::Status status = leveldb::DB::Open(db_options, options.dir.string(), &db);
  if (!status.ok()) throw std::runtime_error("cannot open database " + options.dir.string() + ": " + status.ToString());
  m_state->db.reset(db);
}

Database::~Database() {
  m_state->db.reset();  // before the cache and filter it uses
}

std::optional<std::string> Database::Get(std::string_view key) const {
  std::string value;
  leveldb::ReadOptions read_options;
  read_options.verify_checksums = true;
  leveldb::Status status = m_state->db->Get(read_options, leveldb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) throw std::runtime_error("database read failed in " + m_state->dir.string() + ": " + status.ToString());
  return value;
}

void Database::Write(DatabaseBatch& batch, bool sync) {
  leveldb::WriteOptions write_options;
  write_options.sync = sync;
  leveldb::Status status = m_state->db->Write(write_options, &batch.m_state->batch);
  if (!status.ok()) throw std::runtime_error("database write failed in " + m_state->dir.string() + ": " + status.ToString());
}

void Database::WriteOutLog() {
  // LevelDB has no call for this alone: CompactRange starts by writing the memory table (what
  // the log holds) out as a table, then compacts the files overlapping the range. An empty key
  // range keeps the second part to what LevelDB's own background work would do soon anyway.
  const leveldb::Slice first("");
  m_state->db->CompactRange(&first, &first);
}

void Database::ForEach(std::string_view prefix,
                       const std::function<bool(std::string_view key, std::string_view value)>& fn) const {
  leveldb::ReadOptions read_options;
  read_options.verify_checksums = true;
  read_options.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(m_state->db->NewIterator(read_options));
  for (it->Seek(leveldb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    leveldb::Slice key = it->key();
    if (key.size() < prefix.size() || std::string_view(key.data(), prefix.size()) != prefix) break;
    leveldb::Slice value = it->value();
    if (!fn(std::string_view(key.data(), key.size()), std::string_view(value.data(), value.size()))) break;
  }
  if (!it->status().ok()) {
    throw std::runtime_error("database scan failed in " + m_state->dir.string() + ": " + it->status().ToString());
  }
}

}  // namespace minicoin
