// ArgsManager: bitcoind-style `-name=value` options from the command line and a config file.
#pragma once

#include "common/chain_type.h"

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace minicoin {

// Flags of a registered option; combine with `|`.
enum ArgFlags : unsigned {
  kArgNone = 0,
  kArgAllowList = 1u << 0,          // may be given several times; GetArgs returns every value
  kArgDisallowNegation = 1u << 1,   // `-noname` is an error
  kArgDebugOnly = 1u << 2,          // shown only by GetHelpMessage(true) (-help-debug)
  kArgSensitive = 1u << 3,          // value never shown by LogArgs (passwords)
  kArgCommandLineOnly = 1u << 4,    // an error in the config file (-conf, -datadir)
};

// Default name of the config file inside the data directory, and of the data directory in $HOME.
inline constexpr const char* kDefaultConfigFile = "minicoin.conf";
inline constexpr const char* kDefaultDataDirName = ".minicoin";

// Registered options and their values from three sources, in order of precedence:
// ForceSetArg/SoftSetArg, the command line, the config file.
//
// Syntax, for both the command line and the config file (where the leading dash is omitted):
// `-name=value`; `-name` means "1"; `-noname` means "0" (and `-noname=0` means "1"); `--name`
// is accepted for `-name`. For a single-valued option the last value of a source wins; for a
// kArgAllowList option the command-line values come first, then the config-file values, and a
// negation (`-nodebug`) drops the values before it (on the command line: also the config file's).
//
// -datadir is command-line only (documented choice: a config file lives in the data directory,
// so letting it move the data directory would be circular). -conf is command-line only too.
// The chain options (-chain, -regtest, -testnet) are registered here too, so that every program
// takes them; the chain's data lives in a subfolder of the data directory (GetDataDirPath).
//
// Thread-safe: every method locks; registration and parsing normally happen in main() first.
//
//   ArgsManager args;
//   args.AddArg("-rpcport=<port>", "Listen on <port>", kArgNone, "RPC server options");
//   if (!args.ParseParameters(argc, argv, error) || !args.ReadConfigFile(error)) { ... }
//   int64_t port = args.GetIntArg("-rpcport", 19443);
class ArgsManager {
 public:
  ArgsManager();
  ArgsManager(const ArgsManager&) = delete;
  ArgsManager& operator=(const ArgsManager&) = delete;

  // `spec` is the option as help shows it: "-rpcport=<port>", "-printtoconsole". Registering
  // -datadir and -conf is done by the constructor.
  void AddArg(const std::string& spec, const std::string& help, unsigned flags,
              const std::string& category);
  // Registers names that are accepted but not listed in help (aliases such as "-?", "-h").
  void AddHiddenArg(const std::string& name, unsigned flags = kArgNone);

  // Parses argv[1..]. Option parsing stops at the first argument not starting with '-': it and
  // everything after it are positional. False with `error` ("Invalid parameter -foo") on bad
  // input; values parsed before the error are kept.
  bool ParseParameters(int argc, const char* const argv[], std::string& error);
  // Reads -conf (default minicoin.conf, relative to the data directory unless absolute). A missing
  // default file is fine; a missing explicit -conf, an unknown option, a line with a leading dash,
  // a command-line-only option are errors naming the file and the line number. With
  // `ignore_unknown`, unknown names are skipped instead (minicoin-cli reads the daemon's file).
  bool ReadConfigFile(std::string& error, bool ignore_unknown = false);
  // Parses config-file text directly (`source_name` appears in errors). Used by ReadConfigFile.
  bool ReadConfigText(const std::string& text, const std::string& source_name, std::string& error,
                      bool ignore_unknown = false);

  std::vector<std::string> GetPositional() const;

  // `name` is given with its dash ("-rpcport"); without it is accepted too.
  bool IsArgSet(const std::string& name) const;
  // True when the effective value is a negation (`-nofoo`).
  bool IsArgNegated(const std::string& name) const;
  std::string GetArg(const std::string& name, const std::string& default_value) const;
  // The value as an integer; `default_value` when unset or not a number (see GetIntArgChecked).
  int64_t GetIntArg(const std::string& name, int64_t default_value) const;
  // The value as an integer, or nullopt with `error` ("Invalid value for -rpcport: abc (expected
  // an integer)") when it is set to something else.
  std::optional<int64_t> GetIntArgChecked(const std::string& name, int64_t default_value,
                                          std::string& error) const;
  // "" and non-zero integers are true, as are "true"/"yes"/"on"; everything else is false.
  bool GetBoolArg(const std::string& name, bool default_value) const;
  // Every value of a list option (empty when unset or negated).
  std::vector<std::string> GetArgs(const std::string& name) const;
  // Sets the value only if no source sets it; returns whether it did.
  bool SoftSetArg(const std::string& name, const std::string& value);
  bool SoftSetBoolArg(const std::string& name, bool value);
  // Overrides every source.
  void ForceSetArg(const std::string& name, const std::string& value);

  // The chain -chain, -regtest or -testnet select (main when none is set); nullopt with `error`
  // for an unknown name, or options that select different chains. Every program checks it after
  // reading its options; the data directory below follows it.
  std::optional<ChainType> GetChainType(std::string& error) const;
  // GetChainType, main when the selection is invalid (reported by GetChainType).
  ChainType GetChainTypeOrMain() const;

  // -datadir (made absolute) or $HOME/.minicoin: where the config file is. No side effects.
  std::filesystem::path GetDataDirBase() const;
  // The chain's data directory: GetDataDirBase() with the chain's subfolder ("regtest",
  // "testnet"; none for main). No side effects.
  std::filesystem::path GetDataDirPath() const;
  // Checks that an explicit -datadir exists ("Specified data directory \"x\" does not exist.")
  // and creates the default one when `create_default`; then creates the chain's subfolder.
  // Call it before GetDataDir().
  bool CheckDataDir(std::string& error, bool create_default = true) const;
  // GetDataDirPath(), creating the directories if missing (errors are ignored here; they are
  // reported by CheckDataDir).
  std::filesystem::path GetDataDir() const;
  // What a program does after ParseParameters: CheckDataDir, ReadConfigFile (skipping unknown
  // options with `ignore_unknown_config`), GetChainType (the config file may select the chain),
  // and CheckDataDir again for the chain's subfolder. False with `error` at the first failure.
  bool InitDataDirAndConfig(std::string& error, bool create_default = true, bool ignore_unknown_config = false);
  // The config file path ReadConfigFile uses (relative paths are in GetDataDirBase()).
  std::filesystem::path GetConfigFilePath() const;
  // `path` when absolute, otherwise relative to the chain's data directory.
  std::filesystem::path AbsPathInDataDir(const std::filesystem::path& path) const;

  // Options grouped by category (in registration order), sorted by name, help text wrapped to
  // 79 columns. Debug-only options are included when `show_debug`.
  std::string GetHelpMessage(bool show_debug = false) const;
  // "name=value" for every set option, sensitive values shown as "****", for the debug log.
  std::vector<std::string> DescribeSetArgs() const;

 private:
  struct Registered {
    std::string spec;  // as given to AddArg
    std::string help;
    std::string category;
    unsigned flags = 0;
    bool hidden = false;
  };
  // Values of one option from one source. `negated`: the last one was a negation; `cleared`:
  // some negation was given (for a list, values before it were dropped).
  struct Setting {
    std::vector<std::string> values;
    bool negated = false;
    bool cleared = false;
  };
  using Settings = std::map<std::string, Setting>;

  static std::string StripDash(const std::string& name);
  const Registered* Find(const std::string& name) const;
  // Interprets "name" / "noname" with an optional value into (name, value, negated).
  bool InterpretOption(const std::string& key, std::optional<std::string> value,
                       std::string& name, std::string& result, bool& negated,
                       std::string& error) const;
  static void Store(Settings& settings, const std::string& name, const std::string& value,
                    bool negated, bool is_list);
  // The effective value of a single-valued option, nullopt if unset. Requires m_mutex.
  std::optional<std::string> Effective(const std::string& name) const;
  std::optional<std::string> EffectiveArg(const std::string& name, bool& negated) const;
  // The same over the given sources only, in order.
  static std::optional<std::string> EffectiveIn(std::initializer_list<const Settings*> sources,
                                                const std::string& name, bool& negated);
  // The config file's section of the selected chain ([main], [test], [regtest]); null if it has
  // none or the chain options conflict. Requires m_mutex.
  const Settings* ActiveSection() const;

  mutable std::mutex m_mutex;
  std::map<std::string, Registered> m_registered;  // guarded by m_mutex; key without dash
  std::vector<std::string> m_categories;           // guarded by m_mutex; registration order
  Settings m_forced;                               // guarded by m_mutex
  Settings m_command_line;                         // guarded by m_mutex
  Settings m_config;                               // guarded by m_mutex; outside sections
  std::map<std::string, Settings> m_config_sections;  // guarded by m_mutex; by chain name
  std::vector<std::string> m_positional;           // guarded by m_mutex
};

}  // namespace minicoin
