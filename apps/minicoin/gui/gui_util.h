// Helpers of the minicoin GUI that do not touch widgets: amounts, hashes, byte counts, pings,
// sync progress, RPC command lines, and TaskRunner, the worker thread that makes the GUI's calls
// to the node.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace minicoin::gui {

// "12.50000000" for 1,250,000,000 units; negative amounts get a leading '-'.
std::string FormatAmount(int64_t units);
// Parses a coin amount with at most 8 decimals ("1", "0.5", "21000000"); nullopt for anything
// else (signs, exponents, empty text, more than the money supply).
std::optional<uint64_t> ParseAmount(const std::string& text);
// A 32-byte hash as the RPC methods show it (Uint256::ToHex); other sizes as plain hex.
std::string HashToHex(const std::vector<uint8_t>& hash);

// A byte count in powers of 1000: "512 B", "1.5 kB", "12.3 MB", "4.0 GB".
std::string FormatBytes(uint64_t bytes);
// A ping round trip: "0.42 ms" below 10 ms, "25 ms" above; "-" for a negative value (none yet).
std::string FormatPing(double millis);
// "Synchronizing with the network: block 120 of 500 (24%)". A tip above `headers` counts as
// `headers`; no best header (0) reads as 100%.
std::string SyncProgressText(uint32_t tip, uint32_t headers);

// Lets -help and -version (which open no window) run without a display: when one of them is in
// argv and no Qt platform is chosen, selects the offscreen one. Call before creating QApplication.
void AllowInfoOptionsWithoutDisplay(int argc, char** argv);

// One console line split into an RPC method and its JSON array of parameters:
//   "getblockhash 5"            -> {"getblockhash", "[5]"}
//   "sendtoaddress mcrt1q... 1" -> {"sendtoaddress", "[\"mcrt1q...\",1]"}
//   "getblock [\"ab...\", 2]"   -> {"getblock", "[\"ab...\", 2]"} (a JSON array is kept as is)
// Words that are JSON numbers, true, false, null, objects or arrays stay as they are; others
// become strings; "double quotes" group words. Returns nullopt and sets `error` for an empty
// line or an unclosed quote.
struct RpcCommand {
  std::string method;
  std::string params;
};
std::optional<RpcCommand> ParseRpcCommand(const std::string& line, std::string& error);

// Runs tasks one at a time, in order, on a thread of its own. Post is thread-safe. The
// destructor runs the tasks already posted, then joins the thread; tasks posted after Stop are
// dropped.
//
//   TaskRunner runner("gui-calls");
//   runner.Post([&] { auto status = node.getStatus(); ... });
class TaskRunner {
 public:
  explicit TaskRunner(std::string name);
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  void Post(std::function<void()> task);
  // Runs what is queued, then ends the thread; later Posts are dropped. Idempotent. Never
  // called from one of its own tasks.
  void Stop();

 private:
  void Run();

  std::string m_name;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_tasks;  // guarded by m_mutex
  bool m_stopping = false;                    // guarded by m_mutex
  std::thread m_thread;
};

}  // namespace minicoin::gui
