// Chain parameters: the proof-of-work bits every block carries, the genesis block, time limits.
#pragma once

#include "primitives/block.h"

#include <cstdint>

namespace minicoin {

// Every block must carry exactly these bits: about 1 in 512 hashes passes, so a CPU mines a
// block in about a millisecond.
inline constexpr uint32_t kRegtestBits = 0x1f7fffff;
// A block's time may be at most this many seconds ahead of the node's clock.
inline constexpr int64_t kMaxFutureBlockTime = 2 * 60 * 60;
inline constexpr uint32_t kGenesisTime = 1767225600;  // 2026-01-01 00:00:00 UTC

// The first block: a coinbase (height 0) paying kBlockSubsidy to the all-zero key (unspendable;
// its coin is never added to the coin set), kGenesisTime, and the first nonce from 0 that meets
// kRegtestBits. Computed at first use, the same on every run. Immutable, thread-safe.
const Block& GenesisBlock();

}  // namespace minicoin
