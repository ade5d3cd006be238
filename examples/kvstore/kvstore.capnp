# A key-value store served by one program and used by another.
@0xc4b2a1f0e9d8c7b6;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("kv::wire");
$Cp.namespace("kv");

interface Init {
  construct @0 (threadMap :Cp.ThreadMap) -> (threadMap :Cp.ThreadMap);
  makeStore @1 (context :Cp.Context) -> (result :Store);
}

interface Store {
  destroy @0 (context :Cp.Context) -> ();
  set @1 (context :Cp.Context, key :Text, value :Text) -> ();
  get @2 (context :Cp.Context, key :Text) -> (result :Text, hasResult :Bool);
  keys @3 (context :Cp.Context) -> (result :List(Text));
  serverPid @4 (context :Cp.Context) -> (result :Int32);
}
