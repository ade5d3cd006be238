// What crossproc/interface.h declares: the object behind a capability of this process.
#include <crossproc/interface.h>

#include "runtime/connection_state.h"

namespace crossproc::detail {

std::shared_ptr<ServerBase> LocalServerOf(const std::shared_ptr<CapRef>& ref) {
  return ref ? ref->local() : nullptr;
}

}  // namespace crossproc::detail
