#include "wrapper/wrapper.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <system_error>

#include "common/args.h"

namespace minicoin::wrapper {
namespace {

// The options that make `minicoin node` and `minicoin gui` choose the multiprocess program.
constexpr std::array<std::string_view, 3> kIpcOptions{"ipcbind", "ipcconnect", "ipcfd"};

// One `-name[=value]` / `-noname[=value]` argument, read the way ArgsManager reads it.
struct Option {
  std::string name;  // without dashes and without the "no" of a negation
  std::optional<std::string> value;
  bool negated = false;
};

// Reads `arg` as an option whose name is one of `names`; nullopt for anything else (another
// option, a value, a malformed negation such as `-noipcbind=2`).
template <std::size_t N>
std::optional<Option> ReadOption(std::string_view arg,
                                 const std::array<std::string_view, N>& names) {
  if (arg.size() < 2 || arg[0] != '-') return std::nullopt;
  arg.remove_prefix(1);
  if (arg[0] == '-') arg.remove_prefix(1);  // --name
  Option option;
  std::string_view key = arg;
  if (std::size_t eq = arg.find('='); eq != std::string_view::npos) {
    key = arg.substr(0, eq);
    option.value = std::string(arg.substr(eq + 1));
  }
  auto known = [&](std::string_view candidate) {
    return std::find(names.begin(), names.end(), candidate) != names.end();
  };
  if (known(key)) {
    option.name = std::string(key);
    return option;
  }
  if (key.size() > 2 && key.substr(0, 2) == "no" && known(key.substr(2))) {
    option.name = std::string(key.substr(2));
    if (!option.value || *option.value == "1") {
      option.negated = true;
    } else if (*option.value == "0") {
      option.value = "1";  // `-nofoo=0` means `-foo`
    } else {
      return std::nullopt;  // rejected by the program itself
    }
    return option;
  }
  return std::nullopt;
}

// The last occurrence of option `name` among `args`, if any.
template <std::size_t N>
std::optional<Option> LastOption(const std::vector<std::string>& args, std::string_view name,
                                 const std::array<std::string_view, N>& names) {
  std::optional<Option> last;
  for (const std::string& arg : args) {
    std::optional<Option> option = ReadOption(arg, names);
    if (option && option->name == name) last = std::move(option);
  }
  return last;
}

// Whether the config file the program would read, given the -conf and -datadir of `args`, sets
// one of the options `names`.
bool ConfigWantsMultiprocess(const std::vector<std::string>& args,
                             const std::vector<std::string_view>& names) {
  constexpr std::array<std::string_view, 2> kFileOptions{"conf", "datadir"};
  std::optional<Option> conf = LastOption(args, "conf", kFileOptions);
  if (conf && conf->negated) return false;  // -noconf: no config file
  ArgsManager config;
  for (std::string_view name : kIpcOptions) {
    config.AddArg("-" + std::string(name) + "=<value>", "", kArgAllowList, "IPC options");
  }
  if (conf) config.ForceSetArg("-conf", conf->value.value_or("1"));
  std::optional<Option> datadir = LastOption(args, "datadir", kFileOptions);
  if (datadir && !datadir->negated) config.ForceSetArg("-datadir", datadir->value.value_or("1"));
  std::string error;
  if (!config.ReadConfigFile(error, /*ignore_unknown=*/true)) return false;
  return std::any_of(names.begin(), names.end(), [&](std::string_view name) {
    std::string option = "-" + std::string(name);
    return config.IsArgSet(option) && !config.IsArgNegated(option);
  });
}

}  // namespace

const CommandInfo* FindCommand(std::string_view name) {
  for (const CommandInfo& command : kCommands) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::optional<Request> ParseRequest(const std::vector<std::string>& argv, std::string& error) {
  Request request;
  bool multiprocess = false;
  bool one_process = false;
  std::size_t i = 0;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.empty() || arg[0] != '-') break;
    if (arg == "-m") {
      multiprocess = true;
    } else if (arg == "-M") {
      one_process = true;
    } else if (arg == "-h" || arg == "-help" || arg == "--help" || arg == "-?") {
      request.action = Request::Action::kHelp;
      return request;
    } else if (arg == "-version" || arg == "--version") {
      request.action = Request::Action::kVersion;
      return request;
    } else {
      error = "unknown option '" + arg +
              "' before the command (options of a program go after the command; see "
              "'minicoin help')";
      return std::nullopt;
    }
  }
  if (multiprocess && one_process) {
    error = "-m (multiprocess) and -M (one process) cannot be used together";
    return std::nullopt;
  }
  request.mode = multiprocess  ? ProcessMode::kMultiprocess
                 : one_process ? ProcessMode::kOneProcess
                               : ProcessMode::kAuto;
  if (i == argv.size() || argv[i] == "help") {
    request.action = Request::Action::kHelp;
    return request;
  }
  if (argv[i] == "version") {
    request.action = Request::Action::kVersion;
    return request;
  }
  request.command = FindCommand(argv[i]);
  if (request.command == nullptr) {
    error = "unknown command '" + argv[i] + "' (see 'minicoin help' for the commands)";
    return std::nullopt;
  }
  request.action = Request::Action::kRun;
  request.args.assign(argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, argv.end());
  return request;
}

bool WantsMultiprocess(const std::vector<std::string>& args) {
  // Per option, the command line's last `-x`/`-nox` wins over the config file (as ArgsManager
  // does: a negation on the command line also drops the config file's values).
  std::vector<std::string_view> from_config;
  for (std::string_view name : kIpcOptions) {
    std::optional<Option> last = LastOption(args, name, kIpcOptions);
    if (!last) {
      from_config.push_back(name);
    } else if (!last->negated) {
      return true;
    }
  }
  return !from_config.empty() && ConfigWantsMultiprocess(args, from_config);
}

std::string_view ProgramFor(const Request& request) {
  const CommandInfo& command = *request.command;
  if (command.multiprocess.empty()) return command.one_process;
  switch (request.mode) {
    case ProcessMode::kMultiprocess:
      return command.multiprocess;
    case ProcessMode::kOneProcess:
      return command.one_process;
    case ProcessMode::kAuto:
      break;
  }
  return WantsMultiprocess(request.args) ? command.multiprocess : command.one_process;
}

std::vector<std::filesystem::path> SearchDirectories(const std::filesystem::path& self_dir,
                                                     const char* path_env) {
  std::vector<std::filesystem::path> dirs;
  if (!self_dir.empty()) {
    dirs.push_back(self_dir);
    dirs.push_back((self_dir / ".." / "libexec").lexically_normal());
  }
  if (path_env != nullptr) {
    std::string_view path = path_env;
    while (true) {
      std::size_t colon = path.find(':');
      std::string_view entry = path.substr(0, colon);
      if (!entry.empty()) dirs.emplace_back(entry);
      if (colon == std::string_view::npos) break;
      path.remove_prefix(colon + 1);
    }
  }
  return dirs;
}

std::optional<std::filesystem::path> FindProgram(std::string_view name,
                                                 const std::vector<std::filesystem::path>& dirs) {
  for (const std::filesystem::path& dir : dirs) {
    std::filesystem::path candidate = dir / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

std::string HelpText() {
  std::ostringstream out;
  out << "Usage: minicoin [-m | -M] <command> [arguments...]\n"
         "Runs the minicoin program of <command> with the arguments, unchanged.\n\n"
         "Commands:\n";
  for (const CommandInfo& command : kCommands) {
    std::string name(command.name);
    name.resize(9, ' ');
    out << "  " << name << command.summary << ": " << command.one_process;
    if (!command.multiprocess.empty()) out << ", or " << command.multiprocess << " (multiprocess)";
    out << "\n";
  }
  out << "  help     this text (also -h, --help, or no command)\n"
         "  version  the version of minicoin (also --version)\n\n"
         "Options, before the command:\n"
         "  -m  run the multiprocess program (minicoin-node, minicoin-gui)\n"
         "  -M  run the one-process program (minicoind, minicoin-qt)\n"
         "Without -m or -M, the multiprocess program runs when -ipcbind, -ipcconnect or -ipcfd\n"
         "is set among the arguments or in the config file (-conf=<file>, default\n"
         "<datadir>/minicoin.conf; -datadir=<dir>, default $HOME/.minicoin); negations such as\n"
         "-noipcbind do not count. Commands with one program accept -m and -M and ignore them.\n"
         "Arguments after the command are the program's: `minicoin node -m` passes -m to it.\n\n"
         "The program is looked for next to this executable, then in ../libexec relative to\n"
         "it, then on PATH; exit code 127 when it is not found.\n";
  return out.str();
}

}  // namespace minicoin::wrapper
