// minicoin-utxo-bench: the memory a chain state needs for a large coin set, with a small coins
// cache against one large enough to hold every coin. Connects a regtest chain of blocks whose
// coinbases create 6,700 outputs each (700 with --quick), each block from height 101 also
// spending 200 outputs of a matured one, until the tip has at least 1,000,000 coins (100,000
// with --quick; --outputs N: N, in as many blocks of the same shape), in a fresh process per
// cache size (so that the peak resident set, VmHWM, is that run's own). Prints one JSON line
// per run (outputs, blocks, seconds, peak RSS in MiB before and after the close, the -dbcache
// equivalent in MiB, the coins cache limit, the flush count, and the seconds it then takes to
// open the state holding the whole set again) and a last line with the ratios of the small
// cache's figures over the large one's, measured in the same run.
//
//   minicoin-utxo-bench [--quick] [--outputs N] [--small MIB] [--large MIB]
// (defaults: 1,000,000 outputs, 16 and 1024 MiB; --quick: 100,000 outputs, 4 and 1024 MiB)
#include "chain/chain_state.h"
#include "chain/params.h"
#include "chain/test_util.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace minicoin;

constexpr std::size_t kSpendInputs = 200;  // outputs of a matured coinbase spent per block
constexpr std::size_t kSpendOutputs = 2;

// Kibibytes from a "Name:   123 kB" line of /proc/self/status; 0 if absent.
uint64_t StatusKiB(const char* name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  const std::size_t length = std::strlen(name);
  while (std::getline(status, line)) {
    if (line.compare(0, length, name) == 0 && line.size() > length && line[length] == ':') {
      return std::stoull(line.substr(length + 1));
    }
  }
  return 0;
}

double Mib(uint64_t kib) { return static_cast<double>(kib) / 1024.0; }

struct Shape {
  uint32_t blocks = 0;
  std::size_t unspent = 0;  // coins at the tip
};

// Enough blocks of `outputs_per_block` coinbase outputs for at least `target` coins at the tip.
Shape ShapeFor(std::size_t target, std::size_t outputs_per_block) {
  Shape shape;
  while (shape.unspent < target) {
    ++shape.blocks;
    shape.unspent += outputs_per_block;
    if (shape.blocks > kCoinbaseMaturity) shape.unspent -= kSpendInputs - kSpendOutputs;
  }
  return shape;
}

// The block at `height`: a coinbase paying its subsidy in `outputs` equal outputs and, from
// height 101, a transaction spending the first kSpendInputs outputs of the coinbase 100 blocks
// down (`coinbases[h]` is the coinbase txid at height h).
Block MakeBenchBlock(const Uint256& previous, uint32_t height, std::size_t outputs,
                     const PrivateKey& key, const std::vector<Uint256>& coinbases) {
  const uint64_t subsidy = BlockSubsidy(height, ChainParams::Get(ChainType::kRegtest));
  Block block;
  block.header.previous = previous;
  block.header.time = kGenesisTime + height;
  block.header.bits = kRegtestBits;
  Transaction coinbase = test::MakeCoinbase(height, subsidy, key.PublicKey());
  coinbase.outputs.assign(outputs, TxOut{subsidy / outputs, key.PublicKey()});
  block.transactions.push_back(std::move(coinbase));
  if (height > kCoinbaseMaturity) {
    const uint32_t matured = height - kCoinbaseMaturity;
    const uint64_t each = BlockSubsidy(matured, ChainParams::Get(ChainType::kRegtest)) / outputs;
    std::vector<OutPoint> from;
    for (uint32_t i = 0; i < kSpendInputs; ++i) from.push_back(OutPoint{coinbases[matured], i});
    const uint64_t total = each * kSpendInputs;
    block.transactions.push_back(
        test::MakeSpend(from, key, {total / 2, total - total / 2}, key.PublicKey()));
  }
  test::Mine(block);
  return block;
}

// One run, in this (fresh) process: connects the chain with a -dbcache of `dbcache_mib` and
// prints its JSON line.
int RunChild(const std::string& name, int64_t dbcache_mib, std::size_t target,
             std::size_t outputs_per_block) {
  if (outputs_per_block < kSpendInputs)
    throw std::runtime_error("too few outputs per block for the spends");
  const Shape shape = ShapeFor(target, outputs_per_block);
  const CacheSizes sizes = SplitDbCache(dbcache_mib);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("minicoin-utxo-bench-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{'u', 't', 'x', 'o'}, 0);
  const auto start = Clock::now();
  uint64_t flushes = 0;
  uint64_t before_close_kib = 0;
  std::size_t cache_bytes = 0;
  {
    crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 2, .name = "verify"});
    ChainState chain(ChainStateOptions{.dir = dir,
                                       .pool = &pool,
                                       .sync_writes = true,
                                       .database_cache_bytes = sizes.database_bytes,
                                       .coins_cache_bytes = sizes.coins_bytes});
    std::vector<Uint256> coinbases(shape.blocks + 1);
    Uint256 previous = chain.Tip().hash;
    for (uint32_t height = 1; height <= shape.blocks; ++height) {
      Block block = MakeBenchBlock(previous, height, outputs_per_block, key, coinbases);
      coinbases[height] = block.transactions[0].Txid();
      previous = block.header.Hash();
      ChainState::BlockResult result = chain.ProcessBlock(std::move(block));
      if (!result.accepted)
        throw std::runtime_error("block " + std::to_string(height) + " rejected: " + result.reason);
    }
    ChainState::CoinsCacheUsage usage = chain.CoinsCacheInfo();
    flushes = usage.flushes;
    cache_bytes = usage.bytes;
    before_close_kib = StatusKiB("VmHWM");
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t peak_kib = StatusKiB("VmHWM");
  // Opening the state that holds the whole set again: the coins are not read at open.
  const auto open_start = Clock::now();
  {
    crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 2, .name = "verify"});
    ChainState chain(ChainStateOptions{.dir = dir,
                                       .pool = &pool,
                                       .database_cache_bytes = sizes.database_bytes,
                                       .coins_cache_bytes = sizes.coins_bytes});
    if (chain.Height() != shape.blocks)
      throw std::runtime_error("the reopened state is not at the tip");
  }
  const double open_seconds = std::chrono::duration<double>(Clock::now() - open_start).count();
  std::filesystem::remove_all(dir);
  std::printf(
      "{\"run\": \"%s\", \"outputs\": %zu, \"blocks\": %u, \"seconds\": %.2f, "
      "\"peak_rss_mib\": %.1f, \"peak_rss_before_close_mib\": %.1f, \"dbcache_mib\": %lld, "
      "\"coins_cache_limit_mib\": %.1f, \"coins_cache_at_end_mib\": %.1f, \"flushes\": %llu, "
      "\"reopen_seconds\": %.3f}\n",
      name.c_str(), shape.unspent, shape.blocks, seconds, Mib(peak_kib), Mib(before_close_kib),
      static_cast<long long>(dbcache_mib), static_cast<double>(sizes.coins_bytes) / (1 << 20),
      static_cast<double>(cache_bytes) / (1 << 20), static_cast<unsigned long long>(flushes),
      open_seconds);
  return 0;
}

// A JSON number field of `line`; throws if absent.
double Field(const std::string& line, const std::string& name) {
  const std::string key = "\"" + name + "\": ";
  std::size_t at = line.find(key);
  if (at == std::string::npos) throw std::runtime_error("no " + name + " in: " + line);
  return std::stod(line.substr(at + key.size()));
}

// Runs this program again as `--child` and returns its JSON line.
std::string RunInChild(const std::string& name, int64_t mib, std::size_t target,
                       std::size_t outputs_per_block) {
  const std::string command = "/proc/" + std::to_string(::getpid()) + "/exe --child " + name + " " +
                              std::to_string(mib) + " " + std::to_string(target) + " " +
                              std::to_string(outputs_per_block);
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot start " + command);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  if (status != 0 || output.empty())
    throw std::runtime_error("the " + name + " run failed (status " + std::to_string(status) + ")");
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return output;
}

int Usage() {
  std::fprintf(stderr,
               "usage: minicoin-utxo-bench [--quick] [--outputs N] [--small MIB] [--large MIB]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc == 6 && std::strcmp(argv[1], "--child") == 0) {
      return RunChild(argv[2], std::stoll(argv[3]), static_cast<std::size_t>(std::stoull(argv[4])),
                      static_cast<std::size_t>(std::stoull(argv[5])));
    }
    bool quick = false;
    std::size_t outputs = 0;
    int64_t small = 0;  // default: 16, or 4 with --quick (so that the quick run flushes too)
    int64_t large = 1024;
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--quick") == 0) {
        quick = true;
      } else if (std::strcmp(argv[i], "--outputs") == 0 && i + 1 < argc) {
        outputs = static_cast<std::size_t>(std::stoull(argv[++i]));
        if (outputs < 10'000 || outputs > 100'000'000) {
          std::fprintf(stderr, "minicoin-utxo-bench: --outputs between 10000 and 100000000\n");
          return 2;
        }
      } else if ((std::strcmp(argv[i], "--small") == 0 || std::strcmp(argv[i], "--large") == 0) &&
                 i + 1 < argc) {
        int64_t value = std::stoll(argv[i + 1]);
        if (value < kMinDbCacheMiB) {
          std::fprintf(stderr, "minicoin-utxo-bench: a cache of at least %lld MiB\n",
                       static_cast<long long>(kMinDbCacheMiB));
          return 2;
        }
        (argv[i][2] == 's' ? small : large) = value;
        ++i;
      } else {
        return Usage();
      }
    }
    const std::size_t target = outputs != 0 ? outputs : quick ? 100'000 : 1'000'000;
    if (small == 0) small = quick ? kMinDbCacheMiB : 16;
    const std::size_t outputs_per_block = quick ? 700 : 6'700;  // 6,700 outputs: a block of 268 kB
    std::string small_line = RunInChild("small", small, target, outputs_per_block);
    std::printf("%s\n", small_line.c_str());
    std::fflush(stdout);
    std::string large_line = RunInChild("large", large, target, outputs_per_block);
    std::printf("%s\n", large_line.c_str());
    const double small_rss = Field(small_line, "peak_rss_mib");
    const double large_rss = Field(large_line, "peak_rss_mib");
    std::printf(
        "{\"ratio_peak_rss_small_over_large\": %.3f, "
        "\"ratio_peak_rss_before_close_small_over_large\": %.3f, "
        "\"ratio_seconds_small_over_large\": %.3f}\n",
        small_rss / large_rss,
        Field(small_line, "peak_rss_before_close_mib") /
            Field(large_line, "peak_rss_before_close_mib"),
        Field(small_line, "seconds") / Field(large_line, "seconds"));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "minicoin-utxo-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
