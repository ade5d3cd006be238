// Child processes: start over a socket pair with posix_spawn, wait, signal. (POSIX only; see
// docs/processes.md for the Windows plan.)
#include <crossproc/process.h>

#include "transport/socket.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace crossproc {
namespace {

std::string OwnExecutableDir() {
  char path[4096];
  ssize_t length = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (length <= 0) return {};
  std::string exe(path, static_cast<std::size_t>(length));
  auto slash = exe.rfind('/');
  return slash == std::string::npos ? std::string() : exe.substr(0, slash);
}

bool IsExecutableFile(const std::string& path) {
  struct stat info{};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string FindExecutable(const std::string& executable) {
  if (executable.empty()) throw std::runtime_error("no executable name given");
  std::string name = executable.substr(executable.rfind('/') + 1);
  if (std::string dir = OwnExecutableDir(); !dir.empty() && IsExecutableFile(dir + "/" + name)) {
    return dir + "/" + name;
  }
  if (executable.find('/') != std::string::npos) {
    if (IsExecutableFile(executable)) return executable;
    throw std::runtime_error("executable not found: " + executable);
  }
  if (const char* path = std::getenv("PATH")) {
    std::string paths = path;
    std::size_t start = 0;
    while (start <= paths.size()) {
      std::size_t end = paths.find(':', start);
      if (end == std::string::npos) end = paths.size();
      std::string candidate = paths.substr(start, end - start) + "/" + executable;
      if (end > start && IsExecutableFile(candidate)) return candidate;
      start = end + 1;
    }
  }
  throw std::runtime_error("executable not found next to this program or on PATH: " + executable);
}

SpawnedSocket SpawnWithSocket(const std::string& executable, const CommandLineBuilder& command_line) {
  std::string path = FindExecutable(executable);
  auto [parent_end, child_end] = transport::SocketPair();  // both close-on-exec
  int child_fd = child_end.get();
  std::vector<std::string> args = command_line ? command_line(path, child_fd)
                                               : std::vector<std::string>{path, "-ipcfd", std::to_string(child_fd)};
  if (args.empty()) throw std::runtime_error("the command line builder returned no arguments");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  // Everything is prepared before posix_spawn: the child runs no code of ours before exec.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 onto itself clears close-on-exec for the child's end, in the child only.
  posix_spawn_file_actions_adddup2(&actions, child_fd, child_fd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  sigset_t no_signals_blocked;
  sigemptyset(&no_signals_blocked);
  posix_spawnattr_setsigmask(&attributes, &no_signals_blocked);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int error = ::posix_spawn(&pid, path.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (error != 0) throw std::system_error(error, std::generic_category(), "starting " + path);

  SpawnedSocket spawned;
  spawned.process = std::make_unique<Process>(pid);
  child_end = transport::UniqueFd();  // the child has its copy
  spawned.fd = parent_end.release();
  return spawned;
}

SpawnedProcess SpawnConnected(const std::string& executable, const SpawnOptions& options) {
  SpawnedSocket socket = SpawnWithSocket(executable, options.command_line);
  SpawnedProcess spawned;
  spawned.process = std::move(socket.process);
  spawned.connection = std::make_unique<Connection>(socket.fd, options.connection);
  return spawned;
}

Process::~Process() {
  if (m_status) return;
  if (!WaitFor(m_exit_timeout)) {
    Signal(SIGKILL);
    Wait();
  }
}

int Process::Wait() {
  while (!m_status) {
    int status = 0;
    pid_t result = ::waitpid(m_pid, &status, 0);
    if (result == m_pid) {
      m_status = status;
    } else if (result < 0 && errno != EINTR) {
      m_status = -1;  // not our child any more (reaped elsewhere)
    }
  }
  return *m_status;
}

std::optional<int> Process::WaitFor(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  while (!m_status) {
    int status = 0;
    pid_t result = ::waitpid(m_pid, &status, WNOHANG);
    if (result == m_pid) {
      m_status = status;
      break;
    }
    if (result < 0 && errno != EINTR) {
      m_status = -1;
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  return m_status;
}

void Process::Signal(int signal) {
  if (!m_status) ::kill(m_pid, signal);
}

std::optional<int> ServeIfSpawned(int argc, const char* const* argv, std::shared_ptr<ServerBase> init,
                                  ConnectionOptions options) {
  int fd = -1;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "-ipcfd") == 0) {
      char* end = nullptr;
      long value = std::strtol(argv[i + 1], &end, 10);
      if (end == argv[i + 1] || *end != '\0' || value < 0 || value > 1 << 20) {
        if (options.log) options.log(LogLevel::kError, std::string("invalid -ipcfd value: ") + argv[i + 1]);
        return 1;
      }
      fd = static_cast<int>(value);
    }
  }
  if (fd < 0) return std::nullopt;
  if (::fcntl(fd, F_GETFD) < 0) {
    if (options.log) options.log(LogLevel::kError, "-ipcfd " + std::to_string(fd) + " is not an open descriptor");
    return 1;
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  ::signal(SIGINT, SIG_IGN);  // Ctrl-C reaches the whole group; the parent decides
  Connection connection(fd, std::move(init), std::move(options));
  connection.WaitForInitRelease();
  return 0;
}

}  // namespace crossproc
