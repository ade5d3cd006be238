#include "rpc/server.h"

#include "common/logging.h"
#include "rpc/auth.h"
#include "rpc/json.h"
#include "rpc/table.h"

#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

namespace minicoin {
namespace {

using Json = nlohmann::json;

// Set while a thread runs an HTTP handler, so Stop() can refuse to wait for itself.
thread_local int t_handler_depth = 0;

struct HandlerScope {
  HandlerScope() { ++t_handler_depth; }
  ~HandlerScope() { --t_handler_depth; }
  HandlerScope(const HandlerScope&) = delete;
  HandlerScope& operator=(const HandlerScope&) = delete;
};

struct BindAddress {
  std::string host;
  uint16_t port;
};

std::optional<BindAddress> ParseBindAddress(const std::string& text, uint16_t default_port) {
  std::string host = text;
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    std::size_t close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = text.substr(1, close - 1);
    std::string rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      port_text = rest.substr(1);
      if (port_text.empty()) return std::nullopt;
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    std::size_t colon = text.find(':');
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (port_text.empty()) return std::nullopt;
  }
  if (host.empty()) return std::nullopt;
  uint16_t port = default_port;
  if (!port_text.empty()) {
    unsigned long value = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned long>(c - '0');
      if (value > 65535) return std::nullopt;
    }
    port = static_cast<uint16_t>(value);
  }
  return BindAddress{host, port};
}

std::string FormatAddress(const std::string& host, uint16_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// Why binding failed: httplib only says that it did. Tries the same bind to learn the errno.
std::string BindFailureReason(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &result);
  if (rc != 0) return gai_strerror(rc);
  std::string reason = "unknown error";
  for (addrinfo* info = result; info != nullptr; info = info->ai_next) {
    int fd = ::socket(info->ai_family, info->ai_socktype | SOCK_CLOEXEC, info->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, info->ai_addr, info->ai_addrlen) != 0) {
      reason = errno == EADDRINUSE ? "Address in use" : std::strerror(errno);
    } else if (::listen(fd, 1) != 0) {
      reason = errno == EADDRINUSE ? "Address in use" : std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(result);
  return reason;
}

std::string Dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A reply object with its members in the order bitcoind writes them (nlohmann sorts keys).
std::string DumpReply(const Json& reply) {
  if (!reply.is_object()) return Dump(reply);
  std::string out = "{";
  for (const char* key : {"jsonrpc", "result", "error", "id"}) {
    if (!reply.contains(key)) continue;
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(key) + "\":" + Dump(reply[key]);
  }
  return out + "}";
}

Json ErrorObject(int code, const std::string& message) {
  return Json{{"code", code}, {"message", message}};
}

int StatusForError(int code) {
  if (code == kRpcInvalidRequest) return 400;
  if (code == kRpcMethodNotFound) return 404;
  return 500;
}

// One processed call: the reply object (absent for a 2.0 notification) and its HTTP status.
struct CallReply {
  std::optional<Json> reply;
  int status = 200;
};

CallReply LegacyError(int code, const std::string& message, const Json& id) {
  return {Json{{"result", nullptr}, {"error", ErrorObject(code, message)}, {"id", id}},
          StatusForError(code)};
}

// httplib's server, with a way to raise the listen backlog the library hard-codes to 5 (more
// simultaneous connection attempts than that were dropped and retried by the client a second
// later). Linux applies a second listen() on a listening socket as a new backlog.
class BacklogServer : public httplib::Server {
 public:
  void RaiseBacklog(int backlog) {
    socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) ::listen(sock, backlog);
  }
};

constexpr int kListenBacklog = 128;

}  // namespace

struct HttpRpcServer::Listener {
  BacklogServer http;
  std::thread thread;
  std::string address;
};

HttpRpcServer::HttpRpcServer(HttpRpcServerOptions options, const RpcTable& table)
    : m_options(std::move(options)), m_table(table) {}

HttpRpcServer::~HttpRpcServer() {
  std::lock_guard lock(m_mutex);
  StopLocked();
}

uint16_t HttpRpcServer::port() const {
  std::lock_guard lock(m_mutex);
  return m_port;
}

std::vector<std::string> HttpRpcServer::BoundAddresses() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  for (const auto& listener : m_listeners) out.push_back(listener->address);
  return out;
}

HttpRpcServer::Reply HttpRpcServer::HandleBody(const std::string& body, const std::string& uri,
                                               const std::string& auth_user) const {
  std::string parse_error;
  std::optional<Json> maybe_parsed = ParseJsonLimited(body, parse_error);
  if (!maybe_parsed) {
    // Plain "Parse error" for text that is not JSON, as bitcoind answers; the nesting bound is
    // named so that a client sending deep values knows why.
    std::string message = JsonNestingDepth(body) > kMaxJsonDepth ? "Parse error: " + parse_error
                                                                 : "Parse error";
    return {500, DumpReply(LegacyError(kRpcParseError, message, nullptr).reply.value())};
  }
  const Json& parsed = *maybe_parsed;
  auto process = [&](const Json& request) -> CallReply {
    if (!request.is_object()) return LegacyError(kRpcInvalidRequest, "Invalid Request object", nullptr);
    Json id = request.contains("id") ? request["id"] : Json(nullptr);
    bool version2 = false;
    if (request.contains("jsonrpc")) {
      const Json& version = request["jsonrpc"];
      if (version == "2.0") {
        version2 = true;
      } else if (version != "1.0") {
        return LegacyError(kRpcInvalidRequest,
                           "jsonrpc field must be a string, either \"1.0\" or \"2.0\"", id);
      }
    }
    bool notification = version2 && !request.contains("id");
    auto error_reply = [&](int code, const std::string& message) -> CallReply {
      if (!version2) return LegacyError(code, message, id);
      if (notification) return {std::nullopt, 204};
      return {Json{{"jsonrpc", "2.0"}, {"error", ErrorObject(code, message)}, {"id", id}}, 200};
    };
    if (!request.contains("method")) return error_reply(kRpcInvalidRequest, "Missing method");
    if (!request["method"].is_string()) {
      return error_reply(kRpcInvalidRequest, "Method must be a string");
    }
    RpcRequest call;
    call.method = request["method"].get<std::string>();
    call.uri = uri;
    call.auth_user = auth_user;
    Json params = request.contains("params") ? request["params"] : Json(nullptr);
    if (!params.is_null() && !params.is_array() && !params.is_object()) {
      return error_reply(kRpcInvalidRequest, "Params must be an array or object");
    }
    if (m_options.log != nullptr) {
      MINICOIN_LOG_DEBUG(*m_options.log, LogCategory::kRpc, "ThreadRPCServer method=%s user=%s uri=%s",
                         call.method.c_str(), auth_user.c_str(), uri.c_str());
    }
    Json result;
    try {
      result = m_table.Execute(call, params);
    } catch (const RpcError& e) {
      return error_reply(e.code, e.what());
    } catch (const std::exception& e) {
      return error_reply(kRpcInternalError, e.what());
    }
    if (notification) return {std::nullopt, 204};
    if (version2) return {Json{{"jsonrpc", "2.0"}, {"result", std::move(result)}, {"id", id}}, 200};
    return {Json{{"result", std::move(result)}, {"error", nullptr}, {"id", id}}, 200};
  };
  if (parsed.is_array()) {
    std::string replies = "[";
    for (const Json& request : parsed) {
      CallReply reply = process(request);
      if (!reply.reply) continue;
      if (replies.size() > 1) replies += ",";
      replies += DumpReply(*reply.reply);
    }
    return {200, replies + "]"};
  }
  if (!parsed.is_object()) {
    return {400, DumpReply(LegacyError(kRpcInvalidRequest, "Top-level object parse error", nullptr)
                          .reply.value())};
  }
  CallReply reply = process(parsed);
  if (!reply.reply) return {204, ""};
  return {reply.status, DumpReply(*reply.reply)};
}

void HttpRpcServer::Start() {
  std::lock_guard lock(m_mutex);
  if (m_running) return;
  if (m_options.cookie_file.empty() && m_options.password.empty()) {
    throw std::runtime_error(
        "No RPC credentials: give a cookie file or -rpcuser/-rpcpassword");
  }
  std::vector<std::string> credentials;
  std::string cookie;
  if (!m_options.cookie_file.empty()) {
    cookie = GenerateCookie();
    credentials.push_back(cookie);
  }
  if (!m_options.password.empty()) credentials.push_back(m_options.user + ":" + m_options.password);

  std::vector<BindAddress> addresses;
  for (const std::string& text : m_options.bind) {
    std::optional<BindAddress> address = ParseBindAddress(text, m_options.port);
    if (!address) throw std::runtime_error("Invalid -rpcbind address: " + text);
    addresses.push_back(*address);
  }
  if (addresses.empty()) throw std::runtime_error("No address to bind the RPC server to");

  Logger* log = m_options.log;
  const std::size_t max_body = m_options.max_body_bytes;
  // The body is read here rather than by httplib, which would parse a form-encoded body (curl's
  // default Content-Type for --data) and refuse one over 8 KiB with an empty 413. A JSON-RPC
  // body is JSON whatever its Content-Type says.
  auto on_request = [this, credentials, log, max_body](const httplib::Request& request,
                                                       httplib::Response& response,
                                                       const httplib::ContentReader& read_body) {
    HandlerScope scope;
    SetLogThreadName("http");
    std::string user;
    bool ok = false;
    std::optional<std::string> given;
    if (request.has_header("Authorization")) {
      given = DecodeBasicAuth(request.get_header_value("Authorization"));
    }
    if (given) {
      for (const std::string& accepted : credentials) {
        if (TimingSafeEqual(*given, accepted)) ok = true;
      }
      user = given->substr(0, given->find(':'));
    }
    if (!ok) {
      if (log != nullptr) {
        log->Warning("ThreadRPCServer %s from %s", given ? "incorrect password attempt"
                                                         : "request without credentials",
                     request.remote_addr.c_str());
      }
      if (given && m_options.auth_failure_delay.count() > 0) {
        std::this_thread::sleep_for(m_options.auth_failure_delay);
      }
      response.status = 401;
      response.set_header("WWW-Authenticate", "Basic realm=\"jsonrpc\"");
      return;
    }
    if (request.is_multipart_form_data()) {
      response.status = 415;
      response.set_content("JSON-RPC requests carry a JSON body, not multipart/form-data\n",
                           "text/plain");
      return;
    }
    std::string body;
    bool complete = read_body([&body](const char* data, std::size_t length) {
      body.append(data, length);
      return true;
    });
    if (!complete) {
      if (response.status == 413 || body.size() >= max_body) {
        response.status = 413;
        response.set_content("Request body larger than the RPC server's limit of " +
                                 std::to_string(max_body) + " bytes\n",
                             "text/plain");
      } else {
        if (response.status < 400) response.status = 400;
        response.set_content("Could not read the request body\n", "text/plain");
      }
      return;
    }
    Reply reply = HandleBody(body, request.path, user);
    response.status = reply.status;
    if (!reply.body.empty()) response.set_content(reply.body + "\n", "application/json");
  };
  auto on_get = [](const httplib::Request&, httplib::Response& response) {
    response.status = 405;
    response.set_content("JSONRPC server handles only POST requests", "text/plain");
  };

  std::vector<std::unique_ptr<Listener>> listeners;
  uint16_t bound_port = 0;
  auto cleanup = [&listeners] {
    for (auto& listener : listeners) {
      listener->http.stop();
      if (listener->thread.joinable()) listener->thread.join();
    }
  };
  for (const BindAddress& address : addresses) {
    auto listener = std::make_unique<Listener>();
    BacklogServer& http = listener->http;
    int threads = m_options.threads > 0 ? m_options.threads : 1;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    http.set_payload_max_length(m_options.max_body_bytes);
    http.set_tcp_nodelay(true);
    http.set_read_timeout(m_options.timeout_seconds);
    http.set_write_timeout(m_options.timeout_seconds);
    http.set_keep_alive_timeout(m_options.timeout_seconds);
    // httplib's default sets SO_REUSEPORT, which would let a second server bind the same port.
    http.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    http.Post("/", on_request);
    http.Post(R"(/wallet/.*)", on_request);
    http.Get("/", on_get);
    // Statuses httplib sets without a body (an unknown path, a malformed request) get a line
    // saying what went wrong; 401 stays empty, as bitcoind sends it.
    http.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
      if (!response.body.empty() || response.status == 401) return;
      if (response.status == 404) {
        response.set_content("Not found: " + request.path +
                                 " (JSON-RPC requests go to / or /wallet/<name>)\n",
                             "text/plain");
      } else if (response.status == 413) {
        response.set_content("Request body too large\n", "text/plain");
      } else {
        response.set_content("HTTP error " + std::to_string(response.status) + "\n",
                             "text/plain");
      }
    });
    uint16_t port = address.port != 0 ? address.port : bound_port;
    bool ok = false;
    if (port == 0) {
      int any = http.bind_to_any_port(address.host);
      ok = any > 0;
      if (ok) port = static_cast<uint16_t>(any);
    } else {
      ok = http.bind_to_port(address.host, port);
    }
    if (!ok) {
      cleanup();
      throw std::runtime_error("Unable to bind to " + FormatAddress(address.host, port) + ": " +
                               BindFailureReason(address.host, port));
    }
    http.RaiseBacklog(kListenBacklog);
    if (bound_port == 0) bound_port = port;
    listener->address = FormatAddress(address.host, port);
    listeners.push_back(std::move(listener));
  }
  if (!cookie.empty()) {
    std::string error;
    if (!WriteCookieFile(m_options.cookie_file, cookie, error)) {
      cleanup();
      throw std::runtime_error(error);
    }
  }
  for (auto& listener : listeners) {
    Listener* raw = listener.get();
    raw->thread = std::thread([raw] {
      SetLogThreadName("http");
      raw->http.listen_after_bind();
    });
  }
  // httplib's stop() does nothing until the server runs: wait for that so Stop() always works.
  for (auto& listener : listeners) {
    while (!listener->http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  m_listeners = std::move(listeners);
  m_cookie = cookie;
  m_port = bound_port;
  m_running = true;
  if (log != nullptr) {
    for (const auto& listener : m_listeners) log->Info("Binding RPC on address %s", listener->address.c_str());
    if (!cookie.empty()) log->Info("Generated RPC authentication cookie %s", m_options.cookie_file.c_str());
  }
}

void HttpRpcServer::Stop() {
  if (t_handler_depth > 0) {
    throw std::logic_error(
        "HttpRpcServer::Stop called from an RPC handler: signal the main thread instead");
  }
  std::lock_guard lock(m_mutex);
  StopLocked();
}

void HttpRpcServer::StopLocked() {
  if (!m_running) return;
  for (auto& listener : m_listeners) listener->http.stop();
  for (auto& listener : m_listeners) {
    if (listener->thread.joinable()) listener->thread.join();
  }
  m_listeners.clear();
  if (!m_cookie.empty()) {
    std::error_code ec;
    std::filesystem::remove(m_options.cookie_file, ec);
    m_cookie.clear();
  }
  m_running = false;
  if (m_options.log != nullptr) m_options.log->Info("Stopped the RPC server");
}

}  // namespace minicoin
