#include "rpc/client.h"

#include "rpc/auth.h"
#include "rpc/json.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <optional>

namespace minicoin {

nlohmann::json SendRpcRequest(const RpcClientOptions& options, const std::string& method,
                              const nlohmann::json& params) {
  httplib::Client client(options.host, options.port);
  time_t timeout = options.timeout_seconds > 0 ? options.timeout_seconds : 365 * 24 * 3600;
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  client.set_keep_alive(false);
  client.set_tcp_nodelay(true);
  httplib::Headers headers;
  if (!options.credentials.empty()) {
    headers.emplace("Authorization", "Basic " + Base64Encode(options.credentials));
  }
  nlohmann::json request = {{"method", method}, {"params", params}, {"id", 1}};
  std::string body = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  httplib::Result result = client.Post(options.path, headers, body, "application/json");
  std::string where = options.host.find(':') != std::string::npos
                          ? "[" + options.host + "]:" + std::to_string(options.port)
                          : options.host + ":" + std::to_string(options.port);
  if (!result) {
    std::string reason;
    if (result.error() == httplib::Error::Read) reason = " (timeout reached or connection closed)";
    throw RpcConnectionError("Could not connect to the server " + where + reason);
  }
  int status = result->status;
  if (status == 401) {
    throw RpcAuthorizationError("Authorization failed: Incorrect rpcuser or rpcpassword");
  }
  if (status != 200 && status != 400 && status != 404 && status != 500) {
    throw std::runtime_error("server returned HTTP error " + std::to_string(status));
  }
  if (result->body.empty()) throw std::runtime_error("no response from server");
  std::string parse_error;
  std::optional<nlohmann::json> parsed = ParseJsonLimited(result->body, parse_error);
  if (!parsed) throw std::runtime_error("couldn't parse reply from server: " + parse_error);
  nlohmann::json reply = std::move(*parsed);
  if (!reply.is_object()) throw std::runtime_error("expected reply to have result, error and id properties");
  return reply;
}

nlohmann::json CallRpc(const RpcClientOptions& options, const std::string& method,
                       const nlohmann::json& params) {
  nlohmann::json reply = SendRpcRequest(options, method, params);
  if (reply.contains("error") && !reply["error"].is_null()) {
    const nlohmann::json& error = reply["error"];
    int code = error.contains("code") && error["code"].is_number_integer() ? error["code"].get<int>()
                                                                          : kRpcMiscError;
    std::string message = error.contains("message") && error["message"].is_string()
                              ? error["message"].get<std::string>()
                              : error.dump();
    throw RpcError(code, message);
  }
  return reply.contains("result") ? reply["result"] : nlohmann::json(nullptr);
}

}  // namespace minicoin
