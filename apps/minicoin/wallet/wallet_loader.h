// The WalletLoader over <datadir>/wallets/ (MakeWalletLoader), and LocalWalletDirectory over one loader.
#pragma once

#include "chain.crossproc.h"
#include "wallet.crossproc.h"
#include "wallet/wallet.h"
#include "wallet/wallet_directory.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace minicoin {

class Logger;

// The wallets of one process, in <datadir>/wallets/<name>/, all following `chain`. create:
// kAlreadyExists if the folder holds a wallet; load: kNotFound if it does not, kAlreadyLoaded if
// this loader has it loaded, kWalletError if another process has; unload: kNotFound if not
// loaded. Names are 1 to 64 characters, none of them '/', '\\' or a control character, and do
// not start with '.' (kInvalidParameter otherwise). The Wallet objects it returns stay valid after
// an unload (their calls then throw kNotFound). Thread-safe. `log` must outlive the loader.
//
//   auto loader = MakeWalletLoader(datadir, chain, log);
//   std::unique_ptr<ipc::Wallet> wallet = loader->createWallet("w1", "");
std::unique_ptr<ipc::WalletLoader> MakeWalletLoader(const std::filesystem::path& datadir,
                                                    std::shared_ptr<ipc::Chain> chain, Logger& log);
// Whether `name` is a valid wallet name (the rule above), so that <datadir>/wallets/<name> is a
// folder of its own.
bool IsValidWalletName(const std::string& name);

// The same with explicit options (tests: a fixed clock, few key-derivation rounds).
std::unique_ptr<ipc::WalletLoader> MakeWalletLoader(const std::filesystem::path& datadir,
                                                    std::shared_ptr<ipc::Chain> chain, WalletOptions options);

// WalletDirectory over one WalletLoader (in this process or a proxy to another one): for
// minicoind, and for a wallet process serving its own RPC. Thread-safe as far as the loader is
// (MakeWalletLoader's is).
class LocalWalletDirectory final : public WalletDirectory {
 public:
  // Shared with whoever else calls the loader (the process that owns it).
  explicit LocalWalletDirectory(std::shared_ptr<ipc::WalletLoader> loader) : m_loader(std::move(loader)) {}

  std::shared_ptr<ipc::Wallet> Create(const std::string& name, const std::string& passphrase) override;
  std::shared_ptr<ipc::Wallet> Load(const std::string& name) override;
  void Unload(const std::string& name) override;
  std::shared_ptr<ipc::Wallet> Get(const std::string& name) override;
  std::vector<std::string> List() override;
  std::vector<std::string> ListDir() override;

 private:
  std::shared_ptr<ipc::WalletLoader> m_loader;
};

}  // namespace minicoin
