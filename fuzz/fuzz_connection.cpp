// Fuzz target: a crossproc server receiving whatever a peer may send.
//
// Each input runs one Connection serving the golden calculator's Init (fuzz_calculator.h) on
// one end of a socket pair; the input decides what arrives on the other end, then that end
// stops writing. The first byte picks how the rest is read:
//   0  raw: the bytes as they are (garbage, cut frames, recorded sessions);
//   1  framed: [u16 word count][words] repeated, each sent as a one-segment message, so that
//      the framing is right and the fuzzer works on message contents;
//   2  structured: RPC messages (Bootstrap, Call, Finish, Release, Return, Resolve,
//      Disembargo, Abort) built with Cap'n Proto's builders from fuzzer-chosen fields, calls
//      to the schema's real interface and method IDs with random cap tables and contents.
// The server must answer or close the connection; it must never crash, hang (libFuzzer's
// -timeout), leak, or keep calculators alive after the connection is gone.
//
// CROSSPROC_FUZZ_WRITE_SEEDS=<dir> records a real client session (raw and framed) there and exits.
#include "fuzz_calculator.h"

#include <crossproc/connection.h>

#include "transport/socket.h"

#include <capnp/rpc.capnp.h>
#include <capnp/serialize.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

namespace {

using crossproc::fuzz::g_live_calculators;

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz_connection: %s\n", what);
  std::abort();
}

crossproc::ConnectionOptions QuietOptions() {
  crossproc::ConnectionOptions options;
  options.name = "fuzz";
  options.log = [](crossproc::LogLevel, const std::string&) {};
  options.max_message_bytes = 1u << 20;
  options.thread_stack_bytes = 256u << 10;
  return options;
}

// Sends all of `bytes`; stops early if the server closed its end.
void SendAll(int fd, const uint8_t* bytes, std::size_t size) {
  while (size > 0) {
    ssize_t sent = send(fd, bytes, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return;
    bytes += sent;
    size -= static_cast<std::size_t>(sent);
  }
}

void AppendMessage(std::vector<uint8_t>& out, capnp::MessageBuilder& message) {
  kj::Array<capnp::word> words = capnp::messageToFlatArray(message);
  auto bytes = words.asBytes();
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// A one-segment frame around `words` (the content is not checked).
void AppendFrame(std::vector<uint8_t>& out, std::span<const uint8_t> content) {
  std::size_t words = (content.size() + 7) / 8;
  uint32_t table[2] = {0, static_cast<uint32_t>(words)};
  auto* table_bytes = reinterpret_cast<const uint8_t*>(table);
  out.insert(out.end(), table_bytes, table_bytes + sizeof(table));
  out.insert(out.end(), content.begin(), content.end());
  out.resize(out.size() + words * 8 - content.size(), 0);
}

std::vector<uint8_t> Framed(std::span<const uint8_t> input) {
  std::vector<uint8_t> out;
  FuzzedDataProvider data(input.data(), input.size());
  while (data.remaining_bytes() > 0) {
    std::size_t words = data.ConsumeIntegral<uint16_t>();
    std::vector<uint8_t> content = data.ConsumeBytes<uint8_t>(words * 8);
    AppendFrame(out, content);
  }
  return out;
}

// Interface IDs a peer would use: those of the schema and of the framework.
uint64_t PickInterface(FuzzedDataProvider& data) {
  static const uint64_t kIds[] = {
      capnp::typeId<golden::calc::wire::Init>(),      capnp::typeId<golden::calc::wire::Calculator>(),
      capnp::typeId<golden::calc::wire::Visitor>(),   capnp::typeId<golden::calc::wire::Progress>(),
      capnp::typeId<golden::calc::wire::Subscription>(), 0xee5e37179ad9dc9dull,  // ThreadMap
      0x81c1e2600d0b56c5ull,                                                     // Thread
  };
  uint8_t pick = data.ConsumeIntegral<uint8_t>();
  if (pick < 240) return kIds[pick % std::size(kIds)];
  return data.ConsumeIntegral<uint64_t>();
}

void FillTarget(FuzzedDataProvider& data, capnp::rpc::MessageTarget::Builder target) {
  if (data.ConsumeBool()) {
    target.setImportedCap(data.ConsumeIntegralInRange<uint32_t>(0, 8));
    return;
  }
  auto answer = target.initPromisedAnswer();
  answer.setQuestionId(data.ConsumeIntegralInRange<uint32_t>(0, 16));
  auto ops = answer.initTransform(data.ConsumeIntegralInRange<uint32_t>(0, 3));
  for (auto op : ops) {
    if (data.ConsumeIntegralInRange<int>(0, 7) == 0) {
      op.setNoop();
    } else {
      op.setGetPointerField(data.ConsumeIntegralInRange<uint16_t>(0, 4));
    }
  }
}

void FillCapTable(FuzzedDataProvider& data, capnp::rpc::Payload::Builder payload) {
  auto caps = payload.initCapTable(data.ConsumeIntegralInRange<uint32_t>(0, 4));
  for (auto cap : caps) {
    uint32_t id = data.ConsumeIntegralInRange<uint32_t>(0, 8);
    switch (data.ConsumeIntegralInRange<int>(0, 5)) {
      case 0: cap.setNone(); break;
      case 1: cap.setSenderHosted(id); break;
      case 2: cap.setSenderPromise(id); break;
      case 3: cap.setReceiverHosted(id); break;
      case 4: {
        auto answer = cap.initReceiverAnswer();
        answer.setQuestionId(id);
        break;
      }
      default: cap.initThirdPartyHosted(); break;
    }
  }
}

// A params or results struct: random data words and pointers, each pointer a capability, text,
// a struct (such as a Context: two capabilities), a list of numbers, or null. `content` must be
// imbued with a capability table.
void FillContent(FuzzedDataProvider& data, capnp::AnyPointer::Builder content, int depth = 0) {
  uint16_t data_words = data.ConsumeIntegralInRange<uint16_t>(0, 3);
  uint16_t pointers = data.ConsumeIntegralInRange<uint16_t>(0, 4);
  auto root = content.initAsAnyStruct(data_words, pointers);
  auto bytes = root.getDataSection();
  for (auto& byte : bytes) byte = data.ConsumeIntegral<uint8_t>();
  auto pointer_section = root.getPointerSection();
  for (auto pointer : pointer_section) {
    switch (data.ConsumeIntegralInRange<int>(0, 5)) {
      case 0: pointer.setAs<capnp::Capability>(capnp::Capability::Client(capnp::newBrokenCap("fuzz"))); break;
      case 1: pointer.setAs<capnp::Text>(data.ConsumeRandomLengthString(64)); break;
      case 2:
        if (depth < 3) FillContent(data, pointer, depth + 1);
        break;
      case 3: {
        auto list = pointer.initAs<capnp::List<double>>(data.ConsumeIntegralInRange<uint32_t>(0, 130));
        for (uint32_t i = 0; i < list.size(); ++i) list.set(i, data.ConsumeFloatingPoint<double>());
        break;
      }
      default: break;
    }
  }
}

std::vector<uint8_t> Structured(std::span<const uint8_t> input) {
  std::vector<uint8_t> out;
  FuzzedDataProvider data(input.data(), input.size());
  while (data.remaining_bytes() > 0) {
    capnp::MallocMessageBuilder message;
    auto rpc = message.initRoot<capnp::rpc::Message>();
    switch (data.ConsumeIntegralInRange<int>(0, 8)) {
      case 0: rpc.initBootstrap().setQuestionId(data.ConsumeIntegralInRange<uint32_t>(0, 16)); break;
      case 1:
      case 2: {
        auto call = rpc.initCall();
        call.setQuestionId(data.ConsumeIntegralInRange<uint32_t>(0, 16));
        FillTarget(data, call.initTarget());
        call.setInterfaceId(PickInterface(data));
        call.setMethodId(data.ConsumeIntegralInRange<uint16_t>(0, 15));
        auto params = call.initParams();
        capnp::BuilderCapabilityTable caps;
        FillContent(data, caps.imbue(params.initContent()));
        FillCapTable(data, params);
        if (data.ConsumeIntegralInRange<int>(0, 7) == 0) call.getSendResultsTo().setYourself();
        break;
      }
      case 3: {
        auto finish = rpc.initFinish();
        finish.setQuestionId(data.ConsumeIntegralInRange<uint32_t>(0, 16));
        finish.setReleaseResultCaps(data.ConsumeBool());
        break;
      }
      case 4: {
        auto release = rpc.initRelease();
        release.setId(data.ConsumeIntegralInRange<uint32_t>(0, 8));
        release.setReferenceCount(data.ConsumeIntegralInRange<uint32_t>(0, 3));
        break;
      }
      case 5: {
        auto ret = rpc.initReturn();
        ret.setAnswerId(data.ConsumeIntegralInRange<uint32_t>(0, 16));
        ret.setReleaseParamCaps(data.ConsumeBool());
        switch (data.ConsumeIntegralInRange<int>(0, 3)) {
          case 0: {
            auto results = ret.initResults();
            capnp::BuilderCapabilityTable caps;
            FillContent(data, caps.imbue(results.initContent()));
            FillCapTable(data, results);
            break;
          }
          case 1: ret.initException().setReason(data.ConsumeRandomLengthString(32)); break;
          case 2: ret.setCanceled(); break;
          default: ret.setTakeFromOtherQuestion(data.ConsumeIntegralInRange<uint32_t>(0, 16)); break;
        }
        break;
      }
      case 6: {
        auto resolve = rpc.initResolve();
        resolve.setPromiseId(data.ConsumeIntegralInRange<uint32_t>(0, 8));
        if (data.ConsumeBool()) {
          resolve.initCap().setSenderHosted(data.ConsumeIntegralInRange<uint32_t>(0, 8));
        } else {
          resolve.initException().setReason("broken");
        }
        break;
      }
      case 7: {
        auto disembargo = rpc.initDisembargo();
        FillTarget(data, disembargo.initTarget());
        auto context = disembargo.initContext();
        if (data.ConsumeBool()) {
          context.setSenderLoopback(data.ConsumeIntegralInRange<uint32_t>(0, 4));
        } else {
          context.setReceiverLoopback(data.ConsumeIntegralInRange<uint32_t>(0, 4));
        }
        break;
      }
      default: rpc.initAbort().setReason(data.ConsumeRandomLengthString(16)); break;
    }
    AppendMessage(out, message);
  }
  return out;
}

// Runs one session: the server gets `bytes` then the end of the stream.
void Serve(const std::vector<uint8_t>& bytes) {
  int before = g_live_calculators.load();
  {
    auto [server_end, peer] = crossproc::transport::SocketPair();
    crossproc::Connection server(server_end.release(),
                                 std::shared_ptr<golden::calc::Init>(std::make_shared<crossproc::fuzz::ReferenceInit>()),
                                 QuietOptions());
    // Drains what the server sends, so that it never blocks on a full socket.
    std::thread drain([fd = peer.get()] {
      char buffer[65536];
      while (true) {
        ssize_t got = read(fd, buffer, sizeof(buffer));
        if (got > 0) continue;
        if (got < 0 && errno == EINTR) continue;
        return;
      }
    });
    SendAll(peer.get(), bytes.data(), bytes.size());
    shutdown(peer.get(), SHUT_WR);
    server.WaitForDisconnect();
    shutdown(peer.get(), SHUT_RDWR);
    drain.join();
  }
  if (g_live_calculators.load() != before) Fail("calculators still alive after the connection closed");
}

// Forwards bytes from `from` to `to`, appending them to `record` (null: no record), until EOF.
void Relay(int from, int to, std::vector<uint8_t>* record) {
  char buffer[65536];
  while (true) {
    ssize_t got = read(from, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    if (record) record->insert(record->end(), buffer, buffer + got);
    SendAll(to, reinterpret_cast<const uint8_t*>(buffer), static_cast<std::size_t>(got));
  }
  shutdown(to, SHUT_WR);
}

void WriteSeed(const std::string& path, uint8_t mode, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Records what a real client sends in a session that uses every method.
void WriteSeeds(const std::string& dir) {
  std::vector<uint8_t> record;
  {
    auto [server_end, relay_server] = crossproc::transport::SocketPair();
    auto [client_end, relay_client] = crossproc::transport::SocketPair();
    crossproc::Connection server(server_end.release(),
                                 std::shared_ptr<golden::calc::Init>(std::make_shared<crossproc::fuzz::ReferenceInit>()),
                                 QuietOptions());
    std::thread up(Relay, relay_client.get(), relay_server.get(), &record);
    std::thread down(Relay, relay_server.get(), relay_client.get(), nullptr);
    {
      crossproc::Connection client(client_end.release(), QuietOptions());
      auto init = client.Bootstrap<golden::calc::Init>();
      auto calculator = init->makeCalculator("seed");
      calculator->add(1, 2);
      try {
        calculator->divide(1, 0);
      } catch (const golden::calc::DivisionByZero&) {
      }
      int64_t q = 0, r = 0;
      calculator->divmod(7, 2, q, r);
      double total = 1;
      calculator->accumulate(total, 2);
      double min = 0, max = 0;
      calculator->minMax({1, 2, 3}, min, max);
      calculator->apply([](double v) { return v + 1; });
      struct Twice final : golden::calc::Visitor {
        double call(double v) override { return v * 2; }
      };
      auto visitor = std::make_shared<Twice>();
      calculator->forEach(visitor);
      std::unique_ptr<golden::calc::Subscription> subscription;
      calculator->subscribe(visitor, subscription);
      subscription->cancel();
      calculator->run([](const std::string&, int32_t) {});
      calculator->lastError();
      calculator->history();
      calculator->transfer(init->makeCalculator("other"));
      calculator->reset();
    }
    up.join();
    down.join();
  }
  WriteSeed(dir + "/session-raw", 0, record);
  // The same session in the framed form: each message's content after a u16 word count.
  std::vector<uint8_t> framed;
  std::size_t at = 0;
  while (at + 8 <= record.size()) {
    uint32_t header[2];
    std::memcpy(header, record.data() + at, sizeof(header));
    if (header[0] != 0) break;  // several segments: not in this form
    std::size_t bytes = std::size_t{header[1]} * 8;
    if (at + 8 + bytes > record.size() || header[1] > 0xffff) break;
    uint16_t words = static_cast<uint16_t>(header[1]);
    framed.push_back(static_cast<uint8_t>(words & 0xff));
    framed.push_back(static_cast<uint8_t>(words >> 8));
    framed.insert(framed.end(), record.begin() + static_cast<long>(at + 8), record.begin() + static_cast<long>(at + 8 + bytes));
    at += 8 + bytes;
  }
  WriteSeed(dir + "/session-framed", 1, framed);
  std::vector<uint8_t> garbage = {0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3};
  WriteSeed(dir + "/huge-segment", 0, garbage);
}

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
  std::span<const uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: Serve(std::vector<uint8_t>(rest.begin(), rest.end())); break;
    case 1: Serve(Framed(rest)); break;
    default: Serve(Structured(rest)); break;
  }
  return 0;
}
