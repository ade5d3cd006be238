// minicoin-mining-probe: connects to a minicoin-node's Mining interface, runs one scenario and
// prints what it saw as one JSON object, for the functional tests (test_mining_*.py).
//
//   minicoin-mining-probe <socket> <scenario> [arguments]
//
// Scenarios:
//   load                 getMemoryLoad and getTip
//   stale                templates held across tip changes, solved later
//   concurrent           three threads in waitNext at once, released by one new block
//   interrupt            interruptWait releases only its template's waiter, interrupt() the rest
//   memory               templates until -maxtemplatememory refuses one, then release them
//   hold <seconds>       creates a template, prints "waiting", blocks in waitNext (to be killed)
//   check                checkBlock and submitBlock on good and bad blocks
#include "init.crossproc.h"
#include "miner/miner.h"
#include "primitives/block.h"

#include <crossproc/listener.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <thread>

namespace minicoin {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// A fixed payout key for probe templates (any 32 bytes make a valid output key here).
std::vector<uint8_t> ProbeKey(uint8_t fill) { return std::vector<uint8_t>(32, fill); }

ipc::BlockCreateOptions Options(uint8_t fill = 7) {
  ipc::BlockCreateOptions options;
  options.payoutKey = ProbeKey(fill);
  return options;
}

std::string Hex(const std::vector<uint8_t>& bytes) {
  std::array<uint8_t, 32> array{};
  if (bytes.size() == 32) std::copy(bytes.begin(), bytes.end(), array.begin());
  return Uint256(array).ToHex();
}

BlockHeader HeaderOf(ipc::BlockTemplate& block_template) {
  std::vector<uint8_t> bytes = block_template.getBlockHeader();
  Reader reader(bytes);
  return BlockHeader::Deserialize(reader);
}

// Solves `block_template` (on the calling thread) and submits the solution.
json Solve(ipc::BlockTemplate& block_template, crossproc::WorkerPool& pool) {
  BlockHeader header = HeaderOf(block_template);
  std::optional<Solution> solution = GrindHeader(header, pool, [] { return false; });
  std::string reason;
  bool result = block_template.submitSolution(header.version, solution->time, solution->nonce, {}, reason);
  header.time = solution->time;
  header.nonce = solution->nonce;
  return json{{"result", result}, {"reason", reason}, {"hash", header.Hash().ToHex()},
              {"height", block_template.getCoinbaseTx().height}};
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

json Load(ipc::Mining& mining) {
  ipc::MemoryLoad load = mining.getMemoryLoad();
  ipc::BlockRef tip = mining.getTip();
  return json{{"templates", load.templates}, {"bytes", load.bytes}, {"limit", load.limitBytes},
              {"tip_height", tip.height}, {"tip_hash", Hex(tip.hash)}, {"ibd", mining.isInitialBlockDownload()}};
}

json Stale(ipc::Mining& mining, crossproc::WorkerPool& pool) {
  json out;
  uint32_t start = mining.getTip().height;
  // Two templates on the same tip; one more kept while two blocks are mined on top.
  auto a = mining.createNewBlock(Options(1));
  auto b = mining.createNewBlock(Options(2));
  auto old = mining.createNewBlock(Options(3));
  out["b"] = Solve(*b, pool);  // b becomes the tip
  auto c = mining.createNewBlock(Options(4));
  out["c"] = Solve(*c, pool);  // two above `old`'s parent
  out["stale_sibling"] = Solve(*a, pool);  // same height as b: valid, not the tip
  out["stale_old"] = Solve(*old, pool);    // two behind: valid, not the tip
  // A wrong solution: a nonce that misses the (easy) target, found by trying.
  BlockHeader header = HeaderOf(*old);
  std::optional<Uint256> target = TargetFromBits(header.bits);
  for (header.nonce = 0; !(*target < header.Hash()); ++header.nonce) {
  }
  std::string reason;
  bool result = old->submitSolution(header.version, header.time, header.nonce, {}, reason);
  out["bad_nonce"] = json{{"result", result}, {"reason", reason}};
  // A coinbase paying more than the template's value.
  ipc::CoinbaseTx parts = old->getCoinbaseTx();
  Transaction coinbase = Transaction::Decode(parts.encoded);
  coinbase.outputs[0].amount = parts.value + 1;
  auto d = mining.createNewBlock(Options(5));
  BlockHeader d_header = HeaderOf(*d);
  coinbase.height = d->getCoinbaseTx().height;
  Block rebuilt = Block::Decode(d->getBlock());
  rebuilt.transactions[0] = coinbase;
  rebuilt.header.merkle_root = rebuilt.ComputeMerkleRoot();
  d_header.merkle_root = rebuilt.header.merkle_root;
  std::optional<Solution> solution = GrindHeader(d_header, pool, [] { return false; });
  reason.clear();
  result = d->submitSolution(d_header.version, solution->time, solution->nonce, coinbase.Encode(), reason);
  out["overpaying_coinbase"] = json{{"result", result}, {"reason", reason}};
  out["start_height"] = start;
  out["end_height"] = mining.getTip().height;
  return out;
}

json Concurrent(ipc::Mining& mining, crossproc::WorkerPool& pool) {
  constexpr int kWaiters = 3;
  std::vector<std::unique_ptr<ipc::BlockTemplate>> templates;
  for (int i = 0; i < kWaiters; ++i) templates.push_back(mining.createNewBlock(Options(static_cast<uint8_t>(10 + i))));
  uint32_t height = templates[0]->getCoinbaseTx().height;
  std::vector<json> results(kWaiters);
  std::atomic<int> waiting{0};
  Clock::time_point submitted{};
  std::mutex mutex;
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      ++waiting;
      bool interrupted = false;
      Clock::time_point start = Clock::now();
      std::unique_ptr<ipc::BlockTemplate> next = templates[static_cast<std::size_t>(i)]->waitNext({30'000, 0}, interrupted);
      Clock::time_point end = Clock::now();
      std::lock_guard<std::mutex> lock(mutex);
      results[static_cast<std::size_t>(i)] = json{
          {"got", next != nullptr}, {"interrupted", interrupted},
          {"height", next ? next->getCoinbaseTx().height : 0},
          {"waited_ms", std::chrono::duration<double, std::milli>(end - start).count()},
          {"after_block_ms", std::chrono::duration<double, std::milli>(end - submitted).count()}};
    });
  }
  while (waiting < kWaiters) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all three inside waitNext
  auto miner = mining.createNewBlock(Options(20));
  {
    std::lock_guard<std::mutex> lock(mutex);
    submitted = Clock::now();
  }
  json block = Solve(*miner, pool);
  for (auto& thread : threads) thread.join();
  return json{{"height", height}, {"block", block}, {"waiters", results}};
}

json Interrupt(ipc::Mining& mining) {
  auto first = mining.createNewBlock(Options(30));
  auto second = mining.createNewBlock(Options(31));
  std::vector<uint8_t> tip = mining.getTip().hash;
  struct Outcome {
    std::atomic<bool> done{false};
    bool interrupted = false;
    bool got = false;
    double ms = 0;
  };
  Outcome a, b, c;
  Clock::time_point start = Clock::now();
  std::thread ta([&] {
    std::unique_ptr<ipc::BlockTemplate> next = first->waitNext({60'000, 0}, a.interrupted);
    a.got = next != nullptr;
    a.ms = MsSince(start);
    a.done = true;
  });
  std::thread tb([&] {
    std::unique_ptr<ipc::BlockTemplate> next = second->waitNext({60'000, 0}, b.interrupted);
    b.got = next != nullptr;
    b.ms = MsSince(start);
    b.done = true;
  });
  std::thread tc([&] {
    mining.waitTipChanged(tip, 60'000, c.interrupted);
    c.ms = MsSince(start);
    c.done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  first->interruptWait();
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  while (!a.done && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  bool others_still_waiting = !b.done && !c.done;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  others_still_waiting = others_still_waiting && !b.done && !c.done;
  double interrupt_at = MsSince(start);
  mining.interrupt();
  ta.join();
  tb.join();
  tc.join();
  auto to_json = [](const Outcome& o) { return json{{"interrupted", o.interrupted}, {"got", o.got}, {"ms", o.ms}}; };
  // interrupt() is sticky: a later wait returns at once.
  bool later = false;
  Clock::time_point later_start = Clock::now();
  mining.waitTipChanged(tip, 60'000, later);
  return json{{"interrupt_wait_released", to_json(a)}, {"others_still_waiting", others_still_waiting},
              {"interrupt_at_ms", interrupt_at}, {"template_waiter", to_json(b)}, {"tip_waiter", to_json(c)},
              {"later_wait_interrupted", later}, {"later_wait_ms", MsSince(later_start)}};
}

json Memory(ipc::Mining& mining) {
  std::vector<std::unique_ptr<ipc::BlockTemplate>> held;
  std::string error;
  ipc::MemoryLoad before = mining.getMemoryLoad();
  constexpr std::size_t kMaxTemplates = 200'000;
  while (held.size() < kMaxTemplates) {
    try {
      held.push_back(mining.createNewBlock(Options(40)));
    } catch (const crossproc::RemoteError& e) {
      error = e.message();
      break;
    }
  }
  ipc::MemoryLoad full = mining.getMemoryLoad();
  held.clear();
  ipc::MemoryLoad released = mining.getMemoryLoad();
  bool again = mining.createNewBlock(Options(41)) != nullptr;
  auto to_json = [](const ipc::MemoryLoad& load) {
    return json{{"templates", load.templates}, {"bytes", load.bytes}, {"limit", load.limitBytes}};
  };
  return json{{"created", full.templates - before.templates}, {"error", error}, {"before", to_json(before)},
              {"full", to_json(full)}, {"released", to_json(released)}, {"created_after_release", again}};
}

json Check(ipc::Mining& mining, crossproc::WorkerPool& pool) {
  json out;
  auto block_template = mining.createNewBlock(Options(50));
  Block block = Block::Decode(block_template->getBlock());
  std::string reason;
  out["template_nopow"] = json{{"result", mining.checkBlock(block.Encode(), {false}, reason)}, {"reason", reason}};
  out["template_pow"] = json{{"result", mining.checkBlock(block.Encode(), {true}, reason)}, {"reason", reason}};
  std::optional<Solution> solution = GrindHeader(block.header, pool, [] { return false; });
  block.header.time = solution->time;
  block.header.nonce = solution->nonce;
  out["solved"] = json{{"result", mining.checkBlock(block.Encode(), {true}, reason)}, {"reason", reason}};
  out["garbage"] = json{{"result", mining.checkBlock({1, 2, 3}, {true}, reason)}, {"reason", reason}};
  out["submit"] = json{{"result", mining.submitBlock(block.Encode(), reason)}, {"reason", reason}};
  out["submit_again"] = json{{"result", mining.submitBlock(block.Encode(), reason)}, {"reason", reason}};
  out["stale"] = json{{"result", mining.checkBlock(block.Encode(), {true}, reason)}, {"reason", reason}};
  out["hash"] = block.header.Hash().ToHex();
  return out;
}

int Hold(ipc::Mining& mining, int seconds) {
  auto block_template = mining.createNewBlock(Options(60));
  std::cout << "waiting\n" << std::flush;
  bool interrupted = false;
  auto next = block_template->waitNext({static_cast<uint64_t>(seconds) * 1000, 0}, interrupted);
  std::cout << json{{"got", next != nullptr}, {"interrupted", interrupted}}.dump() << "\n";
  return 0;
}

int Run(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: minicoin-mining-probe <socket> <scenario> [arguments]\n";
    return 2;
  }
  std::string scenario = argv[2];
  crossproc::ConnectionOptions connection_options;
  connection_options.name = "mining-probe";
  // Errors and warnings only: a closed connection at exit is not news.
  connection_options.log = [](crossproc::LogLevel level, const std::string& line) {
    if (level == crossproc::LogLevel::kError || level == crossproc::LogLevel::kWarning) crossproc::LogToStderr(level, line);
  };
  auto connection = crossproc::ConnectUnix(argv[1], connection_options);
  auto init = connection->Bootstrap<ipc::Init>();
  std::unique_ptr<ipc::Mining> mining = init->makeMining();
  crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 1, .name = "probe"});
  json out;
  if (scenario == "load") {
    out = Load(*mining);
  } else if (scenario == "stale") {
    out = Stale(*mining, pool);
  } else if (scenario == "concurrent") {
    out = Concurrent(*mining, pool);
  } else if (scenario == "interrupt") {
    out = Interrupt(*mining);
  } else if (scenario == "memory") {
    out = Memory(*mining);
  } else if (scenario == "check") {
    out = Check(*mining, pool);
  } else if (scenario == "hold" && argc >= 4) {
    return Hold(*mining, std::stoi(argv[3]));
  } else {
    std::cerr << "unknown scenario '" << scenario << "'\n";
    return 2;
  }
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace
}  // namespace minicoin

int main(int argc, char** argv) {
  try {
    return minicoin::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}
