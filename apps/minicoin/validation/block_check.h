// Block rules, and applying a block to the coins (and undoing it, for reorganisations).
#pragma once

#include "primitives/block.h"
#include "validation/coins.h"
#include "validation/tx_check.h"

#include <crossproc/worker_pool.h>

#include <optional>
#include <vector>

namespace minicoin {

// The subsidy of the first blocks; it halves on a schedule (BlockSubsidy in chain/params.h).
inline constexpr uint64_t kBlockSubsidy = 50 * kCoin;

// Rules that need no context: a first and only coinbase, no transaction twice, every
// transaction well formed, the merkle root, and the proof of work (unless `check_proof_of_work`
// is false: a template being checked before it is mined).
std::optional<ValidationError> CheckBlock(const Block& block, bool check_proof_of_work = true);

// What connecting a block spent, so that it can be disconnected again: for each non-coinbase
// transaction, the coins of its inputs in order.
struct BlockUndo {
  std::vector<std::vector<Coin>> spent;
};

// Where a block being connected stands in its chain.
struct BlockContext {
  uint32_t height = 0;
  uint64_t subsidy = kBlockSubsidy;  // what the coinbase may claim besides the fees
  // The parent's median time past: a transaction locked until a time must have a lock time
  // below it (heights are compared with `height`).
  uint32_t median_time_past = 0;
  bool check_proof_of_work = true;  // false: checking a template before it is mined
};

class SignatureCache;

// Applies `block` at `context.height`: checks every transaction against the coins (as updated
// by the block's earlier transactions) and its lock time, requires the coinbase to pay at most
// the subsidy plus the fees, then spends the inputs and adds the outputs. On a broken rule
// `coins` is left unchanged. Signatures found in `cache` are not verified again; the ones
// verified are added to it.
std::optional<ValidationError> ConnectBlock(const Block& block, const BlockContext& context, CoinsSet& coins,
                                            crossproc::WorkerPool& pool, BlockUndo& undo,
                                            SignatureCache* cache = nullptr);

// Reverts ConnectBlock: removes the block's outputs and restores the coins it spent.
void DisconnectBlock(const Block& block, const BlockUndo& undo, CoinsSet& coins);

}  // namespace minicoin
