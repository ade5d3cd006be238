#!/usr/bin/env python3
"""A miner in another language: clients/js-miner (Node.js, capnp-es's Cap'n Proto RPC) connects to
minicoin-node's -ipcbind socket, bootstraps Init without construct, calls makeMining, reads the
tip, creates a template, solves its header in JavaScript and submits the solution; the node
accepts the blocks. Installs capnp-es with `npm ci` from the lock file first. Runs against
minicoin-node only. Without npm it is skipped, except under scripts/test.sh (which sets
CROSSPROC_REQUIRE_TOOLS=1, or wherever that is set): there scripts/install-deps.sh has installed
it, so its absence is a failure."""
import json
import os
import shutil
import subprocess

import framework
from framework import TestFailure, assert_equal, wait_until

# Needs what only the multi-process layout has (wallet processes, -ipcbind).
BINARIES = ("minicoin-node",)

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "js-miner")


class MiningJsClientTest(framework.FunctionalTest):
    def run(self):
        if shutil.which("npm") is None or shutil.which("node") is None:
            # scripts/install-deps.sh installs Node.js: after it (scripts/test.sh, CI) a missing npm
            # is a fault.
            if os.environ.get("CROSSPROC_REQUIRE_TOOLS") == "1":
                raise TestFailure("npm (Node.js) is not installed; scripts/install-deps.sh installs it")
            self.skip("npm (Node.js) is not installed; the JavaScript client cannot run")
        build = subprocess.run(["bash", os.path.join(CLIENT, "build.sh")], capture_output=True, text=True,
                               timeout=600, stdin=subprocess.DEVNULL)
        if build.returncode != 0:
            raise TestFailure("clients/js-miner/build.sh failed:\n%s%s" % (build.stdout, build.stderr))

        node = self.add_node(["-ipcbind=unix"])
        rpc = node.rpc
        socket = os.path.join(node.datadir, "node.sock")
        wait_until(lambda: os.path.exists(socket), timeout=10, message="node.sock")
        key = self.genkey()
        result = subprocess.run(["node", os.path.join(CLIENT, "miner.mjs"), socket, key["pubkey"], "2"],
                                capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise TestFailure("miner.mjs failed (%d):\n%s%s" % (result.returncode, result.stdout, result.stderr))
        mined = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        assert_equal(len(mined), 2, "blocks printed: %r" % result.stdout)
        assert_equal(rpc.getblockcount(), 2, "height after the JavaScript miner")
        for height, block in enumerate(mined, start=1):
            assert_equal((block["result"], block["reason"], block["height"]), (True, "", height), "answer %r" % block)
            assert_equal(rpc.getblockhash(height), block["hash"], "block %d is the one the client solved" % height)
            coinbase = rpc.getblock(block["hash"], 2)["tx"][0]
            assert_equal(coinbase["vout"][0]["address"], key["address"], "coinbase pays the client's key")


if __name__ == "__main__":
    framework.main(MiningJsClientTest)
