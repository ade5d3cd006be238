// Blocks, merkle roots and proof of work.
#include "primitives/block.h"

namespace minicoin {

void BlockHeader::Serialize(Writer& writer) const {
  writer.U32(version);
  writer.Hash(previous);
  writer.Hash(merkle_root);
  writer.U32(time);
  writer.U32(bits);
  writer.U32(nonce);
}

BlockHeader BlockHeader::Deserialize(Reader& reader) {
  BlockHeader header;
  header.version = reader.U32();
  if (header.version != kBlockVersion) throw DecodeError("unknown block version " + std::to_string(header.version));
  header.previous = reader.Hash();
  header.merkle_root = reader.Hash();
  header.time = reader.U32();
  header.bits = reader.U32();
  header.nonce = reader.U32();
  return header;
}

Uint256 BlockHeader::Hash() const {
  Writer writer;
  Serialize(writer);
  return Sha256d(writer.bytes());
}

std::vector<uint8_t> BlockHeader::Encode() const {
  Writer writer;
  Serialize(writer);
  return writer.Take();
}

BlockHeader BlockHeader::Decode(std::span<const uint8_t> bytes) {
  Reader reader(bytes);
  BlockHeader header = Deserialize(reader);
  reader.ExpectEnd("block header");
  return header;
}

std::vector<uint8_t> Block::Encode() const {
  Writer writer;
  header.Serialize(writer);
  writer.CompactSize(transactions.size());
  for (const auto& tx : transactions) tx.Serialize(writer);
  return writer.Take();
}

std::size_t Block::EncodedSize() const {
  std::size_t size = kBlockHeaderSize + CompactSizeLength(transactions.size());
  for (const auto& tx : transactions) size += tx.EncodedSize();
  return size;
}

Block Block::Decode(std::span<const uint8_t> bytes) {
  Reader reader(bytes);
  Block block;
  block.header = BlockHeader::Deserialize(reader);
  block.transactions.resize(reader.Count(kMaxBlockTransactions, "block transactions"));
  for (auto& tx : block.transactions) tx = Transaction::Deserialize(reader);
  reader.ExpectEnd("block");
  return block;
}

Uint256 Block::ComputeMerkleRoot() const {
  std::vector<Uint256> ids;
  ids.reserve(transactions.size());
  for (const auto& tx : transactions) ids.push_back(tx.Wtxid());
  return MerkleRoot(std::move(ids));
}

Uint256 MerkleRoot(std::vector<Uint256> leaves) {
  if (leaves.empty()) return Uint256();
  while (leaves.size() > 1) {
    if (leaves.size() % 2 != 0) leaves.push_back(leaves.back());
    std::vector<Uint256> next;
    next.reserve(leaves.size() / 2);
    for (std::size_t i = 0; i < leaves.size(); i += 2) {
      std::array<uint8_t, 64> pair{};
      std::copy(leaves[i].bytes().begin(), leaves[i].bytes().end(), pair.begin());
      std::copy(leaves[i + 1].bytes().begin(), leaves[i + 1].bytes().end(), pair.begin() + 32);
      next.push_back(Sha256d(pair));
    }
    leaves = std::move(next);
  }
  return leaves[0];
}

std::optional<Uint256> TargetFromBits(uint32_t bits) {
  uint32_t exponent = bits >> 24;
  uint32_t mantissa = bits & 0x007fffff;
  if ((bits & 0x00800000) != 0 && mantissa != 0) return std::nullopt;  // negative
  std::array<uint8_t, 32> bytes{};
  if (exponent <= 3) {
    mantissa >>= 8 * (3 - exponent);
    for (int i = 0; i < 3; ++i) bytes[i] = static_cast<uint8_t>(mantissa >> (8 * i));
  } else {
    for (uint32_t i = 0; i < 3; ++i) {
      uint8_t byte = static_cast<uint8_t>(mantissa >> (8 * i));
      uint32_t position = exponent - 3 + i;
      if (position >= 32) {
        if (byte != 0) return std::nullopt;  // overflows 256 bits
        continue;
      }
      bytes[position] = byte;
    }
  }
  return Uint256(bytes);
}

bool CheckProofOfWork(const Uint256& hash, uint32_t bits) {
  std::optional<Uint256> target = TargetFromBits(bits);
  if (!target || target->IsZero()) return false;
  return !(*target < hash);
}

}  // namespace minicoin
