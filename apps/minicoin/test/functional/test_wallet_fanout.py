#!/usr/bin/env python3
"""The node fans out to its wallets: listwalletbalances asks every loaded wallet at once and
answers for each one (balances or an error, within its timeout), in both layouts. With
minicoin-node: block notifications reach every wallet process on its own; an attached wallet
that sleeps in each block notification (-testnotificationdelay) does not delay the two spawned
ones, and killing it (SIGKILL) in the middle of a notification leaves them getting blocks; a
stopped (SIGSTOP) wallet process gives an error entry after the timeout; and the node stops
within its wallet unload timeout plus a margin while one wallet sleeps in a notification and
another is stopped."""
import json
import os
import signal
import subprocess
import time

import framework
from framework import COIN, SUBSIDY, TestFailure, assert_equal, assert_raises_rpc_error, assert_true, wait_until
from test_wallet_processes import W, is_wallet_process, units, wallet_pid

# How long the slow wallet sleeps in each block notification, and how soon the others must see a
# block for the test to count them as not delayed by it.
SLOW_DELAY_MS = 6000
PROMPT_S = SLOW_DELAY_MS / 1000 / 3
# The node's wallet unload timeout at shutdown (node/node.cpp kWalletShutdownTimeout), and the
# margin its stop gets on top of it.
UNLOAD_TIMEOUT_S = 10
STOP_MARGIN_S = 10


def last_height(w):
    return w.getwalletinfo()["lastprocessedblock"]["height"]


def by_name(result):
    return {entry["name"]: entry for entry in result["wallets"]}


class WalletFanoutTest(framework.FunctionalTest):
    def run(self):
        self.multiprocess = os.path.basename(self.binary) == "minicoin-node"
        self.attached = []
        self.stopped = []
        try:
            args = ["-wallet=f1", "-wallet=f2"] + (["-ipcbind=unix"] if self.multiprocess else [])
            node = self.add_node(args)
            self.outsider = self.genkey()["address"]
            self.balances(node)
            if not self.multiprocess:
                self.note("the wallet process part runs only against minicoin-node (this is %s)"
                          % os.path.basename(self.binary))
                return
            self.wallet_binary = os.path.join(os.path.dirname(self.binary), "minicoin-wallet")
            self.stopped_wallet(node)
            self.slow_wallet(node)
            self.shutdown_with_hung_wallets(node)
        finally:
            for pid in self.stopped:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            for process in self.attached:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)

    def wait_synced(self, wallets, height, timeout):
        for w in wallets:
            wait_until(lambda: last_height(w) == height, timeout=timeout,
                       message="wallet %s to process block %d" % (w.name, height))

    def balances(self, node):
        rpc = node.rpc
        f1, f2 = W(node, "f1"), W(node, "f2")
        rpc.generatetoaddress(1, f1.getnewaddress())
        self.wait_synced([f1, f2], rpc.getblockcount(), 10)
        result = rpc.listwalletbalances()
        assert_equal([e["name"] for e in result["wallets"]], ["f1", "f2"], "one entry per wallet, in listwallets order")
        entries = by_name(result)
        assert_equal(entries["f1"]["mine"], f1.getbalances()["mine"], "f1's entry is its getbalances")
        assert_equal(units(entries["f1"]["mine"]["immature"]), SUBSIDY * COIN, "f1 was paid")
        assert_equal(units(entries["f2"]["mine"]["trusted"]) + units(entries["f2"]["mine"]["immature"]), 0, "f2 has nothing")
        assert_equal(rpc.listwalletbalances(0.5), result, "with a timeout")
        for bad in (0, -1, 3601):
            assert_raises_rpc_error(-8, "timeout", rpc.listwalletbalances, bad)
        assert_raises_rpc_error(-3, "timeout", rpc.listwalletbalances, "soon")
        rpc.unloadwallet("f2")
        assert_equal([e["name"] for e in rpc.listwalletbalances()["wallets"]], ["f1"], "after unloadwallet f2")
        rpc.loadwallet("f2")
        assert_equal([e["name"] for e in rpc.listwalletbalances()["wallets"]], ["f1", "f2"], "after loadwallet f2")
        done = node.cli("listwalletbalances", "0.5")
        assert_equal(done.returncode, 0, "minicoin-cli listwalletbalances 0.5: %s" % done.stderr)
        assert_equal([e["name"] for e in json.loads(done.stdout)["wallets"]], ["f1", "f2"], "through minicoin-cli")
        help_text = rpc.help("listwalletbalances")
        assert_true(help_text.startswith("listwalletbalances ( timeout )"), "help: %r" % help_text[:80])

    def stopped_wallet(self, node):
        """A wallet process that does not answer at all (SIGSTOP): an error entry after the timeout,
        the other wallet's balances all the same."""
        rpc = node.rpc
        pid = wallet_pid(node, "f2")
        os.kill(pid, signal.SIGSTOP)
        self.stopped.append(pid)
        start = time.monotonic()
        result = rpc.listwalletbalances(1)
        elapsed = time.monotonic() - start
        print("listwalletbalances 1 with f2 stopped: %.2f s" % elapsed, flush=True)
        entries = by_name(result)
        assert_equal(units(entries["f1"]["mine"]["immature"]), SUBSIDY * COIN, "f1 answered")
        assert_equal(entries["f2"].get("error"), {"code": -4, "message": "the wallet did not answer within 1000 ms"},
                     "f2's entry")
        assert_true(1.0 <= elapsed < 4.0, "listwalletbalances took its timeout, not more: %.2f s" % elapsed)
        os.kill(pid, signal.SIGCONT)
        self.stopped.remove(pid)
        wait_until(lambda: "mine" in by_name(rpc.listwalletbalances(5))["f2"], timeout=20,
                   message="f2 to answer again after SIGCONT")

    def start_attached(self, node, name, delay_ms):
        args = [self.wallet_binary, "-ipcconnect=unix", "-datadir=" + node.basedir, "-wallet=" + name,
                "-createwallet", "-testnotificationdelay=%d" % delay_ms]
        log = open(os.path.join(node.datadir, "attached-%s.txt" % name), "ab")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.attached.append(process)
        wait_until(lambda: name in node.rpc.listwallets() or process.poll() is not None, timeout=30,
                   message="attached wallet %s to be listed" % name)
        if process.poll() is not None:
            raise TestFailure("minicoin-wallet for %s exited early: %s" % (name, node.read_file("attached-%s.txt" % name)[-1000:]))
        return process

    def slow_wallet(self, node):
        rpc = node.rpc
        f1, f2 = W(node, "f1"), W(node, "f2")
        slow_process = self.start_attached(node, "slow", SLOW_DELAY_MS)
        slow = W(node, "slow")
        height = rpc.getblockcount()
        assert_equal(last_height(slow), height, "the slow wallet is at the tip after attaching")
        f1_before = units(f1.getbalances()["mine"]["immature"])

        # Two blocks paying f1, the second while the slow wallet sleeps in the first: f1 and f2
        # have both long before the slow wallet wakes up. (Sending each event to every wallet
        # and joining would hold the second block until the slow wallet is done with the first,
        # whatever order the wallets are called in.)
        mined = time.monotonic()
        latencies = {}
        for block in (1, 2):
            sent = time.monotonic()
            rpc.generatetoaddress(1, f1.getnewaddress())
            for w in (f1, f2):
                wait_until(lambda: last_height(w) == height + block, timeout=SLOW_DELAY_MS / 1000 * 2,
                           interval=0.01, message="%s to process block %d" % (w.name, height + block))
                latencies["%s, block %d" % (w.name, block)] = time.monotonic() - sent
        print("blocks seen after: %s; the slow wallet sleeps %.1f s in each"
              % (", ".join("%s %.3f s" % item for item in sorted(latencies.items())), SLOW_DELAY_MS / 1000), flush=True)
        for name, latency in latencies.items():
            assert_true(latency < PROMPT_S, "%s seen in %.3f s, under %.1f s" % (name, latency, PROMPT_S))
        assert_equal(units(f1.getbalances()["mine"]["immature"]), f1_before + 2 * SUBSIDY * COIN, "f1 was paid twice")
        assert_equal(last_height(slow), height, "the slow wallet is still in its first notification")
        assert_true(time.monotonic() - mined < SLOW_DELAY_MS / 1000, "checked while it sleeps")
        # listwalletbalances does not wait for it: its RPCs are served while it sleeps.
        entries = by_name(rpc.listwalletbalances(2))
        assert_equal(sorted(entries), ["f1", "f2", "slow"], "listwalletbalances lists the attached wallet")
        assert_true(all("mine" in e for e in entries.values()), "every wallet answered: %r" % entries)
        # It does get both blocks, one delay after the other.
        wait_until(lambda: last_height(slow) == height + 2, timeout=SLOW_DELAY_MS / 1000 * 4,
                   message="the slow wallet to process both blocks")
        slow_latency = time.monotonic() - mined
        print("the slow wallet processed both after %.3f s" % slow_latency, flush=True)
        assert_true(slow_latency >= 2 * SLOW_DELAY_MS / 1000 * 0.9, "the slow wallet really slept: %.3f s" % slow_latency)
        height += 1  # the heights below count from the second block

        # SIGKILL the slow wallet in the middle of its next notification: the others go on.
        rpc.generatetoaddress(1, self.outsider)
        self.wait_synced([f1, f2], height + 2, PROMPT_S)
        slow_process.kill()
        slow_process.wait(timeout=10)
        wait_until(lambda: "slow" not in rpc.listwallets(), timeout=10, message="the killed wallet to be dropped")
        wait_until(lambda: "notifications: dropping" in node.read_file("debug.log"), timeout=10,
                   message="the node to drop the killed wallet's notifications")
        for i in range(3):
            mined = time.monotonic()
            rpc.generatetoaddress(1, f2.getnewaddress())
            self.wait_synced([f1, f2], height + 3 + i, PROMPT_S)
        assert_equal(units(f2.getbalances()["mine"]["immature"]), 3 * SUBSIDY * COIN, "f2 got the blocks after the kill")
        assert_equal(sorted(by_name(rpc.listwalletbalances())), ["f1", "f2"], "listwalletbalances after the kill")

    def shutdown_with_hung_wallets(self, node):
        """The node's stop, with one wallet asleep in a block notification and another stopped:
        bounded by the unload timeout plus a margin."""
        rpc = node.rpc
        self.start_attached(node, "sleeper", 120_000)
        rpc.generatetoaddress(1, self.outsider)
        self.wait_synced([W(node, "f1"), W(node, "f2")], rpc.getblockcount(), PROMPT_S)
        pid = wallet_pid(node, "f2")
        os.kill(pid, signal.SIGSTOP)
        self.stopped.append(pid)
        start = time.monotonic()
        rpc.stop()
        try:
            node.wait_for_exit(expect_code=0, timeout=UNLOAD_TIMEOUT_S + STOP_MARGIN_S)
        except TestFailure:
            raise TestFailure("the node did not stop within %d s with a hung wallet" % (UNLOAD_TIMEOUT_S + STOP_MARGIN_S))
        elapsed = time.monotonic() - start
        print("stop with a sleeping and a stopped wallet: %.2f s" % elapsed, flush=True)
        assert_true(elapsed < UNLOAD_TIMEOUT_S + STOP_MARGIN_S, "stopped in %.2f s" % elapsed)
        wait_until(lambda: not is_wallet_process(pid), timeout=10, message="the stopped wallet process to be ended")


if __name__ == "__main__":
    framework.main(WalletFanoutTest)
