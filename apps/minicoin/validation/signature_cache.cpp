// SignatureCache: a bounded set of verified signature triples.
#include "validation/signature_cache.h"

#include "validation/tx_check.h"

#include <algorithm>
#include <vector>

namespace minicoin {

SignatureCache::SignatureCache(std::size_t max_entries) : m_max_entries(std::max<std::size_t>(1, max_entries)) {}

Uint256 SignatureCache::KeyOf(const SignatureCheck& check) {
  std::vector<uint8_t> bytes;
  bytes.reserve(check.hash.bytes().size() + check.pubkey.size() + check.signature.size());
  bytes.insert(bytes.end(), check.hash.bytes().begin(), check.hash.bytes().end());
  bytes.insert(bytes.end(), check.pubkey.begin(), check.pubkey.end());
  bytes.insert(bytes.end(), check.signature.begin(), check.signature.end());
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
