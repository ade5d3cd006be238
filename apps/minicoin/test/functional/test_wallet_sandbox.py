#!/usr/bin/env python3
"""minicoin-wallet -sandbox (minicoin-node only): a sandboxed wallet process, spawned by
minicoin-node -walletsandbox or attached with -ipcconnect -sandbox, still creates its wallet,
receives, sends and serves its own RPC (-server), while a file outside its wallet folder cannot be
opened. The hidden -testsandboxprobe=<path> option makes the process try to open <path> right
after the sandbox is applied and log the outcome; the same probe without -sandbox opens the file,
so the check can tell the two apart."""
import decimal
import os
import re
import signal
import subprocess

import framework
from framework import (COIN, COINBASE_MATURITY, TestFailure, assert_equal, assert_in, assert_true, wait_until)
from test_wallet_server import Endpoint, NodeWallet, OwnWallet, read_port

# Needs what only the multi-process layout has (wallet processes, -ipcbind).
BINARIES = ("minicoin-node",)


def units(amount):
    return int((decimal.Decimal(amount) * COIN).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def probe_results(log_text, path):
    """The outcomes logged for probes of `path`: ["opened"] or ["refused: Permission denied (errno 13)"]..."""
    return re.findall(r"sandbox probe %s: (.*)" % re.escape(path), log_text)


class WalletSandboxTest(framework.FunctionalTest):
    def run(self):
        self.wallet_binary = os.path.join(os.path.dirname(self.binary), "minicoin-wallet")
        self.outsider = self.genkey()["address"]
        self.secret = os.path.join(self.tmpdir, "secret.txt")
        with open(self.secret, "w") as f:
            f.write("not for wallets\n")
        self.attached = []
        try:
            self.control()
            node = self.spawned()
            self.attached_sandboxed(node)
        finally:
            for process in self.attached:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)

    def control(self):
        """Without the sandbox the same probe opens the file: a refusal below is the sandbox's."""
        node = self.add_node(["-wallet=plain", "-testwalletarg=-testsandboxprobe=" + self.secret])
        assert_equal(probe_results(node.read_file("wallet-debug.log"), self.secret)[-1:], ["opened"],
                     "the probe opens the file without -sandbox")
        assert_true("sandbox: files only under" not in node.read_file("wallet-debug.log"), "no sandbox by default")
        node.stop()

    def spawned(self):
        node = self.add_node(start=False)
        allowed_folder = os.path.join(node.datadir, "wallets", "s1")
        os.makedirs(allowed_folder)
        allowed = os.path.join(allowed_folder, "inside.txt")
        with open(allowed, "w") as f:
            f.write("the wallet's own folder\n")
        node.extra_args = ["-wallet=s1", "-walletsandbox", "-walletrpcport=0", "-ipcbind=unix",
                           "-testwalletarg=-testsandboxprobe=" + self.secret,
                           "-testwalletarg=-testsandboxprobe=" + allowed,
                           "-testwalletarg=-testsandboxprobe=" + os.path.join(node.datadir, "debug.log")]
        node.start()
        log = node.read_file("wallet-debug.log")
        assert_in("sandbox: files only under " + allowed_folder, log, "the wallet process logs its sandbox")
        assert_in("seccomp on", log, "seccomp applied")
        self.landlock = "landlock ABI 0" not in log
        if not self.landlock:
            self.note("the kernel has no Landlock: file access is not confined, only system calls (file checks "
                      "skipped)")
        if self.landlock:
            for result in probe_results(log, self.secret) + probe_results(log, os.path.join(node.datadir, "debug.log")):
                assert_true(result.startswith("refused: Permission denied"), "outside file refused: %r" % result)
            assert_true(probe_results(log, self.secret), "the outside probe ran")
            assert_true(probe_results(log, allowed) and all(r == "opened" for r in probe_results(log, allowed)),
                        "a file in the wallet folder opens: %r" % probe_results(log, allowed))
        # The sandboxed wallet works: receives, matures, sends, and serves its own RPC.
        s1 = NodeWallet(node, "s1")
        rpc = node.rpc
        rpc.generatetoaddress(COINBASE_MATURITY + 1, s1.getnewaddress())
        tip = rpc.getbestblockhash()
        wait_until(lambda: s1.getwalletinfo()["lastprocessedblock"]["hash"] == tip, timeout=20, message="s1 synced")
        funded = units(s1.getbalances()["mine"]["trusted"])
        assert_true(funded >= 50 * COIN, "s1 has mature coins: %d" % funded)
        txid = s1.sendtoaddress(self.outsider, 7)
        assert_in(txid, rpc.getrawmempool(), "the sandboxed wallet's send reached the mempool")
        rpc.generatetoaddress(1, self.outsider)
        tip = rpc.getbestblockhash()
        wait_until(lambda: s1.getwalletinfo()["lastprocessedblock"]["hash"] == tip, timeout=20, message="s1 synced")
        # One more coinbase of s1 matured with the block.
        trusted = units(s1.getbalances()["mine"]["trusted"])
        assert_true(funded + 50 * COIN - 7 * COIN - COIN // 100 < trusted < funded + 50 * COIN - 7 * COIN,
                    "s1 trusted after the send: %d" % trusted)
        folder = os.path.join(node.datadir, "wallets", "s1")
        own = OwnWallet(Endpoint(read_port(folder), os.path.join(folder, ".cookie")))
        assert_equal(own.getbalances(), s1.getbalances(), "the sandboxed process's own server")
        # Unload and load again: the sandboxed process reopens its database.
        rpc.unloadwallet("s1")
        rpc.loadwallet("s1")
        assert_equal(units(NodeWallet(node, "s1").getbalances()["mine"]["trusted"]), trusted, "s1 after a reload")
        return node

    def attached_sandboxed(self, node):
        rpc = node.rpc
        args = [self.wallet_binary, "-ipcconnect=unix", "-datadir=" + node.basedir, "-wallet=a1", "-createwallet",
                "-sandbox", "-server", "-testsandboxprobe=" + self.secret]
        log = open(os.path.join(node.datadir, "attached-a1.txt"), "ab")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.attached.append(process)
        wait_until(lambda: "a1" in rpc.listwallets() or process.poll() is not None, timeout=30,
                   message="the sandboxed attached wallet to be listed")
        assert_equal(process.poll(), None, "sandboxed attached wallet exited: %s" % node.read_file("attached-a1.txt"))
        a1 = NodeWallet(node, "a1")
        NodeWallet(node, "s1").sendtoaddress(a1.getnewaddress(), 3)
        rpc.generatetoaddress(1, self.outsider)
        wait_until(lambda: units(a1.getbalances()["mine"]["trusted"]) == 3 * COIN, timeout=20,
                   message="a1 to see the payment")
        a1.sendtoaddress(self.outsider, 1)
        folder = os.path.join(node.datadir, "wallets", "a1")
        own = OwnWallet(Endpoint(read_port(folder), os.path.join(folder, ".cookie")))
        assert_equal(own.getbalances(), a1.getbalances(), "the sandboxed attached process's own server")
        if self.landlock:
            results = probe_results(node.read_file("wallet-debug.log"), self.secret)
            assert_true(results and all(r.startswith("refused: Permission denied") for r in results),
                        "the attached sandboxed probe refused: %r" % results)
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise TestFailure("the sandboxed attached wallet did not exit within 30 s of SIGTERM")
        assert_equal(code, 0, "sandboxed attached wallet exit code")
        assert_true(not os.path.exists(os.path.join(folder, ".cookie")), "cookie removed from inside the sandbox")


if __name__ == "__main__":
    framework.main(WalletSandboxTest)
