// Unspent outputs ("coins") and the view of them that validation checks spends against.
#pragma once

#include "primitives/transaction.h"

#include <cstdint>
#include <map>
#include <optional>

namespace minicoin {

inline constexpr uint32_t kCoinbaseMaturity = 100;

// An unspent output, with where it was created.
struct Coin {
  TxOut output;
  uint32_t height = 0;    // height of the block that created it
  bool coinbase = false;  // created by a coinbase: spendable only after kCoinbaseMaturity blocks
  bool operator==(const Coin&) const = default;
};

// Lookup of unspent outputs. Implementations say whether they are thread-safe.
class CoinsView {
 public:
  virtual ~CoinsView() = default;
  virtual std::optional<Coin> Get(const OutPoint& outpoint) const = 0;
};

// A coin set that blocks are connected to and disconnected from.
class CoinsSet : public CoinsView {
 public:
  // Adds or replaces the coin at `outpoint`.
  virtual void Add(const OutPoint& outpoint, const Coin& coin) = 0;
  // Removes and returns the coin; nullopt if there was none.
  virtual std::optional<Coin> Spend(const OutPoint& outpoint) = 0;
};

// An in-memory set of coins. Thread-compatible: concurrent reads are safe, writes are not.
class MemoryCoins final : public CoinsSet {
 public:
  std::optional<Coin> Get(const OutPoint& outpoint) const override;
  void Add(const OutPoint& outpoint, const Coin& coin) override { m_coins[outpoint] = coin; }
  std::optional<Coin> Spend(const OutPoint& outpoint) override;
  std::size_t size() const { return m_coins.size(); }

 private:
  struct Less {
    bool operator()(const OutPoint& a, const OutPoint& b) const {
      if (a.txid == b.txid) return a.index < b.index;
      return a.txid < b.txid;
    }
  };
  std::map<OutPoint, Coin, Less> m_coins;
};

}  // namespace minicoin
