// 256-bit values and the SHA-256 hashes minicoin uses (double SHA-256 for identifiers).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace minicoin {

// 32 bytes: a hash, a transaction or block identifier, a proof-of-work target. Immutable value.
class Uint256 {
 public:
  Uint256() = default;
  explicit Uint256(const std::array<uint8_t, 32>& bytes) : m_bytes(bytes) {}

  const std::array<uint8_t, 32>& bytes() const { return m_bytes; }
  const uint8_t* data() const { return m_bytes.data(); }
  // The 32 bytes as a vector (how interfaces carry hashes), and back: nullopt unless `bytes`
  // holds exactly 32.
  std::vector<uint8_t> ToBytes() const { return {m_bytes.begin(), m_bytes.end()}; }
  static std::optional<Uint256> FromBytes(std::span<const uint8_t> bytes);
  bool IsZero() const;
  // Hex with the most significant byte first (the bytes are little-endian, as in Bitcoin).
  std::string ToHex() const;
  // Parses ToHex's format; nullopt-like failure is reported by returning false.
  static bool FromHex(const std::string& hex, Uint256& out);

  // Compares as 256-bit little-endian numbers (for proof of work).
  friend bool operator<(const Uint256& a, const Uint256& b);
  friend bool operator==(const Uint256& a, const Uint256& b) = default;

 private:
  std::array<uint8_t, 32> m_bytes{};
};

Uint256 Sha256(std::span<const uint8_t> data);
// SHA-256 of SHA-256: transaction and block identifiers, merkle nodes, signature hashes.
Uint256 Sha256d(std::span<const uint8_t> data);

}  // namespace minicoin
