// Spelling helpers: identifiers, include lines and qualified names.
#pragma once

#include <string>
#include <string_view>

namespace crossproc::gen {

// "fooBar" -> "FooBar": how Cap'n Proto's C++ generator spells accessors (getFooBar).
std::string TitleCase(std::string_view name);
// "FooBar" -> "fooBar".
std::string LowerFirst(std::string_view name);
// `name`, with `_` appended when it is a C++ keyword.
std::string CxxIdentifier(std::string_view name);
// "ns::sub" or "::ns::sub" -> "ns::sub" (the form used in `namespace ns::sub {`).
std::string StripGlobal(std::string_view name);
// An #include line for a header named in a schema annotation: "foo.h" and <foo.h> are kept,
// a bare foo.h gets quotes.
std::string IncludeLine(std::string_view header);
// Removes the `::<ns>::` qualification of names in `type` (written inside namespace `ns`),
// leaving names of other namespaces alone: "std::vector<::calc::Point>" -> "std::vector<Point>".
std::string RelativeTo(std::string_view type, std::string_view ns);

}  // namespace crossproc::gen
