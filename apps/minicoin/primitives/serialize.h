// Minicoin's binary encoding: little-endian integers, canonical compact sizes, length-checked
// byte strings. Reader never trusts its input: every read is bounds- and range-checked.
#pragma once

#include "primitives/hash.h"

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace minicoin {

// Malformed or out-of-range encoded data. The message says what and where.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The length of Writer::CompactSize(value): 1, 3, 5 or 9.
constexpr std::size_t CompactSizeLength(uint64_t value) {
  return value < 0xfd ? 1 : value <= 0xffff ? 3 : value <= 0xffffffffu ? 5 : 9;
}

// Appends encoded values to a byte vector. Not thread-safe.
class Writer {
 public:
  void U8(uint8_t value) { m_bytes.push_back(value); }
  void U32(uint32_t value);
  void U64(uint64_t value);
  // 1, 3, 5 or 9 bytes, the shortest form (as Bitcoin's CompactSize).
  void CompactSize(uint64_t value);
  void Bytes(std::span<const uint8_t> bytes) { m_bytes.insert(m_bytes.end(), bytes.begin(), bytes.end()); }
  void Hash(const Uint256& hash) { Bytes(hash.bytes()); }

  const std::vector<uint8_t>& bytes() const { return m_bytes; }
  std::vector<uint8_t> Take() { return std::move(m_bytes); }

 private:
  std::vector<uint8_t> m_bytes;
};

// Reads encoded values from a byte span. Throws DecodeError on truncation, non-canonical
// sizes and counts above the caller's limits. Not thread-safe.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : m_bytes(bytes) {}

  uint8_t U8();
  uint32_t U32();
  uint64_t U64();
  uint64_t CompactSize();
  // A count of items that follow, at most `max`.
  std::size_t Count(std::size_t max, const char* what);
  void Bytes(std::span<uint8_t> out);
  Uint256 Hash();
  // Throws unless every byte was consumed.
  void ExpectEnd(const char* what) const;
  std::size_t remaining() const { return m_bytes.size() - m_position; }

 private:
  std::span<const uint8_t> Take(std::size_t size);
  std::span<const uint8_t> m_bytes;
  std::size_t m_position = 0;
};

}  // namespace minicoin
