// Landlock and seccomp confinement of a process.
#include "common/sandbox.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <stdexcept>

// LeakSanitizer's entry point, present only in sanitizer builds.
extern "C" __attribute__((weak)) void __lsan_do_leak_check();

namespace minicoin {
namespace {

// Access rights newer than the installed kernel headers.
constexpr uint64_t kAccessRefer = 1ull << 13;     // ABI 2
constexpr uint64_t kAccessTruncate = 1ull << 14;  // ABI 3
constexpr uint64_t kAccessIoctlDev = 1ull << 15;  // ABI 5

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Closes a file descriptor on scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : m_fd(fd) {}
  ~FdCloser() {
    if (m_fd >= 0) close(m_fd);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;
  int get() const { return m_fd; }

 private:
  int m_fd;
};

int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;  // unknown: no /proc
}

// Every file-system right the kernel's ABI knows.
uint64_t HandledRights(int abi) {
  uint64_t rights = (1ull << 13) - 1;  // ABI 1: EXECUTE .. MAKE_SYM
  if (abi >= 2) rights |= kAccessRefer;
  if (abi >= 3) rights |= kAccessTruncate;
  if (abi >= 5) rights |= kAccessIoctlDev;
  return rights;
}

void AddPathRule(int ruleset, const std::filesystem::path& path, uint64_t rights) {
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(Errno("sandbox: cannot open " + path.string()));
  FdCloser closer(fd);
  struct stat info {};
  if (fstat(fd, &info) != 0) throw std::runtime_error(Errno("sandbox: cannot stat " + path.string()));
  if (!S_ISDIR(info.st_mode)) {
    // Rights that only make sense on folders cannot be given on a file.
    rights &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
              kAccessTruncate | kAccessIoctlDev;
  }
  landlock_path_beneath_attr rule{};
  rule.allowed_access = rights;
  rule.parent_fd = fd;
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
    throw std::runtime_error(Errno("sandbox: landlock_add_rule for " + path.string()));
  }
}

void ApplyLandlock(const SandboxOptions& options, int abi) {
  uint64_t handled = HandledRights(abi);
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = handled;
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0));
  if (ruleset < 0) throw std::runtime_error(Errno("sandbox: landlock_create_ruleset"));
  FdCloser closer(ruleset);
  for (const auto& path : options.read_write) AddPathRule(ruleset, path, handled);
  uint64_t read_only = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
  for (const auto& path : options.read_only) AddPathRule(ruleset, path, read_only);
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
    throw std::runtime_error(Errno("sandbox: landlock_restrict_self"));
  }
}

// The system calls a wallet process makes: memory, threads and their synchronisation, time,
// files (confined by Landlock), the IPC socket, signals to itself.
constexpr int kAllowed[] = {
    // memory
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(mremap), SCMP_SYS(madvise),
    SCMP_SYS(mincore), SCMP_SYS(membarrier), SCMP_SYS(mlock), SCMP_SYS(munlock),
    // threads, synchronisation, scheduling
    SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list), SCMP_SYS(rseq),
    SCMP_SYS(set_tid_address), SCMP_SYS(gettid), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity),
    SCMP_SYS(exit), SCMP_SYS(exit_group),
    // time
    SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday), SCMP_SYS(time),
    SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    // signals within the process
    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigtimedwait),
    SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
    // identity and limits (read only)
    SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid),
    SCMP_SYS(getegid), SCMP_SYS(getgroups), SCMP_SYS(getrlimit), SCMP_SYS(getrusage), SCMP_SYS(uname),
    SCMP_SYS(sysinfo), SCMP_SYS(getrandom), SCMP_SYS(getcwd), SCMP_SYS(umask),
    // file descriptors
    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
    SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(dup), SCMP_SYS(dup2),
    SCMP_SYS(dup3), SCMP_SYS(fcntl), SCMP_SYS(pipe2), SCMP_SYS(eventfd2), SCMP_SYS(poll), SCMP_SYS(ppoll),
    SCMP_SYS(select), SCMP_SYS(pselect6), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    // files (where Landlock allows)
    SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(stat), SCMP_SYS(fstat), SCMP_SYS(lstat), SCMP_SYS(newfstatat),
    SCMP_SYS(statx), SCMP_SYS(statfs), SCMP_SYS(fstatfs), SCMP_SYS(access), SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2), SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64), SCMP_SYS(mkdir),
    SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename),
    SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(ftruncate), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
    SCMP_SYS(flock), SCMP_SYS(fchmod), SCMP_SYS(fallocate), SCMP_SYS(utimensat),
    // the IPC socket (already open) and unix socket pairs
    SCMP_SYS(sendmsg), SCMP_SYS(recvmsg), SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(shutdown),
    SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
};

constexpr int kNetwork[] = {
    SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
};

// A condition on argument `index` (libseccomp's SCMP_A<n> macros are C compound literals).
scmp_arg_cmp Arg(unsigned index, scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  scmp_arg_cmp cmp{};
  cmp.arg = index;
  cmp.op = op;
  cmp.datum_a = a;
  cmp.datum_b = b;
  return cmp;
}

void Check(int rc, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string("sandbox: ") + what + ": " + std::strerror(-rc));
}

void ApplySeccomp(const SandboxOptions& options) {
  scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (filter == nullptr) throw std::runtime_error("sandbox: seccomp_init failed");
  struct Release {
    scmp_filter_ctx filter;
    ~Release() { seccomp_release(filter); }
  } release{filter};
  // All threads of the process get the filter, not only the caller.
  Check(seccomp_attr_set(filter, SCMP_FLTATR_CTL_TSYNC, 1), "TSYNC");
  for (int call : kAllowed) Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, call, 0), "rule");
  if (options.allow_network) {
    for (int call : kNetwork) Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, call, 0), "network rule");
  }
  // New threads, not new processes: clone needs CLONE_THREAD. clone3 passes its flags in memory
  // that seccomp cannot read, so it reports ENOSYS, and the C library falls back to clone.
  Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, Arg(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)),
        "clone rule");
  Check(seccomp_rule_add(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3 rule");
  // Unix socket pairs only.
  Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1, Arg(0, SCMP_CMP_EQ, AF_UNIX)), "socketpair rule");
  // Signals to this process only (raise, abort, pthread_kill).
  Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, Arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(getpid()))),
        "tgkill rule");
  Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1, Arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(getpid()))),
        "kill rule");
  // Thread names, and reading them.
  for (int option : {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE}) {
    Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, Arg(0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(option))),
          "prctl rule");
  }
  // Reading limits (prlimit64 with no new limit) and terminal checks (isatty).
  Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1, Arg(2, SCMP_CMP_EQ, 0)), "prlimit64 rule");
  for (unsigned long request : {static_cast<unsigned long>(TCGETS), static_cast<unsigned long>(FIONREAD),
                                static_cast<unsigned long>(FIONBIO), static_cast<unsigned long>(FIOCLEX)}) {
    Check(seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, Arg(1, SCMP_CMP_EQ, request)), "ioctl rule");
  }
  Check(seccomp_load(filter), "seccomp_load");
}

}  // namespace

int LandlockAbiVersion() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi < 0 ? 0 : static_cast<int>(abi);
}

SandboxReport ApplySandbox(const SandboxOptions& options) {
  int threads = ThreadCount();
  if (threads > 1) {
    throw std::logic_error("sandbox: ApplySandbox must run before the process starts threads (" +
                           std::to_string(threads) + " running)");
  }
  SandboxReport report;
  if (__lsan_do_leak_check != nullptr) {
    // The leak check at exit stops every thread with ptrace from a forked helper, which the
    // sandbox forbids: check now instead (the exit check is then skipped).
    __lsan_do_leak_check();
    report.warnings.push_back("sandbox: leaks were checked when the sandbox was applied; later ones are not reported");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) throw std::runtime_error(Errno("sandbox: PR_SET_NO_NEW_PRIVS"));
  report.landlock_abi = LandlockAbiVersion();
  if (report.landlock_abi > 0) {
    ApplyLandlock(options, report.landlock_abi);
  } else {
    report.warnings.push_back(
        "sandbox: the kernel has no Landlock (Linux 5.13 or later with landlock in the lsm= list): file access is "
        "not confined, only system calls are");
  }
  ApplySeccomp(options);
  report.seccomp = true;
  return report;
}

}  // namespace minicoin
