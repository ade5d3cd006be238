// Cap'n Proto's standard stream framing.
#include "transport/framing.h"

#include "transport/socket.h"

#include <poll.h>
#include <sys/socket.h>

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

kj::Array<capnp::word> BufferPool::Take(std::size_t words) {
  {
    MutexLock lock(m_mutex);
    if (m_spare != nullptr && m_spare.size() >= words && m_spare.size() <= 2 * words) return kj::mv(m_spare);
  }
  return kj::heapArray<capnp::word>(words);
}

void BufferPool::Give(kj::Array<capnp::word> buffer) {
  if (buffer.size() * sizeof(capnp::word) > kMaxSpareBytes) return;
  kj::Array<capnp::word> previous;  // freed outside the lock
  MutexLock lock(m_mutex);
  if (m_spare != nullptr && m_spare.size() >= buffer.size()) return;
  previous = kj::mv(m_spare);
  m_spare = kj::mv(buffer);
}

FrameReader::FrameReader(FrameLimits limits, bool accept_shared)
    : m_limits(limits),
      m_accept_shared(accept_shared),
      m_buffer(kj::heapArray<capnp::word>(kBufferBytes / sizeof(capnp::word))) {}

long FrameReader::ReadBytes(int fd, void* buffer, std::size_t size, int flags) {
  if ((flags & MSG_DONTWAIT) == 0) {
    // Sleep in poll(POLLIN), not in recvmsg: a task asleep in recvmsg is also woken when the peer
    // reads what this side sent (the socket becomes writable again), finds nothing to read and
    // sleeps again, which costs a second sleep on nearly every call. poll filters the wake-ups
    // by event.
    pollfd readable{fd, POLLIN, 0};
    while (::poll(&readable, 1, -1) < 0 && errno == EINTR) {
    }
  }
  std::size_t before = m_fds.size();
  long count = ReadSome(fd, buffer, size, m_fds, flags);
  if (m_fds.size() != before && !m_accept_shared) {
    m_fds.clear();  // closes descriptors nobody asked for
    m_next_fd = 0;
  }
  // Descriptors are claimed in order; more waiting than one frame may reference is abuse.
  if (m_fds.size() - m_next_fd > m_limits.max_segments) throw FramingError("peer passed too many descriptors");
  return count;
}

long FrameReader::ReadBytesSpinning(int fd, void* buffer, std::size_t size) {
  // Polls without blocking, with a pause between tries so that a wait of tens of microseconds
  // costs a few system calls rather than hundreds; then falls back to a blocking read.
  auto deadline = std::chrono::steady_clock::now() + m_spin;
  do {
    long count = ReadBytes(fd, buffer, size, MSG_DONTWAIT);
    if (count >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return count;
    for (int i = 0; i < 64; ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#elif defined(__aarch64__)
      asm volatile("yield");
#endif
    }
  } while (std::chrono::steady_clock::now() < deadline);
  return ReadBytes(fd, buffer, size);
}

Frame FrameReader::Split(kj::Array<capnp::word> words) {
  Frame frame;
  const auto* bytes = reinterpret_cast<const unsigned char*>(words.begin());
  uint32_t count = LoadU32(bytes) + 1;
  std::size_t offset = ((1 + count) * 4 + 7) / 8;  // words
  frame.segments.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t entry = LoadU32(bytes + 4 + 4 * i);
    std::size_t size = entry & ~kSharedSegmentBit;
    if ((entry & kSharedSegmentBit) == 0) {
      frame.segments.emplace_back(words.begin() + offset, size);
      offset += size;
      continue;
    }
    if (m_next_fd >= m_fds.size()) throw FramingError("shared segment without its file descriptor");
    UniqueFd fd = std::move(m_fds[m_next_fd++]);
    if (m_next_fd == m_fds.size()) {
      m_fds.clear();
      m_next_fd = 0;
    }
    try {
      frame.shared.push_back(std::make_unique<SharedMapping>(std::move(fd), size * sizeof(capnp::word)));
    } catch (const std::runtime_error& e) {
      throw FramingError(e.what());
    }
    frame.segments.emplace_back(static_cast<const capnp::word*>(frame.shared.back()->data()), size);
  }
  frame.words = kj::mv(words);
  return frame;
}

Frame FrameReader::ReadFrame(int fd, std::chrono::nanoseconds spin) {
  m_spin = spin;
  kj::Array<capnp::word> words;
  try {
    words = Read(fd);
  } catch (...) {
    m_spin = {};
    throw;
  }
  m_spin = {};
  if (words == nullptr) return Frame{};
  bool large = words.size() * sizeof(capnp::word) > kBufferBytes;
  Frame frame = Split(kj::mv(words));
  if (large) frame.pool = m_pool;  // its buffer goes back to the pool
  return frame;
}

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
  uint64_t shared_words = 0;
  for (uint64_t i = 0; i < segment_count; ++i) {
    uint32_t entry = LoadU32(bytes + 4 + 4 * i);
    if ((entry & kSharedSegmentBit) != 0) {
      if (!m_accept_shared) throw FramingError("message has a shared-memory segment, which this side did not offer");
      shared_words += entry & ~kSharedSegmentBit;
    } else {
      words += entry;
    }
  }
  uint64_t total = header + words * sizeof(capnp::word);
  uint64_t whole = total + shared_words * sizeof(capnp::word);
  if (whole > m_limits.max_bytes) {
    throw FramingError("message of " + std::to_string(whole) + " bytes exceeds the limit of " +
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
    if (total > kBufferBytes) return ReadLarge(fd, total, m_pool->Take(total / sizeof(capnp::word)));
    if (m_begin > 0) {
      std::memmove(bytes, bytes + m_begin, m_end - m_begin);
      m_end -= m_begin;
      m_begin = 0;
    }
    long count = m_spin.count() > 0 ? ReadBytesSpinning(fd, bytes + m_end, kBufferBytes - m_end)
                                    : ReadBytes(fd, bytes + m_end, kBufferBytes - m_end);
    if (count < 0) throw std::system_error(errno, std::generic_category(), "read from connection");
    if (count == 0) {
      if (m_end != m_begin) throw FramingError("connection closed in the middle of a message");
      return nullptr;
    }
    m_end += static_cast<std::size_t>(count);
  }
}

kj::Array<capnp::word> FrameReader::ReadLarge(int fd, std::size_t total, kj::Array<capnp::word> frame) {
  // `frame` may be larger than the frame (a recycled buffer): the rest is not used.
  auto* out = reinterpret_cast<unsigned char*>(frame.begin());
  std::size_t have = m_end - m_begin;
  std::memcpy(out, reinterpret_cast<unsigned char*>(m_buffer.begin()) + m_begin, have);
  m_begin = m_end = 0;
  while (have < total) {
    long count = ReadBytes(fd, out + have, total - have);
    if (count < 0) throw std::system_error(errno, std::generic_category(), "read from connection");
    if (count == 0) throw FramingError("connection closed in the middle of a message");
    have += static_cast<std::size_t>(count);
  }
  return frame;
}

FrameTable::FrameTable(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments,
                       std::span<const int> shared_fds)
    : m_segments(segments) {
  bool any_shared = false;
  for (int fd : shared_fds) any_shared = any_shared || fd >= 0;
  if (any_shared) m_shared_fds.assign(shared_fds.begin(), shared_fds.end());
  m_table.reserve(segments.size() + 2);
  m_table.push_back(static_cast<uint32_t>(segments.size() - 1));
  m_total_bytes = 0;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    auto size = static_cast<uint32_t>(segments[i].size());
    bool shared = !m_shared_fds.empty() && m_shared_fds[i] >= 0;
    m_table.push_back(shared ? size | kSharedSegmentBit : size);
    if (!shared) m_total_bytes += segments[i].size() * sizeof(capnp::word);
  }
  if (m_table.size() % 2 != 0) m_table.push_back(0);
  m_total_bytes += m_table.size() * sizeof(uint32_t);
}

void FrameTable::AppendTo(std::vector<iovec>& iov) const {
  std::vector<int> fds;
  AppendTo(iov, fds);
  if (!fds.empty()) throw std::logic_error("FrameTable with shared segments written without its descriptors");
}

void FrameTable::AppendTo(std::vector<iovec>& iov, std::vector<int>& fds) const {
  iov.push_back({const_cast<uint32_t*>(m_table.data()), m_table.size() * sizeof(uint32_t)});
  for (std::size_t i = 0; i < m_segments.size(); ++i) {
    const auto& segment = m_segments[i];
    if (!m_shared_fds.empty() && m_shared_fds[i] >= 0) {
      fds.push_back(m_shared_fds[i]);
      continue;
    }
    if (segment.size() == 0) continue;
    iov.push_back({const_cast<capnp::word*>(segment.begin()), segment.size() * sizeof(capnp::word)});
  }
}

}  // namespace crossproc::transport
