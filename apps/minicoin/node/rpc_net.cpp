// RPC methods of the peer-to-peer network.
#include "node/net_bridge.h"
#include "node/node.h"
#include "node/rpc_util.h"

#include <crossproc/errors.h>

#include <ctime>

namespace minicoin {

using nlohmann::json;

namespace {

// Runs `fn` on the layer; an RPC error when the layer is gone (a minicoin-net process between a
// crash and its restart).
template <typename Fn>
auto WithNet(const std::function<NetBridge*()>& bridge, const Fn& fn) {
  NetBridge* b = bridge();
  std::shared_ptr<ipc::Net> net = b != nullptr ? b->net() : nullptr;
  if (!net) throw RpcError(kRpcClientP2pDisabled, "Error: Peer-to-peer functionality missing or disabled (the network process is restarting)");
  try {
    return fn(*net);
  } catch (const crossproc::Disconnected&) {
    throw RpcError(kRpcClientP2pDisabled, "Error: the network process went away; it is being restarted");
  }
}

double Seconds(int64_t micros) { return static_cast<double>(micros) / 1e6; }

std::string ServicesHex(uint64_t services) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(services));
  return text;
}

json PeerToJson(const ipc::PeerStats& peer) {
  json out{{"id", peer.id},
           {"addr", peer.address},
           {"services", ServicesHex(peer.services)},
           {"lastsend", peer.lastSend},
           {"lastrecv", peer.lastReceive},
           {"bytessent", peer.bytesSent},
           {"bytesrecv", peer.bytesReceived},
           {"conntime", peer.connectedTime},
           {"version", peer.version},
           {"subver", peer.userAgent},
           {"inbound", peer.inbound},
           {"connection_type", peer.connectionType},
           {"startingheight", peer.startingHeight},
           {"synced_headers", peer.syncedHeaders},
           {"synced_blocks", peer.syncedBlocks},
           {"inflight", peer.blocksInFlight}};
  if (peer.pingMicros >= 0) out["pingtime"] = Seconds(peer.pingMicros);
  if (peer.minPingMicros >= 0) out["minping"] = Seconds(peer.minPingMicros);
  if (peer.pingWaitMicros >= 0) out["pingwait"] = Seconds(peer.pingWaitMicros);
  return out;
}

}  // namespace

void RegisterNetRpc(RpcTable& table, Node& node, std::function<NetBridge*()> bridge) {
  table.Add({"getconnectioncount", "Network", {},
             "getconnectioncount\n\nReturns the number of connections to other nodes.\n\n"
             "Result:\nn    (numeric) The connection count\n\n"
             "Examples:\n> minicoin-cli getconnectioncount",
             [bridge](const RpcRequest&) -> json {
               return WithNet(bridge, [](ipc::Net& net) { return net.getNetworkInfo().connections; });
             }});
  table.Add({"getpeerinfo", "Network", {},
             "getpeerinfo\n\nReturns data about each connected peer.\n\n"
             "Result:\n[\n  {\n"
             "    \"id\" : n,                (numeric) Peer index\n"
             "    \"addr\" : \"host:port\",    (string) The peer's address\n"
             "    \"services\" : \"hex\",      (string) The services it offers\n"
             "    \"lastsend\", \"lastrecv\" : (numeric) Unix times of the last message sent and received\n"
             "    \"bytessent\", \"bytesrecv\" : (numeric) Bytes sent and received\n"
             "    \"conntime\" : n,          (numeric) Unix time of the connection\n"
             "    \"pingtime\", \"minping\" : (numeric) Last and smallest ping round trip in seconds, if any\n"
             "    \"pingwait\" : n,          (numeric) Seconds an outstanding ping has waited, if any\n"
             "    \"version\" : n,           (numeric) The peer's protocol version\n"
             "    \"subver\" : \"str\",        (string) Its user agent\n"
             "    \"inbound\" : true|false,  (boolean) It connected to us\n"
             "    \"connection_type\" : \"str\", (string) inbound, outbound or manual\n"
             "    \"startingheight\" : n,    (numeric) Its height when it connected\n"
             "    \"synced_headers\" : n,    (numeric) Its best header's height we know of (-1: none)\n"
             "    \"synced_blocks\" : n,     (numeric) Its best block's height we know of (-1: none)\n"
             "    \"inflight\" : n           (numeric) Blocks requested from it and not yet received\n"
             "  },\n  ...\n]\n\n"
             "Examples:\n> minicoin-cli getpeerinfo",
             [bridge](const RpcRequest&) -> json {
               return WithNet(bridge, [](ipc::Net& net) {
                 json out = json::array();
                 for (const ipc::PeerStats& peer : net.getPeerStats()) out.push_back(PeerToJson(peer));
                 return out;
               });
             }});
  table.Add({"getnetworkinfo", "Network", {},
             "getnetworkinfo\n\nReturns the state of the node's peer-to-peer networking.\n\n"
             "Result:\n{\n"
             "  \"version\" : n,              (numeric) The node's protocol version\n"
             "  \"subversion\" : \"str\",       (string) Its user agent\n"
             "  \"protocolversion\" : n,      (numeric) The same as version\n"
             "  \"localservices\" : \"hex\",    (string) The services it offers\n"
             "  \"networkactive\" : true,     (boolean) Networking is on\n"
             "  \"connections\" : n,          (numeric) Connected peers\n"
             "  \"connections_in\" : n,       (numeric) Inbound ones\n"
             "  \"connections_out\" : n,      (numeric) Outbound ones\n"
             "  \"maxconnections\" : n,       (numeric) -maxconnections\n"
             "  \"listening\" : true|false,   (boolean) It accepts connections\n"
             "  \"localaddresses\" : [\"ip:port\", ...], (json array) Where it listens\n"
             "  \"knownaddresses\" : n,       (numeric) Peer addresses in its address book\n"
             "  \"netprocess\" : {\"pid\": n, \"restarts\": n}  (json object) minicoin-node: its minicoin-net process\n"
             "}\n\n"
             "Examples:\n> minicoin-cli getnetworkinfo",
             [bridge, &node](const RpcRequest&) -> json {
               ipc::NetworkInfo info = WithNet(bridge, [](ipc::Net& net) { return net.getNetworkInfo(); });
               json out{{"version", info.protocolVersion},
                        {"subversion", info.userAgent},
                        {"protocolversion", info.protocolVersion},
                        {"localservices", ServicesHex(info.services)},
                        {"networkactive", true},
                        {"connections", info.connections},
                        {"connections_in", info.inbound},
                        {"connections_out", info.outbound},
                        {"maxconnections", info.maxConnections},
                        {"listening", info.listening},
                        {"localaddresses", info.localAddresses},
                        {"knownaddresses", info.knownAddresses}};
               if (node.options().multiprocess) {
                 NetBridge* b = bridge();
                 out["netprocess"] = json{{"pid", b != nullptr ? b->ProcessId() : 0},
                                          {"restarts", b != nullptr ? b->Restarts() : 0}};
               }
               return out;
             }});
  table.Add({"getnettotals", "Network", {},
             "getnettotals\n\nReturns the bytes sent and received over peer connections.\n\n"
             "Result:\n{\"totalbytesrecv\": n, \"totalbytessent\": n, \"timemillis\": n}\n\n"
             "Examples:\n> minicoin-cli getnettotals",
             [bridge](const RpcRequest&) -> json {
               ipc::NetTotals totals = WithNet(bridge, [](ipc::Net& net) { return net.getNetTotals(); });
               return json{{"totalbytesrecv", totals.bytesReceived},
                           {"totalbytessent", totals.bytesSent},
                           {"timemillis", totals.timeMillis}};
             }});
  table.Add({"ping", "Network", {},
             "ping\n\nSends a ping to every peer; the round trip shows in getpeerinfo's pingtime.\n\n"
             "Examples:\n> minicoin-cli ping",
             [bridge](const RpcRequest&) -> json {
               WithNet(bridge, [](ipc::Net& net) { net.pingPeers(); return 0; });
               return nullptr;
             }});
  table.Add({"addnode", "Network", {"node", "command"},
             "addnode \"node\" \"command\"\n\n"
             "Adds a peer to keep connected to, removes one, or connects to one once.\n\n"
             "Arguments:\n"
             "1. node       (string, required) The peer's address, ip or ip:port ([ipv6]:port)\n"
             "2. command    (string, required) 'add' to keep it connected, 'remove' to stop, 'onetry' to connect once\n\n"
             "Examples:\n> minicoin-cli addnode \"192.168.0.6:19333\" \"onetry\"",
             [bridge](const RpcRequest& request) -> json {
               std::string address = ParamString(request, 0);
               std::string command = ParamString(request, 1);
               if (command != "add" && command != "remove" && command != "onetry") {
                 throw RpcError(kRpcInvalidParameter, "command must be one of add, remove, onetry");
               }
               std::string error = WithNet(bridge, [&](ipc::Net& net) { return net.addNode(address, command); });
               if (!error.empty()) {
                 int code = command == "add" ? kRpcClientNodeAlreadyAdded
                            : command == "remove" ? kRpcClientNodeNotAdded
                                                  : kRpcInvalidParameter;
                 throw RpcError(code, "Error: " + error);
               }
               return nullptr;
             },
             2});
  table.Add({"disconnectnode", "Network", {"address", "nodeid"},
             "disconnectnode ( \"address\" nodeid )\n\n"
             "Closes the connection to a peer, named by its address or by its id (getpeerinfo).\n\n"
             "Arguments:\n"
             "1. address    (string, optional) The peer's ip:port\n"
             "2. nodeid     (numeric, optional) The peer's id, when no address is given\n\n"
             "Examples:\n> minicoin-cli disconnectnode \"192.168.0.6:19333\"\n> minicoin-cli disconnectnode \"\" 1",
             [bridge](const RpcRequest& request) -> json {
               std::string address = OptionalParamString(request, 0).value_or("");
               std::optional<int64_t> id = OptionalParamInt(request, 1);
               if (address.empty() == !id.has_value()) {
                 throw RpcError(kRpcInvalidParameter, "Only one of address and nodeid should be provided.");
               }
               std::string error =
                   WithNet(bridge, [&](ipc::Net& net) { return net.disconnectNode(address, id.value_or(-1)); });
               if (!error.empty()) throw RpcError(kRpcClientNodeNotConnected, "Node not found in connected nodes");
               return nullptr;
             }});
  table.Add({"setban", "Network", {"subnet", "command", "bantime", "absolute"},
             "setban \"ip\" \"command\" ( bantime absolute )\n\n"
             "Bans an IP address (every port of it) or lifts a ban. Banning disconnects its peers.\n\n"
             "Arguments:\n"
             "1. ip          (string, required) The IP address\n"
             "2. command     (string, required) 'add' or 'remove'\n"
             "3. bantime     (numeric, optional, default=0) Seconds to ban (0: -bantime), or the unix time it ends with absolute\n"
             "4. absolute    (boolean, optional, default=false) bantime is a unix time\n\n"
             "Examples:\n> minicoin-cli setban \"192.168.0.6\" \"add\" 86400",
             [bridge](const RpcRequest& request) -> json {
               std::string address = ParamString(request, 0);
               std::string command = ParamString(request, 1);
               if (command != "add" && command != "remove") {
                 throw RpcError(kRpcInvalidParameter, "command must be add or remove");
               }
               int64_t seconds = OptionalParamInt(request, 2).value_or(0);
               bool absolute = OptionalParamBool(request, 3).value_or(false);
               std::string error =
                   WithNet(bridge, [&](ipc::Net& net) { return net.setBan(address, command, seconds, absolute); });
               if (!error.empty()) {
                 throw RpcError(kRpcClientInvalidIpOrSubnet, "Error: " + error);
               }
               return nullptr;
             },
             2});
  table.Add({"listbanned", "Network", {},
             "listbanned\n\nLists the banned IP addresses.\n\n"
             "Result:\n[{\"address\": \"ip\", \"ban_created\": n, \"banned_until\": n, \"ban_duration\": n, "
             "\"time_remaining\": n, \"reason\": \"str\"}, ...]\n\n"
             "Examples:\n> minicoin-cli listbanned",
             [bridge](const RpcRequest&) -> json {
               std::vector<ipc::BanEntry> bans = WithNet(bridge, [](ipc::Net& net) { return net.listBanned(); });
               const int64_t now = static_cast<int64_t>(std::time(nullptr));
               json out = json::array();
               for (const ipc::BanEntry& ban : bans) {
                 out.push_back(json{{"address", ban.address},
                                    {"ban_created", ban.created},
                                    {"banned_until", ban.until},
                                    {"ban_duration", ban.until - ban.created},
                                    {"time_remaining", std::max<int64_t>(0, ban.until - now)},
                                    {"reason", ban.reason}});
               }
               return out;
             }});
  table.Add({"clearbanned", "Network", {},
             "clearbanned\n\nLifts every ban.\n\nExamples:\n> minicoin-cli clearbanned",
             [bridge](const RpcRequest&) -> json {
               WithNet(bridge, [](ipc::Net& net) { net.clearBanned(); return 0; });
               return nullptr;
             }});
}

}  // namespace minicoin
