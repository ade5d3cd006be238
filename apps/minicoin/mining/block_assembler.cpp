// Block templates and proof-of-work grinding.
#include "mining/block_assembler.h"

#include "primitives/hash.h"
#include "validation/block_check.h"

#include <algorithm>

namespace minicoin {
namespace {

constexpr std::size_t kHeaderBytes = 80;
constexpr std::size_t kTimeOffset = 68;   // of BlockHeader::time in the encoded header
constexpr std::size_t kNonceOffset = 76;  // of BlockHeader::nonce
constexpr std::size_t kMaxCountBytes = 9;  // the longest compact size

void PutU32(std::vector<uint8_t>& bytes, std::size_t offset, uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i) bytes[offset + i] = static_cast<uint8_t>(value >> (8 * i));
}

}  // namespace

Transaction CreateCoinbase(uint32_t height, uint64_t amount, const XOnlyPublicKey& payout) {
  Transaction coinbase;
  coinbase.inputs.push_back(TxIn{OutPoint{Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back(TxOut{amount, payout});
  coinbase.height = height;
  return coinbase;
}

std::size_t BlockTransactionBudget(const BlockAssemblerOptions& options, uint32_t height) {
  const std::size_t reserved = kHeaderBytes + kMaxCountBytes + CreateCoinbase(height, 0, {}).Encode().size();
  return options.max_block_bytes > reserved ? options.max_block_bytes - reserved : 0;
}

Block CreateNewBlock(const NextBlock& next, const XOnlyPublicKey& payout, const std::vector<MempoolEntry>& transactions) {
  uint64_t fees = 0;
  for (const auto& entry : transactions) fees += entry.fee;
  Block block;
  block.header.previous = next.prev_hash;
  block.header.time = next.time;
  block.header.bits = next.bits;
  block.header.nonce = 0;
  block.transactions.reserve(transactions.size() + 1);
  block.transactions.push_back(CreateCoinbase(next.height, next.subsidy + fees, payout));
  for (const auto& entry : transactions) block.transactions.push_back(entry.tx);
  block.header.merkle_root = block.ComputeMerkleRoot();
  return block;
}

Block AssembleBlock(const Mempool& mempool, const NextBlock& next, const XOnlyPublicKey& payout,
                    const BlockAssemblerOptions& options) {
  return CreateNewBlock(next, payout, mempool.SelectForBlock(BlockTransactionBudget(options, next.height)));
}

bool SolveBlock(Block& block, uint64_t max_tries, const std::atomic<bool>* interrupt) {
  std::optional<Uint256> target = TargetFromBits(block.header.bits);
  if (!target || target->IsZero()) return false;
  // The encoded header, with the nonce and time patched in place between tries.
  Writer writer;
  block.header.Serialize(writer);
  std::vector<uint8_t> header = writer.Take();
  for (uint64_t tries = 0; tries < max_tries; ++tries) {
    if (interrupt != nullptr && interrupt->load(std::memory_order_relaxed)) return false;
    PutU32(header, kNonceOffset, block.header.nonce);
    if (!(*target < Sha256d(header))) return true;
    if (++block.header.nonce == 0) {
      ++block.header.time;
      PutU32(header, kTimeOffset, block.header.time);
    }
  }
  return false;
}

}  // namespace minicoin
