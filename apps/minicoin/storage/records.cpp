// Encodings of coins and undo data.
#include "storage/records.h"

namespace minicoin {

std::string CoinKey(const OutPoint& outpoint) {
  std::string key(1 + 32 + 4, '\0');
  key[0] = kCoinKeyPrefix;
  for (std::size_t i = 0; i < 32; ++i) key[1 + i] = static_cast<char>(outpoint.txid.bytes()[i]);
  for (std::size_t i = 0; i < 4; ++i) key[33 + i] = static_cast<char>(outpoint.index >> (8 * (3 - i)));
  return key;
}

OutPoint DecodeCoinKey(std::string_view key) {
  if (key.size() != 37 || key[0] != kCoinKeyPrefix) throw DecodeError("malformed coin key");
  std::array<uint8_t, 32> txid{};
  for (std::size_t i = 0; i < 32; ++i) txid[i] = static_cast<uint8_t>(key[1 + i]);
  uint32_t index = 0;
  for (std::size_t i = 0; i < 4; ++i) index = (index << 8) | static_cast<uint8_t>(key[33 + i]);
  return OutPoint{Uint256(txid), index};
}

void SerializeCoin(Writer& writer, const Coin& coin) {
  writer.U64(coin.output.amount);
  writer.Bytes(coin.output.pubkey);
  writer.U32(coin.height);
  writer.U8(coin.coinbase ? 1 : 0);
}

Coin DeserializeCoin(Reader& reader) {
  Coin coin;
  coin.output.amount = reader.U64();
  if (coin.output.amount > kMaxMoney) throw DecodeError("coin amount out of range");
  reader.Bytes(coin.output.pubkey);
  coin.height = reader.U32();
  uint8_t coinbase = reader.U8();
  if (coinbase > 1) throw DecodeError("coin flag out of range");
  coin.coinbase = coinbase == 1;
  return coin;
}

std::string EncodeCoin(const Coin& coin) {
  Writer writer;
  SerializeCoin(writer, coin);
  return std::string(writer.bytes().begin(), writer.bytes().end());
}

Coin DecodeCoin(std::string_view bytes) {
  Reader reader(AsBytes(bytes));
  Coin coin = DeserializeCoin(reader);
  reader.ExpectEnd("coin");
  return coin;
}

std::vector<uint8_t> EncodeUndo(const BlockUndo& undo) {
  Writer writer;
  writer.CompactSize(undo.spent.size());
  for (const auto& spent : undo.spent) {
    writer.CompactSize(spent.size());
    for (const auto& coin : spent) SerializeCoin(writer, coin);
  }
  return writer.Take();
}

BlockUndo DecodeUndo(std::span<const uint8_t> bytes) {
  Reader reader(bytes);
  BlockUndo undo;
  undo.spent.resize(reader.Count(kMaxBlockTransactions, "undo transactions"));
  for (auto& spent : undo.spent) {
    spent.resize(reader.Count(kMaxTransactionInputs, "undo coins"));
    for (auto& coin : spent) coin = DeserializeCoin(reader);
  }
  reader.ExpectEnd("undo data");
  return undo;
}

}  // namespace minicoin
