// minicoin's peer-to-peer messages: their limits, their payload encodings and typed decoding.
//
// A message on the wire is a 24-byte header followed by a payload (see framing.h). This header
// defines what the payloads mean: one struct per command, each with Encode and a strict Decode
// (truncated data, trailing bytes, counts over a limit and out-of-range values are errors), and
// DecodeMessage, which turns a command and its payload into one of those structs. Everything here
// is plain data and functions: no sockets, no threads. docs/network.md describes the format.
#pragma once

#include "primitives/block.h"
#include "primitives/hash.h"
#include "primitives/serialize.h"
#include "primitives/transaction.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace minicoin::net {

// The four bytes that start every message of one chain (ChainParams::magic).
using Magic = std::array<uint8_t, 4>;

// The header: magic (4), command (12), payload length (u32), checksum (4).
inline constexpr std::size_t kMessageHeaderSize = 24;
// A command is 1 to 12 printable ASCII characters (0x21 to 0x7e), NUL-padded to 12 bytes.
inline constexpr std::size_t kCommandSize = 12;
// The largest payload a message may carry: four times the largest block (kMaxBlockSize,
// 1,000,000 bytes), so that every valid block fits with room to spare.
inline constexpr std::size_t kMaxMessageSize = 4'000'000;
// The protocol version this code speaks (sent in version and getheaders).
inline constexpr uint32_t kProtocolVersion = 1;
// A version message's user agent: at most this many bytes, printable ASCII (0x20 to 0x7e).
inline constexpr std::size_t kMaxUserAgentLength = 256;
// Entries in one addr message.
inline constexpr std::size_t kMaxAddrEntries = 1'000;
// Entries in one inv, getdata or notfound message.
inline constexpr std::size_t kMaxInvEntries = 50'000;
// Hashes in a getheaders locator.
inline constexpr std::size_t kMaxLocatorHashes = 101;
// Block headers in one headers message.
inline constexpr std::size_t kMaxHeadersEntries = 2'000;

// Services bit: the node serves the full chain (blocks and transactions).
inline constexpr uint64_t kServiceNetwork = 1;

// A peer's network address: an IPv6 address (IPv4 as ::ffff:a.b.c.d) and a port. Value type.
struct NetAddress {
  uint64_t services = 0;
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;

  // The IPv4 address a.b.c.d as ::ffff:a.b.c.d.
  static NetAddress FromIpv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port,
                             uint64_t services);
  bool operator==(const NetAddress&) const = default;
};

// "version": the first message each side sends.
struct VersionMessage {
  static constexpr std::string_view kCommand = "version";
  uint32_t version = kProtocolVersion;
  uint64_t services = 0;
  int64_t time = 0;        // the sender's clock, seconds since 1970
  NetAddress receiver;     // the address the sender sees the receiver at
  NetAddress sender;       // the sender's own address, as far as it knows it
  uint64_t nonce = 0;      // random; a node receiving its own nonce is connected to itself
  std::string user_agent;  // for example "/minicoin:1.0/"
  uint32_t best_height = 0;

  std::vector<uint8_t> Encode() const;
  static VersionMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const VersionMessage&) const = default;
};

// Messages with an empty payload.
struct VerackMessage {
  static constexpr std::string_view kCommand = "verack";
  std::vector<uint8_t> Encode() const { return {}; }
  static VerackMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const VerackMessage&) const = default;
};
struct GetAddrMessage {
  static constexpr std::string_view kCommand = "getaddr";
  std::vector<uint8_t> Encode() const { return {}; }
  static GetAddrMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const GetAddrMessage&) const = default;
};
// Asks the receiver to announce new blocks with headers rather than inv.
struct SendHeadersMessage {
  static constexpr std::string_view kCommand = "sendheaders";
  std::vector<uint8_t> Encode() const { return {}; }
  static SendHeadersMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const SendHeadersMessage&) const = default;
};

// "ping" asks for a "pong" carrying the same nonce.
struct PingMessage {
  static constexpr std::string_view kCommand = "ping";
  uint64_t nonce = 0;
  std::vector<uint8_t> Encode() const;
  static PingMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const PingMessage&) const = default;
};
struct PongMessage {
  static constexpr std::string_view kCommand = "pong";
  uint64_t nonce = 0;
  std::vector<uint8_t> Encode() const;
  static PongMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const PongMessage&) const = default;
};

// One known peer address, with when it was last seen.
struct AddrEntry {
  uint32_t time = 0;  // seconds since 1970
  NetAddress address;
  bool operator==(const AddrEntry&) const = default;
};

// "addr": peer addresses, at most kMaxAddrEntries.
struct AddrMessage {
  static constexpr std::string_view kCommand = "addr";
  std::vector<AddrEntry> entries;
  std::vector<uint8_t> Encode() const;
  static AddrMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const AddrMessage&) const = default;
};

// What an inventory entry names. Other values are rejected.
enum class InvType : uint32_t { kTx = 1, kBlock = 2 };

struct InvEntry {
  InvType type = InvType::kTx;
  Uint256 hash;  // a Txid or a block hash
  bool operator==(const InvEntry&) const = default;
};

// "inv" announces, "getdata" requests, "notfound" answers a getdata for what the sender does
// not have. Each carries at most kMaxInvEntries entries.
struct InvMessage {
  static constexpr std::string_view kCommand = "inv";
  std::vector<InvEntry> entries;
  std::vector<uint8_t> Encode() const;
  static InvMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const InvMessage&) const = default;
};
struct GetDataMessage {
  static constexpr std::string_view kCommand = "getdata";
  std::vector<InvEntry> entries;
  std::vector<uint8_t> Encode() const;
  static GetDataMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const GetDataMessage&) const = default;
};
struct NotFoundMessage {
  static constexpr std::string_view kCommand = "notfound";
  std::vector<InvEntry> entries;
  std::vector<uint8_t> Encode() const;
  static NotFoundMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const NotFoundMessage&) const = default;
};

// "getheaders": asks for the headers after the first locator hash the receiver knows, up to
// `stop` (zero: as many as fit in one headers message).
struct GetHeadersMessage {
  static constexpr std::string_view kCommand = "getheaders";
  uint32_t version = kProtocolVersion;
  std::vector<Uint256> locator;  // at most kMaxLocatorHashes, newest first
  Uint256 stop;
  std::vector<uint8_t> Encode() const;
  static GetHeadersMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const GetHeadersMessage&) const = default;
};

// "headers": consecutive block headers, at most kMaxHeadersEntries, 80 bytes each.
struct HeadersMessage {
  static constexpr std::string_view kCommand = "headers";
  std::vector<BlockHeader> headers;
  std::vector<uint8_t> Encode() const;
  static HeadersMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const HeadersMessage&) const = default;
};

// "block": one block, encoded as Block::Encode (its validity is the chain's business).
struct BlockMessage {
  static constexpr std::string_view kCommand = "block";
  Block block;
  std::vector<uint8_t> Encode() const { return block.Encode(); }
  static BlockMessage Decode(std::span<const uint8_t> payload) { return {Block::Decode(payload)}; }
  bool operator==(const BlockMessage&) const = default;
};

// "tx": one transaction, encoded as Transaction::Encode.
struct TxMessage {
  static constexpr std::string_view kCommand = "tx";
  Transaction tx;
  std::vector<uint8_t> Encode() const { return tx.Encode(); }
  static TxMessage Decode(std::span<const uint8_t> payload) {
    return {Transaction::Decode(payload)};
  }
  bool operator==(const TxMessage&) const = default;
};

// "feefilter": do not announce transactions paying less than this fee rate (units of 1/kCoin per
// 1,000 bytes; at most kMaxMoney).
struct FeeFilterMessage {
  static constexpr std::string_view kCommand = "feefilter";
  uint64_t fee_rate = 0;
  std::vector<uint8_t> Encode() const;
  static FeeFilterMessage Decode(std::span<const uint8_t> payload);
  bool operator==(const FeeFilterMessage&) const = default;
};

// Every message minicoin knows.
using Message =
    std::variant<VersionMessage, VerackMessage, PingMessage, PongMessage, GetAddrMessage,
                 AddrMessage, InvMessage, GetDataMessage, NotFoundMessage, GetHeadersMessage,
                 HeadersMessage, BlockMessage, TxMessage, SendHeadersMessage, FeeFilterMessage>;

// The command of `message`.
std::string_view CommandOf(const Message& message);
// The payload of `message` (its struct's Encode).
std::vector<uint8_t> EncodePayload(const Message& message);

// The outcome of DecodeMessage. Value type.
struct DecodedMessage {
  enum class Status {
    kOk,              // `message` holds the message
    kUnknownCommand,  // not a command minicoin knows: the caller ignores the message
    kMalformed,       // a known command whose payload is wrong: `error` says what
  };
  Status status = Status::kMalformed;
  std::optional<Message> message;
  std::string error;  // empty when kOk; names the command otherwise
};

// Decodes `payload` as the message `command` names. Never throws for bad input.
DecodedMessage DecodeMessage(std::string_view command, std::span<const uint8_t> payload);

// True if `command` is a valid command: 1 to kCommandSize characters from 0x21 to 0x7e.
bool IsValidCommand(std::string_view command);

}  // namespace minicoin::net
