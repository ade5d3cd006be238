// Accepting connections on a unix socket.
#include <crossproc/listener.h>
#include <crossproc/sync.h>

#include "runtime/connection_state.h"
#include "transport/unix_socket.h"

#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

namespace crossproc {
namespace detail {
namespace {
// Tells a peer refused for being over the connection limit why, with a Cap'n Proto Abort
// (which any RPC peer reports as the reason of its disconnect), then closes. Never blocks: a
// fresh socket has room for the few bytes, and if not, the peer only sees the close.
void RefuseConnection(transport::UniqueFd fd, const std::string& reason) {
  capnp::MallocMessageBuilder message(64);
  FillException(message.initRoot<capnp::rpc::Message>().initAbort(), ErrorKind::kOverloaded, reason);
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  (void)::send(fd.get(), bytes.begin(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd.get(), SHUT_WR);
}
}  // namespace

class ListenerState {
 public:
  ListenerState(std::string path, InitFactory make_init, ListenOptions options)
      : m_path(std::move(path)), m_make_init(std::move(make_init)), m_options(std::move(options)) {
    mode_t mode = m_options.allow_group ? 0660 : 0600;
    m_fd = transport::ListenUnix(m_path, mode, 128);
    if (m_options.allow_group && ::chown(m_path.c_str(), static_cast<uid_t>(-1), *m_options.allow_group) != 0) {
      Log(LogLevel::kWarning, "cannot give group " + std::to_string(*m_options.allow_group) + " access to " + m_path);
    }
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot create a pipe");
    m_wake_read = transport::UniqueFd(pipe_fds[0]);
    m_wake_write = transport::UniqueFd(pipe_fds[1]);
    m_thread = std::thread([this] { AcceptLoop(); });
  }

  ~ListenerState() {
    char byte = 0;
    (void)::write(m_wake_write.get(), &byte, 1);
    m_thread.join();
    std::vector<std::unique_ptr<Connection>> connections;
    {
      MutexLock lock(m_mutex);
      connections.swap(m_connections);
    }
    connections.clear();
    ::unlink(m_path.c_str());
  }

  const std::string& path() const { return m_path; }

  std::size_t connection_count() {
    MutexLock lock(m_mutex);
    PruneClosed();
    return m_connections.size();
  }

  void DisconnectIncoming() {
    std::vector<std::unique_ptr<Connection>> connections;
    {
      MutexLock lock(m_mutex);
      connections.swap(m_connections);
    }
    connections.clear();  // closes each, outside the lock
  }

 private:
  void Log(LogLevel level, const std::string& line) const {
    if (m_options.connection.log) m_options.connection.log(level, "listener " + m_path + ": " + line);
  }

  void PruneClosed() CROSSPROC_REQUIRES(m_mutex) {
    std::erase_if(m_connections, [](const std::unique_ptr<Connection>& connection) { return !connection->connected(); });
  }

  bool Allowed(int fd) {
    transport::PeerCredentials peer = transport::GetPeerCredentials(fd);
    if (peer.uid == ::geteuid()) return true;
    if (m_options.allow_group && peer.gid == *m_options.allow_group) return true;
    Log(LogLevel::kWarning, "refused a connection from uid " + std::to_string(peer.uid) + " (pid " +
                                std::to_string(peer.pid) + "): only uid " + std::to_string(::geteuid()) +
                                (m_options.allow_group ? " and group " + std::to_string(*m_options.allow_group) : "") +
                                " may connect");
    return false;
  }

  void AcceptLoop() {
    while (true) {
      pollfd fds[2] = {{m_fd.get(), POLLIN, 0}, {m_wake_read.get(), POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        Log(LogLevel::kError, "poll failed; no longer accepting");
        return;
      }
      if (fds[1].revents != 0) return;
      transport::UniqueFd fd(::accept4(m_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!fd) {
        if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
          Log(LogLevel::kError, std::string("accept failed: ") + std::strerror(errno));
          std::this_thread::sleep_for(std::chrono::milliseconds(10));  // e.g. out of descriptors
        }
        continue;
      }
      try {
        if (!Allowed(fd.get())) continue;
        MutexLock lock(m_mutex);
        PruneClosed();
        if (m_connections.size() >= m_options.max_connections) {
          std::string reason = "overloaded: " + m_path + " serves at most " +
                               std::to_string(m_options.max_connections) + " connections at once";
          Log(LogLevel::kWarning, "refused a connection: " + reason);
          RefuseConnection(std::move(fd), reason);
          continue;
        }
        m_connections.push_back(std::make_unique<Connection>(fd.release(), m_make_init(), m_options.connection));
      } catch (const std::exception& e) {
        Log(LogLevel::kError, std::string("cannot serve an incoming connection: ") + e.what());
      }
    }
  }

  std::string m_path;
  InitFactory m_make_init;
  ListenOptions m_options;
  transport::UniqueFd m_fd;
  transport::UniqueFd m_wake_read;
  transport::UniqueFd m_wake_write;
  Mutex m_mutex;
  std::vector<std::unique_ptr<Connection>> m_connections CROSSPROC_GUARDED_BY(m_mutex);
  std::thread m_thread;
};

}  // namespace detail

Listener::Listener(const std::string& path, InitFactory make_init, ListenOptions options)
    : m_state(std::make_unique<detail::ListenerState>(path, std::move(make_init), std::move(options))) {}
Listener::~Listener() = default;
const std::string& Listener::path() const { return m_state->path(); }
std::size_t Listener::connection_count() const { return m_state->connection_count(); }
void Listener::DisconnectIncoming() { m_state->DisconnectIncoming(); }

std::string ResolveUnixAddress(const std::string& address, const std::string& default_path) {
  if (address == "unix") return default_path;
  if (address.rfind("unix:", 0) == 0 && address.size() > 5) return address.substr(5);
  throw std::invalid_argument("unsupported address '" + address + "': use unix or unix:<path>");
}

std::unique_ptr<Connection> ConnectUnix(const std::string& path, ConnectionOptions options) {
  transport::UniqueFd fd = transport::ConnectUnix(path);
  return std::make_unique<Connection>(fd.release(), std::move(options));
}

std::unique_ptr<Connection> ConnectAddress(const std::string& address, const std::string& default_path,
                                           ConnectionOptions options) {
  if (address == "auto") {
    try {
      return ConnectUnix(default_path, std::move(options));
    } catch (const std::runtime_error&) {
      return nullptr;  // nobody listens there: the caller's fallback
    }
  }
  return ConnectUnix(ResolveUnixAddress(address, default_path), std::move(options));
}

}  // namespace crossproc
