#include "common/args.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace minicoin {
namespace {

constexpr std::size_t kHelpWidth = 79;
constexpr std::size_t kOptionIndent = 2;
constexpr std::size_t kMessageIndent = 7;

std::string Trim(const std::string& text) {
  const char* kSpace = " \t\r\n";
  std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string::npos) return "";
  std::size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

// The option name of a spec: "-rpcport=<port>" -> "rpcport".
std::string NameOfSpec(const std::string& spec) {
  std::string name = spec.substr(spec.find_first_not_of('-') == std::string::npos
                                     ? spec.size()
                                     : spec.find_first_not_of('-'));
  std::size_t eq = name.find('=');
  if (eq != std::string::npos) name.resize(eq);
  return name;
}

std::optional<int64_t> ParseInt64(const std::string& text) {
  std::string trimmed = Trim(text);
  const char* begin = trimmed.data();
  const char* end = begin + trimmed.size();
  if (begin != end && *begin == '+') ++begin;
  if (begin == end) return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Appends `text` word-wrapped: every line starts with `indent` spaces and is at most `width`.
void AppendWrapped(std::string& out, const std::string& text, std::size_t indent,
                   std::size_t width) {
  std::istringstream paragraphs(text);
  std::string paragraph;
  while (std::getline(paragraphs, paragraph)) {
    std::istringstream words(paragraph);
    std::string word;
    std::size_t column = 0;
    bool line_open = false;
    while (words >> word) {
      if (line_open && column + 1 + word.size() > width) {
        out += '\n';
        line_open = false;
      }
      if (!line_open) {
        out.append(indent, ' ');
        out += word;
        column = indent + word.size();
        line_open = true;
      } else {
        out += ' ';
        out += word;
        column += 1 + word.size();
      }
    }
    if (!line_open) out.append(indent, ' ');
    out += '\n';
  }
}

}  // namespace

ArgsManager::ArgsManager() {
  AddArg("-conf=<file>",
         std::string("Specify path to the configuration file; relative paths are prefixed by the "
                     "data directory location (default: ") +
             kDefaultConfigFile + "). -noconf reads no configuration file.",
         kArgCommandLineOnly, "Options");
  AddArg("-datadir=<dir>",
         std::string("Specify the data directory (default: $HOME/") + kDefaultDataDirName +
             "). Only on the command line.",
         kArgCommandLineOnly | kArgDisallowNegation, "Options");
  AddArg("-chain=<chain>",
         "Use the chain <chain>: main (the default), test or regtest. The chain's data goes in a "
         "subfolder of the data directory (testnet, regtest; none for main), and its RPC and "
         "peer-to-peer ports are the defaults.",
         kArgNone, "Chain selection options");
  AddArg("-regtest",
         "Use the regression test chain: blocks are mined instantly, the difficulty never changes "
         "and the subsidy halves every 150 blocks. Equivalent to -chain=regtest.",
         kArgNone, "Chain selection options");
  AddArg("-testnet", "Use the test chain. Equivalent to -chain=test.", kArgNone, "Chain selection options");
}

void ArgsManager::AddArg(const std::string& spec, const std::string& help, unsigned flags,
                         const std::string& category) {
  std::lock_guard lock(m_mutex);
  std::string name = NameOfSpec(spec);
  m_registered[name] = Registered{spec, help, category, flags, false};
  if (std::find(m_categories.begin(), m_categories.end(), category) == m_categories.end()) {
    m_categories.push_back(category);
  }
}

void ArgsManager::AddHiddenArg(const std::string& name, unsigned flags) {
  std::lock_guard lock(m_mutex);
  std::string key = NameOfSpec(name);
  m_registered[key] = Registered{name, "", "", flags, true};
}

std::string ArgsManager::StripDash(const std::string& name) {
  return !name.empty() && name[0] == '-' ? name.substr(1) : name;
}

const ArgsManager::Registered* ArgsManager::Find(const std::string& name) const {
  auto it = m_registered.find(name);
  return it == m_registered.end() ? nullptr : &it->second;
}

bool ArgsManager::InterpretOption(const std::string& key, std::optional<std::string> value,
                                  std::string& name, std::string& result, bool& negated,
                                  std::string& error) const {
  negated = false;
  if (Find(key) != nullptr) {
    name = key;
    result = value.value_or("1");
    return true;
  }
  if (key.size() > 2 && key.compare(0, 2, "no") == 0) {
    const Registered* registered = Find(key.substr(2));
    if (registered != nullptr) {
      name = key.substr(2);
      if (registered->flags & kArgDisallowNegation) {
        error = "Negating of -" + name + " is meaningless and therefore forbidden";
        return false;
      }
      if (!value || *value == "1") {
        negated = true;
        result = "0";
      } else if (*value == "0") {
        result = "1";
      } else {
        error = "Negated option -" + key + "=" + *value + " must have no value, 0 or 1";
        return false;
      }
      return true;
    }
  }
  error.clear();  // the caller reports the unknown name in its own words
  return false;
}

void ArgsManager::Store(Settings& settings, const std::string& name, const std::string& value,
                        bool negated, bool is_list) {
  Setting& setting = settings[name];
  if (is_list) {
    if (negated) {
      setting.values.clear();
      setting.negated = true;
      setting.cleared = true;
    } else {
      setting.values.push_back(value);
      setting.negated = false;
    }
  } else {
    setting.values = {value};
    setting.negated = negated;
    setting.cleared = setting.cleared || negated;
  }
}

bool ArgsManager::ParseParameters(int argc, const char* const argv[], std::string& error) {
  std::lock_guard lock(m_mutex);
  m_command_line.clear();
  m_positional.clear();
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i] == nullptr ? "" : argv[i];
    if (arg.size() < 2 || arg[0] != '-') {
      for (int j = i; j < argc; ++j) m_positional.emplace_back(argv[j] == nullptr ? "" : argv[j]);
      break;
    }
    std::string key = arg;
    std::optional<std::string> value;
    std::size_t eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    }
    std::string shown_key = key;
    key = key.substr(1);
    if (!key.empty() && key[0] == '-') key = key.substr(1);  // --name
    std::string name;
    std::string result;
    bool negated = false;
    error.clear();
    if (key.empty() || key[0] == '-' ||
        !InterpretOption(key, value, name, result, negated, error)) {
      if (error.empty()) error = "Invalid parameter " + shown_key;
      return false;
    }
    const Registered* registered = Find(name);
    if (registered == nullptr) {
      error = "Invalid parameter " + shown_key;
      return false;
    }
    Store(m_command_line, name, result, negated, registered->flags & kArgAllowList);
  }
  return true;
}

bool ArgsManager::ReadConfigText(const std::string& text, const std::string& source_name,
                                 std::string& error, bool ignore_unknown) {
  std::lock_guard lock(m_mutex);
  Settings parsed;
  std::map<std::string, Settings> parsed_sections;
  std::string section;  // the current [section]; empty before the first
  std::istringstream lines(text);
  std::string raw;
  int line_number = 0;
  auto fail = [&](const std::string& what) {
    error = "Error reading configuration file " + source_name + ": " + what + " on line " +
            std::to_string(line_number);
    return false;
  };
  while (std::getline(lines, raw)) {
    ++line_number;
    std::string line = raw;
    std::size_t hash = line.find('#');
    if (hash != std::string::npos) {
      std::size_t eq = line.find('=');
      if (eq != std::string::npos && eq < hash &&
          Trim(line.substr(0, eq)).find("rpcpassword") != std::string::npos) {
        return fail("using # in rpcpassword can be ambiguous and should be avoided");
      }
      line.resize(hash);
    }
    line = Trim(line);
    if (line.empty()) continue;
    if (line[0] == '[') {
      if (line.back() != ']') return fail("\"" + line + "\" is not a section header");
      section = Trim(line.substr(1, line.size() - 2));
      if (!ParseChainType(section)) {
        return fail("unknown section [" + section + "] (sections are main, test and regtest)");
      }
      continue;
    }
    std::string key = line;
    std::optional<std::string> value;
    std::size_t eq = line.find('=');
    if (eq != std::string::npos) {
      key = Trim(line.substr(0, eq));
      value = Trim(line.substr(eq + 1));
    }
    if (!key.empty() && key[0] == '-') {
      return fail("\"" + key + "\": options in the configuration file must be given without a "
                  "leading dash");
    }
    if (key.empty()) return fail("missing option name");
    // "regtest.rpcport=1" is "rpcport=1" in the [regtest] section.
    std::string key_section = section;
    if (std::size_t dot = key.find('.'); dot != std::string::npos) {
      key_section = key.substr(0, dot);
      if (!ParseChainType(key_section)) {
        return fail("unknown section \"" + key_section + "\" in \"" + key + "\"");
      }
      key = key.substr(dot + 1);
    }
    std::string name;
    std::string result;
    bool negated = false;
    if (!InterpretOption(key, value, name, result, negated, error)) {
      if (ignore_unknown && error.empty()) continue;
      return fail(error.empty() ? "unknown option \"" + key + "\"" : error);
    }
    const Registered* registered = Find(name);
    if (registered == nullptr) return fail("unknown option \"" + key + "\"");
    if (registered->flags & kArgCommandLineOnly) {
      return fail(name + " can only be given on the command line");
    }
    if (!key_section.empty() && (name == "chain" || name == "regtest" || name == "testnet")) {
      return fail(name + " selects the chain and cannot be set in a chain's section");
    }
    Store(key_section.empty() ? parsed : parsed_sections[key_section], name, result, negated,
          registered->flags & kArgAllowList);
  }
  for (auto& [name, setting] : parsed) m_config[name] = std::move(setting);
  for (auto& [chain, settings] : parsed_sections) {
    for (auto& [name, setting] : settings) m_config_sections[chain][name] = std::move(setting);
  }
  return true;
}

bool ArgsManager::ReadConfigFile(std::string& error, bool ignore_unknown) {
  if (!CheckDataDir(error, false)) return false;
  if (IsArgNegated("-conf")) return true;
  std::filesystem::path path = GetConfigFilePath();
  bool explicit_conf = IsArgSet("-conf");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "Config file \"" + path.string() + "\" is a directory.";
    return false;
  }
  std::ifstream file(path);
  if (!file) {
    if (explicit_conf) {
      error = "Specified config file \"" + path.string() + "\" could not be opened.";
      return false;
    }
    return true;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return ReadConfigText(text.str(), path.string(), error, ignore_unknown);
}

std::vector<std::string> ArgsManager::GetPositional() const {
  std::lock_guard lock(m_mutex);
  return m_positional;
}

std::optional<std::string> ArgsManager::EffectiveArg(const std::string& name, bool& negated) const {
  const Settings* section = ActiveSection();
  if (section == nullptr) return EffectiveIn({&m_forced, &m_command_line, &m_config}, name, negated);
  return EffectiveIn({&m_forced, &m_command_line, section, &m_config}, name, negated);
}

const ArgsManager::Settings* ArgsManager::ActiveSection() const {
  if (m_config_sections.empty()) return nullptr;
  // Chain options are never in a section, so the sources outside them decide the chain.
  auto value = [this](const char* name) {
    bool negated = false;
    return EffectiveIn({&m_forced, &m_command_line, &m_config}, name, negated);
  };
  auto is_true = [](const std::optional<std::string>& text) {
    if (!text) return false;
    std::string trimmed = Trim(*text);
    if (trimmed.empty() || trimmed == "true" || trimmed == "yes" || trimmed == "on") return true;
    std::optional<int64_t> number = ParseInt64(trimmed);
    return number && *number != 0;
  };
  std::vector<std::string> chosen;
  if (is_true(value("regtest"))) chosen.emplace_back(BaseParams(ChainType::kRegtest).name);
  if (is_true(value("testnet"))) chosen.emplace_back(BaseParams(ChainType::kTest).name);
  if (std::optional<std::string> chain = value("chain"); chain && *chain != "0") {
    std::optional<ChainType> type = ParseChainType(*chain);
    if (!type) return nullptr;
    chosen.emplace_back(BaseParams(*type).name);
  }
  std::string name = chosen.empty() ? std::string(BaseParams(ChainType::kMain).name) : chosen.front();
  for (const std::string& other : chosen) {
    if (other != name) return nullptr;
  }
  auto it = m_config_sections.find(name);
  return it == m_config_sections.end() ? nullptr : &it->second;
}

std::optional<std::string> ArgsManager::EffectiveIn(std::initializer_list<const Settings*> sources,
                                                    const std::string& name, bool& negated) {
  negated = false;
  for (const Settings* settings : sources) {
    auto it = settings->find(name);
    if (it == settings->end()) continue;
    if (it->second.negated) {
      negated = true;
      return std::string("0");
    }
    if (!it->second.values.empty()) return it->second.values.back();
  }
  return std::nullopt;
}

std::optional<std::string> ArgsManager::Effective(const std::string& name) const {
  bool negated = false;
  return EffectiveArg(name, negated);
}

bool ArgsManager::IsArgSet(const std::string& name) const {
  std::lock_guard lock(m_mutex);
  std::string key = StripDash(name);
  const Settings* section = ActiveSection();
  return m_forced.contains(key) || m_command_line.contains(key) || m_config.contains(key) ||
         (section != nullptr && section->contains(key));
}

bool ArgsManager::IsArgNegated(const std::string& name) const {
  std::lock_guard lock(m_mutex);
  bool negated = false;
  EffectiveArg(StripDash(name), negated);
  return negated;
}

std::string ArgsManager::GetArg(const std::string& name, const std::string& default_value) const {
  std::lock_guard lock(m_mutex);
  return Effective(StripDash(name)).value_or(default_value);
}

int64_t ArgsManager::GetIntArg(const std::string& name, int64_t default_value) const {
  std::string error;
  return GetIntArgChecked(name, default_value, error).value_or(default_value);
}

std::optional<int64_t> ArgsManager::GetIntArgChecked(const std::string& name,
                                                     int64_t default_value,
                                                     std::string& error) const {
  std::optional<std::string> value;
  {
    std::lock_guard lock(m_mutex);
    value = Effective(StripDash(name));
  }
  if (!value) return default_value;
  std::optional<int64_t> number = ParseInt64(*value);
  if (!number) {
    error = "Invalid value for -" + StripDash(name) + ": " + *value + " (expected an integer)";
  }
  return number;
}

bool ArgsManager::GetBoolArg(const std::string& name, bool default_value) const {
  std::optional<std::string> value;
  {
    std::lock_guard lock(m_mutex);
    value = Effective(StripDash(name));
  }
  if (!value) return default_value;
  std::string text = Trim(*value);
  if (text.empty() || text == "true" || text == "yes" || text == "on") return true;
  std::optional<int64_t> number = ParseInt64(text);
  return number && *number != 0;
}

std::vector<std::string> ArgsManager::GetArgs(const std::string& name) const {
  std::lock_guard lock(m_mutex);
  std::string key = StripDash(name);
  if (auto it = m_forced.find(key); it != m_forced.end()) {
    return it->second.negated ? std::vector<std::string>{} : it->second.values;
  }
  std::vector<std::string> values;
  bool hide_config = false;
  if (auto it = m_command_line.find(key); it != m_command_line.end()) {
    values = it->second.values;
    const Registered* registered = Find(key);
    bool is_list = registered != nullptr && (registered->flags & kArgAllowList);
    if (it->second.negated) values.clear();
    // A single value on the command line replaces the config file's; a list negation there
    // drops the config file's values.
    hide_config = !is_list || it->second.cleared;
  }
  if (!hide_config) {
    // The chain's section first; a single value there replaces the top of the file's.
    bool section_single = false;
    if (const Settings* section = ActiveSection(); section != nullptr) {
      if (auto it = section->find(key); it != section->end()) {
        if (!it->second.negated) values.insert(values.end(), it->second.values.begin(), it->second.values.end());
        const Registered* registered = Find(key);
        section_single = registered == nullptr || !(registered->flags & kArgAllowList) || it->second.cleared;
      }
    }
    auto it = m_config.find(key);
    if (!section_single && it != m_config.end() && !it->second.negated) {
      values.insert(values.end(), it->second.values.begin(), it->second.values.end());
    }
  }
  return values;
}

bool ArgsManager::SoftSetArg(const std::string& name, const std::string& value) {
  std::lock_guard lock(m_mutex);
  std::string key = StripDash(name);
  const Settings* section = ActiveSection();
  if (m_forced.contains(key) || m_command_line.contains(key) || m_config.contains(key) ||
      (section != nullptr && section->contains(key))) {
    return false;
  }
  m_forced[key] = Setting{{value}, false, false};
  return true;
}

bool ArgsManager::SoftSetBoolArg(const std::string& name, bool value) {
  return SoftSetArg(name, value ? "1" : "0");
}

void ArgsManager::ForceSetArg(const std::string& name, const std::string& value) {
  std::lock_guard lock(m_mutex);
  m_forced[StripDash(name)] = Setting{{value}, false, false};
}

std::optional<ChainType> ArgsManager::GetChainType(std::string& error) const {
  std::optional<ChainType> selected;
  auto select = [&](ChainType type) {
    if (selected && *selected != type) {
      error = "Invalid combination of -regtest, -testnet and -chain: they select different chains.";
      return false;
    }
    selected = type;
    return true;
  };
  if (GetBoolArg("-regtest", false) && !select(ChainType::kRegtest)) return std::nullopt;
  if (GetBoolArg("-testnet", false) && !select(ChainType::kTest)) return std::nullopt;
  if (IsArgSet("-chain") && !IsArgNegated("-chain")) {
    std::string name = GetArg("-chain", "");
    std::optional<ChainType> type = ParseChainType(name);
    if (!type) {
      error = "Unknown chain " + name + ". Choose main, test or regtest.";
      return std::nullopt;
    }
    if (!select(*type)) return std::nullopt;
  }
  return selected.value_or(ChainType::kMain);
}

bool ArgsManager::InitDataDirAndConfig(std::string& error, bool create_default, bool ignore_unknown_config) {
  return CheckDataDir(error, create_default) && ReadConfigFile(error, ignore_unknown_config) &&
         GetChainType(error).has_value() && CheckDataDir(error, create_default);
}

ChainType ArgsManager::GetChainTypeOrMain() const {
  std::string error;
  return GetChainType(error).value_or(ChainType::kMain);
}

std::filesystem::path ArgsManager::GetDataDirPath() const {
  std::string_view subdir = BaseParams(GetChainTypeOrMain()).data_subdir;
  std::filesystem::path base = GetDataDirBase();
  return subdir.empty() ? base : base / subdir;
}

std::filesystem::path ArgsManager::GetDataDirBase() const {
  std::string datadir;
  {
    std::lock_guard lock(m_mutex);
    auto it = m_command_line.find("datadir");
    if (auto forced = m_forced.find("datadir"); forced != m_forced.end()) it = forced;
    if (it != m_command_line.end() && !it->second.values.empty()) datadir = it->second.values.back();
  }
  if (!datadir.empty()) {
    std::error_code ec;
    std::filesystem::path absolute = std::filesystem::absolute(datadir, ec);
    return ec ? std::filesystem::path(datadir) : absolute.lexically_normal();
  }
  const char* home = std::getenv("HOME");
  std::filesystem::path base = home != nullptr && *home != '\0' ? std::filesystem::path(home)
                                                                : std::filesystem::path("/");
  return base / kDefaultDataDirName;
}

bool ArgsManager::CheckDataDir(std::string& error, bool create_default) const {
  bool explicit_dir = !GetArg("-datadir", "").empty();
  std::filesystem::path base = GetDataDirBase();
  std::error_code ec;
  if (explicit_dir) {
    if (!std::filesystem::is_directory(base, ec)) {
      error = "Specified data directory \"" + base.string() + "\" does not exist.";
      return false;
    }
  } else if (!create_default) {
    return true;
  }
  std::filesystem::path path = GetDataDirPath();
  if (!std::filesystem::is_directory(path, ec)) {
    std::filesystem::create_directories(path, ec);
    if (ec) {
      error = "Cannot create data directory \"" + path.string() + "\": " + ec.message();
      return false;
    }
  }
  return true;
}

std::filesystem::path ArgsManager::GetDataDir() const {
  std::string ignored;
  CheckDataDir(ignored, true);
  return GetDataDirPath();
}

std::filesystem::path ArgsManager::GetConfigFilePath() const {
  std::string conf = GetArg("-conf", kDefaultConfigFile);
  if (conf.empty() || IsArgNegated("-conf")) conf = kDefaultConfigFile;
  std::filesystem::path path(conf);
  return path.is_absolute() ? path : GetDataDirBase() / path;
}

std::filesystem::path ArgsManager::AbsPathInDataDir(const std::filesystem::path& path) const {
  if (path.is_absolute()) return path;
  return GetDataDirPath() / path;
}

std::string ArgsManager::GetHelpMessage(bool show_debug) const {
  std::lock_guard lock(m_mutex);
  std::string out;
  for (const std::string& category : m_categories) {
    std::string section;
    for (const auto& [name, registered] : m_registered) {
      if (registered.hidden || registered.category != category) continue;
      if ((registered.flags & kArgDebugOnly) && !show_debug) continue;
      section.append(kOptionIndent, ' ');
      section += registered.spec;
      section += '\n';
      AppendWrapped(section, registered.help, kMessageIndent, kHelpWidth);
      section += '\n';
    }
    if (section.empty()) continue;
    out += category + ":\n\n" + section;
  }
  return out;
}

std::vector<std::string> ArgsManager::DescribeSetArgs() const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> out;
  auto describe = [&](const Settings& settings, const char* source) {
    for (const auto& [name, setting] : settings) {
      const Registered* registered = Find(name);
      bool sensitive = registered != nullptr && (registered->flags & kArgSensitive);
      if (setting.negated) {
        out.push_back(std::string(source) + "-no" + name);
        continue;
      }
      for (const std::string& value : setting.values) {
        out.push_back(std::string(source) + "-" + name + "=" + (sensitive ? "****" : value));
      }
    }
  };
  describe(m_config, "Config file arg: ");
  for (const auto& [chain, settings] : m_config_sections) {
    describe(settings, ("Config file arg: [" + chain + "] ").c_str());
  }
  describe(m_command_line, "Command-line arg: ");
  describe(m_forced, "Setting: ");
  return out;
}

}  // namespace minicoin
