#!/usr/bin/env python3
"""submitblock: blocks built or mutated in Python. A valid block on the tip is accepted (null),
a known one is "duplicate", a valid one off the tip "inconclusive"; bad merkle root, bad proof of
work, unknown previous block, a greedy coinbase and a wrong coinbase height are rejected with a
reason; undecodable data is -22."""
import struct

import framework
from framework import (COIN, OFFSET_MERKLE, OFFSET_NONCE, OFFSET_PREVIOUS, assert_equal, assert_raises_rpc_error,
                       assert_true, block_hash, header_meets_pow, make_block, message_matches, regrind,
                       set_header_field)


class InvalidBlockTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = self.rpc = node.rpc
        key = self.genkey()
        rpc.generatetoaddress(5, key["address"])
        tip = rpc.getbestblockhash()
        tip_block = rpc.getblock(tip)
        raw = rpc.getblock(tip, 0)

        # The node's own block again.
        assert_equal(rpc.submitblock(raw), "duplicate", "submitblock of the tip")

        # The node's tip with bytes changed (the nonce ground again so only the change matters).
        bad_merkle = set_header_field(raw, OFFSET_MERKLE, bytes(32 * [0x11]))
        self.expect_rejected(bad_merkle, ("merkle", "mrkl"), "bad merkle root")
        bad_prev = set_header_field(raw, OFFSET_PREVIOUS, bytes(32 * [0x22]))
        self.expect_rejected(bad_prev, ("prev", "orphan", "unknown", "not found"), "unknown previous block")
        bad_pow = regrind(bytes.fromhex(raw), want_valid=False).hex()
        assert_true(not header_meets_pow(bytes.fromhex(bad_pow)), "the mutated header fails the proof of work")
        self.expect_rejected(bad_pow, ("high-hash", "proof of work", "pow", "target"), "bad proof of work")
        for truncated in (raw[:-2], raw[:100], raw[:160], raw + "00"):
            assert_raises_rpc_error(-22, ("decode", "deserial"), rpc.submitblock, truncated)
        assert_raises_rpc_error(-22, None, rpc.submitblock, "zz")
        assert_equal(rpc.getbestblockhash(), tip, "nothing changed the tip")

        # Blocks built here, on the tip.
        height = tip_block["height"] + 1
        time_ = tip_block["time"] + 1
        pubkey = key["pubkey"]
        greedy = make_block(tip, height, time_, pubkey, amount_units=50 * COIN + 1)
        self.expect_rejected(greedy, ("amount", "subsidy", "coinbase", "reward"), "coinbase paying too much")
        wrong_height = make_block(tip, height + 7, time_, pubkey)
        self.expect_rejected(wrong_height, ("height", "coinbase"), "coinbase with a wrong height")
        wrong_bits = make_block(tip, height, time_, pubkey, bits=0x207FFFFF)
        self.expect_rejected(wrong_bits, ("bits", "diff", "target"), "wrong bits")
        unsolved = make_block(tip, height, time_, pubkey, solve=False)
        if not header_meets_pow(bytes.fromhex(unsolved)):
            self.expect_rejected(unsolved, ("high-hash", "proof of work", "pow", "target"), "unsolved block")
        built_bad_merkle = make_block(tip, height, time_, pubkey, merkle_hex="33" * 32)
        self.expect_rejected(built_bad_merkle, ("merkle", "mrkl"), "built block with a bad merkle root")
        assert_equal(rpc.getbestblockhash(), tip, "no invalid block became the tip")

        good = make_block(tip, height, time_, pubkey)
        good_hash = block_hash(bytes.fromhex(good))
        assert_equal(rpc.submitblock(good), None, "submitblock of a valid block")
        assert_equal(rpc.getbestblockhash(), good_hash, "the valid block is the tip")
        assert_equal(rpc.getblockcount(), height, "the height grew")
        assert_equal(rpc.getblock(good_hash, 0), good, "the stored block is the submitted one")
        assert_equal(rpc.submitblock(good), "duplicate", "submitblock of it again")

        # A valid block with as much work as the tip (a sibling) is stored but does not win.
        sibling = make_block(tip, height, time_ + 1, pubkey)
        assert_equal(rpc.submitblock(sibling), "inconclusive", "submitblock of a valid sibling of the tip")
        assert_equal(rpc.getbestblockhash(), good_hash, "the first block seen stays the tip")
        # A block far in the future.
        future = make_block(good_hash, height + 1, time_ + 3 * 3600 + 2 ** 20, pubkey)
        self.expect_rejected(future, ("time", "future"), "block time too far ahead")
        # Mining continues on the accepted block.
        (mined, ) = rpc.generatetoaddress(1, key["address"])
        assert_equal(rpc.getblock(mined)["previousblockhash"], good_hash, "mined on the submitted block")

    def expect_rejected(self, block_hex, reasons, what):
        result = self.rpc.submitblock(block_hex)
        print("submitblock(%s) -> %r" % (what, result))
        assert_true(isinstance(result, str) and result not in ("duplicate", "inconclusive"),
                    "%s: submitblock returned %r, expected a rejection reason like %r" % (what, result, reasons))
        assert_true(message_matches(result, reasons),
                    "%s: submitblock returned %r, expected a reason containing one of %r" % (what, result, reasons))


if __name__ == "__main__":
    framework.main(InvalidBlockTest)
