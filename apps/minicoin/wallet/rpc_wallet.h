// The wallet RPC methods (Bitcoin Core compatible names, arguments and results).
#pragma once

#include "rpc/table.h"
#include "wallet.crossproc.h"
#include "wallet/wallet_directory.h"

#include <crossproc/future.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace crossproc {
class WorkerPool;
}

namespace minicoin {

// Registers createwallet, loadwallet, unloadwallet, listwallets, listwalletdir, getbalance,
// getbalances, getnewaddress, sendtoaddress, listtransactions, listunspent, getwalletinfo,
// encryptwallet, walletpassphrase, walletlock, rescanblockchain, signrawtransactionwithwallet and
// listwalletbalances (category "Wallet") on `table`. `wallets` must outlive the table. A method
// works on the wallet the URI names (/wallet/<name>), else on the only loaded one; WalletError
// becomes RpcError with its code.
void RegisterWalletRpc(RpcTable& table, WalletDirectory& wallets);

// The wallet a wallet method works on: the one `request`'s URI names, else the only loaded
// wallet. Throws RpcError -18 (named wallet not loaded, or none loaded) or -19 (several loaded
// and none named).
std::shared_ptr<ipc::Wallet> WalletForRequest(const RpcRequest& request, WalletDirectory& wallets);

// What one wallet answered when asked for its balances: the balances, or why there are none.
struct WalletBalancesEntry {
  std::string name;
  std::optional<ipc::Balances> balances;  // set when the wallet answered in time
  int error_code = 0;                     // else an RPC error code (kRpcWalletError, kRpcWalletNotFound)
  std::string error;                      // and its message
};

// Asks every loaded wallet of a WalletDirectory for its balances at once and joins the answers
// (a crossproc::TaskGroup in best-effort mode, bounded by a timeout). Each wallet is found and
// asked from a thread of a small worker pool (made on first use): a wallet in another process
// through the asynchronous twin of getBalances, so the calls are in flight together, a wallet in
// this process (minicoind) by a plain call. The pool is there because finding a wallet (an
// attached process's getWallet) and the first call from a thread to a process (which makes that
// thread's server thread there) wait for the process: a hung one holds a pool thread, never the
// caller. A wallet that fails, died or does not answer in time gets an error entry and delays
// nobody past the timeout; one that was asked and did not answer is told its call is canceled.
// Listing the wallets (WalletDirectory::List) is an ordinary blocking call. Thread-safe;
// `wallets` must outlive it. Destroying it waits for the pool's calls still running.
//
//   WalletBalancesFanout fanout(directory);
//   for (const WalletBalancesEntry& entry : fanout.Collect(std::chrono::seconds(5))) ...
class WalletBalancesFanout {
 public:
  explicit WalletBalancesFanout(WalletDirectory& wallets);
  ~WalletBalancesFanout();
  WalletBalancesFanout(const WalletBalancesFanout&) = delete;
  WalletBalancesFanout& operator=(const WalletBalancesFanout&) = delete;

  // One entry per loaded wallet, in the order of WalletDirectory::List. Returns within about
  // `timeout` once the wallets are listed.
  std::vector<WalletBalancesEntry> Collect(std::chrono::milliseconds timeout);

 private:
  // Threads of the pool: hung wallet processes each hold one until their connection closes.
  static constexpr std::size_t kThreads = 8;

  crossproc::WorkerPool& Pool();
  // Finds `name` and asks it for its balances, on the pool; cancelable.
  crossproc::Future<ipc::Balances> Start(const std::string& name);

  WalletDirectory& m_wallets;
  std::mutex m_mutex;
  std::unique_ptr<crossproc::WorkerPool> m_pool;  // guarded by m_mutex; made on first use
};

// How long listwalletbalances waits for the wallets by default.
inline constexpr std::chrono::milliseconds kDefaultWalletBalancesTimeout{5000};

}  // namespace minicoin
