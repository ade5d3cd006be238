// Tests of WorkerPool: jobs, errors, shutdown modes, parallel loops, deterministic mode.
#include <crossproc/worker_pool.h>

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

namespace crossproc {
namespace {

TEST(WorkerPool, RunsPostedJobsOnNamedThreads) {
  std::mutex mutex;
  std::set<std::string> names;
  std::atomic<int> ran{0};
  {
    WorkerPool pool(WorkerPoolOptions{.threads = 3, .name = "tpool"});
    EXPECT_EQ(pool.thread_count(), 3u);
    for (int i = 0; i < 100; ++i) {
      pool.Post([&] {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof(name));
        std::lock_guard<std::mutex> lock(mutex);
        names.insert(name);
        ++ran;
      });
    }
  }  // drains
  EXPECT_EQ(ran.load(), 100);
  for (const auto& name : names) EXPECT_EQ(name.rfind("tpool-", 0), 0u) << name;
}

TEST(WorkerPool, ExceptionsGoToTheHandler) {
  std::atomic<int> errors{0};
  std::atomic<int> ran{0};
  {
    WorkerPool pool(WorkerPoolOptions{.threads = 2, .on_error = [&](std::exception_ptr) { ++errors; }});
    for (int i = 0; i < 10; ++i) {
      pool.Post([&, i] {
        if (i % 2 == 0) throw std::runtime_error("job failed");
        ++ran;
      });
    }
  }
  EXPECT_EQ(errors.load(), 5);
  EXPECT_EQ(ran.load(), 5);
}

TEST(WorkerPool, CancelDropsQueuedJobsAndDrainRunsThem) {
  WorkerPool cancel(WorkerPoolOptions{.deterministic = true});
  int ran = 0;
  for (int i = 0; i < 5; ++i) cancel.Post([&] { ++ran; });
  cancel.Stop(WorkerPool::Shutdown::kCancel);
  EXPECT_EQ(ran, 0);
  EXPECT_FALSE(cancel.Post([&] { ++ran; }));

  WorkerPool drain(WorkerPoolOptions{.deterministic = true});
  for (int i = 0; i < 5; ++i) drain.Post([&] { ++ran; });
  drain.Stop(WorkerPool::Shutdown::kDrain);
  EXPECT_EQ(ran, 5);
}

TEST(WorkerPool, RunAndWaitRunsOnAPoolThreadAndRethrows) {
  WorkerPool pool(WorkerPoolOptions{.threads = 1, .name = "runwait"});
  std::string thread_name;
  EXPECT_TRUE(pool.RunAndWait([&] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    thread_name = name;
  }));
  EXPECT_EQ(thread_name, "runwait-0");
  EXPECT_THROW(pool.RunAndWait([] { throw std::runtime_error("inside"); }), std::runtime_error);

  WorkerPool deterministic(WorkerPoolOptions{.deterministic = true});
  int ran = 0;
  EXPECT_TRUE(deterministic.RunAndWait([&] { ++ran; }));
  EXPECT_EQ(ran, 1);
}

TEST(WorkerPool, RunAndWaitGivesUpWhenThePoolStopsFirst) {
  WorkerPool stopped(WorkerPoolOptions{.threads = 1});
  stopped.Stop(WorkerPool::Shutdown::kCancel);
  int ran = 0;
  EXPECT_FALSE(stopped.RunAndWait([&] { ++ran; }));

  // The only thread is busy while the pool is stopped: the job queued behind is dropped
  // (kCancel), and the waiter returns without it having run.
  WorkerPool busy(WorkerPoolOptions{.threads = 1});
  std::atomic<bool> release{false};
  std::atomic<bool> blocking{false};
  busy.Post([&] {
    blocking = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (!blocking) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    busy.Stop(WorkerPool::Shutdown::kCancel);  // joins the worker once released
  });
  EXPECT_FALSE(busy.RunAndWait([&] { ++ran; }));
  release = true;
  stopper.join();
  EXPECT_EQ(ran, 0);
}

TEST(WorkerPool, DeterministicModeRunsInOrderOnTheCaller) {
  WorkerPool pool(WorkerPoolOptions{.deterministic = true});
  std::vector<int> order;
  for (int i = 0; i < 4; ++i) pool.Post([&, i] { order.push_back(i); });
  EXPECT_TRUE(order.empty());
  EXPECT_EQ(pool.RunPending(), 4u);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(WorkerPool, ParallelForVisitsEveryIndexOnce) {
  WorkerPool pool(WorkerPoolOptions{.threads = 4});
  std::vector<std::atomic<int>> hits(10007);
  pool.ParallelFor(0, hits.size(), [&](std::size_t i) { ++hits[i]; }, 13).Wait();
  for (auto& hit : hits) ASSERT_EQ(hit.load(), 1);
  // Empty range and default chunking.
  pool.ParallelFor(5, 5, [&](std::size_t) { FAIL(); }).Wait();
  std::atomic<uint64_t> sum{0};
  pool.ParallelFor(0, 1000, [&](std::size_t i) { sum += i; }).Wait();
  EXPECT_EQ(sum.load(), 999u * 1000u / 2u);
}

TEST(WorkerPool, ParallelForKeepsFirstErrorAndFinishesOtherChunks) {
  WorkerPool pool(WorkerPoolOptions{.threads = 2});
  std::atomic<int> visited{0};
  auto handle = pool.ParallelFor(0, 100, [&](std::size_t i) {
    ++visited;
    if (i == 42) throw std::out_of_range("index 42");
  }, 10);
  EXPECT_THROW(handle.Wait(), std::out_of_range);
  EXPECT_TRUE(handle.done());
  EXPECT_NE(handle.error(), nullptr);
  EXPECT_EQ(visited.load(), 93);  // the chunk of 40..49 stops at 42; the others run
}

TEST(WorkerPool, ParallelForInDeterministicModeRunsOnTheWaiter) {
  WorkerPool pool(WorkerPoolOptions{.threads = 3, .deterministic = true});
  std::vector<std::size_t> order;
  auto handle = pool.ParallelFor(0, 6, [&](std::size_t i) { order.push_back(i); }, 2);
  EXPECT_FALSE(handle.done());
  handle.Wait();
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
  pool.RunPending();  // the queued runners find nothing left
}

}  // namespace
}  // namespace crossproc
