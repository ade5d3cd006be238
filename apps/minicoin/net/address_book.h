// minicoin's address book: the peer addresses a node knows, what happened when it tried them, and
// the peers.dat file that keeps them across restarts.
#pragma once

#include "net/protocol.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace minicoin::net {

// The version written at the start of peers.dat; other versions are rejected on load.
inline constexpr uint32_t kAddressBookVersion = 1;
// Addresses heard of but never connected to, and addresses connected to at least once.
inline constexpr std::size_t kDefaultMaxNewAddresses = 4'096;
inline constexpr std::size_t kDefaultMaxTriedAddresses = 1'024;
// A "last seen" time further ahead of the clock than this is not believed.
inline constexpr int64_t kMaxAddressTimeAhead = int64_t{10} * 60;
// What an unbelievable "last seen" time is replaced with: this long before now.
inline constexpr int64_t kUnknownAddressAge = int64_t{5} * 24 * 60 * 60;
// Select skips addresses attempted less than this many seconds ago, unless that attempt
// connected.
inline constexpr int64_t kMinRetryInterval = 60;
// Select skips addresses that failed this many times in a row, until kFailureBackoff has passed
// since the last attempt.
inline constexpr uint32_t kMaxRecentFailures = 3;
inline constexpr int64_t kFailureBackoff = int64_t{60} * 60;

// True if `address` can be reached over the public internet: not unspecified, loopback,
// private, link-local, shared, multicast, documentation or reserved, and its port is not 0.
bool IsRoutable(const NetAddress& address);
// True if `address` is the unspecified address (:: or 0.0.0.0) or its port is 0.
bool IsUnspecified(const NetAddress& address);

// What the book knows about one address. Value type.
struct AddressInfo {
  NetAddress address;
  int64_t last_seen = 0;     // from addr messages, seconds since 1970, never after now + 10 min
  int64_t last_success = 0;  // last successful connection (0: never)
  int64_t last_attempt = 0;  // last connection attempt (0: never)
  uint32_t failures = 0;     // failed attempts since the last success
  NetAddress source;         // the peer that told us about it
  bool tried = false;        // connected to at least once
  bool operator==(const AddressInfo&) const = default;
};

// The outcome of AddressBook::Load. Value type.
struct AddressBookLoad {
  enum class Status {
    kOk,       // the file was read; the book holds its addresses
    kMissing,  // no such file: the book is empty
    kCorrupt,  // unreadable, truncated, damaged or of another version: `error` says why; the
               // book is unchanged and the caller can go on with it empty
  };
  Status status = Status::kCorrupt;
  std::string error;
};

// The known peer addresses, split into "new" (heard of) and "tried" (connected to once), each
// with a bound. Adding beyond the bound evicts the worst entry of that table (the most
// failed, then the oldest); a tried table that overflows moves its worst
// entry back to new. Every choice is deterministic given the caller's random generator and
// clock, so tests replay exactly.
// Thread-safe: every method takes the book's mutex; Save writes the file outside it (under a
// second mutex, so concurrent saves never share the temporary file).
//
//   AddressBook book;
//   book.Add(addr.entries, peer_address, now);
//   if (auto target = book.Select(now, rng)) Connect(*target);
class AddressBook {
 public:
  struct Options {
    // Accept loopback and private addresses (tests and local networks); unspecified addresses
    // and port 0 are never accepted.
    bool allow_local = false;
    std::size_t max_new = kDefaultMaxNewAddresses;
    std::size_t max_tried = kDefaultMaxTriedAddresses;
  };

  AddressBook() : AddressBook(Options{}) {}
  explicit AddressBook(const Options& options);
  AddressBook(const AddressBook&) = delete;
  AddressBook& operator=(const AddressBook&) = delete;

  // Learns `entries` from `source` at time `now`; addresses the options do not accept are
  // ignored. A known address gets the newer last-seen time and its services are merged. Returns
  // how many addresses were new to the book.
  std::size_t Add(std::span<const AddrEntry> entries, const NetAddress& source, int64_t now);
  // A connection to `address` succeeded: it moves to tried and its failures reset. False if the
  // address is unknown.
  bool Good(const NetAddress& address, int64_t now);
  // A connection to `address` is being attempted. False if the address is unknown.
  bool Attempt(const NetAddress& address, int64_t now);
  // The attempt failed. False if the address is unknown.
  bool Failed(const NetAddress& address, int64_t now);

  // An address to try for an outbound connection, or nullopt when none is eligible. Skips
  // addresses attempted in the last kMinRetryInterval seconds without connecting (a connection
  // made, Good, lifts the wait: a restarted node reconnects at once), those with kMaxRecentFailures
  // failures in a row attempted within kFailureBackoff; picks a tried address three times out of
  // four when both tables have eligible ones, uniformly within the table.
  std::optional<NetAddress> Select(int64_t now, std::mt19937_64& rng) const;
  // At most min(max, kMaxAddrEntries) addresses in random order for a getaddr answer, leaving out
  // terrible ones (see IsTerrible).
  std::vector<AddrEntry> GetAddresses(std::size_t max, int64_t now, std::mt19937_64& rng) const;

  // What the book knows about `address` (the services are ignored when looking it up).
  std::optional<AddressInfo> Find(const NetAddress& address) const;
  std::size_t Size() const;
  std::size_t NewCount() const;
  std::size_t TriedCount() const;

  // Writes the book to `path` atomically: to `path`.tmp, flushed to disk, then renamed over
  // `path`, so a crash leaves either the old file or the new one. Returns an error text on
  // failure (the old file is then untouched), nullopt on success.
  std::optional<std::string> Save(const std::filesystem::path& path) const;
  // Replaces the book's contents with the file at `path`. A corrupt file leaves the book as it
  // was. Entries the options do not accept are dropped; entries over the bounds are an error.
  AddressBookLoad Load(const std::filesystem::path& path);

  // The file's bytes for the current contents (Save writes exactly these).
  std::vector<uint8_t> Serialize() const;

  // True if the entry is not worth keeping or sharing: last seen in the future or over 30 days
  // ago, never reached after kMaxRecentFailures attempts, or failing for a week.
  static bool IsTerrible(const AddressInfo& info, int64_t now);

 private:
  // An address without its services: ip and port.
  using Key = std::array<uint8_t, 18>;
  static Key KeyOf(const NetAddress& address);

  bool Accepts(const NetAddress& address) const;
  // The worst entry of the new (tried == false) or tried table other than `keep`: most failures,
  // then oldest. Caller holds m_mutex.
  std::map<Key, AddressInfo>::iterator WorstLocked(bool tried, const Key* keep);
  // Makes room in a table: drops the worst new entry, or demotes the worst tried one to new.
  // Caller holds m_mutex.
  void EvictWorst(bool tried, const Key* keep);
  std::size_t CountLocked(bool tried) const;

  const Options m_options;
  mutable std::mutex m_mutex;
  // Held by Save while it writes; taken before m_mutex, never the other way round.
  mutable std::mutex m_save_mutex;
  // Guarded by m_mutex. Ordered, so iteration (and therefore every choice) is deterministic.
  std::map<Key, AddressInfo> m_entries;
  std::size_t m_tried_count = 0;  // guarded by m_mutex
};

}  // namespace minicoin::net
