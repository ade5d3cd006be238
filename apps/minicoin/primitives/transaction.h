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

  bool IsCoinbase() const { return inputs.size() == 1 && inputs[0].prevout.IsNull(); }
  // Identifier: double SHA-256 of the transaction without its signatures, so that signing
  // does not change it.
  Uint256 Txid() const;
  // What input `index` signs: the identifier committed together with the input's position.
  Uint256 SignatureHash(std::size_t index) const { return SignatureHash(Txid(), index); }
  // The same, from an identifier computed once (for transactions with many inputs).
  static Uint256 SignatureHash(const Uint256& txid, std::size_t index);
  // Sum of the outputs; throws DecodeError if it exceeds kMaxMoney.
  uint64_t OutputTotal() const;

  void Serialize(Writer& writer) const;
  static Transaction Deserialize(Reader& reader);
  std::vector<uint8_t> Encode() const;
  // Decodes exactly one transaction from `bytes` (trailing bytes are an error).
  static Transaction Decode(std::span<const uint8_t> bytes);

  bool operator==(const Transaction&) const = default;

 private:
  void SerializeUnsigned(Writer& writer) const;
};

}  // namespace minicoin
