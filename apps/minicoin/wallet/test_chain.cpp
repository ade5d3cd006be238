// TestChain over ChainState and Mempool.
#include "wallet/test_chain.h"

#include "chain/test_util.h"
#include "validation/block_check.h"

#include <cstring>
#include <iostream>
#include <set>

namespace minicoin::test {
namespace {

std::vector<uint8_t> Bytes(const Uint256& hash) { return std::vector<uint8_t>(hash.bytes().begin(), hash.bytes().end()); }

std::optional<Uint256> ToHash(const std::vector<uint8_t>& bytes) {
  if (bytes.size() != 32) return std::nullopt;
  std::array<uint8_t, 32> out{};
  std::memcpy(out.data(), bytes.data(), 32);
  return Uint256(out);
}

struct OutPointLess {
  bool operator()(const OutPoint& a, const OutPoint& b) const {
    if (a.txid == b.txid) return a.index < b.index;
    return a.txid.bytes() < b.txid.bytes();
  }
};

}  // namespace

// Ends one registration. The chain must outlive it.
class TestChain::Registration final : public ipc::Handler {
 public:
  Registration(TestChain& chain, uint64_t id) : m_chain(chain), m_id(id) {}
  ~Registration() override { disconnect(); }
  void disconnect() override { m_chain.Remove(m_id); }

 private:
  TestChain& m_chain;
  uint64_t m_id;
};

TestChain::TestChain(const std::filesystem::path& dir)
    : m_pool(crossproc::WorkerPoolOptions{.threads = 2, .name = "testchain"}) {
  ChainStateOptions options;
  options.dir = dir;
  options.pool = &m_pool;
  options.sync_writes = false;
  m_chain = std::make_unique<ChainState>(options);
  m_chain->AddListener(this);
  m_mempool.AddListener(this);
  m_delivery = std::thread([this] { Deliver(); });
}

TestChain::~TestChain() {
  {
    std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_all();
  m_delivery.join();
  m_mempool.RemoveListener(this);
  m_chain->RemoveListener(this);
}

ipc::BlockRef TestChain::Ref(const BlockIndex& index) const {
  return ipc::BlockRef{Bytes(index.hash), index.height, index.header.time};
}

ipc::BlockRef TestChain::getTip() { return Ref(m_chain->Tip()); }

std::optional<ipc::BlockRef> TestChain::getBlockRef(uint32_t height) {
  const BlockIndex* index = m_chain->AtHeight(height);
  if (index == nullptr) return std::nullopt;
  return Ref(*index);
}

std::optional<ipc::BlockRef> TestChain::findActiveBlock(const std::vector<uint8_t>& hash) {
  std::optional<Uint256> value = ToHash(hash);
  if (!value) return std::nullopt;
  const BlockIndex* index = m_chain->Lookup(*value);
  if (index == nullptr || !m_chain->IsActive(*index)) return std::nullopt;
  return Ref(*index);
}

std::optional<std::vector<uint8_t>> TestChain::getBlock(const std::vector<uint8_t>& hash) {
  ++m_block_fetches;
  std::optional<Uint256> value = ToHash(hash);
  const BlockIndex* index = value ? m_chain->Lookup(*value) : nullptr;
  if (index == nullptr) return std::nullopt;
  std::optional<Block> block = m_chain->ReadBlock(*index);
  if (!block) return std::nullopt;
  return block->Encode();
}

std::vector<std::vector<uint8_t>> TestChain::getBlocks(uint32_t startHeight, uint32_t count) {
  ++m_block_fetches;
  std::vector<std::vector<uint8_t>> blocks;
  for (uint32_t h = startHeight; h - startHeight < count; ++h) {
    const BlockIndex* index = m_chain->AtHeight(h);
    if (index == nullptr) break;
    std::optional<Block> block = m_chain->ReadBlock(*index);
    if (!block) break;
    blocks.push_back(block->Encode());
  }
  return blocks;
}

ipc::ScanResult TestChain::scanBlocks(uint32_t startHeight, uint32_t stopHeight,
                                      const std::vector<std::vector<uint8_t>>& keys,
                                      const std::vector<ipc::OutPointRef>& outpoints, uint32_t maxBlocks) {
  ++m_scan_calls;
  std::set<XOnlyPublicKey> key_set;
  for (const auto& key : keys) {
    if (key.size() != 32) continue;
    XOnlyPublicKey value{};
    std::memcpy(value.data(), key.data(), 32);
    key_set.insert(value);
  }
  std::set<OutPoint, OutPointLess> watched;
  for (const auto& outpoint : outpoints) {
    if (std::optional<Uint256> txid = ToHash(outpoint.txid)) watched.insert(OutPoint{*txid, outpoint.index});
  }
  ipc::ScanResult result;
  uint32_t tip = m_chain->Height();
  uint32_t end = std::min(stopHeight, tip);
  if (maxBlocks != 0 && end - startHeight >= maxBlocks && startHeight <= end) end = startHeight + maxBlocks - 1;
  if (startHeight > end) {
    result.lastScanned = Ref(m_chain->Tip());
    return result;
  }
  for (uint32_t h = startHeight; h <= end; ++h) {
    const BlockIndex* index = m_chain->AtHeight(h);
    if (index == nullptr) break;
    std::optional<Block> block = m_chain->ReadBlock(*index);
    if (!block) break;
    ipc::ScanMatch match;
    match.block = Ref(*index);
    for (const Transaction& tx : block->transactions) {
      bool hit = false;
      for (const TxOut& out : tx.outputs) hit = hit || key_set.count(out.pubkey) != 0;
      if (!tx.IsCoinbase()) {
        for (const TxIn& in : tx.inputs) hit = hit || watched.count(in.prevout) != 0;
      }
      if (!hit) continue;
      Uint256 txid = tx.Txid();
      for (uint32_t i = 0; i < tx.outputs.size(); ++i) watched.insert(OutPoint{txid, i});
      match.transactions.push_back(tx.Encode());
    }
    if (!match.transactions.empty()) result.matches.push_back(std::move(match));
    result.lastScanned = Ref(*index);
  }
  return result;
}

std::vector<ipc::CoinInfo> TestChain::findCoins(const std::vector<ipc::OutPointRef>& outpoints) {
  std::vector<ipc::CoinInfo> coins;
  for (const auto& ref : outpoints) {
    std::optional<Uint256> txid = ToHash(ref.txid);
    if (!txid) continue;
    OutPoint outpoint{*txid, ref.index};
    if (m_mempool.IsSpent(outpoint)) continue;
    std::optional<Coin> coin = m_chain->GetCoin(outpoint);
    if (!coin) coin = m_mempool.GetPoolCoin(outpoint);
    if (!coin) continue;
    coins.push_back(ipc::CoinInfo{ref, coin->output.amount,
                                  std::vector<uint8_t>(coin->output.pubkey.begin(), coin->output.pubkey.end()),
                                  coin->height, coin->coinbase});
  }
  return coins;
}

std::string TestChain::broadcastTransaction(const std::vector<uint8_t>& bytes) {
  if (m_broadcast_throws) throw std::runtime_error("the node is unreachable");
  {
    std::lock_guard lock(m_mutex);
    if (!m_refusal.empty()) return m_refusal;
  }
  Transaction tx;
  try {
    tx = Transaction::Decode(bytes);
  } catch (const std::exception& e) {
    return std::string("TX decode failed: ") + e.what();
  }
  Mempool::AcceptResult result;
  m_chain->WithTip([&](const BlockIndex& tip, const CoinsView& coins) {
    result = m_mempool.Accept(tx, coins, tip.height + 1, m_pool);
  });
  return result.accepted ? std::string() : result.reason;
}

bool TestChain::isInMempool(const std::vector<uint8_t>& txid) {
  std::optional<Uint256> value = ToHash(txid);
  return value && m_mempool.Contains(*value);
}

std::unique_ptr<ipc::Handler> TestChain::handleNotifications(const std::shared_ptr<ipc::ChainNotifications>& notifications) {
  std::lock_guard lock(m_mutex);
  uint64_t id = m_next_id++;
  m_subscribers[id] = notifications;
  return std::make_unique<Registration>(*this, id);
}

void TestChain::logMessage(const std::string& message) { std::cerr << "[wallet] " << message << "\n"; }

std::size_t TestChain::subscriber_count() {
  std::lock_guard lock(m_mutex);
  return m_subscribers.size();
}

void TestChain::Remove(uint64_t id) {
  std::unique_lock lock(m_mutex);
  m_subscribers.erase(id);
  if (std::this_thread::get_id() == m_delivery_id) return;
  m_cv.wait(lock, [&] { return !m_delivering; });
}

void TestChain::Publish(Event event) {
  {
    std::lock_guard lock(m_mutex);
    m_events.push_back(std::move(event));
  }
  m_cv.notify_all();
}

void TestChain::Deliver() {
  {
    std::lock_guard lock(m_mutex);
    m_delivery_id = std::this_thread::get_id();
  }
  std::unique_lock lock(m_mutex);
  while (true) {
    m_cv.wait(lock, [&] { return m_stopping || !m_events.empty(); });
    if (m_stopping) return;
    Event event = std::move(m_events.front());
    m_events.pop_front();
    m_delivering = true;
    std::vector<std::pair<uint64_t, std::shared_ptr<ipc::ChainNotifications>>> targets(m_subscribers.begin(),
                                                                                       m_subscribers.end());
    lock.unlock();
    for (auto& [id, target] : targets) {
      try {
        event(*target);
      } catch (const std::exception& e) {
        std::lock_guard drop(m_mutex);
        m_subscribers.erase(id);  // its process went away
      }
    }
    targets.clear();
    lock.lock();
    m_delivering = false;
    m_cv.notify_all();
  }
}

bool TestChain::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(m_mutex);
  return m_cv.wait_for(lock, timeout, [&] { return m_events.empty() && !m_delivering; });
}

void TestChain::BlockConnected(const Block& block, const BlockIndex& index) {
  m_connected.push_back(block);
  std::vector<uint8_t> bytes = block.Encode();
  uint32_t height = index.height;
  Publish([bytes, height](ipc::ChainNotifications& n) { n.blockConnected(bytes, height); });
}

void TestChain::BlockDisconnected(const Block& block, const BlockIndex& index) {
  for (const Transaction& tx : block.transactions) {
    if (!tx.IsCoinbase()) m_disconnected.push_back(tx);
  }
  std::vector<uint8_t> bytes = block.Encode();
  uint32_t height = index.height;
  Publish([bytes, height](ipc::ChainNotifications& n) { n.blockDisconnected(bytes, height); });
}

void TestChain::TransactionAdded(const MempoolEntry& entry) {
  std::vector<uint8_t> bytes = entry.tx.Encode();
  Publish([bytes](ipc::ChainNotifications& n) { n.transactionAddedToMempool(bytes); });
}

void TestChain::TransactionRemoved(const Transaction& tx, RemovalReason reason) {
  std::vector<uint8_t> bytes = tx.Encode();
  std::string name = RemovalReasonName(reason);
  Publish([bytes, name](ipc::ChainNotifications& n) { n.transactionRemovedFromMempool(bytes, name); });
}

void TestChain::Submit(const Block& block) {
  std::lock_guard lock(m_submit_mutex);
  m_connected.clear();
  m_disconnected.clear();
  ChainState::BlockResult result = m_chain->ProcessBlock(block);
  if (!result.accepted) throw std::runtime_error("test block rejected: " + result.reason);
  for (const Block& connected : m_connected) m_mempool.RemoveForBlock(connected);
  if (!m_disconnected.empty()) {
    m_chain->WithTip([&](const BlockIndex& tip, const CoinsView& coins) {
      m_mempool.Reorganized(m_disconnected, coins, tip.height + 1, m_pool);
    });
  }
  ipc::BlockRef tip = getTip();
  Publish([tip](ipc::ChainNotifications& n) { n.updatedBlockTip(tip); });
}

Block TestChain::Mine(const XOnlyPublicKey& to, std::vector<Transaction> extra) {
  std::vector<Transaction> txs;
  uint64_t fees = 0;
  for (const MempoolEntry& entry : m_mempool.SelectForBlock(1 << 20)) {
    txs.push_back(entry.tx);
    fees += entry.fee;
  }
  for (Transaction& tx : extra) txs.push_back(std::move(tx));
  Block block = MakeBlock(m_chain->Tip(), to, std::move(txs), fees);
  Submit(block);
  return block;
}

void TestChain::MineBlocks(int count, const XOnlyPublicKey& to) {
  for (int i = 0; i < count; ++i) Mine(to);
}

std::vector<Block> TestChain::MineBranch(uint32_t fork_height, int count, const XOnlyPublicKey& to,
                                         std::vector<Transaction> txs) {
  const BlockIndex* parent = m_chain->AtHeight(fork_height);
  if (parent == nullptr) throw std::runtime_error("no block at the fork height");
  std::vector<Block> blocks;
  for (int i = 0; i < count; ++i) {
    Block block = MakeBlock(*parent, to, i == 0 ? txs : std::vector<Transaction>{}, 0, 1000);
    // Only the fees of `txs` would be claimable; the test transactions pay to the branch's
    // coinbase nothing extra, so the subsidy alone is fine.
    Submit(block);
    parent = m_chain->Lookup(block.header.Hash());
    blocks.push_back(std::move(block));
  }
  return blocks;
}

}  // namespace minicoin::test
