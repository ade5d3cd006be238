// Chain parameters: the three chains (main, test, regtest) with their genesis blocks, network
// magic, default ports, data subfolders and consensus rules (proof-of-work limit and
// retargeting, subsidy halving, block size), and the rules that derive from them.
#pragma once

#include "common/chain_type.h"
#include "primitives/block.h"
#include "validation/block_check.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace minicoin {

// The bits of regtest's genesis block and its proof-of-work limit: about 1 in 512 hashes
// passes, so a CPU mines a block in about a millisecond.
inline constexpr uint32_t kRegtestBits = 0x1f7fffff;
// A block's time may be at most this many seconds ahead of the node's clock.
inline constexpr int64_t kMaxFutureBlockTime = 2 * 60 * 60;
inline constexpr uint32_t kGenesisTime = 1767225600;  // 2026-01-01 00:00:00 UTC
// A block's encoded size may be at most this many bytes (on every chain).
inline constexpr std::size_t kMaxBlockSize = 1'000'000;
// How many earlier blocks' times MedianTimePast takes the median of (the block itself included).
inline constexpr uint32_t kMedianTimeSpan = 11;

// One chain's parameters. Immutable; obtained from ChainParams::Get (or built by tests).
struct ChainParams {
  ChainType type = ChainType::kRegtest;
  std::string name;  // BaseParams(type).name, or a test's own name
  std::array<uint8_t, 4> magic{};  // starts every peer-to-peer message

  // Proof of work: the easiest target allowed, and the schedule that adjusts the target.
  uint32_t pow_limit_bits = kRegtestBits;
  int64_t target_spacing = 60;      // seconds wanted between blocks
  uint32_t retarget_interval = 0;   // blocks between adjustments
  bool no_retargeting = true;       // every block carries its parent's bits (regtest)

  uint32_t subsidy_halving_interval = 150;
  std::size_t max_block_size = kMaxBlockSize;
  Block genesis;

  // The chains. Built at first use, the same on every run; thread-safe.
  static const ChainParams& Get(ChainType type);
  const Uint256& GenesisHash() const { return m_genesis_hash; }

  // Called once the fields are set (Get does it; tests building their own parameters too):
  // mines the genesis block if its nonce does not meet its bits yet, and caches its hash.
  void Finish();

 private:
  Uint256 m_genesis_hash;
};

// The subsidy a coinbase at `height` may claim (besides the fees): kBlockSubsidy halved once
// per full halving interval, zero after 64 halvings.
uint64_t BlockSubsidy(uint32_t height, const ChainParams& params);

// The bits a block on a parent must carry. `parent_bits` and `parent_height` describe the parent,
// `first_time` is the time of the block that started the parent's interval
// (parent_height + 1 - retarget_interval) and `parent_time` the parent's time; they are used
// only when the new block starts an interval (ChainParams::IsRetargetHeight).
uint32_t NextWorkRequired(uint32_t parent_bits, uint32_t parent_height, uint32_t first_time, uint32_t parent_time,
                          const ChainParams& params);
// True when a block at `height` gets new bits (never with no_retargeting).
bool IsRetargetHeight(uint32_t height, const ChainParams& params);
// The compact form of a target (the inverse of TargetFromBits, rounding down as Bitcoin does).
uint32_t BitsFromTarget(const Uint256& target);

// The genesis block of regtest (kept for code written before there were several chains).
const Block& GenesisBlock();

}  // namespace minicoin
