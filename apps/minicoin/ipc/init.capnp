# Init: what a minicoin process offers to the process that spawned it or connected to it. Each
# executable serves an Init; a method an executable does not offer fails with a clear error.
@0x9dfc1050947c1d26;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
using Echo = import "echo.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

interface Init {
  construct @0 (threadMap :Cp.ThreadMap) -> (threadMap :Cp.ThreadMap);
  makeEcho @1 (context :Cp.Context) -> (result :Echo.Echo);
}
