// The genesis block.
#include "chain/params.h"

#include "validation/block_check.h"

namespace minicoin {
namespace {

Block MakeGenesis() {
  Transaction coinbase;
  coinbase.inputs.push_back(TxIn{OutPoint{Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back(TxOut{kBlockSubsidy, XOnlyPublicKey{}});
  coinbase.height = 0;
  Block block;
  block.transactions.push_back(coinbase);
  block.header.merkle_root = block.ComputeMerkleRoot();
  block.header.time = kGenesisTime;
  block.header.bits = kRegtestBits;
  block.header.nonce = 0;
  while (!CheckProofOfWork(block.header.Hash(), block.header.bits)) ++block.header.nonce;
  return block;
}

}  // namespace

const Block& GenesisBlock() {
  static const Block genesis = MakeGenesis();
  return genesis;
}

}  // namespace minicoin
