// Tests of ThreadBlockSubmitter over a chain whose processBlocks calls take a while: every batch
// is answered through `post`, calls begin in submission order, no more run at once than the
// submitter has threads, errors are handed back, and destruction waits for calls under way.
#include "net/block_submitter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace minicoin::net {
namespace {

using namespace std::chrono_literals;

// A NetChain whose processBlocks records the first byte of each batch (its number) when the call
// begins, sleeps, and answers one verdict per block; batches numbered 255 throw.
class SlowChain final : public ipc::NetChain {
 public:
  ipc::NetChainStatus getStatus() override { return {}; }
  std::vector<std::vector<uint8_t>> getLocator() override { return {}; }
  ipc::HeadersVerdict processHeaders(const std::vector<std::vector<uint8_t>>&) override { return {}; }
  std::vector<std::vector<uint8_t>> getBlocksToDownload(const std::vector<uint8_t>&, uint32_t) override { return {}; }
  std::vector<ipc::BlockVerdict> processBlocks(const std::vector<std::vector<uint8_t>>& blocks) override {
    const int number = blocks.front().front();
    {
      std::lock_guard lock(mutex);
      begun.push_back(number);
      running_max = std::max(running_max, ++running);
    }
    std::this_thread::sleep_for(20ms);
    {
      std::lock_guard lock(mutex);
      --running;
    }
    if (number == 255) throw std::runtime_error("the node is gone");
    std::vector<ipc::BlockVerdict> verdicts(blocks.size());
    for (ipc::BlockVerdict& verdict : verdicts) verdict.accepted = true;
    return verdicts;
  }
  ipc::TxVerdict processTransaction(const std::vector<uint8_t>&) override { return {}; }
  std::vector<std::vector<uint8_t>> findHeaders(const std::vector<std::vector<uint8_t>>&,
                                                const std::vector<uint8_t>&) override {
    return {};
  }
  std::vector<std::vector<uint8_t>> getBlockData(const std::vector<std::vector<uint8_t>>&) override { return {}; }
  std::vector<std::vector<uint8_t>> getTransactionData(const std::vector<std::vector<uint8_t>>&) override {
    return {};
  }
  std::vector<bool> haveItems(const std::vector<ipc::InvItem>&) override { return {}; }
  void logMessage(const std::string&, const std::string&) override {}

  std::mutex mutex;
  std::vector<int> begun;  // guarded by mutex
  int running = 0;         // guarded by mutex
  int running_max = 0;     // guarded by mutex
};

// The message thread's task queue, run by the test.
class Tasks {
 public:
  void Post(std::function<void()> task) {
    {
      std::lock_guard lock(m_mutex);
      m_tasks.push_back(std::move(task));
    }
    m_cv.notify_all();
  }
  // Runs posted tasks until `count` have run; false if they do not come within 10 s.
  bool RunUntil(std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (m_ran < count) {
      std::function<void()> task;
      {
        std::unique_lock lock(m_mutex);
        if (!m_cv.wait_until(lock, deadline, [&] { return !m_tasks.empty(); })) return false;
        task = std::move(m_tasks.front());
        m_tasks.erase(m_tasks.begin());
      }
      task();
      ++m_ran;
    }
    return true;
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::vector<std::function<void()>> m_tasks;
  std::size_t m_ran = 0;
};

std::vector<std::vector<uint8_t>> Batch(uint8_t number, std::size_t blocks) {
  return std::vector<std::vector<uint8_t>>(blocks, std::vector<uint8_t>{number});
}

TEST(ThreadBlockSubmitterTest, EveryBatchIsAnsweredInOrderOfSubmissionTwoAtATime) {
  SlowChain chain;
  Tasks tasks;
  std::vector<std::size_t> answered(6, 0);
  {
    ThreadBlockSubmitter submitter(chain, 2, [&](std::function<void()> task) { tasks.Post(std::move(task)); });
    EXPECT_EQ(submitter.capacity(), 2u);
    for (uint8_t i = 0; i < 6; ++i) {
      submitter.Submit(Batch(i, i + 1u), [&answered, i](std::vector<ipc::BlockVerdict> verdicts, std::exception_ptr error) {
        EXPECT_FALSE(error);
        answered[i] = verdicts.size();
      });
    }
    ASSERT_TRUE(tasks.RunUntil(6));
  }
  EXPECT_EQ(answered, (std::vector<std::size_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(chain.begun, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(chain.running_max, 2);
}

TEST(ThreadBlockSubmitterTest, AnErrorIsHandedBack) {
  SlowChain chain;
  Tasks tasks;
  std::exception_ptr error;
  ThreadBlockSubmitter submitter(chain, 1, [&](std::function<void()> task) { tasks.Post(std::move(task)); });
  submitter.Submit(Batch(255, 1), [&](std::vector<ipc::BlockVerdict> verdicts, std::exception_ptr e) {
    EXPECT_TRUE(verdicts.empty());
    error = e;
  });
  ASSERT_TRUE(tasks.RunUntil(1));
  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), std::runtime_error);
}

TEST(ThreadBlockSubmitterTest, DestructionWaitsForCallsUnderWayAndDropsTheRest) {
  SlowChain chain;
  std::atomic<int> posted{0};
  {
    ThreadBlockSubmitter submitter(chain, 1, [&](std::function<void()>) { ++posted; });
    for (uint8_t i = 0; i < 5; ++i) submitter.Submit(Batch(i, 1), [](auto, auto) {});
    // Let the first call begin.
    for (int i = 0; i < 1000; ++i) {
      {
        std::lock_guard lock(chain.mutex);
        if (!chain.begun.empty()) break;
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  // The call under way finished and was posted; the batches not begun were dropped.
  std::lock_guard lock(chain.mutex);
  EXPECT_EQ(chain.running, 0);
  EXPECT_EQ(static_cast<std::size_t>(posted.load()), chain.begun.size());
  EXPECT_LT(chain.begun.size(), 5u);
}

}  // namespace
}  // namespace minicoin::net
