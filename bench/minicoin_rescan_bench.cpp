// minicoin-rescan-bench: how much slower a wallet rescan is when the chain is in another process.
//
// Builds a chain (10,000 blocks by default; every 20th pays the wallet), then times
// Wallet::rescan(0) with the wallet and the node in one process (as in minicoind) and with the
// node in a child process reached through crossproc (as in minicoin-node, whose wallets run in
// their own processes), alternating, and prints the medians and their ratio.
//
//   minicoin-rescan-bench [--quick] [--blocks N] [--reps N] [--json FILE]
#include "chain/chain_state.h"
#include "common/args.h"
#include "common/logging.h"
#include "ipc/partial_init.h"
#include "node/chain_interface.h"
#include "node/node.h"
#include "primitives/address.h"
#include "wallet/wallet_loader.h"

#include <crossproc/process.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// Connection log: errors only (closing connections is part of every repetition).
crossproc::ConnectionOptions QuietConnection() {
  crossproc::ConnectionOptions options;
  options.log = [](crossproc::LogLevel level, const std::string& line) {
    if (level == crossproc::LogLevel::kError) crossproc::LogToStderr(level, line);
  };
  return options;
}

// The node's options for a bench data directory: no RPC server, no log file.
void SetNodeArgs(minicoin::ArgsManager& args, const std::string& datadir) {
  minicoin::AddNodeOptions(args, {});
  args.ForceSetArg("-datadir", datadir);
  args.ForceSetArg("-regtest", "1");
}

// Serves the Chain of a node on `datadir` to the parent (child side of the IPC layout).
class ChainInit final : public minicoin::ipc::PartialInit {
 public:
  explicit ChainInit(minicoin::Node& node) : PartialInit("minicoin-rescan-bench"), m_node(node) {}
  std::unique_ptr<minicoin::ipc::Chain> makeChain() override { return minicoin::MakeChain(m_node); }

 private:
  minicoin::Node& m_node;
};

int ServeChild(int argc, char** argv, const std::string& datadir) {
  minicoin::ArgsManager args;
  SetNodeArgs(args, datadir);
  minicoin::Logger log;
  minicoin::Node node(args, log, {.multiprocess = true, .executable_name = "minicoin-rescan-bench"});
  auto code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<minicoin::ipc::Init>(std::make_shared<ChainInit>(node)),
                                          QuietConnection());
  return code.value_or(1);
}

// Builds the chain: `blocks` blocks on genesis, every 20th paying the wallet "bench".
void BuildChain(const std::string& datadir, uint32_t blocks) {
  minicoin::ArgsManager args;
  SetNodeArgs(args, datadir);
  minicoin::Logger log;
  minicoin::Node node(args, log, {});
  std::shared_ptr<minicoin::ipc::Chain> chain = minicoin::MakeChain(node);
  std::shared_ptr<minicoin::ipc::WalletLoader> loader = minicoin::MakeWalletLoader(datadir, chain, log);
  std::vector<minicoin::XOnlyPublicKey> wallet_keys;
  {
    std::unique_ptr<minicoin::ipc::Wallet> wallet = loader->createWallet("bench", "");
    for (int i = 0; i < 10; ++i) {
      auto key = minicoin::DecodeAddress(wallet->getNewAddress(""));
      if (!key) throw std::runtime_error("the wallet gave an invalid address");
      wallet_keys.push_back(*key);
    }
  }
  loader->shutdown();
  minicoin::XOnlyPublicKey other{};
  other[0] = 0x42;
  for (uint32_t height = 1; height <= blocks; ++height) {
    const minicoin::XOnlyPublicKey& payout = height % 20 == 0 ? wallet_keys[(height / 20) % wallet_keys.size()] : other;
    std::optional<minicoin::Block> block = node.MineBlock(payout, 100'000'000);
    if (!block) throw std::runtime_error("could not mine a block");
    auto result = node.SubmitBlock(std::move(*block));
    if (!result.accepted) throw std::runtime_error("mined block refused: " + result.reason);
  }
}

// Loads the wallet on `chain` and times a full rescan; returns seconds and the height reached.
double TimeRescan(const std::string& datadir, std::shared_ptr<minicoin::ipc::Chain> chain, minicoin::Logger& log,
                  uint32_t& scanned_to, uint64_t& balance) {
  std::shared_ptr<minicoin::ipc::WalletLoader> loader = minicoin::MakeWalletLoader(datadir, std::move(chain), log);
  std::unique_ptr<minicoin::ipc::Wallet> wallet = loader->loadWallet("bench");
  auto start = Clock::now();
  scanned_to = wallet->rescan(0);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  minicoin::ipc::Balances balances = wallet->getBalances();
  balance = balances.confirmed + balances.immature;
  wallet.reset();
  loader->shutdown();
  return seconds;
}

double InProcess(const std::string& datadir, uint32_t& scanned_to, uint64_t& balance) {
  minicoin::ArgsManager args;
  SetNodeArgs(args, datadir);
  minicoin::Logger log;
  minicoin::Node node(args, log, {});
  return TimeRescan(datadir, minicoin::MakeChain(node), log, scanned_to, balance);
}

double AcrossProcesses(const std::string& self, const std::string& datadir, uint32_t& scanned_to, uint64_t& balance) {
  crossproc::SpawnOptions options;
  options.connection = QuietConnection();
  options.command_line = [datadir](const std::string& executable, int fd) {
    return std::vector<std::string>{executable, "--serve", datadir, "-ipcfd", std::to_string(fd)};
  };
  auto child = crossproc::SpawnProcess<minicoin::ipc::Init>(self, options);
  std::shared_ptr<minicoin::ipc::Chain> chain = child.init->makeChain();
  minicoin::Logger log;
  double seconds = TimeRescan(datadir, std::move(chain), log, scanned_to, balance);
  return seconds;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--serve") == 0) return ServeChild(argc, argv, argv[2]);
  uint32_t blocks = 10'000;
  int reps = 5;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      blocks = 600;
      reps = 3;
    } else if (arg == "--blocks" && i + 1 < argc) {
      blocks = static_cast<uint32_t>(std::stoul(argv[++i]));
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::stoi(argv[++i]));
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      std::cerr << "usage: minicoin-rescan-bench [--quick] [--blocks N] [--reps N] [--json FILE]\n";
      return 2;
    }
  }
  std::string self = crossproc::FindExecutable(argv[0]);
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("minicoin-rescan-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  int status = 0;
  try {
    auto built = Clock::now();
    BuildChain(dir.string(), blocks);
    std::printf("built %u blocks in %.1f s\n", blocks, std::chrono::duration<double>(Clock::now() - built).count());
    std::vector<double> local;
    std::vector<double> remote;
    uint64_t local_balance = 0;
    uint64_t remote_balance = 0;
    for (int rep = 0; rep < reps; ++rep) {
      uint32_t local_height = 0;
      uint32_t remote_height = 0;
      local.push_back(InProcess(dir.string(), local_height, local_balance));
      remote.push_back(AcrossProcesses(self, dir.string(), remote_height, remote_balance));
      if (local_height != blocks || remote_height != blocks || local_balance != remote_balance) {
        throw std::runtime_error("the two rescans disagree: heights " + std::to_string(local_height) + "/" +
                                 std::to_string(remote_height) + ", balances " + std::to_string(local_balance) +
                                 "/" + std::to_string(remote_balance));
      }
    }
    double local_s = Median(local);
    double remote_s = Median(remote);
    double ratio = remote_s / local_s;
    std::printf("rescan of %u blocks, median of %d, wallet balance found %.8f coins\n", blocks, reps,
                static_cast<double>(local_balance) / 1e8);
    std::printf("  one process (minicoind layout):      %8.1f ms\n", local_s * 1000);
    std::printf("  node in another process (IPC):       %8.1f ms\n", remote_s * 1000);
    std::printf("  ratio IPC / one process:             %8.2fx (target <= 1.25x)\n", ratio);
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << "{\n  \"blocks\": " << blocks << ",\n  \"rescan_local_ms\": " << local_s * 1000
          << ",\n  \"rescan_ipc_ms\": " << remote_s * 1000 << ",\n  \"rescan_ipc_vs_local\": " << ratio << "\n}\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "minicoin-rescan-bench: " << e.what() << "\n";
    status = 1;
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return status;
}
