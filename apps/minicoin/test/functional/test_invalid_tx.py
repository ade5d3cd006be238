#!/usr/bin/env python3
"""Invalid transactions: bad signature, malformed hex, missing inputs, overspend, the same input
twice, a double spend in the mempool, spending an output already spent in a block."""
import framework
from framework import COINBASE_MATURITY, assert_equal, assert_raises_rpc_error, mutate_signature


class InvalidTransactionTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc
        key = self.genkey()
        other = self.genkey()
        hashes = rpc.generatetoaddress(3, key["address"])
        rpc.generatetoaddress(COINBASE_MATURITY, other["address"])
        coinbases = [rpc.getblock(h)["tx"][0] for h in hashes]

        good = self.create_tx([(coinbases[0], 0, key["secret"])], [(other["address"], 49)])

        # Malformed: not hex, truncated, trailing bytes, empty.
        for bad in ("zz", good[:-2], good + "00", "", good[:20]):
            assert_raises_rpc_error(-22, "decode", rpc.sendrawtransaction, bad)

        # A flipped signature bit; a signature by another key.
        assert_raises_rpc_error(-26, ("signature", "sig"), rpc.sendrawtransaction, mutate_signature(good))
        wrong_key = self.create_tx([(coinbases[0], 0, other["secret"])], [(other["address"], 49)])
        assert_raises_rpc_error(-26, ("signature", "sig"), rpc.sendrawtransaction, wrong_key)

        # Spending what does not exist. Bitcoin Core answers -25 "bad-txns-inputs-missingorspent";
        # the brief asks -26 "missing-inputs": either code, a loose reason.
        missing = self.create_tx([("ab" * 32, 0, key["secret"])], [(other["address"], 1)])
        error = assert_raises_rpc_error(None, ("missing", "spent"), rpc.sendrawtransaction, missing)
        assert_equal(error.code in (-25, -26), True, "missing inputs error code %r" % error.code)
        missing_index = self.create_tx([(coinbases[0], 5, key["secret"])], [(other["address"], 1)])
        error = assert_raises_rpc_error(None, ("missing", "spent"), rpc.sendrawtransaction, missing_index)
        assert_equal(error.code in (-25, -26), True, "missing inputs error code %r" % error.code)

        # More out than in; the same input twice.
        overspend = self.create_tx([(coinbases[0], 0, key["secret"])], [(other["address"], "50.00000001")])
        assert_raises_rpc_error(-26, ("belowout", "exceed", "more than", "insufficient", "in <", "overspend",
                                      "less than", "value"), rpc.sendrawtransaction, overspend)
        twice = self.create_tx([(coinbases[0], 0, key["secret"]), (coinbases[0], 0, key["secret"])],
                               [(other["address"], 99)])
        assert_raises_rpc_error(-26, ("duplicate", "twice"), rpc.sendrawtransaction, twice)
        assert_equal(rpc.getrawmempool(), [], "nothing invalid entered the mempool")

        # A double spend of a mempool transaction's input.
        txid = rpc.sendrawtransaction(good)
        conflict = self.create_tx([(coinbases[0], 0, key["secret"])], [(key["address"], 48)])
        assert_raises_rpc_error(-26, "txn-mempool-conflict", rpc.sendrawtransaction, conflict)
        assert_equal(rpc.getrawmempool(), [txid], "the first spend stays")

        # Confirmed: spending the same output again is a missing input.
        (block, ) = rpc.generatetoaddress(1, other["address"])
        assert_equal(rpc.getblock(block)["tx"][1], txid, "the spend is mined")
        error = assert_raises_rpc_error(None, ("missing", "spent"), rpc.sendrawtransaction, conflict)
        assert_equal(error.code in (-25, -26), True, "spent input error code %r" % error.code)
        assert_equal(rpc.getrawmempool(), [], "mempool stays empty")

        # Valid transactions are still accepted.
        fine = self.create_tx([(coinbases[1], 0, key["secret"]), (coinbases[2], 0, key["secret"])],
                              [(other["address"], 99)])
        fine_txid = rpc.sendrawtransaction(fine)
        assert_equal(rpc.getrawmempool(), [fine_txid], "a two-input spend")
        assert_equal(rpc.getmempoolinfo()["total_fee"], 1, "its fee")


if __name__ == "__main__":
    framework.main(InvalidTransactionTest)
