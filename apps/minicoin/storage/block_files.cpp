// Append-only record files.
#include "storage/block_files.h"

#include "primitives/hash.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace minicoin {
namespace {

constexpr uint8_t kMagic[4] = {'M', 'C', 'R', 'C'};
constexpr std::size_t kHeaderSize = 12;

std::runtime_error IoError(const std::string& what, const std::filesystem::path& path) {
  return std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

// Closes a descriptor at the end of a scope.
class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }

 private:
  int m_fd;
};

void PutU32(uint8_t* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint32_t GetU32(const uint8_t* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= static_cast<uint32_t>(in[i]) << (8 * i);
  return value;
}

bool ReadFully(int fd, uint8_t* out, std::size_t size, uint64_t offset) {
  while (size > 0) {
    ssize_t got = ::pread(fd, out, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    size -= static_cast<std::size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
  return true;
}

void SyncDirectory(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) throw IoError("cannot sync directory", dir);
}

}  // namespace

RecordFiles::RecordFiles(RecordFilesOptions options) : m_options(std::move(options)) {
  std::error_code error;
  std::filesystem::create_directories(m_options.dir, error);
  if (error || !std::filesystem::is_directory(m_options.dir)) {
    throw std::runtime_error("cannot create directory " + m_options.dir.string() + ": " +
                             (error ? error.message() : "not a directory"));
  }
  // The highest number present: after pruning the low numbers are gone.
  std::vector<uint32_t> present = ListRecordFiles(m_options.dir, m_options.prefix);
  if (!present.empty()) m_file = present.back();
  std::filesystem::path path = FilePath(m_file);
  if (std::filesystem::exists(path)) {
    m_size = std::filesystem::file_size(path, error);
    if (error) throw std::runtime_error("cannot read the size of " + path.string() + ": " + error.message());
  }
  // Check now that the directory is writable, so that a bad directory fails at open.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw IoError("cannot open", path);
}

std::filesystem::path RecordFiles::FilePath(uint32_t file) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%s%05u.dat", m_options.prefix.c_str(), file);
  return m_options.dir / name;
}

FilePosition RecordFiles::Append(std::span<const uint8_t> payload, bool defer_sync) {
  if (payload.size() > kMaxRecordSize) throw std::runtime_error("record too large for the block files");
  std::vector<uint8_t> record(kHeaderSize + payload.size());
  std::memcpy(record.data(), kMagic, 4);
  PutU32(record.data() + 4, static_cast<uint32_t>(payload.size()));
  Uint256 checksum = Sha256(payload);
  std::memcpy(record.data() + 8, checksum.data(), 4);
  if (!payload.empty()) std::memcpy(record.data() + kHeaderSize, payload.data(), payload.size());

  std::lock_guard<std::mutex> lock(m_mutex);
  bool new_file = false;
  if (m_size > 0 && m_size + record.size() > m_options.max_file_size) {
    ++m_file;
    m_size = 0;
    new_file = true;
  }
  std::filesystem::path path = FilePath(m_file);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw IoError("cannot open", path);
  // Writes at the remembered end: a torn record left by an earlier crash stays behind, unused.
  uint64_t offset = m_size;
  std::size_t written = 0;
  while (written < record.size()) {
    ssize_t count = ::pwrite(fd.get(), record.data() + written, record.size() - written,
                             static_cast<off_t>(offset + written));
    if (count < 0 && errno == EINTR) continue;
    if (count <= 0) throw IoError("cannot write", path);
    written += static_cast<std::size_t>(count);
  }
  if (m_options.sync && defer_sync) {
    m_unsynced.insert(m_file);
    if (new_file || offset == 0) m_unsynced_directory = true;
  } else if (m_options.sync) {
    if (::fdatasync(fd.get()) != 0) throw IoError("cannot sync", path);
    if (new_file || offset == 0) SyncDirectory(m_options.dir);
  }
  m_size = offset + record.size();
  return FilePosition{m_file, static_cast<uint32_t>(offset)};
}

void RecordFiles::Sync() {
  std::lock_guard<std::mutex> lock(m_mutex);
  while (!m_unsynced.empty()) {
    const uint32_t file = *m_unsynced.begin();
    std::filesystem::path path = FilePath(file);
    Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0 && errno == ENOENT && file != m_file) {
      m_unsynced.erase(m_unsynced.begin());  // pruned meanwhile: nothing refers to it any more
      continue;
    }
    if (fd.get() < 0) throw IoError("cannot open", path);
    if (::fdatasync(fd.get()) != 0) throw IoError("cannot sync", path);
    m_unsynced.erase(m_unsynced.begin());
  }
  if (m_unsynced_directory) {
    SyncDirectory(m_options.dir);
    m_unsynced_directory = false;
  }
}

bool RecordFiles::HasUnsynced() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return !m_unsynced.empty() || m_unsynced_directory;
}

uint32_t RecordFiles::CurrentFile() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_file;
}

bool RecordFiles::RemoveFile(uint32_t file, std::string* error) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (file == m_file) {
    if (error) *error = "cannot remove " + FilePath(file).filename().string() + ": it is being written";
    return false;
  }
  std::error_code code;
  std::filesystem::remove(FilePath(file), code);
  if (code) {
    if (error) *error = "cannot remove " + FilePath(file).string() + ": " + code.message();
    return false;
  }
  return true;
}

std::vector<uint32_t> ListRecordFiles(const std::filesystem::path& dir, const std::string& prefix) {
  std::vector<uint32_t> numbers;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name.size() != prefix.size() + 9 || name.compare(0, prefix.size(), prefix) != 0 ||
        name.compare(name.size() - 4, 4, ".dat") != 0) {
      continue;
    }
    uint32_t number = 0;
    bool digits = true;
    for (std::size_t i = prefix.size(); i < prefix.size() + 5; ++i) {
      if (name[i] < '0' || name[i] > '9') digits = false;
      number = number * 10 + static_cast<uint32_t>(name[i] - '0');
    }
    if (digits) numbers.push_back(number);
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

uint64_t ForEachRecord(const std::filesystem::path& path, uint32_t file,
                       const std::function<bool(FilePosition, std::span<const uint8_t>)>& fn) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw IoError("cannot open", path);
  std::error_code code;
  const uint64_t size = std::filesystem::file_size(path, code);
  if (code) throw std::runtime_error("cannot read the size of " + path.string() + ": " + code.message());
  uint64_t offset = 0;
  uint64_t skipped = 0;
  std::vector<uint8_t> payload;
  while (offset + kHeaderSize <= size && offset <= UINT32_MAX) {
    uint8_t header[kHeaderSize];
    if (!ReadFully(fd.get(), header, kHeaderSize, offset)) throw IoError("cannot read", path);
    bool intact = std::memcmp(header, kMagic, 4) == 0;
    uint32_t length = GetU32(header + 4);
    if (intact) intact = length <= RecordFiles::kMaxRecordSize && offset + kHeaderSize + length <= size;
    if (intact) {
      payload.resize(length);
      if (length > 0 && !ReadFully(fd.get(), payload.data(), length, offset + kHeaderSize)) {
        throw IoError("cannot read", path);
      }
      Uint256 checksum = Sha256(payload);
      intact = std::memcmp(checksum.data(), header + 8, 4) == 0;
    }
    if (!intact) {
      // A torn record: the next one starts at the next magic.
      uint64_t next = offset + 1;
      uint8_t window[4096];
      bool found = false;
      while (!found && next + 4 <= size) {
        std::size_t chunk = static_cast<std::size_t>(std::min<uint64_t>(sizeof(window), size - next));
        if (!ReadFully(fd.get(), window, chunk, next)) throw IoError("cannot read", path);
        for (std::size_t i = 0; i + 4 <= chunk; ++i) {
          if (std::memcmp(window + i, kMagic, 4) == 0) {
            next += i;
            found = true;
            break;
          }
        }
        if (!found) next += chunk - 3;
      }
      if (!found) next = size;
      skipped += next - offset;
      offset = next;
      continue;
    }
    if (!fn(FilePosition{file, static_cast<uint32_t>(offset)}, payload)) break;
    offset += kHeaderSize + length;
  }
  if (offset < size && offset + kHeaderSize > size) skipped += size - offset;
  return skipped;
}

std::optional<std::vector<uint8_t>> RecordFiles::Read(const FilePosition& position, std::string* error) const {
  auto fail = [&](const std::string& why) -> std::optional<std::vector<uint8_t>> {
    if (error) {
      *error = why + " (" + FilePath(position.file).filename().string() + " offset " + std::to_string(position.offset) +
               ")";
    }
    return std::nullopt;
  };
  std::filesystem::path path = FilePath(position.file);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail(std::string("cannot open the file: ") + std::strerror(errno));
  uint8_t header[kHeaderSize];
  if (!ReadFully(fd.get(), header, kHeaderSize, position.offset)) return fail("truncated record header");
  if (std::memcmp(header, kMagic, 4) != 0) return fail("no record at this position");
  uint32_t size = GetU32(header + 4);
  if (size > kMaxRecordSize) return fail("record length out of range");
  std::vector<uint8_t> payload(size);
  if (size > 0 && !ReadFully(fd.get(), payload.data(), size, uint64_t{position.offset} + kHeaderSize)) {
    return fail("truncated record");
  }
  Uint256 checksum = Sha256(payload);
  if (std::memcmp(checksum.data(), header + 8, 4) != 0) return fail("record checksum mismatch");
  return payload;
}

}  // namespace minicoin
