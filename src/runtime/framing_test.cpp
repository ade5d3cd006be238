// Tests of the stream framing: round trips through a socket, limits, truncated input.
#include "transport/framing.h"
#include "transport/shared_memory.h"
#include "transport/socket.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

namespace crossproc::transport {
namespace {

void WriteMessage(int fd, capnp::MessageBuilder& message) {
  FrameTable table(message.getSegmentsForOutput());
  std::vector<iovec> iov;
  table.AppendTo(iov);
  ASSERT_TRUE(WriteAll(fd, iov));
}

TEST(Framing, RoundTripsSmallAndLargeMessages) {
  auto [a, b] = SocketPair();
  for (std::size_t size : {std::size_t{0}, std::size_t{5}, std::size_t{100000}, std::size_t{3} << 20}) {
    capnp::MallocMessageBuilder message(64);  // small first segment: large data spans segments
    auto root = message.initRoot<capnp::AnyPointer>();
    auto data = root.initAs<capnp::Data>(static_cast<unsigned>(size));
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 7);
    std::thread writer([&, fd = a.get()] { WriteMessage(fd, message); });
    FrameReader reader(FrameLimits{16u << 20, 512});
    auto frame = reader.Read(b.get());
    writer.join();
    capnp::FlatArrayMessageReader received(frame);
    auto got = received.getRoot<capnp::AnyPointer>().getAs<capnp::Data>();
    ASSERT_EQ(got.size(), size);
    for (std::size_t i = 0; i < size; ++i) ASSERT_EQ(got[i], static_cast<uint8_t>(i * 7));
  }
}

TEST(Framing, SeveralFramesInOneRead) {
  auto [a, b] = SocketPair();
  for (int i = 0; i < 3; ++i) {
    capnp::MallocMessageBuilder message;
    message.initRoot<capnp::AnyPointer>().setAs<capnp::Text>(std::to_string(i));
    WriteMessage(a.get(), message);
  }
  FrameReader reader(FrameLimits{});
  for (int i = 0; i < 3; ++i) {
    auto frame = reader.Read(b.get());
    capnp::FlatArrayMessageReader received(frame);
    EXPECT_EQ(std::string(received.getRoot<capnp::AnyPointer>().getAs<capnp::Text>()), std::to_string(i));
  }
}

// A reader that polls before it blocks gets frames that arrive while it polls, frames that
// arrive after it has given up polling, and the end of the stream, as a blocking reader does.
TEST(Framing, PollingReadGetsEarlyAndLateFramesAndTheEnd) {
  auto [a, b] = SocketPair();
  FrameReader reader(FrameLimits{16u << 20, 512});
  for (auto delay : {std::chrono::microseconds(0), std::chrono::microseconds(200), std::chrono::microseconds(20000)}) {
    capnp::MallocMessageBuilder message;
    message.initRoot<capnp::AnyPointer>().initAs<capnp::Data>(4096)[17] = 42;
    std::thread writer([&, fd = a.get()] {
      std::this_thread::sleep_for(delay);
      WriteMessage(fd, message);
    });
    Frame frame = reader.ReadFrame(b.get(), std::chrono::milliseconds(2));
    writer.join();
    ASSERT_TRUE(frame);
    capnp::SegmentArrayMessageReader received(kj::arrayPtr(frame.segments.data(), frame.segments.size()));
    EXPECT_EQ(received.getRoot<capnp::AnyPointer>().getAs<capnp::Data>()[17], 42);
  }
  std::thread closer([fd = a.release()] {
    std::this_thread::sleep_for(std::chrono::microseconds(300));
    ::close(fd);
  });
  EXPECT_FALSE(reader.ReadFrame(b.get(), std::chrono::milliseconds(2)));
  closer.join();
}

TEST(Framing, RejectsTooManySegments) {
  auto [a, b] = SocketPair();
  uint32_t header[2] = {100000, 0};
  ASSERT_EQ(::write(a.get(), header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
  FrameReader reader(FrameLimits{});
  EXPECT_THROW(reader.Read(b.get()), FramingError);
}

TEST(Framing, RejectsOversizedFrame) {
  auto [a, b] = SocketPair();
  uint32_t header[2] = {0, 1u << 28};
  ASSERT_EQ(::write(a.get(), header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
  FrameReader reader(FrameLimits{1u << 20, 512});
  EXPECT_THROW(reader.Read(b.get()), FramingError);
}

TEST(Framing, CleanEndAndTruncatedFrame) {
  {
    auto [a, b] = SocketPair();
    a = UniqueFd();
    FrameReader reader(FrameLimits{});
    EXPECT_EQ(reader.Read(b.get()), nullptr);
  }
  {
    auto [a, b] = SocketPair();
    uint32_t header[2] = {0, 4};
    ASSERT_EQ(::write(a.get(), header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
    a = UniqueFd();
    FrameReader reader(FrameLimits{});
    EXPECT_THROW(reader.Read(b.get()), FramingError);
  }
}

// A two-segment frame whose second segment (`size` bytes of a pattern) is a shared segment.
void WriteSharedFrame(int fd, SharedSegment& segment, std::size_t words, bool seal) {
  capnp::word first[1] = {};
  kj::ArrayPtr<const capnp::word> segments[2] = {kj::arrayPtr(first, 1),
                                                 kj::arrayPtr(static_cast<const capnp::word*>(segment.data()), words)};
  if (seal) {
    ASSERT_TRUE(segment.Seal());
  }
  int fds[2] = {-1, segment.fd()};
  FrameTable table(kj::arrayPtr(segments, 2), fds);
  std::vector<iovec> iov;
  std::vector<int> passed;
  table.AppendTo(iov, passed);
  ASSERT_EQ(passed.size(), 1u);
  ASSERT_TRUE(WriteAll(fd, iov, passed));
}

TEST(Framing, SharedSegmentsArriveMappedAndUnchanged) {
  auto [a, b] = SocketPair();
  constexpr std::size_t kWords = 40000;
  auto segment = SharedSegment::Create(kWords * 8);
  ASSERT_NE(segment, nullptr);
  auto* bytes = static_cast<unsigned char*>(segment->data());
  for (std::size_t i = 0; i < kWords * 8; ++i) bytes[i] = static_cast<unsigned char>(i * 13);
  WriteSharedFrame(a.get(), *segment, kWords, true);
  FrameReader reader(FrameLimits{}, true);
  Frame frame = reader.ReadFrame(b.get());
  ASSERT_TRUE(frame);
  ASSERT_EQ(frame.segments.size(), 2u);
  ASSERT_EQ(frame.shared.size(), 1u);
  ASSERT_EQ(frame.segments[1].size(), kWords);
  const auto* got = reinterpret_cast<const unsigned char*>(frame.segments[1].begin());
  EXPECT_NE(got, bytes);  // a mapping of its own, not a copy in the stream
  for (std::size_t i = 0; i < kWords * 8; ++i) ASSERT_EQ(got[i], static_cast<unsigned char>(i * 13));
  // Only the table and the first segment went through the socket.
  EXPECT_EQ(frame.words.size(), 3u);
}

TEST(Framing, SharedSegmentsAreRefusedUnlessOfferedOrSealed) {
  {
    // A side that did not offer shared segments refuses them.
    auto [a, b] = SocketPair();
    auto segment = SharedSegment::Create(4096);
    ASSERT_NE(segment, nullptr);
    WriteSharedFrame(a.get(), *segment, 512, true);
    FrameReader reader(FrameLimits{});
    EXPECT_THROW(reader.ReadFrame(b.get()), FramingError);
  }
  {
    // A segment the sender could still change is refused.
    auto [a, b] = SocketPair();
    auto segment = SharedSegment::Create(4096);
    ASSERT_NE(segment, nullptr);
    WriteSharedFrame(a.get(), *segment, 512, false);
    FrameReader reader(FrameLimits{}, true);
    EXPECT_THROW(reader.ReadFrame(b.get()), FramingError);
  }
  {
    // A shared segment counts towards the size limit.
    auto [a, b] = SocketPair();
    auto segment = SharedSegment::Create(1u << 20);
    ASSERT_NE(segment, nullptr);
    WriteSharedFrame(a.get(), *segment, (1u << 20) / 8, true);
    FrameReader reader(FrameLimits{1u << 16, 512}, true);
    EXPECT_THROW(reader.ReadFrame(b.get()), FramingError);
  }
  {
    // A table that announces a shared segment without its descriptor.
    auto [a, b] = SocketPair();
    uint32_t header[4] = {1, 1, 4 | kSharedSegmentBit, 0};
    uint64_t word = 0;
    ASSERT_EQ(::write(a.get(), header, sizeof(header)), static_cast<ssize_t>(sizeof(header)));
    ASSERT_EQ(::write(a.get(), &word, sizeof(word)), static_cast<ssize_t>(sizeof(word)));
    FrameReader reader(FrameLimits{}, true);
    EXPECT_THROW(reader.ReadFrame(b.get()), FramingError);
  }
}

}  // namespace
}  // namespace crossproc::transport
