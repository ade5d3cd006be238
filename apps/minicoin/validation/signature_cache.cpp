// SignatureCache: a bounded set of verified signature triples.
#include "validation/signature_cache.h"

#include "validation/tx_check.h"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace minicoin {

SignatureCache::SignatureCache(std::size_t max_entries) : m_max_entries(std::max<std::size_t>(1, max_entries)) {
  if (RAND_bytes(m_salt.data(), static_cast<int>(m_salt.size())) != 1) {
    throw std::runtime_error("cannot draw the signature cache's salt");
  }
  m_entries.reserve(std::min<std::size_t>(m_max_entries, kDefaultMaxEntries) + 1);
}

Uint256 SignatureCache::KeyOf(const SignatureCheck& check) const {
  std::array<uint8_t, 32 + 32 + 32 + 64> bytes;
  static_assert(sizeof(check.pubkey) == 32 && sizeof(check.signature) == 64);
  uint8_t* out = bytes.data();
  out = std::copy(m_salt.begin(), m_salt.end(), out);
  out = std::copy(check.hash.bytes().begin(), check.hash.bytes().end(), out);
  out = std::copy(check.pubkey.begin(), check.pubkey.end(), out);
  std::copy(check.signature.begin(), check.signature.end(), out);
  return Sha256(bytes);
}

bool SignatureCache::Contains(const SignatureCheck& check) const {
  const Uint256 key = KeyOf(check);
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!m_entries.contains(key)) return false;
  ++m_hits;
  return true;
}

void SignatureCache::Add(const SignatureCheck& check) {
  const Uint256 key = KeyOf(check);
  std::lock_guard<std::mutex> lock(m_mutex);
  if (!m_entries.insert(key).second) return;
  m_order.push_back(key);
  while (m_order.size() > m_max_entries) {
    m_entries.erase(m_order.front());
    m_order.pop_front();
  }
}

std::size_t SignatureCache::size() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_entries.size();
}

std::size_t SignatureCache::hits() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_hits;
}

}  // namespace minicoin
