# Golden test: types from other schemas (imported by relative path) are used through their own
# generated headers, not generated again.
@0xcb126d125f51155e;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
using Types = import "types.capnp";
using Calc = import "calculator.capnp";
$Cxx.namespace("golden::imports::wire");
$Cp.namespace("golden::imports");

struct Drawing {
  shapes @0 :List(Types.Shape);
  background @1 :Types.Color;
  anchor @2 :Types.Point;
}

interface Canvas {
  destroy @0 (context :Cp.Context) -> ();
  draw @1 (context :Cp.Context, drawing :Drawing) -> (result :Types.Point);
  calculator @2 (context :Cp.Context) -> (result :Calc.Calculator);
  visit @3 (context :Cp.Context, visitor :Calc.Visitor) -> ();
}
