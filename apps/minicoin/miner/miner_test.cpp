// Tests of the miner and the node's Mining interface: a Node in this process serves its Mining
// through a crossproc connection over a socket pair, so every call crosses real messages.
#include "miner/miner.h"

#include "ipc/partial_init.h"
#include "node/mining_interface.h"
#include "node/node.h"

#include <crossproc/listener.h>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

namespace minicoin {
namespace {

using Clock = std::chrono::steady_clock;

// Serves the node's Mining as minicoin-node's Init does.
class TestInit final : public ipc::PartialInit {
 public:
  explicit TestInit(Node& node) : PartialInit("miner_test"), m_node(node) {}
  std::unique_ptr<ipc::Mining> makeMining() override { return MakeMining(m_node); }

 private:
  Node& m_node;
};

std::filesystem::path TempDir() {
  std::random_device random;
  auto dir = std::filesystem::temp_directory_path() / ("minicoin-miner-test-" + std::to_string(random()));
  std::filesystem::create_directories(dir);
  return dir;
}

// A node in a temporary data directory whose Mining object is reached through a connection.
class MiningFixture : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }

  void Start(const std::vector<std::pair<std::string, std::string>>& extra) {
    m_dir = TempDir();
    AddNodeOptions(m_args, NodeOptions{});
    m_args.ForceSetArg("-datadir", m_dir.string());
    m_args.ForceSetArg("-regtest", "1");
    m_args.ForceSetArg("-par", "1");
    for (const auto& [name, value] : extra) m_args.ForceSetArg(name, value);
    m_node = std::make_unique<Node>(m_args, m_log, NodeOptions{});
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    m_server = std::make_unique<crossproc::Connection>(
        fds[0], crossproc::MakeServer<ipc::Init>(std::make_shared<TestInit>(*m_node)));
    m_client = std::make_unique<crossproc::Connection>(fds[1]);
    m_init = m_client->Bootstrap<ipc::Init>();
    m_mining = m_init->makeMining();
  }

  void TearDown() override {
    m_mining.reset();
    m_init.reset();
    m_client.reset();
    m_server.reset();
    m_node.reset();
    std::error_code ignored;
    std::filesystem::remove_all(m_dir, ignored);
  }

  static ipc::BlockCreateOptions Payout(uint8_t fill) {
    ipc::BlockCreateOptions options;
    options.payoutKey = std::vector<uint8_t>(32, fill);
    return options;
  }

  static BlockHeader HeaderOf(ipc::BlockTemplate& block_template) {
    std::vector<uint8_t> bytes = block_template.getBlockHeader();
    Reader reader(bytes);
    return BlockHeader::Deserialize(reader);
  }

  bool SolveAndSubmit(ipc::BlockTemplate& block_template, std::string& reason) {
    BlockHeader header = HeaderOf(block_template);
    std::optional<Solution> solution = GrindHeader(header, m_pool, [] { return false; });
    EXPECT_TRUE(solution);
    return block_template.submitSolution(header.version, solution->time, solution->nonce, {}, reason);
  }

  std::filesystem::path m_dir;
  ArgsManager m_args;
  Logger m_log;
  std::unique_ptr<Node> m_node;
  std::unique_ptr<crossproc::Connection> m_server;
  std::unique_ptr<crossproc::Connection> m_client;
  std::unique_ptr<ipc::InitClient> m_init;
  std::unique_ptr<ipc::Mining> m_mining;
  crossproc::WorkerPool m_pool{crossproc::WorkerPoolOptions{.threads = 2, .name = "grind"}};
};

TEST(GrindHeader, FindsANonceMeetingTheTarget) {
  crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 2, .name = "grind"});
  BlockHeader header;
  header.bits = 0x1f7fffff;
  std::optional<Solution> solution = GrindHeader(header, pool, [] { return false; });
  ASSERT_TRUE(solution);
  header.time = solution->time;
  header.nonce = solution->nonce;
  EXPECT_TRUE(CheckProofOfWork(header.Hash(), header.bits));
}

TEST(GrindHeader, StopsWhenAbandonedAndRefusesInvalidBits) {
  crossproc::WorkerPool pool(crossproc::WorkerPoolOptions{.threads = 2, .name = "grind"});
  BlockHeader header;
  header.bits = 0x03000001;  // a target of 1: never met in practice
  std::atomic<int> polls{0};
  EXPECT_FALSE(GrindHeader(header, pool, [&] { return ++polls > 4; }));
  header.bits = 0x04800001;  // negative
  EXPECT_FALSE(GrindHeader(header, pool, [] { return false; }));
}

TEST_F(MiningFixture, TemplateDescribesABlockOnTheTip) {
  auto block_template = m_mining->createNewBlock(Payout(1));
  ipc::BlockRef tip = m_mining->getTip();
  Block block = Block::Decode(block_template->getBlock());
  EXPECT_EQ(std::vector<uint8_t>(block.header.previous.bytes().begin(), block.header.previous.bytes().end()), tip.hash);
  EXPECT_EQ(HeaderOf(*block_template), block.header);
  ipc::CoinbaseTx coinbase = block_template->getCoinbaseTx();
  EXPECT_EQ(coinbase.height, tip.height + 1);
  EXPECT_EQ(coinbase.value, kBlockSubsidy);
  EXPECT_EQ(Transaction::Decode(coinbase.encoded), block.transactions[0]);
  EXPECT_EQ(coinbase.payoutKey, std::vector<uint8_t>(32, 1));
  EXPECT_TRUE(block_template->getTxFees().empty());
  EXPECT_TRUE(block_template->getCoinbaseMerklePath().empty());  // the coinbase is the root
  ipc::MemoryLoad load = m_mining->getMemoryLoad();
  EXPECT_EQ(load.templates, 1u);
  EXPECT_GT(load.bytes, 0u);
  block_template.reset();
  EXPECT_EQ(m_mining->getMemoryLoad().templates, 0u);
  EXPECT_EQ(m_mining->getMemoryLoad().bytes, 0u);
}

TEST_F(MiningFixture, BadPayoutIsAClearError) {
  ipc::BlockCreateOptions options;
  try {
    m_mining->createNewBlock(options);
    FAIL() << "no error";
  } catch (const crossproc::RemoteError& e) {
    EXPECT_NE(e.message().find("set payoutKey or payoutAddress"), std::string::npos) << e.message();
  }
  options.payoutAddress = "mcrt1notanaddress";
  EXPECT_THROW(m_mining->createNewBlock(options), crossproc::RemoteError);
  options.payoutAddress.clear();
  options.payoutKey = {1, 2, 3};
  EXPECT_THROW(m_mining->createNewBlock(options), crossproc::RemoteError);
}

TEST_F(MiningFixture, CheckBlockAndSubmitBlock) {
  auto block_template = m_mining->createNewBlock(Payout(2));
  Block block = Block::Decode(block_template->getBlock());
  std::string reason;
  ipc::BlockCheckOptions no_pow;
  no_pow.checkPow = false;
  EXPECT_TRUE(m_mining->checkBlock(block.Encode(), no_pow, reason)) << reason;
  std::optional<Solution> solution = GrindHeader(block.header, m_pool, [] { return false; });
  block.header.time = solution->time;
  block.header.nonce = solution->nonce;
  // Find a header that misses the target, for the check with proof of work.
  Block weak = block;
  while (CheckProofOfWork(weak.header.Hash(), weak.header.bits)) ++weak.header.nonce;
  EXPECT_FALSE(m_mining->checkBlock(weak.Encode(), {}, reason));
  EXPECT_EQ(reason, "proof of work too weak");
  EXPECT_TRUE(m_mining->checkBlock(block.Encode(), {}, reason)) << reason;
  EXPECT_FALSE(m_mining->checkBlock({1, 2, 3}, {}, reason));
  EXPECT_NE(reason.find("bad-block-encoding"), std::string::npos);
  EXPECT_TRUE(m_mining->submitBlock(block.Encode(), reason));
  EXPECT_EQ(reason, "");
  EXPECT_EQ(m_node->chain().Height(), 1u);
  EXPECT_FALSE(m_mining->submitBlock(block.Encode(), reason));
  EXPECT_EQ(reason, "duplicate");
  EXPECT_FALSE(m_mining->checkBlock(block.Encode(), {}, reason));
  EXPECT_EQ(reason, "inconclusive-not-best-prevblk");
}

TEST_F(MiningFixture, TemplatesHeldAcrossTipChangesAreSolvedLater) {
  auto first = m_mining->createNewBlock(Payout(3));
  auto second = m_mining->createNewBlock(Payout(4));
  std::string reason;
  EXPECT_TRUE(SolveAndSubmit(*second, reason));
  EXPECT_EQ(reason, "");
  auto third = m_mining->createNewBlock(Payout(5));
  EXPECT_TRUE(SolveAndSubmit(*third, reason));
  EXPECT_EQ(m_node->chain().Height(), 2u);
  // `first` builds on genesis: a valid block, but not on the active chain.
  EXPECT_TRUE(SolveAndSubmit(*first, reason));
  EXPECT_EQ(reason, "valid-but-not-tip");
  EXPECT_EQ(m_node->chain().Height(), 2u);
}

TEST_F(MiningFixture, WaitNextReturnsANewTemplateOnANewTipAndNullAtTheTimeout) {
  auto block_template = m_mining->createNewBlock(Payout(6));
  bool interrupted = true;
  Clock::time_point start = Clock::now();
  EXPECT_EQ(block_template->waitNext({200, 0}, interrupted), nullptr);
  EXPECT_FALSE(interrupted);
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(190));

  std::unique_ptr<ipc::BlockTemplate> next;
  std::thread waiter([&] { next = block_template->waitNext({20'000, 0}, interrupted); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto miner = m_mining->createNewBlock(Payout(7));
  std::string reason;
  EXPECT_TRUE(SolveAndSubmit(*miner, reason));
  waiter.join();
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->getCoinbaseTx().height, 2u);
  EXPECT_EQ(next->getCoinbaseTx().payoutKey, std::vector<uint8_t>(32, 6));  // same options
}

TEST_F(MiningFixture, InterruptReleasesEveryWaiterAndStays) {
  auto block_template = m_mining->createNewBlock(Payout(8));
  std::vector<uint8_t> tip = m_mining->getTip().hash;
  bool template_interrupted = false;
  bool tip_interrupted = false;
  std::thread a([&] { block_template->waitNext({60'000, 0}, template_interrupted); });
  std::thread b([&] { m_mining->waitTipChanged(tip, 60'000, tip_interrupted); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Clock::time_point start = Clock::now();
  m_mining->interrupt();
  a.join();
  b.join();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(template_interrupted);
  EXPECT_TRUE(tip_interrupted);
  bool later = false;
  m_mining->waitTipChanged(tip, 60'000, later);
  EXPECT_TRUE(later);
}

TEST_F(MiningFixture, MinerMinesTheRequestedBlocks) {
  std::vector<MinedBlock> mined;
  MinerOptions options;
  options.payout.fill(9);
  options.blocks = 3;
  Miner miner(*m_mining, m_pool, options, [&](const MinedBlock& block) { mined.push_back(block); });
  EXPECT_EQ(miner.Run(), 3u);
  EXPECT_EQ(m_node->chain().Height(), 3u);
  ASSERT_EQ(mined.size(), 3u);
  for (std::size_t i = 0; i < mined.size(); ++i) {
    EXPECT_TRUE(mined[i].accepted);
    EXPECT_EQ(mined[i].height, i + 1);
    EXPECT_EQ(mined[i].hash, m_node->chain().AtHeight(static_cast<uint32_t>(i + 1))->hash);
  }
  EXPECT_EQ(m_mining->getMemoryLoad().templates, 0u);
}

TEST_F(MiningFixture, MinerStopsWhenAsked) {
  MinerOptions options;
  options.payout.fill(10);
  Miner miner(*m_mining, m_pool, options, nullptr);
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    miner.Stop();
  });
  Clock::time_point start = Clock::now();
  uint64_t mined = miner.Run();
  stopper.join();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(m_node->chain().Height(), mined);
}

class MiningMemoryFixture : public MiningFixture {
 protected:
  void SetUp() override { Start({{"-maxtemplatememory", "1"}}); }
};

TEST_F(MiningMemoryFixture, LimitRefusesTemplatesUntilSomeAreReleased) {
  std::vector<std::unique_ptr<ipc::BlockTemplate>> held;
  std::string error;
  while (held.size() < 100'000) {
    try {
      held.push_back(m_mining->createNewBlock(Payout(11)));
    } catch (const crossproc::RemoteError& e) {
      error = e.message();
      break;
    }
  }
  EXPECT_NE(error.find("-maxtemplatememory"), std::string::npos) << error;
  ipc::MemoryLoad load = m_mining->getMemoryLoad();
  EXPECT_EQ(load.templates, held.size());
  EXPECT_LE(load.bytes, load.limitBytes);
  EXPECT_EQ(load.limitBytes, 1u << 20);
  held.pop_back();
  EXPECT_NE(m_mining->createNewBlock(Payout(12)), nullptr);
}

TEST(MinerKey, CreatedOnceWithMode0600) {
  std::filesystem::path dir = TempDir();
  MinerKey first = LoadOrCreateMinerKey(dir);
  EXPECT_TRUE(first.created);
  struct stat info {};
  ASSERT_EQ(::stat(first.path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  MinerKey second = LoadOrCreateMinerKey(dir);
  EXPECT_FALSE(second.created);
  EXPECT_EQ(second.pubkey, first.pubkey);
  { std::ofstream(first.path) << "not a key\n"; }
  EXPECT_THROW(LoadOrCreateMinerKey(dir), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace minicoin
