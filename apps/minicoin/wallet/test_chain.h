// TestChain: an ipc::Chain over a real ChainState and Mempool, for tests of wallets.
#pragma once

#include "chain.crossproc.h"
#include "chain/chain_state.h"
#include "mempool/mempool.h"

#include <crossproc/worker_pool.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace minicoin::test {

// A chain in `dir` (created) with a mempool, serving ipc::Chain as the node does: scanBlocks
// matches on this side, notifications are queued and delivered in order by a thread of its own
// (never under the chain's or mempool's lock). Tests mine with Mine/MineBranch and wait for the
// wallets with Flush. Thread-safe.
//
//   auto chain = std::make_shared<TestChain>(dir);
//   chain->Mine(wallet_key);   // a block paying to wallet_key, with the mempool's transactions
//   chain->Flush();            // every wallet has seen it
class TestChain final : public ipc::Chain, private ChainListener, private MempoolListener {
 public:
  explicit TestChain(const std::filesystem::path& dir);
  ~TestChain() override;
  TestChain(const TestChain&) = delete;
  TestChain& operator=(const TestChain&) = delete;

  ipc::BlockRef getTip() override;
  std::optional<ipc::BlockRef> getBlockRef(uint32_t height) override;
  std::optional<ipc::BlockRef> findActiveBlock(const std::vector<uint8_t>& hash) override;
  std::optional<std::vector<uint8_t>> getBlock(const std::vector<uint8_t>& hash) override;
  std::vector<std::vector<uint8_t>> getBlocks(uint32_t startHeight, uint32_t count) override;
  ipc::ScanResult scanBlocks(uint32_t startHeight, uint32_t stopHeight, const std::vector<std::vector<uint8_t>>& keys,
                             const std::vector<ipc::OutPointRef>& outpoints, uint32_t maxBlocks) override;
  std::vector<ipc::CoinInfo> findCoins(const std::vector<ipc::OutPointRef>& outpoints) override;
  std::string broadcastTransaction(const std::vector<uint8_t>& tx) override;
  uint64_t estimateFee() override { return m_fee_estimate.load(); }
  bool isInMempool(const std::vector<uint8_t>& txid) override;
  std::unique_ptr<ipc::Handler> handleNotifications(const std::shared_ptr<ipc::ChainNotifications>& notifications) override;
  void logMessage(const std::string& message) override;

  // A block on the tip paying the subsidy and fees to `to`, with the mempool's transactions
  // (and `extra`), processed; the mempool follows.
  Block Mine(const XOnlyPublicKey& to, std::vector<Transaction> extra = {});
  void MineBlocks(int count, const XOnlyPublicKey& to);
  // `count` blocks on the active block at `fork_height` (the first with `txs`); with more work
  // than the tip, the branch becomes active (a reorganisation).
  std::vector<Block> MineBranch(uint32_t fork_height, int count, const XOnlyPublicKey& to,
                                std::vector<Transaction> txs = {});
  // Waits until every queued notification was delivered; false after `timeout`.
  bool Flush(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  ChainState& state() { return *m_chain; }
  Mempool& mempool() { return m_mempool; }
  uint32_t Height() const { return m_chain->Height(); }
  // broadcastTransaction throws (the node unreachable) while set.
  void SetBroadcastThrows(bool fail) { m_broadcast_throws = fail; }
  // broadcastTransaction refuses every transaction with `reason` while it is not empty.
  void SetBroadcastRefusal(const std::string& reason) {
    std::lock_guard lock(m_mutex);
    m_refusal = reason;
  }
  void SetFeeEstimate(uint64_t rate) { m_fee_estimate = rate; }
  // Calls made so far, for tests that check how a wallet uses the chain.
  int scan_calls() const { return m_scan_calls.load(); }
  int block_fetches() const { return m_block_fetches.load(); }
  std::size_t subscriber_count();

 private:
  using Event = std::function<void(ipc::ChainNotifications&)>;
  class Registration;

  void BlockConnected(const Block& block, const BlockIndex& index) override;
  void BlockDisconnected(const Block& block, const BlockIndex& index) override;
  void TransactionAdded(const MempoolEntry& entry) override;
  void TransactionRemoved(const Transaction& tx, RemovalReason reason) override;
  void Publish(Event event);
  void Deliver();
  void Remove(uint64_t id);
  // Processes `block` and brings the mempool in line.
  void Submit(const Block& block);
  ipc::BlockRef Ref(const BlockIndex& index) const;

  crossproc::WorkerPool m_pool;
  Mempool m_mempool;
  std::unique_ptr<ChainState> m_chain;
  std::atomic<bool> m_broadcast_throws{false};
  std::atomic<uint64_t> m_fee_estimate{0};
  std::atomic<int> m_scan_calls{0};
  std::atomic<int> m_block_fetches{0};

  std::mutex m_submit_mutex;               // one Submit at a time
  std::vector<Block> m_connected;          // guarded by m_submit_mutex (filled by the listener)
  std::vector<Transaction> m_disconnected; // guarded by m_submit_mutex

  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Event> m_events;                                                   // guarded by m_mutex
  std::map<uint64_t, std::shared_ptr<ipc::ChainNotifications>> m_subscribers;  // guarded by m_mutex
  uint64_t m_next_id = 1;                                                       // guarded by m_mutex
  std::string m_refusal;                                                        // guarded by m_mutex
  bool m_delivering = false;                                                    // guarded by m_mutex
  bool m_stopping = false;                                                      // guarded by m_mutex
  std::thread::id m_delivery_id;
  std::thread m_delivery;
};

}  // namespace minicoin::test
