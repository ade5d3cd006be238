// HttpRpcServer: JSON-RPC 1.0/2.0 over HTTP with cookie or user/password authentication.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace minicoin {

class Logger;
class RpcTable;

struct HttpRpcServerOptions {
  // Addresses to listen on: "127.0.0.1", "::1", "host:port", "[::1]:port". Without a port,
  // `port` is used; port 0 picks a free one (then every address uses the first one's port).
  std::vector<std::string> bind = {"127.0.0.1"};
  uint16_t port = 0;
  // Where Start writes "__cookie__:<64 hex>" (mode 0600) and Stop removes it; empty: no cookie.
  std::filesystem::path cookie_file = {};
  // Accepted too when `password` is not empty (-rpcuser/-rpcpassword).
  std::string user = {};
  std::string password = {};
  int threads = 4;                          // requests served at once (-rpcthreads)
  std::size_t max_body_bytes = 32u << 20;   // larger bodies get HTTP 413
  std::chrono::milliseconds auth_failure_delay{250};  // slows down password guessing
  int timeout_seconds = 30;                 // idle / read / write timeout of a connection
  Logger* log = nullptr;                    // optional; must outlive the server
};

// Serves an RpcTable over HTTP: POST "/" or "/wallet/<name>" with HTTP Basic auth. A JSON-RPC
// 1.0 request {method, params (array, or object = named), id} gets {result, error, id} with HTTP
// 200, or HTTP 500 on error (404 for an unknown method, 400 for an invalid request), as bitcoind
// answers; a request with "jsonrpc": "2.0" gets a 2.0 reply with HTTP 200 (a 2.0 notification,
// without id, gets HTTP 204 and no body); a JSON array is a batch answered with an array (HTTP
// 200). Bad or missing credentials: HTTP 401, logged. Bodies over max_body_bytes: HTTP 413.
//
// Thread-safe. Requests run on `threads` worker threads per bound address; the table must
// outlive the server and be thread-safe for Execute (RpcTable is, once filled).
//
// Shutting down from an RPC (the `stop` method): a handler must never call Stop() (Stop waits
// for the handlers to finish, so it would wait for itself; it throws std::logic_error if
// called from a handler thread). Instead the node gives its `stop` handler a callback that only
// signals the main thread (sets a flag and notifies a condition variable, or writes to a pipe);
// the handler returns "minicoind stopping", the reply is sent, and the main thread, woken up,
// calls Stop(), which waits for in-flight requests (including that reply) and returns.
//
//   HttpRpcServer server({.port = 19443, .cookie_file = datadir / ".cookie", .log = &log}, table);
//   server.Start();               // throws std::runtime_error if it cannot bind
//   shutdown.Wait();              // set by the `stop` RPC or a signal
//   server.Stop();
class HttpRpcServer {
 public:
  HttpRpcServer(HttpRpcServerOptions options, const RpcTable& table);
  ~HttpRpcServer();
  HttpRpcServer(const HttpRpcServer&) = delete;
  HttpRpcServer& operator=(const HttpRpcServer&) = delete;

  // Binds every address (std::runtime_error "Unable to bind to 127.0.0.1:19443: Address in use"
  // and nothing left bound), writes the cookie, starts serving. Calling it again is a no-op.
  void Start();
  // Stops accepting, waits for requests in progress, removes the cookie. Idempotent.
  void Stop();
  // The bound port (after Start), 0 before.
  uint16_t port() const;
  // "127.0.0.1:19443" for each bound address.
  std::vector<std::string> BoundAddresses() const;

  // The HTTP status and body for a request body, as served (authentication already done).
  // Exposed for in-process callers and tests.
  struct Reply {
    int status;
    std::string body;
  };
  Reply HandleBody(const std::string& body, const std::string& uri,
                   const std::string& auth_user) const;

 private:
  struct Listener;  // one bound address: its HTTP server and serving thread

  void StopLocked();

  const HttpRpcServerOptions m_options;
  const RpcTable& m_table;
  mutable std::mutex m_mutex;
  std::vector<std::unique_ptr<Listener>> m_listeners;  // guarded by m_mutex
  std::string m_cookie;          // guarded by m_mutex; "" until written
  uint16_t m_port = 0;           // guarded by m_mutex
  bool m_running = false;        // guarded by m_mutex
};

}  // namespace minicoin
