#include "rpc/util.h"

#include <gtest/gtest.h>

namespace minicoin {
namespace {

using Json = nlohmann::json;

int AmountError(const Json& value, std::string* message = nullptr) {
  try {
    AmountFromJson(value);
  } catch (const RpcError& e) {
    if (message != nullptr) *message = e.what();
    return e.code;
  }
  return 0;
}

TEST(RpcUtilTest, ParseFixedPoint) {
  EXPECT_EQ(ParseFixedPoint("0", 8), 0);
  EXPECT_EQ(ParseFixedPoint("1", 8), 100000000);
  EXPECT_EQ(ParseFixedPoint("1.5", 8), 150000000);
  EXPECT_EQ(ParseFixedPoint(".5", 8), 50000000);
  EXPECT_EQ(ParseFixedPoint("0.00000001", 8), 1);
  EXPECT_EQ(ParseFixedPoint("1e-8", 8), 1);
  EXPECT_EQ(ParseFixedPoint("1e-08", 8), 1);
  EXPECT_EQ(ParseFixedPoint("1.23E2", 8), 12300000000);
  EXPECT_EQ(ParseFixedPoint("-2.5", 8), -250000000);
  EXPECT_EQ(ParseFixedPoint("0.100000000000", 8), 10000000);  // trailing zeros are fine
  EXPECT_EQ(ParseFixedPoint("21000000.0", 8), 2100000000000000);
  EXPECT_FALSE(ParseFixedPoint("0.000000001", 8));  // 9 significant decimals
  EXPECT_FALSE(ParseFixedPoint("1e-9", 8));
  EXPECT_FALSE(ParseFixedPoint("", 8));
  EXPECT_FALSE(ParseFixedPoint(".", 8));
  EXPECT_FALSE(ParseFixedPoint("-", 8));
  EXPECT_FALSE(ParseFixedPoint("1.2.3", 8));
  EXPECT_FALSE(ParseFixedPoint("1e", 8));
  EXPECT_FALSE(ParseFixedPoint("abc", 8));
  EXPECT_FALSE(ParseFixedPoint(" 1", 8));
  EXPECT_FALSE(ParseFixedPoint("+1", 8));
  EXPECT_FALSE(ParseFixedPoint("1e99999", 8));
  EXPECT_FALSE(ParseFixedPoint("10000000000", 8));  // 10^18 units
  EXPECT_EQ(ParseFixedPoint("9999999999.99999999", 8), 999999999999999999);
}

TEST(RpcUtilTest, AmountFromJson) {
  EXPECT_EQ(AmountFromJson(Json(1)), kCoin);
  EXPECT_EQ(AmountFromJson(Json(0.1)), 10000000u);
  EXPECT_EQ(AmountFromJson(Json(0.3)), 30000000u);
  EXPECT_EQ(AmountFromJson(Json(1e-8)), 1u);
  EXPECT_EQ(AmountFromJson(Json("0.00000001")), 1u);
  EXPECT_EQ(AmountFromJson(Json("21000000")), kMaxMoney);
  EXPECT_EQ(AmountFromJson(Json(21000000.0)), kMaxMoney);
  EXPECT_EQ(AmountFromJson(Json::parse("12.34567891e1")), 12345678910u);
  std::string message;
  EXPECT_EQ(AmountError(Json(-1), &message), kRpcTypeError);
  EXPECT_EQ(message, "Amount out of range");
  EXPECT_EQ(AmountError(Json("21000000.00000001"), &message), kRpcTypeError);
  EXPECT_EQ(message, "Amount out of range");
  EXPECT_EQ(AmountError(Json(0.000000001), &message), kRpcTypeError);
  EXPECT_EQ(message, "Invalid amount");
  EXPECT_EQ(AmountError(Json("1,5"), &message), kRpcTypeError);
  EXPECT_EQ(message, "Invalid amount");
  EXPECT_EQ(AmountError(Json(true), &message), kRpcTypeError);
  EXPECT_EQ(message, "Amount is not a number or string");
  EXPECT_EQ(AmountError(Json(nullptr)), kRpcTypeError);
  EXPECT_EQ(AmountError(Json(1e300)), kRpcTypeError);
}

TEST(RpcUtilTest, AmountRoundTrips) {
  for (uint64_t units : {uint64_t{0}, uint64_t{1}, uint64_t{10}, uint64_t{12345678},
                         uint64_t{99999999}, kCoin, 50 * kCoin + 1, kMaxMoney - 1, kMaxMoney,
                         uint64_t{1234567890123456}}) {
    Json json = AmountToJson(units);
    EXPECT_TRUE(json.is_number());
    EXPECT_EQ(AmountFromJson(json), units) << json.dump();
    EXPECT_EQ(AmountFromJson(Json::parse(json.dump())), units) << json.dump();
  }
  EXPECT_EQ(FormatAmount(0), "0.00000000");
  EXPECT_EQ(FormatAmount(150000001), "1.50000001");
  EXPECT_EQ(FormatAmount(kMaxMoney), "21000000.00000000");
}

TEST(RpcUtilTest, TypedParams) {
  RpcRequest request;
  request.params = Json::array({"s", 5, true, Json::array(), Json::object(), nullptr, 2.5,
                                Json(uint64_t{1} << 63), 7.0});
  EXPECT_EQ(ParamCount(request), 9u);
  EXPECT_EQ(ParamString(request, 0), "s");
  EXPECT_EQ(ParamInt(request, 1), 5);
  EXPECT_TRUE(ParamBool(request, 2));
  EXPECT_TRUE(ParamArray(request, 3).is_array());
  EXPECT_TRUE(ParamObject(request, 4).is_object());
  EXPECT_FALSE(HasParam(request, 5));
  EXPECT_FALSE(HasParam(request, 50));
  EXPECT_TRUE(Param(request, 50).is_null());
  EXPECT_FALSE(OptionalParamInt(request, 5));
  EXPECT_FALSE(OptionalParamString(request, 99));
  EXPECT_EQ(OptionalParamBool(request, 2), true);
  EXPECT_EQ(ParamInt(request, 8), 7);
  auto code_of = [](auto&& call) {
    try {
      call();
    } catch (const RpcError& e) {
      return std::pair<int, std::string>(e.code, e.what());
    }
    return std::pair<int, std::string>(0, "");
  };
  EXPECT_EQ(code_of([&] { ParamInt(request, 0); }),
            std::make_pair(kRpcTypeError,
                           std::string("JSON value of type string is not of expected type number")));
  EXPECT_EQ(code_of([&] { ParamString(request, 5); }),
            std::make_pair(kRpcTypeError,
                           std::string("JSON value of type null is not of expected type string")));
  EXPECT_EQ(code_of([&] { ParamBool(request, 1); }).second,
            "JSON value of type number is not of expected type bool");
  EXPECT_EQ(code_of([&] { ParamArray(request, 4); }).second,
            "JSON value of type object is not of expected type array");
  EXPECT_EQ(code_of([&] { ParamObject(request, 3); }).second,
            "JSON value of type array is not of expected type object");
  EXPECT_EQ(code_of([&] { ParamInt(request, 6); }).first, kRpcTypeError);  // 2.5
  EXPECT_EQ(code_of([&] { ParamInt(request, 7); }).second, "JSON integer out of range");
}

}  // namespace
}  // namespace minicoin
