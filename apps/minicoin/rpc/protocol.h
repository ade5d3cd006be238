// JSON-RPC error codes (as Bitcoin Core's), RpcError and the default RPC port.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace minicoin {

// Standard JSON-RPC 2.0 errors.
inline constexpr int kRpcInvalidRequest = -32600;
inline constexpr int kRpcMethodNotFound = -32601;
inline constexpr int kRpcInvalidParams = -32602;
inline constexpr int kRpcInternalError = -32603;
inline constexpr int kRpcParseError = -32700;
// General application errors.
inline constexpr int kRpcMiscError = -1;
inline constexpr int kRpcTypeError = -3;
inline constexpr int kRpcInvalidAddressOrKey = -5;
inline constexpr int kRpcOutOfMemory = -7;
inline constexpr int kRpcInvalidParameter = -8;
inline constexpr int kRpcDatabaseError = -20;
inline constexpr int kRpcDeserializationError = -22;
inline constexpr int kRpcVerifyError = -25;
inline constexpr int kRpcVerifyRejected = -26;
inline constexpr int kRpcVerifyAlreadyInChain = -27;
inline constexpr int kRpcInWarmup = -28;
inline constexpr int kRpcMethodDeprecated = -32;
// Peer-to-peer errors (Bitcoin Core's codes).
inline constexpr int kRpcClientNodeAlreadyAdded = -23;
inline constexpr int kRpcClientNodeNotAdded = -24;
inline constexpr int kRpcClientNodeNotConnected = -29;
inline constexpr int kRpcClientInvalidIpOrSubnet = -30;
inline constexpr int kRpcClientP2pDisabled = -9;
// Wallet errors.
inline constexpr int kRpcWalletError = -4;
inline constexpr int kRpcWalletInsufficientFunds = -6;
inline constexpr int kRpcWalletInvalidLabelName = -11;
inline constexpr int kRpcWalletKeypoolRanOut = -12;
inline constexpr int kRpcWalletUnlockNeeded = -13;
inline constexpr int kRpcWalletPassphraseIncorrect = -14;
inline constexpr int kRpcWalletWrongEncState = -15;
inline constexpr int kRpcWalletEncryptionFailed = -16;
inline constexpr int kRpcWalletAlreadyUnlocked = -17;
inline constexpr int kRpcWalletNotFound = -18;
inline constexpr int kRpcWalletNotSpecified = -19;
inline constexpr int kRpcWalletAlreadyLoaded = -35;
inline constexpr int kRpcWalletAlreadyExists = -36;

// An error reply: the JSON-RPC `error` object {code, message}. Immutable.
struct RpcError : std::runtime_error {
  RpcError(int error_code, std::string message)
      : std::runtime_error(std::move(message)), code(error_code) {}
  int code;
};

}  // namespace minicoin
