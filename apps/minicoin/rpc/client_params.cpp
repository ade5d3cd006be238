#include "rpc/client_params.h"

#include "rpc/json.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace minicoin {

const std::vector<JsonParam>& JsonParams() {
  static const std::vector<JsonParam> kParams = {
      // Blockchain.
      {"getblockhash", 0, "height"},
      {"getblock", 1, "verbosity"},
      {"getblock", 1, "verbose"},
      {"getblockheader", 1, "verbose"},
      {"getblockstats", 1, "stats"},
      {"getchaintxstats", 0, "nblocks"},
      {"getrawmempool", 0, "verbose"},
      {"getrawmempool", 1, "mempool_sequence"},
      {"getmempoolancestors", 1, "verbose"},
      {"getmempooldescendants", 1, "verbose"},
      {"gettxout", 1, "n"},
      {"gettxout", 2, "include_mempool"},
      {"gettxoutproof", 0, "txids"},
      {"verifychain", 0, "checklevel"},
      {"verifychain", 1, "nblocks"},
      {"waitfornewblock", 0, "timeout"},
      {"waitforblock", 1, "timeout"},
      {"waitforblockheight", 0, "height"},
      {"waitforblockheight", 1, "timeout"},
      {"pruneblockchain", 0, "height"},
      {"scantxoutset", 1, "scanobjects"},
      // Raw transactions.
      {"getrawtransaction", 1, "verbose"},
      {"getrawtransaction", 1, "verbosity"},
      {"createrawtransaction", 0, "inputs"},
      {"createrawtransaction", 1, "outputs"},
      {"createrawtransaction", 2, "locktime"},
      {"decoderawtransaction", 1, "iswitness"},
      {"sendrawtransaction", 1, "maxfeerate"},
      {"testmempoolaccept", 0, "rawtxs"},
      {"testmempoolaccept", 1, "maxfeerate"},
      {"signrawtransactionwithkey", 1, "privkeys"},
      {"signrawtransactionwithkey", 2, "prevtxs"},
      {"signrawtransactionwithwallet", 1, "prevtxs"},
      {"prioritisetransaction", 1, "dummy"},
      {"prioritisetransaction", 2, "fee_delta"},
      // Mining and generating.
      {"generatetoaddress", 0, "nblocks"},
      {"generatetoaddress", 2, "maxtries"},
      {"generatetodescriptor", 0, "num_blocks"},
      {"generatetodescriptor", 2, "maxtries"},
      {"generateblock", 1, "transactions"},
      {"generateblock", 2, "submit"},
      {"getblocktemplate", 0, "template_request"},
      {"getnetworkhashps", 0, "nblocks"},
      {"getnetworkhashps", 1, "height"},
      // Wallet.
      {"createwallet", 1, "disable_private_keys"},
      {"createwallet", 2, "blank"},
      {"createwallet", 4, "avoid_reuse"},
      {"createwallet", 5, "descriptors"},
      {"createwallet", 6, "load_on_startup"},
      {"loadwallet", 1, "load_on_startup"},
      {"unloadwallet", 1, "load_on_startup"},
      {"getbalance", 1, "minconf"},
      {"getbalance", 2, "include_watchonly"},
      {"getbalance", 3, "avoid_reuse"},
      {"getreceivedbyaddress", 1, "minconf"},
      {"sendtoaddress", 1, "amount"},
      {"sendtoaddress", 4, "subtractfeefromamount"},
      {"sendtoaddress", 5, "replaceable"},
      {"sendtoaddress", 6, "conf_target"},
      {"sendtoaddress", 8, "avoid_reuse"},
      {"sendtoaddress", 9, "fee_rate"},
      {"sendtoaddress", 10, "verbose"},
      {"sendmany", 1, "amounts"},
      {"sendmany", 2, "minconf"},
      {"sendmany", 4, "subtractfeefrom"},
      {"sendmany", 5, "replaceable"},
      {"sendmany", 6, "conf_target"},
      {"sendmany", 8, "fee_rate"},
      {"sendmany", 9, "verbose"},
      {"listtransactions", 1, "count"},
      {"listtransactions", 2, "skip"},
      {"listtransactions", 3, "include_watchonly"},
      {"listunspent", 0, "minconf"},
      {"listunspent", 1, "maxconf"},
      {"listunspent", 2, "addresses"},
      {"listunspent", 3, "include_unsafe"},
      {"listunspent", 4, "query_options"},
      {"listreceivedbyaddress", 0, "minconf"},
      {"listreceivedbyaddress", 1, "include_empty"},
      {"listreceivedbyaddress", 2, "include_watchonly"},
      {"listsinceblock", 1, "target_confirmations"},
      {"listsinceblock", 2, "include_watchonly"},
      {"gettransaction", 1, "include_watchonly"},
      {"gettransaction", 2, "verbose"},
      {"lockunspent", 0, "unlock"},
      {"lockunspent", 1, "transactions"},
      {"keypoolrefill", 0, "newsize"},
      {"walletpassphrase", 1, "timeout"},
      {"settxfee", 0, "amount"},
      {"rescanblockchain", 0, "start_height"},
      {"rescanblockchain", 1, "stop_height"},
      {"listwalletbalances", 0, "timeout"},
      {"bumpfee", 1, "options"},
      {"fundrawtransaction", 1, "options"},
      {"estimatesmartfee", 0, "conf_target"},
      // Control and test helpers.
      {"setmocktime", 0, "timestamp"},
      {"mockscheduler", 0, "delta_time"},
      {"logging", 0, "include"},
      {"logging", 1, "exclude"},
      {"setnetworkactive", 0, "state"},
      {"getnodeaddresses", 0, "count"},
      {"echojson", 0, "arg0"},
      {"echojson", 1, "arg1"},
      {"echojson", 2, "arg2"},
      {"echojson", 3, "arg3"},
      {"echojson", 4, "arg4"},
      {"echojson", 5, "arg5"},
      {"echojson", 6, "arg6"},
      {"echojson", 7, "arg7"},
      {"echojson", 8, "arg8"},
      {"echojson", 9, "arg9"},
  };
  return kParams;
}

bool IsJsonParam(const std::string& method, std::size_t index) {
  for (const JsonParam& param : JsonParams()) {
    if (param.index == index && method == param.method) return true;
  }
  return false;
}

bool IsJsonParam(const std::string& method, const std::string& name) {
  for (const JsonParam& param : JsonParams()) {
    if (name == param.name && method == param.method) return true;
  }
  return false;
}

nlohmann::json ParseJsonArgument(const std::string& text) {
  std::string error;
  std::optional<nlohmann::json> value = ParseJsonLimited(text, error);
  if (!value) {
    if (JsonNestingDepth(text) > kMaxJsonDepth) throw std::runtime_error("Error parsing JSON: " + error);
    throw std::runtime_error("Error parsing JSON: " + text);
  }
  return std::move(*value);
}

nlohmann::json ConvertPositionalParams(const std::string& method,
                                       const std::vector<std::string>& args) {
  nlohmann::json params = nlohmann::json::array();
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (IsJsonParam(method, i)) {
      params.push_back(ParseJsonArgument(args[i]));
    } else {
      params.push_back(args[i]);
    }
  }
  return params;
}

nlohmann::json ConvertNamedParams(const std::string& method, const std::vector<std::string>& args) {
  nlohmann::json params = nlohmann::json::object();
  for (const std::string& arg : args) {
    std::size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::runtime_error("No '=' in named argument '" + arg +
                               "', this needs to be fixed (-named takes name=value arguments)");
    }
    std::string name = arg.substr(0, eq);
    std::string value = arg.substr(eq + 1);
    if (params.contains(name)) {
      throw std::runtime_error("Parameter " + name + " specified multiple times");
    }
    params[name] = IsJsonParam(method, name) ? ParseJsonArgument(value) : nlohmann::json(value);
  }
  return params;
}

}  // namespace minicoin
