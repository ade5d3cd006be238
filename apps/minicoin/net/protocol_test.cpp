// Tests of the peer-to-peer wire format: every message's encoding and limits, and the framing.
#include "net/protocol.h"
#include "chain/params.h"
#include "net/framing.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

namespace minicoin::net {
namespace {

static_assert(kMaxMessageSize > kMaxBlockSize, "every valid block must fit in one message");

const Magic& RegtestMagic() { return ChainParams::Get(ChainType::kRegtest).magic; }

Uint256 HashOf(uint32_t n) {
  std::array<uint8_t, 32> bytes{};
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<uint8_t>(n >> (8 * i));
  bytes[31] = 0x5a;
  return Uint256(bytes);
}

Transaction SampleTransaction() {
  Transaction tx;
  tx.version = kLockTimeTransactionVersion;
  TxIn input;
  input.prevout = {HashOf(7), 3};
  input.signature[0] = 0x42;
  tx.inputs.push_back(input);
  TxOut output;
  output.amount = 5 * kCoin;
  output.pubkey[5] = 9;
  tx.outputs.push_back(output);
  tx.lock_time = 120;
  return tx;
}

std::vector<InvEntry> Inventory(std::size_t count) {
  std::vector<InvEntry> entries(count);
  for (std::size_t i = 0; i < count; ++i) {
    entries[i] = {i % 2 == 0 ? InvType::kTx : InvType::kBlock, HashOf(static_cast<uint32_t>(i))};
  }
  return entries;
}

// One message of every kind, with non-default fields.
std::vector<Message> SampleMessages() {
  VersionMessage version;
  version.services = kServiceNetwork;
  version.time = 1767225600;
  version.receiver = NetAddress::FromIpv4(127, 0, 0, 1, 18444, 0);
  version.sender = NetAddress::FromIpv4(10, 1, 2, 3, 8333, kServiceNetwork);
  version.nonce = 0x0123456789abcdefull;
  version.user_agent = "/minicoin:0.1/";
  version.best_height = 1234;
  AddrMessage addr;
  addr.entries.push_back(
      {1767225600, NetAddress::FromIpv4(192, 168, 0, 9, 65535, kServiceNetwork)});
  NetAddress ipv6;
  ipv6.ip = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ipv6.port = 1;
  addr.entries.push_back({7, ipv6});
  GetHeadersMessage getheaders;
  getheaders.locator = {HashOf(3), HashOf(2), HashOf(1)};
  getheaders.stop = HashOf(9);
  const Block& genesis = ChainParams::Get(ChainType::kRegtest).genesis;
  HeadersMessage headers;
  headers.headers = {genesis.header, genesis.header};
  headers.headers[1].previous = genesis.header.Hash();
  Block block = genesis;
  block.transactions.push_back(SampleTransaction());
  return {version,
          VerackMessage{},
          PingMessage{42},
          PongMessage{0xffffffffffffffffull},
          GetAddrMessage{},
          addr,
          InvMessage{Inventory(3)},
          GetDataMessage{Inventory(2)},
          NotFoundMessage{Inventory(1)},
          getheaders,
          headers,
          BlockMessage{block},
          TxMessage{SampleTransaction()},
          SendHeadersMessage{},
          FeeFilterMessage{1000}};
}

// Decodes `payload` as `command`; the status it gets.
DecodedMessage::Status StatusOf(std::string_view command, const std::vector<uint8_t>& payload) {
  return DecodeMessage(command, payload).status;
}

TEST(NetProtocolTest, EveryMessageRoundTrips) {
  auto messages = SampleMessages();
  ASSERT_EQ(messages.size(), std::variant_size_v<Message>) << "a sample of every message kind";
  for (const auto& message : messages) {
    SCOPED_TRACE(std::string(CommandOf(message)));
    EXPECT_EQ(message.index(), messages[message.index()].index())
        << "samples in the variant's order";
    auto payload = EncodePayload(message);
    auto decoded = DecodeMessage(CommandOf(message), payload);
    ASSERT_EQ(decoded.status, DecodedMessage::Status::kOk) << decoded.error;
    EXPECT_TRUE(decoded.error.empty());
    ASSERT_TRUE(decoded.message.has_value());
    EXPECT_EQ(*decoded.message, message);
    EXPECT_EQ(EncodePayload(*decoded.message), payload);
  }
}

TEST(NetProtocolTest, CommandsAreDistinctAndValid) {
  auto messages = SampleMessages();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    EXPECT_TRUE(IsValidCommand(CommandOf(messages[i]))) << CommandOf(messages[i]);
    for (std::size_t j = i + 1; j < messages.size(); ++j)
      EXPECT_NE(CommandOf(messages[i]), CommandOf(messages[j]));
  }
  EXPECT_FALSE(IsValidCommand(""));
  EXPECT_FALSE(IsValidCommand("has space"));
  EXPECT_FALSE(IsValidCommand("thirteenchars"));
  EXPECT_TRUE(IsValidCommand("twelve_chars"));
  EXPECT_FALSE(IsValidCommand(std::string("nul\0", 4)));
  EXPECT_FALSE(IsValidCommand("\x7f"));
}

TEST(NetProtocolTest, KnownEncodings) {
  // The fixed layouts, byte for byte: a change to them is a protocol change.
  EXPECT_EQ(PingMessage{0x0102030405060708ull}.Encode(),
            (std::vector<uint8_t>{8, 7, 6, 5, 4, 3, 2, 1}));
  std::vector<uint8_t> inv = InvMessage{{{InvType::kBlock, HashOf(1)}}}.Encode();
  ASSERT_EQ(inv.size(), 1u + 4 + 32);
  EXPECT_EQ(inv[0], 1);
  EXPECT_EQ(inv[1], 2);
  AddrMessage addr;
  addr.entries.push_back({0x11223344, NetAddress::FromIpv4(1, 2, 3, 4, 0x5566, 0x77)});
  std::vector<uint8_t> expected = {1, 0x44, 0x33, 0x22, 0x11, 0x77, 0, 0,    0,   0, 0,
                                   0, 0,    0,    0,    0,    0,    0, 0,    0,   0, 0,
                                   0, 0xff, 0xff, 1,    2,    3,    4, 0x66, 0x55};
  EXPECT_EQ(addr.Encode(), expected);
  VersionMessage version;
  EXPECT_EQ(version.Encode().size(), 4u + 8 + 8 + 26 + 26 + 8 + 1 + 4);
  EXPECT_EQ(HeadersMessage{{BlockHeader{}}}.Encode().size(), 1 + kBlockHeaderSize);
}

TEST(NetProtocolTest, EveryTruncationIsAnError) {
  for (const auto& message : SampleMessages()) {
    auto payload = EncodePayload(message);
    for (std::size_t size = 0; size < payload.size(); ++size) {
      std::vector<uint8_t> prefix(payload.begin(),
                                  payload.begin() + static_cast<std::ptrdiff_t>(size));
      auto decoded = DecodeMessage(CommandOf(message), prefix);
      ASSERT_EQ(decoded.status, DecodedMessage::Status::kMalformed)
          << CommandOf(message) << " cut to " << size;
      EXPECT_FALSE(decoded.message.has_value());
      EXPECT_NE(decoded.error.find(std::string(CommandOf(message))), std::string::npos)
          << decoded.error;
    }
  }
}

TEST(NetProtocolTest, TrailingBytesAreAnError) {
  for (const auto& message : SampleMessages()) {
    auto payload = EncodePayload(message);
    payload.push_back(0);
    auto decoded = DecodeMessage(CommandOf(message), payload);
    EXPECT_EQ(decoded.status, DecodedMessage::Status::kMalformed) << CommandOf(message);
    EXPECT_NE(decoded.error.find("'" + std::string(CommandOf(message)) + "'"), std::string::npos)
        << decoded.error;
  }
}

TEST(NetProtocolTest, UnknownCommandsAreReportedAsUnknown) {
  auto decoded = DecodeMessage("sendcmpct", std::vector<uint8_t>{1, 2, 3});
  EXPECT_EQ(decoded.status, DecodedMessage::Status::kUnknownCommand);
  EXPECT_FALSE(decoded.message.has_value());
  EXPECT_NE(decoded.error.find("sendcmpct"), std::string::npos);
  EXPECT_EQ(StatusOf("Version", VersionMessage{}.Encode()),
            DecodedMessage::Status::kUnknownCommand);
  EXPECT_EQ(StatusOf("", {}), DecodedMessage::Status::kUnknownCommand);
}

TEST(NetProtocolTest, UserAgentLimit) {
  VersionMessage version;
  version.user_agent = std::string(kMaxUserAgentLength, 'a');
  EXPECT_EQ(StatusOf("version", version.Encode()), DecodedMessage::Status::kOk);
  version.user_agent += 'a';
  auto decoded = DecodeMessage("version", version.Encode());
  EXPECT_EQ(decoded.status, DecodedMessage::Status::kMalformed);
  EXPECT_NE(decoded.error.find("user agent"), std::string::npos) << decoded.error;
  version.user_agent = "tab\there";
  EXPECT_EQ(StatusOf("version", version.Encode()), DecodedMessage::Status::kMalformed);
  version.user_agent = "";
  EXPECT_EQ(StatusOf("version", version.Encode()), DecodedMessage::Status::kOk);
}

TEST(NetProtocolTest, AddrLimit) {
  AddrMessage addr;
  addr.entries.resize(kMaxAddrEntries);
  EXPECT_EQ(StatusOf("addr", addr.Encode()), DecodedMessage::Status::kOk);
  addr.entries.emplace_back();
  auto decoded = DecodeMessage("addr", addr.Encode());
  EXPECT_EQ(decoded.status, DecodedMessage::Status::kMalformed);
  EXPECT_NE(decoded.error.find("1001"), std::string::npos) << decoded.error;
}

TEST(NetProtocolTest, InventoryLimit) {
  auto at_limit = Inventory(kMaxInvEntries);
  auto over_limit = Inventory(kMaxInvEntries + 1);
  for (std::string_view command : {"inv", "getdata", "notfound"}) {
    SCOPED_TRACE(std::string(command));
    std::vector<uint8_t> payload = InvMessage{at_limit}.Encode();  // the same layout for all three
    EXPECT_EQ(StatusOf(command, payload), DecodedMessage::Status::kOk);
    payload = InvMessage{over_limit}.Encode();
    EXPECT_EQ(StatusOf(command, payload), DecodedMessage::Status::kMalformed);
  }
  EXPECT_EQ(GetDataMessage{at_limit}.Encode(), InvMessage{at_limit}.Encode());
  EXPECT_EQ(NotFoundMessage{at_limit}.Encode(), InvMessage{at_limit}.Encode());
}

TEST(NetProtocolTest, InventoryTypes) {
  std::vector<uint8_t> payload = InvMessage{{{InvType::kTx, HashOf(1)}}}.Encode();
  for (uint32_t type : {0u, 3u, 0x40000001u}) {
    payload[1] = static_cast<uint8_t>(type);
    payload[4] = static_cast<uint8_t>(type >> 24);
    auto decoded = DecodeMessage("getdata", payload);
    EXPECT_EQ(decoded.status, DecodedMessage::Status::kMalformed) << type;
    EXPECT_NE(decoded.error.find("inventory type"), std::string::npos) << decoded.error;
  }
}

TEST(NetProtocolTest, LocatorLimit) {
  GetHeadersMessage getheaders;
  getheaders.locator.resize(kMaxLocatorHashes);
  EXPECT_EQ(StatusOf("getheaders", getheaders.Encode()), DecodedMessage::Status::kOk);
  getheaders.locator.emplace_back();
  EXPECT_EQ(StatusOf("getheaders", getheaders.Encode()), DecodedMessage::Status::kMalformed);
  getheaders.locator.clear();
  EXPECT_EQ(StatusOf("getheaders", getheaders.Encode()), DecodedMessage::Status::kOk);
}

TEST(NetProtocolTest, HeadersLimit) {
  HeadersMessage headers;
  headers.headers.resize(kMaxHeadersEntries);
  EXPECT_EQ(StatusOf("headers", headers.Encode()), DecodedMessage::Status::kOk);
  headers.headers.emplace_back();
  EXPECT_EQ(StatusOf("headers", headers.Encode()), DecodedMessage::Status::kMalformed);
}

TEST(NetProtocolTest, FeeFilterLimit) {
  EXPECT_EQ(StatusOf("feefilter", FeeFilterMessage{kMaxMoney}.Encode()),
            DecodedMessage::Status::kOk);
  EXPECT_EQ(StatusOf("feefilter", FeeFilterMessage{kMaxMoney + 1}.Encode()),
            DecodedMessage::Status::kMalformed);
}

TEST(NetProtocolTest, NonCanonicalCountIsAnError) {
  // A count of zero in the three-byte form meant for counts from 0xfd.
  std::vector<uint8_t> payload = {0xfd, 0, 0};
  EXPECT_EQ(StatusOf("addr", payload), DecodedMessage::Status::kMalformed);
}

TEST(NetProtocolTest, DamagedPayloadsAreRejectedOrReencodeExactly) {
  // Each sample with one byte changed, and random bytes, under every command: DecodeMessage
  // never throws, and whatever it accepts encodes back to the same bytes.
  std::mt19937 random(7);
  auto samples = SampleMessages();
  std::vector<std::vector<uint8_t>> payloads;
  for (const auto& message : samples) {
    auto payload = EncodePayload(message);
    for (int i = 0; i < 20 && !payload.empty(); ++i) {
      auto damaged = payload;
      damaged[random() % damaged.size()] ^= static_cast<uint8_t>(1 + random() % 255);
      payloads.push_back(std::move(damaged));
    }
  }
  for (int i = 0; i < 50; ++i) {
    std::vector<uint8_t> bytes(random() % 200);
    for (auto& byte : bytes) byte = static_cast<uint8_t>(random());
    payloads.push_back(std::move(bytes));
  }
  for (const auto& message : samples) {
    std::string command(CommandOf(message));
    for (const auto& payload : payloads) {
      DecodedMessage decoded;
      ASSERT_NO_THROW(decoded = DecodeMessage(command, payload)) << command;
      ASSERT_NE(decoded.status, DecodedMessage::Status::kUnknownCommand);
      if (decoded.status == DecodedMessage::Status::kOk) {
        EXPECT_EQ(EncodePayload(*decoded.message), payload) << command;
      } else {
        EXPECT_FALSE(decoded.error.empty());
      }
    }
  }
}

// Feeds `bytes` to `reader` in chunks of the sizes `next_chunk` returns; the messages it yields.
template <typename NextChunk>
std::vector<RawMessage> ReadAll(MessageReader& reader, std::span<const uint8_t> bytes,
                                NextChunk next_chunk) {
  std::vector<RawMessage> messages;
  while (!bytes.empty() && !reader.error()) {
    auto chunk = bytes.first(std::min(bytes.size(), next_chunk()));
    while (!chunk.empty() && !reader.error()) {
      std::size_t used = reader.Feed(chunk);
      EXPECT_LE(reader.buffered(), kMessageHeaderSize + kMaxMessageSize);
      chunk = chunk.subspan(used);
      bytes = bytes.subspan(used);
      if (auto message = reader.Take()) messages.push_back(std::move(*message));
    }
  }
  return messages;
}

std::vector<uint8_t> FramedSamples() {
  std::vector<uint8_t> stream;
  for (const auto& message : SampleMessages()) {
    auto framed = FrameMessage(RegtestMagic(), message);
    stream.insert(stream.end(), framed.begin(), framed.end());
  }
  return stream;
}

void ExpectSamples(const std::vector<RawMessage>& raw) {
  auto messages = SampleMessages();
  ASSERT_EQ(raw.size(), messages.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    EXPECT_EQ(raw[i].command, CommandOf(messages[i]));
    auto decoded = DecodeMessage(raw[i].command, raw[i].payload);
    ASSERT_EQ(decoded.status, DecodedMessage::Status::kOk) << decoded.error;
    EXPECT_EQ(*decoded.message, messages[i]);
  }
}

TEST(NetFramingTest, HeaderLayout) {
  std::vector<uint8_t> payload = {1, 2, 3};
  auto framed = FrameMessage(RegtestMagic(), "ping", payload);
  ASSERT_EQ(framed.size(), kMessageHeaderSize + 3);
  EXPECT_TRUE(std::equal(RegtestMagic().begin(), RegtestMagic().end(), framed.begin()));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&framed[4]), 12),
            std::string("ping\0\0\0\0\0\0\0\0", 12));
  EXPECT_EQ(framed[16], 3);
  EXPECT_EQ(framed[17] | framed[18] | framed[19], 0);
  Uint256 hash = Sha256d(payload);
  EXPECT_TRUE(std::equal(framed.begin() + 20, framed.begin() + 24, hash.bytes().begin()));
  EXPECT_EQ(PayloadChecksum(payload), (std::array<uint8_t, 4>{hash.bytes()[0], hash.bytes()[1],
                                                              hash.bytes()[2], hash.bytes()[3]}));
}

TEST(NetFramingTest, FrameMessageRejectsCallerMistakes) {
  EXPECT_THROW(FrameMessage(RegtestMagic(), "", {}), std::invalid_argument);
  EXPECT_THROW(FrameMessage(RegtestMagic(), "thirteenchars", {}), std::invalid_argument);
  std::vector<uint8_t> huge(kMaxMessageSize + 1);
  EXPECT_THROW(FrameMessage(RegtestMagic(), "block", huge), std::invalid_argument);
}

TEST(NetFramingTest, WholeStreamAtOnce) {
  auto stream = FramedSamples();
  MessageReader reader(RegtestMagic());
  ExpectSamples(ReadAll(reader, stream, [] { return std::size_t{1} << 30; }));
  EXPECT_FALSE(reader.error());
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(NetFramingTest, OneByteAtATime) {
  auto stream = FramedSamples();
  MessageReader reader(RegtestMagic());
  ExpectSamples(ReadAll(reader, stream, [] { return std::size_t{1}; }));
  EXPECT_FALSE(reader.error());
}

TEST(NetFramingTest, RandomChunkSizes) {
  auto stream = FramedSamples();
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed);
    std::mt19937 random(seed);
    std::uniform_int_distribution<std::size_t> size(1, 100);
    MessageReader reader(RegtestMagic());
    ExpectSamples(ReadAll(reader, stream, [&] { return size(random); }));
    EXPECT_FALSE(reader.error());
  }
}

TEST(NetFramingTest, FeedStopsAtTheEndOfEachMessage) {
  auto first = FrameMessage(RegtestMagic(), PingMessage{1});
  auto second = FrameMessage(RegtestMagic(), PongMessage{1});
  std::vector<uint8_t> stream = first;
  stream.insert(stream.end(), second.begin(), second.end());
  MessageReader reader(RegtestMagic());
  EXPECT_EQ(reader.Feed(stream), first.size());
  EXPECT_EQ(reader.buffered(), first.size());
  EXPECT_EQ(reader.Feed(std::span(stream).subspan(first.size())), 0u) << "waits for Take";
  auto message = reader.Take();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->command, "ping");
  EXPECT_FALSE(reader.Take()) << "a message is taken once";
  EXPECT_EQ(reader.Feed(std::span(stream).subspan(first.size())), second.size());
  ASSERT_TRUE((message = reader.Take()));
  EXPECT_EQ(message->command, "pong");
}

TEST(NetFramingTest, TruncatedInputWaits) {
  auto framed = FrameMessage(RegtestMagic(), PingMessage{7});
  for (std::size_t size = 0; size < framed.size(); ++size) {
    MessageReader reader(RegtestMagic());
    EXPECT_EQ(reader.Feed(std::span(framed).first(size)), size);
    EXPECT_FALSE(reader.Take()) << size;
    EXPECT_FALSE(reader.error()) << size;
    EXPECT_EQ(reader.buffered(), size);
  }
}

TEST(NetFramingTest, EmptyPayload) {
  auto framed = FrameMessage(RegtestMagic(), VerackMessage{});
  ASSERT_EQ(framed.size(), kMessageHeaderSize);
  MessageReader reader(RegtestMagic());
  EXPECT_EQ(reader.Feed(framed), framed.size());
  auto message = reader.Take();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->command, "verack");
  EXPECT_TRUE(message->payload.empty());
}

// Feeds `bytes` one byte at a time; the error, and how many bytes were consumed before it.
std::pair<std::optional<FrameError>, std::size_t> FirstError(
    const Magic& magic, std::span<const uint8_t> bytes, std::size_t max_payload = kMaxMessageSize) {
  MessageReader reader(magic, max_payload);
  std::size_t used = 0;
  for (uint8_t byte : bytes) {
    used += reader.Feed(std::span(&byte, 1));
    reader.Take();
    if (reader.error()) break;
  }
  // A stopped reader takes nothing more.
  if (reader.error()) {
    EXPECT_EQ(reader.Feed(bytes), 0u);
    EXPECT_FALSE(reader.Take());
  }
  return {reader.error(), used};
}

TEST(NetFramingTest, WrongMagicIsReportedAtTheFirstWrongByte) {
  auto framed = FrameMessage(RegtestMagic(), PingMessage{7});
  for (std::size_t i = 0; i < 4; ++i) {
    auto bad = framed;
    bad[i] ^= 0x01;
    auto [error, used] = FirstError(RegtestMagic(), bad);
    ASSERT_TRUE(error) << i;
    EXPECT_EQ(error->kind, FrameError::Kind::kWrongMagic);
    EXPECT_EQ(used, i + 1);
    EXPECT_NE(error->text.find("magic"), std::string::npos) << error->text;
  }
  // Another chain's messages.
  auto main_framed = FrameMessage(ChainParams::Get(ChainType::kMain).magic, PingMessage{7});
  auto [error, used] = FirstError(RegtestMagic(), main_framed);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, FrameError::Kind::kWrongMagic);
}

TEST(NetFramingTest, BadCommands) {
  auto framed = FrameMessage(RegtestMagic(), "ping", PingMessage{7}.Encode());
  struct Case {
    std::size_t position;  // in the command
    uint8_t byte;
  };
  // A space, DEL, a high byte, an empty command, a character after the padding started.
  for (Case c :
       {Case{1, ' '}, Case{0, 0x7f}, Case{2, 0x80}, Case{0, 0}, Case{5, 'x'}, Case{11, 'x'}}) {
    auto bad = framed;
    bad[4 + c.position] = c.byte;
    auto [error, used] = FirstError(RegtestMagic(), bad);
    ASSERT_TRUE(error) << c.position;
    EXPECT_EQ(error->kind, FrameError::Kind::kBadCommand);
    EXPECT_EQ(used, 4 + c.position + 1) << "reported at the bad byte";
    EXPECT_NE(error->text.find("command"), std::string::npos) << error->text;
  }
  // Twelve characters, no padding, is valid.
  auto twelve = FrameMessage(RegtestMagic(), "twelve_chars", {});
  auto [error, used] = FirstError(RegtestMagic(), twelve);
  EXPECT_FALSE(error);
}

TEST(NetFramingTest, PayloadLimit) {
  // Exactly at the maximum: accepted.
  std::vector<uint8_t> payload(kMaxMessageSize, 0xab);
  auto framed = FrameMessage(RegtestMagic(), "block", payload);
  MessageReader reader(RegtestMagic());
  EXPECT_EQ(reader.Feed(framed), framed.size());
  auto message = reader.Take();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->payload.size(), kMaxMessageSize);
  // One over: rejected as soon as the length is in, before any payload byte is held.
  std::vector<uint8_t> header(framed.begin(), framed.begin() + kMessageHeaderSize);
  uint32_t over = kMaxMessageSize + 1;
  for (int i = 0; i < 4; ++i) header[16 + i] = static_cast<uint8_t>(over >> (8 * i));
  auto [error, used] = FirstError(RegtestMagic(), header);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, FrameError::Kind::kOversizedPayload);
  EXPECT_EQ(used, 20u);
  EXPECT_NE(error->text.find("4000001"), std::string::npos) << error->text;
  EXPECT_NE(error->text.find("'block'"), std::string::npos) << error->text;
  // A reader with a smaller maximum.
  auto ping = FrameMessage(RegtestMagic(), PingMessage{1});
  EXPECT_FALSE(FirstError(RegtestMagic(), ping, 8).first);
  auto small = FirstError(RegtestMagic(), ping, 7).first;
  ASSERT_TRUE(small);
  EXPECT_EQ(small->kind, FrameError::Kind::kOversizedPayload);
}

TEST(NetFramingTest, ChecksumMismatch) {
  auto framed = FrameMessage(RegtestMagic(), PingMessage{7});
  for (std::size_t position :
       {std::size_t{20}, std::size_t{23}, kMessageHeaderSize, framed.size() - 1}) {
    auto bad = framed;
    bad[position] ^= 0x80;
    auto [error, used] = FirstError(RegtestMagic(), bad);
    ASSERT_TRUE(error) << position;
    EXPECT_EQ(error->kind, FrameError::Kind::kChecksumMismatch);
    EXPECT_EQ(used, framed.size()) << "known once the whole payload is in";
    EXPECT_NE(error->text.find("checksum"), std::string::npos) << error->text;
  }
}

TEST(NetFramingTest, MessagesBeforeAnErrorAreDelivered) {
  auto stream = FrameMessage(RegtestMagic(), PingMessage{1});
  auto bad = FrameMessage(RegtestMagic(), PongMessage{2});
  bad.back() ^= 1;
  stream.insert(stream.end(), bad.begin(), bad.end());
  auto after = FrameMessage(RegtestMagic(), VerackMessage{});
  stream.insert(stream.end(), after.begin(), after.end());
  MessageReader reader(RegtestMagic());
  auto messages = ReadAll(reader, stream, [] { return std::size_t{5}; });
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].command, "ping");
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->kind, FrameError::Kind::kChecksumMismatch);
  EXPECT_EQ(reader.buffered(), kMessageHeaderSize)
      << "the failed payload is freed, nothing after it is read";
}

TEST(NetFramingTest, UnknownCommandsAreFramedAndReportedUnknown) {
  auto framed = FrameMessage(RegtestMagic(), "sendcmpct", std::vector<uint8_t>{0, 1});
  MessageReader reader(RegtestMagic());
  reader.Feed(framed);
  auto message = reader.Take();
  ASSERT_TRUE(message);
  EXPECT_EQ(message->command, "sendcmpct");
  EXPECT_EQ(DecodeMessage(message->command, message->payload).status,
            DecodedMessage::Status::kUnknownCommand);
}

}  // namespace
}  // namespace minicoin::net
