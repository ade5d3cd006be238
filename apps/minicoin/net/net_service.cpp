// NetService.
#include "net/net_service.h"

#include "common/logging.h"
#include "primitives/serialize.h"

#include <chrono>
#include <future>
#include <map>
#include <stdexcept>

namespace minicoin::net {
namespace {

Uint256 HashFromData(const std::vector<uint8_t>& data) {
  std::optional<Uint256> hash = Uint256::FromBytes(data);
  if (!hash) throw std::invalid_argument("a hash must be 32 bytes");
  return *hash;
}

// How long an RPC waits for the message thread's view of the peers' sync state.
constexpr std::chrono::seconds kSyncStatsWait{5};
// processBlocks calls under way at once: while the node connects one batch it prepares the next
// ones (decodes them, checks them, verifies their signatures on the worker pool).
constexpr std::size_t kBlockCallsAtNode = 3;

}  // namespace

std::unique_ptr<NetService> NetService::Start(NetOptions options, std::shared_ptr<ipc::NetChain> chain, Logger& log) {
  std::unique_ptr<NetService> service(new NetService(std::move(options), std::move(chain), log));
  service->m_connections->Start(*service->m_logic);
  return service;
}

NetService::NetService(NetOptions options, std::shared_ptr<ipc::NetChain> chain, Logger& log)
    : m_log(log), m_options(std::move(options)), m_chain(std::move(chain)) {
  m_height->store(m_chain->getStatus().tipHeight);
  ConnectionManagerOptions connections = m_options.connections;
  connections.best_height = [height = m_height] { return height->load(); };
  m_connections = std::make_unique<ConnectionManager>(std::move(connections), m_log);
  m_submitter = std::make_unique<ThreadBlockSubmitter>(
      *m_chain, kBlockCallsAtNode, [connections = m_connections.get()](std::function<void()> task) {
        connections->Post(std::move(task));
      });
  m_logic = std::make_unique<PeerLogic>(m_options.logic, *m_connections, *m_chain, m_log, m_submitter.get());
}

NetService::~NetService() { stop(); }

void NetService::stop() {
  std::lock_guard lock(m_stop_mutex);
  if (m_stopped) return;
  m_stopped = true;
  m_connections->Stop();
}

void NetService::blockTipChanged(const std::vector<uint8_t>& header, uint32_t height, bool initialDownload) {
  BlockHeader decoded = BlockHeader::Decode(header);
  m_height->store(height);
  m_connections->Post([this, decoded, height, initialDownload] {
    m_logic->BlockTipChanged(decoded, height, initialDownload);
  });
}

void NetService::transactionsAccepted(const std::vector<std::vector<uint8_t>>& txids) {
  std::vector<Uint256> hashes;
  hashes.reserve(txids.size());
  for (const auto& txid : txids) hashes.push_back(HashFromData(txid));
  m_connections->Post([this, hashes = std::move(hashes)] { m_logic->TransactionsAccepted(hashes); });
}

std::vector<ipc::PeerStats> NetService::getPeerStats() {
  std::vector<ConnectionStats> connections = m_connections->GetStats();
  // The peer logic's part is read on its thread.
  auto promise = std::make_shared<std::promise<std::map<PeerId, PeerLogic::PeerSyncStats>>>();
  std::future<std::map<PeerId, PeerLogic::PeerSyncStats>> future = promise->get_future();
  m_connections->Post([this, promise] { promise->set_value(m_logic->SyncStats()); });
  std::map<PeerId, PeerLogic::PeerSyncStats> sync;
  if (future.wait_for(kSyncStatsWait) == std::future_status::ready) sync = future.get();
  std::vector<ipc::PeerStats> out;
  out.reserve(connections.size());
  for (const ConnectionStats& c : connections) {
    ipc::PeerStats p;
    p.id = c.id;
    p.address = c.address;
    p.inbound = c.inbound;
    p.connectedTime = c.connected_time;
    p.lastSend = c.last_send;
    p.lastReceive = c.last_receive;
    p.bytesSent = c.bytes_sent;
    p.bytesReceived = c.bytes_received;
    p.pingMicros = c.ping_micros;
    p.minPingMicros = c.min_ping_micros;
    p.pingWaitMicros = c.ping_wait_micros;
    p.version = c.version;
    p.services = c.services;
    p.userAgent = c.user_agent;
    p.startingHeight = c.starting_height;
    p.connectionType = c.inbound ? "inbound" : (c.manual ? "manual" : "outbound");
    p.syncedHeaders = -1;
    p.syncedBlocks = -1;
    if (auto it = sync.find(c.id); it != sync.end()) {
      p.syncedHeaders = it->second.synced_headers;
      p.syncedBlocks = it->second.synced_blocks;
      p.blocksInFlight = it->second.blocks_in_flight;
    }
    out.push_back(std::move(p));
  }
  return out;
}

ipc::NetworkInfo NetService::getNetworkInfo() {
  ipc::NetworkInfo info;
  info.localAddresses = m_connections->ListeningAddresses();
  info.listening = !info.localAddresses.empty();
  info.inbound = static_cast<uint32_t>(m_connections->InboundCount());
  info.outbound = static_cast<uint32_t>(m_connections->OutboundCount());
  info.connections = info.inbound + info.outbound;
  info.maxConnections = static_cast<uint32_t>(m_options.connections.max_connections);
  info.userAgent = m_options.connections.user_agent;
  info.protocolVersion = kProtocolVersion;
  info.services = m_options.connections.services;
  info.knownAddresses = m_connections->KnownAddresses();
  return info;
}

ipc::NetTotals NetService::getNetTotals() {
  ipc::NetTotals totals;
  totals.bytesReceived = m_connections->TotalBytesReceived();
  totals.bytesSent = m_connections->TotalBytesSent();
  totals.timeMillis = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return totals;
}

std::string NetService::addNode(const std::string& address, const std::string& command) {
  return m_connections->AddNode(address, command);
}

std::string NetService::disconnectNode(const std::string& address, int64_t id) {
  return m_connections->DisconnectNode(address, id);
}

std::string NetService::setBan(const std::string& address, const std::string& command, int64_t seconds,
                               bool absolute) {
  return m_connections->SetBan(address, command, seconds, absolute);
}

std::vector<ipc::BanEntry> NetService::listBanned() {
  std::vector<ipc::BanEntry> out;
  for (const BanInfo& ban : m_connections->ListBanned()) {
    out.push_back(ipc::BanEntry{.address = ban.address, .created = ban.created, .until = ban.until, .reason = ban.reason});
  }
  return out;
}

void NetService::clearBanned() { m_connections->ClearBanned(); }

void NetService::pingPeers() { m_connections->PingAll(); }

}  // namespace minicoin::net
