#!/usr/bin/env python3
"""Chains and chain rules over RPC: -chain selects main, test or regtest (each with its own
genesis block and data subfolder; conflicting selections are refused; minicoin-cli takes the same
options); on regtest the subsidy halves at block 150, a block time must be after the median time
past, a block may hold at most 1,000,000 bytes, and a transaction enters the mempool and a block
only once its lock time has passed, the mempool refuses fees under -minrelaytxfee and drops
transactions older than -mempoolexpiry. Each limit is checked at the limit and one step over it."""
import os
import struct
import subprocess
import time

import framework
from framework import (COIN, assert_equal, assert_in, assert_raises_rpc_error,
                       assert_true, block_hash, compact_size, make_block, make_coinbase, merkle_root, regrind, subsidy,
                       wtxid_of)

MAIN_GENESIS = "000003049a18053cee4772aabb72872fdf9239a0d3b5f5c9b0a9b69b2aafddc6"
TEST_GENESIS = "00007e5020b8a1599a2ad3a92ab393dd321378a01656d3e0b36117729b77e9a5"
MAX_BLOCK_SIZE = 1_000_000


class ChainRulesTest(framework.FunctionalTest):
    def run(self):
        self.check_chain_selection()
        node = self.add_node()
        self.rpc = node.rpc
        self.key = self.genkey()
        self.check_halving()
        self.check_median_time_past()
        self.check_block_size()
        self.check_lock_time()
        self.check_min_relay_fee()
        self.check_mempool_expiry()

    def check_chain_selection(self):
        for chain, genesis, subdir in (("main", MAIN_GENESIS, ""), ("test", TEST_GENESIS, "testnet")):
            node = self.add_node(chain=chain)
            info = node.rpc.getblockchaininfo()
            assert_equal(info["chain"], chain, "getblockchaininfo chain")
            assert_equal(node.rpc.getblockhash(0), genesis, "the %s genesis block" % chain)
            assert_equal(info["bits"], "1e0fffff" if chain == "main" else "1f00ffff", "%s's easiest bits" % chain)
            expected = os.path.join(node.basedir, subdir) if subdir else node.basedir
            assert_true(os.path.isdir(os.path.join(expected, "blocks")), "%s's blocks are in %s" % (chain, expected))
            assert_equal(node.cli("getblockcount").stdout.strip(), "0", "minicoin-cli on %s" % chain)
            assert_raises_rpc_error(-1, "regtest only (this is %s)" % chain, node.rpc.setmocktime, 1)
            mining = node.rpc.getmininginfo()
            assert_equal(mining["chain"], chain, "getmininginfo names the chain")
            node.stop()
        regtest = self.add_node()
        assert_equal(regtest.rpc.getblockchaininfo()["chain"], "regtest", "the framework's chain")
        assert_true(os.path.isdir(os.path.join(regtest.basedir, "regtest", "blocks")), "regtest's subfolder")
        assert_true(regtest.rpc.getblockhash(0) not in (MAIN_GENESIS, TEST_GENESIS), "regtest's own genesis")
        # minicoin-cli's chain options: -regtest finds the cookie in regtest/ (the config file says
        # regtest too); an unknown chain or two different ones are errors.
        base = [regtest.cli_binary, "-datadir=" + regtest.basedir, "-rpcport=%d" % regtest.rpcport]
        for options in (["-regtest"], ["-chain=regtest"], []):
            result = subprocess.run(base + options + ["getblockcount"], capture_output=True, text=True, timeout=30)
            assert_equal((result.returncode, result.stdout.strip()), (0, "0"), "minicoin-cli %s" % options)
        for options, message in ((["-testnet"], "different chains"), (["-chain=nonet"], "Unknown chain nonet")):
            result = subprocess.run(base + options + ["getblockcount"], capture_output=True, text=True, timeout=30)
            assert_equal(result.returncode, 1, "minicoin-cli %s exit code" % options)
            assert_in(message, result.stderr, "minicoin-cli %s message" % options)
        regtest.stop()
        # The node refuses them the same way.
        result = self.run_node_binary("-datadir=" + regtest.basedir, "-testnet")
        assert_equal(result.returncode, 1, "a node with -testnet and chain=regtest in its config file")
        assert_in("different chains", result.stdout + result.stderr, "the conflict is named")
        result = self.run_node_binary("-datadir=" + regtest.basedir, "-chain=bogus")
        assert_equal(result.returncode, 1, "a node with an unknown chain")
        assert_in("Unknown chain bogus", result.stdout + result.stderr, "the unknown chain is named")

    def tip(self):
        tip = self.rpc.getbestblockhash()
        return tip, self.rpc.getblock(tip)

    def submit(self, block_hex):
        result = self.rpc.submitblock(block_hex)
        print("submitblock -> %r" % result)
        return result

    def check_halving(self):
        rpc = self.rpc
        rpc.generatetoaddress(149, self.key["address"])
        coinbase = rpc.getblock(rpc.getblockhash(149), 2)["tx"][0]
        assert_equal(coinbase["vout"][0]["value"], 50, "block 149 pays 50")
        tip, block = self.tip()
        greedy = make_block(tip, 150, block["time"] + 1, self.key["pubkey"], amount_units=25 * COIN + 1)
        assert_in("coinbase pays more", self.submit(greedy), "block 150 claiming 25 coins and a unit")
        fair = make_block(tip, 150, block["time"] + 1, self.key["pubkey"], amount_units=25 * COIN)
        assert_equal(self.submit(fair), None, "block 150 claiming 25 coins")
        (mined, ) = rpc.generatetoaddress(1, self.key["address"])
        assert_equal(rpc.getblock(mined, 2)["tx"][0]["vout"][0]["value"], 25, "the node's own block 151 pays 25")
        assert_equal(subsidy(151), 25 * COIN, "the framework agrees")
        info = rpc.gettxoutsetinfo()
        assert_equal(info["total_amount"], 149 * 50 + 2 * 25, "the coins in existence")

    def check_median_time_past(self):
        tip, block = self.tip()
        times = []
        walk = tip
        for _ in range(11):
            header = self.rpc.getblock(walk)
            times.append(header["time"])
            walk = header["previousblockhash"]
        median = sorted(times)[5]
        height = block["height"] + 1
        early = make_block(tip, height, median, self.key["pubkey"], amount_units=subsidy(height))
        assert_equal(self.submit(early), "time-too-old", "a block at the median time past")
        on_time = make_block(tip, height, median + 1, self.key["pubkey"], amount_units=subsidy(height))
        assert_equal(self.submit(on_time), None, "a block one second after the median time past")

    def check_block_size(self):
        tip, block = self.tip()
        height = block["height"] + 1
        coinbase = make_coinbase(height, self.key["pubkey"], subsidy(height))

        # Transactions of outputs that pay nobody in particular: well formed, so the size rule is
        # what decides (their inputs do not exist, but the size is checked before the coins are).
        def filler(index, outputs):
            data = struct.pack("<I", 1) + compact_size(1) + bytes([index + 1]) * 32 + struct.pack("<I", 0)
            data += compact_size(outputs) + (struct.pack("<Q", 1) + bytes(32)) * outputs
            data += struct.pack("<I", 0) + bytes(64)
            return data.hex()

        def block_of(txs):
            root = merkle_root([wtxid_of(t) for t in txs])
            header = struct.pack("<I", 1) + bytes.fromhex(tip)[::-1] + bytes.fromhex(root)[::-1]
            header += struct.pack("<III", block["time"] + 1, 0x1F7FFFFF, 0)
            data = header + compact_size(len(txs)) + b"".join(bytes.fromhex(t) for t in txs)
            return regrind(data)

        # Fill to exactly the limit: two large transactions, then one sized to the remaining bytes.
        txs = [coinbase, filler(0, 10000), filler(1, 10000)]
        used = len(block_of(txs))
        last_overhead = len(bytes.fromhex(filler(2, 0))) + 2  # and a longer transaction count
        outputs = (MAX_BLOCK_SIZE - used - last_overhead) // 40
        txs.append(filler(2, outputs))
        size = len(block_of(txs))
        assert_true(MAX_BLOCK_SIZE - 40 < size <= MAX_BLOCK_SIZE, "a block near the limit: %d bytes" % size)
        at_limit = block_of(txs)
        over = block_of(txs[:-1] + [filler(2, outputs + 1)])
        assert_true(len(over) > MAX_BLOCK_SIZE, "one output more is over the limit: %d bytes" % len(over))
        assert_equal(self.submit(over.hex()), "bad-blk-length", "a block over 1,000,000 bytes")
        # Within 40 bytes of the limit (the unit tests check the exact limit) the size rule passes:
        # the block fails later, on its made-up inputs.
        result = self.submit(at_limit.hex())
        assert_true(result not in ("bad-blk-length", None), "a block within the limit passes the size rule: %r" % result)
        assert_equal(self.rpc.getbestblockhash(), tip, "neither became the tip")

    def check_lock_time(self):
        rpc = self.rpc
        coinbase_txid = rpc.getblock(rpc.getblockhash(1))["tx"][0]
        other = self.genkey()
        tip, block = self.tip()
        height = block["height"]  # the next block is height + 1
        locked = self.create_tx_locked(coinbase_txid, other["address"], height + 1)
        assert_raises_rpc_error(-26, "non-final", rpc.sendrawtransaction, locked)
        ready = self.create_tx_locked(coinbase_txid, other["address"], height)
        txid = rpc.sendrawtransaction(ready)
        assert_equal(rpc.getrawmempool(), [txid], "a transaction locked to the tip's height enters the mempool")
        (mined, ) = rpc.generatetoaddress(1, self.key["address"])
        assert_equal(rpc.getblock(mined)["tx"][1], txid, "and the next block")

        # In a block: a lock time equal to the block's height is refused, one below is accepted.
        coinbase2 = rpc.getblock(rpc.getblockhash(2))["tx"][0]
        tip, block = self.tip()
        height = block["height"] + 1
        fee = COIN // 1000
        early = self.create_tx_locked(coinbase2, other["address"], height)
        rejected = make_block(tip, height, block["time"] + 1, self.key["pubkey"], [early],
                              amount_units=subsidy(height) + fee)
        assert_in("not final", self.submit(rejected), "a block holding a transaction locked to its height")
        ripe = self.create_tx_locked(coinbase2, other["address"], height - 1)
        accepted = make_block(tip, height, block["time"] + 2, self.key["pubkey"], [ripe],
                              amount_units=subsidy(height) + fee)
        assert_equal(self.submit(accepted), None, "the same one block later")

    def check_min_relay_fee(self):
        """The default -minrelaytxfee, 0.00001 coins per 1000 bytes: one unit per byte."""
        rpc = self.rpc
        txid = rpc.getblock(rpc.getblockhash(3))["tx"][0]
        other = self.genkey()

        def spend(fee_units):
            amount = 50 * COIN - fee_units
            return self.create_tx([(txid, 0, self.key["secret"])],
                                  [(other["address"], "%d.%08d" % (amount // COIN, amount % COIN))])

        size = len(spend(1)) // 2
        assert_raises_rpc_error(-26, "min-fee-not-met", rpc.sendrawtransaction, spend(size - 1))
        accepted = rpc.sendrawtransaction(spend(size))
        assert_in(accepted, rpc.getrawmempool(), "a fee of one unit per byte is enough")
        datadir = os.path.join(self.tmpdir, "bad-mempool-options")
        os.makedirs(datadir)
        for bad in ("-minrelaytxfee=abc", "-mempoolexpiry=0"):
            result = self.run_node_binary("-datadir=" + datadir, "-regtest", "-server=0", bad)
            assert_equal(result.returncode, 1, "%s exit code" % bad)
            assert_in(bad.split("=")[0], result.stdout + result.stderr, "%s is named" % bad)

    def check_mempool_expiry(self):
        """-mempoolexpiry=1: a transaction stays exactly one hour by the node's clock, and leaves
        the pool (checked when another transaction enters) one second later. setmocktime moves
        the clock; it is for regtest only and not listed by help."""
        node = self.add_node(["-mempoolexpiry=1"])
        rpc = node.rpc
        key = self.genkey()
        now = int(time.time())
        rpc.setmocktime(now)
        rpc.generatetoaddress(2 + framework.COINBASE_MATURITY, key["address"])
        coinbases = [rpc.getblock(rpc.getblockhash(h))["tx"][0] for h in (1, 2, 3)]
        other = self.genkey()

        def spend(txid):
            return self.create_tx([(txid, 0, key["secret"])], [(other["address"], "49.999")])

        old = rpc.sendrawtransaction(spend(coinbases[0]))
        assert_equal(rpc.getmempoolentry(old)["time"], now, "entry time from the node's clock")
        rpc.setmocktime(now + 3600)
        at_limit = rpc.sendrawtransaction(spend(coinbases[1]))
        assert_equal(sorted(rpc.getrawmempool()), sorted([old, at_limit]), "one hour old: still in the pool")
        rpc.setmocktime(now + 3601)
        newer = rpc.sendrawtransaction(spend(coinbases[2]))
        assert_equal(sorted(rpc.getrawmempool()), sorted([at_limit, newer]), "one hour and a second: expired")
        rpc.setmocktime(0)
        assert_true("setmocktime" not in rpc.help(), "setmocktime is not listed by help")
        assert_in("regtest only", rpc.help("setmocktime"), "its own help")
        assert_raises_rpc_error(-8, "cannot be negative", rpc.setmocktime, -1)
        node.stop()

    def create_tx_locked(self, txid, address, lock_time):
        """Spends output 0 of `txid` (a 50-coin coinbase of the key's) paying 49.999, with a lock time."""
        args = ["create", "-in=%s:0:%s" % (txid, self.key["secret"]), "-out=%s:49.999" % address,
                "-locktime=%d" % lock_time]
        return self.tx_tool(*args)


if __name__ == "__main__":
    framework.main(ChainRulesTest)
