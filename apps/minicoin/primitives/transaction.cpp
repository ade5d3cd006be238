// Transactions.
#include "primitives/transaction.h"

namespace minicoin {

void Transaction::SerializeUnsigned(Writer& writer) const {
  writer.U32(version);
  writer.CompactSize(inputs.size());
  for (const auto& input : inputs) {
    writer.Hash(input.prevout.txid);
    writer.U32(input.prevout.index);
  }
  writer.CompactSize(outputs.size());
  for (const auto& output : outputs) {
    writer.U64(output.amount);
    writer.Bytes(output.pubkey);
  }
  writer.U32(height);
  if (version >= kLockTimeTransactionVersion) writer.U32(lock_time);
}

void Transaction::Serialize(Writer& writer) const {
  SerializeUnsigned(writer);
  for (const auto& input : inputs) writer.Bytes(input.signature);
}

Transaction Transaction::Deserialize(Reader& reader) {
  Transaction tx;
  tx.version = reader.U32();
  if (tx.version != kTransactionVersion && tx.version != kLockTimeTransactionVersion) {
    throw DecodeError("unknown transaction version " + std::to_string(tx.version));
  }
  tx.inputs.resize(reader.Count(kMaxTransactionInputs, "transaction inputs"));
  if (tx.inputs.empty()) throw DecodeError("a transaction needs at least one input");
  for (auto& input : tx.inputs) {
    input.prevout.txid = reader.Hash();
    input.prevout.index = reader.U32();
  }
  tx.outputs.resize(reader.Count(kMaxTransactionOutputs, "transaction outputs"));
  if (tx.outputs.empty()) throw DecodeError("a transaction needs at least one output");
  for (auto& output : tx.outputs) {
    output.amount = reader.U64();
    if (output.amount > kMaxMoney) throw DecodeError("output amount " + std::to_string(output.amount) + " too large");
    reader.Bytes(output.pubkey);
  }
  tx.height = reader.U32();
  if (tx.version >= kLockTimeTransactionVersion) tx.lock_time = reader.U32();
  for (auto& input : tx.inputs) reader.Bytes(input.signature);
  tx.OutputTotal();  // range check of the sum
  return tx;
}

std::vector<uint8_t> Transaction::Encode() const {
  Writer writer;
  Serialize(writer);
  return writer.Take();
}

std::size_t Transaction::EncodedSize() const {
  // version, inputs (outpoint and signature each), outputs (amount and key each), height, lock time
  std::size_t size = 4 + CompactSizeLength(inputs.size()) + inputs.size() * (32 + 4 + 64) +
                     CompactSizeLength(outputs.size()) + outputs.size() * (8 + 32) + 4;
  if (version >= kLockTimeTransactionVersion) size += 4;
  return size;
}

Transaction Transaction::Decode(std::span<const uint8_t> bytes) {
  Reader reader(bytes);
  Transaction tx = Deserialize(reader);
  reader.ExpectEnd("transaction");
  return tx;
}

Uint256 Transaction::Txid() const {
  Writer writer;
  SerializeUnsigned(writer);
  return Sha256d(writer.bytes());
}

Uint256 Transaction::Wtxid() const {
  Writer writer;
  Serialize(writer);
  return Sha256d(writer.bytes());
}

Uint256 Transaction::SignatureHash(const Uint256& txid, std::size_t index) {
  Writer writer;
  writer.Hash(txid);
  writer.U32(static_cast<uint32_t>(index));
  return Sha256d(writer.bytes());
}

uint64_t Transaction::OutputTotal() const {
  uint64_t total = 0;
  for (const auto& output : outputs) {
    if (output.amount > kMaxMoney || total > kMaxMoney - output.amount) {
      throw DecodeError("transaction outputs add up to more than the maximum amount");
    }
    total += output.amount;
  }
  return total;
}

}  // namespace minicoin
