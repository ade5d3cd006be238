# expect-error: struct Shape: field 'circle' is a union member; unions are not supported
@0xc8cce06c7252beca;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors::wire");
$Cp.namespace("errors");

struct Shape {
  name @0 :Text;
  union {
    circle @1 :Float64;
    square @2 :Float64;
  }
}
