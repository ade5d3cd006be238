// Atomic writes and checked reads of the peer-to-peer layer's data files.
#include "net/data_file.h"

#include "primitives/hash.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace minicoin::net {
namespace {

constexpr std::size_t kVersionSize = 4;
constexpr std::size_t kChecksumSize = 32;

std::string ErrnoText(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

// Writes all of `bytes` to `path`, flushed to disk. Returns an error text on failure.
std::optional<std::string> WriteFileSynced(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoText("cannot create", path);
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string error = ErrnoText("cannot write", path);
      ::close(fd);
      return error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string error = ErrnoText("cannot flush", path);
    ::close(fd);
    return error;
  }
  if (::close(fd) != 0) return ErrnoText("cannot close", path);
  return std::nullopt;
}

}  // namespace

std::optional<std::string> WriteFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  if (auto error = WriteFileSynced(temporary, bytes)) {
    ::unlink(temporary.c_str());
    return error;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    std::string error = ErrnoText("cannot rename " + temporary.string() + " to", path);
    ::unlink(temporary.c_str());
    return error;
  }
  // Make the rename itself durable.
  const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return std::nullopt;
}

DataFileRead ReadDataFile(const std::filesystem::path& path, const FileMagic& magic, uint32_t version,
                          std::string_view kind) {
  DataFileRead result;
  std::error_code exists_error;
  if (!std::filesystem::exists(path, exists_error) && !exists_error) {
    result.status = DataFileRead::Status::kMissing;
    return result;
  }
  auto corrupt = [&](const std::string& why) {
    result.status = DataFileRead::Status::kCorrupt;
    result.error = path.string() + ": " + why;
    return result;
  };
  if (!std::filesystem::is_regular_file(path, exists_error)) return corrupt("not a regular file");
  std::ifstream file(path, std::ios::binary);
  if (!file) return corrupt(std::string("cannot open: ") + std::strerror(errno));
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return corrupt("read error");
  if (bytes.size() < magic.size() + kVersionSize + kChecksumSize) {
    return corrupt("truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (!std::equal(magic.begin(), magic.end(), bytes.begin())) {
    return corrupt("not a " + std::string(kind) + " file (wrong magic)");
  }
  const uint8_t* v = bytes.data() + magic.size();
  const uint32_t found = static_cast<uint32_t>(v[0]) | static_cast<uint32_t>(v[1]) << 8 |
                         static_cast<uint32_t>(v[2]) << 16 | static_cast<uint32_t>(v[3]) << 24;
  if (found != version) {
    return corrupt("version " + std::to_string(found) + ", expected " + std::to_string(version));
  }
  const std::span<const uint8_t> contents(bytes.data(), bytes.size() - kChecksumSize);
  const Uint256 checksum = Sha256d(contents);
  if (!std::equal(checksum.bytes().begin(), checksum.bytes().end(), contents.end())) {
    return corrupt("checksum mismatch (damaged or truncated)");
  }
  result.status = DataFileRead::Status::kOk;
  result.body.assign(contents.begin() + static_cast<std::ptrdiff_t>(magic.size() + kVersionSize), contents.end());
  return result;
}

}  // namespace minicoin::net
