// minicoin-chaingen: writes a regtest chain of signature-heavy blocks into a data directory, for
// the initial-download benchmark (bench/minicoin_ibd_bench.py) and for trying sync by hand.
//
//   minicoin-chaingen --datadir DIR [--blocks N] [--txs-per-block K]
//
// Blocks 1..100 mature the first coinbase, which pays K outputs; every later block holds K
// one-input transactions, the i-th spending the output of the i-th of the block before, each
// signed by the same key. Blocks are ten minutes apart and end about an hour before now, so a
// node that syncs the chain stays in initial download until its last day (144 blocks). The result is DIR/regtest as minicoind would have
// written it (start a node with -datadir=DIR -regtest).
#include "chain/chain_state.h"
#include "chain/params.h"
#include "chain/test_util.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace minicoin;

// Seconds between block times (the network's target spacing).
constexpr uint32_t kBlockSpacing = 600;

int Usage() {
  std::fprintf(stderr, "usage: minicoin-chaingen --datadir DIR [--blocks N] [--txs-per-block K]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path datadir;
  uint32_t blocks = 5000;
  uint32_t txs_per_block = 50;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--datadir") == 0 && i + 1 < argc) datadir = argv[++i];
    else if (std::strcmp(argv[i], "--blocks") == 0 && i + 1 < argc) blocks = static_cast<uint32_t>(std::stoul(argv[++i]));
    else if (std::strcmp(argv[i], "--txs-per-block") == 0 && i + 1 < argc) txs_per_block = static_cast<uint32_t>(std::stoul(argv[++i]));
    else return Usage();
  }
  if (datadir.empty() || blocks <= kCoinbaseMaturity || txs_per_block == 0) return Usage();
  try {
    const PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{'i', 'b', 'd'}, 0);
    const XOnlyPublicKey pubkey = key.PublicKey();
    ChainState chain(ChainStateOptions{.dir = datadir / "regtest", .sync_writes = false});
    if (chain.Height() != 0) {
      std::fprintf(stderr, "%s already holds a chain (height %u)\n", datadir.c_str(), chain.Height());
      return 1;
    }
    const uint32_t now = static_cast<uint32_t>(std::time(nullptr));
    uint32_t time = std::max<uint32_t>(chain.Tip().header.time, now - 3600 - blocks * kBlockSpacing);
    Uint256 previous = chain.Tip().hash;
    std::vector<OutPoint> lineages;  // the output each lineage spends next
    std::size_t bytes = 0;
    for (uint32_t height = 1; height <= blocks; ++height) {
      time += kBlockSpacing;
      std::vector<Transaction> transactions;
      if (height > kCoinbaseMaturity) {
        for (OutPoint& from : lineages) {
          Transaction tx = test::MakeSpend(from, key, kBlockSubsidy / txs_per_block, pubkey);
          from = OutPoint{tx.Txid(), 0};
          transactions.push_back(std::move(tx));
        }
      }
      Block block = test::MakeBlock(previous, height, time, pubkey, std::move(transactions));
      if (height == 1) {
        // The first coinbase pays one output per lineage.
        block.transactions[0].outputs.assign(txs_per_block, TxOut{kBlockSubsidy / txs_per_block, pubkey});
        test::Mine(block);
        for (uint32_t i = 0; i < txs_per_block; ++i) lineages.push_back(OutPoint{block.transactions[0].Txid(), i});
      }
      bytes += block.Encode().size();
      ChainState::BlockResult result = chain.ProcessBlock(block);
      if (!result.accepted) {
        std::fprintf(stderr, "block %u rejected: %s\n", height, result.reason.c_str());
        return 1;
      }
      previous = block.header.Hash();
    }
    std::printf("{\"blocks\": %u, \"transactions_per_block\": %u, \"bytes\": %zu, \"tip\": \"%s\"}\n", blocks,
                txs_per_block, bytes, previous.ToHex().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "minicoin-chaingen: %s\n", e.what());
    return 1;
  }
  return 0;
}
