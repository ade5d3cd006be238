// A Cap'n Proto RPC connection over a connected stream socket.
#pragma once

#include <crossproc/interface.h>
#include <crossproc/log.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>

namespace crossproc {
namespace detail {
class ConnectionState;
// Bootstrap helpers, defined by the runtime.
std::shared_ptr<CapRef> BootstrapRef(ConnectionState& state);
void Construct(ConnectionState& state, const std::shared_ptr<CapRef>& init, const MethodInfo& method);
}  // namespace detail

// Settings of one connection.
struct ConnectionOptions {
  // Names this side in logs and in the names of threads it creates in the peer
  // ("<caller thread>/<name>").
  std::string name = "crossproc";
  // Largest message accepted from the peer; a larger one closes the connection.
  std::size_t max_message_bytes = 64u << 20;
  // Deepest struct/list nesting accepted in a message.
  int max_nesting_depth = 64;
  // Calls from the peer being served at once (running or queued for a thread). A call over the
  // limit fails at once with an Overloaded error to the peer; the connection goes on serving.
  std::size_t max_calls_in_flight = 1024;
  // Over a unix socket, and with a peer that is crossproc too, a message segment of at least
  // this many bytes (a large Data or list) is passed as a sealed memfd instead of being copied
  // through the socket. 0 (the default) turns this off in both directions: measured on 2-CPU
  // virtual machines, allocating and freeing the memfd's pages costs more than copying through
  // the socket into reused buffers (docs/performance.md).
  std::size_t shared_memory_threshold = 0;
  // Receives errors (always) and, with debug_ipc, one line per request and response.
  LogFn log = LogToStderr;
  bool debug_ipc = false;
  // Stack size of the threads this connection starts (its event-loop thread, and the server
  // threads peers map their threads to); 0 keeps the system's default (8 MiB of address space,
  // of which only what is touched takes memory).
  std::size_t thread_stack_bytes = 0;
  // A thread of this side that is about to sleep in a read of the socket (a caller waiting for
  // its answer, a server thread waiting for its next call) first polls the socket for up to this
  // long. An answer or call that arrives meanwhile is taken without the thread being put to
  // sleep and woken again, which costs more than the call itself when the two processes run on
  // different CPUs; the price is CPU time spent polling, and a few system calls per wait. 0 (the
  // default) never polls. The event-loop thread never polls. See docs/performance.md.
  std::chrono::microseconds spin_before_sleep{0};
};

// One end of a connection. Owns the socket and the threads that serve it. Thread-safe: any
// thread may call through proxies obtained from it. Not copyable or movable.
//
// On disconnect (the peer closed the socket, died, or sent something malformed) every pending
// and later call through its proxies throws crossproc::Disconnected, and every object the peer
// held is released. Destroying the Connection closes the socket the same way; proxies may
// outlive it and then throw Disconnected.
//
//   int fds[2]; socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
//   crossproc::Connection server(fds[0], std::make_shared<MyInit>());  // serves MyInit
//   crossproc::Connection client(fds[1]);
//   auto init = client.Bootstrap<calc::Init>();                       // a proxy
class Connection {
 public:
  // Takes ownership of `fd`. `init`, if not null, is what the peer gets when it asks for the
  // bootstrap capability.
  explicit Connection(int fd, ConnectionOptions options = {});
  Connection(int fd, std::shared_ptr<ServerBase> init, ConnectionOptions options = {});
  // Serves `init` through the generated server adapter of interface I.
  template <typename I>
    requires(!std::is_base_of_v<ServerBase, I>)
  Connection(int fd, std::shared_ptr<I> init, ConnectionOptions options = {})
      : Connection(fd,
                   std::shared_ptr<ServerBase>(
                       std::make_shared<typename InterfaceTraits<I>::Server>(std::move(init))),
                   std::move(options)) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Asks the peer for its bootstrap capability and returns a proxy for it. If the interface
  // follows the `construct` convention, both sides exchange their ThreadMap first.
  template <typename I>
  std::unique_ptr<typename InterfaceTraits<I>::Client> Bootstrap() {
    std::shared_ptr<detail::CapRef> ref = detail::BootstrapRef(*m_state);
    if (InterfaceTraits<I>::kConstruct != nullptr) {
      detail::Construct(*m_state, ref, *InterfaceTraits<I>::kConstruct);
    }
    return std::make_unique<typename InterfaceTraits<I>::Client>(std::move(ref));
  }

  // Blocks until the connection is closed by either side.
  void WaitForDisconnect();
  // Blocks until the peer, having obtained the bootstrap object, released every reference to
  // it, or until the connection is closed. A spawned child uses it to exit when its parent
  // drops the child's Init.
  void WaitForInitRelease();
  // False once the connection is closed.
  bool connected() const;
  // Closes the socket now; pending calls fail with Disconnected.
  void Close();

  detail::ConnectionState& state() { return *m_state; }

 private:
  // Shared with the capabilities and threads of this connection, which may outlive it.
  std::shared_ptr<detail::ConnectionState> m_state;
};

// While a SendBatch lives on a thread, the asynchronous calls that thread makes are queued
// instead of being written one by one; they leave together, in one write per connection, when
// the batch ends (or earlier, with the next synchronous call on the same connection). Batches
// nest. Not copyable.
//
//   {
//     crossproc::SendBatch batch;
//     for (auto& item : items) futures.push_back(store->putAsync(item));
//   }  // written here
class SendBatch {
 public:
  SendBatch();
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;
};

}  // namespace crossproc
