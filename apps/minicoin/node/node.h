// The node: chain state, mempool, validation workers and the parts that serve them, wired
// together; and NodeMain, the main function of minicoind and minicoin-node.
#pragma once

#include "chain/chain_state.h"
#include "common/args.h"
#include "common/logging.h"
#include "echo.crossproc.h"
#include "mempool/mempool.h"
#include "node/header_tree.h"
#include "node/notifications.h"
#include "validation/signature_cache.h"

#include <crossproc/worker_pool.h>

#include <filesystem>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace minicoin::ipc {
class Node;
}  // namespace minicoin::ipc

namespace minicoin {

class NetBridge;
class RpcTable;
class TxIndex;
class WalletDirectory;
class WalletProcesses;

// -minrelaytxfee's default, in coins per 1000 bytes (1000 units), and -mempoolexpiry's, in hours.
inline constexpr const char* kDefaultMinRelayFee = "0.00001";
inline constexpr int64_t kDefaultMempoolExpiryHours = 336;

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
  // Headers known ahead of their blocks (from peers), for the peer-to-peer layer.
  HeaderTree& header_tree() { return *m_header_tree; }
  // The transaction index (-txindex); null when it is off.
  const TxIndex* tx_index() const { return m_tx_index.get(); }
  Mempool& mempool() { return m_mempool; }
  crossproc::WorkerPool& pool() { return *m_pool; }
  // Signatures verified ahead of their blocks' connection (NodeNetChain) or by an earlier one.
  SignatureCache& signature_cache() { return m_signature_cache; }
  TemplateMemory& template_memory() { return m_template_memory; }
  // Chain and mempool events for wallets and other subscribers.
  NotificationHub& notifications() { return m_notifications; }

  // Validates and stores `block`, follows the most-work chain, and brings the mempool in line
  // with a new tip (confirmed transactions leave it; after a reorganisation the disconnected
  // transactions come back if still valid). With BlockSync::kDeferred the block's records are
  // made durable by the next ChainState::SyncPendingWrites (a batch from the network).
  ChainState::BlockResult SubmitBlock(Block block, SubmitOptions options = {});
  // SubmitBlock for a run of blocks: `fn` runs as one job on the worker pool (waited for, not
  // helped; see WorkerPool::RunAndWait) with the submission lock held throughout, and each
  // block it passes to `submit` is validated on that job's thread, saving a hand-over between
  // threads per block. False, with nothing run, if the pool has stopped.
  using SubmitFn = std::function<ChainState::BlockResult(Block, SubmitOptions)>;
  bool SubmitBlocksOnPool(const std::function<void(const SubmitFn& submit)>& fn);
  // Checks `tx` against the tip and the mempool and adds it.
  Mempool::AcceptResult SubmitTransaction(const Transaction& tx);
  // Mempool::TestAccept at the tip: what SubmitTransaction would say about each of `txs` in
  // order (each as if the ones before it were accepted), adding none.
  std::vector<Mempool::AcceptResult> TestTransactions(const std::vector<Transaction>& txs);
  // ChainState::InvalidateBlock and ReconsiderBlock, keeping the mempool in line with the new tip
  // as SubmitBlock does. nullopt on success, else why nothing was done.
  std::optional<std::string> InvalidateBlock(const Uint256& hash);
  std::optional<std::string> ReconsiderBlock(const Uint256& hash);
  // A block on the current tip paying the subsidy and fees to `payout`, with the mempool's
  // best transactions, its proof of work solved; nullopt if `max_tries` hashes did not find
  // one or a shutdown was requested.
  std::optional<Block> MineBlock(const XOnlyPublicKey& payout, uint64_t max_tries);

  // An Echo: in this process (minicoind) or in a spawned minicoin-echo (minicoin-node). The
  // returned object keeps a spawned child alive until it is destroyed.
  std::unique_ptr<ipc::Echo> MakeEcho();

  // Seconds since the node started.
  int64_t Uptime() const;

  // The node's clock (unix seconds): the system clock, or the time set by SetMockTime. Block
  // times (mining, "time-too-new"), mempool entry times and mempool expiry follow it.
  int64_t Now() const;
  // Sets the clock to `time` (regtest's setmocktime); 0 returns to the system clock.
  void SetMockTime(int64_t time) { m_mock_time.store(time); }

  // The node is catching up: true from the start until the tip's time first comes within a day
  // of Now(), then false for good.
  bool IsInitialBlockDownload() const;

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
  // After a change of the chain that disconnected blocks: hands their transactions back to the
  // mempool and drops the mempool's transactions the new tip makes invalid (inputs gone,
  // coinbase spends no longer mature). Needs m_submit_mutex.
  void ReturnDisconnectedToMempool();
  // SubmitBlock's work. Needs m_submit_mutex.
  ChainState::BlockResult SubmitBlockLocked(Block block, SubmitOptions options);

  const ArgsManager& m_args;
  Logger& m_log;
  NodeOptions m_options;
  std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
  std::atomic<int64_t> m_mock_time{0};  // 0: the system clock
  std::unique_ptr<crossproc::WorkerPool> m_pool;
  int64_t m_mempool_expiry_seconds;  // -mempoolexpiry
  Mempool m_mempool;
  SignatureCache m_signature_cache;  // used by m_chain
  std::unique_ptr<ChainState> m_chain;
  std::unique_ptr<TxIndex> m_tx_index;  // -txindex; listens to m_chain, reset before it
  std::unique_ptr<HeaderTree> m_header_tree;  // over m_chain, reset before it
  mutable std::atomic<bool> m_initial_download{true};  // latched false by IsInitialBlockDownload
  NotificationHub m_notifications;

  // Transactions of blocks disconnected by the activation in progress; SubmitBlock (and
  // InvalidateBlock, ReconsiderBlock) hand them back to the mempool once the new tip is in place.
  // They run one activation at a time (m_submit_mutex).
  std::mutex m_submit_mutex;
  std::mutex m_disconnected_mutex;  // taken by the listener on a worker thread
  std::vector<Transaction> m_disconnected;  // guarded by m_disconnected_mutex
  // A block was disconnected (even one with only its coinbase): the mempool must be checked
  // against the new tip. Guarded by m_disconnected_mutex.
  bool m_blocks_disconnected = false;

  TemplateMemory m_template_memory;
  std::atomic<bool> m_shutdown{false};
  std::mutex m_shutdown_mutex;
  std::condition_variable m_shutdown_cv;
};

// A started node with everything NodeMain runs around it: the data-directory lock and pid file,
// the Node, the RPC table and server (-server), the wallets (-wallet, unless -disablewallet) and
// the -ipcbind listeners. NodeMain runs one until a signal or the stop RPC; minicoin-qt runs one
// beside its GUI in the same process. Thread-safe: node(), rpc_table(), wallets() and
// MakeNodeInterface may be called from any thread until the runtime is destroyed; Stop from any
// thread but one at a time. `args` and `log` must outlive it; so must every interface it made
// be destroyed before it (the interfaces call into it).
//
//   auto runtime = NodeRuntime::Start(args, log, options);   // throws std::runtime_error
//   std::unique_ptr<ipc::Node> node = runtime->MakeNodeInterface();
//   ... node->getStatus() ...
//   node.reset();
//   runtime->Stop();
class NodeRuntime {
 public:
  // Starts everything; throws std::runtime_error with a message for the user (the data
  // directory is locked, a port is taken, a -wallet cannot be loaded...), having undone what
  // it started.
  static std::unique_ptr<NodeRuntime> Start(const ArgsManager& args, Logger& log, const NodeOptions& options);
  ~NodeRuntime();  // Stop(), then the node is closed and the data directory unlocked
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  Node& node();
  const RpcTable& rpc_table() const;
  // The node's wallets; null under -disablewallet.
  WalletDirectory* wallets();
  // minicoin-node's wallet processes (for Init.registerWalletLoader); null in minicoind and
  // under -disablewallet.
  WalletProcesses* wallet_processes();
  // The peer-to-peer layer (Stop stops it); null until Start has started it.
  NetBridge* net_bridge();
  const std::filesystem::path& datadir() const { return m_datadir; }
  // An ipc::Node working on this runtime in this process (see node_interface.h).
  std::unique_ptr<ipc::Node> MakeNodeInterface();

  // Orderly shutdown: requests the node's shutdown (mining loops stop), stops the RPC server,
  // unloads the wallets, closes the -ipcbind listeners and removes the pid file. Idempotent.
  // Blocks (up to the wallets' unload timeout); not from inside an RPC or IPC call.
  void Stop();

 private:
  struct Parts;
  NodeRuntime(const ArgsManager& args, Logger& log, const NodeOptions& options);
  void StartParts();

  const ArgsManager& m_args;
  Logger& m_log;
  NodeOptions m_options;
  std::filesystem::path m_datadir;
  std::mutex m_stop_mutex;
  bool m_stopped = false;         // guarded by m_stop_mutex
  std::unique_ptr<Parts> m_parts;  // the lock, the node and what serves it
};

// Registers the options minicoind and minicoin-node accept.
void AddNodeOptions(ArgsManager& args, const NodeOptions& options);

// The main function of minicoind and minicoin-node: parses options and the config file, starts
// the node and its RPC server (and IPC listener), and runs until stopped. Returns the exit code.
int NodeMain(int argc, char** argv, const NodeOptions& options);

}  // namespace minicoin
