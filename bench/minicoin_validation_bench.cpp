// minicoin-validation-bench: how block validation through ChainState scales with the threads of
// its WorkerPool. Builds blocks full of signed transactions on top of enough mature coins, then
// validates them on a temporary directory with pools of 1, 2, 4 ... max(4, nproc) threads and
// prints blocks/s, signatures/s and the speedup against one thread, measured in the same run.
// Two shapes with the same number of signatures: one-input transactions (the signatures of a
// transaction are what ConnectBlock spreads over the pool) and ten-input transactions.
// `--quick` keeps it short (a smoke run for CI); `--json FILE` writes the figures; `--sync`
// syncs every write as a node does (the figures then include the disk).
#include "chain/chain_state.h"
#include "chain/params.h"
#include "chain/test_util.h"
#include "figures_json.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace minicoin;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Blocks 1..100: the first pays its coinbase out in many small outputs, which the later ones
// mature. Then the measured blocks, spending those outputs.
struct Workload {
  std::string name;
  std::vector<Block> setup;
  std::vector<Block> measured;
  std::size_t signatures = 0;
};

std::vector<Block> SetupBlocks(const PrivateKey& key, std::size_t outputs) {
  std::vector<Block> blocks;
  Uint256 previous = GenesisBlock().header.Hash();
  uint32_t time = kGenesisTime;
  for (uint32_t height = 1; height <= kCoinbaseMaturity; ++height) {
    Block block;
    block.header.previous = previous;
    block.header.time = ++time;
    block.header.bits = kRegtestBits;
    Transaction coinbase = test::MakeCoinbase(height, kBlockSubsidy, key.PublicKey());
    if (height == 1) coinbase.outputs.assign(outputs, TxOut{kBlockSubsidy / outputs, key.PublicKey()});
    block.transactions.push_back(coinbase);
    test::Mine(block);
    previous = block.header.Hash();
    blocks.push_back(std::move(block));
  }
  return blocks;
}

Workload MakeWorkload(std::string name, const std::vector<Block>& setup, const PrivateKey& key, std::size_t blocks,
                      std::size_t txs_per_block, std::size_t inputs_per_tx) {
  Workload workload{std::move(name), setup, {}, 0};
  const Uint256 funding = setup[0].transactions[0].Txid();
  const uint64_t amount = setup[0].transactions[0].outputs[0].amount;
  Uint256 previous = setup.back().header.Hash();
  uint32_t time = setup.back().header.time;
  uint32_t next_output = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    std::vector<Transaction> transactions;
    for (std::size_t t = 0; t < txs_per_block; ++t) {
      std::vector<OutPoint> from;
      for (std::size_t i = 0; i < inputs_per_tx; ++i) from.push_back(OutPoint{funding, next_output++});
      transactions.push_back(test::MakeSpend(from, key, {amount * inputs_per_tx}, key.PublicKey()));
      workload.signatures += inputs_per_tx;
    }
    Block block = test::MakeBlock(previous, static_cast<uint32_t>(setup.size() + 1 + b), ++time, key.PublicKey(),
                                  std::move(transactions));
    previous = block.header.Hash();
    workload.measured.push_back(std::move(block));
  }
  return workload;
}

// Seconds to validate the measured blocks on a fresh chain with a pool of `threads`.
double Measure(const Workload& workload, std::size_t threads, bool sync) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("minicoin-validation-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  double seconds = 0;
  {
    crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = threads, .name = "verify"});
    ChainState chain(ChainStateOptions{.dir = dir, .pool = &pool, .sync_writes = sync});
    for (const Block& block : workload.setup) {
      if (!chain.ProcessBlock(block).accepted) throw std::runtime_error("a setup block was rejected");
    }
    auto start = Clock::now();
    for (const Block& block : workload.measured) {
      ChainState::BlockResult result = chain.ProcessBlock(block);
      if (!result.accepted) throw std::runtime_error("a measured block was rejected: " + result.reason);
    }
    seconds = Seconds(start);
  }
  std::filesystem::remove_all(dir);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool sync = false;
  std::string json;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--sync") == 0) sync = true;
    else if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
    else {
      std::fprintf(stderr, "usage: minicoin-validation-bench [--quick] [--sync] [--json FILE]\n");
      return 2;
    }
  }
  try {
    const std::size_t blocks = quick ? 4 : 20;
    const std::size_t txs = quick ? 100 : 200;
    const int repetitions = quick ? 1 : 5;
    const std::size_t hardware = std::max<std::size_t>(1, std::thread::hardware_concurrency());
    std::vector<std::size_t> thread_counts;
    for (std::size_t n = 1; n <= std::max<std::size_t>(4, hardware); n *= 2) thread_counts.push_back(n);
    if (thread_counts.back() < std::max<std::size_t>(4, hardware)) thread_counts.push_back(std::max<std::size_t>(4, hardware));

    const PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{'b', 'e', 'n', 'c', 'h'}, 0);
    auto build_start = Clock::now();
    std::vector<Block> setup = SetupBlocks(key, blocks * txs);
    std::vector<Workload> workloads;
    workloads.push_back(MakeWorkload("one-input", setup, key, blocks, txs, 1));
    workloads.push_back(MakeWorkload("ten-input", setup, key, blocks, txs / 10, 10));
    std::printf("built %zu blocks x %zu signatures per shape in %.1f s; %zu hardware threads; writes %s\n", blocks,
                txs, Seconds(build_start), hardware, sync ? "synced" : "not synced");

    std::map<std::string, double> figures;
    figures["blocks"] = static_cast<double>(blocks);
    figures["signatures_per_block"] = static_cast<double>(txs);
    figures["hardware_threads"] = static_cast<double>(hardware);
    for (const Workload& workload : workloads) {
      std::printf("\n%s transactions (%zu per block)\n", workload.name.c_str(), workload.measured[0].transactions.size() - 1);
      std::printf("%8s %12s %14s %10s\n", "threads", "blocks/s", "signatures/s", "speedup");
      double baseline = 0;
      for (std::size_t threads : thread_counts) {
        std::vector<double> runs;
        for (int r = 0; r < repetitions; ++r) runs.push_back(Measure(workload, threads, sync));
        double seconds = Median(runs);
        if (threads == 1) baseline = seconds;
        double blocks_per_s = static_cast<double>(workload.measured.size()) / seconds;
        double sigs_per_s = static_cast<double>(workload.signatures) / seconds;
        double speedup = baseline / seconds;
        std::printf("%8zu %12.1f %14.0f %9.2fx\n", threads, blocks_per_s, sigs_per_s, speedup);
        std::string prefix = workload.name == "one-input" ? "" : "ten_input_";
        std::string n = std::to_string(threads);
        figures[prefix + "threads_" + n + "_blocks_per_s"] = blocks_per_s;
        figures[prefix + "threads_" + n + "_sigs_per_s"] = sigs_per_s;
        figures[prefix + "speedup_" + n] = speedup;
      }
    }
    if (!json.empty() && !bench::WriteFiguresJson(json, figures)) return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "minicoin-validation-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
