// Fuzz target: minicoin's peer-to-peer wire format (net/framing.h, net/protocol.h).
//
// The first input byte chooses how the rest is cut into chunks and the reader's maximum payload;
// the rest is the byte stream a peer sends. The stream goes to a MessageReader chunk by chunk, as
// a socket would deliver it, and every message the reader yields goes through DecodeMessage.
// Whatever the bytes:
// - the reader never holds more than a header and its maximum payload, never consumes more than
//   it is given, and once stopped takes nothing more;
// - a decoded message has the command it came with and re-encodes to exactly its payload, and
//   framing it again and reading that back gives the same command and payload;
// - a rejected message has a reason that names its command.
// Anything else aborts: an exception, a sanitizer report, a mismatch.
//
// CROSSPROC_FUZZ_WRITE_SEEDS=<dir> writes a framed message of every kind there and exits.
#include "net/framing.h"
#include "net/protocol.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace {

using minicoin::net::DecodedMessage;
using minicoin::net::MessageReader;

// Regtest's network magic (ChainParams::Get(ChainType::kRegtest).magic), so that the seeds are
// what a regtest peer sends.
constexpr minicoin::net::Magic kMagic = {0xe6, 0x7c, 0x9d, 0x3a};
// The smaller maximum payload some inputs use, so that oversized payloads fit in an input.
constexpr std::size_t kSmallMaxPayload = 1'000;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_minicoin_net: %s\n", what.c_str());
  std::abort();
}

void CheckMessage(const minicoin::net::RawMessage& raw) {
  if (!minicoin::net::IsValidCommand(raw.command)) Fail("reader yielded an invalid command");
  DecodedMessage decoded = minicoin::net::DecodeMessage(raw.command, raw.payload);
  switch (decoded.status) {
    case DecodedMessage::Status::kOk: {
      if (!decoded.message || !decoded.error.empty())
        Fail("decoded message without a value, or with an error");
      if (minicoin::net::CommandOf(*decoded.message) != raw.command)
        Fail("decoded message has another command");
      if (minicoin::net::EncodePayload(*decoded.message) != raw.payload) {
        Fail("'" + raw.command + "' message re-encodes differently");
      }
      std::vector<uint8_t> framed = minicoin::net::FrameMessage(kMagic, *decoded.message);
      MessageReader again(kMagic);
      if (again.Feed(framed) != framed.size()) Fail("a framed message was not read whole");
      auto reread = again.Take();
      if (!reread || reread->command != raw.command || reread->payload != raw.payload) {
        Fail("'" + raw.command + "' message reads back differently after framing");
      }
      break;
    }
    case DecodedMessage::Status::kUnknownCommand:
    case DecodedMessage::Status::kMalformed:
      if (decoded.message) Fail("rejected message has a value");
      if (decoded.error.find(raw.command) == std::string::npos)
        Fail("error does not name the command: " + decoded.error);
      break;
  }
}

void WriteSeed(const std::string& dir, const std::string& name, uint8_t mode,
               std::span<const uint8_t> bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void WriteSeeds(const std::string& dir) {
  using namespace minicoin;
  using namespace minicoin::net;
  Transaction coinbase;
  coinbase.inputs.push_back({OutPoint{Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back({50 * kCoin, XOnlyPublicKey{1, 2, 3}});
  coinbase.height = 7;
  Transaction spend;
  spend.version = kLockTimeTransactionVersion;
  spend.inputs.push_back({OutPoint{coinbase.Txid(), 0}, SchnorrSignature{9, 8, 7}});
  spend.outputs.push_back({10 * kCoin, XOnlyPublicKey{4}});
  spend.lock_time = 5;
  Block block;
  block.header.time = 1'767'225'600;
  block.header.bits = 0x1f7fffff;
  block.transactions = {coinbase, spend};
  block.header.merkle_root = block.ComputeMerkleRoot();

  VersionMessage version;
  version.services = kServiceNetwork;
  version.time = 1'767'225'600;
  version.receiver = NetAddress::FromIpv4(127, 0, 0, 1, 18444, 0);
  version.sender = NetAddress::FromIpv4(10, 0, 0, 2, 18444, kServiceNetwork);
  version.nonce = 0x1234;
  version.user_agent = "/minicoin:0.1/";
  version.best_height = 12;
  AddrMessage addr;
  addr.entries.push_back({1'767'225'600, version.sender});
  std::vector<InvEntry> inventory = {{InvType::kTx, spend.Txid()},
                                     {InvType::kBlock, block.header.Hash()}};
  GetHeadersMessage getheaders;
  getheaders.locator = {block.header.Hash(), block.header.previous};
  std::vector<Message> messages = {version,
                                   VerackMessage{},
                                   PingMessage{1},
                                   PongMessage{1},
                                   GetAddrMessage{},
                                   addr,
                                   InvMessage{inventory},
                                   GetDataMessage{inventory},
                                   NotFoundMessage{inventory},
                                   getheaders,
                                   HeadersMessage{{block.header}},
                                   BlockMessage{block},
                                   TxMessage{spend},
                                   SendHeadersMessage{},
                                   FeeFilterMessage{1000}};
  std::vector<uint8_t> all;
  uint8_t mode = 0;
  for (const auto& message : messages) {
    std::vector<uint8_t> framed = FrameMessage(kMagic, message);
    WriteSeed(dir, std::string(CommandOf(message)), mode++, framed);
    all.insert(all.end(), framed.begin(), framed.end());
  }
  WriteSeed(dir, "all-in-one-stream", 0x07, all);
  WriteSeed(dir, "all-byte-by-byte", 0x00, all);
}

// Chunk sizes from the mode byte: a small generator, so that one input is always cut the same way.
class ChunkSizes {
 public:
  explicit ChunkSizes(uint8_t mode) : m_state(0x9e3779b9u ^ mode), m_bits(mode & 0x0f) {}
  std::size_t Next() {
    m_state ^= m_state << 13;
    m_state ^= m_state >> 17;
    m_state ^= m_state << 5;
    return 1 + (m_state & ((std::size_t{1} << m_bits) - 1));
  }

 private:
  uint32_t m_state;
  unsigned m_bits;  // chunks of 1 to 2^m_bits bytes (1 byte at a time when 0)
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("CROSSPROC_FUZZ_WRITE_SEEDS")) {
    WriteSeeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::size_t max_payload = (mode & 0x80) ? kSmallMaxPayload : minicoin::net::kMaxMessageSize;
  std::span<const uint8_t> stream(data + 1, size - 1);
  MessageReader reader(kMagic, max_payload);
  ChunkSizes chunk_sizes(mode);
  while (!stream.empty() && !reader.error()) {
    std::span<const uint8_t> chunk = stream.first(std::min(stream.size(), chunk_sizes.Next()));
    while (!chunk.empty() && !reader.error()) {
      std::size_t used = reader.Feed(chunk);
      if (used > chunk.size()) Fail("reader consumed more than it was given");
      if (reader.buffered() > minicoin::net::kMessageHeaderSize + max_payload)
        Fail("reader holds too much");
      chunk = chunk.subspan(used);
      stream = stream.subspan(used);
      auto message = reader.Take();
      if (message) {
        CheckMessage(*message);
      } else if (used == 0 && !reader.error()) {
        Fail("reader made no progress");
      }
    }
  }
  if (reader.error()) {
    if (reader.error()->text.empty()) Fail("framing error without a reason");
    if (reader.Feed(stream.empty() ? std::span<const uint8_t>(data, size) : stream) != 0) {
      Fail("stopped reader took more bytes");
    }
    if (reader.Take()) Fail("stopped reader yielded a message");
  }
  return 0;
}
