// Tests of the ban list: bans by IP with their times and reasons, expiry, and the ban file.
#include "net/ban_list.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace minicoin::net {
namespace {

constexpr int64_t kNow = 1'767'225'600;  // 2026-01-01

IpAddress Ip(const char* text) { return ParseIp(text).value(); }

std::filesystem::path TempFile(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("minicoin_ban_list_test_" + std::to_string(::getpid()) + "_" + name);
}

TEST(BanListTest, BansByIpUntilTheEnd) {
  BanList bans;
  bans.Ban(Ip("127.0.0.2"), kNow, kNow + 100, "garbage");
  EXPECT_TRUE(bans.IsBanned(Ip("127.0.0.2"), kNow));
  EXPECT_TRUE(bans.IsBanned(Ip("127.0.0.2"), kNow + 99));
  EXPECT_FALSE(bans.IsBanned(Ip("127.0.0.2"), kNow + 100));
  EXPECT_FALSE(bans.IsBanned(Ip("127.0.0.1"), kNow));
  EXPECT_FALSE(bans.IsBanned(Ip("::ffff:127.0.0.3"), kNow));
  // The same address written as IPv4-mapped IPv6 is the same address.
  EXPECT_TRUE(bans.IsBanned(Ip("::ffff:127.0.0.2"), kNow));

  EXPECT_EQ(bans.List(kNow), (std::vector<BanInfo>{{"127.0.0.2", kNow, kNow + 100, "garbage"}}));
  EXPECT_TRUE(bans.List(kNow + 100).empty());

  // A new ban replaces the old one; a ban ending now removes it.
  bans.Ban(Ip("127.0.0.2"), kNow + 10, kNow + 1000, "again");
  EXPECT_EQ(bans.List(kNow + 10),
            (std::vector<BanInfo>{{"127.0.0.2", kNow + 10, kNow + 1000, "again"}}));
  bans.Ban(Ip("127.0.0.2"), kNow + 20, kNow + 20, "none");
  EXPECT_FALSE(bans.IsBanned(Ip("127.0.0.2"), kNow + 20));

  bans.Ban(Ip("::1"), kNow, kNow + 5, std::string(1000, 'x'));
  EXPECT_EQ(bans.List(kNow).at(0).reason.size(), kMaxBanReasonLength);
  EXPECT_TRUE(bans.Unban(Ip("::1")));
  EXPECT_FALSE(bans.Unban(Ip("::1")));

  bans.Ban(Ip("10.0.0.1"), kNow, kNow + 5, "a");
  bans.Clear();
  EXPECT_EQ(bans.Size(), 0u);
}

TEST(BanListTest, SaveAndLoadDropExpiredBans) {
  const auto path = TempFile("roundtrip");
  BanList bans;
  bans.Ban(Ip("127.0.0.2"), kNow, kNow + 100, "garbage");
  bans.Ban(Ip("2001:db8::1"), kNow, kNow + 10, "short");
  bans.Ban(Ip("10.1.2.3"), kNow, kNow + 1000, "");
  ASSERT_FALSE(bans.Save(path, kNow + 10).has_value());
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));

  BanList loaded;
  EXPECT_EQ(loaded.Load(path, kNow + 10).status, BanListLoad::Status::kOk);
  EXPECT_EQ(loaded.List(kNow + 10), bans.List(kNow + 10));
  EXPECT_EQ(loaded.Size(), 2u);
  // Loading later drops what has expired since.
  EXPECT_EQ(loaded.Load(path, kNow + 500).status, BanListLoad::Status::kOk);
  EXPECT_EQ(loaded.Size(), 1u);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded.Load(path, kNow).status, BanListLoad::Status::kMissing);
  EXPECT_EQ(loaded.Size(), 0u);
}

TEST(BanListTest, CorruptFilesAreRejectedWithAReason) {
  const auto path = TempFile("corrupt");
  BanList bans;
  bans.Ban(Ip("127.0.0.2"), kNow, kNow + 100, "garbage");
  const std::vector<uint8_t> good = bans.Serialize(kNow);
  auto write = [&](const std::vector<uint8_t>& bytes) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
  };
  auto expect_corrupt = [&](const std::vector<uint8_t>& bytes, const std::string& why) {
    write(bytes);
    BanList target;
    target.Ban(Ip("1.1.1.1"), kNow, kNow + 5, "kept");
    const BanListLoad load = target.Load(path, kNow);
    EXPECT_EQ(load.status, BanListLoad::Status::kCorrupt) << why;
    EXPECT_NE(load.error.find(why), std::string::npos) << load.error;
    EXPECT_NE(load.error.find(path.string()), std::string::npos) << load.error;
    EXPECT_EQ(target.Size(), 1u) << "a corrupt file leaves the list as it was";
  };
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> flipped = good;
    flipped[i] ^= 0x20;
    write(flipped);
    BanList target;
    EXPECT_EQ(target.Load(path, kNow).status, BanListLoad::Status::kCorrupt) << "byte " << i;
  }
  expect_corrupt({good.begin(), good.begin() + 10}, "truncated");
  std::vector<uint8_t> magic = good;
  magic[0] = 'x';
  expect_corrupt(magic, "wrong magic");
  std::vector<uint8_t> version = good;
  version[4] = 2;
  expect_corrupt(version, "version 2");
  std::vector<uint8_t> checksum = good;
  checksum.back() ^= 1;
  expect_corrupt(checksum, "checksum mismatch");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace minicoin::net
