// Correct uses of crossproc/sync.h: must compile without a thread-safety warning.
#include <crossproc/sync.h>

#include <condition_variable>

namespace {

class Queue {
 public:
  void Push(int value) CROSSPROC_EXCLUDES(m_mutex) {
    crossproc::MutexLock lock(m_mutex);
    m_value = value;
    m_cv.notify_all();
  }
  int Pop() CROSSPROC_EXCLUDES(m_mutex) {
    crossproc::UniqueLock lock(m_mutex);
    while (m_value == 0) m_cv.wait(lock.native());
    return TakeLocked(lock);
  }

 private:
  // Handed the held lock: gives it up for a moment, by name, and takes it back.
  int TakeLocked(crossproc::UniqueLock& lock) CROSSPROC_REQUIRES(m_mutex) {
    const int value = m_value;
    m_value = 0;
    lock.unlock(m_mutex);
    Work();
    lock.lock(m_mutex);
    return value + m_value;
  }
  void Work() CROSSPROC_EXCLUDES(m_mutex) {}

  crossproc::Mutex m_mutex;
  std::condition_variable m_cv;
  int m_value CROSSPROC_GUARDED_BY(m_mutex) = 0;
};

}  // namespace

int main() {
  Queue queue;
  queue.Push(1);
  return queue.Pop() == 1 ? 0 : 1;
}
