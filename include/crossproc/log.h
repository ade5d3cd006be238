// Log sink used by connections: levels, off by default beyond errors.
#pragma once

#include <functional>
#include <string>

namespace crossproc {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

// Receives one line (without newline). May be called from any thread; must be thread-safe.
using LogFn = std::function<void(LogLevel level, const std::string& line)>;

// Writes "crossproc <level>: <line>" to standard error.
void LogToStderr(LogLevel level, const std::string& line);

}  // namespace crossproc
