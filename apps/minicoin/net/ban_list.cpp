// BanList: banned IP addresses and banlist.dat.
#include "net/ban_list.h"

#include "primitives/serialize.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <span>

namespace minicoin::net {
namespace {

constexpr std::array<uint8_t, 4> kFileMagic{'m', 'c', 'b', 'l'};
constexpr std::size_t kChecksumSize = 32;

std::string ErrnoText(const std::string& what, const std::filesystem::path& path) {
  return what + " " + path.string() + ": " + std::strerror(errno);
}

std::optional<std::string> WriteFileSynced(const std::filesystem::path& path,
                                           std::span<const uint8_t> bytes) {
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

void BanList::Ban(const IpAddress& ip, int64_t now, int64_t until, std::string reason) {
  std::lock_guard lock(m_mutex);
  std::erase_if(m_entries, [&](const auto& entry) { return entry.second.until <= now; });
  if (until <= now) {
    m_entries.erase(ip);
    return;
  }
  if (reason.size() > kMaxBanReasonLength) reason.resize(kMaxBanReasonLength);
  m_entries[ip] = Entry{now, until, std::move(reason)};
}

bool BanList::Unban(const IpAddress& ip) {
  std::lock_guard lock(m_mutex);
  return m_entries.erase(ip) > 0;
}

bool BanList::IsBanned(const IpAddress& ip, int64_t now) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_entries.find(ip);
  return it != m_entries.end() && it->second.until > now;
}

std::vector<BanInfo> BanList::List(int64_t now) const {
  std::lock_guard lock(m_mutex);
  std::vector<BanInfo> result;
  for (const auto& [ip, entry] : m_entries) {
    if (entry.until <= now) continue;
    result.push_back(BanInfo{FormatIp(ip), entry.created, entry.until, entry.reason});
  }
  return result;
}

void BanList::Clear() {
  std::lock_guard lock(m_mutex);
  m_entries.clear();
}

std::size_t BanList::Size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

std::vector<uint8_t> BanList::Serialize(int64_t now) const {
  Writer writer;
  writer.Bytes(kFileMagic);
  writer.U32(kBanListVersion);
  std::lock_guard lock(m_mutex);
  const auto live = static_cast<std::size_t>(
      std::count_if(m_entries.begin(), m_entries.end(),
                    [&](const auto& entry) { return entry.second.until > now; }));
  writer.CompactSize(live);
  for (const auto& [ip, entry] : m_entries) {
    if (entry.until <= now) continue;
    writer.Bytes(ip);
    writer.U64(static_cast<uint64_t>(entry.created));
    writer.U64(static_cast<uint64_t>(entry.until));
    writer.CompactSize(entry.reason.size());
    writer.Bytes(
        std::span(reinterpret_cast<const uint8_t*>(entry.reason.data()), entry.reason.size()));
  }
  const Uint256 checksum = Sha256d(writer.bytes());
  writer.Hash(checksum);
  return writer.Take();
}

std::optional<std::string> BanList::Save(const std::filesystem::path& path, int64_t now) const {
  std::lock_guard save_lock(m_save_mutex);
  const std::vector<uint8_t> bytes = Serialize(now);
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
  const std::filesystem::path folder =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return std::nullopt;
}

BanListLoad BanList::Load(const std::filesystem::path& path, int64_t now) {
  std::error_code exists_error;
  if (!std::filesystem::exists(path, exists_error) && !exists_error) {
    Clear();
    return {BanListLoad::Status::kMissing, ""};
  }
  auto corrupt = [&](const std::string& why) {
    return BanListLoad{BanListLoad::Status::kCorrupt, path.string() + ": " + why};
  };
  if (!std::filesystem::is_regular_file(path, exists_error)) return corrupt("not a regular file");
  std::ifstream file(path, std::ios::binary);
  if (!file) return corrupt(std::string("cannot open: ") + std::strerror(errno));
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)),
                                   std::istreambuf_iterator<char>());
  if (file.bad()) return corrupt("read error");
  if (bytes.size() < kFileMagic.size() + 4 + kChecksumSize) {
    return corrupt("truncated (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (!std::equal(kFileMagic.begin(), kFileMagic.end(), bytes.begin())) {
    return corrupt("not a ban list file (wrong magic)");
  }
  const std::span<const uint8_t> contents(bytes.data(), bytes.size() - kChecksumSize);
  std::map<IpAddress, Entry> entries;
  try {
    Reader reader(contents.subspan(kFileMagic.size()));
    const uint32_t version = reader.U32();
    if (version != kBanListVersion) {
      return corrupt("version " + std::to_string(version) + ", expected " +
                     std::to_string(kBanListVersion));
    }
    const Uint256 checksum = Sha256d(contents);
    if (!std::equal(checksum.bytes().begin(), checksum.bytes().end(),
                    bytes.end() - static_cast<std::ptrdiff_t>(kChecksumSize))) {
      return corrupt("checksum mismatch");
    }
    const std::size_t count = reader.Count(kMaxBanEntries, "ban entries");
    for (std::size_t i = 0; i < count; ++i) {
      IpAddress ip{};
      reader.Bytes(ip);
      Entry entry;
      entry.created = static_cast<int64_t>(reader.U64());
      entry.until = static_cast<int64_t>(reader.U64());
      const std::size_t length = reader.Count(kMaxBanReasonLength, "ban reason bytes");
      entry.reason.resize(length);
      reader.Bytes(std::span(reinterpret_cast<uint8_t*>(entry.reason.data()), length));
      if (entries.contains(ip)) return corrupt("duplicate address " + FormatIp(ip));
      if (entry.until > now) entries.emplace(ip, std::move(entry));
    }
    reader.ExpectEnd("ban list");
  } catch (const DecodeError& error) {
    return corrupt(error.what());
  }
  std::lock_guard lock(m_mutex);
  m_entries = std::move(entries);
  return {BanListLoad::Status::kOk, ""};
}

}  // namespace minicoin::net
