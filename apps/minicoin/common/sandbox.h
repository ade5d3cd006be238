// ApplySandbox: confines the calling process to given folders (Landlock) and to the system calls
// a wallet process needs (seccomp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace minicoin {

// What a sandboxed process may still do. Value type.
struct SandboxOptions {
  // Folders (and everything under them) the process may read, write, create and remove files in:
  // the wallet folder.
  std::vector<std::filesystem::path> read_write;
  // Folders or files it may read (and execute) only. Libraries already loaded need no entry.
  std::vector<std::filesystem::path> read_only;
  // Whether socket(), connect(), bind(), listen() and accept() stay allowed. File descriptors
  // open before the sandbox (the IPC socket) keep working either way.
  bool allow_network = false;
};

// What ApplySandbox put in place. Value type.
struct SandboxReport {
  // Landlock ABI version in force; 0 if the kernel has no Landlock, in which case only seccomp
  // restricts the process (file access is then not confined: see `warnings`).
  int landlock_abi = 0;
  bool seccomp = false;
  // Human-readable notes, such as the missing Landlock support, for the process's log.
  std::vector<std::string> warnings;
};

// Restricts the calling process, irreversibly:
//  - file access (Landlock): only under `read_write` (all rights) and `read_only` (read,
//    execute); elsewhere open() fails with EACCES;
//  - system calls (seccomp, all threads): only those a wallet process uses (listed in
//    docs/reliability.md); any other fails with EPERM instead of killing the process, so that
//    errors say what was refused. Always denied: execve, execveat, fork-like clone, ptrace,
//    mount, bpf, kernel modules, keyrings, reboot and the like; with allow_network false also
//    socket, connect, bind, listen, accept.
// Must run before the process starts any thread (Landlock confines the calling thread and the
// threads it starts later, not those already running): throws std::logic_error otherwise.
// Throws std::runtime_error (with the reason) if a folder cannot be opened or the kernel refuses
// the restrictions. Sets no_new_privs. In LeakSanitizer builds, runs the leak check now, since
// the one at exit cannot run in the sandbox.
//
//   minicoin::SandboxOptions sandbox;
//   sandbox.read_write = {wallet_dir};
//   for (const auto& warning : minicoin::ApplySandbox(sandbox).warnings) log.Warning(...);
SandboxReport ApplySandbox(const SandboxOptions& options);

// The Landlock ABI version the kernel offers, 0 if none.
int LandlockAbiVersion();

}  // namespace minicoin
