// minicoin-miner: mines blocks for a minicoin-node through its Mining interface (-ipcbind).
#include "common/args.h"
#include "init.crossproc.h"
#include "miner/miner.h"
#include "primitives/address.h"

#include <crossproc/listener.h>

#include <signal.h>

#include <iostream>
#include <thread>

namespace minicoin {
namespace {

constexpr const char* kVersion = "minicoin-miner 0.1.0";

void AddMinerOptions(ArgsManager& args) {
  args.AddHiddenArg("-?");
  args.AddHiddenArg("-h");
  args.AddArg("-help", "Print this help message and exit", kArgNone, "Options");
  args.AddArg("-version", "Print version and exit", kArgNone, "Options");
  args.AddArg("-ipcconnect=<address>",
              "Connect to minicoin-node's -ipcbind socket: 'unix' (<datadir>/node.sock, the default) or 'unix:<path>'",
              kArgNone, "Options");
  args.AddArg("-address=<addr>",
              "Pay the coinbase to <addr>; default: the miner's own key in <datadir>/miner/key, created once",
              kArgNone, "Options");
  args.AddArg("-threads=<n>", "Grind nonces on <n> threads (default: one per core)", kArgNone, "Options");
  args.AddArg("-blocks=<n>", "Stop after <n> accepted blocks (default: 0, mine until interrupted)", kArgNone,
              "Options");
  args.AddArg("-feethreshold=<n>",
              "Switch to a new template when fees rise by at least <n> units (default: 0, only on a new tip)",
              kArgNone, "Options");
  args.AddArg("-maxblockbytes=<n>", "Largest block to mine, in encoded bytes (default: the node's)", kArgNone,
              "Options");
}

// Reads a non-negative integer option; throws with a clear message otherwise.
uint64_t CountArg(const ArgsManager& args, const std::string& name, int64_t default_value) {
  std::string error;
  std::optional<int64_t> value = args.GetIntArgChecked(name, default_value, error);
  if (!value) throw std::runtime_error(error);
  if (*value < 0) throw std::runtime_error("Invalid value for " + name + ": " + std::to_string(*value) + " (expected 0 or more)");
  return static_cast<uint64_t>(*value);
}

int RunMiner(const ArgsManager& args) {
  MinerOptions options;
  if (args.IsArgSet("-address")) {
    std::string error;
    std::optional<XOnlyPublicKey> key = DecodeAddress(args.GetArg("-address", ""), &error);
    if (!key) throw std::runtime_error("Invalid -address '" + args.GetArg("-address", "") + "': " + error);
    options.payout = *key;
  } else {
    MinerKey key = LoadOrCreateMinerKey(args.GetDataDir());
    options.payout = key.pubkey;
    std::cout << (key.created ? "created key " : "using key ") << key.path.string() << "\n";
  }
  std::cout << "mining to " << EncodeAddress(options.payout) << "\n" << std::flush;
  options.blocks = CountArg(args, "-blocks", 0);
  options.fee_threshold = CountArg(args, "-feethreshold", 0);
  options.max_block_bytes = CountArg(args, "-maxblockbytes", 0);
  uint64_t threads = CountArg(args, "-threads", 0);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  if (threads > 256) throw std::runtime_error("Invalid value for -threads: at most 256");

  std::string socket = crossproc::ResolveUnixAddress(args.GetArg("-ipcconnect", "unix"),
                                                     (args.GetDataDir() / "node.sock").string());
  crossproc::ConnectionOptions connection_options;
  connection_options.name = "minicoin-miner";
  // Errors and warnings only: a closed connection at exit is not news.
  connection_options.log = [](crossproc::LogLevel level, const std::string& line) {
    if (level == crossproc::LogLevel::kError || level == crossproc::LogLevel::kWarning) crossproc::LogToStderr(level, line);
  };
  std::unique_ptr<crossproc::Connection> connection = crossproc::ConnectUnix(socket, connection_options);
  auto init = connection->Bootstrap<ipc::Init>();
  std::unique_ptr<ipc::Mining> mining = init->makeMining();

  crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = threads, .name = "grind"});
  Miner miner(*mining, pool, options, [](const MinedBlock& block) {
    std::cout << "block " << block.hash.ToHex() << " height " << block.height << " "
              << (block.accepted ? (block.reason.empty() ? "accepted" : "accepted (" + block.reason + ")")
                                 : "rejected (" + block.reason + ")")
              << "\n"
              << std::flush;
  });

  // SIGINT and SIGTERM are blocked in every thread (set in main before any started) and taken here.
  std::atomic<bool> done{false};
  std::thread signals([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec wait{0, 100'000'000};
    while (!done) {
      int signal = sigtimedwait(&set, nullptr, &wait);
      if (signal == SIGINT || signal == SIGTERM) {
        std::cout << "interrupted, stopping\n" << std::flush;
        miner.Stop();
        return;
      }
    }
  });
  uint64_t mined = 0;
  std::exception_ptr error;
  try {
    mined = miner.Run();
  } catch (...) {
    error = std::current_exception();
  }
  done = true;
  signals.join();
  pool.Stop(crossproc::WorkerPool::Shutdown::kCancel);
  if (error) std::rethrow_exception(error);
  std::cout << "mined " << mined << " blocks\n";
  return 0;
}

}  // namespace
}  // namespace minicoin

int main(int argc, char** argv) {
  using namespace minicoin;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  ArgsManager args;
  AddMinerOptions(args);
  std::string error;
  if (!args.ParseParameters(argc, argv, error)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  if (args.IsArgSet("-help") || args.IsArgSet("-?") || args.IsArgSet("-h")) {
    std::cout << kVersion << "\n\nUsage: minicoin-miner [options]\n\n" << args.GetHelpMessage();
    return 0;
  }
  if (args.IsArgSet("-version")) {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (!args.GetPositional().empty()) {
    std::cerr << "Error: unexpected argument '" << args.GetPositional()[0] << "', see minicoin-miner -h\n";
    return 1;
  }
  try {
    if (!args.InitDataDirAndConfig(error, /*create_default=*/true, /*ignore_unknown_config=*/true)) {
      std::cerr << "Error: " << error << "\n";
      return 1;
    }
    return RunMiner(args);
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
}
