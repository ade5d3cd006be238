// -reindex: rebuilding the block index and the chain state from the block files on disk.
#pragma once

#include "chain/chain_state.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace minicoin {

// Removes what a reindex rebuilds from the chain directory `dir`: the chainstate database and
// the undo files (blocks/rev*.dat). The block files stay. Throws std::runtime_error if a part
// cannot be removed.
void WipeForReindex(const std::filesystem::path& dir);

struct ReindexResult {
  uint64_t records = 0;     // intact records read
  uint64_t added = 0;       // blocks the chain stored (valid or found invalid when connected)
  uint64_t duplicates = 0;  // blocks already known (the genesis block, a block stored twice)
  uint64_t rejected = 0;    // records that do not decode as a block, or blocks the checks refused
  uint64_t orphans = 0;     // blocks whose parent never came (pruned files)
  uint64_t skipped_bytes = 0;  // torn or corrupt bytes stepped over
};

// Reads every record of the block files in `dir`/blocks in file order and adds each block to
// `chain` where it already lies (ChainState::ProcessStoredBlock); a block whose parent is not
// known yet waits until the parent comes. `log` (may be null) gets progress lines. Throws
// std::runtime_error if a file cannot be read.
ReindexResult ReindexBlockFiles(ChainState& chain, const std::filesystem::path& dir,
                                const std::function<void(const std::string&)>& log);

}  // namespace minicoin
