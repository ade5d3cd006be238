// Which block and undo files pruning deletes.
#include "chain/prune.h"

#include <algorithm>
#include <tuple>

namespace minicoin {

std::vector<PruneCandidate> ChooseFilesToPrune(std::vector<PruneCandidate> files,
                                               uint64_t target_bytes, uint32_t keep_from_height,
                                               uint32_t current_block_file,
                                               uint32_t current_undo_file) {
  uint64_t total = 0;
  for (const PruneCandidate& file : files) total += file.size;
  std::vector<PruneCandidate> chosen;
  if (total <= target_bytes) return chosen;
  // A file without blocks sorts first: nothing refers to it.
  std::sort(files.begin(), files.end(), [](const PruneCandidate& a, const PruneCandidate& b) {
    return std::make_tuple(a.highest_block.has_value(), a.highest_block.value_or(0), a.number,
                           a.undo) < std::make_tuple(b.highest_block.has_value(),
                                                     b.highest_block.value_or(0), b.number, b.undo);
  });
  for (const PruneCandidate& file : files) {
    if (total <= target_bytes) break;
    if (file.number == (file.undo ? current_undo_file : current_block_file)) continue;
    if (file.highest_block && *file.highest_block >= keep_from_height) continue;
    chosen.push_back(file);
    total -= file.size;
  }
  return chosen;
}

}  // namespace minicoin
