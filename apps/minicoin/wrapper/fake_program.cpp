// A stand-in for a minicoin program in wrapper_test.py: prints, as one JSON object, the path it
// runs from (/proc/self/exe) and its whole argv, then exits with $MINICOIN_FAKE_EXIT (default 0).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace {

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  std::error_code ec;
  std::string exe = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  std::string out = "{\"exe\": " + JsonString(exe) + ", \"argv\": [";
  for (int i = 0; i < argc; ++i) {
    if (i > 0) out += ", ";
    out += JsonString(argv[i]);
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
  const char* code = std::getenv("MINICOIN_FAKE_EXIT");
  return code != nullptr ? std::atoi(code) : 0;
}
