// MakeNodeInterface: the ipc::Node a front end uses, over a NodeRuntime in this process.
#pragma once

#include "node.crossproc.h"

#include <memory>

namespace minicoin {

class NodeRuntime;

// An ipc::Node working on `runtime` (which must outlive it): status from the chain, the mempool
// and the peer-to-peer layer; peers from that layer through the runtime's NetBridge (while no
// layer runs, getPeers is empty and the status counts no connections); wallets through the
// runtime's WalletDirectory (each result forwards to the directory's shared wallet); regtest
// mining with progress; RPC through the runtime's RpcTable; tip and mempool notifications through
// the node's NotificationHub (a thread per subscription); log lines through a Logger sink (a
// bounded queue and a thread per subscription, so a slow receiver never slows logging: lines over
// 10000 queued are dropped and counted). Served over IPC by minicoin-node's Init.makeNode;
// minicoin-qt uses it directly. Thread-safe.
//
// Errors: wallet methods throw WalletError (-disablewallet: kWalletError; getWallet of a wallet
// not loaded: kNotFound); executeRpc throws RpcError (a std::runtime_error with the RPC message);
// a bad address or log category is a std::runtime_error saying so. A minicoin-net process that
// goes away during getStatus or getPeers counts as no layer, never as the node's disconnection.
std::unique_ptr<ipc::Node> MakeNodeInterface(NodeRuntime& runtime);

}  // namespace minicoin
