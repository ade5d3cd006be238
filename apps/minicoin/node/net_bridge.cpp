// NetBridge.
#include "node/net_bridge.h"

#include "common/args.h"
#include "common/logging.h"
#include "ipc/connection_log.h"
#include "net/net_options.h"
#include "net/net_service.h"
#include "node/net_chain.h"
#include "node/node.h"

#include <crossproc/errors.h>

#include <algorithm>
#include <chrono>

namespace minicoin {

namespace {

constexpr std::chrono::seconds kFirstRestartDelay{1};
constexpr std::chrono::seconds kMaxRestartDelay{30};
// A child that ran this long before ending counts as healthy: the next restart is quick again.
constexpr std::chrono::seconds kHealthyRun{60};

}  // namespace

void AddNetBridgeOptions(ArgsManager& args, bool multiprocess) {
  net::AddNetOptions(args);
  if (multiprocess) {
    args.AddArg("-netsandbox",
                "Run the minicoin-net process confined to its own files, the network and its IPC connection "
                "(default: 1). minicoin-node only",
                kArgNone, "Connection options");
  }
}

// Passes the node's tip changes and new mempool transactions to the layer. Its calls come one at
// a time from a notification thread of the node's own; a layer that is gone (a child between
// crash and restart) just misses them, and the restarted one asks the node where things stand.
class NetBridge::Forwarder final : public ipc::ChainNotifications {
 public:
  explicit Forwarder(NetBridge& bridge) : m_bridge(&bridge) {}

  void Detach() {
    std::lock_guard lock(m_mutex);
    m_bridge = nullptr;
  }

  void blockConnected(const std::vector<uint8_t>&, uint32_t) override {}
  void blockDisconnected(const std::vector<uint8_t>&, uint32_t) override {}
  void transactionRemovedFromMempool(const std::vector<uint8_t>&, const std::string&) override {}

  void transactionAddedToMempool(const std::vector<uint8_t>& tx) override {
    std::vector<uint8_t> txid;
    try {
      txid = Transaction::Decode(tx).Txid().ToBytes();
    } catch (const std::exception&) {
      return;  // the node's own encoding: cannot fail
    }
    Forward([&](ipc::Net& net) { net.transactionsAccepted({txid}); });
  }

  void updatedBlockTip(const ipc::BlockRef& tip) override {
    std::vector<uint8_t> header;
    bool initial_download = true;
    {
      std::lock_guard lock(m_mutex);
      std::optional<Uint256> hash = Uint256::FromBytes(tip.hash);
      if (m_bridge == nullptr || !hash) return;
      const BlockIndex* index = m_bridge->m_node.chain().Lookup(*hash);
      if (index == nullptr) return;
      header = index->header.Encode();
      initial_download = m_bridge->m_node.IsInitialBlockDownload();
      // During initial download the layer announces nothing and needs the tip only for the
      // height its version messages carry: one tip a second is enough, instead of a call to the
      // layer's process for every block downloaded.
      const auto now = std::chrono::steady_clock::now();
      if (initial_download && now - m_last_download_tip < kDownloadTipInterval) return;
      m_last_download_tip = now;
    }
    Forward([&](ipc::Net& net) { net.blockTipChanged(header, tip.height, initial_download); });
  }

 private:
  template <typename Fn>
  void Forward(const Fn& fn) {
    std::shared_ptr<ipc::Net> net;
    {
      std::lock_guard lock(m_mutex);
      if (m_bridge == nullptr) return;
      net = m_bridge->net();
    }
    if (!net) return;
    try {
      fn(*net);
    } catch (const std::exception&) {
      // The layer's process is gone; the monitor restarts it.
    }
  }

  static constexpr std::chrono::seconds kDownloadTipInterval{1};

  std::mutex m_mutex;
  NetBridge* m_bridge;  // guarded by m_mutex; null after Detach
  std::chrono::steady_clock::time_point m_last_download_tip;  // guarded by m_mutex
};

struct NetBridge::Child {
  crossproc::Spawned<ipc::Init> process;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  ~Child() {
    process.init.reset();
    process.connection.reset();  // closes the socket: the child exits
    process.process.reset();     // reaps it
  }
};

NetBridge::NetBridge(Node& node, std::filesystem::path datadir)
    : m_node(node), m_datadir(std::move(datadir)), m_multiprocess(node.options().multiprocess) {
  m_chain = std::make_shared<NodeNetChain>(node);
  if (m_multiprocess) {
    std::shared_ptr<Child> child = SpawnChild();
    std::shared_ptr<ipc::Net> net = child->process.init->makeNet(m_chain);
    {
      std::lock_guard lock(m_mutex);
      m_child = std::move(child);
      m_net = std::move(net);
    }
    m_monitor = std::thread([this] { Monitor(); });
  } else {
    std::string error;
    std::error_code ec;
    std::filesystem::create_directories(m_datadir / "net", ec);
    if (ec) throw std::runtime_error("cannot create " + (m_datadir / "net").string() + ": " + ec.message());
    std::optional<net::NetOptions> options =
        net::ReadNetOptions(node.args(), node.chain().params(), m_datadir / "net", error);
    if (!options) throw std::runtime_error(error);
    std::shared_ptr<ipc::Net> net = net::NetService::Start(std::move(*options), m_chain, node.log());
    std::lock_guard lock(m_mutex);
    m_net = std::move(net);
  }
  m_forwarder = std::make_shared<Forwarder>(*this);
  m_subscription = node.notifications().Subscribe(m_forwarder, "net");
}

NetBridge::~NetBridge() { Stop(); }

void NetBridge::Stop() {
  {
    std::lock_guard lock(m_mutex);
    if (m_stopping) return;
    m_stopping = true;
  }
  m_cv.notify_all();
  if (m_forwarder) m_forwarder->Detach();
  m_subscription.reset();
  std::shared_ptr<ipc::Net> net = this->net();
  if (net) {
    try {
      net->stop();
    } catch (const std::exception& e) {
      m_node.log().Warning("net: stopping the peer-to-peer layer: %s", e.what());
    }
  }
  std::shared_ptr<Child> child;
  {
    std::lock_guard lock(m_mutex);
    m_net.reset();
    child = std::move(m_child);
  }
  net.reset();
  // The monitor may be waiting on this connection: closing it wakes the monitor, which sees
  // m_stopping and lets go of its reference.
  if (child) child->process.connection->Close();
  if (m_monitor.joinable()) m_monitor.join();
  child.reset();  // ends and reaps the process
}

std::shared_ptr<ipc::Net> NetBridge::net() {
  std::lock_guard lock(m_mutex);
  return m_net;
}

int NetBridge::ProcessId() {
  std::lock_guard lock(m_mutex);
  return m_child ? static_cast<int>(m_child->process.process->pid()) : 0;
}

std::shared_ptr<NetBridge::Child> NetBridge::SpawnChild() {
  Logger& log = m_node.log();
  crossproc::SpawnOptions options;
  options.connection = IpcConnectionOptions(log, "minicoin-node", "net ipc");
  const ArgsManager& args = m_node.args();
  std::vector<std::string> extra = net::NetOptionArguments(args);
  extra.push_back("-datadir=" + args.GetDataDirBase().string());
  extra.push_back("-chain=" + m_node.chain().params().name);
  for (const std::string& category : args.GetArgs("-debug")) extra.push_back("-debug=" + category);
  if (args.GetBoolArg("-printtoconsole", false)) extra.push_back("-printtoconsole");
  extra.push_back(args.GetBoolArg("-netsandbox", true) ? "-sandbox" : "-nosandbox");
  options.command_line = [extra](const std::string& executable, int fd) {
    std::vector<std::string> line{executable, "-ipcfd", std::to_string(fd)};
    line.insert(line.end(), extra.begin(), extra.end());
    return line;
  };
  auto child = std::make_shared<Child>();
  child->process = crossproc::SpawnProcess<ipc::Init>(crossproc::FindExecutable("minicoin-net"), options);
  log.Info("net: started minicoin-net process %d", static_cast<int>(child->process.process->pid()));
  return child;
}

void NetBridge::Monitor() {
  std::chrono::seconds delay = kFirstRestartDelay;
  for (;;) {
    std::shared_ptr<Child> watched;
    {
      std::lock_guard lock(m_mutex);
      if (m_stopping || !m_child) return;
      watched = m_child;
    }
    watched->process.connection->WaitForDisconnect();
    {
      std::unique_lock lock(m_mutex);
      if (m_stopping) return;
      m_node.log().Error("net: the minicoin-net process (%d) went away; starting a new one",
                         static_cast<int>(watched->process.process->pid()));
      m_net.reset();
      m_child.reset();
    }
    const bool healthy = std::chrono::steady_clock::now() - watched->started >= kHealthyRun;
    watched.reset();  // reaps the dead process
    if (healthy) delay = kFirstRestartDelay;
    for (;;) {
      {
        std::unique_lock lock(m_mutex);
        if (m_cv.wait_for(lock, delay, [this] { return m_stopping; })) return;
      }
      delay = std::min(delay * 2, kMaxRestartDelay);
      try {
        std::shared_ptr<Child> child = SpawnChild();
        std::shared_ptr<ipc::Net> net = child->process.init->makeNet(m_chain);
        std::unique_lock lock(m_mutex);
        if (m_stopping) {
          lock.unlock();
          net.reset();
          return;  // `child` ends with this scope
        }
        m_child = std::move(child);
        m_net = std::move(net);
        m_restarts.fetch_add(1);
        break;
      } catch (const std::exception& e) {
        m_node.log().Error("net: cannot start minicoin-net again: %s", e.what());
      }
    }
  }
}

}  // namespace minicoin
