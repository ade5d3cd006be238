// What crossproc/server.h declares: the error of a call on a destroyed object, and whether the
// call being served was canceled by its caller.
#include <crossproc/errors.h>
#include <crossproc/server.h>

#include "runtime/connection_state.h"

namespace crossproc {

void ThrowDestroyed(const char* interface_name) {
  throw RemoteError(ErrorKind::kFailed, "", std::string(interface_name) + " object was destroyed");
}

bool CurrentCallCanceled() {
  detail::IncomingScope* scope = detail::CurrentIncoming();
  return scope && scope->canceled && scope->canceled->load();
}

}  // namespace crossproc
