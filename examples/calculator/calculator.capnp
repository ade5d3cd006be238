# The calculator example's interfaces: an Init that the server offers when a client connects,
# and the Calculator objects it makes.
@0xd5a3c4e1f2b09871;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";

$Cxx.namespace("calc::wire");  # Cap'n Proto's message types
$Cp.namespace("calc");         # crossproc's C++ interfaces, clients and servers
$Cp.include("calculator_errors.h");  # declares calc::DivisionByZero

interface Init {
  construct @0 (threadMap :Cp.ThreadMap) -> (threadMap :Cp.ThreadMap);
  makeCalculator @1 (context :Cp.Context, name :Text) -> (result :Calculator);
}

interface Calculator {
  destroy @0 (context :Cp.Context) -> ();
  add @1 (context :Cp.Context, a :Float64, b :Float64) -> (result :Float64);
  divide @2 (context :Cp.Context, a :Float64, b :Float64)
      -> (result :Float64, error :Text $Cp.exception("calc::DivisionByZero"));
  history @3 (context :Cp.Context) -> (result :List(Text));
}
