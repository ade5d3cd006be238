#!/usr/bin/env python3
"""minicoin-node's wallet processes (minicoin-node only): -wallet=<name> runs each wallet in a
minicoin-wallet child of its own; SIGKILL of one leaves the node and the other wallets running,
its RPCs fail clearly until loadwallet, and its coins are intact; SIGKILL in the middle of a burst
of sends loses no coin and reuses no key; wallet processes started on their own with
-ipcconnect attach to a node started with -ipcbind=unix, serve their wallets through the node's
RPC, and detach on SIGTERM."""
import decimal
import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse

import framework
from framework import (COIN, COINBASE_MATURITY, SUBSIDY, JSONRPCError, TestFailure, assert_equal, assert_in,
                       assert_raises_rpc_error, assert_true, subsidy, wait_until)

# Needs what only the multi-process layout has (wallet processes, -ipcbind).
BINARIES = ("minicoin-node",)


def units(amount):
    return int((decimal.Decimal(amount) * COIN).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def wcall(node, wallet, method, *params, timeout=None):
    """The JSON-RPC call `method` on /wallet/<wallet>: its result, or JSONRPCError."""
    body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}).encode()
    status, data = node.post(body, path="/wallet/" + urllib.parse.quote(wallet, safe=""), timeout=timeout)
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
    def __init__(self, node, name):
        self.node = node
        self.name = name

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *params: wcall(self.node, self.name, method, *params)


def total(w):
    """Every coin of the wallet: trusted + untrusted_pending + immature, in units."""
    mine = w.getbalances()["mine"]
    return units(mine["trusted"]) + units(mine["untrusted_pending"]) + units(mine["immature"])


def trusted(w):
    return units(w.getbalances()["mine"]["trusted"])


def child_pids(pid):
    result = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, timeout=10)
    return [int(p) for p in result.stdout.split()]


def holds_wallet(pid, datadir, name):
    """Whether process `pid` has <datadir>/wallets/<name>/ files open (its lock, its database)."""
    folder = os.path.realpath(os.path.join(datadir, "wallets", name)) + os.sep
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(folder):
                    return True
            except OSError:
                pass
    except OSError:
        pass
    return False


def is_wallet_process(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return os.path.basename(argv[0].decode()) == "minicoin-wallet" and state != "Z"


def wallet_pid(node, name):
    """The pid of the node's minicoin-wallet child serving `name`; fails if there is not exactly one."""
    found = [p for p in child_pids(node.process.pid) if is_wallet_process(p) and holds_wallet(p, node.datadir, name)]
    if len(found) != 1:
        raise TestFailure("expected one minicoin-wallet child holding wallet %s, found %r" % (name, found))
    return found[0]


def kill9_pid(pid):
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not is_wallet_process(pid), timeout=10, message="wallet process %d to die" % pid)


class WalletProcessesTest(framework.FunctionalTest):
    def run(self):
        self.wallet_binary = os.path.join(os.path.dirname(self.binary), "minicoin-wallet")
        assert_true(os.access(self.wallet_binary, os.X_OK), "minicoin-wallet next to the node binary")
        self.attached = []
        try:
            node = self.add_node(["-wallet=w1", "-wallet=w2", "-ipcbind=unix"])
            self.outsider = self.genkey()["address"]
            self.isolation(node)
            self.kill_during_sends(node)
            self.attached_wallets(node)
        finally:
            for process in self.attached:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)

    def isolation(self, node):
        rpc = node.rpc
        w1, w2 = W(node, "w1"), W(node, "w2")
        assert_equal(rpc.listwallets(), ["w1", "w2"], "listwallets")
        pid1, pid2 = wallet_pid(node, "w1"), wallet_pid(node, "w2")
        assert_true(pid1 != pid2, "each wallet has its own process")
        assert_true(pid1 != node.process.pid, "the wallet is not in the node's process")

        address1 = w1.getnewaddress()
        rpc.generatetoaddress(COINBASE_MATURITY + 1, address1)
        sync_wallets(self, node)
        self.w1_heights = list(range(1, COINBASE_MATURITY + 2))
        w1.sendtoaddress(w2.getnewaddress(), 20)
        rpc.generatetoaddress(1, self.outsider)
        sync_wallets(self, node)
        w1_balance, w2_balance = w1.getbalances(), w2.getbalances()
        assert_equal(units(w2_balance["mine"]["trusted"]), 20 * COIN, "w2 was paid")

        # SIGKILL w1's process: the node and w2 go on.
        kill9_pid(pid1)
        assert_equal(rpc.getblockcount(), COINBASE_MATURITY + 2, "the node answers after the wallet died")
        wait_until(lambda: "wallet w1: its process (%d) went away" % pid1 in node.read_file("debug.log"), timeout=10,
                   message="the node to log the wallet process's death")
        for method, params in (("getbalance", []), ("getnewaddress", []), ("sendtoaddress", [self.outsider, 1]),
                               ("getwalletinfo", [])):
            error = assert_raises_rpc_error(-18, "w1", wcall, node, "w1", method, *params)
            assert_true(framework.message_matches(error.message, "not available")
                        and framework.message_matches(error.message, "loadwallet"),
                        "w1's error says it is not available and how to recover: %r" % error.message)
        assert_equal(rpc.listwallets(), ["w2"], "listwallets without the dead wallet")
        assert_equal(w2.getbalances(), w2_balance, "w2 unaffected")
        assert_equal(wallet_pid(node, "w2"), pid2, "w2's process still runs")
        # Blocks mined while w1 is down: w2 follows them, w1 catches up later.
        w2_address = w2.getnewaddress()
        rpc.generatetoaddress(2, w2_address)
        sync_wallets(self, node)
        self.w2_heights = [COINBASE_MATURITY + 3, COINBASE_MATURITY + 4]
        assert_equal(units(w2.getbalances()["mine"]["immature"]), 2 * SUBSIDY * COIN, "w2 follows new blocks")
        assert_equal(w2.getwalletinfo()["lastprocessedblock"]["height"], rpc.getblockcount(), "w2 is at the tip")
        assert_raises_rpc_error(-18, "w1", w1.getbalance)

        # Load it again: a new process, its balance intact and caught up.
        assert_equal(rpc.loadwallet("w1")["name"], "w1", "loadwallet w1 after the crash")
        new_pid = wallet_pid(node, "w1")
        assert_true(new_pid != pid1, "a new wallet process")
        assert_equal(rpc.listwallets(), ["w1", "w2"], "listwallets after the reload")
        assert_equal(w1.getwalletinfo()["lastprocessedblock"]["height"], rpc.getblockcount(), "w1 caught up")
        expected = dict(w1_balance["mine"])
        # Two more of w1's coinbases matured while it was down.
        got = w1.getbalances()["mine"]
        assert_equal(units(got["trusted"]), units(expected["trusted"]) + 2 * SUBSIDY * COIN, "w1 trusted after reload")
        assert_equal(units(got["immature"]), units(expected["immature"]) - 2 * SUBSIDY * COIN, "w1 immature after reload")
        assert_equal(w2.getbalances()["mine"]["trusted"], w2_balance["mine"]["trusted"], "w2 still unaffected")
        assert_raises_rpc_error(-35, None, rpc.loadwallet, "w1")

    def kill_during_sends(self, node):
        rpc = node.rpc
        w1, w2 = W(node, "w1"), W(node, "w2")
        handed_out = set(w1.getnewaddress() for _ in range(3))
        before = total(w1) + total(w2)
        txs_before = set(t["txid"] for t in w1.listtransactions("*", 100000))
        targets = [w2.getnewaddress() for _ in range(60)]
        pid = wallet_pid(node, "w1")
        start_height = rpc.getblockcount()

        results = {"ok": [], "errors": []}
        done = threading.Event()

        def sender():
            try:
                for address in targets:
                    try:
                        results["ok"].append(wcall(node, "w1", "sendtoaddress", address, "0.5", timeout=30))
                    except JSONRPCError as e:
                        results["errors"].append((e.code, e.message))
                    except Exception as e:  # a connection cut by the kill
                        results["errors"].append((None, repr(e)))
            finally:
                done.set()

        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        wait_until(lambda: len(results["ok"]) >= 8 or done.is_set(), timeout=60, message="some sends to succeed")
        assert_true(not done.is_set(), "the sends were still running at the kill (%d answered; errors: %r)"
                    % (len(results["ok"]), results["errors"][:3]))
        kill9_pid(pid)
        thread.join(timeout=120)
        assert_true(not thread.is_alive(), "the sends ended after the kill")
        assert_true(len(results["errors"]) > 0, "sends after the kill failed")
        # The call in progress at the kill may fail with the connection's error; every later one
        # fails with -18 "not available ... loadwallet".
        in_flight, later = results["errors"][0], results["errors"][1:]
        print("the send in progress at the kill got: %r" % (in_flight,), flush=True)
        assert_true(in_flight[0] is not None, "the send in progress got a JSON-RPC error, not a broken reply")
        for code, message in later:
            assert_true(code == -18 and "loadwallet" in message,
                        "a send after the kill failed with -18 ... loadwallet: %r %r" % (code, message))
        print("kill during sends: %d sends answered before the kill, %d failed" % (len(results["ok"]),
                                                                                len(results["errors"])), flush=True)

        assert_equal(rpc.loadwallet("w1")["name"], "w1", "loadwallet w1 after the kill")
        # Every send the wallet recorded (answered or not) is broadcast again at load: mine until
        # the mempool is empty.
        for _ in range(5):
            if not rpc.getrawmempool():
                break
            rpc.generatetoaddress(1, self.outsider)
            sync_wallets(self, node)
        assert_equal(rpc.getrawmempool(), [], "every send was mined")
        rpc.generatetoaddress(1, self.outsider)
        sync_wallets(self, node)
        sends = [t for t in w1.listtransactions("*", 100000) if t["txid"] not in txs_before and t["category"] == "send"]
        sent_ids = set(t["txid"] for t in sends)
        for txid in results["ok"]:
            assert_in(txid, sent_ids, "an answered send is in w1's transactions after the reload")
        assert_true(all(t["confirmations"] >= 1 for t in sends),
                    "every recorded send is confirmed: %r" % [(t["txid"], t["confirmations"]) for t in sends])
        print("after the reload w1 lists %d sends (%d answered)" % (len(sends), len(results["ok"])), flush=True)
        fees = -sum(units(t["fee"]) for t in sends)
        after = total(w1) + total(w2)
        assert_equal(after, before - fees, "w1 + w2 coins after the kill == before - fees of %d sends" % len(sends))
        # The fees are exactly what the miners collected.
        received = [t for t in w2.listtransactions("*", 100000) if t["txid"] in sent_ids]
        assert_equal(len(received), len(sends), "w2 received every send of w1")
        assert_equal(sum(units(t["amount"]) for t in received), len(sends) * COIN // 2, "w2 received 0.5 per send")
        collected = 0
        for h in range(start_height + 1, rpc.getblockcount() + 1):
            block = rpc.getblock(rpc.getblockhash(h), 2)
            collected += units(block["tx"][0]["vout"][0]["value"]) - subsidy(h)
        assert_equal(collected, fees, "the miners collected the fees the wallet recorded")

        # No key reused: new addresses differ from every address handed out and every change key.
        used = set(handed_out) | set(targets)
        for t in sends:
            for out in rpc.getrawtransaction(t["txid"], True, t["blockhash"])["vout"]:
                used.add(out["address"])
        fresh = [w1.getnewaddress() for _ in range(25)]
        assert_equal(len(set(fresh)), len(fresh), "getnewaddress after the reload never repeats")
        reused = set(fresh) & used
        assert_equal(reused, set(), "addresses handed out again after the kill")
        # Still spendable.
        w1.sendtoaddress(self.outsider, 1)
        rpc.generatetoaddress(1, self.outsider)
        sync_wallets(self, node)
        assert_equal(rpc.getrawmempool(), [], "a send after the reload was mined")

    def start_attached(self, node, name, create=True):
        args = [self.wallet_binary, "-ipcconnect=unix", "-datadir=" + node.basedir, "-wallet=" + name]
        if create:
            args.append("-createwallet")
        log = open(os.path.join(node.datadir, "attached-%s.txt" % name), "ab")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.attached.append(process)
        wait_until(lambda: name in node.rpc.listwallets() or process.poll() is not None, timeout=30,
                   message="attached wallet %s to be listed" % name)
        assert_equal(process.poll(), None, "minicoin-wallet for %s exited early: %s"
                     % (name, node.read_file("attached-%s.txt" % name)[-1000:]))
        return process

    def stop_attached(self, node, process, name):
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise TestFailure("the attached wallet process %s did not exit within 30 s of SIGTERM" % name)
        assert_equal(code, 0, "attached wallet %s exit code after SIGTERM" % name)
        wait_until(lambda: name not in node.rpc.listwallets(), timeout=10, message="%s to be detached" % name)

    def attached_wallets(self, node):
        rpc = node.rpc
        assert_true(os.path.exists(os.path.join(node.datadir, "node.sock")), "-ipcbind=unix made node.sock")
        a1_process = self.start_attached(node, "a1")
        assert_equal(rpc.listwallets(), ["a1", "w1", "w2"], "listwallets with the attached wallet")
        assert_in("a1", [w["name"] for w in rpc.listwalletdir()["wallets"]], "listwalletdir shows a1")
        assert_true(a1_process.pid not in child_pids(node.process.pid), "the attached process is not the node's child")
        a1 = W(node, "a1")
        address = a1.getnewaddress()
        assert_equal(a1.getwalletinfo()["walletname"], "a1", "a1 getwalletinfo through the node")
        assert_equal(a1.getwalletinfo()["lastprocessedblock"]["height"], rpc.getblockcount(), "a1 at the tip")
        txid = W(node, "w1").sendtoaddress(address, 3)
        wait_until(lambda: units(a1.getbalances()["mine"]["untrusted_pending"]) == 3 * COIN, timeout=10,
                   message="a1 to see the payment in the mempool")
        rpc.generatetoaddress(1, self.outsider)
        sync_wallets(self, node)
        wait_until(lambda: trusted(a1) == 3 * COIN, timeout=10, message="a1 to see the payment confirmed")
        assert_equal([t["txid"] for t in a1.listtransactions()], [txid], "a1 listtransactions")
        assert_raises_rpc_error(-35, None, rpc.loadwallet, "a1")
        spend = a1.sendtoaddress(self.outsider, 1)
        assert_in(spend, rpc.getrawmempool(), "a1's send reached the node's mempool")
        rpc.generatetoaddress(1, self.outsider)
        sync_wallets(self, node)
        a1_balance = trusted(a1)
        assert_true(0 < a1_balance < 2 * COIN, "a1 paid 1 and a fee: %d" % a1_balance)

        # SIGTERM detaches it.
        self.stop_attached(node, a1_process, "a1")
        assert_raises_rpc_error(-18, None, a1.getbalance)
        assert_equal(rpc.listwallets(), ["w1", "w2"], "listwallets after a1 detached")
        assert_true(node.is_running() and rpc.getblockcount() > 0, "the node is fine")
        # While detached, a block pays a1; started again it is re-attached and catches up.
        rpc.generatetoaddress(1, address)
        sync_wallets(self, node)
        a1_process = self.start_attached(node, "a1", create=False)
        assert_equal(trusted(a1), a1_balance, "a1's balance after re-attaching")
        assert_equal(units(a1.getbalances()["mine"]["immature"]), SUBSIDY * COIN, "a1 found the block mined meanwhile")

        # Two attached processes at once.
        a2_process = self.start_attached(node, "a2")
        assert_equal(rpc.listwallets(), ["a1", "a2", "w1", "w2"], "two attached wallets")
        a2 = W(node, "a2")
        a2_address = a2.getnewaddress()
        pay = a1.sendtoaddress(a2_address, "0.25")
        rpc.generatetoaddress(1, self.outsider)
        sync_wallets(self, node)
        wait_until(lambda: trusted(a2) == COIN // 4, timeout=10, message="a2 to be paid by a1")
        assert_equal([t["txid"] for t in a2.listtransactions()], [pay], "a2 listtransactions")
        assert_raises_rpc_error(-19, None, rpc.getbalance)
        # Killing one (SIGKILL) leaves the other.
        a1_process.kill()
        a1_process.wait(timeout=10)
        wait_until(lambda: "a1" not in rpc.listwallets(), timeout=10, message="a1 to be dropped after SIGKILL")
        assert_equal(trusted(a2), COIN // 4, "a2 unaffected by a1's death")
        assert_true(node.is_running() and rpc.getblockcount() > 0, "the node is fine")
        a1_process = self.start_attached(node, "a1", create=False)
        assert_true(trusted(a1) > 0, "a1 after SIGKILL and restart has its coins")
        self.stop_attached(node, a2_process, "a2")
        self.stop_attached(node, a1_process, "a1")
        assert_equal(rpc.listwallets(), ["w1", "w2"], "only the node's own wallets remain")


if __name__ == "__main__":
    framework.main(WalletProcessesTest)
