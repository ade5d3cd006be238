// minicoin's per-connection protocol state: the version/verack handshake, ping/pong keep-alive
// and the timeouts that end a connection, with no sockets and no clock of its own.
#pragma once

#include "net/protocol.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minicoin::net {

// The lowest protocol version a peer may announce; an older peer is disconnected (not punished).
inline constexpr uint32_t kMinPeerProtocolVersion = 1;
// The peer's version and verack must both arrive within this long of the connection's start.
inline constexpr std::chrono::seconds kHandshakeTimeout{60};
// After the handshake, a ping is sent when none is outstanding and this long has passed since the
// previous one (the first goes out as the handshake completes).
inline constexpr std::chrono::seconds kPingInterval{2 * 60};
// An unanswered ping older than this ends the connection.
inline constexpr std::chrono::seconds kPingTimeout{20 * 60};
// No message at all from the peer for this long ends the connection.
inline constexpr std::chrono::seconds kInactivityTimeout{20 * 60};

// Why a session decided to end its connection.
enum class DisconnectReason {
  kMessageBeforeVersion,  // something other than version arrived first (misbehaviour)
  kDuplicateVersion,      // a second version (misbehaviour)
  kVerackBeforeVersion,   // a verack before the peer's version (misbehaviour)
  kMessageBeforeVerack,   // something other than verack after version, before verack (misbehaviour)
  kDuplicateVerack,       // a second verack (misbehaviour)
  kObsoleteVersion,       // the peer's protocol version is below kMinPeerProtocolVersion
  kSelfConnection,        // the peer's version carries one of our own nonces
  kHandshakeTimedOut,     // no complete handshake within kHandshakeTimeout
  kPingTimedOut,          // a ping unanswered for longer than kPingTimeout
  kInactivity,            // nothing received for longer than kInactivityTimeout
};

// A short fixed name for `reason`, for logs ("ping timeout", "self-connection", ...).
std::string_view DisconnectReasonName(DisconnectReason reason);

// A session's decision to end its connection. Value type.
struct DisconnectDecision {
  DisconnectReason reason = DisconnectReason::kInactivity;
  // True for protocol violations: the owner may discourage the peer's address.
  bool misbehaving = false;
  // A sentence for logs: the reason and its details (the command, version or times involved).
  std::string message;
};

// Where the handshake stands.
enum class SessionState {
  kAwaitingVersion,  // the peer's version has not arrived (outbound: ours is already queued)
  kAwaitingVerack,   // the peer's version arrived; its verack has not
  kReady,            // both arrived: keep-alive runs and other messages are delivered
  kDisconnected,     // a DisconnectDecision was made; the session does nothing more
};

// The protocol state of one peer connection. The owner (a network layer) decodes messages from
// the byte stream and passes them in with OnMessage, calls OnTick as time passes, sends what
// TakeOutgoing returns, and closes the connection once Disconnect() holds a decision; the session
// never touches a socket or reads a clock, so every time is the owner's `now` (any fixed epoch,
// the same for every call). After a disconnect decision the session ignores further input.
// Not copyable or movable (the owner keeps it in place, usually behind a unique_ptr).
// Event-loop thread only: the owner calls it from one thread.
//
//   PeerSession session(PeerSession::Direction::kOutbound, our_version, is_own_nonce, nonces, now);
//   for (Message& m : session.TakeOutgoing()) Send(m);
//   if (auto delivered = session.OnMessage(std::move(decoded), now)) Process(*delivered);
class PeerSession {
 public:
  enum class Direction { kInbound, kOutbound };
  // True if `nonce` is one this node put in a version message it sent (self-connection check).
  // When empty, no self-connection check is made.
  using OwnNonceCheck = std::function<bool(uint64_t nonce)>;
  // Returns the nonce of the next ping; tests inject a counter, the node a random source. When
  // empty, pings are numbered by the count of messages sent.
  using PingNonceSource = std::function<uint64_t()>;

  // `our_version` is the version message this side sends, as given (nonce, services, best
  // height, user agent, time and addresses filled in by the owner). `start` is when the
  // connection was established. An outbound session queues its version at once.
  PeerSession(Direction direction, VersionMessage our_version, OwnNonceCheck is_own_nonce,
              PingNonceSource next_ping_nonce, std::chrono::microseconds start);
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  // Handles one decoded message from the peer, received at `now`. Handshake and keep-alive
  // messages are consumed (answers go to the outgoing queue); after the handshake any other
  // message is returned unchanged for the owner to process. Returns nothing when the message was
  // consumed, broke the protocol (Disconnect() then says why) or the session is disconnected.
  std::optional<Message> OnMessage(Message message, std::chrono::microseconds now);
  // Applies the timeouts and sends a ping when one is due. Call it regularly (every few seconds).
  void OnTick(std::chrono::microseconds now);
  // Sends a ping at once if the handshake is complete and none is outstanding (an operator's
  // "ping every peer"); returns whether one was sent.
  bool PingNow(std::chrono::microseconds now);

  // The messages to send, in order, emptying the queue.
  std::vector<Message> TakeOutgoing();
  // The decision to end the connection, once made.
  const std::optional<DisconnectDecision>& Disconnect() const { return m_disconnect; }

  SessionState State() const { return m_state; }
  Direction GetDirection() const { return m_direction; }
  bool HandshakeComplete() const { return m_state == SessionState::kReady; }
  // The peer's version message (protocol version, services, user agent, best height), once
  // received and accepted.
  const std::optional<VersionMessage>& PeerVersion() const { return m_peer_version; }

  // Round-trip time of the latest answered ping, and the smallest seen.
  std::optional<std::chrono::microseconds> LastPingLatency() const { return m_last_latency; }
  std::optional<std::chrono::microseconds> MinPingLatency() const { return m_min_latency; }
  // The nonce of the ping awaiting its pong, if any.
  std::optional<uint64_t> OutstandingPingNonce() const;

  uint64_t MessagesReceived() const { return m_messages_received; }
  uint64_t MessagesSent() const { return m_messages_sent; }
  // Pongs ignored because no ping was outstanding or their nonce did not match.
  uint64_t UnmatchedPongs() const { return m_unmatched_pongs; }

 private:
  struct OutstandingPing {
    uint64_t nonce = 0;
    std::chrono::microseconds sent{0};
  };

  void Queue(Message message);
  void SendOurVersion();
  void OnVersion(const VersionMessage& version);
  void OnPong(const PongMessage& pong, std::chrono::microseconds now);
  void SendPing(std::chrono::microseconds now);
  void Fail(DisconnectReason reason, bool misbehaving, const std::string& detail);

  const Direction m_direction;
  const VersionMessage m_our_version;
  const OwnNonceCheck m_is_own_nonce;
  const PingNonceSource m_next_ping_nonce;
  const std::chrono::microseconds m_start;

  SessionState m_state = SessionState::kAwaitingVersion;
  bool m_sent_version = false;
  std::optional<VersionMessage> m_peer_version;
  std::optional<DisconnectDecision> m_disconnect;
  std::vector<Message> m_outgoing;

  std::chrono::microseconds m_last_received;
  std::optional<OutstandingPing> m_ping;
  std::optional<std::chrono::microseconds> m_last_ping_sent;
  std::optional<std::chrono::microseconds> m_last_latency;
  std::optional<std::chrono::microseconds> m_min_latency;

  uint64_t m_messages_received = 0;
  uint64_t m_messages_sent = 0;
  uint64_t m_unmatched_pongs = 0;
};

}  // namespace minicoin::net
