// NotificationHub.
#include "node/notifications.h"

#include "common/logging.h"


namespace minicoin {

namespace {

std::vector<uint8_t> HashBytes(const Uint256& hash) { return {hash.bytes().begin(), hash.bytes().end()}; }

}  // namespace

ipc::BlockRef MakeBlockRef(const BlockIndex& index) {
  return ipc::BlockRef{HashBytes(index.hash), index.height, index.header.time};
}

struct NotificationHub::Subscriber {
  std::string name;
  std::shared_ptr<ipc::ChainNotifications> target;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Event> queue;   // guarded by mutex
  bool stop = false;         // guarded by mutex
  bool busy = false;         // guarded by mutex; an event is being delivered
  std::thread thread;        // started by Subscribe, joined by the hub
};

// Ends a subscription when destroyed or disconnected. Never blocks: the subscriber's thread
// finishes by itself and the hub joins it later.
class NotificationHub::SubscriptionHandler final : public ipc::Handler {
 public:
  explicit SubscriptionHandler(std::weak_ptr<Subscriber> subscriber) : m_subscriber(std::move(subscriber)) {}
  ~SubscriptionHandler() override { disconnect(); }
  void disconnect() override {
    if (auto subscriber = m_subscriber.lock()) {
      std::lock_guard<std::mutex> lock(subscriber->mutex);
      subscriber->stop = true;
      subscriber->queue.clear();
      subscriber->cv.notify_all();
    }
  }

 private:
  std::weak_ptr<Subscriber> m_subscriber;
};

NotificationHub::NotificationHub(Logger& log) : m_log(log) {}

NotificationHub::~NotificationHub() {
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
    subscribers.swap(m_subscribers);
  }
  for (auto& subscriber : subscribers) {
    {
      std::lock_guard<std::mutex> lock(subscriber->mutex);
      subscriber->stop = true;
      subscriber->queue.clear();
    }
    subscriber->cv.notify_all();
  }
  for (auto& subscriber : subscribers) {
    if (subscriber->thread.joinable()) subscriber->thread.join();
  }
  Reap();
}

std::unique_ptr<ipc::Handler> NotificationHub::Subscribe(std::shared_ptr<ipc::ChainNotifications> target, std::string name) {
  Reap();
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->name = std::move(name);
  subscriber->target = std::move(target);
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_stopping) throw std::runtime_error("the node is shutting down");
    m_subscribers.push_back(subscriber);
    subscriber->thread = std::thread([this, subscriber] { Run(subscriber); });
  }
  m_log.Info("notifications: %s subscribed", subscriber->name.c_str());
  return std::make_unique<SubscriptionHandler>(subscriber);
}

std::size_t NotificationHub::subscriber_count() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_subscribers.size();
}

bool NotificationHub::Flush(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::shared_ptr<Subscriber>> subscribers;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    subscribers = m_subscribers;
  }
  for (auto& subscriber : subscribers) {
    std::unique_lock<std::mutex> lock(subscriber->mutex);
    if (!subscriber->cv.wait_until(lock, deadline, [&] { return subscriber->stop || (subscriber->queue.empty() && !subscriber->busy); })) {
      return false;
    }
  }
  return true;
}

void NotificationHub::Run(const std::shared_ptr<Subscriber>& subscriber) {
  SetLogThreadName("notify");
  while (true) {
    Event event;
    {
      std::unique_lock<std::mutex> lock(subscriber->mutex);
      subscriber->busy = false;
      subscriber->cv.notify_all();
      subscriber->cv.wait(lock, [&] { return subscriber->stop || !subscriber->queue.empty(); });
      if (subscriber->stop) break;
      event = std::move(subscriber->queue.front());
      subscriber->queue.pop_front();
      subscriber->busy = true;
    }
    try {
      event(*subscriber->target);
    } catch (const std::exception& e) {
      m_log.Warning("notifications: dropping %s: %s", subscriber->name.c_str(), e.what());
      std::lock_guard<std::mutex> lock(subscriber->mutex);
      subscriber->stop = true;
      subscriber->queue.clear();
    }
  }
  // Release the target here, on this thread: for a proxy this may be a call to its process.
  subscriber->target.reset();
  {
    std::lock_guard<std::mutex> lock(subscriber->mutex);
    subscriber->busy = false;
  }
  subscriber->cv.notify_all();
  std::lock_guard<std::mutex> lock(m_mutex);
  for (auto it = m_subscribers.begin(); it != m_subscribers.end(); ++it) {
    if (*it == subscriber) {
      m_finished.push_back(std::move(subscriber->thread));
      m_subscribers.erase(it);
      break;
    }
  }
}

void NotificationHub::Reap() {
  std::vector<std::thread> finished;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    finished.swap(m_finished);
  }
  for (std::thread& thread : finished) {
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();  // a subscriber's own thread reaping itself
    } else if (thread.joinable()) {
      thread.join();
    }
  }
}

void NotificationHub::Publish(const Event& event) {
  std::lock_guard<std::mutex> lock(m_mutex);
  for (auto& subscriber : m_subscribers) {
    std::lock_guard<std::mutex> sub_lock(subscriber->mutex);
    if (subscriber->stop) continue;
    subscriber->queue.push_back(event);
    subscriber->cv.notify_all();
  }
}

void NotificationHub::BlockConnected(const Block& block, const BlockIndex& index) {
  if (subscriber_count() == 0) return;
  auto bytes = std::make_shared<const std::vector<uint8_t>>(block.Encode());
  uint32_t height = index.height;
  Publish([bytes, height](ipc::ChainNotifications& target) { target.blockConnected(*bytes, height); });
}

void NotificationHub::BlockDisconnected(const Block& block, const BlockIndex& index) {
  if (subscriber_count() == 0) return;
  auto bytes = std::make_shared<const std::vector<uint8_t>>(block.Encode());
  uint32_t height = index.height;
  Publish([bytes, height](ipc::ChainNotifications& target) { target.blockDisconnected(*bytes, height); });
}

void NotificationHub::TipChanged(const BlockIndex& tip) {
  if (subscriber_count() == 0) return;
  ipc::BlockRef ref = MakeBlockRef(tip);
  Publish([ref](ipc::ChainNotifications& target) { target.updatedBlockTip(ref); });
}

void NotificationHub::TransactionAdded(const MempoolEntry& entry) {
  if (subscriber_count() == 0) return;
  auto bytes = std::make_shared<const std::vector<uint8_t>>(entry.tx.Encode());
  Publish([bytes](ipc::ChainNotifications& target) { target.transactionAddedToMempool(*bytes); });
}

void NotificationHub::TransactionRemoved(const Transaction& tx, RemovalReason reason) {
  if (subscriber_count() == 0) return;
  auto bytes = std::make_shared<const std::vector<uint8_t>>(tx.Encode());
  std::string name = RemovalReasonName(reason);
  Publish([bytes, name](ipc::ChainNotifications& target) { target.transactionRemovedFromMempool(*bytes, name); });
}

}  // namespace minicoin
