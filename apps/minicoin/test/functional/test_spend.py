#!/usr/bin/env python3
"""Spending: a coinbase paid to a minicoin-tx key is rejected before maturity (100 confirmations)
and accepted after; the mempool shows the spend; mining confirms it; gettxout, getrawtransaction
and the coin set follow; an unconfirmed output can be spent again at once."""
from decimal import Decimal

import framework
from framework import (COINBASE_MATURITY, JSONRPCError, assert_equal, assert_in,
                       assert_raises_rpc_error, assert_true)

FEE = Decimal("0.001")


class SpendTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc
        key = self.genkey()
        miner = self.genkey()
        dest = self.genkey()

        (block1,) = rpc.generatetoaddress(1, key["address"])
        coinbase = rpc.getblock(block1)["tx"][0]
        spend = self.create_tx([(coinbase, 0, key["secret"])], [(dest["address"], 50 - FEE)])
        txid = self.decode_tx(spend)["txid"]

        # The coinbase of block 1 is spendable in block 101: the mempool (which checks for the
        # next block) refuses it while the tip is below 100.
        rpc.generatetoaddress(COINBASE_MATURITY - 2, miner["address"])
        assert_equal(rpc.getblockcount(), COINBASE_MATURITY - 1, "height before maturity")
        assert_equal(rpc.gettxout(coinbase, 0)["confirmations"], COINBASE_MATURITY - 1, "confirmations")
        assert_raises_rpc_error(-26, ("premature", "immature", "maturity"), rpc.sendrawtransaction, spend)
        assert_equal(rpc.getrawmempool(), [], "mempool after the premature spend")

        rpc.generatetoaddress(1, miner["address"])
        assert_equal(rpc.gettxout(coinbase, 0)["confirmations"], COINBASE_MATURITY, "confirmations")
        assert_equal(rpc.sendrawtransaction(spend), txid, "sendrawtransaction txid")

        # In the mempool.
        assert_equal(rpc.getrawmempool(), [txid], "getrawmempool")
        assert_equal(rpc.getrawmempool(False), [txid], "getrawmempool verbose=false")
        verbose = rpc.getrawmempool(True)
        assert_equal(list(verbose), [txid], "getrawmempool verbose keys")
        entry = verbose[txid]
        fee = entry["fee"] if "fee" in entry else entry["fees"]["base"]
        assert_equal(fee, FEE, "mempool entry fee")
        assert_equal(entry.get("size", entry.get("vsize")), len(spend) // 2, "mempool entry size")
        info = rpc.getmempoolinfo()
        assert_equal(info["size"], 1, "getmempoolinfo size")
        assert_equal(info["bytes"], len(spend) // 2, "getmempoolinfo bytes")
        assert_true(info["usage"] > 0, "getmempoolinfo usage")
        assert_equal(info["total_fee"], FEE, "getmempoolinfo total_fee")
        # Sending it again is harmless (Bitcoin Core answers with the txid).
        try:
            again = rpc.sendrawtransaction(spend)
            assert_equal(again, txid, "sendrawtransaction of a transaction already in the mempool")
        except JSONRPCError as e:
            self.disagree("sendrawtransaction of a transaction already in the mempool: got error %s %r, Bitcoin "
                          "Core returns the txid" % (e.code, e.message))
        assert_equal(rpc.getmempoolinfo()["size"], 1, "mempool size after resending")

        # gettxout sees the mempool unless asked not to.
        out = rpc.gettxout(txid, 0)
        assert_true(out is not None, "gettxout of the mempool output")
        assert_equal((out["confirmations"], out["value"], out["address"], out["coinbase"]),
                     (0, 50 - FEE, dest["address"], False), "gettxout of the mempool output")
        assert_equal(rpc.gettxout(txid, 0, False), None, "gettxout without the mempool")
        assert_equal(rpc.gettxout(coinbase, 0), None, "gettxout of the output the mempool spends")
        assert_true(rpc.gettxout(coinbase, 0, False) is not None, "gettxout of that output without the mempool")
        assert_equal(rpc.getrawtransaction(txid), spend, "getrawtransaction of a mempool transaction")
        tx = rpc.getrawtransaction(txid, True)
        assert_equal(tx["txid"], txid, "getrawtransaction verbose txid")
        assert_equal(tx["vin"][0]["txid"], coinbase, "getrawtransaction vin")
        assert_equal(tx["vin"][0]["vout"], 0, "getrawtransaction vin vout")
        assert_equal(tx["vout"][0]["value"], 50 - FEE, "getrawtransaction value")

        # Mining confirms it and pays the fee to the miner.
        (block, ) = rpc.generatetoaddress(1, miner["address"])
        assert_equal(rpc.getrawmempool(), [], "mempool after mining")
        assert_equal(rpc.getmempoolinfo()["size"], 0, "getmempoolinfo after mining")
        contents = rpc.getblock(block)
        assert_equal(contents["nTx"], 2, "transactions in the block")
        assert_equal(contents["tx"][1], txid, "the spend is in the block")
        full = rpc.getblock(block, 2)
        if "fee" not in full["tx"][1]:
            self.disagree("getblock verbosity 2: the spending transaction has no \"fee\" (Bitcoin Core and the brief: "
                          "fee of each non-coinbase transaction); got keys %s" % sorted(full["tx"][1]))
        else:
            assert_equal(full["tx"][1]["fee"], FEE, "verbosity 2 fee")
        assert_equal(full["tx"][1]["txid"], txid, "verbosity 2 txid")
        assert_equal(full["tx"][0]["vout"][0]["value"], 50 + FEE, "the coinbase collects the fee")
        out = rpc.gettxout(txid, 0)
        assert_equal((out["confirmations"], out["value"], out["coinbase"]), (1, 50 - FEE, False), "confirmed output")
        assert_equal(rpc.gettxout(coinbase, 0, False), None, "the spent coinbase output is gone")
        assert_equal(rpc.getrawtransaction(txid, False, block), spend, "getrawtransaction with blockhash")
        verbose_tx = rpc.getrawtransaction(txid, True, block)
        assert_equal(verbose_tx["txid"], txid, "getrawtransaction verbose with blockhash")
        if "confirmations" in verbose_tx:
            assert_equal(verbose_tx["confirmations"], 1, "getrawtransaction confirmations")
        height = rpc.getblockcount()
        stats = rpc.gettxoutsetinfo()
        assert_equal(stats["height"], height, "gettxoutsetinfo height")
        assert_equal(stats["total_amount"], 50 * height, "the fee moved, the total is unchanged")
        assert_equal(stats["txouts"], height, "one output spent, one created")

        # An output can be spent at once, and an unconfirmed one too (a chain in the mempool).
        final = self.genkey()
        child = self.create_tx([(txid, 0, dest["secret"])], [(final["address"], 40), (dest["address"], 10 - 2 * FEE)])
        child_txid = rpc.sendrawtransaction(child)
        grandchild = self.create_tx([(child_txid, 1, dest["secret"])], [(final["address"], 10 - 3 * FEE)])
        grandchild_txid = rpc.sendrawtransaction(grandchild)
        assert_equal(sorted(rpc.getrawmempool()), sorted([child_txid, grandchild_txid]), "mempool chain")
        assert_equal(rpc.getmempoolinfo()["total_fee"], 2 * FEE, "mempool chain fees")
        (block, ) = rpc.generatetoaddress(1, miner["address"])
        assert_equal(rpc.getblock(block)["tx"][1:], [child_txid, grandchild_txid], "parent before child in the block")
        assert_equal(rpc.getrawmempool(), [], "mempool after mining the chain")
        assert_equal(rpc.gettxout(grandchild_txid, 0)["value"], 10 - 3 * FEE, "grandchild output")
        assert_equal(rpc.gettxout(child_txid, 0)["address"], final["address"], "child output address")
        assert_in("value", rpc.gettxout(child_txid, 0), "child output")


if __name__ == "__main__":
    framework.main(SpendTest)
