// NetService: the peer-to-peer layer as one object (connection manager + peer logic) behind the
// ipc::Net interface, serving an ipc::NetChain. minicoin-net serves it to its node over IPC;
// minicoind makes one in its own process.
#pragma once

#include "net.crossproc.h"
#include "net/block_submitter.h"
#include "net/connection_manager.h"
#include "net/net_options.h"
#include "net/peer_logic.h"

#include <atomic>
#include <memory>
#include <mutex>

namespace minicoin {
class Logger;
}  // namespace minicoin

namespace minicoin::net {

// Runs the peer-to-peer layer for `chain` from construction until stop() or destruction.
// Thread-safe: every ipc::Net method may be called from any thread (the peer logic's own work is
// handed to the connection manager's message thread).
//
//   auto service = NetService::Start(options, chain, log);  // throws std::runtime_error
//   service->blockTipChanged(header, height);
//   service->stop();
class NetService final : public ipc::Net {
 public:
  // Binds the listeners and starts connecting. Throws std::runtime_error with a message for the
  // user (a port in use, a bad address).
  static std::unique_ptr<NetService> Start(NetOptions options, std::shared_ptr<ipc::NetChain> chain, Logger& log);
  ~NetService() override;
  NetService(const NetService&) = delete;
  NetService& operator=(const NetService&) = delete;

  void blockTipChanged(const std::vector<uint8_t>& header, uint32_t height, bool initialDownload) override;
  void transactionsAccepted(const std::vector<std::vector<uint8_t>>& txids) override;
  std::vector<ipc::PeerStats> getPeerStats() override;
  ipc::NetworkInfo getNetworkInfo() override;
  ipc::NetTotals getNetTotals() override;
  std::string addNode(const std::string& address, const std::string& command) override;
  std::string disconnectNode(const std::string& address, int64_t id) override;
  std::string setBan(const std::string& address, const std::string& command, int64_t seconds,
                     bool absolute) override;
  std::vector<ipc::BanEntry> listBanned() override;
  void clearBanned() override;
  void pingPeers() override;
  void stop() override;

 private:
  NetService(NetOptions options, std::shared_ptr<ipc::NetChain> chain, Logger& log);

  Logger& m_log;
  const NetOptions m_options;
  std::shared_ptr<ipc::NetChain> m_chain;
  // The tip height our version messages carry (updated by blockTipChanged).
  std::shared_ptr<std::atomic<uint32_t>> m_height = std::make_shared<std::atomic<uint32_t>>(0);
  std::unique_ptr<ConnectionManager> m_connections;
  // The peer logic's processBlocks calls (kBlockCallsAtNode at once); their outcomes are posted
  // to m_connections' message thread. Outlives m_logic.
  std::unique_ptr<ThreadBlockSubmitter> m_submitter;
  std::unique_ptr<PeerLogic> m_logic;  // touched only on m_connections' message thread after Start
  std::mutex m_stop_mutex;
  bool m_stopped = false;  // guarded by m_stop_mutex
};

}  // namespace minicoin::net
