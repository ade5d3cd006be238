// Cap'n Proto's standard stream framing: a segment table followed by the segments.
#pragma once

#include <capnp/common.h>
#include <kj/array.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace crossproc::transport {

// A frame the peer sent violates the framing or the limits. The connection must be closed.
class FramingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FrameLimits {
  std::size_t max_bytes = 64u << 20;  // whole frame, table included
  std::size_t max_segments = 512;
};

// Reads frames from a stream socket through a buffer, so that several small frames cost one
// read. Each frame is returned in its own word-aligned array (table included), ready for
// capnp::FlatArrayMessageReader. Used by one thread at a time.
class FrameReader {
 public:
  explicit FrameReader(FrameLimits limits);

  // Blocks until a whole frame has arrived. Returns an empty array at a clean end of stream.
  // Throws FramingError for a malformed or oversized frame or a stream cut inside a frame, and
  // std::system_error for a failed read.
  kj::Array<capnp::word> Read(int fd);

  // True if a whole frame is already buffered, so Read will not block.
  bool HasBufferedFrame() const;

 private:
  // Size of the frame at the start of the buffer, or 0 if its header is not complete yet.
  std::size_t BufferedFrameSize() const;
  kj::Array<capnp::word> ReadLarge(int fd, std::size_t total);

  FrameLimits m_limits;
  kj::Array<capnp::word> m_buffer;
  std::size_t m_begin = 0;  // bytes
  std::size_t m_end = 0;    // bytes
};

// The segment table of one outgoing message; the segments themselves are referenced, not copied.
class FrameTable {
 public:
  explicit FrameTable(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments);
  // Appends the table and the segments to `iov`. The segments and this table must stay alive
  // until the write completes.
  void AppendTo(std::vector<iovec>& iov) const;
  std::size_t total_bytes() const { return m_total_bytes; }

 private:
  kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> m_segments;
  std::vector<uint32_t> m_table;
  std::size_t m_total_bytes = 0;
};

}  // namespace crossproc::transport
