// Tests of the minicoin GUI against real nodes (Qt Test, offscreen): a window over an in-process
// NodeRuntime (wallet, 101 blocks, a payment, the network state of a lone node; the screenshot), two windows attached to one
// minicoin-node -ipcbind, and the minicoin-gui executable in both layouts.
#include "common/args.h"
#include "common/logging.h"
#include "crypto/key.h"
#include "gui/gui_util.h"
#include "gui/main_window.h"
#include "init.crossproc.h"
#include "node/node.h"
#include "primitives/address.h"
#include "primitives/transaction.h"

#include <crossproc/connection.h>
#include <crossproc/listener.h>
#include <crossproc/process.h>

#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

using namespace minicoin;

namespace {

constexpr int kTimeoutMs = 30000;

// A fresh data directory under the system's temporary folder, removed afterwards.
class TempDataDir {
 public:
  TempDataDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "minicoin-gui-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) qFatal("mkdtemp failed");
    m_path = buffer.data();
    // Every program started on it runs on regtest.
    std::ofstream(m_path / "minicoin.conf") << "regtest=1\n";
  }
  ~TempDataDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  // Where the node's files are: the regtest chain's folder.
  std::filesystem::path chain_path() const { return m_path / "regtest"; }
  std::string arg() const { return "-datadir=" + m_path.string(); }

 private:
  std::filesystem::path m_path;
};

template <typename T>
T* Child(QWidget& window, const char* name) {
  T* child = window.findChild<T*>(name);
  if (child == nullptr) qFatal("no widget %s", name);
  return child;
}

QString Text(QWidget& window, const char* name) { return Child<QLabel>(window, name)->text(); }

// A balance label's amount in units (0 if it shows none yet).
uint64_t Amount(QWidget& window, const char* name) {
  return gui::ParseAmount(Text(window, name).toStdString()).value_or(0);
}

// Whether an RPC output shows `result` as the line after the command `command`.
bool ShowsResult(QWidget& window, const QString& command, const QString& result) {
  QStringList lines = Child<QPlainTextEdit>(window, "rpcOutput")->toPlainText().split('\n');
  for (int i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i] == "> " + command && lines[i + 1] == result) return true;
  }
  return false;
}

std::string NewAddress() { return EncodeAddress(PrivateKey::Generate().PublicKey()); }

// Whether nobody holds the data directory's lock (the node that used it has exited).
bool DataDirUnlocked(const std::filesystem::path& dir) {
  int fd = ::open((dir / ".lock").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return true;
  bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return free;
}

// One attached window: the connection to a minicoin-node -ipcbind and the window over its Node.
struct AttachedWindow {
  std::unique_ptr<crossproc::Connection> connection;
  std::unique_ptr<ipc::InitClient> init;
  std::unique_ptr<gui::MainWindow> window;

  explicit AttachedWindow(const std::string& socket) {
    connection = crossproc::ConnectUnix(socket);
    init = connection->Bootstrap<ipc::Init>();
    gui::MainWindowOptions options;
    options.connection_description = "attached to unix:" + socket;
    window = std::make_unique<gui::MainWindow>(init->makeNode(), options);
    window->show();
  }
  ~AttachedWindow() {
    window.reset();
    init.reset();
  }
};

}  // namespace

class GuiNodeTest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void InProcessNodeWalletMiningAndPayment() {
    TempDataDir dir;
    ArgsManager args;
    NodeOptions node_options{.multiprocess = false, .executable_name = "minicoin-qt"};
    AddNodeOptions(args, node_options);
    std::string datadir = dir.arg();
    const char* argv[] = {"minicoin-qt", datadir.c_str(), "-regtest", "-server=0"};
    std::string error;
    QVERIFY2(args.ParseParameters(4, argv, error), error.c_str());
    QVERIFY2(args.CheckDataDir(error), error.c_str());
    Logger log;
    std::unique_ptr<NodeRuntime> runtime = NodeRuntime::Start(args, log, node_options);
    {
      std::vector<std::string> confirmations;
      gui::MainWindowOptions options;
      options.confirm_send = [&](const std::string& summary) {
        confirmations.push_back(summary);
        return true;
      };
      gui::MainWindow window(runtime->MakeNodeInterface(), options);
      window.show();
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "connectionState"), QString("connected (in-process)"), kTimeoutMs);
      QCOMPARE(Text(window, "height"), QString("0"));
      QCOMPARE(Text(window, "tipHash").size(), 64);
      // A fresh node counts as catching up (its tip, genesis, is older than a day) until a recent
      // block arrives; it has no connection.
      QCOMPARE(Text(window, "connections"), QString("0 connections"));
      QTRY_VERIFY_WITH_TIMEOUT(!Child<QProgressBar>(window, "syncProgress")->isHidden(), kTimeoutMs);
      QTRY_VERIFY_WITH_TIMEOUT(Text(window, "walletState").contains("create one"), kTimeoutMs);

      Child<QLineEdit>(window, "walletName")->setText("main");
      Child<QPushButton>(window, "walletCreate")->click();
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "walletState"), QString("using wallet \"main\""), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "confirmedBalance"), QString("0.00000000"), kTimeoutMs);

      // 101 blocks to the wallet; coinbases mature at 100 confirmations: those of heights 1 and 2.
      Child<QSpinBox>(window, "mineBlocks")->setValue(101);
      Child<QPushButton>(window, "mineButton")->click();
      QTRY_VERIFY_WITH_TIMEOUT(Text(window, "mineResult").startsWith("Mined 101 of 101 blocks"), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "height"), QString("101"), kTimeoutMs);
      // Blocks of today: the download is over.
      QTRY_VERIFY_WITH_TIMEOUT(Child<QProgressBar>(window, "syncProgress")->isHidden(), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "confirmedBalance"), QString("100.00000000"), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "immatureBalance"), QString("4950.00000000"), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Child<QTableWidget>(window, "transactions")->rowCount(), 101, kTimeoutMs);
      QCOMPARE(Text(window, "tipHash"), QString::fromStdString(runtime->node().chain().Tip().hash.ToHex()));

      // A payment: the coins spent leave the confirmed balance. The change of the wallet's own
      // payment counts as confirmed at once (Bitcoin Core's "trusted"), so nothing is pending.
      std::string payee = NewAddress();
      Child<QLineEdit>(window, "sendAddress")->setText(QString::fromStdString(payee));
      Child<QLineEdit>(window, "sendAmount")->setText("10");
      Child<QPushButton>(window, "sendButton")->click();
      QCOMPARE(confirmations.size(), std::size_t{1});
      QTRY_VERIFY_WITH_TIMEOUT(Text(window, "sendResult").startsWith("Sent: "), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "mempool"), QString("1 transactions"), kTimeoutMs);
      QTRY_VERIFY_WITH_TIMEOUT(Amount(window, "confirmedBalance") < 90 * kCoin, kTimeoutMs);
      QCOMPARE(Text(window, "pendingBalance"), QString("0.00000000"));
      uint64_t after_send = Amount(window, "confirmedBalance");
      QVERIFY2(after_send > 90 * kCoin - kCoin / 100, qPrintable(QString::number(after_send)));  // the fee is small
      QString txid = Text(window, "sendResult").mid(6);
      QCOMPARE(txid.size(), 64);

      // One more block confirms the change and matures the coinbase of height 3.
      Child<QSpinBox>(window, "mineBlocks")->setValue(1);
      Child<QPushButton>(window, "mineButton")->click();
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "height"), QString("102"), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "pendingBalance"), QString("0.00000000"), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Amount(window, "confirmedBalance"), after_send + 50 * kCoin, kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "mempool"), QString("0 transactions"), kTimeoutMs);
      auto* transactions = Child<QTableWidget>(window, "transactions");
      bool found = false;
      for (int row = 0; row < transactions->rowCount(); ++row) {
        if (transactions->item(row, 5)->text() == txid) {
          found = true;
          QCOMPARE(transactions->item(row, 1)->text(), QString("send"));
          QVERIFY(transactions->item(row, 2)->text().startsWith("-10.0"));
        }
      }
      QVERIFY(found);

      // The console runs RPC methods of the same node.
      Child<QLineEdit>(window, "consoleInput")->setText("getblockcount");
      QTest::keyClick(Child<QLineEdit>(window, "consoleInput"), Qt::Key_Return);
      QTRY_VERIFY_WITH_TIMEOUT(ShowsResult(window, "getblockcount", "102"), kTimeoutMs);

      // The Peers tab reads the node's (empty) peer list when it opens.
      auto* tabs = Child<QTabWidget>(window, "tabs");
      for (int i = 0; i < tabs->count(); ++i) {
        if (tabs->tabText(i) == "Peers") tabs->setCurrentIndex(i);
      }
      QTRY_COMPARE_WITH_TIMEOUT(Text(window, "peerCount"), QString("No peers connected"), kTimeoutMs);
      QCOMPARE(Child<QTableWidget>(window, "peers")->rowCount(), 0);
      QCOMPARE(Text(window, "network"), QString("0 connections, best header at block 102"));

      // The screenshot of docs/gui.md.
      Child<QLineEdit>(window, "address")->setText(QString::fromStdString(NewAddress()));
      Child<QTabWidget>(window, "tabs")->setCurrentIndex(0);
      QByteArray screenshot = qgetenv("MINICOIN_GUI_SCREENSHOT");
      if (!screenshot.isEmpty()) QVERIFY(window.grab().save(QString::fromLocal8Bit(screenshot), "PNG"));
    }
    runtime->Stop();
  }

  void TwoWindowsAttachedToOneNodeSeeANewBlock() {
    TempDataDir dir;
    std::string socket = (dir.chain_path() / "node.sock").string();
    QProcess node;
    node.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    node.start(QString::fromStdString(crossproc::FindExecutable("minicoin-node")),
               {QString::fromStdString(dir.arg()), "-server=0", "-ipcbind=unix", "-debug=ipc"});
    QVERIFY(node.waitForStarted(kTimeoutMs));
    QTRY_VERIFY_WITH_TIMEOUT(std::filesystem::exists(socket), kTimeoutMs);
    {
      AttachedWindow first(socket);
      AttachedWindow second(socket);
      for (AttachedWindow* attached : {&first, &second}) {
        QTRY_VERIFY_WITH_TIMEOUT(Text(*attached->window, "connectionState").startsWith("connected (attached"), kTimeoutMs);
        QCOMPARE(Text(*attached->window, "height"), QString("0"));
      }
      // The first mines one block; both are told.
      Child<QLineEdit>(*first.window, "mineAddress")->setText(QString::fromStdString(NewAddress()));
      Child<QPushButton>(*first.window, "mineButton")->click();
      QTRY_VERIFY_WITH_TIMEOUT(Text(*first.window, "mineResult").startsWith("Mined 1 of 1 blocks"), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(*first.window, "height"), QString("1"), kTimeoutMs);
      QTRY_COMPARE_WITH_TIMEOUT(Text(*second.window, "height"), QString("1"), kTimeoutMs);
      QString tip = Text(*first.window, "tipHash");
      QCOMPARE(Text(*second.window, "tipHash"), tip);
      // The IPC log of the node reaches the console (-debug=ipc).
      QTRY_VERIFY_WITH_TIMEOUT(Child<QPlainTextEdit>(*first.window, "ipcLog")->toPlainText().contains("Node.generateToAddress"),
                               kTimeoutMs);

      // minicoin-gui attaches to the same node, shows its tip, and leaves it running.
      QProcess gui;
      gui.start(QString::fromStdString(crossproc::FindExecutable("minicoin-gui")),
                {QString::fromStdString("-ipcconnect=unix:" + socket), "-testprinttip"});
      QVERIFY(gui.waitForFinished(kTimeoutMs));
      QCOMPARE(gui.exitCode(), 0);
      QVERIFY2(gui.readAllStandardOutput().contains(("tip height=1 hash=" + tip).toUtf8()), "minicoin-gui printed another tip");
      QCOMPARE(node.state(), QProcess::Running);
      Child<QLineEdit>(*second.window, "consoleInput")->setText("getblockcount");
      QTest::keyClick(Child<QLineEdit>(*second.window, "consoleInput"), Qt::Key_Return);
      QTRY_VERIFY_WITH_TIMEOUT(ShowsResult(*second.window, "getblockcount", "1"), kTimeoutMs);

      // The node goes away: the windows say so at their next call and stay usable.
      node.terminate();
      QVERIFY(node.waitForFinished(kTimeoutMs));
      Child<QLineEdit>(*first.window, "consoleInput")->setText("getblockcount");
      QTest::keyClick(Child<QLineEdit>(*first.window, "consoleInput"), Qt::Key_Return);
      QTRY_VERIFY_WITH_TIMEOUT(Text(*first.window, "connectionState").startsWith("disconnected"), kTimeoutMs);
      QVERIFY(!Child<QPushButton>(*first.window, "mineButton")->isEnabled());
    }
  }

  void MinicoinGuiSpawnsItsNodeAndShowsTheTip() {
    TempDataDir dir;
    QProcess gui;
    gui.setProcessChannelMode(QProcess::SeparateChannels);
    gui.start(QString::fromStdString(crossproc::FindExecutable("minicoin-gui")),
              {QString::fromStdString(dir.arg()), "-server=0", "-testprinttip"});
    QVERIFY(gui.waitForFinished(kTimeoutMs));
    QByteArray output = gui.readAllStandardOutput();
    QVERIFY2(gui.exitCode() == 0, gui.readAllStandardError().constData());
    QVERIFY2(output.startsWith("tip height=0 hash="), output.constData());
    QCOMPARE(output.trimmed().size(), qsizetype(std::string("tip height=0 hash=").size() + 64));
    // The spawned node stopped with the GUI.
    QVERIFY(DataDirUnlocked(dir.chain_path()));

    // A node option minicoin-node rejects: a clear error, no window left behind.
    QProcess bad;
    bad.start(QString::fromStdString(crossproc::FindExecutable("minicoin-gui")),
              {QString::fromStdString(dir.arg()), "-nosuchoption", "-testprinttip"});
    QVERIFY(bad.waitForFinished(kTimeoutMs));
    QCOMPARE(bad.exitCode(), 1);
    QVERIFY2(bad.readAllStandardError().contains("nosuchoption"), "the node's error is not shown");
  }
};

QTEST_MAIN(GuiNodeTest)
#include "gui_node_test.moc"
