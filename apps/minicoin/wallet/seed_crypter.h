// Passphrase encryption of a wallet seed: PBKDF2-HMAC-SHA512 and AES-256-GCM (OpenSSL).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {

// A seed sealed with a passphrase. `box` is the 12-byte GCM nonce, the ciphertext and the
// 16-byte tag; the key is PBKDF2-HMAC-SHA512(passphrase, salt, iterations), 32 bytes. Value type.
struct EncryptedSeed {
  std::vector<uint8_t> salt;
  uint32_t iterations = 0;
  std::vector<uint8_t> box;
};

// The number of PBKDF2 rounds new wallets use (about a tenth of a second on a desktop CPU).
inline constexpr uint32_t kDefaultKdfIterations = 100'000;

// `count` bytes from the operating system's random source (OpenSSL's RAND_bytes); throws
// std::runtime_error if it fails.
std::vector<uint8_t> RandomBytes(std::size_t count);

// Seals `seed` with a fresh random salt and nonce. Throws std::runtime_error if OpenSSL fails.
EncryptedSeed EncryptSeed(const std::vector<uint8_t>& seed, const std::string& passphrase, uint32_t iterations);
// The seed, or nullopt when the passphrase is wrong (or the box was altered).
std::optional<std::vector<uint8_t>> DecryptSeed(const EncryptedSeed& sealed, const std::string& passphrase);

// Overwrites `bytes` with zeros in a way the compiler keeps, then empties it.
void Wipe(std::vector<uint8_t>& bytes);

}  // namespace minicoin
