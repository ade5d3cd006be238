// NetBridge: the node's end of the peer-to-peer layer. It runs the layer (in this process for
// minicoind, in a minicoin-net child process for minicoin-node), hands it the node as an
// ipc::NetChain, tells it about new tips and mempool transactions, and restarts a child that died.
#pragma once

#include "common.crossproc.h"
#include "init.crossproc.h"
#include "net.crossproc.h"

#include <crossproc/process.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace minicoin {

class ArgsManager;
class Node;

// Registers the node's peer-to-peer options (net/net_options.h) and, for minicoin-node,
// -netsandbox. Called by AddNodeOptions.
void AddNetBridgeOptions(ArgsManager& args, bool multiprocess);

// Starts and keeps the peer-to-peer layer for `node`. Thread-safe.
//
// minicoin-node: the layer runs in `minicoin-net -ipcfd N -datadir=... -chain=... <net options>`
// (sandboxed unless -nonetsandbox). When that process ends unexpectedly the bridge logs it and
// spawns a new one (after 1 s, doubling up to 30 s while it keeps failing); the node goes on
// serving RPC, wallets and miners meanwhile, and the new process syncs from where the chain is.
class NetBridge {
 public:
  // Starts the layer. Throws std::runtime_error with a message for the user (a bad option, a
  // port in use, minicoin-net missing).
  NetBridge(Node& node, std::filesystem::path datadir);
  ~NetBridge();  // Stop()
  NetBridge(const NetBridge&) = delete;
  NetBridge& operator=(const NetBridge&) = delete;

  // Closes every peer connection and ends the child process. Idempotent.
  void Stop();

  // The layer, for RPC. Its calls throw (crossproc::Disconnected, RemoteError) while a child
  // process is gone; null while none runs (between a crash and its restart).
  std::shared_ptr<ipc::Net> net();
  // minicoin-node: the process ID of the running minicoin-net (0 while none runs); minicoind: 0.
  int ProcessId();
  // How many times a minicoin-net process was started again after ending unexpectedly.
  uint64_t Restarts() const { return m_restarts.load(); }

 private:
  class Forwarder;
  struct Child;

  // minicoin-node: spawns a minicoin-net and makes its Net. Throws on failure.
  std::shared_ptr<Child> SpawnChild();
  void Monitor();
  void SetNet(std::shared_ptr<ipc::Net> net);

  Node& m_node;
  const std::filesystem::path m_datadir;
  const bool m_multiprocess;
  std::shared_ptr<ipc::NetChain> m_chain;
  std::shared_ptr<Forwarder> m_forwarder;

  mutable std::mutex m_mutex;
  std::condition_variable m_cv;
  std::shared_ptr<ipc::Net> m_net;    // guarded by m_mutex
  std::shared_ptr<Child> m_child;     // guarded by m_mutex; minicoin-node only (shared with Monitor)
  bool m_stopping = false;            // guarded by m_mutex
  std::thread m_monitor;              // minicoin-node only
  std::atomic<uint64_t> m_restarts{0};
  std::unique_ptr<ipc::Handler> m_subscription;  // the forwarder's registration with the node's notifications
};

}  // namespace minicoin
