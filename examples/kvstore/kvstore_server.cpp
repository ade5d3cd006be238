// kvstore-server: serves one key-value store to every client.
//   kvstore-server -ipcfd <N>               started by a client (SpawnProcess)
//   kvstore-server -ipcbind=unix:<path>     listen until interrupted (Ctrl-C)
// Add -debug=ipc to print every request and response.
#include "kvstore.crossproc.h"

#include <crossproc/listener.h>
#include <crossproc/process.h>

#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <mutex>

namespace {

// The store, shared by every connection. Thread-safe.
class StoreImpl final : public kv::Store {
 public:
  void set(const std::string& key, const std::string& value) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_values[key] = value;
  }
  std::optional<std::string> get(const std::string& key) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    auto it = m_values.find(key);
    if (it == m_values.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> keys() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<std::string> keys;
    for (const auto& [key, value] : m_values) keys.push_back(key);
    return keys;
  }
  int32_t serverPid() override { return static_cast<int32_t>(::getpid()); }

 private:
  std::mutex m_mutex;
  std::map<std::string, std::string> m_values;
};

// Hands every client a proxy to the one shared store.
class InitImpl final : public kv::Init {
 public:
  explicit InitImpl(std::shared_ptr<StoreImpl> store) : m_store(std::move(store)) {}
  std::unique_ptr<kv::Store> makeStore() override { return std::make_unique<StoreView>(m_store); }

 private:
  // A per-client handle; destroying it leaves the shared store alone.
  class StoreView final : public kv::Store {
   public:
    explicit StoreView(std::shared_ptr<StoreImpl> store) : m_store(std::move(store)) {}
    void set(const std::string& key, const std::string& value) override { m_store->set(key, value); }
    std::optional<std::string> get(const std::string& key) override { return m_store->get(key); }
    std::vector<std::string> keys() override { return m_store->keys(); }
    int32_t serverPid() override { return m_store->serverPid(); }

   private:
    std::shared_ptr<StoreImpl> m_store;
  };
  std::shared_ptr<StoreImpl> m_store;
};

}  // namespace

int main(int argc, char** argv) {
  auto store = std::make_shared<StoreImpl>();
  crossproc::ConnectionOptions options;
  options.name = "kvstore-server";
  std::string bind;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-debug=ipc") options.debug_ipc = true;
    if (arg.rfind("-ipcbind=", 0) == 0) bind = arg.substr(9);
  }
  if (auto code = crossproc::ServeIfSpawned(argc, argv, std::shared_ptr<kv::Init>(std::make_shared<InitImpl>(store)), options)) {
    return *code;
  }
  if (bind.empty()) {
    std::cerr << "usage: kvstore-server -ipcbind=unix:<path> [-debug=ipc]  (or started by kvstore-client)\n";
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    crossproc::Listener listener(crossproc::ResolveUnixAddress(bind, "/tmp/kvstore.sock"),
                                 [&] { return crossproc::MakeServer<kv::Init>(std::make_shared<InitImpl>(store)); },
                                 crossproc::ListenOptions{128, std::nullopt, options});
    std::cout << "kvstore-server listening on " << listener.path() << std::endl;
    int signal = 0;
    sigwait(&signals, &signal);
    std::cout << "kvstore-server: stopping" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "kvstore-server: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
