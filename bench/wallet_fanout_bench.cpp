// minicoin-fanout-bench: how long a block notification takes to reach every wallet process, sent
// by minicoin-node's NotificationHub (a queue and a thread per subscriber: all the calls in flight
// together) against a loop that calls each subscriber in turn.
//
// The subscribers are N child processes (this executable again, with --subscriber and -ipcfd)
// that subscribe the way a wallet process does: the parent hands each a Chain through
// Init.makeWalletLoader, and the child registers an ipc::ChainNotifications with
// Chain.handleNotifications. Each notification decodes the block, reads every output and then
// works for --handle-us microseconds (sleeping: a wallet writing its database). They are not full
// wallets so that what is timed is the delivery, not SQLite and the wallet's catch-up. Latency is
// from the event being published (or the loop starting) until every subscriber has returned from
// its blockConnected; medians over --reps blocks, for 1, 4 and 16 subscribers, with 0 and 1000 us
// of handling, and the ratio one-by-one / hub.
//
//   minicoin-fanout-bench [--quick] [--reps N] [--json FILE]
#include "chain.crossproc.h"
#include "chain/chain_state.h"
#include "chain/params.h"
#include "common/logging.h"
#include "ipc/partial_init.h"
#include "node/notifications.h"
#include "wallet.crossproc.h"

#include <crossproc/process.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using minicoin::ipc::ChainNotifications;

crossproc::ConnectionOptions QuietConnection() {
  crossproc::ConnectionOptions options;
  options.log = [](crossproc::LogLevel level, const std::string& line) {
    if (level == crossproc::LogLevel::kError) crossproc::LogToStderr(level, line);
  };
  return options;
}

// --- the subscriber process ---

// A wallet's notification receiver, reduced to decoding the block and `handle_us` of work.
// Thread-safe (the node sends one call at a time anyway).
class Receiver final : public ChainNotifications {
 public:
  explicit Receiver(uint32_t handle_us) : m_handle_us(handle_us) {}
  void blockConnected(const std::vector<uint8_t>& bytes, uint32_t) override {
    minicoin::Block block = minicoin::Block::Decode(bytes);
    uint64_t total = 0;
    for (const auto& tx : block.transactions) {
      for (const auto& output : tx.outputs) total += output.amount;
    }
    m_seen.fetch_add(total == 0 ? 0 : 1);
    if (m_handle_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(m_handle_us));
  }
  void blockDisconnected(const std::vector<uint8_t>&, uint32_t) override {}
  void transactionAddedToMempool(const std::vector<uint8_t>&) override {}
  void transactionRemovedFromMempool(const std::vector<uint8_t>&, const std::string&) override {}
  void updatedBlockTip(const minicoin::ipc::BlockRef&) override {}

 private:
  const uint32_t m_handle_us;
  std::atomic<uint64_t> m_seen{0};
};

// What makeWalletLoader returns: a loader without wallets.
class NoWallets final : public minicoin::ipc::WalletLoader {
 public:
  std::unique_ptr<minicoin::ipc::Wallet> createWallet(const std::string&, const std::string&) override { Refuse(); }
  std::unique_ptr<minicoin::ipc::Wallet> loadWallet(const std::string&) override { Refuse(); }
  void unloadWallet(const std::string&) override { Refuse(); }
  std::unique_ptr<minicoin::ipc::Wallet> getWallet(const std::string&) override { return nullptr; }
  std::vector<std::string> listWallets() override { return {}; }
  std::vector<std::string> listWalletDir() override { return {}; }
  void shutdown() override {}

 private:
  [[noreturn]] static void Refuse() { throw std::runtime_error("the fan-out bench subscriber has no wallets"); }
};

// The child's Init: makeWalletLoader subscribes a Receiver to the chain it is given.
class SubscriberInit final : public minicoin::ipc::PartialInit {
 public:
  explicit SubscriberInit(uint32_t handle_us) : PartialInit("minicoin-fanout-bench"), m_handle_us(handle_us) {}
  ~SubscriberInit() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_handlers.clear();
  }
  std::unique_ptr<minicoin::ipc::WalletLoader> makeWalletLoader(const std::shared_ptr<minicoin::ipc::Chain>& chain) override {
    auto handler = chain->handleNotifications(std::make_shared<Receiver>(m_handle_us));
    std::lock_guard<std::mutex> lock(m_mutex);
    m_handlers.push_back(std::move(handler));
    return std::make_unique<NoWallets>();
  }

 private:
  const uint32_t m_handle_us;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<minicoin::ipc::Handler>> m_handlers;  // guarded by m_mutex
};

// --- the parent ---

class NoOpHandler final : public minicoin::ipc::Handler {
 public:
  void disconnect() override {}
};

// A Chain that only takes subscriptions: it keeps the subscriber's ChainNotifications.
class SubscriptionChain final : public minicoin::ipc::Chain {
 public:
  std::unique_ptr<minicoin::ipc::Handler> handleNotifications(const std::shared_ptr<ChainNotifications>& target) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_targets.push_back(target);
    return std::make_unique<NoOpHandler>();
  }
  std::shared_ptr<ChainNotifications> TakeTarget() {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_targets.empty()) throw std::runtime_error("the subscriber did not subscribe");
    std::shared_ptr<ChainNotifications> target = m_targets.back();
    m_targets.clear();
    return target;
  }

  minicoin::ipc::BlockRef getTip() override { Refuse(); }
  std::optional<minicoin::ipc::BlockRef> getBlockRef(uint32_t) override { Refuse(); }
  std::optional<minicoin::ipc::BlockRef> findActiveBlock(const std::vector<uint8_t>&) override { Refuse(); }
  std::optional<std::vector<uint8_t>> getBlock(const std::vector<uint8_t>&) override { Refuse(); }
  std::vector<std::vector<uint8_t>> getBlocks(uint32_t, uint32_t) override { Refuse(); }
  minicoin::ipc::ScanResult scanBlocks(uint32_t, uint32_t, const std::vector<std::vector<uint8_t>>&,
                                       const std::vector<minicoin::ipc::OutPointRef>&, uint32_t) override {
    Refuse();
  }
  std::vector<minicoin::ipc::CoinInfo> findCoins(const std::vector<minicoin::ipc::OutPointRef>&) override { Refuse(); }
  std::string broadcastTransaction(const std::vector<uint8_t>&) override { Refuse(); }
  uint64_t estimateFee() override { Refuse(); }
  bool isInMempool(const std::vector<uint8_t>&) override { Refuse(); }
  void logMessage(const std::string&) override {}

 private:
  [[noreturn]] static void Refuse() { throw std::runtime_error("the fan-out bench chain only takes subscriptions"); }
  std::mutex m_mutex;
  std::vector<std::shared_ptr<ChainNotifications>> m_targets;  // guarded by m_mutex
};

// One subscriber process and the proxy to its receiver.
struct Subscriber {
  crossproc::Spawned<minicoin::ipc::Init> child;
  std::unique_ptr<minicoin::ipc::WalletLoader> loader;
  std::shared_ptr<ChainNotifications> target;
};

std::vector<std::unique_ptr<Subscriber>> SpawnSubscribers(const std::string& self, std::size_t count, uint32_t handle_us,
                                                          const std::shared_ptr<SubscriptionChain>& chain) {
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (std::size_t i = 0; i < count; ++i) {
    crossproc::SpawnOptions options;
    options.connection = QuietConnection();
    options.command_line = [handle_us](const std::string& executable, int fd) {
      return std::vector<std::string>{executable, "--subscriber", std::to_string(handle_us), "-ipcfd", std::to_string(fd)};
    };
    auto subscriber = std::make_unique<Subscriber>();
    subscriber->child = crossproc::SpawnProcess<minicoin::ipc::Init>(self, options);
    subscriber->loader = subscriber->child.init->makeWalletLoader(chain);
    subscriber->target = chain->TakeTarget();
    subscribers.push_back(std::move(subscriber));
  }
  return subscribers;
}

// A block like a busy one on a small chain: the genesis coinbase repeated `txs` times.
minicoin::Block MakeBlock(std::size_t txs) {
  minicoin::Block block = minicoin::GenesisBlock();
  minicoin::Transaction coinbase = block.transactions.at(0);
  while (block.transactions.size() < txs) block.transactions.push_back(coinbase);
  return block;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct Figures {
  std::size_t subscribers;
  uint32_t handle_us;
  double one_by_one_ms;
  double hub_ms;
};

// Medians over `reps` blocks of: the loop calling each subscriber in turn, and the hub.
Figures Measure(const std::vector<std::unique_ptr<Subscriber>>& all, std::size_t count, uint32_t handle_us, int reps,
                const minicoin::Block& block) {
  std::vector<std::shared_ptr<ChainNotifications>> targets;
  for (std::size_t i = 0; i < count; ++i) targets.push_back(all.at(i)->target);
  minicoin::BlockIndex index;
  index.height = 1;
  std::vector<double> loop_ms;
  std::vector<double> hub_ms;
  minicoin::Logger log;
  minicoin::NotificationHub hub(log);
  std::vector<std::unique_ptr<minicoin::ipc::Handler>> handlers;
  for (std::size_t i = 0; i < count; ++i) handlers.push_back(hub.Subscribe(targets[i], "subscriber " + std::to_string(i)));
  auto one_by_one = [&] {
    auto start = Clock::now();
    std::vector<uint8_t> bytes = block.Encode();
    for (const auto& target : targets) target->blockConnected(bytes, index.height);
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  auto fanned_out = [&] {
    auto start = Clock::now();
    hub.BlockConnected(block, index);
    if (!hub.Flush(std::chrono::seconds(30))) throw std::runtime_error("a subscriber did not take the block within 30 s");
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (hub.subscriber_count() != count) throw std::runtime_error("the hub dropped a subscriber");
    return ms;
  };
  // One warm-up block each way (the first call from a thread makes its server thread); then the
  // two ways alternate which goes first.
  for (int rep = -1; rep < reps; ++rep) {
    double loop = 0;
    double fanned = 0;
    if (rep % 2 == 0) {
      loop = one_by_one();
      fanned = fanned_out();
    } else {
      fanned = fanned_out();
      loop = one_by_one();
    }
    if (rep >= 0) {
      loop_ms.push_back(loop);
      hub_ms.push_back(fanned);
    }
  }
  handlers.clear();
  return Figures{count, handle_us, Median(loop_ms), Median(hub_ms)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "--subscriber") == 0) {
    uint32_t handle_us = static_cast<uint32_t>(std::stoul(argv[2]));
    auto code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<minicoin::ipc::Init>(std::make_shared<SubscriberInit>(handle_us)),
                                          QuietConnection());
    return code.value_or(1);
  }
  int reps = 200;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      reps = 20;
    } else if (arg == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::stoi(argv[++i]));
    } else if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else {
      std::cerr << "usage: minicoin-fanout-bench [--quick] [--reps N] [--json FILE]\n";
      return 2;
    }
  }
  try {
    std::string self = crossproc::FindExecutable(argv[0]);
    minicoin::Block block = MakeBlock(100);
    std::size_t block_bytes = block.Encode().size();
    std::vector<Figures> results;
    for (uint32_t handle_us : {0u, 1000u}) {
      auto chain = std::make_shared<SubscriptionChain>();
      std::vector<std::unique_ptr<Subscriber>> subscribers = SpawnSubscribers(self, 16, handle_us, chain);
      for (std::size_t count : {std::size_t{1}, std::size_t{4}, std::size_t{16}}) {
        results.push_back(Measure(subscribers, count, handle_us, reps, block));
      }
      subscribers.clear();
    }
    std::printf("block notification (%zu bytes) to N subscriber processes, median of %d blocks, %u hardware threads\n",
                block_bytes, reps, std::thread::hardware_concurrency());
    std::printf("  %-11s %-12s %14s %14s %12s\n", "subscribers", "handling", "one-by-one ms", "hub ms", "one-by-one/hub");
    for (const Figures& f : results) {
      std::printf("  %-11zu %-12s %14.3f %14.3f %11.2fx\n", f.subscribers, (std::to_string(f.handle_us) + " us").c_str(),
                  f.one_by_one_ms, f.hub_ms, f.one_by_one_ms / f.hub_ms);
    }
    if (!json_path.empty()) {
      std::ofstream out(json_path);
      out << "{\n  \"block_bytes\": " << block_bytes << ",\n  \"reps\": " << reps << ",\n  \"results\": [\n";
      for (std::size_t i = 0; i < results.size(); ++i) {
        const Figures& f = results[i];
        out << "    {\"subscribers\": " << f.subscribers << ", \"handle_us\": " << f.handle_us
            << ", \"one_by_one_ms\": " << f.one_by_one_ms << ", \"hub_ms\": " << f.hub_ms
            << ", \"one_by_one_vs_hub\": " << f.one_by_one_ms / f.hub_ms << "}" << (i + 1 < results.size() ? "," : "") << "\n";
      }
      out << "  ]\n}\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "minicoin-fanout-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
