# Mining: block templates for miners and template providers in other processes (see
# docs/mining.md). A template is an object the node keeps alive, with its transactions, for as
# long as the client holds it, so a client sends back only a solution (header fields and
# coinbase), never a whole block. Blocks and transactions cross as minicoin's own encoding
# (Block::Encode, Transaction::Encode); hashes are 32-byte Data in the encoding's byte order.
@0xbf5e57165f7f0924;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
using Chain = import "chain.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

struct BlockCreateOptions {
  payoutKey @0 :Data;
  # The 32-byte x-only public key the coinbase pays to; or empty, with payoutAddress set.
  payoutAddress @1 :Text;
  # A minicoin address ("mcrt1p..."), used when payoutKey is empty.
  maxBlockBytes @2 :UInt64;
  # Encoded size limit of the whole block; 0: the node's default (1,000,000).
  useMempool @3 :Bool = true;
  # False: a block with the coinbase only.
}

struct BlockWaitOptions {
  timeoutMs @0 :UInt64;
  # How long to wait at most; 0 checks once and returns.
  feeThreshold @1 :UInt64;
  # A new template is also returned when a template built now would collect at least this much
  # more in fees; 0: only a change of tip gives a new template.
}

struct BlockCheckOptions {
  checkPow @0 :Bool = true;
  # False: a header whose hash misses the target is not an error (checking a template).
}

struct CoinbaseTx {
  # Everything needed to rebuild the coinbase of a template: one input spending the null
  # outpoint with a zero signature, one output.
  version @0 :UInt32;
  height @1 :UInt32;
  # The block height, which the coinbase must carry.
  value @2 :UInt64;
  # What the output may pay at most: the subsidy plus the template's fees.
  payoutKey @3 :Data;
  # The output's 32-byte x-only public key.
  encoded @4 :Data;
  # The template's coinbase, encoded (Transaction::Encode).
  txid @5 :Data;
  wtxid @6 :Data;
  # The template's coinbase's full hash (signature field included): its leaf in the merkle tree.
}

struct MemoryLoad {
  # What the live block templates of every client of the node hold.
  templates @0 :UInt64;
  bytes @1 :UInt64;
  # Encoded size of their blocks.
  limitBytes @2 :UInt64;
  # -maxtemplatememory; createNewBlock fails beyond it.
}

interface Mining {
  destroy @0 (context :Cp.Context) -> ();
  getTip @1 (context :Cp.Context) -> (result :Chain.BlockRef);
  waitTipChanged @2 (context :Cp.Context, currentTip :Data, timeoutMs :UInt64)
      -> (result :Chain.BlockRef, interrupted :Bool);
  # Waits until the tip is no longer `currentTip` (at most timeoutMs), then returns the tip:
  # the same one at the timeout. `interrupted` is set when interrupt() released the wait.
  isInitialBlockDownload @3 (context :Cp.Context) -> (result :Bool);
  # True while the tip is older than 24 hours (as after a fresh start on the genesis block).
  createNewBlock @4 (context :Cp.Context, options :BlockCreateOptions) -> (result :BlockTemplate);
  # A template on the current tip. Fails with a clear error for a bad payout, or when the live
  # templates would hold more than -maxtemplatememory.
  checkBlock @5 (context :Cp.Context, block :Data, options :BlockCheckOptions)
      -> (result :Bool, reason :Text);
  # Whether `block` (encoded) would be a valid new tip, without storing it. `reason` says why
  # not; "inconclusive-not-best-prevblk" for a block that does not build on the tip.
  submitBlock @6 (context :Cp.Context, block :Data) -> (result :Bool, reason :Text);
  # Validates and stores a whole block (as the submitblock RPC). result: accepted; reason: ""
  # for a new tip, "valid-but-not-tip" for a valid block off the active chain, or the rejection.
  getMemoryLoad @7 (context :Cp.Context) -> (result :MemoryLoad);
  interrupt @8 () -> ();
  # Runs on the connection's event-loop thread, even while other calls block: releases every
  # waitTipChanged and waitNext call of this Mining object and of the templates it made, now
  # and later, with `interrupted` set.
}

interface BlockTemplate {
  destroy @0 (context :Cp.Context) -> ();
  getBlockHeader @1 (context :Cp.Context) -> (result :Data);
  # The encoded header (nonce 0).
  getBlock @2 (context :Cp.Context) -> (result :Data);
  # The whole encoded block.
  getTxFees @3 (context :Cp.Context) -> (result :List(UInt64));
  # The fee of each transaction after the coinbase.
  getCoinbaseTx @4 (context :Cp.Context) -> (result :CoinbaseTx);
  getCoinbaseMerklePath @5 (context :Cp.Context) -> (result :List(Data));
  # The sibling hashes from the coinbase's leaf up to the merkle root: the root of a block
  # with another coinbase is hash(...hash(hash(wtxid, path[0]), path[1])..., path[n-1]), each a
  # double SHA-256 of the two 32-byte hashes concatenated.
  submitSolution @6 (context :Cp.Context, version :UInt32, time :UInt32, nonce :UInt32,
                     coinbase :Data) -> (result :Bool, reason :Text);
  # Rebuilds the block from the template with these header fields and `coinbase` (encoded; empty:
  # the template's own) and submits it. Answers as Mining.submitBlock, also when the template's
  # parent is no longer the tip.
  waitNext @7 (context :Cp.Context, options :BlockWaitOptions)
      -> (result :BlockTemplate, interrupted :Bool);
  # A new template when the tip changes or fees rise by options.feeThreshold; null at the
  # timeout, or when interrupted (then `interrupted` is set).
  interruptWait @8 () -> ();
  # Runs on the connection's event-loop thread: releases the waitNext calls of this template,
  # now and later, with `interrupted` set.
}
