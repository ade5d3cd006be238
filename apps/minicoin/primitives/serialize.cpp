// Minicoin's binary encoding.
#include "primitives/serialize.h"

#include <cstring>

namespace minicoin {

void Writer::U32(uint32_t value) {
  for (int i = 0; i < 4; ++i) m_bytes.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void Writer::U64(uint64_t value) {
  for (int i = 0; i < 8; ++i) m_bytes.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void Writer::CompactSize(uint64_t value) {
  if (value < 0xfd) {
    U8(static_cast<uint8_t>(value));
  } else if (value <= 0xffff) {
    U8(0xfd);
    U8(static_cast<uint8_t>(value));
    U8(static_cast<uint8_t>(value >> 8));
  } else if (value <= 0xffffffffu) {
    U8(0xfe);
    U32(static_cast<uint32_t>(value));
  } else {
    U8(0xff);
    U64(value);
  }
}

std::span<const uint8_t> Reader::Take(std::size_t size) {
  if (size > remaining()) {
    throw DecodeError("truncated data: needed " + std::to_string(size) + " bytes at offset " +
                      std::to_string(m_position) + ", " + std::to_string(remaining()) + " left");
  }
  auto span = m_bytes.subspan(m_position, size);
  m_position += size;
  return span;
}

uint8_t Reader::U8() { return Take(1)[0]; }

uint32_t Reader::U32() {
  auto bytes = Take(4);
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{bytes[i]} << (8 * i);
  return value;
}

uint64_t Reader::U64() {
  auto bytes = Take(8);
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{bytes[i]} << (8 * i);
  return value;
}

uint64_t Reader::CompactSize() {
  uint8_t first = U8();
  uint64_t value;
  uint64_t minimum;
  if (first < 0xfd) return first;
  if (first == 0xfd) {
    value = U8();
    value |= uint64_t{U8()} << 8;
    minimum = 0xfd;
  } else if (first == 0xfe) {
    value = U32();
    minimum = 0x10000;
  } else {
    value = U64();
    minimum = 0x100000000ull;
  }
  if (value < minimum) throw DecodeError("non-canonical compact size " + std::to_string(value));
  return value;
}

std::size_t Reader::Count(std::size_t max, const char* what) {
  uint64_t count = CompactSize();
  if (count > max) {
    throw DecodeError(std::string("too many ") + what + ": " + std::to_string(count) + " (at most " +
                      std::to_string(max) + ")");
  }
  return static_cast<std::size_t>(count);
}

void Reader::Bytes(std::span<uint8_t> out) {
  auto bytes = Take(out.size());
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size());
}

Uint256 Reader::Hash() {
  std::array<uint8_t, 32> bytes{};
  Bytes(bytes);
  return Uint256(bytes);
}

void Reader::ExpectEnd(const char* what) const {
  if (remaining() != 0) throw DecodeError(std::to_string(remaining()) + " unexpected bytes after the " + what);
}

}  // namespace minicoin
