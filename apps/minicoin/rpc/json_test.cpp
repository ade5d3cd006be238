#include "rpc/json.h"

#include "rpc/client_params.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace minicoin {
namespace {

std::string Nested(std::size_t depth, const std::string& inner = "") {
  return std::string(depth, '[') + inner + std::string(depth, ']');
}

TEST(JsonLimitsTest, NestingDepthCountsContainersOutsideStrings) {
  EXPECT_EQ(JsonNestingDepth("1"), 0u);
  EXPECT_EQ(JsonNestingDepth("[]"), 1u);
  EXPECT_EQ(JsonNestingDepth(R"({"a":[{"b":[]}],"c":[]})"), 4u);
  EXPECT_EQ(JsonNestingDepth(R"(["[[[", "\"[[", {}])"), 2u);
  EXPECT_EQ(JsonNestingDepth(R"(["\\", [[]]])"), 3u);  // an escaped backslash ends the escape
  EXPECT_EQ(JsonNestingDepth(Nested(600), 512), 513u);  // stops counting past the limit
  EXPECT_EQ(JsonNestingDepth("]]]][[", 10), 2u);        // malformed text: still bounded
}

TEST(JsonLimitsTest, ParseAtAndOverTheLimit) {
  std::string error;
  std::optional<nlohmann::json> value = ParseJsonLimited(Nested(kMaxJsonDepth), error);
  ASSERT_TRUE(value) << error;
  EXPECT_TRUE(value->is_array());
  EXPECT_FALSE(ParseJsonLimited(Nested(kMaxJsonDepth + 1), error));
  EXPECT_EQ(error, "JSON nested deeper than 512 levels");
  EXPECT_FALSE(ParseJsonLimited(Nested(1000000), error));
  EXPECT_FALSE(ParseJsonLimited("[1,", error));
  EXPECT_EQ(error, "not valid JSON");
  value = ParseJsonLimited(Nested(3, "1"), error, /*max_depth=*/3);
  ASSERT_TRUE(value);
  EXPECT_EQ((*value)[0][0][0], 1);
}

// minicoin-cli parses JSON arguments with the same bound.
TEST(JsonLimitsTest, CliArgumentsAreBounded) {
  EXPECT_EQ(ConvertPositionalParams("createrawtransaction", {Nested(3, "")})[0].size(), 1u);
  try {
    ConvertPositionalParams("createrawtransaction", {Nested(100000)});
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Error parsing JSON: JSON nested deeper than 512 levels");
  }
}

}  // namespace
}  // namespace minicoin
