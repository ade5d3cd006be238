// Fuzz target: random call sequences through generated code and a real Connection, each result
// compared with the same call on an in-process reference object.
//
// A client and a server Connection over a socket pair (the server serves fuzz_calculator.h's
// ReferenceInit) live for the whole run; each input reads operations from its bytes: make or drop one of
// four calculators (with fuzzer-chosen names: any bytes), call any method with fuzzer-chosen
// arguments (NaNs, infinities, INT64_MIN, lists of up to 130 values, callbacks computing from
// fuzzer-chosen factors), asynchronous calls in batches, hand one calculator over to another.
// Every call is made on a remote calculator and on a local ReferenceCalculator in the same state;
// values, output parameters, carried exceptions (type and message), other errors (message),
// callback arguments and history must be the same. After each input no calculator may be alive,
// and the connection must still be up.
//
// CROSSPROC_FUZZ_WRITE_SEEDS=<dir> writes a few inputs there and exits.
#include "fuzz_calculator.h"

#include <crossproc/connection.h>
#include <crossproc/errors.h>

#include "transport/socket.h"

#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace {

using crossproc::fuzz::DoubleBits;
using crossproc::fuzz::g_live_calculators;
using golden::calc::Calculator;

constexpr int kSlots = 4;
constexpr int kMaxOperations = 48;

[[noreturn]] void Mismatch(const std::string& what, const std::string& remote, const std::string& local) {
  std::fprintf(stderr, "fuzz_calls: %s differs\n  remote: %s\n  local:  %s\n", what.c_str(), remote.c_str(), local.c_str());
  std::abort();
}

// What a call produced, as text: its values, or the exception it threw.
template <typename F>
std::string Outcome(F&& call) {
  try {
    return "ok " + call();
  } catch (const golden::calc::DivisionByZero& e) {
    return std::string("DivisionByZero ") + e.what();
  } catch (const golden::calc::Overflow& e) {
    return std::string("Overflow ") + e.what();
  } catch (const crossproc::Disconnected& e) {
    return std::string("Disconnected ") + e.what();
  } catch (const crossproc::RemoteError& e) {
    // What the implementation threw, seen from the other side.
    if (e.kind() != crossproc::ErrorKind::kFailed) return std::string("RemoteError of kind ") + crossproc::ErrorKindName(e.kind());
    return "error " + e.message();
  } catch (const std::exception& e) {
    return std::string("error ") + e.what();
  }
}

std::string Join(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) out += item + ";";
  return out + "]";
}

std::string Printable(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

// A visitor multiplying by a factor; records what it was called with.
class ScaleVisitor final : public golden::calc::Visitor {
 public:
  explicit ScaleVisitor(double factor) : m_factor(factor) {}
  double call(double value) override {
    m_seen.push_back(DoubleBits(value));
    return value * m_factor;
  }
  std::string seen() const { return Join(m_seen); }

 private:
  double m_factor;
  std::vector<std::string> m_seen;
};

struct Slot {
  std::unique_ptr<Calculator> remote;
  std::unique_ptr<Calculator> local;
};

double ConsumeDouble(FuzzedDataProvider& data) {
  switch (data.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return std::bit_cast<double>(data.ConsumeIntegral<uint64_t>());  // NaN payloads too
    case 1: return data.ConsumeFloatingPoint<double>();
    default: return static_cast<double>(data.ConsumeIntegralInRange<int>(-4, 4));
  }
}

int64_t ConsumeInt(FuzzedDataProvider& data) {
  switch (data.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: return std::numeric_limits<int64_t>::min();
    case 1: return data.ConsumeIntegralInRange<int64_t>(-2, 2);
    default: return data.ConsumeIntegral<int64_t>();
  }
}

// Runs one operation on both sides of `slots[index]`.
void RunOperation(FuzzedDataProvider& data, golden::calc::Init& init, std::array<Slot, kSlots>& slots) {
  Slot& slot = slots[data.ConsumeIntegralInRange<int>(0, kSlots - 1)];
  int operation = data.ConsumeIntegralInRange<int>(0, 17);
  if (!slot.remote || operation == 0) {
    std::string name = data.ConsumeRandomLengthString(48);
    slot.remote = init.makeCalculator(name);
    slot.local = std::make_unique<crossproc::fuzz::ReferenceCalculator>(name);
    return;
  }
  auto compare = [](const char* what, const std::string& remote, const std::string& local) {
    if (remote != local) Mismatch(what, Printable(remote), Printable(local));
  };
  Calculator& remote = *slot.remote;
  Calculator& local = *slot.local;
  switch (operation) {
    case 1: {
      double a = ConsumeDouble(data), b = ConsumeDouble(data);
      compare("add", Outcome([&] { return DoubleBits(remote.add(a, b)); }), Outcome([&] { return DoubleBits(local.add(a, b)); }));
      break;
    }
    case 2: {
      double a = ConsumeDouble(data), b = ConsumeDouble(data);
      compare("divide", Outcome([&] { return DoubleBits(remote.divide(a, b)); }),
              Outcome([&] { return DoubleBits(local.divide(a, b)); }));
      break;
    }
    case 3: {
      int64_t a = ConsumeInt(data), b = ConsumeInt(data);
      auto run = [&](Calculator& calculator) {
        return Outcome([&] {
          int64_t quotient = 0, remainder = 0;
          calculator.divmod(a, b, quotient, remainder);
          return std::to_string(quotient) + " " + std::to_string(remainder);
        });
      };
      compare("divmod", run(remote), run(local));
      break;
    }
    case 4: {
      double total = ConsumeDouble(data), value = ConsumeDouble(data);
      auto run = [&](Calculator& calculator) {
        return Outcome([&] {
          double t = total;
          calculator.accumulate(t, value);
          return DoubleBits(t);
        });
      };
      compare("accumulate", run(remote), run(local));
      break;
    }
    case 5: {
      std::vector<double> values(data.ConsumeIntegralInRange<std::size_t>(0, 130));
      for (double& value : values) value = ConsumeDouble(data);
      auto run = [&](Calculator& calculator) {
        return Outcome([&] {
          // Output parameters start at zero: a remote call gives the server's values, written or not.
          double min = 0, max = 0;
          bool found = calculator.minMax(values, min, max);
          return std::to_string(found) + " " + DoubleBits(min) + " " + DoubleBits(max);
        });
      };
      compare("minMax", run(remote), run(local));
      break;
    }
    case 6:
      remote.reset();
      local.reset();
      break;
    case 7:
      compare("history", Outcome([&] { return Join(remote.history()); }), Outcome([&] { return Join(local.history()); }));
      break;
    case 8:
      compare("lastError", Outcome([&] { return remote.lastError().value_or("<none>"); }),
              Outcome([&] { return local.lastError().value_or("<none>"); }));
      break;
    case 9: {
      double factor = ConsumeDouble(data);
      bool throws = data.ConsumeIntegralInRange<int>(0, 7) == 0;
      auto run = [&](Calculator& calculator) {
        std::vector<std::string> seen;
        std::string outcome = Outcome([&] {
          calculator.apply([&](double value) {
            seen.push_back(DoubleBits(value));
            if (throws) throw std::runtime_error("callback refuses " + DoubleBits(value));
            return value * factor;
          });
          return std::string();
        });
        return outcome + " seen " + Join(seen);
      };
      compare("apply", run(remote), run(local));
      break;
    }
    case 10: {
      double factor = ConsumeDouble(data);
      auto run = [&](Calculator& calculator) {
        auto visitor = std::make_shared<ScaleVisitor>(factor);
        std::string outcome = Outcome([&] {
          calculator.forEach(visitor);
          return std::string();
        });
        return outcome + " seen " + visitor->seen();
      };
      compare("forEach", run(remote), run(local));
      break;
    }
    case 11: {
      bool cancel = data.ConsumeBool();
      auto run = [&](Calculator& calculator) {
        auto visitor = std::make_shared<ScaleVisitor>(1);
        std::string outcome = Outcome([&] {
          std::unique_ptr<golden::calc::Subscription> subscription;
          calculator.subscribe(visitor, subscription);
          if (!subscription) return std::string("no subscription");
          if (cancel) subscription->cancel();
          return std::string("subscribed");
        });
        return outcome + " seen " + visitor->seen();
      };
      compare("subscribe", run(remote), run(local));
      break;
    }
    case 12: {
      auto run = [&](Calculator& calculator) {
        std::vector<std::string> seen;
        std::string outcome = Outcome([&] {
          calculator.run([&](const std::string& stage, int32_t percent) { seen.push_back(stage + "@" + std::to_string(percent)); });
          return std::string();
        });
        return outcome + " seen " + Join(seen);
      };
      compare("run", run(remote), run(local));
      break;
    }
    case 13: {
      // Hands another calculator over to this one (or a new one, if the other slot is empty).
      Slot& other = slots[data.ConsumeIntegralInRange<int>(0, kSlots - 1)];
      if (&other == &slot || !other.remote) {
        std::string name = data.ConsumeRandomLengthString(16);
        compare("transfer", Outcome([&] { remote.transfer(init.makeCalculator(name)); return std::string(); }),
                Outcome([&] { local.transfer(std::make_unique<crossproc::fuzz::ReferenceCalculator>(name)); return std::string(); }));
      } else {
        compare("transfer", Outcome([&] { remote.transfer(std::move(other.remote)); return std::string(); }),
                Outcome([&] { local.transfer(std::move(other.local)); return std::string(); }));
        other = Slot{};
      }
      break;
    }
    case 14: {
      // A batch of asynchronous calls, results taken in a fuzzer-chosen order.
      auto* client = dynamic_cast<golden::calc::CalculatorClient*>(&remote);
      if (!client) break;
      std::size_t count = data.ConsumeIntegralInRange<std::size_t>(1, 8);
      std::vector<std::pair<double, double>> arguments;
      std::vector<crossproc::Future<double>> futures;
      {
        crossproc::SendBatch batch;
        for (std::size_t i = 0; i < count; ++i) {
          double a = ConsumeDouble(data), b = ConsumeDouble(data);
          arguments.emplace_back(a, b);
          futures.push_back(data.ConsumeBool() ? client->addAsync(a, b) : client->divideAsync(a, b));
        }
      }
      bool reverse = data.ConsumeBool();
      for (std::size_t n = 0; n < count; ++n) {
        std::size_t i = reverse ? count - 1 - n : n;
        std::string got = Outcome([&] { return DoubleBits(futures[i].get()); });
        std::string add = Outcome([&] { return DoubleBits(local.add(arguments[i].first, arguments[i].second)); });
        std::string divide = Outcome([&] { return DoubleBits(local.divide(arguments[i].first, arguments[i].second)); });
        if (got != add && got != divide) Mismatch("asynchronous call", Printable(got), Printable(add + " or " + divide));
      }
      break;
    }
    case 15:
      slot = Slot{};
      break;
    default: {
      double a = ConsumeDouble(data), b = ConsumeDouble(data);
      auto* client = dynamic_cast<golden::calc::CalculatorClient*>(&remote);
      if (!client) break;
      compare("addAsync", Outcome([&] { return DoubleBits(client->addAsync(a, b).get()); }),
              Outcome([&] { return DoubleBits(local.add(a, b)); }));
      break;
    }
  }
}

crossproc::ConnectionOptions QuietOptions(const char* name) {
  crossproc::ConnectionOptions options;
  options.name = name;
  options.log = [](crossproc::LogLevel, const std::string&) {};
  options.thread_stack_bytes = 256u << 10;
  return options;
}

void WriteSeeds(const std::string& dir) {
  // Operations are picked from the bytes; these are a few hand-made starting points.
  const std::vector<std::vector<uint8_t>> seeds = {
      {0, 0, 4, 'm', 'a', 'i', 'n', 0, 1, 2, 1, 2, 0, 2, 2, 3, 0, 1, 7, 0, 12, 0, 9, 2, 0, 10, 2, 0, 5, 5, 2, 1, 2, 3, 2},
      {0, 0, 0, 1, 0, 13, 0, 0, 14, 4, 2, 1, 2, 2, 3, 2, 0, 1, 0, 11, 1, 0, 8, 0, 7},
      {0, 0, 3, 'a', 0, 'b', 0, 3, 0, 0, 0, 3, 1, 0xff, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 15, 0, 6},
  };
  int n = 0;
  for (const auto& seed : seeds) {
    std::ofstream out(dir + "/seed-" + std::to_string(n++), std::ios::binary);
    out.write(reinterpret_cast<const char*>(seed.data()), static_cast<std::streamsize>(seed.size()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("CROSSPROC_FUZZ_WRITE_SEEDS")) {
    WriteSeeds(dir);
    std::exit(0);
  }
  return 0;
}

// One pair of connections for the whole run (setting one up costs more than most inputs), with
// fresh calculators for each input. Thread-safe enough for libFuzzer's single thread.
struct Session {
  Session() {
    auto [a, b] = crossproc::transport::SocketPair();
    server = std::make_unique<crossproc::Connection>(
        a.release(), std::shared_ptr<golden::calc::Init>(std::make_shared<crossproc::fuzz::ReferenceInit>()),
        QuietOptions("server"));
    client = std::make_unique<crossproc::Connection>(b.release(), QuietOptions("client"));
    init = client->Bootstrap<golden::calc::Init>();
  }
  std::unique_ptr<crossproc::Connection> server;
  std::unique_ptr<crossproc::Connection> client;
  std::unique_ptr<golden::calc::InitClient> init;
};

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static Session* session = new Session();  // lives until exit, so that no leak is reported
  if (!session->client->connected() || !session->server->connected()) {
    std::fprintf(stderr, "fuzz_calls: the connection closed during the previous input\n");
    std::abort();
  }
  FuzzedDataProvider data(bytes, size);
  int before = g_live_calculators.load();
  {
    std::array<Slot, kSlots> slots;
    for (int i = 0; i < kMaxOperations && data.remaining_bytes() > 0; ++i) RunOperation(data, *session->init, slots);
  }
  // Dropping a proxy destroys its remote object before returning.
  if (g_live_calculators.load() != before) {
    std::fprintf(stderr, "fuzz_calls: %d calculators alive after the input\n", g_live_calculators.load() - before);
    std::abort();
  }
  return 0;
}
