// Tests of the address book: filtering, bounds and eviction, connection outcomes, selection with a
// fixed seed and clock, getaddr answers, and the peers.dat file.
#include "net/address_book.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

namespace minicoin::net {
namespace {

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01

// A routable IPv4 address 1.x.y.z distinct for each n.
NetAddress Public(uint32_t n, uint16_t port = 8333) {
  return NetAddress::FromIpv4(1, static_cast<uint8_t>(n >> 16), static_cast<uint8_t>(n >> 8),
                              static_cast<uint8_t>(n), port, kServiceNetwork);
}

// The peer every test address is learnt from.
NetAddress Source() { return NetAddress::FromIpv4(2, 2, 2, 2, 8333, kServiceNetwork); }

std::vector<AddrEntry> Entries(uint32_t first, uint32_t count, int64_t time = kNow - 60) {
  std::vector<AddrEntry> entries;
  for (uint32_t i = first; i < first + count; ++i) {
    entries.push_back({static_cast<uint32_t>(time), Public(i)});
  }
  return entries;
}

AddressBook::Options Bounds(std::size_t max_new, std::size_t max_tried) {
  AddressBook::Options options;
  options.max_new = max_new;
  options.max_tried = max_tried;
  return options;
}

// A fresh folder under the system's temporary folder, removed at the end of the test.
class TempFolder {
 public:
  TempFolder() {
    m_path = std::filesystem::temp_directory_path() /
             ("minicoin_addrbook_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(m_path);
    std::filesystem::create_directories(m_path);
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  const std::filesystem::path& Path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

std::vector<uint8_t> ReadBytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void WriteBytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

TEST(AddressBookTest, AddsRoutableAddressesOnce) {
  AddressBook book;
  EXPECT_EQ(book.Add(Entries(1, 3), Source(), kNow), 3u);
  EXPECT_EQ(book.Add(Entries(2, 3), Source(), kNow), 1u);  // 2 and 3 are known
  EXPECT_EQ(book.Size(), 4u);
  EXPECT_EQ(book.NewCount(), 4u);
  EXPECT_EQ(book.TriedCount(), 0u);
  const auto info = book.Find(Public(1));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->source, Source());
  EXPECT_EQ(info->last_seen, kNow - 60);
  EXPECT_FALSE(info->tried);
  EXPECT_EQ(info->failures, 0u);
}

TEST(AddressBookTest, KnownAddressKeepsNewestTimeAndMergesServices) {
  AddressBook book;
  NetAddress address = Public(7);
  address.services = 0;
  const AddrEntry old_entry{static_cast<uint32_t>(kNow - 1000), address};
  book.Add(std::span(&old_entry, 1), Source(), kNow);
  address.services = 4;
  const AddrEntry newer{static_cast<uint32_t>(kNow - 10), address};
  book.Add(std::span(&newer, 1), Source(), kNow);
  const AddrEntry older{static_cast<uint32_t>(kNow - 5000), Public(7)};
  book.Add(std::span(&older, 1), Source(), kNow);
  const auto info = book.Find(Public(7));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->last_seen, kNow - 10);
  EXPECT_EQ(info->address.services, 4u | kServiceNetwork);
}

TEST(AddressBookTest, UnbelievableTimesGetADefault) {
  AddressBook book;
  std::vector<AddrEntry> entries = {
      {static_cast<uint32_t>(kNow + kMaxAddressTimeAhead + 1), Public(1)},  // too far ahead
      {static_cast<uint32_t>(kNow + kMaxAddressTimeAhead), Public(2)},      // just allowed
      {0, Public(3)},                                                       // never
  };
  book.Add(entries, Source(), kNow);
  EXPECT_EQ(book.Find(Public(1))->last_seen, kNow - kUnknownAddressAge);
  EXPECT_EQ(book.Find(Public(2))->last_seen, kNow + kMaxAddressTimeAhead);
  EXPECT_EQ(book.Find(Public(3))->last_seen, kNow - kUnknownAddressAge);
}

TEST(AddressBookTest, RoutableClassification) {
  EXPECT_TRUE(IsRoutable(NetAddress::FromIpv4(8, 8, 8, 8, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(8, 8, 8, 8, 0, 0)));  // port 0
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(0, 0, 0, 0, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(127, 0, 0, 1, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(10, 1, 2, 3, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(172, 16, 0, 1, 8333, 0)));
  EXPECT_TRUE(IsRoutable(NetAddress::FromIpv4(172, 32, 0, 1, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(192, 168, 1, 1, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(169, 254, 1, 1, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(100, 64, 0, 1, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(224, 0, 0, 1, 8333, 0)));
  EXPECT_FALSE(IsRoutable(NetAddress::FromIpv4(255, 255, 255, 255, 8333, 0)));
  NetAddress v6;
  v6.port = 8333;
  EXPECT_FALSE(IsRoutable(v6));  // ::
  EXPECT_TRUE(IsUnspecified(v6));
  v6.ip[15] = 1;
  EXPECT_FALSE(IsRoutable(v6));  // ::1
  v6.ip = {0x2a, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_TRUE(IsRoutable(v6));
  v6.ip[0] = 0xfd;  // unique local
  EXPECT_FALSE(IsRoutable(v6));
  v6.ip[0] = 0xfe;
  v6.ip[1] = 0x80;  // link-local
  EXPECT_FALSE(IsRoutable(v6));
  v6.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};  // documentation
  EXPECT_FALSE(IsRoutable(v6));
}

TEST(AddressBookTest, LocalAddressesOnlyWhenAllowed) {
  const std::vector<AddrEntry> entries = {
      {static_cast<uint32_t>(kNow), NetAddress::FromIpv4(127, 0, 0, 1, 18444, 0)},
      {static_cast<uint32_t>(kNow), NetAddress::FromIpv4(192, 168, 0, 2, 18444, 0)},
      {static_cast<uint32_t>(kNow), NetAddress::FromIpv4(127, 0, 0, 1, 0, 0)},    // port 0
      {static_cast<uint32_t>(kNow), NetAddress::FromIpv4(0, 0, 0, 0, 18444, 0)},  // unspecified
  };
  AddressBook strict;
  EXPECT_EQ(strict.Add(entries, Source(), kNow), 0u);
  EXPECT_EQ(strict.Size(), 0u);
  AddressBook::Options options;
  options.allow_local = true;
  AddressBook local(options);
  EXPECT_EQ(local.Add(entries, Source(), kNow), 2u);
  EXPECT_TRUE(local.Find(NetAddress::FromIpv4(127, 0, 0, 1, 18444, 0)));
  EXPECT_FALSE(local.Find(NetAddress::FromIpv4(127, 0, 0, 1, 0, 0)));
}

TEST(AddressBookTest, NewTableEvictsMostFailedThenOldest) {
  AddressBook book(Bounds(3, 2));
  book.Add(Entries(1, 1, kNow - 100), Source(), kNow);
  book.Add(Entries(2, 1, kNow - 300), Source(), kNow);  // the oldest
  book.Add(Entries(3, 1, kNow - 200), Source(), kNow);
  book.Add(Entries(4, 1), Source(), kNow);
  EXPECT_EQ(book.Size(), 3u);
  EXPECT_FALSE(book.Find(Public(2)));
  // A failure outweighs age.
  book.Failed(Public(1), kNow);
  book.Add(Entries(5, 1), Source(), kNow);
  EXPECT_EQ(book.Size(), 3u);
  EXPECT_FALSE(book.Find(Public(1)));
  EXPECT_TRUE(book.Find(Public(3)));
  EXPECT_TRUE(book.Find(Public(4)));
  EXPECT_TRUE(book.Find(Public(5)));
}

TEST(AddressBookTest, BoundsHoldUnderMany) {
  AddressBook book(Bounds(100, 10));
  for (uint32_t i = 0; i < 30; ++i) book.Add(Entries(i * 50, 50), Source(), kNow);
  EXPECT_EQ(book.NewCount(), 100u);
  AddressBook full;
  for (uint32_t i = 0; i < 6; ++i) full.Add(Entries(i * 1000, 1000), Source(), kNow);
  EXPECT_EQ(full.NewCount(), kDefaultMaxNewAddresses);
}

TEST(AddressBookTest, GoodMovesToTriedAndOverflowDemotes) {
  AddressBook book(Bounds(10, 2));
  book.Add(Entries(1, 4), Source(), kNow);
  EXPECT_FALSE(book.Good(Public(99), kNow));
  book.Failed(Public(1), kNow - 500);
  EXPECT_TRUE(book.Good(Public(1), kNow - 400));
  auto info = book.Find(Public(1));
  EXPECT_TRUE(info->tried);
  EXPECT_EQ(info->failures, 0u);
  EXPECT_EQ(info->last_success, kNow - 400);
  EXPECT_EQ(book.TriedCount(), 1u);
  book.Good(Public(2), kNow - 300);
  book.Failed(Public(2), kNow - 200);  // now the worst tried entry
  book.Good(Public(3), kNow - 100);
  EXPECT_EQ(book.TriedCount(), 2u);
  EXPECT_EQ(book.Size(), 4u);  // demoted, not dropped
  EXPECT_FALSE(book.Find(Public(2))->tried);
  EXPECT_TRUE(book.Find(Public(1))->tried);
  EXPECT_TRUE(book.Find(Public(3))->tried);
}

TEST(AddressBookTest, DemotionIntoFullNewTableLosesNothing) {
  // Good frees the new slot that the demoted entry then takes: both tables stay within bounds
  // and no address is forgotten.
  AddressBook book(Bounds(2, 1));
  book.Add(Entries(1, 1, kNow - 100), Source(), kNow);
  book.Good(Public(1), kNow);
  book.Add(Entries(2, 2, kNow - 50), Source(), kNow);  // new: 2, 3 (full)
  book.Good(Public(3), kNow + 1);                      // 1 demoted into new
  EXPECT_EQ(book.TriedCount(), 1u);
  EXPECT_EQ(book.NewCount(), 2u);
  EXPECT_TRUE(book.Find(Public(3))->tried);
  EXPECT_FALSE(book.Find(Public(1))->tried);
  EXPECT_TRUE(book.Find(Public(2)));
}

TEST(AddressBookTest, AttemptAndFailedAreRecorded) {
  AddressBook book;
  book.Add(Entries(1, 1), Source(), kNow);
  EXPECT_FALSE(book.Attempt(Public(2), kNow));
  EXPECT_FALSE(book.Failed(Public(2), kNow));
  EXPECT_TRUE(book.Attempt(Public(1), kNow + 5));
  EXPECT_EQ(book.Find(Public(1))->last_attempt, kNow + 5);
  EXPECT_TRUE(book.Failed(Public(1), kNow + 6));
  EXPECT_TRUE(book.Failed(Public(1), kNow + 7));
  EXPECT_EQ(book.Find(Public(1))->failures, 2u);
  EXPECT_EQ(book.Find(Public(1))->last_attempt, kNow + 7);
}

TEST(AddressBookTest, SelectSkipsRecentAttemptsAndRepeatedFailures) {
  AddressBook book;
  std::mt19937_64 rng(42);
  EXPECT_FALSE(book.Select(kNow, rng));
  book.Add(Entries(1, 2), Source(), kNow);
  book.Attempt(Public(1), kNow);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(book.Select(kNow + 10, rng), Public(2));
  // After the retry interval both are eligible again.
  std::set<uint32_t> seen;
  for (int i = 0; i < 50; ++i) seen.insert(book.Select(kNow + kMinRetryInterval, rng)->ip[15]);
  EXPECT_EQ(seen, (std::set<uint32_t>{1, 2}));
  // Repeated failures keep an address out until the backoff has passed.
  for (uint32_t i = 0; i < kMaxRecentFailures; ++i) book.Failed(Public(2), kNow + 100);
  book.Attempt(Public(1), kNow + 100);
  EXPECT_FALSE(book.Select(kNow + 120, rng));
  const int64_t later = kNow + 100 + kFailureBackoff;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(book.Select(later - 1, rng), Public(1));
  EXPECT_TRUE(book.Select(later, rng));
}

TEST(AddressBookTest, AnAttemptThatConnectedDoesNotDelayTheNextOne) {
  AddressBook book;
  std::mt19937_64 rng(3);
  book.Add(Entries(1, 1), Source(), kNow);
  book.Attempt(Public(1), kNow);
  EXPECT_FALSE(book.Select(kNow + 1, rng));  // still connecting
  book.Good(Public(1), kNow + 1);
  EXPECT_EQ(book.Select(kNow + 2, rng), Public(1));  // after a restart: back to the same peer
  book.Attempt(Public(1), kNow + 3);
  EXPECT_FALSE(book.Select(kNow + 4, rng));  // a new attempt waits again until it connects
}

TEST(AddressBookTest, SelectPrefersTriedAndIsDeterministic) {
  AddressBook book;
  book.Add(Entries(1, 20), Source(), kNow);
  book.Good(Public(5), kNow);
  int tried = 0;
  std::mt19937_64 rng(7);
  std::vector<NetAddress> picks;
  for (int i = 0; i < 400; ++i) {
    const auto pick = book.Select(kNow + kMinRetryInterval, rng);
    ASSERT_TRUE(pick);
    picks.push_back(*pick);
    if (*pick == Public(5)) ++tried;
  }
  // One tried address among 20: picked about three times in four, far above 1 in 20.
  EXPECT_GT(tried, 250);
  EXPECT_LT(tried, 350);
  std::mt19937_64 same(7);
  for (const NetAddress& expected : picks) {
    EXPECT_EQ(book.Select(kNow + kMinRetryInterval, same), expected);
  }
}

TEST(AddressBookTest, GetAddressesIsBoundedRandomAndLeavesOutTerrible) {
  AddressBook book;
  book.Add(Entries(0, 3000), Source(), kNow);
  std::mt19937_64 rng(1);
  EXPECT_EQ(book.GetAddresses(5000, kNow, rng).size(), kMaxAddrEntries);
  EXPECT_EQ(book.GetAddresses(10, kNow, rng).size(), 10u);
  EXPECT_TRUE(book.GetAddresses(0, kNow, rng).empty());
  const auto first = book.GetAddresses(10, kNow, rng);
  const auto second = book.GetAddresses(10, kNow, rng);
  EXPECT_NE(first, second);
  const auto all = book.GetAddresses(kMaxAddrEntries, kNow, rng);
  std::set<uint32_t> distinct;
  for (const AddrEntry& entry : all) {
    distinct.insert(uint32_t{entry.address.ip[13]} << 16 | uint32_t{entry.address.ip[14]} << 8 |
                    entry.address.ip[15]);
  }
  EXPECT_EQ(distinct.size(), all.size());

  AddressBook small;
  small.Add(Entries(1, 3), Source(), kNow);
  small.Add(Entries(10, 1, kNow - int64_t{31} * 24 * 60 * 60), Source(), kNow);     // too old
  for (uint32_t i = 0; i < kMaxRecentFailures; ++i) small.Failed(Public(2), kNow);  // never worked
  const auto answer = small.GetAddresses(100, kNow, rng);
  EXPECT_EQ(answer.size(), 2u);
  for (const AddrEntry& entry : answer) {
    EXPECT_NE(entry.address, Public(2));
    EXPECT_NE(entry.address, Public(10));
  }
}

TEST(AddressBookTest, TerribleRules) {
  AddressInfo info;
  info.last_seen = kNow;
  EXPECT_FALSE(AddressBook::IsTerrible(info, kNow));
  info.last_seen = kNow + kMaxAddressTimeAhead + 1;
  EXPECT_TRUE(AddressBook::IsTerrible(info, kNow));
  info.last_seen = kNow;
  info.failures = kMaxRecentFailures;
  EXPECT_TRUE(AddressBook::IsTerrible(info, kNow));
  info.last_success = kNow - 100;
  EXPECT_FALSE(AddressBook::IsTerrible(info, kNow));
  info.failures = 10;
  EXPECT_FALSE(AddressBook::IsTerrible(info, kNow));
  info.last_success = kNow - int64_t{8} * 24 * 60 * 60;
  EXPECT_TRUE(AddressBook::IsTerrible(info, kNow));
}

TEST(AddressBookTest, ConcurrentUseKeepsCountsConsistent) {
  // Four threads add disjoint ranges and mark part of them good while a fifth reads; whatever the
  // interleaving, the final contents are the same.
  AddressBook book(Bounds(10'000, 1'000));
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < 4; ++t) {
    threads.emplace_back([&book, t] {
      for (uint32_t i = 0; i < 500; ++i) {
        const uint32_t n = t * 1000 + i;
        book.Add(Entries(n, 1), Source(), kNow);
        if (i % 5 == 0) book.Good(Public(n), kNow);
        if (i % 7 == 0) book.Failed(Public(n), kNow);
      }
    });
  }
  threads.emplace_back([&book] {
    std::mt19937_64 rng(3);
    for (int i = 0; i < 200; ++i) {
      EXPECT_LE(book.GetAddresses(50, kNow, rng).size(), 50u);
      book.Select(kNow + kMinRetryInterval, rng);
    }
  });
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(book.Size(), 2000u);
  EXPECT_EQ(book.TriedCount(), 400u);
  EXPECT_EQ(book.NewCount(), 1600u);
  EXPECT_EQ(book.Find(Public(1007))->failures, 1u);
}

AddressBook::Options LocalOptions() {
  AddressBook::Options options;
  options.allow_local = true;
  return options;
}

// A book with new and tried entries and recorded attempts.
void Fill(AddressBook& book) {
  book.Add(Entries(1, 50), Source(), kNow);
  const AddrEntry local{static_cast<uint32_t>(kNow - 5),
                        NetAddress::FromIpv4(127, 0, 0, 1, 18444, 1)};
  book.Add(std::span(&local, 1), NetAddress::FromIpv4(127, 0, 0, 1, 18445, 0), kNow);
  book.Good(Public(3), kNow + 1);
  book.Good(Public(4), kNow + 2);
  book.Failed(Public(4), kNow + 3);
  book.Attempt(Public(9), kNow + 4);
  book.Failed(Public(10), kNow + 5);
}

TEST(AddressBookTest, SaveLoadRoundTrip) {
  TempFolder folder;
  const auto path = folder.Path() / "peers.dat";
  AddressBook book(LocalOptions());
  Fill(book);
  ASSERT_EQ(book.Save(path), std::nullopt);
  EXPECT_FALSE(std::filesystem::exists(folder.Path() / "peers.dat.tmp"));
  AddressBook loaded(LocalOptions());
  const AddressBookLoad result = loaded.Load(path);
  ASSERT_EQ(result.status, AddressBookLoad::Status::kOk) << result.error;
  EXPECT_EQ(loaded.Size(), book.Size());
  EXPECT_EQ(loaded.TriedCount(), 2u);
  EXPECT_EQ(loaded.Serialize(), book.Serialize());
  EXPECT_EQ(loaded.Find(Public(4)), book.Find(Public(4)));
  EXPECT_EQ(loaded.Find(Public(10))->failures, 1u);

  // A book that does not accept local addresses drops them when loading.
  AddressBook strict;
  ASSERT_EQ(strict.Load(path).status, AddressBookLoad::Status::kOk);
  EXPECT_EQ(strict.Size(), book.Size() - 1);

  // Saving again replaces the file.
  AddressBook empty;
  ASSERT_EQ(empty.Save(path), std::nullopt);
  ASSERT_EQ(loaded.Load(path).status, AddressBookLoad::Status::kOk);
  EXPECT_EQ(loaded.Size(), 0u);
}

TEST(AddressBookTest, FileLayout) {
  AddressBook book;
  book.Add(Entries(1, 2), Source(), kNow);
  const std::vector<uint8_t> bytes = book.Serialize();
  // magic, version, count, 81 bytes per entry, checksum.
  ASSERT_EQ(bytes.size(), 4u + 4u + 1u + 2u * 81u + 32u);
  EXPECT_EQ((std::vector<uint8_t>(bytes.begin(), bytes.begin() + 9)),
            (std::vector<uint8_t>{'m', 'c', 'p', 'd', 1, 0, 0, 0, 2}));
  // The first entry's address: services, ip, then the port 8333 (0x208d) little-endian.
  EXPECT_EQ(bytes[9], kServiceNetwork);
  EXPECT_EQ(bytes[9 + 8 + 15], 1);  // 1.0.0.1
  EXPECT_EQ(bytes[9 + 24], 0x8d);
  EXPECT_EQ(bytes[9 + 25], 0x20);
  EXPECT_EQ(bytes[9 + 26], static_cast<uint8_t>(kNow - 60));  // last seen, low byte
}

TEST(AddressBookTest, MissingFileIsAnEmptyBook) {
  TempFolder folder;
  AddressBook book;
  book.Add(Entries(1, 3), Source(), kNow);
  const AddressBookLoad result = book.Load(folder.Path() / "peers.dat");
  EXPECT_EQ(result.status, AddressBookLoad::Status::kMissing);
  EXPECT_EQ(book.Size(), 0u);
}

// Loads `bytes` as peers.dat into a filled book; expects kCorrupt, the book unchanged and an
// error containing `reason`.
void ExpectCorrupt(const std::vector<uint8_t>& bytes, const std::string& reason) {
  TempFolder folder;
  const auto path = folder.Path() / "peers.dat";
  WriteBytes(path, bytes);
  AddressBook book;
  book.Add(Entries(500, 2), Source(), kNow);
  const AddressBookLoad result = book.Load(path);
  EXPECT_EQ(result.status, AddressBookLoad::Status::kCorrupt);
  EXPECT_NE(result.error.find(reason), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("peers.dat"), std::string::npos) << result.error;
  EXPECT_EQ(book.Size(), 2u);
}

TEST(AddressBookTest, CorruptFilesAreRejectedWithAReason) {
  AddressBook book(LocalOptions());
  Fill(book);
  const std::vector<uint8_t> good = book.Serialize();

  for (std::size_t i : {std::size_t{9}, good.size() / 2, good.size() - 1}) {
    std::vector<uint8_t> flipped = good;
    flipped[i] ^= 0x01;
    ExpectCorrupt(flipped, "checksum mismatch");
  }
  ExpectCorrupt({good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() - 40)},
                "checksum mismatch");
  ExpectCorrupt({good.begin(), good.begin() + 10}, "truncated");
  ExpectCorrupt({}, "truncated");
  std::vector<uint8_t> wrong_magic = good;
  wrong_magic[0] = 'x';
  ExpectCorrupt(wrong_magic, "wrong magic");
  std::vector<uint8_t> wrong_version = good;
  wrong_version[4] = 2;
  ExpectCorrupt(wrong_version, "version 2, expected 1");
}

TEST(AddressBookTest, WellFormedButInvalidContentsAreRejected) {
  // A valid checksum over bad contents: more entries than the bounds allow.
  AddressBook big(LocalOptions());
  big.Add(Entries(1, 20), Source(), kNow);
  TempFolder folder;
  const auto path = folder.Path() / "peers.dat";
  ASSERT_EQ(big.Save(path), std::nullopt);
  AddressBook small(Bounds(5, 5));
  const AddressBookLoad result = small.Load(path);
  EXPECT_EQ(result.status, AddressBookLoad::Status::kCorrupt);
  EXPECT_NE(result.error.find("address book entries"), std::string::npos) << result.error;
  EXPECT_EQ(small.Size(), 0u);
}

// `contents` (everything before the checksum) followed by its correct checksum.
std::vector<uint8_t> WithChecksum(std::vector<uint8_t> contents) {
  const Uint256 checksum = Sha256d(contents);
  contents.insert(contents.end(), checksum.bytes().begin(), checksum.bytes().end());
  return contents;
}

TEST(AddressBookTest, BadEntriesUnderAValidChecksumAreRejected) {
  AddressBook book;
  book.Add(Entries(1, 1), Source(), kNow);
  const std::vector<uint8_t> one = book.Serialize();
  const std::vector<uint8_t> header(one.begin(), one.begin() + 8);
  const std::vector<uint8_t> entry(one.begin() + 9, one.end() - 32);
  ASSERT_EQ(entry.size(), 81u);

  std::vector<uint8_t> duplicate = header;
  duplicate.push_back(2);
  duplicate.insert(duplicate.end(), entry.begin(), entry.end());
  duplicate.insert(duplicate.end(), entry.begin(), entry.end());
  ExpectCorrupt(WithChecksum(duplicate), "duplicate address");

  std::vector<uint8_t> bad_flag = header;
  bad_flag.push_back(1);
  bad_flag.insert(bad_flag.end(), entry.begin(), entry.end());
  bad_flag.back() = 2;
  ExpectCorrupt(WithChecksum(bad_flag), "bad tried flag");

  std::vector<uint8_t> short_count = header;
  short_count.push_back(2);
  short_count.insert(short_count.end(), entry.begin(), entry.end());
  ExpectCorrupt(WithChecksum(short_count), "truncated data");

  std::vector<uint8_t> trailing = header;
  trailing.push_back(1);
  trailing.insert(trailing.end(), entry.begin(), entry.end());
  trailing.push_back(0);
  ExpectCorrupt(WithChecksum(trailing), "unexpected bytes");
}

TEST(AddressBookTest, FailedSaveLeavesTheOldFile) {
  TempFolder folder;
  const auto path = folder.Path() / "peers.dat";
  AddressBook book;
  book.Add(Entries(1, 5), Source(), kNow);
  ASSERT_EQ(book.Save(path), std::nullopt);
  const std::vector<uint8_t> before = ReadBytes(path);

  // The temporary file cannot be created: a folder is in its way.
  std::filesystem::create_directory(folder.Path() / "peers.dat.tmp");
  book.Add(Entries(100, 5), Source(), kNow);
  const auto error = book.Save(path);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("peers.dat.tmp"), std::string::npos) << *error;
  EXPECT_EQ(ReadBytes(path), before);

  // A folder that does not exist.
  const auto missing = book.Save(folder.Path() / "no_such_folder" / "peers.dat");
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("cannot create"), std::string::npos) << *missing;

  AddressBook loaded;
  ASSERT_EQ(loaded.Load(path).status, AddressBookLoad::Status::kOk);
  EXPECT_EQ(loaded.Size(), 5u);
}

TEST(AddressBookTest, UnreadableFileIsReportedNotThrown) {
  TempFolder folder;
  // A folder where the file should be.
  std::filesystem::create_directory(folder.Path() / "peers.dat");
  AddressBook book;
  const AddressBookLoad result = book.Load(folder.Path() / "peers.dat");
  EXPECT_EQ(result.status, AddressBookLoad::Status::kCorrupt);
  EXPECT_FALSE(result.error.empty());
}

}  // namespace
}  // namespace minicoin::net
