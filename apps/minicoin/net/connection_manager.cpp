// ConnectionManager: sockets, handshakes, address exchange and bans.
#include "net/connection_manager.h"

#include "net/framing.h"
#include "net/peer_session.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>

namespace minicoin::net {
namespace {

using std::chrono::microseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

// The poll timeout: the longest the socket thread sleeps without looking at its timers.
constexpr int kPollMillis = 100;
// The message thread's longest wait between two OnTick calls.
constexpr std::chrono::milliseconds kTickInterval{100};
// Bytes read from one socket per poll round, so one busy peer cannot hold the thread.
constexpr std::size_t kReadPerRound = 256u << 10;
// Connections accepted per listener per poll round.
constexpr int kAcceptsPerRound = 64;
// Pause between two picks of an automatic outbound address.
constexpr std::chrono::milliseconds kAutomaticInterval{500};

microseconds SteadyMicros() {
  return std::chrono::duration_cast<microseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ErrnoString(int error) { return std::strerror(error); }

bool SameEndpoint(const NetAddress& a, const NetAddress& b) {
  return a.ip == b.ip && a.port == b.port;
}

HostAndPort ParseOrThrow(const std::string& text, uint16_t default_port, const char* option) {
  auto parsed = SplitHostPort(text, default_port);
  if (!parsed) {
    throw std::runtime_error(std::string("cannot parse ") + option + " address '" + text + "'");
  }
  return *parsed;
}

// The addresses `host` names (numeric, or resolved through the system's resolver).
std::vector<NetAddress> Resolve(const HostAndPort& host) {
  if (auto ip = ParseIp(host.host)) {
    NetAddress address;
    address.ip = *ip;
    address.port = host.port;
    return {address};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  std::vector<NetAddress> addresses;
  if (::getaddrinfo(host.host.c_str(), nullptr, &hints, &result) != 0) return addresses;
  for (const addrinfo* info = result; info != nullptr; info = info->ai_next) {
    if (auto address = FromSockaddr(info->ai_addr, info->ai_addrlen)) {
      address->port = host.port;
      addresses.push_back(*address);
    }
  }
  ::freeaddrinfo(result);
  return addresses;
}

std::string FormatHost(const HostAndPort& host) {
  if (host.host.find(':') != std::string::npos) {
    return "[" + host.host + "]:" + std::to_string(host.port);
  }
  return host.host + ":" + std::to_string(host.port);
}

}  // namespace

struct ConnectionManager::Connection {
  explicit Connection(const Magic& magic) : reader(magic) {}

  PeerId id = 0;
  int fd = -1;  // closed by the socket thread only
  NetAddress address;
  std::string address_text;
  bool inbound = false;
  OutboundKind kind = OutboundKind::kAutomatic;
  uint64_t target = 0;  // the Target it serves (0: none)
  bool connecting = false;
  SteadyTime connect_deadline;

  MessageReader reader;
  // Decoded messages waiting for the message thread, with their wire sizes.
  std::deque<std::pair<Message, std::size_t>> received;
  std::size_t received_bytes = 0;
  std::deque<std::vector<uint8_t>> send_queue;  // framed messages
  std::size_t send_offset = 0;                  // bytes of the front one already written
  std::size_t send_bytes = 0;                   // bytes queued and not written
  bool send_paused = false;                     // went over kSendQueuePauseBytes
  bool send_space_event = false;                // fell below it since: tell the handler

  std::unique_ptr<PeerSession> session;
  uint64_t own_nonce = 0;
  microseconds ping_sent{0};

  bool closing = false;  // a close was requested; the socket thread closes it next round
  std::string close_reason;
  bool closed = false;     // the socket is closed; the message thread erases it
  bool announced = false;  // passed to PeerConnected
  bool getaddr_answered = false;
  int64_t addr_window_start = 0;
  int addr_messages = 0;

  int64_t connected_time = 0;
  int64_t last_send = 0;
  int64_t last_receive = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

struct ConnectionManager::Event {
  enum class Kind { kConnected, kMessage, kSpaceAvailable, kDisconnected };
  Kind kind;
  PeerId peer = 0;
  std::optional<PeerConnected> info;
  std::optional<Message> message;
};

ConnectionManager::ConnectionManager(ConnectionManagerOptions options, Logger& log)
    : m_options(std::move(options)),
      m_log(log),
      m_port(m_options.port != 0 ? m_options.port : m_options.default_port),
      m_book(AddressBook::Options{m_options.allow_local, kDefaultMaxNewAddresses,
                                  kDefaultMaxTriedAddresses}),
      m_rng(std::random_device{}()) {
  for (const std::string& bind : m_options.binds) {
    auto address = ParseNetAddress(bind, m_port);
    if (!address) throw std::runtime_error("cannot parse -bind address '" + bind + "'");
    m_binds.push_back(*address);
  }
  for (const std::string& text : m_options.connect) {
    m_connect.push_back(ParseOrThrow(text, m_options.default_port, "-connect"));
  }
  for (const std::string& text : m_options.add_nodes) {
    m_add_nodes.push_back(ParseOrThrow(text, m_options.default_port, "-addnode"));
  }
  for (const std::string& text : m_options.seed_nodes) {
    m_seed_nodes.push_back(ParseOrThrow(text, m_options.default_port, "-seednode"));
  }
  m_wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (m_wake_fd < 0) throw std::runtime_error("cannot create an eventfd: " + ErrnoString(errno));
}

ConnectionManager::~ConnectionManager() {
  Stop();
  ::close(m_wake_fd);
}

void ConnectionManager::Wake() const {
  const uint64_t one = 1;
  // A full counter already wakes the thread; nothing else can go wrong worth reporting.
  [[maybe_unused]] const ssize_t written = ::write(m_wake_fd, &one, sizeof(one));
}

void ConnectionManager::Start(PeerHandler& handler) {
  std::lock_guard lifecycle(m_lifecycle_mutex);
  if (m_started) throw std::logic_error("ConnectionManager::Start called twice");

  std::vector<int> listeners;
  std::vector<std::string> listening;
  auto undo = [&] {
    for (int fd : listeners) ::close(fd);
  };
  if (m_options.listen) {
    std::vector<std::pair<NetAddress, bool>> binds;  // address, required
    if (m_binds.empty()) {
      binds.emplace_back(NetAddress::FromIpv4(0, 0, 0, 0, m_port, 0), true);
      NetAddress any6;
      any6.port = m_port;
      binds.emplace_back(any6, false);
    } else {
      for (const NetAddress& address : m_binds) binds.emplace_back(address, true);
    }
    for (const auto& [address, required] : binds) {
      sockaddr_storage storage{};
      const socklen_t length = ToSockaddr(address, storage);
      const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int error = fd < 0 ? errno : 0;
      if (fd >= 0) {
        const int on = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (storage.ss_family == AF_INET6) {
          ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
        }
        if (::bind(fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0 ||
            ::listen(fd, SOMAXCONN) != 0) {
          error = errno;
          ::close(fd);
        }
      }
      if (error != 0) {
        const std::string text =
            "cannot listen on " + FormatNetAddress(address) + ": " + ErrnoString(error);
        if (required) {
          undo();
          throw std::runtime_error(text);
        }
        m_log.Warning("%s", text.c_str());
        continue;
      }
      sockaddr_storage bound{};
      socklen_t bound_length = sizeof(bound);
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
      const auto actual = FromSockaddr(reinterpret_cast<const sockaddr*>(&bound), bound_length);
      listening.push_back(FormatNetAddress(actual.value_or(address)));
      listeners.push_back(fd);
      m_log.Info("Listening for peers on %s", listening.back().c_str());
    }
  }

  const int64_t now = UnixNow();
  if (!m_options.peers_file.empty()) {
    const AddressBookLoad load = m_book.Load(m_options.peers_file);
    if (load.status == AddressBookLoad::Status::kCorrupt) {
      std::filesystem::path aside = m_options.peers_file;
      aside += ".corrupt";
      std::error_code ignored;
      std::filesystem::rename(m_options.peers_file, aside, ignored);
      m_log.Warning("Address book unusable (%s); moved to %s, starting with an empty one",
                    load.error.c_str(), aside.string().c_str());
    } else if (load.status == AddressBookLoad::Status::kOk) {
      m_log.Info("Loaded %zu peer addresses from %s", m_book.Size(),
                 m_options.peers_file.string().c_str());
    }
  }
  if (!m_options.bans_file.empty()) {
    const BanListLoad load = m_bans.Load(m_options.bans_file, now);
    if (load.status == BanListLoad::Status::kCorrupt) {
      std::filesystem::path aside = m_options.bans_file;
      aside += ".corrupt";
      std::error_code ignored;
      std::filesystem::rename(m_options.bans_file, aside, ignored);
      m_log.Warning("Ban list unusable (%s); moved to %s, starting with an empty one",
                    load.error.c_str(), aside.string().c_str());
    } else if (load.status == BanListLoad::Status::kOk) {
      m_log.Info("Loaded %zu bans from %s", m_bans.Size(), m_options.bans_file.string().c_str());
    }
  }

  {
    std::lock_guard lock(m_mutex);
    m_listening = std::move(listening);
    const SteadyTime start = std::chrono::steady_clock::now();
    auto add = [&](const std::vector<HostAndPort>& hosts, OutboundKind kind) {
      for (const HostAndPort& host : hosts) {
        Target target;
        target.host = host;
        target.kind = kind;
        target.next_attempt = start;
        m_targets.emplace(m_next_target++, std::move(target));
      }
    };
    add(m_connect, OutboundKind::kConnect);
    add(m_add_nodes, OutboundKind::kAddNode);
    add(m_seed_nodes, OutboundKind::kSeed);
    m_next_automatic = start;
  }
  m_listeners = std::move(listeners);
  m_handler = &handler;
  m_started = true;
  m_socket_thread = std::thread([this] { SocketThread(); });
  m_message_thread = std::thread([this] { MessageThread(); });
}

void ConnectionManager::Stop() {
  std::lock_guard lifecycle(m_lifecycle_mutex);
  if (!m_started || m_stopped) return;
  m_stopped = true;
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  Wake();
  m_socket_thread.join();
  {
    std::lock_guard lock(m_mutex);
    m_message_stop = true;
  }
  m_message_cv.notify_all();
  m_message_thread.join();

  const int64_t now = UnixNow();
  if (!m_options.peers_file.empty()) {
    if (auto error = m_book.Save(m_options.peers_file)) {
      m_log.Error("Cannot save the address book: %s", error->c_str());
    }
  }
  if (!m_options.bans_file.empty()) {
    if (auto error = m_bans.Save(m_options.bans_file, now)) {
      m_log.Error("Cannot save the ban list: %s", error->c_str());
    }
  }
  m_log.Info("Peer connections closed");
}

void ConnectionManager::Post(std::function<void()> task) {
  {
    std::lock_guard lock(m_mutex);
    if (m_message_stop) return;
    m_tasks.push_back(std::move(task));
  }
  m_message_cv.notify_all();
}

// ---- Socket thread ----

void ConnectionManager::SocketThread() {
  SetLogThreadName("net");
  std::vector<pollfd> fds;
  std::vector<std::shared_ptr<Connection>> polled;
  std::vector<uint8_t> buffer(64u << 10);
  std::vector<std::pair<uint64_t, HostAndPort>> names;  // targets whose host name is due
  for (;;) {
    fds.clear();
    polled.clear();
    fds.push_back({m_wake_fd, POLLIN, 0});
    for (int listener : m_listeners) fds.push_back({listener, POLLIN, 0});
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping) break;
      const SteadyTime now = std::chrono::steady_clock::now();
      for (auto& [id, connection] : m_connections) {
        if (connection->closed) continue;
        if (connection->closing) {
          CloseLocked(*connection);
          continue;
        }
        if (connection->connecting && now >= connection->connect_deadline) {
          connection->close_reason = "connect timed out";
          CloseLocked(*connection);
          continue;
        }
        short events = 0;
        if (connection->connecting) {
          events = POLLOUT;
        } else {
          if (connection->received_bytes < m_options.max_receive_queue_bytes) events |= POLLIN;
          if (connection->send_bytes > 0) events |= POLLOUT;
        }
        fds.push_back({connection->fd, events, 0});
        polled.push_back(connection);
      }
      MaintainOutboundLocked(now, names);
    }
    if (!names.empty()) {
      // Host names are resolved without the lock (the resolver may take a while).
      std::vector<std::vector<NetAddress>> resolved;
      resolved.reserve(names.size());
      for (const auto& [key, host] : names) resolved.push_back(Resolve(host));
      std::lock_guard lock(m_mutex);
      for (std::size_t i = 0; i < names.size(); ++i) {
        ConnectTargetLocked(names[i].first, resolved[i], std::chrono::steady_clock::now());
      }
      names.clear();
    }
    const int ready = ::poll(fds.data(), fds.size(), kPollMillis);
    if (ready < 0) {
      if (errno != EINTR) m_log.Error("poll failed: %s", ErrnoString(errno).c_str());
      continue;
    }
    if (ready == 0) continue;
    if ((fds[0].revents & POLLIN) != 0) {
      uint64_t count = 0;
      [[maybe_unused]] const ssize_t drained = ::read(m_wake_fd, &count, sizeof(count));
    }
    for (std::size_t i = 0; i < m_listeners.size(); ++i) {
      if ((fds[1 + i].revents & POLLIN) != 0) {
        std::lock_guard lock(m_mutex);
        AcceptLocked(m_listeners[i]);
      }
    }
    const std::size_t first = 1 + m_listeners.size();
    for (std::size_t i = 0; i < polled.size(); ++i) {
      const short revents = fds[first + i].revents;
      if (revents == 0) continue;
      Connection& connection = *polled[i];
      std::unique_lock lock(m_mutex);
      if (connection.closed || connection.closing) continue;
      if (connection.connecting) {
        int error = 0;
        socklen_t length = sizeof(error);
        if (::getsockopt(connection.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        if (error == 0 && (revents & POLLOUT) != 0) {
          ConnectedLocked(connection);
        } else if (error != 0 || (revents & (POLLERR | POLLHUP)) != 0) {
          connection.close_reason =
              "connect failed: " + ErrnoString(error != 0 ? error : ECONNREFUSED);
          CloseLocked(connection);
        }
        continue;
      }
      if ((revents & POLLOUT) != 0) WriteLocked(connection);
      if (connection.closed || connection.closing) continue;
      const bool can_read = (revents & POLLIN) != 0 ||
                            ((revents & (POLLHUP | POLLERR)) != 0 &&
                             connection.received_bytes < m_options.max_receive_queue_bytes);
      if (!can_read) {
        if ((revents & (POLLHUP | POLLERR)) != 0) {
          connection.close_reason = "connection closed by the peer";
          CloseLocked(connection);
        }
        continue;
      }
      std::size_t total = 0;
      while (total < kReadPerRound && !connection.closed && !connection.closing &&
             connection.received_bytes < m_options.max_receive_queue_bytes) {
        const int fd = connection.fd;
        lock.unlock();
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        const int error = errno;
        lock.lock();
        if (connection.closed || connection.closing) break;
        if (n > 0) {
          total += static_cast<std::size_t>(n);
          ReceivedLocked(connection, buffer.data(), static_cast<std::size_t>(n));
          continue;
        }
        if (n == 0) {
          connection.close_reason = "connection closed by the peer";
          CloseLocked(connection);
        } else if (error == EINTR) {
          continue;
        } else if (error != EAGAIN && error != EWOULDBLOCK) {
          connection.close_reason = "receive failed: " + ErrnoString(error);
          CloseLocked(connection);
        }
        break;
      }
    }
  }

  // Shutting down: close every socket; the message thread reports the peers gone.
  std::lock_guard lock(m_mutex);
  for (auto& [id, connection] : m_connections) {
    if (connection->closed) continue;
    if (!connection->closing) connection->close_reason = "shutting down";
    CloseLocked(*connection);
  }
  for (int listener : m_listeners) ::close(listener);
  m_listeners.clear();
  m_listening.clear();
}

void ConnectionManager::ConnectTargetLocked(uint64_t key, const std::vector<NetAddress>& addresses,
                                            SteadyTime now) {
  const auto it = m_targets.find(key);
  if (it == m_targets.end()) return;
  Target& target = it->second;
  if (target.finished || target.connection != 0) return;
  const int64_t unix_now = UnixNow();
  std::vector<NetAddress> usable;
  for (const NetAddress& address : addresses) {
    if (!m_bans.IsBanned(address.ip, unix_now)) usable.push_back(address);
  }
  if (usable.empty()) {
    m_log.Info("Cannot connect to %s: %s", FormatHost(target.host).c_str(),
               addresses.empty() ? "the name does not resolve" : "the address is banned");
    target.next_attempt = now + target.delay;
    target.delay = std::min(target.delay * 2, std::chrono::seconds{kMaxRetryDelay});
    if (target.kind == OutboundKind::kOneTry) target.finished = true;
    return;
  }
  // A name with several addresses: each attempt takes the next one.
  StartConnectLocked(usable[target.attempts++ % usable.size()], target.kind, key);
}

void ConnectionManager::MaintainOutboundLocked(
    SteadyTime now, std::vector<std::pair<uint64_t, HostAndPort>>& names) {
  std::vector<uint64_t> finished;
  std::vector<uint64_t> due;
  for (auto& [key, target] : m_targets) {
    if (target.finished) {
      if (target.connection == 0) finished.push_back(key);
      continue;
    }
    if (target.connection != 0 || now < target.next_attempt) continue;
    if (ParseIp(target.host.host)) {
      due.push_back(key);
    } else {
      names.emplace_back(key, target.host);
    }
  }
  for (uint64_t key : finished) m_targets.erase(key);
  for (uint64_t key : due) ConnectTargetLocked(key, Resolve(m_targets.at(key).host), now);

  if (!m_connect.empty() || m_options.max_outbound <= 0 || now < m_next_automatic) return;
  m_next_automatic = now + kAutomaticInterval;
  std::size_t automatic = 0;
  std::size_t total = 0;
  for (const auto& [id, connection] : m_connections) {
    if (connection->closed) continue;
    ++total;
    if (!connection->inbound && connection->kind == OutboundKind::kAutomatic) ++automatic;
  }
  if (automatic >= static_cast<std::size_t>(m_options.max_outbound) ||
      total >= static_cast<std::size_t>(std::max(m_options.max_connections, 0))) {
    return;
  }
  const int64_t unix_now = UnixNow();
  const auto address = m_book.Select(unix_now, m_rng);
  if (!address || m_bans.IsBanned(address->ip, unix_now)) return;
  for (const auto& [id, connection] : m_connections) {
    if (!connection->closed && SameEndpoint(connection->address, *address)) return;
  }
  m_book.Attempt(*address, unix_now);
  StartConnectLocked(*address, OutboundKind::kAutomatic, 0);
}

void ConnectionManager::StartConnectLocked(const NetAddress& address, OutboundKind kind,
                                           uint64_t target) {
  auto connection = std::make_shared<Connection>(m_options.magic);
  connection->id = m_next_id++;
  connection->address = address;
  connection->address_text = FormatNetAddress(address);
  connection->kind = kind;
  connection->target = target;
  connection->connected_time = UnixNow();
  if (target != 0) m_targets.at(target).connection = connection->id;
  m_connections.emplace(connection->id, connection);
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Connecting to %s (peer=%lld)",
                     connection->address_text.c_str(), static_cast<long long>(connection->id));

  sockaddr_storage storage{};
  const socklen_t length = ToSockaddr(address, storage);
  connection->fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (connection->fd < 0) {
    connection->close_reason = "cannot create a socket: " + ErrnoString(errno);
    CloseLocked(*connection);
    return;
  }
  const int on = 1;
  ::setsockopt(connection->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  int result = 0;
  do {
    result = ::connect(connection->fd, reinterpret_cast<const sockaddr*>(&storage), length);
  } while (result != 0 && errno == EINTR);
  if (result == 0) {
    ConnectedLocked(*connection);
  } else if (errno == EINPROGRESS) {
    connection->connecting = true;
    connection->connect_deadline = std::chrono::steady_clock::now() + m_options.connect_timeout;
  } else {
    connection->close_reason = "connect failed: " + ErrnoString(errno);
    connection->connecting = true;  // so that CloseLocked counts it as a failed attempt
    CloseLocked(*connection);
  }
}

void ConnectionManager::MakeSessionLocked(Connection& connection) {
  const bool inbound = connection.inbound;
  const NetAddress& peer = connection.address;
  VersionMessage version;
  version.services = m_options.services;
  version.time = UnixNow();
  version.receiver = peer;
  version.sender.services = m_options.services;
  version.nonce = m_rng();
  version.user_agent = m_options.user_agent;
  version.best_height = m_options.best_height ? m_options.best_height() : 0;
  if (!inbound) {
    m_own_nonces.insert(version.nonce);
    connection.own_nonce = version.nonce;
  }
  // The callbacks run with m_mutex held (RoundLocked, PingAll).
  connection.session = std::make_unique<PeerSession>(
      inbound ? PeerSession::Direction::kInbound : PeerSession::Direction::kOutbound, version,
      [this](uint64_t nonce) { return m_own_nonces.contains(nonce); },
      [this] { return static_cast<uint64_t>(m_rng()); }, SteadyMicros());
}

void ConnectionManager::ConnectedLocked(Connection& connection) {
  connection.connecting = false;
  connection.connected_time = UnixNow();
  MakeSessionLocked(connection);
  FlushSessionLocked(connection);
  m_log.Info("Connected to %s (peer=%lld, outbound)", connection.address_text.c_str(),
             static_cast<long long>(connection.id));
}

void ConnectionManager::AcceptLocked(int listener) {
  for (int i = 0; i < kAcceptsPerRound; ++i) {
    sockaddr_storage storage{};
    socklen_t length = sizeof(storage);
    const int fd = ::accept4(listener, reinterpret_cast<sockaddr*>(&storage), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        m_log.Warning("accept failed: %s", ErrnoString(errno).c_str());
      }
      return;
    }
    const auto address = FromSockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
    if (!address) {
      ::close(fd);
      continue;
    }
    const std::string text = FormatNetAddress(*address);
    if (m_bans.IsBanned(address->ip, UnixNow())) {
      MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Refused inbound connection from banned %s",
                         text.c_str());
      ::close(fd);
      continue;
    }
    const int max_total = std::max(m_options.max_connections, 0);
    const int max_inbound = std::max(max_total - std::max(m_options.max_outbound, 0), 0);
    const std::size_t inbound = CountLocked(true);
    std::size_t total = 0;
    for (const auto& [id, connection] : m_connections) total += connection->closed ? 0 : 1;
    if (inbound >= static_cast<std::size_t>(max_inbound) ||
        total >= static_cast<std::size_t>(max_total)) {
      MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet,
                         "Refused inbound connection from %s: connection limit reached",
                         text.c_str());
      ::close(fd);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    auto connection = std::make_shared<Connection>(m_options.magic);
    connection->id = m_next_id++;
    connection->fd = fd;
    connection->address = *address;
    connection->address_text = text;
    connection->inbound = true;
    connection->connected_time = UnixNow();
    MakeSessionLocked(*connection);
    m_connections.emplace(connection->id, connection);
    m_log.Info("Accepted a connection from %s (peer=%lld, inbound)", text.c_str(),
               static_cast<long long>(connection->id));
  }
}

void ConnectionManager::ReceivedLocked(Connection& connection, const uint8_t* data,
                                       std::size_t size) {
  connection.bytes_received += size;
  connection.last_receive = UnixNow();
  m_total_received += size;
  std::span<const uint8_t> bytes(data, size);
  bool queued = false;
  while (!bytes.empty() && !connection.reader.error()) {
    const std::size_t used = connection.reader.Feed(bytes);
    bytes = bytes.subspan(used);
    auto raw = connection.reader.Take();
    if (!raw) {
      if (used == 0) break;
      continue;
    }
    DecodedMessage decoded = DecodeMessage(raw->command, raw->payload);
    switch (decoded.status) {
      case DecodedMessage::Status::kOk: {
        const std::size_t wire_size = kMessageHeaderSize + raw->payload.size();
        MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Received %s (%zu bytes) from peer=%lld",
                           raw->command.c_str(), raw->payload.size(),
                           static_cast<long long>(connection.id));
        connection.received.emplace_back(std::move(*decoded.message), wire_size);
        connection.received_bytes += wire_size;
        queued = true;
        break;
      }
      case DecodedMessage::Status::kUnknownCommand:
        MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Ignored unknown command '%s' from peer=%lld",
                           raw->command.c_str(), static_cast<long long>(connection.id));
        break;
      case DecodedMessage::Status::kMalformed:
        RequestCloseLocked(connection, "malformed message: " + decoded.error, true);
        return;
    }
  }
  if (connection.reader.error()) {
    RequestCloseLocked(connection, "framing error: " + connection.reader.error()->text, true);
    return;
  }
  if (queued) {
    m_message_work = true;
    m_message_cv.notify_all();
  }
}

void ConnectionManager::WriteLocked(Connection& connection) {
  while (!connection.send_queue.empty()) {
    const std::vector<uint8_t>& front = connection.send_queue.front();
    const ssize_t n = ::send(connection.fd, front.data() + connection.send_offset,
                             front.size() - connection.send_offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      connection.close_reason = "send failed: " + ErrnoString(errno);
      CloseLocked(connection);
      return;
    }
    const auto written = static_cast<std::size_t>(n);
    connection.send_offset += written;
    connection.send_bytes -= written;
    connection.bytes_sent += written;
    m_total_sent += written;
    connection.last_send = UnixNow();
    if (connection.send_offset == front.size()) {
      connection.send_queue.pop_front();
      connection.send_offset = 0;
    }
  }
  if (connection.send_paused && connection.send_bytes < kSendQueuePauseBytes) {
    connection.send_paused = false;
    connection.send_space_event = true;
    m_message_work = true;
    m_message_cv.notify_all();
  }
}

void ConnectionManager::CloseLocked(Connection& connection) {
  if (connection.closed) return;
  if (connection.fd >= 0) ::close(connection.fd);
  connection.fd = -1;
  connection.closed = true;
  const std::string& reason =
      connection.close_reason.empty() ? std::string("closed") : connection.close_reason;
  const auto peer = static_cast<long long>(connection.id);
  if (connection.connecting) {
    // Never established.
    if (connection.kind == OutboundKind::kAutomatic) {
      m_book.Failed(connection.address, UnixNow());
      MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Connection to %s failed: %s",
                         connection.address_text.c_str(), reason.c_str());
    } else {
      m_log.Info("Connection to %s failed: %s", connection.address_text.c_str(), reason.c_str());
    }
  } else {
    m_log.Info("Disconnected peer=%lld (%s): %s", peer, connection.address_text.c_str(),
               reason.c_str());
  }
  connection.received.clear();
  connection.received_bytes = 0;
  connection.send_queue.clear();
  connection.send_bytes = 0;
  if (connection.target != 0) {
    const auto it = m_targets.find(connection.target);
    if (it != m_targets.end() && it->second.connection == connection.id) {
      Target& target = it->second;
      target.connection = 0;
      if (target.kind == OutboundKind::kOneTry) target.finished = true;
      target.next_attempt = std::chrono::steady_clock::now() + target.delay;
      target.delay = std::min(target.delay * 2, std::chrono::seconds{kMaxRetryDelay});
    }
  }
  m_message_work = true;
  m_message_cv.notify_all();
}

// ---- Either thread ----

void ConnectionManager::RequestCloseLocked(Connection& connection, const std::string& reason,
                                           bool ban) {
  if (connection.closing || connection.closed) return;
  connection.closing = true;
  connection.close_reason = reason;
  if (ban) BanLocked(connection.address.ip, reason);
  Wake();
}

void ConnectionManager::BanLocked(const IpAddress& ip, const std::string& reason) {
  const int64_t now = UnixNow();
  m_bans.Ban(ip, now, now + m_options.ban_time.count(), reason);
  m_log.Info("Banned %s for %lld s: %s", FormatIp(ip).c_str(),
             static_cast<long long>(m_options.ban_time.count()), reason.c_str());
  // Every other connection with the address goes too.
  for (auto& [id, connection] : m_connections) {
    if (connection->address.ip == ip) {
      RequestCloseLocked(*connection, "address banned: " + reason, false);
    }
  }
}

void ConnectionManager::FlushSessionLocked(Connection& connection) {
  if (!connection.session) return;
  for (const Message& message : connection.session->TakeOutgoing()) {
    if (std::holds_alternative<PingMessage>(message)) connection.ping_sent = SteadyMicros();
    QueueLocked(connection, message);
  }
}

void ConnectionManager::QueueLocked(Connection& connection, const Message& message) {
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Sending %s to peer=%lld",
                     std::string(CommandOf(message)).c_str(),
                     static_cast<long long>(connection.id));
  QueueBytesLocked(connection, FrameMessage(m_options.magic, message));
}

void ConnectionManager::QueueBytesLocked(Connection& connection, std::vector<uint8_t> bytes) {
  if (connection.closing || connection.closed) return;
  if (connection.send_bytes + bytes.size() > m_options.max_send_queue_bytes) {
    RequestCloseLocked(connection,
                       "send queue over its limit (" + std::to_string(connection.send_bytes) +
                           " bytes queued, the peer is not reading)",
                       false);
    return;
  }
  const bool was_empty = connection.send_bytes == 0;
  connection.send_bytes += bytes.size();
  connection.send_queue.push_back(std::move(bytes));
  if (connection.send_bytes >= kSendQueuePauseBytes) connection.send_paused = true;
  if (was_empty) Wake();
}

std::size_t ConnectionManager::CountLocked(bool inbound) const {
  std::size_t count = 0;
  for (const auto& [id, connection] : m_connections) {
    if (!connection->closed && !connection->connecting && connection->inbound == inbound) ++count;
  }
  return count;
}

// ---- Message thread ----

void ConnectionManager::MessageThread() {
  SetLogThreadName("msghand");
  std::vector<Event> events;
  microseconds last_tick = SteadyMicros();
  for (;;) {
    std::deque<std::function<void()>> tasks;
    bool more = false;
    {
      std::unique_lock lock(m_mutex);
      m_message_cv.wait_for(lock, kTickInterval,
                            [&] { return m_message_stop || m_message_work || !m_tasks.empty(); });
      if (m_message_stop) break;
      m_message_work = false;
      tasks.swap(m_tasks);
    }
    for (auto& task : tasks) task();
    {
      std::lock_guard lock(m_mutex);
      RoundLocked(events, more);
      if (more) m_message_work = true;
    }
    const microseconds now = SteadyMicros();
    for (Event& event : events) {
      switch (event.kind) {
        case Event::Kind::kConnected:
          m_handler->PeerConnected(event.peer, *event.info, now);
          break;
        case Event::Kind::kMessage:
          m_handler->ProcessMessage(event.peer, std::move(*event.message), now);
          break;
        case Event::Kind::kSpaceAvailable:
          m_handler->SendSpaceAvailable(event.peer, now);
          break;
        case Event::Kind::kDisconnected:
          m_handler->PeerDisconnected(event.peer);
          break;
      }
    }
    events.clear();
    // Once the queued input is drained (so that the logic sees, for example, every block that has
    // arrived in one batch), or when a tick is due even though input keeps coming.
    const microseconds tick_now = SteadyMicros();
    if (!more || tick_now - last_tick >= kTickInterval) {
      last_tick = tick_now;
      m_handler->OnTick(tick_now);
    }
  }
  // The socket thread has closed every connection: report the connected peers gone.
  std::vector<PeerId> gone;
  {
    std::lock_guard lock(m_mutex);
    for (const auto& [id, connection] : m_connections) {
      if (connection->announced) gone.push_back(id);
    }
    m_connections.clear();
    m_tasks.clear();
  }
  for (PeerId peer : gone) m_handler->PeerDisconnected(peer);
}

void ConnectionManager::RoundLocked(std::vector<Event>& events, bool& more) {
  const microseconds now = SteadyMicros();
  for (auto it = m_connections.begin(); it != m_connections.end();) {
    Connection& connection = *it->second;
    if (connection.closed) {
      if (connection.announced) {
        events.push_back({Event::Kind::kDisconnected, connection.id, std::nullopt, std::nullopt});
      }
      if (!connection.inbound && connection.session) {
        m_own_nonces.erase(connection.own_nonce);
      }
      it = m_connections.erase(it);
      continue;
    }
    ++it;
    if (connection.closing || connection.connecting || !connection.session) continue;
    PeerSession& session = *connection.session;
    std::optional<Message> delivered;
    if (!connection.received.empty()) {
      auto [message, size] = std::move(connection.received.front());
      connection.received.pop_front();
      const bool was_full = connection.received_bytes >= m_options.max_receive_queue_bytes;
      connection.received_bytes -= size;
      if (was_full && connection.received_bytes < m_options.max_receive_queue_bytes) Wake();
      delivered = session.OnMessage(std::move(message), now);
    }
    session.OnTick(now);
    FlushSessionLocked(connection);
    if (const auto& decision = session.Disconnect()) {
      RequestCloseLocked(connection, decision->message, decision->misbehaving);
      continue;
    }
    if (session.HandshakeComplete() && !connection.announced) {
      connection.announced = true;
      const bool manual = !connection.inbound && (connection.kind == OutboundKind::kConnect ||
                                                  connection.kind == OutboundKind::kAddNode ||
                                                  connection.kind == OutboundKind::kOneTry);
      PeerConnected info{connection.address_text, connection.inbound, manual,
                         *session.PeerVersion()};
      m_log.Info("Peer=%lld (%s) ready: version %u, %s, height %u",
                 static_cast<long long>(connection.id), connection.address_text.c_str(),
                 info.version.version, info.version.user_agent.c_str(), info.version.best_height);
      events.push_back({Event::Kind::kConnected, connection.id, std::move(info), std::nullopt});
      if (!connection.inbound) {
        const int64_t unix_now = UnixNow();
        m_book.Add(std::vector<AddrEntry>{{static_cast<uint32_t>(unix_now), connection.address}},
                   connection.address, unix_now);
        m_book.Good(connection.address, unix_now);
        QueueLocked(connection, GetAddrMessage{});
        if (connection.target != 0) {
          const auto target = m_targets.find(connection.target);
          if (target != m_targets.end()) target->second.delay = kFirstRetryDelay;
        }
      }
    }
    if (delivered) HandleDeliveredLocked(connection, std::move(*delivered), events);
    if (connection.send_space_event) {
      connection.send_space_event = false;
      if (connection.announced) {
        events.push_back({Event::Kind::kSpaceAvailable, connection.id, std::nullopt, std::nullopt});
      }
    }
    if (!connection.received.empty()) more = true;
  }
}

void ConnectionManager::HandleDeliveredLocked(Connection& connection, Message message,
                                              std::vector<Event>& events) {
  const auto peer = static_cast<long long>(connection.id);
  if (std::holds_alternative<GetAddrMessage>(message)) {
    if (!connection.inbound || connection.getaddr_answered) {
      MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Ignored getaddr from peer=%lld", peer);
      return;
    }
    connection.getaddr_answered = true;
    AddrMessage answer;
    answer.entries = m_book.GetAddresses(kGetAddrAnswerSize, UnixNow(), m_rng);
    QueueLocked(connection, answer);
    return;
  }
  if (auto* addr = std::get_if<AddrMessage>(&message)) {
    const int64_t now = UnixNow();
    if (now - connection.addr_window_start >= 60) {
      connection.addr_window_start = now;
      connection.addr_messages = 0;
    }
    if (++connection.addr_messages > kMaxAddrMessagesPerMinute) {
      MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet,
                         "Ignored addr from peer=%lld: over %d addr messages a minute", peer,
                         kMaxAddrMessagesPerMinute);
      return;
    }
    const std::size_t added = m_book.Add(addr->entries, connection.address, now);
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Received %zu addresses from peer=%lld, %zu new",
                       addr->entries.size(), peer, added);
    if (connection.kind == OutboundKind::kSeed && !connection.inbound) {
      const auto target = m_targets.find(connection.target);
      if (target != m_targets.end()) target->second.finished = true;
      RequestCloseLocked(connection, "seed node answered", false);
    }
    return;
  }
  events.push_back({Event::Kind::kMessage, connection.id, std::nullopt, std::move(message)});
}

// ---- PeerSink ----

void ConnectionManager::Send(PeerId peer, const Message& message) {
  std::vector<uint8_t> bytes;
  try {
    bytes = FrameMessage(m_options.magic, message);
  } catch (const std::invalid_argument& error) {
    m_log.Error("Not sending %s to peer=%lld: %s", std::string(CommandOf(message)).c_str(),
                static_cast<long long>(peer), error.what());
    return;
  }
  std::lock_guard lock(m_mutex);
  const auto it = m_connections.find(peer);
  if (it == m_connections.end() || it->second->connecting) return;
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kNet, "Sending %s to peer=%lld",
                     std::string(CommandOf(message)).c_str(), static_cast<long long>(peer));
  QueueBytesLocked(*it->second, std::move(bytes));
}

void ConnectionManager::Disconnect(PeerId peer, const std::string& reason) {
  std::lock_guard lock(m_mutex);
  const auto it = m_connections.find(peer);
  if (it != m_connections.end()) RequestCloseLocked(*it->second, reason, false);
}

void ConnectionManager::Misbehaving(PeerId peer, const std::string& reason) {
  std::lock_guard lock(m_mutex);
  const auto it = m_connections.find(peer);
  if (it != m_connections.end()) RequestCloseLocked(*it->second, reason, true);
}

std::size_t ConnectionManager::QueuedSendBytes(PeerId peer) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_connections.find(peer);
  return it == m_connections.end() ? 0 : it->second->send_bytes;
}

// ---- RPC ----

std::string ConnectionManager::AddNode(const std::string& address, const std::string& command) {
  const auto host = SplitHostPort(address, m_options.default_port);
  if (!host) return "cannot parse address '" + address + "'";
  std::lock_guard lock(m_mutex);
  if (command == "add" || command == "onetry") {
    const OutboundKind kind = command == "add" ? OutboundKind::kAddNode : OutboundKind::kOneTry;
    if (kind == OutboundKind::kAddNode) {
      for (const auto& [key, target] : m_targets) {
        if (target.kind == OutboundKind::kAddNode && !target.finished && target.host == *host) {
          return "node " + FormatHost(*host) + " already added";
        }
      }
    }
    Target target;
    target.host = *host;
    target.kind = kind;
    target.next_attempt = std::chrono::steady_clock::now();
    m_targets.emplace(m_next_target++, std::move(target));
    Wake();
    return "";
  }
  if (command == "remove") {
    for (auto it = m_targets.begin(); it != m_targets.end(); ++it) {
      if (it->second.kind == OutboundKind::kAddNode && !it->second.finished &&
          it->second.host == *host) {
        // An open connection stays; it is simply not re-dialled.
        it->second.finished = true;
        return "";
      }
    }
    return "node " + FormatHost(*host) + " has not been added";
  }
  return "unknown command '" + command + "' (expected add, remove or onetry)";
}

std::string ConnectionManager::DisconnectNode(const std::string& address, PeerId id) {
  std::lock_guard lock(m_mutex);
  if (!address.empty()) {
    const auto parsed = ParseNetAddress(address, m_options.default_port);
    if (!parsed) return "cannot parse address '" + address + "'";
    bool found = false;
    for (auto& [peer, connection] : m_connections) {
      if (connection->closed || connection->closing) continue;
      if (!SameEndpoint(connection->address, *parsed)) continue;
      RequestCloseLocked(*connection, "disconnected on request", false);
      found = true;
    }
    return found ? "" : "no connected peer at " + FormatNetAddress(*parsed);
  }
  const auto it = m_connections.find(id);
  if (it == m_connections.end() || it->second->closed || it->second->closing) {
    return "no connected peer with id " + std::to_string(id);
  }
  RequestCloseLocked(*it->second, "disconnected on request", false);
  return "";
}

std::string ConnectionManager::SetBan(const std::string& ip, const std::string& command,
                                      int64_t seconds, bool absolute) {
  const auto parsed = ParseIp(ip);
  if (!parsed) return "invalid IP address '" + ip + "'";
  const int64_t now = UnixNow();
  if (command == "add") {
    const int64_t until =
        absolute ? seconds : now + (seconds > 0 ? seconds : m_options.ban_time.count());
    if (until <= now) return "the ban would end before now";
    m_bans.Ban(*parsed, now, until, "banned by the operator");
    m_log.Info("Banned %s until %lld (operator)", FormatIp(*parsed).c_str(),
               static_cast<long long>(until));
    {
      std::lock_guard lock(m_mutex);
      for (auto& [peer, connection] : m_connections) {
        if (connection->address.ip == *parsed) {
          RequestCloseLocked(*connection, "banned by the operator", false);
        }
      }
    }
  } else if (command == "remove") {
    if (!m_bans.Unban(*parsed)) return FormatIp(*parsed) + " was not banned";
    m_log.Info("Unbanned %s", FormatIp(*parsed).c_str());
  } else {
    return "unknown command '" + command + "' (expected add or remove)";
  }
  if (!m_options.bans_file.empty()) {
    if (auto error = m_bans.Save(m_options.bans_file, now)) {
      m_log.Error("Cannot save the ban list: %s", error->c_str());
    }
  }
  return "";
}

std::vector<BanInfo> ConnectionManager::ListBanned() const { return m_bans.List(UnixNow()); }

void ConnectionManager::ClearBanned() {
  m_bans.Clear();
  m_log.Info("Cleared the ban list");
  if (!m_options.bans_file.empty()) {
    if (auto error = m_bans.Save(m_options.bans_file, UnixNow())) {
      m_log.Error("Cannot save the ban list: %s", error->c_str());
    }
  }
}

void ConnectionManager::PingAll() {
  std::lock_guard lock(m_mutex);
  const microseconds now = SteadyMicros();
  for (auto& [peer, connection] : m_connections) {
    if (connection->closed || connection->closing || !connection->session) continue;
    if (connection->session->PingNow(now)) FlushSessionLocked(*connection);
  }
}

std::vector<ConnectionStats> ConnectionManager::GetStats() const {
  std::lock_guard lock(m_mutex);
  const microseconds now = SteadyMicros();
  std::vector<ConnectionStats> result;
  for (const auto& [peer, connection] : m_connections) {
    if (connection->closed || connection->connecting || !connection->session) continue;
    const PeerSession& session = *connection->session;
    ConnectionStats stats;
    stats.id = connection->id;
    stats.address = connection->address_text;
    stats.inbound = connection->inbound;
    stats.manual = !connection->inbound && (connection->kind == OutboundKind::kConnect ||
                                            connection->kind == OutboundKind::kAddNode ||
                                            connection->kind == OutboundKind::kOneTry);
    stats.handshake_complete = session.HandshakeComplete();
    stats.connected_time = connection->connected_time;
    stats.last_send = connection->last_send;
    stats.last_receive = connection->last_receive;
    stats.bytes_sent = connection->bytes_sent;
    stats.bytes_received = connection->bytes_received;
    if (auto latency = session.LastPingLatency()) stats.ping_micros = latency->count();
    if (auto latency = session.MinPingLatency()) stats.min_ping_micros = latency->count();
    if (session.OutstandingPingNonce()) {
      stats.ping_wait_micros = std::max<int64_t>((now - connection->ping_sent).count(), 0);
    }
    if (const auto& version = session.PeerVersion()) {
      stats.version = version->version;
      stats.services = version->services;
      stats.user_agent = version->user_agent;
      stats.starting_height = version->best_height;
    }
    result.push_back(std::move(stats));
  }
  return result;
}

std::vector<std::string> ConnectionManager::ListeningAddresses() const {
  std::lock_guard lock(m_mutex);
  return m_listening;
}

std::size_t ConnectionManager::InboundCount() const {
  std::lock_guard lock(m_mutex);
  return CountLocked(true);
}

std::size_t ConnectionManager::OutboundCount() const {
  std::lock_guard lock(m_mutex);
  return CountLocked(false);
}

}  // namespace minicoin::net
