// Unspent outputs.
#include "validation/coins.h"

namespace minicoin {

std::optional<Coin> MemoryCoins::Get(const OutPoint& outpoint) const {
  auto it = m_coins.find(outpoint);
  if (it == m_coins.end()) return std::nullopt;
  return it->second;
}

std::optional<Coin> MemoryCoins::Spend(const OutPoint& outpoint) {
  auto it = m_coins.find(outpoint);
  if (it == m_coins.end()) return std::nullopt;
  Coin coin = it->second;
  m_coins.erase(it);
  return coin;
}

}  // namespace minicoin
