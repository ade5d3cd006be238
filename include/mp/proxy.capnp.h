// libmultiprocess's schema file is crossproc's framework schema (same file ID): code that
// capnpc-c++ generated for `import "/mp/proxy.capnp"` includes this header.
#pragma once

#include <crossproc/proxy.capnp.h>
