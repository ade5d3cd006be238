// Wrong uses of crossproc/sync.h, each of which the analysis must reject; the check compiles
// this file once per VIOLATION_n and expects the diagnostic named beside it.
#include <crossproc/sync.h>

namespace {

class Counter {
 public:
  void Unlocked() {
#if VIOLATION == 1  // expect: writing variable 'm_count' requires holding mutex 'm_mutex'
    ++m_count;
#endif
  }
  void CallsLockedHelper() {
#if VIOLATION == 2  // expect: calling function 'AddLocked' requires holding mutex 'm_mutex'
    AddLocked();
#endif
  }
  void LocksTwice() {
    crossproc::MutexLock lock(m_mutex);
#if VIOLATION == 3  // expect: cannot call function 'Add' while mutex 'm_mutex' is held
    Add();
#endif
  }
  int UsesAfterUnlock() {
    crossproc::UniqueLock lock(m_mutex);
    lock.unlock();
#if VIOLATION == 4  // expect: reading variable 'm_count' requires holding mutex 'm_mutex'
    return m_count;
#endif
    return 0;
  }
  void Add() CROSSPROC_EXCLUDES(m_mutex) {
    crossproc::MutexLock lock(m_mutex);
    AddLocked();
  }

 private:
  void AddLocked() CROSSPROC_REQUIRES(m_mutex) { ++m_count; }

  crossproc::Mutex m_mutex;
  int m_count CROSSPROC_GUARDED_BY(m_mutex) = 0;
};

}  // namespace

int main() {
  Counter counter;
  counter.Unlocked();
  counter.CallsLockedHelper();
  counter.LocksTwice();
  return counter.UsesAfterUnlock();
}
