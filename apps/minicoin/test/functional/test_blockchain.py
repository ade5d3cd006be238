#!/usr/bin/env python3
"""Mining and the blockchain RPCs: counts, hashes, block and header contents, the coinbase paying
50 to the address, the coin set, addresses."""
import framework
from framework import (COIN, HEADER_SIZE, assert_equal, assert_greater_than, assert_in, assert_raises_rpc_error,
                       assert_true, block_hash, merkle_root, wtxid_of)
import struct


class BlockchainTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc

        # Only the genesis block.
        assert_equal(rpc.getblockcount(), 0, "initial getblockcount")
        genesis = rpc.getbestblockhash()
        assert_equal(rpc.getblockhash(0), genesis, "getblockhash 0")
        assert_raises_rpc_error(-8, "Block height out of range", rpc.getblockhash, 1)
        assert_raises_rpc_error(-8, "Block height out of range", rpc.getblockhash, -1)
        info = rpc.getblockchaininfo()
        assert_equal(info["chain"], "regtest", "getblockchaininfo chain")
        assert_equal(info["blocks"], 0, "getblockchaininfo blocks")
        assert_equal(info["bestblockhash"], genesis, "getblockchaininfo bestblockhash")
        assert_equal((info["headers"], info["bestheaderhash"]), (0, genesis), "getblockchaininfo best header at start")
        # The genesis block is years old: the node is catching up until a recent tip.
        assert_equal(info["initialblockdownload"], True, "getblockchaininfo initialblockdownload at start")
        work0 = int(info["chainwork"], 16)
        assert_greater_than(work0, 0, "genesis chainwork")
        genesis_block = rpc.getblock(genesis)
        assert_equal(genesis_block["height"], 0, "genesis height")
        assert_true("previousblockhash" not in genesis_block, "genesis has no previousblockhash")
        # The genesis coinbase is not in the coin set.
        stats = rpc.gettxoutsetinfo()
        assert_equal((stats["height"], stats["txouts"], stats["total_amount"]), (0, 0, 0), "empty coin set")
        assert_equal(rpc.gettxout(genesis_block["tx"][0], 0), None, "genesis coinbase output")

        # Mining.
        key = self.genkey()
        assert_equal(rpc.generatetoaddress(0, key["address"]), [], "generatetoaddress 0")
        hashes = rpc.generatetoaddress(10, key["address"])
        assert_equal(len(hashes), 10, "generatetoaddress hash count")
        assert_equal(len(set(hashes)), 10, "distinct hashes")
        assert_equal(rpc.getblockcount(), 10, "getblockcount after mining")
        assert_equal(rpc.getbestblockhash(), hashes[-1], "getbestblockhash after mining")
        info = rpc.getblockchaininfo()
        assert_equal((info["headers"], info["bestheaderhash"]), (10, hashes[-1]), "getblockchaininfo best header after mining")
        assert_equal(info["initialblockdownload"], False, "getblockchaininfo initialblockdownload after mining")
        more = rpc.generatetoaddress(2, key["address"], 1000000)
        assert_equal(len(more), 2, "generatetoaddress with maxtries")
        hashes += more
        tip = len(hashes)
        for height, h in enumerate(hashes, start=1):
            assert_equal(rpc.getblockhash(height), h, "getblockhash %d" % height)

        previous = genesis
        for height, h in enumerate(hashes, start=1):
            block = rpc.getblock(h)
            self.check_block(rpc, block, h, height, tip, previous, hashes[height] if height < tip else None)
            # The coinbase pays 50 to the address.
            coinbase = block["tx"][0]
            out = rpc.gettxout(coinbase, 0)
            assert_true(out is not None, "gettxout of coinbase %s" % coinbase)
            assert_equal(out["value"], 50, "coinbase value")
            assert_equal(out["address"], key["address"], "coinbase address")
            assert_equal(out["coinbase"], True, "gettxout coinbase flag")
            assert_equal(out["confirmations"], tip - height + 1, "gettxout confirmations")
            assert_equal(out["bestblock"], hashes[-1], "gettxout bestblock")
            assert_equal(rpc.gettxout(coinbase, 1), None, "gettxout of a missing index")
            previous = h

        # Bitcoin Core writes amounts with exactly 8 decimals ("50.00000000"); the same number
        # written otherwise is only noted.
        body = ('{"jsonrpc": "1.0", "id": 1, "method": "gettxout", "params": ["%s", 0]}' % coinbase).encode()
        status, text = node.post(body)
        assert_equal(status, 200, "gettxout over raw HTTP")
        if b'"value":50.00000000' not in text.replace(b" ", b""):
            self.note("amounts in JSON: gettxout value written as %r, Bitcoin Core writes 50.00000000"
                          % text[text.find(b'"value"'):][:24].decode(errors="replace"))

        # Verbosity 0 is the block's bytes, 2 the transactions as objects.
        raw = rpc.getblock(hashes[0], 0)
        data = bytes.fromhex(raw)
        assert_equal(block_hash(data), hashes[0], "hash of getblock verbosity 0")
        block = rpc.getblock(hashes[0], 1)
        assert_equal(block["size"], len(data), "size")
        assert_equal(data[4:36][::-1].hex(), genesis, "previous hash in the bytes")
        assert_equal(data[36:68][::-1].hex(), block["merkleroot"], "merkle root in the bytes")
        time_, bits, nonce = struct.unpack_from("<III", data, 68)
        assert_equal((block["time"], block["bits"], block["nonce"]), (time_, "%08x" % bits, nonce), "header fields")
        full = rpc.getblock(hashes[0], 2)
        assert_equal(len(full["tx"]), 1, "verbosity 2 transaction count")
        tx = full["tx"][0]
        assert_equal(tx["txid"], block["tx"][0], "verbosity 2 txid")
        assert_in("coinbase", tx["vin"][0], "coinbase input")
        assert_equal(len(tx["vout"]), 1, "coinbase outputs")
        assert_equal(tx["vout"][0]["value"], 50, "coinbase value (verbosity 2)")
        assert_equal(tx["vout"][0]["address"], key["address"], "coinbase address (verbosity 2)")
        assert_equal(tx["vout"][0]["n"], 0, "vout n")
        assert_equal(tx["height"], 1, "coinbase height")
        # The same as minicoin-tx decode of the raw transaction.
        raw_tx = rpc.getrawtransaction(tx["txid"], False, hashes[0])
        decoded = self.decode_tx(raw_tx)
        for field in ("txid", "version", "size", "vout", "height"):
            assert_equal(tx[field], decoded[field], "verbosity 2 %s against minicoin-tx decode" % field)
        assert_equal(rpc.getblock(hashes[0], False), raw, "verbosity false")
        assert_equal(rpc.getblock(hashes[0], True)["hash"], hashes[0], "verbosity true")

        # Headers.
        header = rpc.getblockheader(hashes[1])
        for field in ("hash", "height", "confirmations", "previousblockhash", "merkleroot", "time", "nonce", "bits"):
            assert_equal(header[field], rpc.getblock(hashes[1])[field], "getblockheader %s" % field)
        assert_equal(header["nextblockhash"], hashes[2], "getblockheader nextblockhash")
        assert_equal(rpc.getblockheader(hashes[1], True), header, "getblockheader verbose=true")
        header_hex = rpc.getblockheader(hashes[1], False)
        assert_equal(header_hex, rpc.getblock(hashes[1], 0)[:160], "getblockheader verbose=false")

        # Unknown blocks.
        assert_raises_rpc_error(-5, "Block not found", rpc.getblock, "00" * 32)
        assert_raises_rpc_error(-5, "Block not found", rpc.getblockheader, "00" * 32)
        assert_raises_rpc_error(None, None, rpc.getblock, "xyz")

        # Chain info and coin set follow.
        info = rpc.getblockchaininfo()
        assert_equal((info["blocks"], info["bestblockhash"]), (tip, hashes[-1]), "getblockchaininfo after mining")
        assert_greater_than(int(info["chainwork"], 16), work0, "chainwork grows")
        stats = rpc.gettxoutsetinfo()
        assert_equal(stats["height"], tip, "gettxoutsetinfo height")
        assert_equal(stats["bestblock"], hashes[-1], "gettxoutsetinfo bestblock")
        assert_equal(stats["txouts"], tip, "gettxoutsetinfo txouts")
        assert_equal(stats["total_amount"], 50 * tip, "gettxoutsetinfo total_amount")
        assert_true(len(stats["hash_serialized"]) == 64, "hash_serialized is a hash")
        hash_before = stats["hash_serialized"]
        rpc.generatetoaddress(1, key["address"])
        assert_true(rpc.gettxoutsetinfo()["hash_serialized"] != hash_before, "hash_serialized changes")

        # Addresses.
        assert_raises_rpc_error(-5, "Invalid address", rpc.generatetoaddress, 1, "notanaddress")
        assert_raises_rpc_error(-5, "Invalid address", rpc.generatetoaddress, 1, key["address"][:-1] + ("q" if key["address"][-1] != "q" else "p"))
        valid = rpc.validateaddress(key["address"])
        assert_equal(valid, {"isvalid": True, "address": key["address"], "pubkey": key["pubkey"]}, "validateaddress")
        invalid = rpc.validateaddress("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0")
        assert_equal(invalid["isvalid"], False, "validateaddress of a bitcoin address")
        assert_true(isinstance(invalid.get("error"), str) and invalid["error"], "validateaddress error text")
        assert_equal(rpc.validateaddress("")["isvalid"], False, "validateaddress empty")
        assert_equal(rpc.getblockcount(), tip + 1, "no block mined by failed calls")

    def check_block(self, rpc, block, h, height, tip, previous, next_hash):
        assert_equal(block["hash"], h, "getblock hash")
        assert_equal(block["height"], height, "getblock height")
        assert_equal(block["confirmations"], tip - height + 1, "getblock confirmations")
        assert_equal(block["previousblockhash"], previous, "getblock previousblockhash")
        if next_hash:
            assert_equal(block["nextblockhash"], next_hash, "getblock nextblockhash")
        else:
            assert_true("nextblockhash" not in block, "the tip has no nextblockhash")
        assert_equal(block["nTx"], 1, "getblock nTx")
        assert_equal(len(block["tx"]), 1, "getblock tx")
        assert_true(isinstance(block["tx"][0], str) and len(block["tx"][0]) == 64, "tx are txids")
        raw = rpc.getblock(h, 0)
        coinbase_hex = raw[(HEADER_SIZE + 1) * 2:]
        assert_equal(block["merkleroot"], merkle_root([wtxid_of(coinbase_hex)]), "merkle root of the full hashes")
        assert_equal(block["bits"], "1f7fffff", "bits")
        assert_equal(block["size"], len(rpc.getblock(h, 0)) // 2, "getblock size")
        assert_true(isinstance(block["time"], int) and isinstance(block["nonce"], int), "time and nonce")


if __name__ == "__main__":
    framework.main(BlockchainTest)
