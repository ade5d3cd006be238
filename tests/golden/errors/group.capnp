# expect-error: struct Shape: field 'size' is a group (or named union); groups are not supported
@0xa7359e77aef1d078;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors::wire");
$Cp.namespace("errors");

struct Shape {
  size :group {
    width @0 :Float64;
    height @1 :Float64;
  }
}
