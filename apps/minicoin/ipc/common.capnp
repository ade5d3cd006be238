# Interfaces shared by the other minicoin schemas.
@0xa11358239a10fdcf;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

interface Handler {
  # A registration (of notifications, of a callback, of a wallet): destroying the handler, or
  # calling disconnect, ends it.
  destroy @0 (context :Cp.Context) -> ();
  disconnect @1 (context :Cp.Context) -> ();
}
