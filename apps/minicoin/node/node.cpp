// The node's wiring and NodeMain.
#include "node/node.h"

#include "chain/params.h"
#include "chain/prune.h"
#include "chain/reindex.h"
#include "chain/tx_index.h"
#include "ipc/connection_log.h"
#include "ipc/echo.h"
#include "ipc/partial_init.h"
#include "mining/block_assembler.h"
#include "node/chain_interface.h"
#include "node/mining_interface.h"
#include "node/net_bridge.h"
#include "node/node_interface.h"
#include "node/wallet_processes.h"
#include "node/rpc_util.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "rpc/table.h"
#include "rpc/util.h"
#include "wallet/rpc_wallet.h"
#include "wallet/wallet_loader.h"

#include <crossproc/listener.h>
#include <crossproc/process.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

namespace minicoin {

namespace {

constexpr const char* kVersion = "minicoin 0.1.0";

// -minrelaytxfee, in units per 1000 bytes. Throws std::runtime_error for a bad amount.
uint64_t MinRelayFee(const ArgsManager& args) {
  std::string text = args.GetArg("-minrelaytxfee", kDefaultMinRelayFee);
  try {
    return AmountFromJson(nlohmann::json(text));
  } catch (const std::exception& e) {
    throw std::runtime_error("Invalid amount for -minrelaytxfee=<amount>: '" + text + "' (" + e.what() + ")");
  }
}

// -mempoolexpiry, in seconds. Throws std::runtime_error unless it is a positive number of hours.
int64_t MempoolExpirySeconds(const ArgsManager& args) {
  std::string error;
  std::optional<int64_t> hours = args.GetIntArgChecked("-mempoolexpiry", kDefaultMempoolExpiryHours, error);
  if (!hours || *hours <= 0 || *hours > 24 * 365 * 100) {
    throw std::runtime_error("Invalid -mempoolexpiry: '" + args.GetArg("-mempoolexpiry", "") +
                             "' (a positive number of hours)");
  }
  return *hours * 3600;
}

// Left in the chain directory while -reindex runs: a start that finds it reindexes again.
constexpr const char* kReindexMarker = "reindexing";

// -prune, -reindex-chainstate and the regtest-only -blockfilesize as chain options, checked
// against each other and -txindex. Throws std::runtime_error with the reason.
ChainStateOptions StorageChainOptions(const ArgsManager& args) {
  ChainStateOptions options;
  const bool regtest = args.GetChainTypeOrMain() == ChainType::kRegtest;
  std::string error;
  std::optional<int64_t> prune = args.GetIntArgChecked("-prune", 0, error);
  if (!prune || *prune < 0) {
    throw std::runtime_error("Invalid -prune: '" + args.GetArg("-prune", "") + "' (a number of MiB, 0 = off)");
  }
  if (*prune > 0) {
    if (*prune < static_cast<int64_t>(kMinPruneTargetMiB) && !regtest) {
      throw std::runtime_error("-prune=" + std::to_string(*prune) + " is too small: the target is 0 (off) or at least " +
                               std::to_string(kMinPruneTargetMiB) + " MiB");
    }
    if (*prune > (int64_t{1} << 40)) throw std::runtime_error("Invalid -prune: '" + args.GetArg("-prune", "") + "' (too large)");
    if (args.GetBoolArg("-txindex", false)) throw std::runtime_error("-prune cannot be combined with -txindex: the transaction index needs every block");
    if (args.GetBoolArg("-reindex-chainstate", false)) {
      throw std::runtime_error("-prune cannot be combined with -reindex-chainstate, which needs blocks pruning removed: use -reindex");
    }
    options.prune = true;
    // Regtest's -prune=1: keep only what must stay (a test setting).
    options.prune_target_bytes = (regtest && *prune == 1) ? 0 : static_cast<uint64_t>(*prune) << 20;
  }
  options.reindex_chainstate = args.GetBoolArg("-reindex-chainstate", false);
  if (args.IsArgSet("-blockfilesize")) {
    if (!regtest) throw std::runtime_error("-blockfilesize is only for regtest (a test option)");
    std::optional<int64_t> size = args.GetIntArgChecked("-blockfilesize", 0, error);
    if (!size || *size < 1024 || *size > (int64_t{1} << 30)) {
      throw std::runtime_error("Invalid -blockfilesize: '" + args.GetArg("-blockfilesize", "") +
                               "' (bytes, from 1024 to 1073741824)");
    }
    options.max_block_file_size = static_cast<uint32_t>(*size);
  }
  return options;
}

// The same for -reindex-chainstate.
constexpr const char* kReindexChainstateMarker = "reindexing-chainstate";

// Creates `path` and makes it durable. Throws std::runtime_error on failure.
void WriteMarker(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
  bool ok = ::write(fd, "1\n", 2) == 2 && ::fsync(fd) == 0;
  ::close(fd);
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ok = ::fsync(dir) == 0 && ok;
    ::close(dir);
  }
  if (!ok) throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(errno));
}

// Flushes everything written to the file system holding `dir`. Throws std::runtime_error.
void SyncFileSystem(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  bool ok = fd >= 0 && ::syncfs(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error("cannot sync " + dir.string() + ": " + std::strerror(errno));
}

// -reindex and -reindex-chainstate, or one that did not finish (its marker file is still
// there). The state is rebuilt in a ChainState of its own, without syncing each block (a rebuild
// that does not finish starts over, so the writes only need to be durable at the end), then the
// file system is synced and the marker removed. -reindex rebuilds with pruning off so that no
// file goes before it was read. Afterwards `options` opens the rebuilt state normally.
void RebuildChainState(const ArgsManager& args, Logger& log, ChainStateOptions& options) {
  const std::filesystem::path reindex_marker = options.dir / kReindexMarker;
  const std::filesystem::path chainstate_marker = options.dir / kReindexChainstateMarker;
  const bool resume_reindex = std::filesystem::exists(reindex_marker);
  const bool reindex = args.GetBoolArg("-reindex", false) || resume_reindex;
  const bool resume_chainstate = !reindex && std::filesystem::exists(chainstate_marker);
  const bool chainstate = !reindex && (options.reindex_chainstate || resume_chainstate);
  options.reindex_chainstate = false;
  if (!reindex && !chainstate) return;
  if (resume_reindex || resume_chainstate) log.Info("A reindex did not finish: starting it again");
  std::filesystem::create_directories(options.dir);
  ChainStateOptions rebuild_options = options;
  rebuild_options.sync_writes = false;
  if (reindex) {
    WriteMarker(reindex_marker);
    WipeForReindex(options.dir);
    std::error_code ignored;
    std::filesystem::remove_all(options.dir / "indexes" / "txindex", ignored);
    std::filesystem::remove(chainstate_marker, ignored);
    rebuild_options.prune = false;
    log.Info("Reindexing: rebuilding the block index and the chain state from the block files in %s",
             (options.dir / "blocks").string().c_str());
    ChainState rebuilt(rebuild_options);
    ReindexResult result = ReindexBlockFiles(rebuilt, options.dir, options.log);
    log.Info("Reindexing done: %llu records, %llu blocks added, tip height %u",
             static_cast<unsigned long long>(result.records), static_cast<unsigned long long>(result.added),
             rebuilt.Height());
  } else {
    WriteMarker(chainstate_marker);
    log.Info("Reindexing the chain state: connecting the stored blocks again");
    rebuild_options.reindex_chainstate = true;
    ChainState rebuilt(rebuild_options);
    log.Info("Reindexing the chain state done: tip height %u", rebuilt.Height());
  }
  SyncFileSystem(options.dir);
  std::filesystem::remove(reindex ? reindex_marker : chainstate_marker);
}

// -dbcache, split between the chain database and the coins cache. Throws std::runtime_error
// unless it is a whole number of megabytes, at least kMinDbCacheMiB.
CacheSizes DbCacheSizes(const ArgsManager& args) {
  std::string error;
  std::optional<int64_t> mib = args.GetIntArgChecked("-dbcache", kDefaultDbCacheMiB, error);
  constexpr int64_t kMaxDbCacheMiB = int64_t{1} << 24;  // 16 TiB
  if (!mib || *mib < kMinDbCacheMiB || *mib > kMaxDbCacheMiB) {
    throw std::runtime_error("Invalid -dbcache: '" + args.GetArg("-dbcache", "") + "' (a number of megabytes, at least " +
                             std::to_string(kMinDbCacheMiB) + ")");
  }
  return SplitDbCache(*mib);
}

std::size_t WorkerThreads(const ArgsManager& args) {
  int64_t par = args.GetIntArg("-par", 0);
  // 0: one per core; below 0: leave that many cores free (at least one thread).
  if (par <= 0) {
    const int64_t cores = std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
    return static_cast<std::size_t>(std::max<int64_t>(1, cores + std::max<int64_t>(par, -64)));
  }
  return static_cast<std::size_t>(std::min<int64_t>(par, 64));
}

// An Echo in a spawned minicoin-echo process; destroying it ends the child.
class SpawnedEcho final : public ipc::Echo {
 public:
  explicit SpawnedEcho(crossproc::Spawned<ipc::Init> spawned)
      : m_spawned(std::move(spawned)), m_echo(m_spawned.init->makeEcho()) {}
  std::string echo(const std::string& text) override { return m_echo->echo(text); }

 private:
  crossproc::Spawned<ipc::Init> m_spawned;
  std::unique_ptr<ipc::Echo> m_echo;  // destroyed first: then the child's Init, connection, process
};

// What minicoin-node serves to programs that connect to its -ipcbind socket or spawned it
// (-ipcfd). Thread-safe; the runtime must outlive it.
class NodeInit final : public ipc::PartialInit {
 public:
  // `wallets` is null when the node runs without wallets (-disablewallet).
  NodeInit(NodeRuntime& runtime, WalletProcesses* wallets)
      : PartialInit("minicoin-node"), m_runtime(runtime), m_node(runtime.node()), m_wallets(wallets) {}
  std::unique_ptr<ipc::Echo> makeEcho() override { return ipc::MakeEcho(); }
  std::unique_ptr<ipc::Chain> makeChain() override { return MakeChain(m_node); }
  std::unique_ptr<ipc::Mining> makeMining() override { return MakeMining(m_node); }
  std::unique_ptr<ipc::Node> makeNode() override { return m_runtime.MakeNodeInterface(); }
  std::unique_ptr<ipc::Handler> registerWalletLoader(const std::shared_ptr<ipc::WalletLoader>& loader) override {
    if (m_wallets == nullptr) throw std::runtime_error("this node runs without wallets (-disablewallet)");
    return m_wallets->Attach(loader);
  }

 private:
  NodeRuntime& m_runtime;
  Node& m_node;
  WalletProcesses* m_wallets;
};

// How long the wallets get to unload at shutdown before the node cuts them off.
constexpr std::chrono::seconds kWalletShutdownTimeout{10};

// The node's wallets: in this process (minicoind) or in wallet processes (minicoin-node).
struct NodeWallets {
  std::shared_ptr<ipc::Chain> chain;            // minicoind: shared by the loader's wallets
  std::shared_ptr<ipc::WalletLoader> loader;    // minicoind: shared with the directory
  WalletProcesses* processes = nullptr;         // minicoin-node: owned by `directory`
  std::unique_ptr<WalletDirectory> directory;

  void Shutdown() {
    if (processes != nullptr) processes->Shutdown(kWalletShutdownTimeout);
    if (loader) loader->shutdown();
  }
};

NodeWallets MakeNodeWallets(Node& node, const std::filesystem::path& datadir, const NodeOptions& options) {
  NodeWallets wallets;
  if (options.multiprocess) {
    auto processes = std::make_unique<WalletProcesses>(node, datadir);
    wallets.processes = processes.get();
    wallets.directory = std::move(processes);
  } else {
    wallets.chain = MakeChain(node);
    wallets.loader = MakeWalletLoader(datadir, wallets.chain, node.log());
    wallets.directory = std::make_unique<LocalWalletDirectory>(wallets.loader);
  }
  return wallets;
}

// -wallet=<name>: loads each, creating it if it does not exist yet.
void LoadStartupWallets(const ArgsManager& args, Logger& log, WalletDirectory& directory) {
  for (const std::string& name : args.GetArgs("-wallet")) {
    try {
      directory.Load(name);
      log.Info("wallet %s: loaded", name.c_str());
    } catch (const WalletError& e) {
      if (e.code() != WalletError::kNotFound) throw std::runtime_error("-wallet=" + name + ": " + e.message());
      directory.Create(name, "");
      log.Info("wallet %s: created", name.c_str());
    }
  }
}

}  // namespace

Node::Node(const ArgsManager& args, Logger& log, const NodeOptions& options)
    : m_args(args),
      m_log(log),
      m_options(options),
      m_pool(std::make_unique<crossproc::WorkerPool>(
          crossproc::WorkerPoolOptions{.threads = WorkerThreads(args), .name = "verify"})),
      m_mempool_expiry_seconds(MempoolExpirySeconds(args)),
      m_mempool(MempoolOptions{.max_bytes = static_cast<std::size_t>(args.GetIntArg("-maxmempool", 300)) << 20,
                               .min_fee_per_kb = MinRelayFee(args),
                               .clock = [this] { return Now(); }}),
      m_notifications(log) {
  ChainStateOptions chain_options = StorageChainOptions(args);
  chain_options.dir = args.GetDataDir();
  chain_options.params = &ChainParams::Get(args.GetChainTypeOrMain());
  chain_options.pool = m_pool.get();
  chain_options.signature_cache = &m_signature_cache;
  chain_options.now = [this] { return Now(); };
  chain_options.log = [this](const std::string& line) { m_log.Info("%s", line.c_str()); };
  const CacheSizes cache = DbCacheSizes(args);
  chain_options.database_cache_bytes = cache.database_bytes;
  chain_options.coins_cache_bytes = cache.coins_bytes;
  RebuildChainState(args, m_log, chain_options);
  m_log.Info("Opening the %s chain's state in %s with %zu validation threads, a %zu MiB coins cache",
             chain_options.params->name.c_str(), chain_options.dir.string().c_str(), m_pool->thread_count(),
             chain_options.coins_cache_bytes >> 20);
  m_chain = std::make_unique<ChainState>(chain_options);
  if (args.GetBoolArg("-txindex", false)) {
    m_tx_index = std::make_unique<TxIndex>(
        *m_chain, TxIndexOptions{.dir = chain_options.dir / "indexes" / "txindex", .log = chain_options.log});
  }
  m_header_tree = std::make_unique<HeaderTree>(*m_chain);
  m_chain->AddListener(this);
  m_chain->AddListener(&m_notifications);
  m_mempool.AddListener(&m_notifications);
  m_log.Info("%s", ("Chain tip: height " + std::to_string(m_chain->Height()) + ", " + m_chain->Tip().hash.ToHex()).c_str());
}

Node::~Node() {
  m_mempool.RemoveListener(&m_notifications);
  m_chain->RemoveListener(&m_notifications);
  m_chain->RemoveListener(this);
  m_pool->Stop(crossproc::WorkerPool::Shutdown::kDrain);
  m_tx_index.reset();
  m_header_tree.reset();
  m_chain.reset();
}

void Node::BlockConnected(const Block& block, const BlockIndex& index) {
  m_mempool.RemoveForBlock(block);
  m_mempool.Expire(Now() - m_mempool_expiry_seconds);
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kValidation, "%s", ("connected block " + index.hash.ToHex() + " at height " + std::to_string(index.height)).c_str());
}

void Node::BlockDisconnected(const Block& block, const BlockIndex& index) {
  std::lock_guard<std::mutex> lock(m_disconnected_mutex);
  for (std::size_t i = 1; i < block.transactions.size(); ++i) m_disconnected.push_back(block.transactions[i]);
  m_blocks_disconnected = true;
  MINICOIN_LOG_DEBUG(m_log, LogCategory::kValidation, "%s", ("disconnected block " + index.hash.ToHex() + " at height " + std::to_string(index.height)).c_str());
}

ChainState::BlockResult Node::SubmitBlock(Block block, SubmitOptions options) {
  std::lock_guard<std::mutex> submit(m_submit_mutex);
  return SubmitBlockLocked(std::move(block), options);
}

bool Node::SubmitBlocksOnPool(const std::function<void(const SubmitFn& submit)>& fn) {
  std::lock_guard<std::mutex> submit(m_submit_mutex);
  const SubmitFn submit_here = [this](Block block, SubmitOptions options) {
    options.on_this_thread = true;
    return SubmitBlockLocked(std::move(block), options);
  };
  return m_pool->RunAndWait([&] { fn(submit_here); });
}

ChainState::BlockResult Node::SubmitBlockLocked(Block block, SubmitOptions options) {
  Uint256 hash = block.header.Hash();
  ChainState::BlockResult result = m_chain->ProcessBlock(std::move(block), options);
  if (!result.accepted && !result.duplicate) {
    m_log.Info("%s", ("rejected block " + hash.ToHex() + ": " + result.reason).c_str());
    // Stored but failed when connected: the headers on it are invalid now.
    if (m_chain->Lookup(hash) != nullptr) m_header_tree->Refresh();
  }
  ReturnDisconnectedToMempool();
  return result;
}

std::optional<std::string> Node::InvalidateBlock(const Uint256& hash) {
  std::lock_guard<std::mutex> submit(m_submit_mutex);
  std::optional<std::string> error = m_chain->InvalidateBlock(hash);
  if (!error) m_log.Info("%s", ("invalidated block " + hash.ToHex() + " by request").c_str());
  ReturnDisconnectedToMempool();
  m_header_tree->Refresh();  // headers on the branch change validity
  return error;
}

std::optional<std::string> Node::ReconsiderBlock(const Uint256& hash) {
  std::lock_guard<std::mutex> submit(m_submit_mutex);
  std::optional<std::string> error = m_chain->ReconsiderBlock(hash);
  if (!error) m_log.Info("%s", ("reconsidered block " + hash.ToHex() + " by request").c_str());
  ReturnDisconnectedToMempool();
  m_header_tree->Refresh();  // headers on the branch change validity
  return error;
}

void Node::ReturnDisconnectedToMempool() {
  std::vector<Transaction> disconnected;
  bool blocks_disconnected = false;
  {
    std::lock_guard<std::mutex> lock(m_disconnected_mutex);
    disconnected.swap(m_disconnected);
    std::swap(blocks_disconnected, m_blocks_disconnected);
  }
  if (blocks_disconnected) {
    m_log.Info("%s", ("reorganisation: " + std::to_string(disconnected.size()) + " transactions back to the mempool").c_str());
    m_chain->WithTip([&](const BlockIndex& tip, const CoinsView& coins) {
      const uint32_t median_time_past = m_chain->MedianTimePast(tip);
      m_mempool.Reorganized(disconnected, coins, tip.height + 1, *m_pool, [&](const Transaction& tx) {
        return IsFinal(tx, tip.height + 1, median_time_past);
      });
    });
  }
}

Mempool::AcceptResult Node::SubmitTransaction(const Transaction& tx) {
  Mempool::AcceptResult result;
  m_chain->WithTip([&](const BlockIndex& tip, const CoinsView& coins) {
    // Only a transaction the next block may hold (its lock time passed).
    if (!IsFinal(tx, tip.height + 1, m_chain->MedianTimePast(tip))) {
      result.txid = tx.Txid();
      result.reason = kRejectNonFinal;
      return;
    }
    result = m_mempool.Accept(tx, coins, tip.height + 1, *m_pool);
  });
  if (result.accepted) m_mempool.Expire(Now() - m_mempool_expiry_seconds);
  if (result.accepted) {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kMempool, "%s", ("accepted transaction " + result.txid.ToHex()).c_str());
  } else {
    MINICOIN_LOG_DEBUG(m_log, LogCategory::kMempool, "%s", ("rejected transaction " + tx.Txid().ToHex() + ": " + result.reason).c_str());
  }
  return result;
}

std::vector<Mempool::AcceptResult> Node::TestTransactions(const std::vector<Transaction>& txs) {
  std::vector<Mempool::AcceptResult> results;
  m_chain->WithTip([&](const BlockIndex& tip, const CoinsView& coins) {
    results = m_mempool.TestAccept(txs, coins, tip.height + 1, *m_pool);
  });
  return results;
}

std::optional<Block> Node::MineBlock(const XOnlyPublicKey& payout, uint64_t max_tries) {
  Block block;
  m_chain->WithTip([&](const BlockIndex& tip, const CoinsView&) {
    NextBlock next{.prev_hash = tip.hash,
                   .height = tip.height + 1,
                   .time = m_chain->NextBlockTime(tip, Now()),
                   .bits = m_chain->NextBits(tip),
                   .subsidy = BlockSubsidy(tip.height + 1, m_chain->params())};
    block = CreateNewBlock(next, payout, m_mempool.SelectForBlock(BlockTransactionBudget(BlockAssemblerOptions{}, next.height)));
  });
  if (!SolveBlock(block, max_tries, &m_shutdown)) return std::nullopt;
  return block;
}

std::unique_ptr<ipc::Echo> Node::MakeEcho() {
  if (!m_options.multiprocess) return ipc::MakeEcho();
  crossproc::SpawnOptions spawn;
  spawn.connection = IpcConnectionOptions(m_log, m_options.executable_name);
  if (spawn.connection.debug_ipc) {
    spawn.command_line = [](const std::string& executable, int fd) {
      return std::vector<std::string>{executable, "-ipcfd", std::to_string(fd), "-debug=ipc"};
    };
  }
  return std::make_unique<SpawnedEcho>(crossproc::SpawnProcess<ipc::Init>(crossproc::FindExecutable("minicoin-echo"), spawn));
}

int64_t Node::Now() const {
  int64_t mock = m_mock_time.load();
  if (mock != 0) return mock;
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool Node::IsInitialBlockDownload() const {
  if (!m_initial_download.load()) return false;
  constexpr int64_t kDay = int64_t{24} * 60 * 60;
  if (static_cast<int64_t>(m_chain->Tip().header.time) + kDay < Now()) return true;
  m_initial_download.store(false);
  return false;
}

int64_t Node::Uptime() const {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - m_start).count();
}

void Node::RequestShutdown() {
  {
    std::lock_guard<std::mutex> lock(m_shutdown_mutex);
    m_shutdown = true;
  }
  m_shutdown_cv.notify_all();
}

void Node::WaitForShutdown() {
  std::unique_lock<std::mutex> lock(m_shutdown_mutex);
  m_shutdown_cv.wait(lock, [&] { return m_shutdown.load(); });
}

void AddNodeOptions(ArgsManager& args, const NodeOptions& options) {
  const std::string daemon = options.executable_name;
  args.AddHiddenArg("-?");
  args.AddHiddenArg("-h");
  args.AddArg("-help", "Print this help message and exit", kArgNone, "Options");
  args.AddArg("-version", "Print version and exit", kArgNone, "Options");
  args.AddArg("-par=<n>", "Set the number of signature verification threads (0 = auto, one per core; <0 = leave that many cores free)", kArgNone, "Options");
  args.AddArg("-dbcache=<n>", "Use up to <n> megabytes for the chain database and the coins cache; a larger cache writes the coins less often (default: " + std::to_string(kDefaultDbCacheMiB) + ", minimum " + std::to_string(kMinDbCacheMiB) + ")", kArgNone, "Options");
  args.AddArg("-maxmempool=<n>", "Keep the transaction memory pool below <n> megabytes (default: 300)", kArgNone, "Options");
  args.AddArg("-mempoolexpiry=<n>", "Do not keep transactions in the mempool longer than <n> hours (default: " + std::to_string(kDefaultMempoolExpiryHours) + ")", kArgNone, "Options");
  args.AddArg("-minrelaytxfee=<amt>", std::string("Fees (in coins per 1000 bytes) below this are too low for the mempool (default: ") + kDefaultMinRelayFee + ")", kArgNone, "Options");
  args.AddArg("-txindex", "Maintain an index of every transaction of the active chain, so that getrawtransaction finds them without a block hash (default: 0). Incompatible with -prune", kArgNone, "Options");
  args.AddArg("-reindex", "Rebuild the block index, the chain state and the transaction index from the block files on disk", kArgNone, "Options");
  args.AddArg("-reindex-chainstate", "Rebuild the chain state from the blocks already indexed, connecting the best chain again from the block files", kArgNone, "Options");
  args.AddArg("-prune=<n>", "Delete old block and undo files to keep them under <n> MiB (0 = off, the default; at least " + std::to_string(kMinPruneTargetMiB) + "; regtest also takes smaller values, and 1 there keeps only the files of the last " + std::to_string(kMinBlocksToKeep) + " blocks). The last " + std::to_string(kMinBlocksToKeep) + " blocks of the active chain are always kept. Incompatible with -txindex", kArgNone, "Options");
  args.AddArg("-blockfilesize=<n>", "Start a new block file past <n> bytes (regtest only; a test option; default: 134217728)", kArgDebugOnly, "Options");
  args.AddArg("-pid=<file>", "Specify pid file. Relative paths are prefixed by the data directory (default: " + daemon + ".pid)", kArgNone, "Options");
  args.AddArg("-server", "Accept command line and JSON-RPC commands (default: 1)", kArgNone, "RPC server options");
  args.AddArg("-rpcbind=<addr>[:port]", "Bind to given address to listen for JSON-RPC connections (default: 127.0.0.1). Can be specified multiple times", kArgAllowList, "RPC server options");
  args.AddArg("-rpcport=<port>", "Listen for JSON-RPC connections on <port> (default: " + std::to_string(BaseParams(ChainType::kMain).rpc_port) + ", testnet: " + std::to_string(BaseParams(ChainType::kTest).rpc_port) + ", regtest: " + std::to_string(BaseParams(ChainType::kRegtest).rpc_port) + ")", kArgNone, "RPC server options");
  args.AddArg("-rpcuser=<user>", "Username for JSON-RPC connections", kArgNone, "RPC server options");
  args.AddArg("-rpcpassword=<pw>", "Password for JSON-RPC connections", kArgSensitive, "RPC server options");
  args.AddArg("-rpccookiefile=<loc>", "Location of the auth cookie. Relative paths are prefixed by the data directory (default: .cookie)", kArgNone, "RPC server options");
  args.AddArg("-rpcthreads=<n>", "Set the number of threads to service RPC calls (default: 4)", kArgNone, "RPC server options");
  args.AddArg("-ipcmaxconnections=<n>", "Serve at most <n> connections at once on each -ipcbind socket; more are refused with a clear error (default: 128)", kArgNone, "IPC options");
  args.AddArg("-wallet=<name>", "Load the wallet <name> at start (in <datadir>/wallets/<name>), creating it if it does not exist. minicoin-node runs each wallet in a minicoin-wallet process of its own. Can be specified multiple times", kArgAllowList, "Wallet options");
  args.AddArg("-disablewallet", "Run without wallets: no wallet RPC methods", kArgNone, "Wallet options");
  AddWalletProcessOptions(args);
  args.AddArg("-ipcbind=<address>", "Listen for connections from other minicoin processes and third-party programs on a unix socket: 'unix' (<datadir>/node.sock) or 'unix:<path>'. Can be specified multiple times. minicoin-node only", kArgAllowList, "IPC options");
  AddLoggingArgs(args);
  AddMiningOptions(args);
  AddNetBridgeOptions(args, options.multiprocess);
}

namespace {

// Holds an exclusive lock on <datadir>/.lock while the node runs.
class DataDirLock {
 public:
  explicit DataDirLock(const std::filesystem::path& dir) {
    std::string path = (dir / ".lock").string();
    m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m_fd < 0) throw std::runtime_error("Cannot write to data directory '" + dir.string() + "': " + std::strerror(errno));
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(m_fd);
      throw std::runtime_error("Cannot obtain a lock on data directory " + dir.string() + ". minicoin is probably already running.");
    }
  }
  ~DataDirLock() { ::close(m_fd); }
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  int m_fd = -1;
};

std::filesystem::path PathArg(const ArgsManager& args, const std::string& name, const std::string& default_name) {
  return args.AbsPathInDataDir(args.GetArg(name, default_name));
}

// Splits "-rpcbind" values into host and optional port.
std::vector<std::string> RpcBindAddresses(const ArgsManager& args) {
  std::vector<std::string> binds = args.GetArgs("-rpcbind");
  if (binds.empty()) binds.push_back("127.0.0.1");
  return binds;
}

}  // namespace

struct NodeRuntime::Parts {
  // Destroyed from the bottom up: listeners, server, wallets, then the node; the lock last.
  std::unique_ptr<DataDirLock> lock;
  std::filesystem::path pid_file;
  std::unique_ptr<Node> node;
  std::unique_ptr<NetBridge> net;  // the peer-to-peer layer; stopped before the node goes
  RpcTable table;
  NodeWallets wallets;
  std::unique_ptr<HttpRpcServer> server;
  std::vector<std::unique_ptr<crossproc::Listener>> listeners;
};

NodeRuntime::NodeRuntime(const ArgsManager& args, Logger& log, const NodeOptions& options)
    : m_args(args), m_log(log), m_options(options), m_datadir(args.GetDataDir()), m_parts(std::make_unique<Parts>()) {}

std::unique_ptr<NodeRuntime> NodeRuntime::Start(const ArgsManager& args, Logger& log, const NodeOptions& options) {
  std::unique_ptr<NodeRuntime> runtime(new NodeRuntime(args, log, options));
  try {
    runtime->StartParts();
  } catch (...) {
    runtime->Stop();
    throw;
  }
  return runtime;
}

void NodeRuntime::StartParts() {
  const ArgsManager& args = m_args;
  Logger& log = m_log;
  const NodeOptions& options = m_options;
  Parts& parts = *m_parts;
  if (args.GetBoolArg("-disablewallet", false) && !args.GetArgs("-wallet").empty()) {
    throw std::runtime_error("-wallet and -disablewallet cannot be used together");
  }
  if (!options.multiprocess && !args.GetArgs("-ipcbind").empty()) {
    throw std::runtime_error("-ipcbind needs minicoin-node: " + options.executable_name + " runs everything in one process");
  }
  parts.lock = std::make_unique<DataDirLock>(m_datadir);
  parts.pid_file = PathArg(args, "-pid", options.executable_name + ".pid");
  { std::ofstream(parts.pid_file) << ::getpid() << "\n"; }

  log.Info("%s", (std::string(kVersion) + " (" + options.executable_name + ") starting, data directory " + m_datadir.string()).c_str());
  parts.node = std::make_unique<Node>(args, log, options);
  Node& node = *parts.node;

  RegisterBlockchainRpc(parts.table, node);
  RegisterMempoolRpc(parts.table, node);
  RegisterMiningRpc(parts.table, node);
  RegisterRawTransactionRpc(parts.table, node);
  RegisterMiscRpc(parts.table, node);
  RegisterNetRpc(parts.table, node, [&parts] { return parts.net.get(); });

  if (!args.GetBoolArg("-disablewallet", false)) {
    parts.wallets = MakeNodeWallets(node, m_datadir, options);
    RegisterWalletRpc(parts.table, *parts.wallets.directory);
    LoadStartupWallets(args, log, *parts.wallets.directory);
  }

  parts.net = std::make_unique<NetBridge>(node, m_datadir);

  if (args.GetBoolArg("-server", true)) {
    HttpRpcServerOptions rpc;
    rpc.bind = RpcBindAddresses(args);
    std::string port_error;
    std::optional<int64_t> checked =
        args.GetIntArgChecked("-rpcport", BaseParams(args.GetChainTypeOrMain()).rpc_port, port_error);
    int64_t port = checked.value_or(-1);
    if (port <= 0 || port > 65535) throw std::runtime_error("Invalid port specified in -rpcport: '" + args.GetArg("-rpcport", "") + "'");
    rpc.port = static_cast<uint16_t>(port);
    rpc.cookie_file = PathArg(args, "-rpccookiefile", ".cookie");
    rpc.user = args.GetArg("-rpcuser", "");
    rpc.password = args.GetArg("-rpcpassword", "");
    rpc.threads = static_cast<int>(std::clamp<int64_t>(args.GetIntArg("-rpcthreads", 4), 1, 64));
    rpc.log = &log;
    parts.server = std::make_unique<HttpRpcServer>(rpc, parts.table);
    parts.server->Start();
    log.Info("%s", ("RPC server listening on port " + std::to_string(parts.server->port())).c_str());
  }

  for (const std::string& address : args.GetArgs("-ipcbind")) {
    std::string path = crossproc::ResolveUnixAddress(address, (m_datadir / "node.sock").string());
    crossproc::ListenOptions listen;
    listen.max_connections = static_cast<std::size_t>(std::clamp<int64_t>(args.GetIntArg("-ipcmaxconnections", 128), 1, 100000));
    listen.connection = IpcConnectionOptions(log, options.executable_name);
    WalletProcesses* processes = parts.wallets.processes;
    parts.listeners.push_back(std::make_unique<crossproc::Listener>(
        path,
        [this, processes] { return crossproc::MakeServer<ipc::Init>(std::make_shared<NodeInit>(*this, processes)); },
        listen));
    log.Info("%s", ("IPC: listening on " + path).c_str());
  }
}

NodeRuntime::~NodeRuntime() {
  Stop();
  m_parts.reset();
}

Node& NodeRuntime::node() { return *m_parts->node; }
const RpcTable& NodeRuntime::rpc_table() const { return m_parts->table; }
WalletDirectory* NodeRuntime::wallets() { return m_parts->wallets.directory.get(); }
WalletProcesses* NodeRuntime::wallet_processes() { return m_parts->wallets.processes; }
NetBridge* NodeRuntime::net_bridge() { return m_parts->net.get(); }
std::unique_ptr<ipc::Node> NodeRuntime::MakeNodeInterface() { return minicoin::MakeNodeInterface(*this); }

void NodeRuntime::Stop() {
  std::lock_guard<std::mutex> lock(m_stop_mutex);
  if (m_stopped) return;
  m_stopped = true;
  Parts& parts = *m_parts;
  if (parts.node) parts.node->RequestShutdown();
  if (parts.server) parts.server->Stop();
  if (parts.net) parts.net->Stop();
  parts.wallets.Shutdown();
  parts.listeners.clear();
  if (parts.lock) {
    std::error_code ignored;
    std::filesystem::remove(parts.pid_file, ignored);
  }
}

namespace {

// Serves NodeInit to the process that spawned this one (-ipcfd <N>) and shuts the node down
// when that connection closes. Destroying it closes the connection.
class SpawnerConnection {
 public:
  SpawnerConnection(NodeRuntime& runtime, WalletProcesses* processes, int fd, Logger& log, const std::string& name)
      : m_connection(fd, std::shared_ptr<ipc::Init>(std::make_shared<NodeInit>(runtime, processes)),
                     IpcConnectionOptions(log, name)),
        m_watch([this, &runtime, &log] {
          m_connection.WaitForDisconnect();
          if (!runtime.node().ShutdownRequested()) {
            log.Info("IPC: the process that started this node (-ipcfd) disconnected; shutting down");
            runtime.node().RequestShutdown();
          }
        }) {}
  ~SpawnerConnection() {
    m_connection.Close();
    m_watch.join();
  }
  SpawnerConnection(const SpawnerConnection&) = delete;
  SpawnerConnection& operator=(const SpawnerConnection&) = delete;

 private:
  crossproc::Connection m_connection;
  std::thread m_watch;
};

// `ipcfd` is the descriptor of -ipcfd <N>, or -1.
int RunNode(const ArgsManager& args, Logger& log, const NodeOptions& options, int ipcfd) {
  std::unique_ptr<NodeRuntime> runtime = NodeRuntime::Start(args, log, options);
  Node& node = runtime->node();
  std::unique_ptr<SpawnerConnection> spawner;
  if (ipcfd >= 0) {
    spawner = std::make_unique<SpawnerConnection>(*runtime, runtime->wallet_processes(), ipcfd, log, options.executable_name);
    log.Info("IPC: serving the process that started this node on descriptor %d", ipcfd);
  }

  // SIGINT and SIGTERM are blocked in every thread (set before any was started) and taken here.
  // A node started by another process (-ipcfd) leaves SIGINT (Ctrl-C reaches the whole process
  // group) to that process, which stops it by closing the connection.
  std::thread signals([&node, spawned = ipcfd >= 0] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec wait{0, 200'000'000};
    while (!node.ShutdownRequested()) {
      int signal = sigtimedwait(&set, nullptr, &wait);
      if (signal == SIGTERM || (signal == SIGINT && !spawned)) node.RequestShutdown();
    }
  });

  log.Info("Done loading");
  node.WaitForShutdown();
  log.Info("Shutdown: in progress...");
  signals.join();
  spawner.reset();
  runtime->Stop();
  log.Info("Shutdown: done");
  return 0;
}

// Takes `-ipcfd <N>` (crossproc's spawn convention: two arguments) out of the command line.
// Returns N, -1 without it, or nullopt with `error` if N is not an open descriptor.
std::optional<int> TakeIpcFd(int argc, char** argv, std::vector<char*>& rest, std::string& error) {
  int fd = -1;
  rest.assign(argv, argv + 1);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-ipcfd") != 0 && std::strcmp(argv[i], "--ipcfd") != 0) {
      rest.push_back(argv[i]);
      continue;
    }
    if (i + 1 >= argc) {
      error = "-ipcfd needs a descriptor number: -ipcfd <N>";
      return std::nullopt;
    }
    const char* value = argv[++i];
    char* end = nullptr;
    errno = 0;
    long number = std::strtol(value, &end, 10);
    if (end == value || *end != '\0' || errno != 0 || number < 0 || number > 1 << 20) {
      error = std::string("-ipcfd needs a descriptor number, not '") + value + "'";
      return std::nullopt;
    }
    if (::fcntl(static_cast<int>(number), F_GETFD) < 0) {
      error = "-ipcfd " + std::string(value) + " is not an open descriptor";
      return std::nullopt;
    }
    fd = static_cast<int>(number);
  }
  return fd;
}

}  // namespace

int NodeMain(int argc, char** argv, const NodeOptions& options) {
  // Before any thread starts, so that every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::string error;
  std::vector<char*> rest;
  std::optional<int> ipcfd = TakeIpcFd(argc, argv, rest, error);
  if (!ipcfd) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  if (*ipcfd >= 0 && !options.multiprocess) {
    std::cerr << "Error: -ipcfd needs minicoin-node: " << options.executable_name
              << " runs everything in one process and cannot be started by another one\n";
    return 1;
  }
  if (*ipcfd >= 0) ::fcntl(*ipcfd, F_SETFD, FD_CLOEXEC);  // not inherited by wallet processes

  ArgsManager args;
  AddNodeOptions(args, options);
  if (!args.ParseParameters(static_cast<int>(rest.size()), rest.data(), error)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  if (args.IsArgSet("-help") || args.IsArgSet("-?") || args.IsArgSet("-h")) {
    std::cout << kVersion << "\n\nUsage: " << options.executable_name << " [options]\n";
    if (options.multiprocess) {
      std::cout << "       " << options.executable_name
                << " -ipcfd <N> [options]   started by a front end (minicoin-gui): also serves it on descriptor N"
                   " and shuts down when it closes that connection\n";
    }
    std::cout << "\n" << args.GetHelpMessage();
    return 0;
  }
  if (args.IsArgSet("-version")) {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (!args.GetPositional().empty()) {
    std::cerr << "Error: Command line contains unexpected token '" << args.GetPositional()[0]
              << "', see " << options.executable_name << " -h for a list of options.\n";
    return 1;
  }
  try {
    if (!args.InitDataDirAndConfig(error)) {
      std::cerr << "Error: " << error << "\n";
      return 1;
    }
    Logger log;
    if (!ConfigureLogger(log, args, error)) {
      std::cerr << "Error: " << error << "\n";
      return 1;
    }
    try {
      return RunNode(args, log, options, *ipcfd);
    } catch (const std::exception& e) {
      log.Error("%s", e.what());
      std::cerr << "Error: " << e.what() << "\n";
      return 1;
    }
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace minicoin
