// crossproc-bench: measures, in one run and with the server in a second process, the socket
// round trip (the floor), plain Cap'n Proto RPC (kj) and crossproc calls, and prints each figure
// with its ratio to the floor. `--json FILE` writes the figures; `--quick` keeps it under 30 s.
#include <crossproc/process.h>
#include <crossproc/task_group.h>

#include "bench.capnp.h"
#include "bench.crossproc.h"

#include <capnp/rpc-twoparty.h>
#include <dirent.h>
#include <kj/async-io.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <sys/socket.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Watchdog: every phase of the run says what it measures and which child process serves it. A
// phase that takes longer than the limit is reported with the stacks of both processes (when gdb
// is installed), and the run fails instead of hanging.

class Watchdog {
 public:
  void Start(double limit_s, bool verbose) {
    m_limit = std::chrono::duration<double>(limit_s);
    m_verbose = verbose;
    m_thread = std::thread([this] { Run(); });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_done = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
  }
  void Phase(const std::string& name, pid_t child) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_phase = name;
    m_child = child;
    m_started = Clock::now();
    if (m_verbose) std::fprintf(stderr, "crossproc-bench: %s\n", name.c_str());
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(m_mutex);
    while (!m_done) {
      m_cv.wait_for(lock, std::chrono::seconds(1));
      if (m_done || m_phase.empty() || Clock::now() - m_started < m_limit) continue;
      std::fprintf(stderr, "crossproc-bench: phase \"%s\" has run for over %.0f s; stacks follow\n", m_phase.c_str(),
                   m_limit.count());
      DumpStacks(::getpid());
      if (m_child > 0) DumpStacks(m_child);
      std::fflush(stderr);
      std::_Exit(3);
    }
  }
  static void DumpStacks(pid_t pid) {
    if (::access("/usr/bin/gdb", X_OK) != 0) return;
    std::string command = "/usr/bin/gdb -p " + std::to_string(pid) +
                          " -batch -nx -ex 'set pagination off' -ex 'thread apply all bt' 1>&2 2>/dev/null";
    std::fprintf(stderr, "--- process %d ---\n", static_cast<int>(pid));
    std::fflush(stderr);
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "(gdb could not attach)\n");
  }

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::thread m_thread;
  std::chrono::duration<double> m_limit{0};
  bool m_verbose = false;
  bool m_done = false;
  std::string m_phase;
  pid_t m_child = 0;
  Clock::time_point m_started;
};

Watchdog g_watchdog;

// ---------------------------------------------------------------------------------------------
// Servers (run in the child process).

class TargetImpl final : public bench::Target {
 public:
  void ping() override {}
  uint64_t send(const std::vector<uint8_t>& data) override { return data.size(); }
  void callBack(const std::shared_ptr<bench::Callback>& callback) override { callback->call(); }
  std::unique_ptr<bench::Target> makeObject() override { return std::make_unique<TargetImpl>(); }
};

class InitImpl final : public bench::Init {
 public:
  std::unique_ptr<bench::Target> makeTarget() override { return std::make_unique<TargetImpl>(); }
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"  // kj servers are destroyed through kj::Own
class KjTarget final : public bench::wire::Target::Server {
 protected:
  kj::Promise<void> ping(PingContext) override { return kj::READY_NOW; }
  kj::Promise<void> send(SendContext context) override {
    context.getResults().setResult(context.getParams().getData().size());
    return kj::READY_NOW;
  }
};
class KjInit final : public bench::wire::Init::Server {
 protected:
  kj::Promise<void> makeTarget(MakeTargetContext context) override {
    context.getResults().setResult(kj::heap<KjTarget>());
    return kj::READY_NOW;
  }
};
#pragma GCC diagnostic pop

void RunFloorServer(int fd) {
  char buffer[64];
  while (true) {
    std::size_t got = 0;
    while (got < sizeof(buffer)) {
      ssize_t count = ::read(fd, buffer + got, sizeof(buffer) - got);
      if (count <= 0) return;
      got += static_cast<std::size_t>(count);
    }
    if (::write(fd, buffer, sizeof(buffer)) != static_cast<ssize_t>(sizeof(buffer))) return;
  }
}

void RunKjServer(int fd) {
  auto io = kj::setupAsyncIo();
  auto stream = io.lowLevelProvider->wrapSocketFd(fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  capnp::TwoPartyVatNetwork network(*stream, capnp::rpc::twoparty::Side::SERVER);
  auto rpc = capnp::makeRpcServer(network, capnp::Capability::Client(kj::heap<KjInit>()));
  network.onDisconnect().wait(io.waitScope);
}

// ---------------------------------------------------------------------------------------------
// Measuring.

// Resident memory of a process, in KiB.
double ResidentKiB(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  long size = 0;
  long resident = 0;
  statm >> size >> resident;
  return resident * (::sysconf(_SC_PAGESIZE) / 1024.0);
}

// Voluntary context switches of each thread of a process, by "tid name".
std::map<std::string, long> SwitchesByThread(pid_t pid) {
  std::map<std::string, long> threads;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  if (DIR* tasks = ::opendir(dir.c_str())) {
    while (dirent* entry = ::readdir(tasks)) {
      if (entry->d_name[0] == '.') continue;
      std::string name;
      std::ifstream(dir + "/" + entry->d_name + "/comm") >> name;
      std::ifstream status(dir + "/" + entry->d_name + "/status");
      std::string line;
      while (std::getline(status, line)) {
        if (line.rfind("voluntary_ctxt_switches:", 0) == 0) {
          threads[std::string(entry->d_name) + " " + name] = std::stol(line.substr(line.find(':') + 1));
        }
      }
    }
    ::closedir(tasks);
  }
  return threads;
}

// Voluntary context switches of every thread of a process.
long ContextSwitches(pid_t pid) {
  long total = 0;
  for (const auto& [thread, count] : SwitchesByThread(pid)) total += count;
  return total;
}

// Voluntary switches per operation of each thread of the calling process ("client") and of
// `child` ("server") over `n` runs of `op`, summed by thread name (threads of one name, a
// connection's event-loop threads say, are added up). Threads under 0.005 per operation are
// left out.
std::map<std::string, double> SwitchesPerOpByThread(pid_t child, int n, const std::function<void()>& op) {
  const pid_t pids[2] = {::getpid(), child};
  std::map<std::string, long> before[2] = {SwitchesByThread(pids[0]), SwitchesByThread(pids[1])};
  for (int i = 0; i < n; ++i) op();
  std::map<std::string, double> per_op;
  for (int p = 0; p < 2; ++p) {
    for (const auto& [thread, count] : SwitchesByThread(pids[p])) {
      const std::string name = thread.substr(thread.find(' ') + 1);  // "tid name" -> "name"
      per_op[std::string(p ? "server." : "client.") + name] += double(count - before[p][thread]) / n;
    }
  }
  std::erase_if(per_op, [](const auto& entry) { return entry.second < 0.005; });
  return per_op;
}

// CPU time (user and system) of a whole process so far, in microseconds, from /proc.
double CpuMicros(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);  // one line
  if (text.rfind(')') == std::string::npos) return 0;
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (name) "
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);  // utime, stime
  }
  return ticks * 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU microseconds per operation over both processes: far steadier than elapsed time when the
// time goes mostly into waiting for wake-ups.
double CpuMicrosPerOp(pid_t child, int iterations, const std::function<void()>& op) {
  double before = CpuMicros(::getpid()) + CpuMicros(child);
  for (int i = 0; i < iterations; ++i) op();
  return (CpuMicros(::getpid()) + CpuMicros(child) - before) / iterations;
}

long Switches(pid_t child) { return ContextSwitches(::getpid()) + ContextSwitches(child); }

// System calls per null call over both processes, counted by strace: a run making `n` calls
// minus a run making none, divided by n. Returns -1 if strace is not installed.
double SyscallsPerCall(const std::string& self, const char* mode, int n) {
  if (::access("/usr/bin/strace", X_OK) != 0) return -1;
  auto total = [&](int calls) {
    std::string out = "/tmp/crossproc-bench-strace-" + std::to_string(::getpid());
    std::string command = "/usr/bin/strace -f -qq -c -o " + out + " " + self + " " + mode + " " + std::to_string(calls) +
                          " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) return -1.0;
    std::ifstream summary(out);
    std::string line;
    double count = -1;
    while (std::getline(summary, line)) {
      if (line.find("total") != std::string::npos) {
        // "100.00    0.000000           0      1234        12 total": the calls column.
        std::istringstream fields(line);
        std::vector<std::string> words;
        for (std::string word; fields >> word;) words.push_back(word);
        if (words.size() >= 4) count = std::stod(words[3]);
      }
    }
    std::remove(out.c_str());
    return count;
  };
  double none = total(0);
  double some = total(n);
  if (none < 0 || some < 0) return -1;
  return (some - none) / n;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Settings {
  bool quick = false;
  int repetitions = 5;
  std::string json;
};

// Median over repetitions of the microseconds per operation of `iterations` runs of `op`.
double MicrosPerOp(const Settings& settings, int iterations, const std::function<void()>& op) {
  for (int i = 0; i < std::max(10, iterations / 10); ++i) op();  // warm up
  std::vector<double> samples;
  for (int r = 0; r < settings.repetitions; ++r) {
    auto start = Clock::now();
    for (int i = 0; i < iterations; ++i) op();
    samples.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / iterations);
  }
  return Median(samples);
}

class Report {
 public:
  void Add(const std::string& key, double value, const std::string& unit, const std::string& what) {
    m_rows.push_back({key, value, unit, what});
    m_values[key] = value;
  }
  double operator[](const std::string& key) const { return m_values.at(key); }
  bool Has(const std::string& key) const { return m_values.count(key) != 0; }

  void Print(double floor_us) const {
    std::printf("\n%-48s %14s  %-8s %s\n", "measure", "value", "unit", "vs socketpair round trip");
    for (const auto& row : m_rows) {
      std::string ratio;
      if (row.unit == "us") ratio = Format(row.value / floor_us) + "x";
      if (row.unit == "calls/s") ratio = Format(1e6 / row.value / floor_us) + "x per call";
      std::printf("%-48s %14.2f  %-8s %s\n", row.what.c_str(), row.value, row.unit.c_str(), ratio.c_str());
    }
  }

  void WriteJson(const std::string& path) const {
    std::ofstream out(path);
    out << "{\n";
    std::size_t i = 0;
    for (const auto& [key, value] : m_values) {
      out << "  \"" << key << "\": " << value << (++i < m_values.size() ? ",\n" : "\n");
    }
    out << "}\n";
  }

 private:
  static std::string Format(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.2f", value);
    return buffer;
  }
  struct Row {
    std::string key;
    double value;
    std::string unit;
    std::string what;
  };
  std::vector<Row> m_rows;
  std::map<std::string, double> m_values;
};

crossproc::CommandLineBuilder Mode(const char* flag) {
  return [flag](const std::string& exe, int fd) { return std::vector<std::string>{exe, flag, std::to_string(fd)}; };
}

void MeasureFloor(const Settings& settings, const std::string& self, Report& report) {
  auto child = crossproc::SpawnWithSocket(self, Mode("--floor-fd"));
  g_watchdog.Phase("socketpair round trip", child.process->pid());
  int fd = child.fd;
  char buffer[64] = {};
  auto round_trip = [&] {
    if (::write(fd, buffer, sizeof(buffer)) != static_cast<ssize_t>(sizeof(buffer))) std::abort();
    std::size_t got = 0;
    while (got < sizeof(buffer)) {
      ssize_t count = ::read(fd, buffer + got, sizeof(buffer) - got);
      if (count <= 0) std::abort();
      got += static_cast<std::size_t>(count);
    }
  };
  int n = settings.quick ? 2000 : 20000;
  report.Add("socketpair_rtt_us", MicrosPerOp(settings, n, round_trip), "us", "socketpair round trip, 64 B (floor)");
  long before = Switches(child.process->pid());
  for (int i = 0; i < n; ++i) round_trip();
  report.Add("socketpair_ctxsw", double(Switches(child.process->pid()) - before) / n, "switches",
             "  context switches per round trip");
  report.Add("socketpair_cpu_us", CpuMicrosPerOp(child.process->pid(), n, round_trip), "us cpu",
             "  CPU time per round trip, both processes");
  ::close(fd);
}

void MeasureKj(const Settings& settings, const std::string& self, Report& report) {
  auto child = crossproc::SpawnWithSocket(self, Mode("--kj-fd"));
  g_watchdog.Phase("Cap'n Proto null call", child.process->pid());
  auto io = kj::setupAsyncIo();
  auto stream = io.lowLevelProvider->wrapSocketFd(child.fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
  capnp::TwoPartyClient client(*stream);
  auto init = client.bootstrap().castAs<bench::wire::Init>();
  auto target = init.makeTargetRequest().send().wait(io.waitScope).getResult();
  auto ping = [&] { target.pingRequest().send().wait(io.waitScope); };
  int n = settings.quick ? 2000 : 20000;
  report.Add("capnp_call_us", MicrosPerOp(settings, n, ping), "us", "Cap'n Proto RPC (kj) null call");
  long before = Switches(child.process->pid());
  for (int i = 0; i < n; ++i) ping();
  report.Add("capnp_call_ctxsw", double(Switches(child.process->pid()) - before) / n, "switches",
             "  context switches per call");
  report.Add("capnp_call_cpu_us", CpuMicrosPerOp(child.process->pid(), n, ping), "us cpu",
             "  CPU time per call, both processes");
  g_watchdog.Phase("Cap'n Proto system calls (strace)", 0);
  double syscalls = SyscallsPerCall(self, "--kj-null-calls", settings.quick ? 200 : 2000);
  if (syscalls >= 0) report.Add("capnp_call_syscalls", syscalls, "syscalls", "  system calls per call (strace)");
  g_watchdog.Phase("Cap'n Proto 64 calls in flight", child.process->pid());
  int batches = settings.quick ? 30 : 300;
  double async_us = MicrosPerOp(settings, batches, [&] {
    auto promises = kj::heapArrayBuilder<kj::Promise<void>>(64);
    for (int i = 0; i < 64; ++i) promises.add(target.pingRequest().send().ignoreResult());
    kj::joinPromises(promises.finish()).wait(io.waitScope);
  });
  report.Add("capnp_async64_calls_per_s", 64e6 / async_us, "calls/s", "Cap'n Proto RPC, 64 calls in flight");
  g_watchdog.Phase("Cap'n Proto 1 MiB Data", child.process->pid());
  std::vector<uint8_t> blob(1 << 20, 7);
  double mib_us = MicrosPerOp(settings, settings.quick ? 20 : 100, [&] {
    auto request = target.sendRequest();
    request.setData(kj::arrayPtr(blob.data(), blob.size()));
    request.send().wait(io.waitScope);
  });
  report.Add("capnp_data_1mib_gbps", (1 << 20) / mib_us / 1e3, "GB/s", "Cap'n Proto RPC, 1 MiB Data argument");
}

// A child serving bench::Init over a connection whose two ends both pass segments of 256 KiB or
// more as sealed memfds (a side receives them only if its own threshold is set).
crossproc::Spawned<bench::Init> SpawnWithSharedMemory(const std::string& self) {
  constexpr std::size_t kThreshold = 256u << 10;
  crossproc::SpawnOptions options;
  options.connection.log = nullptr;
  options.connection.shared_memory_threshold = kThreshold;
  ::setenv("CROSSPROC_BENCH_SHM_BYTES", std::to_string(kThreshold).c_str(), 1);
  auto child = crossproc::SpawnProcess<bench::Init>(self, options);
  ::unsetenv("CROSSPROC_BENCH_SHM_BYTES");
  return child;
}

void MeasureCrossproc(const Settings& settings, const std::string& self, Report& report) {
  auto child = crossproc::SpawnProcess<bench::Init>(self);
  pid_t pid = child.process->pid();
  g_watchdog.Phase("crossproc null call", pid);
  std::shared_ptr<bench::Target> target = child.init->makeTarget();
  int n = settings.quick ? 2000 : 20000;
  report.Add("call_us", MicrosPerOp(settings, n, [&] { target->ping(); }), "us", "crossproc null call");
  long before = Switches(child.process->pid());
  for (int i = 0; i < n; ++i) target->ping();
  report.Add("call_ctxsw", double(Switches(child.process->pid()) - before) / n, "switches",
             "  context switches per call");
  for (const auto& [thread, switches] : SwitchesPerOpByThread(pid, n, [&] { target->ping(); })) {
    report.Add("call_ctxsw_thread." + thread, switches, "switches", "    of which thread " + thread);
  }
  report.Add("call_cpu_us", CpuMicrosPerOp(pid, n, [&] { target->ping(); }), "us cpu",
             "  CPU time per call, both processes");
  g_watchdog.Phase("crossproc system calls (strace)", 0);
  double syscalls = SyscallsPerCall(self, "--null-calls", settings.quick ? 200 : 2000);
  if (syscalls >= 0) report.Add("call_syscalls", syscalls, "syscalls", "  system calls per call (strace)");
  g_watchdog.Phase("crossproc Data arguments", pid);

  for (auto [size, key, what] : {std::tuple<std::size_t, const char*, const char*>{64, "data_64b_us", "crossproc call with 64 B of Data"},
                                 {4096, "data_4kib_us", "crossproc call with 4 KiB of Data"}}) {
    std::vector<uint8_t> blob(size, 1);
    report.Add(key, MicrosPerOp(settings, n / 2, [&] { target->send(blob); }), "us", what);
  }
  std::vector<uint8_t> mib(1 << 20, 7);
  double mib_us = MicrosPerOp(settings, settings.quick ? 20 : 100, [&] { target->send(mib); });
  report.Add("data_1mib_gbps", (1 << 20) / mib_us / 1e3, "GB/s", "crossproc call with 1 MiB of Data");
  {
    // The same with shared-memory segments (sealed memfds) turned on at both ends.
    auto shm_child = SpawnWithSharedMemory(self);
    g_watchdog.Phase("crossproc 1 MiB Data through shared memory", shm_child.process->pid());
    auto shm_target = shm_child.init->makeTarget();
    double shm_us = MicrosPerOp(settings, settings.quick ? 20 : 100, [&] { shm_target->send(mib); });
    report.Add("data_1mib_shm_gbps", (1 << 20) / shm_us / 1e3, "GB/s",
               "crossproc call with 1 MiB of Data, shared memory");
  }

  struct Nothing final : bench::Callback {
    void call() override {}
  };
  auto callback = std::make_shared<Nothing>();
  g_watchdog.Phase("crossproc callback", pid);
  report.Add("callback_us", MicrosPerOp(settings, n / 2, [&] { target->callBack(callback); }), "us",
             "crossproc call + callback into the caller");
  before = Switches(pid);
  for (int i = 0; i < n / 2; ++i) target->callBack(callback);
  report.Add("callback_ctxsw", double(Switches(pid) - before) / (n / 2), "switches", "  context switches per call");
  for (const auto& [thread, switches] : SwitchesPerOpByThread(pid, n / 2, [&] { target->callBack(callback); })) {
    report.Add("callback_ctxsw_thread." + thread, switches, "switches", "    of which thread " + thread);
  }

  for (int threads : {1, 2, 4, 8}) {
    int per_thread = (settings.quick ? 2000 : 10000) / threads;
    g_watchdog.Phase("crossproc " + std::to_string(threads) + " client thread(s)", pid);
    std::vector<double> samples;
    for (int r = 0; r < settings.repetitions; ++r) {
      std::vector<std::thread> workers;
      std::atomic<int> ready{0};
      std::atomic<bool> go{false};
      auto start = Clock::now();
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
          target->ping();  // maps the thread
          ++ready;
          while (!go) std::this_thread::yield();
          for (int i = 0; i < per_thread; ++i) target->ping();
        });
      }
      while (ready < threads) std::this_thread::yield();
      start = Clock::now();
      go = true;
      for (auto& worker : workers) worker.join();
      samples.push_back(threads * per_thread / std::chrono::duration<double>(Clock::now() - start).count());
    }
    report.Add("threads_" + std::to_string(threads) + "_calls_per_s", Median(samples), "calls/s",
               "crossproc, " + std::to_string(threads) + " client thread(s)");
  }

  auto* client = static_cast<bench::TargetClient*>(target.get());
  int batches = settings.quick ? 30 : 300;
  auto in_flight = [&](bool batched) {
    return MicrosPerOp(settings, batches, [&] {
      std::vector<crossproc::Future<void>> futures;
      futures.reserve(64);
      {
        std::optional<crossproc::SendBatch> batch;
        if (batched) batch.emplace();
        for (int i = 0; i < 64; ++i) futures.push_back(client->pingAsync());
      }
      for (auto& future : futures) future.get();
    });
  };
  g_watchdog.Phase("crossproc 64 async calls in flight", pid);
  report.Add("async64_calls_per_s", 64e6 / in_flight(true), "calls/s",
             "crossproc, 64 async calls in flight (SendBatch)");
  report.Add("async64_unbatched_calls_per_s", 64e6 / in_flight(false), "calls/s",
             "crossproc, 64 async calls in flight, one write each");

  g_watchdog.Phase("crossproc remote objects", pid);
  report.Add("object_create_destroy_us", MicrosPerOp(settings, n / 4, [&] { target->makeObject().reset(); }), "us",
             "crossproc remote object created and destroyed");

  // Memory of mapped server threads, read in the server process while 32 client threads each
  // hold one (thread stacks included as far as they are touched).
  {
    constexpr int kThreads = 32;
    g_watchdog.Phase("crossproc memory per server thread", pid);
    double resident_before = ResidentKiB(child.process->pid());
    std::mutex mutex;
    std::condition_variable cv;
    int mapped = 0;
    bool release = false;
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        target->ping();
        std::unique_lock<std::mutex> lock(mutex);
        ++mapped;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
      });
    }
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return mapped == kThreads; });
    }
    double resident_after = ResidentKiB(child.process->pid());
    {
      std::lock_guard<std::mutex> lock(mutex);
      release = true;
    }
    cv.notify_all();
    for (auto& thread : threads) thread.join();
    report.Add("server_thread_kib", (resident_after - resident_before) / kThreads, "KiB", "memory per mapped server thread");
  }
}

// The null call and the callback again, with both sides polling the socket for a while before
// they sleep (ConnectionOptions::spin_before_sleep; the child reads its setting from the
// environment).
void MeasureSpinning(const Settings& settings, const std::string& self, Report& report, int spin_us) {
  crossproc::SpawnOptions options;
  options.connection.log = nullptr;
  options.connection.spin_before_sleep = std::chrono::microseconds(spin_us);
  ::setenv("CROSSPROC_BENCH_SPIN_US", std::to_string(spin_us).c_str(), 1);
  auto child = crossproc::SpawnProcess<bench::Init>(self, options);
  ::unsetenv("CROSSPROC_BENCH_SPIN_US");
  pid_t pid = child.process->pid();
  g_watchdog.Phase("crossproc null call, spinning " + std::to_string(spin_us) + " us", pid);
  std::shared_ptr<bench::Target> target = child.init->makeTarget();
  int n = settings.quick ? 2000 : 20000;
  std::string suffix = "_spin" + std::to_string(spin_us);
  std::string what = ", polling " + std::to_string(spin_us) + " us before sleeping";
  report.Add("call" + suffix + "_us", MicrosPerOp(settings, n, [&] { target->ping(); }), "us", "crossproc null call" + what);
  long before = Switches(pid);
  for (int i = 0; i < n; ++i) target->ping();
  report.Add("call" + suffix + "_ctxsw", double(Switches(pid) - before) / n, "switches", "  context switches per call");
  report.Add("call" + suffix + "_cpu_us", CpuMicrosPerOp(pid, n, [&] { target->ping(); }), "us cpu",
             "  CPU time per call, both processes");
  struct Nothing final : bench::Callback {
    void call() override {}
  };
  auto callback = std::make_shared<Nothing>();
  report.Add("callback" + suffix + "_us", MicrosPerOp(settings, n / 2, [&] { target->callBack(callback); }), "us",
             "crossproc call + callback" + what);
  before = Switches(pid);
  for (int i = 0; i < n / 2; ++i) target->callBack(callback);
  report.Add("callback" + suffix + "_ctxsw", double(Switches(pid) - before) / (n / 2), "switches",
             "  context switches per call");
}

// Memory of idle connections: 32 pairs in this process, both ends bootstrapped.
void MeasureIdleConnections(Report& report) {
  constexpr int kPairs = 32;
  g_watchdog.Phase("memory per idle connection", 0);
  crossproc::ConnectionOptions quiet;
  quiet.log = nullptr;
  std::vector<std::unique_ptr<crossproc::Connection>> connections;
  std::vector<std::unique_ptr<bench::InitClient>> inits;
  double before = ResidentKiB(::getpid());
  for (int i = 0; i < kPairs; ++i) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
    connections.push_back(std::make_unique<crossproc::Connection>(
        fds[0], std::shared_ptr<bench::Init>(std::make_shared<InitImpl>()), quiet));
    connections.push_back(std::make_unique<crossproc::Connection>(fds[1], quiet));
    inits.push_back(connections.back()->Bootstrap<bench::Init>());
  }
  double after = ResidentKiB(::getpid());
  report.Add("idle_connection_kib", (after - before) / (2 * kPairs), "KiB",
             "memory per idle connection (one end, with its thread)");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--floor-fd") == 0) {
    RunFloorServer(std::atoi(argv[2]));
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "--kj-fd") == 0) {
    RunKjServer(std::atoi(argv[2]));
    return 0;
  }
  crossproc::ConnectionOptions quiet;
  quiet.log = nullptr;
  if (const char* spin = std::getenv("CROSSPROC_BENCH_SPIN_US")) {
    quiet.spin_before_sleep = std::chrono::microseconds(std::atoi(spin));
  }
  // Shared-memory segments are used only if both ends turn them on: the served child reads the
  // threshold its parent used (SpawnWithSharedMemory).
  if (const char* shm = std::getenv("CROSSPROC_BENCH_SHM_BYTES")) {
    quiet.shared_memory_threshold = std::strtoull(shm, nullptr, 10);
  }
  if (auto code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<bench::Init>(std::make_shared<InitImpl>()), quiet)) {
    return *code;
  }
  // Runs of N null calls and nothing else, for counting system calls under strace.
  if (argc == 3 && std::strcmp(argv[1], "--null-calls") == 0) {
    crossproc::SpawnOptions options;
    options.connection = quiet;
    auto child = crossproc::SpawnProcess<bench::Init>(argv[0], options);
    auto target = child.init->makeTarget();
    target->ping();
    for (int i = 0, n = std::atoi(argv[2]); i < n; ++i) target->ping();
    return 0;
  }
  // Runs for profiling (perf, callgrind): N calls carrying 1 MiB of Data, or N batches of 64
  // asynchronous null calls; a third argument `shm` turns shared-memory segments on.
  if (argc >= 3 && (std::strcmp(argv[1], "--mib-calls") == 0 || std::strcmp(argv[1], "--async-batches") == 0)) {
    crossproc::SpawnOptions options;
    options.connection = quiet;
    auto child = argc == 4 && std::strcmp(argv[3], "shm") == 0 ? SpawnWithSharedMemory(argv[0])
                                                                : crossproc::SpawnProcess<bench::Init>(argv[0], options);
    auto target = child.init->makeTarget();
    auto* client = static_cast<bench::TargetClient*>(target.get());
    std::vector<uint8_t> mib(1 << 20, 7);
    bool data = std::strcmp(argv[1], "--mib-calls") == 0;
    auto started = Clock::now();
    for (int i = 0, n = std::atoi(argv[2]); i < n; ++i) {
      if (data) {
        target->send(mib);
        continue;
      }
      std::vector<crossproc::Future<void>> futures;
      futures.reserve(64);
      for (int j = 0; j < 64; ++j) futures.push_back(client->pingAsync());
      for (auto& future : futures) future.get();
    }
    std::printf("%.1f us per %s\n", std::chrono::duration<double, std::micro>(Clock::now() - started).count() / std::atoi(argv[2]),
                data ? "1 MiB call" : "batch of 64");
    return 0;
  }
  // Where the context switches of a null call or a callback go: N calls, then each thread's
  // voluntary switches per call in both processes. A third argument is spin_before_sleep in us.
  if (argc >= 3 && (std::strcmp(argv[1], "--switches-null") == 0 || std::strcmp(argv[1], "--switches-callback") == 0)) {
    crossproc::SpawnOptions options;
    options.connection = quiet;
    if (argc == 4) {
      options.connection.spin_before_sleep = std::chrono::microseconds(std::atoi(argv[3]));
      ::setenv("CROSSPROC_BENCH_SPIN_US", argv[3], 1);
    }
    auto child = crossproc::SpawnProcess<bench::Init>(argv[0], options);
    auto target = child.init->makeTarget();
    struct Nothing final : bench::Callback {
      void call() override {}
    };
    auto callback = std::make_shared<Nothing>();
    bool null = std::strcmp(argv[1], "--switches-null") == 0;
    auto op = [&] { null ? target->ping() : target->callBack(callback); };
    for (int i = 0; i < 100; ++i) op();
    int n = std::atoi(argv[2]);
    auto started = Clock::now();
    const std::map<std::string, double> per_thread = SwitchesPerOpByThread(child.process->pid(), n, op);
    double us = std::chrono::duration<double, std::micro>(Clock::now() - started).count() / n;
    for (const auto& [thread, per_call] : per_thread) {
      std::printf("%-34s %.3f switches per call\n", thread.c_str(), per_call);
    }
    std::printf("%.1f us per call\n", us);
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "--kj-null-calls") == 0) {
    auto child = crossproc::SpawnWithSocket(argv[0], Mode("--kj-fd"));
    auto io = kj::setupAsyncIo();
    auto stream = io.lowLevelProvider->wrapSocketFd(child.fd, kj::LowLevelAsyncIoProvider::TAKE_OWNERSHIP);
    capnp::TwoPartyClient client(*stream);
    auto target = client.bootstrap().castAs<bench::wire::Init>().makeTargetRequest().send().wait(io.waitScope).getResult();
    target.pingRequest().send().wait(io.waitScope);
    for (int i = 0, n = std::atoi(argv[2]); i < n; ++i) target.pingRequest().send().wait(io.waitScope);
    return 0;
  }
  Settings settings;
  double watchdog_s = 0;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      settings.quick = true;
      settings.repetitions = 3;
    } else if (arg == "--json" && i + 1 < argc) {
      settings.json = argv[++i];
    } else if (arg == "--repetitions" && i + 1 < argc) {
      settings.repetitions = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--watchdog" && i + 1 < argc) {
      watchdog_s = std::atof(argv[++i]);
    } else if (arg == "--verbose") {
      verbose = true;
    } else {
      std::fprintf(stderr,
                   "usage: crossproc-bench [--quick] [--repetitions N] [--json FILE] [--watchdog SECONDS] [--verbose]\n");
      return 2;
    }
  }
  std::string self = crossproc::FindExecutable(argv[0]);
  // No phase takes more than a few seconds in quick mode or half a minute in full mode on a
  // loaded machine; the default limit leaves a wide margin over that.
  g_watchdog.Start(watchdog_s > 0 ? watchdog_s : (settings.quick ? 60 : 240), verbose);
  Report report;
  auto started = Clock::now();
  MeasureFloor(settings, self, report);
  MeasureKj(settings, self, report);
  MeasureCrossproc(settings, self, report);
  MeasureSpinning(settings, self, report, 50);
  MeasureIdleConnections(report);
  report.Add("call_vs_socketpair", report["call_us"] / report["socketpair_rtt_us"], "ratio",
             "crossproc null call / socketpair round trip");
  report.Add("call_vs_capnp", report["call_us"] / report["capnp_call_us"], "ratio",
             "crossproc null call / Cap'n Proto null call");
  report.Add("call_cpu_vs_capnp", report["call_cpu_us"] / report["capnp_call_cpu_us"], "ratio",
             "the same in CPU time per call, both processes");
  report.Print(report["socketpair_rtt_us"]);
  std::printf("\n(%d repetitions, medians; %.1f s)\n", settings.repetitions,
              std::chrono::duration<double>(Clock::now() - started).count());
  if (!settings.json.empty()) report.WriteJson(settings.json);
  return 0;
}
