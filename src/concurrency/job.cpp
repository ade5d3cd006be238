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
  std::lock_guard<std::mutex> lock(m_mutex);
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
  std::unique_lock<std::mutex> lock(m_mutex);
  m_cv.wait(lock, [&] { return m_state == State::kFinished; });
}

bool Job::WaitFor(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(m_mutex);
  return m_cv.wait_for(lock, timeout, [&] { return m_state == State::kFinished; });
}

Job::State Job::state() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_state;
}

std::vector<std::string> Job::errors() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_errors;
}

void Job::AddError(std::string error) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_errors.push_back(std::move(error));
}

void Job::RequireConfiguring() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (m_state != State::kConfiguring) throw std::logic_error("a job can only be configured before Start()");
}

void Job::Finish() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_state = State::kFinished;
  }
  m_cv.notify_all();
}

}  // namespace crossproc
