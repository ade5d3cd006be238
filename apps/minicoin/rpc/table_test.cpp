#include "rpc/table.h"

#include "rpc/util.h"

#include <gtest/gtest.h>

namespace minicoin {
namespace {

using Json = nlohmann::json;

RpcTable MakeTable() {
  RpcTable table;
  table.Add({"getblockhash", "blockchain", {"height"}, "getblockhash height\n\nReturns a hash.\n",
             [](const RpcRequest& request) -> Json { return ParamInt(request, 0) * 2; }, 1});
  table.Add({"listthings", "wallet", {"count", "skip", "label"},
             "listthings ( count skip \"label\" )\n\nLists.\n",
             [](const RpcRequest& request) -> Json {
               return Json{{"count", OptionalParamInt(request, 0).value_or(10)},
                           {"skip", OptionalParamInt(request, 1).value_or(0)},
                           {"label", OptionalParamString(request, 2).value_or("*")},
                           {"size", ParamCount(request)},
                           {"wallet", request.WalletName()}};
             }});
  table.Add({"fails", "control", {}, "fails\n",
             [](const RpcRequest&) -> Json { throw std::runtime_error("plain failure"); }});
  table.Add({"badget", "control", {}, "badget\n",
             [](const RpcRequest&) -> Json { return Json("x").get<int>(); }});
  return table;
}

RpcRequest Request(const std::string& method, Json params = Json::array()) {
  RpcRequest request;
  request.method = method;
  request.params = std::move(params);
  return request;
}

int ErrorCode(const RpcTable& table, const RpcRequest& request, std::string* message = nullptr) {
  try {
    table.Execute(request);
  } catch (const RpcError& e) {
    if (message != nullptr) *message = e.what();
    return e.code;
  }
  return 0;
}

TEST(RpcTableTest, PositionalAndNamedParams) {
  RpcTable table = MakeTable();
  EXPECT_EQ(table.Execute(Request("getblockhash", Json::array({21}))), 42);
  Json result = table.Execute(Request("listthings", Json::array({5})));
  EXPECT_EQ(result["count"], 5);
  EXPECT_EQ(result["skip"], 0);
  EXPECT_EQ(result["label"], "*");
  // Named: mapped by arg_names, gaps are null.
  result = table.Execute(Request("listthings", Json{{"label", "x"}, {"count", 3}}));
  EXPECT_EQ(result["count"], 3);
  EXPECT_EQ(result["label"], "x");
  EXPECT_EQ(result["size"], 3);
  result = table.Execute(Request("listthings", Json{{"skip", 7}}));
  EXPECT_EQ(result["skip"], 7);
  EXPECT_EQ(result["size"], 2);
  EXPECT_EQ(table.Execute(Request("getblockhash", Json{{"height", 4}})), 8);
  std::string message;
  EXPECT_EQ(ErrorCode(table, Request("listthings", Json{{"bogus", 1}}), &message),
            kRpcInvalidParameter);
  EXPECT_EQ(message, "Unknown named parameter bogus");
}

TEST(RpcTableTest, Errors) {
  RpcTable table = MakeTable();
  std::string message;
  EXPECT_EQ(ErrorCode(table, Request("nosuch"), &message), kRpcMethodNotFound);
  EXPECT_EQ(message, "Method not found");
  // Type errors name both types.
  EXPECT_EQ(ErrorCode(table, Request("getblockhash", Json::array({"12"})), &message), kRpcTypeError);
  EXPECT_EQ(message, "JSON value of type string is not of expected type number");
  EXPECT_EQ(ErrorCode(table, Request("listthings", Json::array({nullptr, true})), &message),
            kRpcTypeError);
  EXPECT_EQ(message, "JSON value of type bool is not of expected type number");
  // Too few or too many: the help text, code -1.
  EXPECT_EQ(ErrorCode(table, Request("getblockhash"), &message), kRpcMiscError);
  EXPECT_EQ(message.rfind("getblockhash height", 0), 0u);
  EXPECT_EQ(ErrorCode(table, Request("getblockhash", Json::array({1, 2})), &message), kRpcMiscError);
  // Trailing nulls do not count.
  EXPECT_EQ(table.Execute(Request("getblockhash", Json::array({1, nullptr}))), 2);
  // Plain exceptions become -1 with their message, json type errors -3.
  EXPECT_EQ(ErrorCode(table, Request("fails"), &message), kRpcMiscError);
  EXPECT_EQ(message, "plain failure");
  EXPECT_EQ(ErrorCode(table, Request("badget")), kRpcTypeError);
  EXPECT_EQ(ErrorCode(table, Request("fails", Json(5))), kRpcInvalidRequest);
}

TEST(RpcTableTest, HelpAndMethods) {
  RpcTable table = MakeTable();
  table.Add(MakeHelpMethod(table));
  EXPECT_EQ(table.Methods(),
            (std::vector<std::string>{"badget", "fails", "getblockhash", "help", "listthings"}));
  std::string all = table.Help();
  EXPECT_EQ(all.rfind("== Blockchain ==\ngetblockhash height\n\n== Control ==\n", 0), 0u) << all;
  EXPECT_NE(all.find("== Wallet ==\nlistthings ( count skip \"label\" )"), std::string::npos) << all;
  EXPECT_EQ(table.Help("getblockhash"), "getblockhash height\n\nReturns a hash.\n");
  EXPECT_EQ(table.Help("nosuch"), "help: unknown command: nosuch");
  EXPECT_EQ(table.Execute(Request("help", Json::array({"getblockhash"}))),
            "getblockhash height\n\nReturns a hash.\n");
  EXPECT_EQ(table.Execute(Request("help")), all);
  EXPECT_EQ(ErrorCode(table, Request("help", Json::array({5}))), kRpcTypeError);
}

TEST(RpcTableTest, WalletName) {
  RpcRequest request;
  EXPECT_EQ(request.WalletName(), "");
  request.uri = "/wallet/my wallet";
  EXPECT_EQ(request.WalletName(), "my wallet");
  request.uri = "/wallet/";
  EXPECT_EQ(request.WalletName(), "");
}

}  // namespace
}  // namespace minicoin
