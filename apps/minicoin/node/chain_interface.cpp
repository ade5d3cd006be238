// The node's Chain interface.
#include "node/chain_interface.h"

#include "node/node.h"
#include "node/notifications.h"

#include <algorithm>
#include <set>

namespace minicoin {
namespace {

// Blocks returned by one getBlocks call at most.
constexpr uint32_t kMaxBlocksPerCall = 1000;
// The lowest fee rate estimateFee returns, in units per 1000 bytes.
constexpr uint64_t kMinFeeRate = 1000;

std::vector<uint8_t> Bytes(const Uint256& hash) { return {hash.bytes().begin(), hash.bytes().end()}; }

std::optional<Uint256> HashFrom(const std::vector<uint8_t>& bytes) {
  if (bytes.size() != 32) return std::nullopt;
  std::array<uint8_t, 32> array{};
  std::copy(bytes.begin(), bytes.end(), array.begin());
  return Uint256(array);
}

// Outpoints ordered for set lookups.
struct OutPointLess {
  bool operator()(const OutPoint& a, const OutPoint& b) const {
    if (a.txid == b.txid) return a.index < b.index;
    return a.txid.bytes() < b.txid.bytes();
  }
};

class ChainImpl final : public ipc::Chain {
 public:
  explicit ChainImpl(Node& node) : m_node(node) {}

  ipc::BlockRef getTip() override { return MakeBlockRef(m_node.chain().Tip()); }

  std::optional<ipc::BlockRef> getBlockRef(uint32_t height) override {
    const BlockIndex* index = m_node.chain().AtHeight(height);
    if (index == nullptr) return std::nullopt;
    return MakeBlockRef(*index);
  }

  std::optional<ipc::BlockRef> findActiveBlock(const std::vector<uint8_t>& hash) override {
    std::optional<Uint256> id = HashFrom(hash);
    if (!id) return std::nullopt;
    const BlockIndex* index = m_node.chain().Lookup(*id);
    if (index == nullptr || !m_node.chain().IsActive(*index)) return std::nullopt;
    return MakeBlockRef(*index);
  }

  std::optional<std::vector<uint8_t>> getBlock(const std::vector<uint8_t>& hash) override {
    std::optional<Uint256> id = HashFrom(hash);
    if (!id) return std::nullopt;
    const BlockIndex* index = m_node.chain().Lookup(*id);
    if (index == nullptr) return std::nullopt;
    std::optional<Block> block = m_node.chain().ReadBlock(*index);
    if (!block) return std::nullopt;
    return block->Encode();
  }

  std::vector<std::vector<uint8_t>> getBlocks(uint32_t start_height, uint32_t count) override {
    std::vector<std::vector<uint8_t>> blocks;
    count = std::min(count, kMaxBlocksPerCall);
    for (uint32_t height = start_height; blocks.size() < count; ++height) {
      const BlockIndex* index = m_node.chain().AtHeight(height);
      if (index == nullptr) break;
      std::optional<Block> block = m_node.chain().ReadBlock(*index);
      if (!block) break;
      blocks.push_back(block->Encode());
      if (height == UINT32_MAX) break;
    }
    return blocks;
  }

  ipc::ScanResult scanBlocks(uint32_t start_height, uint32_t stop_height, const std::vector<std::vector<uint8_t>>& keys,
                             const std::vector<ipc::OutPointRef>& outpoints, uint32_t max_blocks) override {
    std::set<XOnlyPublicKey> watched_keys;
    for (const auto& key : keys) {
      if (key.size() != 32) throw std::invalid_argument("scanBlocks: a key must be 32 bytes");
      XOnlyPublicKey value{};
      std::copy(key.begin(), key.end(), value.begin());
      watched_keys.insert(value);
    }
    std::set<OutPoint, OutPointLess> watched;
    for (const auto& ref : outpoints) {
      std::optional<Uint256> txid = HashFrom(ref.txid);
      if (!txid) throw std::invalid_argument("scanBlocks: a txid must be 32 bytes");
      watched.insert(OutPoint{*txid, ref.index});
    }
    ipc::ScanResult result;
    ChainState& chain = m_node.chain();
    const BlockIndex* last = nullptr;
    uint32_t scanned = 0;
    for (uint32_t height = start_height; height <= stop_height; ++height) {
      if (max_blocks != 0 && scanned == max_blocks) break;
      const BlockIndex* index = chain.AtHeight(height);
      if (index == nullptr) break;
      std::optional<Block> block = chain.ReadBlock(*index);
      if (!block) throw std::runtime_error("scanBlocks: block " + index->hash.ToHex() + " is not readable");
      ipc::ScanMatch match;
      for (const Transaction& tx : block->transactions) {
        bool relevant = false;
        for (const TxIn& input : tx.inputs) {
          if (!input.prevout.IsNull() && watched.count(input.prevout) != 0) relevant = true;
        }
        Uint256 txid;
        bool have_txid = false;
        for (uint32_t n = 0; n < tx.outputs.size(); ++n) {
          if (watched_keys.count(tx.outputs[n].pubkey) == 0) continue;
          relevant = true;
          if (!have_txid) {
            txid = tx.Txid();
            have_txid = true;
          }
          watched.insert(OutPoint{txid, n});
        }
        if (relevant) match.transactions.push_back(tx.Encode());
      }
      if (!match.transactions.empty()) {
        match.block = MakeBlockRef(*index);
        result.matches.push_back(std::move(match));
      }
      last = index;
      ++scanned;
      if (height == UINT32_MAX) break;
    }
    if (last == nullptr) {
      // Nothing scanned (start beyond the tip): report the block before the range, or genesis.
      const BlockIndex* before = start_height == 0 ? nullptr : chain.AtHeight(start_height - 1);
      last = before != nullptr ? before : &chain.Tip();
    }
    result.lastScanned = MakeBlockRef(*last);
    return result;
  }

  std::vector<ipc::CoinInfo> findCoins(const std::vector<ipc::OutPointRef>& outpoints) override {
    std::vector<OutPoint> wanted;
    for (const auto& ref : outpoints) {
      std::optional<Uint256> txid = HashFrom(ref.txid);
      if (!txid) throw std::invalid_argument("findCoins: a txid must be 32 bytes");
      wanted.push_back(OutPoint{*txid, ref.index});
    }
    std::vector<ipc::CoinInfo> coins;
    m_node.chain().WithTip([&](const BlockIndex&, const CoinsView& view) {
      for (const OutPoint& outpoint : wanted) {
        if (m_node.mempool().IsSpent(outpoint)) continue;
        std::optional<Coin> coin = view.Get(outpoint);
        if (!coin) coin = m_node.mempool().GetPoolCoin(outpoint);
        if (!coin) continue;
        coins.push_back(ipc::CoinInfo{ipc::OutPointRef{Bytes(outpoint.txid), outpoint.index}, coin->output.amount,
                                      std::vector<uint8_t>(coin->output.pubkey.begin(), coin->output.pubkey.end()),
                                      coin->height, coin->coinbase});
      }
    });
    return coins;
  }

  std::string broadcastTransaction(const std::vector<uint8_t>& bytes) override {
    Transaction tx;
    try {
      tx = Transaction::Decode(bytes);
    } catch (const DecodeError& e) {
      return std::string("TX decode failed: ") + e.what();
    }
    Mempool::AcceptResult result = m_node.SubmitTransaction(tx);
    if (result.accepted || result.reason == kRejectAlreadyInPool) return "";
    return result.reason;
  }

  uint64_t estimateFee() override {
    // The median fee rate of the mempool, never below the minimum.
    std::vector<uint64_t> rates;
    for (const MempoolEntry& entry : m_node.mempool().Entries()) {
      if (entry.size > 0) rates.push_back(entry.fee * 1000 / entry.size);
    }
    if (rates.empty()) return kMinFeeRate;
    std::nth_element(rates.begin(), rates.begin() + static_cast<std::ptrdiff_t>(rates.size() / 2), rates.end());
    return std::max(kMinFeeRate, rates[rates.size() / 2]);
  }

  bool isInMempool(const std::vector<uint8_t>& txid) override {
    std::optional<Uint256> id = HashFrom(txid);
    return id && m_node.mempool().Contains(*id);
  }

  std::unique_ptr<ipc::Handler> handleNotifications(const std::shared_ptr<ipc::ChainNotifications>& notifications) override {
    if (!notifications) throw std::invalid_argument("handleNotifications: no notifications object");
    return m_node.notifications().Subscribe(notifications, "wallet #" + std::to_string(++m_subscriptions));
  }

  void logMessage(const std::string& message) override {
    MINICOIN_LOG_DEBUG(m_node.log(), LogCategory::kWallet, "%s", message.c_str());
  }

 private:
  Node& m_node;
  std::atomic<int> m_subscriptions{0};
};

}  // namespace

std::unique_ptr<ipc::Chain> MakeChain(Node& node) { return std::make_unique<ChainImpl>(node); }

}  // namespace minicoin
