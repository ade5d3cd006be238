// Writes a benchmark's named figures as one flat JSON object, for the --json option of the
// minicoin benchmarks (bench/plot.sh and docs/performance-*.json read it).
#pragma once

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

namespace bench {

// {"name": value, ...} in name order. False (with a message on standard error) if the file
// cannot be written.
inline bool WriteFiguresJson(const std::string& path, const std::map<std::string, double>& figures) {
  std::ofstream file(path);
  file << "{";
  bool first = true;
  for (const auto& [name, value] : figures) {
    file << (first ? "\n" : ",\n") << "  \"" << name << "\": " << value;
    first = false;
  }
  file << "\n}\n";
  if (!file) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace bench
