# expect-error: interface Pool, method adopt: parameter 'threads': ThreadMap can only be used in `construct @0
@0x9684ee5b47c38f56;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors::wire");
$Cp.namespace("errors");

interface Pool {
  adopt @0 (context :Cp.Context, threads :Cp.ThreadMap) -> ();
}
