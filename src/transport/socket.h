// Thin wrappers over stream sockets: owned file descriptors, whole writes, socket pairs.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace crossproc::transport {

// Owns a file descriptor and closes it on destruction. Movable, not copyable.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd();
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return m_fd; }
  int release() { return std::exchange(m_fd, -1); }
  explicit operator bool() const { return m_fd >= 0; }

 private:
  int m_fd = -1;
};

// Writes every byte described by `iov` (the array is consumed). Returns false if the peer is
// gone (EPIPE, ECONNRESET); throws std::system_error on other errors. Never raises SIGPIPE.
bool WriteAll(int fd, std::span<iovec> iov);
// The same, passing `fds` (at most kMaxFdsPerWrite) with the first byte (SCM_RIGHTS).
bool WriteAll(int fd, std::span<iovec> iov, std::span<const int> fds);
inline constexpr std::size_t kMaxFdsPerWrite = 250;

// Reads at most `size` bytes, retrying on EINTR. Returns the count, 0 at end of stream, or -1
// with errno set.
long ReadSome(int fd, void* buffer, std::size_t size);
// The same, appending descriptors passed with the bytes (SCM_RIGHTS, close-on-exec) to `fds`.
// Fails with EMSGSIZE if the peer passed more than fit in one read.
long ReadSome(int fd, void* buffer, std::size_t size, std::vector<UniqueFd>& fds, int flags = 0);

// A connected pair of stream sockets, both close-on-exec.
std::pair<UniqueFd, UniqueFd> SocketPair();

}  // namespace crossproc::transport
