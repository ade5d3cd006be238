#include "rpc/util.h"

#include <cmath>
#include <cstdio>
#include <limits>

namespace minicoin {
namespace {

const nlohmann::json& NullJson() {
  static const nlohmann::json kNull = nullptr;
  return kNull;
}

}  // namespace

const char* JsonTypeName(JsonType type) {
  switch (type) {
    case JsonType::kNull: return "null";
    case JsonType::kBool: return "bool";
    case JsonType::kNumber: return "number";
    case JsonType::kString: return "string";
    case JsonType::kArray: return "array";
    case JsonType::kObject: return "object";
  }
  return "unknown";
}

JsonType TypeOf(const nlohmann::json& value) {
  if (value.is_boolean()) return JsonType::kBool;
  if (value.is_number()) return JsonType::kNumber;
  if (value.is_string()) return JsonType::kString;
  if (value.is_array()) return JsonType::kArray;
  if (value.is_object()) return JsonType::kObject;
  return JsonType::kNull;
}

void CheckType(const nlohmann::json& value, JsonType expected) {
  JsonType actual = TypeOf(value);
  if (actual != expected) {
    throw RpcError(kRpcTypeError, std::string("JSON value of type ") + JsonTypeName(actual) +
                                      " is not of expected type " + JsonTypeName(expected));
  }
}

std::size_t ParamCount(const RpcRequest& request) {
  return request.params.is_array() ? request.params.size() : 0;
}

const nlohmann::json& Param(const RpcRequest& request, std::size_t index) {
  if (!request.params.is_array() || index >= request.params.size()) return NullJson();
  return request.params[index];
}

bool HasParam(const RpcRequest& request, std::size_t index) {
  return !Param(request, index).is_null();
}

std::string ParamString(const RpcRequest& request, std::size_t index) {
  const nlohmann::json& value = Param(request, index);
  CheckType(value, JsonType::kString);
  return value.get<std::string>();
}

int64_t JsonToInt(const nlohmann::json& value) {
  CheckType(value, JsonType::kNumber);
  if (value.is_number_unsigned()) {
    uint64_t number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      throw RpcError(kRpcTypeError, "JSON integer out of range");
    }
    return static_cast<int64_t>(number);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  double number = value.get<double>();
  if (!std::isfinite(number) || std::trunc(number) != number) {
    throw RpcError(kRpcTypeError, "JSON value is not an integer as expected");
  }
  if (number < -9.2e18 || number > 9.2e18) throw RpcError(kRpcTypeError, "JSON integer out of range");
  return static_cast<int64_t>(number);
}

int64_t ParamInt(const RpcRequest& request, std::size_t index) {
  return JsonToInt(Param(request, index));
}

bool ParamBool(const RpcRequest& request, std::size_t index) {
  const nlohmann::json& value = Param(request, index);
  CheckType(value, JsonType::kBool);
  return value.get<bool>();
}

const nlohmann::json& ParamArray(const RpcRequest& request, std::size_t index) {
  const nlohmann::json& value = Param(request, index);
  CheckType(value, JsonType::kArray);
  return value;
}

const nlohmann::json& ParamObject(const RpcRequest& request, std::size_t index) {
  const nlohmann::json& value = Param(request, index);
  CheckType(value, JsonType::kObject);
  return value;
}

std::optional<std::string> OptionalParamString(const RpcRequest& request, std::size_t index) {
  if (!HasParam(request, index)) return std::nullopt;
  return ParamString(request, index);
}

std::optional<int64_t> OptionalParamInt(const RpcRequest& request, std::size_t index) {
  if (!HasParam(request, index)) return std::nullopt;
  return ParamInt(request, index);
}

std::optional<bool> OptionalParamBool(const RpcRequest& request, std::size_t index) {
  if (!HasParam(request, index)) return std::nullopt;
  return ParamBool(request, index);
}

std::optional<int64_t> ParseFixedPoint(const std::string& text, int decimals) {
  constexpr std::size_t kMaxDigits = 18;
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  std::string digits;
  std::size_t int_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    digits += text[i++];
    ++int_digits;
  }
  std::size_t frac_digits = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      digits += text[i++];
      ++frac_digits;
    }
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  long exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exponent_negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) exponent_negative = text[i++] == '-';
    std::size_t exponent_digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++exponent_digits > 4) return std::nullopt;
      exponent = exponent * 10 + (text[i++] - '0');
    }
    if (exponent_digits == 0) return std::nullopt;
    if (exponent_negative) exponent = -exponent;
  }
  if (i != text.size()) return std::nullopt;
  long shift = static_cast<long>(decimals) + exponent - static_cast<long>(frac_digits);
  if (shift < 0) {
    std::size_t drop = static_cast<std::size_t>(-shift);
    std::size_t keep = drop >= digits.size() ? 0 : digits.size() - drop;
    if (digits.find_first_not_of('0', keep) != std::string::npos) return std::nullopt;
    digits.resize(keep);
  }
  std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;
  digits = digits.substr(first);
  if (shift > 0) {
    if (static_cast<std::size_t>(shift) > kMaxDigits) return std::nullopt;
    digits.append(static_cast<std::size_t>(shift), '0');
  }
  if (digits.size() > kMaxDigits) return std::nullopt;
  int64_t value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return negative ? -value : value;
}

uint64_t AmountFromJson(const nlohmann::json& value) {
  std::string text;
  if (value.is_number()) {
    text = value.dump();
  } else if (value.is_string()) {
    text = value.get<std::string>();
  } else {
    throw RpcError(kRpcTypeError, "Amount is not a number or string");
  }
  std::optional<int64_t> units = ParseFixedPoint(text, 8);
  if (!units) throw RpcError(kRpcTypeError, "Invalid amount");
  if (*units < 0 || static_cast<uint64_t>(*units) > kMaxMoney) {
    throw RpcError(kRpcTypeError, "Amount out of range");
  }
  return static_cast<uint64_t>(*units);
}

nlohmann::json AmountToJson(uint64_t units) {
  return static_cast<double>(units) / static_cast<double>(kCoin);
}

std::string FormatAmount(uint64_t units) {
  char text[48];
  std::snprintf(text, sizeof(text), "%llu.%08llu", static_cast<unsigned long long>(units / kCoin),
                static_cast<unsigned long long>(units % kCoin));
  return text;
}

}  // namespace minicoin
