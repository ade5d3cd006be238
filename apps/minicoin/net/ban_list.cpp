// BanList: banned IP addresses and banlist.dat.
#include "net/ban_list.h"

#include "net/data_file.h"
#include "primitives/serialize.h"

#include <algorithm>
#include <array>
#include <span>

namespace minicoin::net {
namespace {

constexpr std::array<uint8_t, 4> kFileMagic{'m', 'c', 'b', 'l'};

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
  return WriteFileAtomically(path, Serialize(now));
}

BanListLoad BanList::Load(const std::filesystem::path& path, int64_t now) {
  DataFileRead file = ReadDataFile(path, kFileMagic, kBanListVersion, "ban list");
  if (file.status == DataFileRead::Status::kMissing) {
    Clear();
    return {BanListLoad::Status::kMissing, ""};
  }
  if (file.status == DataFileRead::Status::kCorrupt) return {BanListLoad::Status::kCorrupt, file.error};
  auto corrupt = [&](const std::string& why) {
    return BanListLoad{BanListLoad::Status::kCorrupt, path.string() + ": " + why};
  };
  std::map<IpAddress, Entry> entries;
  try {
    Reader reader(file.body);
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
