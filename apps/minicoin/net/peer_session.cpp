// PeerSession: the handshake and keep-alive of one peer connection.
#include "net/peer_session.h"

#include <utility>

namespace minicoin::net {
namespace {

using std::chrono::microseconds;

// "90.000250 s" for a duration, so log lines show exactly how late something was.
std::string Seconds(microseconds duration) {
  const int64_t us = duration.count();
  const int64_t whole = us / 1'000'000;
  int64_t fraction = us % 1'000'000;
  if (fraction < 0) fraction = -fraction;
  std::string digits = std::to_string(fraction);
  digits.insert(0, 6 - digits.size(), '0');
  return std::to_string(whole) + "." + digits + " s";
}

}  // namespace

std::string_view DisconnectReasonName(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::kMessageBeforeVersion:
      return "message before version";
    case DisconnectReason::kDuplicateVersion:
      return "duplicate version";
    case DisconnectReason::kVerackBeforeVersion:
      return "verack before version";
    case DisconnectReason::kMessageBeforeVerack:
      return "message before verack";
    case DisconnectReason::kDuplicateVerack:
      return "duplicate verack";
    case DisconnectReason::kObsoleteVersion:
      return "obsolete protocol version";
    case DisconnectReason::kSelfConnection:
      return "self-connection";
    case DisconnectReason::kHandshakeTimedOut:
      return "handshake timeout";
    case DisconnectReason::kPingTimedOut:
      return "ping timeout";
    case DisconnectReason::kInactivity:
      return "inactivity";
  }
  return "unknown";
}

PeerSession::PeerSession(Direction direction, VersionMessage our_version,
                         OwnNonceCheck is_own_nonce, PingNonceSource next_ping_nonce,
                         microseconds start)
    : m_direction(direction),
      m_our_version(std::move(our_version)),
      m_is_own_nonce(std::move(is_own_nonce)),
      m_next_ping_nonce(std::move(next_ping_nonce)),
      m_start(start),
      m_last_received(start) {
  if (m_direction == Direction::kOutbound) SendOurVersion();
}

std::optional<uint64_t> PeerSession::OutstandingPingNonce() const {
  if (!m_ping) return std::nullopt;
  return m_ping->nonce;
}

std::vector<Message> PeerSession::TakeOutgoing() { return std::exchange(m_outgoing, {}); }

void PeerSession::Queue(Message message) {
  m_outgoing.push_back(std::move(message));
  ++m_messages_sent;
}

void PeerSession::SendOurVersion() {
  Queue(m_our_version);
  m_sent_version = true;
}

void PeerSession::Fail(DisconnectReason reason, bool misbehaving, const std::string& detail) {
  std::string message(DisconnectReasonName(reason));
  if (!detail.empty()) message += ": " + detail;
  m_disconnect = DisconnectDecision{reason, misbehaving, std::move(message)};
  m_state = SessionState::kDisconnected;
  m_ping.reset();
}

std::optional<Message> PeerSession::OnMessage(Message message, microseconds now) {
  if (m_state == SessionState::kDisconnected) return std::nullopt;
  ++m_messages_received;
  m_last_received = now;

  if (const auto* version = std::get_if<VersionMessage>(&message)) {
    if (m_peer_version) {
      Fail(DisconnectReason::kDuplicateVersion, true, "the peer sent a second version");
    } else {
      OnVersion(*version);
    }
    return std::nullopt;
  }

  switch (m_state) {
    case SessionState::kAwaitingVersion:
      if (std::holds_alternative<VerackMessage>(message)) {
        Fail(DisconnectReason::kVerackBeforeVersion, true, "the peer's verack came first");
      } else {
        Fail(DisconnectReason::kMessageBeforeVersion, true,
             "the peer sent " + std::string(CommandOf(message)) + " before its version");
      }
      return std::nullopt;
    case SessionState::kAwaitingVerack:
      if (std::holds_alternative<VerackMessage>(message)) {
        m_state = SessionState::kReady;
        SendPing(now);
      } else {
        Fail(DisconnectReason::kMessageBeforeVerack, true,
             "the peer sent " + std::string(CommandOf(message)) + " before its verack");
      }
      return std::nullopt;
    case SessionState::kReady:
      break;
    case SessionState::kDisconnected:
      return std::nullopt;
  }

  if (std::holds_alternative<VerackMessage>(message)) {
    Fail(DisconnectReason::kDuplicateVerack, true, "the peer sent a second verack");
    return std::nullopt;
  }
  if (const auto* ping = std::get_if<PingMessage>(&message)) {
    Queue(PongMessage{ping->nonce});
    return std::nullopt;
  }
  if (const auto* pong = std::get_if<PongMessage>(&message)) {
    OnPong(*pong, now);
    return std::nullopt;
  }
  return message;
}

void PeerSession::OnVersion(const VersionMessage& version) {
  if (m_is_own_nonce && m_is_own_nonce(version.nonce)) {
    Fail(DisconnectReason::kSelfConnection, false,
         "the peer's version carries our own nonce " + std::to_string(version.nonce));
    return;
  }
  if (version.version < kMinPeerProtocolVersion) {
    Fail(DisconnectReason::kObsoleteVersion, false,
         "the peer speaks version " + std::to_string(version.version) + ", the minimum is " +
             std::to_string(kMinPeerProtocolVersion));
    return;
  }
  m_peer_version = version;
  if (!m_sent_version) SendOurVersion();
  Queue(VerackMessage{});
  m_state = SessionState::kAwaitingVerack;
}

void PeerSession::OnPong(const PongMessage& pong, microseconds now) {
  if (!m_ping || pong.nonce != m_ping->nonce) {
    ++m_unmatched_pongs;
    return;
  }
  microseconds latency = now - m_ping->sent;
  if (latency < microseconds{0}) latency = microseconds{0};
  m_last_latency = latency;
  if (!m_min_latency || latency < *m_min_latency) m_min_latency = latency;
  m_ping.reset();
}

void PeerSession::SendPing(microseconds now) {
  const uint64_t nonce = m_next_ping_nonce ? m_next_ping_nonce() : m_messages_sent + 1;
  m_ping = OutstandingPing{nonce, now};
  m_last_ping_sent = now;
  Queue(PingMessage{nonce});
}

bool PeerSession::PingNow(microseconds now) {
  if (m_state != SessionState::kReady || m_ping) return false;
  SendPing(now);
  return true;
}

void PeerSession::OnTick(microseconds now) {
  if (m_state == SessionState::kDisconnected) return;
  if (m_state != SessionState::kReady && now - m_start > kHandshakeTimeout) {
    Fail(DisconnectReason::kHandshakeTimedOut, false,
         "no complete handshake " + Seconds(now - m_start) + " after the connection started");
    return;
  }
  if (m_ping && now - m_ping->sent > kPingTimeout) {
    Fail(
        DisconnectReason::kPingTimedOut, false,
        "ping " + std::to_string(m_ping->nonce) + " unanswered for " + Seconds(now - m_ping->sent));
    return;
  }
  if (now - m_last_received > kInactivityTimeout) {
    Fail(DisconnectReason::kInactivity, false,
         "nothing received for " + Seconds(now - m_last_received));
    return;
  }
  if (m_state == SessionState::kReady && !m_ping &&
      (!m_last_ping_sent || now - *m_last_ping_sent >= kPingInterval)) {
    SendPing(now);
  }
}

}  // namespace minicoin::net
