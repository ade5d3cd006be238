// The local ipc::Node over a NodeRuntime.
#include "node/node_interface.h"

#include "ipc/wallet_error.h"
#include "node/net_bridge.h"
#include "node/node.h"
#include "primitives/address.h"
#include "rpc/json.h"
#include "rpc/table.h"
#include "wallet/wallet_directory.h"

#include <crossproc/errors.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace minicoin {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxTriesPerBlock = 1'000'000;
constexpr std::size_t kMaxQueuedLogLines = 10000;

// An ipc::Wallet forwarding to a wallet of the directory, which shares it with the RPC server
// and the other front ends. Thread-safe as far as the wallet is.
class ForwardingWallet final : public ipc::Wallet {
 public:
  explicit ForwardingWallet(std::shared_ptr<ipc::Wallet> wallet) : m_wallet(std::move(wallet)) {}
  std::string getName() override { return m_wallet->getName(); }
  ipc::Balances getBalances() override { return m_wallet->getBalances(); }
  std::string getNewAddress(const std::string& label) override { return m_wallet->getNewAddress(label); }
  std::vector<uint8_t> sendToAddress(const std::string& address, uint64_t amount, uint64_t fee_rate) override {
    return m_wallet->sendToAddress(address, amount, fee_rate);
  }
  std::vector<ipc::WalletTransaction> listTransactions(uint32_t count, uint32_t skip) override {
    return m_wallet->listTransactions(count, skip);
  }
  std::vector<ipc::UnspentOutput> listUnspent() override { return m_wallet->listUnspent(); }
  ipc::WalletInfo getWalletInfo() override { return m_wallet->getWalletInfo(); }
  void encryptWallet(const std::string& passphrase) override { m_wallet->encryptWallet(passphrase); }
  void walletPassphrase(const std::string& passphrase, uint32_t timeout_seconds) override {
    m_wallet->walletPassphrase(passphrase, timeout_seconds);
  }
  void walletLock() override { m_wallet->walletLock(); }
  uint32_t rescan(uint32_t start_height) override { return m_wallet->rescan(start_height); }
  std::unique_ptr<ipc::Handler> handleBalanceChanged(
      const std::function<void(const ipc::Balances&)>& callback) override {
    return m_wallet->handleBalanceChanged(callback);
  }
  ipc::SignedTransaction signRawTransaction(const std::vector<uint8_t>& tx,
                                            const std::vector<ipc::PrevOut>& prevouts) override {
    return m_wallet->signRawTransaction(tx, prevouts);
  }

 private:
  std::shared_ptr<ipc::Wallet> m_wallet;
};

// Turns the hub's events into a front end's tip callback. Called on the hub's subscriber thread.
class TipNotifications final : public ipc::ChainNotifications {
 public:
  explicit TipNotifications(std::function<void(const ipc::BlockRef&)> callback) : m_callback(std::move(callback)) {}
  void blockConnected(const std::vector<uint8_t>&, uint32_t) override {}
  void blockDisconnected(const std::vector<uint8_t>&, uint32_t) override {}
  void transactionAddedToMempool(const std::vector<uint8_t>&) override {}
  void transactionRemovedFromMempool(const std::vector<uint8_t>&, const std::string&) override {}
  void updatedBlockTip(const ipc::BlockRef& tip) override { m_callback(tip); }

 private:
  std::function<void(const ipc::BlockRef&)> m_callback;
};

// Turns mempool additions and removals into the mempool's transaction count.
class MempoolNotifications final : public ipc::ChainNotifications {
 public:
  MempoolNotifications(Mempool& mempool, std::function<void(uint32_t)> callback)
      : m_mempool(mempool), m_callback(std::move(callback)) {}
  void blockConnected(const std::vector<uint8_t>&, uint32_t) override {}
  void blockDisconnected(const std::vector<uint8_t>&, uint32_t) override {}
  void transactionAddedToMempool(const std::vector<uint8_t>&) override { Notify(); }
  void transactionRemovedFromMempool(const std::vector<uint8_t>&, const std::string&) override { Notify(); }
  void updatedBlockTip(const ipc::BlockRef&) override {}

 private:
  void Notify() { m_callback(static_cast<uint32_t>(m_mempool.GetInfo().size)); }

  Mempool& m_mempool;
  std::function<void(uint32_t)> m_callback;
};

// The mask of a comma separated list of categories ("" or "all": every line).
LogCategory ParseCategories(const std::string& text) {
  uint32_t mask = 0;
  std::size_t start = 0;
  bool any = false;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string name = text.substr(start, comma - start);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (!name.empty()) {
      LogCategory category;
      if (!ParseLogCategory(name, category)) {
        throw std::runtime_error("unknown log category '" + name + "' (known: " + LogCategoriesList() + ", all)");
      }
      if (category == LogCategory::kNone) throw std::runtime_error("log category '" + name + "' selects no lines");
      mask |= static_cast<uint32_t>(category);
      any = true;
    }
    start = comma + 1;
  }
  return any ? static_cast<LogCategory>(mask) : LogCategory::kAll;
}

// Delivers log lines to a front end's callback from a thread of its own, so that logging
// threads only queue. A callback that throws (the front end went away) ends the delivery.
// Shared by the handler and the delivery thread. Thread-safe.
struct LogDelivery {
  std::function<void(const std::string&)> callback;
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::string> lines;  // guarded by mutex
  uint64_t dropped = 0;           // guarded by mutex
  bool stopping = false;          // guarded by mutex

  void Push(const std::string& line) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping) return;
      if (lines.size() >= kMaxQueuedLogLines) {
        ++dropped;
        return;
      }
      lines.push_back(line);
    }
    cv.notify_one();
  }

  void Run() {
    LogSinkPause pause;  // the delivery's own logging (-debug=ipc) must not feed it
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      cv.wait(lock, [&] { return stopping || !lines.empty(); });
      if (stopping) return;
      std::string line = std::move(lines.front());
      lines.pop_front();
      uint64_t lost = std::exchange(dropped, 0);
      lock.unlock();
      try {
        if (lost != 0) callback("(" + std::to_string(lost) + " log lines dropped: the receiver was too slow)");
        callback(line);
      } catch (const std::exception&) {
        lock.lock();
        stopping = true;
        return;
      }
      lock.lock();
    }
  }
};

// Ends a log subscription: removes the sink, then stops the delivery thread.
class LogHandler final : public ipc::Handler {
 public:
  LogHandler(Logger& log, LogCategory categories, std::function<void(const std::string&)> callback)
      : m_delivery(std::make_shared<LogDelivery>()) {
    m_delivery->callback = std::move(callback);
    m_thread = std::thread([delivery = m_delivery] { delivery->Run(); });
    std::weak_ptr<LogDelivery> weak = m_delivery;
    m_subscription = log.AddSink(categories, [weak](const std::string& line) {
      if (auto delivery = weak.lock()) delivery->Push(line);
    });
  }
  ~LogHandler() override { disconnect(); }
  void disconnect() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_subscription.reset();
    {
      std::lock_guard<std::mutex> delivery_lock(m_delivery->mutex);
      m_delivery->stopping = true;
    }
    m_delivery->cv.notify_all();
    if (!m_thread.joinable()) return;
    // Destroyed from inside the callback (a front end's callback calling back): the thread
    // ends by itself after this line; it holds its own reference to the delivery state.
    if (m_thread.get_id() == std::this_thread::get_id()) {
      m_thread.detach();
    } else {
      m_thread.join();
    }
  }

 private:
  std::shared_ptr<LogDelivery> m_delivery;
  std::mutex m_mutex;
  std::thread m_thread;                            // guarded by m_mutex after construction
  std::unique_ptr<LogSubscription> m_subscription;  // guarded by m_mutex after construction
};

// What a front end shows of a peer. `now` is the current unix time.
ipc::PeerSummary SummarizePeer(const ipc::PeerStats& peer, int64_t now) {
  ipc::PeerSummary summary;
  summary.id = peer.id;
  summary.address = peer.address;
  summary.inbound = peer.inbound;
  summary.userAgent = peer.userAgent;
  summary.pingMillis = peer.pingMicros >= 0 ? static_cast<double>(peer.pingMicros) / 1000.0 : -1.0;
  summary.syncedHeight = peer.syncedBlocks;
  summary.bytesSent = peer.bytesSent;
  summary.bytesReceived = peer.bytesReceived;
  summary.connectedSeconds = std::max<int64_t>(0, now - peer.connectedTime);
  return summary;
}

[[noreturn]] void NoWallets() {
  throw WalletError(WalletError::kWalletError, "this node runs without wallets (-disablewallet)");
}

class LocalNode final : public ipc::Node {
 public:
  explicit LocalNode(NodeRuntime& runtime) : m_runtime(runtime), m_node(runtime.node()) {}

  ipc::NodeStatus getStatus() override {
    ipc::NodeStatus status;
    m_node.chain().WithTip([&](const BlockIndex& tip, const CoinsView&) { status.tip = MakeBlockRef(tip); });
    Mempool::Info mempool = m_node.mempool().GetInfo();
    status.mempoolTransactions = static_cast<uint32_t>(mempool.size);
    status.mempoolBytes = mempool.bytes;
    status.executable = m_node.options().executable_name;
    status.dataDir = m_runtime.datadir().string();
    status.walletsEnabled = m_runtime.wallets() != nullptr;
    status.uptimeSeconds = m_node.Uptime();
    // The best header may be behind the tip for a moment (a block mined here): progress stays 1.
    status.headers = std::max(status.tip.height, m_node.header_tree().BestHeader().height);
    status.initialDownload = m_node.IsInitialBlockDownload();
    status.verificationProgress =
        status.headers == 0 ? 1.0 : std::min(1.0, static_cast<double>(status.tip.height) / status.headers);
    status.connections = WithNet<uint32_t>(0, [](ipc::Net& net) { return net.getNetworkInfo().connections; });
    return status;
  }

  std::vector<ipc::PeerSummary> getPeers() override {
    std::vector<ipc::PeerStats> peers =
        WithNet<std::vector<ipc::PeerStats>>({}, [](ipc::Net& net) { return net.getPeerStats(); });
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    std::vector<ipc::PeerSummary> out;
    out.reserve(peers.size());
    for (const ipc::PeerStats& peer : peers) out.push_back(SummarizePeer(peer, now));
    return out;
  }

  std::vector<std::string> listWallets() override {
    WalletDirectory* wallets = m_runtime.wallets();
    return wallets ? wallets->List() : std::vector<std::string>{};
  }
  std::vector<std::string> listWalletDir() override {
    WalletDirectory* wallets = m_runtime.wallets();
    return wallets ? wallets->ListDir() : std::vector<std::string>{};
  }
  std::unique_ptr<ipc::Wallet> getWallet(const std::string& name) override {
    std::shared_ptr<ipc::Wallet> wallet = Directory().Get(name);
    if (!wallet) throw WalletError(WalletError::kNotFound, "Requested wallet does not exist or is not loaded: " + name);
    return std::make_unique<ForwardingWallet>(std::move(wallet));
  }
  std::unique_ptr<ipc::Wallet> createWallet(const std::string& name, const std::string& passphrase) override {
    return std::make_unique<ForwardingWallet>(Directory().Create(name, passphrase));
  }
  std::unique_ptr<ipc::Wallet> loadWallet(const std::string& name) override {
    return std::make_unique<ForwardingWallet>(Directory().Load(name));
  }

  std::vector<std::vector<uint8_t>> generateToAddress(uint32_t blocks, const std::string& address,
                                                      const std::function<bool(uint32_t, uint32_t)>& progress) override {
    std::string error;
    std::optional<XOnlyPublicKey> payout = DecodeAddress(address, &error);
    if (!payout) throw std::runtime_error("Invalid address '" + address + "': " + error);
    std::vector<std::vector<uint8_t>> hashes;
    for (uint32_t i = 0; i < blocks && !m_node.ShutdownRequested(); ++i) {
      std::optional<Block> block = m_node.MineBlock(*payout, kMaxTriesPerBlock);
      if (!block) break;  // shutdown, or no solution within the tries
      Uint256 hash = block->header.Hash();
      ChainState::BlockResult result = m_node.SubmitBlock(std::move(*block));
      if (!result.accepted) throw std::runtime_error("mined block rejected: " + result.reason);
      hashes.emplace_back(hash.bytes().begin(), hash.bytes().end());
      if (progress && !progress(i + 1, blocks)) break;
    }
    return hashes;
  }

  std::string executeRpc(const std::string& method, const std::string& params) override {
    json parsed = json::array();
    if (params.find_first_not_of(" \t\r\n") != std::string::npos) {
      std::string error;
      std::optional<json> value = ParseJsonLimited(params, error);
      if (!value) throw std::runtime_error("executeRpc: params are not JSON: " + error);
      parsed = std::move(*value);
      if (!parsed.is_array() && !parsed.is_object()) {
        throw std::runtime_error("executeRpc: params must be a JSON array (or an object of named params)");
      }
    }
    RpcRequest request;
    request.method = method;
    return m_runtime.rpc_table().Execute(request, parsed).dump();
  }

  std::unique_ptr<ipc::Handler> handleTipChanged(const std::function<void(const ipc::BlockRef&)>& callback) override {
    return m_node.notifications().Subscribe(std::make_shared<TipNotifications>(callback), "front end (tip)");
  }
  std::unique_ptr<ipc::Handler> handleMempoolChanged(const std::function<void(uint32_t)>& callback) override {
    return m_node.notifications().Subscribe(std::make_shared<MempoolNotifications>(m_node.mempool(), callback),
                                            "front end (mempool)");
  }
  std::unique_ptr<ipc::Handler> handleLog(const std::string& categories,
                                          const std::function<void(const std::string&)>& callback) override {
    return std::make_unique<LogHandler>(m_node.log(), ParseCategories(categories), callback);
  }

  void shutdown() override { m_node.RequestShutdown(); }

 private:
  // `fn` on the peer-to-peer layer, or `fallback` while it is not running (a minicoin-net
  // process between a crash and its restart). The layer's Disconnected must not reach the front
  // end, which would take it for the loss of its own connection to the node.
  template <typename T, typename Fn>
  T WithNet(T fallback, const Fn& fn) {
    NetBridge* bridge = m_runtime.net_bridge();
    std::shared_ptr<ipc::Net> net = bridge != nullptr ? bridge->net() : nullptr;
    if (!net) return fallback;
    try {
      return fn(*net);
    } catch (const crossproc::Disconnected&) {
      return fallback;
    }
  }

  WalletDirectory& Directory() {
    WalletDirectory* wallets = m_runtime.wallets();
    if (wallets == nullptr) NoWallets();
    return *wallets;
  }

  NodeRuntime& m_runtime;
  minicoin::Node& m_node;
};

}  // namespace

std::unique_ptr<ipc::Node> MakeNodeInterface(NodeRuntime& runtime) { return std::make_unique<LocalNode>(runtime); }

}  // namespace minicoin
