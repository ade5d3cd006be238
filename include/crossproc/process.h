// Starting a program as a child process connected over a socket pair, and serving in one.
#pragma once

#include <crossproc/connection.h>

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crossproc {

// A child process. Owns its process ID: the destructor reaps the child, waiting for it to exit
// (it exits by itself once its connection is closed) and killing it if it has not exited after
// `exit_timeout`. Not copyable or movable. Thread-compatible.
class Process {
 public:
  explicit Process(pid_t pid, std::chrono::milliseconds exit_timeout = std::chrono::seconds(5))
      : m_pid(pid), m_exit_timeout(exit_timeout) {}
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return m_pid; }
  // Waits for the child to exit; returns its wait status (see waitpid). Idempotent.
  int Wait();
  // Like Wait, but gives up after `timeout` and returns nullopt if the child still runs.
  std::optional<int> WaitFor(std::chrono::milliseconds timeout);
  // Sends a signal to the child, if it has not been reaped yet.
  void Signal(int signal);

 private:
  pid_t m_pid;
  std::chrono::milliseconds m_exit_timeout;
  std::optional<int> m_status;
};

// Builds the command line of a child: by default {executable, "-ipcfd", "<fd>"}.
using CommandLineBuilder = std::function<std::vector<std::string>(const std::string& executable, int fd)>;

struct SpawnOptions {
  // Another convention, for example [](auto& exe, int fd) { return {exe, std::to_string(fd)}; }.
  CommandLineBuilder command_line;
  // For the connection to the child.
  ConnectionOptions connection;
};

// A started child and the connection to it. Members are declared so that they are destroyed
// in the right order: first the proxy, then the connection (which makes the child exit), then
// the process (which reaps it).
struct SpawnedProcess {
  std::unique_ptr<Process> process;
  std::unique_ptr<Connection> connection;
};

// Finds `executable`: next to this program's own executable first, then as given (a path) or
// on PATH. Throws std::runtime_error if it is nowhere.
std::string FindExecutable(const std::string& executable);

// A started child and this side's end of its socket pair, for programs that speak something
// else than crossproc on it.
struct SpawnedSocket {
  std::unique_ptr<Process> process;
  int fd = -1;  // owned by the caller
};

// Starts `executable` with one end of a new socket pair open as file descriptor N (and no
// other of this process's descriptors), as `<executable> -ipcfd <N>` unless `command_line`
// says otherwise. Safe in a multithreaded program (posix_spawn: nothing runs between fork and
// exec).
SpawnedSocket SpawnWithSocket(const std::string& executable, const CommandLineBuilder& command_line = {});

// SpawnWithSocket, then a Connection over the socket.
SpawnedProcess SpawnConnected(const std::string& executable, const SpawnOptions& options = {});

// Starts a child and returns it with a proxy for its Init (after the construct exchange).
template <typename I>
struct Spawned {
  std::unique_ptr<Process> process;
  std::unique_ptr<Connection> connection;
  std::unique_ptr<typename InterfaceTraits<I>::Client> init;
};
template <typename I>
Spawned<I> SpawnProcess(const std::string& executable, const SpawnOptions& options = {}) {
  SpawnedProcess spawned = SpawnConnected(executable, options);
  Spawned<I> result;
  result.process = std::move(spawned.process);
  result.connection = std::move(spawned.connection);
  result.init = result.connection->template Bootstrap<I>();
  return result;
}

// In a program's main: if the command line is `-ipcfd <N>`, serves `init` on descriptor N until
// the parent disconnects and returns the exit code to return from main; otherwise returns
// nullopt and the program goes on as usual. While serving, SIGINT is ignored: a child shuts
// down through its parent.
std::optional<int> ServeIfSpawned(int argc, const char* const* argv, std::shared_ptr<ServerBase> init,
                                  ConnectionOptions options = {});
template <typename I>
  requires(!std::is_base_of_v<ServerBase, I>)
std::optional<int> ServeIfSpawned(int argc, const char* const* argv, std::shared_ptr<I> init,
                                  ConnectionOptions options = {}) {
  return ServeIfSpawned(argc, argv,
                        std::shared_ptr<ServerBase>(std::make_shared<typename InterfaceTraits<I>::Server>(std::move(init))),
                        std::move(options));
}

}  // namespace crossproc
