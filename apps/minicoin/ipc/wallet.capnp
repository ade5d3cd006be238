# Wallet and WalletLoader: what a wallet process offers to the node's RPC and to the GUI.
# Amounts are in units (1 coin = 100,000,000 units); txids are 32-byte Data.
@0xe359367496a386c2;

using Cxx = import "/capnp/c++.capnp";
using Cp = import "/crossproc/proxy.capnp";
using Common = import "common.capnp";
$Cxx.namespace("minicoin::ipc::wire");
$Cp.namespace("minicoin::ipc");
$Cp.include("ipc/wallet_error.h");  # minicoin::WalletError, carried by the `error` results

struct Balances {
  confirmed @0 :UInt64;    # spendable: confirmed, mature
  unconfirmed @1 :UInt64;  # in mempool transactions
  immature @2 :UInt64;     # coinbase outputs not yet 100 blocks deep
}

struct WalletTransaction {
  txid @0 :Data;
  category @1 :Text;
  # "send", "receive", "generate" (mature coinbase), "immature" (coinbase not yet mature)
  amount @2 :Int64;         # net effect on the wallet, negative for a send (fee included)
  fee @3 :UInt64;           # paid by the wallet (sends only)
  address @4 :Text;         # the address paid (receive) or paid to (send)
  confirmations @5 :Int32;  # 0 in the mempool, -1 conflicted or abandoned
  blockHash @6 :Data;       # empty when unconfirmed
  blockHeight @7 :UInt32;
  time @8 :Int64;           # when the wallet first saw it (unix seconds)
}

struct WalletInfo {
  name @0 :Text;
  balances @1 :Balances;
  txCount @2 :UInt32;
  addressCount @3 :UInt32;
  encrypted @4 :Bool;
  unlockedUntil @5 :Int64;  # unix seconds; 0 locked (or not encrypted)
  lastScannedHeight @6 :UInt32;
  lastScannedHash @7 :Data;
  keypoolSize @8 :UInt32;  # unused keys derived ahead (addresses available while locked)
}

struct UnspentOutput {
  txid @0 :Data;
  vout @1 :UInt32;
  address @2 :Text;
  amount @3 :UInt64;
  confirmations @4 :Int32;
  spendable @5 :Bool;  # mature and not spent by a wallet transaction in the mempool
}

struct PrevOut {
  # An output a transaction to sign spends, as the caller describes it (signRawTransaction).
  txid @0 :Data;
  vout @1 :UInt32;
  pubkey @2 :Data;  # the 32-byte x-only key the output pays to
}

struct InputError {
  # Why an input of a transaction to sign carries no valid signature.
  index @0 :UInt32;
  message @1 :Text;
}

struct SignedTransaction {
  tx @0 :Data;                  # encoded, with every signature the wallet could make
  complete @1 :Bool;            # every input carries a valid signature
  errors @2 :List(InputError);  # one per input that does not
}

interface BalanceChangedCallback {
  # Called with the new balances after they changed (std::function<void(const Balances&)>).
  destroy @0 (context :Cp.Context) -> ();
  call @1 (context :Cp.Context, balances :Balances) -> ();
}

interface Wallet {
  # One loaded wallet.
  destroy @0 (context :Cp.Context) -> ();
  getName @1 (context :Cp.Context) -> (result :Text);
  getBalances @2 (context :Cp.Context) -> (result :Balances);
  getNewAddress @3 (context :Cp.Context, label :Text) -> (result :Text, error :Text $Cp.exception("minicoin::WalletError"));
  sendToAddress @4 (context :Cp.Context, address :Text, amount :UInt64, feeRate :UInt64)
      -> (result :Data, error :Text $Cp.exception("minicoin::WalletError"));
  # Builds, signs and broadcasts a payment; feeRate 0 uses the node's estimate. Returns the txid.
  listTransactions @5 (context :Cp.Context, count :UInt32, skip :UInt32) -> (result :List(WalletTransaction));
  # Newest first, after skipping `skip`.
  listUnspent @6 (context :Cp.Context) -> (result :List(UnspentOutput));
  getWalletInfo @7 (context :Cp.Context) -> (result :WalletInfo);
  encryptWallet @8 (context :Cp.Context, passphrase :Text) -> (error :Text $Cp.exception("minicoin::WalletError"));
  walletPassphrase @9 (context :Cp.Context, passphrase :Text, timeoutSeconds :UInt32)
      -> (error :Text $Cp.exception("minicoin::WalletError"));
  walletLock @10 (context :Cp.Context) -> (error :Text $Cp.exception("minicoin::WalletError"));
  rescan @11 (context :Cp.Context, startHeight :UInt32) -> (result :UInt32, error :Text $Cp.exception("minicoin::WalletError"));
  # Scans the chain again from `startHeight`; returns the last height scanned.
  handleBalanceChanged @12 (context :Cp.Context,
                            callback :BalanceChangedCallback $Cp.type("std::function<void(const minicoin::ipc::Balances&)>"))
      -> (result :Common.Handler);
  signRawTransaction @13 (context :Cp.Context, tx :Data, prevouts :List(PrevOut))
      -> (result :SignedTransaction, error :Text $Cp.exception("minicoin::WalletError"));
  # Signs the inputs of `tx` (encoded) that spend outputs paying the wallet's keys. The outputs
  # are looked up in `prevouts`, then at the node (coins and mempool). Neither records nor
  # broadcasts the transaction.
}

interface WalletLoader {
  # The wallets of one wallet process (or, in minicoind, of the node's own process). Wallets live
  # in <datadir>/wallets/<name>/.
  destroy @0 (context :Cp.Context) -> ();
  createWallet @1 (context :Cp.Context, name :Text, passphrase :Text)
      -> (result :Wallet, error :Text $Cp.exception("minicoin::WalletError"));
  loadWallet @2 (context :Cp.Context, name :Text) -> (result :Wallet, error :Text $Cp.exception("minicoin::WalletError"));
  unloadWallet @3 (context :Cp.Context, name :Text) -> (error :Text $Cp.exception("minicoin::WalletError"));
  getWallet @4 (context :Cp.Context, name :Text) -> (result :Wallet);
  # The loaded wallet called `name`, or null.
  listWallets @5 (context :Cp.Context) -> (result :List(Text));
  listWalletDir @6 (context :Cp.Context) -> (result :List(Text));
  shutdown @7 (context :Cp.Context) -> ();
  # Unloads every wallet (flushing its database); the process may then exit.
}
