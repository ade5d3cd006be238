// Tests of PeerSession: the handshake both ways, every violation, the timeouts at and over their
// limits, ping/pong and the delivery of other messages.
#include "net/peer_session.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace minicoin::net {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr microseconds kStart = seconds{1'000'000};

VersionMessage VersionWithNonce(uint64_t nonce, std::string user_agent, uint32_t best_height) {
  VersionMessage version;
  version.services = kServiceNetwork;
  version.time = 1'700'000'000;
  version.nonce = nonce;
  version.user_agent = std::move(user_agent);
  version.best_height = best_height;
  return version;
}

// A message as the peer would see it: encoded, then decoded again.
Message RoundTrip(const Message& message) {
  const std::vector<uint8_t> payload = EncodePayload(message);
  DecodedMessage decoded = DecodeMessage(CommandOf(message), payload);
  EXPECT_EQ(decoded.status, DecodedMessage::Status::kOk) << decoded.error;
  return decoded.message.value_or(Message{VerackMessage{}});
}

std::vector<std::string> Commands(const std::vector<Message>& messages) {
  std::vector<std::string> commands;
  commands.reserve(messages.size());
  for (const Message& message : messages) commands.emplace_back(CommandOf(message));
  return commands;
}

// A ping nonce source counting up from `first`.
PeerSession::PingNonceSource Counter(uint64_t first) {
  auto next = std::make_shared<uint64_t>(first);
  return [next] { return (*next)++; };
}

// One node's view: its own nonces and a session. The nonce set is shared by the test and the
// sessions' checks of one node, as a node's sessions would share it.
std::unique_ptr<PeerSession> MakeSession(PeerSession::Direction direction,
                                         VersionMessage our_version,
                                         const std::shared_ptr<std::set<uint64_t>>& own_nonces,
                                         uint64_t first_ping_nonce, microseconds start = kStart) {
  own_nonces->insert(our_version.nonce);
  return std::make_unique<PeerSession>(
      direction, std::move(our_version),
      [own_nonces](uint64_t nonce) { return own_nonces->contains(nonce); },
      Counter(first_ping_nonce), start);
}

std::unique_ptr<PeerSession> Outbound(uint64_t nonce = 11, microseconds start = kStart) {
  return MakeSession(PeerSession::Direction::kOutbound, VersionWithNonce(nonce, "/us:1/", 5),
                     std::make_shared<std::set<uint64_t>>(), 1000, start);
}
std::unique_ptr<PeerSession> Inbound(uint64_t nonce = 22, microseconds start = kStart) {
  return MakeSession(PeerSession::Direction::kInbound, VersionWithNonce(nonce, "/us:1/", 5),
                     std::make_shared<std::set<uint64_t>>(), 2000, start);
}

VersionMessage PeerVersion() { return VersionWithNonce(99, "/peer:2/", 42); }

// An outbound session whose handshake completed at `kStart`; its first ping (nonce 1000) is
// outstanding and the outgoing queue is empty.
std::unique_ptr<PeerSession> ReadySession() {
  auto session = Outbound();
  session->OnMessage(PeerVersion(), kStart);
  session->OnMessage(VerackMessage{}, kStart);
  EXPECT_EQ(Commands(session->TakeOutgoing()),
            (std::vector<std::string>{"version", "verack", "ping"}));
  EXPECT_TRUE(session->HandshakeComplete());
  return session;
}

void ExpectDisconnect(const PeerSession& session, DisconnectReason reason, bool misbehaving) {
  ASSERT_TRUE(session.Disconnect().has_value());
  EXPECT_EQ(session.Disconnect()->reason, reason) << session.Disconnect()->message;
  EXPECT_EQ(session.Disconnect()->misbehaving, misbehaving);
  EXPECT_EQ(session.Disconnect()->message.rfind(DisconnectReasonName(reason), 0), 0u)
      << session.Disconnect()->message;
  EXPECT_EQ(session.State(), SessionState::kDisconnected);
}

// Passes every queued message of each session to the other (encoded and decoded) until both
// queues are empty; returns what either session delivered to its owner.
std::vector<Message> Exchange(PeerSession& a, PeerSession& b, microseconds now) {
  std::vector<Message> delivered;
  for (;;) {
    std::vector<Message> from_a = a.TakeOutgoing();
    std::vector<Message> from_b = b.TakeOutgoing();
    if (from_a.empty() && from_b.empty()) return delivered;
    for (const Message& m : from_a) {
      if (auto out = b.OnMessage(RoundTrip(m), now)) delivered.push_back(std::move(*out));
    }
    for (const Message& m : from_b) {
      if (auto out = a.OnMessage(RoundTrip(m), now)) delivered.push_back(std::move(*out));
    }
  }
}

TEST(PeerSessionTest, ReasonNamesAreDistinct) {
  std::set<std::string_view> names;
  for (DisconnectReason reason :
       {DisconnectReason::kMessageBeforeVersion, DisconnectReason::kDuplicateVersion,
        DisconnectReason::kVerackBeforeVersion, DisconnectReason::kMessageBeforeVerack,
        DisconnectReason::kDuplicateVerack, DisconnectReason::kObsoleteVersion,
        DisconnectReason::kSelfConnection, DisconnectReason::kHandshakeTimedOut,
        DisconnectReason::kPingTimedOut, DisconnectReason::kInactivity}) {
    EXPECT_FALSE(DisconnectReasonName(reason).empty());
    names.insert(DisconnectReasonName(reason));
  }
  EXPECT_EQ(names.size(), 10u);
}

TEST(PeerSessionTest, HandshakeMessageOrderStepByStep) {
  auto outbound = MakeSession(PeerSession::Direction::kOutbound, VersionWithNonce(1, "/a:1/", 7),
                              std::make_shared<std::set<uint64_t>>(), 100);
  auto inbound = MakeSession(PeerSession::Direction::kInbound, VersionWithNonce(2, "/b:1/", 9),
                             std::make_shared<std::set<uint64_t>>(), 200);

  // The outbound side speaks first; the inbound side waits.
  std::vector<Message> step = outbound->TakeOutgoing();
  EXPECT_EQ(Commands(step), std::vector<std::string>{"version"});
  EXPECT_TRUE(inbound->TakeOutgoing().empty());

  // Inbound gets the version: answers with its own version, then verack.
  EXPECT_FALSE(inbound->OnMessage(RoundTrip(step[0]), kStart));
  EXPECT_EQ(inbound->State(), SessionState::kAwaitingVerack);
  step = inbound->TakeOutgoing();
  EXPECT_EQ(Commands(step), (std::vector<std::string>{"version", "verack"}));

  // Outbound gets version and verack: sends verack, completes, sends its first ping.
  EXPECT_FALSE(outbound->OnMessage(RoundTrip(step[0]), kStart));
  EXPECT_EQ(outbound->State(), SessionState::kAwaitingVerack);
  EXPECT_FALSE(outbound->OnMessage(RoundTrip(step[1]), kStart));
  EXPECT_EQ(outbound->State(), SessionState::kReady);
  step = outbound->TakeOutgoing();
  EXPECT_EQ(Commands(step), (std::vector<std::string>{"verack", "ping"}));
  EXPECT_EQ(std::get<PingMessage>(step[1]).nonce, 100u);

  // Inbound gets verack and ping: completes, pings, answers the ping.
  EXPECT_FALSE(inbound->OnMessage(RoundTrip(step[0]), kStart));
  EXPECT_EQ(inbound->State(), SessionState::kReady);
  EXPECT_FALSE(inbound->OnMessage(RoundTrip(step[1]), kStart + milliseconds{1}));
  step = inbound->TakeOutgoing();
  EXPECT_EQ(Commands(step), (std::vector<std::string>{"ping", "pong"}));
  EXPECT_EQ(std::get<PingMessage>(step[0]).nonce, 200u);
  EXPECT_EQ(std::get<PongMessage>(step[1]).nonce, 100u);

  // Each side knows the other's version fields.
  ASSERT_TRUE(outbound->PeerVersion().has_value());
  EXPECT_EQ(outbound->PeerVersion()->user_agent, "/b:1/");
  EXPECT_EQ(outbound->PeerVersion()->best_height, 9u);
  EXPECT_EQ(outbound->PeerVersion()->services, kServiceNetwork);
  EXPECT_EQ(outbound->PeerVersion()->version, kProtocolVersion);
  ASSERT_TRUE(inbound->PeerVersion().has_value());
  EXPECT_EQ(inbound->PeerVersion()->user_agent, "/a:1/");
  EXPECT_EQ(inbound->PeerVersion()->best_height, 7u);
  EXPECT_EQ(inbound->GetDirection(), PeerSession::Direction::kInbound);
  EXPECT_EQ(outbound->GetDirection(), PeerSession::Direction::kOutbound);
}

TEST(PeerSessionTest, HandshakeBothWaysThroughTheWireFormat) {
  for (bool a_outbound : {true, false}) {
    auto a = MakeSession(
        a_outbound ? PeerSession::Direction::kOutbound : PeerSession::Direction::kInbound,
        VersionWithNonce(1, "/a:1/", 7), std::make_shared<std::set<uint64_t>>(), 100);
    auto b = MakeSession(
        a_outbound ? PeerSession::Direction::kInbound : PeerSession::Direction::kOutbound,
        VersionWithNonce(2, "/b:1/", 9), std::make_shared<std::set<uint64_t>>(), 200);
    EXPECT_TRUE(Exchange(*a, *b, kStart).empty());
    EXPECT_TRUE(a->HandshakeComplete());
    EXPECT_TRUE(b->HandshakeComplete());
    EXPECT_FALSE(a->Disconnect().has_value());
    EXPECT_FALSE(b->Disconnect().has_value());
    // Both first pings were answered within the exchange.
    EXPECT_FALSE(a->OutstandingPingNonce().has_value());
    EXPECT_FALSE(b->OutstandingPingNonce().has_value());
    EXPECT_EQ(a->LastPingLatency(), microseconds{0});
    // version, verack, ping, pong each way.
    EXPECT_EQ(a->MessagesSent(), 4u);
    EXPECT_EQ(a->MessagesReceived(), 4u);
    EXPECT_EQ(b->MessagesSent(), 4u);
    EXPECT_EQ(b->MessagesReceived(), 4u);

    // Other messages now pass through unchanged, in both directions.
    InvMessage inv{{{InvType::kBlock, Uint256{}}}};
    auto delivered = b->OnMessage(RoundTrip(inv), kStart + seconds{1});
    ASSERT_TRUE(delivered.has_value());
    EXPECT_EQ(std::get<InvMessage>(*delivered), inv);
    delivered = a->OnMessage(RoundTrip(GetAddrMessage{}), kStart + seconds{1});
    ASSERT_TRUE(delivered.has_value());
    EXPECT_TRUE(std::holds_alternative<GetAddrMessage>(*delivered));
  }
}

TEST(PeerSessionTest, OtherMessagesAreDeliveredUnchangedAfterTheHandshake) {
  auto session = ReadySession();
  const std::vector<Message> messages = {
      SendHeadersMessage{},
      FeeFilterMessage{1234},
      GetHeadersMessage{kProtocolVersion, {Uint256{}}, Uint256{}},
      AddrMessage{{AddrEntry{5, NetAddress::FromIpv4(8, 8, 8, 8, 8333, 1)}}},
      NotFoundMessage{{{InvType::kTx, Uint256{}}}},
  };
  for (const Message& message : messages) {
    auto delivered = session->OnMessage(message, kStart + seconds{1});
    ASSERT_TRUE(delivered.has_value()) << CommandOf(message);
    EXPECT_EQ(*delivered, message);
  }
  EXPECT_TRUE(session->TakeOutgoing().empty());
  EXPECT_FALSE(session->Disconnect().has_value());
  EXPECT_EQ(session->MessagesReceived(), 2 + messages.size());
}

TEST(PeerSessionTest, MessageBeforeVersionIsMisbehaviour) {
  auto session = Inbound();
  EXPECT_FALSE(session->OnMessage(PingMessage{5}, kStart));
  ExpectDisconnect(*session, DisconnectReason::kMessageBeforeVersion, true);
  EXPECT_NE(session->Disconnect()->message.find("ping"), std::string::npos);
  EXPECT_TRUE(session->TakeOutgoing().empty());

  // A delivered kind of message is not delivered before the handshake either.
  auto outbound = Outbound();
  EXPECT_FALSE(outbound->OnMessage(InvMessage{}, kStart));
  ExpectDisconnect(*outbound, DisconnectReason::kMessageBeforeVersion, true);
}

TEST(PeerSessionTest, VerackBeforeVersionIsMisbehaviour) {
  auto session = Outbound();
  session->OnMessage(VerackMessage{}, kStart);
  ExpectDisconnect(*session, DisconnectReason::kVerackBeforeVersion, true);
}

TEST(PeerSessionTest, SecondVersionIsMisbehaviour) {
  // Before the verack.
  auto session = Inbound();
  session->OnMessage(PeerVersion(), kStart);
  session->OnMessage(PeerVersion(), kStart);
  ExpectDisconnect(*session, DisconnectReason::kDuplicateVersion, true);

  // After the handshake.
  auto ready = ReadySession();
  ready->OnMessage(PeerVersion(), kStart + seconds{1});
  ExpectDisconnect(*ready, DisconnectReason::kDuplicateVersion, true);
}

TEST(PeerSessionTest, MessageBetweenVersionAndVerackIsMisbehaviour) {
  auto session = Outbound();
  session->OnMessage(PeerVersion(), kStart);
  EXPECT_FALSE(session->OnMessage(PingMessage{3}, kStart));
  ExpectDisconnect(*session, DisconnectReason::kMessageBeforeVerack, true);
  EXPECT_NE(session->Disconnect()->message.find("ping"), std::string::npos);
}

TEST(PeerSessionTest, SecondVerackIsMisbehaviour) {
  auto session = ReadySession();
  session->OnMessage(VerackMessage{}, kStart + seconds{1});
  ExpectDisconnect(*session, DisconnectReason::kDuplicateVerack, true);
}

TEST(PeerSessionTest, ObsoleteVersionDisconnectsWithoutMisbehaviour) {
  static_assert(kMinPeerProtocolVersion > 0);
  VersionMessage old = PeerVersion();
  old.version = kMinPeerProtocolVersion - 1;
  auto session = Inbound();
  session->OnMessage(old, kStart);
  ExpectDisconnect(*session, DisconnectReason::kObsoleteVersion, false);
  EXPECT_FALSE(session->PeerVersion().has_value());
  // An inbound session says nothing to a peer it refuses.
  EXPECT_TRUE(session->TakeOutgoing().empty());

  // Exactly the minimum is accepted.
  VersionMessage minimum = PeerVersion();
  minimum.version = kMinPeerProtocolVersion;
  auto accepted = Inbound();
  accepted->OnMessage(minimum, kStart);
  EXPECT_EQ(accepted->State(), SessionState::kAwaitingVerack);
}

TEST(PeerSessionTest, SelfConnectionIsDetected) {
  // One node, one nonce set: its outbound connection reached its own listening side.
  auto own_nonces = std::make_shared<std::set<uint64_t>>();
  auto outbound = MakeSession(PeerSession::Direction::kOutbound, VersionWithNonce(77, "/me/", 1),
                              own_nonces, 100);
  auto inbound = MakeSession(PeerSession::Direction::kInbound, VersionWithNonce(78, "/me/", 1),
                             own_nonces, 200);
  Exchange(*outbound, *inbound, kStart);
  ExpectDisconnect(*inbound, DisconnectReason::kSelfConnection, false);
  EXPECT_NE(inbound->Disconnect()->message.find("77"), std::string::npos);
  EXPECT_FALSE(inbound->PeerVersion().has_value());
  // The inbound side sent nothing, so the outbound one is still waiting.
  EXPECT_EQ(outbound->State(), SessionState::kAwaitingVersion);
}

TEST(PeerSessionTest, NothingHappensAfterADisconnect) {
  auto session = ReadySession();
  session->OnMessage(VerackMessage{}, kStart);
  ExpectDisconnect(*session, DisconnectReason::kDuplicateVerack, true);
  const DisconnectDecision first = *session->Disconnect();
  const uint64_t received = session->MessagesReceived();

  EXPECT_FALSE(session->OnMessage(InvMessage{}, kStart));
  EXPECT_FALSE(session->OnMessage(PingMessage{1}, kStart));
  session->OnTick(kStart + std::chrono::hours{10});
  EXPECT_TRUE(session->TakeOutgoing().empty());
  EXPECT_EQ(session->Disconnect()->reason, first.reason);
  EXPECT_EQ(session->Disconnect()->message, first.message);
  EXPECT_EQ(session->MessagesReceived(), received);
}

TEST(PeerSessionTest, HandshakeTimeoutAtAndOverTheLimit) {
  // No version at all.
  auto silent = Outbound();
  silent->OnTick(kStart + kHandshakeTimeout);
  EXPECT_FALSE(silent->Disconnect().has_value());
  silent->OnTick(kStart + kHandshakeTimeout + seconds{1});
  ExpectDisconnect(*silent, DisconnectReason::kHandshakeTimedOut, false);
  EXPECT_NE(silent->Disconnect()->message.find("61.000000 s"), std::string::npos)
      << silent->Disconnect()->message;

  // A version but no verack: the peer being active does not extend the limit.
  auto half = Inbound();
  half->OnMessage(PeerVersion(), kStart + seconds{59});
  half->OnTick(kStart + kHandshakeTimeout);
  EXPECT_FALSE(half->Disconnect().has_value());
  half->OnTick(kStart + kHandshakeTimeout + seconds{1});
  ExpectDisconnect(*half, DisconnectReason::kHandshakeTimedOut, false);

  // A complete handshake is not subject to it.
  auto ready = ReadySession();
  ready->OnMessage(PongMessage{1000}, kStart + seconds{1});
  ready->OnTick(kStart + kHandshakeTimeout + seconds{1});
  EXPECT_FALSE(ready->Disconnect().has_value());
}

TEST(PeerSessionTest, PingLatencyIsRecorded) {
  auto session = ReadySession();
  ASSERT_EQ(session->OutstandingPingNonce(), 1000u);
  EXPECT_FALSE(session->LastPingLatency().has_value());

  session->OnMessage(PongMessage{1000}, kStart + milliseconds{250});
  EXPECT_FALSE(session->OutstandingPingNonce().has_value());
  EXPECT_EQ(session->LastPingLatency(), milliseconds{250});
  EXPECT_EQ(session->MinPingLatency(), milliseconds{250});

  // The next ping goes out exactly kPingInterval after the previous one was sent.
  session->OnTick(kStart + kPingInterval - microseconds{1});
  EXPECT_TRUE(session->TakeOutgoing().empty());
  session->OnTick(kStart + kPingInterval);
  std::vector<Message> sent = session->TakeOutgoing();
  ASSERT_EQ(Commands(sent), std::vector<std::string>{"ping"});
  EXPECT_EQ(std::get<PingMessage>(sent[0]).nonce, 1001u);

  // No second ping while this one is outstanding, however long it takes (within the timeout).
  session->OnTick(kStart + 2 * kPingInterval);
  EXPECT_TRUE(session->TakeOutgoing().empty());

  session->OnMessage(PongMessage{1001}, kStart + 2 * kPingInterval + microseconds{1});
  EXPECT_EQ(session->LastPingLatency(), kPingInterval + microseconds{1});
  EXPECT_EQ(session->MinPingLatency(), milliseconds{250});

  // A faster answer lowers the minimum.
  session->OnTick(kStart + 3 * kPingInterval);
  sent = session->TakeOutgoing();
  ASSERT_EQ(Commands(sent), std::vector<std::string>{"ping"});
  session->OnMessage(PongMessage{1002}, kStart + 3 * kPingInterval + microseconds{1500});
  EXPECT_EQ(session->LastPingLatency(), microseconds{1500});
  EXPECT_EQ(session->MinPingLatency(), microseconds{1500});
}

TEST(PeerSessionTest, PingNowSendsOnlyWhenReadyAndNoneIsOutstanding) {
  auto before = Outbound();
  EXPECT_FALSE(before->PingNow(kStart));
  EXPECT_EQ(Commands(before->TakeOutgoing()), std::vector<std::string>{"version"});

  auto session = ReadySession();
  // The first ping (1000) is outstanding: no second one.
  EXPECT_FALSE(session->PingNow(kStart + seconds{1}));
  EXPECT_TRUE(session->TakeOutgoing().empty());
  session->OnMessage(PongMessage{1000}, kStart + seconds{2});
  // Well before kPingInterval, an explicit ping still goes out.
  EXPECT_TRUE(session->PingNow(kStart + seconds{3}));
  std::vector<Message> sent = session->TakeOutgoing();
  ASSERT_EQ(Commands(sent), std::vector<std::string>{"ping"});
  EXPECT_EQ(std::get<PingMessage>(sent[0]).nonce, 1001u);
  session->OnMessage(PongMessage{1001}, kStart + seconds{3} + milliseconds{40});
  EXPECT_EQ(session->LastPingLatency(), milliseconds{40});
}

TEST(PeerSessionTest, UnmatchedPongsAreCountedAndIgnored) {
  auto session = ReadySession();
  session->OnMessage(PongMessage{999}, kStart + seconds{1});
  EXPECT_EQ(session->UnmatchedPongs(), 1u);
  EXPECT_EQ(session->OutstandingPingNonce(), 1000u);
  EXPECT_FALSE(session->LastPingLatency().has_value());
  EXPECT_FALSE(session->Disconnect().has_value());

  session->OnMessage(PongMessage{1000}, kStart + seconds{2});
  EXPECT_EQ(session->LastPingLatency(), seconds{2});
  // A pong when no ping is outstanding, even with the old nonce.
  session->OnMessage(PongMessage{1000}, kStart + seconds{3});
  EXPECT_EQ(session->UnmatchedPongs(), 2u);
  EXPECT_EQ(session->LastPingLatency(), seconds{2});
  EXPECT_TRUE(session->TakeOutgoing().empty());
}

TEST(PeerSessionTest, PeerPingIsAnsweredWithItsNonce) {
  auto session = ReadySession();
  for (uint64_t nonce : {uint64_t{0}, uint64_t{5}, ~uint64_t{0}}) {
    EXPECT_FALSE(session->OnMessage(PingMessage{nonce}, kStart + seconds{1}));
    std::vector<Message> sent = session->TakeOutgoing();
    ASSERT_EQ(Commands(sent), std::vector<std::string>{"pong"});
    EXPECT_EQ(std::get<PongMessage>(RoundTrip(sent[0])).nonce, nonce);
  }
}

TEST(PeerSessionTest, PingTimeoutAtAndOverTheLimit) {
  auto session = ReadySession();  // ping 1000 sent at kStart
  // The peer stays active (so inactivity never fires) but never answers the ping.
  for (microseconds t = kStart; t <= kStart + kPingTimeout; t += std::chrono::minutes{5}) {
    EXPECT_TRUE(session->OnMessage(InvMessage{}, t).has_value());
    session->OnTick(t);
  }
  session->OnTick(kStart + kPingTimeout);
  EXPECT_FALSE(session->Disconnect().has_value());
  EXPECT_TRUE(session->TakeOutgoing().empty());
  session->OnTick(kStart + kPingTimeout + seconds{1});
  ExpectDisconnect(*session, DisconnectReason::kPingTimedOut, false);
  EXPECT_NE(session->Disconnect()->message.find("1000"), std::string::npos);
}

TEST(PeerSessionTest, InactivityAtAndOverTheLimit) {
  auto session = ReadySession();
  session->OnMessage(PongMessage{1000}, kStart);  // the last thing the peer ever sends
  session->OnTick(kStart + kPingInterval);        // a new ping goes out, never answered
  EXPECT_EQ(session->OutstandingPingNonce(), 1001u);
  session->OnTick(kStart + kInactivityTimeout);
  EXPECT_FALSE(session->Disconnect().has_value());
  session->OnTick(kStart + kInactivityTimeout + seconds{1});
  ExpectDisconnect(*session, DisconnectReason::kInactivity, false);

  // Before the handshake the shorter handshake timeout applies; inactivity is measured from the
  // connection's start too.
  static_assert(kHandshakeTimeout < kInactivityTimeout);
}

TEST(PeerSessionTest, ClockGoingBackwardsNeitherDisconnectsNorGivesNegativeLatency) {
  auto session = ReadySession();
  session->OnTick(kStart - std::chrono::hours{1});
  EXPECT_FALSE(session->Disconnect().has_value());
  session->OnMessage(PongMessage{1000}, kStart - seconds{5});
  EXPECT_EQ(session->LastPingLatency(), microseconds{0});
}

TEST(PeerSessionTest, MissingCallbacksStillWork) {
  // No self-connection check and no nonce source: pings are numbered by messages sent.
  PeerSession session(PeerSession::Direction::kInbound, VersionWithNonce(1, "/x/", 0), nullptr,
                      nullptr, kStart);
  session.OnMessage(PeerVersion(), kStart);
  session.OnMessage(VerackMessage{}, kStart);
  std::vector<Message> sent = session.TakeOutgoing();
  ASSERT_EQ(Commands(sent), (std::vector<std::string>{"version", "verack", "ping"}));
  EXPECT_EQ(session.OutstandingPingNonce(), std::get<PingMessage>(sent[2]).nonce);
}

// Random inputs with fixed seeds: whatever the peer sends and however time moves, the session's
// decisions stay consistent.
TEST(PeerSessionTest, RandomInputsKeepTheInvariants) {
  int delivered_count = 0;
  std::set<DisconnectReason> reasons_seen;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    const bool outbound = rng() % 2 == 0;
    auto session = outbound ? Outbound(11) : Inbound(11);
    microseconds now = kStart;
    std::optional<uint64_t> last_ping_queued;
    if (seed % 4 != 0) {  // most seeds start from a proper handshake
      session->OnMessage(PeerVersion(), now);
      session->OnMessage(VerackMessage{}, now);
    }
    for (int step = 0; step < 60 && !session->Disconnect(); ++step) {
      now += microseconds{static_cast<int64_t>(rng() % 400'000'000)};  // up to 400 s
      const SessionState before = session->State();
      std::optional<Message> delivered;
      switch (rng() % 7) {
        case 0: {
          VersionMessage version = PeerVersion();
          version.version = static_cast<uint32_t>(rng() % 3);
          version.nonce = rng() % 16 == 0 ? 11 : 99;
          delivered = session->OnMessage(version, now);
          break;
        }
        case 1:
          delivered = session->OnMessage(VerackMessage{}, now);
          break;
        case 2:
          delivered = session->OnMessage(PingMessage{rng()}, now);
          break;
        case 3: {
          const uint64_t nonce = rng() % 2 == 0 && last_ping_queued ? *last_ping_queued : rng();
          delivered = session->OnMessage(PongMessage{nonce}, now);
          break;
        }
        case 4:
          delivered = session->OnMessage(InvMessage{}, now);
          break;
        default:
          session->OnTick(now);
          break;
      }
      if (delivered) {
        ++delivered_count;
        EXPECT_EQ(before, SessionState::kReady) << "seed " << seed;
        EXPECT_TRUE(std::holds_alternative<InvMessage>(*delivered)) << "seed " << seed;
      }
      for (const Message& message : session->TakeOutgoing()) {
        if (const auto* ping = std::get_if<PingMessage>(&message)) last_ping_queued = ping->nonce;
      }
      if (session->OutstandingPingNonce()) {
        EXPECT_EQ(session->OutstandingPingNonce(), last_ping_queued) << "seed " << seed;
      }
      EXPECT_EQ(session->Disconnect().has_value(), session->State() == SessionState::kDisconnected)
          << "seed " << seed;
      if (session->Disconnect()) {
        const DisconnectReason reason = session->Disconnect()->reason;
        const bool violation = reason != DisconnectReason::kObsoleteVersion &&
                               reason != DisconnectReason::kSelfConnection &&
                               reason != DisconnectReason::kHandshakeTimedOut &&
                               reason != DisconnectReason::kPingTimedOut &&
                               reason != DisconnectReason::kInactivity;
        EXPECT_EQ(session->Disconnect()->misbehaving, violation) << "seed " << seed;
        EXPECT_FALSE(session->Disconnect()->message.empty());
        reasons_seen.insert(reason);
      }
    }
    // Once disconnected, nothing more comes out.
    if (session->Disconnect()) {
      session->OnMessage(PingMessage{1}, now);
      session->OnTick(now + std::chrono::hours{1});
      EXPECT_TRUE(session->TakeOutgoing().empty()) << "seed " << seed;
    }
  }
  // The seeds reach past the handshake and end connections for many different reasons.
  EXPECT_GT(delivered_count, 50);
  EXPECT_GE(reasons_seen.size(), 6u) << reasons_seen.size();
}

}  // namespace
}  // namespace minicoin::net
