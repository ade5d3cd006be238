// minicoin-qt: the minicoin node and its GUI in one process. Takes minicoind's options and config
// file; closing the window stops the node, and stopping the node (the stop RPC, SIGINT, SIGTERM)
// closes the window.
#include "common/args.h"
#include "common/logging.h"
#include "gui/main_window.h"
#include "node/node.h"

#include "gui/gui_util.h"

#include <QApplication>
#include <QPointer>

#include <signal.h>

#include <iostream>
#include <memory>
#include <string>
#include <thread>

namespace {

constexpr const char* kVersion = "minicoin 0.1.0";

}  // namespace

int main(int argc, char** argv) {
  // Before any thread starts, so that every thread inherits the mask; a thread of ours takes them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  minicoin::gui::AllowInfoOptionsWithoutDisplay(argc, argv);  // before QApplication
  QApplication app(argc, argv);  // takes Qt's own options (-platform, ...) out of argv
  QApplication::setApplicationName("minicoin-qt");

  const minicoin::NodeOptions node_options{.multiprocess = false, .executable_name = "minicoin-qt"};
  minicoin::ArgsManager args;
  minicoin::AddNodeOptions(args, node_options);
  std::string error;
  if (!args.ParseParameters(argc, argv, error)) {
    std::cerr << "Error: " << error << "\n";
    return 1;
  }
  if (args.IsArgSet("-help") || args.IsArgSet("-?") || args.IsArgSet("-h")) {
    std::cout << kVersion << "\n\nUsage: minicoin-qt [options]\n\nThe minicoin node with its GUI in one process.\n\n"
              << args.GetHelpMessage();
    return 0;
  }
  if (args.IsArgSet("-version")) {
    std::cout << kVersion << "\n";
    return 0;
  }
  if (!args.GetPositional().empty()) {
    std::cerr << "Error: Command line contains unexpected token '" << args.GetPositional()[0]
              << "', see minicoin-qt -h for a list of options.\n";
    return 1;
  }
  minicoin::Logger log;
  std::unique_ptr<minicoin::NodeRuntime> runtime;
  try {
    if (!args.InitDataDirAndConfig(error) || !minicoin::ConfigureLogger(log, args, error)) {
      std::cerr << "Error: " << error << "\n";
      return 1;
    }
    runtime = minicoin::NodeRuntime::Start(args, log, node_options);
  } catch (const std::exception& e) {
    log.Error("%s", e.what());
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
  minicoin::Node& node = runtime->node();

  std::thread signals([&node, &set] {
    timespec wait{0, 200'000'000};
    while (!node.ShutdownRequested()) {
      int signal = sigtimedwait(&set, nullptr, &wait);
      if (signal == SIGINT || signal == SIGTERM) node.RequestShutdown();
    }
  });

  minicoin::gui::MainWindowOptions window_options;
  window_options.connection_description = "in-process node";
  auto window = std::make_unique<minicoin::gui::MainWindow>(runtime->MakeNodeInterface(), window_options);
  window->setWindowTitle("minicoin-qt");
  window->show();

  // The stop RPC or a signal: close the window, which ends the event loop.
  std::thread watcher([&node, &app, shown = QPointer<minicoin::gui::MainWindow>(window.get())] {
    node.WaitForShutdown();
    QMetaObject::invokeMethod(
        &app, [shown] { if (shown) shown->close(); }, Qt::QueuedConnection);
  });

  int code = app.exec();
  window.reset();  // releases the node interface and its registrations
  node.RequestShutdown();
  watcher.join();
  signals.join();
  log.Info("Shutdown: in progress...");
  runtime->Stop();
  runtime.reset();
  log.Info("Shutdown: done");
  return code;
}
