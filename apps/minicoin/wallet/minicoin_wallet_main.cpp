// minicoin-wallet: the wallet process. Spawned by minicoin-node (-ipcfd <N>), it offers a
// WalletLoader working on the node's Chain; started by hand (-ipcconnect), it attaches to a
// running node, loads its -wallet wallets and hands them to the node, which serves their RPCs.
#include "common/args.h"
#include "common/logging.h"
#include "ipc/echo.h"
#include "ipc/partial_init.h"
#include "ipc/wallet_error.h"
#include "wallet/wallet_loader.h"

#include <crossproc/errors.h>
#include <crossproc/listener.h>
#include <crossproc/process.h>

#include <signal.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {
namespace {

constexpr const char* kVersion = "minicoin 0.1.0";

crossproc::ConnectionOptions IpcOptions(Logger& log) {
  crossproc::ConnectionOptions options;
  options.name = "minicoin-wallet";
  options.debug_ipc = log.WillLog(LogCategory::kIpc);
  options.log = [&log](crossproc::LogLevel level, const std::string& line) {
    if (level == crossproc::LogLevel::kError || level == crossproc::LogLevel::kWarning) {
      log.Warning("ipc: %s", line.c_str());
    } else {
      log.Debug(LogCategory::kIpc, "%s", line.c_str());
    }
  };
  return options;
}

// What a spawned wallet process offers its node. Thread-safe. `log` must outlive it.
class WalletInit final : public ipc::PartialInit {
 public:
  WalletInit(std::filesystem::path datadir, WalletOptions options, Logger& log)
      : PartialInit("minicoin-wallet"), m_datadir(std::move(datadir)), m_options(std::move(options)), m_log(log) {}

  std::unique_ptr<ipc::Echo> makeEcho() override { return ipc::MakeEcho(); }
  std::unique_ptr<ipc::WalletLoader> makeWalletLoader(const std::shared_ptr<ipc::Chain>& chain) override {
    if (!chain) throw std::runtime_error("makeWalletLoader needs the node's chain");
    m_log.Info("wallet loader over %s/wallets for the node", m_datadir.string().c_str());
    return MakeWalletLoader(m_datadir, chain, m_options);
  }

 private:
  std::filesystem::path m_datadir;
  const WalletOptions m_options;
  Logger& m_log;
};

void AddWalletProcessOptions(ArgsManager& args) {
  args.AddArg("-help", "Print this help message and exit", kArgNone, "Options");
  args.AddArg("-version", "Print version and exit", kArgNone, "Options");
  args.AddArg("-ipcconnect=<address>",
              "Attach to a running minicoin-node listening with -ipcbind: unix (<datadir>/node.sock) or "
              "unix:<path>",
              kArgNone, "Options");
  args.AddArg("-wallet=<name>", "Load this wallet from <datadir>/wallets/<name> (with -ipcconnect; may be given "
              "several times)", kArgAllowList, "Options");
  args.AddArg("-createwallet", "Create the -wallet wallets that do not exist yet (unencrypted)", kArgNone, "Options");
  AddLoggingArgs(args);
  args.AddHiddenArg("-testnotificationdelay");  // =<ms>: sleep in each block notification before handling it
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

// Attached mode: returns the exit code.
int RunAttached(const ArgsManager& args, Logger& log, const std::filesystem::path& datadir,
                const WalletOptions& options) {
  const std::string path =
      crossproc::ResolveUnixAddress(args.GetArg("-ipcconnect", "unix"), (datadir / "node.sock").string());
  std::unique_ptr<crossproc::Connection> connection;
  try {
    connection = crossproc::ConnectUnix(path, IpcOptions(log));
  } catch (const std::exception& e) {
    std::cerr << "Error: cannot reach minicoin-node at " << path << ": " << e.what()
              << " (is it running with -ipcbind?)\n";
    return 1;
  }
  std::unique_ptr<ipc::Init> init = connection->Bootstrap<ipc::Init>();
  // Shared by the loader and its wallets: the node's one Chain.
  std::shared_ptr<ipc::Chain> chain(init->makeChain());
  // Shared with the node, which calls it through the connection.
  std::shared_ptr<ipc::WalletLoader> loader(MakeWalletLoader(datadir, chain, options));
  for (const std::string& name : args.GetArgs("-wallet")) {
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
  // Detach: the node stops routing to these wallets, then they are flushed and closed.
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
              << "  minicoin-wallet -ipcfd <N> [-datadir=<dir>] [-debug=<category>]\n"
              << "      started by minicoin-node, serving it on descriptor N\n\n"
              << "The debug log is <datadir>/wallet-debug.log unless -debuglogfile says otherwise.\n\n"
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
    if (!args.CheckDataDir(error) || !args.ReadConfigFile(error, /*ignore_unknown=*/true)) {
      std::cerr << "Error: " << error << "\n";
      return 1;
    }
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
    if (spawned) {
      auto init = std::make_shared<WalletInit>(datadir, *options, log);
      std::optional<int> code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<ipc::Init>(init), IpcOptions(log));
      log.Info("the node disconnected; exiting");
      return code.value_or(1);
    }
    try {
      return RunAttached(args, log, datadir, *options);
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
