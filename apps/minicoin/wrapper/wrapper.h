// The `minicoin <command>` front command: its command table, argument parsing, the choice
// between one-process and multiprocess programs, and the search for the program to run.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace minicoin::wrapper {

// One command of `minicoin`. `multiprocess` is empty for a command with a single program.
// Immutable.
struct CommandInfo {
  std::string_view name;
  std::string_view one_process;
  std::string_view multiprocess;
  std::string_view summary;
};

inline constexpr std::array<CommandInfo, 6> kCommands{{
    {"node", "minicoind", "minicoin-node", "the node"},
    {"gui", "minicoin-qt", "minicoin-gui", "the graphical interface"},
    {"wallet", "minicoin-wallet", "", "the wallet process"},
    {"cli", "minicoin-cli", "", "the JSON-RPC client of the node"},
    {"miner", "minicoin-miner", "", "the miner"},
    {"tx", "minicoin-tx", "", "offline keys and transactions"},
}};

// The command named `name`, or nullptr.
const CommandInfo* FindCommand(std::string_view name);

// Which of a command's two programs to run.
enum class ProcessMode {
  kAuto,          // decided by the -ipc* options (WantsMultiprocess)
  kMultiprocess,  // -m
  kOneProcess,    // -M
};

// What the command line asks for.
struct Request {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kHelp;
  ProcessMode mode = ProcessMode::kAuto;
  const CommandInfo* command = nullptr;  // set for kRun
  std::vector<std::string> args;         // everything after the command, unchanged
};

// Parses the arguments after argv[0]: `[-m|-M] <command> [args...]`. The wrapper's options
// (-m, -M, -h, -help, --help, -version, --version) come before the command; everything after
// the command belongs to the program. nullopt with `error` for an unknown option, an unknown
// command, or -m together with -M.
std::optional<Request> ParseRequest(const std::vector<std::string>& argv, std::string& error);

// True when -ipcbind, -ipcconnect or -ipcfd is set, by `args` (anywhere among them; `-x=v`,
// `--x`, `-x`; the last of `-x`/`-nox` wins) or, when `args` do not mention it, by the config
// file the node would read: -conf (relative to the data directory; -noconf reads none) or
// <datadir>/minicoin.conf, the data directory being -datadir or $HOME/.minicoin. A config file
// that cannot be read or parsed counts as empty: the program itself reports it.
bool WantsMultiprocess(const std::vector<std::string>& args);

// The program `request` runs: its command's multiprocess one for kMultiprocess, or for kAuto
// when WantsMultiprocess(args); otherwise the one-process one.
std::string_view ProgramFor(const Request& request);

// Where programs are looked for, in order: `self_dir`, `self_dir`/../libexec (both skipped when
// `self_dir` is empty), then each non-empty entry of `path_env` (nullptr: PATH unset).
std::vector<std::filesystem::path> SearchDirectories(const std::filesystem::path& self_dir,
                                                     const char* path_env);

// The first `dir`/`name` that is a regular file the caller may execute, or nullopt.
std::optional<std::filesystem::path> FindProgram(std::string_view name,
                                                 const std::vector<std::filesystem::path>& dirs);

// The text of `minicoin help`.
std::string HelpText();

}  // namespace minicoin::wrapper
