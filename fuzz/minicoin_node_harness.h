// A regtest minicoind runtime in a temporary folder, for the fuzz targets that drive a real node
// (fuzz_minicoin_rpc, fuzz_minicoin_peer). The folder goes at exit.
#pragma once

#include "common/args.h"
#include "common/logging.h"
#include "node/node.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace fuzz {

struct NodeHarness {
  std::filesystem::path dir;
  minicoin::ArgsManager args;
  minicoin::Logger log;
  std::unique_ptr<minicoin::NodeRuntime> runtime;
};

// Fills `harness` and starts its node with `-datadir=<a folder named after `target` and the
// process> -regtest -server=0` and `extra_args`; aborts with the reason if it cannot.
inline void StartNode(NodeHarness& harness, const std::string& target, const std::vector<std::string>& extra_args) {
  static std::filesystem::path dir;  // one node per process
  harness.dir = std::filesystem::temp_directory_path() / (target + "_" + std::to_string(::getpid()));
  dir = harness.dir;
  std::filesystem::create_directories(harness.dir);
  std::atexit([] {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  });
  minicoin::NodeOptions options;
  minicoin::AddNodeOptions(harness.args, options);
  std::vector<std::string> words{"minicoind", "-datadir=" + harness.dir.string(), "-regtest", "-server=0"};
  words.insert(words.end(), extra_args.begin(), extra_args.end());
  std::vector<const char*> argv;
  for (const std::string& word : words) argv.push_back(word.c_str());
  std::string error;
  if (!harness.args.ParseParameters(static_cast<int>(argv.size()), argv.data(), error) ||
      !harness.args.CheckDataDir(error) || !harness.log.Open(minicoin::LoggerOptions{}, error)) {
    std::fprintf(stderr, "%s: %s\n", target.c_str(), error.c_str());
    std::abort();
  }
  harness.runtime = minicoin::NodeRuntime::Start(harness.args, harness.log, options);
}

}  // namespace fuzz
