// Structured fan-out and fan-in of asynchronous calls.
#include <crossproc/errors.h>
#include <crossproc/task_group.h>

namespace crossproc {
namespace detail {

struct TaskGroupState {
  explicit TaskGroupState(JoinMode join_mode) : mode(join_mode) {}

  struct Branch {
    bool done = false;
    std::exception_ptr error;
    std::function<void()> cancel;
  };

  const JoinMode mode;
  mutable Mutex mutex;
  std::condition_variable cv;
  std::vector<Branch> branches CROSSPROC_GUARDED_BY(mutex);
  std::size_t pending CROSSPROC_GUARDED_BY(mutex) = 0;
  std::exception_ptr first_error CROSSPROC_GUARDED_BY(mutex);
  bool canceled CROSSPROC_GUARDED_BY(mutex) = false;
  std::vector<std::shared_ptr<FutureState<void>>> watchers CROSSPROC_GUARDED_BY(mutex);  // AsFuture() results

  // Cancels every unfinished branch, outside the lock.
  void CancelAll() {
    std::vector<std::function<void()>> cancels;
    {
      MutexLock lock(mutex);
      canceled = true;
      for (auto& branch : branches) {
        if (!branch.done && branch.cancel) cancels.push_back(branch.cancel);
      }
    }
    for (auto& cancel : cancels) cancel();
  }

  void Finished(std::size_t index, std::exception_ptr error) {
    bool cancel_others = false;
    std::vector<std::shared_ptr<FutureState<void>>> to_complete;
    std::exception_ptr result;
    {
      MutexLock lock(mutex);
      Branch& branch = branches[index];
      branch.done = true;
      branch.error = error;
      branch.cancel = nullptr;
      if (error && !first_error) {
        first_error = error;
        cancel_others = mode == JoinMode::kFailFast && !canceled;
      }
      --pending;
      if (pending == 0) {
        to_complete.swap(watchers);
        result = mode == JoinMode::kFailFast ? first_error : nullptr;
      }
      cv.notify_all();
    }
    if (cancel_others) CancelAll();
    for (auto& watcher : to_complete) {
      if (result) {
        watcher->SetError(result);
      } else {
        watcher->SetValue(true);
      }
    }
  }
};

}  // namespace detail

TaskGroup::TaskGroup(JoinMode mode) : m_state(std::make_shared<detail::TaskGroupState>(mode)) {}

TaskGroup::~TaskGroup() {
  Cancel();
  // No handler may run once the group is gone: wait for every branch to report.
  UniqueLock lock(m_state->mutex);
  while (m_state->pending != 0) m_state->cv.wait(lock.native());
}

std::size_t TaskGroup::AddBranch(std::function<void()> cancel,
                                 std::function<void(std::function<void(std::exception_ptr)>)> start) {
  std::size_t index;
  bool canceled;
  {
    MutexLock lock(m_state->mutex);
    index = m_state->branches.size();
    m_state->branches.push_back({false, nullptr, cancel});
    ++m_state->pending;
    canceled = m_state->canceled;
  }
  auto state = m_state;
  start([state, index](std::exception_ptr error) { state->Finished(index, std::move(error)); });
  if (canceled) cancel();  // added to a group that already failed
  return index;
}

void TaskGroup::Join() {
  UniqueLock lock(m_state->mutex);
  while (m_state->pending != 0) m_state->cv.wait(lock.native());
  if (m_state->mode == JoinMode::kFailFast && m_state->first_error) std::rethrow_exception(m_state->first_error);
}

void TaskGroup::JoinFor(std::chrono::milliseconds timeout) {
  {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    UniqueLock lock(m_state->mutex);
    while (m_state->pending != 0) {
      if (m_state->cv.wait_until(lock.native(), deadline) == std::cv_status::timeout) break;
    }
    if (m_state->pending != 0) {
      lock.unlock();
      Cancel();
      lock.lock();
      while (m_state->pending != 0) m_state->cv.wait(lock.native());
      if (m_state->mode == JoinMode::kFailFast) {
        throw RemoteError(ErrorKind::kOverloaded, "", "task group timed out after " + std::to_string(timeout.count()) + " ms");
      }
      return;
    }
  }
  Join();
}

void TaskGroup::Cancel() { m_state->CancelAll(); }

std::size_t TaskGroup::size() const {
  MutexLock lock(m_state->mutex);
  return m_state->branches.size();
}

std::exception_ptr TaskGroup::error(std::size_t branch) const {
  MutexLock lock(m_state->mutex);
  return m_state->branches.at(branch).error;
}

Future<void> TaskGroup::AsFuture() {
  auto future_state = std::make_shared<detail::FutureState<void>>();
  std::weak_ptr<detail::TaskGroupState> weak = m_state;
  future_state->SetCanceler([weak] {
    if (auto state = weak.lock()) state->CancelAll();
  });
  std::exception_ptr result;
  bool complete;
  {
    MutexLock lock(m_state->mutex);
    complete = m_state->pending == 0;
    if (complete) {
      result = m_state->mode == JoinMode::kFailFast ? m_state->first_error : nullptr;
    } else {
      m_state->watchers.push_back(future_state);
    }
  }
  if (complete) {
    if (result) {
      future_state->SetError(result);
    } else {
      future_state->SetValue(true);
    }
  }
  return Future<void>(future_state);
}

}  // namespace crossproc
