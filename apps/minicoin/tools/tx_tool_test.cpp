// Tests of minicoin-tx's amount and hex formats and of its commands, in-process.
#include "tools/tx_tool.h"

#include "crypto/key.h"
#include "primitives/address.h"

#include <gtest/gtest.h>

#include <sstream>

namespace minicoin {
namespace {

TEST(Amount, ParsesExactly) {
  EXPECT_EQ(ParseAmount("12.5"), 1'250'000'000u);
  EXPECT_EQ(ParseAmount("0.00000001"), 1u);
  EXPECT_EQ(ParseAmount("0.1"), 10'000'000u);
  EXPECT_EQ(ParseAmount("50"), 50 * kCoin);
  EXPECT_EQ(ParseAmount("0"), 0u);
  EXPECT_EQ(ParseAmount("007.10000000"), 710'000'000u);
  EXPECT_EQ(ParseAmount("21000000"), kMaxMoney);
  EXPECT_EQ(ParseAmount("20999999.99999999"), kMaxMoney - 1);
}

TEST(Amount, RejectsEverythingElse) {
  for (const char* text : {"", ".", "5.", ".5", "-1", "+1", "1e3", "1.000000001", "0x10", " 1", "1 ", "1,5",
                           "1.2.3", "21000000.00000001", "99999999999999999999999", "000000000000000000000000000001.1x"}) {
    std::string error;
    EXPECT_FALSE(ParseAmount(text, &error).has_value()) << text;
    EXPECT_NE(error.find("invalid amount"), std::string::npos) << text;
  }
  std::string error;
  ParseAmount("1.123456789", &error);
  EXPECT_NE(error.find("8 decimals"), std::string::npos) << error;
  ParseAmount("21000001", &error);
  EXPECT_NE(error.find("21000000"), std::string::npos) << error;
}

TEST(Amount, Formats) {
  EXPECT_EQ(FormatAmount(0), "0.00000000");
  EXPECT_EQ(FormatAmount(1), "0.00000001");
  EXPECT_EQ(FormatAmount(1'250'000'000), "12.50000000");
  EXPECT_EQ(FormatAmount(kMaxMoney), "21000000.00000000");
  for (uint64_t units : {0ull, 1ull, 99'999'999ull, 100'000'000ull, 123'456'789'012ull}) {
    EXPECT_EQ(ParseAmount(FormatAmount(units)), units);
  }
}

TEST(Hex, RoundTripAndRejects) {
  std::vector<uint8_t> bytes{0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(HexEncode(bytes), "0001abff");
  EXPECT_EQ(HexDecode("0001ABff"), bytes);
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
  EXPECT_EQ(HexDecode(""), std::vector<uint8_t>{});
}

std::string Field(const std::string& json, const std::string& name) {
  std::string key = "\"" + name + "\": \"";
  std::size_t start = json.find(key);
  if (start == std::string::npos) return "";
  start += key.size();
  return json.substr(start, json.find('"', start) - start);
}

TEST(Tool, CreateSignsAndDecodeShowsIt) {
  ToolResult key = GenerateKeyCommand();
  ASSERT_TRUE(key.ok);
  std::string secret = Field(key.text, "secret");
  std::string address = Field(key.text, "address");
  std::optional<std::vector<uint8_t>> secret_bytes = HexDecode(secret);
  ASSERT_TRUE(secret_bytes.has_value());
  std::optional<PrivateKey> private_key = PrivateKey::FromBytes(*secret_bytes);
  ASSERT_TRUE(private_key.has_value());
  EXPECT_EQ(Field(key.text, "pubkey"), HexEncode(private_key->PublicKey()));
  EXPECT_EQ(DecodeAddress(address), private_key->PublicKey());

  std::string txid(64, 'a');
  ToolResult created = CreateCommand({txid + ":3:" + secret, txid + ":4:" + secret}, {address + ":12.5", address + ":0.00000001"});
  ASSERT_TRUE(created.ok) << created.text;
  Transaction tx = Transaction::Decode(*HexDecode(created.text));
  ASSERT_EQ(tx.inputs.size(), 2u);
  EXPECT_EQ(tx.inputs[0].prevout.txid.ToHex(), txid);
  EXPECT_EQ(tx.inputs[1].prevout.index, 4u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_TRUE(VerifySchnorr(private_key->PublicKey(), tx.SignatureHash(i), tx.inputs[i].signature));
  }
  EXPECT_FALSE(VerifySchnorr(private_key->PublicKey(), tx.SignatureHash(1), tx.inputs[0].signature));
  EXPECT_EQ(tx.outputs[0].amount, 1'250'000'000u);
  EXPECT_EQ(tx.outputs[1].amount, 1u);

  // -locktime: a version 2 transaction, signed with its lock time.
  ToolResult locked = CreateCommand({txid + ":3:" + secret}, {address + ":1"}, 150);
  ASSERT_TRUE(locked.ok) << locked.text;
  Transaction locked_tx = Transaction::Decode(*HexDecode(locked.text));
  EXPECT_EQ(locked_tx.version, kLockTimeTransactionVersion);
  EXPECT_EQ(locked_tx.lock_time, 150u);
  EXPECT_TRUE(VerifySchnorr(private_key->PublicKey(), locked_tx.SignatureHash(0), locked_tx.inputs[0].signature));
  EXPECT_NE(DecodeCommand(locked.text).text.find("\"locktime\": 150"), std::string::npos);

  ToolResult decoded = DecodeCommand(created.text);
  ASSERT_TRUE(decoded.ok) << decoded.text;
  EXPECT_EQ(decoded.text.find("locktime"), std::string::npos);  // version 1 has none
  EXPECT_EQ(Field(decoded.text, "txid"), tx.Txid().ToHex());
  EXPECT_NE(decoded.text.find("\"value\": 12.50000000"), std::string::npos) << decoded.text;
  EXPECT_NE(decoded.text.find("\"size\": " + std::to_string(created.text.size() / 2)), std::string::npos);
  EXPECT_NE(decoded.text.find("\"vout\": 4"), std::string::npos);

  Transaction coinbase;
  coinbase.inputs.push_back(TxIn{OutPoint{Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back(TxOut{50 * kCoin, private_key->PublicKey()});
  coinbase.height = 7;
  std::string json = TransactionJson(coinbase);
  EXPECT_NE(json.find("\"coinbase\": true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"height\": 7"), std::string::npos) << json;
}

TEST(Tool, ErrorsAreMessagesAndExitCodeOne) {
  std::string txid(64, 'a');
  std::string secret(63, '0');
  secret += '1';
  std::string address = EncodeAddress(PrivateKey::Generate().PublicKey());
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "no command"},
      {{"frobnicate"}, "unknown command"},
      {{"genkey", "x"}, "no arguments"},
      {{"create", "-out=" + address + ":1"}, "at least one -in"},
      {{"create", "-in=" + txid + ":0:" + secret}, "at least one -out"},
      {{"create", "-in=" + txid + ":0", "-out=" + address + ":1"}, "expected <txid>:<vout>:<secret hex>"},
      {{"create", "-in=xyz:0:" + secret, "-out=" + address + ":1"}, "txid"},
      {{"create", "-in=" + txid + ":-1:" + secret, "-out=" + address + ":1"}, "output index"},
      {{"create", "-in=" + txid + ":0:" + std::string(64, '0'), "-out=" + address + ":1"}, "not a valid secp256k1 key"},
      {{"create", "-in=" + txid + ":0:abcd", "-out=" + address + ":1"}, "secret must be 64 hex"},
      {{"create", "-in=" + txid + ":0:" + secret, "-out=bc1qxyz:1"}, "invalid address"},
      {{"create", "-in=" + txid + ":0:" + secret, "-out=" + address + ":1.123456789"}, "8 decimals"},
      {{"create", "-in=" + txid + ":0:" + secret, "-out=" + address}, "expected <address>:<amount>"},
      {{"create", "-in=" + txid + ":0:" + secret, "-out=" + address + ":20000000", "-out=" + address + ":2000000"},
       "add up"},
      {{"create", "-fee=1"}, "unknown create argument"},
      {{"decode"}, "exactly one argument"},
      {{"decode", "abc"}, "invalid hex"},
      {{"decode", "00112233"}, "cannot decode"},
  };
  for (const Case& c : cases) {
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(RunTxTool(c.args, out, err), 1) << c.message;
    EXPECT_NE(err.str().find(c.message), std::string::npos) << c.message << " -> " << err.str();
    EXPECT_EQ(out.str(), "") << c.message;
  }
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunTxTool({"-help"}, out, err), 0);
  EXPECT_NE(out.str().find("create -in="), std::string::npos);
}

}  // namespace
}  // namespace minicoin
