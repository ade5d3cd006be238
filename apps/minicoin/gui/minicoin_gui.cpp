// minicoin-gui: the minicoin GUI in a process of its own. It spawns `minicoin-node -ipcfd N` with
// the node options it was given and shows that node (closing the window stops it), or, with
// -ipcconnect, attaches to a minicoin-node listening on -ipcbind (closing leaves it running).
#include "common/args.h"
#include "gui/main_window.h"
#include "init.crossproc.h"

#include <crossproc/connection.h>
#include <crossproc/errors.h>
#include <crossproc/listener.h>
#include <crossproc/process.h>

#include "gui/gui_util.h"

#include <QApplication>
#include <QPointer>

#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* kUsage =
    "minicoin-gui (minicoin 0.1.0): the minicoin GUI, with its node in another process.\n"
    "\n"
    "Usage:\n"
    "  minicoin-gui [node options]      start minicoin-node -ipcfd <N> [node options] and show it;\n"
    "                                   closing the window stops that node\n"
    "  minicoin-gui -ipcconnect=unix[:<path>] [-datadir=<dir>] [-regtest|-testnet|-chain=<chain>]\n"
    "                                   attach to a running minicoin-node -ipcbind=unix[:<path>]\n"
    "                                   (default path node.sock in the chain's data directory);\n"
    "                                   closing the window leaves the node running\n"
    "\n"
    "Options:\n"
    "  -help, -h, -?                    print this help and exit\n"
    "  -version                         print the version and exit\n"
    "  -ipcconnect=<address>            attach instead of spawning (see above)\n"
    "  every other option               passed to minicoin-node (see minicoin-node -help)\n";

struct GuiOptions {
  std::string ipcconnect;                  // empty: spawn
  std::string datadir;                     // -datadir, if given
  std::vector<std::string> node_options;   // forwarded to the spawned node
  bool print_tip = false;                  // -testprinttip
};

bool StartsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// Options start with one or two dashes; "-x=v" and "-x v" are not told apart by the node either,
// so values always come with '='.
std::string Normalized(const std::string& arg) { return StartsWith(arg, "--") ? arg.substr(1) : arg; }

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  minicoin::gui::AllowInfoOptionsWithoutDisplay(argc, argv);  // before QApplication
  QApplication app(argc, argv);  // takes Qt's own options (-platform, ...) out of argv
  QApplication::setApplicationName("minicoin-gui");

  GuiOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = Normalized(argv[i]);
    if (arg == "-help" || arg == "-h" || arg == "-?") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "-version") {
      std::cout << "minicoin-gui (minicoin 0.1.0)\n";
      return 0;
    }
    if (arg.empty() || arg[0] != '-') {
      std::cerr << "Error: Command line contains unexpected token '" << arg << "', see minicoin-gui -h for a list of options.\n";
      return 1;
    }
    if (arg == "-testprinttip") {
      // Hidden, for the tests: print the first tip shown and close.
      options.print_tip = true;
      continue;
    }
    if (StartsWith(arg, "-ipcconnect=")) {
      options.ipcconnect = arg.substr(std::string("-ipcconnect=").size());
      continue;
    }
    if (arg == "-ipcconnect") {
      std::cerr << "Error: -ipcconnect needs an address: unix or unix:<path>\n";
      return 1;
    }
    if (StartsWith(arg, "-ipcfd")) {
      std::cerr << "Error: minicoin-gui is not started with -ipcfd; it starts minicoin-node itself\n";
      return 1;
    }
    if (StartsWith(arg, "-datadir=")) options.datadir = arg.substr(std::string("-datadir=").size());
    options.node_options.push_back(arg);
  }

  crossproc::ConnectionOptions connection_options;
  connection_options.name = "minicoin-gui";
  std::unique_ptr<crossproc::Spawned<minicoin::ipc::Init>> spawned;
  std::unique_ptr<crossproc::Connection> attached;
  std::unique_ptr<minicoin::ipc::InitClient> attached_init;
  crossproc::Connection* connection = nullptr;
  std::unique_ptr<minicoin::ipc::Node> node;
  minicoin::gui::MainWindowOptions window_options;
  try {
    if (!options.ipcconnect.empty()) {
      // Only the options that say where the node's socket is.
      minicoin::ArgsManager args;
      for (const std::string& option : options.node_options) {
        if (!StartsWith(option, "-datadir=") && !StartsWith(option, "-chain=") && option != "-regtest" &&
            option != "-testnet") {
          std::cerr << "Error: " << option << " is a node option; with -ipcconnect the node is already running\n";
          return 1;
        }
      }
      std::vector<const char*> location{"minicoin-gui"};
      for (const std::string& option : options.node_options) location.push_back(option.c_str());
      std::string error;
      if (!args.ParseParameters(static_cast<int>(location.size()), location.data(), error) ||
          !args.GetChainType(error)) {
        std::cerr << "Error: " << error << "\n";
        return 1;
      }
      std::string path = crossproc::ResolveUnixAddress(options.ipcconnect, (args.GetDataDirPath() / "node.sock").string());
      attached = crossproc::ConnectUnix(path, connection_options);
      attached_init = attached->Bootstrap<minicoin::ipc::Init>();
      node = attached_init->makeNode();
      connection = attached.get();
      window_options.connection_description = "attached to unix:" + path;
    } else {
      crossproc::SpawnOptions spawn;
      spawn.connection = connection_options;
      std::vector<std::string> forwarded = options.node_options;
      spawn.command_line = [forwarded](const std::string& executable, int fd) {
        std::vector<std::string> command{executable, "-ipcfd", std::to_string(fd)};
        command.insert(command.end(), forwarded.begin(), forwarded.end());
        return command;
      };
      spawned = std::make_unique<crossproc::Spawned<minicoin::ipc::Init>>(
          crossproc::SpawnProcess<minicoin::ipc::Init>(crossproc::FindExecutable("minicoin-node"), spawn));
      node = spawned->init->makeNode();
      connection = spawned->connection.get();
      window_options.connection_description = "spawned minicoin-node, pid " + std::to_string(spawned->process->pid());
    }
  } catch (const std::exception& e) {
    std::cerr << "Error: cannot reach the node: " << e.what() << "\n";
    return 1;
  }

  bool spawned_node = spawned != nullptr;
  if (options.print_tip) {
    window_options.on_tip_shown = [](const minicoin::ipc::BlockRef& tip) {
      std::cout << "tip height=" << tip.height << " hash=" << minicoin::gui::HashToHex(tip.hash) << std::endl;
      QMetaObject::invokeMethod(qApp, [] { QApplication::closeAllWindows(); }, Qt::QueuedConnection);
    };
  }
  auto window = std::make_unique<minicoin::gui::MainWindow>(std::move(node), window_options);
  window->setWindowTitle(spawned_node ? "minicoin-gui" : "minicoin-gui (attached)");
  window->show();

  // A node that goes away: a spawned one (stopped by the stop RPC, or died) ends the GUI; an
  // attached one shows as disconnected and the window stays.
  QPointer<minicoin::gui::MainWindow> shown = window.get();
  std::thread watcher([connection, &app, shown, spawned_node] {
    connection->WaitForDisconnect();
    QMetaObject::invokeMethod(
        &app,
        [shown, spawned_node] {
          if (!shown) return;
          shown->NotifyDisconnected("the node closed the connection");
          if (spawned_node) shown->close();
        },
        Qt::QueuedConnection);
  });

  int code = app.exec();
  window.reset();  // releases the node and its registrations
  attached_init.reset();
  if (spawned) spawned->init.reset();
  connection->Close();  // a spawned node shuts down when its connection closes
  watcher.join();
  spawned.reset();  // reaps the node (killed if it has not exited after 5 seconds)
  attached.reset();
  return code;
}
