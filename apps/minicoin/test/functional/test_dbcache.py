#!/usr/bin/env python3
"""-dbcache: bad values stop the start with an error naming the option; with the smallest cache
the coin set answers (gettxout, gettxoutsetinfo) include changes not yet written, and a kill -9
before anything is written leaves the same chain and coin set after the restart."""
from decimal import Decimal

import framework
from framework import COINBASE_MATURITY, assert_equal, assert_in, assert_true

FEE = Decimal("0.001")


class DbCacheTest(framework.FunctionalTest):
    def run(self):
        datadir = self.tmpdir + "/bad-dbcache"
        for bad in ("-dbcache=abc", "-dbcache=3", "-dbcache=-1", "-dbcache="):
            result = self.run_node_binary("-datadir=" + datadir, "-regtest", "-server=0", bad)
            assert_equal(result.returncode, 1, "%s exit code" % bad)
            assert_in("-dbcache", result.stdout + result.stderr, "%s is named" % bad)
        help_text = self.run_node_binary("-help").stdout
        assert_in("-dbcache=<n>", help_text, "-dbcache in -help")

        node = self.add_node(["-dbcache=4"])
        rpc = node.rpc
        key = self.genkey()
        dest = self.genkey()
        (first,) = rpc.generatetoaddress(1, key["address"])
        rpc.generatetoaddress(COINBASE_MATURITY, dest["address"])
        coinbase = rpc.getblock(first)["tx"][0]
        spend = self.create_tx([(coinbase, 0, key["secret"])],
                               [(dest["address"], 20), (dest["address"], 30 - FEE)])
        txid = rpc.sendrawtransaction(spend)
        rpc.generatetoaddress(1, dest["address"])

        assert_equal(rpc.gettxout(coinbase, 0), None, "the spent coinbase")
        assert_equal(rpc.gettxout(txid, 0)["value"], Decimal(20), "the new output 0")
        assert_equal(rpc.gettxout(txid, 1)["value"], 30 - FEE, "the new output 1")
        stats = rpc.gettxoutsetinfo()
        height = COINBASE_MATURITY + 2
        assert_equal(stats["height"], height, "gettxoutsetinfo height")
        assert_equal(stats["txouts"], height + 1, "coinbases, less the spent one, plus two outputs")

        # Killed before the coins were written: the blocks are connected again at the start.
        node.kill9()
        node.start()
        assert_equal(rpc.getblockcount(), height, "height after kill -9")
        assert_equal(rpc.gettxoutsetinfo(), stats, "gettxoutsetinfo after kill -9")
        assert_equal(rpc.gettxout(coinbase, 0), None, "the spent coinbase after kill -9")
        assert_equal(rpc.gettxout(txid, 1)["value"], 30 - FEE, "output 1 after kill -9")

        # A clean restart with the default cache keeps it all too.
        node.restart([])
        assert_equal(rpc.gettxoutsetinfo(), stats, "gettxoutsetinfo after a clean restart")
        more = rpc.generatetoaddress(2, key["address"])
        assert_true(rpc.gettxout(rpc.getblock(more[-1])["tx"][0], 0) is not None, "the newest coinbase")


if __name__ == "__main__":
    framework.main(DbCacheTest)
