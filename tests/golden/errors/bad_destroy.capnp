# expect-error: interface Calculator, method destroy: destroy @0 must be `destroy (context :Context) -> ()`
@0x94122efcea17f621;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors::wire");
$Cp.namespace("errors");

interface Calculator {
  destroy @0 (context :Cp.Context, force :Bool) -> ();
}
