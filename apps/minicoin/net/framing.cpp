// Message framing.
#include "net/framing.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace minicoin::net {
namespace {

constexpr std::size_t kMagicEnd = 4;
constexpr std::size_t kCommandEnd = kMagicEnd + kCommandSize;
constexpr std::size_t kLengthEnd = kCommandEnd + 4;

std::string Hex(std::span<const uint8_t> bytes) {
  std::string text;
  for (uint8_t byte : bytes) {
    char digits[3];
    std::snprintf(digits, sizeof(digits), "%02x", byte);
    text += digits;
  }
  return text;
}

uint32_t ReadU32(const uint8_t* bytes) {
  return uint32_t{bytes[0]} | uint32_t{bytes[1]} << 8 | uint32_t{bytes[2]} << 16 |
         uint32_t{bytes[3]} << 24;
}

}  // namespace

std::array<uint8_t, 4> PayloadChecksum(std::span<const uint8_t> payload) {
  Uint256 hash = Sha256d(payload);
  return {hash.bytes()[0], hash.bytes()[1], hash.bytes()[2], hash.bytes()[3]};
}

std::vector<uint8_t> FrameMessage(const Magic& magic, std::string_view command,
                                  std::span<const uint8_t> payload) {
  if (!IsValidCommand(command))
    throw std::invalid_argument("invalid message command '" + std::string(command) + "'");
  if (payload.size() > kMaxMessageSize) {
    throw std::invalid_argument("payload of " + std::to_string(payload.size()) +
                                " bytes exceeds kMaxMessageSize");
  }
  std::vector<uint8_t> bytes;
  bytes.reserve(kMessageHeaderSize + payload.size());
  bytes.insert(bytes.end(), magic.begin(), magic.end());
  bytes.insert(bytes.end(), command.begin(), command.end());
  bytes.resize(kCommandEnd, 0);
  uint32_t size = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(size >> (8 * i)));
  auto checksum = PayloadChecksum(payload);
  bytes.insert(bytes.end(), checksum.begin(), checksum.end());
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  return bytes;
}

std::vector<uint8_t> FrameMessage(const Magic& magic, const Message& message) {
  return FrameMessage(magic, CommandOf(message), EncodePayload(message));
}

MessageReader::MessageReader(const Magic& magic, std::size_t max_payload)
    : m_magic(magic), m_max_payload(max_payload) {}

void MessageReader::Fail(FrameError::Kind kind, std::string text) {
  m_error = FrameError{kind, std::move(text)};
  m_payload.clear();
  m_payload.shrink_to_fit();
}

void MessageReader::CheckHeader() {
  std::size_t magic_size = std::min(m_header_size, kMagicEnd);
  if (!std::equal(m_header.begin(), m_header.begin() + static_cast<std::ptrdiff_t>(magic_size),
                  m_magic.begin())) {
    Fail(FrameError::Kind::kWrongMagic, "wrong network magic: received " +
                                            Hex({m_header.data(), magic_size}) + ", expected " +
                                            Hex({m_magic.data(), magic_size}));
    return;
  }
  bool padding = false;
  for (std::size_t i = kMagicEnd; i < std::min(m_header_size, kCommandEnd); ++i) {
    uint8_t byte = m_header[i];
    bool ok = padding ? byte == 0 : (byte == 0 ? i > kMagicEnd : byte >= 0x21 && byte <= 0x7e);
    if (!ok) {
      Fail(FrameError::Kind::kBadCommand,
           "bad command bytes " + Hex({m_header.data() + kMagicEnd, i + 1 - kMagicEnd}) +
               " (1 to 12 characters from 0x21 to 0x7e, then NUL padding)");
      return;
    }
    if (byte == 0) padding = true;
  }
  if (m_header_size < kLengthEnd) return;
  uint32_t size = ReadU32(m_header.data() + kCommandEnd);
  if (size > m_max_payload) {
    const char* command = reinterpret_cast<const char*>(m_header.data() + kMagicEnd);
    Fail(FrameError::Kind::kOversizedPayload,
         "'" + std::string(command, strnlen(command, kCommandSize)) +
             "' message announces a payload of " + std::to_string(size) +
             " bytes, over the maximum of " + std::to_string(m_max_payload));
    return;
  }
  m_payload_size = size;
}

std::size_t MessageReader::Feed(std::span<const uint8_t> bytes) {
  if (m_error || m_complete) return 0;
  std::size_t used = 0;
  while (m_header_size < kMessageHeaderSize && used < bytes.size()) {
    m_header[m_header_size++] = bytes[used++];
    // The header's rules are checked as its bytes arrive, so a stream that breaks them is
    // stopped at once; after the length, only the checksum is left, which needs the payload.
    if (m_header_size <= kLengthEnd) {
      CheckHeader();
      if (m_error) return used;
    }
  }
  if (m_header_size < kMessageHeaderSize) return used;
  std::size_t wanted = std::min(bytes.size() - used, m_payload_size - m_payload.size());
  m_payload.insert(m_payload.end(), bytes.begin() + static_cast<std::ptrdiff_t>(used),
                   bytes.begin() + static_cast<std::ptrdiff_t>(used + wanted));
  used += wanted;
  if (m_payload.size() < m_payload_size) return used;
  auto checksum = PayloadChecksum(m_payload);
  if (!std::equal(checksum.begin(), checksum.end(), m_header.begin() + kLengthEnd)) {
    Fail(FrameError::Kind::kChecksumMismatch, "checksum mismatch: header says " +
                                                  Hex({m_header.data() + kLengthEnd, 4}) +
                                                  ", payload hashes to " + Hex(checksum));
    return used;
  }
  m_complete = true;
  return used;
}

std::optional<RawMessage> MessageReader::Take() {
  if (!m_complete) return std::nullopt;
  const char* command = reinterpret_cast<const char*>(m_header.data() + kMagicEnd);
  RawMessage message{std::string(command, strnlen(command, kCommandSize)), std::move(m_payload)};
  m_payload = {};
  m_header_size = 0;
  m_payload_size = 0;
  m_complete = false;
  return message;
}

}  // namespace minicoin::net
