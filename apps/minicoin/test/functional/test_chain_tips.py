#!/usr/bin/env python3
"""The block tree by hand: getchaintips through a fork, invalidateblock (the node moves to the best
remaining branch and the disconnected transactions return to the mempool; the mark survives a
restart), reconsiderblock (the chain with the most work comes back); getblockheader's fields and
errors, getdifficulty, getmininginfo."""
import decimal
import struct

import framework
from framework import (COINBASE_MATURITY, assert_equal, assert_greater_than, assert_in, assert_raises_rpc_error,
                       assert_true, make_block, target_from_bits)

REGTEST_BITS = 0x1F7FFFFF
DIFFICULTY_ONE_BITS = 0x1D00FFFF
FEE = decimal.Decimal("0.001")


def difficulty_of(bits):
    return decimal.Decimal(target_from_bits(DIFFICULTY_ONE_BITS)) / decimal.Decimal(target_from_bits(bits))


def assert_close(got, expected, message):
    got = decimal.Decimal(got)
    if abs(got - expected) > abs(expected) * decimal.Decimal("1e-12"):
        raise framework.TestFailure("%s: got %s, expected %s" % (message, got, expected))


def tips_by_hash(rpc):
    return {tip["hash"]: tip for tip in rpc.getchaintips()}


class ChainTipsTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc
        key = self.genkey()
        self.check_difficulty_and_mining_info(rpc, key)

        # 110 blocks; the coinbase of block 1 is mature.
        hashes = rpc.generatetoaddress(COINBASE_MATURITY + 10, key["address"])
        self.check_headers(rpc, hashes)
        assert_equal(rpc.getchaintips(),
                     [{"height": len(hashes), "hash": hashes[-1], "branchlen": 0, "status": "active"}],
                     "getchaintips of a straight chain")

        # Block A (height 111) confirms a spend; S, a sibling of A with the same work, is stored but
        # never connected: a valid-headers tip.
        coinbase = rpc.getblock(hashes[0])["tx"][0]
        spend = self.create_tx([(coinbase, 0, key["secret"])], [(key["address"], 50 - FEE)])
        spend_txid = rpc.sendrawtransaction(spend)
        (a,) = rpc.generatetoaddress(1, key["address"])
        assert_equal(rpc.getblock(a)["tx"][1:], [spend_txid], "A confirms the spend")
        parent = rpc.getblockheader(hashes[-1])
        s_hex = make_block(hashes[-1], len(hashes) + 1, parent["time"] + 1, key["pubkey"])
        assert_equal(rpc.submitblock(s_hex), "inconclusive", "S has as much work as A")
        s = framework.block_hash(bytes.fromhex(s_hex))
        tips = tips_by_hash(rpc)
        assert_equal(tips[a], {"height": 111, "hash": a, "branchlen": 0, "status": "active"}, "A's tip")
        assert_equal(tips[s], {"height": 111, "hash": s, "branchlen": 1, "status": "valid-headers"}, "S's tip")
        assert_equal(rpc.getchaintips()[0]["height"], 111, "highest first")

        # Invalidating A: S becomes the tip, the spend returns to the mempool.
        assert_equal(rpc.invalidateblock(a), None, "invalidateblock")
        assert_equal(rpc.getbestblockhash(), s, "the node moved to the remaining branch")
        assert_equal(rpc.getrawmempool(), [spend_txid], "the spend is back in the mempool")
        assert_equal(rpc.getblockheader(a)["confirmations"], -1, "A is off the active chain")
        tips = tips_by_hash(rpc)
        assert_equal(tips[a]["status"], "invalid", "A's status")
        assert_equal(tips[a]["branchlen"], 1, "A's branch length")
        assert_equal(tips[s]["status"], "active", "S's status")
        # A and what builds on it are refused.
        assert_equal(rpc.submitblock(rpc.getblock(a, 0)), "duplicate-invalid", "A again")
        on_a = make_block(a, 112, rpc.getblockheader(a)["time"] + 1, key["pubkey"])
        assert_equal(rpc.submitblock(on_a), "bad-prevblk", "a block on A")
        # Invalidating a block that is already off the active chain changes nothing else.
        assert_equal(rpc.invalidateblock(a), None, "invalidateblock twice")
        assert_equal(rpc.getbestblockhash(), s, "the tip after invalidating A twice")

        # Mining goes on from S and confirms the spend again.
        (b,) = rpc.generatetoaddress(1, key["address"])
        assert_equal(rpc.getblock(b)["tx"][1:], [spend_txid], "the spend confirmed on S's branch")
        assert_equal(rpc.getrawmempool(), [], "mempool after mining")

        # The mark survives a restart.
        node.restart()
        assert_equal(rpc.getbestblockhash(), b, "tip after restart")
        assert_equal(tips_by_hash(rpc)[a]["status"], "invalid", "A is still invalid after a restart")
        assert_equal(rpc.submitblock(rpc.getblock(a, 0)), "duplicate-invalid", "A after a restart")

        # reconsiderblock clears it; S's branch keeps the tip, having more work; A was connected
        # once: a valid fork.
        assert_equal(rpc.reconsiderblock(a), None, "reconsiderblock")
        assert_equal(rpc.getbestblockhash(), b, "the most-work chain stays")
        assert_equal(tips_by_hash(rpc)[a], {"height": 111, "hash": a, "branchlen": 1, "status": "valid-fork"},
                     "A after reconsiderblock")

        # Invalidating S moves the node back to A (B goes with S); reconsidering S brings B back.
        assert_equal(rpc.invalidateblock(s), None, "invalidateblock S")
        assert_equal(rpc.getbestblockhash(), a, "back on A")
        assert_equal(rpc.getrawmempool(), [], "the spend is confirmed in A")
        tips = tips_by_hash(rpc)
        assert_equal(tips[b], {"height": 112, "hash": b, "branchlen": 2, "status": "invalid"}, "B's tip")
        assert_equal(rpc.gettxout(spend_txid, 0)["confirmations"], 1, "the spend's output on A")
        assert_equal(rpc.reconsiderblock(s), None, "reconsiderblock S")
        assert_equal(rpc.getbestblockhash(), b, "the chain with the most work is active again")
        assert_equal(rpc.getblockcount(), 112, "height")
        node.restart()
        assert_equal(rpc.getbestblockhash(), b, "tip after the second restart")
        assert_true(all(tip["status"] != "invalid" for tip in rpc.getchaintips()), "no invalid tip is left")

        # Blocks with only a coinbase disconnected: a mempool spend of a coinbase that is no longer
        # mature at the new tip leaves the mempool.
        (tip,) = rpc.generatetoaddress(1, key["address"])
        height = rpc.getblockcount()
        young = rpc.getblock(rpc.getblockhash(height - COINBASE_MATURITY + 1))["tx"][0]
        young_spend = rpc.sendrawtransaction(
            self.create_tx([(young, 0, key["secret"])], [(key["address"], 50 - FEE)]))
        assert_equal(rpc.getrawmempool(), [young_spend], "a coinbase spend at its first mature height")
        assert_equal(rpc.invalidateblock(tip), None, "invalidateblock of the tip")
        assert_equal(rpc.getrawmempool(), [], "the spend is premature one block lower")
        assert_equal(rpc.reconsiderblock(tip), None, "reconsiderblock of the tip")
        assert_equal(rpc.getbestblockhash(), tip, "the tip is back")

        # Errors.
        genesis = rpc.getblockhash(0)
        for method in ("invalidateblock", "reconsiderblock", "getblockheader"):
            assert_raises_rpc_error(-5, "Block not found", rpc.__getattr__(method), "ab" * 32)
            assert_raises_rpc_error(-8, "must be of length 64", rpc.__getattr__(method), "abc")
            assert_raises_rpc_error(-8, "must be hexadecimal", rpc.__getattr__(method), "zz" * 32)
            assert_raises_rpc_error(-1, method, rpc.__getattr__(method))
            assert_raises_rpc_error(-3, None, rpc.__getattr__(method), 12)
        assert_raises_rpc_error(-8, "genesis", rpc.invalidateblock, genesis)
        assert_raises_rpc_error(-1, "invalidateblock", rpc.invalidateblock, a, a)
        assert_raises_rpc_error(-3, None, rpc.getblockheader, a, "yes")
        for method in ("getchaintips", "getdifficulty", "getmininginfo"):
            assert_raises_rpc_error(-1, method, rpc.__getattr__(method), 1)
        assert_equal(rpc.getbestblockhash(), tip, "no failed call changed the tip")

    def check_difficulty_and_mining_info(self, rpc, key):
        expected = difficulty_of(REGTEST_BITS)
        assert_close(rpc.getdifficulty(), expected, "getdifficulty")
        assert_close(rpc.getblockchaininfo()["difficulty"], expected, "getblockchaininfo difficulty")
        info = rpc.getmininginfo()
        assert_equal((info["blocks"], info["bits"], info["chain"], info["pooledtx"]), (0, "1f7fffff", "regtest", 0),
                     "getmininginfo at genesis")
        assert_close(info["difficulty"], expected, "getmininginfo difficulty")
        assert_equal(info["target"], "%064x" % target_from_bits(REGTEST_BITS), "getmininginfo target")
        assert_equal(info["networkhashps"], 0, "no blocks, no hash rate")
        assert_in("warnings", info, "getmininginfo warnings")

    def check_headers(self, rpc, hashes):
        tip = len(hashes)
        times = [rpc.getblockheader(h)["time"] for h in [rpc.getblockhash(0)] + hashes]
        for height in (1, 5, 11, tip):
            header = rpc.getblockheader(hashes[height - 1])
            raw = bytes.fromhex(rpc.getblockheader(hashes[height - 1], False))
            assert_equal(len(raw), 80, "the header is 80 bytes")
            version, = struct.unpack_from("<I", raw, 0)
            bits, = struct.unpack_from("<I", raw, 72)
            assert_equal(header["version"], version, "version")
            assert_equal(header["versionHex"], "%08x" % version, "versionHex")
            assert_equal(header["height"], height, "height")
            assert_equal(header["confirmations"], tip - height + 1, "confirmations")
            window = sorted(times[max(0, height - 10):height + 1])
            assert_equal(header["mediantime"], window[len(window) // 2], "mediantime at %d" % height)
            assert_equal(header["bits"], "%08x" % bits, "bits")
            assert_equal(header["target"], "%064x" % target_from_bits(bits), "target")
            assert_close(header["difficulty"], difficulty_of(bits), "difficulty")
            assert_equal(header["nTx"], 1, "nTx")
            assert_equal(rpc.getblock(hashes[height - 1])["mediantime"], header["mediantime"], "getblock mediantime")
        assert_equal(rpc.getblockchaininfo()["mediantime"], rpc.getblockheader(hashes[-1])["mediantime"],
                     "getblockchaininfo mediantime")
        info = rpc.getmininginfo()
        assert_equal(info["blocks"], tip, "getmininginfo blocks")
        if times[-1] > times[max(0, tip - 120)]:
            assert_greater_than(info["networkhashps"], 0, "a hash rate once blocks have times apart")


if __name__ == "__main__":
    framework.main(ChainTipsTest)
