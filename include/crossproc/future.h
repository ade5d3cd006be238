// The result of a call that has not finished yet.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include <crossproc/sync.h>

namespace crossproc {

namespace detail {

// Shared state of a Future: filled once, by the thread that completes the call. Thread-safe.
template <typename T>
class FutureState {
 public:
  using Value = std::conditional_t<std::is_void_v<T>, bool, T>;

  void SetValue(Value value) { Complete(std::move(value), nullptr); }
  void SetError(std::exception_ptr error) { Complete(std::nullopt, std::move(error)); }

  bool ready() const CROSSPROC_EXCLUDES(m_mutex) {
    MutexLock lock(m_mutex);
    return m_ready;
  }
  void Wait() const CROSSPROC_EXCLUDES(m_mutex) {
    UniqueLock lock(m_mutex);
    while (!m_ready) m_cv.wait(lock.native());
  }
  bool WaitFor(std::chrono::nanoseconds timeout) const CROSSPROC_EXCLUDES(m_mutex) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    UniqueLock lock(m_mutex);
    while (!m_ready) {
      if (m_cv.wait_until(lock.native(), deadline) == std::cv_status::timeout) return m_ready;
    }
    return true;
  }
  // Blocks, then returns the value or rethrows the error. The value is moved out: once.
  Value Take() CROSSPROC_EXCLUDES(m_mutex) {
    UniqueLock lock(m_mutex);
    while (!m_ready) m_cv.wait(lock.native());
    if (m_error) std::rethrow_exception(m_error);
    if (!m_value) throw std::logic_error("crossproc::Future::get called twice");
    Value value = std::move(*m_value);
    m_value.reset();
    return value;
  }
  std::exception_ptr error() const CROSSPROC_EXCLUDES(m_mutex) {
    MutexLock lock(m_mutex);
    return m_error;
  }
  // Runs `callback` when the state completes (at once, on this thread, if it already has);
  // otherwise on the completing thread.
  void OnComplete(std::function<void()> callback) CROSSPROC_EXCLUDES(m_mutex) {
    {
      MutexLock lock(m_mutex);
      if (!m_ready) {
        m_callbacks.push_back(std::move(callback));
        return;
      }
    }
    callback();
  }
  // Asks whoever runs the operation to stop it (see Future::Cancel).
  void SetCanceler(std::function<void()> canceler) CROSSPROC_EXCLUDES(m_mutex) {
    MutexLock lock(m_mutex);
    m_canceler = std::move(canceler);
  }
  void Cancel() CROSSPROC_EXCLUDES(m_mutex) {
    std::function<void()> canceler;
    {
      MutexLock lock(m_mutex);
      if (m_ready) return;
      canceler = std::move(m_canceler);
    }
    if (canceler) canceler();
  }

 private:
  void Complete(std::optional<Value> value, std::exception_ptr error) CROSSPROC_EXCLUDES(m_mutex) {
    std::vector<std::function<void()>> callbacks;
    {
      MutexLock lock(m_mutex);
      if (m_ready) return;  // first completion wins (a cancel racing with the answer)
      m_value = std::move(value);
      m_error = std::move(error);
      m_ready = true;
      m_canceler = nullptr;
      callbacks.swap(m_callbacks);
    }
    m_cv.notify_all();
    for (auto& callback : callbacks) callback();
  }

  mutable Mutex m_mutex;
  mutable std::condition_variable m_cv;
  bool m_ready CROSSPROC_GUARDED_BY(m_mutex) = false;
  std::optional<Value> m_value CROSSPROC_GUARDED_BY(m_mutex);
  std::exception_ptr m_error CROSSPROC_GUARDED_BY(m_mutex);
  std::vector<std::function<void()>> m_callbacks CROSSPROC_GUARDED_BY(m_mutex);
  std::function<void()> m_canceler CROSSPROC_GUARDED_BY(m_mutex);
};

// The type a continuation returns: fn(T), or fn() for void.
template <typename T, typename F>
struct ThenResult {
  using type = std::invoke_result_t<F, T>;
};
template <typename F>
struct ThenResult<void, F> {
  using type = std::invoke_result_t<F>;
};

}  // namespace detail

// The result of an asynchronous call: wait for it, read it (rethrowing a remote error), chain a
// continuation, or cancel the call. Copies share one state. Thread-safe.
//
//   crossproc::Future<double> sum = calculator->addAsync(2, 3);
//   ... other work, other calls in flight ...
//   double value = sum.get();  // rethrows crossproc::RemoteError / Disconnected
template <typename T>
class Future {
 public:
  using State = detail::FutureState<T>;

  Future() = default;
  explicit Future(std::shared_ptr<State> state) : m_state(std::move(state)) {}

  bool valid() const { return m_state != nullptr; }
  bool ready() const { return m_state->ready(); }
  void wait() const { m_state->Wait(); }
  template <typename Rep, typename Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return m_state->WaitFor(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
  }
  // The value; rethrows the call's error. May be called once.
  T get() {
    if constexpr (std::is_void_v<T>) {
      m_state->Take();
    } else {
      return m_state->Take();
    }
  }
  // The error, once ready (null if the call succeeded).
  std::exception_ptr error() const { return m_state->error(); }

  // Calls `callback()` when the result is ready: at once if it is, else on the thread that
  // completes the call (the one that read the answer). Keep callbacks short.
  void OnComplete(std::function<void()> callback) const { m_state->OnComplete(std::move(callback)); }

  // A future for fn(value) (or fn() for Future<void>), run when this one is ready; an error
  // skips fn and passes on.
  template <typename F>
  auto then(F fn) const {
    using U = typename detail::ThenResult<T, F>::type;
    auto next = std::make_shared<detail::FutureState<U>>();
    auto state = m_state;
    next->SetCanceler([state] { state->Cancel(); });
    m_state->OnComplete([state, next, fn = std::move(fn)]() mutable {
      try {
        if constexpr (std::is_void_v<T> && std::is_void_v<U>) {
          state->Take();
          fn();
          next->SetValue(true);
        } else if constexpr (std::is_void_v<T>) {
          state->Take();
          next->SetValue(fn());
        } else if constexpr (std::is_void_v<U>) {
          fn(state->Take());
          next->SetValue(true);
        } else {
          next->SetValue(fn(state->Take()));
        }
      } catch (...) {
        next->SetError(std::current_exception());
      }
    });
    return Future<U>(next);
  }

  // Asks for the call to stop: the peer is told (it sees the request as canceled) and this
  // future fails with crossproc::RemoteError (kFailed, "canceled") unless the answer won the
  // race. No effect on a ready future.
  void Cancel() const { m_state->Cancel(); }

  const std::shared_ptr<State>& state() const { return m_state; }

 private:
  std::shared_ptr<State> m_state;
};

// A future that is already complete.
template <typename T>
Future<T> MakeReadyFuture(T value) {
  auto state = std::make_shared<detail::FutureState<T>>();
  state->SetValue(std::move(value));
  return Future<T>(state);
}

}  // namespace crossproc
