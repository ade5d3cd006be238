// The peer-to-peer options.
#include "net/net_options.h"

#include "chain/params.h"
#include "common/args.h"
#include "common/chain_type.h"

#include <utility>

namespace minicoin::net {
namespace {

constexpr const char* kCategory = "Connection options";

// The options passed on to minicoin-net, as registered (name only).
constexpr const char* kSingleValued[] = {"-listen", "-port", "-maxconnections", "-bantime"};
constexpr const char* kLists[] = {"-bind", "-connect", "-addnode", "-seednode"};

std::optional<int64_t> ReadRange(const ArgsManager& args, const char* name, int64_t fallback, int64_t low,
                                 int64_t high, std::string& error) {
  std::optional<int64_t> value = args.GetIntArgChecked(name, fallback, error);
  if (!value) return std::nullopt;
  if (*value < low || *value > high) {
    error = "Invalid value for " + std::string(name) + ": " + std::to_string(*value) + " (expected " +
            std::to_string(low) + " to " + std::to_string(high) + ")";
    return std::nullopt;
  }
  return value;
}

}  // namespace

void AddNetOptions(ArgsManager& args) {
  const std::string ports = std::to_string(BaseParams(ChainType::kMain).p2p_port) +
                            ", testnet: " + std::to_string(BaseParams(ChainType::kTest).p2p_port) +
                            ", regtest: " + std::to_string(BaseParams(ChainType::kRegtest).p2p_port);
  args.AddArg("-listen", "Accept connections from peers (default: 1, or 0 with -connect; on regtest 0 unless -port or -bind is given)",
              kArgNone, kCategory);
  args.AddArg("-bind=<addr>[:<port>]",
              "Listen for peers on this address (IPv6 as [addr]:port). Can be given several times "
              "(default: every interface, IPv4 and IPv6)",
              kArgAllowList, kCategory);
  args.AddArg("-port=<port>", "Listen for peers on <port> (default: " + ports + ")", kArgNone, kCategory);
  args.AddArg("-connect=<ip>[:<port>]",
              "Connect only to these peers (no automatic outbound connections); -noconnect makes no outbound "
              "connection at all. Can be given several times",
              kArgAllowList, kCategory);
  args.AddArg("-addnode=<ip>[:<port>]",
              "Keep a connection to this peer besides the automatic ones (reconnecting after a loss). Can be given "
              "several times",
              kArgAllowList, kCategory);
  args.AddArg("-seednode=<ip>[:<port>]",
              "Connect to this peer to learn addresses, then disconnect. Can be given several times", kArgAllowList,
              kCategory);
  args.AddArg("-maxconnections=<n>",
              "Keep at most <n> peer connections, inbound and outbound together (default: " +
                  std::to_string(kDefaultMaxConnections) + ")",
              kArgNone, kCategory);
  args.AddArg("-bantime=<n>",
              "Seconds a misbehaving peer's address stays banned (default: " + std::to_string(kDefaultBanTimeSeconds) +
                  ")",
              kArgNone, kCategory);
}

std::optional<NetOptions> ReadNetOptions(const ArgsManager& args, const ChainParams& params,
                                         const std::filesystem::path& datadir, std::string& error) {
  NetOptions options;
  ConnectionManagerOptions& c = options.connections;
  c.magic = params.magic;
  c.default_port = BaseParams(params.type).p2p_port;
  std::optional<int64_t> port = ReadRange(args, "-port", c.default_port, 1, 65535, error);
  if (!port) return std::nullopt;
  c.port = static_cast<uint16_t>(*port);
  std::optional<int64_t> max_connections =
      ReadRange(args, "-maxconnections", kDefaultMaxConnections, 0, 10000, error);
  if (!max_connections) return std::nullopt;
  c.max_connections = static_cast<int>(*max_connections);
  std::optional<int64_t> ban_time = ReadRange(args, "-bantime", kDefaultBanTimeSeconds, 1, int64_t{1} << 40, error);
  if (!ban_time) return std::nullopt;
  c.ban_time = std::chrono::seconds(*ban_time);

  c.binds = args.GetArgs("-bind");
  c.connect = args.GetArgs("-connect");
  // -connect=0 means -noconnect.
  std::erase(c.connect, std::string("0"));
  c.add_nodes = args.GetArgs("-addnode");
  c.seed_nodes = args.GetArgs("-seednode");
  // -connect given (even -noconnect): no automatic outbound connections.
  const bool connect_only = args.IsArgSet("-connect");
  if (connect_only) c.max_outbound = 0;
  bool listen_default = !connect_only;
  if (params.type == ChainType::kRegtest) listen_default = args.IsArgSet("-port") || !c.binds.empty();
  c.listen = args.GetBoolArg("-listen", listen_default);
  c.allow_local = params.type == ChainType::kRegtest;
  c.peers_file = datadir / "peers.dat";
  c.bans_file = datadir / "banlist.dat";
  return options;
}

std::vector<std::string> NetOptionArguments(const ArgsManager& args) {
  std::vector<std::string> out;
  for (const char* name : kSingleValued) {
    if (!args.IsArgSet(name)) continue;
    if (args.IsArgNegated(name)) {
      out.push_back(std::string("-no") + (name + 1));
    } else {
      out.push_back(std::string(name) + "=" + args.GetArg(name, ""));
    }
  }
  for (const char* name : kLists) {
    if (!args.IsArgSet(name)) continue;
    if (args.IsArgNegated(name)) out.push_back(std::string("-no") + (name + 1));
    for (const std::string& value : args.GetArgs(name)) out.push_back(std::string(name) + "=" + value);
  }
  return out;
}

}  // namespace minicoin::net
