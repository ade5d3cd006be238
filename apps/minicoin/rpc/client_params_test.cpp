#include "rpc/client_params.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

namespace minicoin {
namespace {

using Json = nlohmann::json;

TEST(ClientParamsTest, Table) {
  EXPECT_TRUE(IsJsonParam("getblockhash", 0));
  EXPECT_TRUE(IsJsonParam("getblockhash", std::string("height")));
  EXPECT_TRUE(IsJsonParam("getblock", 1));
  EXPECT_FALSE(IsJsonParam("getblock", 0));
  EXPECT_TRUE(IsJsonParam("generatetoaddress", 0));
  EXPECT_FALSE(IsJsonParam("generatetoaddress", 1));
  EXPECT_TRUE(IsJsonParam("generatetoaddress", 2));
  EXPECT_TRUE(IsJsonParam("sendtoaddress", std::string("amount")));
  EXPECT_FALSE(IsJsonParam("sendtoaddress", std::string("address")));
  EXPECT_FALSE(IsJsonParam("createwallet", std::string("passphrase")));
  EXPECT_TRUE(IsJsonParam("createwallet", std::string("blank")));
  EXPECT_FALSE(IsJsonParam("echo", 0));
  EXPECT_TRUE(IsJsonParam("echojson", 9));
  EXPECT_FALSE(IsJsonParam("nosuchmethod", 0));
  // Every entry's index and name agree with the other entries of the method.
  for (const JsonParam& a : JsonParams()) {
    for (const JsonParam& b : JsonParams()) {
      if (std::string(a.method) == b.method && std::string(a.name) == b.name) {
        EXPECT_EQ(a.index, b.index) << a.method << " " << a.name;
      }
    }
  }
}

TEST(ClientParamsTest, Positional) {
  Json params = ConvertPositionalParams("getblock", {"00ab", "2"});
  EXPECT_EQ(params, Json::parse(R"(["00ab", 2])"));
  params = ConvertPositionalParams("echo", {"1", "true", "[1]"});
  EXPECT_EQ(params, Json::parse(R"(["1", "true", "[1]"])"));
  params = ConvertPositionalParams("echojson", {"1", "true", "[1,{\"a\":null}]", "\"s\"", "null"});
  EXPECT_EQ(params, Json::parse(R"([1, true, [1, {"a": null}], "s", null])"));
  params = ConvertPositionalParams("sendtoaddress", {"addr", "0.1"});
  EXPECT_TRUE(params[1].is_number());
  EXPECT_THROW(ConvertPositionalParams("getblockhash", {"abc"}), std::runtime_error);
  try {
    ConvertPositionalParams("getblockhash", {"12x"});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "Error parsing JSON: 12x");
  }
}

TEST(ClientParamsTest, Named) {
  Json params = ConvertNamedParams("getblock", {"blockhash=00ab", "verbosity=0"});
  EXPECT_EQ(params, Json::parse(R"({"blockhash": "00ab", "verbosity": 0})"));
  params = ConvertNamedParams("echo", {"arg1=x=y"});
  EXPECT_EQ(params, Json::parse(R"({"arg1": "x=y"})"));
  EXPECT_THROW(ConvertNamedParams("echo", {"novalue"}), std::runtime_error);
  EXPECT_THROW(ConvertNamedParams("echo", {"=x"}), std::runtime_error);
  EXPECT_THROW(ConvertNamedParams("echo", {"a=1", "a=2"}), std::runtime_error);
  EXPECT_THROW(ConvertNamedParams("getblock", {"verbosity=high"}), std::runtime_error);
}

}  // namespace
}  // namespace minicoin
