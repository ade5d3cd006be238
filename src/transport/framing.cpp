// Cap'n Proto's standard stream framing.
#include "transport/framing.h"

#include "transport/socket.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace crossproc::transport {
namespace {
constexpr std::size_t kBufferBytes = 64 * 1024;

uint32_t LoadU32(const unsigned char* bytes) {
  uint32_t value;
  std::memcpy(&value, bytes, sizeof(value));
  return value;  // the wire is little-endian, as is every platform crossproc runs on
}
}  // namespace

FrameReader::FrameReader(FrameLimits limits)
    : m_limits(limits), m_buffer(kj::heapArray<capnp::word>(kBufferBytes / sizeof(capnp::word))) {}

std::size_t FrameReader::BufferedFrameSize() const {
  const auto* bytes = reinterpret_cast<const unsigned char*>(m_buffer.begin()) + m_begin;
  std::size_t available = m_end - m_begin;
  if (available < 4) return 0;
  uint64_t segment_count = uint64_t{LoadU32(bytes)} + 1;
  if (segment_count > m_limits.max_segments) {
    throw FramingError("message has " + std::to_string(segment_count) + " segments, more than the limit of " +
                       std::to_string(m_limits.max_segments));
  }
  std::size_t header = ((1 + segment_count) * 4 + 7) & ~std::size_t{7};
  if (available < header) return 0;
  uint64_t words = 0;
  for (uint64_t i = 0; i < segment_count; ++i) words += LoadU32(bytes + 4 + 4 * i);
  uint64_t total = header + words * sizeof(capnp::word);
  if (total > m_limits.max_bytes) {
    throw FramingError("message of " + std::to_string(total) + " bytes exceeds the limit of " +
                       std::to_string(m_limits.max_bytes) + " bytes");
  }
  return total;
}

bool FrameReader::HasBufferedFrame() const {
  std::size_t total = BufferedFrameSize();
  return total != 0 && m_end - m_begin >= total;
}

kj::Array<capnp::word> FrameReader::Read(int fd) {
  auto* bytes = reinterpret_cast<unsigned char*>(m_buffer.begin());
  while (true) {
    std::size_t total = BufferedFrameSize();
    if (total != 0 && m_end - m_begin >= total) {
      auto frame = kj::heapArray<capnp::word>(total / sizeof(capnp::word));
      std::memcpy(frame.begin(), bytes + m_begin, total);
      m_begin += total;
      if (m_begin == m_end) m_begin = m_end = 0;
      return frame;
    }
    if (total > kBufferBytes) return ReadLarge(fd, total);
    if (m_begin > 0) {
      std::memmove(bytes, bytes + m_begin, m_end - m_begin);
      m_end -= m_begin;
      m_begin = 0;
    }
    long count = ReadSome(fd, bytes + m_end, kBufferBytes - m_end);
    if (count < 0) throw std::system_error(errno, std::generic_category(), "read from connection");
    if (count == 0) {
      if (m_end != m_begin) throw FramingError("connection closed in the middle of a message");
      return nullptr;
    }
    m_end += static_cast<std::size_t>(count);
  }
}

kj::Array<capnp::word> FrameReader::ReadLarge(int fd, std::size_t total) {
  auto frame = kj::heapArray<capnp::word>(total / sizeof(capnp::word));
  auto* out = reinterpret_cast<unsigned char*>(frame.begin());
  std::size_t have = m_end - m_begin;
  std::memcpy(out, reinterpret_cast<unsigned char*>(m_buffer.begin()) + m_begin, have);
  m_begin = m_end = 0;
  while (have < total) {
    long count = ReadSome(fd, out + have, total - have);
    if (count < 0) throw std::system_error(errno, std::generic_category(), "read from connection");
    if (count == 0) throw FramingError("connection closed in the middle of a message");
    have += static_cast<std::size_t>(count);
  }
  return frame;
}

FrameTable::FrameTable(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments)
    : m_segments(segments) {
  m_table.reserve(segments.size() + 2);
  m_table.push_back(static_cast<uint32_t>(segments.size() - 1));
  for (const auto& segment : segments) m_table.push_back(static_cast<uint32_t>(segment.size()));
  if (m_table.size() % 2 != 0) m_table.push_back(0);
  m_total_bytes = m_table.size() * sizeof(uint32_t);
  for (const auto& segment : segments) m_total_bytes += segment.size() * sizeof(capnp::word);
}

void FrameTable::AppendTo(std::vector<iovec>& iov) const {
  iov.push_back({const_cast<uint32_t*>(m_table.data()), m_table.size() * sizeof(uint32_t)});
  for (const auto& segment : m_segments) {
    if (segment.size() == 0) continue;
    iov.push_back({const_cast<capnp::word*>(segment.begin()), segment.size() * sizeof(capnp::word)});
  }
}

}  // namespace crossproc::transport
