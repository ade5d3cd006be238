// Encodings of what the chain stores: coins (with their database keys) and undo data.
#pragma once

#include "primitives/serialize.h"
#include "primitives/transaction.h"
#include "validation/block_check.h"
#include "validation/coins.h"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace minicoin {

// A coin's database key: 'c', the txid's 32 bytes, the output index big-endian (so keys sort
// by txid bytes, then index: the canonical order of the coin set).
std::string CoinKey(const OutPoint& outpoint);
inline constexpr char kCoinKeyPrefix = 'c';
// Parses CoinKey's format; throws DecodeError otherwise.
OutPoint DecodeCoinKey(std::string_view key);

void SerializeCoin(Writer& writer, const Coin& coin);
Coin DeserializeCoin(Reader& reader);
std::string EncodeCoin(const Coin& coin);
// Decodes exactly one coin; throws DecodeError.
Coin DecodeCoin(std::string_view bytes);

std::vector<uint8_t> EncodeUndo(const BlockUndo& undo);
// Decodes exactly one BlockUndo; throws DecodeError.
BlockUndo DecodeUndo(std::span<const uint8_t> bytes);

// Views a string's bytes as a byte span.
inline std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace minicoin
