// minicoin-echo: a process that offers only an Echo. The node's `echoipc` RPC spawns it (as
// `minicoin-echo -ipcfd <N>`) to show a call crossing into another process and back.
#include "ipc/echo.h"
#include "ipc/partial_init.h"

#include <crossproc/process.h>

#include <iostream>
#include <stdexcept>

namespace {

class EchoInit final : public minicoin::ipc::PartialInit {
 public:
  EchoInit() : PartialInit("minicoin-echo") {}
  std::unique_ptr<minicoin::ipc::Echo> makeEcho() override { return minicoin::ipc::MakeEcho(); }
};

}  // namespace

int main(int argc, char** argv) {
  crossproc::ConnectionOptions options;
  options.name = "minicoin-echo";
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "-debug=ipc") options.debug_ipc = true;
  }
  if (auto code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<minicoin::ipc::Init>(std::make_shared<EchoInit>()),
                                            options)) {
    return *code;
  }
  std::cerr << "minicoin-echo is started by minicoin-node (echoipc RPC) with -ipcfd <N>; it has no other use\n";
  return 1;
}
