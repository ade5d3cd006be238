// Append-only record files (blocks/blk00000.dat, blocks/rev00000.dat, ...): length-prefixed,
// checksummed records addressed by file number and offset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace minicoin {

// Where a record starts. Positions grow in the order records were appended.
struct FilePosition {
  uint32_t file = 0;
  uint32_t offset = 0;
  bool operator==(const FilePosition&) const = default;
  auto operator<=>(const FilePosition&) const = default;
};

struct RecordFilesOptions {
  std::filesystem::path dir;    // created if missing
  std::string prefix;           // "blk" gives blk00000.dat, blk00001.dat, ...
  uint32_t max_file_size = 128u << 20;  // a new file is started once a file reaches this size
  bool sync = true;             // make appended records durable (fdatasync, and the directory for a new file)
};

// A sequence of files of records. Each record: magic (4 bytes), payload length (u32 LE),
// checksum (first 4 bytes of SHA-256 of the payload), payload. A record torn by a crash is never
// referenced (its position is only published after Append returns) and is skipped over by later
// appends. Thread-safe: appends are serialized, reads may run concurrently with them.
//
//   RecordFiles files({.dir = dir / "blocks", .prefix = "blk"});
//   FilePosition pos = files.Append(bytes);
//   std::optional<std::vector<uint8_t>> again = files.Read(pos);
class RecordFiles {
 public:
  static constexpr uint32_t kMaxRecordSize = 64u << 20;

  // Finds the last file and appends after its end. Throws std::runtime_error if the directory
  // cannot be created or used.
  explicit RecordFiles(RecordFilesOptions options);
  RecordFiles(const RecordFiles&) = delete;
  RecordFiles& operator=(const RecordFiles&) = delete;

  // Appends one record and (with RecordFilesOptions::sync) makes it durable before returning;
  // with `defer_sync` it is made durable by the next Sync() instead, so that many records cost
  // one sync. Throws std::runtime_error on an I/O error or a payload above kMaxRecordSize.
  FilePosition Append(std::span<const uint8_t> payload, bool defer_sync = false);
  // Makes every record appended with `defer_sync` durable (each file written since, and the
  // directory if a file was created). Does nothing when none is pending. Throws
  // std::runtime_error on an I/O error; the records then stay pending.
  void Sync();
  bool HasUnsynced() const;
  // The payload at `position`; nullopt with `error` set if it is missing, truncated or corrupt.
  std::optional<std::vector<uint8_t>> Read(const FilePosition& position, std::string* error = nullptr) const;

  std::filesystem::path FilePath(uint32_t file) const;
  // The number of the file being appended to (never pruned).
  uint32_t CurrentFile() const;
  // Deletes a whole file (pruning). Refuses the current file: returns false with `error` then,
  // or if the file cannot be removed. A missing file is not an error.
  bool RemoveFile(uint32_t file, std::string* error = nullptr);

 private:
  RecordFilesOptions m_options;
  mutable std::mutex m_mutex;
  uint32_t m_file = 0;    // guarded by m_mutex: the file being appended to
  uint64_t m_size = 0;    // guarded by m_mutex: its size
  std::set<uint32_t> m_unsynced;  // guarded by m_mutex: files with records appended with defer_sync
  bool m_unsynced_directory = false;  // guarded by m_mutex: a file was created since the last sync
};

// The numbers of the files `dir` holds with the name `prefix`NNNNN.dat, ascending (gaps are
// files removed by pruning).
std::vector<uint32_t> ListRecordFiles(const std::filesystem::path& dir, const std::string& prefix);

// Calls fn with the position and payload of every intact record in `path` (file number `file`),
// in file order; fn returns false to stop. A torn or corrupt record is skipped: the scan looks
// for the next record header after it. Returns the number of bytes skipped that way. Throws
// std::runtime_error if the file cannot be opened or read.
uint64_t ForEachRecord(const std::filesystem::path& path, uint32_t file,
                       const std::function<bool(FilePosition, std::span<const uint8_t>)>& fn);

}  // namespace minicoin
