// The three chains and the rules derived from their parameters.
#include "chain/params.h"

#include "chain/work.h"

#include <algorithm>
#include <stdexcept>

namespace minicoin {
namespace {

// The first nonces from 0 that meet the main and test genesis blocks' bits (Finish checks them,
// and would search on from them if they did not).
constexpr uint32_t kMainGenesisNonce = 47556;
constexpr uint32_t kTestGenesisNonce = 85976;

Block MakeGenesis(uint32_t time, uint32_t bits, uint32_t nonce) {
  Transaction coinbase;
  coinbase.inputs.push_back(TxIn{OutPoint{Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back(TxOut{kBlockSubsidy, XOnlyPublicKey{}});
  coinbase.height = 0;
  Block block;
  block.transactions.push_back(coinbase);
  block.header.merkle_root = block.ComputeMerkleRoot();
  block.header.time = time;
  block.header.bits = bits;
  block.header.nonce = nonce;
  return block;
}

// A chain with the given identity and easiest target, and main's schedule: a block every 120 s,
// retargeted every 720 blocks (a day), the subsidy halving every 210,000 blocks.
// `genesis_nonce` must meet `pow_limit_bits` (Finish checks it).
ChainParams MakeChain(ChainType type, std::array<uint8_t, 4> magic, uint32_t pow_limit_bits, uint32_t genesis_time,
                      uint32_t genesis_nonce) {
  ChainParams params;
  params.type = type;
  params.name = BaseParams(type).name;
  params.magic = magic;
  params.pow_limit_bits = pow_limit_bits;
  params.target_spacing = 120;
  params.retarget_interval = 720;
  params.no_retargeting = false;
  params.subsidy_halving_interval = 210'000;
  params.genesis = MakeGenesis(genesis_time, pow_limit_bits, genesis_nonce);
  params.Finish();
  return params;
}

ChainParams MakeRegtest() {
  ChainParams params = MakeChain(ChainType::kRegtest, {0xe6, 0x7c, 0x9d, 0x3a}, kRegtestBits, kGenesisTime, 0);
  params.no_retargeting = true;
  params.subsidy_halving_interval = 150;
  return params;
}

// target * factor, or nullopt when the product needs more than 256 bits.
std::optional<Uint256> MultiplySmall(const Uint256& target, uint32_t factor) {
  std::array<uint8_t, 32> out{};
  uint64_t carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    uint64_t product = static_cast<uint64_t>(target.bytes()[i]) * factor + carry;
    out[i] = static_cast<uint8_t>(product);
    carry = product >> 8;
  }
  if (carry != 0) return std::nullopt;
  return Uint256(out);
}

}  // namespace

void ChainParams::Finish() {
  while (!CheckProofOfWork(genesis.header.Hash(), genesis.header.bits)) ++genesis.header.nonce;
  m_genesis_hash = genesis.header.Hash();
}

const ChainParams& ChainParams::Get(ChainType type) {
  // Each chain is built the first time it is asked for.
  switch (type) {
    case ChainType::kMain: {
      // About 2^20 hashes a block at the easiest: a CPU core finds one in about a second.
      static const ChainParams main =
          MakeChain(ChainType::kMain, {0xf3, 0xc6, 0xa5, 0xe9}, 0x1e0fffff, kGenesisTime, kMainGenesisNonce);
      return main;
    }
    case ChainType::kTest: {
      // About 2^16 hashes a block at the easiest.
      static const ChainParams test =
          MakeChain(ChainType::kTest, {0x0b, 0x6d, 0x63, 0x07}, 0x1f00ffff, kGenesisTime + 1, kTestGenesisNonce);
      return test;
    }
    case ChainType::kRegtest:
      break;
  }
  static const ChainParams regtest = MakeRegtest();
  return regtest;
}

const Block& GenesisBlock() { return ChainParams::Get(ChainType::kRegtest).genesis; }

uint64_t BlockSubsidy(uint32_t height, const ChainParams& params) {
  uint32_t halvings = params.subsidy_halving_interval == 0 ? 0 : height / params.subsidy_halving_interval;
  if (halvings >= 64) return 0;
  return kBlockSubsidy >> halvings;
}

bool IsRetargetHeight(uint32_t height, const ChainParams& params) {
  return !params.no_retargeting && params.retarget_interval != 0 && height != 0 &&
         height % params.retarget_interval == 0;
}

uint32_t NextWorkRequired(uint32_t parent_bits, uint32_t parent_height, uint32_t first_time, uint32_t parent_time,
                          const ChainParams& params) {
  if (!IsRetargetHeight(parent_height + 1, params)) return parent_bits;
  const int64_t timespan = params.target_spacing * params.retarget_interval;
  int64_t actual = static_cast<int64_t>(parent_time) - static_cast<int64_t>(first_time);
  actual = std::clamp(actual, timespan / 4, timespan * 4);
  std::optional<Uint256> target = TargetFromBits(parent_bits);
  std::optional<Uint256> limit = TargetFromBits(params.pow_limit_bits);
  if (!target || !limit) throw std::logic_error("NextWorkRequired: bits that stand for no target");
  // new target = target * actual / timespan; divide first where the product would overflow.
  Uint256 scaled;
  if (std::optional<Uint256> product = MultiplySmall(*target, static_cast<uint32_t>(actual))) {
    scaled = *Divide256(*product, Uint256FromU64(static_cast<uint64_t>(timespan)));
  } else {
    Uint256 part = *Divide256(*target, Uint256FromU64(static_cast<uint64_t>(timespan)));
    scaled = MultiplySmall(part, static_cast<uint32_t>(actual)).value_or(*limit);
  }
  if (*limit < scaled) scaled = *limit;
  return BitsFromTarget(scaled);
}

uint32_t BitsFromTarget(const Uint256& target) {
  const auto& bytes = target.bytes();
  uint32_t size = 32;
  while (size > 0 && bytes[size - 1] == 0) --size;
  // The three most significant bytes (fewer for small numbers, shifted up).
  uint32_t mantissa = 0;
  for (uint32_t i = 0; i < 3; ++i) {
    mantissa <<= 8;
    if (size >= i + 1) mantissa |= bytes[size - 1 - i];
  }
  // The sign bit must stay clear: move one byte down and grow the exponent.
  if ((mantissa & 0x00800000) != 0) {
    mantissa >>= 8;
    ++size;
  }
  return mantissa | (size << 24);
}

}  // namespace minicoin
