// minicoin_chain_crash_writer DIR [MARKER [COINS_CACHE_BYTES [deferred]]]: adds blocks to the
// chain state in DIR until it is killed (or its parent goes away), with spends and a short
// reorganisation every few blocks, all with synchronous writes; creates the file MARKER once the
// chain is past coinbase maturity (and spends began). With `deferred` the main chain's blocks
// are taken with BlockSync::kDeferred and synced every fourth block (as batches from the network
// are), while the reorganising branches' blocks are synced at once. The crash-safety test
// SIGKILLs it at random moments and checks the state.
#include "chain/chain_state.h"
#include "chain/test_util.h"

#include <unistd.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

namespace minicoin {
namespace {

int Run(const char* dir, const std::string& marker, std::size_t coins_cache_bytes, bool deferred) {
  const pid_t parent = ::getppid();
  crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 2, .name = "writer"});
  ChainState chain(
      ChainStateOptions{.dir = dir, .pool = &pool, .sync_writes = true, .coins_cache_bytes = coins_cache_bytes});
  const PrivateKey miner = PrivateKey::Derive(std::vector<uint8_t>{7}, 0);
  const PrivateKey branch = PrivateKey::Derive(std::vector<uint8_t>{7}, 1);
  auto key_of = [&](const Coin& coin) -> const PrivateKey& {
    return coin.output.pubkey == miner.PublicKey() ? miner : branch;
  };
  auto submit = [&](const Block& block, BlockSync sync) {
    ChainState::BlockResult result = chain.ProcessBlock(block, {.sync = sync});
    if (!result.accepted) {
      std::fprintf(stderr, "crash writer: block rejected: %s\n", result.reason.c_str());
      std::exit(1);
    }
  };
  Uint256 last_spend;
  for (uint64_t n = 0; ::getppid() == parent; ++n) {
    const BlockIndex& tip = chain.Tip();
    const uint32_t height = tip.height + 1;
    std::vector<Transaction> transactions;
    // Spend the coinbase that just matured, and the previous spend's first output.
    if (height > 100) {
      OutPoint matured{chain.ReadBlock(*chain.AtHeight(height - 100))->transactions[0].Txid(), 0};
      if (std::optional<Coin> coin = chain.GetCoin(matured)) {
        uint64_t half = coin->output.amount / 2;
        transactions.push_back(test::MakeSpend({matured}, key_of(*coin), {half, coin->output.amount - half},
                                               miner.PublicKey()));
      }
    }
    OutPoint previous{last_spend, 0};
    if (std::optional<Coin> coin = chain.GetCoin(previous); coin && !last_spend.IsZero()) {
      transactions.push_back(test::MakeSpend({previous}, key_of(*coin), {coin->output.amount}, branch.PublicKey()));
    }
    Uint256 spend = transactions.empty() ? Uint256() : transactions.front().Txid();
    submit(test::MakeBlock(tip, miner.PublicKey(), std::move(transactions)),
           deferred ? BlockSync::kDeferred : BlockSync::kNow);
    if (deferred && n % 4 == 3) chain.SyncPendingWrites();
    last_spend = spend;
    if (!marker.empty() && chain.Height() > kCoinbaseMaturity + 10 && !std::filesystem::exists(marker)) {
      std::ofstream(marker) << chain.Height() << "\n";
    }
    // Every fifth block, a two-block branch from the tip's parent takes over.
    if (n % 5 == 4 && chain.Height() >= 2) {
      const BlockIndex& fork = *chain.Tip().prev;
      Block first = test::MakeBlock(fork, branch.PublicKey(), {}, 0, 1000 + static_cast<uint32_t>(n % 1000));
      submit(first, BlockSync::kNow);
      submit(test::MakeBlock(*chain.Lookup(first.header.Hash()), branch.PublicKey()), BlockSync::kNow);
    }
  }
  return 0;
}

}  // namespace
}  // namespace minicoin

int main(int argc, char** argv) {
  if (argc < 2 || argc > 5 || (argc == 5 && std::string(argv[4]) != "deferred")) {
    std::fprintf(stderr, "usage: minicoin_chain_crash_writer DIR [MARKER [COINS_CACHE_BYTES [deferred]]]\n");
    return 2;
  }
  try {
    std::size_t cache_bytes = minicoin::ChainStateOptions{}.coins_cache_bytes;
    if (argc >= 4) cache_bytes = static_cast<std::size_t>(std::stoull(argv[3]));
    return minicoin::Run(argv[1], argc >= 3 ? argv[2] : "", cache_bytes, argc == 5);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "crash writer: %s\n", e.what());
    return 1;
  }
}
