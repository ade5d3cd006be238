# expect-error: $Cp.namespace("errors") must differ from $Cxx.namespace
@0x82f08cc6f35ef6d9;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors");
$Cp.namespace("errors");

struct Point {
  x @0 :Float64;
}
