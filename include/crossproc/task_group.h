// Structured fan-out and fan-in of asynchronous calls.
#pragma once

#include <crossproc/future.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace crossproc {

enum class JoinMode {
  kFailFast,    // the first error cancels the other branches and is rethrown by Join
  kBestEffort,  // every branch runs to its end; Join reports each outcome and never throws
};

namespace detail {
struct TaskGroupState;
}

// Starts calls (possibly on different connections), then joins them. A branch is the future of
// a call already sent; its handler, if any, runs with the value on the thread that completes it.
// Destroying a group cancels the branches still running and waits until no handler can run any
// more. Groups nest: AsFuture() is a branch for an enclosing group. Thread-safe.
//
//   crossproc::TaskGroup group(crossproc::JoinMode::kFailFast);
//   for (auto& wallet : wallets)
//     group.Add(wallet->balanceAsync(), [&](int64_t balance) { total += balance; });
//   group.Join();  // throws the first error; the other calls were canceled
class TaskGroup {
 public:
  explicit TaskGroup(JoinMode mode = JoinMode::kFailFast);
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Adds a branch; returns its index. A handler that throws fails the branch.
  template <typename T>
  std::size_t Add(Future<T> future) {
    return AddBranch([future] { future.Cancel(); },
                     [future](std::function<void(std::exception_ptr)> done) {
                       future.OnComplete([future, done = std::move(done)] { done(future.error()); });
                     });
  }
  template <typename T, typename F>
  std::size_t Add(Future<T> future, F handler) {
    return AddBranch([future] { future.Cancel(); },
                     [future, handler = std::move(handler)](std::function<void(std::exception_ptr)> done) mutable {
                       future.OnComplete([future, handler = std::move(handler), done = std::move(done)]() mutable {
                         std::exception_ptr error = future.error();
                         if (!error) {
                           try {
                             if constexpr (std::is_void_v<T>) {
                               handler();
                             } else {
                               handler(Future<T>(future).get());
                             }
                           } catch (...) {
                             error = std::current_exception();
                           }
                         }
                         done(error);
                       });
                     });
  }

  // Waits for every branch. In kFailFast mode rethrows the first error (the others were
  // canceled and have finished by then).
  void Join();
  // Like Join but gives up after `timeout`: then cancels what still runs, waits for it, and
  // throws crossproc::RemoteError(kOverloaded, "timed out") in kFailFast mode.
  void JoinFor(std::chrono::milliseconds timeout);
  // Cancels every branch that has not finished.
  void Cancel();

  std::size_t size() const;
  // After Join: null for a branch that succeeded, else its error.
  std::exception_ptr error(std::size_t branch) const;
  // A future that completes when the group does (failing with its first error in kFailFast
  // mode), and whose cancellation cancels the group: for nesting groups.
  Future<void> AsFuture();

 private:
  std::size_t AddBranch(std::function<void()> cancel,
                        std::function<void(std::function<void(std::exception_ptr)>)> start);
  std::shared_ptr<detail::TaskGroupState> m_state;
};

}  // namespace crossproc
