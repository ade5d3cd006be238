// Cap'n Proto's standard stream framing: a segment table followed by the segments.
#pragma once

#include <crossproc/sync.h>

#include "transport/shared_memory.h"
#include "transport/socket.h"

#include <capnp/common.h>
#include <kj/array.h>
#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <vector>

namespace crossproc::transport {

// A frame the peer sent violates the framing or the limits. The connection must be closed.
class FramingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FrameLimits {
  std::size_t max_bytes = 64u << 20;  // whole frame, table and shared segments included
  std::size_t max_segments = 512;
};

// crossproc's extension of the framing, used only towards a peer that said it reads it: a
// segment whose size in the table has this bit set is not in the stream; its bytes are in a
// sealed memfd passed with the frame (SCM_RIGHTS), one descriptor per such segment, in order.
inline constexpr uint32_t kSharedSegmentBit = 1u << 31;

// Keeps one large receive buffer for reuse, so that a connection receiving large messages does
// not allocate (and fault in) fresh memory for each. Thread-safe: frames are released by
// whichever thread ends up dropping them.
class BufferPool {
 public:
  // A buffer of exactly `words` words, not zeroed: the spare if it is large enough.
  kj::Array<capnp::word> Take(std::size_t words);
  // Keeps `buffer` as the spare if it is larger than the current one and not too large.
  void Give(kj::Array<capnp::word> buffer);

 private:
  static constexpr std::size_t kMaxSpareBytes = 8u << 20;
  Mutex m_mutex;
  kj::Array<capnp::word> m_spare CROSSPROC_GUARDED_BY(m_mutex);
};

// One received frame: the bytes read from the stream (table and in-stream segments) and the
// shared segments, mapped. Movable; the segment views stay valid when it moves.
struct Frame {
  Frame() = default;
  Frame(Frame&&) = default;
  Frame& operator=(Frame&&) = default;
  ~Frame() {
    if (pool && words != nullptr) pool->Give(kj::mv(words));
  }
  std::shared_ptr<BufferPool> pool;  // shared by the reader and its frames; takes `words` back
  kj::Array<capnp::word> words;
  std::vector<std::unique_ptr<SharedMapping>> shared;
  std::vector<kj::ArrayPtr<const capnp::word>> segments;
  // False at the end of the stream.
  explicit operator bool() const { return words != nullptr; }
};

// Reads frames from a stream socket through a buffer, so that several small frames cost one
// read. Each frame is returned in its own word-aligned array (table included), ready for
// capnp::FlatArrayMessageReader. Used by one thread at a time.
class FrameReader {
 public:
  // With `accept_shared`, segments passed as memfds (kSharedSegmentBit) are accepted; without,
  // such a frame is a FramingError and descriptors the peer passes are closed.
  explicit FrameReader(FrameLimits limits, bool accept_shared = false);

  // Blocks until a whole frame has arrived. Returns an empty array at a clean end of stream.
  // Throws FramingError for a malformed or oversized frame or a stream cut inside a frame, and
  // std::system_error for a failed read. Refuses frames with shared segments.
  kj::Array<capnp::word> Read(int fd);
  // The same, for frames that may have shared segments; an empty Frame at the end of stream.
  // With `spin` above zero, a read that finds nothing polls the socket for up to that long
  // before it blocks (trading CPU time for the wake-up of a sleeping thread).
  Frame ReadFrame(int fd, std::chrono::nanoseconds spin = {});

  // True if a whole frame is already buffered, so Read will not block.
  bool HasBufferedFrame() const;

 private:
  // Size in the stream of the frame at the start of the buffer, or 0 if its header is not
  // complete yet.
  std::size_t BufferedFrameSize() const;
  kj::Array<capnp::word> ReadLarge(int fd, std::size_t total, kj::Array<capnp::word> frame);
  long ReadBytes(int fd, void* buffer, std::size_t size, int flags = 0);
  long ReadBytesSpinning(int fd, void* buffer, std::size_t size);
  // Splits a frame read from the stream into its segments, mapping the shared ones.
  Frame Split(kj::Array<capnp::word> words);

  FrameLimits m_limits;
  bool m_accept_shared;
  kj::Array<capnp::word> m_buffer;
  std::size_t m_begin = 0;  // bytes
  std::size_t m_end = 0;    // bytes
  std::vector<UniqueFd> m_fds;  // received, not yet claimed by a frame
  std::shared_ptr<BufferPool> m_pool = std::make_shared<BufferPool>();
  std::size_t m_next_fd = 0;
  std::chrono::nanoseconds m_spin{0};  // for the current ReadFrame
};

// The segment table of one outgoing message; the segments themselves are referenced, not copied.
class FrameTable {
 public:
  // `shared_fds`, if not empty, has one entry per segment: the sealed memfd holding it, or -1
  // for a segment written in the stream.
  explicit FrameTable(kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> segments,
                      std::span<const int> shared_fds = {});
  // Appends the table and the in-stream segments to `iov`, and the descriptors of the shared
  // ones to `fds`. The segments and this table must stay alive until the write completes.
  void AppendTo(std::vector<iovec>& iov) const;
  void AppendTo(std::vector<iovec>& iov, std::vector<int>& fds) const;
  std::size_t total_bytes() const { return m_total_bytes; }

 private:
  kj::ArrayPtr<const kj::ArrayPtr<const capnp::word>> m_segments;
  std::vector<int> m_shared_fds;
  std::vector<uint32_t> m_table;
  std::size_t m_total_bytes = 0;
};

}  // namespace crossproc::transport
