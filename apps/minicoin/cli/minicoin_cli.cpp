// minicoin-cli: sends one JSON-RPC command to minicoind and prints the result, like bitcoin-cli.
#include "common/args.h"
#include "rpc/auth.h"
#include "rpc/client.h"
#include "rpc/client_params.h"
#include "rpc/protocol.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace minicoin {
namespace {

constexpr int kDefaultClientTimeout = 900;
constexpr const char* kDefaultRpcConnect = "127.0.0.1";

void SetupCliArgs(ArgsManager& args) {
  const std::string port = std::to_string(BaseParams(ChainType::kMain).rpc_port) + ", testnet: " +
                           std::to_string(BaseParams(ChainType::kTest).rpc_port) + ", regtest: " +
                           std::to_string(BaseParams(ChainType::kRegtest).rpc_port);
  args.AddArg("-?", "Print this help message and exit", kArgNone, "Options");
  args.AddHiddenArg("-h");
  args.AddHiddenArg("-help");
  args.AddArg("-version", "Print version and exit", kArgNone, "Options");
  args.AddArg("-named", "Pass named instead of positional arguments (default: false)", kArgNone,
              "Options");
  args.AddArg("-rpcclienttimeout=<n>",
              "Timeout in seconds during HTTP requests, or 0 for no timeout. (default: " +
                  std::to_string(kDefaultClientTimeout) + ")",
              kArgNone, "Options");
  args.AddArg("-rpcconnect=<ip>",
              std::string("Send commands to node running on <ip> (default: ") + kDefaultRpcConnect +
                  ")",
              kArgNone, "Options");
  args.AddArg("-rpccookiefile=<loc>",
              "Location of the auth cookie. Relative paths will be prefixed by the data directory "
              "location. (default: data dir)",
              kArgNone, "Options");
  args.AddArg("-rpcpassword=<pw>", "Password for JSON-RPC connections", kArgSensitive, "Options");
  args.AddArg("-rpcport=<port>",
              "Connect to JSON-RPC on <port> (default: " + port + ")", kArgNone, "Options");
  args.AddArg("-rpcuser=<user>", "Username for JSON-RPC connections", kArgNone, "Options");
  args.AddArg("-rpcwait", "Wait for RPC server to start", kArgNone, "Options");
  args.AddArg("-rpcwaittimeout=<n>",
              "Timeout in seconds to wait for the RPC server to start, or 0 for no timeout. "
              "(default: 0)",
              kArgDisallowNegation, "Options");
  args.AddArg("-rpcwallet=<walletname>",
              "Send RPC for non-default wallet on RPC server (needs to exactly match corresponding "
              "-wallet option passed to minicoind). This changes the RPC endpoint used, e.g. "
              "http://127.0.0.1:" + port + "/wallet/<walletname>",
              kArgNone, "Options");
  args.AddArg("-stdin",
              "Read extra arguments from standard input, one per line until EOF/Ctrl-D "
              "(recommended for sensitive information such as passphrases). When combined with "
              "-stdinrpcpass, the first line from standard input is used for the RPC password.",
              kArgNone, "Options");
  args.AddArg("-stdinrpcpass",
              "Read RPC password from standard input as a single line. When combined with -stdin, "
              "the first line from standard input is used for the RPC password. When combined "
              "with -stdinwalletpassphrase, -stdinrpcpass consumes the first line.",
              kArgNone, "Options");
}

std::string Usage(const ArgsManager& args) {
  return std::string("Minicoin RPC client version v") + MINICOIN_VERSION +
         "\n\n"
         "Usage:  minicoin-cli [options] <command> [params]  Send command to minicoind\n"
         "or:     minicoin-cli [options] -named <command> [name=value]...  Send command to "
         "minicoind (with named arguments)\n"
         "or:     minicoin-cli [options] help                List commands\n"
         "or:     minicoin-cli [options] help <command>      Get help for a command\n"
         "\n" +
         args.GetHelpMessage();
}

std::string UrlEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
        (byte >= '0' && byte <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

// -rpcconnect may carry a port ("host:port", "[::1]:port"); -rpcport overrides it.
void SplitHostPort(const std::string& text, std::string& host, std::optional<uint16_t>& port) {
  host = text;
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    std::size_t close = text.find(']');
    if (close != std::string::npos) {
      host = text.substr(1, close - 1);
      if (close + 1 < text.size() && text[close + 1] == ':') port_text = text.substr(close + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    host = text.substr(0, text.find(':'));
    port_text = text.substr(text.find(':') + 1);
  }
  if (port_text.empty()) return;
  unsigned long value = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') throw std::runtime_error("Invalid port provided in -rpcconnect: " + text);
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535) throw std::runtime_error("Invalid port provided in -rpcconnect: " + text);
  }
  if (value == 0) throw std::runtime_error("Invalid port provided in -rpcconnect: " + text);
  port = static_cast<uint16_t>(value);
}

int64_t CheckedInt(const ArgsManager& args, const std::string& name, int64_t default_value) {
  std::string error;
  std::optional<int64_t> value = args.GetIntArgChecked(name, default_value, error);
  if (!value) throw std::runtime_error(error);
  return *value;
}

// Prints the result (stdout) or the error (stderr); returns the exit code.
int PrintResult(const nlohmann::json& reply) {
  const nlohmann::json& error = reply.contains("error") ? reply["error"] : nlohmann::json(nullptr);
  if (!error.is_null()) {
    if (error.is_object() && error.contains("code") && error.contains("message")) {
      std::string message = error["message"].is_string() ? error["message"].get<std::string>()
                                                         : error["message"].dump();
      std::cerr << "error code: " << error["code"].dump() << "\nerror message:\n" << message << "\n";
    } else {
      std::cerr << "error: " << error.dump() << "\n";
    }
    return 1;
  }
  const nlohmann::json& result = reply.contains("result") ? reply["result"] : nlohmann::json(nullptr);
  if (result.is_null()) return 0;
  if (result.is_string()) {
    std::cout << result.get<std::string>() << "\n";
  } else {
    std::cout << result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return 0;
}

int CommandLineRpc(ArgsManager& args) {
  std::vector<std::string> positional = args.GetPositional();
  if (args.GetBoolArg("-stdinrpcpass", false)) {
    std::string password;
    if (!std::getline(std::cin, password)) {
      throw std::runtime_error("-stdinrpcpass specified but failed to read from standard input");
    }
    args.ForceSetArg("-rpcpassword", password);
  }
  if (args.GetBoolArg("-stdin", false)) {
    for (std::string line; std::getline(std::cin, line);) positional.push_back(line);
  }
  if (positional.empty()) throw std::runtime_error("too few parameters (need at least command)");
  std::string method = positional[0];
  std::vector<std::string> rest(positional.begin() + 1, positional.end());
  nlohmann::json params = args.GetBoolArg("-named", false) ? ConvertNamedParams(method, rest)
                                                           : ConvertPositionalParams(method, rest);

  RpcClientOptions options;
  std::optional<uint16_t> connect_port;
  SplitHostPort(args.GetArg("-rpcconnect", kDefaultRpcConnect), options.host, connect_port);
  int64_t port = CheckedInt(args, "-rpcport", connect_port.value_or(BaseParams(args.GetChainTypeOrMain()).rpc_port));
  if (port <= 0 || port > 65535) {
    throw std::runtime_error("Invalid port provided in -rpcport: " + args.GetArg("-rpcport", ""));
  }
  options.port = static_cast<uint16_t>(port);
  options.timeout_seconds = static_cast<int>(CheckedInt(args, "-rpcclienttimeout", kDefaultClientTimeout));
  if (args.IsArgSet("-rpcwallet")) options.path = "/wallet/" + UrlEncode(args.GetArg("-rpcwallet", ""));
  bool wait = args.GetBoolArg("-rpcwait", false);
  int64_t wait_timeout = CheckedInt(args, "-rpcwaittimeout", 0);
  if (wait_timeout < 0) throw std::runtime_error("-rpcwaittimeout cannot be negative");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_timeout);
  std::filesystem::path cookie_path =
      args.AbsPathInDataDir(args.GetArg("-rpccookiefile", kCookieFileName));
  const std::string connect_hint =
      "\n\nMake sure the minicoind server is running and that you are connecting to the correct "
      "RPC port.";

  while (true) {
    bool no_cookie = false;
    std::string password = args.GetArg("-rpcpassword", "");
    if (!password.empty()) {
      options.credentials = args.GetArg("-rpcuser", "") + ":" + password;
    } else {
      // Re-read on every attempt: with -rpcwait the server writes it when it starts.
      std::optional<std::string> cookie = ReadCookieFile(cookie_path);
      no_cookie = !cookie;
      options.credentials = cookie.value_or("");
    }
    bool timed_out = wait_timeout > 0 && std::chrono::steady_clock::now() >= deadline;
    try {
      nlohmann::json reply = SendRpcRequest(options, method, params);
      const nlohmann::json& error = reply.contains("error") ? reply["error"] : nlohmann::json(nullptr);
      bool warming_up = error.is_object() && error.contains("code") && error["code"] == kRpcInWarmup;
      if (wait && warming_up && !timed_out) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      return PrintResult(reply);
    } catch (const RpcConnectionError& e) {
      if (wait && !timed_out) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        continue;
      }
      throw std::runtime_error((wait ? "timeout on transient error: " : "") +
                               std::string(e.what()) + connect_hint);
    } catch (const RpcAuthorizationError& e) {
      if (no_cookie) {
        throw std::runtime_error(
            "Could not locate RPC credentials. No authentication cookie could be found, and RPC "
            "password is not set.  See -rpcpassword and -stdinrpcpass.  Configuration file: (" +
            args.GetConfigFilePath().string() + ")");
      }
      throw;
    }
  }
}

int Run(int argc, char** argv) {
  ArgsManager args;
  SetupCliArgs(args);
  std::string error;
  if (!args.ParseParameters(argc, argv, error)) {
    std::cerr << "Error parsing command line arguments: " << error << "\n";
    return 1;
  }
  if (args.IsArgSet("-?") || args.IsArgSet("-h") || args.IsArgSet("-help") ||
      args.IsArgSet("-version")) {
    if (args.IsArgSet("-version")) {
      std::cout << "Minicoin RPC client version v" << MINICOIN_VERSION << "\n";
    } else {
      std::cout << Usage(args);
    }
    return 0;
  }
  if (!args.CheckDataDir(error, false)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  if (!args.ReadConfigFile(error, true)) {
    std::cerr << (error.rfind("Error", 0) == 0 ? "" : "Error reading configuration file: ") << error
              << "\n";
    return 1;
  }
  if (!args.GetChainType(error)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  try {
    return CommandLineRpc(args);
  } catch (const RpcError& e) {
    std::cerr << "error code: " << e.code << "\nerror message:\n" << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace
}  // namespace minicoin

int main(int argc, char** argv) { return minicoin::Run(argc, argv); }
