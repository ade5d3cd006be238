#!/usr/bin/env python3
"""The Mining interface over -ipcbind, driven by minicoin-mining-probe and minicoin-miner:
templates held across tip changes and solved later, three concurrent waitNext calls, interrupt,
the template memory limit, a client killed during waitNext, and minicoin-miner mining blocks the
node accepts (then stopping cleanly on SIGINT). Runs against minicoin-node only (IPC)."""
import json
import os
import signal
import subprocess
import sys
import time

import framework
from framework import TestFailure, assert_equal, assert_in, assert_true, wait_until

# Needs what only the multi-process layout has (wallet processes, -ipcbind).
BINARIES = ("minicoin-node",)


def find_miner_tool(name, binary):
    """minicoin-miner and minicoin-mining-probe live in the build tree's apps/minicoin/miner."""
    env = os.environ.get("MINICOIN_" + name.upper().replace("-", "_") + "_BINARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(binary))
    for root in (here, os.path.dirname(here)):
        for sub in ("", "miner"):
            candidate = os.path.join(root, sub, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


class MiningInterfaceTest(framework.FunctionalTest):
    def probe(self, scenario, *args, timeout=60):
        result = subprocess.run([self.probe_binary, self.socket, scenario, *map(str, args)], capture_output=True,
                                text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise TestFailure("probe %s failed (%d): %s" % (scenario, result.returncode, result.stderr.strip()))
        return json.loads(result.stdout)

    def run(self):
        self.probe_binary = find_miner_tool("minicoin-mining-probe", self.binary)
        self.miner_binary = find_miner_tool("minicoin-miner", self.binary)
        if not self.probe_binary or not self.miner_binary:
            raise TestFailure("minicoin-mining-probe or minicoin-miner not found next to %s" % self.binary)

        node = self.add_node(["-ipcbind=unix", "-maxtemplatememory=1"])
        rpc = node.rpc
        self.socket = os.path.join(node.datadir, "node.sock")
        wait_until(lambda: os.path.exists(self.socket), timeout=10, message="node.sock")

        load = self.probe("load")
        assert_equal((load["templates"], load["bytes"], load["limit"]), (0, 0, 1 << 20), "memory load at start")
        assert_equal(load["tip_height"], 0, "tip height at start")
        assert_equal(load["tip_hash"], rpc.getbestblockhash(), "getTip agrees with RPC")

        # Templates held across tip changes: the stale ones still get a real answer.
        stale = self.probe("stale")
        assert_equal((stale["b"]["result"], stale["b"]["reason"]), (True, ""), "first solution becomes the tip")
        assert_equal((stale["c"]["result"], stale["c"]["reason"]), (True, ""), "second solution becomes the tip")
        for name in ("stale_sibling", "stale_old"):
            assert_equal((stale[name]["result"], stale[name]["reason"]), (True, "valid-but-not-tip"), name)
        assert_equal(stale["bad_nonce"], {"result": False, "reason": "proof of work too weak"}, "wrong nonce")
        assert_equal(stale["overpaying_coinbase"]["result"], False, "coinbase paying too much")
        assert_in("coinbase pays more", stale["overpaying_coinbase"]["reason"], "reason of the overpaying coinbase")
        assert_equal(rpc.getblockcount(), 2, "height after the stale scenario")
        assert_equal(rpc.getbestblockhash(), stale["c"]["hash"], "the tip is the last accepted solution")
        for name in ("stale_sibling", "stale_old"):
            block = rpc.getblock(stale[name]["hash"])
            assert_equal(block["confirmations"], -1, "%s is stored off the active chain" % name)

        # Three threads of one client in waitNext at once, released by one block.
        concurrent = self.probe("concurrent")
        assert_equal(concurrent["block"]["result"], True, "the block that releases the waiters")
        for i, waiter in enumerate(concurrent["waiters"]):
            assert_equal((waiter["got"], waiter["interrupted"]), (True, False), "waiter %d got a template" % i)
            assert_equal(waiter["height"], concurrent["height"] + 1, "waiter %d's template is on the new tip" % i)
            assert_true(waiter["after_block_ms"] < 5000, "waiter %d released %.0f ms after the block" %
                        (i, waiter["after_block_ms"]))
        self.note("three waitNext calls released %.1f / %.1f / %.1f ms after the block" %
                  tuple(w["after_block_ms"] for w in concurrent["waiters"]))

        # interruptWait releases its own template's waiter; interrupt() every other wait.
        interrupt = self.probe("interrupt")
        released = interrupt["interrupt_wait_released"]
        assert_equal((released["interrupted"], released["got"]), (True, False), "interruptWait's waiter")
        assert_true(interrupt["others_still_waiting"], "interruptWait left the other waits alone")
        for name in ("template_waiter", "tip_waiter"):
            assert_true(interrupt[name]["interrupted"], "%s interrupted" % name)
            assert_true(interrupt[name]["ms"] - interrupt["interrupt_at_ms"] < 2000, "%s released promptly" % name)
        assert_true(interrupt["later_wait_interrupted"] and interrupt["later_wait_ms"] < 2000,
                    "interrupt() also ends later waits at once")

        # The memory limit: createNewBlock fails with a clear error, and works again after release.
        memory = self.probe("memory", timeout=120)
        assert_in("-maxtemplatememory", memory["error"], "error of a template over the limit")
        assert_true(memory["created"] > 10, "templates created before the limit: %d" % memory["created"])
        assert_true(memory["full"]["bytes"] <= memory["full"]["limit"], "memory stays within the limit")
        assert_equal((memory["released"]["templates"], memory["released"]["bytes"]), (0, 0), "all released")
        assert_true(memory["created_after_release"], "a template after the release")

        # checkBlock and submitBlock.
        check = self.probe("check")
        assert_equal(check["template_nopow"], {"result": True, "reason": ""}, "template checked without pow")
        assert_equal(check["template_pow"]["reason"], "proof of work too weak", "template checked with pow")
        assert_equal(check["solved"], {"result": True, "reason": ""}, "solved block checks")
        assert_equal(check["submit"], {"result": True, "reason": ""}, "submitBlock")
        assert_equal(check["submit_again"], {"result": False, "reason": "duplicate"}, "submitBlock again")
        assert_equal(check["stale"]["reason"], "inconclusive-not-best-prevblk", "checkBlock off the tip")
        assert_equal(rpc.getbestblockhash(), check["hash"], "submitBlock's block is the tip")

        # A client killed while the node serves its waitNext: no crash, nothing left behind.
        holder = subprocess.Popen([self.probe_binary, self.socket, "hold", "120"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True)
        try:
            line = holder.stdout.readline()
            assert_equal(line.strip(), "waiting", "the holder is in waitNext")
            assert_equal(self.probe("load")["templates"], 1, "the holder's template is live")
            holder.kill()
            holder.wait(timeout=10)
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait(timeout=10)
        wait_until(lambda: self.probe("load")["templates"] == 0, timeout=10,
                   message="the killed client's template is freed")
        assert_equal(rpc.getblockcount(), self.probe("load")["tip_height"], "node still serves")

        # minicoin-miner: its own key, blocks the node accepts, then a clean stop on SIGINT.
        start_height = rpc.getblockcount()
        result = subprocess.run([self.miner_binary, "-datadir=" + node.basedir, "-blocks=3", "-threads=2"],
                                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert_equal(result.returncode, 0, "minicoin-miner -blocks=3 exit code (stderr: %s)" % result.stderr)
        key_path = os.path.join(node.datadir, "miner", "key")
        assert_true(os.path.isfile(key_path), "the miner's key file")
        assert_equal(os.stat(key_path).st_mode & 0o777, 0o600, "key file mode")
        lines = result.stdout.splitlines()
        address = next(l.split()[-1] for l in lines if l.startswith("mining to "))
        found = [l.split() for l in lines if l.startswith("block ")]
        assert_equal(len(found), 3, "blocks printed: %r" % lines)
        assert_equal(rpc.getblockcount(), start_height + 3, "height after the miner")
        for words in found:
            assert_equal(words[4], "accepted", "printed result")
            block = rpc.getblock(words[1], 2)
            assert_equal(block["height"], int(words[3]), "height of %s" % words[1])
            assert_equal(block["tx"][0]["vout"][0]["address"], address, "coinbase pays the miner's key")
        # The same key next time.
        result = subprocess.run([self.miner_binary, "-datadir=" + node.basedir, "-blocks=1", "-threads=1"],
                                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert_equal(result.returncode, 0, "second miner run")
        assert_in("mining to " + address, result.stdout, "the key is created once")
        # -address, and SIGINT while mining without a block limit.
        payee = self.genkey()["address"]
        miner = subprocess.Popen([self.miner_binary, "-datadir=" + node.basedir, "-address=" + payee, "-threads=1"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            height = rpc.getblockcount()
            wait_until(lambda: rpc.getblockcount() >= height + 2, timeout=30, message="the miner mines on")
            miner.send_signal(signal.SIGINT)
            out, err = miner.communicate(timeout=20)
        finally:
            if miner.poll() is None:
                miner.kill()
                miner.wait(timeout=10)
        assert_equal(miner.returncode, 0, "exit code after SIGINT (stderr: %s)" % err)
        assert_in("interrupted", out, "the miner says it was interrupted")
        tip = rpc.getblock(rpc.getbestblockhash(), 2)
        assert_equal(tip["tx"][0]["vout"][0]["address"], payee, "-address pays the given address")
        assert_equal(self.probe("load")["templates"], 0, "no template left after the miners")
        bad = subprocess.run([self.miner_binary, "-datadir=" + node.basedir, "-address=nonsense"],
                             capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        assert_true(bad.returncode != 0 and "Invalid -address" in bad.stderr, "a bad -address is refused")


if __name__ == "__main__":
    framework.main(MiningInterfaceTest)
