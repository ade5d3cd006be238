// Helpers for tests that need blocks: coinbases, signed spends, and mined blocks on a parent.
#pragma once

#include "chain/chain_state.h"
#include "crypto/key.h"
#include "primitives/block.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace minicoin::test {

// A path under the system's temporary folder, unique in this process (`prefix`, pid, counter);
// removed with its contents when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "minicoin-chain");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path;
};

// The first output of the coinbase of the active block at `height`.
OutPoint CoinbaseOf(const ChainState& chain, uint32_t height);

// A coinbase at `height` paying `amount` to `to`.
Transaction MakeCoinbase(uint32_t height, uint64_t amount, const XOnlyPublicKey& to);

// A transaction spending `from` (owned by `key`) into one output of `amount` to `to`, signed.
Transaction MakeSpend(const OutPoint& from, const PrivateKey& key, uint64_t amount, const XOnlyPublicKey& to);
// Spends several outpoints of `key` into outputs of the given amounts to `to`, signed.
Transaction MakeSpend(const std::vector<OutPoint>& from, const PrivateKey& key, const std::vector<uint64_t>& amounts,
                      const XOnlyPublicKey& to);

// Sets the merkle root and grinds the nonce until the header meets its bits.
void Mine(Block& block);

// A mined regtest block on the parent `previous` at `height`: a coinbase paying the subsidy of
// that height plus `fees` to `to`, then `transactions`, time `time`, bits kRegtestBits.
Block MakeBlock(const Uint256& previous, uint32_t height, uint32_t time, const XOnlyPublicKey& to,
                std::vector<Transaction> transactions = {}, uint64_t fees = 0);
// The same on a known parent, with time parent time + 1 + `time_offset` (a different offset
// makes a different sibling).
Block MakeBlock(const BlockIndex& parent, const XOnlyPublicKey& to, std::vector<Transaction> transactions = {},
                uint64_t fees = 0, uint32_t time_offset = 0);
// `count` mined blocks paying `to`, each on the one before, the first on `previous` (at `height`
// and `time`), each 1 + `salt` seconds after its parent (a different salt makes a different
// branch); the first block also holds `first_transactions`. Nothing is submitted.
std::vector<Block> MakeBranch(const Uint256& previous, uint32_t height, uint32_t time, int count,
                              const XOnlyPublicKey& to, uint32_t salt = 0,
                              const std::vector<Transaction>& first_transactions = {});

}  // namespace minicoin::test
