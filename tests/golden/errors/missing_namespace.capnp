# expect-error: struct Point would be generated in namespace "errors", where Cap'n Proto's C++ type of the same name lives: add $Cp.namespace
@0xc0c9e32b65713b68;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors");

struct Point {
  x @0 :Float64;
}
