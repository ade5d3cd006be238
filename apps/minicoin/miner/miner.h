// Miner: mines blocks through a node's Mining interface, grinding nonces on a worker pool; and
// the miner's own payout key in its data folder.
#pragma once

#include "mining.crossproc.h"
#include "primitives/block.h"

#include <crossproc/worker_pool.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace minicoin {

struct MinerOptions {
  XOnlyPublicKey payout{};
  uint64_t blocks = 0;          // stop after this many accepted blocks; 0: until Stop()
  uint64_t fee_threshold = 0;   // waitNext's feeThreshold: new work when fees rise this much
  uint64_t max_block_bytes = 0; // createNewBlock's maxBlockBytes (0: the node's default)
};

// What the miner did with one solved template.
struct MinedBlock {
  Uint256 hash;
  uint32_t height = 0;
  bool accepted = false;
  std::string reason;  // submitSolution's reason ("" for a new tip)
};

// A header's winning time and nonce.
struct Solution {
  uint32_t time = 0;
  uint32_t nonce = 0;
};

// Returns the nonce (and the time, bumped by one second each time all 2^32 nonces failed) that
// makes `header`'s hash meet header.bits, searching on every thread of `pool`; nullopt when
// `abandon()` becomes true first (polled every few thousand hashes) or bits are invalid.
// `abandon` must be thread-safe.
std::optional<Solution> GrindHeader(const BlockHeader& header, crossproc::WorkerPool& pool,
                                    const std::function<bool()>& abandon);

// Mines on a node: takes a template, grinds it on `pool`, submits the solution, and starts again
// on new work. A follower thread blocks in the current template's waitNext and hands over each
// new template (new tip, or fees up by fee_threshold), so stale work is dropped at once.
// Run() on one thread; Stop() from any thread (a signal handler's thread). `mining` and `pool`
// must outlive the Miner.
//
//   Miner miner(*mining, pool, {.payout = key.PublicKey(), .blocks = 10}, print);
//   miner.Run();
class Miner {
 public:
  Miner(ipc::Mining& mining, crossproc::WorkerPool& pool, MinerOptions options,
        std::function<void(const MinedBlock&)> on_block);
  ~Miner();
  Miner(const Miner&) = delete;
  Miner& operator=(const Miner&) = delete;

  // Mines until options.blocks blocks were accepted or Stop(); returns how many were accepted.
  // Throws what the node's calls throw (crossproc::Disconnected when the node goes away).
  uint64_t Run();
  // Makes Run() return soon: interrupts the node's waits (Mining.interrupt) and the grinding.
  void Stop();

 private:
  void Follow(std::shared_ptr<ipc::BlockTemplate> first);

  ipc::Mining& m_mining;
  crossproc::WorkerPool& m_pool;
  const MinerOptions m_options;
  std::function<void(const MinedBlock&)> m_on_block;
  std::atomic<bool> m_stop{false};

  std::mutex m_mutex;
  std::condition_variable m_new_work;
  // Guarded by m_mutex: the newest template the follower got, and how many it got.
  std::shared_ptr<ipc::BlockTemplate> m_latest;
  uint64_t m_generation = 0;
  std::exception_ptr m_follow_error;
  bool m_follow_done = false;
  std::atomic<uint64_t> m_generation_seen{0};  // m_generation, readable without the lock
};

// The miner's own key in `<datadir>/miner/key` (hex of the 32 secret bytes, mode 0600): read
// if present, else created once. Throws std::runtime_error with the path for an unreadable or
// malformed file.
struct MinerKey {
  XOnlyPublicKey pubkey{};
  std::filesystem::path path;
  bool created = false;
};
MinerKey LoadOrCreateMinerKey(const std::filesystem::path& datadir);

}  // namespace minicoin
