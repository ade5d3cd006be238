// Wallet: one wallet's keys, coins and transactions, kept in step with the chain (an ipc::Wallet).
#pragma once

#include "chain.crossproc.h"
#include "primitives/transaction.h"
#include "wallet.crossproc.h"
#include "wallet/seed_crypter.h"
#include "wallet/wallet_db.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace minicoin {

class Logger;

// Unused keys kept derived beyond the last used one, so that a scan recognises payments to
// addresses handed out but not yet seen paid.
inline constexpr uint32_t kDefaultLookahead = 20;
// Fee rate (units per 1000 encoded bytes) used when the node's estimate is lower: 1 unit a byte.
inline constexpr uint64_t kMinFeeRate = 1000;
// Change below this many units is left to the fee instead of making an output.
inline constexpr uint64_t kMinChange = 1000;
// Blocks the wallet scans per Chain::scanBlocks call.
inline constexpr uint32_t kScanBatchBlocks = 1000;
// Processed block hashes kept to find the fork point after a reorganisation while unloaded.
inline constexpr uint32_t kKeptBlockHashes = 144;

struct WalletOptions {
  uint32_t lookahead = kDefaultLookahead;
  uint32_t kdf_iterations = kDefaultKdfIterations;  // for a passphrase set from now on
  uint32_t scan_batch_blocks = kScanBatchBlocks;
  std::function<int64_t()> clock = {};  // unix seconds; null: the system clock
  Logger* log = nullptr;                // null: no log
  // Test hook (-testnotificationdelay): sleep this long in each block notification before handling it.
  uint32_t notification_delay_ms = 0;
};

class NotificationForwarder;
class BalanceCallbacks;

// A wallet in <datadir>/wallets/<name>/: a random 32-byte seed (optionally sealed with a
// passphrase), keys PrivateKey::Derive(seed, i), and the transactions that pay to or spend from
// them, in wallet.sqlite. It follows the chain through ChainNotifications registered at Open, and
// catches up at Open with Chain::scanBlocks from the last processed block (or the fork point, if
// that block left the active chain). Sends are written to the database before they are
// broadcast; unconfirmed sends are broadcast again at every Open.
//
// Thread-safe: one mutex serializes every method and chain event (chain calls are made with it
// held; they must not wait for this wallet's events, which the node's Chain guarantees by
// queueing them). Balance callbacks run without it. After Close() (the loader's unload) every
// method throws WalletError kNotFound.
//
//   auto wallet = Wallet::Open(datadir / "wallets" / "w1", "w1", chain, {}, /*create=*/true, "");
//   std::string address = wallet->getNewAddress("");
class Wallet final : public ipc::Wallet {
 public:
  // Opens (or, with `create`, creates; `passphrase` non-empty encrypts the seed) the wallet in
  // `dir`, locks the folder against other processes, registers for chain notifications, catches
  // up with the chain and re-broadcasts unconfirmed sends. Throws WalletError: kAlreadyExists
  // (create, but a wallet is there), kNotFound (open, but none is), kWalletError (folder in use,
  // unreadable database, chain unreachable).
  static std::shared_ptr<Wallet> Open(const std::filesystem::path& dir, const std::string& name,
                                      std::shared_ptr<ipc::Chain> chain, const WalletOptions& options,
                                      bool create, const std::string& passphrase);
  ~Wallet() override;
  Wallet(const Wallet&) = delete;
  Wallet& operator=(const Wallet&) = delete;

  // Ends the chain registration, forgets the seed, closes the database and releases the folder
  // lock. Idempotent. Must not be called from a balance callback or a chain event.
  void Close();

  std::string getName() override;
  ipc::Balances getBalances() override;
  std::string getNewAddress(const std::string& label) override;
  std::vector<uint8_t> sendToAddress(const std::string& address, uint64_t amount, uint64_t feeRate) override;
  std::vector<ipc::WalletTransaction> listTransactions(uint32_t count, uint32_t skip) override;
  std::vector<ipc::UnspentOutput> listUnspent() override;
  ipc::WalletInfo getWalletInfo() override;
  void encryptWallet(const std::string& passphrase) override;
  void walletPassphrase(const std::string& passphrase, uint32_t timeoutSeconds) override;
  void walletLock() override;
  uint32_t rescan(uint32_t startHeight) override;
  std::unique_ptr<ipc::Handler> handleBalanceChanged(
      const std::function<void(const ipc::Balances&)>& callback) override;
  // Needs the seed (kUnlockNeeded while locked). Throws WalletError -22 if `tx` does not decode,
  // kInvalidParameter for a malformed prevout, -22 if a prevout's key differs from the node's
  // coin. Inputs the wallet cannot sign keep their signature.
  ipc::SignedTransaction signRawTransaction(const std::vector<uint8_t>& tx,
                                            const std::vector<ipc::PrevOut>& prevouts) override;

  // Chain events, delivered by the NotificationForwarder registered with the chain.
  void OnBlockConnected(const std::vector<uint8_t>& block, uint32_t height);
  void OnBlockDisconnected(const std::vector<uint8_t>& block, uint32_t height);
  void OnTransactionAdded(const std::vector<uint8_t>& tx);
  void OnTransactionRemoved(const std::vector<uint8_t>& tx, const std::string& reason);

 private:
  struct WalletTx {
    TxRecord record;
    Transaction tx;
  };
  struct OutPointLess {
    bool operator()(const OutPoint& a, const OutPoint& b) const {
      if (a.txid == b.txid) return a.index < b.index;
      return a.txid.bytes() < b.txid.bytes();
    }
  };
  struct UintLess {
    bool operator()(const Uint256& a, const Uint256& b) const { return a.bytes() < b.bytes(); }
  };
  // The block a transaction was found in.
  struct BlockPlace {
    Uint256 hash;
    uint32_t height = 0;
    uint32_t time = 0;
  };
  // One spendable coin for coin selection.
  struct Candidate {
    OutPoint outpoint;
    TxOut output;
  };

  Wallet(std::filesystem::path dir, std::string name, std::shared_ptr<ipc::Chain> chain, WalletOptions options);

  // The parts of Open. Create/Load need m_mutex.
  void LockFolder();
  void CreateNew(const std::string& passphrase);
  void LoadStored();
  void Start();

  // Everything below needs m_mutex.
  void RequireOpen() const;
  int64_t Now() const;
  void Log(const char* format, ...) const __attribute__((format(printf, 2, 3)));
  // The seed if it is available (unencrypted, or unlocked and not timed out; a timed-out
  // unlock is forgotten here), else nullptr.
  const std::vector<uint8_t>* Seed();
  std::optional<uint32_t> KeyIndex(const XOnlyPublicKey& pubkey) const;
  // Derives keys until `lookahead` unused ones follow the last used one (needs the seed).
  void TopUpKeys();
  void AddKey(const std::vector<uint8_t>& seed);
  // Marks the wallet's keys paid by `tx` as used.
  void MarkKeysUsed(const Transaction& tx);
  // The first unused key, marked used (and stored); nullopt if none is left.
  std::optional<KeyRecord> TakeKey(bool internal, const std::string& label);

  // The wallet output at `outpoint`, if it is one of the wallet's transactions' and pays to it.
  const TxOut* OwnOutput(const OutPoint& outpoint) const;
  bool Involves(const Transaction& tx) const;
  bool AllInputsMine(const Transaction& tx) const;
  // Spent by a wallet transaction that is confirmed, in the mempool or waiting to be.
  bool IsSpent(const OutPoint& outpoint) const;
  bool IsSpentConfirmed(const OutPoint& outpoint) const;
  // Confirmations: from the last processed block; 0 unconfirmed; -1 conflicted or abandoned.
  int32_t Depth(const WalletTx& wtx) const;
  bool IsImmature(const WalletTx& wtx) const;
  ipc::Balances ComputeBalances() const;
  std::vector<Candidate> SpendableCoins() const;

  // Adds or updates `tx` (found in `block`, or unconfirmed when null); true if the wallet changed.
  bool SyncTransaction(const Transaction& tx, const BlockPlace* block);
  void Insert(WalletTx wtx);
  void Save(WalletTx& wtx);
  void SetState(WalletTx& wtx, TxState state, const Uint256& block_hash = {}, uint32_t height = 0,
                uint32_t time = 0);
  // Marks the unconfirmed wallet transactions spending `tx`'s inputs (except `tx`) and their
  // descendants conflicted by `block_hash`.
  void MarkConflicts(const Transaction& tx, const Uint256& txid, const Uint256& block_hash);
  void MarkConflictedWithDescendants(const Uint256& txid, const Uint256& block_hash);
  // The transaction's block was disconnected.
  void Unconfirm(WalletTx& wtx);
  void SetLastBlock(const Uint256& hash, uint32_t height);

  // Catch-up at Open: the fork point of the stored state with the active chain, then a scan.
  void CatchUp();
  // Scans start..stop with Chain::scanBlocks in batches; returns the last height scanned.
  uint32_t ScanRange(uint32_t start, uint32_t stop);
  void Rebroadcast();

  ipc::WalletTransaction Describe(const WalletTx& wtx) const;
  // Compares the balances with the last ones reported; true (and `balances` set) if they changed.
  bool BalancesChanged(ipc::Balances& balances);
  // Runs the balance callbacks if the balances changed since the last report. Called without
  // m_mutex.
  void ReportBalances();

  const std::filesystem::path m_dir;
  const std::string m_name;
  // Shared with the loader and the loader's other wallets: the node's one Chain.
  const std::shared_ptr<ipc::Chain> m_chain;
  const WalletOptions m_options;
  // Shared with the chain's registration (it may deliver an event while Close runs).
  std::shared_ptr<NotificationForwarder> m_forwarder;
  // Shared with the handlers handleBalanceChanged returns, which may outlive the wallet.
  std::shared_ptr<BalanceCallbacks> m_callbacks;

  mutable std::mutex m_mutex;
  bool m_closed = false;                              // guarded by m_mutex
  int m_lock_fd = -1;                                 // guarded by m_mutex
  std::unique_ptr<WalletDatabase> m_db;               // guarded by m_mutex
  std::unique_ptr<ipc::Handler> m_chain_handler;      // guarded by m_mutex
  std::vector<KeyRecord> m_keys;                      // guarded by m_mutex; by index
  std::map<XOnlyPublicKey, uint32_t> m_key_index;     // guarded by m_mutex
  std::map<Uint256, WalletTx, UintLess> m_txs;        // guarded by m_mutex
  std::map<int64_t, Uint256> m_by_seq;                // guarded by m_mutex
  std::map<OutPoint, std::set<Uint256, UintLess>, OutPointLess> m_spenders;  // guarded by m_mutex
  bool m_encrypted = false;                           // guarded by m_mutex
  EncryptedSeed m_sealed;                             // guarded by m_mutex
  std::vector<uint8_t> m_seed;                        // guarded by m_mutex; empty while locked
  int64_t m_unlocked_until = 0;                       // guarded by m_mutex
  Uint256 m_last_hash;                                // guarded by m_mutex
  uint32_t m_last_height = 0;                         // guarded by m_mutex

  // Serializes balance reports; taken before m_mutex, recursive for a callback that sends.
  std::recursive_mutex m_report_mutex;
  std::optional<ipc::Balances> m_reported;  // guarded by m_mutex
};

}  // namespace minicoin
