# expect-error: interface Calculator, method divide: result 'error' has $exception but is not Text
@0xe3e4159f37c74431;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("errors::wire");
$Cp.namespace("errors");

interface Calculator {
  divide @0 (context :Cp.Context, a :Float64, b :Float64)
      -> (result :Float64, error :Int32 $Cp.exception("errors::DivisionByZero"));
}
