# Node: what a front end (the GUI) needs from a running node: its state and sync progress, its
# peers, its wallets, regtest mining with progress, its RPC methods, notifications and its debug
# log. minicoin-qt uses an implementation in its own process; minicoin-gui gets one from the
# minicoin-node it spawned (Init.makeNode over -ipcfd) or attached to (-ipcconnect).
@0xbdb3aaf52d0261e6;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
using Chain = import "chain.capnp";
using Wallet = import "wallet.capnp";
using Common = import "common.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

struct NodeStatus {
  tip @0 :Chain.BlockRef;
  mempoolTransactions @1 :UInt32;
  mempoolBytes @2 :UInt64;
  executable @3 :Text;        # "minicoind" or "minicoin-node"
  dataDir @4 :Text;
  walletsEnabled @5 :Bool;    # false under -disablewallet
  uptimeSeconds @6 :Int64;
  headers @7 :UInt32;
  # The height of the best header the node knows (the tip's height when no header is ahead).
  initialDownload @8 :Bool;
  # The node is catching up with the network (initial block download).
  verificationProgress @9 :Float64;
  # The tip's height divided by `headers`: 1.0 when the tip is the best header.
  connections @10 :UInt32;
  # Connected peers; 0 while the peer-to-peer layer is not running.
}

struct PeerSummary {
  id @0 :Int64;
  address @1 :Text;
  # "ip:port"
  inbound @2 :Bool;
  # The peer connected to this node.
  userAgent @3 :Text;
  pingMillis @4 :Float64;
  # The latest ping round trip in milliseconds; -1 if none yet.
  syncedHeight @5 :Int64;
  # The height of the best block the peer is known to have; -1 if unknown.
  bytesSent @6 :UInt64;
  bytesReceived @7 :UInt64;
  connectedSeconds @8 :Int64;
  # How long the connection has been open.
}

interface TipChangedCallback {
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context, tip :Chain.BlockRef) -> ();
}

interface MempoolChangedCallback {
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context, transactions :UInt32) -> ();
}

interface LogCallback {
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context, line :Text) -> ();
}

interface ProgressCallback {
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context, done :UInt32, total :UInt32) -> (result :Bool);
  # Returns false to stop the work early.
}

interface Node {
  destroy @0 (context :Cp.Context) -> ();
  getStatus @1 (context :Cp.Context) -> (result :NodeStatus);

  listWallets @2 (context :Cp.Context) -> (result :List(Text));
  # Names of the loaded wallets, sorted.
  listWalletDir @3 (context :Cp.Context) -> (result :List(Text));
  # Names of the wallets on disk that could be loaded.
  getWallet @4 (context :Cp.Context, name :Text) -> (result :Wallet.Wallet, error :Text $Cp.exception("minicoin::WalletError"));
  # A loaded wallet; WalletError kNotFound (-18) if it is not loaded.
  createWallet @5 (context :Cp.Context, name :Text, passphrase :Text)
      -> (result :Wallet.Wallet, error :Text $Cp.exception("minicoin::WalletError"));
  loadWallet @6 (context :Cp.Context, name :Text) -> (result :Wallet.Wallet, error :Text $Cp.exception("minicoin::WalletError"));

  generateToAddress @7 (context :Cp.Context, blocks :UInt32, address :Text,
                        progress :ProgressCallback $Cp.type("std::function<bool(uint32_t, uint32_t)>"))
      -> (result :List(Data));
  # Mines `blocks` blocks paying `address` (regtest), calling `progress` after each; returns the
  # hashes of the blocks mined (fewer if progress returned false or the node is shutting down).
  # A bad address is an error.

  executeRpc @8 (context :Cp.Context, method :Text, params :Text) -> (result :Text);
  # Runs one RPC method of the node as minicoin-cli would; `params` is a JSON array (or ""),
  # the result is JSON. An RPC error is thrown with its message.

  handleTipChanged @9 (context :Cp.Context,
                       callback :TipChangedCallback $Cp.type("std::function<void(const minicoin::ipc::BlockRef&)>"))
      -> (result :Common.Handler);
  handleMempoolChanged @10 (context :Cp.Context,
                            callback :MempoolChangedCallback $Cp.type("std::function<void(uint32_t)>"))
      -> (result :Common.Handler);
  # Called after each mempool addition or removal with the new transaction count.
  handleLog @11 (context :Cp.Context, categories :Text,
                 callback :LogCallback $Cp.type("std::function<void(const std::string&)>"))
      -> (result :Common.Handler);
  # Each line the node logs from now on in one of `categories` (comma separated, e.g. "ipc";
  # "" for every line; the categories must be enabled with -debug for their lines to exist).

  shutdown @12 (context :Cp.Context) -> ();
  # Asks the node to stop, as the stop RPC does; returns at once.

  getPeers @13 (context :Cp.Context) -> (result :List(PeerSummary));
  # The connected peers, as getpeerinfo lists them; empty while the peer-to-peer layer is not
  # running (a minicoin-net process being restarted).
}
