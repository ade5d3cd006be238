// 256-bit unsigned arithmetic for chain work: addition, comparison, division, and the work of
// a block's proof-of-work target.
#pragma once

#include "primitives/hash.h"

#include <cstdint>
#include <optional>

namespace minicoin {

// Uint256 values read as little-endian 256-bit numbers (Uint256's operator< compares them so).
// a + b modulo 2^256.
Uint256 Add256(const Uint256& a, const Uint256& b);
// a - b modulo 2^256.
Uint256 Subtract256(const Uint256& a, const Uint256& b);
// The quotient of a / b, rounded down; nullopt if b is zero.
std::optional<Uint256> Divide256(const Uint256& a, const Uint256& b);
// ~a.
Uint256 Not256(const Uint256& a);
// A small number as a Uint256.
Uint256 Uint256FromU64(uint64_t value);
// The low 64 bits.
uint64_t LowU64(const Uint256& value);

// Expected number of hashes to find a block with these bits: 2^256 / (target + 1), computed as
// ~target / (target + 1) + 1. Zero for bits that stand for no valid target.
Uint256 BlockWork(uint32_t bits);

}  // namespace minicoin
