// WalletLoader and LocalWalletDirectory.
#include "wallet/wallet_loader.h"

#include "common/logging.h"
#include "ipc/wallet_error.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

namespace minicoin {
namespace {

// An ipc::Wallet handed out by the loader: forwards to the loaded wallet, which it keeps alive
// (an unloaded wallet is closed and answers kNotFound). Thread-safe.
class WalletHandle final : public ipc::Wallet {
 public:
  explicit WalletHandle(std::shared_ptr<minicoin::Wallet> wallet) : m_wallet(std::move(wallet)) {}

  std::string getName() override { return m_wallet->getName(); }
  ipc::Balances getBalances() override { return m_wallet->getBalances(); }
  std::string getNewAddress(const std::string& label) override { return m_wallet->getNewAddress(label); }
  std::vector<uint8_t> sendToAddress(const std::string& address, uint64_t amount, uint64_t feeRate) override {
    return m_wallet->sendToAddress(address, amount, feeRate);
  }
  std::vector<ipc::WalletTransaction> listTransactions(uint32_t count, uint32_t skip) override {
    return m_wallet->listTransactions(count, skip);
  }
  std::vector<ipc::UnspentOutput> listUnspent() override { return m_wallet->listUnspent(); }
  ipc::WalletInfo getWalletInfo() override { return m_wallet->getWalletInfo(); }
  void encryptWallet(const std::string& passphrase) override { m_wallet->encryptWallet(passphrase); }
  void walletPassphrase(const std::string& passphrase, uint32_t timeoutSeconds) override {
    m_wallet->walletPassphrase(passphrase, timeoutSeconds);
  }
  void walletLock() override { m_wallet->walletLock(); }
  uint32_t rescan(uint32_t startHeight) override { return m_wallet->rescan(startHeight); }
  std::unique_ptr<ipc::Handler> handleBalanceChanged(const std::function<void(const ipc::Balances&)>& callback) override {
    return m_wallet->handleBalanceChanged(callback);
  }
  ipc::SignedTransaction signRawTransaction(const std::vector<uint8_t>& tx,
                                            const std::vector<ipc::PrevOut>& prevouts) override {
    return m_wallet->signRawTransaction(tx, prevouts);
  }

 private:
  std::shared_ptr<minicoin::Wallet> m_wallet;
};

void CheckName(const std::string& name) {
  if (!IsValidWalletName(name)) {
    throw WalletError(WalletError::kInvalidParameter,
                      "Invalid wallet name \"" + name +
                          "\": 1 to 64 characters, no '/', '\\' or control characters, not starting with '.'");
  }
}

// Thread-safe: m_mutex guards the maps; opening a wallet (which may scan the chain) runs without
// it, with the name reserved in m_busy.
class WalletLoaderImpl final : public ipc::WalletLoader {
 public:
  WalletLoaderImpl(std::filesystem::path wallets_dir, std::shared_ptr<ipc::Chain> chain, WalletOptions options)
      : m_dir(std::move(wallets_dir)), m_chain(std::move(chain)), m_options(std::move(options)) {}
  ~WalletLoaderImpl() override { shutdown(); }

  std::unique_ptr<ipc::Wallet> createWallet(const std::string& name, const std::string& passphrase) override {
    return Open(name, true, passphrase);
  }
  std::unique_ptr<ipc::Wallet> loadWallet(const std::string& name) override { return Open(name, false, ""); }

  void unloadWallet(const std::string& name) override {
    std::shared_ptr<minicoin::Wallet> wallet;
    {
      std::lock_guard lock(m_mutex);
      auto found = m_wallets.find(name);
      if (found == m_wallets.end()) {
        throw WalletError(WalletError::kNotFound, "Requested wallet does not exist or is not loaded");
      }
      wallet = std::move(found->second);
      m_wallets.erase(found);
    }
    wallet->Close();
  }

  std::unique_ptr<ipc::Wallet> getWallet(const std::string& name) override {
    std::lock_guard lock(m_mutex);
    auto found = m_wallets.find(name);
    if (found == m_wallets.end()) return nullptr;
    return std::make_unique<WalletHandle>(found->second);
  }

  std::vector<std::string> listWallets() override {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> names;
    for (const auto& [name, wallet] : m_wallets) names.push_back(name);
    return names;  // the map keeps them sorted
  }

  std::vector<std::string> listWalletDir() override {
    std::vector<std::string> names;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(m_dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code file_ec;
      if (it->is_directory(file_ec) && std::filesystem::exists(it->path() / "wallet.sqlite", file_ec)) {
        names.push_back(it->path().filename().string());
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  void shutdown() override {
    std::map<std::string, std::shared_ptr<minicoin::Wallet>> wallets;
    {
      std::lock_guard lock(m_mutex);
      wallets.swap(m_wallets);
    }
    for (auto& [name, wallet] : wallets) wallet->Close();
  }

 private:
  std::unique_ptr<ipc::Wallet> Open(const std::string& name, bool create, const std::string& passphrase) {
    CheckName(name);
    {
      std::lock_guard lock(m_mutex);
      if (m_wallets.count(name) != 0) {
        if (create) {
          throw WalletError(WalletError::kAlreadyExists, "Wallet \"" + name + "\" already exists.");
        }
        throw WalletError(WalletError::kAlreadyLoaded, "Wallet \"" + name + "\" is already loaded.");
      }
      if (!m_busy.insert(name).second) {
        throw WalletError(WalletError::kAlreadyLoaded, "Wallet \"" + name + "\" is being loaded.");
      }
    }
    std::shared_ptr<minicoin::Wallet> wallet;
    try {
      wallet = minicoin::Wallet::Open(m_dir / name, name, m_chain, m_options, create, passphrase);
    } catch (...) {
      std::lock_guard lock(m_mutex);
      m_busy.erase(name);
      throw;
    }
    std::lock_guard lock(m_mutex);
    m_busy.erase(name);
    m_wallets[name] = wallet;
    return std::make_unique<WalletHandle>(wallet);
  }

  const std::filesystem::path m_dir;
  // Shared by every wallet of this loader: the node's Chain.
  const std::shared_ptr<ipc::Chain> m_chain;
  const WalletOptions m_options;
  std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<minicoin::Wallet>> m_wallets;  // guarded by m_mutex
  std::set<std::string> m_busy;                                         // guarded by m_mutex; being opened
};

}  // namespace

bool IsValidWalletName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '.';
  for (char c : name) {
    if (c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ok = false;
  }
  return ok;
}

std::unique_ptr<ipc::WalletLoader> MakeWalletLoader(const std::filesystem::path& datadir,
                                                    std::shared_ptr<ipc::Chain> chain, Logger& log) {
  WalletOptions options;
  options.log = &log;
  return MakeWalletLoader(datadir, std::move(chain), std::move(options));
}

std::unique_ptr<ipc::WalletLoader> MakeWalletLoader(const std::filesystem::path& datadir,
                                                    std::shared_ptr<ipc::Chain> chain, WalletOptions options) {
  return std::make_unique<WalletLoaderImpl>(datadir / "wallets", std::move(chain), std::move(options));
}

std::shared_ptr<ipc::Wallet> LocalWalletDirectory::Create(const std::string& name, const std::string& passphrase) {
  return std::shared_ptr<ipc::Wallet>(m_loader->createWallet(name, passphrase));
}

std::shared_ptr<ipc::Wallet> LocalWalletDirectory::Load(const std::string& name) {
  return std::shared_ptr<ipc::Wallet>(m_loader->loadWallet(name));
}

void LocalWalletDirectory::Unload(const std::string& name) { m_loader->unloadWallet(name); }

std::shared_ptr<ipc::Wallet> LocalWalletDirectory::Get(const std::string& name) {
  return std::shared_ptr<ipc::Wallet>(m_loader->getWallet(name));
}

std::vector<std::string> LocalWalletDirectory::List() { return m_loader->listWallets(); }

std::vector<std::string> LocalWalletDirectory::ListDir() { return m_loader->listWalletDir(); }

}  // namespace minicoin
