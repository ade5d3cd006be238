// BIP340 Schnorr keys and signatures (libsecp256k1).
#include "crypto/key.h"

#include "primitives/serialize.h"

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sys/random.h>

#include <algorithm>
#include <stdexcept>

namespace minicoin {
namespace {

// libsecp256k1's context: created once, read-only afterwards, so it may be shared by threads.
const secp256k1_context* Context() {
  static secp256k1_context* context = [] {
    secp256k1_context* created = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    std::array<uint8_t, 32> seed{};
    if (getrandom(seed.data(), seed.size(), 0) == static_cast<ssize_t>(seed.size())) {
      // Side-channel hardening only: a context that could not be randomized computes correctly.
      int randomized = secp256k1_context_randomize(created, seed.data());
      (void)randomized;
    }
    return created;
  }();
  return context;
}

void RandomBytes(std::span<uint8_t> out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    ssize_t count = getrandom(out.data() + filled, out.size() - filled, 0);
    if (count <= 0) throw std::runtime_error("cannot read random bytes");
    filled += static_cast<std::size_t>(count);
  }
}

secp256k1_keypair Keypair(const std::array<uint8_t, 32>& secret) {
  secp256k1_keypair keypair;
  if (secp256k1_keypair_create(Context(), &keypair, secret.data()) != 1) throw std::logic_error("invalid secret key");
  return keypair;
}

}  // namespace

PrivateKey PrivateKey::Generate() {
  std::array<uint8_t, 32> secret{};
  do {
    RandomBytes(secret);
  } while (secp256k1_ec_seckey_verify(Context(), secret.data()) != 1);
  return PrivateKey(secret);
}

PrivateKey PrivateKey::Derive(std::span<const uint8_t> seed, uint32_t index) {
  for (uint32_t attempt = 0;; ++attempt) {
    Writer writer;
    writer.Bytes(seed);
    writer.U32(index);
    writer.U32(attempt);
    Uint256 candidate = Sha256(writer.bytes());
    if (secp256k1_ec_seckey_verify(Context(), candidate.data()) == 1) return PrivateKey(candidate.bytes());
  }
}

std::optional<PrivateKey> PrivateKey::FromBytes(std::span<const uint8_t> bytes) {
  if (bytes.size() != 32) return std::nullopt;
  std::array<uint8_t, 32> secret{};
  std::copy(bytes.begin(), bytes.end(), secret.begin());
  if (secp256k1_ec_seckey_verify(Context(), secret.data()) != 1) return std::nullopt;
  return PrivateKey(secret);
}

XOnlyPublicKey PrivateKey::PublicKey() const {
  secp256k1_keypair keypair = Keypair(m_secret);
  secp256k1_xonly_pubkey pubkey;
  if (secp256k1_keypair_xonly_pub(Context(), &pubkey, nullptr, &keypair) != 1) {
    throw std::logic_error("cannot derive the public key");
  }
  XOnlyPublicKey out{};
  secp256k1_xonly_pubkey_serialize(Context(), out.data(), &pubkey);
  return out;
}

SchnorrSignature PrivateKey::Sign(const Uint256& message) const {
  secp256k1_keypair keypair = Keypair(m_secret);
  std::array<uint8_t, 32> aux{};
  RandomBytes(aux);
  SchnorrSignature signature{};
  if (secp256k1_schnorrsig_sign32(Context(), signature.data(), message.data(), &keypair, aux.data()) != 1) {
    throw std::runtime_error("signing failed");
  }
  return signature;
}

bool VerifySchnorr(const XOnlyPublicKey& pubkey, const Uint256& message, const SchnorrSignature& signature) {
  secp256k1_xonly_pubkey parsed;
  if (secp256k1_xonly_pubkey_parse(Context(), &parsed, pubkey.data()) != 1) return false;
  return secp256k1_schnorrsig_verify(Context(), signature.data(), message.data(), 32, &parsed) == 1;
}

}  // namespace minicoin
