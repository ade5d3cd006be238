// Message segments in shared memory.
#include "transport/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace crossproc::transport {
namespace {
constexpr unsigned kRequiredSeals = F_SEAL_WRITE | F_SEAL_SHRINK;

std::size_t RoundUpToPages(std::size_t bytes) {
  auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}
}  // namespace

std::unique_ptr<SharedSegment> SharedSegment::Create(std::size_t bytes) {
  std::size_t size = RoundUpToPages(bytes == 0 ? 1 : bytes);
  UniqueFd fd(::memfd_create("crossproc-segment", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return nullptr;
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return nullptr;
  // Populated at once: one system call instead of a page fault per page while it is filled.
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd.get(), 0);
  if (data == MAP_FAILED) return nullptr;
  return std::unique_ptr<SharedSegment>(new SharedSegment(std::move(fd), data, size));
}

SharedSegment::~SharedSegment() { ::munmap(m_data, m_size); }

bool SharedSegment::Seal() {
  if (m_sealed) return true;
  // A write seal needs every writable shared mapping gone: replace ours, in place, by a
  // read-only private one, which sees the same pages.
  void* remapped = ::mmap(m_data, m_size, PROT_READ, MAP_PRIVATE | MAP_FIXED, m_fd.get(), 0);
  if (remapped == MAP_FAILED) return false;
  if (::fcntl(m_fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) return false;
  m_sealed = true;
  return true;
}

SharedMapping::SharedMapping(UniqueFd fd, std::size_t bytes) {
  int seals = ::fcntl(fd.get(), F_GET_SEALS);
  if (seals < 0 || (static_cast<unsigned>(seals) & kRequiredSeals) != kRequiredSeals) {
    throw std::runtime_error("shared segment is not a memfd sealed against writes");
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || info.st_size < 0 || static_cast<std::size_t>(info.st_size) < bytes) {
    throw std::runtime_error("shared segment is smaller than its size in the segment table");
  }
  if (bytes == 0) return;
  void* data = ::mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
  if (data == MAP_FAILED) {
    throw std::runtime_error(std::string("cannot map a shared segment: ") + std::strerror(errno));
  }
  m_data = data;
  m_size = bytes;
}

SharedMapping::~SharedMapping() {
  if (m_data != nullptr) ::munmap(m_data, m_size);
}

}  // namespace crossproc::transport
