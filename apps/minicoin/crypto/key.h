// BIP340 Schnorr keys and signatures (libsecp256k1).
#pragma once

#include "primitives/hash.h"
#include "primitives/transaction.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace minicoin {

// A secret key. Immutable value; copy with care (it is a secret).
class PrivateKey {
 public:
  // A new random key (from the operating system's random source).
  static PrivateKey Generate();
  // The key derived from `seed` and `index` (deterministic: the same inputs, the same key).
  static PrivateKey Derive(std::span<const uint8_t> seed, uint32_t index);
  // The key with these 32 secret bytes; nullopt unless they are exactly 32 bytes forming a valid
  // secp256k1 scalar (non-zero, below the group order).
  static std::optional<PrivateKey> FromBytes(std::span<const uint8_t> bytes);

  // The 32 secret bytes (FromBytes' input).
  std::array<uint8_t, 32> Bytes() const { return m_secret; }

  XOnlyPublicKey PublicKey() const;
  // BIP340 signature of the 32-byte message.
  SchnorrSignature Sign(const Uint256& message) const;

 private:
  explicit PrivateKey(const std::array<uint8_t, 32>& secret) : m_secret(secret) {}
  std::array<uint8_t, 32> m_secret{};
};

// True if `signature` is `pubkey`'s BIP340 signature of `message`.
bool VerifySchnorr(const XOnlyPublicKey& pubkey, const Uint256& message, const SchnorrSignature& signature);

}  // namespace minicoin
