// Peer address text and sockaddr conversions.
#include "net/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace minicoin::net {
namespace {

bool IsHostCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == ':' || c == '_';
}

std::optional<uint16_t> ParsePort(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

std::optional<HostAndPort> SplitHostPort(std::string_view text, uint16_t default_port) {
  HostAndPort result{"", default_port};
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    result.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return std::nullopt;
      const auto port = ParsePort(rest.substr(1));
      if (!port) return std::nullopt;
      result.port = *port;
    }
    // Only an IPv6 address goes in brackets.
    if (result.host.find(':') == std::string::npos) return std::nullopt;
  } else {
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
      // One colon: host:port.
      const auto port = ParsePort(text.substr(colon + 1));
      if (!port) return std::nullopt;
      result.host = std::string(text.substr(0, colon));
      result.port = *port;
    } else {
      // No colon, or several: a bare IPv6 address.
      result.host = std::string(text);
    }
  }
  if (result.host.empty() || result.host.size() > 255) return std::nullopt;
  for (const char c : result.host) {
    if (!IsHostCharacter(c)) return std::nullopt;
  }
  if (result.host.find(':') != std::string::npos && !ParseIp(result.host)) return std::nullopt;
  return result;
}

std::optional<IpAddress> ParseIp(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  IpAddress ip{};
  in_addr v4{};
  if (::inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    ip[10] = 0xff;
    ip[11] = 0xff;
    std::memcpy(ip.data() + 12, &v4, 4);
    return ip;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, copy.c_str(), &v6) == 1) {
    std::memcpy(ip.data(), &v6, 16);
    return ip;
  }
  return std::nullopt;
}

std::optional<NetAddress> ParseNetAddress(std::string_view text, uint16_t default_port) {
  const auto split = SplitHostPort(text, default_port);
  if (!split) return std::nullopt;
  const auto ip = ParseIp(split->host);
  if (!ip) return std::nullopt;
  NetAddress address;
  address.ip = *ip;
  address.port = split->port;
  return address;
}

bool IsIpv4(const IpAddress& ip) {
  static constexpr std::array<uint8_t, 12> kPrefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(ip.data(), kPrefix.data(), kPrefix.size()) == 0;
}

std::string FormatIp(const IpAddress& ip) {
  char text[INET6_ADDRSTRLEN] = {};
  if (IsIpv4(ip)) {
    ::inet_ntop(AF_INET, ip.data() + 12, text, sizeof(text));
  } else {
    ::inet_ntop(AF_INET6, ip.data(), text, sizeof(text));
  }
  return text;
}

std::string FormatNetAddress(const NetAddress& address) {
  const std::string ip = FormatIp(address.ip);
  const std::string port = std::to_string(address.port);
  return IsIpv4(address.ip) ? ip + ":" + port : "[" + ip + "]:" + port;
}

socklen_t ToSockaddr(const NetAddress& address, sockaddr_storage& storage) {
  std::memset(&storage, 0, sizeof(storage));
  if (IsIpv4(address.ip)) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    std::memcpy(&v4->sin_addr, address.ip.data() + 12, 4);
    return sizeof(sockaddr_in);
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(address.port);
  std::memcpy(&v6->sin6_addr, address.ip.data(), 16);
  return sizeof(sockaddr_in6);
}

std::optional<NetAddress> FromSockaddr(const sockaddr* address, socklen_t length) {
  NetAddress result;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in v4{};
    std::memcpy(&v4, address, sizeof(v4));
    result.ip[10] = 0xff;
    result.ip[11] = 0xff;
    std::memcpy(result.ip.data() + 12, &v4.sin_addr, 4);
    result.port = ntohs(v4.sin_port);
    return result;
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 v6{};
    std::memcpy(&v6, address, sizeof(v6));
    std::memcpy(result.ip.data(), &v6.sin6_addr, 16);
    result.port = ntohs(v6.sin6_port);
    return result;
  }
  return std::nullopt;
}

}  // namespace minicoin::net
