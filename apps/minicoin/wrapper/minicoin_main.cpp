// minicoin: one command in front of the minicoin programs (`minicoin node`, `minicoin cli ...`).
// It finds the program of the command and replaces itself with it (execv); see docs/wrapper.md.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "wrapper/wrapper.h"

namespace {

constexpr int kExitUsage = 1;
constexpr int kExitCannotRun = 126;  // found but not executable (as a shell reports it)
constexpr int kExitNotFound = 127;   // not found (as a shell reports it)

// The folder of this executable, symlinks resolved; empty if /proc/self/exe cannot be read.
std::filesystem::path SelfDirectory() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : self.parent_path();
}

// "a, b, c", the searched places for the not-found message.
std::string DescribeSearch(const std::filesystem::path& self_dir, const char* path_env,
                           const std::vector<std::filesystem::path>& dirs) {
  std::string text;
  for (const std::filesystem::path& dir : dirs) {
    if (!text.empty()) text += ", ";
    text += dir.string();
  }
  if (self_dir.empty()) {
    text = "(the folder of minicoin is unknown: /proc/self/exe cannot be read) " + text;
  }
  if (path_env == nullptr) text += text.empty() ? "(PATH is not set)" : " (PATH is not set)";
  return text;
}

int Run(const minicoin::wrapper::Request& request) {
  std::string program(minicoin::wrapper::ProgramFor(request));
  std::filesystem::path self_dir = SelfDirectory();
  const char* path_env = std::getenv("PATH");
  std::vector<std::filesystem::path> dirs =
      minicoin::wrapper::SearchDirectories(self_dir, path_env);
  std::optional<std::filesystem::path> found = minicoin::wrapper::FindProgram(program, dirs);
  if (!found) {
    std::cerr << "minicoin: " << program << " (for '" << request.command->name
              << "') not found; searched: " << DescribeSearch(self_dir, path_env, dirs) << "\n";
    return kExitNotFound;
  }
  std::vector<char*> argv;
  argv.reserve(request.args.size() + 2);
  argv.push_back(program.data());
  for (const std::string& arg : request.args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  ::execv(found->c_str(), argv.data());
  int error = errno;
  std::cerr << "minicoin: cannot run " << found->string() << ": " << std::strerror(error) << "\n";
  return error == ENOENT ? kExitNotFound : kExitCannotRun;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + argc);
  std::string error;
  std::optional<minicoin::wrapper::Request> request = minicoin::wrapper::ParseRequest(args, error);
  if (!request) {
    std::cerr << "minicoin: " << error << "\n";
    return kExitUsage;
  }
  switch (request->action) {
    case minicoin::wrapper::Request::Action::kHelp:
      std::cout << "minicoin " << MINICOIN_VERSION << "\n\n" << minicoin::wrapper::HelpText();
      return 0;
    case minicoin::wrapper::Request::Action::kVersion:
      std::cout << "minicoin " << MINICOIN_VERSION << "\n";
      return 0;
    case minicoin::wrapper::Request::Action::kRun:
      break;
  }
  return Run(*request);
}
