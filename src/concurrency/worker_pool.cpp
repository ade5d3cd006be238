// A pool of named worker threads with chunked parallel loops.
#include <crossproc/worker_pool.h>

#include <pthread.h>

#include <algorithm>
#include <cstdio>

namespace crossproc {

struct ParallelForHandle::State {
  std::function<void(std::size_t)> fn;
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t chunk = 1;
  std::size_t chunks = 0;
  std::atomic<std::size_t> next_chunk{0};       // claimed
  std::atomic<std::size_t> completed_chunks{0};  // finished
  mutable Mutex mutex;
  std::condition_variable cv;
  std::exception_ptr error CROSSPROC_GUARDED_BY(mutex);

  // Claims and runs chunks until none is left. Returns when this thread can claim no more.
  void RunChunks() {
    while (true) {
      std::size_t index = next_chunk.fetch_add(1, std::memory_order_relaxed);
      if (index >= chunks) return;
      std::size_t first = begin + index * chunk;
      std::size_t last = std::min(end, first + chunk);
      try {
        for (std::size_t i = first; i < last; ++i) fn(i);
      } catch (...) {
        MutexLock lock(mutex);
        if (!error) error = std::current_exception();
      }
      if (completed_chunks.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
        MutexLock lock(mutex);
        cv.notify_all();
      }
    }
  }
  bool Complete() const { return completed_chunks.load(std::memory_order_acquire) == chunks; }
};

void ParallelForHandle::Wait() {
  m_state->RunChunks();  // help rather than sleep
  UniqueLock lock(m_state->mutex);
  while (!(m_state->Complete())) m_state->cv.wait(lock.native());
  if (m_state->error) std::rethrow_exception(m_state->error);
}

bool ParallelForHandle::WaitFor(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  UniqueLock lock(m_state->mutex);
  while (!m_state->Complete()) {
    if (m_state->cv.wait_until(lock.native(), deadline) == std::cv_status::timeout) return m_state->Complete();
  }
  return true;
}

bool ParallelForHandle::done() const { return m_state->Complete(); }

std::exception_ptr ParallelForHandle::error() const {
  MutexLock lock(m_state->mutex);
  return m_state->error;
}

WorkerPool::WorkerPool(Options options) : m_options(std::move(options)) {
  m_thread_count = m_options.threads != 0 ? m_options.threads : std::max(1u, std::thread::hardware_concurrency());
  if (m_options.deterministic) return;
  m_threads.reserve(m_thread_count);
  for (std::size_t i = 0; i < m_thread_count; ++i) m_threads.emplace_back([this, i] { WorkerMain(i); });
}

WorkerPool::~WorkerPool() { Stop(Shutdown::kDrain); }

bool WorkerPool::Post(std::function<void()> job) {
  {
    MutexLock lock(m_mutex);
    if (m_stopping) return false;
    m_jobs.push_back(std::move(job));
  }
  m_cv.notify_one();
  return true;
}

ParallelForHandle WorkerPool::ParallelFor(std::size_t begin, std::size_t end, std::function<void(std::size_t)> fn,
                                          std::size_t chunk) {
  auto state = std::make_shared<ParallelForHandle::State>();
  state->fn = std::move(fn);
  state->begin = begin;
  state->end = std::max(begin, end);
  std::size_t count = state->end - begin;
  state->chunk = chunk != 0 ? chunk : std::max<std::size_t>(1, count / (m_thread_count * 4));
  state->chunks = (count + state->chunk - 1) / state->chunk;
  std::size_t runners = std::min(m_thread_count, state->chunks);
  for (std::size_t i = 0; i < runners; ++i) Post([state] { state->RunChunks(); });
  return ParallelForHandle(state);
}

void WorkerPool::Stop(Shutdown mode) {
  std::deque<std::function<void()>> dropped;
  {
    MutexLock lock(m_mutex);
    if (m_stopped) return;
    m_stopping = true;
    if (mode == Shutdown::kCancel) dropped.swap(m_jobs);
  }
  m_cv.notify_all();
  if (m_options.deterministic && mode == Shutdown::kDrain) RunPending();
  for (auto& thread : m_threads) thread.join();
  MutexLock lock(m_mutex);
  m_stopped = true;
}

bool WorkerPool::RunAndWait(const std::function<void()>& fn) {
  if (m_options.deterministic) {
    fn();
    return true;
  }
  // Whoever claims the job first decides: a pool thread runs it, or the waiter, seeing the pool
  // stop, gives it up (a job dropped by kCancel never runs; one kDrain runs later finds it
  // claimed and leaves `fn`, which may be gone by then, alone).
  struct Shared {
    Mutex mutex;
    std::condition_variable cv;
    bool claimed CROSSPROC_GUARDED_BY(mutex) = false;
    bool done CROSSPROC_GUARDED_BY(mutex) = false;
    std::exception_ptr error CROSSPROC_GUARDED_BY(mutex);
  };
  auto shared = std::make_shared<Shared>();
  const bool posted = Post([shared, &fn] {
    {
      MutexLock lock(shared->mutex);
      if (shared->claimed) return;
      shared->claimed = true;
    }
    std::exception_ptr error;
    try {
      fn();
    } catch (...) {
      error = std::current_exception();
    }
    {
      MutexLock lock(shared->mutex);
      shared->error = error;
      shared->done = true;
    }
    shared->cv.notify_all();
  });
  if (!posted) return false;
  UniqueLock lock(shared->mutex);
  while (!shared->done) {
    if (shared->cv.wait_for(lock.native(), std::chrono::milliseconds(100)) == std::cv_status::timeout &&
        !shared->done && !shared->claimed && stopping()) {
      shared->claimed = true;
      return false;
    }
  }
  if (shared->error) std::rethrow_exception(shared->error);
  return true;
}

bool WorkerPool::stopping() const {
  MutexLock lock(m_mutex);
  return m_stopping;
}

std::size_t WorkerPool::RunPending() {
  std::size_t count = 0;
  while (true) {
    std::function<void()> job;
    {
      MutexLock lock(m_mutex);
      if (m_jobs.empty()) return count;
      job = std::move(m_jobs.front());
      m_jobs.pop_front();
    }
    RunJob(job);
    ++count;
  }
}

void WorkerPool::RunJob(std::function<void()>& job) {
  try {
    job();
  } catch (...) {
    if (m_options.on_error) {
      m_options.on_error(std::current_exception());
    } else {
      try {
        throw;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: a job threw: %s\n", m_options.name.c_str(), e.what());
      } catch (...) {
        std::fprintf(stderr, "%s: a job threw an unknown exception\n", m_options.name.c_str());
      }
    }
  }
}

void WorkerPool::WorkerMain(std::size_t index) {
  std::string name = m_options.name + "-" + std::to_string(index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  while (true) {
    std::function<void()> job;
    {
      UniqueLock lock(m_mutex);
      while (!m_stopping && m_jobs.empty()) m_cv.wait(lock.native());
      if (m_jobs.empty()) return;  // stopping and drained
      job = std::move(m_jobs.front());
      m_jobs.pop_front();
    }
    RunJob(job);
  }
}

}  // namespace crossproc
