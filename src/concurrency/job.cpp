// The handle pattern for non-blocking APIs.
#include <crossproc/job.h>

#include <stdexcept>

namespace crossproc {

void Job::Start() {
  MarkStarted();
  // The queued job keeps this one alive until it has run.
  std::shared_ptr<Job> self = shared_from_this();
  bool queued = m_pool.Post([self] { self->RunAndFinish(); });
  if (!queued) {
    AddError("the worker pool has stopped");
    Finish();
  }
}

void Job::RunHere() {
  MarkStarted();
  RunAndFinish();
}

void Job::MarkStarted() {
  MutexLock lock(m_mutex);
  if (m_state != State::kConfiguring) throw std::logic_error("job started twice");
  m_state = State::kStarted;
}

void Job::RunAndFinish() {
  try {
    Run();
  } catch (const std::exception& e) {
    AddError(e.what());
  } catch (...) {
    AddError("unknown exception");
  }
  Finish();
}

void Job::Wait() const {
  UniqueLock lock(m_mutex);
  while (m_state != State::kFinished) m_cv.wait(lock.native());
}

bool Job::WaitFor(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  UniqueLock lock(m_mutex);
  while (m_state != State::kFinished) {
    if (m_cv.wait_until(lock.native(), deadline) == std::cv_status::timeout) return m_state == State::kFinished;
  }
  return true;
}

Job::State Job::state() const {
  MutexLock lock(m_mutex);
  return m_state;
}

std::vector<std::string> Job::errors() const {
  MutexLock lock(m_mutex);
  return m_errors;
}

void Job::AddError(std::string error) {
  MutexLock lock(m_mutex);
  m_errors.push_back(std::move(error));
}

void Job::RequireConfiguring() const {
  MutexLock lock(m_mutex);
  if (m_state != State::kConfiguring) throw std::logic_error("a job can only be configured before Start()");
}

void Job::Finish() {
  {
    MutexLock lock(m_mutex);
    m_state = State::kFinished;
  }
  m_cv.notify_all();
}

}  // namespace crossproc
