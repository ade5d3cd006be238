// BlockSubmitter: where the peer logic's NetChain::processBlocks calls run, so that the message
// thread keeps reading (and the node receives) the next blocks while the node validates a batch.
#pragma once

#include "net.crossproc.h"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace minicoin::net {

// Runs processBlocks calls for PeerLogic away from its message thread. Each call's outcome
// reaches the `done` passed with it, on the message thread: the verdicts, or the exception the
// call threw (then `verdicts` is empty).
class BlockSubmitter {
 public:
  using Done = std::function<void(std::vector<ipc::BlockVerdict> verdicts, std::exception_ptr error)>;

  virtual ~BlockSubmitter() = default;
  // How many calls may be under way at once (at least 1).
  virtual std::size_t capacity() const = 0;
  // Calls `chain.processBlocks(blocks)` once a call slot is free; calls begin in the order the
  // batches were submitted.
  virtual void Submit(std::vector<std::vector<uint8_t>> blocks, Done done) = 0;
};

// A BlockSubmitter with `threads` threads of its own; `post` must run a task on the message
// thread (or drop it once that thread has stopped). Destruction drops the batches not started
// and waits for the calls under way; their outcomes are still posted. Thread-safe.
//
//   ThreadBlockSubmitter submitter(chain, 2, [&](std::function<void()> task) {
//     manager.Post(std::move(task));
//   });
//   PeerLogic logic(options, manager, chain, log, &submitter);
class ThreadBlockSubmitter final : public BlockSubmitter {
 public:
  using Post = std::function<void(std::function<void()>)>;

  ThreadBlockSubmitter(ipc::NetChain& chain, std::size_t threads, Post post);
  ~ThreadBlockSubmitter() override;
  ThreadBlockSubmitter(const ThreadBlockSubmitter&) = delete;
  ThreadBlockSubmitter& operator=(const ThreadBlockSubmitter&) = delete;

  std::size_t capacity() const override { return m_threads.size(); }
  void Submit(std::vector<std::vector<uint8_t>> blocks, Done done) override;

 private:
  struct Batch {
    std::vector<std::vector<uint8_t>> blocks;
    Done done;
  };
  void Run();

  ipc::NetChain& m_chain;
  const Post m_post;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<Batch> m_queue;  // guarded by m_mutex
  bool m_stop = false;        // guarded by m_mutex
  // Tickets of the batches taken by the threads, and the next one whose call may begin.
  uint64_t m_next_ticket = 0;    // guarded by m_mutex
  uint64_t m_next_to_begin = 0;  // guarded by m_mutex
  std::vector<std::thread> m_threads;
};

}  // namespace minicoin::net
