// A pool of named worker threads with chunked parallel loops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <crossproc/sync.h>

namespace crossproc {

// Completion of a ParallelFor: wait for it, read its first error. Thread-safe.
class ParallelForHandle {
 public:
  // Blocks until every chunk has run; rethrows the first exception a chunk threw.
  void Wait();
  // Waits at most `timeout`; true if complete. Does not throw.
  bool WaitFor(std::chrono::milliseconds timeout);
  bool done() const;
  // The first exception a chunk threw, or null.
  std::exception_ptr error() const;

 private:
  friend class WorkerPool;
  struct State;
  explicit ParallelForHandle(std::shared_ptr<State> state) : m_state(std::move(state)) {}
  std::shared_ptr<State> m_state;
};

struct WorkerPoolOptions {
  std::size_t threads = 0;  // 0: one per hardware thread
  std::string name = "worker";  // threads are named <name>-<index>
  std::function<void(std::exception_ptr)> on_error = {};  // exceptions thrown by Post()ed jobs
  // No threads: jobs wait until RunPending() runs them on the calling thread, in order.
  // Gives tests full control of interleavings.
  bool deterministic = false;
};

// N named threads running posted jobs. Thread-safe: any thread may Post. Not copyable or
// movable. A job that throws does not end the process: the exception goes to the error handler
// (by default it is written to standard error) and the worker goes on.
//
//   crossproc::WorkerPool pool({.threads = 4, .name = "verify"});
//   pool.Post([] { ... });
//   pool.ParallelFor(0, inputs.size(), [&](std::size_t i) { Check(inputs[i]); }).Wait();
class WorkerPool {
 public:
  using Options = WorkerPoolOptions;
  enum class Shutdown { kDrain, kCancel };

  explicit WorkerPool(Options options = {});
  ~WorkerPool();  // Stop(Shutdown::kDrain)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::size_t thread_count() const { return m_thread_count; }

  // Queues a job. After Stop, jobs are dropped and false is returned.
  bool Post(std::function<void()> job);

  // Runs fn(i) for every i in [begin, end), split into chunks of `chunk` indexes (0: about four
  // chunks per thread). Workers claim chunks through an atomic counter and count completed
  // ones through a second one; the handle completes when the last chunk is done. The calling
  // thread helps when it waits. A chunk that throws stops nothing else; the first exception is
  // kept in the handle.
  ParallelForHandle ParallelFor(std::size_t begin, std::size_t end, std::function<void(std::size_t)> fn,
                                std::size_t chunk = 0);

  // Runs fn() as one job on a pool thread and waits for it without helping, so that the pool's
  // size alone bounds the work running at once. Returns false, without running fn, if the pool
  // stops before a thread takes the job; rethrows what fn threw. A deterministic pool runs fn
  // on the calling thread. Never call it from a job of this pool (it would wait for itself).
  bool RunAndWait(const std::function<void()>& fn);

  // Stops the pool: kDrain runs what is queued first, kCancel drops it. Joins the threads.
  // Idempotent.
  void Stop(Shutdown mode);
  // True once Stop has begun: jobs posted from now on are dropped, and with kCancel queued ones
  // never run (a waiter that does not help would wait forever).
  bool stopping() const;

  // Deterministic mode: runs queued jobs on this thread until none is left; returns how many.
  std::size_t RunPending();

 private:
  void WorkerMain(std::size_t index);
  void RunJob(std::function<void()>& job);

  Options m_options;
  std::size_t m_thread_count;
  mutable Mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<std::function<void()>> m_jobs CROSSPROC_GUARDED_BY(m_mutex);
  bool m_stopping CROSSPROC_GUARDED_BY(m_mutex) = false;
  bool m_stopped CROSSPROC_GUARDED_BY(m_mutex) = false;
  std::vector<std::thread> m_threads;
};

}  // namespace crossproc
