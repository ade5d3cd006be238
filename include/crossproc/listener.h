// Serving connections that other programs open on a unix socket, and opening them.
#pragma once

#include <crossproc/connection.h>

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace crossproc {

namespace detail {
class ListenerState;
}

struct ListenOptions {
  // Connections served at once. A peer over the limit is sent an Abort saying so (its calls fail
  // with Disconnected and that reason) and closed right after accept.
  std::size_t max_connections = 128;
  // Besides this user, also accept peers whose primary group is this one (the socket file then
  // gets mode 0660 instead of 0600).
  std::optional<gid_t> allow_group;
  // For each accepted connection.
  ConnectionOptions connection;
};

// Makes the Init object served to one accepted connection. Called on the accepting thread.
using InitFactory = std::function<std::shared_ptr<ServerBase>()>;

// Listens on a unix socket and serves each connection its own Init. Accepts on its own thread.
// Thread-safe. The destructor stops accepting, closes every connection and removes the file.
//
//   crossproc::Listener listener("/run/app/node.sock",
//       [&] { return crossproc::MakeServer<app::Init>(std::make_shared<InitImpl>(node)); });
class Listener {
 public:
  // Binds now (throws std::runtime_error with a clear reason if it cannot) and starts accepting.
  Listener(const std::string& path, InitFactory make_init, ListenOptions options = {});
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  const std::string& path() const;
  // Connections currently open.
  std::size_t connection_count() const;
  // Closes every incoming connection (calls in progress fail with Disconnected at the peer);
  // goes on accepting new ones.
  void DisconnectIncoming();

 private:
  std::unique_ptr<detail::ListenerState> m_state;
};

// The server adapter for an implementation of interface I, as a ServerBase.
template <typename I>
std::shared_ptr<ServerBase> MakeServer(std::shared_ptr<I> impl) {
  return std::make_shared<typename InterfaceTraits<I>::Server>(std::move(impl));
}

// Turns "unix" into `default_path` and "unix:<path>" into <path>; throws std::invalid_argument
// for anything else.
std::string ResolveUnixAddress(const std::string& address, const std::string& default_path);

// Connects to the listener at `path`. Throws std::runtime_error with a clear reason.
std::unique_ptr<Connection> ConnectUnix(const std::string& path, ConnectionOptions options = {});

// Connects as an -ipcconnect option says: "unix" (the default path), "unix:<path>", or "auto":
// the default path if a server listens there, else nullptr so that the caller falls back
// (spawning the program, or running the code in this process). An explicit address that cannot
// be reached throws std::runtime_error.
std::unique_ptr<Connection> ConnectAddress(const std::string& address, const std::string& default_path,
                                           ConnectionOptions options = {});

}  // namespace crossproc
