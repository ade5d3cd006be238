// minicoin-net-chain-bench: what speculative signature checks buy when a node takes a batch of
// downloaded blocks through NodeNetChain::processBlocks. Builds blocks full of one-input signed
// transactions on top of mature coins, then hands them to a fresh regtest node in one batch
// (headers first, as a peer would) with the speculation off (the baseline) and on, in order and in
// reverse order (every block parked until its parent arrives), and prints blocks/s and the ratio
// against the baseline of the same order, measured in the same run (medians of 9 repetitions,
// off and on alternating).
// `--quick` keeps it short (a smoke run for CI); `--json FILE` writes the figures; `--par N`
// sets the node's validation threads (default: one per core).
#include "chain/params.h"
#include "chain/test_util.h"
#include "common/args.h"
#include "common/logging.h"
#include "figures_json.h"
#include "node/net_chain.h"
#include "node/node.h"
#include "validation/coins.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace minicoin;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

std::vector<uint8_t> EncodeHeader(const BlockHeader& header) {
  Writer writer;
  header.Serialize(writer);
  return writer.Take();
}

// Blocks 1..100: the first pays its coinbase out in `outputs` small outputs, which the later
// ones mature.
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

// `blocks` blocks of `txs` one-input transactions each, spending the first setup block's outputs.
std::vector<Block> MeasuredBlocks(const std::vector<Block>& setup, const PrivateKey& key, std::size_t blocks,
                                  std::size_t txs) {
  std::vector<Block> measured;
  const Uint256 funding = setup[0].transactions[0].Txid();
  const uint64_t amount = setup[0].transactions[0].outputs[0].amount;
  Uint256 previous = setup.back().header.Hash();
  uint32_t time = setup.back().header.time;
  uint32_t next_output = 0;
  for (std::size_t b = 0; b < blocks; ++b) {
    std::vector<Transaction> transactions;
    for (std::size_t t = 0; t < txs; ++t) {
      transactions.push_back(test::MakeSpend(OutPoint{funding, next_output++}, key, amount, key.PublicKey()));
    }
    Block block = test::MakeBlock(previous, static_cast<uint32_t>(setup.size() + 1 + b), ++time, key.PublicKey(),
                                  std::move(transactions));
    previous = block.header.Hash();
    measured.push_back(std::move(block));
  }
  return measured;
}

// Seconds of the processBlocks call taking `measured` (reversed if `reverse`) on a fresh node
// that stored `setup`.
double Measure(const std::vector<Block>& setup, const std::vector<Block>& measured, bool speculate, bool reverse,
               const std::string& par) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("minicoin-net-chain-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  double seconds = 0;
  {
    ArgsManager args;
    AddNodeOptions(args, NodeOptions{});
    const std::string datadir = "-datadir=" + dir.string();
    std::vector<std::string> words{"minicoin-net-chain-bench", datadir, "-regtest"};
    if (!par.empty()) words.push_back("-par=" + par);
    std::vector<const char*> argv;
    argv.reserve(words.size());
    for (const std::string& word : words) argv.push_back(word.c_str());
    std::string error;
    if (!args.ParseParameters(static_cast<int>(argv.size()), argv.data(), error) || !args.CheckDataDir(error)) {
      throw std::runtime_error(error);
    }
    Logger log;
    Node node(args, log, NodeOptions{});
    for (const Block& block : setup) {
      if (!node.SubmitBlock(block).accepted) throw std::runtime_error("a setup block was rejected");
    }
    NodeNetChain net(node, NetChainOptions{.speculative_signature_checks = speculate});
    std::vector<std::vector<uint8_t>> headers;
    std::vector<std::vector<uint8_t>> encoded;
    for (const Block& block : measured) {
      headers.push_back(EncodeHeader(block.header));
      encoded.push_back(block.Encode());
    }
    if (reverse) std::reverse(encoded.begin(), encoded.end());
    ipc::HeadersVerdict verdict = net.processHeaders(headers);
    if (!verdict.error.empty()) throw std::runtime_error("headers refused: " + verdict.error);
    const auto start = Clock::now();
    std::vector<ipc::BlockVerdict> verdicts = net.processBlocks(encoded);
    seconds = Seconds(start);
    for (const ipc::BlockVerdict& block : verdicts) {
      if (!block.accepted) throw std::runtime_error("a measured block was refused: " + block.reason);
    }
    if (node.chain().Tip().hash != measured.back().header.Hash()) throw std::runtime_error("the chain did not end at the last block");
  }
  std::filesystem::remove_all(dir);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string json;
  std::string par;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    else if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
    else if (std::strcmp(argv[i], "--par") == 0 && i + 1 < argc) par = argv[++i];
    else {
      std::fprintf(stderr, "usage: minicoin-net-chain-bench [--quick] [--par N] [--json FILE]\n");
      return 2;
    }
  }
  try {
    const std::size_t blocks = quick ? 3 : 20;
    const std::size_t txs = quick ? 50 : 200;
    const int repetitions = quick ? 1 : 9;
    const PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{'n', 'e', 't'}, 0);
    const auto build_start = Clock::now();
    const std::vector<Block> setup = SetupBlocks(key, blocks * txs);
    const std::vector<Block> measured = MeasuredBlocks(setup, key, blocks, txs);
    std::printf("built %zu blocks x %zu signatures in %.1f s; -par=%s\n", blocks, txs, Seconds(build_start),
                par.empty() ? "0 (one thread per core)" : par.c_str());
    std::printf("%-10s %-12s %10s %8s\n", "order", "speculation", "blocks/s", "ratio");
    std::map<std::string, double> figures;
    figures["blocks"] = static_cast<double>(blocks);
    figures["signatures_per_block"] = static_cast<double>(txs);
    for (bool reverse : {false, true}) {
      // Off and on alternate, so that a change in the machine's load hits both alike.
      std::vector<double> off_runs;
      std::vector<double> on_runs;
      for (int r = 0; r < repetitions; ++r) {
        off_runs.push_back(Measure(setup, measured, false, reverse, par));
        on_runs.push_back(Measure(setup, measured, true, reverse, par));
      }
      const double baseline = Median(off_runs);
      for (bool speculate : {false, true}) {
        const double seconds = speculate ? Median(on_runs) : baseline;
        const double blocks_per_s = static_cast<double>(blocks) / seconds;
        const double ratio = baseline / seconds;
        std::printf("%-10s %-12s %10.1f %7.2fx\n", reverse ? "reversed" : "in order", speculate ? "on" : "off",
                    blocks_per_s, ratio);
        const std::string name = std::string(reverse ? "reversed" : "in_order") + (speculate ? "_speculation" : "_plain");
        figures[name + "_blocks_per_s"] = blocks_per_s;
        if (speculate) figures[std::string(reverse ? "reversed" : "in_order") + "_speedup"] = ratio;
      }
    }
    if (!json.empty() && !bench::WriteFiguresJson(json, figures)) return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "minicoin-net-chain-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
