// Mutexes whose locking rules the compiler checks: clang's thread-safety analysis
// (-Wthread-safety) proves at build time that every member marked CROSSPROC_GUARDED_BY(m) is
// touched only with `m` held, and that a function marked CROSSPROC_REQUIRES(m) is only called
// with it held. Other compilers see plain std::mutex wrappers.
//
//   class Counter {
//    public:
//     void Add() CROSSPROC_EXCLUDES(m_mutex) {
//       crossproc::MutexLock lock(m_mutex);
//       ++m_count;
//     }
//    private:
//     crossproc::Mutex m_mutex;
//     int m_count CROSSPROC_GUARDED_BY(m_mutex) = 0;
//   };
//
// Waiting on a condition variable: `cv.wait(lock.native())` in a loop that tests the guarded
// condition in the enclosing function (a predicate lambda is a function of its own to the
// analysis, which would have to be annotated CROSSPROC_REQUIRES itself).
#pragma once

#include <cassert>
#include <mutex>

#if defined(__clang__)
#define CROSSPROC_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CROSSPROC_THREAD_ANNOTATION(x)
#endif

// A type that is a lock (Mutex).
#define CROSSPROC_CAPABILITY(name) CROSSPROC_THREAD_ANNOTATION(capability(name))
// An RAII type that holds a lock for its lifetime (MutexLock, UniqueLock).
#define CROSSPROC_SCOPED_CAPABILITY CROSSPROC_THREAD_ANNOTATION(scoped_lockable)
// The member is read and written only with `m` held.
#define CROSSPROC_GUARDED_BY(m) CROSSPROC_THREAD_ANNOTATION(guarded_by(m))
// What the pointer member points to is touched only with `m` held.
#define CROSSPROC_PT_GUARDED_BY(m) CROSSPROC_THREAD_ANNOTATION(pt_guarded_by(m))
// The function is called with these locks held, and returns with them held.
#define CROSSPROC_REQUIRES(...) CROSSPROC_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The function is called without these locks (it takes them itself).
#define CROSSPROC_EXCLUDES(...) CROSSPROC_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
// The function takes (or gives back) these locks.
#define CROSSPROC_ACQUIRE(...) CROSSPROC_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define CROSSPROC_RELEASE(...) CROSSPROC_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define CROSSPROC_TRY_ACQUIRE(...) CROSSPROC_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
// The function returns the given lock (an accessor of a private mutex).
#define CROSSPROC_RETURN_CAPABILITY(m) CROSSPROC_THREAD_ANNOTATION(lock_returned(m))
// Tells the analysis the lock is held here (checked at run time where it can be).
#define CROSSPROC_ASSERT_CAPABILITY(m) CROSSPROC_THREAD_ANNOTATION(assert_capability(m))
// Turns the analysis off for one function: for code whose locking the analysis cannot follow;
// say why next to each use.
#define CROSSPROC_NO_THREAD_SAFETY_ANALYSIS CROSSPROC_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace crossproc {

// std::mutex, as a capability the analysis knows. native() is for std::condition_variable.
class CROSSPROC_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() CROSSPROC_ACQUIRE() { m_mutex.lock(); }
  void unlock() CROSSPROC_RELEASE() { m_mutex.unlock(); }
  bool try_lock() CROSSPROC_TRY_ACQUIRE(true) { return m_mutex.try_lock(); }
  // Declares to the analysis that the calling thread holds this mutex (it cannot be checked at
  // run time: std::mutex does not know its owner). For code reached only with the lock held
  // through a path the analysis does not see, such as a callback.
  void AssertHeld() const CROSSPROC_ASSERT_CAPABILITY(this) {}

  std::mutex& native() { return m_mutex; }

 private:
  std::mutex m_mutex;
};

// Holds a Mutex for its scope, like std::lock_guard.
class CROSSPROC_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) CROSSPROC_ACQUIRE(mutex) : m_mutex(mutex) { m_mutex.lock(); }
  ~MutexLock() CROSSPROC_RELEASE() { m_mutex.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& m_mutex;
};

// Holds a Mutex from construction, may give it up and take it again (unlock/lock), and waits
// on condition variables through native(), like std::unique_lock. Not movable.
class CROSSPROC_SCOPED_CAPABILITY UniqueLock {
 public:
  explicit UniqueLock(Mutex& mutex) CROSSPROC_ACQUIRE(mutex) : m_lock(mutex.native()) {}
  ~UniqueLock() CROSSPROC_RELEASE() = default;
  UniqueLock(const UniqueLock&) = delete;
  UniqueLock& operator=(const UniqueLock&) = delete;

  void lock() CROSSPROC_ACQUIRE() { m_lock.lock(); }
  void unlock() CROSSPROC_RELEASE() { m_lock.unlock(); }
  bool owns_lock() const { return m_lock.owns_lock(); }

  // The same, in a function handed this lock by reference (and marked
  // CROSSPROC_REQUIRES(mutex)): the analysis cannot tell which mutex a UniqueLock parameter
  // holds, so the call names it. `mutex` must be the one this lock was made with.
  // (Their bodies are what the annotations declare; the analysis cannot see through m_lock.)
  void unlock([[maybe_unused]] Mutex& mutex) CROSSPROC_RELEASE(mutex) CROSSPROC_NO_THREAD_SAFETY_ANALYSIS {
    assert(m_lock.mutex() == &mutex.native());
    m_lock.unlock();
  }
  void lock([[maybe_unused]] Mutex& mutex) CROSSPROC_ACQUIRE(mutex) CROSSPROC_NO_THREAD_SAFETY_ANALYSIS {
    assert(m_lock.mutex() == &mutex.native());
    m_lock.lock();
  }

  // For std::condition_variable::wait and friends, which release and retake the lock inside.
  std::unique_lock<std::mutex>& native() { return m_lock; }

 private:
  std::unique_lock<std::mutex> m_lock;
};

}  // namespace crossproc
