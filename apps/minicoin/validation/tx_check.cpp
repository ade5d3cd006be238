// Transaction rules.
#include "validation/tx_check.h"

#include "crypto/key.h"
#include "validation/signature_cache.h"

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
  if (tx.version != kTransactionVersion && tx.version != kLockTimeTransactionVersion) {
    return ValidationError{"unknown transaction version " + std::to_string(tx.version)};
  }
  if (tx.version < kLockTimeTransactionVersion && tx.lock_time != 0) {
    return ValidationError{"a version 1 transaction has no lock time"};
  }
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

bool IsFinal(const Transaction& tx, uint32_t height, uint32_t median_time_past) {
  if (tx.lock_time == 0) return true;
  uint32_t limit = tx.lock_time < kLockTimeThreshold ? height : median_time_past;
  return tx.lock_time < limit;
}

std::optional<ValidationError> CheckTransactionSpends(const Transaction& tx, const CoinsView& coins,
                                                      uint32_t spend_height, uint64_t& fee,
                                                      std::vector<SignatureCheck>& checks) {
  if (tx.IsCoinbase()) return ValidationError{"a coinbase spends no coins"};
  std::vector<SignatureCheck> pending;
  pending.reserve(tx.inputs.size());
  const Uint256 txid = tx.Txid();
  uint64_t total_in = 0;
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
    std::optional<Coin> coin = coins.Get(tx.inputs[i].prevout);
    if (!coin) return ValidationError{"input " + std::to_string(i) + " spends a missing or spent output"};
    if (coin->coinbase && spend_height < coin->height + kCoinbaseMaturity) {
      return ValidationError{"input " + std::to_string(i) + " spends an immature coinbase"};
    }
    if (coin->output.amount > kMaxMoney - total_in) return ValidationError{"inputs exceed the maximum amount"};
    total_in += coin->output.amount;
    pending.push_back(SignatureCheck{coin->output.pubkey, Transaction::SignatureHash(txid, i), tx.inputs[i].signature});
  }
  uint64_t total_out = tx.OutputTotal();
  if (total_in < total_out) return ValidationError{"outputs exceed inputs"};
  fee = total_in - total_out;
  checks.insert(checks.end(), pending.begin(), pending.end());
  return std::nullopt;
}

std::optional<std::size_t> VerifySignatures(const std::vector<SignatureCheck>& checks, crossproc::WorkerPool& pool,
                                            SignatureCache* cache) {
  // The costly part, spread over the pool in chunks; the lowest failing index is reported.
  std::atomic<std::size_t> first_bad{checks.size()};
  pool.ParallelFor(0, checks.size(), [&](std::size_t i) {
    if (i > first_bad.load(std::memory_order_relaxed)) return;  // a lower one already failed
    const SignatureCheck& check = checks[i];
    if (cache != nullptr && cache->Contains(check)) return;
    if (VerifySchnorr(check.pubkey, check.hash, check.signature)) {
      if (cache != nullptr) cache->Add(check);
    } else {
      std::size_t current = first_bad.load();
      while (i < current && !first_bad.compare_exchange_weak(current, i)) {
      }
    }
  }).Wait();
  if (first_bad.load() < checks.size()) return first_bad.load();
  return std::nullopt;
}

std::optional<ValidationError> CheckTransactionInputs(const Transaction& tx, const CoinsView& coins,
                                                      uint32_t spend_height, crossproc::WorkerPool& pool,
                                                      uint64_t& fee) {
  std::vector<SignatureCheck> checks;
  uint64_t spend_fee = 0;
  if (auto error = CheckTransactionSpends(tx, coins, spend_height, spend_fee, checks)) return error;
  if (std::optional<std::size_t> bad = VerifySignatures(checks, pool)) {
    return ValidationError{"input " + std::to_string(*bad) + " has an invalid signature"};
  }
  fee = spend_fee;
  return std::nullopt;
}

}  // namespace minicoin
