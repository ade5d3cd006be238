// minicoin_rpc_test_server: an HttpRpcServer with a few test methods, for minicoin-cli's tests.
//
//   minicoin_rpc_test_server -datadir=<dir> [-rpcport=<port>] [-portfile=<file>]
//                            [-startdelay=<ms>] [-warmup=<ms>] [-rpcuser=.. -rpcpassword=..]
//
// Writes <dir>/.cookie, prints "ready <port>" on stdout once serving, and runs until the `stop`
// RPC or SIGINT/SIGTERM. Shows the shutdown pattern HttpRpcServer documents: the `stop` handler
// only signals the main thread, which then calls Stop().
#include "common/args.h"
#include "common/logging.h"
#include "rpc/auth.h"
#include "rpc/server.h"
#include "rpc/table.h"
#include "rpc/util.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

namespace minicoin {
namespace {

volatile std::sig_atomic_t g_signalled = 0;

void OnSignal(int) { g_signalled = 1; }

// Set by the `stop` RPC, waited for by main(). Thread-safe.
class StopSignal {
 public:
  void Request() {
    std::lock_guard lock(m_mutex);
    m_requested = true;
    m_changed.notify_all();
  }
  // Waits up to `timeout`; true once requested.
  bool WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, timeout, [this] { return m_requested; });
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  bool m_requested = false;  // guarded by m_mutex
};

std::vector<std::string> EchoArgNames() {
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) names.push_back("arg" + std::to_string(i));
  return names;
}

void AddTestMethods(RpcTable& table, StopSignal& stop,
                    std::chrono::steady_clock::time_point warm_at) {
  auto warmup_check = [warm_at] {
    if (std::chrono::steady_clock::now() < warm_at) throw RpcError(kRpcInWarmup, "Loading block index...");
  };
  table.Add({"echo", "test", EchoArgNames(),
             "echo ( \"arg0\" ... )\n\nReturns its arguments (strings).\n",
             [warmup_check](const RpcRequest& request) -> nlohmann::json {
               warmup_check();
               return request.params;
             }});
  table.Add({"echojson", "test", EchoArgNames(),
             "echojson ( arg0 ... )\n\nReturns its arguments (JSON).\n",
             [warmup_check](const RpcRequest& request) -> nlohmann::json {
               warmup_check();
               return request.params;
             }});
  table.Add({"error", "test", {},
             "error\n\nAlways fails with code -8.\n",
             [](const RpcRequest&) -> nlohmann::json {
               throw RpcError(kRpcInvalidParameter, "This is a test error");
             }});
  table.Add({"ping", "control", {}, "ping\n\nReturns null.\n",
             [warmup_check](const RpcRequest&) -> nlohmann::json {
               warmup_check();
               return nullptr;
             }});
  table.Add({"getblockhash", "blockchain", {"height"},
             "getblockhash height\n\nA fake block hash for a height (a number).\n",
             [](const RpcRequest& request) -> nlohmann::json {
               int64_t height = ParamInt(request, 0);
               if (height < 0) throw RpcError(kRpcInvalidParameter, "Block height out of range");
               char text[65];
               std::snprintf(text, sizeof(text), "%064llx", static_cast<unsigned long long>(height));
               return std::string(text);
             },
             1});
  table.Add({"sendtoaddress", "wallet", {"address", "amount", "comment"},
             "sendtoaddress \"address\" amount ( \"comment\" )\n\nReturns the address and the amount "
             "in units.\n",
             [](const RpcRequest& request) -> nlohmann::json {
               return nlohmann::json{{"address", ParamString(request, 0)},
                                     {"units", AmountFromJson(Param(request, 1))},
                                     {"wallet", request.WalletName()}};
             },
             2});
  table.Add({"getwalletname", "wallet", {}, "getwalletname\n\nThe wallet of the request's URI.\n",
             [](const RpcRequest& request) -> nlohmann::json { return request.WalletName(); }});
  table.Add({"stop", "control", {}, "stop\n\nStops the server.\n",
             [&stop](const RpcRequest&) -> nlohmann::json {
               stop.Request();
               return "minicoin test server stopping";
             }});
}

int Run(int argc, char** argv) {
  ArgsManager args;
  AddLoggingArgs(args);
  args.AddArg("-rpcport=<port>", "Port (default: 0, any free port)", kArgNone, "RPC server options");
  args.AddArg("-rpcbind=<addr>", "Address to bind (default: 127.0.0.1)", kArgAllowList,
              "RPC server options");
  args.AddArg("-rpcuser=<user>", "User name", kArgNone, "RPC server options");
  args.AddArg("-rpcpassword=<pw>", "Password", kArgSensitive, "RPC server options");
  args.AddArg("-portfile=<file>", "Write the bound port to <file>", kArgNone, "Options");
  args.AddArg("-startdelay=<ms>", "Wait before listening", kArgNone, "Options");
  args.AddArg("-warmup=<ms>", "Answer -28 (warming up) to echo/ping for <ms> after start", kArgNone,
              "Options");
  std::string error;
  if (!args.ParseParameters(argc, argv, error) || !args.ReadConfigFile(error) ||
      !args.CheckDataDir(error)) {
    std::fprintf(stderr, "Error: %s\n", error.c_str());
    return 1;
  }
  Logger log;
  if (!ConfigureLogger(log, args, error)) {
    std::fprintf(stderr, "Error: %s\n", error.c_str());
    return 1;
  }
  std::optional<int64_t> port = args.GetIntArgChecked("-rpcport", 0, error);
  if (!port || *port < 0 || *port > 65535) {
    std::fprintf(stderr, "Error: %s\n", error.empty() ? "Invalid -rpcport" : error.c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(args.GetIntArg("-startdelay", 0)));

  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  StopSignal stop;
  RpcTable table;
  auto warm_at = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(args.GetIntArg("-warmup", 0));
  AddTestMethods(table, stop, warm_at);
  table.Add(MakeHelpMethod(table));

  HttpRpcServerOptions options;
  if (args.IsArgSet("-rpcbind")) options.bind = args.GetArgs("-rpcbind");
  options.port = static_cast<uint16_t>(*port);
  options.cookie_file = args.GetDataDir() / kCookieFileName;
  options.user = args.GetArg("-rpcuser", "");
  options.password = args.GetArg("-rpcpassword", "");
  options.log = &log;
  HttpRpcServer server(options, table);
  try {
    server.Start();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
  if (args.IsArgSet("-portfile")) {
    std::ofstream portfile(args.AbsPathInDataDir(args.GetArg("-portfile", "")));
    portfile << server.port() << "\n";
  }
  std::printf("ready %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  while (!stop.WaitFor(std::chrono::milliseconds(50)) && g_signalled == 0) {
  }
  server.Stop();
  return 0;
}

}  // namespace
}  // namespace minicoin

int main(int argc, char** argv) { return minicoin::Run(argc, argv); }
