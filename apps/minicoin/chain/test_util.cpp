// Helpers for tests that need blocks.
#include "chain/test_util.h"

#include "chain/params.h"
#include "validation/block_check.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace minicoin::test {

TempDir::TempDir(const std::string& prefix) {
  static std::atomic<int> counter{0};
  path = std::filesystem::temp_directory_path() /
         (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(path);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path, ignored);
}

OutPoint CoinbaseOf(const ChainState& chain, uint32_t height) {
  return OutPoint{chain.ReadBlock(*chain.AtHeight(height))->transactions[0].Txid(), 0};
}

Transaction MakeCoinbase(uint32_t height, uint64_t amount, const XOnlyPublicKey& to) {
  Transaction tx;
  tx.inputs.push_back(TxIn{OutPoint{Uint256(), 0xffffffffu}, {}});
  tx.outputs.push_back(TxOut{amount, to});
  tx.height = height;
  return tx;
}

Transaction MakeSpend(const OutPoint& from, const PrivateKey& key, uint64_t amount, const XOnlyPublicKey& to) {
  return MakeSpend(std::vector<OutPoint>{from}, key, std::vector<uint64_t>{amount}, to);
}

Transaction MakeSpend(const std::vector<OutPoint>& from, const PrivateKey& key, const std::vector<uint64_t>& amounts,
                      const XOnlyPublicKey& to) {
  Transaction tx;
  for (const auto& outpoint : from) tx.inputs.push_back(TxIn{outpoint, {}});
  for (uint64_t amount : amounts) tx.outputs.push_back(TxOut{amount, to});
  Uint256 txid = tx.Txid();
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
    tx.inputs[i].signature = key.Sign(Transaction::SignatureHash(txid, i));
  }
  return tx;
}

void Mine(Block& block) {
  block.header.merkle_root = block.ComputeMerkleRoot();
  while (!CheckProofOfWork(block.header.Hash(), block.header.bits)) ++block.header.nonce;
}

Block MakeBlock(const Uint256& previous, uint32_t height, uint32_t time, const XOnlyPublicKey& to,
                std::vector<Transaction> transactions, uint64_t fees) {
  Block block;
  block.header.previous = previous;
  block.header.time = time;
  block.header.bits = kRegtestBits;
  block.transactions.push_back(MakeCoinbase(height, BlockSubsidy(height, ChainParams::Get(ChainType::kRegtest)) + fees, to));
  for (auto& tx : transactions) block.transactions.push_back(std::move(tx));
  Mine(block);
  return block;
}

Block MakeBlock(const BlockIndex& parent, const XOnlyPublicKey& to, std::vector<Transaction> transactions,
                uint64_t fees, uint32_t time_offset) {
  return MakeBlock(parent.hash, parent.height + 1, parent.header.time + 1 + time_offset, to, std::move(transactions),
                   fees);
}

std::vector<Block> MakeBranch(const Uint256& previous, uint32_t height, uint32_t time, int count,
                              const XOnlyPublicKey& to, uint32_t salt,
                              const std::vector<Transaction>& first_transactions) {
  std::vector<Block> blocks;
  blocks.reserve(static_cast<std::size_t>(std::max(count, 0)));
  Uint256 parent = previous;
  for (int i = 0; i < count; ++i) {
    ++height;
    time += 1 + salt;
    blocks.push_back(MakeBlock(parent, height, time, to, i == 0 ? first_transactions : std::vector<Transaction>{}));
    parent = blocks.back().header.Hash();
  }
  return blocks;
}

}  // namespace minicoin::test
