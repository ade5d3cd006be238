// minicoin-wallet: the wallet process. Spawned by minicoin-node (-ipcfd <N>), it offers a
// WalletLoader working on the node's Chain; started by hand (-ipcconnect), it attaches to a
// running node, loads its -wallet wallets and hands them to the node, which serves their RPCs.
// With -server it also serves those RPCs itself; with -sandbox it confines itself first.
#include "common/args.h"
#include "common/logging.h"
#include "common/sandbox.h"
#include "ipc/connection_log.h"
#include "ipc/echo.h"
#include "ipc/partial_init.h"
#include "ipc/wallet_error.h"
#include "rpc/server.h"
#include "rpc/table.h"
#include "wallet/rpc_wallet.h"
#include "wallet/wallet_loader.h"

#include <crossproc/errors.h>
#include <crossproc/listener.h>
#include <crossproc/process.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {
namespace {

constexpr const char* kVersion = "minicoin 0.1.0";

// The wallets behind the process's own RPC server: its loader, once there is one (a spawned
// process makes it when the node hands over its chain). A spawned process's wallets are the
// node's to create, load and unload: those methods are refused here. Thread-safe.
class ProcessWalletDirectory final : public WalletDirectory {
 public:
  explicit ProcessWalletDirectory(bool spawned) : m_spawned(spawned) {}

  void SetLoader(std::shared_ptr<ipc::WalletLoader> loader) {
    std::lock_guard lock(m_mutex);
    m_local = loader ? std::make_shared<LocalWalletDirectory>(std::move(loader)) : nullptr;
  }

  std::shared_ptr<ipc::Wallet> Create(const std::string& name, const std::string& passphrase) override {
    return Managing("createwallet")->Create(name, passphrase);
  }
  std::shared_ptr<ipc::Wallet> Load(const std::string& name) override { return Managing("loadwallet")->Load(name); }
  void Unload(const std::string& name) override { Managing("unloadwallet")->Unload(name); }
  std::shared_ptr<ipc::Wallet> Get(const std::string& name) override {
    std::shared_ptr<LocalWalletDirectory> local = Local();
    return local ? local->Get(name) : nullptr;
  }
  std::vector<std::string> List() override {
    std::shared_ptr<LocalWalletDirectory> local = Local();
    return local ? local->List() : std::vector<std::string>{};
  }
  std::vector<std::string> ListDir() override {
    std::shared_ptr<LocalWalletDirectory> local = Local();
    return local ? local->ListDir() : std::vector<std::string>{};
  }

 private:
  std::shared_ptr<LocalWalletDirectory> Local() {
    std::lock_guard lock(m_mutex);
    return m_local;
  }
  std::shared_ptr<LocalWalletDirectory> Managing(const char* method) {
    if (m_spawned) {
      throw WalletError(WalletError::kWalletError, std::string(method) +
                                                       ": this wallet process is run by minicoin-node; create, load "
                                                       "and unload its wallets through the node's RPC");
    }
    std::shared_ptr<LocalWalletDirectory> local = Local();
    if (!local) throw WalletError(WalletError::kWalletError, "the wallet process is not connected to its node yet");
    return local;
  }

  const bool m_spawned;
  std::mutex m_mutex;
  std::shared_ptr<LocalWalletDirectory> m_local;  // guarded by m_mutex; null until SetLoader
};

// What -server, -rpcbind, -rpcport, -rpcuser, -rpcpassword, -rpccookiefile and -rpcthreads say,
// taken from the command line only: the node's config file, which this process reads too, holds
// the node's own RPC settings. Value type.
struct WalletRpcArgs {
  bool server = false;
  std::vector<std::string> bind;
  int64_t port = 0;  // 0: any free port
  std::string user;
  std::string password;
  std::string cookie_file;  // empty: the default (see WalletFolder)
  int threads = 4;
};

// The process's own JSON-RPC server: the wallet RPC methods (and help) over its wallets, a
// cookie file (mode 0600) and a port file holding the bound port, both removed at Stop. Thread-
// safe as HttpRpcServer is; `wallets` must outlive it.
class WalletRpcService {
 public:
  WalletRpcService(HttpRpcServerOptions options, std::filesystem::path port_file, WalletDirectory& wallets)
      : m_port_file(std::move(port_file)) {
    RegisterWalletRpc(m_table, wallets);
    m_table.Add(MakeHelpMethod(m_table));
    m_server = std::make_unique<HttpRpcServer>(std::move(options), m_table);
  }
  ~WalletRpcService() { Stop(); }
  WalletRpcService(const WalletRpcService&) = delete;
  WalletRpcService& operator=(const WalletRpcService&) = delete;

  // Binds, writes the cookie and the port file, serves. Throws std::runtime_error.
  void Start() {
    m_server->Start();
    std::ofstream file(m_port_file, std::ios::trunc);
    file << m_server->port() << "\n";
    file.close();
    if (!file) {
      m_server->Stop();
      throw std::runtime_error("cannot write " + m_port_file.string());
    }
  }
  void Stop() {
    m_server->Stop();
    std::error_code ec;
    std::filesystem::remove(m_port_file, ec);
  }
  uint16_t port() const { return m_server->port(); }

 private:
  RpcTable m_table;
  std::unique_ptr<HttpRpcServer> m_server;
  std::filesystem::path m_port_file;
};

// Forwards to the process's loader; createWallet and loadWallet fail with `startup_error` when
// the RPC server could not start (the node then reports why). Thread-safe.
class SpawnedLoader final : public ipc::WalletLoader {
 public:
  SpawnedLoader(std::shared_ptr<ipc::WalletLoader> loader, std::string startup_error)
      : m_loader(std::move(loader)), m_startup_error(std::move(startup_error)) {}

  std::unique_ptr<ipc::Wallet> createWallet(const std::string& name, const std::string& passphrase) override {
    CheckStarted();
    return m_loader->createWallet(name, passphrase);
  }
  std::unique_ptr<ipc::Wallet> loadWallet(const std::string& name) override {
    CheckStarted();
    return m_loader->loadWallet(name);
  }
  void unloadWallet(const std::string& name) override { m_loader->unloadWallet(name); }
  std::unique_ptr<ipc::Wallet> getWallet(const std::string& name) override { return m_loader->getWallet(name); }
  std::vector<std::string> listWallets() override { return m_loader->listWallets(); }
  std::vector<std::string> listWalletDir() override { return m_loader->listWalletDir(); }
  void shutdown() override { m_loader->shutdown(); }

 private:
  void CheckStarted() const {
    if (!m_startup_error.empty()) throw WalletError(WalletError::kWalletError, m_startup_error);
  }

  std::shared_ptr<ipc::WalletLoader> m_loader;
  const std::string m_startup_error;
};

// What a spawned wallet process offers its node. Thread-safe. `log` and `wallets` must outlive it.
class WalletInit final : public ipc::PartialInit {
 public:
  WalletInit(std::filesystem::path datadir, WalletOptions options, Logger& log, ProcessWalletDirectory& wallets,
             std::string startup_error)
      : PartialInit("minicoin-wallet"),
        m_datadir(std::move(datadir)),
        m_options(std::move(options)),
        m_log(log),
        m_wallets(wallets),
        m_startup_error(std::move(startup_error)) {}

  std::unique_ptr<ipc::Echo> makeEcho() override { return ipc::MakeEcho(); }
  std::unique_ptr<ipc::WalletLoader> makeWalletLoader(const std::shared_ptr<ipc::Chain>& chain) override {
    if (!chain) throw std::runtime_error("makeWalletLoader needs the node's chain");
    m_log.Info("wallet loader over %s/wallets for the node", m_datadir.string().c_str());
    // Shared by the node (through the SpawnedLoader) and the process's own RPC server.
    std::shared_ptr<ipc::WalletLoader> loader(MakeWalletLoader(m_datadir, chain, m_options));
    m_wallets.SetLoader(loader);
    return std::make_unique<SpawnedLoader>(loader, m_startup_error);
  }

 private:
  std::filesystem::path m_datadir;
  const WalletOptions m_options;
  Logger& m_log;
  ProcessWalletDirectory& m_wallets;
  const std::string m_startup_error;
};

void AddWalletProcessOptions(ArgsManager& args) {
  args.AddArg("-help", "Print this help message and exit", kArgNone, "Options");
  args.AddArg("-version", "Print version and exit", kArgNone, "Options");
  args.AddArg("-ipcconnect=<address>",
              "Attach to a running minicoin-node listening with -ipcbind: unix (<datadir>/node.sock) or "
              "unix:<path>",
              kArgNone, "Options");
  args.AddArg("-wallet=<name>", "Load this wallet from <datadir>/wallets/<name> (with -ipcconnect; may be given "
              "several times). A process spawned by minicoin-node is told the one wallet it runs this way",
              kArgAllowList, "Options");
  args.AddArg("-createwallet", "Create the -wallet wallets that do not exist yet (unencrypted)", kArgNone, "Options");
  args.AddArg("-sandbox", "Confine the process before it connects: files only in its wallet folders, only the "
              "system calls a wallet process needs (Landlock and seccomp; see docs/wallet.md)",
              kArgNone, "Options");
  args.AddArg("-server", "Serve the wallet RPC methods of this process's wallets over JSON-RPC (command line only)",
              kArgNone, "RPC server options");
  args.AddArg("-rpcbind=<addr>[:port]", "Listen for JSON-RPC connections on this address (default: 127.0.0.1). "
              "Can be specified multiple times", kArgAllowList, "RPC server options");
  args.AddArg("-rpcport=<port>", "Listen for JSON-RPC connections on <port> (default: 0, any free port; the port "
              "is written to .rpcport beside the cookie)", kArgNone, "RPC server options");
  args.AddArg("-rpcuser=<user>", "Username for JSON-RPC connections", kArgNone, "RPC server options");
  args.AddArg("-rpcpassword=<pw>", "Password for JSON-RPC connections", kArgSensitive, "RPC server options");
  args.AddArg("-rpccookiefile=<loc>", "Location of the auth cookie. Relative paths are prefixed by the wallet "
              "folder (default: <datadir>/wallets/<first -wallet>/.cookie, <datadir>/wallets/.cookie without "
              "-wallet)", kArgNone, "RPC server options");
  args.AddArg("-rpcthreads=<n>", "Set the number of threads to service RPC calls (default: 4)", kArgNone,
              "RPC server options");
  AddLoggingArgs(args);
  args.AddHiddenArg("-testnotificationdelay");  // =<ms>: sleep in each block notification before handling it
  args.AddHiddenArg("-testsandboxprobe", kArgAllowList);  // =<path>: log whether it opens once sandboxed
}

// The options of this process's wallets, from the command line; nullopt with `error` when bad.
std::optional<WalletOptions> ProcessWalletOptions(const ArgsManager& args, Logger& log, std::string& error) {
  WalletOptions options;
  options.log = &log;
  std::optional<int64_t> delay = args.GetIntArgChecked("-testnotificationdelay", 0, error);
  if (!delay) return std::nullopt;
  if (*delay < 0 || *delay > 600'000) {
    error = "Invalid value for -testnotificationdelay: " + std::to_string(*delay) + " (0 to 600000 ms)";
    return std::nullopt;
  }
  options.notification_delay_ms = static_cast<uint32_t>(*delay);
  return options;
}

// The RPC options as given on the command line (call before reading the config file).
std::optional<WalletRpcArgs> CommandLineRpcArgs(const ArgsManager& args, std::string& error) {
  WalletRpcArgs rpc;
  rpc.server = args.GetBoolArg("-server", false);
  rpc.bind = args.GetArgs("-rpcbind");
  if (rpc.bind.empty()) rpc.bind.push_back("127.0.0.1");
  std::optional<int64_t> port = args.GetIntArgChecked("-rpcport", 0, error);
  if (!port) return std::nullopt;
  if (*port < 0 || *port > 65535) {
    error = "Invalid port specified in -rpcport: '" + args.GetArg("-rpcport", "") + "' (0 to 65535; 0: any free port)";
    return std::nullopt;
  }
  rpc.port = *port;
  rpc.user = args.GetArg("-rpcuser", "");
  rpc.password = args.GetArg("-rpcpassword", "");
  rpc.cookie_file = args.GetArg("-rpccookiefile", "");
  rpc.threads = static_cast<int>(std::clamp<int64_t>(args.GetIntArg("-rpcthreads", 4), 1, 64));
  if (!rpc.server) {
    for (const char* name : {"-rpcbind", "-rpcport", "-rpcuser", "-rpcpassword", "-rpccookiefile", "-rpcthreads"}) {
      if (args.IsArgSet(name)) {
        error = std::string(name) + " needs -server (the wallet process serves RPC only when asked)";
        return std::nullopt;
      }
    }
  }
  return rpc;
}

// The folder of the process's RPC files (cookie, .rpcport): that of its first wallet, or the
// wallets folder when it has none (or the name is not a valid one).
std::filesystem::path WalletFolder(const std::filesystem::path& datadir, const std::vector<std::string>& wallets) {
  if (!wallets.empty() && IsValidWalletName(wallets.front())) return datadir / "wallets" / wallets.front();
  return datadir / "wallets";
}

HttpRpcServerOptions ServerOptions(const WalletRpcArgs& rpc, const std::filesystem::path& folder, Logger& log) {
  HttpRpcServerOptions options;
  options.bind = rpc.bind;
  options.port = static_cast<uint16_t>(rpc.port);
  options.cookie_file = rpc.cookie_file.empty() ? folder / ".cookie" : folder / rpc.cookie_file;
  options.user = rpc.user;
  options.password = rpc.password;
  options.threads = rpc.threads;
  options.log = &log;
  return options;
}

// -sandbox: confines the process to its wallet folders (and the cookie's, if elsewhere); before
// any thread starts. Returns false with `error` if the kernel refuses.
bool Sandbox(Logger& log, const std::filesystem::path& datadir,
             const std::vector<std::string>& wallets, const HttpRpcServerOptions* server, bool attached,
             std::string& error) {
  SandboxOptions sandbox;
  std::error_code ec;
  std::vector<std::filesystem::path> folders;
  for (const std::string& name : wallets) {
    if (IsValidWalletName(name)) folders.push_back(datadir / "wallets" / name);
  }
  if (folders.empty()) folders.push_back(datadir / "wallets");
  if (server != nullptr) {
    std::filesystem::path cookie_folder = server->cookie_file.parent_path();
    if (std::find(folders.begin(), folders.end(), cookie_folder) == folders.end()) folders.push_back(cookie_folder);
  }
  for (const auto& folder : folders) {
    std::filesystem::create_directories(folder, ec);
    if (ec) {
      error = "cannot create " + folder.string() + ": " + ec.message();
      return false;
    }
    sandbox.read_write.push_back(folder);
  }
  // SQLite's temporary files go where the sandbox lets them.
  ::setenv("SQLITE_TMPDIR", folders.front().c_str(), 1);
  // Attached: the connection to the node is made after the sandbox; -server: the RPC sockets.
  sandbox.allow_network = attached || server != nullptr;
  try {
    SandboxReport report = ApplySandbox(sandbox);
    for (const std::string& warning : report.warnings) log.Warning("%s", warning.c_str());
    std::string where;
    for (const auto& folder : sandbox.read_write) where += (where.empty() ? "" : ", ") + folder.string();
    log.Info("sandbox: files only under %s (landlock ABI %d), seccomp %s, network %s", where.c_str(),
             report.landlock_abi, report.seccomp ? "on" : "off", sandbox.allow_network ? "allowed" : "refused");
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return true;
}

// -testsandboxprobe=<path>: tries to open each path (after the sandbox, if any) and logs the outcome.
void RunProbes(const ArgsManager& args, Logger& log) {
  for (const std::string& path : args.GetArgs("-testsandboxprobe")) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::close(fd);
      log.Info("sandbox probe %s: opened", path.c_str());
    } else {
      int code = errno;
      log.Info("sandbox probe %s: refused: %s (errno %d)", path.c_str(), std::strerror(code), code);
    }
  }
}

// Attached mode: returns the exit code.
int RunAttached(const ArgsManager& args, Logger& log, const std::filesystem::path& datadir,
                const WalletOptions& options, const WalletRpcArgs& rpc) {
  const std::vector<std::string> names = args.GetArgs("-wallet");
  const std::filesystem::path folder = WalletFolder(datadir, names);
  const HttpRpcServerOptions server_options = ServerOptions(rpc, folder, log);
  if (args.GetBoolArg("-sandbox", false)) {
    std::string error;
    if (!Sandbox(log, datadir, names, rpc.server ? &server_options : nullptr, /*attached=*/true, error)) {
      log.Error("-sandbox: %s", error.c_str());
      std::cerr << "Error: -sandbox: " << error << "\n";
      return 1;
    }
  }
  RunProbes(args, log);
  const std::string path =
      crossproc::ResolveUnixAddress(args.GetArg("-ipcconnect", "unix"), (datadir / "node.sock").string());
  std::unique_ptr<crossproc::Connection> connection;
  try {
    connection = crossproc::ConnectUnix(path, IpcConnectionOptions(log, "minicoin-wallet"));
  } catch (const std::exception& e) {
    std::cerr << "Error: cannot reach minicoin-node at " << path << ": " << e.what()
              << " (is it running with -ipcbind?)\n";
    return 1;
  }
  std::unique_ptr<ipc::Init> init = connection->Bootstrap<ipc::Init>();
  // Shared by the loader and its wallets: the node's one Chain.
  std::shared_ptr<ipc::Chain> chain(init->makeChain());
  // Shared with the node, which calls it through the connection, and with the RPC server.
  std::shared_ptr<ipc::WalletLoader> loader(MakeWalletLoader(datadir, chain, options));
  for (const std::string& name : names) {
    try {
      loader->loadWallet(name);
    } catch (const WalletError& e) {
      if (e.code() != WalletError::kNotFound || !args.GetBoolArg("-createwallet", false)) {
        std::cerr << "Error: wallet " << name << ": " << e.message() << "\n";
        loader->shutdown();
        return 1;
      }
      loader->createWallet(name, "");
      log.Info("created wallet %s", name.c_str());
    }
    log.Info("loaded wallet %s", name.c_str());
  }
  ProcessWalletDirectory wallets(/*spawned=*/false);
  wallets.SetLoader(loader);
  std::unique_ptr<WalletRpcService> service;
  if (rpc.server) {
    service = std::make_unique<WalletRpcService>(server_options, folder / ".rpcport", wallets);
    try {
      service->Start();
    } catch (const std::exception& e) {
      log.Error("cannot start the wallet RPC server: %s", e.what());
      std::cerr << "Error: cannot start the wallet RPC server: " << e.what() << "\n";
      service.reset();
      loader->shutdown();
      return 1;
    }
    log.Info("wallet RPC server listening on port %u (cookie %s)", static_cast<unsigned>(service->port()),
             server_options.cookie_file.string().c_str());
  }
  std::unique_ptr<ipc::Handler> registration = init->registerWalletLoader(loader);
  log.Info("attached to %s with %zu wallets", path.c_str(), loader->listWallets().size());

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  timespec wait{0, 200'000'000};
  bool node_gone = false;
  while (true) {
    int signal = sigtimedwait(&set, nullptr, &wait);
    if (signal == SIGINT || signal == SIGTERM) break;
    if (!connection->connected()) {
      node_gone = true;
      break;
    }
  }
  // The RPC server first (its requests use the wallets), then detach: the node stops routing to
  // these wallets, then they are flushed and closed.
  if (service) service->Stop();
  try {
    registration.reset();
  } catch (const std::exception&) {
  }
  loader->shutdown();
  if (node_gone) {
    log.Error("the node at %s went away; wallets closed", path.c_str());
    std::cerr << "Error: the node at " << path << " went away (connection closed); wallets closed\n";
    return 1;
  }
  log.Info("detached from %s", path.c_str());
  return 0;
}

// Spawned mode: serves the node on the -ipcfd descriptor until it disconnects.
int RunSpawned(int argc, char** argv, const ArgsManager& args, Logger& log, const std::filesystem::path& datadir,
               const WalletOptions& options, const WalletRpcArgs& rpc) {
  const std::vector<std::string> names = args.GetArgs("-wallet");
  const std::filesystem::path folder = WalletFolder(datadir, names);
  const HttpRpcServerOptions server_options = ServerOptions(rpc, folder, log);
  std::error_code exists_error;
  // A folder made here for the RPC files or the sandbox, left empty (the wallet was not
  // created), goes at exit (when the sandbox lets it).
  const bool folder_existed = std::filesystem::exists(folder, exists_error);
  if (args.GetBoolArg("-sandbox", false)) {
    std::string error;
    if (!Sandbox(log, datadir, names, rpc.server ? &server_options : nullptr, /*attached=*/false, error)) {
      // Exits before serving: the node's spawn reports the process gone, this log says why.
      log.Error("-sandbox: %s", error.c_str());
      std::cerr << "Error: -sandbox: " << error << "\n";
      return 1;
    }
  }
  RunProbes(args, log);
  ProcessWalletDirectory wallets(/*spawned=*/true);
  std::unique_ptr<WalletRpcService> service;
  std::string startup_error;
  if (rpc.server) {
    std::error_code ec;
    std::filesystem::create_directories(server_options.cookie_file.parent_path(), ec);
    service = std::make_unique<WalletRpcService>(server_options, folder / ".rpcport", wallets);
    try {
      service->Start();
      log.Info("wallet RPC server listening on port %u (cookie %s)", static_cast<unsigned>(service->port()),
               server_options.cookie_file.string().c_str());
    } catch (const std::exception& e) {
      // Told to the node when it creates or loads the wallet, as that RPC's error.
      startup_error = std::string("cannot start the wallet RPC server: ") + e.what();
      log.Error("%s", startup_error.c_str());
      service.reset();
    }
  }
  auto init = std::make_shared<WalletInit>(datadir, options, log, wallets, startup_error);
  std::optional<int> code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<ipc::Init>(init), IpcConnectionOptions(log, "minicoin-wallet"));
  log.Info("the node disconnected; exiting");
  if (service) service->Stop();
  wallets.SetLoader(nullptr);
  init.reset();
  std::error_code ec;
  if (!folder_existed && std::filesystem::is_empty(folder, ec)) std::filesystem::remove(folder, ec);
  return code.value_or(1);
}

int Main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  // `-ipcfd <N>` is crossproc's spawn convention (two arguments); the rest are ArgsManager's.
  bool spawned = false;
  std::vector<const char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-ipcfd") == 0 && i + 1 < argc) {
      spawned = true;
      ++i;
      continue;
    }
    rest.push_back(argv[i]);
  }
  ArgsManager args;
  AddWalletProcessOptions(args);
  std::string error;
  if (!args.ParseParameters(static_cast<int>(rest.size()), rest.data(), error)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  if (args.IsArgSet("-help") || args.IsArgSet("-?") || args.IsArgSet("-h")) {
    std::cout << kVersion << "\n\nUsage:\n"
              << "  minicoin-wallet -ipcconnect=unix[:<path>] -wallet=<name> [-wallet=...] [options]\n"
              << "      attach to a running minicoin-node and hand it these wallets; runs until SIGINT/SIGTERM\n"
              << "  minicoin-wallet -ipcfd <N> [-datadir=<dir>] [-wallet=<name>] [-debug=<category>]\n"
              << "      started by minicoin-node, serving it on descriptor N\n\n"
              << "The debug log is <datadir>/wallet-debug.log unless -debuglogfile says otherwise.\n"
              << "With -server the process serves its wallets' RPC methods itself; see docs/wallet.md.\n\n"
              << args.GetHelpMessage();
    return 0;
  }
  if (args.IsArgSet("-version")) {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (!args.GetPositional().empty()) {
    std::cerr << "Error: Command line contains unexpected token '" << args.GetPositional()[0]
              << "', see minicoin-wallet -h for a list of options.\n";
    return 1;
  }
  if (!spawned && !args.IsArgSet("-ipcconnect")) {
    std::cerr << "Error: minicoin-wallet runs attached to a node: -ipcconnect=unix (or is started by minicoin-node "
                 "with -ipcfd <N>); see minicoin-wallet -h\n";
    return 1;
  }
  // Before the config file, whose RPC settings are the node's.
  std::optional<WalletRpcArgs> rpc = CommandLineRpcArgs(args, error);
  if (!rpc) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  const bool sandbox = args.GetBoolArg("-sandbox", false);
  if (!spawned) {
    // Taken by sigtimedwait in RunAttached; blocked before any thread starts so all inherit it.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }
  try {
    // The node's config file has the node's options too: unknown ones are skipped.
    if (!args.InitDataDirAndConfig(error, /*create_default=*/true, /*ignore_unknown_config=*/true)) {
      std::cerr << "Error: " << error << "\n";
      return 1;
    }
    // The config file does not switch the sandbox off (nor on).
    args.ForceSetArg("-sandbox", sandbox ? "1" : "0");
    args.SoftSetArg("-debuglogfile", "wallet-debug.log");
    Logger log;
    if (!ConfigureLogger(log, args, error)) {
      std::cerr << "Error: " << error << "\n";
      return 1;
    }
    const std::filesystem::path datadir = args.GetDataDir();
    log.Info("%s (minicoin-wallet) starting, data directory %s", kVersion, datadir.string().c_str());
    std::optional<WalletOptions> options = ProcessWalletOptions(args, log, error);
    if (!options) {
      log.Error("%s", error.c_str());
      std::cerr << "Error: " << error << "\n";
      return 1;
    }
    try {
      if (spawned) return RunSpawned(argc, argv, args, log, datadir, *options, *rpc);
      return RunAttached(args, log, datadir, *options, *rpc);
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

}  // namespace
}  // namespace minicoin

int main(int argc, char** argv) { return minicoin::Main(argc, argv); }
