#!/usr/bin/env python3
"""Wallet RPCs through the node (either layout): create/load/unload/list, wallet selection and
its errors (-18, -19), addresses, balances of mined coins as they mature, a payment between two
wallets with its fee, listtransactions and listunspent, encryption (-13 while locked, -14, -15),
rescanblockchain, a reorganisation that un-confirms a payment and orphans a coinbase, a node
with -disablewallet (-32601), -wallet=<name> at start, and a restart keeping keys and balances."""
import decimal
import json
import time
import urllib.parse

import framework
from framework import (COIN, COINBASE_MATURITY, SUBSIDY, JSONRPCError, TestFailure, assert_equal, assert_in,
                       assert_raises_rpc_error, assert_true, wait_until)

NO_WALLET = "No wallet is loaded"
NOT_SPECIFIED = "Wallet file not specified"
NOT_LOADED = "Requested wallet does not exist or is not loaded"


def units(amount):
    """An RPC amount (Decimal) in units, rounded to the nearest unit."""
    return int((decimal.Decimal(amount) * COIN).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def wcall(node, wallet, method, *params):
    """The JSON-RPC call `method` on /wallet/<wallet>: its result, or JSONRPCError."""
    body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}).encode()
    status, data = node.post(body, path="/wallet/" + urllib.parse.quote(wallet, safe=""))
    try:
        reply = json.loads(data, parse_float=decimal.Decimal)
    except ValueError:
        raise TestFailure("%s on /wallet/%s: HTTP %d with a non-JSON body %r" % (method, wallet, status, data[:200]))
    if reply.get("error") is not None:
        raise JSONRPCError(reply["error"].get("code"), reply["error"].get("message"))
    return reply["result"]


def sync_wallets(test, node, timeout=10):
    """Waits until every loaded wallet has processed the node's tip (bounded). Bitcoin Core's
    wallet RPCs wait for the wallet to catch up with the chain (BlockUntilSyncedToCurrentChain);
    a lag seen here is noted once."""
    tip = node.rpc.getbestblockhash()
    for name in node.rpc.listwallets():
        def synced():
            return wcall(node, name, "getwalletinfo")["lastprocessedblock"]["hash"] == tip
        if not synced():
            if not getattr(test, "_lag_noted", False):
                test._lag_noted = True
                test.note("wallet %s had not yet processed the tip when a wallet RPC was called right after the "
                          "block (Bitcoin Core's wallet RPCs wait for it)" % name)
            wait_until(synced, timeout=timeout, message="wallet %s to process the tip %s" % (name, tip))


class W:
    """Calls on one wallet: w.getbalance() -> wcall(node, name, "getbalance")."""

    def __init__(self, node, name):
        self.node = node
        self.name = name

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *params: wcall(self.node, self.name, method, *params)


def balances(w):
    mine = w.getbalances()["mine"]
    return units(mine["trusted"]), units(mine["untrusted_pending"]), units(mine["immature"])


def mature_coinbase_units_at(heights, tip):
    """Units of the coinbases at `heights` with at least 100 confirmations at height `tip`."""
    return sum(SUBSIDY * COIN for h in heights if tip - h + 1 >= COINBASE_MATURITY)


def mature_coinbase_units(node, heights):
    """The same at the node's tip."""
    return mature_coinbase_units_at(heights, node.rpc.getblockcount())


class WalletRpcTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc

        # No wallet yet.
        assert_equal(rpc.listwallets(), [], "listwallets at start")
        assert_equal(rpc.listwalletdir(), {"wallets": []}, "listwalletdir at start")
        for method in ("getbalance", "getnewaddress", "getwalletinfo", "listunspent"):
            assert_raises_rpc_error(-18, NO_WALLET, rpc.__getattr__(method))
        assert_raises_rpc_error(-18, NOT_LOADED, wcall, node, "w1", "getbalance")

        # createwallet / loadwallet errors.
        assert_equal(rpc.createwallet("w1")["name"], "w1", "createwallet w1")
        assert_equal(rpc.listwallets(), ["w1"], "listwallets after createwallet")
        assert_raises_rpc_error(-36, None, rpc.createwallet, "w1")
        assert_raises_rpc_error(-35, "already loaded", rpc.loadwallet, "w1")
        assert_raises_rpc_error(-18, "does not exist", rpc.loadwallet, "missing")
        assert_raises_rpc_error(-18, NOT_LOADED, rpc.unloadwallet, "missing")
        assert_raises_rpc_error(-8, "wallet name", rpc.createwallet, "a/b")
        assert_raises_rpc_error(-8, "wallet name", rpc.createwallet, "")

        # The only loaded wallet answers without a /wallet/ path.
        info = rpc.getwalletinfo()
        assert_equal(info["walletname"], "w1", "getwalletinfo walletname")
        assert_equal((units(info["balance"]), info["txcount"]), (0, 0), "getwalletinfo of a new wallet")
        assert_equal(info["lastprocessedblock"]["height"], 0, "lastprocessedblock height")
        assert_equal(info["lastprocessedblock"]["hash"], rpc.getbestblockhash(), "lastprocessedblock hash")
        assert_true("unlocked_until" not in info, "an unencrypted wallet has no unlocked_until")
        addresses_w1 = [rpc.getnewaddress() for _ in range(3)] + [rpc.getnewaddress("label")]
        assert_equal(len(set(addresses_w1)), 4, "getnewaddress never repeats")

        # A second wallet: now a wallet must be named.
        assert_equal(rpc.createwallet("w2")["name"], "w2", "createwallet w2")
        assert_equal(rpc.listwallets(), ["w1", "w2"], "listwallets")
        assert_equal(sorted(w["name"] for w in rpc.listwalletdir()["wallets"]), ["w1", "w2"], "listwalletdir")
        for method in ("getbalance", "getbalances", "getnewaddress", "getwalletinfo", "listtransactions"):
            assert_raises_rpc_error(-19, NOT_SPECIFIED, rpc.__getattr__(method))
        assert_raises_rpc_error(-18, NOT_LOADED, wcall, node, "w3", "getbalance")
        w1 = W(node, "w1")
        w2 = W(node, "w2")
        assert_equal(w1.getwalletinfo()["walletname"], "w1", "/wallet/w1")
        assert_equal(w2.getwalletinfo()["walletname"], "w2", "/wallet/w2")
        # minicoin-cli -rpcwallet reaches the same path.
        cli = node.cli("-rpcwallet=w2", "getwalletinfo")
        assert_equal(cli.returncode, 0, "minicoin-cli -rpcwallet=w2: %s" % cli.stderr)
        assert_equal(json.loads(cli.stdout)["walletname"], "w2", "minicoin-cli -rpcwallet=w2")
        cli = node.cli("getbalance")
        assert_equal(cli.returncode, 1, "minicoin-cli getbalance with two wallets")
        assert_in("-19", cli.stderr, "minicoin-cli getbalance with two wallets")

        # Mine 101 blocks to w1: coinbases mature at 100 confirmations (docs/wallet.md; Bitcoin
        # Core's wallet waits one block more).
        mine_address = w1.getnewaddress()
        assert_true(mine_address not in addresses_w1, "a new address")
        addresses_w1.append(mine_address)
        hashes = rpc.generatetoaddress(COINBASE_MATURITY + 1, mine_address)
        sync_wallets(self, node)
        w1_coinbase_heights = list(range(1, COINBASE_MATURITY + 2))
        assert_equal(w1.getwalletinfo()["lastprocessedblock"]["height"], COINBASE_MATURITY + 1,
                     "w1 followed the chain")
        assert_equal(balances(w1), (2 * SUBSIDY * COIN, 0, (COINBASE_MATURITY - 1) * SUBSIDY * COIN),
                     "w1 balances after 101 blocks")
        assert_equal(units(w1.getbalance()), 2 * SUBSIDY * COIN, "w1 getbalance")
        assert_equal(balances(w2), (0, 0, 0), "w2 balances")
        unspent = w1.listunspent()
        assert_equal(len(unspent), 2, "w1 listunspent: the two mature coinbases")
        assert_equal(sorted(u["confirmations"] for u in unspent), [COINBASE_MATURITY, COINBASE_MATURITY + 1],
                     "listunspent confirmations")
        for u in unspent:
            assert_equal((units(u["amount"]), u["address"], u["spendable"]), (SUBSIDY * COIN, mine_address, True),
                         "listunspent entry")
        listed = w1.listtransactions("*", 1000)
        assert_equal(len(listed), COINBASE_MATURITY + 1, "w1 listtransactions: every coinbase")
        assert_equal(sorted(t["txid"] for t in listed), sorted(rpc.getblock(h)["tx"][0] for h in hashes),
                     "listtransactions txids")
        categories = [t["category"] for t in listed if t["confirmations"] >= COINBASE_MATURITY]
        assert_equal(categories, ["generate", "generate"], "mature coinbases are 'generate'")
        assert_equal(sum(1 for t in listed if t["category"] == "immature"), COINBASE_MATURITY - 1, "immature entries")
        assert_equal(len(w1.listtransactions("*", 3)), 3, "listtransactions count")
        assert_equal(w1.listtransactions("*", 2, 1), listed[-3:-1], "listtransactions skip")
        assert_equal(w1.getwalletinfo()["txcount"], COINBASE_MATURITY + 1, "getwalletinfo txcount")

        # Send errors.
        to_w2 = w2.getnewaddress()
        assert_raises_rpc_error(-5, "Invalid address", w1.sendtoaddress, "mcrt1notanaddress", 1)
        assert_raises_rpc_error(-5, "Invalid address", w1.sendtoaddress, "", 1)
        assert_raises_rpc_error(-6, "Insufficient funds", w1.sendtoaddress, to_w2, 2 * SUBSIDY + 1)
        assert_raises_rpc_error(-6, "Insufficient funds", w2.sendtoaddress, mine_address, 1)
        assert_raises_rpc_error(None, None, w1.sendtoaddress, to_w2, 0)
        assert_raises_rpc_error(None, None, w1.sendtoaddress, to_w2, -1)
        assert_equal(rpc.getrawmempool(), [], "no failed send reached the mempool")
        assert_equal(balances(w1)[0], 2 * SUBSIDY * COIN, "failed sends change nothing")

        # w1 pays 10 to w2 at 5 units a byte: fee = 5 * size.
        txid = w1.sendtoaddress(to_w2, 10, "", "", False, None, None, None, None, 5)
        assert_equal(rpc.getrawmempool(), [txid], "the payment is in the mempool")
        size = len(rpc.getrawtransaction(txid)) // 2
        fee = 5 * size
        entry = rpc.getrawmempool(True)[txid]
        assert_equal(units(entry["fee"] if "fee" in entry else entry["fees"]["base"]), fee, "mempool fee = 5 * size")
        sent = 10 * COIN
        assert_equal(balances(w1), (2 * SUBSIDY * COIN - sent - fee, 0, (COINBASE_MATURITY - 1) * SUBSIDY * COIN),
                     "w1 balances after the send (its change is trusted)")
        assert_equal(balances(w2), (0, sent, 0), "w2: the payment is untrusted_pending")
        assert_equal(w2.listunspent(), [], "listunspent default minconf=1 skips the unconfirmed payment")
        pending = w2.listunspent(0)
        assert_equal([(p["txid"], p["vout"], units(p["amount"]), p["confirmations"], p["address"]) for p in pending],
                     [(txid, 0, sent, 0, to_w2)], "w2 listunspent minconf=0")
        send_entry = w1.listtransactions("*", 1)[0]
        assert_equal((send_entry["txid"], send_entry["category"], send_entry["confirmations"]), (txid, "send", 0),
                     "w1's send entry")
        assert_equal(units(send_entry["fee"]), -fee, "send entry fee")
        # One entry per transaction: its net effect (docs/wallet.md), amount sent plus fee.
        assert_equal(units(send_entry["amount"]), -(sent + fee), "send entry amount (net)")
        assert_equal(send_entry["address"], to_w2, "send entry address")
        receive = w2.listtransactions()
        assert_equal([(t["txid"], t["category"], units(t["amount"]), t["confirmations"]) for t in receive],
                     [(txid, "receive", sent, 0)], "w2's receive entry")

        # Mining (to nobody's wallet) confirms it; one more w1 coinbase matures.
        outsider = self.genkey()
        (block,) = rpc.generatetoaddress(1, outsider["address"])
        sync_wallets(self, node)
        assert_equal(rpc.getblock(block)["tx"][1:], [txid], "the block confirms the payment")
        w1_trusted = mature_coinbase_units(node, w1_coinbase_heights) - sent - fee
        assert_equal(balances(w1), (w1_trusted, 0, (COINBASE_MATURITY - 2) * SUBSIDY * COIN), "w1 after mining")
        assert_equal(balances(w2), (sent, 0, 0), "w2 after mining")
        assert_equal(units(w2.getbalance()), sent, "w2 getbalance")
        assert_equal(w2.listtransactions()[0]["confirmations"], 1, "w2's payment confirmations")
        assert_equal(w2.listtransactions()[0]["blockhash"], block, "w2's payment blockhash")
        assert_equal([(u["txid"], u["confirmations"]) for u in w2.listunspent()], [(txid, 1)], "w2 listunspent")
        assert_equal(sum(units(u["amount"]) for u in w1.listunspent()), w1_trusted, "w1 listunspent total")

        # w2 pays back part of it with the default fee rate (at least one unit a byte).
        back = w2.sendtoaddress(w1.getnewaddress(), "3.5")
        back_fee = -units(w2.listtransactions("*", 1)[0]["fee"])
        assert_true(back_fee >= len(rpc.getrawtransaction(back)) // 2, "default fee is at least one unit a byte")
        assert_equal(balances(w2)[0], sent - 350_000_000 - back_fee, "w2 trusted: its change")
        assert_equal(balances(w1)[1], 350_000_000, "w1: w2's payment is untrusted_pending")
        rpc.generatetoaddress(1, outsider["address"])
        sync_wallets(self, node)
        w1_trusted = mature_coinbase_units(node, w1_coinbase_heights) - sent - fee + 350_000_000
        w2_trusted = sent - 350_000_000 - back_fee
        assert_equal(balances(w1)[:2], (w1_trusted, 0), "w1 after the payment back")
        assert_equal(balances(w2), (w2_trusted, 0, 0), "w2 after the payment back")

        # rescanblockchain: finds nothing new, changes nothing.
        before = (balances(w1), w1.getwalletinfo()["txcount"])
        tip = rpc.getblockcount()
        assert_equal(w1.rescanblockchain(), {"start_height": 0, "stop_height": tip}, "rescanblockchain")
        assert_equal(w1.rescanblockchain(tip - 1), {"start_height": tip - 1, "stop_height": tip}, "rescan from tip-1")
        assert_equal((balances(w1), w1.getwalletinfo()["txcount"]), before, "a rescan changes nothing")
        assert_raises_rpc_error(-8, "start_height", w1.rescanblockchain, tip + 1)
        assert_raises_rpc_error(-8, "start_height", w1.rescanblockchain, -1)

        # A payment to a wallet that is unloaded is found when it is loaded again.
        w2_address = w2.getnewaddress()
        assert_equal(rpc.unloadwallet("w2"), {"warning": ""}, "unloadwallet w2")
        assert_equal(rpc.listwallets(), ["w1"], "listwallets after unload")
        assert_equal(sorted(w["name"] for w in rpc.listwalletdir()["wallets"]), ["w1", "w2"], "listwalletdir keeps w2")
        assert_raises_rpc_error(-18, NOT_LOADED, w2.getbalance)
        assert_raises_rpc_error(-18, NOT_LOADED, rpc.unloadwallet, "w2")
        late = w1.sendtoaddress(w2_address, 1)
        rpc.generatetoaddress(1, outsider["address"])
        sync_wallets(self, node)
        w1_trusted = mature_coinbase_units(node, w1_coinbase_heights) - sent - fee + 350_000_000 - COIN \
            + units(w1.listtransactions("*", 1)[0]["fee"])
        assert_equal(balances(w1)[0], w1_trusted, "w1 after paying the unloaded w2")
        assert_equal(rpc.loadwallet("w2")["name"], "w2", "loadwallet w2")
        assert_equal(balances(w2), (w2_trusted + COIN, 0, 0), "w2 caught up at load")
        assert_in(late, [t["txid"] for t in w2.listtransactions()], "w2 lists the payment it missed")
        w2_trusted += COIN

        # Encryption of w2: sends fail with -13 while locked.
        assert_raises_rpc_error(-15, None, w2.walletpassphrase, "pw", 10)
        assert_raises_rpc_error(-15, None, w2.walletlock)
        assert_true(isinstance(w2.encryptwallet("secret phrase"), str), "encryptwallet answers a text")
        assert_raises_rpc_error(-15, None, w2.encryptwallet, "other")
        assert_equal(w2.getwalletinfo()["unlocked_until"], 0, "locked after encryptwallet")
        assert_equal(balances(w2)[0], w2_trusted, "balance unchanged by encryption")
        assert_raises_rpc_error(-13, "passphrase", w2.sendtoaddress, mine_address, 1)
        assert_raises_rpc_error(-14, "incorrect", w2.walletpassphrase, "wrong phrase", 60)
        assert_raises_rpc_error(-13, "passphrase", w2.sendtoaddress, mine_address, 1)
        locked_address = w2.getnewaddress()  # from the lookahead: works while locked
        assert_equal(w2.walletpassphrase("secret phrase", 60), None, "walletpassphrase")
        until = w2.getwalletinfo()["unlocked_until"]
        assert_true(abs(until - (time.time() + 60)) < 30, "unlocked_until about now + 60: %r" % until)
        unlocked_send = w2.sendtoaddress(mine_address, 1)
        assert_in(unlocked_send, rpc.getrawmempool(), "a send while unlocked")
        assert_equal(w2.walletlock(), None, "walletlock")
        assert_equal(w2.getwalletinfo()["unlocked_until"], 0, "locked after walletlock")
        assert_raises_rpc_error(-13, "passphrase", w2.sendtoaddress, mine_address, 1)
        # A short unlock runs out.
        w2.walletpassphrase("secret phrase", 1)
        framework.wait_until(lambda: w2.getwalletinfo()["unlocked_until"] < time.time(), timeout=5,
                             message="the 1 second unlock to end")
        time.sleep(0.2)
        assert_raises_rpc_error(-13, "passphrase", w2.sendtoaddress, mine_address, 1)
        rpc.generatetoaddress(1, outsider["address"])
        sync_wallets(self, node)
        w2_fee = -units([t for t in w2.listtransactions() if t["txid"] == unlocked_send][0]["fee"])
        w2_trusted -= COIN + w2_fee
        assert_equal(balances(w2)[0], w2_trusted, "w2 after its send")
        assert_true(locked_address not in [w2.getnewaddress() for _ in range(5)], "no address handed out twice")

        # A second node with -disablewallet: no wallet RPCs; it shares the chain.
        other = self.add_node(["-disablewallet"])
        for method, params in (("createwallet", ["x"]), ("listwallets", []), ("getbalance", []),
                               ("loadwallet", ["w1"]), ("getnewaddress", [])):
            assert_raises_rpc_error(-32601, None, other.call, method, *params)
        assert_equal(other.rpc.getblockcount(), 0, "the -disablewallet node answers")
        for h in range(1, rpc.getblockcount() + 1):
            assert_equal(other.rpc.submitblock(rpc.getblock(rpc.getblockhash(h), 0)), None, "copying block %d" % h)
        assert_equal(other.rpc.getbestblockhash(), rpc.getbestblockhash(), "same chain")

        # Reorg: w1 pays w2, the node mines the payment in a block paying w1; the other node mines
        # a longer chain without them; the payment goes back to the mempool, the coinbase is orphaned.
        w1_before, w2_before = balances(w1), balances(w2)
        fork_tip = rpc.getblockcount()
        pay = w1.sendtoaddress(w2.getnewaddress(), 2)
        pay_fee = -units(w1.listtransactions("*", 1)[0]["fee"])
        (stale,) = rpc.generatetoaddress(1, mine_address)
        sync_wallets(self, node)
        stale_coinbase = rpc.getblock(stale)["tx"][0]
        assert_equal(rpc.getblock(stale)["tx"][1:], [pay], "the payment is confirmed")
        assert_equal([t["confirmations"] for t in w2.listtransactions() if t["txid"] == pay], [1], "confirmed once")
        assert_equal(balances(w2)[0], w2_before[0] + 2 * COIN, "w2 counts the confirmed payment")
        w1_coinbase_heights.append(rpc.getblockcount())
        rival = other.rpc.generatetoaddress(2, outsider["address"])
        for h in rival:
            other_block = other.rpc.getblock(h, 0)
            result = rpc.submitblock(other_block)
            assert_true(result in (None, "inconclusive"), "submitblock of the rival chain: %r" % result)
        assert_equal(rpc.getbestblockhash(), rival[-1], "the node switched to the longer chain")
        framework.wait_until(lambda: w2.getwalletinfo()["lastprocessedblock"]["hash"] == rival[-1], timeout=10,
                             message="w2 to follow the reorganisation")
        framework.wait_until(lambda: w1.getwalletinfo()["lastprocessedblock"]["hash"] == rival[-1], timeout=10,
                             message="w1 to follow the reorganisation")
        assert_equal(rpc.getrawmempool(), [pay], "the payment is back in the mempool")
        assert_equal([t["confirmations"] for t in w2.listtransactions() if t["txid"] == pay], [0],
                     "w2: the payment is unconfirmed again")
        assert_equal([t["confirmations"] for t in w1.listtransactions("*", 100) if t["txid"] == pay], [0],
                     "w1: the payment is unconfirmed again")
        orphan = [t for t in w1.listtransactions("*", 1000) if t["txid"] == stale_coinbase]
        assert_equal([(t["category"], t["confirmations"]) for t in orphan], [("orphan", -1)],
                     "the stale block's coinbase is orphaned")
        w1_coinbase_heights.pop()
        assert_equal(balances(w2), (w2_before[0], 2 * COIN, 0), "w2: the payment is pending again")
        # w1: its change (in the mempool) stays trusted; two more of its coinbases matured.
        matured = (mature_coinbase_units_at(w1_coinbase_heights, fork_tip + 2)
                   - mature_coinbase_units_at(w1_coinbase_heights, fork_tip))
        assert_equal(balances(w1)[0], w1_before[0] - 2 * COIN - pay_fee + matured, "w1 trusted after the reorg")
        # Mined again: confirmed again.
        rpc.generatetoaddress(1, outsider["address"])
        sync_wallets(self, node)
        assert_equal([t["confirmations"] for t in w2.listtransactions() if t["txid"] == pay], [1], "confirmed again")
        assert_equal(balances(w2), (w2_before[0] + 2 * COIN, 0, 0), "w2 after the payment is mined again")
        w1_final = balances(w1)
        w2_final = balances(w2)

        # Restart with -wallet: w1 loaded, w5 created; w2 (not named) is not loaded.
        node.stop()
        node.start(["-wallet=w1", "-wallet=w5"])
        assert_equal(rpc.listwallets(), ["w1", "w5"], "listwallets after a restart with -wallet")
        assert_equal(balances(w1), w1_final, "w1 balances kept across the restart")
        assert_equal(balances(W(node, "w5")), (0, 0, 0), "w5 created at start")
        assert_equal(sorted(w["name"] for w in rpc.listwalletdir()["wallets"]), ["w1", "w2", "w5"], "listwalletdir")
        assert_equal(rpc.loadwallet("w2")["name"], "w2", "loadwallet w2 after the restart")
        assert_equal(balances(w2), w2_final, "w2 balances kept across the restart")
        assert_equal(w2.getwalletinfo()["unlocked_until"], 0, "w2 is still encrypted and locked")
        assert_raises_rpc_error(-13, "passphrase", w2.sendtoaddress, mine_address, 1)
        fresh = w1.getnewaddress()
        assert_true(fresh not in addresses_w1, "no key reused after the restart")
        # Still able to spend after the restart.
        w1.sendtoaddress(fresh, 1)
        rpc.generatetoaddress(1, outsider["address"])
        sync_wallets(self, node)
        assert_equal(rpc.getrawmempool(), [], "the send after the restart was mined")
        node.stop()
        other.stop()


if __name__ == "__main__":
    framework.main(WalletRpcTest)
