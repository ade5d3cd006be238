// NodeNetChain: headers, blocks and transactions from peers into the node, and what it serves.
#include "node/net_chain.h"

#include "mempool/mempool.h"
#include "node/header_tree.h"
#include "node/node.h"
#include "crypto/key.h"
#include "validation/block_check.h"
#include "validation/signature_cache.h"
#include "validation/tx_check.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <string_view>

namespace minicoin {
namespace {

constexpr uint32_t kInvTransaction = 1;
constexpr uint32_t kInvBlock = 2;

bool StartsWith(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

// Refusals of a block that are no fault of its sender: it was known, its parent is not (yet),
// its time is ahead of this node's clock (clocks differ), or this node cannot take it (pruned
// data, a stopped worker pool).
bool BlockRefusalIsFault(const std::string& reason) {
  return !(reason == "duplicate" || reason == "prev-blk-not-found" || reason == "time-too-new" ||
           reason == "parked pool full" || StartsWith(reason, "cannot reorganise") || StartsWith(reason, "internal error"));
}

// Mempool refusals that are policy or timing, not a broken consensus rule.
bool TransactionRefusalIsFault(const std::string& reason) {
  constexpr std::array<std::string_view, 8> kPolicyRefusals{
      kRejectTooLarge, kRejectAlreadyInPool, kRejectConflict, kRejectMissingInputs,
      kRejectTooManyAncestors, kRejectMinFee, kRejectPoolFull, kRejectNonFinal};
  if (std::find(kPolicyRefusals.begin(), kPolicyRefusals.end(), reason) != kPolicyRefusals.end()) return false;
  // Spending a coinbase before it matures may become valid later; a spent or missing input is
  // a race with a block.
  if (reason.find("immature") != std::string::npos) return false;
  if (reason.find("missing or spent") != std::string::npos) return false;
  return true;
}

// Waits for `handle` without running its chunks on this thread, so that the pool's size alone
// sets how much runs at once (-par=1 stays sequential). Once the pool is stopping its queued
// jobs may never run: then it helps, or with `help_if_stopping` false gives up.
void AwaitOnPool(crossproc::WorkerPool& pool, crossproc::ParallelForHandle& handle, bool help_if_stopping = true) {
  while (!handle.WaitFor(std::chrono::milliseconds(100))) {
    if (pool.stopping()) {
      if (help_if_stopping) handle.Wait();
      return;
    }
  }
}

}  // namespace

NodeNetChain::NodeNetChain(Node& node, NetChainOptions options)
    : m_node(node), m_tree(node.header_tree()), m_options(options) {}

NodeNetChain::~NodeNetChain() = default;

ipc::NetChainStatus NodeNetChain::getStatus() {
  ipc::NetChainStatus status;
  const BlockIndex& tip = m_node.chain().Tip();
  status.tipHash = tip.hash.ToBytes();
  status.tipHeight = tip.height;
  HeaderRef best = m_tree.BestHeader();
  status.bestHeaderHash = best.hash.ToBytes();
  status.bestHeaderHeight = best.height;
  status.initialDownload = m_node.IsInitialBlockDownload();
  return status;
}

std::vector<std::vector<uint8_t>> NodeNetChain::getLocator() {
  std::vector<std::vector<uint8_t>> locator;
  for (const Uint256& hash : m_tree.Locator()) locator.push_back(hash.ToBytes());
  return locator;
}

ipc::HeadersVerdict NodeNetChain::processHeaders(const std::vector<std::vector<uint8_t>>& encoded) {
  ipc::HeadersVerdict verdict;
  std::vector<BlockHeader> headers;
  headers.reserve(encoded.size());
  std::string malformed;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    try {
      headers.push_back(BlockHeader::Decode(encoded[i]));
    } catch (const std::exception& e) {
      malformed = "malformed header " + std::to_string(i) + ": " + e.what();
      break;
    }
  }
  // The headers before a malformed one are still taken.
  HeadersResult result = m_tree.AcceptHeaders(headers, m_node.Now());
  verdict.connects = result.connects;
  if (result.last) {
    verdict.lastHash = result.last->hash.ToBytes();
    verdict.lastHeight = result.last->height;
  }
  if (!result.error.empty()) {
    verdict.error = result.error;
    verdict.peerFault = result.peer_fault;
  } else if (!malformed.empty()) {
    verdict.error = malformed;
    verdict.peerFault = true;
  }
  if (!verdict.error.empty()) {
    MINICOIN_LOG_DEBUG(m_node.log(), LogCategory::kNet, "%s", ("headers refused: " + verdict.error).c_str());
  }
  return verdict;
}

std::vector<std::vector<uint8_t>> NodeNetChain::getBlocksToDownload(const std::vector<uint8_t>& peer_best,
                                                                    uint32_t max) {
  std::vector<std::vector<uint8_t>> hashes;
  std::optional<Uint256> target = Uint256::FromBytes(peer_best);
  if (!target) return hashes;
  const uint32_t tip_height = m_node.chain().Height();
  const uint32_t max_height = tip_height > UINT32_MAX - kDownloadWindow ? UINT32_MAX : tip_height + kDownloadWindow;
  const std::size_t count = std::min<std::size_t>(max, kDownloadWindow);
  // A copy: the tree's lock must not be held while taking the park lock (Park takes them the
  // other way round).
  std::set<Uint256, UintLess> parked;
  {
    std::lock_guard<std::mutex> lock(m_park_mutex);
    for (const auto& [hash, block] : m_parked) parked.insert(hash);
  }
  for (const Uint256& hash :
       m_tree.MissingBlocks(*target, count, max_height, [&parked](const Uint256& h) { return parked.contains(h); })) {
    hashes.push_back(hash.ToBytes());
  }
  return hashes;
}

void NodeNetChain::SetVerdict(ipc::BlockVerdict& verdict, const Uint256& hash, bool accepted, bool duplicate,
                              const std::string& reason) {
  verdict.hash = hash.ToBytes();
  verdict.accepted = accepted;
  verdict.reason = accepted ? std::string() : reason;
  verdict.peerFault = !accepted && !(duplicate && reason == "duplicate") && BlockRefusalIsFault(reason);
}

std::vector<ipc::BlockVerdict> NodeNetChain::processBlocks(const std::vector<std::vector<uint8_t>>& encoded) {
  // Two stages: calls prepare one at a time, each taking a ticket as it finishes; they connect
  // one at a time in ticket order. So later calls prepare while an earlier one connects, and
  // batches connect in the order their calls prepared.
  PreparedBatch batch;
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> prepare(m_prepare_mutex);
    batch = PrepareBatch(encoded);
    ticket = m_next_ticket++;
  }
  std::unique_lock<std::mutex> process(m_process_mutex);
  m_turn_cv.wait(process, [&] { return m_connect_turn == ticket; });
  struct NextTurn {
    NodeNetChain& chain;
    ~NextTurn() {
      ++chain.m_connect_turn;  // under m_process_mutex: destroyed before `process` unlocks
      chain.m_turn_cv.notify_all();
    }
  } next_turn{*this};
  ConnectBatch(encoded, batch);
  return std::move(batch.verdicts);
}

NodeNetChain::PreparedBatch NodeNetChain::PrepareBatch(const std::vector<std::vector<uint8_t>>& encoded) {
  PreparedBatch batch;
  std::shared_ptr<std::vector<SignatureCheck>> checks;
  // The work runs on the validation pool, so that -par bounds every thread validating blocks
  // (with -par=1, one); this thread only waits. A stopped pool (shutdown) leaves it to this
  // thread, and the connect stage then judges nothing.
  crossproc::WorkerPool& pool = m_node.pool();
  auto prepare = [&] {
    DecodeAndCheck(encoded, batch);
    if (m_options.speculative_signature_checks) checks = CollectSpeculativeChecks(batch.blocks);
  };
  if (!pool.RunAndWait(prepare)) prepare();
  if (checks) {
    // One batch's speculative checks on the pool at a time: the previous batch's (which may
    // still be running while its blocks connect) first. Queued together, they could take every
    // thread and leave the connecting blocks' jobs waiting behind them.
    if (m_speculation) AwaitOnPool(pool, *m_speculation);
    if (!checks->empty()) {
      batch.speculation = StartSpeculativeChecks(std::move(checks));
      m_speculation = batch.speculation;
    }
  }
  return batch;
}

void NodeNetChain::DecodeAndCheck(const std::vector<std::vector<uint8_t>>& encoded, PreparedBatch& batch) {
  const ChainState& chain = m_node.chain();
  batch.verdicts.resize(encoded.size());
  batch.blocks.resize(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    ipc::BlockVerdict& verdict = batch.verdicts[i];
    if (encoded[i].size() > chain.params().max_block_size) {
      verdict.reason = "block too large (bad-blk-length)";
      verdict.peerFault = true;
      continue;
    }
    try {
      batch.blocks[i] = Block::Decode(encoded[i]);
    } catch (const std::exception& e) {
      verdict.reason = std::string("malformed block: ") + e.what();
      verdict.peerFault = true;
      continue;
    }
    const Uint256 hash = batch.blocks[i]->header.Hash();
    verdict.hash = hash.ToBytes();
    batch.index.emplace(hash, i);
  }
  // The context-free checks (proof of work, merkle root, sizes) of every block, side by side on
  // the validation threads; the blocks then connect without repeating them. (Wait helps: on a
  // pool thread, or on a stopped pool, that keeps the thread count.)
  batch.checked.assign(encoded.size(), 0);
  m_node.pool().ParallelFor(0, encoded.size(), [&batch](std::size_t i) {
    if (batch.blocks[i] && !CheckBlock(*batch.blocks[i]).has_value()) batch.checked[i] = 1;
  }, 1).Wait();
}

void NodeNetChain::ConnectBatch(const std::vector<std::vector<uint8_t>>& encoded, PreparedBatch& batch) {
  // One job on the validation pool submits the whole batch, each block validated on that job's
  // thread (no hand-over to another thread per block); this thread waits.
  const bool ran = m_node.SubmitBlocksOnPool([&](const Node::SubmitFn& submit) { SubmitBatch(submit, encoded, batch); });
  if (!ran) {
    // The pool stopped (shutdown): nothing was judged, and no peer is at fault.
    for (std::size_t i = 0; i < encoded.size(); ++i) {
      ipc::BlockVerdict& verdict = batch.verdicts[i];
      if (batch.blocks[i] && !verdict.accepted && verdict.reason.empty()) {
        verdict.reason = "internal error: the worker pool has stopped";
      }
    }
  }
  SyncAcceptedBlocks();
  // Normally done by now (the blocks' connection met it); a stopping pool may never finish it.
  if (batch.speculation) AwaitOnPool(m_node.pool(), *batch.speculation, /*help_if_stopping=*/false);
}

void NodeNetChain::SubmitBatch(const Node::SubmitFn& submit, const std::vector<std::vector<uint8_t>>& encoded,
                               PreparedBatch& batch) {
  ChainState& chain = m_node.chain();
  std::vector<ipc::BlockVerdict>& verdicts = batch.verdicts;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (!batch.blocks[i]) continue;
    Block& block = *batch.blocks[i];
    const Uint256 hash = block.header.Hash();
    ipc::BlockVerdict& verdict = verdicts[i];
    if (IsParked(hash)) {
      SetVerdict(verdict, hash, false, true, "duplicate");
      continue;
    }
    if (chain.Lookup(block.header.previous) != nullptr) {
      SubmitWithChildren(submit, std::move(block), batch.checked[i] != 0, verdicts, batch.index);
      continue;
    }
    // The parent's data has not arrived: the header must be known or acceptable, the block
    // well formed; then it waits.
    HeadersResult header = m_tree.AcceptHeaders({block.header}, m_node.Now());
    if (!header.connects) {
      SetVerdict(verdict, hash, false, false, "prev-blk-not-found");
      continue;
    }
    if (!header.error.empty()) {
      verdict.reason = header.error;
      verdict.peerFault = header.peer_fault;
      continue;
    }
    // A malformed body (bad merkle root...) is the sender's fault but says nothing about the
    // header: another copy of the block may still be good.
    if (auto error = batch.checked[i] != 0 ? std::nullopt : CheckBlock(block)) {
      SetVerdict(verdict, hash, false, false, error->reason);
      continue;
    }
    if (!Park(hash, std::move(block), encoded[i].size())) {
      SetVerdict(verdict, hash, false, false, "parked pool full");
      continue;
    }
    verdict.accepted = true;
    MINICOIN_LOG_DEBUG(m_node.log(), LogCategory::kNet, "%s", ("parked block " + hash.ToHex() + " until its parent arrives").c_str());
  }

  // Parents stored meanwhile by other means (submitblock, mining) release their children.
  std::vector<Uint256> ready;
  {
    std::lock_guard<std::mutex> lock(m_park_mutex);
    for (auto it = m_parked_by_parent.begin(); it != m_parked_by_parent.end();
         it = m_parked_by_parent.upper_bound(it->first)) {
      if (chain.Lookup(it->first) != nullptr) ready.push_back(it->first);
    }
  }
  for (const Uint256& parent : ready) {
    std::vector<Block> children;
    {
      std::lock_guard<std::mutex> lock(m_park_mutex);
      children = TakeParkedChildrenLocked(parent);
    }
    for (Block& child : children) SubmitWithChildren(submit, std::move(child), false, verdicts, batch.index);
  }
}

void NodeNetChain::SyncAcceptedBlocks() {
  ChainState& chain = m_node.chain();
  if (!chain.HasPendingWrites()) return;
  const auto now = std::chrono::steady_clock::now();
  const bool due = !m_node.IsInitialBlockDownload() || m_tree.BestHeader().hash == chain.Tip().hash ||
                   !m_last_sync || now - *m_last_sync >= m_options.initial_download_sync_interval;
  if (!due) return;
  // The blocks become durable together: one sync of each record file, one index write. On
  // failure they stay pending, and the next write of the index tries again.
  try {
    chain.SyncPendingWrites();
    m_last_sync = now;
  } catch (const std::exception& e) {
    m_node.log().Error("%s", (std::string("cannot make the received blocks durable: ") + e.what()).c_str());
  }
}

void NodeNetChain::SubmitWithChildren(const Node::SubmitFn& submit, Block first, bool first_checked,
                                      std::vector<ipc::BlockVerdict>& verdicts,
                                      const std::map<Uint256, std::size_t, UintLess>& batch) {
  ChainState& chain = m_node.chain();
  std::deque<Block> queue;
  queue.push_back(std::move(first));
  bool checked = first_checked;
  while (!queue.empty()) {
    Block block = std::move(queue.front());
    queue.pop_front();
    const Uint256 hash = block.header.Hash();
    ChainState::BlockResult result =
        submit(std::move(block), SubmitOptions{.sync = BlockSync::kDeferred, .checked = checked});
    checked = false;
    if (auto it = batch.find(hash); it != batch.end()) {
      SetVerdict(verdicts[it->second], hash, result.accepted, result.duplicate, result.reason);
    }
    const BlockIndex* stored = chain.Lookup(hash);
    if (stored == nullptr) {
      if (!result.accepted && !result.reason.empty()) {
        MINICOIN_LOG_DEBUG(m_node.log(), LogCategory::kNet, "%s", ("block " + hash.ToHex() + " refused: " + result.reason).c_str());
      }
      continue;  // its parked children wait for a good copy
    }
    std::lock_guard<std::mutex> lock(m_park_mutex);
    for (Block& child : TakeParkedChildrenLocked(hash)) queue.push_back(std::move(child));
  }
}

std::vector<Block> NodeNetChain::TakeParkedChildrenLocked(const Uint256& parent) {
  std::vector<Block> children;
  auto [first, last] = m_parked_by_parent.equal_range(parent);
  for (auto it = first; it != last; ++it) {
    auto parked = m_parked.find(it->second);
    m_parked_bytes -= parked->second.bytes;
    children.push_back(std::move(parked->second.block));
    m_parked.erase(parked);
  }
  m_parked_by_parent.erase(first, last);
  return children;
}

bool NodeNetChain::Park(const Uint256& hash, Block block, std::size_t bytes) {
  std::lock_guard<std::mutex> lock(m_park_mutex);
  auto full = [&] { return m_parked.size() >= m_options.max_parked_blocks || m_parked_bytes + bytes > m_options.max_parked_bytes; };
  if (full()) {
    // Drop the blocks the chain stored meanwhile and those whose header the tree let go.
    for (auto it = m_parked.begin(); it != m_parked.end();) {
      const Uint256& parent = it->second.block.header.previous;
      const bool stale = m_node.chain().Lookup(it->first) != nullptr || !m_tree.Find(it->first).has_value();
      if (!stale) {
        ++it;
        continue;
      }
      auto [first, last] = m_parked_by_parent.equal_range(parent);
      for (auto child = first; child != last; ++child) {
        if (child->second == it->first) {
          m_parked_by_parent.erase(child);
          break;
        }
      }
      m_parked_bytes -= it->second.bytes;
      it = m_parked.erase(it);
    }
    if (full()) return false;
  }
  const Uint256 parent = block.header.previous;
  m_parked.emplace(hash, Parked{std::move(block), bytes});
  m_parked_by_parent.emplace(parent, hash);
  m_parked_bytes += bytes;
  return true;
}

std::shared_ptr<std::vector<SignatureCheck>> NodeNetChain::CollectSpeculativeChecks(
    const std::vector<std::optional<Block>>& blocks) {
  // Shared with the pool's jobs (they hold it until the last chunk is done).
  auto checks = std::make_shared<std::vector<SignatureCheck>>();
  OutputKeys batch_outputs;
  for (const std::optional<Block>& block : blocks) {
    if (!block) continue;
    for (const Transaction& tx : block->transactions) {
      const Uint256 txid = tx.Txid();
      if (!tx.IsCoinbase()) {
        for (std::size_t i = 0; i < tx.inputs.size() && checks->size() < kMaxSpeculativeChecks; ++i) {
          const OutPoint& prevout = tx.inputs[i].prevout;
          std::optional<XOnlyPublicKey> pubkey;
          if (auto it = batch_outputs.find(prevout); it != batch_outputs.end()) {
            pubkey = it->second;
          } else if (std::optional<XOnlyPublicKey> earlier = RecentBatchOutput(prevout)) {
            pubkey = earlier;
          } else if (std::optional<Coin> coin = m_node.chain().GetCoin(prevout)) {
            pubkey = coin->output.pubkey;
          } else if (std::optional<Coin> pool_coin = m_node.mempool().GetPoolCoin(prevout)) {
            pubkey = pool_coin->output.pubkey;
          }
          if (pubkey) checks->push_back(SignatureCheck{*pubkey, Transaction::SignatureHash(txid, i), tx.inputs[i].signature});
        }
      }
      for (uint32_t n = 0; n < tx.outputs.size(); ++n) batch_outputs.emplace(OutPoint{txid, n}, tx.outputs[n].pubkey);
    }
  }
  // The next batches may spend these before they connect.
  m_recent_batch_outputs.push_front(std::move(batch_outputs));
  if (m_recent_batch_outputs.size() > kRecentBatches) m_recent_batch_outputs.pop_back();
  return checks;
}

std::optional<XOnlyPublicKey> NodeNetChain::RecentBatchOutput(const OutPoint& outpoint) const {
  for (const OutputKeys& outputs : m_recent_batch_outputs) {
    if (auto it = outputs.find(outpoint); it != outputs.end()) return it->second;
  }
  return std::nullopt;
}

crossproc::ParallelForHandle NodeNetChain::StartSpeculativeChecks(std::shared_ptr<std::vector<SignatureCheck>> checks) {
  // Connection goes from the batch's first block forwards and verifies what the cache lacks; the
  // speculative runners go from its last block backwards, so the two meet once instead of
  // verifying the same signatures side by side.
  std::reverse(checks->begin(), checks->end());
  SignatureCache* cache = &m_node.signature_cache();
  // One runner fewer than the pool's threads (at least one): a thread stays free for the blocks'
  // validation jobs, which then run alongside the checks instead of after them.
  const std::size_t runners = std::max<std::size_t>(1, m_node.pool().thread_count() - 1);
  const std::size_t chunk = (checks->size() + runners - 1) / runners;
  return m_node.pool().ParallelFor(0, checks->size(), [checks, cache](std::size_t i) {
    const SignatureCheck& check = (*checks)[i];
    if (cache->Contains(check)) return;
    if (VerifySchnorr(check.pubkey, check.hash, check.signature)) cache->Add(check);
  }, chunk);
}

bool NodeNetChain::IsParked(const Uint256& hash) const {
  std::lock_guard<std::mutex> lock(m_park_mutex);
  return m_parked.contains(hash);
}

std::size_t NodeNetChain::ParkedCount() const {
  std::lock_guard<std::mutex> lock(m_park_mutex);
  return m_parked.size();
}

ipc::TxVerdict NodeNetChain::processTransaction(const std::vector<uint8_t>& bytes) {
  ipc::TxVerdict verdict;
  Transaction tx;
  try {
    tx = Transaction::Decode(bytes);
  } catch (const std::exception& e) {
    verdict.reason = std::string("malformed transaction: ") + e.what();
    verdict.peerFault = true;
    return verdict;
  }
  Mempool::AcceptResult result = m_node.SubmitTransaction(tx);
  if (result.accepted) {
    verdict.accepted = true;
    return verdict;
  }
  verdict.reason = result.reason;
  verdict.peerFault = TransactionRefusalIsFault(result.reason);
  if (result.reason == kRejectMissingInputs) {
    std::set<Uint256, UintLess> listed;
    for (const TxIn& input : tx.inputs) {
      const OutPoint& prevout = input.prevout;
      if (m_node.mempool().GetPoolCoin(prevout) || m_node.chain().GetCoin(prevout)) continue;
      if (listed.insert(prevout.txid).second) verdict.missingParents.push_back(prevout.txid.ToBytes());
    }
  } else if (result.reason != kRejectAlreadyInPool) {
    RememberReject(tx.Txid());
  }
  return verdict;
}

void NodeNetChain::RememberReject(const Uint256& txid) {
  const Uint256 tip = m_node.chain().Tip().hash;
  std::lock_guard<std::mutex> lock(m_reject_mutex);
  if (tip != m_rejects_tip) {
    m_rejects.clear();
    m_reject_order.clear();
    m_rejects_tip = tip;
  }
  if (!m_rejects.insert(txid).second) return;
  m_reject_order.push_back(txid);
  if (m_reject_order.size() > kMaxRecentRejects) {
    m_rejects.erase(m_reject_order.front());
    m_reject_order.pop_front();
  }
}

bool NodeNetChain::RecentlyRejected(const Uint256& txid) {
  const Uint256 tip = m_node.chain().Tip().hash;
  std::lock_guard<std::mutex> lock(m_reject_mutex);
  // A new tip can make a refused transaction acceptable: the list starts over.
  if (tip != m_rejects_tip) return false;
  return m_rejects.contains(txid);
}

std::vector<std::vector<uint8_t>> NodeNetChain::findHeaders(const std::vector<std::vector<uint8_t>>& locator,
                                                            const std::vector<uint8_t>& stop) {
  ChainState& chain = m_node.chain();
  const BlockIndex* start = &chain.Genesis();
  for (const auto& entry : locator) {
    std::optional<Uint256> hash = Uint256::FromBytes(entry);
    if (!hash) continue;
    const BlockIndex* index = chain.Lookup(*hash);
    if (index != nullptr && chain.IsActive(*index)) {
      start = index;
      break;
    }
  }
  std::optional<Uint256> stop_hash = Uint256::FromBytes(stop);
  std::vector<std::vector<uint8_t>> headers;
  for (uint32_t height = start->height + 1; headers.size() < kMaxHeadersPerFind; ++height) {
    const BlockIndex* index = chain.AtHeight(height);
    if (index == nullptr) break;
    headers.push_back(index->header.Encode());
    if (stop_hash && index->hash == *stop_hash) break;
  }
  return headers;
}

std::vector<std::vector<uint8_t>> NodeNetChain::getBlockData(const std::vector<std::vector<uint8_t>>& hashes) {
  ChainState& chain = m_node.chain();
  std::vector<std::vector<uint8_t>> blocks(hashes.size());
  for (std::size_t i = 0; i < hashes.size() && i < kMaxBlocksPerGetData; ++i) {
    std::optional<Uint256> hash = Uint256::FromBytes(hashes[i]);
    if (!hash) continue;
    const BlockIndex* index = chain.Lookup(*hash);
    if (index == nullptr || (chain.StatusOf(*index) & BlockIndex::kHaveData) == 0) continue;
    if (std::optional<Block> block = chain.ReadBlock(*index)) blocks[i] = block->Encode();
  }
  return blocks;
}

std::vector<std::vector<uint8_t>> NodeNetChain::getTransactionData(const std::vector<std::vector<uint8_t>>& txids) {
  std::vector<std::vector<uint8_t>> txs(txids.size());
  for (std::size_t i = 0; i < txids.size(); ++i) {
    std::optional<Uint256> txid = Uint256::FromBytes(txids[i]);
    if (!txid) continue;
    if (std::optional<MempoolEntry> entry = m_node.mempool().Get(*txid)) txs[i] = entry->tx.Encode();
  }
  return txs;
}

std::vector<bool> NodeNetChain::haveItems(const std::vector<ipc::InvItem>& items) {
  std::vector<bool> have(items.size(), false);
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::optional<Uint256> hash = Uint256::FromBytes(items[i].hash);
    if (!hash) continue;
    if (items[i].type == kInvTransaction) {
      have[i] = m_node.mempool().Contains(*hash) || RecentlyRejected(*hash);
    } else if (items[i].type == kInvBlock) {
      have[i] = m_node.chain().Lookup(*hash) != nullptr || m_tree.Contains(*hash) || IsParked(*hash);
    }
  }
  return have;
}

void NodeNetChain::logMessage(const std::string& category, const std::string& message) {
  if (category.empty()) {
    m_node.log().Info("%s", message.c_str());
    return;
  }
  LogCategory parsed = LogCategory::kNet;
  if (!ParseLogCategory(category, parsed) || parsed == LogCategory::kAll || parsed == LogCategory::kNone) {
    parsed = LogCategory::kNet;
  }
  MINICOIN_LOG_DEBUG(m_node.log(), parsed, "%s", message.c_str());
}

}  // namespace minicoin
