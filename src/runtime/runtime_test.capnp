# Interfaces used by the runtime's own tests and the multi-process tests; crossproc-gen writes
# their C++ interfaces, clients and servers (runtime_test.crossproc.h).
@0xa7c1f0e4b9d2c351;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("rt::wire");
$Cp.namespace("rt");

interface Init {
  construct @0 (threadMap :Cp.ThreadMap) -> (threadMap :Cp.ThreadMap);
  makeEcho @1 (context :Cp.Context) -> (result :Echo);
}

interface Echo {
  destroy @0 (context :Cp.Context) -> ();
  echo @1 (context :Cp.Context, text :Text) -> (result :Text);
  fail @2 (context :Cp.Context, message :Text) -> ();
  callBack @3 (context :Cp.Context, callback :Callback, value :Int32) -> (result :Int32);
  threadName @4 (context :Cp.Context) -> (result :Text);
  ping @5 () -> ();
  nested @6 (context :Cp.Context, callback :Callback, depth :Int32) -> (result :Int32);
  storeCallback @7 (context :Cp.Context, callback :Callback) -> ();
  callStoredFromNewThread @8 (context :Cp.Context, value :Int32) -> (result :Int32);
  waitForInterrupt @9 (context :Cp.Context) -> ();
  interrupt @10 () -> ();
  barrier @11 (context :Cp.Context, count :Int32) -> ();
}

interface Callback {
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context, value :Int32) -> (result :Int32);
}
