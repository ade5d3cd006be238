// Message framing: the 24-byte header around a payload, and an incremental reader of framed
// messages from a byte stream.
#pragma once

#include "net/protocol.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace minicoin::net {

// The first four bytes of Sha256d(payload): the header's checksum.
std::array<uint8_t, 4> PayloadChecksum(std::span<const uint8_t> payload);

// The header followed by `payload`. Throws std::invalid_argument if `command` is not valid
// (IsValidCommand) or the payload is over kMaxMessageSize: both are the caller's mistakes.
std::vector<uint8_t> FrameMessage(const Magic& magic, std::string_view command,
                                  std::span<const uint8_t> payload);
// The same for a typed message.
std::vector<uint8_t> FrameMessage(const Magic& magic, const Message& message);

// One framed message whose header checked out: the command and the payload, not decoded yet
// (DecodeMessage does that). Value type.
struct RawMessage {
  std::string command;
  std::vector<uint8_t> payload;
};

// Why a MessageReader stopped. After any of these the stream cannot be trusted any further: the
// reader takes no more bytes.
struct FrameError {
  enum class Kind {
    kWrongMagic,        // the message does not start with this chain's magic
    kBadCommand,        // the command is empty, has a byte outside 0x21..0x7e, or non-NUL padding
    kOversizedPayload,  // the header announces more than the reader's maximum payload
    kChecksumMismatch,  // the payload does not hash to the header's checksum
  };
  Kind kind;
  std::string text;  // says what was received and what was expected
};

// Cuts a byte stream into messages: fed the bytes as they arrive, in chunks of any size, it yields
// each complete message in order, or stops at the first framing error.
//
// Feed consumes bytes only up to the end of the current message and then waits until Take has
// collected it, so the reader never holds more than one message: at most kMessageHeaderSize +
// the maximum payload bytes. A wrong magic or bad command is reported as soon as its bytes
// arrive, an oversized length as soon as the header is complete (before any payload is read).
// Not thread-safe (one reader per connection, used by one thread).
//
//   while (!bytes.empty() && !reader.error()) {
//     bytes = bytes.subspan(reader.Feed(bytes));
//     if (auto message = reader.Take()) Handle(*message);
//   }
class MessageReader {
 public:
  explicit MessageReader(const Magic& magic, std::size_t max_payload = kMaxMessageSize);

  // Consumes bytes from the front of `bytes`, up to the end of the current message; returns how
  // many. Returns 0 while a complete message waits for Take, and after an error.
  std::size_t Feed(std::span<const uint8_t> bytes);
  // The complete message, once; nullopt while it is incomplete or after an error.
  std::optional<RawMessage> Take();

  // Set once the stream broke a rule; the reader then stays stopped.
  const std::optional<FrameError>& error() const { return m_error; }
  // Bytes held for the current, incomplete or untaken message.
  std::size_t buffered() const { return m_header_size + m_payload.size(); }

 private:
  // Checks the header bytes received so far; sets m_error if they already break a rule.
  void CheckHeader();
  void Fail(FrameError::Kind kind, std::string text);

  const Magic m_magic;
  const std::size_t m_max_payload;
  std::array<uint8_t, kMessageHeaderSize> m_header{};
  std::size_t m_header_size = 0;  // bytes of m_header received
  uint32_t m_payload_size = 0;    // from the header, once it is complete
  std::vector<uint8_t> m_payload;
  bool m_complete = false;  // a whole message waits for Take
  std::optional<FrameError> m_error;
};

}  // namespace minicoin::net
