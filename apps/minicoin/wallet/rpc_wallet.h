// The wallet RPC methods (Bitcoin Core compatible names, arguments and results).
#pragma once

#include "rpc/table.h"
#include "wallet.crossproc.h"
#include "wallet/wallet_directory.h"

#include <memory>

namespace minicoin {

// Registers createwallet, loadwallet, unloadwallet, listwallets, listwalletdir, getbalance,
// getbalances, getnewaddress, sendtoaddress, listtransactions, listunspent, getwalletinfo,
// encryptwallet, walletpassphrase, walletlock and rescanblockchain (category "Wallet") on
// `table`. `wallets` must outlive the table. A method works on the wallet the URI names
// (/wallet/<name>), else on the only loaded one; WalletError becomes RpcError with its code.
void RegisterWalletRpc(RpcTable& table, WalletDirectory& wallets);

// The wallet a wallet method works on: the one `request`'s URI names, else the only loaded
// wallet. Throws RpcError -18 (named wallet not loaded, or none loaded) or -19 (several loaded
// and none named).
std::shared_ptr<ipc::Wallet> WalletForRequest(const RpcRequest& request, WalletDirectory& wallets);

}  // namespace minicoin
