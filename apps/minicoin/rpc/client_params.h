// Which RPC parameters a client sends as JSON rather than strings, and the conversion itself.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace minicoin {

// One parameter that is JSON (number, bool, array, object) instead of a string.
struct JsonParam {
  const char* method;
  std::size_t index;
  const char* name;
};

// The conversion table minicoin-cli uses (methods of the node and the wallet).
const std::vector<JsonParam>& JsonParams();
bool IsJsonParam(const std::string& method, std::size_t index);
bool IsJsonParam(const std::string& method, const std::string& name);
// Parses a command-line value as JSON; a bare scalar ("5", "true", "null") is fine. Throws
// std::runtime_error "Error parsing JSON: <text>".
nlohmann::json ParseJsonArgument(const std::string& text);
// Positional arguments: JSON where the table says so, strings elsewhere.
nlohmann::json ConvertPositionalParams(const std::string& method,
                                       const std::vector<std::string>& args);
// "name=value" arguments (-named) into an object. Throws std::runtime_error for an argument
// without '=' or a JSON parameter that does not parse.
nlohmann::json ConvertNamedParams(const std::string& method, const std::vector<std::string>& args);

}  // namespace minicoin
