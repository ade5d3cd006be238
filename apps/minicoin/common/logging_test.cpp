#include "common/logging.h"

#include "common/args.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace minicoin {
namespace {

std::filesystem::path TempPath(const std::string& name) {
  std::random_device random;
  return std::filesystem::temp_directory_path() /
         ("minicoin_logging_test_" + std::to_string(random()) + "_" + name);
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

TEST(LoggingTest, CategoryNames) {
  LogCategory category;
  ASSERT_TRUE(ParseLogCategory("rpc", category));
  EXPECT_EQ(category, LogCategory::kRpc);
  ASSERT_TRUE(ParseLogCategory("1", category));
  EXPECT_EQ(category, LogCategory::kAll);
  ASSERT_TRUE(ParseLogCategory("all", category));
  EXPECT_EQ(category, LogCategory::kAll);
  ASSERT_TRUE(ParseLogCategory("none", category));
  EXPECT_EQ(category, LogCategory::kNone);
  EXPECT_FALSE(ParseLogCategory("bogus", category));
  EXPECT_EQ(LogCategoryName(LogCategory::kMempool), "mempool");
  EXPECT_NE(LogCategoriesList().find("validation"), std::string::npos);
}

TEST(LoggingTest, WritesLinesWithPrefixes) {
  std::filesystem::path path = TempPath("debug.log");
  {
    Logger log;
    log.Info("before open %d", 1);  // buffered
    std::string error;
    LoggerOptions options;
    options.file = path;
    options.thread_names = true;
    ASSERT_TRUE(log.Open(options, error)) << error;
    SetLogThreadName("main");
    log.Info("hello %s %d", "world", 42);
    log.Debug(LogCategory::kRpc, "hidden");
    log.EnableCategory(LogCategory::kRpc);
    log.Debug(LogCategory::kRpc, "shown %s", "now");
    log.Warning("careful");
    std::thread([&] {
      SetLogThreadName("http");
      log.Info("from a thread\n");
    }).join();
  }
  std::string text = ReadAll(path);
  std::filesystem::remove(path);
  std::istringstream lines(text);
  std::vector<std::string> all;
  for (std::string line; std::getline(lines, line);) all.push_back(line);
  ASSERT_EQ(all.size(), 5u) << text;
  EXPECT_NE(all[0].find("before open 1"), std::string::npos);
  // "2024-05-01T12:00:00Z [main] hello world 42"
  ASSERT_GE(all[1].size(), 21u);
  EXPECT_EQ(all[1][4], '-');
  EXPECT_EQ(all[1][10], 'T');
  EXPECT_EQ(all[1][19], 'Z');
  EXPECT_EQ(all[1].substr(20), " [main] hello world 42");
  EXPECT_EQ(all[2].substr(21), "[main] [rpc] shown now");
  EXPECT_EQ(all[3].substr(21), "[main] [warning] careful");
  EXPECT_EQ(all[4].substr(21), "[http] from a thread");
}

TEST(LoggingTest, ConfigureFromArgs) {
  std::filesystem::path dir = TempPath("datadir");
  std::filesystem::create_directories(dir);
  ArgsManager args;
  AddLoggingArgs(args);
  std::string datadir = "-datadir=" + dir.string();
  {
    const char* argv[] = {"prog", datadir.c_str(), "-debug=rpc", "-debug=mempool",
                          "-nologtimestamps"};
    std::string error;
    ASSERT_TRUE(args.ParseParameters(5, argv, error)) << error;
    Logger log;
    ASSERT_TRUE(ConfigureLogger(log, args, error)) << error;
    EXPECT_TRUE(log.WillLog(LogCategory::kRpc));
    EXPECT_TRUE(log.WillLog(LogCategory::kMempool));
    EXPECT_FALSE(log.WillLog(LogCategory::kHttp));
    EXPECT_EQ(log.EnabledCategories(), (std::vector<std::string>{"rpc", "mempool"}));
    log.Debug(LogCategory::kMempool, "added %d", 3);
    int evaluated = 0;
    auto count = [&] { return ++evaluated; };
    MINICOIN_LOG_DEBUG(log, LogCategory::kHttp, "skipped %d", count());
    EXPECT_EQ(evaluated, 0);
    MINICOIN_LOG_DEBUG(log, LogCategory::kRpc, "counted %d", count());
    EXPECT_EQ(evaluated, 1);
  }
  EXPECT_EQ(ReadAll(dir / "debug.log"), "[mempool] added 3\n[rpc] counted 1\n");
  {
    const char* argv[] = {"prog", datadir.c_str(), "-debug", "-debugexclude=rpc"};
    std::string error;
    ASSERT_TRUE(args.ParseParameters(4, argv, error)) << error;
    Logger log;
    ASSERT_TRUE(ConfigureLogger(log, args, error)) << error;
    EXPECT_TRUE(log.WillLog(LogCategory::kHttp));
    EXPECT_TRUE(log.WillLog(LogCategory::kWallet));
    EXPECT_FALSE(log.WillLog(LogCategory::kRpc));
  }
  {
    const char* argv[] = {"prog", datadir.c_str(), "-debug=all", "-debug=none"};
    std::string error;
    ASSERT_TRUE(args.ParseParameters(4, argv, error)) << error;
    Logger log;
    ASSERT_TRUE(ConfigureLogger(log, args, error)) << error;
    EXPECT_EQ(log.categories(), 0u);
  }
  {
    const char* argv[] = {"prog", datadir.c_str(), "-debug=nope"};
    std::string error;
    ASSERT_TRUE(args.ParseParameters(3, argv, error)) << error;
    Logger log;
    EXPECT_FALSE(ConfigureLogger(log, args, error));
    EXPECT_EQ(error, "Unsupported logging category -debug=nope.");
  }
  {
    std::string logfile = "-debuglogfile=" + (dir / "no" / "such" / "dir.log").string();
    const char* argv[] = {"prog", datadir.c_str(), logfile.c_str()};
    std::string error;
    ASSERT_TRUE(args.ParseParameters(3, argv, error)) << error;
    Logger log;
    EXPECT_FALSE(ConfigureLogger(log, args, error));
    EXPECT_NE(error.find("Could not open debug log file"), std::string::npos) << error;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace minicoin
