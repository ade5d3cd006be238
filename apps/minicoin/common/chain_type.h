// The chains a minicoin program can run on (-chain, -regtest, -testnet), and what every program
// needs to know of them without their consensus rules: names, data subfolders, default ports.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace minicoin {

enum class ChainType { kMain, kTest, kRegtest };

// Immutable.
struct BaseChainParams {
  ChainType type;
  std::string_view name;         // "main", "test", "regtest": what -chain takes and RPC reports
  std::string_view data_subdir;  // below the data directory ("" for main)
  uint16_t rpc_port;             // the default -rpcport
  uint16_t p2p_port;             // the default peer-to-peer port
};

const BaseChainParams& BaseParams(ChainType type);
// "main", "test" or "regtest" (also "testnet" for test); nullopt for anything else.
std::optional<ChainType> ParseChainType(std::string_view name);

}  // namespace minicoin
