// Tests of the mempool: acceptance rules, chains of unconfirmed transactions, block selection,
// blocks and reorganisations, listeners, concurrent use.
#include "crypto/key.h"
#include "mempool/mempool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

namespace minicoin {
namespace {

// What a listener saw.
class RecordingListener : public MempoolListener {
 public:
  void TransactionAdded(const MempoolEntry& entry) override {
    std::lock_guard lock(m_mutex);
    added.push_back(entry.txid);
  }
  void TransactionRemoved(const Transaction& tx, RemovalReason reason) override {
    std::lock_guard lock(m_mutex);
    removed.emplace_back(tx.Txid(), reason);
  }
  std::optional<RemovalReason> ReasonFor(const Uint256& txid) const {
    for (const auto& [id, reason] : removed) {
      if (id == txid) return reason;
    }
    return std::nullopt;
  }
  std::mutex m_mutex;
  std::vector<Uint256> added;
  std::vector<std::pair<Uint256, RemovalReason>> removed;
};

struct Fixture {
  explicit Fixture(std::size_t coin_count = 8) {
    for (uint32_t i = 0; i < coin_count; ++i) outpoints.push_back(AddChainCoin(10 * kCoin, 5, false));
  }
  OutPoint AddChainCoin(uint64_t amount, uint32_t height, bool coinbase) {
    OutPoint outpoint{Sha256(std::vector<uint8_t>{static_cast<uint8_t>(next_coin), static_cast<uint8_t>(next_coin >> 8)}),
                      next_coin % 3};
    ++next_coin;
    chain.Add(outpoint, Coin{TxOut{amount, key.PublicKey()}, height, coinbase});
    return outpoint;
  }
  // Spends `inputs` (all paying `key`) to outputs of `amounts`, signed.
  Transaction Spend(const std::vector<OutPoint>& inputs, const std::vector<uint64_t>& amounts) const {
    Transaction tx;
    for (const auto& outpoint : inputs) tx.inputs.push_back({outpoint, {}});
    for (uint64_t amount : amounts) tx.outputs.push_back({amount, key.PublicKey()});
    for (std::size_t i = 0; i < inputs.size(); ++i) tx.inputs[i].signature = key.Sign(tx.SignatureHash(i));
    return tx;
  }
  Mempool::AcceptResult Accept(Mempool& mempool, const Transaction& tx, uint32_t next_height = 10) {
    return mempool.Accept(tx, chain, next_height, pool);
  }

  PrivateKey key = PrivateKey::Derive(std::vector<uint8_t>{4, 2}, 0);
  MemoryCoins chain;
  std::vector<OutPoint> outpoints;
  uint32_t next_coin = 0;
  crossproc::WorkerPool pool{crossproc::WorkerPoolOptions{.threads = 2}};
};

std::vector<Uint256> TxidsOf(const std::vector<MempoolEntry>& entries) {
  std::vector<Uint256> txids;
  for (const auto& entry : entries) txids.push_back(entry.txid);
  return txids;
}

TEST(Mempool, AcceptsAValidSpendWithItsFee) {
  Fixture f;
  Mempool mempool(MempoolOptions{.clock = [] { return int64_t{1'700'000'000}; }});
  Transaction tx = f.Spend({f.outpoints[0]}, {9 * kCoin});
  auto result = f.Accept(mempool, tx);
  ASSERT_TRUE(result.accepted) << result.reason;
  EXPECT_EQ(result.txid, tx.Txid());
  EXPECT_EQ(result.fee, kCoin);
  ASSERT_TRUE(mempool.Contains(tx.Txid()));
  std::optional<MempoolEntry> entry = mempool.Get(tx.Txid());
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->tx, tx);
  EXPECT_EQ(entry->fee, kCoin);
  EXPECT_EQ(entry->size, tx.Encode().size());
  EXPECT_EQ(entry->time, 1'700'000'000);
  EXPECT_TRUE(entry->depends.empty());
  Mempool::Info info = mempool.GetInfo();
  EXPECT_EQ(info.size, 1u);
  EXPECT_EQ(info.bytes, tx.Encode().size());
  EXPECT_EQ(info.total_fee, kCoin);
  EXPECT_GT(info.usage, info.bytes);
  EXPECT_EQ(mempool.Txids(), std::vector<Uint256>{tx.Txid()});
  EXPECT_TRUE(mempool.IsSpent(f.outpoints[0]));
  EXPECT_FALSE(mempool.IsSpent(f.outpoints[1]));
  EXPECT_EQ(mempool.GetSpender(f.outpoints[0]), tx.Txid());
  ASSERT_TRUE(mempool.GetPoolCoin(OutPoint{tx.Txid(), 0}).has_value());
  EXPECT_EQ(mempool.GetPoolCoin(OutPoint{tx.Txid(), 0})->output.amount, 9 * kCoin);
  EXPECT_FALSE(mempool.GetPoolCoin(OutPoint{tx.Txid(), 1}).has_value());
}

TEST(Mempool, RejectsWithTheRuleBroken) {
  Fixture f;
  Mempool mempool;
  Transaction no_outputs = f.Spend({f.outpoints[0]}, {});
  EXPECT_EQ(f.Accept(mempool, no_outputs).reason, "transaction has no outputs");

  Transaction coinbase;
  coinbase.inputs.push_back({OutPoint{Uint256(), 0xffffffffu}, {}});
  coinbase.outputs.push_back({kCoin, f.key.PublicKey()});
  EXPECT_EQ(f.Accept(mempool, coinbase).reason, kRejectCoinbase);

  Transaction unknown = f.Spend({OutPoint{Sha256(std::vector<uint8_t>{99}), 0}}, {kCoin});
  EXPECT_EQ(f.Accept(mempool, unknown).reason, kRejectMissingInputs);

  Transaction spent_in_chain = f.Spend({f.outpoints[1]}, {kCoin});
  f.chain.Spend(f.outpoints[1]);
  EXPECT_EQ(f.Accept(mempool, spent_in_chain).reason, kRejectMissingInputs);

  Transaction bad_signature = f.Spend({f.outpoints[2]}, {kCoin});
  bad_signature.inputs[0].signature[7] ^= 1;
  EXPECT_EQ(f.Accept(mempool, bad_signature).reason, "input 0 has an invalid signature");

  Transaction too_much = f.Spend({f.outpoints[2]}, {11 * kCoin});
  EXPECT_EQ(f.Accept(mempool, too_much).reason, "outputs exceed inputs");

  OutPoint coinbase_coin = f.AddChainCoin(50 * kCoin, 50, true);
  Transaction immature = f.Spend({coinbase_coin}, {kCoin});
  EXPECT_EQ(f.Accept(mempool, immature, 149).reason, "input 0 spends an immature coinbase");
  EXPECT_TRUE(f.Accept(mempool, immature, 150).accepted);

  Transaction valid = f.Spend({f.outpoints[3]}, {kCoin});
  EXPECT_TRUE(f.Accept(mempool, valid).accepted);
  EXPECT_EQ(f.Accept(mempool, valid).reason, kRejectAlreadyInPool);
  Transaction double_spend = f.Spend({f.outpoints[4], f.outpoints[3]}, {2 * kCoin});
  EXPECT_EQ(f.Accept(mempool, double_spend).reason, kRejectConflict);
  EXPECT_FALSE(mempool.IsSpent(f.outpoints[4]));

  Transaction bad_index = f.Spend({OutPoint{valid.Txid(), 1}}, {kCoin / 2});
  EXPECT_EQ(f.Accept(mempool, bad_index).reason, kRejectMissingInputs);
  EXPECT_EQ(mempool.GetInfo().size, 2u);
}

// The node's default minimum: 1000 units per 1000 bytes, so a fee of one unit per byte.
TEST(Mempool, AFeeAtTheMinimumRateIsAcceptedAndOneUnitLessIsNot) {
  Fixture f;
  Mempool mempool(MempoolOptions{.min_fee_per_kb = 1000});
  const std::size_t size = f.Spend({f.outpoints[0]}, {kCoin}).Encode().size();
  Transaction short_by_one = f.Spend({f.outpoints[0]}, {10 * kCoin - (size - 1)});
  ASSERT_EQ(short_by_one.Encode().size(), size);
  EXPECT_EQ(f.Accept(mempool, short_by_one).reason, kRejectMinFee);
  Transaction at_limit = f.Spend({f.outpoints[0]}, {10 * kCoin - size});
  Mempool::AcceptResult result = f.Accept(mempool, at_limit);
  EXPECT_TRUE(result.accepted) << result.reason;
  EXPECT_EQ(result.fee, size);
}

TEST(Mempool, FeeRateSizeAndChainLimits) {
  Fixture f;
  Mempool mempool(MempoolOptions{.min_fee_per_kb = 100'000, .max_ancestors = 3, .max_tx_bytes = 400});
  Transaction cheap = f.Spend({f.outpoints[0]}, {10 * kCoin - 100});
  ASSERT_LT(cheap.Encode().size(), 1000u);
  EXPECT_EQ(f.Accept(mempool, cheap).reason, kRejectMinFee);
  Transaction paying = f.Spend({f.outpoints[0]}, {10 * kCoin - 100'000});
  EXPECT_TRUE(f.Accept(mempool, paying).accepted);

  Transaction large = f.Spend({f.outpoints[1], f.outpoints[2], f.outpoints[3], f.outpoints[4]}, {kCoin});
  ASSERT_GT(large.Encode().size(), 400u);
  EXPECT_EQ(f.Accept(mempool, large).reason, kRejectTooLarge);

  // paying <- second <- third is three with ancestors; a fourth is one too many.
  Transaction second = f.Spend({OutPoint{paying.Txid(), 0}}, {9 * kCoin});
  Transaction third = f.Spend({OutPoint{second.Txid(), 0}}, {8 * kCoin});
  Transaction fourth = f.Spend({OutPoint{third.Txid(), 0}}, {7 * kCoin});
  EXPECT_TRUE(f.Accept(mempool, second).accepted);
  EXPECT_TRUE(f.Accept(mempool, third).accepted);
  EXPECT_EQ(f.Accept(mempool, fourth).reason, kRejectTooManyAncestors);
}

TEST(Mempool, DescendantLimit) {
  Fixture f;
  Mempool mempool(MempoolOptions{.max_descendants = 3});
  Transaction parent = f.Spend({f.outpoints[0]}, {kCoin, kCoin, kCoin, kCoin});
  ASSERT_TRUE(f.Accept(mempool, parent).accepted);
  EXPECT_TRUE(f.Accept(mempool, f.Spend({OutPoint{parent.Txid(), 0}}, {kCoin / 2})).accepted);
  EXPECT_TRUE(f.Accept(mempool, f.Spend({OutPoint{parent.Txid(), 1}}, {kCoin / 2})).accepted);
  EXPECT_EQ(f.Accept(mempool, f.Spend({OutPoint{parent.Txid(), 2}}, {kCoin / 2})).reason, kRejectTooManyAncestors);
}

TEST(Mempool, ChainedUnconfirmedSpends) {
  Fixture f;
  Mempool mempool;
  Transaction parent = f.Spend({f.outpoints[0]}, {9 * kCoin});
  Transaction child = f.Spend({OutPoint{parent.Txid(), 0}, f.outpoints[1]}, {18 * kCoin});
  EXPECT_EQ(f.Accept(mempool, child).reason, kRejectMissingInputs);  // parent not known yet
  ASSERT_TRUE(f.Accept(mempool, parent).accepted);
  auto result = f.Accept(mempool, child);
  ASSERT_TRUE(result.accepted) << result.reason;
  EXPECT_EQ(result.fee, kCoin);
  EXPECT_EQ(mempool.Get(child.Txid())->depends, std::vector<Uint256>{parent.Txid()});
  EXPECT_EQ(TxidsOf(mempool.Entries()), (std::vector<Uint256>{parent.Txid(), child.Txid()}));
  // The child pays a high rate: it comes first among ancestor packages, its parent before it.
  Transaction other = f.Spend({f.outpoints[2]}, {10 * kCoin - 1000});
  ASSERT_TRUE(f.Accept(mempool, other).accepted);
  EXPECT_EQ(TxidsOf(mempool.SelectForBlock(1'000'000)),
            (std::vector<Uint256>{parent.Txid(), child.Txid(), other.Txid()}));
  // The pool's view: the parent's output is spent by the child, the child's output is there.
  MempoolCoinsView view(f.chain, mempool);
  EXPECT_FALSE(view.Get(OutPoint{parent.Txid(), 0}).has_value());
  EXPECT_FALSE(view.Get(f.outpoints[0]).has_value());
  ASSERT_TRUE(view.Get(OutPoint{child.Txid(), 0}).has_value());
  EXPECT_EQ(view.Get(OutPoint{child.Txid(), 0})->height, kMempoolHeight);
  EXPECT_TRUE(view.Get(f.outpoints[3]).has_value());
}

TEST(Mempool, SelectionByFeeRateWithinTheSizeLimit) {
  Fixture f;
  Mempool mempool;
  Transaction low = f.Spend({f.outpoints[0]}, {10 * kCoin - 1000});
  Transaction high = f.Spend({f.outpoints[1]}, {10 * kCoin - 9000});
  Transaction middle = f.Spend({f.outpoints[2]}, {10 * kCoin - 5000});
  // A poor parent whose child pays for both: 100 + 20000 over two transactions beats 9000.
  Transaction poor_parent = f.Spend({f.outpoints[3]}, {10 * kCoin - 100});
  Transaction rich_child = f.Spend({OutPoint{poor_parent.Txid(), 0}}, {10 * kCoin - 20'100});
  for (const auto* tx : {&low, &high, &middle, &poor_parent, &rich_child}) ASSERT_TRUE(f.Accept(mempool, *tx).accepted);
  std::vector<MempoolEntry> all = mempool.SelectForBlock(1'000'000);
  EXPECT_EQ(TxidsOf(all), (std::vector<Uint256>{poor_parent.Txid(), rich_child.Txid(), high.Txid(), middle.Txid(),
                                                low.Txid()}));
  const std::size_t size = low.Encode().size();  // all have one input and one output
  std::vector<MempoolEntry> three = mempool.SelectForBlock(3 * size + size / 2);
  EXPECT_EQ(TxidsOf(three), (std::vector<Uint256>{poor_parent.Txid(), rich_child.Txid(), high.Txid()}));
  std::size_t total = 0;
  for (const auto& entry : three) total += entry.size;
  EXPECT_LE(total, 3 * size + size / 2);
  // Room for one: the package of two does not fit, the best single transaction does.
  EXPECT_EQ(TxidsOf(mempool.SelectForBlock(size)), std::vector<Uint256>{high.Txid()});
  EXPECT_EQ(TxidsOf(mempool.SelectForBlock(1'000'000, 2)), (std::vector<Uint256>{poor_parent.Txid(), rich_child.Txid()}));
  EXPECT_TRUE(mempool.SelectForBlock(size - 1).empty());
}

TEST(Mempool, FullPoolEvictsLowerFeeRatesOrRefuses) {
  Fixture f;
  const std::size_t size = f.Spend({f.outpoints[0]}, {kCoin}).Encode().size();
  Mempool mempool(MempoolOptions{.max_bytes = 2 * size});
  RecordingListener listener;
  mempool.AddListener(&listener);
  Transaction low = f.Spend({f.outpoints[0]}, {10 * kCoin - 1000});
  Transaction middle = f.Spend({f.outpoints[1]}, {10 * kCoin - 5000});
  ASSERT_TRUE(f.Accept(mempool, low).accepted);
  ASSERT_TRUE(f.Accept(mempool, middle).accepted);
  Transaction lowest = f.Spend({f.outpoints[2]}, {10 * kCoin - 500});
  EXPECT_EQ(f.Accept(mempool, lowest).reason, kRejectPoolFull);
  Transaction high = f.Spend({f.outpoints[3]}, {10 * kCoin - 9000});
  ASSERT_TRUE(f.Accept(mempool, high).accepted);
  EXPECT_FALSE(mempool.Contains(low.Txid()));
  EXPECT_TRUE(mempool.Contains(middle.Txid()));
  EXPECT_EQ(listener.ReasonFor(low.Txid()), RemovalReason::kSizeLimit);
  EXPECT_LE(mempool.GetInfo().bytes, 2 * size);
  mempool.RemoveListener(&listener);
}

TEST(Mempool, EvictionKeepsAPoorParentWithARichChild) {
  Fixture f;
  const std::size_t size = f.Spend({f.outpoints[0]}, {kCoin}).Encode().size();
  Mempool mempool(MempoolOptions{.max_bytes = 3 * size});
  Transaction poor_parent = f.Spend({f.outpoints[0]}, {10 * kCoin - 100});
  Transaction rich_child = f.Spend({OutPoint{poor_parent.Txid(), 0}}, {10 * kCoin - 20'100});
  Transaction middle = f.Spend({f.outpoints[1]}, {10 * kCoin - 5000});
  for (const auto* tx : {&poor_parent, &rich_child, &middle}) ASSERT_TRUE(f.Accept(mempool, *tx).accepted);
  // 6000 beats the middle transaction's 5000, not the pair's 20100 over two.
  Transaction newcomer = f.Spend({f.outpoints[2]}, {10 * kCoin - 6000});
  ASSERT_TRUE(f.Accept(mempool, newcomer).accepted);
  EXPECT_TRUE(mempool.Contains(poor_parent.Txid()));
  EXPECT_TRUE(mempool.Contains(rich_child.Txid()));
  EXPECT_FALSE(mempool.Contains(middle.Txid()));
  // A child of the pool's poorest package cannot make room by evicting its own parent.
  Transaction greedy_grandchild = f.Spend({OutPoint{rich_child.Txid(), 0}}, {10 * kCoin - 50'100});
  EXPECT_TRUE(f.Accept(mempool, greedy_grandchild).accepted);
  EXPECT_TRUE(mempool.Contains(rich_child.Txid()));
  EXPECT_FALSE(mempool.Contains(newcomer.Txid()));
  EXPECT_LE(mempool.GetInfo().bytes, 3 * size);
}

TEST(Mempool, ReorganizedTrimsToTheSizeLimit) {
  Fixture f;
  const std::size_t size = f.Spend({f.outpoints[0]}, {kCoin}).Encode().size();
  Mempool mempool(MempoolOptions{.max_bytes = size});
  RecordingListener listener;
  mempool.AddListener(&listener);
  Transaction rich = f.Spend({f.outpoints[1]}, {10 * kCoin - 9000});
  ASSERT_TRUE(f.Accept(mempool, rich).accepted);
  Transaction confirmed = f.Spend({f.outpoints[0]}, {10 * kCoin - 1000});  // from a disconnected block
  mempool.Reorganized({confirmed}, f.chain, 10, f.pool);
  EXPECT_EQ(TxidsOf(mempool.Entries()), std::vector<Uint256>{rich.Txid()});
  EXPECT_EQ(listener.added.size(), 2u);
  EXPECT_EQ(listener.ReasonFor(confirmed.Txid()), RemovalReason::kSizeLimit);
  mempool.RemoveListener(&listener);
}

TEST(Mempool, RemoveForBlockDropsConfirmedAndConflicting) {
  Fixture f;
  Mempool mempool;
  RecordingListener listener;
  mempool.AddListener(&listener);
  Transaction a = f.Spend({f.outpoints[0]}, {9 * kCoin});
  Transaction b = f.Spend({OutPoint{a.Txid(), 0}}, {8 * kCoin});
  Transaction c = f.Spend({f.outpoints[1]}, {9 * kCoin});
  Transaction d = f.Spend({OutPoint{c.Txid(), 0}}, {8 * kCoin});
  Transaction e = f.Spend({OutPoint{d.Txid(), 0}}, {7 * kCoin});
  Transaction unrelated = f.Spend({f.outpoints[2]}, {9 * kCoin});
  for (const auto* tx : {&a, &b, &c, &d, &e, &unrelated}) ASSERT_TRUE(f.Accept(mempool, *tx).accepted);
  ASSERT_EQ(listener.added.size(), 6u);

  Block block;
  block.transactions.push_back(Transaction{1, {{OutPoint{Uint256(), 0xffffffffu}, {}}}, {{50 * kCoin, f.key.PublicKey()}}, 10});
  block.transactions.push_back(a);
  block.transactions.push_back(f.Spend({f.outpoints[1]}, {5 * kCoin}));  // double-spends c
  mempool.RemoveForBlock(block);

  EXPECT_EQ(TxidsOf(mempool.Entries()), (std::vector<Uint256>{b.Txid(), unrelated.Txid()}));
  EXPECT_TRUE(mempool.Get(b.Txid())->depends.empty());
  EXPECT_EQ(listener.ReasonFor(a.Txid()), RemovalReason::kBlock);
  EXPECT_EQ(listener.ReasonFor(c.Txid()), RemovalReason::kConflict);
  EXPECT_EQ(listener.ReasonFor(d.Txid()), RemovalReason::kConflict);
  EXPECT_EQ(listener.ReasonFor(e.Txid()), RemovalReason::kConflict);
  EXPECT_EQ(listener.removed.size(), 4u);
  EXPECT_FALSE(mempool.IsSpent(f.outpoints[1]));
  EXPECT_EQ(mempool.GetInfo().bytes, b.Encode().size() + unrelated.Encode().size());
  EXPECT_EQ(mempool.GetInfo().total_fee, 2 * kCoin);
  mempool.RemoveListener(&listener);
}

// After a reorganisation the node passes the lock-time rule of the new tip: transactions it
// no longer lets into the next block leave the pool (with their descendants), and disconnected
// ones it refuses are not re-added.
TEST(Mempool, ReorganizedDropsWhatIsNoLongerFinal) {
  Fixture f(3);
  Mempool mempool;
  Transaction kept = f.Spend({f.outpoints[0]}, {9 * kCoin});
  Transaction locked = f.Spend({f.outpoints[1]}, {9 * kCoin});
  Transaction child = f.Spend({OutPoint{locked.Txid(), 0}}, {8 * kCoin});
  ASSERT_TRUE(f.Accept(mempool, kept).accepted);
  ASSERT_TRUE(f.Accept(mempool, locked).accepted);
  ASSERT_TRUE(f.Accept(mempool, child).accepted);
  Transaction disconnected = f.Spend({f.outpoints[2]}, {9 * kCoin});
  auto is_final = [&](const Transaction& tx) { return tx.Txid() != locked.Txid() && tx.Txid() != disconnected.Txid(); };
  mempool.Reorganized({disconnected}, f.chain, 11, f.pool, is_final);
  EXPECT_TRUE(mempool.Contains(kept.Txid()));
  EXPECT_FALSE(mempool.Contains(locked.Txid()));
  EXPECT_FALSE(mempool.Contains(child.Txid()));
  EXPECT_FALSE(mempool.Contains(disconnected.Txid()));
  // Without the rule nothing is dropped for it.
  mempool.Reorganized({disconnected}, f.chain, 11, f.pool);
  EXPECT_TRUE(mempool.Contains(disconnected.Txid()));
}

TEST(Mempool, ReorganizedReaddsAndDropsWhatFails) {
  Fixture f(2);
  Mempool mempool;
  RecordingListener listener;
  mempool.AddListener(&listener);
  // The old chain, tip 200: block 200 held coinbase `cb` and `t`, which spent coin 0.
  Transaction cb{1, {{OutPoint{Uint256(), 0xffffffffu}, {}}}, {{50 * kCoin, f.key.PublicKey()}}, 200};
  Transaction t = f.Spend({f.outpoints[0]}, {9 * kCoin});
  OutPoint old_coinbase = f.AddChainCoin(50 * kCoin, 101, true);  // mature at 201, not at 200
  f.chain.Spend(f.outpoints[0]);
  f.chain.Add(OutPoint{t.Txid(), 0}, Coin{t.outputs[0], 200, false});
  f.chain.Add(OutPoint{cb.Txid(), 0}, Coin{cb.outputs[0], 200, true});
  Transaction p = f.Spend({OutPoint{t.Txid(), 0}}, {8 * kCoin});        // child of t
  Transaction q = f.Spend({old_coinbase}, {49 * kCoin});                 // matures at 201
  Transaction r = f.Spend({OutPoint{cb.Txid(), 0}}, {1 * kCoin});        // immature anyway at 201
  Transaction r_child = f.Spend({OutPoint{p.Txid(), 0}}, {7 * kCoin});
  ASSERT_TRUE(f.Accept(mempool, p, 201).accepted);
  ASSERT_TRUE(f.Accept(mempool, q, 201).accepted);
  ASSERT_TRUE(f.Accept(mempool, r_child, 201).accepted);
  EXPECT_EQ(f.Accept(mempool, r, 201).reason, "input 0 spends an immature coinbase");
  Transaction s = f.Spend({f.outpoints[1]}, {9 * kCoin});
  ASSERT_TRUE(f.Accept(mempool, s, 201).accepted);

  // Block 200 is disconnected (tip 199): its coins are undone, coin 0 is back.
  f.chain.Spend(OutPoint{t.Txid(), 0});
  f.chain.Spend(OutPoint{cb.Txid(), 0});
  f.chain.Add(f.outpoints[0], Coin{TxOut{10 * kCoin, f.key.PublicKey()}, 5, false});
  Transaction invalid = f.Spend({OutPoint{Sha256(std::vector<uint8_t>{42}), 0}}, {kCoin});
  mempool.Reorganized({cb, t, invalid}, f.chain, 200, f.pool);

  EXPECT_TRUE(mempool.Contains(t.Txid()));
  EXPECT_TRUE(mempool.Contains(p.Txid()));
  EXPECT_TRUE(mempool.Contains(r_child.Txid()));
  EXPECT_TRUE(mempool.Contains(s.Txid()));
  EXPECT_FALSE(mempool.Contains(q.Txid()));
  EXPECT_FALSE(mempool.Contains(cb.Txid()));
  EXPECT_FALSE(mempool.Contains(invalid.Txid()));
  EXPECT_EQ(listener.ReasonFor(q.Txid()), RemovalReason::kReorg);
  EXPECT_EQ(mempool.Get(p.Txid())->depends, std::vector<Uint256>{t.Txid()});
  std::vector<Uint256> order = TxidsOf(mempool.Entries());
  auto position = [&](const Uint256& txid) { return std::find(order.begin(), order.end(), txid) - order.begin(); };
  EXPECT_LT(position(t.Txid()), position(p.Txid()));
  EXPECT_LT(position(p.Txid()), position(r_child.Txid()));
  std::vector<Uint256> selected = TxidsOf(mempool.SelectForBlock(1'000'000));
  ASSERT_EQ(selected.size(), 4u);
  auto selected_position = [&](const Uint256& txid) {
    return std::find(selected.begin(), selected.end(), txid) - selected.begin();
  };
  EXPECT_LT(selected_position(t.Txid()), selected_position(p.Txid()));
  EXPECT_LT(selected_position(p.Txid()), selected_position(r_child.Txid()));

  // A transaction whose input vanished in a reorganisation goes, with its descendants.
  f.chain.Spend(f.outpoints[0]);
  mempool.Reorganized({}, f.chain, 200, f.pool);
  EXPECT_EQ(TxidsOf(mempool.Entries()), std::vector<Uint256>{s.Txid()});
  EXPECT_EQ(listener.ReasonFor(r_child.Txid()), RemovalReason::kReorg);
  mempool.RemoveListener(&listener);
}

// Calls back into the pool from its callbacks, and stops hearing once removed.
class ReentrantListener : public MempoolListener {
 public:
  explicit ReentrantListener(Mempool& mempool) : m_mempool(mempool) {}
  void TransactionAdded(const MempoolEntry& entry) override {
    seen_in_pool = m_mempool.Contains(entry.txid);
    ++calls;
  }
  void TransactionRemoved(const Transaction&, RemovalReason) override { ++calls; }
  Mempool& m_mempool;
  bool seen_in_pool = false;
  int calls = 0;
};

TEST(Mempool, ListenersMayCallThePoolAndCanBeRemoved) {
  Fixture f;
  Mempool mempool(MempoolOptions{.clock = [] { return int64_t{1000}; }});
  ReentrantListener reentrant(mempool);
  RecordingListener recording;
  mempool.AddListener(&reentrant);
  mempool.AddListener(&recording);
  Transaction tx = f.Spend({f.outpoints[0]}, {9 * kCoin});
  ASSERT_TRUE(f.Accept(mempool, tx).accepted);
  EXPECT_TRUE(reentrant.seen_in_pool);
  EXPECT_EQ(reentrant.calls, 1);
  EXPECT_EQ(recording.added, std::vector<Uint256>{tx.Txid()});
  mempool.RemoveListener(&reentrant);
  Transaction child = f.Spend({OutPoint{tx.Txid(), 0}}, {8 * kCoin});
  ASSERT_TRUE(f.Accept(mempool, child).accepted);
  EXPECT_EQ(reentrant.calls, 1);
  EXPECT_EQ(recording.added.size(), 2u);
  // Expiry takes the descendants along.
  EXPECT_EQ(mempool.Expire(999), 0u);
  EXPECT_EQ(mempool.Expire(1000), 0u);  // added at the cut-off: kept
  EXPECT_EQ(mempool.Expire(1001), 2u);
  EXPECT_EQ(recording.removed.size(), 2u);
  EXPECT_EQ(recording.ReasonFor(tx.Txid()), RemovalReason::kExpiry);
  EXPECT_EQ(recording.ReasonFor(child.Txid()), RemovalReason::kExpiry);
  EXPECT_EQ(mempool.GetInfo().size, 0u);
  EXPECT_EQ(mempool.GetInfo().bytes, 0u);
  mempool.RemoveListener(&recording);
  EXPECT_STREQ(RemovalReasonName(RemovalReason::kConflict), "conflict");
}

TEST(Mempool, ConcurrentAcceptsKeepThePoolConsistent) {
  constexpr std::size_t kThreads = 4;
  constexpr std::size_t kPerThread = 12;
  Fixture f(kThreads * kPerThread + 1);
  Mempool mempool;
  RecordingListener listener;
  mempool.AddListener(&listener);
  // Every thread also tries its own spend of one shared coin: exactly one wins.
  std::vector<Transaction> contested;
  for (std::size_t t = 0; t < kThreads; ++t) contested.push_back(f.Spend({f.outpoints.back()}, {kCoin + t}));
  std::vector<Transaction> own;
  for (std::size_t i = 0; i < kThreads * kPerThread; ++i) own.push_back(f.Spend({f.outpoints[i]}, {9 * kCoin}));
  std::atomic<int> contested_wins{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = 0; i < kPerThread; ++i) {
        if (!mempool.Accept(own[t * kPerThread + i], f.chain, 10, f.pool).accepted) ++failures;
        if (i == kPerThread / 2) {
          auto result = mempool.Accept(contested[t], f.chain, 10, f.pool);
          if (result.accepted) {
            ++contested_wins;
          } else if (result.reason != kRejectConflict) {
            ++failures;
          }
        }
        (void)mempool.SelectForBlock(100'000);
        (void)mempool.GetInfo();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(contested_wins.load(), 1);
  Mempool::Info info = mempool.GetInfo();
  EXPECT_EQ(info.size, kThreads * kPerThread + 1);
  std::size_t bytes = 0;
  for (const auto& entry : mempool.Entries()) bytes += entry.size;
  EXPECT_EQ(info.bytes, bytes);
  EXPECT_EQ(listener.added.size(), info.size);
  mempool.RemoveListener(&listener);
}

// Counts the calls made after its owner said it was gone (sanitizers also catch them: the
// listener is destroyed right after).
class GuardedListener : public MempoolListener {
 public:
  void TransactionAdded(const MempoolEntry&) override { Called(); }
  void TransactionRemoved(const Transaction&, RemovalReason) override { Called(); }
  void Called() {
    if (gone.load()) ++late_calls;
  }
  std::atomic<bool> gone{false};
  std::atomic<int> late_calls{0};
};

TEST(Mempool, NoCallAfterRemoveListenerReturns) {
  constexpr std::size_t kTransactions = 60;
  Fixture f(kTransactions);
  Mempool mempool;
  std::vector<Transaction> txs;
  for (const auto& outpoint : f.outpoints) txs.push_back(f.Spend({outpoint}, {9 * kCoin}));
  std::atomic<bool> done{false};
  std::thread acceptor([&] {
    for (const auto& tx : txs) (void)mempool.Accept(tx, f.chain, 10, f.pool);
    done = true;
  });
  int rounds = 0;
  while (!done.load() || rounds < 3) {
    GuardedListener listener;
    mempool.AddListener(&listener);
    std::this_thread::yield();
    mempool.RemoveListener(&listener);
    listener.gone = true;
    EXPECT_EQ(listener.late_calls.load(), 0);
    ++rounds;
  }
  acceptor.join();
  EXPECT_EQ(mempool.GetInfo().size, kTransactions);
  EXPECT_GE(rounds, 3);
}

TEST(Mempool, DetailsCountAncestorsDescendantsAndSpenders) {
  Fixture f;
  Mempool mempool;
  Transaction parent = f.Spend({f.outpoints[0]}, {4 * kCoin, 5 * kCoin});              // fee 1
  Transaction child = f.Spend({OutPoint{parent.Txid(), 0}}, {3 * kCoin});               // fee 1
  Transaction sibling = f.Spend({OutPoint{parent.Txid(), 1}, f.outpoints[1]}, {14 * kCoin});  // fee 1
  ASSERT_TRUE(f.Accept(mempool, parent, 42).accepted);
  ASSERT_TRUE(f.Accept(mempool, child).accepted);
  ASSERT_TRUE(f.Accept(mempool, sibling).accepted);
  EXPECT_EQ(mempool.GetDetails(Sha256(std::vector<uint8_t>{1})), std::nullopt);

  std::optional<Mempool::EntryDetails> top = mempool.GetDetails(parent.Txid());
  ASSERT_TRUE(top.has_value());
  EXPECT_EQ(top->entry.height, 41u);  // the chain's height when it entered: the next block's minus one
  EXPECT_EQ(top->ancestor_count, 1u);
  EXPECT_EQ(top->ancestor_fee, kCoin);
  EXPECT_EQ(top->descendant_count, 3u);
  EXPECT_EQ(top->descendant_fee, 3 * kCoin);
  EXPECT_EQ(top->descendant_size, parent.Encode().size() + child.Encode().size() + sibling.Encode().size());
  std::vector<Uint256> spenders{child.Txid(), sibling.Txid()};
  std::sort(spenders.begin(), spenders.end());
  EXPECT_EQ(top->spent_by, spenders);

  std::optional<Mempool::EntryDetails> below = mempool.GetDetails(sibling.Txid());
  ASSERT_TRUE(below.has_value());
  EXPECT_EQ(below->ancestor_count, 2u);
  EXPECT_EQ(below->ancestor_size, parent.Encode().size() + sibling.Encode().size());
  EXPECT_EQ(below->ancestor_fee, 2 * kCoin);
  EXPECT_EQ(below->descendant_count, 1u);
  EXPECT_TRUE(below->spent_by.empty());
  EXPECT_EQ(below->entry.depends, std::vector<Uint256>{parent.Txid()});

  std::vector<Mempool::EntryDetails> all = mempool.AllDetails();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].entry.txid, parent.Txid());  // parents first
}

TEST(Mempool, TestAcceptChecksWithoutAdding) {
  Fixture f;
  Mempool mempool;
  RecordingListener listener;
  mempool.AddListener(&listener);
  Transaction good = f.Spend({f.outpoints[0]}, {9 * kCoin});
  std::vector<Mempool::AcceptResult> results = mempool.TestAccept({good}, f.chain, 10, f.pool);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].accepted) << results[0].reason;
  EXPECT_EQ(results[0].txid, good.Txid());
  EXPECT_EQ(results[0].fee, kCoin);
  EXPECT_FALSE(mempool.Contains(good.Txid()));
  EXPECT_TRUE(listener.added.empty());

  // A parent and its child pass together; the child alone does not.
  Transaction child = f.Spend({OutPoint{good.Txid(), 0}}, {8 * kCoin});
  results = mempool.TestAccept({good, child}, f.chain, 10, f.pool);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].accepted);
  EXPECT_TRUE(results[1].accepted) << results[1].reason;
  EXPECT_EQ(mempool.TestAccept({child}, f.chain, 10, f.pool).at(0).reason, kRejectMissingInputs);

  // Checking stops at the first refused transaction.
  Transaction bad_signature = f.Spend({f.outpoints[1]}, {9 * kCoin});
  bad_signature.inputs[0].signature[5] ^= 1;
  results = mempool.TestAccept({bad_signature, child, good}, f.chain, 10, f.pool);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].accepted);
  EXPECT_NE(results[0].reason.find("signature"), std::string::npos) << results[0].reason;

  // Two spends of one output, and the same transaction twice.
  Transaction rival = f.Spend({f.outpoints[0]}, {7 * kCoin});
  results = mempool.TestAccept({good, rival}, f.chain, 10, f.pool);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].reason, kRejectPackageConflict);
  results = mempool.TestAccept({good, good}, f.chain, 10, f.pool);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[1].reason, kRejectPackageDuplicate);

  // Against the pool: already there, and in conflict with it.
  ASSERT_TRUE(f.Accept(mempool, good).accepted);
  EXPECT_EQ(mempool.TestAccept({good}, f.chain, 10, f.pool).at(0).reason, kRejectAlreadyInPool);
  EXPECT_EQ(mempool.TestAccept({rival}, f.chain, 10, f.pool).at(0).reason, kRejectConflict);
  EXPECT_TRUE(mempool.TestAccept({child}, f.chain, 10, f.pool).at(0).accepted);
  EXPECT_EQ(mempool.Txids(), std::vector<Uint256>{good.Txid()});
  mempool.RemoveListener(&listener);
}

TEST(Mempool, TestAcceptCountsThePackageTowardsTheChainLimits) {
  Fixture f;
  Mempool mempool(MempoolOptions{.max_ancestors = 3});
  Transaction first = f.Spend({f.outpoints[0]}, {9 * kCoin});
  Transaction second = f.Spend({OutPoint{first.Txid(), 0}}, {8 * kCoin});
  Transaction third = f.Spend({OutPoint{second.Txid(), 0}}, {7 * kCoin});
  Transaction fourth = f.Spend({OutPoint{third.Txid(), 0}}, {6 * kCoin});
  ASSERT_TRUE(f.Accept(mempool, first).accepted);
  std::vector<Mempool::AcceptResult> results = mempool.TestAccept({second, third, fourth}, f.chain, 10, f.pool);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].accepted);
  EXPECT_TRUE(results[1].accepted);
  EXPECT_EQ(results[2].reason, kRejectTooManyAncestors);
}

}  // namespace
}  // namespace minicoin
