// Test input for cmake/CheckLayerIncludes.cmake: fine in the runtime layer, a wrong-way include
// in the transport layer. Never compiled.
#pragma once

#include <crossproc/connection.h>
#include <crossproc/sync.h>

#include "transport/socket.h"

#include <string>
