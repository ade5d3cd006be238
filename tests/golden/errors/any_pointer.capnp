# expect-error: interface Store, method put: parameter 'value': AnyPointer (and generic parameters) are not supported
@0x8ad74af02947c3d5;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors::wire");
$Cp.namespace("errors");

interface Store {
  put @0 (context :Cp.Context, value :AnyPointer) -> ();
}
