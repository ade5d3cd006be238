#include "names.h"

#include <algorithm>
#include <cctype>
#include <iterator>

namespace crossproc::gen {
namespace {

// C++20 keywords and alternative tokens.
constexpr std::string_view kKeywords[] = {
    "alignas",       "alignof",     "and",
    "and_eq",        "asm",         "auto",
    "bitand",        "bitor",       "bool",
    "break",         "case",        "catch",
    "char",          "char8_t",     "char16_t",
    "char32_t",      "class",       "compl",
    "concept",       "const",       "consteval",
    "constexpr",     "constinit",   "const_cast",
    "continue",      "co_await",    "co_return",
    "co_yield",      "decltype",    "default",
    "delete",        "do",          "double",
    "dynamic_cast",  "else",        "enum",
    "explicit",      "export",      "extern",
    "false",         "float",       "for",
    "friend",        "goto",        "if",
    "inline",        "int",         "long",
    "mutable",       "namespace",   "new",
    "noexcept",      "not",         "not_eq",
    "nullptr",       "operator",    "or",
    "or_eq",         "private",     "protected",
    "public",        "register",    "reinterpret_cast",
    "requires",      "return",      "short",
    "signed",        "sizeof",      "static",
    "static_assert", "static_cast", "struct",
    "switch",        "template",    "this",
    "thread_local",  "throw",       "true",
    "try",           "typedef",     "typeid",
    "typename",      "union",       "unsigned",
    "using",         "virtual",     "void",
    "volatile",      "wchar_t",     "while",
    "xor",           "xor_eq",
};

bool IsIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

std::string TitleCase(std::string_view name) {
  std::string result(name);
  if (!result.empty())
    result[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(result[0])));
  return result;
}

std::string LowerFirst(std::string_view name) {
  std::string result(name);
  if (!result.empty())
    result[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(result[0])));
  return result;
}

std::string CxxIdentifier(std::string_view name) {
  std::string result(name);
  if (std::find(std::begin(kKeywords), std::end(kKeywords), name) != std::end(kKeywords))
    result += '_';
  return result;
}

std::string StripGlobal(std::string_view name) {
  if (name.starts_with("::")) name.remove_prefix(2);
  return std::string(name);
}

std::string IncludeLine(std::string_view header) {
  if (header.starts_with("<") || header.starts_with("\"")) return "#include " + std::string(header);
  return "#include \"" + std::string(header) + "\"";
}

std::string RelativeTo(std::string_view type, std::string_view ns) {
  if (ns.empty()) return std::string(type);
  std::string prefix = "::" + std::string(ns) + "::";
  std::string result;
  std::size_t pos = 0;
  while (pos < type.size()) {
    std::size_t found = type.find(prefix, pos);
    if (found == std::string_view::npos) break;
    // Only a qualification that starts a name: not the tail of `::other::ns::`.
    bool starts_name = found == 0 || (!IsIdentifierChar(type[found - 1]) && type[found - 1] != ':');
    result.append(type.substr(pos, found - pos));
    if (!starts_name) result.append(prefix);
    pos = found + prefix.size();
  }
  result.append(type.substr(pos));
  return result;
}

}  // namespace crossproc::gen
