// -reindex: rebuilding the block index and the chain state from the block files.
#include "chain/reindex.h"

#include "primitives/serialize.h"
#include "storage/block_files.h"

#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace minicoin {

void WipeForReindex(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::remove_all(dir / "chainstate", error);
  if (error)
    throw std::runtime_error("cannot remove " + (dir / "chainstate").string() + ": " +
                             error.message());
  const std::filesystem::path blocks = dir / "blocks";
  for (uint32_t number : ListRecordFiles(blocks, "rev")) {
    char name[32];
    std::snprintf(name, sizeof(name), "rev%05u.dat", number);
    std::filesystem::remove(blocks / name, error);
    if (error)
      throw std::runtime_error("cannot remove " + (blocks / name).string() + ": " +
                               error.message());
  }
}

ReindexResult ReindexBlockFiles(ChainState& chain, const std::filesystem::path& dir,
                                const std::function<void(const std::string&)>& log) {
  ReindexResult result;
  const std::filesystem::path blocks = dir / "blocks";
  const std::vector<uint32_t> files = ListRecordFiles(blocks, "blk");
  // Blocks waiting for their parent, by the parent's hash.
  std::multimap<std::vector<uint8_t>, std::pair<Block, FilePosition>> waiting;
  auto add = [&](Block block, FilePosition position) {
    // The block, then every waiting block it unblocks, breadth first.
    std::deque<std::pair<Block, FilePosition>> queue;
    queue.emplace_back(std::move(block), position);
    while (!queue.empty()) {
      auto [next, at] = std::move(queue.front());
      queue.pop_front();
      Uint256 hash = next.header.Hash();
      if (chain.Lookup(hash) != nullptr) {
        ++result.duplicates;
        continue;
      }
      if (chain.Lookup(next.header.previous) == nullptr) {
        std::array<uint8_t, 32> parent = next.header.previous.bytes();
        waiting.emplace(std::vector<uint8_t>(parent.begin(), parent.end()),
                        std::make_pair(std::move(next), at));
        continue;
      }
      ChainState::BlockResult added = chain.ProcessStoredBlock(std::move(next), at);
      if (chain.Lookup(hash) == nullptr) {
        ++result.rejected;
        if (log) log("reindex: block " + hash.ToHex() + " refused: " + added.reason);
        continue;
      }
      ++result.added;
      std::vector<uint8_t> key(hash.bytes().begin(), hash.bytes().end());
      auto [first, last] = waiting.equal_range(key);
      for (auto it = first; it != last; ++it) queue.push_back(std::move(it->second));
      waiting.erase(first, last);
    }
  };
  if (log) log("reindex: reading " + std::to_string(files.size()) + " block files");
  for (uint32_t number : files) {
    char name[32];
    std::snprintf(name, sizeof(name), "blk%05u.dat", number);
    result.skipped_bytes += ForEachRecord(
        blocks / name, number, [&](FilePosition position, std::span<const uint8_t> payload) {
          ++result.records;
          Block block;
          try {
            block = Block::Decode(payload);
          } catch (const DecodeError&) {
            ++result.rejected;
            return true;
          }
          add(std::move(block), position);
          return true;
        });
    if (log) {
      log("reindex: " + std::string(name) + " done, " + std::to_string(result.added) +
          " blocks added, tip height " + std::to_string(chain.Height()));
    }
  }
  result.orphans = waiting.size();
  if (log && result.orphans > 0) {
    log("reindex: " + std::to_string(result.orphans) +
        " blocks never found their parent (pruned block files?)");
  }
  return result;
}

}  // namespace minicoin
