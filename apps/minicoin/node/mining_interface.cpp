// The node's Mining interface: block templates that the node keeps for their clients, waits for
// new work, and solutions turned back into blocks.
#include "node/mining_interface.h"

#include "chain/params.h"
#include "mining/block_assembler.h"
#include "node/node.h"
#include "primitives/address.h"
#include "validation/block_check.h"

#include <crossproc/server.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace minicoin {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kDefaultMaxTemplateMiB = 100;
constexpr int64_t kMaxTipAgeSeconds = 24 * 60 * 60;
// Waits wake up at least this often to notice a canceled call or a shutdown.
constexpr auto kWaitSlice = std::chrono::milliseconds(100);
constexpr const char* kValidButNotTip = "valid-but-not-tip";

std::vector<uint8_t> HashBytes(const Uint256& hash) { return {hash.bytes().begin(), hash.bytes().end()}; }

ipc::BlockRef ToBlockRef(const BlockIndex& index) {
  return ipc::BlockRef{HashBytes(index.hash), index.height, index.header.time};
}

Clock::time_point DeadlineAfter(uint64_t timeout_ms) {
  // Far enough for "forever" without overflowing the clock.
  constexpr uint64_t kMaxMs = uint64_t{1} << 40;
  return Clock::now() + std::chrono::milliseconds(std::min(timeout_ms, kMaxMs));
}

// Maps ChainState's answer to the (result, reason) of submitBlock and submitSolution.
bool BlockAnswer(const ChainState::BlockResult& result, std::string& reason) {
  if (result.accepted) {
    reason = result.new_tip ? "" : kValidButNotTip;
    return true;
  }
  reason = result.reason.empty() ? "rejected" : result.reason;
  return false;
}

// Estimated memory of a block held in a template: the objects, not only their encoding.
uint64_t EstimateBlockMemory(const Block& block) {
  uint64_t bytes = sizeof(Block);
  for (const Transaction& tx : block.transactions) {
    bytes += sizeof(Transaction) + tx.inputs.size() * sizeof(TxIn) + tx.outputs.size() * sizeof(TxOut);
  }
  return bytes;
}

// The block data of one template, shared by the BlockTemplate object and, while they run, the
// calls that read or solve it; its accounting in TemplateMemory ends with the last owner.
// Immutable after construction.
struct TemplateData {
  TemplateData(TemplateMemory& memory_in, uint64_t bytes_in) : memory(memory_in), bytes(bytes_in) {}
  ~TemplateData() {
    memory.bytes.fetch_sub(bytes);
    memory.templates.fetch_sub(1);
  }
  TemplateData(const TemplateData&) = delete;
  TemplateData& operator=(const TemplateData&) = delete;

  TemplateMemory& memory;
  const uint64_t bytes;  // accounted in memory.bytes
  Block block;
  uint32_t height = 0;
  std::vector<uint64_t> fees;  // of block.transactions[1..]
  uint64_t total_fees = 0;
  ipc::BlockCreateOptions options;  // what made it: waitNext builds the next one the same way
  XOnlyPublicKey payout{};
};

// What wakes the waits of one Mining object and of the templates it made: a change of tip, a
// change of the mempool, interrupt(). Registered as a listener of the node's chain and mempool
// while it lives. Shared (std::shared_ptr) by the Mining object and its templates, since a client
// may keep templates after dropping the Mining object. Thread-safe.
class WaitState final : public ChainListener, public MempoolListener {
 public:
  explicit WaitState(Node& node) : m_node(node) {
    m_node.chain().AddListener(this);
    m_node.mempool().AddListener(this);
  }
  ~WaitState() override {
    m_node.mempool().RemoveListener(this);
    m_node.chain().RemoveListener(this);
  }
  WaitState(const WaitState&) = delete;
  WaitState& operator=(const WaitState&) = delete;

  struct Counters {
    uint64_t tip_changes = 0;
    uint64_t mempool_changes = 0;
  };
  Counters Snapshot() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_counters;
  }

  // Wakes the waiters; with `interrupt`, every later Wait returns kInterrupted too.
  void Notify(bool interrupt) {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      if (interrupt) m_interrupted = true;
    }
    m_changed.notify_all();
  }

  enum class Outcome { kChanged, kInterrupted, kTimedOut };
  // Waits until the counters differ from `seen` in what `watch_mempool` selects, until
  // interrupted (this object, or `*extra_interrupt` once true), or until `deadline` or one wait
  // slice passed. kTimedOut only at the deadline; the caller loops otherwise.
  Outcome Wait(const Counters& seen, bool watch_mempool, const std::atomic<bool>* extra_interrupt,
               Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(m_mutex);
    auto ready = [&] {
      return m_interrupted || (extra_interrupt != nullptr && extra_interrupt->load()) ||
             m_counters.tip_changes != seen.tip_changes ||
             (watch_mempool && m_counters.mempool_changes != seen.mempool_changes);
    };
    Clock::time_point until = std::min(deadline, Clock::now() + kWaitSlice);
    m_changed.wait_until(lock, until, ready);
    if (m_interrupted || (extra_interrupt != nullptr && extra_interrupt->load())) return Outcome::kInterrupted;
    if (ready()) return Outcome::kChanged;
    return Clock::now() >= deadline ? Outcome::kTimedOut : Outcome::kChanged;
  }

 private:
  void TipChanged(const BlockIndex&) override { Bump(&Counters::tip_changes); }
  void TransactionAdded(const MempoolEntry&) override { Bump(&Counters::mempool_changes); }
  void TransactionRemoved(const Transaction&, RemovalReason) override { Bump(&Counters::mempool_changes); }

  void Bump(uint64_t Counters::*counter) {
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      ++(m_counters.*counter);
    }
    m_changed.notify_all();
  }

  Node& m_node;
  std::mutex m_mutex;
  std::condition_variable m_changed;
  Counters m_counters;        // guarded by m_mutex
  bool m_interrupted = false;  // guarded by m_mutex
};

// Whether a call waiting for the node should give up: its caller went away or the node stops.
bool ShouldAbandon(Node& node) { return crossproc::CurrentCallCanceled() || node.ShutdownRequested(); }

// Builds templates on the current tip, within the node's template memory limit. Immutable.
class TemplateFactory {
 public:
  TemplateFactory(Node& node, uint64_t limit_bytes) : m_node(node), m_limit_bytes(limit_bytes) {}

  uint64_t limit_bytes() const { return m_limit_bytes; }

  std::shared_ptr<const TemplateData> Create(const ipc::BlockCreateOptions& options) const {
    XOnlyPublicKey payout = PayoutOf(options);
    BlockAssemblerOptions assembler;
    if (options.maxBlockBytes != 0) assembler.max_block_bytes = options.maxBlockBytes;
    if (assembler.max_block_bytes > BlockAssemblerOptions{}.max_block_bytes) {
      throw std::invalid_argument("createNewBlock: maxBlockBytes " + std::to_string(options.maxBlockBytes) +
                                  " is above the block size limit of " +
                                  std::to_string(BlockAssemblerOptions{}.max_block_bytes));
    }
    Block block;
    uint32_t height = 0;
    std::vector<MempoolEntry> entries;
    m_node.chain().WithTip([&](const BlockIndex& tip, const CoinsView&) {
      height = tip.height + 1;
      if (options.useMempool) entries = m_node.mempool().SelectForBlock(BlockTransactionBudget(assembler, height));
      const ChainState& chain = m_node.chain();
      NextBlock next{.prev_hash = tip.hash,
                     .height = height,
                     .time = chain.NextBlockTime(tip, m_node.Now()),
                     .bits = chain.NextBits(tip),
                     .subsidy = BlockSubsidy(height, chain.params())};
      block = CreateNewBlock(next, payout, entries);
    });
    uint64_t bytes = EstimateBlockMemory(block) + sizeof(TemplateData) + entries.size() * sizeof(uint64_t);
    Reserve(bytes);
    auto data = std::make_shared<TemplateData>(m_node.template_memory(), bytes);
    data->block = std::move(block);
    data->height = height;
    data->options = options;
    data->payout = payout;
    for (const MempoolEntry& entry : entries) {
      data->fees.push_back(entry.fee);
      data->total_fees += entry.fee;
    }
    MINICOIN_LOG_DEBUG(m_node.log(), LogCategory::kMining, "%s",
                       ("template at height " + std::to_string(height) + " with " +
                        std::to_string(entries.size()) + " transactions, " + std::to_string(data->total_fees) +
                        " in fees")
                           .c_str());
    return data;
  }

  // The fees a template made now with `options` would collect.
  uint64_t FeesNow(const ipc::BlockCreateOptions& options) const {
    if (!options.useMempool) return 0;
    BlockAssemblerOptions assembler;
    if (options.maxBlockBytes != 0) assembler.max_block_bytes = options.maxBlockBytes;
    uint64_t fees = 0;
    for (const MempoolEntry& entry :
         m_node.mempool().SelectForBlock(BlockTransactionBudget(assembler, m_node.chain().Height() + 1))) {
      fees += entry.fee;
    }
    return fees;
  }

 private:
  static XOnlyPublicKey PayoutOf(const ipc::BlockCreateOptions& options) {
    XOnlyPublicKey payout{};
    if (!options.payoutKey.empty()) {
      if (options.payoutKey.size() != payout.size()) {
        throw std::invalid_argument("createNewBlock: payoutKey must be 32 bytes, got " +
                                    std::to_string(options.payoutKey.size()));
      }
      std::copy(options.payoutKey.begin(), options.payoutKey.end(), payout.begin());
      return payout;
    }
    if (options.payoutAddress.empty()) {
      throw std::invalid_argument("createNewBlock: set payoutKey or payoutAddress");
    }
    std::string error;
    std::optional<XOnlyPublicKey> key = DecodeAddress(options.payoutAddress, &error);
    if (!key) throw std::invalid_argument("createNewBlock: invalid payoutAddress '" + options.payoutAddress + "': " + error);
    return *key;
  }

  // Adds `bytes` to the node's template memory, or throws if that would pass the limit.
  void Reserve(uint64_t bytes) const {
    TemplateMemory& memory = m_node.template_memory();
    uint64_t held = memory.bytes.load();
    do {
      if (held + bytes > m_limit_bytes) {
        throw std::runtime_error("createNewBlock: block templates would hold " + std::to_string(held + bytes) +
                                 " bytes, above -maxtemplatememory (" + std::to_string(m_limit_bytes) +
                                 " bytes); release templates first");
      }
    } while (!memory.bytes.compare_exchange_weak(held, held + bytes));
    memory.templates.fetch_add(1);
  }

  Node& m_node;
  const uint64_t m_limit_bytes;
};

class BlockTemplateImpl final : public ipc::BlockTemplate {
 public:
  // `waits` and `factory` are shared with the Mining object that made it and its other
  // templates; `node` must outlive it.
  BlockTemplateImpl(Node& node, std::shared_ptr<WaitState> waits, std::shared_ptr<const TemplateFactory> factory,
                    std::shared_ptr<const TemplateData> data)
      : m_node(node), m_waits(std::move(waits)), m_factory(std::move(factory)), m_data(std::move(data)) {}

  std::vector<uint8_t> getBlockHeader() override {
    Writer writer;
    m_data->block.header.Serialize(writer);
    return writer.Take();
  }

  std::vector<uint8_t> getBlock() override { return m_data->block.Encode(); }

  std::vector<uint64_t> getTxFees() override { return m_data->fees; }

  ipc::CoinbaseTx getCoinbaseTx() override {
    const Transaction& coinbase = m_data->block.transactions[0];
    ipc::CoinbaseTx parts;
    parts.version = coinbase.version;
    parts.height = coinbase.height;
    parts.value = BlockSubsidy(m_data->height, m_node.chain().params()) + m_data->total_fees;
    parts.payoutKey.assign(m_data->payout.begin(), m_data->payout.end());
    parts.encoded = coinbase.Encode();
    parts.txid = HashBytes(coinbase.Txid());
    parts.wtxid = HashBytes(coinbase.Wtxid());
    return parts;
  }

  std::vector<std::vector<uint8_t>> getCoinbaseMerklePath() override {
    std::vector<Uint256> level;
    for (const Transaction& tx : m_data->block.transactions) level.push_back(tx.Wtxid());
    std::vector<std::vector<uint8_t>> path;
    // The coinbase's node is always the first of its level.
    while (level.size() > 1) {
      if (level.size() % 2 != 0) level.push_back(level.back());
      path.push_back(HashBytes(level[1]));
      std::vector<Uint256> next;
      for (std::size_t i = 0; i < level.size(); i += 2) {
        std::array<uint8_t, 64> pair{};
        std::copy(level[i].bytes().begin(), level[i].bytes().end(), pair.begin());
        std::copy(level[i + 1].bytes().begin(), level[i + 1].bytes().end(), pair.begin() + 32);
        next.push_back(Sha256d(pair));
      }
      level = std::move(next);
    }
    return path;
  }

  bool submitSolution(uint32_t version, uint32_t time, uint32_t nonce, const std::vector<uint8_t>& coinbase,
                      std::string& reason) override {
    Block block = m_data->block;
    if (!coinbase.empty()) {
      try {
        block.transactions[0] = Transaction::Decode(coinbase);
      } catch (const std::exception& e) {
        reason = std::string("bad-coinbase-encoding: ") + e.what();
        return false;
      }
    }
    block.header.version = version;
    block.header.time = time;
    block.header.nonce = nonce;
    block.header.merkle_root = block.ComputeMerkleRoot();
    return BlockAnswer(m_node.SubmitBlock(std::move(block)), reason);
  }

  std::unique_ptr<ipc::BlockTemplate> waitNext(const ipc::BlockWaitOptions& options, bool& interrupted) override {
    interrupted = false;
    Clock::time_point deadline = DeadlineAfter(options.timeoutMs);
    bool watch_fees = options.feeThreshold != 0 && m_data->options.useMempool;
    uint64_t wanted_fees = m_data->total_fees > std::numeric_limits<uint64_t>::max() - options.feeThreshold
                               ? std::numeric_limits<uint64_t>::max()
                               : m_data->total_fees + options.feeThreshold;
    bool check_fees = watch_fees;  // once at the start, then after each mempool change
    while (true) {
      WaitState::Counters seen = m_waits->Snapshot();
      if (m_node.chain().Tip().hash != m_data->block.header.previous) return Next();
      if (check_fees && m_factory->FeesNow(m_data->options) >= wanted_fees) return Next();
      WaitState::Outcome outcome = m_waits->Wait(seen, watch_fees, &m_interrupted, deadline);
      if (outcome == WaitState::Outcome::kInterrupted) {
        interrupted = true;
        return nullptr;
      }
      if (outcome == WaitState::Outcome::kTimedOut || ShouldAbandon(m_node)) return nullptr;
      check_fees = watch_fees && m_waits->Snapshot().mempool_changes != seen.mempool_changes;
    }
  }

  void interruptWait() override {
    m_interrupted = true;
    m_waits->Notify(false);
  }

 private:
  std::unique_ptr<ipc::BlockTemplate> Next() {
    return std::make_unique<BlockTemplateImpl>(m_node, m_waits, m_factory, m_factory->Create(m_data->options));
  }

  Node& m_node;
  std::shared_ptr<WaitState> m_waits;
  std::shared_ptr<const TemplateFactory> m_factory;
  std::shared_ptr<const TemplateData> m_data;
  std::atomic<bool> m_interrupted{false};
};

// One client's view of the node's mining. Thread-safe: several client threads may wait in it at
// once, and interrupt() comes on the connection's event-loop thread.
class MiningImpl final : public ipc::Mining {
 public:
  MiningImpl(Node& node, uint64_t limit_bytes)
      : m_node(node),
        m_waits(std::make_shared<WaitState>(node)),
        m_factory(std::make_shared<const TemplateFactory>(node, limit_bytes)) {}

  ipc::BlockRef getTip() override { return ToBlockRef(m_node.chain().Tip()); }

  ipc::BlockRef waitTipChanged(const std::vector<uint8_t>& current_tip, uint64_t timeout_ms, bool& interrupted) override {
    interrupted = false;
    Clock::time_point deadline = DeadlineAfter(timeout_ms);
    while (true) {
      WaitState::Counters seen = m_waits->Snapshot();
      const BlockIndex& tip = m_node.chain().Tip();
      if (HashBytes(tip.hash) != current_tip) return ToBlockRef(tip);
      WaitState::Outcome outcome = m_waits->Wait(seen, false, nullptr, deadline);
      if (outcome == WaitState::Outcome::kInterrupted) interrupted = true;
      if (outcome != WaitState::Outcome::kChanged || ShouldAbandon(m_node)) return ToBlockRef(m_node.chain().Tip());
    }
  }

  bool isInitialBlockDownload() override {
    int64_t now = m_node.Now();
    return static_cast<int64_t>(m_node.chain().Tip().header.time) < now - kMaxTipAgeSeconds;
  }

  std::unique_ptr<ipc::BlockTemplate> createNewBlock(const ipc::BlockCreateOptions& options) override {
    return std::make_unique<BlockTemplateImpl>(m_node, m_waits, m_factory, m_factory->Create(options));
  }

  bool checkBlock(const std::vector<uint8_t>& encoded, const ipc::BlockCheckOptions& options,
                  std::string& reason) override {
    Block block;
    try {
      block = Block::Decode(encoded);
    } catch (const std::exception& e) {
      reason = std::string("bad-block-encoding: ") + e.what();
      return false;
    }
    if (auto error = CheckBlock(block, options.checkPow)) {
      reason = error->reason;
      return false;
    }
    // The coins the block spends, read at the tip; outputs of the block's own earlier
    // transactions are added by ConnectBlock as it goes.
    MemoryCoins coins;
    bool on_tip = false;
    std::string context_error;
    BlockContext context;
    m_node.chain().WithTip([&](const BlockIndex& tip, const CoinsView& tip_coins) {
      on_tip = tip.hash == block.header.previous;
      if (!on_tip) return;
      context_error = m_node.chain().ContextualCheck(block, tip, m_node.Now());
      context = m_node.chain().NextContext(tip);
      for (std::size_t i = 1; i < block.transactions.size(); ++i) {
        for (const TxIn& input : block.transactions[i].inputs) {
          if (auto coin = tip_coins.Get(input.prevout)) coins.Add(input.prevout, *coin);
        }
      }
    });
    if (!on_tip) {
      reason = "inconclusive-not-best-prevblk";
      return false;
    }
    if (!context_error.empty()) {
      reason = context_error;
      return false;
    }
    context.check_proof_of_work = options.checkPow;
    BlockUndo undo;
    if (auto error = ConnectBlock(block, context, coins, m_node.pool(), undo)) {
      reason = error->reason;
      return false;
    }
    reason.clear();
    return true;
  }

  bool submitBlock(const std::vector<uint8_t>& encoded, std::string& reason) override {
    Block block;
    try {
      block = Block::Decode(encoded);
    } catch (const std::exception& e) {
      reason = std::string("bad-block-encoding: ") + e.what();
      return false;
    }
    return BlockAnswer(m_node.SubmitBlock(std::move(block)), reason);
  }

  ipc::MemoryLoad getMemoryLoad() override {
    TemplateMemory& memory = m_node.template_memory();
    return ipc::MemoryLoad{memory.templates.load(), memory.bytes.load(), m_factory->limit_bytes()};
  }

  void interrupt() override { m_waits->Notify(true); }

 private:
  Node& m_node;
  std::shared_ptr<WaitState> m_waits;
  std::shared_ptr<const TemplateFactory> m_factory;
};

}  // namespace

void AddMiningOptions(ArgsManager& args) {
  args.AddArg("-maxtemplatememory=<n>",
              "Keep the block templates held by mining clients (-ipcbind) below <n> MiB of memory; "
              "createNewBlock fails beyond it (default: " + std::to_string(kDefaultMaxTemplateMiB) + ")",
              kArgNone, "Mining options");
}

std::unique_ptr<ipc::Mining> MakeMining(Node& node) {
  std::string error;
  std::optional<int64_t> mib = node.args().GetIntArgChecked("-maxtemplatememory", kDefaultMaxTemplateMiB, error);
  if (!mib) throw std::invalid_argument(error);
  if (*mib < 0 || *mib > (int64_t{1} << 30)) {
    throw std::invalid_argument("Invalid value for -maxtemplatememory: " + std::to_string(*mib) +
                                " (expected 0 to 1073741824 MiB)");
  }
  return std::make_unique<MiningImpl>(node, static_cast<uint64_t>(*mib) << 20);
}

}  // namespace minicoin
