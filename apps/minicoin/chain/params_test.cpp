// Tests of the chain parameters and the consensus rules that derive from them: the three chains,
// subsidy halving, compact targets, retargeting, median time past, the block size limit and
// lock times, each checked at its limit and one step over it.
#include "chain/chain_state.h"
#include "chain/params.h"
#include "chain/test_util.h"
#include "chain/work.h"
#include "crypto/key.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace minicoin {
namespace {

using test::CoinbaseOf;

TEST(ChainParams, ThreeChainsWithTheirOwnGenesisMagicPortsAndFolders) {
  const ChainParams& main = ChainParams::Get(ChainType::kMain);
  const ChainParams& test = ChainParams::Get(ChainType::kTest);
  const ChainParams& regtest = ChainParams::Get(ChainType::kRegtest);
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(test.name, "test");
  EXPECT_EQ(regtest.name, "regtest");
  EXPECT_EQ(BaseParams(ChainType::kMain).data_subdir, "");
  EXPECT_EQ(BaseParams(ChainType::kTest).data_subdir, "testnet");
  EXPECT_EQ(BaseParams(ChainType::kRegtest).data_subdir, "regtest");
  for (const ChainParams* params : {&main, &test, &regtest}) {
    EXPECT_TRUE(CheckProofOfWork(params->GenesisHash(), params->genesis.header.bits)) << params->name;
    EXPECT_EQ(params->genesis.header.bits, params->pow_limit_bits) << params->name;
    EXPECT_EQ(params->GenesisHash(), params->genesis.header.Hash()) << params->name;
    EXPECT_EQ(params->genesis.ComputeMerkleRoot(), params->genesis.header.merkle_root) << params->name;
  }
  // The stored nonces meet the bits: nothing is searched at start-up.
  EXPECT_EQ(main.GenesisHash().ToHex(), "000003049a18053cee4772aabb72872fdf9239a0d3b5f5c9b0a9b69b2aafddc6");
  EXPECT_EQ(main.genesis.header.nonce, 47556u);
  EXPECT_EQ(test.GenesisHash().ToHex(), "00007e5020b8a1599a2ad3a92ab393dd321378a01656d3e0b36117729b77e9a5");
  EXPECT_EQ(test.genesis.header.nonce, 85976u);
  EXPECT_NE(main.GenesisHash(), test.GenesisHash());
  EXPECT_NE(main.GenesisHash(), regtest.GenesisHash());
  EXPECT_NE(test.GenesisHash(), regtest.GenesisHash());
  EXPECT_NE(main.magic, test.magic);
  EXPECT_NE(main.magic, regtest.magic);
  EXPECT_NE(test.magic, regtest.magic);
  EXPECT_NE(BaseParams(ChainType::kMain).rpc_port, BaseParams(ChainType::kTest).rpc_port);
  EXPECT_NE(BaseParams(ChainType::kMain).rpc_port, BaseParams(ChainType::kRegtest).rpc_port);
  EXPECT_NE(BaseParams(ChainType::kMain).p2p_port, BaseParams(ChainType::kRegtest).p2p_port);
  EXPECT_FALSE(main.no_retargeting);
  EXPECT_TRUE(regtest.no_retargeting);
  EXPECT_EQ(regtest.subsidy_halving_interval, 150u);
  EXPECT_EQ(&GenesisBlock(), &regtest.genesis);

  EXPECT_EQ(ParseChainType("main"), ChainType::kMain);
  EXPECT_EQ(ParseChainType("test"), ChainType::kTest);
  EXPECT_EQ(ParseChainType("testnet"), ChainType::kTest);
  EXPECT_EQ(ParseChainType("regtest"), ChainType::kRegtest);
  EXPECT_FALSE(ParseChainType("signet").has_value());
  EXPECT_FALSE(ParseChainType("").has_value());
}

TEST(ChainParams, SubsidyHalvesOnSchedule) {
  const ChainParams& regtest = ChainParams::Get(ChainType::kRegtest);
  EXPECT_EQ(BlockSubsidy(0, regtest), 50 * kCoin);
  EXPECT_EQ(BlockSubsidy(149, regtest), 50 * kCoin);
  EXPECT_EQ(BlockSubsidy(150, regtest), 25 * kCoin);
  EXPECT_EQ(BlockSubsidy(299, regtest), 25 * kCoin);
  EXPECT_EQ(BlockSubsidy(300, regtest), 1'250'000'000u);
  EXPECT_EQ(BlockSubsidy(150 * 33, regtest), (50 * kCoin) >> 33);
  EXPECT_EQ(BlockSubsidy(150 * 64 - 1, regtest), (50 * kCoin) >> 63);
  EXPECT_EQ(BlockSubsidy(150 * 64, regtest), 0u);
  EXPECT_EQ(BlockSubsidy(0xffffffffu, regtest), 0u);
  const ChainParams& main = ChainParams::Get(ChainType::kMain);
  EXPECT_EQ(BlockSubsidy(209'999, main), 50 * kCoin);
  EXPECT_EQ(BlockSubsidy(210'000, main), 25 * kCoin);
  // The sum of all subsidies stays below the money limit.
  uint64_t total = 0;
  for (uint32_t halving = 0; halving < 64; ++halving) total += BlockSubsidy(halving * 210'000, main) * 210'000;
  EXPECT_LE(total, kMaxMoney);
}

TEST(ChainParams, CompactTargetsRoundTrip) {
  for (uint32_t bits : {0x1d00ffffu, 0x1f7fffffu, 0x207fffffu, 0x1e0fffffu, 0x1f00ffffu, 0x05009234u, 0x20123456u,
                        0x03123456u, 0x02120000u, 0x01120000u}) {
    std::optional<Uint256> target = TargetFromBits(bits);
    ASSERT_TRUE(target.has_value()) << std::hex << bits;
    EXPECT_EQ(BitsFromTarget(*target), bits) << std::hex << bits;
  }
  // Not the shortest form: encoded again in the canonical one.
  EXPECT_EQ(BitsFromTarget(*TargetFromBits(0x01123456)), 0x01120000u);
  EXPECT_EQ(BitsFromTarget(*TargetFromBits(0x04000080)), 0x03008000u);  // 0x80: the sign bit moves down
  EXPECT_EQ(BitsFromTarget(Uint256()), 0u);
}

// A chain whose target adjusts every 4 blocks, for 60 seconds a block.
ChainParams RetargetingParams() {
  ChainParams params = ChainParams::Get(ChainType::kRegtest);
  params.name = "retarget-test";
  params.pow_limit_bits = 0x207fffff;
  params.target_spacing = 60;
  params.retarget_interval = 4;
  params.no_retargeting = false;
  params.genesis.header.bits = params.pow_limit_bits;
  params.genesis.header.nonce = 0;
  params.Finish();
  return params;
}

TEST(ChainParams, RetargetingScalesTheTargetByTheIntervalsDurationWithinAFactorOfFour) {
  ChainParams params = RetargetingParams();
  const uint32_t bits = 0x1f7fffff;  // 1/256 of the limit: room to grow
  const int64_t timespan = params.target_spacing * params.retarget_interval;
  EXPECT_FALSE(IsRetargetHeight(3, params));
  EXPECT_TRUE(IsRetargetHeight(4, params));
  EXPECT_FALSE(IsRetargetHeight(0, params));
  // Only a block starting an interval (height 4, 8, ...) gets new bits.
  EXPECT_EQ(NextWorkRequired(bits, 5, 1000, 1000 + 10, params), bits);
  // On schedule: the same target.
  EXPECT_EQ(NextWorkRequired(bits, 3, 1000, 1000 + timespan, params), bits);
  // Twice as slow: twice the target; half as slow: half.
  EXPECT_EQ(NextWorkRequired(bits, 3, 1000, 1000 + 2 * timespan, params),
            BitsFromTarget(Add256(*TargetFromBits(bits), *TargetFromBits(bits))));
  EXPECT_EQ(NextWorkRequired(bits, 3, 1000, 1000 + timespan / 2, params), 0x1f3fffffu);
  // Clamped to a factor of four either way, and never easier than the limit.
  EXPECT_EQ(NextWorkRequired(bits, 3, 1000, 1000 + 4 * timespan, params),
            NextWorkRequired(bits, 3, 1000, 1000 + 100 * timespan, params));
  EXPECT_EQ(NextWorkRequired(bits, 3, 1000, 1000 + timespan / 4, params),
            NextWorkRequired(bits, 3, 10000, 5000, params));  // a parent before the interval's start
  EXPECT_EQ(NextWorkRequired(bits, 3, 1000, 1000 + timespan / 4, params), 0x1f1fffffu);
  EXPECT_EQ(NextWorkRequired(params.pow_limit_bits, 3, 1000, 1000 + 4 * timespan, params), params.pow_limit_bits);
  // Regtest never retargets.
  const ChainParams& regtest = ChainParams::Get(ChainType::kRegtest);
  EXPECT_EQ(NextWorkRequired(kRegtestBits, 2015, 0, 1, regtest), kRegtestBits);
}

class ConsensusRulesTest : public ::testing::Test {
 protected:
  ChainStateOptions Options(const ChainParams& params) {
    return ChainStateOptions{.dir = dir.path, .params = &params, .pool = &pool, .sync_writes = false,
                             .now = [] { return int64_t{kGenesisTime} + 1'000'000; }};
  }
  // A mined block on `parent` with the subsidy of its height and the bits the chain asks for.
  Block Next(const ChainState& chain, const BlockIndex& parent, uint32_t time, std::vector<Transaction> txs = {},
             uint64_t fees = 0) {
    Block block;
    block.header.previous = parent.hash;
    block.header.time = time;
    block.header.bits = chain.NextBits(parent);
    uint32_t height = parent.height + 1;
    block.transactions.push_back(test::MakeCoinbase(height, BlockSubsidy(height, chain.params()) + fees,
                                                    alice.PublicKey()));
    for (auto& tx : txs) block.transactions.push_back(std::move(tx));
    test::Mine(block);
    return block;
  }
  void Extend(ChainState& chain, uint32_t count, uint32_t spacing = 1) {
    for (uint32_t i = 0; i < count; ++i) {
      Block block = Next(chain, chain.Tip(), chain.Tip().header.time + spacing);
      ChainState::BlockResult result = chain.ProcessBlock(block);
      ASSERT_TRUE(result.accepted) << result.reason;
    }
  }
  // A version-2 spend of `from` (alice's) with `lock_time`, signed.
  Transaction LockedSpend(const OutPoint& from, uint32_t lock_time, uint64_t amount) {
    Transaction tx;
    tx.version = kLockTimeTransactionVersion;
    tx.lock_time = lock_time;
    tx.inputs.push_back(TxIn{from, {}});
    tx.outputs.push_back(TxOut{amount, bob.PublicKey()});
    tx.inputs[0].signature = alice.Sign(tx.SignatureHash(0));
    return tx;
  }
  test::TempDir dir{"minicoin-params"};
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
  PrivateKey alice = PrivateKey::Derive(std::vector<uint8_t>{1}, 0);
  PrivateKey bob = PrivateKey::Derive(std::vector<uint8_t>{2}, 0);
};

TEST_F(ConsensusRulesTest, ACoinbaseMayClaimTheHalvedSubsidyButNotOneUnitMore) {
  ChainState chain(Options(ChainParams::Get(ChainType::kRegtest)));
  Extend(chain, 149);
  const BlockIndex& tip = chain.Tip();
  Block greedy = Next(chain, tip, tip.header.time + 1);
  greedy.transactions[0].outputs[0].amount = 25 * kCoin + 1;
  test::Mine(greedy);
  EXPECT_EQ(chain.ProcessBlock(greedy).reason, "coinbase pays more than subsidy plus fees");
  Block fair = Next(chain, tip, tip.header.time + 2);
  EXPECT_EQ(fair.transactions[0].outputs[0].amount, 25 * kCoin);
  EXPECT_TRUE(chain.ProcessBlock(fair).accepted);
  EXPECT_EQ(chain.Height(), 150u);
  EXPECT_EQ(chain.GetCoinsStats().total_amount, 149 * 50 * kCoin + 25 * kCoin);
}

TEST_F(ConsensusRulesTest, BlocksMustCarryTheRetargetedBits) {
  ChainParams params = RetargetingParams();
  ChainState chain(Options(params));
  // Blocks 1-3 every 15 s: the interval from block 0 to 3 took 45 s instead of 240 s.
  Extend(chain, 3, 15);
  const BlockIndex& parent = chain.Tip();
  uint32_t expected = NextWorkRequired(parent.header.bits, parent.height, chain.AtHeight(0)->header.time,
                                       parent.header.time, params);
  EXPECT_EQ(chain.NextBits(parent), expected);
  EXPECT_NE(expected, params.pow_limit_bits);  // harder: clamped to a quarter of the target
  Block stale = Next(chain, parent, parent.header.time + 15);
  stale.header.bits = params.pow_limit_bits;
  test::Mine(stale);
  EXPECT_EQ(chain.ProcessBlock(stale).reason, "bad-diffbits");
  Block retargeted = Next(chain, parent, parent.header.time + 15);
  EXPECT_EQ(retargeted.header.bits, expected);
  EXPECT_TRUE(chain.ProcessBlock(retargeted).accepted);
  // Within an interval the bits stay.
  Block changed = Next(chain, chain.Tip(), chain.Tip().header.time + 15);
  changed.header.bits = params.pow_limit_bits;
  test::Mine(changed);
  EXPECT_EQ(chain.ProcessBlock(changed).reason, "bad-diffbits");
  Extend(chain, 3, 300);  // blocks 5-7, slow: the next interval eases again
  EXPECT_EQ(chain.Height(), 7u);
  EXPECT_NE(chain.NextBits(chain.Tip()), expected);
}

TEST_F(ConsensusRulesTest, ABlockTimeMustBeAfterTheMedianTimePast) {
  ChainState chain(Options(ChainParams::Get(ChainType::kRegtest)));
  Extend(chain, 12, 10);
  const BlockIndex& tip = chain.Tip();
  uint32_t median = chain.MedianTimePast(tip);
  EXPECT_EQ(median, chain.AtHeight(7)->header.time);  // the middle of blocks 2..12
  EXPECT_EQ(chain.ProcessBlock(Next(chain, tip, median)).reason, "time-too-old");
  EXPECT_TRUE(chain.ProcessBlock(Next(chain, tip, median + 1)).accepted);
  EXPECT_EQ(chain.NextBlockTime(chain.Tip(), 0), chain.MedianTimePast(chain.Tip()) + 1);
  EXPECT_EQ(chain.NextBlockTime(chain.Tip(), int64_t{kGenesisTime} + 999), kGenesisTime + 999);
}

TEST_F(ConsensusRulesTest, ABlockAtTheSizeLimitIsAcceptedAndOneByteMoreIsNot) {
  // Blocks with only a coinbase all have the same size: make that size the limit.
  ChainParams params = ChainParams::Get(ChainType::kRegtest);
  ChainStateOptions options = Options(params);
  options.dir = dir.path / "at-limit";
  ChainState chain(options);
  Block at_limit = Next(chain, chain.Tip(), kGenesisTime + 1);
  params.max_block_size = at_limit.EncodedSize();
  EXPECT_EQ(at_limit.EncodedSize(), at_limit.Encode().size());
  Block over = Next(chain, chain.Tip(), kGenesisTime + 2);
  over.transactions[0].outputs.push_back(TxOut{0, bob.PublicKey()});  // 40 bytes more
  test::Mine(over);
  EXPECT_EQ(chain.ProcessBlock(over).reason, "bad-blk-length");
  EXPECT_TRUE(chain.ProcessBlock(at_limit).accepted);

  // The same block one byte over a limit one below its size.
  ChainParams tight = params;
  tight.max_block_size = params.max_block_size - 1;
  options = Options(tight);
  options.dir = dir.path / "tight";
  ChainState tight_chain(options);
  EXPECT_EQ(tight_chain.ProcessBlock(at_limit).reason, "bad-blk-length");
  EXPECT_EQ(ChainParams::Get(ChainType::kMain).max_block_size, kMaxBlockSize);
}

TEST_F(ConsensusRulesTest, ATransactionIsInABlockOnlyAfterItsLockTime) {
  ChainState chain(Options(ChainParams::Get(ChainType::kRegtest)));
  Extend(chain, 101, 10);
  const BlockIndex& tip = chain.Tip();  // height 101: the next block is 102
  const uint32_t height = tip.height + 1;
  OutPoint coin = CoinbaseOf(chain, 1);
  const uint64_t amount = kBlockSubsidy - 1000;

  // Height locks: the block must be higher than the lock time.
  Block early = Next(chain, tip, tip.header.time + 1, {LockedSpend(coin, height, amount)}, 1000);
  EXPECT_EQ(chain.ProcessBlock(early).reason, "transaction 1 is not final (lock time 102)");
  Block on_time = Next(chain, tip, tip.header.time + 2, {LockedSpend(coin, height - 1, amount)}, 1000);
  ChainState::BlockResult result = chain.ProcessBlock(on_time);
  EXPECT_TRUE(result.accepted) << result.reason;

  // Time locks: the parent's median time past must be later than the lock time.
  const BlockIndex& parent = chain.Tip();
  const uint32_t median = chain.MedianTimePast(parent);
  ASSERT_GE(median, kLockTimeThreshold);
  OutPoint other = CoinbaseOf(chain, 2);
  Block too_soon = Next(chain, parent, parent.header.time + 1, {LockedSpend(other, median, amount)}, 1000);
  EXPECT_EQ(chain.ProcessBlock(too_soon).reason,
            "transaction 1 is not final (lock time " + std::to_string(median) + ")");
  Block ripe = Next(chain, parent, parent.header.time + 2, {LockedSpend(other, median - 1, amount)}, 1000);
  result = chain.ProcessBlock(ripe);
  EXPECT_TRUE(result.accepted) << result.reason;

  // A version-1 transaction cannot carry a lock time.
  Transaction v1 = LockedSpend(CoinbaseOf(chain, 3), 0, amount);
  v1.version = kTransactionVersion;
  v1.lock_time = 5;
  EXPECT_EQ(CheckTransaction(v1)->reason, "a version 1 transaction has no lock time");
}

TEST_F(ConsensusRulesTest, StateOfOneChainIsRefusedByAnother) {
  { ChainState regtest(Options(ChainParams::Get(ChainType::kRegtest))); }
  try {
    ChainState main(Options(ChainParams::Get(ChainType::kMain)));
    FAIL() << "the regtest state opened as main";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not that of the main chain"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir.path);
  ChainState main(Options(ChainParams::Get(ChainType::kMain)));
  EXPECT_EQ(main.Tip().hash, ChainParams::Get(ChainType::kMain).GenesisHash());
  EXPECT_EQ(main.Height(), 0u);
}

}  // namespace
}  // namespace minicoin
