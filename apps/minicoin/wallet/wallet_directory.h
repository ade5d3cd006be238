// WalletDirectory: the wallets an RPC server can reach, whatever processes they live in.
#pragma once

#include "wallet.crossproc.h"

#include <memory>
#include <string>
#include <vector>

namespace minicoin {

// The set of wallets behind the wallet RPC methods. minicoind implements it over one
// WalletLoader in its own process; minicoin-node over one minicoin-wallet process per wallet
// plus the wallet processes that attached themselves; a wallet process serving its own RPC over
// its own loader. Errors are minicoin::WalletError (with the RPC code). Thread-safe.
class WalletDirectory {
 public:
  virtual ~WalletDirectory() = default;
  // Creates and loads a wallet; `passphrase` empty: unencrypted.
  virtual std::shared_ptr<ipc::Wallet> Create(const std::string& name, const std::string& passphrase) = 0;
  virtual std::shared_ptr<ipc::Wallet> Load(const std::string& name) = 0;
  virtual void Unload(const std::string& name) = 0;
  // The loaded wallet `name`, or null.
  virtual std::shared_ptr<ipc::Wallet> Get(const std::string& name) = 0;
  // Names of the loaded wallets, sorted.
  virtual std::vector<std::string> List() = 0;
  // Names of the wallets on disk that could be loaded.
  virtual std::vector<std::string> ListDir() = 0;
};

}  // namespace minicoin
