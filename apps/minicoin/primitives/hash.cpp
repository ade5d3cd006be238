// 256-bit values and SHA-256 (OpenSSL's implementation).
#include "primitives/hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace minicoin {

std::optional<Uint256> Uint256::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != 32) return std::nullopt;
  std::array<uint8_t, 32> array{};
  std::copy(bytes.begin(), bytes.end(), array.begin());
  return Uint256(array);
}

bool Uint256::IsZero() const {
  for (uint8_t byte : m_bytes) {
    if (byte != 0) return false;
  }
  return true;
}

std::string Uint256::ToHex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (std::size_t i = m_bytes.size(); i-- > 0;) {
    hex.push_back(kDigits[m_bytes[i] >> 4]);
    hex.push_back(kDigits[m_bytes[i] & 15]);
  }
  return hex;
}

bool Uint256::FromHex(const std::string& hex, Uint256& out) {
  if (hex.size() != 64) return false;
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::array<uint8_t, 32> bytes{};
  for (std::size_t i = 0; i < 32; ++i) {
    int high = value(hex[2 * i]);
    int low = value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    bytes[31 - i] = static_cast<uint8_t>(high * 16 + low);
  }
  out = Uint256(bytes);
  return true;
}

bool operator<(const Uint256& a, const Uint256& b) {
  for (std::size_t i = 32; i-- > 0;) {
    if (a.m_bytes[i] != b.m_bytes[i]) return a.m_bytes[i] < b.m_bytes[i];
  }
  return false;
}

namespace {

// The digest is fetched from the provider once: EVP_sha256() makes every EVP_DigestInit look it
// up again, which costs more than hashing a transaction. Each thread keeps one context.
const EVP_MD* Sha256Method() {
  static const EVP_MD* const method = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) throw std::runtime_error("SHA-256 is not available from OpenSSL");
    return fetched;
  }();
  return method;
}

struct DigestContextFree {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

EVP_MD_CTX* ThreadDigestContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, DigestContextFree> context(EVP_MD_CTX_new());
  if (!context) throw std::runtime_error("cannot allocate a SHA-256 context");
  return context.get();
}

}  // namespace

Uint256 Sha256(std::span<const uint8_t> data) {
  std::array<uint8_t, 32> digest{};
  unsigned int size = 0;
  EVP_MD_CTX* context = ThreadDigestContext();
  if (EVP_DigestInit_ex2(context, Sha256Method(), nullptr) != 1 ||
      EVP_DigestUpdate(context, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context, digest.data(), &size) != 1 || size != 32) {
    throw std::runtime_error("SHA-256 failed");
  }
  return Uint256(digest);
}

Uint256 Sha256d(std::span<const uint8_t> data) {
  Uint256 once = Sha256(data);
  return Sha256(once.bytes());
}

}  // namespace minicoin
