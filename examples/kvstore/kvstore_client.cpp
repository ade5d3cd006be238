// kvstore-client: stores and reads values in a kvstore-server.
//   kvstore-client [set <key> <value> | get <key> | keys]...
//       starts its own kvstore-server as a child process (found next to this program)
//   kvstore-client -ipcconnect=unix:<path> [commands]...
//       uses a server started separately with -ipcbind
#include "kvstore.crossproc.h"

#include <crossproc/listener.h>
#include <crossproc/process.h>

#include <iostream>

int main(int argc, char** argv) {
  std::string connect;
  crossproc::ConnectionOptions options;
  options.name = "kvstore-client";
  std::vector<std::string> commands;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("-ipcconnect=", 0) == 0) {
      connect = arg.substr(12);
    } else if (arg == "-debug=ipc") {
      options.debug_ipc = true;
    } else {
      commands.push_back(arg);
    }
  }
  if (commands.empty()) commands = {"set", "greeting", "hello from the client", "get", "greeting", "keys"};
  try {
    // Either a child process we start, or a server somebody else started.
    std::optional<crossproc::Spawned<kv::Init>> child;
    std::unique_ptr<crossproc::Connection> connection;
    std::unique_ptr<kv::InitClient> init;
    if (connect.empty()) {
      crossproc::SpawnOptions spawn_options;
      spawn_options.connection = options;
      child = crossproc::SpawnProcess<kv::Init>("kvstore-server", spawn_options);
      std::cout << "started kvstore-server as process " << child->process->pid() << "\n";
    } else {
      connection = crossproc::ConnectUnix(crossproc::ResolveUnixAddress(connect, "/tmp/kvstore.sock"), options);
      init = connection->Bootstrap<kv::Init>();
    }
    kv::Init& server = child ? *child->init : *init;
    std::unique_ptr<kv::Store> store = server.makeStore();
    std::cout << "store lives in process " << store->serverPid() << "\n";
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (commands[i] == "set" && i + 2 < commands.size()) {
        store->set(commands[i + 1], commands[i + 2]);
        std::cout << "set " << commands[i + 1] << "\n";
        i += 2;
      } else if (commands[i] == "get" && i + 1 < commands.size()) {
        auto value = store->get(commands[i + 1]);
        std::cout << commands[i + 1] << " = " << (value ? *value : "(not set)") << "\n";
        i += 1;
      } else if (commands[i] == "keys") {
        for (const auto& key : store->keys()) std::cout << "key: " << key << "\n";
      } else {
        std::cerr << "unknown command: " << commands[i] << "\n";
        return 2;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "kvstore-client: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
