// The contract between the connection manager (sockets, framing, handshakes, addresses, bans)
// and the peer logic above it (sync, relay, misbehaviour): PeerSink is what the manager offers,
// PeerHandler what the logic implements.
#pragma once

#include "net/protocol.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace minicoin::net {

// A connection's number, unique for the life of a connection manager (never reused).
using PeerId = int64_t;

// What the logic learns about a peer when its handshake completes. Value type.
struct PeerConnected {
  std::string address;  // "ip:port" ("[ip]:port" for IPv6)
  bool inbound = false;
  // Outbound connections to -connect / -addnode / addnode targets.
  bool manual = false;
  VersionMessage version;  // the peer's version message
};

// A sent message waits in its connection's send queue: past this many bytes the logic stops
// answering the peer's data requests until PeerHandler::SendSpaceAvailable.
inline constexpr std::size_t kSendQueuePauseBytes = 4u << 20;

// Offered by the connection manager to the logic. Thread-safe; every method returns at once.
class PeerSink {
 public:
  virtual ~PeerSink() = default;
  // Queues `message` for `peer`. Ignored if the peer is gone or being disconnected.
  virtual void Send(PeerId peer, const Message& message) = 0;
  // Closes the connection (queued messages may be dropped) and logs `reason`.
  virtual void Disconnect(PeerId peer, const std::string& reason) = 0;
  // The peer broke a rule: logs `reason`, closes the connection and bans the peer's IP address
  // for the ban time (no inbound connection from it is accepted, no outbound one is made).
  virtual void Misbehaving(PeerId peer, const std::string& reason) = 0;
  // Bytes queued for `peer` and not yet written to its socket; 0 if the peer is gone.
  virtual std::size_t QueuedSendBytes(PeerId peer) const = 0;
};

// Implemented by the peer logic. The connection manager calls every method from one thread of
// its own (the message thread), one call at a time; the logic needs no locking of its own for
// state touched only from these calls.
class PeerHandler {
 public:
  virtual ~PeerHandler() = default;
  // `peer`'s handshake completed: from now on its messages come to ProcessMessage.
  virtual void PeerConnected(PeerId peer, const PeerConnected& info,
                             std::chrono::microseconds now) = 0;
  // A peer that was passed to PeerConnected is gone (whatever the reason).
  virtual void PeerDisconnected(PeerId peer) = 0;
  // One message from a connected peer, in the order received. version, verack, ping, pong,
  // getaddr and addr are handled by the manager and never come here.
  virtual void ProcessMessage(PeerId peer, Message message, std::chrono::microseconds now) = 0;
  // `peer`'s send queue fell below kSendQueuePauseBytes after having been above it.
  virtual void SendSpaceAvailable(PeerId peer, std::chrono::microseconds now) = 0;
  // When a round of ProcessMessage calls leaves no input queued (so everything that has arrived
  // was handed over first), and at least every 100 ms: the logic's timers (stalled downloads)
  // and batched work (received blocks) run here.
  virtual void OnTick(std::chrono::microseconds now) = 0;
};

}  // namespace minicoin::net
