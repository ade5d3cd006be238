# Echo: the smallest interface between minicoin processes. The node's `echoipc` RPC sends text
# through it to a spawned minicoin-echo process (or to an Echo in its own process in minicoind).
@0xd04f093065d50b42;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

interface Echo {
  destroy @0 (context :Cp.Context) -> ();
  echo @1 (context :Cp.Context, text :Text) -> (result :Text);
  # Returns `text` unchanged.
}
