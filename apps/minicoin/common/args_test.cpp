#include "common/args.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <tuple>

namespace minicoin {
namespace {

// A fresh temporary directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    m_path = std::filesystem::temp_directory_path() /
             ("minicoin_args_test_" + std::to_string(random()) + std::to_string(random()));
    std::filesystem::create_directories(m_path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  const std::filesystem::path& path() const { return m_path; }

 private:
  std::filesystem::path m_path;
};

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
}

void Register(ArgsManager& args) {
  args.AddArg("-rpcport=<port>", "Listen for JSON-RPC connections on <port>", kArgNone,
              "RPC server options");
  args.AddArg("-rpcuser=<user>", "Username for JSON-RPC connections", kArgNone,
              "RPC server options");
  args.AddArg("-rpcpassword=<pw>", "Password for JSON-RPC connections", kArgSensitive,
              "RPC server options");
  args.AddArg("-debug=<category>", "Output debug logging", kArgAllowList, "Debugging");
  args.AddArg("-printtoconsole", "Send trace/debug info to console", kArgNone, "Debugging");
  args.AddArg("-server", "Accept command line and JSON-RPC commands", kArgNone, "RPC server options");
  args.AddArg("-secret", "Debug only option", kArgDebugOnly, "Debugging");
  args.AddArg("-named", "Pass named arguments", kArgDisallowNegation, "Options");
}

struct Argv {
  explicit Argv(std::vector<std::string> args) : strings(std::move(args)) {
    pointers.push_back("prog");
    for (const std::string& arg : strings) pointers.push_back(arg.c_str());
  }
  int argc() const { return static_cast<int>(pointers.size()); }
  const char* const* argv() const { return pointers.data(); }
  std::vector<std::string> strings;
  std::vector<const char*> pointers;
};

bool Parse(ArgsManager& args, std::vector<std::string> argv, std::string& error) {
  Argv a(std::move(argv));
  return args.ParseParameters(a.argc(), a.argv(), error);
}

TEST(ArgsTest, CommandLineSyntax) {
  ArgsManager args;
  Register(args);
  std::string error;
  ASSERT_TRUE(Parse(args, {"-rpcport=1234", "-printtoconsole", "-noserver", "--rpcuser=alice"},
                    error))
      << error;
  EXPECT_EQ(args.GetArg("-rpcport", ""), "1234");
  EXPECT_EQ(args.GetIntArg("-rpcport", 0), 1234);
  EXPECT_EQ(args.GetArg("rpcport", ""), "1234");  // dash optional
  EXPECT_EQ(args.GetArg("-printtoconsole", ""), "1");
  EXPECT_TRUE(args.GetBoolArg("-printtoconsole", false));
  EXPECT_EQ(args.GetArg("-server", ""), "0");
  EXPECT_FALSE(args.GetBoolArg("-server", true));
  EXPECT_TRUE(args.IsArgNegated("-server"));
  EXPECT_TRUE(args.IsArgSet("-server"));
  EXPECT_EQ(args.GetArg("-rpcuser", ""), "alice");
  EXPECT_FALSE(args.IsArgSet("-rpcpassword"));
  EXPECT_EQ(args.GetArg("-rpcpassword", "default"), "default");
  EXPECT_TRUE(args.GetPositional().empty());
}

TEST(ArgsTest, NegationWithValue) {
  ArgsManager args;
  Register(args);
  std::string error;
  ASSERT_TRUE(Parse(args, {"-noserver=0"}, error)) << error;
  EXPECT_TRUE(args.GetBoolArg("-server", false));
  EXPECT_FALSE(args.IsArgNegated("-server"));
  EXPECT_FALSE(Parse(args, {"-noserver=yes"}, error));
  EXPECT_NE(error.find("-noserver=yes"), std::string::npos) << error;
  EXPECT_FALSE(Parse(args, {"-nonamed"}, error));
  EXPECT_NE(error.find("forbidden"), std::string::npos) << error;
}

TEST(ArgsTest, LastValueWinsAndListsKeepAll) {
  ArgsManager args;
  Register(args);
  std::string error;
  ASSERT_TRUE(Parse(args, {"-rpcport=1", "-rpcport=2", "-debug=rpc", "-debug=http"}, error));
  EXPECT_EQ(args.GetArg("-rpcport", ""), "2");
  EXPECT_EQ(args.GetArgs("-debug"), (std::vector<std::string>{"rpc", "http"}));
  ASSERT_TRUE(Parse(args, {"-debug=rpc", "-nodebug", "-debug=ipc"}, error));
  EXPECT_EQ(args.GetArgs("-debug"), (std::vector<std::string>{"ipc"}));
  ASSERT_TRUE(Parse(args, {"-debug=rpc", "-nodebug"}, error));
  EXPECT_TRUE(args.GetArgs("-debug").empty());
  EXPECT_TRUE(args.IsArgNegated("-debug"));
}

TEST(ArgsTest, PositionalStopsOptionParsing) {
  ArgsManager args;
  Register(args);
  std::string error;
  ASSERT_TRUE(Parse(args, {"-rpcport=5", "getblockhash", "-1", "-rpcport=6", "x=y"}, error));
  EXPECT_EQ(args.GetPositional(), (std::vector<std::string>{"getblockhash", "-1", "-rpcport=6", "x=y"}));
  EXPECT_EQ(args.GetArg("-rpcport", ""), "5");
}

TEST(ArgsTest, UnknownOptionsAreErrors) {
  ArgsManager args;
  Register(args);
  std::string error;
  EXPECT_FALSE(Parse(args, {"-foo"}, error));
  EXPECT_EQ(error, "Invalid parameter -foo");
  EXPECT_FALSE(Parse(args, {"-foo=bar"}, error));
  EXPECT_EQ(error, "Invalid parameter -foo");
  EXPECT_FALSE(Parse(args, {"--foo"}, error));
  EXPECT_EQ(error, "Invalid parameter --foo");
  EXPECT_FALSE(Parse(args, {"---rpcport=1"}, error));
  EXPECT_FALSE(Parse(args, {"-nofoo"}, error));
  EXPECT_EQ(error, "Invalid parameter -nofoo");
  EXPECT_FALSE(Parse(args, {"-=1"}, error));
}

TEST(ArgsTest, IntAndBoolValues) {
  ArgsManager args;
  Register(args);
  std::string error;
  ASSERT_TRUE(Parse(args, {"-rpcport=abc", "-rpcuser=-17", "-server=true"}, error));
  EXPECT_EQ(args.GetIntArg("-rpcport", 42), 42);
  std::optional<int64_t> checked = args.GetIntArgChecked("-rpcport", 42, error);
  EXPECT_FALSE(checked.has_value());
  EXPECT_EQ(error, "Invalid value for -rpcport: abc (expected an integer)");
  EXPECT_EQ(args.GetIntArgChecked("-rpcuser", 0, error), -17);
  EXPECT_EQ(args.GetIntArgChecked("-rpcpassword", 7, error), 7);  // unset: default
  EXPECT_TRUE(args.GetBoolArg("-server", false));
  ASSERT_TRUE(Parse(args, {"-server=0", "-printtoconsole=2", "-rpcport=99999999999999999999"},
                    error));
  EXPECT_FALSE(args.GetBoolArg("-server", true));
  EXPECT_TRUE(args.GetBoolArg("-printtoconsole", false));
  EXPECT_FALSE(args.GetIntArgChecked("-rpcport", 0, error).has_value());  // overflow
}

TEST(ArgsTest, SoftAndForceSet) {
  ArgsManager args;
  Register(args);
  std::string error;
  ASSERT_TRUE(Parse(args, {"-rpcport=1"}, error));
  EXPECT_FALSE(args.SoftSetArg("-rpcport", "2"));
  EXPECT_EQ(args.GetArg("-rpcport", ""), "1");
  EXPECT_TRUE(args.SoftSetArg("-rpcuser", "bob"));
  EXPECT_EQ(args.GetArg("-rpcuser", ""), "bob");
  EXPECT_FALSE(args.SoftSetBoolArg("-rpcuser", true));
  args.ForceSetArg("-rpcport", "3");
  EXPECT_EQ(args.GetArg("-rpcport", ""), "3");
  args.ForceSetArg("-debug", "mempool");
  EXPECT_EQ(args.GetArgs("-debug"), (std::vector<std::string>{"mempool"}));
}

TEST(ArgsTest, ConfigFileSyntaxAndPrecedence) {
  TempDir dir;
  WriteFile(dir.path() / "minicoin.conf",
            "# a comment\n"
            "\n"
            "rpcport = 1111   # trailing comment\n"
            "rpcuser=fromconf\n"
            "printtoconsole\n"
            "noserver\n"
            "debug=rpc\n"
            "debug=http\n");
  ArgsManager args;
  Register(args);
  std::string error;
  ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string(), "-rpcuser=fromcli"}, error));
  ASSERT_TRUE(args.ReadConfigFile(error)) << error;
  EXPECT_EQ(args.GetArg("-rpcport", ""), "1111");
  EXPECT_EQ(args.GetArg("-rpcuser", ""), "fromcli");  // command line wins
  EXPECT_TRUE(args.GetBoolArg("-printtoconsole", false));
  EXPECT_FALSE(args.GetBoolArg("-server", true));
  EXPECT_EQ(args.GetArgs("-debug"), (std::vector<std::string>{"rpc", "http"}));
  // Command-line list values come first; a command-line negation hides the config file's.
  ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string(), "-debug=ipc"}, error));
  EXPECT_EQ(args.GetArgs("-debug"), (std::vector<std::string>{"ipc", "rpc", "http"}));
  ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string(), "-nodebug"}, error));
  EXPECT_TRUE(args.GetArgs("-debug").empty());
  ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string(), "-server"}, error));
  EXPECT_TRUE(args.GetBoolArg("-server", false));
}

TEST(ArgsTest, ConfigFileErrorsNameTheLine) {
  ArgsManager args;
  Register(args);
  std::string error;
  EXPECT_FALSE(args.ReadConfigText("rpcport=1\n\nfoo=bar\n", "test.conf", error));
  EXPECT_EQ(error, "Error reading configuration file test.conf: unknown option \"foo\" on line 3");
  EXPECT_FALSE(args.ReadConfigText("-rpcport=1\n", "test.conf", error));
  EXPECT_NE(error.find("leading dash"), std::string::npos);
  EXPECT_NE(error.find("line 1"), std::string::npos);
  EXPECT_FALSE(args.ReadConfigText("# ok\ndatadir=/tmp\n", "test.conf", error));
  EXPECT_NE(error.find("only be given on the command line on line 2"), std::string::npos) << error;
  EXPECT_FALSE(args.ReadConfigText("conf=other.conf\n", "test.conf", error));
  EXPECT_FALSE(args.ReadConfigText("rpcpassword=ab#cd\n", "test.conf", error));
  EXPECT_NE(error.find("using # in rpcpassword"), std::string::npos);
  EXPECT_FALSE(args.ReadConfigText("[testing]\n", "test.conf", error));
  EXPECT_NE(error.find("unknown section [testing]"), std::string::npos) << error;
  EXPECT_FALSE(args.ReadConfigText("=5\n", "test.conf", error));
  EXPECT_FALSE(args.ReadConfigText("nonamed\n", "test.conf", error));
  // A failed read leaves earlier values alone.
  EXPECT_FALSE(args.IsArgSet("-rpcport"));
}

TEST(ArgsTest, ConfigFileLocation) {
  TempDir dir;
  std::string error;
  {
    // A missing default file is fine.
    ArgsManager args;
    Register(args);
    ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string()}, error));
    EXPECT_TRUE(args.ReadConfigFile(error)) << error;
    EXPECT_EQ(args.GetConfigFilePath(), dir.path() / "minicoin.conf");
  }
  {
    // A missing explicit -conf is an error.
    ArgsManager args;
    Register(args);
    ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string(), "-conf=missing.conf"}, error));
    EXPECT_FALSE(args.ReadConfigFile(error));
    EXPECT_NE(error.find((dir.path() / "missing.conf").string()), std::string::npos) << error;
  }
  {
    // A relative -conf is inside the data dir; an absolute one anywhere.
    WriteFile(dir.path() / "other.conf", "rpcport=2222\n");
    ArgsManager args;
    Register(args);
    ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string(), "-conf=other.conf"}, error));
    ASSERT_TRUE(args.ReadConfigFile(error)) << error;
    EXPECT_EQ(args.GetArg("-rpcport", ""), "2222");
    ArgsManager absolute;
    Register(absolute);
    ASSERT_TRUE(Parse(absolute, {"-conf=" + (dir.path() / "other.conf").string()}, error));
    ASSERT_TRUE(absolute.ReadConfigFile(error)) << error;
    EXPECT_EQ(absolute.GetArg("-rpcport", ""), "2222");
  }
  {
    // A bad line in the file is reported with the file's path.
    WriteFile(dir.path() / "minicoin.conf", "rpcport=1\nbogus\n");
    ArgsManager args;
    Register(args);
    ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string()}, error));
    EXPECT_FALSE(args.ReadConfigFile(error));
    EXPECT_EQ(error, "Error reading configuration file " + (dir.path() / "minicoin.conf").string() +
                         ": unknown option \"bogus\" on line 2");
    // -noconf skips it.
    ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string(), "-noconf"}, error));
    EXPECT_TRUE(args.ReadConfigFile(error)) << error;
  }
}

TEST(ArgsTest, DataDir) {
  TempDir dir;
  std::string error;
  ArgsManager args;
  Register(args);
  ASSERT_TRUE(Parse(args, {"-datadir=" + (dir.path() / "missing").string()}, error));
  EXPECT_FALSE(args.CheckDataDir(error));
  EXPECT_EQ(error, "Specified data directory \"" + (dir.path() / "missing").string() +
                       "\" does not exist.");
  EXPECT_FALSE(args.ReadConfigFile(error));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "missing"));

  ASSERT_TRUE(Parse(args, {"-datadir=" + dir.path().string()}, error));
  EXPECT_TRUE(args.CheckDataDir(error)) << error;
  EXPECT_EQ(args.GetDataDir(), dir.path());
  EXPECT_EQ(args.AbsPathInDataDir("x.log"), dir.path() / "x.log");
  EXPECT_EQ(args.AbsPathInDataDir("/abs/x.log"), std::filesystem::path("/abs/x.log"));

  // Without -datadir: $HOME/.minicoin, created on demand.
  const char* old_home = std::getenv("HOME");
  std::string saved = old_home != nullptr ? old_home : "";
  setenv("HOME", dir.path().c_str(), 1);
  ArgsManager defaults;
  EXPECT_EQ(defaults.GetDataDirPath(), dir.path() / ".minicoin");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / ".minicoin"));
  EXPECT_TRUE(defaults.CheckDataDir(error)) << error;
  EXPECT_TRUE(std::filesystem::is_directory(dir.path() / ".minicoin"));
  setenv("HOME", saved.c_str(), 1);
}

TEST(ArgsTest, ChainSelectionAndItsDataFolder) {
  TempDir dir;
  const std::string datadir = "-datadir=" + dir.path().string();
  std::string error;
  {
    ArgsManager args;
    ASSERT_TRUE(Parse(args, {datadir}, error));
    EXPECT_EQ(args.GetChainType(error), ChainType::kMain);
    EXPECT_EQ(args.GetDataDirPath(), dir.path());
  }
  for (const auto& [option, type, subdir] :
       {std::tuple{"-regtest", ChainType::kRegtest, "regtest"}, std::tuple{"-chain=regtest", ChainType::kRegtest, "regtest"},
        std::tuple{"-testnet", ChainType::kTest, "testnet"}, std::tuple{"-chain=test", ChainType::kTest, "testnet"},
        std::tuple{"-chain=main", ChainType::kMain, ""}, std::tuple{"-noregtest", ChainType::kMain, ""}}) {
    ArgsManager args;
    ASSERT_TRUE(Parse(args, {datadir, option}, error)) << option;
    EXPECT_EQ(args.GetChainType(error), type) << option;
    EXPECT_EQ(args.GetDataDirPath(), std::string(subdir).empty() ? dir.path() : dir.path() / subdir) << option;
    // The config file stays in the base folder; other relative paths go in the chain's.
    EXPECT_EQ(args.GetConfigFilePath(), dir.path() / "minicoin.conf") << option;
    EXPECT_EQ(args.AbsPathInDataDir("debug.log"), args.GetDataDirPath() / "debug.log") << option;
    EXPECT_TRUE(args.CheckDataDir(error)) << error;
    EXPECT_TRUE(std::filesystem::is_directory(args.GetDataDirPath())) << option;
  }
  {
    // Options that agree are fine.
    ArgsManager args;
    ASSERT_TRUE(Parse(args, {datadir, "-regtest", "-chain=regtest"}, error));
    EXPECT_EQ(args.GetChainType(error), ChainType::kRegtest);
  }
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"-regtest", "-testnet"}, std::vector<std::string>{"-regtest", "-chain=main"},
        std::vector<std::string>{"-chain=regtest", "-testnet"}}) {
    ArgsManager args;
    std::vector<std::string> argv{datadir};
    argv.insert(argv.end(), bad.begin(), bad.end());
    ASSERT_TRUE(Parse(args, argv, error));
    error.clear();
    EXPECT_FALSE(args.GetChainType(error).has_value());
    EXPECT_EQ(error, "Invalid combination of -regtest, -testnet and -chain: they select different chains.");
  }
  {
    ArgsManager args;
    ASSERT_TRUE(Parse(args, {datadir, "-chain=signet"}, error));
    error.clear();
    EXPECT_FALSE(args.GetChainType(error).has_value());
    EXPECT_EQ(error, "Unknown chain signet. Choose main, test or regtest.");
  }
  {
    // From the config file too: InitDataDirAndConfig creates the chain's folder it selects.
    WriteFile(dir.path() / "minicoin.conf", "testnet=1\n");
    ArgsManager args;
    ASSERT_TRUE(Parse(args, {datadir}, error));
    std::filesystem::remove_all(dir.path() / "testnet");
    ASSERT_TRUE(args.InitDataDirAndConfig(error)) << error;
    EXPECT_EQ(args.GetChainType(error), ChainType::kTest);
    EXPECT_EQ(args.GetDataDirPath(), dir.path() / "testnet");
    EXPECT_TRUE(std::filesystem::is_directory(dir.path() / "testnet"));
    ArgsManager conflicting;
    ASSERT_TRUE(Parse(conflicting, {datadir, "-regtest"}, error));
    EXPECT_FALSE(conflicting.InitDataDirAndConfig(error));
    EXPECT_EQ(error, "Invalid combination of -regtest, -testnet and -chain: they select different chains.");
  }
}

TEST(ArgsTest, HelpMessageGroupsAndWraps) {
  ArgsManager args;
  Register(args);
  args.AddArg("-long=<n>",
              "A very long help text that goes on and on well past the width of a terminal so "
              "that it has to be wrapped onto several lines by the help formatter.",
              kArgNone, "Options");
  std::string help = args.GetHelpMessage();
  // Categories in registration order ("Options" first: the constructor registers -conf there).
  std::size_t options = help.find("Options:\n\n");
  std::size_t rpc = help.find("RPC server options:\n\n");
  std::size_t debugging = help.find("Debugging:\n\n");
  ASSERT_NE(options, std::string::npos) << help;
  ASSERT_NE(rpc, std::string::npos) << help;
  ASSERT_NE(debugging, std::string::npos) << help;
  EXPECT_LT(options, rpc);
  EXPECT_LT(rpc, debugging);
  EXPECT_NE(help.find("  -rpcport=<port>\n       Listen for JSON-RPC connections on <port>\n"),
            std::string::npos)
      << help;
  // Sorted within a category.
  EXPECT_LT(help.find("-rpcpassword"), help.find("-rpcport"));
  EXPECT_LT(help.find("-rpcport"), help.find("-rpcuser"));
  // Debug-only options appear only with show_debug.
  EXPECT_EQ(help.find("-secret"), std::string::npos);
  EXPECT_NE(args.GetHelpMessage(true).find("-secret"), std::string::npos);
  // Every line fits in 79 columns; wrapped lines are indented by 7.
  std::istringstream lines(help);
  std::string line;
  bool saw_continuation = false;
  while (std::getline(lines, line)) {
    EXPECT_LE(line.size(), 79u) << line;
    if (line.find("wrapped onto") != std::string::npos) {
      saw_continuation = true;
      EXPECT_EQ(line.rfind("       ", 0), 0u) << line;
    }
  }
  EXPECT_TRUE(saw_continuation);
}

// [main], [test] and [regtest] sections (and "regtest.name=value") apply only to their chain and
// come before the options outside any section; the command line comes before both.
TEST(ArgsTest, ConfigSectionsApplyToTheirChain) {
  const std::string text =
      "rpcport=1000\nrpcuser=top\ndebug=a\nregtest.rpcuser=dotted\n"
      "[regtest]\nrpcport=3000\ndebug=b\n"
      "[test]\nrpcport=2000\nnodebug=1\n"
      "[main]\nserver=0\n";
  struct Case {
    std::vector<std::string> argv;
    std::string rpcport, rpcuser;
    std::vector<std::string> debug;
    bool server;
  };
  for (const Case& c : {Case{{}, "1000", "top", {"a"}, false},
                        Case{{"-regtest"}, "3000", "dotted", {"b", "a"}, true},
                        Case{{"-chain=test"}, "2000", "top", {}, true},
                        Case{{"-testnet", "-rpcport=9"}, "9", "top", {}, true}}) {
    ArgsManager args;
    Register(args);
    std::string error;
    ASSERT_TRUE(Parse(args, c.argv, error)) << error;
    ASSERT_TRUE(args.ReadConfigText(text, "test.conf", error)) << error;
    std::string where = c.argv.empty() ? "main" : c.argv[0];
    EXPECT_EQ(args.GetArg("-rpcport", ""), c.rpcport) << where;
    EXPECT_EQ(args.GetArg("-rpcuser", ""), c.rpcuser) << where;
    EXPECT_EQ(args.GetArgs("-debug"), c.debug) << where;
    EXPECT_EQ(args.GetBoolArg("-server", true), c.server) << where;
    EXPECT_TRUE(args.IsArgSet("-rpcport")) << where;
  }
  // The chain is chosen outside the sections; selecting it inside one is an error.
  {
    ArgsManager args;
    Register(args);
    std::string error;
    ASSERT_TRUE(args.ReadConfigText("chain=regtest\n[regtest]\nrpcport=5\n", "test.conf", error)) << error;
    EXPECT_EQ(args.GetChainType(error), ChainType::kRegtest);
    EXPECT_EQ(args.GetArg("-rpcport", ""), "5");
  }
  for (const char* bad : {"[regtest]\nregtest=1\n", "[main]\nchain=test\n", "test.testnet=1\n",
                          "other.rpcport=1\n", "[regtest\n"}) {
    ArgsManager args;
    Register(args);
    std::string error;
    EXPECT_FALSE(args.ReadConfigText(bad, "test.conf", error)) << bad;
    EXPECT_NE(error.find("on line"), std::string::npos) << error;
  }
}

TEST(ArgsTest, DescribeHidesSensitiveValues) {
  ArgsManager args;
  Register(args);
  std::string error;
  ASSERT_TRUE(Parse(args, {"-rpcpassword=hunter2", "-rpcuser=alice"}, error));
  std::string all;
  for (const std::string& line : args.DescribeSetArgs()) all += line + "\n";
  EXPECT_EQ(all.find("hunter2"), std::string::npos) << all;
  EXPECT_NE(all.find("-rpcpassword=****"), std::string::npos) << all;
  EXPECT_NE(all.find("-rpcuser=alice"), std::string::npos) << all;
}

}  // namespace
}  // namespace minicoin
