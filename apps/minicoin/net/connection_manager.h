// ConnectionManager: minicoin's peer connections: listening sockets, outbound connections (from
// the address book, -connect, -addnode, -seednode), the handshake of each connection, address
// exchange, bans, and the threads that move bytes and hand messages to the peer logic.
#pragma once

#include "common/logging.h"
#include "net/address_book.h"
#include "net/ban_list.h"
#include "net/net_address.h"
#include "net/peer_handler.h"
#include "net/protocol.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace minicoin::net {

// addr messages a peer may send per minute; the excess is ignored.
inline constexpr int kMaxAddrMessagesPerMinute = 10;
// Addresses sent in answer to a getaddr.
inline constexpr std::size_t kGetAddrAnswerSize = 1'000;
// Manual connections are retried after a failure or loss, waiting this long at first and twice
// as long after each further failure, up to kMaxRetryDelay.
inline constexpr std::chrono::seconds kFirstRetryDelay{1};
inline constexpr std::chrono::seconds kMaxRetryDelay{60};

// How the manager is set up; every field maps to a node option (docs/network.md). Value type.
struct ConnectionManagerOptions {
  // The chain's (ChainParams::magic).
  Magic magic{};
  // The chain's peer port, for addresses given without one.
  uint16_t default_port = 0;
  // -listen.
  bool listen = true;
  // -bind: "ip", "ip:port", "[ipv6]:port"; empty: 0.0.0.0 and :: on `port`.
  std::vector<std::string> binds;
  // -port; 0: default_port.
  uint16_t port = 0;
  // -connect: connect only to these (no automatic outbound connections).
  std::vector<std::string> connect;
  // -addnode: keep connected (re-dialled after a loss, with backoff).
  std::vector<std::string> add_nodes;
  // -seednode: connect, getaddr, disconnect after the addr answer.
  std::vector<std::string> seed_nodes;
  // -maxconnections: inbound and outbound together.
  int max_connections = 125;
  // Automatic outbound connections to addresses from the address book.
  int max_outbound = 8;
  // The address book file (empty: memory only).
  std::filesystem::path peers_file;
  // The ban list file (empty: memory only).
  std::filesystem::path bans_file;
  // -bantime.
  std::chrono::seconds ban_time{24 * 3600};
  // The address book accepts loopback and private addresses (regtest, local tests).
  bool allow_local = false;
  uint64_t services = kServiceNetwork;
  std::string user_agent = "/minicoin:0.1/";
  // For our version messages; called from the manager's threads, must not call the manager.
  std::function<uint32_t()> best_height;
  // Stop reading a socket while this much of its input awaits processing.
  std::size_t max_receive_queue_bytes = 5u << 20;
  // Disconnect a peer whose send queue passes this.
  std::size_t max_send_queue_bytes = 64u << 20;
  std::chrono::milliseconds connect_timeout{5000};
};

// One connection as RPC shows it. Value type.
struct ConnectionStats {
  PeerId id = 0;
  std::string address;  // "ip:port" ("[ip]:port" for IPv6)
  bool inbound = false;
  bool manual = false;  // an outbound connection to a -connect / -addnode / addnode target
  bool handshake_complete = false;
  int64_t connected_time = 0;  // unix seconds
  int64_t last_send = 0;       // unix seconds; 0: nothing sent yet
  int64_t last_receive = 0;    // unix seconds; 0: nothing received yet
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  int64_t ping_micros = -1;       // the latest round trip; -1: none yet
  int64_t min_ping_micros = -1;   // the smallest; -1: none yet
  int64_t ping_wait_micros = -1;  // how long the outstanding ping has waited; -1: none
  // From the peer's version message (zero / empty before it arrives).
  uint32_t version = 0;
  uint64_t services = 0;
  std::string user_agent;
  uint32_t starting_height = 0;
};

// Owns every peer connection of a node and the address book and ban list. Two threads of its
// own: the socket thread (non-blocking sockets, poll, accepts, connects, reads, writes, framing
// and decoding) and the message thread (each connection's PeerSession, addr/getaddr, and every
// PeerHandler call and posted task, in order). A peer breaking the framing, sending a malformed
// message or violating the handshake is disconnected and its IP address banned.
// Thread-safe: every public method may be called from any thread, except Stop (and the
// destructor), which must not be called from the message thread (a handler call or posted task).
//
//   ConnectionManager connman(options, log);
//   connman.Start(peer_logic);          // listeners bound, outbound connections begin
//   connman.Send(peer, InvMessage{...});
//   connman.Stop();                     // joins the threads, saves peers and bans
class ConnectionManager final : public PeerSink {
 public:
  // Throws std::runtime_error naming an address of `options` that cannot be parsed (or when the
  // system refuses an eventfd).
  ConnectionManager(ConnectionManagerOptions options, Logger& log);
  ~ConnectionManager() override;
  ConnectionManager(const ConnectionManager&) = delete;
  ConnectionManager& operator=(const ConnectionManager&) = delete;

  // Binds the listeners (throws std::runtime_error naming the address and the system's reason,
  // e.g. "cannot listen on 127.0.0.1:19444: Address already in use", having closed what it
  // opened), loads the address book and ban list (a corrupt file is logged, renamed to
  // <file>.corrupt, and the node starts with an empty one), starts the threads and the outbound
  // connections. `handler` must outlive Stop(). Throws std::logic_error when called twice.
  void Start(PeerHandler& handler);
  // Closes every connection and listener, joins the threads (PeerDisconnected is called for each
  // connected peer first), saves the address book and ban list. Idempotent. Tasks posted but not
  // yet run are dropped.
  void Stop();
  // Runs `task` on the message thread, in order with the handler calls. Dropped after Stop.
  void Post(std::function<void()> task);

  // PeerSink.
  void Send(PeerId peer, const Message& message) override;
  void Disconnect(PeerId peer, const std::string& reason) override;
  void Misbehaving(PeerId peer, const std::string& reason) override;
  std::size_t QueuedSendBytes(PeerId peer) const override;

  // For RPC. Each returns "" on success or a sentence saying why not.
  // "add": keep connected to `address` (retrying with backoff); "remove": stop doing so (an open
  // connection stays); "onetry": one connection attempt.
  std::string AddNode(const std::string& address, const std::string& command);
  // Disconnects the peers at `address` ("ip:port") when it is not empty, else peer `id`.
  std::string DisconnectNode(const std::string& address, PeerId id);
  // "add": bans the IP address `ip` for `seconds` (0: the ban time), or until the unix time
  // `seconds` when `absolute`, and disconnects its peers; "remove": lifts the ban.
  std::string SetBan(const std::string& ip, const std::string& command, int64_t seconds,
                     bool absolute);
  // The bans in force, by address; expired ones are dropped.
  std::vector<BanInfo> ListBanned() const;
  void ClearBanned();
  // Sends a ping to every connected peer that has none outstanding.
  void PingAll();
  // One entry per established connection, by id.
  std::vector<ConnectionStats> GetStats() const;
  uint64_t TotalBytesReceived() const { return m_total_received.load(); }
  uint64_t TotalBytesSent() const { return m_total_sent.load(); }
  // "ip:port" of each listening socket, as bound (the real port when 0 was asked).
  std::vector<std::string> ListeningAddresses() const;
  // Established connections (connects in progress are not counted).
  std::size_t InboundCount() const;
  std::size_t OutboundCount() const;
  std::size_t KnownAddresses() const { return m_book.Size(); }

 private:
  struct Connection;  // one socket and its queues and session; connection_manager.cpp
  struct Event;       // a handler call the message thread makes outside the lock
  // Where an outbound connection came from.
  enum class OutboundKind { kAutomatic, kConnect, kAddNode, kOneTry, kSeed };
  // A configured or added outbound target. Guarded by m_mutex.
  struct Target {
    HostAndPort host;
    OutboundKind kind = OutboundKind::kAddNode;
    PeerId connection = 0;  // its current connection (0: none)
    std::chrono::steady_clock::time_point next_attempt;
    std::chrono::seconds delay = kFirstRetryDelay;
    uint32_t attempts = 0;
    bool finished = false;  // a seed that answered, a onetry that was tried
  };

  void SocketThread();
  void MessageThread();
  void Wake() const;

  // Socket thread, m_mutex held.
  // Starts the outbound connections that are due: automatic ones and targets given by IP address;
  // targets given by host name are appended to `names` for the caller to resolve without the lock
  // and pass to ConnectTargetLocked.
  void MaintainOutboundLocked(std::chrono::steady_clock::time_point now,
                              std::vector<std::pair<uint64_t, HostAndPort>>& names);
  // Connects target `key` to the first of `addresses` that is not banned, or schedules a retry.
  void ConnectTargetLocked(uint64_t key, const std::vector<NetAddress>& addresses,
                           std::chrono::steady_clock::time_point now);
  void StartConnectLocked(const NetAddress& address, OutboundKind kind, uint64_t target);
  void ConnectedLocked(Connection& connection);
  void AcceptLocked(int listener);
  void ReceivedLocked(Connection& connection, const uint8_t* data, std::size_t size);
  void WriteLocked(Connection& connection);
  void CloseLocked(Connection& connection);

  // Either thread, m_mutex held.
  // Gives `connection` its PeerSession (an outbound one queues our version).
  void MakeSessionLocked(Connection& connection);
  void FlushSessionLocked(Connection& connection);
  void QueueLocked(Connection& connection, const Message& message);
  void QueueBytesLocked(Connection& connection, std::vector<uint8_t> bytes);
  void RequestCloseLocked(Connection& connection, const std::string& reason, bool ban);
  void BanLocked(const IpAddress& ip, const std::string& reason);
  // The message thread's round: one message per connection; the handler calls to make.
  void RoundLocked(std::vector<Event>& events, bool& more);
  void HandleDeliveredLocked(Connection& connection, Message message, std::vector<Event>& events);
  std::size_t CountLocked(bool inbound) const;

  const ConnectionManagerOptions m_options;
  Logger& m_log;
  uint16_t m_port = 0;  // -port or the default port
  std::vector<NetAddress> m_binds;
  std::vector<HostAndPort> m_connect, m_add_nodes, m_seed_nodes;

  AddressBook m_book;
  BanList m_bans;

  std::mutex m_lifecycle_mutex;      // serialises Start and Stop
  bool m_started = false;            // guarded by m_lifecycle_mutex
  bool m_stopped = false;            // guarded by m_lifecycle_mutex
  PeerHandler* m_handler = nullptr;  // set by Start, used by the message thread
  std::thread m_socket_thread;
  std::thread m_message_thread;
  int m_wake_fd = -1;  // eventfd that interrupts the socket thread's poll; set by the constructor
  std::vector<int> m_listeners;  // owned by the socket thread once it runs

  mutable std::mutex m_mutex;
  std::condition_variable m_message_cv;  // wakes the message thread; with m_mutex
  // Everything below is guarded by m_mutex. A connection is shared by the map and the thread
  // that is working on it; the socket thread closes its socket, the message thread erases it.
  std::map<PeerId, std::shared_ptr<Connection>> m_connections;
  std::map<uint64_t, Target> m_targets;
  uint64_t m_next_target = 1;
  std::deque<std::function<void()>> m_tasks;
  std::vector<std::string> m_listening;
  std::set<uint64_t> m_own_nonces;  // nonces in the version messages of our outbound connections
  std::mt19937_64 m_rng;
  PeerId m_next_id = 1;
  bool m_stopping = false;      // the socket thread ends
  bool m_message_stop = false;  // the message thread ends
  bool m_message_work = false;  // the message thread has something to do
  std::chrono::steady_clock::time_point m_next_automatic;

  std::atomic<uint64_t> m_total_sent{0};
  std::atomic<uint64_t> m_total_received{0};
};

}  // namespace minicoin::net
