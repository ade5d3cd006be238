# expect-error: interface Derived: interface inheritance (extends) is not supported
@0xa8dc1a3a42fa2487;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors::wire");
$Cp.namespace("errors");

interface Base {
  ping @0 () -> ();
}

interface Derived extends(Base) {
  pong @0 () -> ();
}
