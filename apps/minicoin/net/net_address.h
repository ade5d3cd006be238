// Peer address text: parsing "1.2.3.4", "1.2.3.4:5", "[::1]:5", "::1" and "host:5" (with a
// default port when none is given), printing addresses back, and converting to and from sockets'
// sockaddr structures.
#pragma once

#include "net/protocol.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sys/socket.h>

namespace minicoin::net {

// An IP address: IPv6, IPv4 as ::ffff:a.b.c.d (as in NetAddress).
using IpAddress = std::array<uint8_t, 16>;

// A host (an IP address or a DNS name) and a port, as written by a user. Value type.
struct HostAndPort {
  std::string host;  // without brackets
  uint16_t port = 0;
  bool operator==(const HostAndPort&) const = default;
};

// Splits "host", "host:port", "ip", "ip:port", "[ipv6]", "[ipv6]:port" or a bare IPv6 address
// ("::1", taken as having no port); a missing port is `default_port`. Nullopt for an empty host, a
// port that is not a number from 0 to 65535, unbalanced brackets, or a host with characters a
// host name or IP address cannot have.
std::optional<HostAndPort> SplitHostPort(std::string_view text, uint16_t default_port);

// The IP address written in `text` ("1.2.3.4", "::1", "::ffff:1.2.3.4"); nullopt if it is not
// one (host names are not resolved).
std::optional<IpAddress> ParseIp(std::string_view text);

// The address written in `text` (SplitHostPort, then ParseIp); nullopt unless the host is a
// numeric IP address.
std::optional<NetAddress> ParseNetAddress(std::string_view text, uint16_t default_port);

// "1.2.3.4" for an IPv4 address, "::1" for IPv6.
std::string FormatIp(const IpAddress& ip);
// "1.2.3.4:5" or "[::1]:5".
std::string FormatNetAddress(const NetAddress& address);

// True for ::ffff:a.b.c.d.
bool IsIpv4(const IpAddress& ip);

// Fills `storage` with `address` as a sockaddr_in (IPv4) or sockaddr_in6; returns its length.
socklen_t ToSockaddr(const NetAddress& address, sockaddr_storage& storage);
// The address in a sockaddr_in or sockaddr_in6; nullopt for other families.
std::optional<NetAddress> FromSockaddr(const sockaddr* address, socklen_t length);

}  // namespace minicoin::net
