#!/usr/bin/env python3
"""Reorganisation: two nodes share a chain (blocks copied with submitblock); A confirms two
spends, B mines a longer chain with a conflicting spend of one of the coins; B's blocks submitted
to A in order make A switch: the disconnected spend still valid returns to A's mempool, the one
that conflicts with B's chain does not."""
import framework
from framework import COINBASE_MATURITY, assert_equal, assert_true


class ReorgTest(framework.FunctionalTest):
    def run(self):
        a = self.add_node()
        b = self.add_node()
        assert_equal(a.rpc.getbestblockhash(), b.rpc.getbestblockhash(), "same genesis")
        key = self.genkey()
        miner = self.genkey()

        # A shared chain of 102 blocks: the coinbases of blocks 1 and 2 are mature.
        shared = a.rpc.generatetoaddress(2, key["address"]) + a.rpc.generatetoaddress(COINBASE_MATURITY, miner["address"])
        for h in shared:
            assert_equal(b.rpc.submitblock(a.rpc.getblock(h, 0)), None, "copying block %s to B" % h)
        assert_equal(b.rpc.getbestblockhash(), shared[-1], "B follows A")
        fork_height = len(shared)

        # A confirms two spends in block 103a.
        coinbase = a.rpc.getblock(shared[0])["tx"][0]
        coinbase2 = a.rpc.getblock(shared[1])["tx"][0]
        spend = self.create_tx([(coinbase, 0, key["secret"])], [(miner["address"], "49.99")])
        txid = a.rpc.sendrawtransaction(spend)
        doomed = self.create_tx([(coinbase2, 0, key["secret"])], [(miner["address"], "49.99")])
        doomed_txid = a.rpc.sendrawtransaction(doomed)
        (a_block, ) = a.rpc.generatetoaddress(1, miner["address"])
        assert_equal(sorted(a.rpc.getblock(a_block)["tx"][1:]), sorted([txid, doomed_txid]), "A's block confirms the spends")
        assert_equal(a.rpc.getrawmempool(), [], "A's mempool after mining")
        work_a = int(a.rpc.getblockchaininfo()["chainwork"], 16)

        # B mines three blocks on the shared chain, the first with another spend of coinbase2.
        rival = self.create_tx([(coinbase2, 0, key["secret"])], [(key["address"], "49.98")])
        rival_txid = b.rpc.sendrawtransaction(rival)
        b_blocks = b.rpc.generatetoaddress(3, miner["address"])
        assert_equal(b.rpc.getblock(b_blocks[0])["tx"][1:], [rival_txid], "B's block confirms the rival spend")
        assert_equal(b.rpc.getblockcount(), fork_height + 3, "B's height")

        # The first has only as much work as A's tip: stored, not active.
        assert_equal(a.rpc.submitblock(b.rpc.getblock(b_blocks[0], 0)), "inconclusive", "B's first block on A")
        assert_equal(a.rpc.getbestblockhash(), a_block, "A keeps its tip on equal work")
        # The second has more work: A reorganises.
        for h in b_blocks[1:]:
            assert_equal(a.rpc.submitblock(b.rpc.getblock(h, 0)), None, "B's block %s on A" % h)
        assert_equal(a.rpc.getbestblockhash(), b_blocks[-1], "A switched to B's chain")
        assert_equal(a.rpc.getblockcount(), fork_height + 3, "A's height after the reorg")
        for i, h in enumerate(b_blocks):
            assert_equal(a.rpc.getblockhash(fork_height + 1 + i), h, "A's block at %d" % (fork_height + 1 + i))
        assert_true(int(a.rpc.getblockchaininfo()["chainwork"], 16) > work_a, "more work after the reorg")
        stale = a.rpc.getblock(a_block)
        assert_equal(stale["confirmations"], -1, "a block off the active chain has -1 confirmations")
        assert_true("nextblockhash" not in stale, "a stale block has no nextblockhash")
        assert_equal(a.rpc.getblock(b_blocks[0])["confirmations"], 3, "B's first block confirmations on A")

        # The disconnected spend is back in A's mempool, the conflicting one is gone; the coin set is B's.
        assert_equal(a.rpc.getrawmempool(), [txid], "only the still valid disconnected spend returned to the mempool")
        assert_equal(a.rpc.gettxout(rival_txid, 0)["confirmations"], 3, "B's rival spend on A")
        assert_equal(a.rpc.gettxout(doomed_txid, 0), None, "the conflicting spend's output does not exist")
        assert_equal(a.rpc.gettxout(coinbase, 0), None, "the mempool spends the coinbase again")
        assert_true(a.rpc.gettxout(coinbase, 0, False) is not None, "the coinbase is unspent in the chain")
        assert_equal(a.rpc.gettxoutsetinfo()["hash_serialized"], b.rpc.gettxoutsetinfo()["hash_serialized"],
                     "A's and B's coin sets")
        assert_equal(a.rpc.gettxoutsetinfo()["total_amount"], 50 * (fork_height + 3), "A's total amount")

        # Mining on A confirms it again; B accepts A's new block.
        (block, ) = a.rpc.generatetoaddress(1, miner["address"])
        assert_equal(a.rpc.getblock(block)["tx"][1], txid, "the spend is confirmed again")
        assert_equal(b.rpc.submitblock(a.rpc.getblock(block, 0)), None, "B takes A's block")
        assert_equal(b.rpc.getbestblockhash(), block, "B's tip")
        assert_equal(b.rpc.gettxout(txid, 0)["confirmations"], 1, "B sees the spend confirmed")


if __name__ == "__main__":
    framework.main(ReorgTest)
