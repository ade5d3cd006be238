# Golden test: a schema written for libmultiprocess (imports /mp/proxy.capnp, binds every
# interface to existing classes with $Proxy.wrap, uses $Proxy.include, $Proxy.includeTypes,
# $Proxy.name and $Proxy.count), read by crossproc-gen as it is.
@0x92d1227abc31a50f;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("mpgolden::messages");

using Proxy = import "/mp/proxy.capnp";
$Proxy.include("mp_style_classes.h");
$Proxy.includeTypes("mp_style_types.h");

interface Init $Proxy.wrap("mpgolden::Init") {
  construct @0 (threadMap: Proxy.ThreadMap) -> (threadMap :Proxy.ThreadMap);
  makeEcho @1 (context :Proxy.Context) -> (result :Echo);
}

interface Echo $Proxy.wrap("mpgolden::Echo") {
  destroy @0 (context :Proxy.Context) -> ();
  echo @1 (context :Proxy.Context, echo: Text) -> (result :Text);
  echoTwice @2 (context :Proxy.Context, echo: Text) -> (result :Text) $Proxy.name("repeat");
  count @3 (context :Proxy.Context, words :List(Text), hint :Int32 $Proxy.count(0)) -> (result :UInt32);
  interrupt @4 () -> ();
}
