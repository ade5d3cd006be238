// crossproc-concurrency-bench: speedups measured in one run.
//  (a) 1000 calls fanned out over 4 server processes with a TaskGroup, against the same calls
//      made one by one;
//  (b) ParallelFor over a CPU-bound job on a WorkerPool, against one thread.
// `--quick` makes it short (a smoke run for CI); `--json FILE` writes the figures.
#include <crossproc/process.h>
#include <crossproc/task_group.h>
#include <crossproc/worker_pool.h>

#include "bench.crossproc.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Each call does a little work, as a real method would: about 100 us of waiting.
class TargetImpl final : public bench::Target {
 public:
  void ping() override { std::this_thread::sleep_for(std::chrono::microseconds(100)); }
  uint64_t send(const std::vector<uint8_t>& data) override { return data.size(); }
  void callBack(const std::shared_ptr<bench::Callback>& callback) override { callback->call(); }
  std::unique_ptr<bench::Target> makeObject() override { return std::make_unique<TargetImpl>(); }
};

class InitImpl final : public bench::Init {
 public:
  std::unique_ptr<bench::Target> makeTarget() override { return std::make_unique<TargetImpl>(); }
};

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// A CPU-bound step: many rounds of a 64-bit mixer.
uint64_t Work(uint64_t seed, int rounds) {
  uint64_t x = seed;
  for (int i = 0; i < rounds; ++i) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  crossproc::ConnectionOptions quiet;
  quiet.log = nullptr;
  if (auto code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<bench::Init>(std::make_shared<InitImpl>()), quiet)) {
    return *code;
  }
  bool quick = false;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
    else {
      std::fprintf(stderr, "usage: crossproc-concurrency-bench [--quick] [--json FILE]\n");
      return 2;
    }
  }
  const int calls = quick ? 200 : 1000;
  const int repetitions = quick ? 1 : 3;
  std::string self = crossproc::FindExecutable(argv[0]);

  // (a) Fan-out over 4 processes.
  crossproc::SpawnOptions options;
  options.connection = quiet;
  std::vector<crossproc::Spawned<bench::Init>> servers;
  std::vector<std::unique_ptr<bench::Target>> targets;
  for (int i = 0; i < 4; ++i) {
    servers.push_back(crossproc::SpawnProcess<bench::Init>(self, options));
    targets.push_back(servers.back().init->makeTarget());
    targets.back()->ping();
  }
  std::vector<double> sequential;
  std::vector<double> fanned;
  for (int r = 0; r < repetitions; ++r) {
    auto start = Clock::now();
    for (int i = 0; i < calls; ++i) targets[i % 4]->ping();
    sequential.push_back(Seconds(start));
    start = Clock::now();
    crossproc::TaskGroup group;
    for (int i = 0; i < calls; ++i) group.Add(static_cast<bench::TargetClient&>(*targets[i % 4]).pingAsync());
    group.Join();
    fanned.push_back(Seconds(start));
  }
  double fan_speedup = Median(sequential) / Median(fanned);

  // (b) ParallelFor against one thread.
  const std::size_t items = quick ? 2000 : 20000;
  const int rounds = 2000;
  std::vector<uint64_t> out(items);
  crossproc::WorkerPool pool;
  std::vector<double> single;
  std::vector<double> parallel;
  for (int r = 0; r < repetitions; ++r) {
    auto start = Clock::now();
    for (std::size_t i = 0; i < items; ++i) out[i] = Work(i, rounds);
    single.push_back(Seconds(start));
    start = Clock::now();
    pool.ParallelFor(0, items, [&](std::size_t i) { out[i] = Work(i, rounds); }).Wait();
    parallel.push_back(Seconds(start));
  }
  double parallel_speedup = Median(single) / Median(parallel);

  std::printf("%-60s %10s\n", "measure", "value");
  std::printf("%-60s %10.1f ms\n", ("" + std::to_string(calls) + " calls one by one over 4 processes").c_str(),
              Median(sequential) * 1e3);
  std::printf("%-60s %10.1f ms\n", (std::to_string(calls) + " calls fanned out with a TaskGroup").c_str(),
              Median(fanned) * 1e3);
  std::printf("%-60s %10.2f x\n", "fan-out speedup", fan_speedup);
  std::printf("%-60s %10.1f ms\n", "CPU-bound loop, one thread", Median(single) * 1e3);
  std::printf("%-60s %10.1f ms\n", ("ParallelFor on " + std::to_string(pool.thread_count()) + " threads").c_str(),
              Median(parallel) * 1e3);
  std::printf("%-60s %10.2f x\n", "ParallelFor speedup", parallel_speedup);
  if (!json.empty()) {
    std::ofstream file(json);
    file << "{\n  \"fanout_calls\": " << calls << ",\n  \"fanout_sequential_ms\": " << Median(sequential) * 1e3
         << ",\n  \"fanout_parallel_ms\": " << Median(fanned) * 1e3 << ",\n  \"fanout_speedup\": " << fan_speedup
         << ",\n  \"parallel_for_threads\": " << pool.thread_count() << ",\n  \"parallel_for_single_ms\": "
         << Median(single) * 1e3 << ",\n  \"parallel_for_ms\": " << Median(parallel) * 1e3
         << ",\n  \"parallel_for_speedup\": " << parallel_speedup << "\n}\n";
  }
  return 0;
}
