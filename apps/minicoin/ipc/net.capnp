# Net: the peer-to-peer layer (sockets, message parsing, the address book, every peer's state)
# and the node it serves. minicoin-node runs the layer in a minicoin-net child process;
# minicoind runs the same code in its own process through the same interfaces.
#
# NetChain is the node as the network layer sees it: the layer hands it the headers, blocks and
# transactions peers sent, and asks it what to download and what to serve. Net is the layer as
# the node sees it: the node tells it about new tips and transactions to announce and queries
# its peers for RPC. Blocks, headers and transactions cross in minicoin's own encoding
# (Block::Encode, BlockHeader::Encode, Transaction::Encode), which the node decodes with its
# strict decoder; hashes are 32-byte Data in the encoding's byte order.
@0xc4a61f0e2b9d7e53;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");

struct NetChainStatus {
  tipHash @0 :Data;
  tipHeight @1 :UInt32;
  bestHeaderHash @2 :Data;
  # The most-work valid header known (the tip when no header is ahead of it).
  bestHeaderHeight @3 :UInt32;
  initialDownload @4 :Bool;
  # The node is catching up (its tip is more than a day older than its clock).
}

struct HeadersVerdict {
  error @0 :Text;
  # Empty when every header was accepted or already known; else why the first one that was not
  # failed ("headers do not connect", "bad proof of work", ...).
  peerFault @1 :Bool;
  # The headers break a rule: the sender misbehaved. A list that does not connect is no fault.
  connects @2 :Bool;
  # The first header's parent is known.
  lastHash @3 :Data;
  # The last header of the list that is now known (accepted or already known); empty if none.
  lastHeight @4 :UInt32;
}

struct BlockVerdict {
  hash @0 :Data;
  accepted @1 :Bool;
  # Stored, or kept until its parent arrives.
  reason @2 :Text;
  # Why it was not accepted ("duplicate", "not requested", a rule it broke...); empty if accepted.
  peerFault @3 :Bool;
  # The block breaks a consensus rule or is malformed: the sender misbehaved.
}

struct TxVerdict {
  accepted @0 :Bool;
  reason @1 :Text;
  peerFault @2 :Bool;
  # The transaction breaks a consensus rule or is malformed (not for policy refusals).
  missingParents @3 :List(Data);
  # When refused for missing inputs: the txids of the inputs the node does not know.
}

struct InvItem {
  type @0 :UInt32;
  # 1: transaction, 2: block (the wire's inventory types)
  hash @1 :Data;
}

interface NetChain {
  destroy @0 (context :Cp.Context) -> ();
  getStatus @1 (context :Cp.Context) -> (result :NetChainStatus);
  getLocator @2 (context :Cp.Context) -> (result :List(Data));
  # A block locator of the best header chain, newest first (for getheaders).
  processHeaders @3 (context :Cp.Context, headers :List(Data)) -> (result :HeadersVerdict);
  # Checks and remembers headers (each BlockHeader::Encode), in order, each on the one before.
  getBlocksToDownload @4 (context :Cp.Context, peerBest :Data, max :UInt32) -> (result :List(Data));
  # The hashes of the blocks the node lacks on the way from its active chain to `peerBest` (a
  # header the peer has), lowest first, at most `max`, within the download window.
  processBlocks @5 (context :Cp.Context, blocks :List(Data)) -> (result :List(BlockVerdict));
  # Validates and stores blocks (each Block::Encode); one verdict per block, in order.
  processTransaction @6 (context :Cp.Context, tx :Data) -> (result :TxVerdict);
  # Submits a transaction (Transaction::Encode) to the mempool.
  findHeaders @7 (context :Cp.Context, locator :List(Data), stop :Data) -> (result :List(Data));
  # Answers a getheaders: the active chain's headers after the last locator hash it contains (or
  # after genesis), up to `stop` (empty or unknown: no stop) and at most 2,000.
  getBlockData @8 (context :Cp.Context, hashes :List(Data)) -> (result :List(Data));
  # Stored blocks, encoded, in order; an empty entry for a block the node cannot serve.
  getTransactionData @9 (context :Cp.Context, txids :List(Data)) -> (result :List(Data));
  # Mempool transactions, encoded, in order; an empty entry for one not in the mempool.
  haveItems @10 (context :Cp.Context, items :List(InvItem)) -> (result :List(Bool));
  # For each item: the node already has it (a stored block or a known header; a mempool
  # transaction or one refused recently).
  logMessage @11 (context :Cp.Context, category :Text, message :Text) -> ();
  # A line for the node's debug log, under -debug=<category> ("net") or always when empty.
}

struct PeerStats {
  id @0 :Int64;
  address @1 :Text;
  # "ip:port"
  inbound @2 :Bool;
  connectedTime @3 :Int64;
  # Unix seconds.
  lastSend @4 :Int64;
  lastReceive @5 :Int64;
  bytesSent @6 :UInt64;
  bytesReceived @7 :UInt64;
  pingMicros @8 :Int64;
  # The latest round trip; -1 if none yet.
  minPingMicros @9 :Int64;
  pingWaitMicros @10 :Int64;
  # How long the outstanding ping has waited; -1 if none.
  version @11 :UInt32;
  services @12 :UInt64;
  userAgent @13 :Text;
  startingHeight @14 :UInt32;
  syncedHeaders @15 :Int64;
  # The height of the best header the peer is known to have; -1 if unknown.
  syncedBlocks @16 :Int64;
  # The height of the best block the peer is known to have; -1 if unknown.
  blocksInFlight @17 :UInt32;
  connectionType @18 :Text;
  # "inbound", "outbound", "manual" (-connect, -addnode, addnode), "feeler"
}

struct NetTotals {
  bytesReceived @0 :UInt64;
  bytesSent @1 :UInt64;
  timeMillis @2 :Int64;
}

struct BanEntry {
  address @0 :Text;
  # An IP address (bans apply to every port of it).
  created @1 :Int64;
  until @2 :Int64;
  # Unix seconds.
  reason @3 :Text;
}

struct NetworkInfo {
  listening @0 :Bool;
  localAddresses @1 :List(Text);
  # The addresses the node listens on, "ip:port".
  connections @2 :UInt32;
  inbound @3 :UInt32;
  outbound @4 :UInt32;
  maxConnections @5 :UInt32;
  userAgent @6 :Text;
  protocolVersion @7 :UInt32;
  services @8 :UInt64;
  knownAddresses @9 :UInt64;
  # Entries in the address book.
}

interface Net {
  destroy @0 (context :Cp.Context) -> ();
  blockTipChanged @1 (context :Cp.Context, header :Data, height :UInt32, initialDownload :Bool) -> ();
  # The active tip moved to this block (BlockHeader::Encode): announce it to the peers, unless
  # the node is in initial download (then nobody is told; `initialDownload` saves the layer a
  # getStatus call back for every block of the download).
  transactionsAccepted @2 (context :Cp.Context, txids :List(Data)) -> ();
  # The mempool took these transactions: relay them to the peers that do not have them.
  getPeerStats @3 (context :Cp.Context) -> (result :List(PeerStats));
  getNetworkInfo @4 (context :Cp.Context) -> (result :NetworkInfo);
  getNetTotals @5 (context :Cp.Context) -> (result :NetTotals);
  addNode @6 (context :Cp.Context, address :Text, command :Text) -> (result :Text);
  # command: "add" (keep connected), "remove", "onetry". Returns "" or why it failed.
  disconnectNode @7 (context :Cp.Context, address :Text, id :Int64) -> (result :Text);
  # By address ("ip:port") when not empty, else by peer id (-1: none). Returns "" or why not.
  setBan @8 (context :Cp.Context, address :Text, command :Text, seconds :Int64, absolute :Bool)
      -> (result :Text);
  # command: "add" (for `seconds`, or until that unix time when `absolute`; 0: the default ban
  # time) or "remove". Returns "" or why it failed.
  listBanned @9 (context :Cp.Context) -> (result :List(BanEntry));
  clearBanned @10 (context :Cp.Context) -> ();
  pingPeers @11 (context :Cp.Context) -> ();
  # Sends every peer a ping now (the latency shows in getPeerStats).
  stop @12 (context :Cp.Context) -> ();
  # Closes every connection and listener and saves the address book; idempotent.
}
