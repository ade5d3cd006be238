// The chains' names, folders and ports.
#include "common/chain_type.h"

namespace minicoin {
namespace {

constexpr BaseChainParams kMain{ChainType::kMain, "main", "", 19332, 19333};
constexpr BaseChainParams kTest{ChainType::kTest, "test", "testnet", 29332, 29333};
constexpr BaseChainParams kRegtest{ChainType::kRegtest, "regtest", "regtest", 19443, 19444};

}  // namespace

const BaseChainParams& BaseParams(ChainType type) {
  switch (type) {
    case ChainType::kMain:
      return kMain;
    case ChainType::kTest:
      return kTest;
    case ChainType::kRegtest:
      break;
  }
  return kRegtest;
}

std::optional<ChainType> ParseChainType(std::string_view name) {
  for (const BaseChainParams* params : {&kMain, &kTest, &kRegtest}) {
    if (name == params->name) return params->type;
  }
  if (name == "testnet") return ChainType::kTest;
  return std::nullopt;
}

}  // namespace minicoin
