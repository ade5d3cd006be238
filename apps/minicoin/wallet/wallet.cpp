// Wallet: keys, tracking of chain events, balances, scans and sends.
#include "wallet/wallet.h"

#include "common/logging.h"
#include "crypto/key.h"
#include "ipc/wallet_error.h"
#include "primitives/address.h"
#include "primitives/block.h"
#include "validation/coins.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstring>
#include <thread>

namespace minicoin {

// Passes the chain's events to a wallet until Detach(); Detach waits for an event in progress.
// Thread-safe.
class NotificationForwarder final : public ipc::ChainNotifications {
 public:
  NotificationForwarder(Wallet* wallet, Logger* log, uint32_t block_delay_ms)
      : m_wallet(wallet), m_log(log), m_block_delay_ms(block_delay_ms) {}

  void Detach() {
    std::lock_guard lock(m_mutex);
    m_wallet = nullptr;
  }

  void blockConnected(const std::vector<uint8_t>& block, uint32_t height) override {
    DelayBlock();
    Deliver("blockConnected", [&](Wallet& wallet) { wallet.OnBlockConnected(block, height); });
  }
  void blockDisconnected(const std::vector<uint8_t>& block, uint32_t height) override {
    DelayBlock();
    Deliver("blockDisconnected", [&](Wallet& wallet) { wallet.OnBlockDisconnected(block, height); });
  }
  void transactionAddedToMempool(const std::vector<uint8_t>& tx) override {
    Deliver("transactionAddedToMempool", [&](Wallet& wallet) { wallet.OnTransactionAdded(tx); });
  }
  void transactionRemovedFromMempool(const std::vector<uint8_t>& tx, const std::string& reason) override {
    Deliver("transactionRemovedFromMempool", [&](Wallet& wallet) { wallet.OnTransactionRemoved(tx, reason); });
  }
  void updatedBlockTip(const ipc::BlockRef&) override {}

 private:
  // The -testnotificationdelay hook: a slow wallet, without holding the forwarder's mutex.
  void DelayBlock() const {
    if (m_block_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_block_delay_ms));
  }

  template <typename F>
  void Deliver(const char* event, F&& fn) {
    std::lock_guard lock(m_mutex);
    if (m_wallet == nullptr) return;
    try {
      fn(*m_wallet);
    } catch (const std::exception& e) {
      // The node must not drop the registration over one event: log it and go on.
      if (m_log != nullptr) m_log->Error("wallet: %s failed: %s", event, e.what());
    }
  }

  std::mutex m_mutex;
  Wallet* m_wallet;  // guarded by m_mutex; null once detached
  Logger* m_log;
  const uint32_t m_block_delay_ms;
};

// The callbacks registered with handleBalanceChanged. A callback that throws (its process went
// away) is dropped. Remove waits for a call in progress, unless called from a callback.
// Thread-safe.
class BalanceCallbacks {
 public:
  using Callback = std::function<void(const ipc::Balances&)>;

  uint64_t Add(Callback callback) {
    std::lock_guard lock(m_mutex);
    uint64_t id = m_next_id++;
    m_callbacks.emplace(id, std::move(callback));
    return id;
  }

  void Remove(uint64_t id) {
    {
      std::lock_guard lock(m_mutex);
      m_callbacks.erase(id);
    }
    if (m_calling_thread.load() != std::this_thread::get_id()) std::lock_guard<std::recursive_mutex> wait(m_call_mutex);
  }

  void Call(const ipc::Balances& balances) {
    std::lock_guard<std::recursive_mutex> calling(m_call_mutex);
    m_calling_thread.store(std::this_thread::get_id());
    std::vector<std::pair<uint64_t, Callback>> callbacks;
    {
      std::lock_guard lock(m_mutex);
      callbacks.assign(m_callbacks.begin(), m_callbacks.end());
    }
    for (auto& [id, callback] : callbacks) {
      {
        std::lock_guard lock(m_mutex);
        if (m_callbacks.count(id) == 0) continue;
      }
      try {
        callback(balances);
      } catch (const std::exception&) {
        std::lock_guard lock(m_mutex);
        m_callbacks.erase(id);
      }
    }
    m_calling_thread.store(std::thread::id());
  }

 private:
  std::recursive_mutex m_call_mutex;  // held while callbacks run (a callback may cause a report)
  std::atomic<std::thread::id> m_calling_thread{};
  std::mutex m_mutex;
  std::map<uint64_t, Callback> m_callbacks;  // guarded by m_mutex
  uint64_t m_next_id = 1;                    // guarded by m_mutex
};

namespace {

constexpr int kKeypoolRanOut = -12;
const char* const kUnlockNeededMessage = "Error: Please enter the wallet passphrase with walletpassphrase first.";

// Ends one balance callback's registration. Thread-safe.
class BalanceHandler final : public ipc::Handler {
 public:
  BalanceHandler(std::weak_ptr<BalanceCallbacks> callbacks, uint64_t id) : m_callbacks(std::move(callbacks)), m_id(id) {}
  ~BalanceHandler() override { disconnect(); }
  void disconnect() override {
    if (auto callbacks = m_callbacks.lock()) callbacks->Remove(m_id);
  }

 private:
  std::weak_ptr<BalanceCallbacks> m_callbacks;
  uint64_t m_id;
};

std::vector<uint8_t> Bytes(const Uint256& hash) { return std::vector<uint8_t>(hash.bytes().begin(), hash.bytes().end()); }

// A hash received from the chain: exactly 32 bytes.
Uint256 HashFromChain(const std::vector<uint8_t>& bytes) {
  if (bytes.size() != 32) throw WalletError(WalletError::kWalletError, "the chain sent a malformed block hash");
  std::array<uint8_t, 32> out{};
  std::memcpy(out.data(), bytes.data(), out.size());
  return Uint256(out);
}

bool SameBalances(const ipc::Balances& a, const ipc::Balances& b) {
  return a.confirmed == b.confirmed && a.unconfirmed == b.unconfirmed && a.immature == b.immature;
}

bool SpendsInputs(TxState state) {
  return state == TxState::kConfirmed || state == TxState::kMempool || state == TxState::kInactive;
}

// Fee for `tx` at `rate` units per 1000 bytes, rounded up.
uint64_t FeeFor(const Transaction& tx, uint64_t rate) {
  uint64_t size = tx.Encode().size();
  return (rate * size + 999) / 1000;
}

}  // namespace

Wallet::Wallet(std::filesystem::path dir, std::string name, std::shared_ptr<ipc::Chain> chain, WalletOptions options)
    : m_dir(std::move(dir)),
      m_name(std::move(name)),
      m_chain(std::move(chain)),
      m_options(std::move(options)),
      m_callbacks(std::make_shared<BalanceCallbacks>()) {}

Wallet::~Wallet() { Close(); }

std::shared_ptr<Wallet> Wallet::Open(const std::filesystem::path& dir, const std::string& name,
                                     std::shared_ptr<ipc::Chain> chain, const WalletOptions& options, bool create,
                                     const std::string& passphrase) {
  if (!chain) throw WalletError(WalletError::kWalletError, "no chain to follow");
  std::error_code ec;
  const std::filesystem::path file = dir / "wallet.sqlite";
  bool exists = std::filesystem::exists(file, ec);
  if (create && exists) {
    throw WalletError(WalletError::kAlreadyExists, "Wallet file verification failed. Failed to create database path '" +
                                                        dir.string() + "'. Database already exists.");
  }
  if (!create && !exists) {
    throw WalletError(WalletError::kNotFound, "Wallet file verification failed. Failed to load database path '" +
                                                  dir.string() + "'. Path does not exist.");
  }
  bool made_dir = false;
  if (create) {
    made_dir = std::filesystem::create_directories(dir, ec);
    if (ec) throw WalletError(WalletError::kWalletError, "cannot create wallet folder " + dir.string() + ": " + ec.message());
  }
  std::shared_ptr<Wallet> wallet(new Wallet(dir, name, std::move(chain), options));
  try {
    {
      std::lock_guard lock(wallet->m_mutex);
      wallet->LockFolder();
      wallet->m_db = std::make_unique<WalletDatabase>(file);
      if (create) {
        wallet->CreateNew(passphrase);
      } else {
        wallet->LoadStored();
      }
    }
    wallet->Start();
  } catch (...) {
    wallet->Close();
    if (create) {
      // Leave nothing half-made behind: a later createwallet of the same name must work.
      std::filesystem::remove(file, ec);
      std::filesystem::remove(dir / "wallet.sqlite-wal", ec);
      std::filesystem::remove(dir / "wallet.sqlite-shm", ec);
      if (made_dir) std::filesystem::remove_all(dir, ec);
    }
    throw;
  }
  return wallet;
}

void Wallet::LockFolder() {
  const std::string path = (m_dir / ".lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw WalletError(WalletError::kWalletError, "cannot open " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw WalletError(WalletError::kWalletError, "Wallet folder " + m_dir.string() +
                                                     " is in use by another process (or already loaded here)");
  }
  m_lock_fd = fd;
}

void Wallet::CreateNew(const std::string& passphrase) {
  ipc::BlockRef tip = m_chain->getTip();
  Uint256 tip_hash = HashFromChain(tip.hash);
  std::vector<uint8_t> seed = RandomBytes(32);
  m_db->Begin();
  try {
    m_db->WriteIntSetting("version", 1);
    m_db->WriteIntSetting("created", Now());
    if (passphrase.empty()) {
      m_db->WriteSetting("seed", seed);
    } else {
      m_sealed = EncryptSeed(seed, passphrase, m_options.kdf_iterations);
      m_db->WriteSetting("seed_box", m_sealed.box);
      m_db->WriteSetting("seed_salt", m_sealed.salt);
      m_db->WriteIntSetting("seed_iterations", m_sealed.iterations);
      m_encrypted = true;
      m_unlocked_until = Now() + 60;  // only for the first keys, below
    }
    m_seed = seed;
    TopUpKeys();
    SetLastBlock(tip_hash, tip.height);
    m_db->Commit();
  } catch (...) {
    m_db->Rollback();
    Wipe(seed);
    Wipe(m_seed);
    throw;
  }
  Wipe(seed);
  if (m_encrypted) {
    Wipe(m_seed);  // a new encrypted wallet starts locked
    m_unlocked_until = 0;
  }
  Log("wallet %s: created (%s)", m_name.c_str(), m_encrypted ? "encrypted" : "not encrypted");
}

void Wallet::LoadStored() {
  if (std::optional<std::vector<uint8_t>> seed = m_db->ReadSetting("seed")) {
    if (seed->size() != 32) throw WalletError(WalletError::kWalletError, "wallet " + m_name + ": malformed seed");
    m_seed = std::move(*seed);
  } else {
    std::optional<std::vector<uint8_t>> box = m_db->ReadSetting("seed_box");
    std::optional<std::vector<uint8_t>> salt = m_db->ReadSetting("seed_salt");
    std::optional<int64_t> iterations = m_db->ReadIntSetting("seed_iterations");
    if (!box || !salt || !iterations || *iterations <= 0 || *iterations > 0x7fffffff) {
      throw WalletError(WalletError::kWalletError, "wallet " + m_name + ": the database holds no usable seed");
    }
    m_sealed = {std::move(*salt), static_cast<uint32_t>(*iterations), std::move(*box)};
    m_encrypted = true;
  }
  m_keys = m_db->ReadKeys();
  for (std::size_t i = 0; i < m_keys.size(); ++i) {
    if (m_keys[i].index != i) throw WalletError(WalletError::kWalletError, "wallet " + m_name + ": key records have a gap");
    m_key_index[m_keys[i].pubkey] = m_keys[i].index;
  }
  for (TxRecord& record : m_db->ReadTransactions()) {
    WalletTx wtx;
    try {
      wtx.tx = Transaction::Decode(record.raw);
    } catch (const std::exception& e) {
      throw WalletError(WalletError::kWalletError, "wallet " + m_name + ": corrupt transaction record: " + e.what());
    }
    wtx.record = std::move(record);
    Insert(std::move(wtx));
  }
  if (std::optional<std::vector<uint8_t>> hash = m_db->ReadSetting("last_hash"); hash && hash->size() == 32) {
    m_last_hash = HashFromChain(*hash);
    m_last_height = static_cast<uint32_t>(m_db->ReadIntSetting("last_height").value_or(0));
  }
  m_db->Begin();
  TopUpKeys();
  m_db->Commit();
  Log("wallet %s: loaded %zu keys, %zu transactions, last block %u", m_name.c_str(), m_keys.size(), m_txs.size(),
      m_last_height);
}

void Wallet::Start() {
  {
    std::lock_guard lock(m_mutex);
    m_forwarder = std::make_shared<NotificationForwarder>(this, m_options.log, m_options.notification_delay_ms);
    m_chain_handler = m_chain->handleNotifications(m_forwarder);
    CatchUp();
    Rebroadcast();
    m_reported = ComputeBalances();
  }
}

void Wallet::Close() {
  std::unique_ptr<ipc::Handler> handler;
  std::shared_ptr<NotificationForwarder> forwarder;
  {
    std::lock_guard lock(m_mutex);
    if (m_closed) return;
    m_closed = true;
    handler = std::move(m_chain_handler);
    forwarder = m_forwarder;
  }
  try {
    handler.reset();  // the node stops sending (a node already gone is fine)
  } catch (const std::exception&) {
  }
  if (forwarder) forwarder->Detach();
  std::lock_guard lock(m_mutex);
  Wipe(m_seed);
  m_db.reset();
  if (m_lock_fd >= 0) {
    ::close(m_lock_fd);
    m_lock_fd = -1;
  }
  Log("wallet %s: closed", m_name.c_str());
}

void Wallet::RequireOpen() const {
  if (m_closed) throw WalletError(WalletError::kNotFound, "Requested wallet does not exist or is not loaded");
}

int64_t Wallet::Now() const {
  if (m_options.clock) return m_options.clock();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Wallet::Log(const char* format, ...) const {
  if (m_options.log == nullptr) return;
  char buffer[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  m_options.log->Info("%s", buffer);
}

const std::vector<uint8_t>* Wallet::Seed() {
  if (!m_encrypted) return &m_seed;
  if (m_seed.empty()) return nullptr;
  if (Now() >= m_unlocked_until) {
    Wipe(m_seed);
    m_unlocked_until = 0;
    return nullptr;
  }
  return &m_seed;
}

std::optional<uint32_t> Wallet::KeyIndex(const XOnlyPublicKey& pubkey) const {
  auto found = m_key_index.find(pubkey);
  if (found == m_key_index.end()) return std::nullopt;
  return found->second;
}

void Wallet::TopUpKeys() {
  const std::vector<uint8_t>* seed = Seed();
  if (seed == nullptr) return;
  std::size_t last_used_end = 0;  // one past the last used key
  for (const KeyRecord& key : m_keys) {
    if (key.used) last_used_end = key.index + 1;
  }
  while (m_keys.size() < last_used_end + m_options.lookahead) AddKey(*seed);
}

void Wallet::AddKey(const std::vector<uint8_t>& seed) {
  KeyRecord key;
  key.index = static_cast<uint32_t>(m_keys.size());
  key.pubkey = PrivateKey::Derive(seed, key.index).PublicKey();
  m_db->WriteKey(key);
  m_key_index[key.pubkey] = key.index;
  m_keys.push_back(std::move(key));
}

void Wallet::MarkKeysUsed(const Transaction& tx) {
  bool marked = false;
  for (const TxOut& out : tx.outputs) {
    std::optional<uint32_t> index = KeyIndex(out.pubkey);
    if (!index || m_keys[*index].used) continue;
    m_keys[*index].used = true;
    m_db->WriteKey(m_keys[*index]);
    marked = true;
  }
  if (marked) TopUpKeys();
}

std::optional<KeyRecord> Wallet::TakeKey(bool internal, const std::string& label) {
  for (KeyRecord& key : m_keys) {
    if (key.used) continue;
    key.used = true;
    key.internal = internal;
    key.label = label;
    m_db->WriteKey(key);
    KeyRecord taken = key;
    TopUpKeys();  // may grow m_keys: `key` is not used after this
    return taken;
  }
  return std::nullopt;
}

const TxOut* Wallet::OwnOutput(const OutPoint& outpoint) const {
  auto found = m_txs.find(outpoint.txid);
  if (found == m_txs.end()) return nullptr;
  const std::vector<TxOut>& outputs = found->second.tx.outputs;
  if (outpoint.index >= outputs.size()) return nullptr;
  const TxOut& out = outputs[outpoint.index];
  return KeyIndex(out.pubkey) ? &out : nullptr;
}

bool Wallet::Involves(const Transaction& tx) const {
  for (const TxOut& out : tx.outputs) {
    if (KeyIndex(out.pubkey)) return true;
  }
  if (tx.IsCoinbase()) return false;
  for (const TxIn& in : tx.inputs) {
    if (OwnOutput(in.prevout) != nullptr) return true;
  }
  return false;
}

bool Wallet::AllInputsMine(const Transaction& tx) const {
  if (tx.IsCoinbase() || tx.inputs.empty()) return false;
  for (const TxIn& in : tx.inputs) {
    if (OwnOutput(in.prevout) == nullptr) return false;
  }
  return true;
}

bool Wallet::IsSpent(const OutPoint& outpoint) const {
  auto found = m_spenders.find(outpoint);
  if (found == m_spenders.end()) return false;
  for (const Uint256& spender : found->second) {
    auto tx = m_txs.find(spender);
    if (tx != m_txs.end() && SpendsInputs(tx->second.record.state)) return true;
  }
  return false;
}

bool Wallet::IsSpentConfirmed(const OutPoint& outpoint) const {
  auto found = m_spenders.find(outpoint);
  if (found == m_spenders.end()) return false;
  for (const Uint256& spender : found->second) {
    auto tx = m_txs.find(spender);
    if (tx != m_txs.end() && tx->second.record.state == TxState::kConfirmed) return true;
  }
  return false;
}

int32_t Wallet::Depth(const WalletTx& wtx) const {
  switch (wtx.record.state) {
    case TxState::kConfirmed:
      if (wtx.record.block_height > m_last_height) return 1;
      return static_cast<int32_t>(m_last_height - wtx.record.block_height + 1);
    case TxState::kConflicted:
    case TxState::kAbandoned:
      return -1;
    default:
      return 0;
  }
}

bool Wallet::IsImmature(const WalletTx& wtx) const {
  return wtx.tx.IsCoinbase() && Depth(wtx) < static_cast<int32_t>(kCoinbaseMaturity);
}

ipc::Balances Wallet::ComputeBalances() const {
  ipc::Balances balances;
  for (const auto& [txid, wtx] : m_txs) {
    TxState state = wtx.record.state;
    if (state != TxState::kConfirmed && state != TxState::kMempool) continue;
    bool immature = IsImmature(wtx);
    for (std::size_t i = 0; i < wtx.tx.outputs.size(); ++i) {
      const TxOut& out = wtx.tx.outputs[i];
      if (!KeyIndex(out.pubkey) || IsSpent(OutPoint{txid, static_cast<uint32_t>(i)})) continue;
      if (state == TxState::kConfirmed) {
        (immature ? balances.immature : balances.confirmed) += out.amount;
      } else {
        (wtx.record.from_me ? balances.confirmed : balances.unconfirmed) += out.amount;
      }
    }
  }
  return balances;
}

std::vector<Wallet::Candidate> Wallet::SpendableCoins() const {
  std::vector<Candidate> coins;
  for (const auto& [txid, wtx] : m_txs) {
    TxState state = wtx.record.state;
    bool trusted = (state == TxState::kConfirmed && !IsImmature(wtx)) || (state == TxState::kMempool && wtx.record.from_me);
    if (!trusted) continue;
    for (std::size_t i = 0; i < wtx.tx.outputs.size(); ++i) {
      OutPoint outpoint{txid, static_cast<uint32_t>(i)};
      const TxOut& out = wtx.tx.outputs[i];
      if (KeyIndex(out.pubkey) && !IsSpent(outpoint)) coins.push_back({outpoint, out});
    }
  }
  return coins;
}

void Wallet::Insert(WalletTx wtx) {
  Uint256 txid = wtx.record.txid;
  if (!wtx.tx.IsCoinbase()) {
    for (const TxIn& in : wtx.tx.inputs) m_spenders[in.prevout].insert(txid);
  }
  m_by_seq[wtx.record.seq] = txid;
  m_txs[txid] = std::move(wtx);
}

void Wallet::Save(WalletTx& wtx) {
  m_db->WriteTransaction(wtx.record);
  m_by_seq[wtx.record.seq] = wtx.record.txid;
}

void Wallet::SetState(WalletTx& wtx, TxState state, const Uint256& block_hash, uint32_t height, uint32_t time) {
  TxRecord& record = wtx.record;
  if (record.state == state && record.block_hash == block_hash && record.block_height == height) return;
  record.state = state;
  record.block_hash = block_hash;
  record.block_height = height;
  record.block_time = time;
  Save(wtx);
}

bool Wallet::SyncTransaction(const Transaction& tx, const BlockPlace* block) {
  Uint256 txid = tx.Txid();
  auto found = m_txs.find(txid);
  if (found == m_txs.end()) {
    if (!Involves(tx)) return false;
    WalletTx wtx;
    wtx.tx = tx;
    wtx.record.txid = txid;
    wtx.record.raw = tx.Encode();
    wtx.record.time = Now();
    wtx.record.from_me = AllInputsMine(tx);
    wtx.record.state = block != nullptr ? TxState::kConfirmed : TxState::kMempool;
    if (block != nullptr) {
      wtx.record.block_hash = block->hash;
      wtx.record.block_height = block->height;
      wtx.record.block_time = block->time;
    }
    MarkKeysUsed(tx);
    Save(wtx);
    Insert(std::move(wtx));
    if (block != nullptr) MarkConflicts(tx, txid, block->hash);
    return true;
  }
  WalletTx& wtx = found->second;
  if (block != nullptr) {
    if (wtx.record.state == TxState::kConfirmed && wtx.record.block_hash == block->hash) return false;
    SetState(wtx, TxState::kConfirmed, block->hash, block->height, block->time);
    MarkConflicts(tx, txid, block->hash);
    return true;
  }
  if (wtx.record.state == TxState::kConfirmed || wtx.record.state == TxState::kMempool) return false;
  SetState(wtx, TxState::kMempool);
  return true;
}

void Wallet::MarkConflicts(const Transaction& tx, const Uint256& txid, const Uint256& block_hash) {
  if (tx.IsCoinbase()) return;
  for (const TxIn& in : tx.inputs) {
    auto found = m_spenders.find(in.prevout);
    if (found == m_spenders.end()) continue;
    std::vector<Uint256> others(found->second.begin(), found->second.end());
    for (const Uint256& other : others) {
      if (other != txid) MarkConflictedWithDescendants(other, block_hash);
    }
  }
}

void Wallet::MarkConflictedWithDescendants(const Uint256& txid, const Uint256& block_hash) {
  std::vector<Uint256> work{txid};
  while (!work.empty()) {
    Uint256 current = work.back();
    work.pop_back();
    auto found = m_txs.find(current);
    if (found == m_txs.end()) continue;
    WalletTx& wtx = found->second;
    if (wtx.record.state == TxState::kConfirmed) continue;
    if (wtx.record.state == TxState::kConflicted && wtx.record.block_hash == block_hash) continue;
    SetState(wtx, TxState::kConflicted, block_hash);
    for (std::size_t i = 0; i < wtx.tx.outputs.size(); ++i) {
      auto spenders = m_spenders.find(OutPoint{current, static_cast<uint32_t>(i)});
      if (spenders == m_spenders.end()) continue;
      work.insert(work.end(), spenders->second.begin(), spenders->second.end());
    }
  }
}

void Wallet::Unconfirm(WalletTx& wtx) {
  // A coinbase of a block that left the chain can never confirm elsewhere.
  SetState(wtx, wtx.tx.IsCoinbase() ? TxState::kConflicted : TxState::kMempool);
}

void Wallet::SetLastBlock(const Uint256& hash, uint32_t height) {
  m_last_hash = hash;
  m_last_height = height;
  m_db->WriteSetting("last_hash", Bytes(hash));
  m_db->WriteIntSetting("last_height", height);
  m_db->WriteBlock(height, hash, kKeptBlockHashes);
}

void Wallet::CatchUp() {
  std::optional<ipc::BlockRef> fork;
  if (!m_last_hash.IsZero()) fork = m_chain->findActiveBlock(Bytes(m_last_hash));
  if (!fork) {
    for (const auto& [height, hash] : m_db->ReadBlocks()) {
      if ((fork = m_chain->findActiveBlock(Bytes(hash)))) break;
    }
  }
  uint32_t start = fork ? fork->height + 1 : 0;
  m_db->Begin();
  try {
    if (!fork || HashFromChain(fork->hash) != m_last_hash) {
      // The stored state went past the fork point: what it confirmed above it may be gone.
      std::map<Uint256, bool, UintLess> active;
      auto is_active = [&](const Uint256& hash) {
        auto known = active.find(hash);
        if (known != active.end()) return known->second;
        bool result = m_chain->findActiveBlock(Bytes(hash)).has_value();
        active[hash] = result;
        return result;
      };
      for (auto& [txid, wtx] : m_txs) {
        const TxRecord& record = wtx.record;
        if (record.state == TxState::kConfirmed && record.block_height >= start && !is_active(record.block_hash)) {
          SetState(wtx, wtx.tx.IsCoinbase() ? TxState::kConflicted : TxState::kInactive);
        } else if (record.state == TxState::kConflicted && !record.block_hash.IsZero() && !is_active(record.block_hash)) {
          SetState(wtx, TxState::kInactive);
        }
      }
      if (fork) {
        SetLastBlock(HashFromChain(fork->hash), fork->height);
      } else {
        m_last_hash = Uint256();
        m_last_height = 0;
      }
      Log("wallet %s: the chain reorganised while unloaded; scanning from height %u", m_name.c_str(), start);
    }
    m_db->Commit();
  } catch (...) {
    m_db->Rollback();
    throw;
  }
  ipc::BlockRef tip = m_chain->getTip();
  if (start <= tip.height) ScanRange(start, tip.height);
}

uint32_t Wallet::ScanRange(uint32_t start, uint32_t stop) {
  uint32_t height = start;
  uint32_t last = start > 0 ? start - 1 : 0;
  while (height <= stop) {
    std::vector<std::vector<uint8_t>> keys;
    keys.reserve(m_keys.size());
    for (const KeyRecord& key : m_keys) keys.emplace_back(key.pubkey.begin(), key.pubkey.end());
    std::vector<ipc::OutPointRef> outpoints;
    for (const auto& [txid, wtx] : m_txs) {
      if (!SpendsInputs(wtx.record.state)) continue;
      for (std::size_t i = 0; i < wtx.tx.outputs.size(); ++i) {
        OutPoint outpoint{txid, static_cast<uint32_t>(i)};
        if (KeyIndex(wtx.tx.outputs[i].pubkey) && !IsSpentConfirmed(outpoint)) {
          outpoints.push_back({Bytes(txid), outpoint.index});
        }
      }
    }
    ipc::ScanResult result = m_chain->scanBlocks(height, stop, keys, outpoints, m_options.scan_batch_blocks);
    m_db->Begin();
    try {
      for (const ipc::ScanMatch& match : result.matches) {
        BlockPlace place{HashFromChain(match.block.hash), match.block.height, match.block.time};
        for (const std::vector<uint8_t>& bytes : match.transactions) {
          try {
            SyncTransaction(Transaction::Decode(bytes), &place);
          } catch (const DecodeError& e) {
            Log("wallet %s: scan returned a malformed transaction: %s", m_name.c_str(), e.what());
          }
        }
      }
      bool progressed = result.lastScanned.hash.size() == 32 && result.lastScanned.height >= height;
      if (progressed && (m_last_hash.IsZero() || result.lastScanned.height >= m_last_height)) {
        SetLastBlock(HashFromChain(result.lastScanned.hash), result.lastScanned.height);
      }
      m_db->Commit();
      if (!progressed) break;  // the chain is shorter than the range
    } catch (...) {
      m_db->Rollback();
      throw;
    }
    last = result.lastScanned.height;
    height = last + 1;
  }
  return last;
}

void Wallet::Rebroadcast() {
  std::vector<Uint256> order;
  for (const auto& [seq, txid] : m_by_seq) order.push_back(txid);
  m_db->Begin();
  try {
    for (const Uint256& txid : order) {
      WalletTx& wtx = m_txs.at(txid);
      if (wtx.record.state != TxState::kMempool && wtx.record.state != TxState::kInactive) continue;
      if (m_chain->isInMempool(Bytes(txid))) {
        SetState(wtx, TxState::kMempool);
        continue;
      }
      if (!wtx.record.from_me) {
        SetState(wtx, TxState::kInactive);
        continue;
      }
      std::string reason = m_chain->broadcastTransaction(wtx.record.raw);
      if (reason.empty() || reason == "txn-already-in-mempool") {
        SetState(wtx, TxState::kMempool);
        Log("wallet %s: broadcast %s again", m_name.c_str(), txid.ToHex().c_str());
      } else {
        SetState(wtx, TxState::kInactive);
        Log("wallet %s: the node refused %s again: %s", m_name.c_str(), txid.ToHex().c_str(), reason.c_str());
      }
    }
    m_db->Commit();
  } catch (...) {
    m_db->Rollback();
    throw;
  }
}

ipc::WalletTransaction Wallet::Describe(const WalletTx& wtx) const {
  ipc::WalletTransaction out;
  out.txid = Bytes(wtx.record.txid);
  uint64_t credit = 0;
  uint64_t debit = 0;
  std::string own_address;
  std::string other_address;
  for (const TxOut& output : wtx.tx.outputs) {
    if (KeyIndex(output.pubkey)) {
      credit += output.amount;
      if (own_address.empty()) own_address = EncodeAddress(output.pubkey);
    } else if (other_address.empty()) {
      other_address = EncodeAddress(output.pubkey);
    }
  }
  if (!wtx.tx.IsCoinbase()) {
    for (const TxIn& in : wtx.tx.inputs) {
      if (const TxOut* spent = OwnOutput(in.prevout)) debit += spent->amount;
    }
  }
  out.amount = static_cast<int64_t>(credit) - static_cast<int64_t>(debit);
  if (wtx.tx.IsCoinbase()) {
    out.category = wtx.record.state == TxState::kConflicted ? "orphan" : IsImmature(wtx) ? "immature" : "generate";
    out.address = own_address;
  } else if (wtx.record.from_me) {
    out.category = "send";
    uint64_t total_out = 0;
    for (const TxOut& output : wtx.tx.outputs) total_out += output.amount;
    out.fee = debit > total_out ? debit - total_out : 0;
    out.address = other_address.empty() ? own_address : other_address;
  } else {
    out.category = "receive";
    out.address = own_address;
  }
  out.confirmations = Depth(wtx);
  if (wtx.record.state == TxState::kConfirmed) {
    out.blockHash = Bytes(wtx.record.block_hash);
    out.blockHeight = wtx.record.block_height;
  }
  out.time = wtx.record.time;
  return out;
}

bool Wallet::BalancesChanged(ipc::Balances& balances) {
  if (m_closed) return false;
  balances = ComputeBalances();
  if (m_reported && SameBalances(*m_reported, balances)) return false;
  m_reported = balances;
  return true;
}

void Wallet::ReportBalances() {
  // Reports the newest balances (not the ones of the caller's change, which a concurrent change
  // may have overtaken), one report at a time.
  std::lock_guard<std::recursive_mutex> report(m_report_mutex);
  ipc::Balances balances;
  {
    std::lock_guard lock(m_mutex);
    if (!BalancesChanged(balances)) return;
  }
  m_callbacks->Call(balances);
}

// ---- chain events ----

void Wallet::OnBlockConnected(const std::vector<uint8_t>& bytes, uint32_t height) {
  Block block;
  try {
    block = Block::Decode(bytes);
  } catch (const DecodeError& e) {
    Log("wallet %s: ignored a malformed block from the chain: %s", m_name.c_str(), e.what());
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    if (m_closed) return;
    if (height > m_last_height + 1 && !m_last_hash.IsZero()) {
      ScanRange(m_last_height + 1, height - 1);  // an event went missing: fill the gap first
    }
    BlockPlace place{block.header.Hash(), height, block.header.time};
    m_db->Begin();
    try {
      for (const Transaction& tx : block.transactions) SyncTransaction(tx, &place);
      if (block.header.previous == m_last_hash || height > m_last_height || m_last_hash.IsZero()) {
        SetLastBlock(place.hash, height);
      }
      m_db->Commit();
    } catch (...) {
      m_db->Rollback();
      throw;
    }
  }
  ReportBalances();
}

void Wallet::OnBlockDisconnected(const std::vector<uint8_t>& bytes, uint32_t height) {
  Block block;
  try {
    block = Block::Decode(bytes);
  } catch (const DecodeError& e) {
    Log("wallet %s: ignored a malformed block from the chain: %s", m_name.c_str(), e.what());
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    if (m_closed) return;
    Uint256 hash = block.header.Hash();
    m_db->Begin();
    try {
      for (const Transaction& tx : block.transactions) {
        auto found = m_txs.find(tx.Txid());
        if (found == m_txs.end()) continue;
        WalletTx& wtx = found->second;
        if (wtx.record.state == TxState::kConfirmed && wtx.record.block_hash == hash) Unconfirm(wtx);
      }
      for (auto& [txid, wtx] : m_txs) {
        if (wtx.record.state == TxState::kConflicted && wtx.record.block_hash == hash) SetState(wtx, TxState::kInactive);
      }
      if (hash == m_last_hash && height > 0) SetLastBlock(block.header.previous, height - 1);
      m_db->Commit();
    } catch (...) {
      m_db->Rollback();
      throw;
    }
  }
  ReportBalances();
}

void Wallet::OnTransactionAdded(const std::vector<uint8_t>& bytes) {
  Transaction tx;
  try {
    tx = Transaction::Decode(bytes);
  } catch (const DecodeError& e) {
    Log("wallet %s: ignored a malformed transaction from the chain: %s", m_name.c_str(), e.what());
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    if (m_closed) return;
    if (m_txs.count(tx.Txid()) == 0 && !Involves(tx)) return;
    m_db->Begin();
    try {
      SyncTransaction(tx, nullptr);
      m_db->Commit();
    } catch (...) {
      m_db->Rollback();
      throw;
    }
  }
  ReportBalances();
}

void Wallet::OnTransactionRemoved(const std::vector<uint8_t>& bytes, const std::string& reason) {
  Transaction tx;
  try {
    tx = Transaction::Decode(bytes);
  } catch (const DecodeError& e) {
    Log("wallet %s: ignored a malformed transaction from the chain: %s", m_name.c_str(), e.what());
    return;
  }
  {
    std::lock_guard lock(m_mutex);
    if (m_closed) return;
    auto found = m_txs.find(tx.Txid());
    if (found == m_txs.end() || found->second.record.state != TxState::kMempool || reason == "block") return;
    m_db->Begin();
    try {
      if (reason == "conflict") {
        MarkConflictedWithDescendants(found->first, Uint256());
      } else {
        SetState(found->second, TxState::kInactive);
      }
      m_db->Commit();
    } catch (...) {
      m_db->Rollback();
      throw;
    }
  }
  ReportBalances();
}

// ---- ipc::Wallet ----

std::string Wallet::getName() { return m_name; }

ipc::Balances Wallet::getBalances() {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  return ComputeBalances();
}

std::string Wallet::getNewAddress(const std::string& label) {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  m_db->Begin();
  std::optional<KeyRecord> key;
  try {
    key = TakeKey(false, label);
    m_db->Commit();
  } catch (...) {
    m_db->Rollback();
    throw;
  }
  if (!key) {
    throw WalletError(kKeypoolRanOut,
                      "Error: Keypool ran out, please call walletpassphrase first to derive more keys");
  }
  return EncodeAddress(key->pubkey);
}

std::vector<uint8_t> Wallet::sendToAddress(const std::string& address, uint64_t amount, uint64_t feeRate) {
  std::vector<uint8_t> result;
  {
    std::lock_guard lock(m_mutex);
    RequireOpen();
    std::string error;
    std::optional<XOnlyPublicKey> to = DecodeAddress(address, &error);
    if (!to) throw WalletError(WalletError::kInvalidAddress, "Invalid address: " + error);
    if (amount == 0) throw WalletError(WalletError::kInvalidParameter, "Invalid amount for send: it must be more than 0");
    if (amount > kMaxMoney) throw WalletError(WalletError::kInvalidParameter, "Amount out of range");
    const std::vector<uint8_t>* seed = Seed();
    if (seed == nullptr) throw WalletError(WalletError::kUnlockNeeded, kUnlockNeededMessage);
    uint64_t rate = feeRate != 0 ? feeRate : std::max(m_chain->estimateFee(), kMinFeeRate);

    // Largest first: few inputs, so small fees; ties in a fixed order so a send is reproducible.
    std::vector<Candidate> coins = SpendableCoins();
    std::sort(coins.begin(), coins.end(), [](const Candidate& a, const Candidate& b) {
      if (a.output.amount != b.output.amount) return a.output.amount > b.output.amount;
      return OutPointLess()(a.outpoint, b.outpoint);
    });
    Transaction tx;
    tx.outputs.push_back(TxOut{amount, *to});
    Transaction sized = tx;                // with a change output, for the fee
    sized.outputs.push_back(TxOut{1, {}});
    uint64_t total = 0;
    uint64_t fee = 0;
    bool enough = false;
    std::vector<const Candidate*> selected;
    for (const Candidate& coin : coins) {
      selected.push_back(&coin);
      sized.inputs.push_back(TxIn{coin.outpoint, {}});
      total += coin.output.amount;
      fee = FeeFor(sized, rate);
      if (total >= amount + fee) {
        enough = true;
        break;
      }
    }
    if (!enough) throw WalletError(WalletError::kInsufficientFunds, "Insufficient funds");
    if (amount < fee) {
      throw WalletError(WalletError::kInvalidParameter,
                        "Transaction amount too small: it must be at least the fee of " + std::to_string(fee) + " units");
    }
    tx.inputs = sized.inputs;
    uint64_t change = total - amount - fee;

    WalletTx wtx;
    m_db->Begin();
    try {
      if (change >= kMinChange) {
        std::optional<KeyRecord> change_key = TakeKey(true, "");
        if (!change_key) {
          throw WalletError(kKeypoolRanOut, "Error: Keypool ran out, please call walletpassphrase first");
        }
        tx.outputs.push_back(TxOut{change, change_key->pubkey});
      }
      seed = Seed();  // TopUpKeys may not have changed it, but stay on the safe side
      if (seed == nullptr) throw WalletError(WalletError::kUnlockNeeded, kUnlockNeededMessage);
      Uint256 txid = tx.Txid();
      for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
        const XOnlyPublicKey& owner = selected[i]->output.pubkey;
        std::optional<uint32_t> index = KeyIndex(owner);
        PrivateKey key = PrivateKey::Derive(*seed, index.value_or(0));
        if (!index || key.PublicKey() != owner) {
          throw WalletError(WalletError::kWalletError, "a coin's key does not match the wallet's seed");
        }
        tx.inputs[i].signature = key.Sign(Transaction::SignatureHash(txid, i));
      }
      // Recorded before it leaves: a crash after this line loses nothing, the next Open
      // broadcasts it again, and its change key is never handed out twice.
      wtx.tx = tx;
      wtx.record.txid = txid;
      wtx.record.raw = tx.Encode();
      wtx.record.state = TxState::kMempool;
      wtx.record.time = Now();
      wtx.record.from_me = true;
      m_db->WriteTransaction(wtx.record);
      m_db->Commit();
    } catch (...) {
      m_db->Rollback();
      // TakeKey's change is rolled back in the database: reload the keys from it.
      m_keys = m_db->ReadKeys();
      m_key_index.clear();
      for (const KeyRecord& key : m_keys) m_key_index[key.pubkey] = key.index;
      throw;
    }
    Uint256 txid = wtx.record.txid;
    Insert(std::move(wtx));
    WalletTx& stored = m_txs.at(txid);
    std::string reason;
    try {
      reason = m_chain->broadcastTransaction(stored.record.raw);
    } catch (const std::exception& e) {
      SetState(stored, TxState::kInactive);
      throw WalletError(WalletError::kWalletError, std::string("Transaction ") + txid.ToHex() +
                                                       " recorded but not broadcast (" + e.what() +
                                                       "); it is broadcast again when the wallet is next loaded");
    }
    if (!reason.empty() && reason != "txn-already-in-mempool") {
      SetState(stored, TxState::kAbandoned);
      Log("wallet %s: the node refused %s: %s", m_name.c_str(), txid.ToHex().c_str(), reason.c_str());
      throw WalletError(WalletError::kWalletError, "Transaction rejected by the node: " + reason);
    }
    uint64_t paid_fee = change >= kMinChange ? fee : fee + change;
    Log("wallet %s: sent %s (%llu units, fee %llu)", m_name.c_str(), txid.ToHex().c_str(),
        static_cast<unsigned long long>(amount), static_cast<unsigned long long>(paid_fee));
    result = Bytes(txid);
  }
  ReportBalances();
  return result;
}

std::vector<ipc::WalletTransaction> Wallet::listTransactions(uint32_t count, uint32_t skip) {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  std::vector<ipc::WalletTransaction> result;
  uint32_t skipped = 0;
  for (auto it = m_by_seq.rbegin(); it != m_by_seq.rend() && result.size() < count; ++it) {
    if (skipped < skip) {
      ++skipped;
      continue;
    }
    result.push_back(Describe(m_txs.at(it->second)));
  }
  return result;
}

std::vector<ipc::UnspentOutput> Wallet::listUnspent() {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  std::vector<ipc::UnspentOutput> result;
  for (const auto& [seq, txid] : m_by_seq) {
    const WalletTx& wtx = m_txs.at(txid);
    if (wtx.record.state != TxState::kConfirmed && wtx.record.state != TxState::kMempool) continue;
    bool immature = IsImmature(wtx);
    for (std::size_t i = 0; i < wtx.tx.outputs.size(); ++i) {
      OutPoint outpoint{txid, static_cast<uint32_t>(i)};
      const TxOut& out = wtx.tx.outputs[i];
      if (!KeyIndex(out.pubkey) || IsSpentConfirmed(outpoint)) continue;
      ipc::UnspentOutput unspent;
      unspent.txid = Bytes(txid);
      unspent.vout = outpoint.index;
      unspent.address = EncodeAddress(out.pubkey);
      unspent.amount = out.amount;
      unspent.confirmations = Depth(wtx);
      unspent.spendable = !immature && !IsSpent(outpoint);
      result.push_back(std::move(unspent));
    }
  }
  return result;
}

ipc::WalletInfo Wallet::getWalletInfo() {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  ipc::WalletInfo info;
  info.name = m_name;
  info.balances = ComputeBalances();
  info.txCount = static_cast<uint32_t>(m_txs.size());
  for (const KeyRecord& key : m_keys) {
    if (key.used && !key.internal) ++info.addressCount;
    if (!key.used) ++info.keypoolSize;
  }
  info.encrypted = m_encrypted;
  info.unlockedUntil = m_encrypted && Seed() != nullptr ? m_unlocked_until : 0;
  info.lastScannedHeight = m_last_height;
  info.lastScannedHash = Bytes(m_last_hash);
  return info;
}

void Wallet::encryptWallet(const std::string& passphrase) {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  if (m_encrypted) {
    throw WalletError(WalletError::kWrongEncryptionState,
                      "Error: running with an encrypted wallet, but encryptwallet was called.");
  }
  if (passphrase.empty()) throw WalletError(WalletError::kInvalidParameter, "passphrase cannot be empty");
  EncryptedSeed sealed = EncryptSeed(m_seed, passphrase, m_options.kdf_iterations);
  m_db->Begin();
  try {
    m_db->WriteSetting("seed_box", sealed.box);
    m_db->WriteSetting("seed_salt", sealed.salt);
    m_db->WriteIntSetting("seed_iterations", sealed.iterations);
    m_db->EraseSetting("seed");
    m_db->Commit();
  } catch (...) {
    m_db->Rollback();
    throw;
  }
  m_db->Checkpoint();  // the clear seed leaves the WAL too (secure_delete zeroes its page)
  m_sealed = std::move(sealed);
  m_encrypted = true;
  Wipe(m_seed);
  m_unlocked_until = 0;
  Log("wallet %s: encrypted", m_name.c_str());
}

void Wallet::walletPassphrase(const std::string& passphrase, uint32_t timeoutSeconds) {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  if (!m_encrypted) {
    throw WalletError(WalletError::kWrongEncryptionState,
                      "Error: running with an unencrypted wallet, but walletpassphrase was called.");
  }
  std::optional<std::vector<uint8_t>> seed = DecryptSeed(m_sealed, passphrase);
  if (!seed) {
    throw WalletError(WalletError::kPassphraseIncorrect, "Error: The wallet passphrase entered was incorrect.");
  }
  Wipe(m_seed);
  m_seed = std::move(*seed);
  constexpr uint32_t kMaxTimeout = 100'000'000;
  m_unlocked_until = Now() + std::min(timeoutSeconds, kMaxTimeout);
  m_db->Begin();
  try {
    TopUpKeys();
    m_db->Commit();
  } catch (...) {
    m_db->Rollback();
    throw;
  }
}

void Wallet::walletLock() {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  if (!m_encrypted) {
    throw WalletError(WalletError::kWrongEncryptionState,
                      "Error: running with an unencrypted wallet, but walletlock was called.");
  }
  Wipe(m_seed);
  m_unlocked_until = 0;
}

uint32_t Wallet::rescan(uint32_t startHeight) {
  uint32_t last = 0;
  {
    std::lock_guard lock(m_mutex);
    RequireOpen();
    ipc::BlockRef tip = m_chain->getTip();
    if (startHeight > tip.height) throw WalletError(WalletError::kInvalidParameter, "Invalid start_height");
    last = ScanRange(startHeight, tip.height);
    Log("wallet %s: rescanned heights %u to %u", m_name.c_str(), startHeight, last);
  }
  ReportBalances();
  return last;
}

std::unique_ptr<ipc::Handler> Wallet::handleBalanceChanged(const std::function<void(const ipc::Balances&)>& callback) {
  uint64_t id = m_callbacks->Add(callback);
  return std::make_unique<BalanceHandler>(m_callbacks, id);
}


ipc::SignedTransaction Wallet::signRawTransaction(const std::vector<uint8_t>& raw,
                                                  const std::vector<ipc::PrevOut>& prevouts) {
  std::lock_guard lock(m_mutex);
  RequireOpen();
  Transaction tx;
  try {
    tx = Transaction::Decode(raw);
  } catch (const DecodeError& e) {
    throw WalletError(WalletError::kDeserializationError, std::string("TX decode failed: ") + e.what());
  }
  const std::vector<uint8_t>* seed = Seed();
  if (seed == nullptr) throw WalletError(WalletError::kUnlockNeeded, kUnlockNeededMessage);

  // The key each spent output pays: the node's coins first, then what the caller described
  // (which must agree with the node where the node knows the output).
  std::map<OutPoint, XOnlyPublicKey, OutPointLess> owners;
  std::vector<ipc::OutPointRef> wanted;
  for (const TxIn& input : tx.inputs) {
    if (!input.prevout.IsNull()) wanted.push_back({Bytes(input.prevout.txid), input.prevout.index});
  }
  for (const ipc::CoinInfo& coin : m_chain->findCoins(wanted)) {
    if (coin.outpoint.txid.size() != 32 || coin.pubkey.size() != 32) {
      throw WalletError(WalletError::kWalletError, "the chain sent a malformed coin");
    }
    XOnlyPublicKey pubkey;
    std::memcpy(pubkey.data(), coin.pubkey.data(), pubkey.size());
    owners[OutPoint{HashFromChain(coin.outpoint.txid), coin.outpoint.index}] = pubkey;
  }
  for (const ipc::PrevOut& prevout : prevouts) {
    if (prevout.txid.size() != 32 || prevout.pubkey.size() != 32) {
      throw WalletError(WalletError::kInvalidParameter, "a previous output needs a 32-byte txid and key");
    }
    std::array<uint8_t, 32> txid{};
    std::memcpy(txid.data(), prevout.txid.data(), txid.size());
    OutPoint outpoint{Uint256(txid), prevout.vout};
    XOnlyPublicKey pubkey;
    std::memcpy(pubkey.data(), prevout.pubkey.data(), pubkey.size());
    auto known = owners.find(outpoint);
    if (known != owners.end() && known->second != pubkey) {
      throw WalletError(WalletError::kDeserializationError,
                        "Previous output address mismatch for " + outpoint.txid.ToHex() + ":" +
                            std::to_string(outpoint.index) + ": the node's coin pays " + EncodeAddress(known->second));
    }
    owners[outpoint] = pubkey;
  }

  ipc::SignedTransaction result;
  const Uint256 txid = tx.Txid();
  for (std::size_t i = 0; i < tx.inputs.size(); ++i) {
    TxIn& input = tx.inputs[i];
    auto owner = owners.find(input.prevout);
    if (input.prevout.IsNull() || owner == owners.end()) {
      result.errors.push_back({static_cast<uint32_t>(i), "Input not found or already spent"});
      continue;
    }
    const Uint256 message = Transaction::SignatureHash(txid, i);
    if (std::optional<uint32_t> index = KeyIndex(owner->second)) {
      PrivateKey key = PrivateKey::Derive(*seed, *index);
      if (key.PublicKey() != owner->second) {
        throw WalletError(WalletError::kWalletError, "a key does not match the wallet's seed");
      }
      input.signature = key.Sign(message);
    } else if (!VerifySchnorr(owner->second, message, input.signature)) {
      result.errors.push_back(
          {static_cast<uint32_t>(i), "Unable to sign input: the wallet does not have the key of the output it spends"});
    }
  }
  result.tx = tx.Encode();
  result.complete = result.errors.empty();
  return result;
}

}  // namespace minicoin
