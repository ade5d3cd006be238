// minicoind's RPC request path on fuzzed input: an HTTP body goes through the server's parser
// and dispatcher (HttpRpcServer::HandleBody) to the real methods of a running regtest node with
// a wallet, as an authenticated client's request would.
//
// Input: byte 0 chooses the form. Even: the rest is the whole body. Odd: byte 1 picks one of the
// table's methods and the rest is its params text, so that every method is reached with fuzzed
// params (the text is still parsed by the server, so it may be malformed). Bit 1 of byte 0 sends
// the request to /wallet/fuzz instead of /.
//
// Methods that would leave the sandbox of the node's temporary data directory or stop the node
// (stop, wallet files, passphrases with their deliberate slowness) are not called, nor long
// block generation; everything else is.
#include "minicoin_node_harness.h"
#include "rpc/json.h"
#include "rpc/server.h"
#include "rpc/table.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

using minicoin::HttpRpcServer;
using Json = nlohmann::json;

struct Harness {
  fuzz::NodeHarness node;
  std::unique_ptr<HttpRpcServer> server;  // never started: only HandleBody is used
  std::vector<std::string> methods;
};

const std::set<std::string>& Excluded() {
  static const std::set<std::string> excluded = {
      "stop",           // would end the node for the remaining inputs
      "createwallet",   // wallet files: names could point outside the data directory's tests
      "loadwallet",     //
      "unloadwallet",   //
      "encryptwallet",  // key stretching makes each call take long on purpose
      "walletpassphrase",
  };
  return excluded;
}

Harness& GetHarness() {
  static Harness* harness = [] {
    auto* h = new Harness;
    fuzz::StartNode(h->node, "fuzz_minicoin_rpc", {"-wallet=fuzz"});
    h->server = std::make_unique<HttpRpcServer>(minicoin::HttpRpcServerOptions{}, h->node.runtime->rpc_table());
    for (const std::string& method : h->node.runtime->rpc_table().Methods()) {
      if (Excluded().count(method) == 0) h->methods.push_back(method);
    }
    return h;
  }();
  return *harness;
}

// A small integer, or anything else.
bool SmallInt(const Json& value, int64_t max) {
  return value.is_number_integer() && value.get<int64_t>() >= 0 && value.get<int64_t>() <= max;
}

// Whether one request may run: not an excluded method, no long block generation.
bool Allowed(const Json& request) {
  if (!request.is_object() || !request.contains("method") || !request["method"].is_string()) return true;
  const std::string method = request["method"].get<std::string>();
  if (Excluded().count(method) != 0) return false;
  if (method == "generatetoaddress") {
    const Json params = request.contains("params") ? request["params"] : Json(nullptr);
    if (params.is_array()) {
      if (params.empty() || !SmallInt(params[0], 2)) return false;
      if (params.size() > 2 && !params[2].is_null() && !SmallInt(params[2], 100000)) return false;
    } else if (params.is_object()) {
      if (!params.contains("nblocks") || !SmallInt(params["nblocks"], 2)) return false;
      if (params.contains("maxtries") && !SmallInt(params["maxtries"], 100000)) return false;
    } else {
      return params.is_null();  // a type error, quickly
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  Harness& harness = GetHarness();
  const bool whole_body = (data[0] & 1) == 0;
  const std::string uri = (data[0] & 2) != 0 ? "/wallet/fuzz" : "/";
  std::string body;
  if (whole_body) {
    body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  } else {
    const std::string& method = harness.methods[data[1] % harness.methods.size()];
    std::string params(reinterpret_cast<const char*>(data + 2), size - 2);
    body = R"({"jsonrpc":"1.0","id":1,"method":")" + method + R"(","params":)" + params + "}";
  }
  // Look at what would run (the server parses it again, with the same bound).
  std::string error;
  std::optional<Json> parsed = minicoin::ParseJsonLimited(body, error);
  if (parsed) {
    if (parsed->is_array()) {
      for (const Json& request : *parsed) {
        if (!Allowed(request)) return 0;
      }
    } else if (!Allowed(*parsed)) {
      return 0;
    }
  }
  HttpRpcServer::Reply reply = harness.server->HandleBody(body, uri, "fuzz");
  // Every answer is a status and, unless it is a notification's, JSON.
  if (reply.status != 204 && !Json::accept(reply.body)) {
    std::fprintf(stderr, "reply is not JSON (%d): %.200s\n", reply.status, reply.body.c_str());
    std::abort();
  }
  return 0;
}
