# Interfaces measured by crossproc-bench.
@0xe1b3c2d4a5968778;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("bench::wire");
$Cp.namespace("bench");

interface Init {
  construct @0 (threadMap :Cp.ThreadMap) -> (threadMap :Cp.ThreadMap);
  makeTarget @1 (context :Cp.Context) -> (result :Target);
}

interface Target {
  destroy @0 (context :Cp.Context) -> ();
  ping @1 (context :Cp.Context) -> ();
  send @2 (context :Cp.Context, data :Data) -> (result :UInt64);
  callBack @3 (context :Cp.Context, callback :Callback) -> ();
  makeObject @4 (context :Cp.Context) -> (result :Target);
}

interface Callback {
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context) -> ();
}
