// The handle pattern for non-blocking APIs: configure, start, wait, read the errors.
#pragma once

#include <crossproc/sync.h>
#include <crossproc/worker_pool.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <string>
#include <vector>

namespace crossproc {

// A piece of work an API hands back instead of blocking its caller. The caller may configure it
// (through setters of the derived class) until Start(), then wait for it and read its errors.
// Run() executes on a WorkerPool thread. Thread-safe after Start().
//
//   class AddBlockJob : public crossproc::Job { ... void Run() override; };
//   std::shared_ptr<AddBlockJob> job = engine.AddBlock(block);   // returns at once
//   job->SetCheckProofOfWork(false);                             // configure
//   job->Start();                                                // queue it
//   job->Wait();
//   if (!job->errors().empty()) std::cerr << job->errors()[0];
class Job : public std::enable_shared_from_this<Job> {
 public:
  enum class State { kConfiguring, kStarted, kFinished };

  explicit Job(WorkerPool& pool) : m_pool(pool) {}
  virtual ~Job() = default;
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // Queues Run() on the pool. Calling it twice is a std::logic_error. A job that cannot be
  // queued (the pool stopped) finishes at once with an error.
  void Start();
  // Starts the job and runs it on the calling thread; it has finished on return. For a caller
  // that is itself a job on the pool: queuing and waiting there would hand every job from one
  // pool thread to another (and with one thread, wait for itself).
  void RunHere();
  // Blocks until Run() has returned.
  void Wait() const;
  bool WaitFor(std::chrono::milliseconds timeout) const;
  State state() const;
  bool finished() const { return state() == State::kFinished; }
  // What Run() reported through AddError, and the message of an exception it threw.
  std::vector<std::string> errors() const;

 protected:
  // The work. Report failures with AddError (or throw: the exception's message is recorded).
  virtual void Run() = 0;
  void AddError(std::string error);
  // For setters of derived classes: throws std::logic_error once the job has started.
  void RequireConfiguring() const;

 private:
  void MarkStarted();  // throws std::logic_error unless configuring
  void RunAndFinish();
  void Finish();

  WorkerPool& m_pool;
  mutable Mutex m_mutex;
  mutable std::condition_variable m_cv;
  State m_state CROSSPROC_GUARDED_BY(m_mutex) = State::kConfiguring;
  std::vector<std::string> m_errors CROSSPROC_GUARDED_BY(m_mutex);
};

}  // namespace crossproc
