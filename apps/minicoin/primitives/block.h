// Blocks: a header committing to the previous block and to the transactions, with proof of work.
#pragma once

#include "primitives/hash.h"
#include "primitives/serialize.h"
#include "primitives/transaction.h"

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace minicoin {

inline constexpr uint32_t kBlockVersion = 1;
inline constexpr std::size_t kMaxBlockTransactions = 100'000;
inline constexpr std::size_t kBlockHeaderSize = 80;

struct BlockHeader {
  uint32_t version = kBlockVersion;
  Uint256 previous;     // hash of the previous block's header
  Uint256 merkle_root;  // of the transactions' full hashes (Transaction::Wtxid)
  uint32_t time = 0;    // seconds since 1970
  uint32_t bits = 0;    // the proof-of-work target, compact form
  uint32_t nonce = 0;

  // Double SHA-256 of the encoded header: the block's identifier and proof of work.
  Uint256 Hash() const;
  void Serialize(Writer& writer) const;
  static BlockHeader Deserialize(Reader& reader);
  // The kBlockHeaderSize bytes of Serialize, and back: Decode takes exactly one header and throws
  // DecodeError otherwise.
  std::vector<uint8_t> Encode() const;
  static BlockHeader Decode(std::span<const uint8_t> bytes);
  bool operator==(const BlockHeader&) const = default;
};

struct Block {
  BlockHeader header;
  std::vector<Transaction> transactions;  // the first one is the coinbase

  std::vector<uint8_t> Encode() const;
  // The length of Encode(), without encoding (what kMaxBlockSize limits).
  std::size_t EncodedSize() const;
  // Decodes exactly one block; throws DecodeError with the reason.
  static Block Decode(std::span<const uint8_t> bytes);
  // The merkle root of the transactions' Wtxids: signatures (and a coinbase's signature field,
  // which is free data for the miner) are committed along with everything else.
  Uint256 ComputeMerkleRoot() const;
  bool operator==(const Block&) const = default;
};

// The merkle root of `leaves`, pairing with double SHA-256 and repeating the last node of an odd
// level; zero for no leaves.
Uint256 MerkleRoot(std::vector<Uint256> leaves);

// The target a compact `bits` value stands for; nullopt if it is negative or overflows.
std::optional<Uint256> TargetFromBits(uint32_t bits);
// True if `hash` is at most the target of `bits`.
bool CheckProofOfWork(const Uint256& hash, uint32_t bits);

}  // namespace minicoin
