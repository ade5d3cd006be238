// Unix-domain stream sockets: listen at a path, connect to one, read the peer's credentials.
#pragma once

#include "transport/socket.h"

#include <sys/types.h>

#include <string>

namespace crossproc::transport {

// Listens at `path`: creates missing parent folders (mode 0700), replaces a stale socket file
// left by a dead process, refuses a path in use by a live listener, and sets the file's mode.
// Throws std::runtime_error with a message naming the path and the reason.
UniqueFd ListenUnix(const std::string& path, mode_t mode, int backlog);

// Connects to the socket at `path`. Throws std::runtime_error naming the path and the reason.
UniqueFd ConnectUnix(const std::string& path);

struct PeerCredentials {
  pid_t pid;
  uid_t uid;
  gid_t gid;
};
PeerCredentials GetPeerCredentials(int fd);

}  // namespace crossproc::transport
