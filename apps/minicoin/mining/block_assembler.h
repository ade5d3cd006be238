// Block templates from pool transactions, and grinding a block's nonce until it meets its target.
#pragma once

#include "mempool/mempool.h"
#include "primitives/block.h"
#include "primitives/transaction.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace minicoin {

struct BlockAssemblerOptions {
  std::size_t max_block_bytes = 1'000'000;  // encoded size of the whole block
};

// The coinbase of a block at `height` paying `amount` to `payout`.
Transaction CreateCoinbase(uint32_t height, uint64_t amount, const XOnlyPublicKey& payout);

// The encoded bytes left for the non-coinbase transactions of a block at `height`: the block
// size limit minus the header, the largest transaction count and the coinbase.
std::size_t BlockTransactionBudget(const BlockAssemblerOptions& options, uint32_t height);

// Where a new block goes: its parent, height, time, bits and the subsidy its coinbase claims
// (ChainState::NextBits, NextBlockTime and NextContext give them).
struct NextBlock {
  Uint256 prev_hash;
  uint32_t height = 0;
  uint32_t time = 0;
  uint32_t bits = 0;
  uint64_t subsidy = 0;
};

// A block on `next`: coinbase (height field = next.height, one output paying next.subsidy + the
// fees of `transactions` to `payout`), then `transactions` in their order (parents must come
// first, as SelectForBlock gives them); merkle root set; nonce 0.
Block CreateNewBlock(const NextBlock& next, const XOnlyPublicKey& payout, const std::vector<MempoolEntry>& transactions);

// CreateNewBlock with the best transactions of `mempool` that fit in options.max_block_bytes.
Block AssembleBlock(const Mempool& mempool, const NextBlock& next, const XOnlyPublicKey& payout,
                    const BlockAssemblerOptions& options = {});

// Grinds the nonce from its current value (then bumps time by one second when all 2^32 nonces
// failed) until the header hash meets its bits; stops after max_tries hashes or when *interrupt
// becomes true. True if solved (the block then holds the winning nonce and time). Bits whose
// target is invalid or zero are never solved. Thread-safe for distinct blocks.
bool SolveBlock(Block& block, uint64_t max_tries, const std::atomic<bool>* interrupt = nullptr);

}  // namespace minicoin
