// Parsing JSON text that comes from outside the process (RPC bodies, replies, arguments) with a
// bound on nesting, so that a hostile text cannot exhaust the stack of the recursive code that
// later copies, prints or destroys the value.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace minicoin {

// Arrays and objects nested deeper than this are refused (Bitcoin Core's parser has the same
// bound). A value at depth 512 (the outermost container counts 1) is accepted.
inline constexpr std::size_t kMaxJsonDepth = 512;

// The deepest nesting of arrays and objects in `text`, counting brackets outside strings; stops
// counting once `limit` is passed (returns limit + 1). Linear, no recursion, any input.
std::size_t JsonNestingDepth(std::string_view text, std::size_t limit = kMaxJsonDepth);

// Parses `text`; nullopt with a reason in `error` when it is not JSON or nests deeper than
// `max_depth`.
std::optional<nlohmann::json> ParseJsonLimited(std::string_view text, std::string& error,
                                               std::size_t max_depth = kMaxJsonDepth);

}  // namespace minicoin
