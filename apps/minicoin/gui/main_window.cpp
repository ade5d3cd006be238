// The minicoin GUI's main window.
#include "gui/main_window.h"

#include "ipc/wallet_error.h"
#include "primitives/address.h"

#include <crossproc/errors.h>

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDateTime>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMetaObject>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <limits>

namespace minicoin::gui {

namespace {

QString Q(const std::string& text) { return QString::fromStdString(text); }

// The message of an error from the node: a WalletError's without its code.
std::string ErrorText(const std::exception& e) {
  if (const auto* wallet_error = dynamic_cast<const WalletError*>(&e)) return wallet_error->message();
  if (const auto* remote = dynamic_cast<const crossproc::RemoteError*>(&e)) return remote->message();
  return e.what();
}

QLabel* ValueLabel(const char* name, QWidget* parent) {
  auto* label = new QLabel("-", parent);
  label->setObjectName(name);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  return label;
}

constexpr uint32_t kTransactionsShown = 200;

QString ConnectionCount(uint32_t connections) {
  return connections == 1 ? QString("1 connection") : QString("%1 connections").arg(connections);
}

}  // namespace

MainWindow::MainWindow(std::unique_ptr<ipc::Node> node, MainWindowOptions options, QWidget* parent)
    : QMainWindow(parent), m_relay(std::make_shared<UiRelay>()), m_node(std::move(node)), m_options(std::move(options)) {
  m_relay->target = this;
  if (!m_options.confirm_send) {
    m_options.confirm_send = [this](const std::string& summary) {
      return QMessageBox::question(this, "Confirm payment", Q(summary), QMessageBox::Yes | QMessageBox::Cancel,
                                   QMessageBox::Cancel) == QMessageBox::Yes;
    };
  }
  BuildUi();
  StartSession();
}

MainWindow::~MainWindow() {
  {
    std::lock_guard<std::mutex> lock(m_relay->mutex);
    m_relay->target = nullptr;
  }
  m_cancel_mining = true;
  m_mining_runner.Stop();
  m_jobs.Stop();
  m_calls.Post([this] {
    // Registrations end before the node goes: no callback comes after this.
    m_balance_handler.reset();
    m_log_handler.reset();
    m_mempool_handler.reset();
    m_tip_handler.reset();
    std::lock_guard<std::mutex> lock(m_wallet_mutex);
    m_wallet.reset();
  });
  m_calls.Stop();
  m_node.reset();
}

void MainWindow::PostToUi(std::function<void()> ui) {
  std::lock_guard<std::mutex> lock(m_relay->mutex);
  if (m_relay->target == nullptr) return;
  QMetaObject::invokeMethod(m_relay->target, std::move(ui), Qt::QueuedConnection);
}

void MainWindow::Run(TaskRunner& runner, std::function<void()> work, std::function<void(const std::string&)> on_error) {
  runner.Post([this, work = std::move(work), on_error = std::move(on_error)] {
    std::string error;
    try {
      work();
      return;
    } catch (const crossproc::Disconnected& e) {
      NotifyDisconnected(e.message());
      error = "disconnected: " + e.message();
    } catch (const std::exception& e) {
      error = ErrorText(e);
    }
    if (on_error) PostToUi([on_error, error] { on_error(error); });
  });
}

void MainWindow::NotifyDisconnected(const std::string& reason) {
  PostToUi([this, reason] {
    if (m_disconnected) return;
    m_disconnected = true;
    m_connection_state->setText(Q("disconnected: " + reason));
    statusBar()->showMessage("Connection to the node lost");
    m_status_timer->stop();
    m_sync_progress->hide();
    m_cancel_mining = true;
    SetActionsEnabled();
  });
}

// ---- Layout ----

void MainWindow::BuildUi() {
  setWindowTitle("minicoin");
  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);

  auto* wallet_row = new QHBoxLayout();
  wallet_row->addWidget(new QLabel("Wallet:", central));
  m_wallet_combo = new QComboBox(central);
  m_wallet_combo->setObjectName("walletCombo");
  m_wallet_combo->setMinimumContentsLength(16);
  wallet_row->addWidget(m_wallet_combo);
  m_wallet_load = new QPushButton("Open", central);
  m_wallet_load->setObjectName("walletLoad");
  wallet_row->addWidget(m_wallet_load);
  m_wallet_new_name = new QLineEdit(central);
  m_wallet_new_name->setObjectName("walletName");
  m_wallet_new_name->setPlaceholderText("new wallet name");
  wallet_row->addWidget(m_wallet_new_name);
  m_wallet_create = new QPushButton("Create", central);
  m_wallet_create->setObjectName("walletCreate");
  wallet_row->addWidget(m_wallet_create);
  m_wallet_state = new QLabel(central);
  m_wallet_state->setObjectName("walletState");
  wallet_row->addWidget(m_wallet_state, 1);
  layout->addLayout(wallet_row);

  m_tabs = new QTabWidget(central);
  m_tabs->setObjectName("tabs");
  m_tabs->addTab(BuildOverviewTab(), "Overview");
  m_tabs->addTab(BuildTransactionsTab(), "Transactions");
  m_tabs->addTab(BuildReceiveTab(), "Receive");
  m_tabs->addTab(BuildSendTab(), "Send");
  m_tabs->addTab(BuildMiningTab(), "Mining");
  m_tabs->addTab(BuildPeersTab(), "Peers");
  m_tabs->addTab(BuildConsoleTab(), "Console");
  layout->addWidget(m_tabs);
  setCentralWidget(central);
  resize(860, 560);

  // The status bar: sync progress (only during the initial download) and the connection count.
  m_sync_progress = new QProgressBar(this);
  m_sync_progress->setObjectName("syncProgress");
  m_sync_progress->setMinimumWidth(360);
  m_sync_progress->setTextVisible(true);
  m_sync_progress->hide();
  m_connections_label = new QLabel(this);
  m_connections_label->setObjectName("connections");
  statusBar()->addPermanentWidget(m_sync_progress);
  statusBar()->addPermanentWidget(m_connections_label);

  m_status_timer = new QTimer(this);
  m_status_timer->setInterval(std::max(1, m_options.status_refresh_ms));
  QObject::connect(m_status_timer, &QTimer::timeout, this, [this] { RequestStatusRefresh(); });
  // The peers are read at once when their tab is opened, then with the status.
  QObject::connect(m_tabs, &QTabWidget::currentChanged, this, [this] {
    if (PeersTabVisible()) RequestStatusRefresh();
  });

  QObject::connect(m_wallet_load, &QPushButton::clicked, this, [this] { LoadWallet(); });
  QObject::connect(m_wallet_create, &QPushButton::clicked, this, [this] { CreateWallet(); });
  QObject::connect(m_wallet_new_name, &QLineEdit::returnPressed, this, [this] { CreateWallet(); });
  ShowWalletState();
  SetActionsEnabled();
}

QWidget* MainWindow::BuildOverviewTab() {
  auto* tab = new QWidget();
  auto* layout = new QVBoxLayout(tab);
  auto* balances = new QGroupBox("Balances", tab);
  auto* balance_form = new QFormLayout(balances);
  m_confirmed = ValueLabel("confirmedBalance", balances);
  m_pending = ValueLabel("pendingBalance", balances);
  m_immature = ValueLabel("immatureBalance", balances);
  balance_form->addRow("Confirmed:", m_confirmed);
  balance_form->addRow("Pending:", m_pending);
  balance_form->addRow("Immature:", m_immature);
  layout->addWidget(balances);

  auto* chain = new QGroupBox("Node", tab);
  auto* chain_form = new QFormLayout(chain);
  m_connection_state = ValueLabel("connectionState", chain);
  m_connection_state->setText("connecting");
  m_height = ValueLabel("height", chain);
  m_tip_hash = ValueLabel("tipHash", chain);
  m_mempool = ValueLabel("mempool", chain);
  m_node_info = ValueLabel("nodeInfo", chain);
  m_network = ValueLabel("network", chain);
  chain_form->addRow("Connection:", m_connection_state);
  chain_form->addRow("Height:", m_height);
  chain_form->addRow("Tip:", m_tip_hash);
  chain_form->addRow("Mempool:", m_mempool);
  chain_form->addRow("Network:", m_network);
  chain_form->addRow("Node:", m_node_info);
  layout->addWidget(chain);
  layout->addStretch(1);
  return tab;
}

QWidget* MainWindow::BuildTransactionsTab() {
  auto* tab = new QWidget();
  auto* layout = new QVBoxLayout(tab);
  m_transactions = new QTableWidget(0, 6, tab);
  m_transactions->setObjectName("transactions");
  m_transactions->setHorizontalHeaderLabels({"Time", "Type", "Amount", "Confirmations", "Address", "Txid"});
  m_transactions->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_transactions->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_transactions->verticalHeader()->setVisible(false);
  m_transactions->horizontalHeader()->setStretchLastSection(true);
  layout->addWidget(m_transactions);
  auto* row = new QHBoxLayout();
  m_rescan = new QPushButton("Rescan the chain", tab);
  m_rescan->setObjectName("rescan");
  m_rescan_result = new QLabel(tab);
  m_rescan_result->setObjectName("rescanResult");
  row->addWidget(m_rescan);
  row->addWidget(m_rescan_result, 1);
  layout->addLayout(row);
  QObject::connect(m_rescan, &QPushButton::clicked, this, [this] { Rescan(); });
  return tab;
}

QWidget* MainWindow::BuildReceiveTab() {
  auto* tab = new QWidget();
  auto* layout = new QVBoxLayout(tab);
  auto* row = new QHBoxLayout();
  m_address = new QLineEdit(tab);
  m_address->setObjectName("address");
  m_address->setReadOnly(true);
  m_address->setPlaceholderText("press New address");
  m_new_address = new QPushButton("New address", tab);
  m_new_address->setObjectName("newAddress");
  m_copy_address = new QPushButton("Copy", tab);
  m_copy_address->setObjectName("copyAddress");
  row->addWidget(m_address, 1);
  row->addWidget(m_new_address);
  row->addWidget(m_copy_address);
  layout->addLayout(row);
  layout->addStretch(1);
  QObject::connect(m_new_address, &QPushButton::clicked, this, [this] { NewAddress(); });
  QObject::connect(m_copy_address, &QPushButton::clicked, this, [this] {
    if (!m_address->text().isEmpty()) QApplication::clipboard()->setText(m_address->text());
  });
  return tab;
}

QWidget* MainWindow::BuildSendTab() {
  auto* tab = new QWidget();
  auto* layout = new QVBoxLayout(tab);
  auto* form = new QFormLayout();
  m_send_address = new QLineEdit(tab);
  m_send_address->setObjectName("sendAddress");
  m_send_address->setPlaceholderText("mcrt1...");
  m_send_amount = new QLineEdit(tab);
  m_send_amount->setObjectName("sendAmount");
  m_send_amount->setPlaceholderText("coins, e.g. 1.5");
  m_send_fee_rate = new QLineEdit(tab);
  m_send_fee_rate->setObjectName("sendFeeRate");
  m_send_fee_rate->setPlaceholderText("units per 1000 bytes; empty: the node's estimate");
  form->addRow("Pay to:", m_send_address);
  form->addRow("Amount:", m_send_amount);
  form->addRow("Fee rate:", m_send_fee_rate);
  layout->addLayout(form);
  m_send_button = new QPushButton("Send", tab);
  m_send_button->setObjectName("sendButton");
  m_send_result = new QLabel(tab);
  m_send_result->setObjectName("sendResult");
  m_send_result->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_send_result->setWordWrap(true);
  layout->addWidget(m_send_button, 0, Qt::AlignLeft);
  layout->addWidget(m_send_result);
  layout->addStretch(1);
  QObject::connect(m_send_button, &QPushButton::clicked, this, [this] { Send(); });
  return tab;
}

QWidget* MainWindow::BuildMiningTab() {
  auto* tab = new QWidget();
  auto* layout = new QVBoxLayout(tab);
  auto* form = new QFormLayout();
  m_mine_blocks = new QSpinBox(tab);
  m_mine_blocks->setObjectName("mineBlocks");
  m_mine_blocks->setRange(1, 1000);
  m_mine_blocks->setValue(1);
  m_mine_address = new QLineEdit(tab);
  m_mine_address->setObjectName("mineAddress");
  m_mine_address->setPlaceholderText("empty: a new address of the wallet");
  form->addRow("Blocks:", m_mine_blocks);
  form->addRow("Pay to:", m_mine_address);
  layout->addWidget(new QLabel("Regtest: mine blocks on this node's chain.", tab));
  layout->addLayout(form);
  auto* row = new QHBoxLayout();
  m_mine_button = new QPushButton("Mine", tab);
  m_mine_button->setObjectName("mineButton");
  m_mine_cancel = new QPushButton("Cancel", tab);
  m_mine_cancel->setObjectName("mineCancel");
  m_mine_progress = new QProgressBar(tab);
  m_mine_progress->setObjectName("mineProgress");
  m_mine_progress->setRange(0, 1);
  m_mine_progress->setValue(0);
  row->addWidget(m_mine_button);
  row->addWidget(m_mine_cancel);
  row->addWidget(m_mine_progress, 1);
  layout->addLayout(row);
  m_mine_result = new QLabel(tab);
  m_mine_result->setObjectName("mineResult");
  m_mine_result->setWordWrap(true);
  layout->addWidget(m_mine_result);
  layout->addStretch(1);
  QObject::connect(m_mine_button, &QPushButton::clicked, this, [this] { Mine(); });
  QObject::connect(m_mine_cancel, &QPushButton::clicked, this, [this] {
    m_cancel_mining = true;
    m_mine_result->setText("Cancelling after the block being mined...");
  });
  return tab;
}

QWidget* MainWindow::BuildPeersTab() {
  m_peers_tab = new QWidget();
  auto* layout = new QVBoxLayout(m_peers_tab);
  m_peer_count = new QLabel("-", m_peers_tab);
  m_peer_count->setObjectName("peerCount");
  layout->addWidget(m_peer_count);
  m_peers = new QTableWidget(0, 7, m_peers_tab);
  m_peers->setObjectName("peers");
  m_peers->setHorizontalHeaderLabels({"Address", "Direction", "User agent", "Ping", "Synced height", "Sent", "Received"});
  m_peers->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_peers->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_peers->verticalHeader()->setVisible(false);
  m_peers->horizontalHeader()->setStretchLastSection(true);
  layout->addWidget(m_peers);
  return m_peers_tab;
}

QWidget* MainWindow::BuildConsoleTab() {
  auto* tab = new QWidget();
  auto* layout = new QVBoxLayout(tab);
  QFont monospace("monospace");
  monospace.setStyleHint(QFont::Monospace);
  m_ipc_log = new QPlainTextEdit(tab);
  m_ipc_log->setObjectName("ipcLog");
  m_ipc_log->setReadOnly(true);
  m_ipc_log->setMaximumBlockCount(5000);
  m_ipc_log->setFont(monospace);
  m_rpc_output = new QPlainTextEdit(tab);
  m_rpc_output->setObjectName("rpcOutput");
  m_rpc_output->setReadOnly(true);
  m_rpc_output->setMaximumBlockCount(5000);
  m_rpc_output->setFont(monospace);
  m_console_input = new QLineEdit(tab);
  m_console_input->setObjectName("consoleInput");
  m_console_input->setPlaceholderText("RPC command, e.g. getblockchaininfo or getblockhash 1");
  layout->addWidget(new QLabel("IPC log of the node (its -debug=ipc lines)", tab));
  layout->addWidget(m_ipc_log, 3);
  layout->addWidget(new QLabel("RPC console", tab));
  layout->addWidget(m_rpc_output, 2);
  layout->addWidget(m_console_input);
  QObject::connect(m_console_input, &QLineEdit::returnPressed, this, [this] { ExecuteConsole(); });
  return tab;
}

// ---- Session: first reads and registrations ----

void MainWindow::StartSession() {
  Run(
      m_calls,
      [this] {
        ipc::NodeStatus status = m_node->getStatus();
        PostToUi([this, status] {
          if (m_disconnected) return;
          m_connected = true;
          m_wallets_enabled = status.walletsEnabled;
          m_connection_state->setText(Q("connected (" + m_options.connection_description + ")"));
          m_node_info->setText(Q(status.executable + ", " + status.dataDir));
          m_mempool->setText(QString("%1 transactions").arg(status.mempoolTransactions));
          ShowTip(status.tip);
          ShowNetworkState(status);
          ShowWalletState();
          SetActionsEnabled();
          m_status_timer->start();
        });
        m_tip_handler = m_node->handleTipChanged([this](const ipc::BlockRef& tip) {
          PostToUi([this, tip] { ShowTip(tip); });
          RequestWalletRefresh();
        });
        m_mempool_handler = m_node->handleMempoolChanged([this](uint32_t transactions) {
          PostToUi([this, transactions] { m_mempool->setText(QString("%1 transactions").arg(transactions)); });
          RequestWalletRefresh();
        });
        try {
          m_log_handler = m_node->handleLog("ipc", [this](const std::string& line) {
            bool first;
            {
              std::lock_guard<std::mutex> lock(m_log_mutex);
              first = m_log_lines.empty();
              m_log_lines.push_back(line);
            }
            if (first) PostToUi([this] { FlushLog(); });
          });
        } catch (const crossproc::Disconnected&) {
          throw;
        } catch (const std::exception& e) {
          std::string text = "(no IPC log: " + ErrorText(e) + ")";
          PostToUi([this, text] { m_ipc_log->appendPlainText(Q(text)); });
        }
        if (!status.walletsEnabled) return;
        std::vector<std::string> loaded = m_node->listWallets();
        if (!loaded.empty()) UseWallet(m_node->getWallet(loaded.front()));
        RefreshWalletList();
      },
      [this](const std::string& error) {
        if (!m_disconnected) m_connection_state->setText(Q("error: " + error));
      });
}

void MainWindow::RefreshWalletList() {
  std::vector<std::string> loaded = m_node->listWallets();
  std::vector<std::string> on_disk = m_node->listWalletDir();
  PostToUi([this, loaded, on_disk] {
    m_loaded_wallets = loaded;
    QString keep = m_wallet_combo->currentText();
    m_wallet_combo->clear();
    std::vector<std::string> names = loaded;
    for (const std::string& name : on_disk) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) m_wallet_combo->addItem(Q(name));
    int index = m_wallet_combo->findText(m_wallet_name.empty() ? keep : Q(m_wallet_name));
    if (index >= 0) m_wallet_combo->setCurrentIndex(index);
    ShowWalletState();
    SetActionsEnabled();
  });
}

void MainWindow::UseWallet(std::shared_ptr<ipc::Wallet> wallet) {
  m_balance_handler.reset();
  std::string name = wallet->getName();
  {
    std::lock_guard<std::mutex> lock(m_wallet_mutex);
    m_wallet = wallet;
  }
  m_balance_handler = wallet->handleBalanceChanged([this](const ipc::Balances& balances) {
    PostToUi([this, balances] { ShowBalances(balances); });
    RequestWalletRefresh();
  });
  PostToUi([this, name] {
    m_wallet_name = name;
    int index = m_wallet_combo->findText(Q(name));
    if (index < 0) m_wallet_combo->addItem(Q(name));
    m_wallet_combo->setCurrentIndex(m_wallet_combo->findText(Q(name)));
    ShowWalletState();
    SetActionsEnabled();
  });
  m_refresh_pending = false;
  RequestWalletRefresh();
}

std::shared_ptr<ipc::Wallet> MainWindow::Wallet() {
  std::lock_guard<std::mutex> lock(m_wallet_mutex);
  return m_wallet;
}

void MainWindow::RequestWalletRefresh() {
  // Coalesced: one refresh queued at a time, whatever the number of notifications.
  if (m_refresh_pending.exchange(true)) return;
  Run(
      m_calls,
      [this] {
        m_refresh_pending = false;
        std::shared_ptr<ipc::Wallet> wallet = Wallet();
        if (!wallet) return;
        ipc::Balances balances = wallet->getBalances();
        std::vector<ipc::WalletTransaction> transactions = wallet->listTransactions(kTransactionsShown, 0);
        PostToUi([this, balances, transactions] {
          ShowBalances(balances);
          ShowTransactions(transactions);
        });
      },
      [this](const std::string& error) { statusBar()->showMessage(Q("Wallet refresh failed: " + error)); });
}

void MainWindow::RequestStatusRefresh() {
  if (!m_connected || m_disconnected) return;
  m_peers_wanted = PeersTabVisible();
  // Coalesced: a slow node gets one request at a time, whatever the timer says.
  if (m_status_pending.exchange(true)) return;
  Run(
      m_calls,
      [this] {
        m_status_pending = false;
        ipc::NodeStatus status = m_node->getStatus();
        std::optional<std::vector<ipc::PeerSummary>> peers;
        if (m_peers_wanted) peers = m_node->getPeers();
        PostToUi([this, status, peers] {
          if (m_disconnected) return;
          ShowNetworkState(status);
          if (peers) ShowPeers(*peers);
        });
      },
      [this](const std::string& error) {
        if (!m_disconnected) statusBar()->showMessage(Q("Status refresh failed: " + error));
      });
}

// ---- UI updates ----

void MainWindow::ShowTip(const ipc::BlockRef& tip) {
  m_tip_height = tip.height;
  if (m_initial_download) ShowSyncProgress();
  m_height->setText(QString::number(tip.height));
  m_tip_hash->setText(Q(HashToHex(tip.hash)));
  if (m_options.on_tip_shown) m_options.on_tip_shown(tip);
}

void MainWindow::ShowNetworkState(const ipc::NodeStatus& status) {
  m_tip_height = status.tip.height;
  m_headers = status.headers;
  m_connections = status.connections;
  m_initial_download = status.initialDownload;
  m_connections_label->setText(ConnectionCount(status.connections));
  ShowSyncProgress();
}

void MainWindow::ShowSyncProgress() {
  QString connections = ConnectionCount(m_connections);
  if (!m_initial_download) {
    m_sync_progress->hide();
    m_network->setText(connections + ", best header at block " + QString::number(m_headers));
    return;
  }
  // A QProgressBar counts in int; heights past its range do not exist in practice.
  constexpr uint32_t kMaxBar = static_cast<uint32_t>(std::numeric_limits<int>::max());
  uint32_t headers = std::min(m_headers, kMaxBar);
  m_sync_progress->setRange(0, static_cast<int>(std::max<uint32_t>(headers, 1)));
  m_sync_progress->setValue(static_cast<int>(std::min(m_tip_height, headers)));
  m_sync_progress->setFormat(Q(SyncProgressText(m_tip_height, m_headers)));
  m_sync_progress->show();
  m_network->setText(connections + QString(", synchronizing: block %1 of %2")
                                       .arg(std::min(m_tip_height, m_headers))
                                       .arg(m_headers));
}

void MainWindow::ShowPeers(const std::vector<ipc::PeerSummary>& peers) {
  if (peers.empty()) {
    m_peer_count->setText("No peers connected");
  } else if (peers.size() == 1) {
    m_peer_count->setText("1 peer connected");
  } else {
    m_peer_count->setText(QString("%1 peers connected").arg(peers.size()));
  }
  m_peers->setRowCount(static_cast<int>(peers.size()));
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const ipc::PeerSummary& peer = peers[i];
    int row = static_cast<int>(i);
    auto set = [&](int column, const QString& text) { m_peers->setItem(row, column, new QTableWidgetItem(text)); };
    set(0, Q(peer.address));
    set(1, peer.inbound ? QString("inbound") : QString("outbound"));
    set(2, Q(peer.userAgent));
    set(3, Q(FormatPing(peer.pingMillis)));
    set(4, peer.syncedHeight < 0 ? QString("-") : QString::number(peer.syncedHeight));
    set(5, Q(FormatBytes(peer.bytesSent)));
    set(6, Q(FormatBytes(peer.bytesReceived)));
  }
  m_peers->resizeColumnsToContents();
}

bool MainWindow::PeersTabVisible() const { return isVisible() && m_tabs->currentWidget() == m_peers_tab; }

void MainWindow::ShowBalances(const ipc::Balances& balances) {
  m_confirmed->setText(Q(FormatAmount(static_cast<int64_t>(balances.confirmed))));
  m_pending->setText(Q(FormatAmount(static_cast<int64_t>(balances.unconfirmed))));
  m_immature->setText(Q(FormatAmount(static_cast<int64_t>(balances.immature))));
}

void MainWindow::ShowTransactions(const std::vector<ipc::WalletTransaction>& transactions) {
  m_transactions->setRowCount(static_cast<int>(transactions.size()));
  for (std::size_t i = 0; i < transactions.size(); ++i) {
    const ipc::WalletTransaction& tx = transactions[i];
    int row = static_cast<int>(i);
    auto set = [&](int column, const QString& text) { m_transactions->setItem(row, column, new QTableWidgetItem(text)); };
    set(0, QDateTime::fromSecsSinceEpoch(tx.time).toString("yyyy-MM-dd hh:mm:ss"));
    set(1, Q(tx.category));
    set(2, Q(FormatAmount(tx.amount)));
    set(3, tx.confirmations < 0 ? QString("conflicted") : QString::number(tx.confirmations));
    set(4, Q(tx.address));
    set(5, Q(HashToHex(tx.txid)));
  }
  m_transactions->resizeColumnsToContents();
}

void MainWindow::ShowWalletState() {
  QString text;
  if (!m_wallets_enabled) {
    text = "wallets are disabled on this node (-disablewallet)";
  } else if (!m_wallet_name.empty()) {
    text = Q("using wallet \"" + m_wallet_name + "\"");
  } else if (m_connected) {
    text = m_wallet_combo->count() > 0 ? "no wallet loaded: open one or create one" : "no wallet yet: create one";
  }
  m_wallet_state->setText(text);
}

void MainWindow::AppendConsole(const std::string& text) { m_rpc_output->appendPlainText(Q(text)); }

void MainWindow::FlushLog() {
  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> lock(m_log_mutex);
    lines.swap(m_log_lines);
  }
  for (const std::string& line : lines) m_ipc_log->appendPlainText(Q(line));
}

void MainWindow::SetActionsEnabled() {
  bool online = m_connected && !m_disconnected;
  bool wallets = online && m_wallets_enabled;
  bool wallet = wallets && !m_wallet_name.empty();
  m_wallet_combo->setEnabled(wallets);
  m_wallet_load->setEnabled(wallets && m_wallet_combo->count() > 0);
  m_wallet_new_name->setEnabled(wallets);
  m_wallet_create->setEnabled(wallets);
  m_new_address->setEnabled(wallet);
  m_rescan->setEnabled(wallet);
  m_send_button->setEnabled(wallet && !m_sending);
  m_mine_button->setEnabled(online && !m_mining);
  m_mine_cancel->setEnabled(online && m_mining);
  m_console_input->setEnabled(online);
}

// ---- Actions ----

void MainWindow::LoadWallet() {
  std::string name = m_wallet_combo->currentText().toStdString();
  if (name.empty()) return;
  bool loaded = std::find(m_loaded_wallets.begin(), m_loaded_wallets.end(), name) != m_loaded_wallets.end();
  m_wallet_state->setText(Q("opening \"" + name + "\"..."));
  Run(
      m_jobs,
      [this, name, loaded] {
        std::shared_ptr<ipc::Wallet> wallet = loaded ? m_node->getWallet(name) : m_node->loadWallet(name);
        AdoptWallet(wallet);
      },
      [this](const std::string& error) { m_wallet_state->setText(Q("error: " + error)); });
}

void MainWindow::AdoptWallet(std::shared_ptr<ipc::Wallet> wallet) {
  m_calls.Post([this, wallet] {
    try {
      UseWallet(wallet);
      RefreshWalletList();
    } catch (const std::exception& e) {
      std::string error = ErrorText(e);
      PostToUi([this, error] { m_wallet_state->setText(Q("error: " + error)); });
    }
  });
}

void MainWindow::CreateWallet() {
  std::string name = m_wallet_new_name->text().trimmed().toStdString();
  if (name.empty()) {
    m_wallet_state->setText("error: type a name for the new wallet");
    return;
  }
  m_wallet_state->setText(Q("creating \"" + name + "\"..."));
  Run(
      m_jobs,
      [this, name] {
        std::shared_ptr<ipc::Wallet> wallet = m_node->createWallet(name, "");
        PostToUi([this] { m_wallet_new_name->clear(); });
        AdoptWallet(wallet);
      },
      [this](const std::string& error) { m_wallet_state->setText(Q("error: " + error)); });
}

void MainWindow::NewAddress() {
  Run(
      m_calls,
      [this] {
        std::shared_ptr<ipc::Wallet> wallet = Wallet();
        if (!wallet) return;
        std::string address = wallet->getNewAddress("");
        PostToUi([this, address] { m_address->setText(Q(address)); });
      },
      [this](const std::string& error) { m_address->setText(Q("error: " + error)); });
}

void MainWindow::Send() {
  std::string address = m_send_address->text().trimmed().toStdString();
  std::string address_error;
  if (!DecodeAddress(address, &address_error)) {
    m_send_result->setText(Q("Invalid address: " + (address_error.empty() ? address : address_error)));
    return;
  }
  std::optional<uint64_t> amount = ParseAmount(m_send_amount->text().trimmed().toStdString());
  if (!amount || *amount == 0) {
    m_send_result->setText("Invalid amount: give coins with at most 8 decimals, e.g. 1.5");
    return;
  }
  uint64_t fee_rate = 0;
  QString fee_text = m_send_fee_rate->text().trimmed();
  if (!fee_text.isEmpty()) {
    bool ok = false;
    fee_rate = fee_text.toULongLong(&ok);
    if (!ok) {
      m_send_result->setText("Invalid fee rate: give units per 1000 bytes, or leave it empty");
      return;
    }
  }
  std::string summary = "Pay " + FormatAmount(static_cast<int64_t>(*amount)) + " to " + address + "\nfrom wallet \"" +
                        m_wallet_name + "\", fee rate " +
                        (fee_rate == 0 ? std::string("the node's estimate") : std::to_string(fee_rate) + " units per 1000 bytes") +
                        "?";
  if (!m_options.confirm_send(summary)) {
    m_send_result->setText("Payment cancelled");
    return;
  }
  m_sending = true;
  SetActionsEnabled();
  m_send_result->setText("Sending...");
  auto done = [this](const std::string& text) {
    m_sending = false;
    m_send_result->setText(Q(text));
    SetActionsEnabled();
  };
  Run(
      m_jobs,
      [this, address, amount = *amount, fee_rate, done] {
        std::shared_ptr<ipc::Wallet> wallet = Wallet();
        if (!wallet) throw std::runtime_error("no wallet loaded");
        std::string txid = HashToHex(wallet->sendToAddress(address, amount, fee_rate));
        PostToUi([this, txid, done] {
          done("Sent: " + txid);
          m_send_address->clear();
          m_send_amount->clear();
        });
      },
      [done](const std::string& error) { done("Payment failed: " + error); });
}

void MainWindow::Mine() {
  uint32_t blocks = static_cast<uint32_t>(m_mine_blocks->value());
  std::string address = m_mine_address->text().trimmed().toStdString();
  if (address.empty() && m_wallet_name.empty()) {
    m_mine_result->setText("Give an address to pay, or open a wallet");
    return;
  }
  m_mining = true;
  m_cancel_mining = false;
  m_mine_progress->setRange(0, static_cast<int>(blocks));
  m_mine_progress->setValue(0);
  m_mine_result->setText("Mining...");
  SetActionsEnabled();
  auto done = [this](const std::string& text) {
    m_mining = false;
    m_mine_result->setText(Q(text));
    SetActionsEnabled();
  };
  Run(
      m_mining_runner,
      [this, blocks, address, done] {
        std::string pay_to = address;
        if (pay_to.empty()) {
          std::shared_ptr<ipc::Wallet> wallet = Wallet();
          if (!wallet) throw std::runtime_error("no wallet loaded");
          pay_to = wallet->getNewAddress("mining");
        }
        std::vector<std::vector<uint8_t>> hashes =
            m_node->generateToAddress(blocks, pay_to, [this](uint32_t mined, uint32_t total) {
              PostToUi([this, mined, total] {
                m_mine_progress->setRange(0, static_cast<int>(total));
                m_mine_progress->setValue(static_cast<int>(mined));
              });
              return !m_cancel_mining.load();
            });
        std::size_t count = hashes.size();
        std::string text = "Mined " + std::to_string(count) + " of " + std::to_string(blocks) + " blocks" +
                           (count < blocks ? " (cancelled)" : "") + (count > 0 ? ", last " + HashToHex(hashes.back()) : "");
        PostToUi([this, text, done, count] {
          m_mine_progress->setValue(static_cast<int>(count));
          done(text);
        });
      },
      [done](const std::string& error) { done("Mining failed: " + error); });
}

void MainWindow::Rescan() {
  m_rescan->setEnabled(false);
  m_rescan_result->setText("Rescanning...");
  auto done = [this](const std::string& text) {
    m_rescan_result->setText(Q(text));
    SetActionsEnabled();
  };
  Run(
      m_jobs,
      [this, done] {
        std::shared_ptr<ipc::Wallet> wallet = Wallet();
        if (!wallet) throw std::runtime_error("no wallet loaded");
        uint32_t last = wallet->rescan(0);
        PostToUi([done, last] { done("Rescanned up to height " + std::to_string(last)); });
        RequestWalletRefresh();
      },
      [done](const std::string& error) { done("Rescan failed: " + error); });
}

void MainWindow::ExecuteConsole() {
  std::string line = m_console_input->text().toStdString();
  std::string error;
  std::optional<RpcCommand> command = ParseRpcCommand(line, error);
  if (!command) {
    AppendConsole("error: " + error);
    return;
  }
  m_console_input->clear();
  AppendConsole("> " + line);
  Run(
      m_jobs,
      [this, command = *command] {
        std::string result = m_node->executeRpc(command.method, command.params);
        PostToUi([this, result] { AppendConsole(result); });
      },
      [this](const std::string& message) { AppendConsole("error: " + message); });
}

}  // namespace minicoin::gui
