// minicoin's ban list: the IP addresses refused as peers, until when and why, and the banlist.dat
// file that keeps them across restarts.
#pragma once

#include "net/net_address.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace minicoin::net {

// The version written at the start of the ban file; other versions are rejected on load.
inline constexpr uint32_t kBanListVersion = 1;
// A ban's reason is cut to this many bytes.
inline constexpr std::size_t kMaxBanReasonLength = 256;
// Entries a ban file may hold.
inline constexpr std::size_t kMaxBanEntries = 100'000;

// One ban, as listed for RPC. Value type.
struct BanInfo {
  std::string address;  // the IP address ("127.0.0.2", "::1"): every port of it is banned
  int64_t created = 0;  // seconds since 1970
  int64_t until = 0;    // seconds since 1970; the ban ends then
  std::string reason;
  bool operator==(const BanInfo&) const = default;
};

// The outcome of BanList::Load. Value type.
struct BanListLoad {
  enum class Status {
    kOk,       // the file was read
    kMissing,  // no such file: the list is empty
    kCorrupt,  // unreadable, truncated, damaged or of another version: `error` says why; the
               // list is unchanged
  };
  Status status = Status::kCorrupt;
  std::string error;
};

// Banned IP addresses (all ports of each), each with when the ban was made, when it ends and why.
// An expired ban no longer counts: it is never listed, and is dropped by Ban, Load and Save.
// Thread-safe: every method takes the list's mutex; Save writes outside it.
//
//   BanList bans;
//   bans.Ban(ip, now, now + 24 * 3600, "sent garbage");
//   if (bans.IsBanned(ip, now)) Refuse();
class BanList {
 public:
  BanList() = default;
  BanList(const BanList&) = delete;
  BanList& operator=(const BanList&) = delete;

  // Bans `ip` from `now` until `until`, replacing any ban it already has. An `until` not after
  // `now` removes the ban instead.
  void Ban(const IpAddress& ip, int64_t now, int64_t until, std::string reason);
  // Lifts the ban on `ip`; false if it had none.
  bool Unban(const IpAddress& ip);
  // True while `ip` has a ban that has not ended at `now`.
  bool IsBanned(const IpAddress& ip, int64_t now) const;
  // The bans still in force at `now`, by address.
  std::vector<BanInfo> List(int64_t now) const;
  void Clear();
  std::size_t Size() const;

  // Writes the bans in force at `now` to `path` atomically (`path`.tmp, flushed, renamed over
  // `path`). Returns an error text on failure (the old file is then untouched).
  std::optional<std::string> Save(const std::filesystem::path& path, int64_t now) const;
  // Replaces the list with the file at `path`, leaving out bans expired at `now`. A corrupt file
  // leaves the list as it was.
  BanListLoad Load(const std::filesystem::path& path, int64_t now);
  // The file's bytes for the bans in force at `now`.
  std::vector<uint8_t> Serialize(int64_t now) const;

 private:
  struct Entry {
    int64_t created = 0;
    int64_t until = 0;
    std::string reason;
  };

  mutable std::mutex m_mutex;
  mutable std::mutex m_save_mutex;       // held by Save while it writes; taken before m_mutex
  std::map<IpAddress, Entry> m_entries;  // guarded by m_mutex
};

}  // namespace minicoin::net
