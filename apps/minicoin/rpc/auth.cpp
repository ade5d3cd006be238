#include "rpc/auth.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace minicoin {
namespace {

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string GenerateCookie() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    throw std::runtime_error("Unable to generate random bytes for the RPC cookie");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = std::string(kCookieUser) + ":";
  for (unsigned char byte : bytes) {
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

bool WriteCookieFile(const std::filesystem::path& path, const std::string& cookie,
                     std::string& error) {
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "Unable to open cookie authentication file " + temporary.string() + " for writing: " +
            std::strerror(errno);
    return false;
  }
  // The mode given to open() is reduced by the umask, never widened; make it exactly 0600.
  ::fchmod(fd, 0600);
  std::size_t written = 0;
  while (written < cookie.size()) {
    ssize_t n = ::write(fd, cookie.data() + written, cookie.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "Unable to write cookie authentication file " + temporary.string() + ": " +
              std::strerror(errno);
      ::close(fd);
      ::unlink(temporary.c_str());
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "Unable to rename cookie authentication file " + temporary.string() + " to " +
            path.string() + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

std::optional<std::string> ReadCookieFile(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::string line;
  std::getline(file, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  if (line.empty() || line.find(':') == std::string::npos) return std::nullopt;
  return line;
}

std::string Base64Encode(const std::string& data) {
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t chunk = (static_cast<uint8_t>(data[i]) << 16) |
                     (static_cast<uint8_t>(data[i + 1]) << 8) | static_cast<uint8_t>(data[i + 2]);
    out += kBase64Alphabet[(chunk >> 18) & 63];
    out += kBase64Alphabet[(chunk >> 12) & 63];
    out += kBase64Alphabet[(chunk >> 6) & 63];
    out += kBase64Alphabet[chunk & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t chunk = static_cast<uint8_t>(data[i]) << 16;
    out += kBase64Alphabet[(chunk >> 18) & 63];
    out += kBase64Alphabet[(chunk >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t chunk = (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8);
    out += kBase64Alphabet[(chunk >> 18) & 63];
    out += kBase64Alphabet[(chunk >> 12) & 63];
    out += kBase64Alphabet[(chunk >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(const std::string& text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int values[4];
    int padding = 0;
    for (int j = 0; j < 4; ++j) {
      char c = text[i + static_cast<std::size_t>(j)];
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        values[j] = 0;
        ++padding;
        continue;
      }
      if (padding > 0) return std::nullopt;  // data after padding
      values[j] = Base64Value(c);
      if (values[j] < 0) return std::nullopt;
    }
    uint32_t chunk = (static_cast<uint32_t>(values[0]) << 18) |
                     (static_cast<uint32_t>(values[1]) << 12) |
                     (static_cast<uint32_t>(values[2]) << 6) | static_cast<uint32_t>(values[3]);
    out += static_cast<char>((chunk >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((chunk >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(chunk & 0xff);
  }
  return out;
}

std::optional<std::string> DecodeBasicAuth(const std::string& header) {
  const std::string prefix = "Basic ";
  if (header.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string encoded = header.substr(prefix.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.erase(encoded.begin());
  while (!encoded.empty() && encoded.back() == ' ') encoded.pop_back();
  std::optional<std::string> decoded = Base64Decode(encoded);
  if (!decoded || decoded->find(':') == std::string::npos) return std::nullopt;
  return decoded;
}

bool TimingSafeEqual(const std::string& a, const std::string& b) {
  // Every byte of `a` is compared (against `b` repeated), so the time depends on the lengths only.
  if (b.empty()) return a.empty();
  std::size_t difference = a.size() ^ b.size();
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i % b.size()]);
  }
  return difference == 0;
}

}  // namespace minicoin
