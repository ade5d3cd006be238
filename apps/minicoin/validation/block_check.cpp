// Block rules, connecting and disconnecting blocks.
#include "validation/block_check.h"

#include <functional>
#include <set>

namespace minicoin {

std::optional<ValidationError> CheckBlock(const Block& block, bool check_proof_of_work) {
  if (block.transactions.empty()) return ValidationError{"block has no transactions"};
  if (!block.transactions[0].IsCoinbase()) return ValidationError{"first transaction is not a coinbase"};
  std::set<Uint256> txids;
  for (std::size_t i = 0; i < block.transactions.size(); ++i) {
    const Transaction& tx = block.transactions[i];
    if (i > 0 && tx.IsCoinbase()) return ValidationError{"more than one coinbase"};
    if (auto error = CheckTransaction(tx)) return ValidationError{"transaction " + std::to_string(i) + ": " + error->reason};
    if (!txids.insert(tx.Txid()).second) return ValidationError{"transaction " + std::to_string(i) + " appears twice"};
  }
  if (block.ComputeMerkleRoot() != block.header.merkle_root) return ValidationError{"merkle root does not match"};
  if (check_proof_of_work && !CheckProofOfWork(block.header.Hash(), block.header.bits)) {
    return ValidationError{"proof of work too weak"};
  }
  return std::nullopt;
}

namespace {

// Coins as seen by a block being connected: the block's own earlier outputs and spends on top
// of the base set, without changing the base until the whole block is valid.
class LayeredCoins final : public CoinsView {
 public:
  explicit LayeredCoins(const CoinsView& base) : m_base(base) {}
  std::optional<Coin> Get(const OutPoint& outpoint) const override {
    if (m_spent.Get(outpoint)) return std::nullopt;
    if (auto coin = m_added.Get(outpoint)) return coin;
    return m_base.Get(outpoint);
  }
  void Spend(const OutPoint& outpoint, const Coin& coin) {
    if (!m_added.Spend(outpoint)) m_spent.Add(outpoint, coin);
  }
  void Add(const OutPoint& outpoint, const Coin& coin) { m_added.Add(outpoint, coin); }

 private:
  const CoinsView& m_base;
  MemoryCoins m_added;
  MemoryCoins m_spent;  // base coins spent by the block (the coin value is unused)
};

void AddOutputs(const Transaction& tx, uint32_t height, const std::function<void(const OutPoint&, const Coin&)>& add) {
  Uint256 txid = tx.Txid();
  for (uint32_t i = 0; i < tx.outputs.size(); ++i) add(OutPoint{txid, i}, Coin{tx.outputs[i], height, tx.IsCoinbase()});
}

}  // namespace

std::optional<ValidationError> ConnectBlock(const Block& block, const BlockContext& context, CoinsSet& coins,
                                            crossproc::WorkerPool& pool, BlockUndo& undo, SignatureCache* cache) {
  if (auto error = CheckBlock(block, context.check_proof_of_work)) return error;
  const uint32_t height = context.height;
  LayeredCoins view(coins);
  BlockUndo pending;
  uint64_t fees = 0;
  // Every signature of the block is verified at the end in one parallel loop, so that blocks of
  // many small transactions use every worker; `owners` maps a check back to its input.
  std::vector<SignatureCheck> checks;
  std::vector<std::pair<std::size_t, std::size_t>> owners;
  for (std::size_t i = 1; i < block.transactions.size(); ++i) {
    const Transaction& tx = block.transactions[i];
    if (!IsFinal(tx, height, context.median_time_past)) {
      return ValidationError{"transaction " + std::to_string(i) + " is not final (lock time " +
                             std::to_string(tx.lock_time) + ")"};
    }
    uint64_t fee = 0;
    if (auto error = CheckTransactionSpends(tx, view, height, fee, checks)) {
      return ValidationError{"transaction " + std::to_string(i) + ": " + error->reason};
    }
    for (std::size_t input = 0; owners.size() < checks.size(); ++input) owners.emplace_back(i, input);
    fees += fee;
    std::vector<Coin> spent;
    for (const auto& input : tx.inputs) {
      Coin coin = *view.Get(input.prevout);
      view.Spend(input.prevout, coin);
      spent.push_back(coin);
    }
    pending.spent.push_back(std::move(spent));
    AddOutputs(tx, height, [&](const OutPoint& outpoint, const Coin& coin) { view.Add(outpoint, coin); });
  }
  if (std::optional<std::size_t> bad = VerifySignatures(checks, pool, cache)) {
    return ValidationError{"transaction " + std::to_string(owners[*bad].first) + ": input " +
                           std::to_string(owners[*bad].second) + " has an invalid signature"};
  }
  const Transaction& coinbase = block.transactions[0];
  if (coinbase.height != height) return ValidationError{"coinbase height does not match the block height"};
  if (coinbase.OutputTotal() > context.subsidy + fees) return ValidationError{"coinbase pays more than subsidy plus fees"};
  // Valid: apply it. Outputs first, then the spends, which also removes the outputs that later
  // transactions of the block spent.
  for (const auto& tx : block.transactions) {
    AddOutputs(tx, height, [&](const OutPoint& outpoint, const Coin& coin) { coins.Add(outpoint, coin); });
  }
  for (std::size_t i = 1; i < block.transactions.size(); ++i) {
    for (const auto& input : block.transactions[i].inputs) coins.Spend(input.prevout);
  }
  undo = std::move(pending);
  return std::nullopt;
}

void DisconnectBlock(const Block& block, const BlockUndo& undo, CoinsSet& coins) {
  for (std::size_t i = block.transactions.size(); i-- > 0;) {
    const Transaction& tx = block.transactions[i];
    Uint256 txid = tx.Txid();
    for (uint32_t out = 0; out < tx.outputs.size(); ++out) coins.Spend(OutPoint{txid, out});
    if (i == 0) continue;
    const std::vector<Coin>& spent = undo.spent[i - 1];
    for (std::size_t in = 0; in < tx.inputs.size(); ++in) coins.Add(tx.inputs[in].prevout, spent[in]);
  }
}

}  // namespace minicoin
