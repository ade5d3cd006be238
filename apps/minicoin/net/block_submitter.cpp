// ThreadBlockSubmitter.
#include "net/block_submitter.h"

#include "common/logging.h"

#include <algorithm>
#include <utility>

namespace minicoin::net {

ThreadBlockSubmitter::ThreadBlockSubmitter(ipc::NetChain& chain, std::size_t threads, Post post)
    : m_chain(chain), m_post(std::move(post)) {
  threads = std::max<std::size_t>(threads, 1);
  m_threads.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) m_threads.emplace_back([this] { Run(); });
}

ThreadBlockSubmitter::~ThreadBlockSubmitter() {
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    m_queue.clear();
  }
  m_cv.notify_all();
  for (std::thread& thread : m_threads) thread.join();
}

void ThreadBlockSubmitter::Submit(std::vector<std::vector<uint8_t>> blocks, Done done) {
  {
    std::lock_guard lock(m_mutex);
    if (m_stop) return;
    m_queue.push_back(Batch{std::move(blocks), std::move(done)});
  }
  m_cv.notify_one();
}

void ThreadBlockSubmitter::Run() {
  SetLogThreadName("blocksubmit");
  for (;;) {
    Batch batch;
    {
      std::unique_lock lock(m_mutex);
      m_cv.wait(lock, [this] { return m_stop || !m_queue.empty(); });
      if (m_queue.empty()) return;  // stopping
      batch = std::move(m_queue.front());
      m_queue.pop_front();
      // Calls begin in submission order: wait until the thread holding the batch before this
      // one has begun its call.
      const uint64_t ticket = m_next_ticket++;
      m_cv.wait(lock, [&] { return m_next_to_begin == ticket; });
      ++m_next_to_begin;
    }
    m_cv.notify_all();
    std::vector<ipc::BlockVerdict> verdicts;
    std::exception_ptr error;
    try {
      verdicts = m_chain.processBlocks(batch.blocks);
    } catch (...) {
      error = std::current_exception();
    }
    batch.blocks.clear();
    m_post([done = std::move(batch.done), verdicts = std::move(verdicts), error]() mutable {
      done(std::move(verdicts), error);
    });
  }
}

}  // namespace minicoin::net
