// Transaction rules: what holds for any transaction, and what holds against the coins it spends.
#pragma once

#include "primitives/transaction.h"
#include "validation/coins.h"

#include <crossproc/worker_pool.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {

// A rule a transaction or block breaks; the text names the rule and the culprit.
struct ValidationError {
  std::string reason;
};

// Rules that need no context: inputs and outputs present, a known version (a lock time only
// from version 2), no input spent twice, no null outpoint outside a coinbase, amounts in range.
// Returns the broken rule, if any.
std::optional<ValidationError> CheckTransaction(const Transaction& tx);

// A lock time below this is a block height, from it on a time (seconds since 1970).
inline constexpr uint32_t kLockTimeThreshold = 500'000'000;

// True when `tx` may be in a block at `height` whose parent's median time past is
// `median_time_past`: its lock time is 0, a height below `height`, or a time below
// `median_time_past`.
bool IsFinal(const Transaction& tx, uint32_t height, uint32_t median_time_past);

// One signature to verify: `signature` must be `pubkey`'s BIP340 signature of `hash`.
struct SignatureCheck {
  XOnlyPublicKey pubkey{};
  Uint256 hash;
  SchnorrSignature signature{};
};

// CheckTransactionInputs without the signatures: appends the checks they need to `checks` (one
// per input, in input order) so that a caller can verify many transactions' signatures at once.
std::optional<ValidationError> CheckTransactionSpends(const Transaction& tx, const CoinsView& coins,
                                                      uint32_t spend_height, uint64_t& fee,
                                                      std::vector<SignatureCheck>& checks);

class SignatureCache;

// Verifies every check, split into chunks on `pool` (ParallelFor); returns the index of the
// first failing one, or nullopt if all hold. With a `cache`, checks it holds are not verified
// again and the ones that verify are added to it.
std::optional<std::size_t> VerifySignatures(const std::vector<SignatureCheck>& checks, crossproc::WorkerPool& pool,
                                            SignatureCache* cache = nullptr);

// Rules against the coins the (non-coinbase) transaction spends, at `spend_height`: every input
// exists and is mature, inputs cover outputs, and every signature is the spent output's key's
// BIP340 signature of the input's SignatureHash. The signatures are checked in chunks on `pool`
// (ParallelFor). On success, `fee` is inputs minus outputs.
std::optional<ValidationError> CheckTransactionInputs(const Transaction& tx, const CoinsView& coins,
                                                      uint32_t spend_height, crossproc::WorkerPool& pool,
                                                      uint64_t& fee);

}  // namespace minicoin
