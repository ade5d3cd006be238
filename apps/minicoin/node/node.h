// The node: chain state, mempool, validation workers and the parts that serve them, wired
// together; and NodeMain, the main function of minicoind and minicoin-node.
#pragma once

#include "chain/chain_state.h"
#include "common/args.h"
#include "common/logging.h"
#include "echo.crossproc.h"
#include "mempool/mempool.h"
#include "node/notifications.h"

#include <crossproc/worker_pool.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace minicoin {

// How an executable runs the node.
struct NodeOptions {
  // minicoin-node: IPC options (-ipcbind) are accepted and echoipc spawns minicoin-echo;
  // minicoind: everything stays in this process.
  bool multiprocess = false;
  std::string executable_name = "minicoind";
};

// What the live block templates of the mining interface hold, across every connection (for
// -maxtemplatememory and Mining.getMemoryLoad). Thread-safe.
struct TemplateMemory {
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> templates{0};
};

// The node's parts and the operations that touch several of them. Thread-safe: RPC handlers
// call it from the HTTP server's threads.
//
// Blocks enter through SubmitBlock (mined here or received through RPC); the chain state
// validates them on the worker pool and notifies this class, which keeps the mempool in step.
class Node final : private ChainListener {
 public:
  Node(const ArgsManager& args, Logger& log, const NodeOptions& options);
  ~Node() override;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const ArgsManager& args() const { return m_args; }
  Logger& log() { return m_log; }
  const NodeOptions& options() const { return m_options; }
  ChainState& chain() { return *m_chain; }
  Mempool& mempool() { return m_mempool; }
  crossproc::WorkerPool& pool() { return *m_pool; }
  TemplateMemory& template_memory() { return m_template_memory; }
  // Chain and mempool events for wallets and other subscribers.
  NotificationHub& notifications() { return m_notifications; }

  // Validates and stores `block`, follows the most-work chain, and brings the mempool in line
  // with a new tip (confirmed transactions leave it; after a reorganisation the disconnected
  // transactions come back if still valid).
  ChainState::BlockResult SubmitBlock(Block block);
  // Checks `tx` against the tip and the mempool and adds it.
  Mempool::AcceptResult SubmitTransaction(const Transaction& tx);
  // A block on the current tip paying the subsidy and fees to `payout`, with the mempool's
  // best transactions, its proof of work solved; nullopt if `max_tries` hashes did not find
  // one or a shutdown was requested.
  std::optional<Block> MineBlock(const XOnlyPublicKey& payout, uint64_t max_tries);

  // An Echo: in this process (minicoind) or in a spawned minicoin-echo (minicoin-node). The
  // returned object keeps a spawned child alive until it is destroyed.
  std::unique_ptr<ipc::Echo> MakeEcho();

  // Seconds since the node started.
  int64_t Uptime() const;

  // Asks the node to stop (the `stop` RPC, SIGINT, SIGTERM); returns at once.
  void RequestShutdown();
  bool ShutdownRequested() const { return m_shutdown.load(); }
  // Blocks until RequestShutdown.
  void WaitForShutdown();
  // Set while a shutdown is requested: long loops (mining) poll it.
  const std::atomic<bool>& shutdown_flag() const { return m_shutdown; }

 private:
  void BlockConnected(const Block& block, const BlockIndex& index) override;
  void BlockDisconnected(const Block& block, const BlockIndex& index) override;

  const ArgsManager& m_args;
  Logger& m_log;
  NodeOptions m_options;
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
  std::unique_ptr<crossproc::WorkerPool> m_pool;
  Mempool m_mempool;
  std::unique_ptr<ChainState> m_chain;
  NotificationHub m_notifications;

  // Transactions of blocks disconnected by the activation in progress; SubmitBlock hands them
  // back to the mempool once the new tip is in place. SubmitBlock runs one
  // activation at a time (m_submit_mutex).
  std::mutex m_submit_mutex;
  std::mutex m_disconnected_mutex;  // taken by the listener on a worker thread
  std::vector<Transaction> m_disconnected;

  TemplateMemory m_template_memory;
  std::atomic<bool> m_shutdown{false};
  std::mutex m_shutdown_mutex;
  std::condition_variable m_shutdown_cv;
};

// Registers the options minicoind and minicoin-node accept.
void AddNodeOptions(ArgsManager& args, const NodeOptions& options);

// The main function of minicoind and minicoin-node: parses options and the config file, starts
// the node and its RPC server (and IPC listener), and runs until stopped. Returns the exit code.
int NodeMain(int argc, char** argv, const NodeOptions& options);

}  // namespace minicoin
