// WalletProcesses.
#include "node/wallet_processes.h"

#include "common/args.h"
#include "common/logging.h"
#include "ipc/connection_log.h"
#include "ipc/wallet_error.h"
#include "node/chain_interface.h"
#include "node/node.h"

#include <crossproc/errors.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>

namespace minicoin {

struct WalletProcesses::Spawned {
  std::string name;
  crossproc::Spawned<ipc::Init> process;
  std::unique_ptr<ipc::WalletLoader> loader;
  std::shared_ptr<ipc::Wallet> wallet;
  std::thread monitor;
  std::atomic<bool> closing{false};  // an unload or shutdown closes it on purpose
  std::atomic<bool> dead{false};     // the connection closed

  ~Spawned() {
    closing = true;
    wallet.reset();
    loader.reset();
    process.init.reset();
    process.connection.reset();  // closes the socket: the child exits
    if (monitor.joinable()) monitor.join();
    process.process.reset();     // reaps it
  }
};

struct WalletProcesses::Attached {
  uint64_t id = 0;
  std::shared_ptr<ipc::WalletLoader> loader;
};

struct WalletProcesses::AttachedSet {
  explicit AttachedSet(Logger& logger) : log(logger) {}
  Logger& log;
  std::mutex mutex;
  std::map<uint64_t, std::shared_ptr<Attached>> entries;  // guarded by mutex
  uint64_t next_id = 1;                                   // guarded by mutex
  bool closed = false;                                    // guarded by mutex

  void Remove(uint64_t id, const char* why) {
    std::shared_ptr<Attached> attached;
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = entries.find(id);
      if (it == entries.end()) return;
      attached = std::move(it->second);
      entries.erase(it);
    }
    log.Info("wallet process #%llu %s", static_cast<unsigned long long>(id), why);
    // The loader proxy is released here: a Release message, nothing waits.
  }
};

// Detaches an attached wallet process when destroyed or disconnected. Never blocks.
class WalletProcesses::AttachHandler final : public ipc::Handler {
 public:
  AttachHandler(std::shared_ptr<AttachedSet> set, uint64_t id) : m_set(std::move(set)), m_id(id) {}
  ~AttachHandler() override { disconnect(); }
  void disconnect() override {
    if (!m_done.exchange(true)) m_set->Remove(m_id, "detached");
  }

 private:
  std::shared_ptr<AttachedSet> m_set;
  uint64_t m_id;
  std::atomic<bool> m_done{false};
};

void AddWalletProcessOptions(ArgsManager& args) {
  args.AddArg("-walletrpcport=<port>", "Each wallet process serves its wallet's RPC methods itself on <port> (0: any "
              "free port; the port is written to <datadir>/wallets/<name>/.rpcport and logged, the cookie is "
              "<datadir>/wallets/<name>/.cookie). A fixed port serves one wallet only. minicoin-node only",
              kArgNone, "Wallet options");
  args.AddArg("-walletrpcbind=<addr>[:port]", "Address the wallet processes' RPC servers listen on (default: "
              "127.0.0.1; implies -walletrpcport=0 if that is not given). Can be specified multiple times. "
              "minicoin-node only", kArgAllowList, "Wallet options");
  args.AddArg("-walletsandbox", "Run each wallet process sandboxed (minicoin-wallet -sandbox: files only in its "
              "wallet folder, only the system calls it needs). minicoin-node only", kArgNone, "Wallet options");
  args.AddHiddenArg("-testwalletarg", kArgAllowList);  // =<argument>: passed on to every wallet process
}

namespace {

// The arguments every wallet process gets from the node's options. Throws std::runtime_error.
std::vector<std::string> ProcessArgs(const ArgsManager& args, bool& wallet_rpc) {
  std::vector<std::string> result;
  wallet_rpc = args.IsArgSet("-walletrpcport") || !args.GetArgs("-walletrpcbind").empty();
  if (wallet_rpc) {
    std::string error;
    std::optional<int64_t> port = args.GetIntArgChecked("-walletrpcport", 0, error);
    if (!port || *port < 0 || *port > 65535) {
      throw std::runtime_error("Invalid port specified in -walletrpcport: '" + args.GetArg("-walletrpcport", "") +
                               "' (0 to 65535; 0: any free port)");
    }
    result.push_back("-server");
    result.push_back("-rpcport=" + std::to_string(*port));
    for (const std::string& bind : args.GetArgs("-walletrpcbind")) result.push_back("-rpcbind=" + bind);
  }
  if (args.GetBoolArg("-walletsandbox", false)) result.push_back("-sandbox");
  for (const std::string& extra : args.GetArgs("-testwalletarg")) result.push_back(extra);
  return result;
}

}  // namespace

WalletProcesses::WalletProcesses(Node& node, std::filesystem::path datadir)
    : m_node(node),
      m_log(node.log()),
      m_datadir(std::move(datadir)),
      m_process_args(ProcessArgs(node.args(), m_wallet_rpc)),
      m_chain(MakeChain(node)),
      m_attached(std::make_shared<AttachedSet>(m_log)) {}

WalletProcesses::~WalletProcesses() { Shutdown(std::chrono::seconds(5)); }

std::unique_ptr<WalletProcesses::Spawned> WalletProcesses::Spawn(const std::string& name) {
  crossproc::SpawnOptions options;
  options.connection = IpcConnectionOptions(m_log, "minicoin-node", "wallet ipc");
  const bool debug_ipc = options.connection.debug_ipc;
  // The wallet finds the config file and the chain's folder as the node did.
  std::string datadir = m_node.args().GetDataDirBase().string();
  std::string chain = m_node.chain().params().name;
  std::vector<std::string> extra = m_process_args;
  options.command_line = [datadir, chain, debug_ipc, name, extra](const std::string& executable, int fd) {
    std::vector<std::string> args{executable,           "-ipcfd",         std::to_string(fd), "-datadir=" + datadir,
                                  "-chain=" + chain, "-wallet=" + name};
    if (debug_ipc) args.push_back("-debug=ipc");
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  auto spawned = std::make_unique<Spawned>();
  spawned->name = name;
  spawned->process = crossproc::SpawnProcess<ipc::Init>(crossproc::FindExecutable("minicoin-wallet"), options);
  spawned->loader = spawned->process.init->makeWalletLoader(m_chain);
  m_log.Info("wallet %s: started minicoin-wallet process %d", name.c_str(), static_cast<int>(spawned->process.process->pid()));
  return spawned;
}

void WalletProcesses::Watch(Spawned& spawned) {
  Spawned* watched = &spawned;
  spawned.monitor = std::thread([this, watched] {
    watched->process.connection->WaitForDisconnect();
    watched->dead = true;
    if (watched->closing) return;
    m_log.Error("wallet %s: its process (%d) went away unexpectedly; its RPCs fail until it is loaded again",
                watched->name.c_str(), static_cast<int>(watched->process.process->pid()));
    std::lock_guard<std::mutex> lock(m_mutex);
    m_crashed[watched->name] = "its wallet process exited unexpectedly";
  });
}

void WalletProcesses::Reserve(const std::string& name, int already_code) {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (m_shut_down) throw WalletError(WalletError::kWalletError, "The node is shutting down");
  auto it = m_spawned.find(name);
  if ((it != m_spawned.end() && !it->second->dead) || m_pending.count(name) != 0) {
    throw WalletError(already_code, "Wallet \"" + name + "\" is already loaded.");
  }
  m_pending.insert(name);
}

std::shared_ptr<ipc::Wallet> WalletProcesses::Open(const std::string& name, const OpenFn& open) {
  std::unique_ptr<Spawned> spawned;
  try {
    spawned = Spawn(name);
    spawned->wallet = open(*spawned->loader);
  } catch (...) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pending.erase(name);
    throw;
  }
  std::shared_ptr<ipc::Wallet> wallet = spawned->wallet;
  if (m_wallet_rpc) {
    // Written by the wallet process before it answered.
    const std::filesystem::path folder = m_datadir / "wallets" / name;
    unsigned port = 0;
    std::ifstream(folder / ".rpcport") >> port;
    m_log.Info("wallet %s: its process serves the wallet RPC on port %u (cookie %s)", name.c_str(), port,
               (folder / ".cookie").string().c_str());
  }
  Watch(*spawned);
  std::unique_ptr<Spawned> replaced;  // a dead process of the same name, ended outside the lock
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_pending.erase(name);
    m_crashed.erase(name);
    replaced = std::move(m_spawned[name]);
    m_spawned[name] = std::move(spawned);
  }
  return wallet;
}

std::shared_ptr<ipc::Wallet> WalletProcesses::Create(const std::string& name, const std::string& passphrase) {
  Reserve(name, WalletError::kAlreadyExists);
  return Open(name, [&](ipc::WalletLoader& loader) { return loader.createWallet(name, passphrase); });
}

std::shared_ptr<ipc::Wallet> WalletProcesses::Load(const std::string& name) {
  Reserve(name, WalletError::kAlreadyLoaded);
  for (const auto& attached : AttachedLoaders()) {
    try {
      for (const std::string& loaded : attached->loader->listWallets()) {
        if (loaded == name) {
          std::lock_guard<std::mutex> lock(m_mutex);
          m_pending.erase(name);
          throw WalletError(WalletError::kAlreadyLoaded, "Wallet \"" + name + "\" is already loaded (by an attached wallet process).");
        }
      }
    } catch (const crossproc::Disconnected&) {
      DropAttached(attached, "disconnected");
    }
  }
  return Open(name, [&](ipc::WalletLoader& loader) { return loader.loadWallet(name); });
}

void WalletProcesses::Unload(const std::string& name) {
  std::unique_ptr<Spawned> spawned;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_spawned.find(name);
    if (it != m_spawned.end()) {
      spawned = std::move(it->second);
      m_spawned.erase(it);
    }
    m_crashed.erase(name);
  }
  if (spawned) {
    spawned->closing = true;
    if (!spawned->dead) {
      try {
        spawned->loader->unloadWallet(name);
      } catch (const std::exception& e) {
        m_log.Warning("wallet %s: unloading it failed: %s", name.c_str(), e.what());
      }
    }
    m_log.Info("wallet %s: unloaded, its process ends", name.c_str());
    return;  // ~Spawned ends the process
  }
  for (const auto& attached : AttachedLoaders()) {
    try {
      for (const std::string& loaded : attached->loader->listWallets()) {
        if (loaded == name) {
          attached->loader->unloadWallet(name);
          return;
        }
      }
    } catch (const crossproc::Disconnected&) {
      DropAttached(attached, "disconnected");
    }
  }
  throw WalletError(WalletError::kNotFound, "Requested wallet does not exist or is not loaded");
}

std::shared_ptr<ipc::Wallet> WalletProcesses::Get(const std::string& name) {
  std::unique_ptr<Spawned> dead;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_spawned.find(name);
    if (it != m_spawned.end()) {
      if (!it->second->dead) return it->second->wallet;
      m_crashed.emplace(name, "its wallet process exited unexpectedly");
      dead = std::move(it->second);
      m_spawned.erase(it);
    }
    auto crashed = m_crashed.find(name);
    if (crashed != m_crashed.end()) {
      throw WalletError(WalletError::kNotFound, "Wallet \"" + name + "\" is not available: " + crashed->second +
                                                    ". Load it again with loadwallet.");
    }
  }
  for (const auto& attached : AttachedLoaders()) {
    try {
      if (std::unique_ptr<ipc::Wallet> wallet = attached->loader->getWallet(name)) return wallet;
    } catch (const crossproc::Disconnected&) {
      DropAttached(attached, "disconnected");
    }
  }
  return nullptr;
}

std::vector<std::string> WalletProcesses::List() {
  std::vector<std::string> names;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    for (const auto& [name, spawned] : m_spawned) {
      if (!spawned->dead) names.push_back(name);
    }
  }
  for (const auto& attached : AttachedLoaders()) {
    try {
      for (std::string& name : attached->loader->listWallets()) names.push_back(std::move(name));
    } catch (const crossproc::Disconnected&) {
      DropAttached(attached, "disconnected");
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> WalletProcesses::ListDir() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(m_datadir / "wallets", error)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "wallet.sqlite")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::unique_ptr<ipc::Handler> WalletProcesses::Attach(std::shared_ptr<ipc::WalletLoader> loader) {
  if (!loader) throw std::invalid_argument("registerWalletLoader: no loader");
  auto attached = std::make_shared<Attached>();
  attached->loader = std::move(loader);
  std::vector<std::string> names;
  try {
    names = attached->loader->listWallets();
  } catch (const std::exception& e) {
    m_log.Warning("attached wallet process: listing its wallets failed: %s", e.what());
  }
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(m_attached->mutex);
    if (m_attached->closed) throw std::runtime_error("the node is shutting down");
    id = m_attached->next_id++;
    attached->id = id;
    m_attached->entries[id] = attached;
  }
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  m_log.Info("wallet process attached (#%llu) with wallets: %s", static_cast<unsigned long long>(id),
             joined.empty() ? "(none)" : joined.c_str());
  return std::make_unique<AttachHandler>(m_attached, id);
}

std::vector<std::shared_ptr<WalletProcesses::Attached>> WalletProcesses::AttachedLoaders() {
  std::lock_guard<std::mutex> lock(m_attached->mutex);
  std::vector<std::shared_ptr<Attached>> loaders;
  for (const auto& [id, attached] : m_attached->entries) loaders.push_back(attached);
  return loaders;
}

void WalletProcesses::DropAttached(const std::shared_ptr<Attached>& attached, const std::string& why) {
  m_attached->Remove(attached->id, ("dropped: " + why).c_str());
}

int WalletProcesses::ProcessId(const std::string& name) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_spawned.find(name);
  if (it == m_spawned.end() || it->second->dead) return 0;
  return static_cast<int>(it->second->process.process->pid());
}

void WalletProcesses::Shutdown(std::chrono::milliseconds timeout) {
  std::map<std::string, std::unique_ptr<Spawned>> spawned;
  std::map<uint64_t, std::shared_ptr<Attached>> attached;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_shut_down) return;
    m_shut_down = true;
    spawned.swap(m_spawned);
  }
  {
    std::lock_guard<std::mutex> lock(m_attached->mutex);
    m_attached->closed = true;
    attached.swap(m_attached->entries);
  }
  // Every live wallet process is asked to unload at once, each from a thread of its own making
  // a blocking call (a wallet calls back into the node while it unloads, and such callbacks run
  // on the calling thread while it waits). Nobody waits past the timeout: then the connections
  // are closed, which ends the calls still waiting.
  struct Unload {
    std::string name;
    std::string error;
    bool done = false;
  };
  std::vector<Unload> unloads;
  std::vector<ipc::WalletLoader*> loaders;
  for (auto& [name, wallet] : spawned) {
    wallet->closing = true;
    if (wallet->dead) continue;
    unloads.push_back(Unload{name, "", false});
    loaders.push_back(wallet->loader.get());
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < unloads.size(); ++i) {
    threads.emplace_back([&, i] {
      std::string error;
      try {
        loaders[i]->shutdown();
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::lock_guard<std::mutex> lock(mutex);
      unloads[i].error = error;
      unloads[i].done = true;
      cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait_until(lock, start + timeout, [&] {
      return std::all_of(unloads.begin(), unloads.end(), [](const Unload& unload) { return unload.done; });
    });
    for (const Unload& unload : unloads) {
      if (!unload.done) {
        m_log.Warning("wallet %s: did not unload within %lld ms; cutting it off", unload.name.c_str(),
                      static_cast<long long>(timeout.count()));
      } else if (!unload.error.empty()) {
        m_log.Warning("wallet %s: did not unload cleanly: %s", unload.name.c_str(), unload.error.c_str());
      }
    }
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  if (!unloads.empty()) {
    m_log.Info("unloaded %zu wallet processes in %lld ms", unloads.size(), static_cast<long long>(elapsed.count()));
  }
  // Closing the connections fails the calls still waiting, so every thread ends.
  for (auto& [name, wallet] : spawned) {
    if (wallet->process.connection) wallet->process.connection->Close();
  }
  for (std::thread& thread : threads) thread.join();
  spawned.clear();  // closes the connections and reaps the processes
  attached.clear();
}

}  // namespace minicoin
