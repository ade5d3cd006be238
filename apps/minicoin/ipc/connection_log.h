// IpcConnectionOptions: the crossproc connection settings every minicoin process uses, tied to
// its debug log.
#pragma once

#include "common/logging.h"

#include <crossproc/connection.h>

#include <string>

namespace minicoin {

// Options for a connection of this process named `name` ("minicoin-node"): -debug=ipc turns on
// the runtime's request and response lines (logged under the ipc category), and the runtime's
// warnings and errors go to `log` as warnings starting with `prefix` ("ipc: ..."). `log` must
// outlive the connection.
inline crossproc::ConnectionOptions IpcConnectionOptions(Logger& log, std::string name,
                                                         std::string prefix = "ipc") {
  crossproc::ConnectionOptions options;
  options.name = std::move(name);
  options.debug_ipc = log.WillLog(LogCategory::kIpc);
  options.log = [&log, prefix = std::move(prefix)](crossproc::LogLevel level, const std::string& line) {
    if (level == crossproc::LogLevel::kError || level == crossproc::LogLevel::kWarning) {
      log.Warning("%s: %s", prefix.c_str(), line.c_str());
    } else {
      log.Debug(LogCategory::kIpc, "%s", line.c_str());
    }
  };
  return options;
}

}  // namespace minicoin
