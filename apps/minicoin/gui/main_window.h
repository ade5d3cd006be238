// MainWindow: the minicoin GUI's window over an ipc::Node (overview, transactions, receive,
// send, regtest mining, peers, IPC console, wallet chooser, sync progress in the status bar).
#pragma once

#include "gui/gui_util.h"
#include "node.crossproc.h"

#include <QMainWindow>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QComboBox;
class QTabWidget;
class QTableWidget;
class QTimer;

namespace minicoin::gui {

struct MainWindowOptions {
  // How the window reaches its node, shown beside the connection state ("in-process",
  // "spawned minicoin-node", "unix:/path/node.sock").
  std::string connection_description = "in-process";
  // Asked on the UI thread before each payment with a summary of it; true sends. Empty: a
  // question dialog.
  std::function<bool(const std::string& summary)> confirm_send;
  // Called on the UI thread after each tip the window shows (the first from getStatus).
  std::function<void(const ipc::BlockRef& tip)> on_tip_shown;
  // How often the node's status (sync progress, connections) is read again, and its peers while
  // the Peers tab is shown, in milliseconds.
  int status_refresh_ms = 2000;
};

// Shows one node and, if one is loaded, one of its wallets. Owns the ipc::Node.
//
// Event-loop (UI) thread only. Calls to the node run on worker threads of the window (one for
// short reads and registrations, one for mining, one for payments, wallet loading, rescans and
// console commands); their results and the node's notifications (tip, mempool, balances, log
// lines), which arrive on the node's threads, are posted to the UI thread. Only the network
// state is polled (the node sends no notification for it): the status every
// options.status_refresh_ms, and the peers too while the Peers tab is visible.
//
// When a call fails with crossproc::Disconnected, or NotifyDisconnected is called, the
// connection state shows "disconnected" and the actions are disabled; the window stays open.
// The destructor cancels mining, releases the node's registrations and waits for the workers.
//
//   auto window = std::make_unique<MainWindow>(runtime->MakeNodeInterface());
//   window->show();
//   app.exec();
class MainWindow final : public QMainWindow {
 public:
  explicit MainWindow(std::unique_ptr<ipc::Node> node, MainWindowOptions options = {}, QWidget* parent = nullptr);
  ~MainWindow() override;
  MainWindow(const MainWindow&) = delete;
  MainWindow& operator=(const MainWindow&) = delete;

  // Thread-safe: shows the connection as lost ("disconnected: <reason>").
  void NotifyDisconnected(const std::string& reason);
  // The wallet shown, or "" (UI thread).
  const std::string& current_wallet() const { return m_wallet_name; }

 private:
  // Posts `ui` to the UI thread; dropped once the window is being destroyed. Thread-safe.
  void PostToUi(std::function<void()> ui);
  // Runs `work` on `runner`; an exception it throws is shown through `on_error` on the UI
  // thread (Disconnected also marks the connection lost).
  void Run(TaskRunner& runner, std::function<void()> work, std::function<void(const std::string&)> on_error);

  void BuildUi();
  QWidget* BuildOverviewTab();
  QWidget* BuildTransactionsTab();
  QWidget* BuildReceiveTab();
  QWidget* BuildSendTab();
  QWidget* BuildMiningTab();
  QWidget* BuildPeersTab();
  QWidget* BuildConsoleTab();

  // Worker side (m_calls unless said otherwise).
  void StartSession();
  void RefreshWalletList();
  void UseWallet(std::shared_ptr<ipc::Wallet> wallet);  // m_calls thread
  // Switches to `wallet` (just opened or created) on the m_calls thread; errors show in the wallet row.
  void AdoptWallet(std::shared_ptr<ipc::Wallet> wallet);
  void RequestWalletRefresh();                          // any thread
  // Reads the status, and the peers if the Peers tab is visible (UI thread; coalesced).
  void RequestStatusRefresh();
  std::shared_ptr<ipc::Wallet> Wallet();                // any thread

  // UI side.
  void ShowTip(const ipc::BlockRef& tip);
  // Connections and sync progress (the status bar and the overview).
  void ShowNetworkState(const ipc::NodeStatus& status);
  void ShowSyncProgress();
  void ShowPeers(const std::vector<ipc::PeerSummary>& peers);
  bool PeersTabVisible() const;
  void ShowBalances(const ipc::Balances& balances);
  void ShowTransactions(const std::vector<ipc::WalletTransaction>& transactions);
  void ShowWalletState();
  void AppendConsole(const std::string& text);  // to the RPC output
  void FlushLog();
  void SetActionsEnabled();
  void LoadWallet();
  void CreateWallet();
  void NewAddress();
  void Send();
  void Mine();
  void Rescan();
  void ExecuteConsole();

  // Lets worker threads and node callbacks post to the window while it lives. Shared by the
  // window and every callback and task that may post.
  struct UiRelay {
    std::mutex mutex;
    QObject* target = nullptr;  // guarded by mutex; null once the window is being destroyed
  };
  std::shared_ptr<UiRelay> m_relay;

  std::unique_ptr<ipc::Node> m_node;  // called from the workers only
  MainWindowOptions m_options;

  std::mutex m_wallet_mutex;
  std::shared_ptr<ipc::Wallet> m_wallet;  // guarded by m_wallet_mutex; shared by the workers
  // Registrations, made and released on the m_calls thread.
  std::unique_ptr<ipc::Handler> m_tip_handler;
  std::unique_ptr<ipc::Handler> m_mempool_handler;
  std::unique_ptr<ipc::Handler> m_log_handler;
  std::unique_ptr<ipc::Handler> m_balance_handler;

  std::atomic<bool> m_refresh_pending{false};
  std::atomic<bool> m_status_pending{false};
  std::atomic<bool> m_peers_wanted{false};  // the Peers tab was visible at the last request
  std::atomic<bool> m_cancel_mining{false};
  std::mutex m_log_mutex;
  std::vector<std::string> m_log_lines;  // guarded by m_log_mutex; waiting for FlushLog

  // UI state.
  bool m_connected = false;
  bool m_disconnected = false;
  bool m_wallets_enabled = true;
  bool m_mining = false;
  bool m_sending = false;
  std::string m_wallet_name;
  std::vector<std::string> m_loaded_wallets;
  uint32_t m_tip_height = 0;
  uint32_t m_headers = 0;
  uint32_t m_connections = 0;
  bool m_initial_download = false;

  // Widgets, owned by their Qt parents.
  QTabWidget* m_tabs = nullptr;
  QLabel* m_connection_state = nullptr;
  QLabel* m_confirmed = nullptr;
  QLabel* m_pending = nullptr;
  QLabel* m_immature = nullptr;
  QLabel* m_height = nullptr;
  QLabel* m_tip_hash = nullptr;
  QLabel* m_mempool = nullptr;
  QLabel* m_node_info = nullptr;
  QComboBox* m_wallet_combo = nullptr;
  QPushButton* m_wallet_load = nullptr;
  QLineEdit* m_wallet_new_name = nullptr;
  QPushButton* m_wallet_create = nullptr;
  QLabel* m_wallet_state = nullptr;
  QTableWidget* m_transactions = nullptr;
  QPushButton* m_rescan = nullptr;
  QLabel* m_rescan_result = nullptr;
  QPushButton* m_new_address = nullptr;
  QLineEdit* m_address = nullptr;
  QPushButton* m_copy_address = nullptr;
  QLineEdit* m_send_address = nullptr;
  QLineEdit* m_send_amount = nullptr;
  QLineEdit* m_send_fee_rate = nullptr;
  QPushButton* m_send_button = nullptr;
  QLabel* m_send_result = nullptr;
  QSpinBox* m_mine_blocks = nullptr;
  QLineEdit* m_mine_address = nullptr;
  QPushButton* m_mine_button = nullptr;
  QPushButton* m_mine_cancel = nullptr;
  QProgressBar* m_mine_progress = nullptr;
  QLabel* m_mine_result = nullptr;
  QWidget* m_peers_tab = nullptr;
  QTableWidget* m_peers = nullptr;
  QLabel* m_peer_count = nullptr;
  QLabel* m_network = nullptr;
  QLabel* m_connections_label = nullptr;
  QProgressBar* m_sync_progress = nullptr;
  QTimer* m_status_timer = nullptr;
  QPlainTextEdit* m_ipc_log = nullptr;
  QPlainTextEdit* m_rpc_output = nullptr;
  QLineEdit* m_console_input = nullptr;

  // Declared last: destroyed (after the destructor's explicit Stop) before everything above.
  TaskRunner m_calls{"gui-calls"};
  TaskRunner m_mining_runner{"gui-mining"};
  TaskRunner m_jobs{"gui-jobs"};
};

}  // namespace minicoin::gui
