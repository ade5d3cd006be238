// Transaction rules.
#include "validation/tx_check.h"

#include "crypto/key.h"

#include <atomic>
#include <set>

namespace minicoin {
namespace {

bool LessOutPoint(const OutPoint& a, const OutPoint& b) {
  if (a.txid == b.txid) return a.index < b.index;
  return a.txid < b.txid;
}

}  // namespace

std::optional<ValidationError> CheckTransaction(const Transaction& tx) {
  if (tx.inputs.empty()) return ValidationError{"transaction has no inputs"};
  if (tx.outputs.empty()) return ValidationError{"transaction has no outputs"};
  try {
    tx.OutputTotal();
  } catch (const DecodeError&) {
    return ValidationError{"transaction outputs exceed the maximum amount"};
  }
  std::set<OutPoint, decltype(&LessOutPoint)> spent(&LessOutPoint);
  for (const auto& input : tx.inputs) {
    if (!spent.insert(input.prevout).second) return ValidationError{"transaction spends an output twice"};
    if (input.prevout.IsNull() && !tx.IsCoinbase()) return ValidationError{"null outpoint outside a coinbase"};
  }
  return std::nullopt;
}

std::optional<ValidationError> CheckTransactionInputs(const Transaction& tx, const CoinsView& coins,
                                                      uint32_t spend_height, crossproc::WorkerPool& pool,
                                                      uint64_t& fee) {
  if (tx.IsCoinbase()) return ValidationError{"a coinbase spends no coins"};
  std::vector<Coin> spent;
  spent.reserve(tx.inputs.size());
  uint64_t total_in = 0;
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
    std::optional<Coin> coin = coins.Get(tx.inputs[i].prevout);
    if (!coin) return ValidationError{"input " + std::to_string(i) + " spends a missing or spent output"};
    if (coin->coinbase && spend_height < coin->height + kCoinbaseMaturity) {
      return ValidationError{"input " + std::to_string(i) + " spends an immature coinbase"};
    }
    if (coin->output.amount > kMaxMoney - total_in) return ValidationError{"inputs exceed the maximum amount"};
    total_in += coin->output.amount;
    spent.push_back(*coin);
  }
  uint64_t total_out = tx.OutputTotal();
  if (total_in < total_out) return ValidationError{"outputs exceed inputs"};
  // Signatures: the costly part, spread over the pool; the first bad input is reported.
  const Uint256 txid = tx.Txid();
  std::atomic<std::size_t> first_bad{tx.inputs.size()};
  pool.ParallelFor(0, tx.inputs.size(), [&](std::size_t i) {
    if (!VerifySchnorr(spent[i].output.pubkey, Transaction::SignatureHash(txid, i), tx.inputs[i].signature)) {
      std::size_t current = first_bad.load();
      while (i < current && !first_bad.compare_exchange_weak(current, i)) {
      }
    }
  }).Wait();
  if (first_bad.load() < tx.inputs.size()) {
    return ValidationError{"input " + std::to_string(first_bad.load()) + " has an invalid signature"};
  }
  fee = total_in - total_out;
  return std::nullopt;
}

}  // namespace minicoin
