#!/usr/bin/env python3
"""Block commitment: a copy of a valid block that differs only in a signature, or in the
coinbase's signature field, has the same header and so the same hash. Submitted first, it is
rejected without making that hash unacceptable: the genuine block is accepted afterwards, the
chain grows on it, and this holds across a restart. Data in the coinbase's signature field is
allowed when the merkle root commits to it."""
import framework
from framework import (COIN, COINBASE_MATURITY, SUBSIDY, assert_equal, assert_true, block_hash, make_block,
                       make_coinbase, mutate_signature, replace_transactions)


class BlockCommitmentTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc
        key = self.genkey()
        other = self.genkey()
        hashes = rpc.generatetoaddress(1, key["address"])
        rpc.generatetoaddress(COINBASE_MATURITY, other["address"])
        coinbase_txid = rpc.getblock(hashes[0])["tx"][0]
        fee = 1  # coins
        spend = self.create_tx([(coinbase_txid, 0, key["secret"])], [(other["address"], SUBSIDY - fee)])

        # A block spending the mature coinbase, and a copy with one signature bit flipped.
        tip = rpc.getbestblockhash()
        tip_block = rpc.getblock(tip)
        height = tip_block["height"] + 1
        genuine = make_block(tip, height, tip_block["time"] + 1, other["pubkey"], [spend],
                             amount_units=(SUBSIDY + fee) * COIN)
        genuine_hash = block_hash(bytes.fromhex(genuine))
        coinbase = make_coinbase(height, other["pubkey"], (SUBSIDY + fee) * COIN)
        malleated = replace_transactions(genuine, [coinbase, mutate_signature(spend)])
        assert_equal(block_hash(bytes.fromhex(malleated)), genuine_hash, "the malleated copy has the same hash")
        result = rpc.submitblock(malleated)
        print("submitblock(malleated signature) -> %r" % result)
        assert_true(isinstance(result, str) and "merkle" in result,
                    "the malleated copy is rejected for its merkle root, got %r" % result)
        assert_equal(rpc.getbestblockhash(), tip, "the malleated copy did not move the tip")

        assert_equal(rpc.submitblock(genuine), None, "the genuine block is accepted after its malleated copy")
        assert_equal(rpc.getbestblockhash(), genuine_hash, "the genuine block is the tip")
        assert_equal(rpc.getblock(genuine_hash)["tx"][1], self.decode_tx(spend)["txid"], "the spend is in the tip")
        (child, ) = rpc.generatetoaddress(1, key["address"])
        assert_equal(rpc.getblock(child)["previousblockhash"], genuine_hash, "the chain grows on the genuine block")

        # The same with junk in the coinbase's signature field (not committed by the header).
        tip = child
        height += 2
        clean = make_block(tip, height, rpc.getblock(tip)["time"] + 1, key["pubkey"])
        clean_hash = block_hash(bytes.fromhex(clean))
        junk = replace_transactions(clean, [make_coinbase(height, key["pubkey"], SUBSIDY * COIN, bytes([0x5A] * 64))])
        result = rpc.submitblock(junk)
        print("submitblock(coinbase signature junk) -> %r" % result)
        assert_true(isinstance(result, str) and "merkle" in result,
                    "junk in the coinbase field is rejected for the merkle root, got %r" % result)
        assert_equal(rpc.submitblock(clean), None, "the genuine block is accepted after the junk copy")
        assert_equal(rpc.getbestblockhash(), clean_hash, "the genuine block is the tip")

        # Committed data in the coinbase's signature field is the miner's to use.
        height += 1
        extra = make_block(clean_hash, height, rpc.getblock(clean_hash)["time"] + 1, key["pubkey"],
                           coinbase_signature=bytes(range(64)))
        assert_equal(rpc.submitblock(extra), None, "a block with committed coinbase data is accepted")
        extra_hash = block_hash(bytes.fromhex(extra))

        # Nothing of this is forgotten or poisoned by a restart.
        node.restart()
        assert_equal(rpc.getbestblockhash(), extra_hash, "the tip after a restart")
        result = rpc.submitblock(malleated)
        assert_true(isinstance(result, str) and "merkle" in result, "the malleated copy is still refused: %r" % result)
        assert_equal(rpc.submitblock(genuine), "duplicate", "the genuine block is known and valid")
        (grown, ) = rpc.generatetoaddress(1, key["address"])
        assert_equal(rpc.getblock(grown)["previousblockhash"], extra_hash, "the chain keeps growing")


if __name__ == "__main__":
    framework.main(BlockCommitmentTest)
