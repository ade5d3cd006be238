# Chain: the node's chain and mempool as a wallet (or a GUI) sees them, and the notifications
# the node sends while they change. Blocks and transactions cross as minicoin's own encoding
# (Block::Encode, Transaction::Encode), which the receiver decodes with its strict decoder;
# hashes are 32-byte Data in the encoding's byte order.
@0xadf2d1317d9b1d55;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
using Common = import "common.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

struct BlockRef {
  # A block of the active chain.
  hash @0 :Data;
  height @1 :UInt32;
  time @2 :UInt32;
}

struct OutPointRef {
  txid @0 :Data;
  index @1 :UInt32;
}

struct CoinInfo {
  # An unspent output.
  outpoint @0 :OutPointRef;
  amount @1 :UInt64;
  pubkey @2 :Data;
  height @3 :UInt32;
  coinbase @4 :Bool;
}

struct ScanMatch {
  # The transactions of one block that concern a scanning wallet.
  block @0 :BlockRef;
  transactions @1 :List(Data);
}

struct ScanResult {
  matches @0 :List(ScanMatch);
  lastScanned @1 :BlockRef;
  # The last block scanned (the range's end, or the tip if the range went past it).
}

interface Chain {
  destroy @0 (context :Cp.Context) -> ();
  getTip @1 (context :Cp.Context) -> (result :BlockRef);
  getBlockRef @2 (context :Cp.Context, height :UInt32) -> (result :BlockRef, hasResult :Bool);
  # The active chain's block at `height`, if the chain is that long.
  findActiveBlock @3 (context :Cp.Context, hash :Data) -> (result :BlockRef, hasResult :Bool);
  # Whether a block is in the active chain (and where), by hash.
  getBlock @4 (context :Cp.Context, hash :Data) -> (result :Data, hasResult :Bool);
  # A stored block, encoded, by hash (any branch).
  getBlocks @5 (context :Cp.Context, startHeight :UInt32, count :UInt32) -> (result :List(Data));
  # The active blocks from `startHeight` on, at most `count`, encoded.
  scanBlocks @6 (context :Cp.Context, startHeight :UInt32, stopHeight :UInt32, keys :List(Data),
                 outpoints :List(OutPointRef), maxBlocks :UInt32) -> (result :ScanResult);
  # Scans active blocks startHeight..stopHeight (inclusive; stopped at the tip) on the node and
  # returns only the transactions that pay to one of `keys` (x-only public keys) or spend one of
  # `outpoints` or an output of an earlier match. At most `maxBlocks` blocks are scanned per call
  # (0: no limit); call again from lastScanned.height + 1 to go on.
  findCoins @7 (context :Cp.Context, outpoints :List(OutPointRef)) -> (result :List(CoinInfo));
  # Which of `outpoints` are unspent at the tip (outputs of mempool transactions included,
  # outputs spent by mempool transactions excluded).
  broadcastTransaction @8 (context :Cp.Context, tx :Data) -> (result :Text);
  # Submits a transaction to the mempool; returns "" when accepted, else the reason.
  estimateFee @9 (context :Cp.Context) -> (result :UInt64);
  # Fee rate for a transaction to be mined soon, in units per 1000 encoded bytes.
  isInMempool @10 (context :Cp.Context, txid :Data) -> (result :Bool);
  handleNotifications @11 (context :Cp.Context, notifications :ChainNotifications)
      -> (result :Common.Handler);
  # Registers `notifications`; they are sent, in order, until the handler is destroyed or
  # disconnected. Calls for one registration come one at a time from a node thread of its own,
  # so a slow receiver delays nobody else.
  logMessage @12 (context :Cp.Context, message :Text) -> ();
  # Log a line in the node's debug log (category "wallet").
}

interface ChainNotifications {
  destroy @0 (context :Cp.Context) -> ();
  blockConnected @1 (context :Cp.Context, block :Data, height :UInt32) -> ();
  blockDisconnected @2 (context :Cp.Context, block :Data, height :UInt32) -> ();
  transactionAddedToMempool @3 (context :Cp.Context, tx :Data) -> ();
  transactionRemovedFromMempool @4 (context :Cp.Context, tx :Data, reason :Text) -> ();
  # reason: "block", "conflict", "reorg", "expiry", "size-limit"
  updatedBlockTip @5 (context :Cp.Context, tip :BlockRef) -> ();
  # After the blocks of one change of tip were connected or disconnected.
}
