// Message segments in shared memory: sealed memfds that pass over a unix socket as descriptors.
#pragma once

#include "transport/socket.h"

#include <cstddef>
#include <memory>

namespace crossproc::transport {

// A writable segment backed by a memfd, mapped in this process. Once Seal()ed its bytes can no
// longer change (the mapping becomes read-only, at the same address), so the receiver of the
// descriptor may read them without copying. Used by one thread at a time. Not copyable.
class SharedSegment {
 public:
  // A zeroed segment of at least `bytes` bytes (rounded up to pages), or nullptr if the system
  // refuses one (no memfd support, out of descriptors or memory): the caller falls back to
  // ordinary memory.
  static std::unique_ptr<SharedSegment> Create(std::size_t bytes);
  ~SharedSegment();
  SharedSegment(const SharedSegment&) = delete;
  SharedSegment& operator=(const SharedSegment&) = delete;

  void* data() const { return m_data; }
  std::size_t size() const { return m_size; }
  int fd() const { return m_fd.get(); }
  bool sealed() const { return m_sealed; }
  // Makes the bytes immutable: remaps them read-only in place and seals the memfd against
  // writes, shrinking and growing. Idempotent. Returns false if the system refused (the
  // segment must then be sent in the stream).
  bool Seal();

 private:
  SharedSegment(UniqueFd fd, void* data, std::size_t size) : m_fd(std::move(fd)), m_data(data), m_size(size) {}
  UniqueFd m_fd;
  void* m_data;
  std::size_t m_size;
  bool m_sealed = false;
};

// A received segment, mapped read-only. Immutable. Not copyable.
class SharedMapping {
 public:
  // Maps `bytes` bytes of the memfd `fd` (which is closed). Throws std::runtime_error with the
  // reason if the descriptor is not a memfd sealed against writes and shrinking, or is smaller
  // than `bytes`: a peer that could still change the bytes is not trusted with them.
  SharedMapping(UniqueFd fd, std::size_t bytes);
  ~SharedMapping();
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;

  const void* data() const { return m_data; }
  std::size_t size() const { return m_size; }

 private:
  void* m_data = nullptr;
  std::size_t m_size = 0;
};

}  // namespace crossproc::transport
