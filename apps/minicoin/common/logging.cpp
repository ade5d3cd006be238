#include "common/logging.h"

#include "common/args.h"

#include <pthread.h>

#include <chrono>
#include <cstring>
#include <ctime>

namespace minicoin {
namespace {

constexpr std::size_t kMaxBufferedBytes = 1 << 20;

struct CategoryName {
  LogCategory category;
  const char* name;
};

constexpr CategoryName kCategoryNames[] = {
    {LogCategory::kIpc, "ipc"},         {LogCategory::kRpc, "rpc"},
    {LogCategory::kHttp, "http"},       {LogCategory::kValidation, "validation"},
    {LogCategory::kMempool, "mempool"}, {LogCategory::kMining, "mining"},
    {LogCategory::kWallet, "wallet"},   {LogCategory::kBench, "bench"},
    {LogCategory::kNet, "net"},         {LogCategory::kDb, "db"},
    {LogCategory::kCoinDb, "coindb"},   {LogCategory::kReindex, "reindex"},
    {LogCategory::kPrune, "prune"},
};

thread_local std::string t_thread_name;
// How many LogSinkPause (or sink calls) are active on this thread.
thread_local int t_sink_pause = 0;
// The sink running on this thread, if any (for a subscription destroyed from inside its sink).
thread_local const void* t_running_sink = nullptr;

std::string ThreadName() {
  if (!t_thread_name.empty()) return t_thread_name;
  char name[32] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) == 0 && name[0] != '\0') {
    return name;
  }
  return "unknown";
}

std::string FormatTimestamp(bool microseconds) {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out = text;
  if (microseconds) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch())
                      .count() %
                  1000000;
    char fraction[16];
    std::snprintf(fraction, sizeof(fraction), ".%06lld", static_cast<long long>(micros));
    out += fraction;
  }
  return out + "Z";
}

__attribute__((format(printf, 1, 0))) std::string VFormat(const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  int size = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (size < 0) return format;
  std::string out(static_cast<std::size_t>(size) + 1, '\0');
  std::vsnprintf(out.data(), out.size(), format, args);
  out.resize(static_cast<std::size_t>(size));
  return out;
}

}  // namespace

bool ParseLogCategory(const std::string& name, LogCategory& category) {
  if (name.empty() || name == "1" || name == "all") {
    category = LogCategory::kAll;
    return true;
  }
  if (name == "0" || name == "none") {
    category = LogCategory::kNone;
    return true;
  }
  for (const CategoryName& entry : kCategoryNames) {
    if (name == entry.name) {
      category = entry.category;
      return true;
    }
  }
  return false;
}

std::string LogCategoryName(LogCategory category) {
  for (const CategoryName& entry : kCategoryNames) {
    if (entry.category == category) return entry.name;
  }
  if (category == LogCategory::kAll) return "all";
  return "none";
}

std::string LogCategoriesList() {
  std::string out;
  for (const CategoryName& entry : kCategoryNames) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

void SetLogThreadName(const std::string& name) { t_thread_name = name; }

struct LogSubscription::Sink {
  LogCategory categories;
  std::function<void(const std::string&)> function;
  std::mutex mutex;      // held while the function runs: one line at a time, and removal waits
  bool removed = false;  // guarded by mutex
};

LogSubscription::~LogSubscription() { m_logger.RemoveSink(m_sink); }

LogSinkPause::LogSinkPause() { ++t_sink_pause; }
LogSinkPause::~LogSinkPause() { --t_sink_pause; }

Logger::~Logger() { Close(); }

bool Logger::Open(const LoggerOptions& options, std::string& error) {
  std::lock_guard lock(m_mutex);
  std::FILE* file = nullptr;
  if (!options.file.empty()) {
    file = std::fopen(options.file.c_str(), "a");
    if (file == nullptr) {
      error = "Could not open debug log file " + options.file.string() + ": " +
              std::strerror(errno);
      return false;
    }
  }
  if (m_file != nullptr) std::fclose(m_file);
  m_file = file;
  m_options = options;
  m_opened = true;
  for (const std::string& line : m_buffer) {
    if (m_file != nullptr) std::fputs(line.c_str(), m_file);
    if (m_options.print_to_console) std::fputs(line.c_str(), stdout);
  }
  if (m_file != nullptr) std::fflush(m_file);
  if (m_options.print_to_console) std::fflush(stdout);
  m_buffer.clear();
  m_buffer_bytes = 0;
  return true;
}

void Logger::Close() {
  std::lock_guard lock(m_mutex);
  if (m_file != nullptr) std::fclose(m_file);
  m_file = nullptr;
}

void Logger::EnableCategory(LogCategory category) {
  m_categories.fetch_or(static_cast<uint32_t>(category), std::memory_order_relaxed);
}

void Logger::DisableCategory(LogCategory category) {
  m_categories.fetch_and(~static_cast<uint32_t>(category), std::memory_order_relaxed);
}

bool Logger::EnableCategory(const std::string& name) {
  LogCategory category;
  if (!ParseLogCategory(name, category)) return false;
  EnableCategory(category);
  return true;
}

bool Logger::DisableCategory(const std::string& name) {
  LogCategory category;
  if (!ParseLogCategory(name, category)) return false;
  DisableCategory(category);
  return true;
}

std::vector<std::string> Logger::EnabledCategories() const {
  std::vector<std::string> out;
  for (const CategoryName& entry : kCategoryNames) {
    if (WillLog(entry.category)) out.emplace_back(entry.name);
  }
  return out;
}

std::string Logger::Decorate(const std::string& message) const {
  std::string line;
  if (m_options.timestamps) line += FormatTimestamp(m_options.microseconds) + " ";
  if (m_options.thread_names) line += "[" + ThreadName() + "] ";
  line += message;
  if (line.empty() || line.back() != '\n') line += '\n';
  return line;
}

void Logger::Write(const std::string& message) { WriteLine(LogCategory::kNone, message); }

void Logger::WriteLine(LogCategory category, const std::string& message) {
  std::string line;
  {
    std::lock_guard lock(m_mutex);
    // Decorated now so the timestamp is that of the event; options default to timestamps only.
    line = Decorate(message);
    if (!m_opened) {
      if (m_buffer_bytes + line.size() <= kMaxBufferedBytes) {
        m_buffer_bytes += line.size();
        m_buffer.push_back(line);
      }
    } else {
      if (m_file != nullptr) {
        std::fputs(line.c_str(), m_file);
        std::fflush(m_file);
      }
      if (m_options.print_to_console) {
        std::fputs(line.c_str(), stdout);
        std::fflush(stdout);
      }
    }
  }
  if (m_sink_count.load(std::memory_order_relaxed) != 0 && t_sink_pause == 0) {
    line.pop_back();  // the newline Decorate added
    PublishToSinks(category, line);
  }
}

void Logger::PublishToSinks(LogCategory category, const std::string& line) {
  std::vector<std::shared_ptr<LogSubscription::Sink>> targets;
  {
    std::lock_guard lock(m_sinks_mutex);
    for (const auto& sink : m_sinks) {
      uint32_t mask = static_cast<uint32_t>(sink->categories);
      if (sink->categories == LogCategory::kAll || (mask & static_cast<uint32_t>(category)) != 0) {
        targets.push_back(sink);
      }
    }
  }
  for (const auto& sink : targets) {
    std::lock_guard lock(sink->mutex);
    if (sink->removed) continue;
    ++t_sink_pause;
    const void* previous = t_running_sink;
    t_running_sink = sink.get();
    try {
      sink->function(line);
    } catch (...) {
      // A failing sink must not break logging; it keeps receiving lines until removed.
    }
    t_running_sink = previous;
    --t_sink_pause;
  }
}

std::unique_ptr<LogSubscription> Logger::AddSink(LogCategory categories, std::function<void(const std::string&)> sink) {
  auto entry = std::make_shared<LogSubscription::Sink>();
  entry->categories = categories;
  entry->function = std::move(sink);
  {
    std::lock_guard lock(m_sinks_mutex);
    m_sinks.push_back(entry);
    m_sink_count.store(m_sinks.size(), std::memory_order_relaxed);
  }
  return std::make_unique<LogSubscription>(*this, std::move(entry));
}

std::size_t Logger::sink_count() const { return m_sink_count.load(std::memory_order_relaxed); }

void Logger::RemoveSink(const std::shared_ptr<LogSubscription::Sink>& sink) {
  {
    std::lock_guard lock(m_sinks_mutex);
    std::erase(m_sinks, sink);
    m_sink_count.store(m_sinks.size(), std::memory_order_relaxed);
  }
  if (t_running_sink == sink.get()) {
    sink->removed = true;  // from inside the sink: this thread already holds its mutex
    return;
  }
  std::lock_guard lock(sink->mutex);  // waits for a call in progress on another thread
  sink->removed = true;
}

void Logger::WriteFormatted(LogCategory category, const char* prefix, const char* format, va_list args) {
  WriteLine(category, prefix + VFormat(format, args));
}

void Logger::Info(const char* format, ...) {
  va_list args;
  va_start(args, format);
  WriteFormatted(LogCategory::kNone, "", format, args);
  va_end(args);
}

void Logger::Warning(const char* format, ...) {
  va_list args;
  va_start(args, format);
  WriteFormatted(LogCategory::kNone, "[warning] ", format, args);
  va_end(args);
}

void Logger::Error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  WriteFormatted(LogCategory::kNone, "[error] ", format, args);
  va_end(args);
}

void Logger::Debug(LogCategory category, const char* format, ...) {
  if (!WillLog(category)) return;
  std::string prefix = "[" + LogCategoryName(category) + "] ";
  va_list args;
  va_start(args, format);
  WriteFormatted(category, prefix.c_str(), format, args);
  va_end(args);
}

void AddLoggingArgs(ArgsManager& args) {
  const std::string categories = LogCategoriesList();
  args.AddArg("-debug=<category>",
              "Output debug and trace logging (default: -nodebug, supplying <category> is "
              "optional). If <category> is not supplied or if <category> is 1 or all, output all "
              "debug logging. If <category> is 0 or none, any other categories are ignored. Other "
              "valid values for <category> are: " + categories +
                  ". This option can be specified multiple times to output multiple categories.",
              kArgAllowList, "Debugging");
  args.AddArg("-debugexclude=<category>",
              "Exclude debug and trace logging for a category. Can be used in conjunction with "
              "-debug=1 to output debug and trace logging for all categories except the "
              "specified category. This option can be specified multiple times to exclude "
              "multiple categories.",
              kArgAllowList, "Debugging");
  args.AddArg("-debuglogfile=<file>",
              "Specify location of debug log file (default: debug.log). Relative paths will be "
              "prefixed by the data directory location. -nodebuglogfile disables the file.",
              kArgNone, "Debugging");
  args.AddArg("-printtoconsole", "Send trace/debug info to console (default: 0)", kArgNone,
              "Debugging");
  args.AddArg("-logtimestamps", "Prepend debug output with timestamp (default: 1)", kArgNone,
              "Debugging");
  args.AddArg("-logtimemicros", "Add microsecond precision to debug timestamps (default: 0)",
              kArgDebugOnly, "Debugging");
  args.AddArg("-logthreadnames", "Prepend debug output with name of the originating thread "
              "(default: 0)", kArgNone, "Debugging");
}

bool ConfigureLogger(Logger& logger, const ArgsManager& args, std::string& error) {
  std::vector<std::string> enable = args.GetArgs("-debug");
  bool none = false;
  LogCategory category;
  for (const std::string& name : enable) {
    if (!ParseLogCategory(name, category)) {
      error = "Unsupported logging category -debug=" + name + ".";
      return false;
    }
    if (category == LogCategory::kNone) none = true;
  }
  if (!none) {
    for (const std::string& name : enable) {
      ParseLogCategory(name, category);
      logger.EnableCategory(category);
    }
  }
  for (const std::string& name : args.GetArgs("-debugexclude")) {
    if (!ParseLogCategory(name, category)) {
      error = "Unsupported logging category -debugexclude=" + name + ".";
      return false;
    }
    logger.DisableCategory(category);
  }
  LoggerOptions options;
  if (!args.IsArgNegated("-debuglogfile")) {
    options.file = args.AbsPathInDataDir(args.GetArg("-debuglogfile", "debug.log"));
  }
  options.print_to_console = args.GetBoolArg("-printtoconsole", false);
  options.timestamps = args.GetBoolArg("-logtimestamps", true);
  options.microseconds = args.GetBoolArg("-logtimemicros", false);
  options.thread_names = args.GetBoolArg("-logthreadnames", false);
  return logger.Open(options, error);
}

}  // namespace minicoin
