// Tests of the stream framing: round trips through a socket, limits, truncated input.
#include "transport/framing.h"
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

}  // namespace
}  // namespace crossproc::transport
