// Load test: many IPC clients calling a real minicoin-node at once.
//
//   minicoin-load-test <path to minicoin-node> [--long] [--clients=N] [--calls=N]
//
// Starts minicoin-node on a temporary data directory with -ipcbind=unix:<dir>/node.sock, then
// opens one crossproc Connection per client (each client a thread of this process), asks each
// for Init.makeEcho(), and has all of them call Echo.echo at the same time, checking every
// answer. Prints errors (must be 0), throughput, call latencies (median, 99th percentile, maximum)
// and the node's peak memory (VmHWM), and fails if any call failed, any client could not connect,
// or the node did not stop cleanly.
//
// --long or CROSSPROC_TEST_MODE=long: 200 clients x 1,000 calls; otherwise 100 x 100.
// --clients/--calls, or CROSSPROC_LOAD_CLIENTS and CROSSPROC_LOAD_CALLS, override. The node's IPC listener serves at most 128 connections
// unless it offers -ipcmaxconnections (found in its -help), which is then set above the count;
// without it the long mode runs 120 clients (an explicit CROSSPROC_LOAD_CLIENTS is kept as is).
#include "echo.crossproc.h"
#include "init.crossproc.h"

#include <crossproc/listener.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kListenerDefaultLimit = 128;

std::size_t EnvCount(const char* name, std::size_t fallback) {
  const char* value = std::getenv(name);
  if (!value || !*value) return fallback;
  return static_cast<std::size_t>(std::strtoull(value, nullptr, 10));
}

// Runs `argv` and returns what it printed on stdout (at most 1 MiB), or "" if it could not run.
std::string Capture(const std::vector<std::string>& argv) {
  std::string command;
  for (const auto& arg : argv) command += "'" + arg + "' ";
  FILE* pipe = popen((command + "2>/dev/null").c_str(), "r");
  if (!pipe) return "";
  std::string out;
  char buffer[4096];
  while (out.size() < (1u << 20)) {
    std::size_t got = fread(buffer, 1, sizeof(buffer), pipe);
    if (got == 0) break;
    out.append(buffer, got);
  }
  pclose(pipe);
  return out;
}

pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

// Waits at most `timeout` for the child; true if it exited with status 0.
bool WaitExit(pid_t pid, std::chrono::seconds timeout, int& status) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return false;
}

// A field of /proc/<pid>/status in KiB ("VmHWM", "VmRSS"), 0 if unknown.
long StatusKib(pid_t pid, const std::string& field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return 0;
}

struct ClientResult {
  bool connected = false;
  std::size_t calls = 0;
  std::size_t errors = 0;
  std::string first_error;
  std::vector<float> latencies_us;  // of each answered call
};

// The `fraction` quantile of sorted values, 0 if there are none.
double Quantile(const std::vector<float>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  std::size_t index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

// A count given as "--name=N": true and `value` set if `arg` is that option; exits on a bad number.
bool CountOption(const std::string& arg, const std::string& name, std::size_t& value) {
  const std::string prefix = "--" + name + "=";
  if (arg.rfind(prefix, 0) != 0) return false;
  const std::string text = arg.substr(prefix.size());
  char* end = nullptr;
  unsigned long long parsed = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || parsed == 0 || parsed > 100000) {
    std::fprintf(stderr, "load: %s wants a count from 1 to 100000, got '%s'\n", prefix.c_str(), text.c_str());
    std::exit(2);
  }
  value = static_cast<std::size_t>(parsed);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: %s <path to minicoin-node> [--long] [--clients=N] [--calls=N]\n", argv[0]);
    return 2;
  }
  const std::string node_binary = argv[1];
  bool long_mode = std::getenv("CROSSPROC_TEST_MODE") && std::string(std::getenv("CROSSPROC_TEST_MODE")) == "long";
  std::size_t clients_option = 0, calls_option = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--long") {
      long_mode = true;
    } else if (!CountOption(arg, "clients", clients_option) && !CountOption(arg, "calls", calls_option)) {
      std::fprintf(stderr, "load: unknown option '%s' (--long, --clients=N, --calls=N)\n", arg.c_str());
      return 2;
    }
  }
  std::size_t clients = clients_option ? clients_option : EnvCount("CROSSPROC_LOAD_CLIENTS", long_mode ? 200 : 100);
  const std::size_t calls = calls_option ? calls_option : EnvCount("CROSSPROC_LOAD_CALLS", long_mode ? 1000 : 100);
  if (clients == 0 || calls == 0) {
    std::fprintf(stderr, "load: the client and call counts must be above 0\n");
    return 2;
  }

  std::vector<std::string> node_args = {node_binary};
  const bool has_limit_option = Capture({node_binary, "-help"}).find("-ipcmaxconnections") != std::string::npos;
  if (has_limit_option) {
    node_args.push_back("-ipcmaxconnections=" + std::to_string(clients + 16));
  } else if (clients > kListenerDefaultLimit - 8 && !std::getenv("CROSSPROC_LOAD_CLIENTS") && clients_option == 0) {
    std::printf("load: minicoin-node has no -ipcmaxconnections; its listener serves at most %zu connections: "
                "running %zu clients instead of %zu\n",
                kListenerDefaultLimit, kListenerDefaultLimit - 8, clients);
    clients = kListenerDefaultLimit - 8;
  }

  fs::path dir = fs::temp_directory_path() / ("minicoin-load-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string socket_path = (dir / "node.sock").string();
  node_args.insert(node_args.end(), {"-datadir=" + dir.string(), "-regtest", "-server=0", "-printtoconsole=0",
                                     "-ipcbind=unix:" + socket_path});
  pid_t node = Spawn(node_args);
  if (node < 0) {
    std::fprintf(stderr, "load: cannot start %s\n", node_binary.c_str());
    return 1;
  }
  int failures = 0;
  // The socket appears once the node serves it.
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (!fs::exists(socket_path) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!fs::exists(socket_path)) {
    std::fprintf(stderr, "load: the node did not listen on %s within 60 s\n", socket_path.c_str());
    kill(node, SIGKILL);
    waitpid(node, nullptr, 0);
    fs::remove_all(dir);
    return 1;
  }
  long rss_before = StatusKib(node, "VmRSS");

  std::vector<ClientResult> results(clients);
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t ready = 0;
  bool go = false;
  bool abandon = false;
  Clock::time_point start;
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      ClientResult& result = results[i];
      std::unique_ptr<crossproc::Connection> connection;
      std::unique_ptr<minicoin::ipc::Echo> echo;
      try {
        crossproc::ConnectionOptions options;
        options.name = "load-" + std::to_string(i);
        options.thread_stack_bytes = 256u << 10;
        options.log = [](crossproc::LogLevel level, const std::string& line) {
          if (level == crossproc::LogLevel::kError) std::fprintf(stderr, "%s\n", line.c_str());
        };
        connection = crossproc::ConnectUnix(socket_path, options);
        auto init = connection->Bootstrap<minicoin::ipc::Init>();
        echo = init->makeEcho();
        result.connected = true;
      } catch (const std::exception& e) {
        result.first_error = e.what();
      }
      {
        std::unique_lock<std::mutex> lock(mutex);
        ++ready;
        cv.notify_all();
        cv.wait_for(lock, std::chrono::seconds(120), [&] { return go || abandon; });
        if (!go) return;
      }
      if (!echo) return;
      result.latencies_us.reserve(calls);
      for (std::size_t n = 0; n < calls; ++n) {
        std::string text = "client " + std::to_string(i) + " call " + std::to_string(n);
        try {
          auto call_start = Clock::now();
          std::string answer = echo->echo(text);
          result.latencies_us.push_back(
              std::chrono::duration<float, std::micro>(Clock::now() - call_start).count());
          ++result.calls;
          if (answer != text) {
            if (result.errors++ == 0) result.first_error = "wrong answer: " + answer;
          }
        } catch (const std::exception& e) {
          if (result.errors++ == 0) result.first_error = e.what();
          if (!connection->connected()) break;
        }
      }
      echo.reset();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    if (cv.wait_for(lock, std::chrono::seconds(120), [&] { return ready == clients; })) {
      go = true;
      start = Clock::now();
    } else {
      abandon = true;
      std::fprintf(stderr, "load: only %zu of %zu clients connected within 120 s\n", ready, clients);
      ++failures;
    }
    cv.notify_all();
  }
  for (auto& thread : threads) thread.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  long peak = StatusKib(node, "VmHWM");
  long rss_after = StatusKib(node, "VmRSS");

  std::size_t connected = 0, done = 0, errors = 0;
  std::string first_error;
  std::vector<float> latencies;
  for (const auto& result : results) {
    latencies.insert(latencies.end(), result.latencies_us.begin(), result.latencies_us.end());
    connected += result.connected;
    done += result.calls;
    errors += result.errors;
    if (first_error.empty() && !result.first_error.empty()) first_error = result.first_error;
  }
  std::printf("load: %zu clients connected of %zu, %zu calls each; %zu calls answered, %zu errors in %.2f s: %.0f calls/s\n",
              connected, clients, calls, done, errors, seconds, done / (seconds > 0 ? seconds : 1));
  std::sort(latencies.begin(), latencies.end());
  std::printf("load: call latency: median %.0f us, 99th percentile %.0f us, max %.0f us\n", Quantile(latencies, 0.5),
              Quantile(latencies, 0.99), latencies.empty() ? 0.0 : latencies.back());
  std::printf("load: node memory: VmRSS %.1f MiB before, %.1f MiB after, peak VmHWM %.1f MiB\n", rss_before / 1024.0,
              rss_after / 1024.0, peak / 1024.0);
  if (!first_error.empty()) std::printf("load: first error: %s\n", first_error.c_str());
  if (connected != clients || errors != 0 || done != clients * calls) ++failures;

  kill(node, SIGTERM);
  int status = 0;
  if (!WaitExit(node, std::chrono::seconds(60), status)) {
    std::fprintf(stderr, "load: the node did not stop cleanly within 60 s (status %d)\n", status);
    ++failures;
  }
  fs::remove_all(dir);
  std::printf("load: %s\n", failures == 0 ? "passed" : "FAILED");
  return failures == 0 ? 0 : 1;
}
