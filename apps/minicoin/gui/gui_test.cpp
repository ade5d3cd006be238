// Tests of the minicoin GUI (Qt Test, offscreen): helpers, and the main window over a fake
// ipc::Node (wallet creation, mining with progress and cancel, payments, the console, the peers
// table and the sync progress bar, a lost connection).
#include "gui/gui_util.h"
#include "gui/main_window.h"
#include "ipc/wallet_error.h"
#include "primitives/address.h"
#include "crypto/key.h"

#include <crossproc/errors.h>

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <thread>

using namespace minicoin;

namespace {

constexpr int kTimeoutMs = 20000;
constexpr uint64_t kSubsidy = 50 * 100'000'000ull;

// A registration that runs `release` once, on disconnect or destruction.
class FakeHandler final : public ipc::Handler {
 public:
  explicit FakeHandler(std::function<void()> release) : m_release(std::move(release)) {}
  ~FakeHandler() override { disconnect(); }
  void disconnect() override {
    if (m_release) std::exchange(m_release, nullptr)();
  }

 private:
  std::function<void()> m_release;
};

// What the fake node and its wallets share. Thread-safe (one mutex).
struct FakeState {
  std::mutex mutex;
  uint32_t height = 0;
  uint32_t mempool = 0;
  std::atomic<bool> disconnected{false};
  std::atomic<int> block_delay_ms{0};
  std::map<int, std::function<void(const ipc::BlockRef&)>> tip_callbacks;
  std::map<int, std::function<void(uint32_t)>> mempool_callbacks;
  std::map<int, std::function<void(const std::string&)>> log_callbacks;
  std::map<int, std::function<void(const ipc::Balances&)>> balance_callbacks;
  int next_id = 0;
  std::vector<std::string> wallets;  // loaded
  ipc::Balances balances;            // of every wallet (the fake has one coin pool)
  std::vector<ipc::WalletTransaction> transactions;
  // The network as getStatus and getPeers report it.
  uint32_t headers = 0;  // below the tip's height: the tip's height
  bool initial_download = false;
  uint32_t connections = 0;
  std::vector<ipc::PeerSummary> peers;
  std::atomic<int> status_calls{0};
  std::atomic<int> peer_calls{0};

  void Check() {
    if (disconnected) throw crossproc::Disconnected("fake node gone");
  }
  ipc::BlockRef Tip() {
    ipc::BlockRef tip;
    tip.height = height;
    tip.hash.assign(32, static_cast<uint8_t>(height));
    return tip;
  }
  template <typename Map, typename Fn>
  std::unique_ptr<ipc::Handler> Register(Map& map, Fn fn) {
    std::lock_guard<std::mutex> lock(mutex);
    int id = next_id++;
    map[id] = std::move(fn);
    return std::make_unique<FakeHandler>([this, &map, id] {
      std::lock_guard<std::mutex> release_lock(mutex);
      map.erase(id);
    });
  }
  void Log(const std::string& line) {
    std::vector<std::function<void(const std::string&)>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto& [id, fn] : log_callbacks) callbacks.push_back(fn);
    }
    for (auto& fn : callbacks) fn(line);
  }
  void BalancesChanged() {
    std::vector<std::function<void(const ipc::Balances&)>> callbacks;
    ipc::Balances now;
    {
      std::lock_guard<std::mutex> lock(mutex);
      for (auto& [id, fn] : balance_callbacks) callbacks.push_back(fn);
      now = balances;
    }
    for (auto& fn : callbacks) fn(now);
  }
};

class FakeWallet final : public ipc::Wallet {
 public:
  FakeWallet(std::shared_ptr<FakeState> state, std::string name) : m_state(std::move(state)), m_name(std::move(name)) {}
  std::string getName() override { return m_name; }
  ipc::Balances getBalances() override {
    m_state->Check();
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->balances;
  }
  std::string getNewAddress(const std::string&) override {
    m_state->Check();
    return EncodeAddress(PrivateKey::Generate().PublicKey());
  }
  std::vector<uint8_t> sendToAddress(const std::string& address, uint64_t amount, uint64_t) override {
    m_state->Check();
    {
      std::lock_guard<std::mutex> lock(m_state->mutex);
      if (amount + 1000 > m_state->balances.confirmed) throw WalletError(WalletError::kInsufficientFunds, "Insufficient funds");
      m_state->balances.confirmed -= amount + 1000;
      m_state->balances.unconfirmed += 0;
      ipc::WalletTransaction tx;
      tx.txid.assign(32, 0xab);
      tx.category = "send";
      tx.amount = -static_cast<int64_t>(amount + 1000);
      tx.address = address;
      m_state->transactions.insert(m_state->transactions.begin(), tx);
    }
    m_state->BalancesChanged();
    return std::vector<uint8_t>(32, 0xab);
  }
  std::vector<ipc::WalletTransaction> listTransactions(uint32_t, uint32_t) override {
    m_state->Check();
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->transactions;
  }
  std::vector<ipc::UnspentOutput> listUnspent() override { return {}; }
  ipc::WalletInfo getWalletInfo() override { return {}; }
  void encryptWallet(const std::string&) override {}
  void walletPassphrase(const std::string&, uint32_t) override {}
  void walletLock() override {}
  uint32_t rescan(uint32_t) override {
    m_state->Check();
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->height;
  }
  std::unique_ptr<ipc::Handler> handleBalanceChanged(const std::function<void(const ipc::Balances&)>& callback) override {
    m_state->Check();
    return m_state->Register(m_state->balance_callbacks, callback);
  }
  ipc::SignedTransaction signRawTransaction(const std::vector<uint8_t>&, const std::vector<ipc::PrevOut>&) override {
    throw WalletError(WalletError::kWalletError, "not implemented by the fake wallet");
  }

 private:
  std::shared_ptr<FakeState> m_state;
  std::string m_name;
};

// A node that mines instantly (block_delay_ms per block) and whose wallets share one balance.
class FakeNode final : public ipc::Node {
 public:
  explicit FakeNode(std::shared_ptr<FakeState> state) : m_state(std::move(state)) {}
  ipc::NodeStatus getStatus() override {
    ++m_state->status_calls;
    m_state->Check();
    std::lock_guard<std::mutex> lock(m_state->mutex);
    ipc::NodeStatus status;
    status.tip = m_state->Tip();
    status.executable = "fake";
    status.walletsEnabled = true;
    status.headers = std::max(m_state->headers, m_state->height);
    status.initialDownload = m_state->initial_download;
    status.verificationProgress = static_cast<double>(m_state->height) / std::max(status.headers, 1u);
    status.connections = m_state->connections;
    return status;
  }
  std::vector<std::string> listWallets() override {
    m_state->Check();
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->wallets;
  }
  std::vector<std::string> listWalletDir() override { return listWallets(); }
  std::unique_ptr<ipc::Wallet> getWallet(const std::string& name) override {
    m_state->Check();
    return std::make_unique<FakeWallet>(m_state, name);
  }
  std::unique_ptr<ipc::Wallet> createWallet(const std::string& name, const std::string&) override {
    m_state->Check();
    std::lock_guard<std::mutex> lock(m_state->mutex);
    if (std::find(m_state->wallets.begin(), m_state->wallets.end(), name) != m_state->wallets.end()) {
      throw WalletError(WalletError::kAlreadyExists, "Wallet " + name + " already exists.");
    }
    m_state->wallets.push_back(name);
    return std::make_unique<FakeWallet>(m_state, name);
  }
  std::unique_ptr<ipc::Wallet> loadWallet(const std::string& name) override { return getWallet(name); }
  std::vector<std::vector<uint8_t>> generateToAddress(uint32_t blocks, const std::string& address,
                                                      const std::function<bool(uint32_t, uint32_t)>& progress) override {
    m_state->Check();
    if (!DecodeAddress(address)) throw std::runtime_error("Error: Invalid address");
    std::vector<std::vector<uint8_t>> hashes;
    for (uint32_t i = 0; i < blocks; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(m_state->block_delay_ms.load()));
      ipc::BlockRef tip;
      std::vector<std::function<void(const ipc::BlockRef&)>> callbacks;
      {
        std::lock_guard<std::mutex> lock(m_state->mutex);
        ++m_state->height;
        tip = m_state->Tip();
        // Coinbases mature after 100 blocks: the fake counts every block as the wallet's.
        if (m_state->height > 100) {
          m_state->balances.confirmed += kSubsidy;
        } else {
          m_state->balances.immature += kSubsidy;
        }
        for (auto& [id, fn] : m_state->tip_callbacks) callbacks.push_back(fn);
      }
      for (auto& fn : callbacks) fn(tip);
      m_state->BalancesChanged();
      m_state->Log("fake#1: call #" + std::to_string(i) + " Mining.block");
      hashes.push_back(tip.hash);
      if (!progress(i + 1, blocks)) break;
    }
    return hashes;
  }
  std::string executeRpc(const std::string& method, const std::string& params) override {
    m_state->Check();
    if (method == "getblockcount") {
      std::lock_guard<std::mutex> lock(m_state->mutex);
      return std::to_string(m_state->height);
    }
    if (method == "echo") return params;
    throw std::runtime_error("Method not found");
  }
  std::unique_ptr<ipc::Handler> handleTipChanged(const std::function<void(const ipc::BlockRef&)>& callback) override {
    m_state->Check();
    return m_state->Register(m_state->tip_callbacks, callback);
  }
  std::unique_ptr<ipc::Handler> handleMempoolChanged(const std::function<void(uint32_t)>& callback) override {
    m_state->Check();
    return m_state->Register(m_state->mempool_callbacks, callback);
  }
  std::unique_ptr<ipc::Handler> handleLog(const std::string&, const std::function<void(const std::string&)>& callback) override {
    m_state->Check();
    return m_state->Register(m_state->log_callbacks, callback);
  }
  void shutdown() override {}
  std::vector<ipc::PeerSummary> getPeers() override {
    ++m_state->peer_calls;
    m_state->Check();
    std::lock_guard<std::mutex> lock(m_state->mutex);
    return m_state->peers;
  }

 private:
  std::shared_ptr<FakeState> m_state;
};

template <typename T>
T* Child(QWidget& window, const char* name) {
  T* child = window.findChild<T*>(name);
  if (child == nullptr) qFatal("no widget %s", name);
  return child;
}

QString Text(QWidget& window, const char* name) { return Child<QLabel>(window, name)->text(); }

ipc::PeerSummary Peer(int64_t id, const std::string& address, bool inbound, double ping_ms, int64_t synced) {
  ipc::PeerSummary peer;
  peer.id = id;
  peer.address = address;
  peer.inbound = inbound;
  peer.userAgent = "/minicoin:0.1.0/";
  peer.pingMillis = ping_ms;
  peer.syncedHeight = synced;
  peer.bytesSent = 1500;
  peer.bytesReceived = 2'500'000;
  peer.connectedSeconds = 60;
  return peer;
}

}  // namespace

class GuiTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void Amounts() {
    QCOMPARE(gui::FormatAmount(0), std::string("0.00000000"));
    QCOMPARE(gui::FormatAmount(1'250'000'000), std::string("12.50000000"));
    QCOMPARE(gui::FormatAmount(-1), std::string("-0.00000001"));
    QCOMPARE(gui::ParseAmount("1.5"), std::optional<uint64_t>(150'000'000));
    QCOMPARE(gui::ParseAmount("0.00000001"), std::optional<uint64_t>(1));
    QCOMPARE(gui::ParseAmount(".5"), std::optional<uint64_t>(50'000'000));
    QCOMPARE(gui::ParseAmount("21000000"), std::optional<uint64_t>(21'000'000 * 100'000'000ull));
    for (const char* bad : {"", ".", "1.", "-1", "1e3", "0.000000001", "21000000.00000001", "abc", "1,5", " 1"}) {
      QVERIFY2(!gui::ParseAmount(bad), bad);
    }
  }

  void RpcCommands() {
    std::string error;
    auto command = gui::ParseRpcCommand("  getblockhash 5 ", error);
    QVERIFY(command);
    QCOMPARE(command->method, std::string("getblockhash"));
    QCOMPARE(command->params, std::string("[5]"));
    command = gui::ParseRpcCommand("sendtoaddress mcrt1abc 1.5 true \"two words\" null -2e3 01", error);
    QVERIFY(command);
    QCOMPARE(command->params, std::string(R"(["mcrt1abc",1.5,true,"two words",null,-2e3,"01"])"));
    command = gui::ParseRpcCommand("getblock [\"ab\", 2]", error);
    QVERIFY(command);
    QCOMPARE(command->params, std::string("[\"ab\", 2]"));
    command = gui::ParseRpcCommand("getblockcount", error);
    QVERIFY(command);
    QCOMPARE(command->params, std::string("[]"));
    QVERIFY(!gui::ParseRpcCommand("   ", error));
    QVERIFY(!gui::ParseRpcCommand("echo \"open", error));
    QCOMPARE(error, std::string("unclosed quote"));
  }

  void NetworkFormats() {
    QCOMPARE(gui::FormatBytes(0), std::string("0 B"));
    QCOMPARE(gui::FormatBytes(999), std::string("999 B"));
    QCOMPARE(gui::FormatBytes(1000), std::string("1.0 kB"));
    QCOMPARE(gui::FormatBytes(1500), std::string("1.5 kB"));
    QCOMPARE(gui::FormatBytes(999'949), std::string("999.9 kB"));
    QCOMPARE(gui::FormatBytes(999'950), std::string("1.0 MB"));
    QCOMPARE(gui::FormatBytes(2'500'000), std::string("2.5 MB"));
    QCOMPARE(gui::FormatBytes(UINT64_MAX), std::string("18.4 EB"));
    QCOMPARE(gui::FormatPing(-1), std::string("-"));
    QCOMPARE(gui::FormatPing(std::nan("")), std::string("-"));
    QCOMPARE(gui::FormatPing(0.421), std::string("0.42 ms"));
    QCOMPARE(gui::FormatPing(25.4), std::string("25 ms"));
    QCOMPARE(gui::SyncProgressText(120, 500), std::string("Synchronizing with the network: block 120 of 500 (24%)"));
    QCOMPARE(gui::SyncProgressText(600, 500), std::string("Synchronizing with the network: block 500 of 500 (100%)"));
    QCOMPARE(gui::SyncProgressText(0, 0), std::string("Synchronizing with the network: block 0 of 0 (100%)"));
  }

  void TaskRunnerRunsInOrderAndDrainsOnStop() {
    std::vector<int> seen;
    {
      gui::TaskRunner runner("test");
      for (int i = 0; i < 100; ++i) runner.Post([&seen, i] { seen.push_back(i); });
      runner.Post([] { throw std::runtime_error("escapes"); });
      runner.Post([&seen] { seen.push_back(100); });
    }
    QCOMPARE(seen.size(), std::size_t{101});
    for (int i = 0; i <= 100; ++i) QCOMPARE(seen[static_cast<std::size_t>(i)], i);
  }

  void FakeNodeWalletMiningSendConsole() {
    auto state = std::make_shared<FakeState>();
    std::vector<std::string> confirmations;
    gui::MainWindowOptions options;
    bool accept = false;
    options.connection_description = "fake";
    options.confirm_send = [&](const std::string& summary) {
      confirmations.push_back(summary);
      return accept;
    };
    gui::MainWindow window(std::make_unique<FakeNode>(state), options);
    window.show();
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "connectionState"), QString("connected (fake)"), kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(Text(window, "walletState").contains("create one"), kTimeoutMs);
    QVERIFY(!Child<QPushButton>(window, "sendButton")->isEnabled());

    // A wallet: created from the chooser.
    Child<QLineEdit>(window, "walletName")->setText("main");
    Child<QPushButton>(window, "walletCreate")->click();
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "walletState"), QString("using wallet \"main\""), kTimeoutMs);
    QCOMPARE(window.current_wallet(), std::string("main"));
    QTRY_VERIFY_WITH_TIMEOUT(Child<QPushButton>(window, "sendButton")->isEnabled(), kTimeoutMs);
    Child<QLineEdit>(window, "walletName")->setText("main");
    Child<QPushButton>(window, "walletCreate")->click();
    QTRY_VERIFY_WITH_TIMEOUT(Text(window, "walletState").contains("already exists"), kTimeoutMs);

    // Receive.
    Child<QPushButton>(window, "newAddress")->click();
    QTRY_VERIFY_WITH_TIMEOUT(Child<QLineEdit>(window, "address")->text().startsWith("mcrt1"), kTimeoutMs);

    // Mining 101 blocks to the wallet.
    Child<QSpinBox>(window, "mineBlocks")->setValue(101);
    Child<QPushButton>(window, "mineButton")->click();
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "height"), QString("101"), kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(Text(window, "mineResult").startsWith("Mined 101 of 101 blocks"), kTimeoutMs);
    QCOMPARE(Child<QProgressBar>(window, "mineProgress")->value(), 101);
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "confirmedBalance"), QString("50.00000000"), kTimeoutMs);
    QCOMPARE(Text(window, "immatureBalance"), QString("5000.00000000"));
    QCOMPARE(Text(window, "tipHash"), QString("65").repeated(32));  // height 101 = 0x65 in every byte

    // Sending: bad input never reaches the node; the dialog can cancel; then a payment.
    QString payee = QString::fromStdString(EncodeAddress(PrivateKey::Generate().PublicKey()));
    Child<QLineEdit>(window, "sendAddress")->setText("mcrt1notanaddress");
    Child<QLineEdit>(window, "sendAmount")->setText("1");
    Child<QPushButton>(window, "sendButton")->click();
    QVERIFY(Text(window, "sendResult").startsWith("Invalid address"));
    Child<QLineEdit>(window, "sendAddress")->setText(payee);
    Child<QLineEdit>(window, "sendAmount")->setText("1.000000001");
    Child<QPushButton>(window, "sendButton")->click();
    QVERIFY(Text(window, "sendResult").startsWith("Invalid amount"));
    QVERIFY(confirmations.empty());
    Child<QLineEdit>(window, "sendAmount")->setText("10");
    Child<QPushButton>(window, "sendButton")->click();
    QCOMPARE(Text(window, "sendResult"), QString("Payment cancelled"));
    QCOMPARE(confirmations.size(), std::size_t{1});
    QVERIFY(QString::fromStdString(confirmations[0]).contains("Pay 10.00000000 to " + payee));
    accept = true;
    Child<QPushButton>(window, "sendButton")->click();
    QTRY_VERIFY_WITH_TIMEOUT(Text(window, "sendResult").startsWith("Sent: abab"), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "confirmedBalance"), QString("39.99999000"), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(Child<QTableWidget>(window, "transactions")->rowCount(), 1, kTimeoutMs);
    QCOMPARE(Child<QTableWidget>(window, "transactions")->item(0, 1)->text(), QString("send"));
    Child<QLineEdit>(window, "sendAddress")->setText(payee);
    Child<QLineEdit>(window, "sendAmount")->setText("1000");
    Child<QPushButton>(window, "sendButton")->click();
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "sendResult"), QString("Payment failed: Insufficient funds"), kTimeoutMs);

    // The console: RPC results and errors, and the node's IPC log lines.
    QTRY_VERIFY_WITH_TIMEOUT(Child<QPlainTextEdit>(window, "ipcLog")->toPlainText().contains("fake#1: call #100 Mining.block"),
                             kTimeoutMs);
    auto* console = Child<QPlainTextEdit>(window, "rpcOutput");
    Child<QLineEdit>(window, "consoleInput")->setText("getblockcount");
    QTest::keyClick(Child<QLineEdit>(window, "consoleInput"), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(console->toPlainText().contains("> getblockcount\n101"), kTimeoutMs);
    Child<QLineEdit>(window, "consoleInput")->setText("echo a 2");
    QTest::keyClick(Child<QLineEdit>(window, "consoleInput"), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(console->toPlainText().contains("[\"a\",2]"), kTimeoutMs);
    Child<QLineEdit>(window, "consoleInput")->setText("nosuchmethod");
    QTest::keyClick(Child<QLineEdit>(window, "consoleInput"), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(console->toPlainText().contains("error: Method not found"), kTimeoutMs);
  }

  void FakeNodeMiningCancelsAndWindowStaysResponsive() {
    auto state = std::make_shared<FakeState>();
    state->wallets.push_back("w");
    state->block_delay_ms = 50;
    gui::MainWindow window(std::make_unique<FakeNode>(state));
    window.show();
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "walletState"), QString("using wallet \"w\""), kTimeoutMs);
    Child<QSpinBox>(window, "mineBlocks")->setValue(1000);
    Child<QPushButton>(window, "mineButton")->click();
    QVERIFY(!Child<QPushButton>(window, "mineButton")->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(Child<QProgressBar>(window, "mineProgress")->value() >= 3, kTimeoutMs);
    // The UI thread is free while mining: the event loop turns (this test runs on it).
    auto before = std::chrono::steady_clock::now();
    QTest::qWait(10);
    QVERIFY(std::chrono::steady_clock::now() - before < std::chrono::seconds(1));
    Child<QPushButton>(window, "mineCancel")->click();
    QTRY_VERIFY_WITH_TIMEOUT(Text(window, "mineResult").contains("(cancelled)"), kTimeoutMs);
    QVERIFY(Child<QPushButton>(window, "mineButton")->isEnabled());
    std::lock_guard<std::mutex> lock(state->mutex);
    QVERIFY(state->height < 1000);
  }

  void FakeNodePeersTableAndSyncProgress() {
    auto state = std::make_shared<FakeState>();
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->height = 120;
      state->headers = 500;
      state->initial_download = true;
      state->connections = 2;
      state->peers = {Peer(3, "10.0.0.7:19444", false, 0.421, 500), Peer(5, "10.0.0.9:50112", true, -1, -1)};
    }
    gui::MainWindowOptions options;
    options.status_refresh_ms = 10;
    gui::MainWindow window(std::make_unique<FakeNode>(state), options);
    window.show();
    QTRY_VERIFY_WITH_TIMEOUT(Text(window, "connectionState").startsWith("connected"), kTimeoutMs);

    // Catching up: the status bar shows how far, and the connection count.
    auto* sync = Child<QProgressBar>(window, "syncProgress");
    QTRY_VERIFY_WITH_TIMEOUT(!sync->isHidden(), kTimeoutMs);
    QCOMPARE(sync->format(), QString("Synchronizing with the network: block 120 of 500 (24%)"));
    QCOMPARE(sync->value(), 120);
    QCOMPARE(sync->maximum(), 500);
    QCOMPARE(Text(window, "connections"), QString("2 connections"));
    QCOMPARE(Text(window, "network"), QString("2 connections, synchronizing: block 120 of 500"));

    // The status is read again and again; the peers only while their tab is visible.
    QTRY_VERIFY_WITH_TIMEOUT(state->status_calls.load() >= 4, kTimeoutMs);
    QCOMPARE(state->peer_calls.load(), 0);
    auto* peers = Child<QTableWidget>(window, "peers");
    QCOMPARE(peers->rowCount(), 0);
    auto* tabs = Child<QTabWidget>(window, "tabs");
    int peers_tab = -1;
    for (int i = 0; i < tabs->count(); ++i) {
      if (tabs->tabText(i) == "Peers") peers_tab = i;
    }
    QVERIFY(peers_tab >= 0);
    tabs->setCurrentIndex(peers_tab);
    QTRY_COMPARE_WITH_TIMEOUT(peers->rowCount(), 2, kTimeoutMs);
    QCOMPARE(Text(window, "peerCount"), QString("2 peers connected"));
    auto cell = [&](int row, int column) { return peers->item(row, column)->text(); };
    QCOMPARE(cell(0, 0), QString("10.0.0.7:19444"));
    QCOMPARE(cell(0, 1), QString("outbound"));
    QCOMPARE(cell(0, 2), QString("/minicoin:0.1.0/"));
    QCOMPARE(cell(0, 3), QString("0.42 ms"));
    QCOMPARE(cell(0, 4), QString("500"));
    QCOMPARE(cell(0, 5), QString("1.5 kB"));
    QCOMPARE(cell(0, 6), QString("2.5 MB"));
    QCOMPARE(cell(1, 0), QString("10.0.0.9:50112"));
    QCOMPARE(cell(1, 1), QString("inbound"));
    QCOMPARE(cell(1, 3), QString("-"));
    QCOMPARE(cell(1, 4), QString("-"));

    // A peer leaves: the table follows.
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->peers.pop_back();
      state->connections = 1;
    }
    QTRY_COMPARE_WITH_TIMEOUT(peers->rowCount(), 1, kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "peerCount"), QString("1 peer connected"), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "connections"), QString("1 connection"), kTimeoutMs);

    // A new tip moves the bar at once; the end of the download hides it.
    std::vector<std::function<void(const ipc::BlockRef&)>> tip_callbacks;
    ipc::BlockRef tip;
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->height = 300;
      tip = state->Tip();
      for (const auto& [id, callback] : state->tip_callbacks) tip_callbacks.push_back(callback);
    }
    for (const auto& callback : tip_callbacks) callback(tip);
    QTRY_COMPARE_WITH_TIMEOUT(sync->value(), 300, kTimeoutMs);
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->height = 500;
      state->initial_download = false;
    }
    QTRY_VERIFY_WITH_TIMEOUT(sync->isHidden(), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "network"), QString("1 connection, best header at block 500"), kTimeoutMs);
    // Far behind again (new headers announced): the bar comes back.
    {
      std::lock_guard<std::mutex> lock(state->mutex);
      state->headers = 900;
      state->initial_download = true;
    }
    QTRY_VERIFY_WITH_TIMEOUT(!sync->isHidden(), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(sync->format(), QString("Synchronizing with the network: block 500 of 900 (55%)"), kTimeoutMs);

    // The node goes away: the next refresh finds out, and the bar goes.
    state->disconnected = true;
    QTRY_VERIFY_WITH_TIMEOUT(Text(window, "connectionState").startsWith("disconnected: fake node gone"), kTimeoutMs);
    QVERIFY(sync->isHidden());
  }

  void FakeNodeLostConnectionShowsDisconnected() {
    auto state = std::make_shared<FakeState>();
    state->wallets.push_back("w");
    gui::MainWindow window(std::make_unique<FakeNode>(state));
    window.show();
    QTRY_COMPARE_WITH_TIMEOUT(Text(window, "walletState"), QString("using wallet \"w\""), kTimeoutMs);
    state->disconnected = true;
    Child<QPushButton>(window, "newAddress")->click();
    QTRY_VERIFY_WITH_TIMEOUT(Text(window, "connectionState").startsWith("disconnected: fake node gone"), kTimeoutMs);
    QVERIFY(!Child<QPushButton>(window, "mineButton")->isEnabled());
    QVERIFY(!Child<QPushButton>(window, "sendButton")->isEnabled());
    // And from outside (the executables watch their connection).
    auto connected = std::make_shared<FakeState>();
    gui::MainWindow second(std::make_unique<FakeNode>(connected));
    QTRY_VERIFY_WITH_TIMEOUT(Text(second, "connectionState").startsWith("connected"), kTimeoutMs);
    second.NotifyDisconnected("socket closed");
    QTRY_COMPARE_WITH_TIMEOUT(Text(second, "connectionState"), QString("disconnected: socket closed"), kTimeoutMs);
  }
};

QTEST_MAIN(GuiTest)
#include "gui_test.moc"
