// Tests of peer address text: host/port splitting, IP parsing and printing, sockaddr round trips.
#include "net/net_address.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace minicoin::net {
namespace {

TEST(NetAddressTest, SplitsHostAndPort) {
  EXPECT_EQ(SplitHostPort("1.2.3.4", 18444), (HostAndPort{"1.2.3.4", 18444}));
  EXPECT_EQ(SplitHostPort("1.2.3.4:5", 18444), (HostAndPort{"1.2.3.4", 5}));
  EXPECT_EQ(SplitHostPort("[::1]:65535", 1), (HostAndPort{"::1", 65535}));
  EXPECT_EQ(SplitHostPort("[::1]", 7), (HostAndPort{"::1", 7}));
  EXPECT_EQ(SplitHostPort("::1", 7), (HostAndPort{"::1", 7}));
  EXPECT_EQ(SplitHostPort("seed.example-1.org:0", 7), (HostAndPort{"seed.example-1.org", 0}));
  EXPECT_EQ(SplitHostPort("localhost", 9), (HostAndPort{"localhost", 9}));
}

TEST(NetAddressTest, RejectsBadText) {
  for (const std::string bad : {"", ":5", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:5x",
                                "[::1", "[::1]x", "[::1]:", "[1.2.3.4]:5", "[]:5", "host name",
                                "a/b", "1:2:3", "[::1]:99999", "1.2.3.4:123456"}) {
    EXPECT_FALSE(SplitHostPort(bad, 1).has_value()) << bad;
  }
}

TEST(NetAddressTest, ParsesAndPrintsIpAddresses) {
  const auto v4 = ParseNetAddress("127.0.0.2:19444", 1);
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(*v4, NetAddress::FromIpv4(127, 0, 0, 2, 19444, 0));
  EXPECT_TRUE(IsIpv4(v4->ip));
  EXPECT_EQ(FormatNetAddress(*v4), "127.0.0.2:19444");
  EXPECT_EQ(FormatIp(v4->ip), "127.0.0.2");

  const auto v6 = ParseNetAddress("[2001:db8::5]:8", 1);
  ASSERT_TRUE(v6.has_value());
  EXPECT_FALSE(IsIpv4(v6->ip));
  EXPECT_EQ(FormatNetAddress(*v6), "[2001:db8::5]:8");
  EXPECT_EQ(FormatNetAddress(*ParseNetAddress("::1", 3)), "[::1]:3");
  // An IPv4-mapped address written in IPv6 form is the IPv4 address.
  EXPECT_EQ(ParseNetAddress("[::ffff:10.0.0.1]:4", 1), ParseNetAddress("10.0.0.1:4", 1));

  EXPECT_FALSE(ParseNetAddress("localhost:5", 1).has_value());
  EXPECT_FALSE(ParseIp("256.0.0.1").has_value());
  EXPECT_FALSE(ParseIp("1.2.3").has_value());
  EXPECT_FALSE(ParseIp("").has_value());
}

TEST(NetAddressTest, SockaddrRoundTrip) {
  for (const std::string text : {"127.0.0.1:19444", "[::1]:1", "[fe80::1:2]:65535", "0.0.0.0:0"}) {
    const auto address = ParseNetAddress(text, 0);
    ASSERT_TRUE(address.has_value()) << text;
    sockaddr_storage storage{};
    const socklen_t length = ToSockaddr(*address, storage);
    const auto back = FromSockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, *address) << text;
    EXPECT_EQ(FormatNetAddress(*back), text);
  }
  sockaddr_storage unix_socket{};
  unix_socket.ss_family = AF_UNIX;
  EXPECT_FALSE(FromSockaddr(reinterpret_cast<const sockaddr*>(&unix_socket), sizeof(unix_socket)));
}

}  // namespace
}  // namespace minicoin::net
