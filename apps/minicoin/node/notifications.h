// NotificationHub: delivers chain and mempool events to every registered ChainNotifications.
#pragma once

#include "chain.crossproc.h"
#include "chain/chain_state.h"
#include "common.crossproc.h"
#include "mempool/mempool.h"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace minicoin {

class Logger;

// Receives the chain's and the mempool's events (as their listener) and sends them to each
// subscriber: a wallet in this process or a proxy to one in another process. Every subscriber
// has a queue and a thread of its own, so events reach each one in order, and a slow, hung or
// dead subscriber delays nobody else; a subscriber whose calls fail (its process died) is
// dropped. Listener methods only queue (they run under the chain's or mempool's lock).
// Thread-safe.
//
// Why a queue and a thread per subscriber rather than one crossproc::TaskGroup per event (every
// subscriber called at once, then joined): a join makes each event wait for the slowest
// subscriber before the next event can be sent to anyone, so one wallet sleeping in a block
// notification would hold every other wallet at the previous block. Here each subscriber
// advances at its own pace and events still reach all of them concurrently; the price is a
// thread per subscriber (idle while its queue is empty) and a queue that grows while its
// subscriber is stuck. A subscriber stuck in a call to a live but hung process ends when that
// process's connection is closed (the node closes them at shutdown before destroying the hub).
class NotificationHub final : public ChainListener, public MempoolListener {
 public:
  explicit NotificationHub(Logger& log);
  ~NotificationHub() override;  // stops every subscriber thread
  NotificationHub(const NotificationHub&) = delete;
  NotificationHub& operator=(const NotificationHub&) = delete;

  // Starts sending events to `target` until the returned handler is destroyed or disconnected.
  // `name` appears in the log.
  std::unique_ptr<ipc::Handler> Subscribe(std::shared_ptr<ipc::ChainNotifications> target, std::string name);
  std::size_t subscriber_count() const;
  // Waits until every subscriber has delivered what was queued before the call, or `timeout`;
  // true if it did. For tests and benchmarks.
  bool Flush(std::chrono::milliseconds timeout);

  void BlockConnected(const Block& block, const BlockIndex& index) override;
  void BlockDisconnected(const Block& block, const BlockIndex& index) override;
  void TipChanged(const BlockIndex& tip) override;
  void TransactionAdded(const MempoolEntry& entry) override;
  void TransactionRemoved(const Transaction& tx, RemovalReason reason) override;

 private:
  using Event = std::function<void(ipc::ChainNotifications&)>;
  struct Subscriber;
  class SubscriptionHandler;

  void Publish(const Event& event);
  void Run(const std::shared_ptr<Subscriber>& subscriber);
  // Joins the threads of subscribers that ended. Requires m_mutex not held.
  void Reap();

  Logger& m_log;
  mutable std::mutex m_mutex;
  std::vector<std::shared_ptr<Subscriber>> m_subscribers;  // guarded by m_mutex
  std::vector<std::thread> m_finished;                      // guarded by m_mutex; to join
  bool m_stopping = false;                                  // guarded by m_mutex
};

// A BlockRef for `index`.
ipc::BlockRef MakeBlockRef(const BlockIndex& index);

}  // namespace minicoin
