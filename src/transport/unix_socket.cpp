// Unix-domain stream sockets.
#include "transport/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace crossproc::transport {
namespace {

std::runtime_error SocketError(const std::string& what, const std::string& path, int error) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(error));
}

sockaddr_un AddressOf(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty()) throw std::runtime_error("empty socket path");
  if (path.size() >= sizeof(address.sun_path)) {
    throw std::runtime_error("socket path is " + std::to_string(path.size()) + " bytes long, more than the " +
                             std::to_string(sizeof(address.sun_path) - 1) + " the system allows: " + path);
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

void MakeParentFolders(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    std::string folder = path.substr(0, slash);
    if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) throw SocketError("cannot create folder", folder, errno);
  }
}

}  // namespace

UniqueFd ListenUnix(const std::string& path, mode_t mode, int backlog) {
  sockaddr_un address = AddressOf(path);
  MakeParentFolders(path);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw SocketError("cannot create a socket for", path, errno);
  struct stat info{};
  if (::lstat(path.c_str(), &info) == 0) {
    if (!S_ISSOCK(info.st_mode)) throw std::runtime_error("cannot listen at " + path + ": a file that is not a socket is there");
    // A socket file: in use if someone accepts on it, stale otherwise.
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      throw std::runtime_error("cannot listen at " + path + ": another process is listening there");
    }
    if (::unlink(path.c_str()) != 0) throw SocketError("cannot remove the stale socket", path, errno);
  }
  mode_t old_mask = ::umask(0777 & ~mode);
  int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
  int bind_error = errno;
  ::umask(old_mask);
  if (bound != 0) throw SocketError("cannot listen at", path, bind_error);
  if (::chmod(path.c_str(), mode) != 0) throw SocketError("cannot set the mode of", path, errno);
  if (::listen(fd.get(), backlog) != 0) throw SocketError("cannot listen at", path, errno);
  return fd;
}

UniqueFd ConnectUnix(const std::string& path) {
  sockaddr_un address = AddressOf(path);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw SocketError("cannot create a socket for", path, errno);
  while (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno == EINTR) continue;
    throw SocketError("cannot connect to", path, errno);
  }
  return fd;
}

PeerCredentials GetPeerCredentials(int fd) {
  ucred credentials{};
  socklen_t length = sizeof(credentials);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    throw std::runtime_error(std::string("cannot read the peer's credentials: ") + std::strerror(errno));
  }
  return {credentials.pid, credentials.uid, credentials.gid};
}

}  // namespace crossproc::transport
