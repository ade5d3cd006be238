#include "rpc/table.h"

#include "rpc/util.h"

#include <cctype>

namespace minicoin {
namespace {

std::string Capitalized(const std::string& text) {
  std::string out = text;
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::string RpcRequest::WalletName() const {
  const std::string prefix = "/wallet/";
  if (uri.compare(0, prefix.size(), prefix) != 0) return "";
  return uri.substr(prefix.size());
}

void RpcTable::Add(RpcMethod method) {
  std::string name = method.name;
  m_methods[name] = std::move(method);
}

const RpcMethod* RpcTable::Find(const std::string& name) const {
  auto it = m_methods.find(name);
  return it == m_methods.end() ? nullptr : &it->second;
}

nlohmann::json RpcTable::Execute(const RpcRequest& request) const {
  return Execute(request, request.params);
}

nlohmann::json RpcTable::Execute(const RpcRequest& request, const nlohmann::json& params) const {
  const RpcMethod* method = Find(request.method);
  if (method == nullptr) throw RpcError(kRpcMethodNotFound, "Method not found");
  RpcRequest call = request;
  if (params.is_object()) {
    nlohmann::json positional = nlohmann::json::array();
    for (const auto& [key, value] : params.items()) {
      std::size_t index = 0;
      while (index < method->arg_names.size() && method->arg_names[index] != key) ++index;
      if (index == method->arg_names.size()) {
        throw RpcError(kRpcInvalidParameter, "Unknown named parameter " + key);
      }
      while (positional.size() <= index) positional.push_back(nullptr);
      positional[index] = value;
    }
    call.params = std::move(positional);
  } else if (params.is_array()) {
    call.params = params;
  } else if (params.is_null()) {
    call.params = nlohmann::json::array();
  } else {
    throw RpcError(kRpcInvalidRequest, "Params must be an array or object");
  }
  // Trailing nulls (from named params or explicit) do not count towards the maximum.
  std::size_t count = call.params.size();
  while (count > 0 && call.params[count - 1].is_null()) --count;
  if (count > method->arg_names.size() || count < method->min_args) {
    throw RpcError(kRpcMiscError, method->help);
  }
  try {
    return method->handler(call);
  } catch (const RpcError&) {
    throw;
  } catch (const nlohmann::json::type_error& e) {
    throw RpcError(kRpcTypeError, e.what());
  } catch (const std::exception& e) {
    throw RpcError(kRpcMiscError, e.what());
  }
}

std::string RpcTable::Help(const std::string& name) const {
  if (!name.empty()) {
    const RpcMethod* method = Find(name);
    if (method == nullptr) return "help: unknown command: " + name;
    return method->help;
  }
  std::map<std::string, std::vector<const RpcMethod*>> by_category;
  // Methods of the "hidden" category (test aids) are left out of the list; `help <name>` shows them.
  for (const auto& [method_name, method] : m_methods) {
    if (method.category != "hidden") by_category[method.category].push_back(&method);
  }
  std::string out;
  for (const auto& [category, methods] : by_category) {
    if (!out.empty()) out += "\n";
    out += "== " + Capitalized(category) + " ==\n";
    for (const RpcMethod* method : methods) {
      std::string usage = FirstLine(method->help);
      out += (usage.empty() ? method->name : usage) + "\n";
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<std::string> RpcTable::Methods() const {
  std::vector<std::string> out;
  for (const auto& [name, method] : m_methods) out.push_back(name);
  return out;
}

RpcMethod MakeHelpMethod(const RpcTable& table) {
  RpcMethod method;
  method.name = "help";
  method.category = "control";
  method.arg_names = {"command"};
  method.help =
      "help ( \"command\" )\n"
      "\n"
      "List all commands, or get help for a specified command.\n"
      "\n"
      "Arguments:\n"
      "1. command    (string, optional, default=all commands) The command to get help on\n"
      "\n"
      "Result:\n"
      "\"str\"    (string) The help text\n";
  method.handler = [&table](const RpcRequest& request) -> nlohmann::json {
    if (request.params.empty() || request.params[0].is_null()) return table.Help();
    return table.Help(ParamString(request, 0));
  };
  return method;
}

}  // namespace minicoin
