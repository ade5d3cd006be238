// The Echo implementation every minicoin process can offer.
#pragma once

#include "echo.crossproc.h"

#include <memory>

namespace minicoin::ipc {

// Returns its input. Thread-safe (stateless).
std::unique_ptr<Echo> MakeEcho();

}  // namespace minicoin::ipc
