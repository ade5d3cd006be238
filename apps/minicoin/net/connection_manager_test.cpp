// Tests of ConnectionManager over real sockets on loopback addresses: handshakes between two
// managers, message order, hostile raw peers (garbage, oversized headers, never reading), bans and
// their persistence, connection limits, address exchange, manual connections and shutdown.
// Every wait polls a condition with a deadline; none depends on how fast the machine is.
#include "net/connection_manager.h"

#include "net/framing.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace minicoin::net {
namespace {

using namespace std::chrono_literals;

constexpr Magic kMagic{0xe6, 0x7c, 0x9d, 0x3a};
constexpr auto kDeadline = 20s;

// Polls `condition` until it holds or kDeadline passes; returns its last value.
template <typename Condition>
bool WaitFor(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// A PeerHandler that records every call. Thread-safe.
class RecordingHandler : public PeerHandler {
 public:
  struct Peer {
    std::optional<net::PeerConnected> info;
    std::vector<Message> messages;
    int disconnects = 0;
    int space_available = 0;
  };

  void PeerConnected(PeerId peer, const net::PeerConnected& info,
                     std::chrono::microseconds) override {
    std::lock_guard lock(m_mutex);
    if (m_peers[peer].info) ++m_errors;  // connected twice
    m_peers[peer].info = info;
    m_order.push_back(peer);
  }
  void PeerDisconnected(PeerId peer) override {
    std::lock_guard lock(m_mutex);
    if (!m_peers[peer].info) ++m_errors;  // disconnected without being connected
    ++m_peers[peer].disconnects;
  }
  void ProcessMessage(PeerId peer, Message message, std::chrono::microseconds) override {
    std::lock_guard lock(m_mutex);
    if (!m_peers[peer].info || m_peers[peer].disconnects > 0) ++m_errors;
    m_peers[peer].messages.push_back(std::move(message));
    m_message_order.push_back(peer);
  }
  void SendSpaceAvailable(PeerId peer, std::chrono::microseconds) override {
    std::lock_guard lock(m_mutex);
    ++m_peers[peer].space_available;
  }
  void OnTick(std::chrono::microseconds) override {
    std::lock_guard lock(m_mutex);
    ++m_ticks;
  }

  std::map<PeerId, Peer> Peers() const {
    std::lock_guard lock(m_mutex);
    return m_peers;
  }
  // The ids passed to PeerConnected, in order.
  std::vector<PeerId> Connected() const {
    std::lock_guard lock(m_mutex);
    return m_order;
  }
  std::size_t ConnectedCount() const { return Connected().size(); }
  int Disconnects(PeerId peer) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_peers.find(peer);
    return it == m_peers.end() ? 0 : it->second.disconnects;
  }
  std::size_t MessageCount(PeerId peer) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_peers.find(peer);
    return it == m_peers.end() ? 0 : it->second.messages.size();
  }
  // The peer of each ProcessMessage call, in order.
  std::vector<PeerId> MessageOrder() const {
    std::lock_guard lock(m_mutex);
    return m_message_order;
  }
  int SpaceAvailable(PeerId peer) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_peers.find(peer);
    return it == m_peers.end() ? 0 : it->second.space_available;
  }
  int Errors() const {
    std::lock_guard lock(m_mutex);
    return m_errors;
  }
  int Ticks() const {
    std::lock_guard lock(m_mutex);
    return m_ticks;
  }

 private:
  mutable std::mutex m_mutex;
  std::map<PeerId, Peer> m_peers;
  std::vector<PeerId> m_order;
  std::vector<PeerId> m_message_order;
  int m_errors = 0;
  int m_ticks = 0;
};

// Collects log lines. Thread-safe.
class LogLines {
 public:
  explicit LogLines(Logger& log)
      : m_subscription(log.AddSink(LogCategory::kAll, [this](const std::string& line) {
          std::lock_guard lock(m_mutex);
          m_lines.push_back(line);
        })) {}
  bool Contains(const std::string& text) const {
    std::lock_guard lock(m_mutex);
    for (const std::string& line : m_lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex m_mutex;
  std::vector<std::string> m_lines;
  std::unique_ptr<LogSubscription> m_subscription;
};

ConnectionManagerOptions TestOptions(const std::string& user_agent) {
  ConnectionManagerOptions options;
  options.magic = kMagic;
  options.default_port = 1;
  options.binds = {"127.0.0.1:0"};
  options.allow_local = true;
  options.max_outbound = 0;  // no automatic connections unless a test asks for them
  options.user_agent = user_agent;
  options.best_height = [] { return 7u; };
  options.connect_timeout = 2000ms;
  return options;
}

uint16_t PortOf(const ConnectionManager& manager) {
  const std::vector<std::string> listening = manager.ListeningAddresses();
  EXPECT_EQ(listening.size(), 1u);
  if (listening.empty()) return 0;
  return ParseNetAddress(listening[0], 0).value().port;
}

std::string AddressOf(const ConnectionManager& manager) {
  return "127.0.0.1:" + std::to_string(PortOf(manager));
}

std::filesystem::path TempPath(const std::string& name) {
  auto path = std::filesystem::temp_directory_path() /
              ("minicoin_connman_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove(path);
  return path;
}

// A raw TCP connection from `from_ip` to 127.0.0.1:`port`: a hostile or hand-driven peer.
class RawPeer {
 public:
  RawPeer(const char* from_ip, uint16_t port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, from_ip, &local.sin_addr);
    EXPECT_EQ(::bind(m_fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0)
        << std::strerror(errno);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    EXPECT_EQ(::connect(m_fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)), 0)
        << std::strerror(errno);
  }
  ~RawPeer() { ::close(m_fd); }
  RawPeer(const RawPeer&) = delete;
  RawPeer& operator=(const RawPeer&) = delete;

  // Sends all of `bytes`; false if the connection is gone.
  bool Write(const std::vector<uint8_t>& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::send(m_fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool Send(const Message& message) { return Write(FrameMessage(kMagic, message)); }
  // Sends a version (inbound handshake, from the raw side) and a verack.
  bool Handshake(const std::string& user_agent = "/raw:1/") {
    VersionMessage version;
    version.services = kServiceNetwork;
    version.nonce = 0x5eed;
    version.user_agent = user_agent;
    return Send(version) && Send(VerackMessage{});
  }

  // Reads until the peer closes the connection (true) or kDeadline passes (false); the bytes
  // read go to Received().
  bool WaitClosed() {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    std::vector<uint8_t> buffer(1 << 16);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{m_fd, POLLIN, 0};
      if (::poll(&fd, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(m_fd, buffer.data(), buffer.size(), 0);
      if (n == 0) return true;
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return true;  // reset
      }
      m_received.insert(m_received.end(), buffer.begin(), buffer.begin() + n);
    }
    return false;
  }
  // Reads messages until one with `command` arrives (true) or the connection ends or kDeadline
  // passes (false).
  bool WaitFor(const std::string& command) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    std::vector<uint8_t> buffer(1 << 16);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{m_fd, POLLIN, 0};
      if (::poll(&fd, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(m_fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) return false;
      std::span<const uint8_t> bytes(buffer.data(), static_cast<std::size_t>(n));
      while (!bytes.empty() && !m_reader.error()) {
        bytes = bytes.subspan(m_reader.Feed(bytes));
        if (auto message = m_reader.Take()) m_commands.push_back(message->command);
      }
      for (const std::string& seen : m_commands) {
        if (seen == command) return true;
      }
    }
    return false;
  }
  // Reads whatever has arrived, without waiting; returns how many bytes.
  std::size_t Drain() {
    std::vector<uint8_t> buffer(1 << 16);
    std::size_t total = 0;
    for (;;) {
      const ssize_t n = ::recv(m_fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n <= 0) return total;
      total += static_cast<std::size_t>(n);
    }
  }
  const std::vector<uint8_t>& Received() const { return m_received; }

 private:
  int m_fd = -1;
  std::vector<uint8_t> m_received;
  MessageReader m_reader{kMagic};
  std::vector<std::string> m_commands;
};

// Two managers, `b` connecting to `a` through -connect.
struct Pair {
  Pair(ConnectionManagerOptions a_options = TestOptions("/a:1/"),
       ConnectionManagerOptions b_options = TestOptions("/b:1/")) {
    a = std::make_unique<ConnectionManager>(std::move(a_options), log_a);
    a->Start(handler_a);
    b_options.connect = {AddressOf(*a)};
    b = std::make_unique<ConnectionManager>(std::move(b_options), log_b);
    b->Start(handler_b);
  }
  bool WaitConnected() {
    return WaitFor(
        [&] { return handler_a.ConnectedCount() == 1 && handler_b.ConnectedCount() == 1; });
  }
  PeerId PeerOfA() const { return handler_a.Connected().at(0); }
  PeerId PeerOfB() const { return handler_b.Connected().at(0); }

  Logger log_a, log_b;
  RecordingHandler handler_a, handler_b;
  std::unique_ptr<ConnectionManager> a, b;
};

InvMessage Inv(uint32_t n, std::size_t entries = 1) {
  InvMessage inv;
  for (std::size_t i = 0; i < entries; ++i) {
    InvEntry entry;
    entry.type = InvType::kBlock;
    std::array<uint8_t, 32> bytes{};
    bytes[0] = static_cast<uint8_t>(n);
    bytes[1] = static_cast<uint8_t>(n >> 8);
    bytes[2] = static_cast<uint8_t>(i);
    entry.hash = Uint256(bytes);
    inv.entries.push_back(entry);
  }
  return inv;
}

TEST(ConnectionManagerTest, TwoManagersHandshakeAndSeeEachOther) {
  Pair pair;
  ASSERT_TRUE(pair.WaitConnected());
  const auto a_peers = pair.handler_a.Peers();
  const auto b_peers = pair.handler_b.Peers();
  const PeerConnected& seen_by_a = *a_peers.at(pair.PeerOfA()).info;
  const PeerConnected& seen_by_b = *b_peers.at(pair.PeerOfB()).info;
  EXPECT_EQ(seen_by_a.version.user_agent, "/b:1/");
  EXPECT_TRUE(seen_by_a.inbound);
  EXPECT_FALSE(seen_by_a.manual);
  EXPECT_EQ(seen_by_a.version.best_height, 7u);
  EXPECT_EQ(seen_by_b.version.user_agent, "/a:1/");
  EXPECT_FALSE(seen_by_b.inbound);
  EXPECT_TRUE(seen_by_b.manual);
  EXPECT_EQ(seen_by_b.address, AddressOf(*pair.a));
  EXPECT_EQ(pair.a->InboundCount(), 1u);
  EXPECT_EQ(pair.a->OutboundCount(), 0u);
  EXPECT_EQ(pair.b->OutboundCount(), 1u);

  // The first pings go out with the handshake; their answers show in the stats.
  ASSERT_TRUE(WaitFor([&] {
    const auto stats = pair.b->GetStats();
    return stats.size() == 1 && stats[0].ping_micros >= 0;
  }));
  const ConnectionStats stats = pair.b->GetStats().at(0);
  EXPECT_EQ(stats.id, pair.PeerOfB());
  EXPECT_EQ(stats.user_agent, "/a:1/");
  EXPECT_EQ(stats.starting_height, 7u);
  EXPECT_EQ(stats.version, kProtocolVersion);
  EXPECT_TRUE(stats.manual);
  EXPECT_TRUE(stats.handshake_complete);
  EXPECT_GT(stats.bytes_sent, 0u);
  EXPECT_GT(stats.bytes_received, 0u);
  EXPECT_GT(stats.connected_time, 0);
  EXPECT_GE(stats.min_ping_micros, 0);
  EXPECT_GE(pair.b->TotalBytesSent(), stats.bytes_sent);
  EXPECT_GE(pair.a->TotalBytesReceived(), 1u);

  // An explicit ping round goes out and is answered.
  pair.a->PingAll();
  ASSERT_TRUE(WaitFor([&] {
    const auto a_stats = pair.a->GetStats();
    return a_stats.size() == 1 && a_stats[0].ping_micros >= 0 && a_stats[0].ping_wait_micros == -1;
  }));
  EXPECT_GT(pair.handler_a.Ticks(), 0);
  EXPECT_EQ(pair.handler_a.Errors(), 0);
  EXPECT_EQ(pair.handler_b.Errors(), 0);
}

TEST(ConnectionManagerTest, MessagesArriveInOrder) {
  Pair pair;
  ASSERT_TRUE(pair.WaitConnected());
  constexpr uint32_t kCount = 500;
  for (uint32_t i = 0; i < kCount; ++i) pair.b->Send(pair.PeerOfB(), Inv(i));
  pair.a->Send(pair.PeerOfA(), Inv(1000, 3));
  ASSERT_TRUE(WaitFor([&] { return pair.handler_a.MessageCount(pair.PeerOfA()) == kCount; }));
  ASSERT_TRUE(WaitFor([&] { return pair.handler_b.MessageCount(pair.PeerOfB()) == 1; }));
  const auto messages = pair.handler_a.Peers().at(pair.PeerOfA()).messages;
  for (uint32_t i = 0; i < kCount; ++i) {
    EXPECT_EQ(messages[i], Message{Inv(i)}) << i;
  }
  EXPECT_EQ(pair.handler_b.Peers().at(pair.PeerOfB()).messages.at(0), Message{Inv(1000, 3)});
  // Sending to an unknown peer is ignored.
  pair.a->Send(12345, Inv(1));
  EXPECT_EQ(pair.a->QueuedSendBytes(12345), 0u);
}

TEST(ConnectionManagerTest, GarbageGetsTheSenderBannedByIp) {
  Logger log;
  LogLines lines(log);
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  const uint16_t port = PortOf(manager);
  {
    RawPeer hostile("127.0.0.2", port);
    ASSERT_TRUE(hostile.Write(std::vector<uint8_t>(100, 0x42)));
    EXPECT_TRUE(hostile.WaitClosed());
  }
  EXPECT_TRUE(lines.Contains("framing error"));
  std::vector<BanInfo> bans = manager.ListBanned();
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].address, "127.0.0.2");
  EXPECT_EQ(bans[0].until - bans[0].created, 24 * 3600);
  EXPECT_NE(bans[0].reason.find("magic"), std::string::npos) << bans[0].reason;

  // The banned address is refused at once, without an answer even to a valid version.
  {
    RawPeer again("127.0.0.2", port);
    again.Handshake();
    EXPECT_TRUE(again.WaitClosed());
    EXPECT_TRUE(again.Received().empty());
  }
  // Another loopback address is not affected.
  RawPeer friendly("127.0.0.1", port);
  ASSERT_TRUE(friendly.Handshake());
  EXPECT_TRUE(friendly.WaitFor("verack"));
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 1; }));
  EXPECT_EQ(handler.Peers().begin()->second.info->version.user_agent, "/raw:1/");
  EXPECT_EQ(handler.Errors(), 0);
}

TEST(ConnectionManagerTest, MalformedMessageBans) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  RawPeer hostile("127.0.0.3", PortOf(manager));
  // A ping must carry 8 bytes.
  ASSERT_TRUE(hostile.Write(FrameMessage(kMagic, "ping", std::vector<uint8_t>(7, 0))));
  EXPECT_TRUE(hostile.WaitClosed());
  const auto bans = manager.ListBanned();
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].address, "127.0.0.3");
  EXPECT_NE(bans[0].reason.find("malformed"), std::string::npos) << bans[0].reason;
}

TEST(ConnectionManagerTest, UnknownCommandsAreIgnored) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  RawPeer peer("127.0.0.1", PortOf(manager));
  ASSERT_TRUE(peer.Handshake());
  ASSERT_TRUE(peer.Write(FrameMessage(kMagic, "futurecmd", std::vector<uint8_t>{1, 2, 3})));
  ASSERT_TRUE(peer.Send(Inv(9)));
  ASSERT_TRUE(WaitFor([&] {
    return handler.ConnectedCount() == 1 && handler.MessageCount(handler.Connected()[0]) == 1;
  }));
  EXPECT_EQ(handler.Peers().begin()->second.messages[0], Message{Inv(9)});
  EXPECT_TRUE(manager.ListBanned().empty());
}

TEST(ConnectionManagerTest, OversizedLengthDisconnectsBeforeThePayload) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  RawPeer hostile("127.0.0.4", PortOf(manager));
  std::vector<uint8_t> header(kMessageHeaderSize, 0);
  std::copy(kMagic.begin(), kMagic.end(), header.begin());
  const std::string command = "block";
  std::copy(command.begin(), command.end(), header.begin() + 4);
  const uint32_t length = kMaxMessageSize + 1;
  for (int i = 0; i < 4; ++i) header[16 + i] = static_cast<uint8_t>(length >> (8 * i));
  ASSERT_TRUE(hostile.Write(header));
  // No payload byte is ever sent: the header alone ends the connection.
  EXPECT_TRUE(hostile.WaitClosed());
  const auto bans = manager.ListBanned();
  ASSERT_EQ(bans.size(), 1u);
  EXPECT_EQ(bans[0].address, "127.0.0.4");
}

TEST(ConnectionManagerTest, SelfConnectionIsDetected) {
  Logger log;
  LogLines lines(log);
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  EXPECT_EQ(manager.AddNode(AddressOf(manager), "onetry"), "");
  ASSERT_TRUE(WaitFor([&] { return lines.Contains("self-connection"); }));
  ASSERT_TRUE(WaitFor([&] { return manager.InboundCount() == 0 && manager.OutboundCount() == 0; }));
  EXPECT_EQ(handler.ConnectedCount(), 0u);
  EXPECT_TRUE(manager.ListBanned().empty());
}

TEST(ConnectionManagerTest, MaxConnectionsIsEnforced) {
  Logger log;
  RecordingHandler handler;
  ConnectionManagerOptions options = TestOptions("/a:1/");
  options.max_connections = 2;
  ConnectionManager manager(options, log);
  manager.Start(handler);
  const uint16_t port = PortOf(manager);
  RawPeer first("127.0.0.1", port);
  RawPeer second("127.0.0.1", port);
  ASSERT_TRUE(WaitFor([&] { return manager.InboundCount() == 2; }));
  RawPeer third("127.0.0.1", port);
  third.Handshake();
  EXPECT_TRUE(third.WaitClosed());
  EXPECT_TRUE(third.Received().empty());
  EXPECT_EQ(manager.InboundCount(), 2u);
  // The two accepted ones still work.
  ASSERT_TRUE(first.Handshake());
  EXPECT_TRUE(first.WaitFor("verack"));
}

TEST(ConnectionManagerTest, PeerThatNeverReadsIsDisconnected) {
  Logger log;
  LogLines lines(log);
  RecordingHandler handler;
  ConnectionManagerOptions options = TestOptions("/a:1/");
  options.max_send_queue_bytes = 1u << 20;
  ConnectionManager manager(options, log);
  manager.Start(handler);
  RawPeer sluggish("127.0.0.5", PortOf(manager));
  ASSERT_TRUE(sluggish.Handshake());
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 1; }));
  const PeerId peer = handler.Connected()[0];
  const Message big = Inv(1, 5'000);  // 180 kB
  std::size_t sent = 0;
  ASSERT_TRUE(WaitFor([&] {
    manager.Send(peer, big);
    ++sent;
    return handler.Disconnects(peer) == 1;
  }));
  EXPECT_TRUE(lines.Contains("send queue over its limit"));
  EXPECT_EQ(manager.QueuedSendBytes(peer), 0u);
  EXPECT_GT(sent, 5u);
  // Not reading is no misbehaviour.
  EXPECT_TRUE(manager.ListBanned().empty());
}

TEST(ConnectionManagerTest, SetBanListBannedClearBannedAndPersistence) {
  const auto bans_file = TempPath("bans.dat");
  Logger log;
  RecordingHandler handler;
  ConnectionManagerOptions options = TestOptions("/a:1/");
  options.bans_file = bans_file;
  options.ban_time = 3600s;
  {
    ConnectionManager manager(options, log);
    manager.Start(handler);
    EXPECT_NE(manager.SetBan("not-an-ip", "add", 0, false), "");
    EXPECT_NE(manager.SetBan("127.0.0.9", "drop", 0, false), "");
    EXPECT_NE(manager.SetBan("127.0.0.9", "remove", 0, false), "");
    EXPECT_NE(manager.SetBan("127.0.0.9", "add", 1000, true), "") << "an end in the past";
    EXPECT_EQ(manager.SetBan("127.0.0.9", "add", 0, false), "");
    EXPECT_EQ(manager.SetBan("::1", "add", 60, false), "");
    const int64_t until = 4'000'000'000;
    EXPECT_EQ(manager.SetBan("10.0.0.7", "add", until, true), "");
    const auto bans = manager.ListBanned();
    ASSERT_EQ(bans.size(), 3u);
    EXPECT_EQ(bans[0].address, "::1");
    EXPECT_EQ(bans[0].until - bans[0].created, 60);
    EXPECT_EQ(bans[1].address, "10.0.0.7");
    EXPECT_EQ(bans[1].until, until);
    EXPECT_EQ(bans[2].address, "127.0.0.9");
    EXPECT_EQ(bans[2].until - bans[2].created, 3600);
    EXPECT_EQ(manager.SetBan("::1", "remove", 0, false), "");
    manager.Stop();
    manager.Stop();  // idempotent
  }
  {
    ConnectionManager manager(options, log);
    manager.Start(handler);
    const auto bans = manager.ListBanned();
    ASSERT_EQ(bans.size(), 2u);
    EXPECT_EQ(bans[0].address, "10.0.0.7");
    EXPECT_EQ(bans[1].address, "127.0.0.9");
    manager.ClearBanned();
    EXPECT_TRUE(manager.ListBanned().empty());
  }
  {
    ConnectionManager manager(options, log);
    manager.Start(handler);
    EXPECT_TRUE(manager.ListBanned().empty());
  }
  std::filesystem::remove(bans_file);
}

TEST(ConnectionManagerTest, CorruptFilesAreMovedAside) {
  const auto bans_file = TempPath("corrupt_bans.dat");
  const auto peers_file = TempPath("corrupt_peers.dat");
  for (const auto& path : {bans_file, peers_file}) {
    std::ofstream(path) << "not a file of ours";
  }
  Logger log;
  LogLines lines(log);
  RecordingHandler handler;
  ConnectionManagerOptions options = TestOptions("/a:1/");
  options.bans_file = bans_file;
  options.peers_file = peers_file;
  ConnectionManager manager(options, log);
  manager.Start(handler);
  EXPECT_TRUE(manager.ListBanned().empty());
  EXPECT_EQ(manager.KnownAddresses(), 0u);
  EXPECT_TRUE(std::filesystem::exists(bans_file.string() + ".corrupt"));
  EXPECT_TRUE(std::filesystem::exists(peers_file.string() + ".corrupt"));
  EXPECT_TRUE(lines.Contains("Ban list unusable"));
  EXPECT_TRUE(lines.Contains("Address book unusable"));
  manager.Stop();
  for (const auto& path : {bans_file, peers_file}) {
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + ".corrupt");
  }
}

TEST(ConnectionManagerTest, BanningDisconnectsThePeer) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  RawPeer peer("127.0.0.6", PortOf(manager));
  ASSERT_TRUE(peer.Handshake());
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 1; }));
  EXPECT_EQ(manager.SetBan("127.0.0.6", "add", 0, false), "");
  EXPECT_TRUE(peer.WaitClosed());
  ASSERT_TRUE(WaitFor([&] { return handler.Disconnects(handler.Connected()[0]) == 1; }));
}

TEST(ConnectionManagerTest, AddressBookIsSavedOnStopAndLoadedOnStart) {
  const auto peers_file = TempPath("peers.dat");
  std::string a_address;
  {
    ConnectionManagerOptions b_options = TestOptions("/b:1/");
    b_options.peers_file = peers_file;
    Pair pair(TestOptions("/a:1/"), b_options);
    ASSERT_TRUE(pair.WaitConnected());
    a_address = AddressOf(*pair.a);
    // A successful outbound handshake puts the address in the book.
    ASSERT_TRUE(WaitFor([&] { return pair.b->KnownAddresses() >= 1; }));
    pair.b->Stop();
    EXPECT_EQ(pair.handler_b.Disconnects(pair.PeerOfB()), 1);
  }
  ASSERT_TRUE(std::filesystem::exists(peers_file));
  AddressBook book(AddressBook::Options{true});
  ASSERT_EQ(book.Load(peers_file).status, AddressBookLoad::Status::kOk);
  const auto info = book.Find(ParseNetAddress(a_address, 0).value());
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->tried);

  Logger log;
  RecordingHandler handler;
  ConnectionManagerOptions options = TestOptions("/c:1/");
  options.peers_file = peers_file;
  ConnectionManager manager(options, log);
  manager.Start(handler);
  EXPECT_EQ(manager.KnownAddresses(), 1u);
  manager.Stop();
  std::filesystem::remove(peers_file);
}

TEST(ConnectionManagerTest, GetAddrAnswerFillsTheOtherBook) {
  const auto peers_file = TempPath("a_peers.dat");
  {
    AddressBook book(AddressBook::Options{true});
    std::vector<AddrEntry> entries;
    const auto now = static_cast<uint32_t>(std::time(nullptr));
    for (uint8_t i = 1; i <= 3; ++i) {
      entries.push_back({now - 60, NetAddress::FromIpv4(127, 0, 1, i, 1000, kServiceNetwork)});
    }
    ASSERT_EQ(book.Add(entries, NetAddress::FromIpv4(127, 0, 2, 1, 1, 1), now), 3u);
    ASSERT_FALSE(book.Save(peers_file).has_value());
  }
  ConnectionManagerOptions a_options = TestOptions("/a:1/");
  a_options.peers_file = peers_file;
  Pair pair(a_options, TestOptions("/b:1/"));
  ASSERT_TRUE(pair.WaitConnected());
  EXPECT_EQ(pair.a->KnownAddresses(), 3u);
  // b asked (outbound), a answered (inbound); b also knows a itself.
  ASSERT_TRUE(WaitFor([&] { return pair.b->KnownAddresses() == 4; }));
  // getaddr and addr are the manager's business, never the handler's.
  EXPECT_EQ(pair.handler_a.MessageCount(pair.PeerOfA()), 0u);
  EXPECT_EQ(pair.handler_b.MessageCount(pair.PeerOfB()), 0u);
  pair.a->Stop();
  std::filesystem::remove(peers_file);
}

TEST(ConnectionManagerTest, AddNodeOneTryConnects) {
  Logger log_a, log_b;
  RecordingHandler handler_a, handler_b;
  ConnectionManager a(TestOptions("/a:1/"), log_a);
  a.Start(handler_a);
  ConnectionManager b(TestOptions("/b:1/"), log_b);
  b.Start(handler_b);
  EXPECT_NE(b.AddNode("1.2.3.4:x", "add"), "");
  EXPECT_NE(b.AddNode(AddressOf(a), "sometimes"), "");
  EXPECT_NE(b.AddNode(AddressOf(a), "remove"), "");
  EXPECT_EQ(b.AddNode(AddressOf(a), "onetry"), "");
  ASSERT_TRUE(WaitFor([&] { return handler_b.ConnectedCount() == 1; }));
  EXPECT_TRUE(handler_b.Peers().begin()->second.info->manual);
  EXPECT_EQ(b.OutboundCount(), 1u);
  EXPECT_EQ(b.AddNode(AddressOf(a), "add"), "");
  EXPECT_NE(b.AddNode(AddressOf(a), "add"), "") << "already added";
  EXPECT_EQ(b.AddNode(AddressOf(a), "remove"), "");
  EXPECT_NE(b.AddNode(AddressOf(a), "remove"), "") << "already removed";
  EXPECT_EQ(b.AddNode(AddressOf(a), "add"), "") << "added again after its removal";
}

TEST(ConnectionManagerTest, AddNodeRedialsAfterALoss) {
  Pair pair;
  ASSERT_TRUE(pair.WaitConnected());
  // b's -connect target: a disconnect on a's side is followed by a new connection.
  EXPECT_EQ(pair.a->DisconnectNode("", pair.PeerOfA()), "");
  ASSERT_TRUE(WaitFor([&] { return pair.handler_b.ConnectedCount() == 2; }));
  ASSERT_TRUE(WaitFor([&] { return pair.handler_a.ConnectedCount() == 2; }));
  EXPECT_EQ(pair.handler_a.Disconnects(pair.PeerOfA()), 1);
  EXPECT_EQ(pair.handler_b.Disconnects(pair.PeerOfB()), 1);
}

TEST(ConnectionManagerTest, DisconnectNodeByIdAndByAddress) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  const uint16_t port = PortOf(manager);
  RawPeer first("127.0.0.7", port);
  RawPeer second("127.0.0.8", port);
  ASSERT_TRUE(first.Handshake());
  ASSERT_TRUE(second.Handshake());
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 2; }));
  const auto stats = manager.GetStats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_NE(manager.DisconnectNode("", 999), "");
  EXPECT_NE(manager.DisconnectNode("127.0.0.9:1", 0), "");
  EXPECT_NE(manager.DisconnectNode("garbage:address", 0), "");

  const ConnectionStats& by_id = stats[0].address.rfind("127.0.0.7:", 0) == 0 ? stats[0] : stats[1];
  const ConnectionStats& by_address = &by_id == &stats[0] ? stats[1] : stats[0];
  EXPECT_EQ(manager.DisconnectNode("", by_id.id), "");
  EXPECT_TRUE(first.WaitClosed());
  EXPECT_EQ(manager.DisconnectNode(by_address.address, 0), "");
  EXPECT_TRUE(second.WaitClosed());
  ASSERT_TRUE(WaitFor([&] { return manager.InboundCount() == 0; }));
  ASSERT_TRUE(WaitFor([&] {
    return handler.Disconnects(by_id.id) == 1 && handler.Disconnects(by_address.id) == 1;
  }));
  EXPECT_TRUE(manager.ListBanned().empty());
}

TEST(ConnectionManagerTest, ListenFailureNamesTheAddress) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager first(TestOptions("/a:1/"), log);
  first.Start(handler);
  ConnectionManagerOptions options = TestOptions("/b:1/");
  options.binds = {AddressOf(first)};
  ConnectionManager second(options, log);
  try {
    second.Start(handler);
    FAIL() << "bound twice";
  } catch (const std::runtime_error& error) {
    EXPECT_EQ(std::string(error.what()),
              "cannot listen on " + AddressOf(first) + ": Address already in use");
  }
}

TEST(ConnectionManagerTest, UnparsableAddressesThrow) {
  Logger log;
  for (const char* field : {"bind", "connect", "addnode", "seednode"}) {
    ConnectionManagerOptions options = TestOptions("/a:1/");
    const std::string bad = "1.2.3.4:99999";
    if (std::string(field) == "bind") options.binds = {bad};
    if (std::string(field) == "connect") options.connect = {bad};
    if (std::string(field) == "addnode") options.add_nodes = {bad};
    if (std::string(field) == "seednode") options.seed_nodes = {bad};
    try {
      ConnectionManager manager(options, log);
      ADD_FAILURE() << field;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(bad), std::string::npos) << error.what();
    }
  }
}

TEST(ConnectionManagerTest, SeedNodeIsLeftAfterItsAnswer) {
  Logger log_a, log_b;
  RecordingHandler handler_a, handler_b;
  ConnectionManager a(TestOptions("/seed:1/"), log_a);
  a.Start(handler_a);
  ConnectionManagerOptions b_options = TestOptions("/b:1/");
  b_options.seed_nodes = {AddressOf(a)};
  ConnectionManager b(b_options, log_b);
  b.Start(handler_b);
  ASSERT_TRUE(WaitFor([&] { return handler_b.ConnectedCount() == 1; }));
  ASSERT_TRUE(WaitFor([&] { return handler_b.Disconnects(handler_b.Connected()[0]) == 1; }));
  EXPECT_FALSE(handler_b.Peers().begin()->second.info->manual);
  EXPECT_EQ(b.KnownAddresses(), 1u);
  EXPECT_EQ(handler_b.ConnectedCount(), 1u);
}

TEST(ConnectionManagerTest, AutomaticOutboundUsesTheAddressBook) {
  const auto peers_file = TempPath("auto_peers.dat");
  Logger log_a, log_b;
  RecordingHandler handler_a, handler_b;
  ConnectionManager a(TestOptions("/a:1/"), log_a);
  a.Start(handler_a);
  {
    AddressBook book(AddressBook::Options{true});
    const auto now = static_cast<uint32_t>(std::time(nullptr));
    ASSERT_EQ(book.Add(std::vector<AddrEntry>{{now, ParseNetAddress(AddressOf(a), 0).value()}},
                       NetAddress::FromIpv4(127, 0, 2, 1, 1, 1), now),
              1u);
    ASSERT_FALSE(book.Save(peers_file).has_value());
  }
  ConnectionManagerOptions b_options = TestOptions("/b:1/");
  b_options.peers_file = peers_file;
  b_options.max_outbound = 2;
  ConnectionManager b(b_options, log_b);
  b.Start(handler_b);
  ASSERT_TRUE(WaitFor([&] { return handler_b.ConnectedCount() == 1; }));
  EXPECT_FALSE(handler_b.Peers().begin()->second.info->manual);
  EXPECT_FALSE(handler_b.Peers().begin()->second.info->inbound);
  b.Stop();
  std::filesystem::remove(peers_file);
}

// Holds the message thread inside a posted task until Release.
class MessageThreadGate {
 public:
  explicit MessageThreadGate(ConnectionManager& manager) {
    // The posted task shares the state: it may still be leaving its wait when the gate is gone.
    manager.Post([state = m_state] {
      std::unique_lock lock(state->mutex);
      state->entered = true;
      state->cv.notify_all();
      state->cv.wait(lock, [&] { return state->released; });
    });
    std::unique_lock lock(m_state->mutex);
    m_state->cv.wait(lock, [&] { return m_state->entered; });
  }
  ~MessageThreadGate() { Release(); }
  void Release() {
    std::lock_guard lock(m_state->mutex);
    m_state->released = true;
    m_state->cv.notify_all();
  }

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable cv;
    bool entered = false;
    bool released = false;
  };
  std::shared_ptr<State> m_state = std::make_shared<State>();
};

TEST(ConnectionManagerTest, OneFloodingPeerDoesNotStarveAnother) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  const uint16_t port = PortOf(manager);
  RawPeer flooder("127.0.0.1", port);
  RawPeer quiet("127.0.0.1", port);
  ASSERT_TRUE(flooder.Handshake("/flooder/"));
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 1; }));
  ASSERT_TRUE(quiet.Handshake("/quiet/"));
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 2; }));
  const PeerId flooder_id = handler.Connected()[0];
  const PeerId quiet_id = handler.Connected()[1];

  // With the message thread held, the flood and then the quiet peer's one message are received
  // and queued; released, the thread serves both peers in turn.
  constexpr uint32_t kFlood = 300;
  std::vector<uint8_t> flood;
  for (uint32_t i = 0; i < kFlood; ++i) {
    const auto framed = FrameMessage(kMagic, Inv(i));
    flood.insert(flood.end(), framed.begin(), framed.end());
  }
  const std::vector<uint8_t> one = FrameMessage(kMagic, Inv(7777));
  MessageThreadGate gate(manager);
  const uint64_t before = manager.TotalBytesReceived();
  ASSERT_TRUE(flooder.Write(flood));
  ASSERT_TRUE(WaitFor([&] { return manager.TotalBytesReceived() >= before + flood.size(); }));
  ASSERT_TRUE(quiet.Write(one));
  ASSERT_TRUE(
      WaitFor([&] { return manager.TotalBytesReceived() >= before + flood.size() + one.size(); }));
  gate.Release();
  ASSERT_TRUE(WaitFor([&] { return handler.MessageOrder().size() == kFlood + 1; }));
  const std::vector<PeerId> order = handler.MessageOrder();
  const auto quiet_position = std::find(order.begin(), order.end(), quiet_id) - order.begin();
  EXPECT_LE(quiet_position, 1) << "the quiet peer waited behind the flood";
  EXPECT_EQ(std::count(order.begin(), order.end(), flooder_id), kFlood);
  EXPECT_EQ(handler.Errors(), 0);
}

TEST(ConnectionManagerTest, FullReceiveQueueStopsReadingUntilDrained) {
  Logger log;
  RecordingHandler handler;
  ConnectionManagerOptions options = TestOptions("/a:1/");
  options.max_receive_queue_bytes = 20'000;
  ConnectionManager manager(options, log);
  manager.Start(handler);
  RawPeer peer("127.0.0.1", PortOf(manager));
  ASSERT_TRUE(peer.Handshake());
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 1; }));
  const PeerId id = handler.Connected()[0];

  constexpr uint32_t kCount = 100;
  const Message big = Inv(1, 1'000);  // 36 kB each
  std::vector<uint8_t> all;
  for (uint32_t i = 0; i < kCount; ++i) {
    const auto framed = FrameMessage(kMagic, big);
    all.insert(all.end(), framed.begin(), framed.end());
  }
  uint64_t held = 0;
  {
    MessageThreadGate gate(manager);
    const uint64_t before = manager.TotalBytesReceived();
    std::thread writer([&] { peer.Write(all); });
    // Reading stops once the queue is over its limit: at most one read (64 kB) past it.
    // (EXPECT, not ASSERT: the writer thread must be joined whatever happens.)
    EXPECT_TRUE(WaitFor([&] { return manager.TotalBytesReceived() - before >= 20'000; }));
    std::this_thread::sleep_for(300ms);
    held = manager.TotalBytesReceived() - before;
    EXPECT_LT(held, 20'000u + (64u << 10));
    gate.Release();
    writer.join();
  }
  // Drained, the socket is read again and every message arrives.
  ASSERT_TRUE(WaitFor([&] { return handler.MessageCount(id) == kCount; }));
  EXPECT_LT(held, all.size());
}

TEST(ConnectionManagerTest, SendSpaceAvailableAfterTheQueueDrains) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  RawPeer peer("127.0.0.1", PortOf(manager));
  ASSERT_TRUE(peer.Handshake());
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 1; }));
  const PeerId id = handler.Connected()[0];
  const Message big = Inv(1, 10'000);  // 360 kB
  ASSERT_TRUE(WaitFor([&] {
    manager.Send(id, big);
    return manager.QueuedSendBytes(id) >= kSendQueuePauseBytes;
  }));
  EXPECT_EQ(handler.SpaceAvailable(id), 0);
  ASSERT_TRUE(WaitFor([&] {
    peer.Drain();
    return handler.SpaceAvailable(id) == 1;
  }));
  EXPECT_LT(manager.QueuedSendBytes(id), kSendQueuePauseBytes);
}

TEST(ConnectionManagerTest, MisbehavingBansAndHandshakeViolationsBan) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  const uint16_t port = PortOf(manager);
  RawPeer reported("127.0.0.10", port);
  ASSERT_TRUE(reported.Handshake());
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 1; }));
  RawPeer twin("127.0.0.10", port);  // the same address, another port
  ASSERT_TRUE(twin.Handshake());
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 2; }));
  manager.Misbehaving(handler.Connected()[0], "sent an invalid block");
  EXPECT_TRUE(reported.WaitClosed());
  EXPECT_TRUE(twin.WaitClosed());

  RawPeer early("127.0.0.11", port);
  ASSERT_TRUE(early.Send(Inv(1)));  // before its version
  EXPECT_TRUE(early.WaitClosed());

  const auto bans = manager.ListBanned();
  ASSERT_EQ(bans.size(), 2u);
  EXPECT_EQ(bans[0].address, "127.0.0.10");
  EXPECT_EQ(bans[0].reason, "sent an invalid block");
  EXPECT_EQ(bans[1].address, "127.0.0.11");
  EXPECT_NE(bans[1].reason.find("message before version"), std::string::npos) << bans[1].reason;

  // Disconnect without a ban.
  RawPeer polite("127.0.0.12", port);
  ASSERT_TRUE(polite.Handshake());
  ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 3; }));
  manager.Disconnect(handler.Connected()[2], "no longer needed");
  EXPECT_TRUE(polite.WaitClosed());
  EXPECT_EQ(manager.ListBanned().size(), 2u);
}

TEST(ConnectionManagerTest, AddNodeByHostName) {
  Logger log_a, log_b;
  RecordingHandler handler_a, handler_b;
  ConnectionManager a(TestOptions("/a:1/"), log_a);
  a.Start(handler_a);
  ConnectionManager b(TestOptions("/b:1/"), log_b);
  b.Start(handler_b);
  // localhost may name ::1 as well as 127.0.0.1; a listens on the latter only, and the attempts
  // take the names' addresses in turn.
  EXPECT_EQ(b.AddNode("localhost:" + std::to_string(PortOf(a)), "add"), "");
  ASSERT_TRUE(WaitFor([&] { return handler_b.ConnectedCount() == 1; }));
  EXPECT_EQ(handler_b.Peers().begin()->second.info->version.user_agent, "/a:1/");
}

TEST(ConnectionManagerTest, PeerClosingMidMessageIsNoMisbehaviour) {
  Logger log;
  RecordingHandler handler;
  ConnectionManager manager(TestOptions("/a:1/"), log);
  manager.Start(handler);
  {
    RawPeer peer("127.0.0.14", PortOf(manager));
    ASSERT_TRUE(peer.Handshake());
    ASSERT_TRUE(WaitFor([&] { return handler.ConnectedCount() == 1; }));
    std::vector<uint8_t> half = FrameMessage(kMagic, Inv(3, 100));
    half.resize(half.size() / 2);
    ASSERT_TRUE(peer.Write(half));
  }
  ASSERT_TRUE(WaitFor([&] { return handler.Disconnects(handler.Connected()[0]) == 1; }));
  EXPECT_EQ(handler.MessageCount(handler.Connected()[0]), 0u);
  EXPECT_TRUE(manager.ListBanned().empty());
  EXPECT_EQ(manager.InboundCount(), 0u);
}

TEST(ConnectionManagerTest, RefusedConnectIsLoggedAndRetried) {
  // A port that was just free: nothing listens there.
  uint16_t closed_port = 0;
  {
    Logger log;
    RecordingHandler handler;
    ConnectionManager probe(TestOptions("/probe:1/"), log);
    probe.Start(handler);
    closed_port = PortOf(probe);
  }
  Logger log;
  LogLines lines(log);
  RecordingHandler handler;
  ConnectionManagerOptions options = TestOptions("/a:1/");
  options.connect = {"127.0.0.1:" + std::to_string(closed_port)};
  ConnectionManager manager(options, log);
  manager.Start(handler);
  ASSERT_TRUE(WaitFor([&] { return lines.Contains("Connection refused"); }));
  EXPECT_EQ(manager.OutboundCount(), 0u);
  EXPECT_EQ(handler.ConnectedCount(), 0u);
  EXPECT_TRUE(manager.ListBanned().empty());
}

TEST(ConnectionManagerTest, StopWithConnectionsOpenReturns) {
  Pair pair;
  ASSERT_TRUE(pair.WaitConnected());
  RawPeer raw("127.0.0.1", PortOf(*pair.a));
  ASSERT_TRUE(raw.Handshake());
  ASSERT_TRUE(WaitFor([&] { return pair.handler_a.ConnectedCount() == 2; }));
  // A connect that will not complete: a non-routable address.
  pair.a->AddNode("10.255.255.1:9", "onetry");
  std::this_thread::sleep_for(200ms);
  const auto start = std::chrono::steady_clock::now();
  pair.a->Stop();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("Stop took %lld us\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
  EXPECT_EQ(pair.a->InboundCount(), 0u);
  for (PeerId peer : pair.handler_a.Connected()) EXPECT_EQ(pair.handler_a.Disconnects(peer), 1);
  EXPECT_TRUE(raw.WaitClosed());
  EXPECT_EQ(pair.handler_a.Errors(), 0);
}

}  // namespace
}  // namespace minicoin::net
