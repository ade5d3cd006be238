// Leader/follower reading: the waiting threads take turns holding the reader role, and the
// event-loop thread reads when nobody else does.
#include "runtime/connection_state.h"
#include "runtime/rpc_helpers.h"

namespace crossproc::detail {
namespace {
// How long the role of reader may stay free before the event-loop thread takes it (and writes
// deferred Finishes). Between two calls of one thread the role is free for a moment; the
// event-loop thread must not grab it then, or the next answer would cost a hand-off. Each time it
// checks, it wakes twice; at 2 ms that was 0.2 of the 2.4 context switches of a null call over
// both processes (and the caller's extra mutex sleeps), at 10 ms 0.04 (docs/performance.md).
constexpr auto kIdleBeforeEventLoopReads = std::chrono::milliseconds(10);
}  // namespace

void ConnectionState::ReadAsReader(UniqueLock& lock, Waiter& self) {
  if (OutboxDueBeforeRead()) {
    // Deferred messages (Finish) leave before a read that may block. While the lock is released
    // for the write, another reader may read and dispatch the very answer (or call) this thread
    // waits for, and let the role go again: then back to the caller's loop, which checks its
    // condition before reading. (Returning always would spin while another thread's write
    // blocks, and this thread must read then.)
    uint64_t reads = m_reads;
    lock.unlock(m_mutex);
    Flush();
    if (g_test_hook_after_flush_before_read) g_test_hook_after_flush_before_read();
    lock.lock(m_mutex);
    if (m_reader != nullptr || m_closed || m_reads != reads || !self.inbox.empty() || self.stop) return;
  }
  m_reader = &self;
  lock.unlock(m_mutex);
  transport::Frame frame;
  std::string error;
  try {
    frame = m_frames.ReadFrame(m_fd.get(), &self == m_io_waiter.get() ? std::chrono::microseconds{0}
                                                                       : m_options.spin_before_sleep);
    if (!frame) error = "peer closed the connection";
  } catch (const std::exception& e) {
    error = e.what();
  }
  lock.lock(m_mutex);
  m_reader = nullptr;
  ++m_reads;
  if (!error.empty()) {
    Disconnect(lock, error);
  } else if (!m_closed) {
    Dispatch(lock, self, std::move(frame));
  }
  if (!m_deferred.empty()) {
    auto deferred = std::move(m_deferred);
    m_deferred.clear();
    lock.unlock(m_mutex);
    deferred.clear();
    lock.lock(m_mutex);
  }
  RunCompletions(lock);
}

void ConnectionState::HandOffRole(UniqueLock& lock, const Waiter& self) {
  (void)lock;
  if (m_reader != nullptr || m_closed) return;
  if (!m_role_wanters.empty()) {
    Waiter* next = m_role_wanters.front();
    m_role_wanters.pop_front();
    next->wants_role = false;
    next->cv.notify_one();
    return;
  }
  // Nobody reads now: the event-loop thread takes over if that stays so for a moment (or at
  // once, if it is the one letting go: it is not about to come back for its own answer).
  if (&self == m_io_waiter.get()) return;
  m_last_release = std::chrono::steady_clock::now();
  if (m_io_untimed) {
    m_io_untimed = false;
    m_io_waiter->cv.notify_one();
  }
}

void ConnectionState::RunWork(UniqueLock& lock, Waiter& self) {
  Work work = std::move(self.inbox.front());
  self.inbox.pop_front();
  HandOffRole(lock, self);
  self.busy = true;
  lock.unlock(m_mutex);
  if (work.server) {
    ExecuteCall(work, self);
  }
  work = Work{};  // drops whatever it holds, outside the lock
  lock.lock(m_mutex);
  self.busy = false;
}

void ConnectionState::IoThreadMain() {
  SetCurrentThreadName(m_io_waiter->name);
  CurrentThreadState();  // the event-loop thread waits on its own waiter when it calls out
  Waiter& self = *m_io_waiter;
  {
    ThreadState& state = CurrentThreadState();
    state.waiter = m_io_waiter;
  }
  UniqueLock lock(m_mutex);
  while (true) {
    if (m_flush_requested) {
      m_flush_requested = false;
      lock.unlock();
      Flush();
      lock.lock();
      continue;
    }
    if (!self.inbox.empty()) {
      RunWork(lock, self);
      continue;
    }
    if (m_closed) break;
    if (m_reader == nullptr && m_role_wanters.empty()) {
      auto idle = m_async_outstanding > 0 ? kIdleBeforeEventLoopReads  // no need to read the clock
                                          : std::chrono::steady_clock::now() - m_last_release;
      if (idle >= kIdleBeforeEventLoopReads) {
        if (OutboxDueBeforeRead()) {  // replies, or deferred messages (Finish) before a read that may block
          lock.unlock();
          Flush();
          lock.lock();
          continue;
        }
        ReadAsReader(lock, self);
        continue;
      }
      self.cv.wait_for(lock.native(), kIdleBeforeEventLoopReads - idle);
      continue;
    }
    // Someone else reads, or wants to: make sure a wanter is woken if the role is free.
    HandOffRole(lock, self);
    m_io_untimed = true;
    self.cv.wait(lock.native());
    m_io_untimed = false;
  }
  // Closed: release everything the peer held, here, outside the lock.
  auto exports = std::move(m_exports);
  auto answers = std::move(m_answers);
  auto peer_thread_map = std::move(m_peer_thread_map);
  auto kept_thread_imports = std::move(m_kept_thread_imports);
  auto pool = std::move(m_pool);
  m_export_ids.clear();
  m_exports.clear();
  m_answers.clear();
  for (auto& [id, exported] : exports) {
    if (auto* thread = dynamic_cast<LocalThreadServer*>(exported.server.get()); thread && thread->server_thread()) {
      thread->waiter()->stop = true;
      thread->waiter()->cv.notify_all();
    }
  }
  lock.unlock();
  exports.clear();
  answers.clear();
  peer_thread_map.reset();
  kept_thread_imports.clear();
  lock.lock();
  while (!self.inbox.empty()) {
    Work work = std::move(self.inbox.front());
    self.inbox.pop_front();
    lock.unlock();
    work = Work{};
    lock.lock();
  }
}

}  // namespace crossproc::detail
