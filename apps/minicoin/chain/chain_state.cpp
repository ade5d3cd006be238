// The chain state and its validation engine.
#include "chain/chain_state.h"

#include "chain/params.h"
#include "chain/prune.h"
#include "chain/work.h"
#include "storage/database.h"
#include "storage/records.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace minicoin {
namespace {

constexpr char kIndexPrefix = 'b';
const std::string kBestKey = "B";
const std::string kVersionKey = "V";
constexpr uint32_t kFormatVersion = 1;

std::string IndexKey(const Uint256& hash) {
  std::string key(1, kIndexPrefix);
  key.append(reinterpret_cast<const char*>(hash.data()), 32);
  return key;
}

std::string ToString(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }

// What the best-block record holds: the tip and a summary of the coins written with it.
struct BestRecord {
  Uint256 hash;
  uint32_t height = 0;
  uint64_t coins = 0;
  uint64_t total = 0;
};

std::string EncodeBest(const BestRecord& best) {
  Writer writer;
  writer.U32(best.height);
  writer.Hash(best.hash);
  writer.U64(best.coins);
  writer.U64(best.total);
  return ToString(writer.bytes());
}

BestRecord DecodeBest(std::string_view bytes) {
  Reader reader(AsBytes(bytes));
  BestRecord best;
  best.height = reader.U32();
  best.hash = reader.Hash();
  best.coins = reader.U64();
  best.total = reader.U64();
  reader.ExpectEnd("best block record");
  return best;
}

std::string EncodeIndex(const BlockIndex& index) {
  Writer writer;
  index.header.Serialize(writer);
  writer.U32(index.height);
  writer.U32(index.tx_count);
  writer.U32(index.status);
  writer.U32(index.data_position.file);
  writer.U32(index.data_position.offset);
  writer.U32(index.undo_position.file);
  writer.U32(index.undo_position.offset);
  return ToString(writer.bytes());
}

BlockIndex DecodeIndex(std::string_view bytes) {
  Reader reader(AsBytes(bytes));
  BlockIndex index;
  index.header = BlockHeader::Deserialize(reader);
  index.hash = index.header.Hash();
  index.height = reader.U32();
  index.tx_count = reader.U32();
  index.status = reader.U32();
  index.data_position.file = reader.U32();
  index.data_position.offset = reader.U32();
  index.undo_position.file = reader.U32();
  index.undo_position.offset = reader.U32();
  reader.ExpectEnd("block index record");
  return index;
}

// Total value of a block's outputs and of the coins it spent.
uint64_t BlockOutputs(const Block& block) {
  uint64_t total = 0;
  for (const auto& tx : block.transactions) {
    for (const auto& output : tx.outputs) total += output.amount;
  }
  return total;
}

uint64_t UndoTotal(const BlockUndo& undo) {
  uint64_t total = 0;
  for (const auto& spent : undo.spent) {
    for (const auto& coin : spent) total += coin.output.amount;
  }
  return total;
}

// Number of a block's outputs and of the coins it spent.
uint64_t BlockOutputCount(const Block& block) {
  uint64_t count = 0;
  for (const auto& tx : block.transactions) count += tx.outputs.size();
  return count;
}

uint64_t UndoCount(const BlockUndo& undo) {
  uint64_t count = 0;
  for (const auto& spent : undo.spent) count += spent.size();
  return count;
}

constexpr int64_t kMaxFlushSeconds = 3600;  // the coins are written at least this often

std::runtime_error Corrupt(const std::filesystem::path& dir, const std::string& what) {
  return std::runtime_error("the chain state in " + dir.string() + " is corrupt: " + what +
                            " (remove the directory to start again)");
}

}  // namespace

CacheSizes SplitDbCache(int64_t mib) {
  if (mib < kMinDbCacheMiB) mib = kMinDbCacheMiB;
  const std::size_t total = static_cast<std::size_t>(mib) << 20;
  const std::size_t database = std::min<std::size_t>(total / 8, 8u << 20);
  return CacheSizes{.database_bytes = database, .coins_bytes = total - database};
}

const BlockIndex* BlockIndex::Ancestor(uint32_t at_height) const {
  if (at_height > height) return nullptr;
  const BlockIndex* index = this;
  while (index != nullptr && index->height > at_height) index = index->prev;
  return index;
}

// ---------------------------------------------------------------------------------------------
// AddBlockJob

AddBlockJob::AddBlockJob(ChainState& chain, crossproc::WorkerPool& pool, Block block)
    : crossproc::Job(pool), m_chain(chain), m_block(std::move(block)) {}

void AddBlockJob::SetNow(int64_t now) {
  RequireConfiguring();
  m_now = now;
}

void AddBlockJob::SetStoredPosition(FilePosition position) {
  RequireConfiguring();
  m_stored_position = position;
}

void AddBlockJob::SetDeferSync() {
  RequireConfiguring();
  m_defer_sync = true;
}

void AddBlockJob::SetChecked() {
  RequireConfiguring();
  m_checked = true;
}

std::string AddBlockJob::reason() const {
  if (m_reason.empty() && !m_accepted && !m_duplicate) {
    std::vector<std::string> errors = this->errors();
    if (!errors.empty()) return "internal error: " + errors.front();
  }
  return m_reason;
}

void AddBlockJob::Run() {
  try {
    // Context-free checks, outside the update lock: many blocks can be checked at once. The
    // proof of work first: it is cheap and keeps junk from costing the hashing of every
    // transaction.
    Uint256 hash = m_block.header.Hash();
    if (!m_checked && !CheckProofOfWork(hash, m_block.header.bits)) {
      m_reason = "proof of work too weak";
      return;
    }
    if (auto error = m_checked ? std::nullopt : CheckBlock(m_block)) {
      m_reason = error->reason;
      return;
    }
    ChainState::BlockResult result = m_chain.AcceptBlock(m_block, hash, m_now ? *m_now : m_chain.Now(),
                                                         m_stored_position, m_defer_sync);
    m_accepted = result.accepted;
    m_new_tip = result.new_tip;
    m_duplicate = result.duplicate;
    m_reason = result.reason;
  } catch (const std::exception& e) {
    m_accepted = false;
    m_reason = std::string("internal error: ") + e.what();
    AddError(m_reason);
  }
}

// ---------------------------------------------------------------------------------------------
// Opening

ChainState::ChainState(ChainStateOptions options)
    : m_options(std::move(options)),
      m_params(m_options.params != nullptr ? *m_options.params : ChainParams::Get(ChainType::kRegtest)) {
  if (m_options.pool != nullptr) {
    m_pool = m_options.pool;
  } else {
    m_own_pool = std::make_unique<crossproc::WorkerPool>(crossproc::WorkerPoolOptions{.name = "chain"});
    m_pool = m_own_pool.get();
  }
  std::error_code error;
  std::filesystem::create_directories(m_options.dir, error);
  if (error || !std::filesystem::is_directory(m_options.dir)) {
    throw std::runtime_error("cannot use " + m_options.dir.string() + " as the chain directory: " +
                             (error ? error.message() : "not a directory"));
  }
  try {
    m_db = std::make_unique<Database>(
        DatabaseOptions{.dir = m_options.dir / "chainstate", .cache_bytes = m_options.database_cache_bytes});
    if (m_options.reindex_chainstate) ResetChainstate();
    m_block_files = std::make_unique<RecordFiles>(RecordFilesOptions{.dir = m_options.dir / "blocks",
                                                                     .prefix = "blk",
                                                                     .max_file_size = m_options.max_block_file_size,
                                                                     .sync = m_options.sync_writes});
    m_undo_files = std::make_unique<RecordFiles>(RecordFilesOptions{.dir = m_options.dir / "blocks",
                                                                    .prefix = "rev",
                                                                    .max_file_size = m_options.max_block_file_size,
                                                                    .sync = m_options.sync_writes});
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("cannot open the chain state in " + m_options.dir.string() + ": " + e.what());
  }
  m_coins = std::make_unique<CoinsCache>(*m_db);
  m_last_flush = Now();
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  Load();
  PruneFiles();
}

void ChainState::ResetChainstate() {
  const std::filesystem::path& dir = m_options.dir;
  DatabaseBatch batch;
  try {
    m_db->ForEach(std::string(1, kIndexPrefix), [&](std::string_view key, std::string_view value) {
      BlockIndex entry = DecodeIndex(value);
      if ((entry.status & BlockIndex::kHaveUndo) != 0) {
        entry.status &= ~static_cast<uint32_t>(BlockIndex::kHaveUndo);
        entry.undo_position = FilePosition{};
        batch.Put(key, EncodeIndex(entry));
      }
      return true;
    });
  } catch (const DecodeError& e) {
    throw Corrupt(dir, std::string("bad block index record: ") + e.what());
  }
  m_db->ForEach(std::string(1, kCoinKeyPrefix), [&](std::string_view key, std::string_view) {
    batch.Delete(key);
    return true;
  });
  // Without a best block Load starts from scratch, so only an existing state is reset.
  if (m_db->Get(kBestKey)) batch.Put(kBestKey, EncodeBest(BestRecord{m_params.GenesisHash(), 0, 0, 0}));
  m_db->Write(batch, m_options.sync_writes);
  // Nothing refers to the undo files any more.
  std::filesystem::path blocks = dir / "blocks";
  std::error_code ignored;
  for (uint32_t number : ListRecordFiles(blocks, "rev")) {
    char name[32];
    std::snprintf(name, sizeof(name), "rev%05u.dat", number);
    std::filesystem::remove(blocks / name, ignored);
  }
}

ChainState::~ChainState() {
  if (m_own_pool) m_own_pool->Stop(crossproc::WorkerPool::Shutdown::kDrain);
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  try {
    FlushCoinsUnlocked();
    m_db->WriteOutLog();  // the next open then has no large final batch to replay
  } catch (const std::exception& e) {
    // Nothing is lost for good: the next open connects the stored blocks again.
    std::fprintf(stderr, "minicoin: could not write the coins cache on close: %s\n", e.what());
  }
}

BlockIndex* ChainState::InsertIndex(const BlockIndex& fields) {
  auto index = std::make_unique<BlockIndex>(fields);
  BlockIndex* raw = index.get();
  m_index.emplace(raw->hash, std::move(index));
  return raw;
}

void ChainState::CreateGenesis() {
  const Block& genesis = m_params.genesis;
  BlockIndex fields;
  fields.hash = genesis.header.Hash();
  fields.header = genesis.header;
  fields.height = 0;
  fields.chain_work = BlockWork(genesis.header.bits);
  fields.tx_count = static_cast<uint32_t>(genesis.transactions.size());
  fields.status = BlockIndex::kHaveData | BlockIndex::kValid;
  // A reindexed state finds the genesis block where it was first written.
  std::optional<std::vector<uint8_t>> first = m_block_files->Read(FilePosition{0, 0});
  if (first && *first == genesis.Encode()) {
    fields.data_position = FilePosition{0, 0};
  } else {
    fields.data_position = m_block_files->Append(genesis.Encode());
  }
  BlockIndex* index = InsertIndex(fields);
  DatabaseBatch batch;
  batch.Put(kVersionKey, std::to_string(kFormatVersion));
  WriteIndexTo(batch, *index);
  batch.Put(kBestKey, EncodeBest(BestRecord{index->hash, 0, 0, 0}));
  m_db->Write(batch, m_options.sync_writes);
  m_active = {index};
  m_best_candidate = index;
  m_flushed_best = index;
}

void ChainState::Load() {
  const std::filesystem::path& dir = m_options.dir;
  std::optional<std::string> best_bytes = m_db->Get(kBestKey);
  std::vector<BlockIndex> entries;
  try {
    m_db->ForEach(std::string(1, kIndexPrefix), [&](std::string_view, std::string_view value) {
      entries.push_back(DecodeIndex(value));
      return true;
    });
  } catch (const DecodeError& e) {
    throw Corrupt(dir, std::string("bad block index record: ") + e.what());
  }
  if (!best_bytes) {
    if (!entries.empty()) throw Corrupt(dir, "block index without a best block");
    CreateGenesis();
    return;
  }
  std::optional<std::string> version = m_db->Get(kVersionKey);
  if (!version || *version != std::to_string(kFormatVersion)) {
    throw Corrupt(dir, "unknown format version " + version.value_or("(none)"));
  }
  BestRecord best;
  try {
    best = DecodeBest(*best_bytes);
  } catch (const DecodeError& e) {
    throw Corrupt(dir, std::string("bad best block record: ") + e.what());
  }

  // The block tree: parents before children.
  std::sort(entries.begin(), entries.end(), [](const BlockIndex& a, const BlockIndex& b) { return a.height < b.height; });
  const Uint256& genesis_hash = m_params.GenesisHash();
  for (BlockIndex& entry : entries) {
    if (entry.height == 0) {
      if (entry.hash != genesis_hash) {
        throw Corrupt(dir, "the stored genesis block is not that of the " + m_params.name +
                               " chain (another chain's data, or made by an older minicoin)");
      }
      entry.prev = nullptr;
      entry.chain_work = BlockWork(entry.header.bits);
    } else {
      auto parent = m_index.find(entry.header.previous);
      if (parent == m_index.end() || parent->second->height + 1 != entry.height) {
        throw Corrupt(dir, "block " + entry.hash.ToHex() + " has no parent in the index");
      }
      entry.prev = parent->second.get();
      entry.chain_work = Add256(entry.prev->chain_work, BlockWork(entry.header.bits));
      if (entry.prev->IsInvalid()) entry.status |= BlockIndex::kFailedParent;
    }
    if (m_index.count(entry.hash) != 0) throw Corrupt(dir, "block " + entry.hash.ToHex() + " is indexed twice");
    InsertIndex(entry);
  }
  auto tip = m_index.find(best.hash);
  if (tip == m_index.end()) throw Corrupt(dir, "the best block " + best.hash.ToHex() + " is not in the index");
  if (tip->second->height != best.height) throw Corrupt(dir, "the best block's height does not match");
  m_active.assign(best.height + 1, nullptr);
  for (BlockIndex* index = tip->second.get(); index != nullptr; index = const_cast<BlockIndex*>(index->prev)) {
    m_active[index->height] = index;
  }
  std::string error;
  if (!ReadBlockUnlocked(*m_active.back(), &error)) throw Corrupt(dir, "the best block cannot be read: " + error);

  // The coins are read when needed; their count and amount are those written with the best
  // block (GetCoinsStats, which reads them all, checks them).
  m_coin_count = best.coins;
  m_coin_total = best.total;
  m_flushed_best = m_active.back();

  // Blocks stored but not yet connected when the state was last closed (or killed), among them
  // those whose coin changes were still in the cache: connected again from the block files.
  FindBestCandidate();
  bool tip_changed = false;
  try {
    ActivateBestChain(nullptr, nullptr, tip_changed);
    FlushDirty();
    if (tip_changed) FlushCoinsUnlocked();  // keeps the work of catching up
  } catch (const std::runtime_error& e) {
    throw Corrupt(dir, e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Accepting blocks

int64_t ChainState::Now() const {
  if (m_options.now) return m_options.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::shared_ptr<AddBlockJob> ChainState::AddBlock(Block block) {
  return std::make_shared<AddBlockJob>(*this, *m_pool, std::move(block));
}

ChainState::BlockResult ChainState::ProcessBlock(Block block, SubmitOptions options) {
  std::shared_ptr<AddBlockJob> job = AddBlock(std::move(block));
  if (options.sync == BlockSync::kDeferred) job->SetDeferSync();
  if (options.checked) job->SetChecked();
  if (options.on_this_thread) {
    job->RunHere();
  } else {
    job->Start();
    job->Wait();
  }
  return BlockResult{job->accepted(), job->new_tip(), job->duplicate(), job->reason()};
}

ChainState::BlockResult ChainState::ProcessStoredBlock(Block block, FilePosition position) {
  std::shared_ptr<AddBlockJob> job = AddBlock(std::move(block));
  job->SetStoredPosition(position);
  job->Start();
  job->Wait();
  return BlockResult{job->accepted(), job->new_tip(), job->duplicate(), job->reason()};
}

void ChainState::SyncPendingWrites() {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  SyncRecordFiles();
  FlushDirty();
}

bool ChainState::HasPendingWrites() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return !m_dirty.empty() || m_block_files->HasUnsynced() || m_undo_files->HasUnsynced();
}

void ChainState::SyncRecordFiles() {
  m_block_files->Sync();
  m_undo_files->Sync();
}

ChainState::BlockResult ChainState::AcceptBlock(const Block& block, const Uint256& hash, int64_t now,
                                                const std::optional<FilePosition>& stored, bool defer_sync) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  // For this block only: ConnectTip reads it for the undo records of the blocks it connects.
  struct Restore {
    bool& flag;
    bool previous;
    ~Restore() { flag = previous; }
  } restore{m_defer_sync, m_defer_sync};
  m_defer_sync = defer_sync;
  BlockResult result;
  if (auto known = m_index.find(hash); known != m_index.end()) {
    result.duplicate = true;
    result.reason = known->second->IsInvalid() ? "duplicate-invalid" : "duplicate";
    return result;
  }
  auto parent_it = m_index.find(block.header.previous);
  if (parent_it == m_index.end()) {
    result.reason = "prev-blk-not-found";
    return result;
  }
  BlockIndex& parent = *parent_it->second;
  if (parent.IsInvalid()) {
    result.reason = "bad-prevblk";
    return result;
  }
  if (std::string reason = ContextualCheck(block, parent, now); !reason.empty()) {
    result.reason = std::move(reason);
    return result;
  }

  BlockIndex fields;
  fields.hash = hash;
  fields.header = block.header;
  fields.height = parent.height + 1;
  fields.chain_work = Add256(parent.chain_work, BlockWork(block.header.bits));
  fields.prev = &parent;
  fields.tx_count = static_cast<uint32_t>(block.transactions.size());
  fields.status = BlockIndex::kHaveData;
  fields.data_position = stored ? *stored : m_block_files->Append(block.Encode(), defer_sync);
  BlockIndex* index = InsertIndex(fields);
  m_dirty.push_back(index);
  if (BetterCandidate(*index, *m_best_candidate) && CanActivate(*index)) m_best_candidate = index;

  const BlockIndex* old_tip = m_active.back();
  bool tip_changed = false;
  m_last_failure.clear();
  ActivateBestChain(index, &block, tip_changed);
  if (!defer_sync) FlushDirty();
  if (tip_changed) PruneFiles();
  result.new_tip = m_active.back() != old_tip;
  if (index->IsInvalid()) {
    result.reason = m_last_failure.empty() ? "bad-prevblk" : m_last_failure;
  } else if (m_active.back()->chain_work < index->chain_work) {
    // Stored, but the chain cannot move to it (CanActivate): pruned data would be needed.
    const BlockIndex* fork = FindFork(*index);
    result.reason = "cannot reorganise to block " + hash.ToHex() + ": its branch forks at height " +
                    std::to_string(fork->height) + ", below the blocks this pruned node keeps";
  } else {
    result.accepted = true;
  }
  return result;
}

bool ChainState::BetterCandidate(const BlockIndex& a, const BlockIndex& b) const {
  if (a.IsInvalid()) return false;
  if (b.IsInvalid()) return true;
  if (b.chain_work < a.chain_work) return true;
  if (a.chain_work < b.chain_work) return false;
  return a.data_position < b.data_position;  // equal work: the first seen
}

bool ChainState::CanActivate(const BlockIndex& target) const {
  const BlockIndex* fork = FindFork(target);
  for (const BlockIndex* walk = &target; walk != fork && walk != nullptr; walk = walk->prev) {
    if ((walk->status & BlockIndex::kHaveData) == 0) return false;
  }
  constexpr uint32_t kBoth = BlockIndex::kHaveData | BlockIndex::kHaveUndo;
  for (std::size_t height = m_active.size() - 1; fork != nullptr && height > fork->height; --height) {
    if ((m_active[height]->status & kBoth) != kBoth) return false;
  }
  return true;
}

void ChainState::FindBestCandidate() {
  // The best block the chain can move to: after pruning, a branch forking too deep cannot.
  std::vector<BlockIndex*> better;
  for (auto& [hash, index] : m_index) {
    if (BetterCandidate(*index, *m_active.back())) better.push_back(index.get());
  }
  std::sort(better.begin(), better.end(),
            [this](const BlockIndex* a, const BlockIndex* b) { return BetterCandidate(*a, *b); });
  m_best_candidate = m_active.back();
  for (BlockIndex* candidate : better) {
    if (CanActivate(*candidate)) {
      m_best_candidate = candidate;
      break;
    }
  }
}

void ChainState::ActivateBestChain(const BlockIndex* received, const Block* received_block, bool& tip_changed) {
  while (m_best_candidate != m_active.back()) {
    BlockIndex* target = m_best_candidate;
    // Back to the fork point.
    const BlockIndex* fork = FindFork(*target);
    while (m_active.back() != fork) {
      DisconnectTip();
      tip_changed = true;
    }
    // The new branch, from the fork up.
    std::vector<BlockIndex*> path;
    for (BlockIndex* index = target; index != fork; index = const_cast<BlockIndex*>(index->prev)) {
      path.push_back(index);
    }
    std::reverse(path.begin(), path.end());
    bool failed = false;
    constexpr std::size_t kProgressEvery = 1000;
    if (m_options.log && path.size() >= kProgressEvery) {
      m_options.log("connecting " + std::to_string(path.size()) + " stored blocks, up to height " +
                    std::to_string(target->height));
    }
    for (BlockIndex* index : path) {
      if (m_options.log && path.size() >= kProgressEvery && index->height % kProgressEvery == 0) {
        m_options.log("connecting stored blocks: height " + std::to_string(index->height) + " of " +
                      std::to_string(target->height));
      }
      std::optional<Block> read;
      const Block* block = nullptr;
      std::string reason;
      if (index == received && received_block != nullptr) {
        block = received_block;
      } else if ((read = ReadBlockUnlocked(*index, &reason))) {
        block = &*read;
      } else {
        throw std::runtime_error("cannot read block " + index->hash.ToHex() + " to connect it: " + reason);
      }
      if (!ConnectTip(*index, *block, reason)) {
        if (index == received) m_last_failure = reason;
        MarkInvalid(*index);
        failed = true;
        break;
      }
      tip_changed = true;
    }
    if (failed) FindBestCandidate();
  }
  if (tip_changed) {
    for (ChainListener* listener : m_listeners) listener->TipChanged(*m_active.back());
  }
}

void ChainState::WriteIndexTo(DatabaseBatch& batch, const BlockIndex& index) const {
  batch.Put(IndexKey(index.hash), EncodeIndex(index));
}

void ChainState::FlushDirty() {
  if (m_dirty.empty()) return;
  SyncRecordFiles();
  DatabaseBatch batch;
  for (const BlockIndex* index : m_dirty) WriteIndexTo(batch, *index);
  m_db->Write(batch, m_options.sync_writes);
  m_dirty.clear();
}

bool ChainState::ConnectTip(BlockIndex& index, const Block& block, std::string& reason) {
  BlockUndo undo;
  if (auto error = ConnectBlock(block, ContextOf(index), *m_coins, *m_pool, undo, m_options.signature_cache)) {
    reason = error->reason;
    return false;
  }
  // The undo data is synced before anything that points to it (the index entry, written with
  // the next FlushDirty or coins flush) is written: here, or by SyncRecordFiles before that write.
  try {
    index.undo_position = m_undo_files->Append(EncodeUndo(undo), m_defer_sync);
  } catch (...) {
    DisconnectBlock(block, undo, *m_coins);
    throw;
  }
  index.status |= BlockIndex::kHaveUndo | BlockIndex::kValid;
  m_dirty.push_back(&index);
  m_coin_total = m_coin_total + BlockOutputs(block) - UndoTotal(undo);
  m_coin_count = m_coin_count + BlockOutputCount(block) - UndoCount(undo);
  m_active.push_back(&index);
  for (ChainListener* listener : m_listeners) listener->BlockConnected(block, index);
  MaybeFlushCoins();
  return true;
}

void ChainState::DisconnectTip() {
  BlockIndex& index = *m_active.back();
  if (index.height == 0) throw std::logic_error("cannot disconnect the genesis block");
  std::string error;
  std::optional<Block> block = ReadBlockUnlocked(index, &error);
  if (!block) throw std::runtime_error("cannot read block " + index.hash.ToHex() + " to disconnect it: " + error);
  std::optional<BlockUndo> undo = ReadUndo(index);
  if (!undo || undo->spent.size() + 1 != block->transactions.size()) {
    throw std::runtime_error("cannot read the undo data of block " + index.hash.ToHex());
  }
  for (std::size_t i = 1; i < block->transactions.size(); ++i) {
    if (undo->spent[i - 1].size() != block->transactions[i].inputs.size()) {
      throw std::runtime_error("the undo data of block " + index.hash.ToHex() + " does not match the block");
    }
  }
  DisconnectBlock(*block, *undo, *m_coins);
  m_coin_total = m_coin_total - BlockOutputs(*block) + UndoTotal(*undo);
  m_coin_count = m_coin_count - BlockOutputCount(*block) + UndoCount(*undo);
  m_active.pop_back();
  for (ChainListener* listener : m_listeners) listener->BlockDisconnected(*block, index);
  MaybeFlushCoins();
}

void ChainState::MaybeFlushCoins() {
  if (m_coins->MemoryUsage() > m_options.coins_cache_bytes ||
      Now() - m_last_flush >= kMaxFlushSeconds) {
    FlushCoinsUnlocked();
  }
}

void ChainState::FlushCoinsUnlocked() {
  if (m_coins->DirtyCount() == 0 && m_flushed_best == m_active.back() && m_dirty.empty()) return;
  const BlockIndex& tip = *m_active.back();
  SyncRecordFiles();
  DatabaseBatch batch;
  for (const BlockIndex* index : m_dirty) WriteIndexTo(batch, *index);
  batch.Put(kBestKey, EncodeBest(BestRecord{tip.hash, tip.height, m_coin_count, m_coin_total}));
  m_coins->Flush(batch, m_options.sync_writes);
  m_dirty.clear();
  m_flushed_best = &tip;
  m_last_flush = Now();
}

void ChainState::FlushCoins() {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  FlushCoinsUnlocked();
}

ChainState::CoinsCacheUsage ChainState::CoinsCacheInfo() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return CoinsCacheUsage{.bytes = m_coins->MemoryUsage(),
                         .limit = m_options.coins_cache_bytes,
                         .entries = m_coins->size(),
                         .dirty = m_coins->DirtyCount(),
                         .flushes = m_coins->flushes()};
}

void ChainState::MarkInvalid(BlockIndex& failed) {
  failed.status |= BlockIndex::kFailed;
  m_dirty.push_back(&failed);
  for (auto& [hash, index] : m_index) {
    if (index.get() == &failed || index->height <= failed.height) continue;
    if (index->Ancestor(failed.height) == &failed && (index->status & BlockIndex::kFailedParent) == 0) {
      index->status |= BlockIndex::kFailedParent;
      m_dirty.push_back(index.get());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Queries

const BlockIndex& ChainState::Tip() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return *m_active.back();
}

uint32_t ChainState::Height() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return m_active.back()->height;
}

const BlockIndex& ChainState::Genesis() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return *m_active.front();
}

const BlockIndex* ChainState::AtHeight(uint32_t height) const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return height < m_active.size() ? m_active[height] : nullptr;
}

const BlockIndex* ChainState::Lookup(const Uint256& hash) const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  auto it = m_index.find(hash);
  return it == m_index.end() ? nullptr : it->second.get();
}

bool ChainState::IsActive(const BlockIndex& index) const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return index.height < m_active.size() && m_active[index.height] == &index;
}

uint32_t ChainState::StatusOf(const BlockIndex& index) const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return index.status;
}

const BlockIndex* ChainState::FindFork(const BlockIndex& index) const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  const BlockIndex* walk = &index;
  if (walk->height >= m_active.size()) walk = walk->Ancestor(static_cast<uint32_t>(m_active.size() - 1));
  while (walk != nullptr && m_active[walk->height] != walk) walk = walk->prev;
  return walk;
}

std::size_t ChainState::BlockCount() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return m_index.size();
}

std::optional<Block> ChainState::ReadBlockUnlocked(const BlockIndex& index, std::string* error) const {
  std::optional<std::vector<uint8_t>> bytes = m_block_files->Read(index.data_position, error);
  if (!bytes) return std::nullopt;
  try {
    Block block = Block::Decode(*bytes);
    if (block.header.Hash() != index.hash) {
      if (error) *error = "the stored block has another hash";
      return std::nullopt;
    }
    return block;
  } catch (const DecodeError& e) {
    if (error) *error = std::string("the stored block does not decode: ") + e.what();
    return std::nullopt;
  }
}

std::optional<Block> ChainState::ReadBlock(const BlockIndex& index) const { return ReadBlockUnlocked(index, nullptr); }

std::optional<BlockUndo> ChainState::ReadUndo(const BlockIndex& index) const {
  FilePosition position;
  {
    std::lock_guard<std::recursive_mutex> lock(m_mutex);
    if ((index.status & BlockIndex::kHaveUndo) == 0) return std::nullopt;
    position = index.undo_position;
  }
  std::optional<std::vector<uint8_t>> bytes = m_undo_files->Read(position);
  if (!bytes) return std::nullopt;
  try {
    return DecodeUndo(*bytes);
  } catch (const DecodeError&) {
    return std::nullopt;
  }
}

std::optional<Coin> ChainState::GetCoin(const OutPoint& outpoint) const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  return m_coins->Get(outpoint);
}

void ChainState::WithTip(const std::function<void(const BlockIndex& tip, const CoinsView& coins)>& fn) const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  fn(*m_active.back(), *m_coins);
}

ChainState::CoinsStats ChainState::GetCoinsStats() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  CoinsStats stats;
  stats.height = m_active.back()->height;
  stats.best_block = m_active.back()->hash;
  // The cache's changes by key, merged into the stored coins (both in key order).
  std::map<std::string, std::optional<Coin>> changes;
  m_coins->ForEachChange(
      [&](const OutPoint& outpoint, const std::optional<Coin>& coin) { changes.emplace(CoinKey(outpoint), coin); });
  std::vector<std::pair<OutPoint, Coin>> coins;
  auto change = changes.begin();
  auto take_change = [&] {
    if (change->second) coins.emplace_back(DecodeCoinKey(change->first), *change->second);
    ++change;
  };
  try {
    m_db->ForEach(std::string(1, kCoinKeyPrefix), [&](std::string_view key, std::string_view value) {
      while (change != changes.end() && change->first < key) take_change();
      if (change != changes.end() && change->first == key) {
        take_change();  // the cache's version replaces (or deletes) the stored one
      } else {
        coins.emplace_back(DecodeCoinKey(key), DecodeCoin(value));
      }
      return true;
    });
  } catch (const DecodeError& e) {
    throw Corrupt(m_options.dir, std::string("bad coin record: ") + e.what());
  }
  while (change != changes.end()) take_change();
  for (const auto& [outpoint, coin] : coins) stats.total_amount += coin.output.amount;
  stats.coins = coins.size();
  if (stats.coins != m_coin_count || stats.total_amount != m_coin_total) {
    throw Corrupt(m_options.dir, "the coins do not match the best block (" + std::to_string(stats.coins) +
                                     " coins of " + std::to_string(stats.total_amount) + ", expected " +
                                     std::to_string(m_coin_count) + " of " + std::to_string(m_coin_total) + ")");
  }
  // Key order begins with the txid: a transaction's coins are adjacent.
  for (std::size_t i = 0; i < coins.size(); ++i) {
    if (i == 0 || coins[i].first.txid != coins[i - 1].first.txid) ++stats.transactions;
  }
  stats.hash = HashCoins(std::move(coins));
  return stats;
}

BlockContext ChainState::ContextOf(const BlockIndex& index) const {
  if (index.prev == nullptr) return BlockContext{.height = 0, .subsidy = BlockSubsidy(0, m_params)};
  return NextContext(*index.prev);
}

BlockContext ChainState::NextContext(const BlockIndex& parent) const {
  const uint32_t height = parent.height + 1;
  return BlockContext{.height = height,
                      .subsidy = BlockSubsidy(height, m_params),
                      .median_time_past = MedianTimePast(parent)};
}

std::string ChainState::ContextualCheck(const Block& block, const BlockIndex& parent, int64_t now) const {
  if (block.header.bits != NextBits(parent)) return "bad-diffbits";
  if (block.transactions.empty() || block.transactions[0].height != parent.height + 1) return "bad-cb-height";
  if (block.header.time <= MedianTimePast(parent)) return "time-too-old";
  if (static_cast<int64_t>(block.header.time) > now + kMaxFutureBlockTime) return "time-too-new";
  if (block.EncodedSize() > m_params.max_block_size) return "bad-blk-length";
  return {};
}

uint32_t ChainState::NextBlockTime(const BlockIndex& parent, int64_t now) const {
  int64_t earliest = static_cast<int64_t>(MedianTimePast(parent)) + 1;
  return static_cast<uint32_t>(std::clamp<int64_t>(std::max(now, earliest), 0, UINT32_MAX));
}

uint32_t ChainState::NextBits(const BlockIndex& parent) const {
  uint32_t first_time = parent.header.time;
  if (IsRetargetHeight(parent.height + 1, m_params)) {
    const BlockIndex* first = parent.Ancestor(parent.height + 1 - m_params.retarget_interval);
    if (first == nullptr) throw std::logic_error("NextBits: the interval's first block is missing");
    first_time = first->header.time;
  }
  return NextWorkRequired(parent.header.bits, parent.height, first_time, parent.header.time, m_params);
}

uint32_t ChainState::MedianTimePast(const BlockIndex& index) const {
  std::vector<uint32_t> times;
  for (const BlockIndex* walk = &index; walk != nullptr && times.size() < kMedianTimeSpan; walk = walk->prev) {
    times.push_back(walk->header.time);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::vector<const BlockIndex*> ChainState::ChainTips() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  std::map<const BlockIndex*, bool> has_child;
  for (const auto& [hash, index] : m_index) {
    has_child.try_emplace(index.get(), false);
    if (index->prev != nullptr) has_child[index->prev] = true;
  }
  std::vector<const BlockIndex*> tips;
  for (const auto& [index, child] : has_child) {
    if (!child || index == m_active.back()) tips.push_back(index);
  }
  std::sort(tips.begin(), tips.end(), [](const BlockIndex* a, const BlockIndex* b) { return a->height > b->height; });
  return tips;
}

void ChainState::AddListener(ChainListener* listener) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  m_listeners.push_back(listener);
}

void ChainState::RemoveListener(ChainListener* listener) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  m_listeners.erase(std::remove(m_listeners.begin(), m_listeners.end(), listener), m_listeners.end());
}

Uint256 HashCoins(std::vector<std::pair<OutPoint, Coin>> coins) {
  std::vector<std::pair<std::string, std::string>> records;
  records.reserve(coins.size());
  for (const auto& [outpoint, coin] : coins) records.emplace_back(CoinKey(outpoint), EncodeCoin(coin));
  std::sort(records.begin(), records.end());
  std::string all;
  for (const auto& [key, value] : records) {
    all += key;
    all += value;
  }
  return Sha256d(AsBytes(all));
}

// ---------------------------------------------------------------------------------------------
// Pruning

uint32_t ChainState::PruneHeight() const {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  uint32_t height = m_active.back()->height;
  while (height > 0 && (m_active[height - 1]->status & BlockIndex::kHaveData) != 0) --height;
  return height;
}

void ChainState::PruneFiles() {
  if (!m_options.prune) return;
  const uint32_t tip = m_active.back()->height;
  if (tip < kMinBlocksToKeep) return;
  // The files and their sizes first: within the target (the usual case) nothing more is needed.
  std::vector<PruneCandidate> files;
  uint64_t total = 0;
  auto add_files = [&](RecordFiles& record_files, const char* prefix, bool undo) {
    for (uint32_t number : ListRecordFiles(m_options.dir / "blocks", prefix)) {
      std::error_code error;
      uint64_t size = std::filesystem::file_size(record_files.FilePath(number), error);
      if (error) continue;
      files.push_back(PruneCandidate{.undo = undo, .number = number, .size = size, .highest_block = std::nullopt});
      total += size;
    }
  };
  add_files(*m_block_files, "blk", false);
  add_files(*m_undo_files, "rev", true);
  if (total <= m_options.prune_target_bytes) return;
  // The highest block each file holds data of.
  std::map<uint32_t, uint32_t> highest_data;
  std::map<uint32_t, uint32_t> highest_undo;
  for (const auto& [hash, index] : m_index) {
    if ((index->status & BlockIndex::kHaveData) != 0) {
      uint32_t& high = highest_data[index->data_position.file];
      high = std::max(high, index->height);
    }
    if ((index->status & BlockIndex::kHaveUndo) != 0) {
      uint32_t& high = highest_undo[index->undo_position.file];
      high = std::max(high, index->height);
    }
  }
  for (PruneCandidate& file : files) {
    const std::map<uint32_t, uint32_t>& highest = file.undo ? highest_undo : highest_data;
    if (auto it = highest.find(file.number); it != highest.end()) file.highest_block = it->second;
  }
  std::vector<PruneCandidate> chosen =
      ChooseFilesToPrune(std::move(files), m_options.prune_target_bytes, tip + 1 - kMinBlocksToKeep,
                         m_block_files->CurrentFile(), m_undo_files->CurrentFile());
  if (chosen.empty()) return;
  // The index forgets the data first (one synchronous batch), then the files go: a crash in
  // between leaves files nothing refers to, which the next pruning removes.
  std::set<uint32_t> data_files;
  std::set<uint32_t> undo_files;
  for (const PruneCandidate& file : chosen) (file.undo ? undo_files : data_files).insert(file.number);
  for (auto& [hash, index] : m_index) {
    uint32_t old_status = index->status;
    if ((index->status & BlockIndex::kHaveData) != 0 && data_files.count(index->data_position.file) != 0) {
      index->status &= ~static_cast<uint32_t>(BlockIndex::kHaveData);
    }
    if ((index->status & BlockIndex::kHaveUndo) != 0 && undo_files.count(index->undo_position.file) != 0) {
      index->status &= ~static_cast<uint32_t>(BlockIndex::kHaveUndo);
    }
    if (index->status != old_status) m_dirty.push_back(index.get());
  }
  // The coins go to disk with the index first: after a kill, the open reconnects from the
  // stored best block, whose successors must still be in the files this removes.
  FlushCoinsUnlocked();
  for (const PruneCandidate& file : chosen) {
    std::string error;
    RecordFiles& record_files = file.undo ? *m_undo_files : *m_block_files;
    if (!record_files.RemoveFile(file.number, &error) && m_options.log) m_options.log("pruning: " + error);
  }
  if (m_options.log) {
    m_options.log("pruned " + std::to_string(data_files.size()) + " block files and " +
                  std::to_string(undo_files.size()) + " undo files; blocks kept from height " +
                  std::to_string(PruneHeight()));
  }
}

// ---------------------------------------------------------------------------------------------
// Validity set by hand

std::optional<std::string> ChainState::InvalidateBlock(const Uint256& hash) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  auto it = m_index.find(hash);
  if (it == m_index.end()) return "Block not found";
  BlockIndex& target = *it->second;
  if (target.height == 0) return "the genesis block cannot be invalidated";
  if (IsActive(target)) {
    constexpr uint32_t kBoth = BlockIndex::kHaveData | BlockIndex::kHaveUndo;
    for (uint32_t height = target.height; height < m_active.size(); ++height) {
      if ((m_active[height]->status & kBoth) != kBoth) {
        return "the data needed to disconnect the chain down to block " + hash.ToHex() + " was pruned";
      }
    }
  }
  // Marked first: a crash while disconnecting leaves the flags written with the first
  // disconnection, and Load moves away from the invalid blocks.
  MarkInvalid(target);
  bool tip_changed = false;
  while (IsActive(target)) {
    DisconnectTip();
    tip_changed = true;
  }
  FindBestCandidate();
  ActivateBestChain(nullptr, nullptr, tip_changed);
  FlushDirty();
  return std::nullopt;
}

std::optional<std::string> ChainState::ReconsiderBlock(const Uint256& hash) {
  std::lock_guard<std::recursive_mutex> lock(m_mutex);
  auto it = m_index.find(hash);
  if (it == m_index.end()) return "Block not found";
  const BlockIndex& target = *it->second;
  constexpr uint32_t kFailureFlags = BlockIndex::kFailed | BlockIndex::kFailedParent;
  for (auto& [other_hash, index] : m_index) {
    if ((index->status & kFailureFlags) == 0) continue;
    bool descendant = index->Ancestor(target.height) == &target;
    bool ancestor = target.Ancestor(index->height) == index.get();
    if (!descendant && !ancestor) continue;
    index->status &= ~kFailureFlags;
    m_dirty.push_back(index.get());
  }
  FindBestCandidate();
  bool tip_changed = false;
  ActivateBestChain(nullptr, nullptr, tip_changed);
  FlushDirty();
  return std::nullopt;
}

}  // namespace minicoin
