// Which block and undo files pruning deletes: a pure choice over the files' sizes and heights.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace minicoin {

// The active chain's last kMinBlocksToKeep blocks always keep their data and undo data, so that
// reorganisations up to that depth stay possible on a pruned node.
inline constexpr uint32_t kMinBlocksToKeep = 288;
// The smallest -prune target in MiB (regtest also takes smaller values, for tests).
inline constexpr uint64_t kMinPruneTargetMiB = 550;

// One block (blk) or undo (rev) file as pruning sees it.
struct PruneCandidate {
  bool undo = false;  // a rev file (else a blk file)
  uint32_t number = 0;
  uint64_t size = 0;  // bytes
  std::optional<uint32_t>
      highest_block;  // height of the highest block with data in it; none: no block
};

// The files to delete so that the total size of `files` drops to `target_bytes` or below:
// oldest first (by highest block, then number), never a file holding a block at or above
// `keep_from_height`, never the file being written (`current_block_file`, `current_undo_file`).
// Empty if the total is within the target. Stops early (keeping more) when nothing else may go.
std::vector<PruneCandidate> ChooseFilesToPrune(std::vector<PruneCandidate> files,
                                               uint64_t target_bytes, uint32_t keep_from_height,
                                               uint32_t current_block_file,
                                               uint32_t current_undo_file);

}  // namespace minicoin
