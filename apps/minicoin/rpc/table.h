// RpcRequest, RpcMethod and RpcTable: the RPC methods a server dispatches to. Exposes nlohmann::json.
#pragma once

#include "rpc/protocol.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace minicoin {

// One call as a handler sees it.
struct RpcRequest {
  std::string method;
  nlohmann::json params = nlohmann::json::array();  // always an array (named params mapped)
  std::string uri = "/";                            // "/" or "/wallet/<name>", URL-decoded
  std::string auth_user;                            // "__cookie__" or the -rpcuser
  // The wallet named by the URI ("" for "/").
  std::string WalletName() const;
};

// A method: its name, help category, parameter names in positional order and help text.
// `help` follows bitcoind: the usage line ("getblockhash height") first, then a description,
// "Arguments:", "Result:" and "Examples:" sections. Fewer than `min_args` or more than
// arg_names.size() parameters fail with kRpcMiscError and the help text, as bitcoind does.
struct RpcMethod {
  std::string name;
  std::string category;  // "blockchain", "control", "wallet", ...; "hidden": not listed by Help()
  std::vector<std::string> arg_names;
  std::string help;
  std::function<nlohmann::json(const RpcRequest&)> handler;
  std::size_t min_args = 0;
};

// Methods by name. Register everything first (not thread-safe), then Execute, Help and Methods
// are thread-safe (the table is not modified any more).
//
//   RpcTable table;
//   table.Add({"echo", "test", {"arg0"}, "echo ...\n", [](const RpcRequest& r) { return r.params; }});
//   nlohmann::json result = table.Execute(request);
class RpcTable {
 public:
  // Replaces a method of the same name.
  void Add(RpcMethod method);
  // Maps named params (a JSON object) to positions through arg_names (unknown names: -8
  // "Unknown named parameter x"), checks the count, runs the handler. Throws RpcError: -32601
  // "Method not found" for unknown methods; handler exceptions other than RpcError become
  // kRpcMiscError (nlohmann type errors kRpcTypeError) with their message.
  nlohmann::json Execute(const RpcRequest& request) const;
  // Like Execute but `params` may be an object (named) or an array; `request.params` is ignored.
  nlohmann::json Execute(const RpcRequest& request, const nlohmann::json& params) const;
  // Without a name: the usage line of every method, grouped by category ("== Blockchain ==").
  // With one: its full help, or "help: unknown command: <name>".
  std::string Help(const std::string& name = "") const;
  std::vector<std::string> Methods() const;
  const RpcMethod* Find(const std::string& name) const;

 private:
  std::map<std::string, RpcMethod> m_methods;
};

// The `help` method for `table` ("help ( \"command\" )"); the table must outlive it.
RpcMethod MakeHelpMethod(const RpcTable& table);

}  // namespace minicoin
