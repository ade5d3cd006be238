# Mining: block templates for miners in other processes (see docs/mining.md).
@0xbf5e57165f7f0924;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

interface Mining {
  destroy @0 (context :Cp.Context) -> ();
}
