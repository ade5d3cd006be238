// minicoin-net: the peer-to-peer process of minicoin-node. Spawned by the node (-ipcfd <N>), it
// runs the sockets, message parsing, address book and peer state, and talks to the node only
// through the Net and NetChain interfaces (ipc/net.capnp). With -sandbox (the node passes it
// unless -nonetsandbox) it confines itself first: files only under <datadir>/net, the network,
// and its IPC connection.
#include "chain/params.h"
#include "common/args.h"
#include "common/logging.h"
#include "common/sandbox.h"
#include "ipc/connection_log.h"
#include "ipc/echo.h"
#include "ipc/partial_init.h"
#include "net/net_options.h"
#include "net/net_service.h"

#include <crossproc/process.h>

#include <signal.h>

#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {
namespace {

constexpr const char* kVersion = "minicoin 0.1.0";

// What minicoin-net offers its node: one Net at a time, over the node's NetChain.
class NetInit final : public ipc::PartialInit {
 public:
  NetInit(net::NetOptions options, Logger& log) : PartialInit("minicoin-net"), m_options(std::move(options)), m_log(log) {}

  std::unique_ptr<ipc::Echo> makeEcho() override { return ipc::MakeEcho(); }
  std::unique_ptr<ipc::Net> makeNet(const std::shared_ptr<ipc::NetChain>& chain) override {
    std::lock_guard lock(m_mutex);
    if (m_made) throw std::runtime_error("minicoin-net serves one node: makeNet was already called");
    m_made = true;
    return net::NetService::Start(m_options, chain, m_log);
  }

 private:
  const net::NetOptions m_options;
  Logger& m_log;
  std::mutex m_mutex;
  bool m_made = false;  // guarded by m_mutex
};

bool Sandbox(Logger& log, const std::filesystem::path& folder, std::string& error) {
  SandboxOptions sandbox;
  sandbox.read_write = {folder};
  sandbox.allow_network = true;
  try {
    SandboxReport report = ApplySandbox(sandbox);
    for (const std::string& warning : report.warnings) log.Warning("%s", warning.c_str());
    log.Info("sandbox: files only under %s (landlock ABI %d), seccomp %s, network allowed", folder.string().c_str(),
             report.landlock_abi, report.seccomp ? "on" : "off");
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
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
  net::AddNetOptions(args);
  AddLoggingArgs(args);
  args.AddArg("-sandbox", "Confine the process to <datadir>/net, the network and its IPC connection", kArgNone,
              "Options");
  args.AddArg("-version", "Print the version and exit", kArgNone, "Options");
  args.AddHiddenArg("-h");
  args.AddHiddenArg("-?");
  args.AddHiddenArg("-help");
  std::string error;
  if (!args.ParseParameters(static_cast<int>(rest.size()), rest.data(), error)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  if (args.IsArgSet("-help") || args.IsArgSet("-?") || args.IsArgSet("-h")) {
    std::cout << kVersion << "\n\nUsage:\n"
              << "  minicoin-net -ipcfd <N> -datadir=<dir> [-chain=<chain>] [options]\n"
              << "      started by minicoin-node, serving it on descriptor N\n\n"
              << "minicoin-net reads no config file: the node passes its options on the command line.\n"
              << "The debug log is <datadir>/net-debug.log unless -debuglogfile says otherwise.\n\n"
              << args.GetHelpMessage();
    return 0;
  }
  if (args.IsArgSet("-version")) {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (!spawned) {
    std::cerr << "Error: minicoin-net is started by minicoin-node (with -ipcfd <N>); see minicoin-net -h\n";
    return 1;
  }
  std::optional<ChainType> chain = args.GetChainType(error);
  if (!chain || !args.CheckDataDir(error, /*create_default=*/false)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  args.SoftSetArg("-debuglogfile", "net-debug.log");
  Logger log;
  if (!ConfigureLogger(log, args, error)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  const std::filesystem::path datadir = args.GetDataDir();
  const std::filesystem::path folder = datadir / "net";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec) {
    log.Error("cannot create %s: %s", folder.string().c_str(), ec.message().c_str());
    return 1;
  }
  log.Info("%s (minicoin-net) starting, data directory %s", kVersion, datadir.string().c_str());
  std::optional<net::NetOptions> options = net::ReadNetOptions(args, ChainParams::Get(*chain), folder, error);
  if (!options) {
    log.Error("%s", error.c_str());
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  if (args.GetBoolArg("-sandbox", false) && !Sandbox(log, folder, error)) {
    log.Error("-sandbox: %s", error.c_str());
    std::cerr << "Error: -sandbox: " << error << "\n";
    return 1;
  }
  auto init = std::make_shared<NetInit>(std::move(*options), log);
  std::optional<int> code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<ipc::Init>(init), IpcConnectionOptions(log, "minicoin-net"));
  log.Info("the node disconnected; exiting");
  return code.value_or(1);
}

}  // namespace
}  // namespace minicoin

int main(int argc, char** argv) { return minicoin::Main(argc, argv); }
