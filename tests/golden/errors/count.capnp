# expect-error: interface Adder, method add: 'values' has $count(2); only 0 and 1 are supported
@0x941bb49fa9a46132;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors::wire");
$Cp.namespace("errors");

interface Adder {
  add @0 (context :Cp.Context, values :List(Int32) $Cp.count(2)) -> (result :Int32);
}
