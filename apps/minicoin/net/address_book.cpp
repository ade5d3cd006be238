// The address book and its file.
#include "net/address_book.h"

#include "net/data_file.h"
#include "primitives/hash.h"
#include "primitives/serialize.h"

#include <algorithm>
#include <tuple>

namespace minicoin::net {
namespace {

constexpr std::array<uint8_t, 4> kFileMagic = {'m', 'c', 'p', 'd'};
constexpr int64_t kMaxAddressAge = int64_t{30} * 24 * 60 * 60;
constexpr int64_t kFailingTooLong = int64_t{7} * 24 * 60 * 60;
constexpr uint32_t kMaxFailuresAfterSuccess = 10;
// A time before 2001 cannot be a real "last seen".
constexpr int64_t kEarliestBelievableTime = 1'000'000'000;

bool IsIpv4(const NetAddress& address) {
  static constexpr std::array<uint8_t, 12> kPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::equal(kPrefix.begin(), kPrefix.end(), address.ip.begin());
}

bool IsRoutableIpv4(const uint8_t* ip) {
  const uint8_t a = ip[0];
  const uint8_t b = ip[1];
  if (a == 0 || a == 10 || a == 127) return false;        // this network, private, loopback
  if (a == 100 && (b & 0xc0) == 64) return false;         // 100.64/10 shared
  if (a == 169 && b == 254) return false;                 // link-local
  if (a == 172 && (b & 0xf0) == 16) return false;         // private
  if (a == 192 && b == 168) return false;                 // private
  if (a == 192 && b == 0 && ip[2] == 2) return false;     // documentation
  if (a == 198 && (b & 0xfe) == 18) return false;         // benchmarking
  if (a == 198 && b == 51 && ip[2] == 100) return false;  // documentation
  if (a == 203 && b == 0 && ip[2] == 113) return false;   // documentation
  return a < 224;                                         // multicast and reserved
}

int64_t BelievableTime(int64_t time, int64_t now) {
  if (time > now + kMaxAddressTimeAhead || time < kEarliestBelievableTime) {
    return now - kUnknownAddressAge;
  }
  return time;
}

void WriteAddress(Writer& writer, const NetAddress& address) {
  writer.U64(address.services);
  writer.Bytes(address.ip);
  writer.U8(static_cast<uint8_t>(address.port & 0xff));  // little-endian, as on the wire
  writer.U8(static_cast<uint8_t>(address.port >> 8));
}

NetAddress ReadAddress(Reader& reader) {
  NetAddress address;
  address.services = reader.U64();
  reader.Bytes(address.ip);
  const uint8_t low = reader.U8();
  address.port = static_cast<uint16_t>(reader.U8() << 8 | low);
  return address;
}

}  // namespace

bool IsUnspecified(const NetAddress& address) {
  if (address.port == 0) return true;
  if (std::all_of(address.ip.begin(), address.ip.end(), [](uint8_t b) { return b == 0; })) {
    return true;
  }
  return IsIpv4(address) && address.ip[12] == 0 && address.ip[13] == 0 && address.ip[14] == 0 &&
         address.ip[15] == 0;
}

bool IsRoutable(const NetAddress& address) {
  if (IsUnspecified(address)) return false;
  if (IsIpv4(address)) return IsRoutableIpv4(&address.ip[12]);
  const auto& ip = address.ip;
  static constexpr std::array<uint8_t, 16> kLoopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                        0, 0, 0, 0, 0, 0, 0, 1};
  if (ip == kLoopback) return false;
  if ((ip[0] & 0xfe) == 0xfc) return false;                   // fc00::/7 unique local
  if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) return false;  // fe80::/10 link-local
  if (ip[0] == 0xff) return false;                            // multicast
  if (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x0d && ip[3] == 0xb8) return false;  // docs
  // Other addresses starting with 80 zero bits (IPv4-compatible and the like) are not used.
  return !std::all_of(ip.begin(), ip.begin() + 10, [](uint8_t b) { return b == 0; });
}

AddressBook::AddressBook(const Options& options) : m_options(options) {}

AddressBook::Key AddressBook::KeyOf(const NetAddress& address) {
  Key key{};
  std::copy(address.ip.begin(), address.ip.end(), key.begin());
  key[16] = static_cast<uint8_t>(address.port >> 8);
  key[17] = static_cast<uint8_t>(address.port & 0xff);
  return key;
}

bool AddressBook::Accepts(const NetAddress& address) const {
  return m_options.allow_local ? !IsUnspecified(address) : IsRoutable(address);
}

bool AddressBook::IsTerrible(const AddressInfo& info, int64_t now) {
  if (info.last_seen > now + kMaxAddressTimeAhead) return true;
  if (info.last_seen < now - kMaxAddressAge) return true;
  if (info.last_success == 0 && info.failures >= kMaxRecentFailures) return true;
  return info.failures >= kMaxFailuresAfterSuccess && now - info.last_success > kFailingTooLong;
}

std::size_t AddressBook::CountLocked(bool tried) const {
  return tried ? m_tried_count : m_entries.size() - m_tried_count;
}

std::map<AddressBook::Key, AddressInfo>::iterator AddressBook::WorstLocked(bool tried,
                                                                           const Key* keep) {
  // Worst: most failures, then oldest last-seen; ties go to the smallest key, so the choice
  // depends only on the contents.
  auto worst = m_entries.end();
  for (auto it = m_entries.begin(); it != m_entries.end(); ++it) {
    if (it->second.tried != tried || (keep != nullptr && it->first == *keep)) continue;
    if (worst == m_entries.end() || std::tie(worst->second.failures, it->second.last_seen) <
                                        std::tie(it->second.failures, worst->second.last_seen)) {
      worst = it;
    }
  }
  return worst;
}

void AddressBook::EvictWorst(bool tried, const Key* keep) {
  auto worst = WorstLocked(tried, keep);
  if (worst == m_entries.end()) return;
  if (!tried) {
    m_entries.erase(worst);
    return;
  }
  // A tried entry is demoted to new rather than forgotten; new makes room if it must, without
  // dropping the entry just demoted.
  worst->second.tried = false;
  --m_tried_count;
  if (CountLocked(false) > m_options.max_new) {
    const Key demoted = worst->first;
    auto victim = WorstLocked(false, &demoted);
    m_entries.erase(victim != m_entries.end() ? victim : worst);
  }
}

std::size_t AddressBook::Add(std::span<const AddrEntry> entries, const NetAddress& source,
                             int64_t now) {
  std::lock_guard lock(m_mutex);
  std::size_t added = 0;
  for (const AddrEntry& entry : entries) {
    if (!Accepts(entry.address)) continue;
    const int64_t seen = BelievableTime(entry.time, now);
    const Key key = KeyOf(entry.address);
    auto it = m_entries.find(key);
    if (it != m_entries.end()) {
      it->second.address.services |= entry.address.services;
      it->second.last_seen = std::max(it->second.last_seen, seen);
      continue;
    }
    if (m_options.max_new == 0) continue;
    if (CountLocked(false) >= m_options.max_new) EvictWorst(false, nullptr);
    AddressInfo info;
    info.address = entry.address;
    info.last_seen = seen;
    info.source = source;
    m_entries.emplace(key, info);
    ++added;
  }
  return added;
}

bool AddressBook::Good(const NetAddress& address, int64_t now) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(KeyOf(address));
  if (it == m_entries.end()) return false;
  AddressInfo& info = it->second;
  info.last_success = now;
  info.last_attempt = now;
  info.last_seen = std::max(info.last_seen, now);
  info.failures = 0;
  if (!info.tried) {
    info.tried = true;
    ++m_tried_count;
    if (m_tried_count > m_options.max_tried) {
      // Demote the worst other tried entry; with max_tried 0 that is this one.
      EvictWorst(true, m_options.max_tried == 0 ? nullptr : &it->first);
    }
  }
  return true;
}

bool AddressBook::Attempt(const NetAddress& address, int64_t now) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(KeyOf(address));
  if (it == m_entries.end()) return false;
  it->second.last_attempt = now;
  return true;
}

bool AddressBook::Failed(const NetAddress& address, int64_t now) {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(KeyOf(address));
  if (it == m_entries.end()) return false;
  it->second.last_attempt = now;
  ++it->second.failures;
  return true;
}

std::optional<NetAddress> AddressBook::Select(int64_t now, std::mt19937_64& rng) const {
  std::lock_guard lock(m_mutex);
  std::vector<const AddressInfo*> tried;
  std::vector<const AddressInfo*> fresh;
  for (const auto& [key, info] : m_entries) {
    // An attempt that succeeded is no reason to wait: a restarted node goes back to its peers.
    const bool unanswered_attempt = info.last_attempt != 0 && info.last_success < info.last_attempt;
    if (unanswered_attempt && now - info.last_attempt < kMinRetryInterval) continue;
    if (info.failures >= kMaxRecentFailures && now - info.last_attempt < kFailureBackoff) continue;
    (info.tried ? tried : fresh).push_back(&info);
  }
  if (tried.empty() && fresh.empty()) return std::nullopt;
  const bool use_tried = !tried.empty() && (fresh.empty() || rng() % 4 != 0);
  const auto& table = use_tried ? tried : fresh;
  return table[rng() % table.size()]->address;
}

std::vector<AddrEntry> AddressBook::GetAddresses(std::size_t max, int64_t now,
                                                 std::mt19937_64& rng) const {
  std::lock_guard lock(m_mutex);
  std::vector<AddrEntry> result;
  for (const auto& [key, info] : m_entries) {
    if (IsTerrible(info, now)) continue;
    result.push_back(
        {static_cast<uint32_t>(std::clamp<int64_t>(info.last_seen, 0, UINT32_MAX)), info.address});
  }
  const std::size_t count = std::min({max, kMaxAddrEntries, result.size()});
  // A partial Fisher-Yates shuffle: the first `count` entries become a uniform random sample.
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(rng() % (result.size() - i));
    std::swap(result[i], result[j]);
  }
  result.resize(count);
  return result;
}

std::optional<AddressInfo> AddressBook::Find(const NetAddress& address) const {
  std::lock_guard lock(m_mutex);
  auto it = m_entries.find(KeyOf(address));
  if (it == m_entries.end()) return std::nullopt;
  return it->second;
}

std::size_t AddressBook::Size() const {
  std::lock_guard lock(m_mutex);
  return m_entries.size();
}

std::size_t AddressBook::NewCount() const {
  std::lock_guard lock(m_mutex);
  return CountLocked(false);
}

std::size_t AddressBook::TriedCount() const {
  std::lock_guard lock(m_mutex);
  return CountLocked(true);
}

// The file: magic "mcpd", version (u32), entry count (compact size), the entries, then the
// sha256d of everything before it.
std::vector<uint8_t> AddressBook::Serialize() const {
  Writer writer;
  writer.Bytes(kFileMagic);
  writer.U32(kAddressBookVersion);
  {
    std::lock_guard lock(m_mutex);
    writer.CompactSize(m_entries.size());
    for (const auto& [key, info] : m_entries) {
      WriteAddress(writer, info.address);
      writer.U64(static_cast<uint64_t>(info.last_seen));
      writer.U64(static_cast<uint64_t>(info.last_success));
      writer.U64(static_cast<uint64_t>(info.last_attempt));
      writer.U32(info.failures);
      WriteAddress(writer, info.source);
      writer.U8(info.tried ? 1 : 0);
    }
  }
  writer.Hash(Sha256d(writer.bytes()));
  return writer.Take();
}

std::optional<std::string> AddressBook::Save(const std::filesystem::path& path) const {
  std::lock_guard save_lock(m_save_mutex);
  return WriteFileAtomically(path, Serialize());
}

AddressBookLoad AddressBook::Load(const std::filesystem::path& path) {
  DataFileRead file = ReadDataFile(path, kFileMagic, kAddressBookVersion, "peers");
  if (file.status == DataFileRead::Status::kMissing) {
    std::lock_guard lock(m_mutex);
    m_entries.clear();
    m_tried_count = 0;
    return {AddressBookLoad::Status::kMissing, ""};
  }
  if (file.status == DataFileRead::Status::kCorrupt) return {AddressBookLoad::Status::kCorrupt, file.error};
  auto corrupt = [&](const std::string& why) {
    return AddressBookLoad{AddressBookLoad::Status::kCorrupt, path.string() + ": " + why};
  };
  std::map<Key, AddressInfo> entries;
  std::size_t tried_count = 0;
  try {
    Reader reader(file.body);
    const std::size_t count =
        reader.Count(m_options.max_new + m_options.max_tried, "address book entries");
    for (std::size_t i = 0; i < count; ++i) {
      AddressInfo info;
      info.address = ReadAddress(reader);
      info.last_seen = static_cast<int64_t>(reader.U64());
      info.last_success = static_cast<int64_t>(reader.U64());
      info.last_attempt = static_cast<int64_t>(reader.U64());
      info.failures = reader.U32();
      info.source = ReadAddress(reader);
      const uint8_t tried = reader.U8();
      if (tried > 1) throw DecodeError("entry " + std::to_string(i) + ": bad tried flag");
      info.tried = tried == 1;
      if (!Accepts(info.address)) continue;
      if (!entries.emplace(KeyOf(info.address), info).second) {
        throw DecodeError("entry " + std::to_string(i) + ": duplicate address");
      }
      if (info.tried) ++tried_count;
    }
    reader.ExpectEnd("address book");
    if (tried_count > m_options.max_tried || entries.size() - tried_count > m_options.max_new) {
      throw DecodeError("more entries than the book's bounds");
    }
  } catch (const DecodeError& error) {
    return corrupt(error.what());
  }
  std::lock_guard lock(m_mutex);
  m_entries = std::move(entries);
  m_tried_count = tried_count;
  return {AddressBookLoad::Status::kOk, ""};
}

}  // namespace minicoin::net
