# Init: what a minicoin process offers to the process that spawned it or connected to it. Each
# executable serves an Init and implements the methods that fit it; the others fail with a
# clear error ("minicoin-echo does not offer makeChain").
#   minicoin-node:   makeEcho, makeChain, makeMining, registerWalletLoader, makeNode
#   minicoin-wallet: makeEcho, makeWalletLoader
#   minicoin-echo:   makeEcho
#   minicoin-net:    makeEcho, makeNet
@0x9dfc1050947c1d26;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
using Echo = import "echo.capnp";
using Chain = import "chain.capnp";
using Wallet = import "wallet.capnp";
using Mining = import "mining.capnp";
using Common = import "common.capnp";
using Node = import "node.capnp";
using Net = import "net.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

interface Init {
  construct @0 (threadMap :Cp.ThreadMap) -> (threadMap :Cp.ThreadMap);
  makeEcho @1 (context :Cp.Context) -> (result :Echo.Echo);
  makeChain @2 (context :Cp.Context) -> (result :Chain.Chain);
  # The node's chain, for a wallet or GUI process.
  makeWalletLoader @3 (context :Cp.Context, chain :Chain.Chain) -> (result :Wallet.WalletLoader);
  # A wallet process's wallets, working on `chain` (the node spawns the wallet and passes its own).
  registerWalletLoader @4 (context :Cp.Context, loader :Wallet.WalletLoader) -> (result :Common.Handler);
  # A wallet process started on its own hands its wallets to the node; the node serves their
  # RPCs until the handler is destroyed or the connection closes.
  makeMining @5 (context :Cp.Context) -> (result :Mining.Mining);
  # Block templates for an external miner.
  makeNode @6 (context :Cp.Context) -> (result :Node.Node);
  # The node as a front end sees it (minicoin-gui).
  makeNet @7 (context :Cp.Context, chain :Net.NetChain) -> (result :Net.Net);
  # The peer-to-peer layer of a minicoin-net process, serving `chain` (the node that spawned it).
}
