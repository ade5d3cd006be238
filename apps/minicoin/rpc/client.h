// CallRpc: a JSON-RPC 1.0 call over HTTP, as minicoin-cli and functional tests make it.
#pragma once

#include "rpc/protocol.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace minicoin {

struct RpcClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // required: the node's -rpcport, by default its chain's (BaseParams().rpc_port)
  std::string credentials;  // "user:password"; empty: no Authorization header
  std::string path = "/";   // "/wallet/<name>" for a wallet
  int timeout_seconds = 900;  // connect and read timeout; 0: none (a year)
};

// The server could not be reached (refused, unreachable, timed out). The message is
// "Could not connect to the server <host>:<port>" and the reason when there is one.
struct RpcConnectionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The server answered HTTP 401: "Authorization failed: Incorrect rpcuser or rpcpassword".
struct RpcAuthorizationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Sends {"method", "params", "id": 1} and returns the reply object {result, error, id}.
// Throws RpcConnectionError, RpcAuthorizationError, or std::runtime_error for other HTTP-level
// failures: statuses than 200/400/404/500 "server
// returned HTTP error <n>", "no response from server", "couldn't parse reply from server".
nlohmann::json SendRpcRequest(const RpcClientOptions& options, const std::string& method,
                              const nlohmann::json& params);
// The `result` of the call; a reply with an `error` throws RpcError with its code and message.
nlohmann::json CallRpc(const RpcClientOptions& options, const std::string& method,
                       const nlohmann::json& params);

}  // namespace minicoin
