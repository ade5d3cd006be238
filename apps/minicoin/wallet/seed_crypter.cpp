// Seed encryption with OpenSSL 3.
#include "wallet/seed_crypter.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace minicoin {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kKeyBytes = 32;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// The AES key for `passphrase`; wiped by the caller.
std::array<uint8_t, kKeyBytes> DeriveKey(const std::string& passphrase, const std::vector<uint8_t>& salt,
                                         uint32_t iterations) {
  std::array<uint8_t, kKeyBytes> key{};
  if (iterations == 0 || iterations > 0x7fffffffu ||
      PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha512(),
                        static_cast<int>(key.size()), key.data()) != 1) {
    throw std::runtime_error("passphrase key derivation failed");
  }
  return key;
}

}  // namespace

std::vector<uint8_t> RandomBytes(std::size_t count) {
  std::vector<uint8_t> bytes(count);
  if (count > 0 && RAND_bytes(bytes.data(), static_cast<int>(count)) != 1) {
    throw std::runtime_error("the random source failed");
  }
  return bytes;
}

EncryptedSeed EncryptSeed(const std::vector<uint8_t>& seed, const std::string& passphrase, uint32_t iterations) {
  EncryptedSeed sealed;
  sealed.salt = RandomBytes(kSaltBytes);
  sealed.iterations = iterations;
  std::vector<uint8_t> nonce = RandomBytes(kNonceBytes);
  std::array<uint8_t, kKeyBytes> key = DeriveKey(passphrase, sealed.salt, iterations);

  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  std::vector<uint8_t> out(seed.size() + kTagBytes);
  int length = 0;
  int final_length = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes), nullptr) == 1 &&
            EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce.data()) == 1 &&
            EVP_EncryptUpdate(ctx.get(), out.data(), &length, seed.data(), static_cast<int>(seed.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx.get(), out.data() + length, &final_length) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                                out.data() + seed.size()) == 1;
  OPENSSL_cleanse(key.data(), key.size());
  if (!ok || static_cast<std::size_t>(length + final_length) != seed.size()) {
    throw std::runtime_error("seed encryption failed");
  }
  sealed.box = nonce;
  sealed.box.insert(sealed.box.end(), out.begin(), out.end());
  return sealed;
}

std::optional<std::vector<uint8_t>> DecryptSeed(const EncryptedSeed& sealed, const std::string& passphrase) {
  if (sealed.box.size() < kNonceBytes + kTagBytes || sealed.salt.empty()) return std::nullopt;
  std::size_t text_size = sealed.box.size() - kNonceBytes - kTagBytes;
  std::array<uint8_t, kKeyBytes> key = DeriveKey(passphrase, sealed.salt, sealed.iterations);
  const uint8_t* nonce = sealed.box.data();
  const uint8_t* text = nonce + kNonceBytes;
  std::vector<uint8_t> tag(text + text_size, text + text_size + kTagBytes);

  CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  std::vector<uint8_t> seed(text_size + 16);
  int length = 0;
  int final_length = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes), nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) == 1 &&
            EVP_DecryptUpdate(ctx.get(), seed.data(), &length, text, static_cast<int>(text_size)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), seed.data() + length, &final_length) == 1;
  OPENSSL_cleanse(key.data(), key.size());
  if (!ok) {
    Wipe(seed);
    return std::nullopt;
  }
  seed.resize(static_cast<std::size_t>(length + final_length));
  return seed;
}

void Wipe(std::vector<uint8_t>& bytes) {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
  bytes.clear();
}

}  // namespace minicoin
