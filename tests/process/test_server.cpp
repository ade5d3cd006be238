// A small program serving the test interfaces, started by the process tests:
//   crossproc-test-server -ipcfd <N>              serve the parent on descriptor N
//   crossproc-test-server -ipcbind=unix:<path>    listen until SIGTERM or SIGINT
//   crossproc-test-server -spawn-child            spawn a server child, print its pid, sleep
//   crossproc-test-server -probe=<path>           connect; exit 0 if refused, 1 if served
//   crossproc-test-server -probe-listen=<path>    listen; exit 0 if refused for lack of permission
// Add -debug=ipc to log every request and response to standard error.
#include <crossproc/listener.h>
#include <crossproc/process.h>

#include "test_interfaces.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <iostream>
#include <mutex>
#include <thread>

namespace {

class EchoImpl final : public rt::Echo {
 public:
  std::string echo(const std::string& text) override { return text; }
  void fail(const std::string& message) override { throw std::runtime_error(message); }
  int32_t callBack(const std::shared_ptr<rt::Callback>& callback, int32_t value) override { return callback->call(value) + 1; }
  // "<pid>:<server thread name>#<calls this thread served>"
  std::string threadName() override {
    static thread_local int calls = 0;
    char name[32] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    return std::to_string(::getpid()) + ":" + name + "#" + std::to_string(++calls);
  }
  void ping() override {}
  int32_t nested(const std::shared_ptr<rt::Callback>& callback, int32_t depth) override { return callback->call(depth) + 1; }
  void storeCallback(const std::shared_ptr<rt::Callback>&) override {}
  int32_t callStoredFromNewThread(int32_t) override { return 0; }
  void waitForInterrupt() override {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_cv.wait(lock, [&] { return m_interrupted; });
    m_interrupted = false;
  }
  void interrupt() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_interrupted = true;
    m_cv.notify_all();
  }
  void barrier(int32_t count) override { rt::WaitAtBarrier(count); }


 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_interrupted = false;
};

class InitImpl final : public rt::Init {
 public:
  std::unique_ptr<rt::Echo> makeEcho() override { return std::make_unique<EchoImpl>(); }
};

}  // namespace

int main(int argc, char** argv) {
  crossproc::ConnectionOptions options;
  options.name = "test-server";
  std::string bind;
  bool spawn_child = false;
  std::string probe;
  std::string probe_listen;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-debug=ipc") options.debug_ipc = true;
    if (arg.rfind("-ipcbind=", 0) == 0) bind = arg.substr(9);
    if (arg == "-spawn-child") spawn_child = true;
    if (arg.rfind("-probe=", 0) == 0) probe = arg.substr(7);
    if (arg.rfind("-probe-listen=", 0) == 0) probe_listen = arg.substr(14);
  }
  if (!probe.empty()) {
    try {
      options.log = nullptr;
      auto connection = crossproc::ConnectUnix(probe, options);
      connection->Bootstrap<rt::Init>();
      return 1;  // served
    } catch (const crossproc::Disconnected&) {
      return 0;  // refused: the listener closed the connection
    } catch (const std::exception& e) {
      std::cerr << "probe: " << e.what() << std::endl;
      return 2;
    }
  }
  if (!probe_listen.empty()) {
    try {
      crossproc::Listener listener(probe_listen, [] { return crossproc::MakeServer<rt::Init>(nullptr); });
      return 1;
    } catch (const std::exception& e) {
      return std::string(e.what()).find("Permission denied") != std::string::npos ? 0 : 2;
    }
  }
  if (auto code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<rt::Init>(std::make_shared<InitImpl>()), options)) {
    return *code;
  }
  if (spawn_child) {
    auto child = crossproc::SpawnProcess<rt::Init>(argv[0]);
    auto echo = child.init->makeEcho();
    std::cout << child.process->pid() << std::endl;
    while (true) ::pause();  // until killed
  }
  if (!bind.empty()) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    try {
      crossproc::Listener listener(crossproc::ResolveUnixAddress(bind, "/tmp/crossproc-test-server.sock"),
                                   [] { return crossproc::MakeServer<rt::Init>(std::make_shared<InitImpl>()); },
                                   crossproc::ListenOptions{128, std::nullopt, options});
      std::cout << "listening" << std::endl;
      int signal = 0;
      sigwait(&signals, &signal);
    } catch (const std::exception& e) {
      std::cerr << "crossproc-test-server: " << e.what() << std::endl;
      return 1;
    }
    return 0;
  }
  std::cerr << "usage: crossproc-test-server -ipcfd <N> | -ipcbind=unix:<path> | -spawn-child" << std::endl;
  return 2;
}
