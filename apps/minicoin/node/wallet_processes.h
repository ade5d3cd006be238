// WalletProcesses: minicoin-node's wallets, each in a minicoin-wallet process of its own, plus
// the wallet processes that attached themselves over -ipcbind.
#pragma once

#include "init.crossproc.h"
#include "wallet/wallet_directory.h"

#include <crossproc/process.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace minicoin {

class ArgsManager;
class Logger;
class Node;

// Registers minicoin-node's options for the wallet processes it spawns: -walletrpcport,
// -walletrpcbind (each wallet process serves its wallet's RPC), -walletsandbox, and the hidden
// -testwalletarg=<argument> (passed on as is). Called by AddNodeOptions.
void AddWalletProcessOptions(ArgsManager& args);

// Spawns one minicoin-wallet per loaded wallet (`minicoin-wallet -ipcfd N -datadir=<datadir>
// -wallet=<name>`, plus -server -rpcport/-rpcbind with -walletrpcport/-walletrpcbind, -sandbox
// with -walletsandbox), hands it the node's Chain, and reaches its wallet through crossproc. A wallet process that
// dies is logged at once; its wallet's RPCs then fail with a clear error until it is loaded
// again, and no other wallet is affected. Wallet processes started on their own register their
// loader (Attach); their wallets are listed and reached the same way. Thread-safe.
class WalletProcesses final : public WalletDirectory {
 public:
  // Throws std::runtime_error for a bad -walletrpcport.
  WalletProcesses(Node& node, std::filesystem::path datadir);
  ~WalletProcesses() override;  // Shutdown(5 s) if not done
  WalletProcesses(const WalletProcesses&) = delete;
  WalletProcesses& operator=(const WalletProcesses&) = delete;

  std::shared_ptr<ipc::Wallet> Create(const std::string& name, const std::string& passphrase) override;
  std::shared_ptr<ipc::Wallet> Load(const std::string& name) override;
  void Unload(const std::string& name) override;
  std::shared_ptr<ipc::Wallet> Get(const std::string& name) override;
  std::vector<std::string> List() override;
  std::vector<std::string> ListDir() override;

  // Serves the wallets of an attached wallet process until the handler is destroyed (the
  // process detached or its connection closed).
  std::unique_ptr<ipc::Handler> Attach(std::shared_ptr<ipc::WalletLoader> loader);

  // Unloads every wallet at once (in parallel) and ends the wallet processes, waiting at most
  // `timeout` for answers: a wallet that does not answer by then is cut off. Idempotent.
  void Shutdown(std::chrono::milliseconds timeout);

  // The process ID of the wallet process serving `name` (spawned ones only); 0 if none.
  int ProcessId(const std::string& name);

 private:
  struct Spawned;
  struct Attached;
  struct AttachedSet;
  class AttachHandler;

  using OpenFn = std::function<std::unique_ptr<ipc::Wallet>(ipc::WalletLoader& loader)>;

  std::unique_ptr<Spawned> Spawn(const std::string& name);
  // Marks `name` as being loaded; throws WalletError(`already_code`) if it is or is being.
  void Reserve(const std::string& name, int already_code);
  // Spawns a wallet process for the reserved `name`, opens the wallet in it with `open`, and
  // serves it; on failure the reservation is dropped and the error rethrown.
  std::shared_ptr<ipc::Wallet> Open(const std::string& name, const OpenFn& open);
  void Watch(Spawned& spawned);
  std::vector<std::shared_ptr<Attached>> AttachedLoaders();
  void DropAttached(const std::shared_ptr<Attached>& attached, const std::string& why);

  Node& m_node;
  Logger& m_log;
  std::filesystem::path m_datadir;
  bool m_wallet_rpc = false;                // the wallet processes serve RPC (-walletrpcport/-walletrpcbind)
  std::vector<std::string> m_process_args;  // for every wallet process, from the node's options (sets m_wallet_rpc)
  std::shared_ptr<ipc::Chain> m_chain;  // shared with every wallet process it is handed to

  std::mutex m_mutex;
  std::map<std::string, std::unique_ptr<Spawned>> m_spawned;   // guarded by m_mutex; by wallet name
  std::map<std::string, std::string> m_crashed;                // guarded by m_mutex; name -> what happened
  std::set<std::string> m_pending;                              // guarded by m_mutex; being loaded
  // Shared with the handlers given to attached processes, which may outlive this object.
  std::shared_ptr<AttachedSet> m_attached;
  bool m_shut_down = false;                                     // guarded by m_mutex
};

}  // namespace minicoin
