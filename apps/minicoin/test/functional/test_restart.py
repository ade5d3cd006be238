#!/usr/bin/env python3
"""Restarts: a clean restart keeps the chain, the coin set and the mempool-independent state; a
kill -9 in the middle of a long generatetoaddress leaves a consistent chain after restart."""
import threading
import time

import framework
from framework import COIN, assert_equal, assert_true, total_subsidy, wait_until


class RestartTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        key = self.genkey()

        # Clean restart.
        hashes = node.rpc.generatetoaddress(20, key["address"])
        stats = node.rpc.gettxoutsetinfo()
        node.restart()
        assert_equal(node.rpc.getblockcount(), 20, "height after a clean restart")
        assert_equal(node.rpc.getbestblockhash(), hashes[-1], "tip after a clean restart")
        assert_equal(node.rpc.getblockhash(7), hashes[6], "block 7 after a clean restart")
        assert_equal(node.rpc.gettxoutsetinfo(), stats, "gettxoutsetinfo after a clean restart")
        self.check_consistent(node)

        # kill -9 while generatetoaddress mines many blocks.
        outcome = {}

        def mine():
            try:
                outcome["result"] = node.call("generatetoaddress", 100000, key["address"], timeout=600)
            except Exception as e:  # the connection breaks when the process dies
                outcome["error"] = e

        miner = threading.Thread(target=mine, daemon=True)
        miner.start()
        wait_until(lambda: node.call("getblockcount", timeout=30) >= 120, timeout=120,
                   message="mining to pass height 120")
        node.kill9()
        miner.join(timeout=60)
        assert_true(not miner.is_alive(), "the generatetoaddress call ended with the process")
        assert_true("result" not in outcome, "generatetoaddress finished before the kill: nothing tested")

        node.start()
        height = node.rpc.getblockcount()
        assert_true(height >= 20, "height %d after kill -9 lost the clean part of the chain" % height)
        assert_equal(node.rpc.getblockhash(20), hashes[-1], "blocks from before the kill")
        self.check_consistent(node)

        # The chain continues, and survives another clean restart.
        more = node.rpc.generatetoaddress(3, key["address"])
        assert_equal(node.rpc.getblockcount(), height + 3, "mining after recovery")
        node.restart()
        assert_equal(node.rpc.getbestblockhash(), more[-1], "tip after the last restart")
        self.check_consistent(node)

    def check_consistent(self, node):
        """Every block 0..tip readable and linked; the coin set at the tip with every block's subsidy."""
        rpc = node.rpc
        height = rpc.getblockcount()
        previous = None
        for h in range(height + 1):
            block_hash = rpc.getblockhash(h)
            block = rpc.getblock(block_hash)
            assert_equal(block["height"], h, "height of block %d" % h)
            assert_equal(block.get("previousblockhash"), previous, "link of block %d" % h)
            assert_true(len(rpc.getblock(block_hash, 0)) > 160, "bytes of block %d" % h)
            previous = block_hash
        assert_equal(previous, rpc.getbestblockhash(), "the last block is the tip")
        stats = rpc.gettxoutsetinfo()
        assert_equal(stats["height"], height, "gettxoutsetinfo height")
        assert_equal(stats["bestblock"], previous, "gettxoutsetinfo bestblock")
        assert_equal(stats["total_amount"] * COIN, total_subsidy(1, height), "gettxoutsetinfo total_amount")
        assert_equal(stats["txouts"], height, "gettxoutsetinfo txouts")
        info = rpc.getblockchaininfo()
        assert_equal((info["blocks"], info["bestblockhash"]), (height, previous), "getblockchaininfo")


if __name__ == "__main__":
    framework.main(RestartTest)
