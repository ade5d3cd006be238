// Tests of the node's RPC helpers: transactions to and from JSON, difficulty, the hash rate.
#include "chain/params.h"
#include "chain/test_util.h"
#include "chain/work.h"
#include "crypto/key.h"
#include "node/rpc_util.h"
#include "primitives/address.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

namespace minicoin {
namespace {

using nlohmann::json;

// The RPC error code `fn` throws (0 if it returns).
template <typename F>
int ErrorCode(F&& fn, std::string* message = nullptr) {
  try {
    fn();
  } catch (const RpcError& e) {
    if (message != nullptr) *message = e.what();
    return e.code;
  }
  return 0;
}

std::string AddressOf(uint8_t seed) {
  return EncodeAddress(PrivateKey::Derive(std::vector<uint8_t>{seed}, 0).PublicKey());
}

TEST(RawTransactionJson, CreateDecodeRoundTrip) {
  const std::string txid_a(64, 'a');
  const std::string txid_b = Sha256(std::vector<uint8_t>{1}).ToHex();
  json inputs =
      json::array({json{{"txid", txid_a}, {"vout", 0}}, json{{"txid", txid_b}, {"vout", 7}}});
  // The array form keeps the outputs' order; amounts as numbers or strings.
  json outputs = json::array(
      {json{{AddressOf(3), 1.5}}, json{{AddressOf(1), "0.00000001"}}, json{{AddressOf(2), 20}}});
  Transaction tx = CreateRawTransaction(inputs, outputs);
  EXPECT_EQ(tx.version, kTransactionVersion);
  EXPECT_EQ(tx.height, 0u);
  for (const TxIn& input : tx.inputs) EXPECT_EQ(input.signature, SchnorrSignature{});

  std::vector<uint8_t> raw = tx.Encode();
  Transaction decoded = DecodeTransactionArg(json(HexEncode(raw)));
  EXPECT_EQ(decoded, tx);
  json decoded_json = TransactionToJson(decoded, false);
  EXPECT_EQ(decoded_json["txid"], tx.Txid().ToHex());
  EXPECT_EQ(decoded_json["hash"], Sha256d(raw).ToHex());
  EXPECT_EQ(decoded_json["size"], raw.size());
  EXPECT_EQ(decoded_json["version"], kTransactionVersion);
  EXPECT_FALSE(decoded_json.contains("hex"));
  ASSERT_EQ(decoded_json["vin"].size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(decoded_json["vin"][i]["txid"], inputs[i]["txid"]);
    EXPECT_EQ(decoded_json["vin"][i]["vout"], inputs[i]["vout"]);
    EXPECT_EQ(decoded_json["vin"][i]["signature"], std::string(128, '0'));
  }
  ASSERT_EQ(decoded_json["vout"].size(), 3u);
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {AddressOf(3), 150'000'000}, {AddressOf(1), 1}, {AddressOf(2), 20 * kCoin}};
  for (std::size_t n = 0; n < expected.size(); ++n) {
    EXPECT_EQ(decoded_json["vout"][n]["n"], n);
    EXPECT_EQ(decoded_json["vout"][n]["address"], expected[n].first);
    EXPECT_EQ(AmountFromJson(decoded_json["vout"][n]["value"]), expected[n].second);
  }

  // decoderawtransaction's JSON gives back createrawtransaction's arguments.
  json again_inputs = json::array();
  for (const json& input : decoded_json["vin"])
    again_inputs.push_back(json{{"txid", input["txid"]}, {"vout", input["vout"]}});
  json again_outputs = json::array();
  for (const json& output : decoded_json["vout"])
    again_outputs.push_back(json{{output["address"], output["value"]}});
  EXPECT_EQ(CreateRawTransaction(again_inputs, again_outputs), tx);
  // A lock time makes a version 2 transaction; 0 keeps version 1; out of range is -8.
  Transaction locked = CreateRawTransaction(again_inputs, again_outputs, json(150));
  EXPECT_EQ(locked.version, kLockTimeTransactionVersion);
  EXPECT_EQ(locked.lock_time, 150u);
  EXPECT_EQ(TransactionToJson(locked, false)["locktime"], 150);
  EXPECT_EQ(CreateRawTransaction(again_inputs, again_outputs, json(0)).version, kTransactionVersion);
  EXPECT_THROW(CreateRawTransaction(again_inputs, again_outputs, json(-1)), RpcError);
  EXPECT_THROW(CreateRawTransaction(again_inputs, again_outputs, json(int64_t{1} << 32)), RpcError);

  // With the hex and signatures.
  PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{9}, 0);
  Transaction signed_tx = tx;
  signed_tx.inputs[1].signature = key.Sign(signed_tx.SignatureHash(1));
  json with_hex = TransactionToJson(signed_tx, true);
  EXPECT_EQ(with_hex["hex"], HexEncode(signed_tx.Encode()));
  EXPECT_EQ(with_hex["txid"], tx.Txid().ToHex());  // signing does not change the txid
  EXPECT_NE(with_hex["hash"], decoded_json["hash"]);
  EXPECT_EQ(with_hex["vin"][1]["signature"],
            HexEncode(std::vector<uint8_t>(signed_tx.inputs[1].signature.begin(),
                                           signed_tx.inputs[1].signature.end())));
}

TEST(RawTransactionJson, OutputsAsAnObjectComeInAddressOrder) {
  json inputs = json::array({json{{"txid", std::string(64, 'c')}, {"vout", 1}}});
  json outputs = json{{AddressOf(5), 2}, {AddressOf(6), 3}, {AddressOf(7), 4}};
  Transaction tx = CreateRawTransaction(inputs, outputs);
  ASSERT_EQ(tx.outputs.size(), 3u);
  for (std::size_t n = 1; n < tx.outputs.size(); ++n) {
    EXPECT_LT(EncodeAddress(tx.outputs[n - 1].pubkey), EncodeAddress(tx.outputs[n].pubkey));
  }
  uint64_t total = 0;
  for (const TxOut& output : tx.outputs) total += output.amount;
  EXPECT_EQ(total, 9 * kCoin);
}

TEST(RawTransactionJson, CoinbaseInputs) {
  Transaction coinbase =
      test::MakeCoinbase(12, kCoin, PrivateKey::Derive(std::vector<uint8_t>{1}, 0).PublicKey());
  json result = TransactionToJson(coinbase, false);
  EXPECT_EQ(result["vin"], json::array({json{{"coinbase", true}}}));
  EXPECT_EQ(result["height"], 12);
}

TEST(RawTransactionJson, CreateErrorsHaveBitcoinCoresCodes) {
  const json txid = std::string(64, 'a');
  const json input = json{{"txid", txid}, {"vout", 0}};
  const json output = json::array({json{{AddressOf(1), 1}}});
  auto create = [](json inputs, json outputs) {
    return [=] { CreateRawTransaction(inputs, outputs); };
  };
  std::string message;
  EXPECT_EQ(ErrorCode(create(nullptr, output)), kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json::array({input}), nullptr)), kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json{{"txid", txid}}, output)), kRpcTypeError);
  EXPECT_EQ(ErrorCode(create(json::array({"notanobject"}), output)), kRpcTypeError);
  EXPECT_EQ(ErrorCode(create(json::array({json{{"txid", txid}}}), output), &message),
            kRpcInvalidParameter);
  EXPECT_EQ(message, "Invalid parameter, missing vout key");
  EXPECT_EQ(ErrorCode(create(json::array({json{{"txid", txid}, {"vout", "1"}}}), output)),
            kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json::array({json{{"txid", txid}, {"vout", -1}}}), output), &message),
            kRpcInvalidParameter);
  EXPECT_EQ(message, "Invalid parameter, vout cannot be negative");
  EXPECT_EQ(ErrorCode(create(json::array({json{{"txid", txid}, {"vout", 1ll << 32}}}), output)),
            kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json::array({json{{"txid", "abcd"}, {"vout", 0}}}), output), &message),
            kRpcInvalidParameter);
  EXPECT_EQ(message, "txid must be of length 64 (not 4, for 'abcd')");
  EXPECT_EQ(
      ErrorCode(create(json::array({json{{"txid", std::string(64, 'g')}, {"vout", 0}}}), output)),
      kRpcInvalidParameter);
  EXPECT_EQ(
      ErrorCode(create(json::array({json{{"txid", std::string(64, '0')}, {"vout", 0xffffffffLL}}}),
                       output)),
      kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json::array(), output)), kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json::array({input}), json::array())), kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json::array({input}), "text")), kRpcTypeError);
  EXPECT_EQ(ErrorCode(create(json::array({input}), json::array({json{{"notanaddress", 1}}}))),
            kRpcInvalidAddressOrKey);
  EXPECT_EQ(ErrorCode(create(json::array({input}),
                             json::array({json{{AddressOf(1), 1}, {AddressOf(2), 1}}}))),
            kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json::array({input}), json::array({7}))), kRpcInvalidParameter);
  EXPECT_EQ(ErrorCode(create(json::array({input}),
                             json::array({json{{AddressOf(1), 1}}, json{{AddressOf(1), 2}}})),
                      &message),
            kRpcInvalidParameter);
  EXPECT_EQ(message, "Invalid parameter, duplicated address: " + AddressOf(1));
  EXPECT_EQ(ErrorCode(create(json::array({input}), json::array({json{{AddressOf(1), -1}}}))),
            kRpcTypeError);
  EXPECT_EQ(
      ErrorCode(create(json::array({input}), json::array({json{{AddressOf(1), "0.000000001"}}}))),
      kRpcTypeError);
  EXPECT_EQ(ErrorCode(create(json::array({input}), json::array({json{{AddressOf(1), true}}}))),
            kRpcTypeError);
  EXPECT_EQ(
      ErrorCode(create(json::array({input}), json::array({json{{AddressOf(1), 20'000'000}},
                                                          json{{AddressOf(2), 20'000'000}}}))),
      kRpcTypeError);
}

TEST(RawTransactionJson, DecodeErrors) {
  Transaction tx =
      CreateRawTransaction(json::array({json{{"txid", std::string(64, 'a')}, {"vout", 0}}}),
                           json::array({json{{AddressOf(1), 1}}}));
  const std::string hex = HexEncode(tx.Encode());
  EXPECT_EQ(DecodeTransactionArg(json(hex)), tx);
  for (const std::string& bad :
       {std::string("zz"), hex.substr(2), hex + "00", std::string(), hex.substr(0, 11)}) {
    EXPECT_EQ(ErrorCode([&] { DecodeTransactionArg(json(bad)); }), kRpcDeserializationError) << bad;
  }
  EXPECT_EQ(ErrorCode([] { DecodeTransactionArg(json(12)); }), kRpcTypeError);
}

TEST(Difficulty, IsTheTargetOfDifficultyOneOverTheBlocksTarget) {
  EXPECT_DOUBLE_EQ(Difficulty(kDifficultyOneBits), 1.0);
  // 0xffff * 2^208 over 0x7fffff * 2^224.
  EXPECT_DOUBLE_EQ(Difficulty(kRegtestBits), 65535.0 / (8388607.0 * 65536.0));
  EXPECT_NEAR(Difficulty(kRegtestBits), 1.192e-7, 1e-10);
  // A target half as large is twice as difficult; 256 times smaller, 256 times.
  EXPECT_NEAR(Difficulty(0x1d007fff) / Difficulty(kDifficultyOneBits), 65535.0 / 32767.0, 1e-12);
  EXPECT_DOUBLE_EQ(Difficulty(0x1c00ffff), 256.0);
  EXPECT_EQ(Difficulty(0), 0.0);           // no target
  EXPECT_EQ(Difficulty(0x1d80ffff), 0.0);  // negative
}

TEST(Difficulty, Uint256ToDoubleReadsLittleEndian) {
  EXPECT_EQ(Uint256ToDouble(Uint256()), 0.0);
  EXPECT_EQ(Uint256ToDouble(Uint256FromU64(123456789)), 123456789.0);
  std::array<uint8_t, 32> top{};
  top[31] = 1;  // 2^248
  EXPECT_EQ(Uint256ToDouble(Uint256(top)), std::ldexp(1.0, 248));
}

TEST(NetworkHashRate, WorkOverTheSpreadOfTheBlocksTimes) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("minicoin-rpc-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    ChainState chain(ChainStateOptions{.dir = dir, .sync_writes = false});
    EXPECT_EQ(NetworkHashesPerSecond(chain, 120), 0.0);  // genesis alone
    PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{1}, 0);
    // Each block one second after its parent (MakeBlock), plus offsets: times +1, +3, +4.
    for (uint32_t offset : {0u, 1u, 0u}) {
      ASSERT_TRUE(chain.ProcessBlock(test::MakeBlock(chain.Tip(), key.PublicKey(), {}, 0, offset))
                      .accepted);
    }
    const double work_per_block = Uint256ToDouble(BlockWork(kRegtestBits));
    EXPECT_DOUBLE_EQ(NetworkHashesPerSecond(chain, 120), 3 * work_per_block / 4);  // from genesis
    EXPECT_DOUBLE_EQ(NetworkHashesPerSecond(chain, 2), 2 * work_per_block / 3);
    EXPECT_DOUBLE_EQ(NetworkHashesPerSecond(chain, 1), work_per_block / 1);
    EXPECT_EQ(NetworkHashesPerSecond(chain, 0), 0.0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace minicoin
