// Transactions: inputs spend earlier outputs and carry Schnorr signatures; outputs pay amounts to
// x-only public keys.
#pragma once

#include "primitives/hash.h"
#include "primitives/serialize.h"

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace minicoin {

inline constexpr uint64_t kCoin = 100'000'000;
inline constexpr uint64_t kMaxMoney = 21'000'000 * kCoin;
inline constexpr uint32_t kTransactionVersion = 1;
// Version 2 adds a lock time (the encoding of version 1 has none: its lock time is 0).
inline constexpr uint32_t kLockTimeTransactionVersion = 2;
inline constexpr std::size_t kMaxTransactionInputs = 10'000;
inline constexpr std::size_t kMaxTransactionOutputs = 10'000;

using XOnlyPublicKey = std::array<uint8_t, 32>;
using SchnorrSignature = std::array<uint8_t, 64>;

// Which output an input spends. The null outpoint (zero txid, index 0xffffffff) marks a coinbase.
struct OutPoint {
  Uint256 txid;
  uint32_t index = 0;
  bool IsNull() const { return txid.IsZero() && index == 0xffffffffu; }
  bool operator==(const OutPoint&) const = default;
};

struct TxIn {
  OutPoint prevout;
  SchnorrSignature signature{};  // over SignatureHash(input index); zero in a coinbase
  bool operator==(const TxIn&) const = default;
};

struct TxOut {
  uint64_t amount = 0;  // in units of 1/kCoin
  XOnlyPublicKey pubkey{};
  bool operator==(const TxOut&) const = default;
};

// A transaction. Value type; the encoding is versioned and strictly checked on decode.
struct Transaction {
  uint32_t version = kTransactionVersion;
  std::vector<TxIn> inputs;
  std::vector<TxOut> outputs;
  uint32_t height = 0;  // the block height, in a coinbase (makes each coinbase unique)
  // Version 2 only: 0, or the earliest block the transaction may be in: a height below
  // kLockTimeThreshold (the block must be higher), otherwise a time (the median time past of
  // the block's parent must be later). See IsFinal (validation/tx_check.h).
  uint32_t lock_time = 0;

  bool IsCoinbase() const { return inputs.size() == 1 && inputs[0].prevout.IsNull(); }
  // Identifier: double SHA-256 of the transaction without its signatures, so that signing
  // does not change it. Outpoints and signature hashes use it.
  Uint256 Txid() const;
  // Double SHA-256 of the whole encoding, signatures included: what a block's merkle root
  // commits to, so that no byte of a block can change without changing the block's hash.
  Uint256 Wtxid() const;
  // What input `index` signs: the identifier committed together with the input's position.
  Uint256 SignatureHash(std::size_t index) const { return SignatureHash(Txid(), index); }
  // The same, from an identifier computed once (for transactions with many inputs).
  static Uint256 SignatureHash(const Uint256& txid, std::size_t index);
  // Sum of the outputs; throws DecodeError if it exceeds kMaxMoney.
  uint64_t OutputTotal() const;

  void Serialize(Writer& writer) const;
  static Transaction Deserialize(Reader& reader);
  std::vector<uint8_t> Encode() const;
  // The length of Encode(), without encoding.
  std::size_t EncodedSize() const;
  // Decodes exactly one transaction from `bytes` (trailing bytes are an error).
  static Transaction Decode(std::span<const uint8_t> bytes);

  bool operator==(const Transaction&) const = default;

 private:
  void SerializeUnsigned(Writer& writer) const;
};

}  // namespace minicoin
