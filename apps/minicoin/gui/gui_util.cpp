// Amounts, hashes, byte counts, pings, sync progress, console command lines and the GUI's worker
// thread.
#include "gui/gui_util.h"

#include "primitives/hash.h"
#include "primitives/transaction.h"

#include <QByteArray>
#include <QtGlobal>

#include <pthread.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <iterator>

namespace minicoin::gui {

void AllowInfoOptionsWithoutDisplay(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-help" || arg == "--help" || arg == "-h" || arg == "-?" || arg == "-version" || arg == "--version") {
      if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
      return;
    }
  }
}

std::string FormatAmount(int64_t units) {
  // The magnitude as unsigned, so that INT64_MIN formats too.
  uint64_t magnitude = units < 0 ? 0 - static_cast<uint64_t>(units) : static_cast<uint64_t>(units);
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%s%llu.%08llu", units < 0 ? "-" : "",
                static_cast<unsigned long long>(magnitude / kCoin), static_cast<unsigned long long>(magnitude % kCoin));
  return buffer;
}

std::optional<uint64_t> ParseAmount(const std::string& text) {
  std::size_t dot = text.find('.');
  std::string whole = text.substr(0, dot);
  std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  if (dot != std::string::npos && fraction.empty()) return std::nullopt;
  if (whole.size() > 8 || fraction.size() > 8) return std::nullopt;
  auto digits = [](const std::string& s) { return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }); };
  if (!digits(whole) || !digits(fraction)) return std::nullopt;
  uint64_t units = 0;
  for (char c : whole) units = units * 10 + static_cast<uint64_t>(c - '0');
  units *= kCoin;
  fraction.resize(8, '0');
  uint64_t fraction_units = 0;
  for (char c : fraction) fraction_units = fraction_units * 10 + static_cast<uint64_t>(c - '0');
  units += fraction_units;
  if (units > kMaxMoney) return std::nullopt;
  return units;
}

std::string HashToHex(const std::vector<uint8_t>& hash) {
  if (hash.size() == 32) {
    std::array<uint8_t, 32> bytes{};
    std::copy(hash.begin(), hash.end(), bytes.begin());
    return Uint256(bytes).ToHex();
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t byte : hash) {
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 15];
  }
  return hex;
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  double value = static_cast<double>(bytes) / 1000.0;
  std::size_t unit = 0;
  // Rounded to one decimal, 999.95 kB would print as "1000.0 kB": move on at 999.95.
  while (value >= 999.95 && unit + 1 < std::size(kUnits)) {
    value /= 1000.0;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, kUnits[unit]);
  return buffer;
}

std::string FormatPing(double millis) {
  if (!(millis >= 0)) return "-";  // negative, or NaN from a confused peer
  char buffer[32];
  if (millis < 10) {
    std::snprintf(buffer, sizeof(buffer), "%.2f ms", millis);
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.0f ms", millis);
  }
  return buffer;
}

std::string SyncProgressText(uint32_t tip, uint32_t headers) {
  uint32_t done = std::min(tip, headers);
  uint64_t percent = headers == 0 ? 100 : uint64_t{done} * 100 / headers;
  return "Synchronizing with the network: block " + std::to_string(done) + " of " + std::to_string(headers) + " (" +
         std::to_string(percent) + "%)";
}

namespace {

// Whether `word` can stand in a JSON array as it is.
bool IsJsonLiteral(const std::string& word) {
  if (word == "true" || word == "false" || word == "null") return true;
  if (word.front() == '[' || word.front() == '{') return true;
  // A JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  std::size_t i = 0;
  auto digit = [&](std::size_t at) { return at < word.size() && word[at] >= '0' && word[at] <= '9'; };
  if (i < word.size() && word[i] == '-') ++i;
  if (!digit(i)) return false;
  if (word[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < word.size() && word[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < word.size() && (word[i] == 'e' || word[i] == 'E')) {
    ++i;
    if (i < word.size() && (word[i] == '+' || word[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == word.size();
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::optional<RpcCommand> ParseRpcCommand(const std::string& line, std::string& error) {
  std::size_t begin = line.find_first_not_of(" \t");
  if (begin == std::string::npos) {
    error = "empty command";
    return std::nullopt;
  }
  std::size_t end = line.find_first_of(" \t", begin);
  RpcCommand command;
  command.method = line.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  std::string rest = end == std::string::npos ? "" : line.substr(end);
  std::size_t rest_begin = rest.find_first_not_of(" \t");
  if (rest_begin == std::string::npos) {
    command.params = "[]";
    return command;
  }
  rest = rest.substr(rest_begin);
  if (rest.front() == '[') {
    command.params = rest;  // a JSON array, checked by the node
    return command;
  }
  std::vector<std::string> items;
  std::size_t i = 0;
  while (i < rest.size()) {
    if (rest[i] == ' ' || rest[i] == '\t') {
      ++i;
      continue;
    }
    if (rest[i] == '"') {
      std::size_t close = rest.find('"', i + 1);
      if (close == std::string::npos) {
        error = "unclosed quote";
        return std::nullopt;
      }
      items.push_back(JsonString(rest.substr(i + 1, close - i - 1)));
      i = close + 1;
      continue;
    }
    std::size_t stop = rest.find_first_of(" \t", i);
    std::string word = rest.substr(i, stop == std::string::npos ? std::string::npos : stop - i);
    items.push_back(IsJsonLiteral(word) ? word : JsonString(word));
    i = stop == std::string::npos ? rest.size() : stop;
  }
  command.params = "[";
  for (std::size_t k = 0; k < items.size(); ++k) command.params += (k ? "," : "") + items[k];
  command.params += "]";
  return command;
}

TaskRunner::TaskRunner(std::string name) : m_name(std::move(name)), m_thread([this] { Run(); }) {}

TaskRunner::~TaskRunner() { Stop(); }

void TaskRunner::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_stopping) return;
    m_tasks.push_back(std::move(task));
  }
  m_cv.notify_one();
}

void TaskRunner::Stop() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_one();
  if (m_thread.joinable()) m_thread.join();
}

void TaskRunner::Run() {
  pthread_setname_np(pthread_self(), m_name.substr(0, 15).c_str());
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(m_mutex);
      m_cv.wait(lock, [&] { return m_stopping || !m_tasks.empty(); });
      if (m_tasks.empty()) return;
      task = std::move(m_tasks.front());
      m_tasks.pop_front();
    }
    try {
      task();
    } catch (...) {
      // Tasks report their own errors; one that escapes must not end the program.
    }
  }
}

}  // namespace minicoin::gui
