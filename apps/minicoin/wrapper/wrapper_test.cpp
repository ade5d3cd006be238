#include "wrapper/wrapper.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace minicoin::wrapper {
namespace {

using Args = std::vector<std::string>;

// A temporary $HOME (so that the default config file is ours) and data directory.
class WrapperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/minicoin_wrapper_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    m_root = pattern;
    const char* home = std::getenv("HOME");
    if (home != nullptr) m_saved_home = home;
    ::setenv("HOME", m_root.c_str(), 1);
    std::filesystem::create_directories(m_root / ".minicoin");
    std::filesystem::create_directories(m_root / "data");
  }
  void TearDown() override {
    if (m_saved_home) {
      ::setenv("HOME", m_saved_home->c_str(), 1);
    } else {
      ::unsetenv("HOME");
    }
    std::filesystem::remove_all(m_root);
  }
  void Write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  std::filesystem::path m_root;
  std::optional<std::string> m_saved_home;
};

TEST_F(WrapperTest, ParsesOptionsBeforeTheCommandOnly) {
  std::string error;
  std::optional<Request> request = ParseRequest({"-m", "node", "-M", "x y"}, error);
  ASSERT_TRUE(request) << error;
  EXPECT_EQ(request->action, Request::Action::kRun);
  EXPECT_EQ(request->mode, ProcessMode::kMultiprocess);
  EXPECT_EQ(request->command->name, "node");
  EXPECT_EQ(request->args, (Args{"-M", "x y"}));

  request = ParseRequest({"-M", "gui"}, error);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->mode, ProcessMode::kOneProcess);
  EXPECT_EQ(ProgramFor(*request), "minicoin-qt");

  EXPECT_FALSE(ParseRequest({"-m", "-M", "node"}, error));
  EXPECT_NE(error.find("-m"), std::string::npos);
  EXPECT_FALSE(ParseRequest({"-M", "-m", "wallet"}, error));
  EXPECT_FALSE(ParseRequest({"-x", "node"}, error));
  EXPECT_NE(error.find("'-x'"), std::string::npos);
  EXPECT_FALSE(ParseRequest({"frobnicate"}, error));
  EXPECT_NE(error.find("'frobnicate'"), std::string::npos);
  EXPECT_FALSE(ParseRequest({"minicoind"}, error));
}

TEST_F(WrapperTest, HelpAndVersion) {
  std::string error;
  for (const Args& args : {Args{}, Args{"help"}, Args{"-h"}, Args{"--help"}, Args{"-m", "help"}}) {
    std::optional<Request> request = ParseRequest(args, error);
    ASSERT_TRUE(request);
    EXPECT_EQ(request->action, Request::Action::kHelp);
  }
  for (const Args& args : {Args{"version"}, Args{"--version"}, Args{"-version"}}) {
    std::optional<Request> request = ParseRequest(args, error);
    ASSERT_TRUE(request);
    EXPECT_EQ(request->action, Request::Action::kVersion);
  }
  std::string help = HelpText();
  for (const CommandInfo& command : kCommands) {
    EXPECT_NE(help.find("  " + std::string(command.name) + " "), std::string::npos) << command.name;
    EXPECT_NE(help.find(command.one_process), std::string::npos) << command.name;
  }
}

TEST_F(WrapperTest, SingleProgramCommandsIgnoreTheMode) {
  std::string error;
  for (const char* mode : {"-m", "-M"}) {
    std::optional<Request> request = ParseRequest({mode, "cli", "-ipcconnect=unix"}, error);
    ASSERT_TRUE(request);
    EXPECT_EQ(ProgramFor(*request), "minicoin-cli");
  }
}

TEST_F(WrapperTest, CommandLineIpcOptions) {
  for (const Args& args :
       {Args{"-ipcbind=unix"}, Args{"--ipcbind"}, Args{"-ipcconnect=unix:/x"}, Args{"-ipcfd", "5"},
        Args{"-ipcfd=5"}, Args{"-noipcbind=0"}, Args{"-printtoconsole", "x", "-ipcbind"},
        Args{"-noipcbind", "-ipcbind=unix"}}) {
    EXPECT_TRUE(WantsMultiprocess(args)) << args[0];
  }
  for (const Args& args :
       {Args{}, Args{"-noipcbind"}, Args{"--noipcconnect"}, Args{"-noipcfd=1"},
        Args{"-ipcbind=unix", "-noipcbind"}, Args{"-ipcbindx=1"}, Args{"-xipcbind"},
        Args{"---ipcbind"}, Args{"ipcbind"}, Args{"-noipcbind=2"}, Args{"-ipcmaxconnections=3"}}) {
    EXPECT_FALSE(WantsMultiprocess(args)) << (args.empty() ? "" : args[0]);
  }
}

TEST_F(WrapperTest, ConfigFileIpcOptions) {
  // Default config file: $HOME/.minicoin/minicoin.conf.
  Write(m_root / ".minicoin" / "minicoin.conf", "# a node\nprinttoconsole=1\n  ipcbind = unix \n");
  EXPECT_TRUE(WantsMultiprocess({}));
  EXPECT_TRUE(WantsMultiprocess({"-printtoconsole"}));
  EXPECT_FALSE(WantsMultiprocess({"-noipcbind"}));  // the command line wins
  EXPECT_FALSE(WantsMultiprocess({"-noconf"}));
  EXPECT_FALSE(WantsMultiprocess({"-datadir=" + (m_root / "data").string()}));

  // -datadir's minicoin.conf, negations in the file.
  Write(m_root / "data" / "minicoin.conf", "ipcconnect=unix\nnoipcconnect=1\n");
  EXPECT_FALSE(WantsMultiprocess({"-datadir=" + (m_root / "data").string()}));
  Write(m_root / "data" / "minicoin.conf", "noipcfd\nipcfd=4\n");
  EXPECT_TRUE(WantsMultiprocess({"--datadir=" + (m_root / "data").string()}));

  // -conf: absolute, or relative to the data directory.
  Write(m_root / "other.conf", "ipcconnect=unix\n");
  Write(m_root / "data" / "plain.conf", "printtoconsole=1\n");
  EXPECT_TRUE(WantsMultiprocess({"-conf=" + (m_root / "other.conf").string()}));
  EXPECT_FALSE(WantsMultiprocess({"-datadir=" + (m_root / "data").string(), "-conf=plain.conf"}));
  EXPECT_FALSE(WantsMultiprocess({"-conf=" + (m_root / "missing.conf").string()}));
  // An unreadable or malformed file counts as empty.
  Write(m_root / "bad.conf", "ipcbind=unix\n[nosuchsection]\n");
  EXPECT_FALSE(WantsMultiprocess({"-conf=" + (m_root / "bad.conf").string()}));
  EXPECT_FALSE(WantsMultiprocess({"-datadir=" + (m_root / "missing").string()}));
}

TEST_F(WrapperTest, SearchOrderAndExecutableFiles) {
  std::filesystem::path bin = m_root / "bin";
  std::filesystem::path libexec = m_root / "libexec";
  std::filesystem::path elsewhere = m_root / "elsewhere";
  EXPECT_EQ(SearchDirectories(bin, (elsewhere.string() + "::/usr/bin").c_str()),
            (std::vector<std::filesystem::path>{bin, libexec, elsewhere, "/usr/bin"}));
  EXPECT_EQ(SearchDirectories("", nullptr), std::vector<std::filesystem::path>{});

  std::vector<std::filesystem::path> dirs{bin, libexec, elsewhere};
  for (const auto& dir : dirs) std::filesystem::create_directories(dir);
  EXPECT_FALSE(FindProgram("minicoin-tx", dirs));
  auto make = [&](const std::filesystem::path& path, mode_t mode) {
    Write(path, "#!/bin/sh\n");
    ::chmod(path.c_str(), mode);
  };
  make(elsewhere / "minicoin-tx", 0755);
  EXPECT_EQ(FindProgram("minicoin-tx", dirs), elsewhere / "minicoin-tx");
  make(bin / "minicoin-tx", 0644);                               // not executable: skipped
  std::filesystem::create_directories(libexec / "minicoin-tx");  // a directory: skipped
  EXPECT_EQ(FindProgram("minicoin-tx", dirs), elsewhere / "minicoin-tx");
  ::chmod((bin / "minicoin-tx").c_str(), 0755);
  EXPECT_EQ(FindProgram("minicoin-tx", dirs), bin / "minicoin-tx");
}

}  // namespace
}  // namespace minicoin::wrapper
