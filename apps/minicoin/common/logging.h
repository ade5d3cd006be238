// Logger: the debug log (file and console) with bitcoind-style -debug categories.
#pragma once

#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace minicoin {

class ArgsManager;

// Debug categories, one bit each. kNone and kAll are for masks.
enum class LogCategory : uint32_t {
  kNone = 0,
  kIpc = 1u << 0,
  kRpc = 1u << 1,
  kHttp = 1u << 2,
  kValidation = 1u << 3,
  kMempool = 1u << 4,
  kMining = 1u << 5,
  kWallet = 1u << 6,
  kBench = 1u << 7,
  kNet = 1u << 8,
  kDb = 1u << 9,
  kCoinDb = 1u << 10,
  kReindex = 1u << 11,
  kPrune = 1u << 12,
  kAll = ~0u,
};

// The category of a name ("rpc", "all" or "1", "none" or "0"); false if unknown.
bool ParseLogCategory(const std::string& name, LogCategory& category);
// The name of a single category ("rpc").
std::string LogCategoryName(LogCategory category);
// "ipc, rpc, http, ..." for -help.
std::string LogCategoriesList();

// Names the calling thread in log lines ("[http]"); defaults to the OS thread name.
void SetLogThreadName(const std::string& name);

struct LoggerOptions {
  std::filesystem::path file = {};  // empty: no file
  bool print_to_console = false;  // also write lines to stdout
  bool timestamps = true;         // "2024-05-01T12:00:00Z " (with microseconds if asked)
  bool microseconds = false;
  bool thread_names = false;      // "[thread] "
};

class Logger;

// A sink registered with Logger::AddSink; destroying it removes the sink. Once the destructor
// returns the sink is not running and is never called again (except when destroyed from inside
// the sink itself, which is allowed). Must not outlive its Logger. Thread-safe.
class LogSubscription {
 public:
  struct Sink;
  LogSubscription(Logger& logger, std::shared_ptr<Sink> sink) : m_logger(logger), m_sink(std::move(sink)) {}
  ~LogSubscription();
  LogSubscription(const LogSubscription&) = delete;
  LogSubscription& operator=(const LogSubscription&) = delete;

 private:
  Logger& m_logger;
  std::shared_ptr<Sink> m_sink;  // shared with the logger's list while registered
};

// While one lives on a thread, the lines that thread logs reach no sink (they are still written
// to the file and console). A sink's delivery thread uses it so that logging caused by the
// delivery (an IPC call's -debug=ipc lines) does not feed itself. Nests.
class LogSinkPause {
 public:
  LogSinkPause();
  ~LogSinkPause();
  LogSinkPause(const LogSinkPause&) = delete;
  LogSinkPause& operator=(const LogSinkPause&) = delete;
};

// Writes "<timestamp> [thread] message" lines to the debug log file and optionally stdout.
// Lines logged before Open() are buffered (up to 1 MB) and written when it is called.
// Debug(category, ...) first checks an atomic mask, so a disabled category costs one load; the
// MINICOIN_LOG_DEBUG macro also skips evaluating its arguments. Thread-safe; the file is opened
// in append mode and flushed after every line. Owned by main(); passed by pointer or reference.
//
//   Logger log;
//   if (!ConfigureLogger(log, args, error)) ...;
//   log.Info("Bound to %s:%d", host.c_str(), port);
//   MINICOIN_LOG_DEBUG(log, LogCategory::kRpc, "method=%s", method.c_str());
class Logger {
 public:
  Logger() = default;
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Starts writing to the destinations; flushes the buffered lines. False with `error` if the
  // file cannot be opened.
  bool Open(const LoggerOptions& options, std::string& error);
  // Stops writing to the file (lines are still printed to the console if enabled).
  void Close();

  void EnableCategory(LogCategory category);
  void DisableCategory(LogCategory category);
  // Enables/disables a category by name; false if the name is unknown.
  bool EnableCategory(const std::string& name);
  bool DisableCategory(const std::string& name);
  bool WillLog(LogCategory category) const {
    return (m_categories.load(std::memory_order_relaxed) & static_cast<uint32_t>(category)) != 0;
  }
  uint32_t categories() const { return m_categories.load(std::memory_order_relaxed); }
  // Names of the enabled categories.
  std::vector<std::string> EnabledCategories() const;

  // printf-style; a trailing newline is added if missing.
  void Info(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void Warning(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void Error(const char* format, ...) __attribute__((format(printf, 2, 3)));
  // Logged with a "[category] " prefix, only when the category is enabled.
  void Debug(LogCategory category, const char* format, ...) __attribute__((format(printf, 3, 4)));
  // Writes one message as is (plus prefixes).
  void Write(const std::string& message);

  // Calls `sink` with each line logged from now on (as written to the file, without the
  // trailing newline) whose category is in `categories`: kAll for every line (Info, Warning
  // and Error lines too), otherwise the Debug lines of those categories. The sink runs on the
  // logging thread, after the line is written and outside the logger's lock, one line at a
  // time per sink; it must be quick (queue the line) and must not block on other threads that
  // log. Lines the sink itself logs reach no sink. Removed when the returned object is destroyed.
  std::unique_ptr<LogSubscription> AddSink(LogCategory categories, std::function<void(const std::string&)> sink);
  std::size_t sink_count() const;

 private:
  friend class LogSubscription;

  void WriteLine(LogCategory category, const std::string& message);
  void WriteFormatted(LogCategory category, const char* prefix, const char* format, va_list args)
      __attribute__((format(printf, 4, 0)));
  std::string Decorate(const std::string& message) const;
  void PublishToSinks(LogCategory category, const std::string& line);
  void RemoveSink(const std::shared_ptr<LogSubscription::Sink>& sink);

  std::atomic<uint32_t> m_categories{0};
  mutable std::mutex m_mutex;
  LoggerOptions m_options;            // guarded by m_mutex
  bool m_opened = false;              // guarded by m_mutex
  std::FILE* m_file = nullptr;        // guarded by m_mutex
  std::vector<std::string> m_buffer;  // guarded by m_mutex; lines logged before Open()
  std::size_t m_buffer_bytes = 0;     // guarded by m_mutex

  mutable std::mutex m_sinks_mutex;  // taken after m_mutex is released, never with it
  std::vector<std::shared_ptr<LogSubscription::Sink>> m_sinks;  // guarded by m_sinks_mutex
  std::atomic<std::size_t> m_sink_count{0};                      // m_sinks.size(), read unlocked
};

// Registers -debug, -debugexclude, -debuglogfile, -printtoconsole, -logtimestamps,
// -logtimemicros, -logthreadnames in category "Debugging".
void AddLoggingArgs(ArgsManager& args);
// Applies those options and opens the log (default file <datadir>/debug.log; -nodebuglogfile
// disables the file). False with `error` on an unknown category or an unwritable file.
bool ConfigureLogger(Logger& logger, const ArgsManager& args, std::string& error);

}  // namespace minicoin

// Logs when the category is enabled; the arguments are evaluated only then.
#define MINICOIN_LOG_DEBUG(logger, category, ...)           \
  do {                                                      \
    if ((logger).WillLog(category)) (logger).Debug(category, __VA_ARGS__); \
  } while (false)
