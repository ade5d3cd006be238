// Block rules, and applying a block to the coins (and undoing it, for reorganisations).
#pragma once

#include "primitives/block.h"
#include "validation/coins.h"
#include "validation/tx_check.h"

#include <crossproc/worker_pool.h>

#include <optional>
#include <vector>

namespace minicoin {

inline constexpr uint64_t kBlockSubsidy = 50 * kCoin;

// Rules that need no context: a first and only coinbase, no transaction twice, every
// transaction well formed, the merkle root, and the proof of work.
std::optional<ValidationError> CheckBlock(const Block& block);

// What connecting a block spent, so that it can be disconnected again: for each non-coinbase
// transaction, the coins of its inputs in order.
struct BlockUndo {
  std::vector<std::vector<Coin>> spent;
};

// Applies `block` at `height`: checks every transaction against the coins (as updated by the
// block's earlier transactions), requires the coinbase to pay at most the subsidy plus the fees,
// then spends the inputs and adds the outputs. On a broken rule `coins` is left unchanged.
std::optional<ValidationError> ConnectBlock(const Block& block, uint32_t height, MemoryCoins& coins,
                                            crossproc::WorkerPool& pool, BlockUndo& undo);

// Reverts ConnectBlock: removes the block's outputs and restores the coins it spent.
void DisconnectBlock(const Block& block, const BlockUndo& undo, MemoryCoins& coins);

}  // namespace minicoin
