# Golden test: a schema bound to hand-written C++ (wrapped_classes.h) with $Cp.wrap. The
# generated client and server implement and call golden::hand::Store, so any difference between
# the schema and the class fails to compile.
@0xee046e796c9d1617;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("golden::wrapped::wire");
$Cp.namespace("golden::wrapped");
$Cp.include("wrapped_classes.h");

struct Settings $Cp.wrap("golden::hand::Settings") {
  name @0 :Text;
  level @1 :Int32;
  tags @2 :List(Text);
}

interface Store $Cp.wrap("golden::hand::Store") {
  destroy @0 (context :Cp.Context) -> ();
  get @1 (context :Cp.Context, key :Text) -> (result :Settings);
  put @2 (context :Cp.Context, key :Text, value :Settings) -> ();
  keys @3 (context :Cp.Context) -> (result :List(Text));
  watch @4 (context :Cp.Context, key :Text) -> (result :Watcher);
  # Returns an interface generated from this schema (not wrapped).
}

interface Watcher {
  # Generated next to the wrapped Store.
  destroy @0 (context :Cp.Context) -> ();
  changed @1 (context :Cp.Context, value :Settings) -> ();
}
