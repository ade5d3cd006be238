// Default log sink.
#include <crossproc/log.h>

#include <cstdio>

namespace crossproc {

void LogToStderr(LogLevel level, const std::string& line) {
  static constexpr const char* kNames[] = {"error", "warning", "info", "debug"};
  std::fprintf(stderr, "crossproc %s: %s\n", kNames[static_cast<int>(level)], line.c_str());
}

}  // namespace crossproc
