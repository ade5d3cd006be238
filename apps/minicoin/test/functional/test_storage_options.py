#!/usr/bin/env python3
"""Storage options: -txindex (getrawtransaction without a block hash, across restarts, enabled on
an existing chain, catching up after running without it, following a reorganisation), -reindex and
-reindex-chainstate (the same tip and coin set hash as before; an unfinished one starts over),
-prune (old block files deleted, getblock's error for a pruned block, getblockchaininfo's pruning
fields, the last 288 blocks kept, a restart) and the start-up errors of -prune with -txindex or
-reindex-chainstate."""
import os

import framework
from framework import (COINBASE_MATURITY, assert_equal, assert_in, assert_raises_rpc_error, assert_true)

MIN_BLOCKS_TO_KEEP = 288


def block_files(node, prefix):
    blocks = os.path.join(node.datadir, "blocks")
    return sorted(name for name in os.listdir(blocks) if name.startswith(prefix) and name.endswith(".dat"))


class StorageOptionsTest(framework.FunctionalTest):
    def run(self):
        self.check_txindex()
        self.check_txindex_on_existing_chain()
        self.check_reindex()
        self.check_prune()
        self.check_startup_errors()

    def check_txindex(self):
        node = self.add_node(["-txindex"])
        rpc = node.rpc
        key = self.genkey()
        dest = self.genkey()
        hashes = rpc.generatetoaddress(2, key["address"]) + rpc.generatetoaddress(COINBASE_MATURITY, dest["address"])
        coinbase = rpc.getblock(hashes[0])["tx"][0]
        spend = self.create_tx([(coinbase, 0, key["secret"])], [(dest["address"], "49.99")])
        txid = rpc.sendrawtransaction(spend)
        # In the mempool: found there first, without a block.
        assert_equal(rpc.getrawtransaction(txid), spend, "a mempool transaction")
        assert_true("blockhash" not in rpc.getrawtransaction(txid, 1), "a mempool transaction has no block")
        mined = rpc.generatetoaddress(1, dest["address"])[0]

        def check_confirmed(confirmations, message):
            assert_equal(rpc.getrawtransaction(txid), spend, message + ": hex")
            verbose = rpc.getrawtransaction(txid, 1)
            assert_equal(verbose["blockhash"], mined, message + ": blockhash")
            assert_equal(verbose["confirmations"], confirmations, message + ": confirmations")
            assert_true("in_active_chain" not in verbose, message + ": in_active_chain only with a block hash")
            assert_equal(verbose["time"], rpc.getblock(mined)["time"], message + ": time")
            assert_equal(rpc.getrawtransaction(txid, 2)["fee"], rpc.getrawtransaction(txid, 2, mined)["fee"],
                         message + ": verbosity 2 as with the block hash")
            assert_equal(rpc.getrawtransaction(coinbase, 1)["blockhash"], hashes[0], message + ": a coinbase")

        check_confirmed(1, "confirmed")
        rpc.generatetoaddress(2, dest["address"])
        check_confirmed(3, "confirmed, two blocks later")
        node.restart()
        check_confirmed(3, "after a restart")
        assert_raises_rpc_error(-5, "No such mempool or blockchain transaction", rpc.getrawtransaction, "ab" * 32)

        # A reorganisation: the block leaves the active chain and the index forgets it.
        rpc.invalidateblock(mined)
        assert_true("blockhash" not in rpc.getrawtransaction(txid, 1), "back in the mempool after invalidateblock")
        rpc.reconsiderblock(mined)
        check_confirmed(3, "after reconsiderblock")

        # Without -txindex: the error that names it. Blocks mined meanwhile are caught up later.
        node.restart([])
        assert_raises_rpc_error(-5, "Use -txindex", rpc.getrawtransaction, txid)
        later = rpc.generatetoaddress(5, key["address"])
        later_coinbase = rpc.getblock(later[-1])["tx"][0]
        node.restart(["-txindex"])
        assert_equal(rpc.getrawtransaction(later_coinbase, 1)["blockhash"], later[-1], "caught up after lagging")
        check_confirmed(8, "after catching up")

        # Killed: the index is consistent with the chain at the next start.
        rpc.generatetoaddress(3, key["address"])
        node.kill9()
        node.start(["-txindex"])
        check_confirmed(11, "after kill -9")
        node.stop()

    def check_txindex_on_existing_chain(self):
        node = self.add_node()
        rpc = node.rpc
        key, hashes = self.mine_to_new_key(node, 10)
        coinbases = [rpc.getblock(h)["tx"][0] for h in hashes]
        assert_raises_rpc_error(-5, "Use -txindex", rpc.getrawtransaction, coinbases[3])
        node.restart(["-txindex"])
        for height, (block_hash, coinbase) in enumerate(zip(hashes, coinbases), start=1):
            verbose = rpc.getrawtransaction(coinbase, 1)
            assert_equal(verbose["blockhash"], block_hash, "coinbase of block %d" % height)
            assert_equal(verbose["confirmations"], 11 - height, "confirmations of block %d's coinbase" % height)
        assert_in("txindex: indexing blocks 1 to 10", node.read_file("debug.log"), "the catch-up is logged")
        node.stop()

    def check_reindex(self):
        node = self.add_node(["-txindex"])
        rpc = node.rpc
        key, hashes = self.mine_to_new_key(node, 30)
        # A side branch, so that the rebuilt index has more than the active chain.
        rpc.invalidateblock(hashes[25])
        side = rpc.generatetoaddress(2, self.genkey()["address"])
        rpc.reconsiderblock(hashes[25])
        tip = rpc.getbestblockhash()
        assert_equal(tip, hashes[-1], "the longer branch is active again")
        stats = rpc.gettxoutsetinfo()
        coinbase = rpc.getblock(hashes[12])["tx"][0]

        def check_same(message):
            assert_equal(rpc.getbestblockhash(), tip, message + ": tip")
            assert_equal(rpc.gettxoutsetinfo(), stats, message + ": gettxoutsetinfo")
            assert_equal(rpc.getblock(side[1])["confirmations"], -1, message + ": the side branch is known")
            assert_equal(rpc.getrawtransaction(coinbase, 1)["blockhash"], hashes[12], message + ": txindex")

        node.restart(["-txindex", "-reindex"])
        check_same("-reindex")
        assert_in("Reindexing done", node.read_file("debug.log"), "-reindex logs its progress")
        node.restart(["-txindex", "-reindex-chainstate"])
        check_same("-reindex-chainstate")
        assert_in("Reindexing the chain state", node.read_file("debug.log"), "-reindex-chainstate is logged")
        # A reindex killed midway leaves its marker: the next start, even without -reindex, starts over.
        node.stop()
        with open(os.path.join(node.datadir, "reindexing"), "w") as f:
            f.write("reindexing\n")
        node.start(["-txindex"])
        check_same("an unfinished reindex")
        assert_in("A reindex did not finish", node.read_file("debug.log"), "the restarted reindex is logged")
        assert_true(not os.path.exists(os.path.join(node.datadir, "reindexing")), "the marker goes when done")
        # The same for -reindex-chainstate.
        node.stop()
        with open(os.path.join(node.datadir, "reindexing-chainstate"), "w") as f:
            f.write("1\n")
        node.start(["-txindex"])
        check_same("an unfinished -reindex-chainstate")
        log = node.read_file("debug.log")
        assert_equal(log.count("A reindex did not finish"), 2, "the restarted -reindex-chainstate is logged")
        assert_equal(log.count("Reindexing the chain state done"), 2, "-reindex-chainstate ran again")
        assert_true(not os.path.exists(os.path.join(node.datadir, "reindexing-chainstate")), "its marker goes too")
        # The chain goes on.
        more = rpc.generatetoaddress(2, key["address"])
        node.restart([])
        assert_equal(rpc.getbestblockhash(), more[-1], "mining after reindexing")
        node.stop()

    def check_prune(self):
        node = self.add_node(["-prune=1", "-blockfilesize=4096"])
        rpc = node.rpc
        info = rpc.getblockchaininfo()
        assert_equal((info["pruned"], info["pruneheight"], info["prune_target_size"]), (True, 0, 0),
                     "getblockchaininfo before pruning")
        genesis = rpc.getblockhash(0)
        key, hashes = self.mine_to_new_key(node, MIN_BLOCKS_TO_KEEP + 60)
        tip_height = len(hashes)
        assert_true("blk00000.dat" not in block_files(node, "blk"), "the first block file was pruned")
        # (Undo records of blocks without spends are small: one undo file holds them all here.)
        assert_raises_rpc_error(-1, "Block not available (not fully downloaded or pruned)", rpc.getblock, genesis)
        assert_raises_rpc_error(-1, "Block not available (not fully downloaded or pruned)", rpc.getblock, hashes[0])
        info = rpc.getblockchaininfo()
        assert_equal(info["pruned"], True, "pruned")
        assert_equal(info["automatic_pruning"], True, "automatic_pruning")
        prune_height = info["pruneheight"]
        assert_true(0 < prune_height <= tip_height - MIN_BLOCKS_TO_KEEP + 1,
                    "pruneheight %d keeps the last %d blocks of %d" % (prune_height, MIN_BLOCKS_TO_KEEP, tip_height))
        # Every block from the prune height on is there; the one below is not.
        for height in range(prune_height, tip_height + 1):
            assert_equal(rpc.getblock(rpc.getblockhash(height))["height"], height, "block %d is kept" % height)
        assert_raises_rpc_error(-1, "pruned", rpc.getblock, rpc.getblockhash(prune_height - 1))
        # Going back below the kept blocks is refused with a clear error, and nothing changes.
        assert_raises_rpc_error(-20, "was pruned", rpc.invalidateblock, hashes[0])
        assert_equal(rpc.getbestblockhash(), hashes[-1], "the tip after a refused invalidateblock")
        # Within them it works.
        rpc.invalidateblock(hashes[-3])
        assert_equal(rpc.getblockcount(), tip_height - 3, "invalidateblock within the kept blocks")
        rpc.reconsiderblock(hashes[-3])
        assert_equal(rpc.getbestblockhash(), hashes[-1], "reconsiderblock on a pruned node")
        stats = rpc.gettxoutsetinfo()
        node.restart()
        assert_equal(rpc.getbestblockhash(), hashes[-1], "tip after restarting a pruned node")
        assert_equal(rpc.gettxoutsetinfo(), stats, "coins after restarting a pruned node")
        assert_true(rpc.getblockchaininfo()["pruneheight"] >= prune_height, "pruneheight after a restart")
        more = rpc.generatetoaddress(20, key["address"])
        assert_equal(rpc.getblockcount(), tip_height + 20, "mining on a pruned node")
        assert_true(rpc.getblockchaininfo()["pruneheight"] > prune_height, "pruning goes on with the chain")
        assert_equal(rpc.getblock(more[-1])["height"], tip_height + 20, "the new tip is readable")
        node.stop()

    def check_startup_errors(self):
        datadir = os.path.join(self.tmpdir, "errors")
        os.makedirs(datadir, exist_ok=True)
        cases = [
            (["-prune=550", "-txindex"], "-prune cannot be combined with -txindex"),
            (["-prune=550", "-reindex-chainstate"], "-prune cannot be combined with -reindex-chainstate"),
            (["-prune=-1"], "Invalid -prune"),
            (["-blockfilesize=10"], "Invalid -blockfilesize"),
        ]
        for extra, message in cases:
            result = self.run_node_binary("-datadir=" + datadir, "-regtest", "-printtoconsole=0", *extra)
            assert_true(result.returncode != 0, "%s must not start" % " ".join(extra))
            assert_in(message, result.stderr, "the error of %s" % " ".join(extra))
        # Outside regtest the target is at least 550 MiB.
        result = self.run_node_binary("-datadir=" + datadir, "-chain=main", "-printtoconsole=0", "-prune=549")
        assert_true(result.returncode != 0, "-prune=549 on main must not start")
        assert_in("-prune=549 is too small: the target is 0 (off) or at least 550 MiB", result.stderr, "its error")
        result = self.run_node_binary("-datadir=" + datadir, "-testnet", "-printtoconsole=0", "-prune=100")
        assert_true(result.returncode != 0, "-prune below the minimum off regtest must not start")
        assert_in("at least 550 MiB", result.stderr, "the error of -prune=100 on testnet")
        help_text = self.run_node_binary("-help").stdout
        for option in ("-txindex", "-reindex", "-reindex-chainstate", "-prune=<n>"):
            assert_in(option, help_text, "-help lists " + option)
        assert_true("-blockfilesize" not in help_text, "the test option is not in -help")


if __name__ == "__main__":
    framework.main(StorageOptionsTest)
