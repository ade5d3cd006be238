// minicoin's peer-to-peer message payloads.
#include "net/protocol.h"

#include <type_traits>
#include <utility>

namespace minicoin::net {
namespace {

// Ports are two bytes, little-endian like every other integer in minicoin's encoding.
void WritePort(Writer& writer, uint16_t port) {
  writer.U8(static_cast<uint8_t>(port));
  writer.U8(static_cast<uint8_t>(port >> 8));
}

uint16_t ReadPort(Reader& reader) {
  uint16_t low = reader.U8();
  uint16_t high = reader.U8();
  return static_cast<uint16_t>(low | (high << 8));
}

void WriteAddress(Writer& writer, const NetAddress& address) {
  writer.U64(address.services);
  writer.Bytes(address.ip);
  WritePort(writer, address.port);
}

NetAddress ReadAddress(Reader& reader) {
  NetAddress address;
  address.services = reader.U64();
  reader.Bytes(address.ip);
  address.port = ReadPort(reader);
  return address;
}

bool IsPrintable(char c) { return c >= 0x20 && c <= 0x7e; }

void WriteInventory(Writer& writer, const std::vector<InvEntry>& entries) {
  writer.CompactSize(entries.size());
  for (const auto& entry : entries) {
    writer.U32(static_cast<uint32_t>(entry.type));
    writer.Hash(entry.hash);
  }
}

std::vector<InvEntry> ReadInventory(std::span<const uint8_t> payload, const char* what) {
  Reader reader(payload);
  std::vector<InvEntry> entries(reader.Count(kMaxInvEntries, "inventory entries"));
  for (auto& entry : entries) {
    uint32_t type = reader.U32();
    if (type != static_cast<uint32_t>(InvType::kTx) &&
        type != static_cast<uint32_t>(InvType::kBlock)) {
      throw DecodeError("unknown inventory type " + std::to_string(type) +
                        " (1 is tx, 2 is block)");
    }
    entry.type = static_cast<InvType>(type);
    entry.hash = reader.Hash();
  }
  reader.ExpectEnd(what);
  return entries;
}

void ExpectEmpty(std::span<const uint8_t> payload) {
  if (!payload.empty())
    throw DecodeError("payload should be empty, has " + std::to_string(payload.size()) + " bytes");
}

std::vector<uint8_t> EncodeNonce(uint64_t nonce) {
  Writer writer;
  writer.U64(nonce);
  return writer.Take();
}

uint64_t DecodeNonce(std::span<const uint8_t> payload, const char* what) {
  Reader reader(payload);
  uint64_t nonce = reader.U64();
  reader.ExpectEnd(what);
  return nonce;
}

}  // namespace

NetAddress NetAddress::FromIpv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port,
                                uint64_t services) {
  NetAddress address;
  address.services = services;
  address.ip[10] = 0xff;
  address.ip[11] = 0xff;
  address.ip[12] = a;
  address.ip[13] = b;
  address.ip[14] = c;
  address.ip[15] = d;
  address.port = port;
  return address;
}

std::vector<uint8_t> VersionMessage::Encode() const {
  Writer writer;
  writer.U32(version);
  writer.U64(services);
  writer.U64(static_cast<uint64_t>(time));
  WriteAddress(writer, receiver);
  WriteAddress(writer, sender);
  writer.U64(nonce);
  writer.CompactSize(user_agent.size());
  writer.Bytes({reinterpret_cast<const uint8_t*>(user_agent.data()), user_agent.size()});
  writer.U32(best_height);
  return writer.Take();
}

VersionMessage VersionMessage::Decode(std::span<const uint8_t> payload) {
  Reader reader(payload);
  VersionMessage message;
  message.version = reader.U32();
  message.services = reader.U64();
  message.time = static_cast<int64_t>(reader.U64());
  message.receiver = ReadAddress(reader);
  message.sender = ReadAddress(reader);
  message.nonce = reader.U64();
  message.user_agent.resize(reader.Count(kMaxUserAgentLength, "user agent bytes"));
  reader.Bytes({reinterpret_cast<uint8_t*>(message.user_agent.data()), message.user_agent.size()});
  for (char c : message.user_agent) {
    if (!IsPrintable(c)) throw DecodeError("user agent has a byte outside printable ASCII");
  }
  message.best_height = reader.U32();
  reader.ExpectEnd("version message");
  return message;
}

VerackMessage VerackMessage::Decode(std::span<const uint8_t> payload) {
  ExpectEmpty(payload);
  return {};
}

GetAddrMessage GetAddrMessage::Decode(std::span<const uint8_t> payload) {
  ExpectEmpty(payload);
  return {};
}

SendHeadersMessage SendHeadersMessage::Decode(std::span<const uint8_t> payload) {
  ExpectEmpty(payload);
  return {};
}

std::vector<uint8_t> PingMessage::Encode() const { return EncodeNonce(nonce); }
PingMessage PingMessage::Decode(std::span<const uint8_t> payload) {
  return {DecodeNonce(payload, "ping nonce")};
}
std::vector<uint8_t> PongMessage::Encode() const { return EncodeNonce(nonce); }
PongMessage PongMessage::Decode(std::span<const uint8_t> payload) {
  return {DecodeNonce(payload, "pong nonce")};
}

std::vector<uint8_t> AddrMessage::Encode() const {
  Writer writer;
  writer.CompactSize(entries.size());
  for (const auto& entry : entries) {
    writer.U32(entry.time);
    WriteAddress(writer, entry.address);
  }
  return writer.Take();
}

AddrMessage AddrMessage::Decode(std::span<const uint8_t> payload) {
  Reader reader(payload);
  AddrMessage message;
  message.entries.resize(reader.Count(kMaxAddrEntries, "addr entries"));
  for (auto& entry : message.entries) {
    entry.time = reader.U32();
    entry.address = ReadAddress(reader);
  }
  reader.ExpectEnd("addr entries");
  return message;
}

std::vector<uint8_t> InvMessage::Encode() const {
  Writer writer;
  WriteInventory(writer, entries);
  return writer.Take();
}
InvMessage InvMessage::Decode(std::span<const uint8_t> payload) {
  return {ReadInventory(payload, "inv entries")};
}

std::vector<uint8_t> GetDataMessage::Encode() const {
  Writer writer;
  WriteInventory(writer, entries);
  return writer.Take();
}
GetDataMessage GetDataMessage::Decode(std::span<const uint8_t> payload) {
  return {ReadInventory(payload, "getdata entries")};
}

std::vector<uint8_t> NotFoundMessage::Encode() const {
  Writer writer;
  WriteInventory(writer, entries);
  return writer.Take();
}
NotFoundMessage NotFoundMessage::Decode(std::span<const uint8_t> payload) {
  return {ReadInventory(payload, "notfound entries")};
}

std::vector<uint8_t> GetHeadersMessage::Encode() const {
  Writer writer;
  writer.U32(version);
  writer.CompactSize(locator.size());
  for (const auto& hash : locator) writer.Hash(hash);
  writer.Hash(stop);
  return writer.Take();
}

GetHeadersMessage GetHeadersMessage::Decode(std::span<const uint8_t> payload) {
  Reader reader(payload);
  GetHeadersMessage message;
  message.version = reader.U32();
  message.locator.resize(reader.Count(kMaxLocatorHashes, "locator hashes"));
  for (auto& hash : message.locator) hash = reader.Hash();
  message.stop = reader.Hash();
  reader.ExpectEnd("getheaders message");
  return message;
}

std::vector<uint8_t> HeadersMessage::Encode() const {
  Writer writer;
  writer.CompactSize(headers.size());
  for (const auto& header : headers) header.Serialize(writer);
  return writer.Take();
}

HeadersMessage HeadersMessage::Decode(std::span<const uint8_t> payload) {
  Reader reader(payload);
  HeadersMessage message;
  message.headers.resize(reader.Count(kMaxHeadersEntries, "block headers"));
  for (auto& header : message.headers) header = BlockHeader::Deserialize(reader);
  reader.ExpectEnd("block headers");
  return message;
}

std::vector<uint8_t> FeeFilterMessage::Encode() const {
  Writer writer;
  writer.U64(fee_rate);
  return writer.Take();
}

FeeFilterMessage FeeFilterMessage::Decode(std::span<const uint8_t> payload) {
  Reader reader(payload);
  FeeFilterMessage message{reader.U64()};
  reader.ExpectEnd("fee rate");
  if (message.fee_rate > kMaxMoney) {
    throw DecodeError("fee rate " + std::to_string(message.fee_rate) + " exceeds the money supply");
  }
  return message;
}

std::string_view CommandOf(const Message& message) {
  return std::visit([](const auto& m) { return std::remove_cvref_t<decltype(m)>::kCommand; },
                    message);
}

std::vector<uint8_t> EncodePayload(const Message& message) {
  return std::visit([](const auto& m) { return m.Encode(); }, message);
}

bool IsValidCommand(std::string_view command) {
  if (command.empty() || command.size() > kCommandSize) return false;
  for (char c : command) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

namespace {

// Tries each alternative of Message in turn; the one whose command matches decodes the payload.
template <std::size_t I = 0>
bool DecodeAlternative(std::string_view command, std::span<const uint8_t> payload,
                       DecodedMessage& out) {
  if constexpr (I == std::variant_size_v<Message>) {
    return false;
  } else {
    using Alternative = std::variant_alternative_t<I, Message>;
    if (command != Alternative::kCommand) return DecodeAlternative<I + 1>(command, payload, out);
    out.message.emplace(std::in_place_index<I>, Alternative::Decode(payload));
    return true;
  }
}

}  // namespace

DecodedMessage DecodeMessage(std::string_view command, std::span<const uint8_t> payload) {
  DecodedMessage result;
  try {
    if (DecodeAlternative(command, payload, result)) {
      result.status = DecodedMessage::Status::kOk;
    } else {
      result.status = DecodedMessage::Status::kUnknownCommand;
      result.error = "unknown command '" + std::string(command) + "'";
    }
  } catch (const DecodeError& error) {
    result.status = DecodedMessage::Status::kMalformed;
    result.message.reset();
    result.error = "malformed '" + std::string(command) + "' message: " + error.what();
  }
  return result;
}

}  // namespace minicoin::net
