// Fuzz target: minicoin's decoders (Transaction::Decode, Block::Decode, DecodeAddress, Bech32m).
//
// The first input byte picks the decoder, the rest is its input. Whatever the bytes, a decoder
// either throws DecodeError (or returns nullopt) or returns a value whose encoding is exactly the
// input, and decoding that encoding gives the same value. Anything else aborts: another exception
// type, a sanitizer report, a mismatch.
//
// CROSSPROC_FUZZ_WRITE_SEEDS=<dir> writes a few valid inputs of each kind there and exits.
#include "primitives/address.h"
#include "primitives/block.h"
#include "primitives/transaction.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace {

enum Kind : uint8_t { kTransaction = 0, kBlock = 1, kAddress = 2, kBech32m = 3, kKinds = 4 };

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz_minicoin_decode: %s\n", what);
  std::abort();
}

void CheckTransaction(std::span<const uint8_t> bytes) {
  minicoin::Transaction tx;
  try {
    tx = minicoin::Transaction::Decode(bytes);
  } catch (const minicoin::DecodeError&) {
    return;
  }
  std::vector<uint8_t> encoded = tx.Encode();
  if (!std::equal(encoded.begin(), encoded.end(), bytes.begin(), bytes.end())) Fail("transaction re-encodes differently");
  if (!(minicoin::Transaction::Decode(encoded) == tx)) Fail("transaction decodes differently the second time");
  (void)tx.Txid();
  try {
    (void)tx.OutputTotal();
  } catch (const minicoin::DecodeError&) {
  }
}

void CheckBlock(std::span<const uint8_t> bytes) {
  minicoin::Block block;
  try {
    block = minicoin::Block::Decode(bytes);
  } catch (const minicoin::DecodeError&) {
    return;
  }
  std::vector<uint8_t> encoded = block.Encode();
  if (!std::equal(encoded.begin(), encoded.end(), bytes.begin(), bytes.end())) Fail("block re-encodes differently");
  if (!(minicoin::Block::Decode(encoded) == block)) Fail("block decodes differently the second time");
  (void)block.header.Hash();
  (void)block.ComputeMerkleRoot();
  (void)minicoin::CheckProofOfWork(block.header.Hash(), block.header.bits);
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void CheckAddress(const std::string& text) {
  std::string error;
  std::optional<minicoin::XOnlyPublicKey> key = minicoin::DecodeAddress(text, &error);
  if (!key) {
    if (error.empty()) Fail("address rejected without a reason");
    return;
  }
  // Valid addresses are all lowercase or all uppercase: the encoding is the lowercase input.
  if (minicoin::EncodeAddress(*key) != Lower(text)) Fail("address re-encodes differently");
}

void CheckBech32m(const std::string& text) {
  std::string error;
  std::optional<minicoin::Bech32mData> data = minicoin::Bech32mDecode(text, &error);
  if (!data) {
    if (error.empty()) Fail("Bech32m string rejected without a reason");
    return;
  }
  if (minicoin::Bech32mEncode(data->hrp, data->values) != Lower(text)) Fail("Bech32m string re-encodes differently");
}

void WriteSeed(const std::string& dir, const std::string& name, Kind kind, std::span<const uint8_t> bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary);
  out.put(static_cast<char>(kind));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void WriteSeeds(const std::string& dir) {
  minicoin::Transaction coinbase;
  coinbase.inputs.push_back({minicoin::OutPoint{minicoin::Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back({50 * minicoin::kCoin, minicoin::XOnlyPublicKey{1, 2, 3}});
  coinbase.height = 7;
  minicoin::Transaction spend;
  spend.inputs.push_back({minicoin::OutPoint{coinbase.Txid(), 0}, minicoin::SchnorrSignature{9, 8, 7}});
  spend.inputs.push_back({minicoin::OutPoint{coinbase.Txid(), 3}, minicoin::SchnorrSignature{}});
  spend.outputs.push_back({10 * minicoin::kCoin, minicoin::XOnlyPublicKey{4}});
  spend.outputs.push_back({39 * minicoin::kCoin, minicoin::XOnlyPublicKey{5}});
  WriteSeed(dir, "transaction-coinbase", kTransaction, coinbase.Encode());
  WriteSeed(dir, "transaction-spend", kTransaction, spend.Encode());
  minicoin::Block block;
  block.header.time = 1'700'000'000;
  block.header.bits = 0x207fffff;
  block.transactions = {coinbase, spend};
  block.header.merkle_root = block.ComputeMerkleRoot();
  WriteSeed(dir, "block-two-transactions", kBlock, block.Encode());
  std::string address = minicoin::EncodeAddress(minicoin::XOnlyPublicKey{0xab, 0xcd});
  WriteSeed(dir, "address", kAddress, std::span(reinterpret_cast<const uint8_t*>(address.data()), address.size()));
  const uint8_t values[] = {0, 1, 2, 31, 30};
  std::string bech = minicoin::Bech32mEncode("test", values);
  WriteSeed(dir, "bech32m", kBech32m, std::span(reinterpret_cast<const uint8_t*>(bech.data()), bech.size()));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("CROSSPROC_FUZZ_WRITE_SEEDS")) {
    WriteSeeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> bytes(data + 1, size - 1);
  std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  switch (data[0] % kKinds) {
    case kTransaction: CheckTransaction(bytes); break;
    case kBlock: CheckBlock(bytes); break;
    case kAddress: CheckAddress(text); break;
    default: CheckBech32m(text); break;
  }
  return 0;
}
