// The options of minicoin's peer-to-peer layer (-listen, -bind, -port, -connect, -addnode,
// -seednode, -maxconnections, -bantime), read into the settings of the connection manager and
// the peer logic.
#pragma once

#include "net/connection_manager.h"
#include "net/peer_logic.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {
class ArgsManager;
struct ChainParams;
}  // namespace minicoin

namespace minicoin::net {

inline constexpr int64_t kDefaultMaxConnections = 125;
inline constexpr int64_t kDefaultBanTimeSeconds = 24 * 60 * 60;

// Everything the peer-to-peer layer is configured with. Value type.
struct NetOptions {
  ConnectionManagerOptions connections;
  PeerLogicOptions logic;
};

// Registers the peer-to-peer options (category "Connection options").
void AddNetOptions(ArgsManager& args);

// The options `args` give for `params`'s chain, with the address book and ban list in
// `datadir`; nullopt with `error` for a bad value. -listen defaults to on, except with -connect
// and on regtest (where it is on only when -listen, -port or -bind is given).
std::optional<NetOptions> ReadNetOptions(const ArgsManager& args, const ChainParams& params,
                                         const std::filesystem::path& datadir, std::string& error);

// The command-line arguments that pass the peer-to-peer options set in `args` on to a
// minicoin-net process, which reads no config file of its own.
std::vector<std::string> NetOptionArguments(const ArgsManager& args);

}  // namespace minicoin::net
