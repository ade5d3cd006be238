// A joinable thread with a chosen stack size (std::thread cannot set one).
#pragma once

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>

namespace crossproc::detail {

// Owns a running thread until Join or Detach. Movable, not copyable. Thread-compatible.
class NativeThread {
 public:
  NativeThread() = default;
  // Starts `body` on a new thread with `stack_bytes` of stack (0: the system's default).
  NativeThread(std::function<void()> body, std::size_t stack_bytes) {
    auto start = std::make_unique<std::function<void()>>(std::move(body));
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    if (stack_bytes != 0) pthread_attr_setstacksize(&attributes, stack_bytes);
    int error = pthread_create(&m_thread, &attributes, &Run, start.get());
    pthread_attr_destroy(&attributes);
    if (error != 0) throw std::runtime_error("cannot start a thread");
    start.release();  // the thread owns it now
    m_joinable = true;
  }
  NativeThread(NativeThread&& other) noexcept
      : m_thread(other.m_thread), m_joinable(std::exchange(other.m_joinable, false)) {}
  NativeThread& operator=(NativeThread&& other) noexcept {
    if (this != &other) {
      if (m_joinable) pthread_detach(m_thread);
      m_thread = other.m_thread;
      m_joinable = std::exchange(other.m_joinable, false);
    }
    return *this;
  }
  ~NativeThread() {
    if (m_joinable) pthread_detach(m_thread);
  }
  NativeThread(const NativeThread&) = delete;
  NativeThread& operator=(const NativeThread&) = delete;

  bool joinable() const { return m_joinable; }
  bool IsCurrent() const { return m_joinable && pthread_equal(m_thread, pthread_self()); }
  void Join() {
    if (!m_joinable) return;
    pthread_join(m_thread, nullptr);
    m_joinable = false;
  }
  void Detach() {
    if (!m_joinable) return;
    pthread_detach(m_thread);
    m_joinable = false;
  }

 private:
  static void* Run(void* argument) {
    std::unique_ptr<std::function<void()>> body(static_cast<std::function<void()>*>(argument));
    (*body)();
    return nullptr;
  }

  pthread_t m_thread{};
  bool m_joinable = false;
};

}  // namespace crossproc::detail
