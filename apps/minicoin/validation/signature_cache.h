// SignatureCache: signatures already verified, so that connecting a block need not verify them
// again.
#pragma once

#include "primitives/hash.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_set>

namespace minicoin {

struct SignatureCheck;

// A bounded set of (signature hash, public key, signature) triples that verified. An entry is
// the SHA-256 of the three together, behind a random salt drawn at construction (so that nobody
// can choose triples whose entries crowd one bucket of the table), and a hit stands for exactly
// the triple that was verified:
// whoever filled the cache (a speculative check ahead of a block's connection, an earlier
// connection), a lookup never accepts a signature that was not verified. Past `max_entries` the
// oldest entries are forgotten. Thread-safe.
//
//   SignatureCache cache;
//   if (!cache.Contains(check) && VerifySchnorr(...)) cache.Add(check);
class SignatureCache {
 public:
  // About 100 bytes an entry: 10 MB at the default.
  static constexpr std::size_t kDefaultMaxEntries = 100'000;

  explicit SignatureCache(std::size_t max_entries = kDefaultMaxEntries);
  SignatureCache(const SignatureCache&) = delete;
  SignatureCache& operator=(const SignatureCache&) = delete;

  bool Contains(const SignatureCheck& check) const;
  // Records that `check` verified (the caller verified it).
  void Add(const SignatureCheck& check);
  std::size_t size() const;
  // Lookups that found their entry, since construction.
  std::size_t hits() const;

 private:
  Uint256 KeyOf(const SignatureCheck& check) const;
  // Entries are salted digests: any 8 of their bytes are already a uniform hash.
  struct KeyHash {
    std::size_t operator()(const Uint256& key) const {
      std::size_t value = 0;
      std::memcpy(&value, key.data(), sizeof(value));
      return value;
    }
  };

  const std::size_t m_max_entries;
  std::array<uint8_t, 32> m_salt{};
  mutable std::mutex m_mutex;
  std::unordered_set<Uint256, KeyHash> m_entries;  // guarded by m_mutex
  std::deque<Uint256> m_order;            // oldest first; guarded by m_mutex
  mutable std::size_t m_hits = 0;         // guarded by m_mutex
};

}  // namespace minicoin
