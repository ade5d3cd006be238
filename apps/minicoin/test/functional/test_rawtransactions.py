#!/usr/bin/env python3
"""Raw transactions: createrawtransaction and decoderawtransaction (against minicoin-tx),
testmempoolaccept (single, a parent with its child, refusals, maxfeerate), sendrawtransaction
(maxfeerate, already in the mempool, already in the chain), getmempoolentry and getrawmempool's
details, getrawtransaction (mempool, block, verbosity 2, the -txindex error), gettxout with and
without the mempool, gettxoutsetinfo's arguments; with the errors of each."""
import decimal
import json

import framework
from framework import (COIN, COINBASE_MATURITY, JSONRPCError, assert_equal, assert_greater_than, assert_in, assert_raises_rpc_error,
                       assert_true, mutate_signature, sha256d, hash_to_hex)

FEE = decimal.Decimal("0.001")
ZERO_SIGNATURE = "00" * 64


def named_call(node, method, params):
    """A JSON-RPC call with named parameters (an object): the result, or JSONRPCError."""
    body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": params}).encode()
    status, data = node.post(body)
    reply = json.loads(data, parse_float=decimal.Decimal)
    if reply.get("error") is not None:
        raise JSONRPCError(reply["error"].get("code"), reply["error"].get("message"))
    return reply["result"]


class RawTransactionsTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc
        key = self.genkey()
        dest = self.genkey()
        hashes = rpc.generatetoaddress(3, key["address"]) + rpc.generatetoaddress(COINBASE_MATURITY, dest["address"])
        coinbases = [rpc.getblock(h)["tx"][0] for h in hashes[:3]]
        self.check_create_and_decode(rpc, key, dest, coinbases)
        parent, child = self.check_test_and_send(rpc, key, dest, coinbases)
        self.check_mempool_entries(rpc, parent, child)
        self.check_getrawtransaction_and_gettxout(rpc, key, dest, coinbases, parent, child)
        self.check_txoutset(rpc)
        for method in ("createrawtransaction", "decoderawtransaction", "testmempoolaccept", "getmempoolentry",
                       "getrawtransaction", "sendrawtransaction", "gettxout", "gettxoutsetinfo"):
            assert_true(rpc.help(method).startswith(method), "help %s starts with its usage" % method)

    def check_create_and_decode(self, rpc, key, dest, coinbases):
        inputs = [{"txid": coinbases[0], "vout": 0}]
        outputs = [{dest["address"]: 30}, {key["address"]: "19.999"}]
        unsigned = rpc.createrawtransaction(inputs, outputs)
        decoded = rpc.decoderawtransaction(unsigned)
        signed = self.create_tx([(coinbases[0], 0, key["secret"])], [(dest["address"], 30), (key["address"], "19.999")])
        tool = self.decode_tx(signed)
        # The same transaction as minicoin-tx's but for the signature (which the txid leaves out).
        assert_equal(decoded["txid"], tool["txid"], "txid of createrawtransaction and minicoin-tx")
        assert_equal(decoded["version"], tool["version"], "version")
        assert_equal(decoded["size"], len(unsigned) // 2, "size")
        assert_equal(decoded["hash"], hash_to_hex(sha256d(bytes.fromhex(unsigned))), "hash")
        assert_equal(decoded["vin"], [{"txid": coinbases[0], "vout": 0, "signature": ZERO_SIGNATURE}], "vin")
        assert_equal([(o["n"], o["address"], o["value"]) for o in decoded["vout"]],
                     [(0, dest["address"], 30), (1, key["address"], decimal.Decimal("19.999"))], "vout")
        assert_true("hex" not in decoded, "decoderawtransaction has no hex")
        decoded_signed = rpc.decoderawtransaction(signed)
        assert_equal(decoded_signed["txid"], decoded["txid"], "signing keeps the txid")
        assert_equal(decoded_signed["vin"][0]["signature"], tool["vin"][0]["signature"], "the signature")
        assert_true(decoded_signed["hash"] != decoded["hash"], "the hash covers the signature")
        # The object form orders the outputs by address.
        as_object = rpc.decoderawtransaction(rpc.createrawtransaction(inputs, {dest["address"]: 30,
                                                                               key["address"]: "19.999"}))
        addresses = [o["address"] for o in as_object["vout"]]
        assert_equal(addresses, sorted(addresses), "object outputs in address order")
        # Named arguments.
        assert_equal(named_call(self.nodes[0], "createrawtransaction", {"outputs": outputs, "inputs": inputs}),
                     unsigned, "createrawtransaction with named arguments")
        assert_equal(named_call(self.nodes[0], "decoderawtransaction", {"hexstring": unsigned}), decoded,
                     "decoderawtransaction with named arguments")

        # Errors, with Bitcoin Core's codes.
        assert_raises_rpc_error(-1, "createrawtransaction", rpc.createrawtransaction)
        assert_raises_rpc_error(-1, "createrawtransaction", rpc.createrawtransaction, inputs)
        assert_raises_rpc_error(-1, "createrawtransaction", rpc.createrawtransaction, inputs, outputs, 0, True, 1)
        assert_raises_rpc_error(-3, None, rpc.createrawtransaction, "notalist", outputs)
        assert_raises_rpc_error(-3, None, rpc.createrawtransaction, inputs, "notalist")
        assert_raises_rpc_error(-8, "missing vout key", rpc.createrawtransaction, [{"txid": coinbases[0]}], outputs)
        assert_raises_rpc_error(-8, "vout cannot be negative", rpc.createrawtransaction,
                                [{"txid": coinbases[0], "vout": -1}], outputs)
        assert_raises_rpc_error(-8, "txid must be of length 64", rpc.createrawtransaction,
                                [{"txid": "abcd", "vout": 0}], outputs)
        assert_raises_rpc_error(-8, "must be hexadecimal", rpc.createrawtransaction,
                                [{"txid": "zz" * 32, "vout": 0}], outputs)
        assert_raises_rpc_error(-5, "Invalid address", rpc.createrawtransaction, inputs, [{"nonsense": 1}])
        assert_raises_rpc_error(-8, "duplicated address", rpc.createrawtransaction, inputs,
                                [{dest["address"]: 1}, {dest["address"]: 2}])
        assert_raises_rpc_error(-8, "exactly one key", rpc.createrawtransaction, inputs,
                                [{dest["address"]: 1, key["address"]: 2}])
        assert_raises_rpc_error(-3, "Invalid amount", rpc.createrawtransaction, inputs, [{dest["address"]: "1.000000001"}])
        assert_raises_rpc_error(-3, "out of range", rpc.createrawtransaction, inputs, [{dest["address"]: -1}])
        assert_raises_rpc_error(-8, "at least one input", rpc.createrawtransaction, [], outputs)
        assert_raises_rpc_error(-8, "at least one output", rpc.createrawtransaction, inputs, [])
        assert_raises_rpc_error(-1, "decoderawtransaction", rpc.decoderawtransaction)
        for bad in ("zz", unsigned[:-2], unsigned + "00", "", unsigned[:20]):
            assert_raises_rpc_error(-22, "TX decode failed", rpc.decoderawtransaction, bad)
        assert_raises_rpc_error(-3, None, rpc.decoderawtransaction, 5)

    def check_test_and_send(self, rpc, key, dest, coinbases):
        parent = self.create_tx([(coinbases[1], 0, key["secret"])], [(dest["address"], 50 - FEE)])
        parent_txid = self.decode_tx(parent)["txid"]
        child = self.create_tx([(parent_txid, 0, dest["secret"])], [(key["address"], 50 - 2 * FEE)])
        child_txid = self.decode_tx(child)["txid"]
        size = len(parent) // 2

        # One transaction: allowed, with its size and fee, and not added.
        result = rpc.testmempoolaccept([parent])
        assert_equal(result, [{"txid": parent_txid, "wtxid": hash_to_hex(sha256d(bytes.fromhex(parent))),
                               "allowed": True, "vsize": size, "fees": {"base": FEE}}], "testmempoolaccept")
        assert_equal(rpc.getrawmempool(), [], "testmempoolaccept adds nothing")
        # The child alone misses its input; with its parent first, both pass.
        assert_equal(rpc.testmempoolaccept([child])[0]["reject-reason"], "missing-inputs", "the child alone")
        both = rpc.testmempoolaccept([parent, child])
        assert_equal([(r["txid"], r["allowed"]) for r in both], [(parent_txid, True), (child_txid, True)], "the package")
        # The first refused one stops the checks.
        bad = mutate_signature(parent)
        result = rpc.testmempoolaccept([bad, child])
        assert_equal(result[0]["allowed"], False, "a bad signature")
        assert_in("signature", result[0]["reject-reason"], "its reason")
        assert_equal(result[1], {"txid": child_txid, "wtxid": hash_to_hex(sha256d(bytes.fromhex(child)))},
                     "after a refusal: not checked")
        # A double spend inside the package; an unsigned transaction.
        rival = self.create_tx([(coinbases[1], 0, key["secret"])], [(key["address"], 50 - FEE)])
        assert_equal(rpc.testmempoolaccept([parent, rival])[1]["reject-reason"], "conflict-in-package", "rival")
        unsigned = rpc.createrawtransaction([{"txid": coinbases[2], "vout": 0}], [{dest["address"]: 49}])
        assert_equal(rpc.testmempoolaccept([unsigned])[0]["allowed"], False, "an unsigned transaction")
        # maxfeerate in coins per 1000 bytes: the fee of 0.001 over ~150 bytes is about 0.0067.
        assert_equal(rpc.testmempoolaccept([parent], "0.001")[0],
                     {"txid": parent_txid, "wtxid": hash_to_hex(sha256d(bytes.fromhex(parent))), "allowed": False,
                      "reject-reason": "max-fee-exceeded"}, "testmempoolaccept above maxfeerate")
        assert_equal(rpc.testmempoolaccept([parent], 0.5)[0]["allowed"], True, "below maxfeerate")
        assert_equal(rpc.testmempoolaccept([parent], 0)[0]["allowed"], True, "maxfeerate 0: no limit")
        # Errors.
        assert_raises_rpc_error(-1, "testmempoolaccept", rpc.testmempoolaccept)
        assert_raises_rpc_error(-3, None, rpc.testmempoolaccept, parent)
        assert_raises_rpc_error(-8, "between 1 and 25", rpc.testmempoolaccept, [])
        assert_raises_rpc_error(-8, "between 1 and 25", rpc.testmempoolaccept, [parent] * 26)
        assert_raises_rpc_error(-22, "TX decode failed", rpc.testmempoolaccept, ["zz"])
        assert_raises_rpc_error(-8, "Fee rates", rpc.testmempoolaccept, [parent], 1)
        assert_raises_rpc_error(-3, None, rpc.testmempoolaccept, [parent], "lots")

        # sendrawtransaction: maxfeerate, then accepted (twice: the same txid), the child too.
        assert_raises_rpc_error(-25, "Fee exceeds maximum", rpc.sendrawtransaction, parent, "0.001")
        assert_equal(rpc.getrawmempool(), [], "refused above maxfeerate")
        assert_raises_rpc_error(-8, "Fee rates", rpc.sendrawtransaction, parent, 2)
        assert_equal(rpc.sendrawtransaction(parent, "0.01"), parent_txid, "sendrawtransaction below maxfeerate")
        assert_equal(rpc.sendrawtransaction(parent), parent_txid, "sendrawtransaction again")
        assert_equal(rpc.sendrawtransaction(child), child_txid, "sendrawtransaction of the child")
        assert_equal(rpc.testmempoolaccept([parent])[0]["reject-reason"], "txn-already-in-mempool", "in the pool")
        assert_raises_rpc_error(-26, "txn-mempool-conflict", rpc.sendrawtransaction, rival)
        assert_raises_rpc_error(-26, "signature", rpc.sendrawtransaction, unsigned)
        assert_raises_rpc_error(-25, "bad-txns-inputs-missingorspent", rpc.sendrawtransaction,
                                self.create_tx([("ab" * 32, 0, key["secret"])], [(key["address"], 1)]))
        assert_raises_rpc_error(-22, "TX decode failed", rpc.sendrawtransaction, "zz")
        assert_raises_rpc_error(-1, "sendrawtransaction", rpc.sendrawtransaction)
        return parent, child

    def check_mempool_entries(self, rpc, parent, child):
        parent_txid = self.decode_tx(parent)["txid"]
        child_txid = self.decode_tx(child)["txid"]
        height = rpc.getblockcount()
        top = rpc.getmempoolentry(parent_txid)
        bottom = rpc.getmempoolentry(child_txid)
        parent_size, child_size = len(parent) // 2, len(child) // 2
        assert_equal((top["vsize"], top["size"], top["fee"], top["height"]), (parent_size, parent_size, FEE, height),
                     "the parent's entry")
        assert_equal(top["wtxid"], hash_to_hex(sha256d(bytes.fromhex(parent))), "wtxid")
        assert_equal(top["fees"], {"base": FEE, "modified": FEE, "ancestor": FEE, "descendant": 2 * FEE}, "fees")
        assert_equal((top["ancestorcount"], top["ancestorsize"]), (1, parent_size), "the parent's ancestors")
        assert_equal((top["descendantcount"], top["descendantsize"]), (2, parent_size + child_size),
                     "the parent's descendants")
        assert_equal((top["depends"], top["spentby"]), ([], [child_txid]), "the parent's relatives")
        assert_equal((bottom["ancestorcount"], bottom["ancestorsize"]), (2, parent_size + child_size),
                     "the child's ancestors")
        assert_equal((bottom["descendantcount"], bottom["depends"], bottom["spentby"]), (1, [parent_txid], []),
                     "the child's relatives")
        assert_equal(bottom["fees"]["ancestor"], 2 * FEE, "the child's ancestor fees")
        assert_true(isinstance(top["time"], int) and top["time"] > 0, "time")
        assert_equal(rpc.getrawmempool(True), {parent_txid: top, child_txid: bottom}, "getrawmempool verbose")
        assert_equal(rpc.getrawmempool(), [parent_txid, child_txid], "getrawmempool, parents first")
        assert_raises_rpc_error(-5, "Transaction not in mempool", rpc.getmempoolentry, "ab" * 32)
        assert_raises_rpc_error(-8, "must be of length 64", rpc.getmempoolentry, "ab")
        assert_raises_rpc_error(-1, "getmempoolentry", rpc.getmempoolentry)
        assert_raises_rpc_error(-3, None, rpc.getrawmempool, "yes")

    def check_getrawtransaction_and_gettxout(self, rpc, key, dest, coinbases, parent, child):
        parent_txid = self.decode_tx(parent)["txid"]
        child_txid = self.decode_tx(child)["txid"]
        # From the mempool.
        assert_equal(rpc.getrawtransaction(parent_txid), parent, "getrawtransaction hex")
        assert_equal(rpc.getrawtransaction(parent_txid, 0), parent, "verbosity 0")
        verbose = rpc.getrawtransaction(parent_txid, True)
        assert_equal(verbose, rpc.getrawtransaction(parent_txid, 1), "verbose true is verbosity 1")
        assert_equal(verbose["hex"], parent, "hex field")
        assert_equal(verbose["vin"][0]["txid"], coinbases[1], "vin")
        assert_true("blockhash" not in verbose and "confirmations" not in verbose, "a mempool transaction has no block")
        # gettxout: the mempool's view and the chain's.
        assert_equal(rpc.gettxout(coinbases[1], 0), None, "a coin the mempool spends")
        assert_equal(rpc.gettxout(coinbases[1], 0, False)["confirmations"], COINBASE_MATURITY + 2, "the chain still has it")
        assert_equal(rpc.gettxout(parent_txid, 0), None, "an output the child spends")
        out = rpc.gettxout(child_txid, 0)
        assert_equal((out["confirmations"], out["value"], out["address"], out["coinbase"]),
                     (0, 50 - 2 * FEE, key["address"], False), "a mempool output")
        assert_equal(rpc.gettxout(child_txid, 0, False), None, "not in the chain")
        assert_equal(rpc.gettxout(child_txid, 1), None, "no such output")
        assert_raises_rpc_error(-8, "must be of length 64", rpc.gettxout, "ab", 0)
        assert_raises_rpc_error(-3, None, rpc.gettxout, child_txid, "zero")
        assert_raises_rpc_error(-8, "vout", rpc.gettxout, child_txid, -1)
        assert_raises_rpc_error(-3, None, rpc.gettxout, child_txid, 0, "yes")
        assert_raises_rpc_error(-1, "gettxout", rpc.gettxout, child_txid)

        # Without a block hash only the mempool is searched.
        confirmed = rpc.getblock(rpc.getblockhash(2))["tx"][0]
        assert_raises_rpc_error(-5, "-txindex", rpc.getrawtransaction, confirmed)
        assert_raises_rpc_error(-5, "genesis block coinbase", rpc.getrawtransaction,
                                rpc.getblock(rpc.getblockhash(0))["tx"][0])
        assert_raises_rpc_error(-8, "must be of length 64", rpc.getrawtransaction, "ab")
        assert_raises_rpc_error(-1, "getrawtransaction", rpc.getrawtransaction)
        assert_raises_rpc_error(-3, None, rpc.getrawtransaction, parent_txid, "yes")

        # Mined: from its block, with the fee and the spent outputs at verbosity 2.
        (block,) = rpc.generatetoaddress(1, dest["address"])
        assert_equal(rpc.getrawmempool(), [], "mined")
        assert_raises_rpc_error(-5, "No such mempool transaction", rpc.getrawtransaction, parent_txid)
        assert_equal(rpc.getrawtransaction(parent_txid, False, block), parent, "from the block")
        one = rpc.getrawtransaction(parent_txid, 1, block)
        assert_equal((one["blockhash"], one["in_active_chain"], one["confirmations"]), (block, True, 1), "block fields")
        header = rpc.getblockheader(block)
        assert_equal((one["time"], one["blocktime"]), (header["time"], header["time"]), "times")
        assert_true("fee" not in one, "no fee at verbosity 1")
        two = rpc.getrawtransaction(parent_txid, 2, block)
        assert_equal(two["fee"], FEE, "fee at verbosity 2")
        assert_equal(two["vin"][0]["prevout"], {"generated": True, "height": 2, "value": 50, "address": key["address"]},
                     "the spent output")
        assert_equal(two["vin"][0]["signature"], one["vin"][0]["signature"], "the signature")
        coinbase = rpc.getrawtransaction(rpc.getblock(block)["tx"][0], 2, block)
        assert_equal(coinbase["vin"], [{"coinbase": True}], "a coinbase at verbosity 2")
        assert_true("fee" not in coinbase, "a coinbase has no fee")
        assert_raises_rpc_error(-5, "No such transaction found in the provided block", rpc.getrawtransaction,
                                parent_txid, 1, rpc.getblockhash(1))
        assert_raises_rpc_error(-5, "Block hash not found", rpc.getrawtransaction, parent_txid, 1, "ab" * 32)
        assert_raises_rpc_error(-8, "must be of length 64", rpc.getrawtransaction, parent_txid, 1, "ab")

        # The child's outputs are in the coin set: sending it again says so.
        assert_raises_rpc_error(-27, "already in utxo set", rpc.sendrawtransaction, child)
        assert_equal(rpc.testmempoolaccept([child])[0]["reject-reason"], "missing-inputs", "a confirmed transaction")
        assert_equal(rpc.gettxout(child_txid, 0)["confirmations"], 1, "the child's output confirmed")

    def check_txoutset(self, rpc):
        stats = rpc.gettxoutsetinfo()
        assert_equal(stats["height"], rpc.getblockcount(), "height")
        assert_equal(stats["bestblock"], rpc.getbestblockhash(), "bestblock")
        # Every coinbase but the one spent, plus the child's output: one transaction each.
        assert_equal(stats["txouts"], rpc.getblockcount(), "txouts")
        assert_equal(stats["transactions"], stats["txouts"], "transactions")
        assert_equal(len(stats["hash_serialized"]), 64, "hash_serialized")
        assert_equal(rpc.gettxoutsetinfo("hash_serialized"), stats, "hash_type hash_serialized")
        without = rpc.gettxoutsetinfo("none")
        assert_true("hash_serialized" not in without, "hash_type none")
        assert_equal(without["txouts"], stats["txouts"], "the same figures")
        assert_raises_rpc_error(-8, "not a valid hash_type", rpc.gettxoutsetinfo, "muhash")
        assert_raises_rpc_error(-8, "coinstatsindex", rpc.gettxoutsetinfo, "none", 5)
        assert_raises_rpc_error(-3, None, rpc.gettxoutsetinfo, 5)
        assert_greater_than(stats["total_amount"], 0, "total_amount")
        assert_equal(stats["total_amount"] * COIN % 1, 0, "whole units")


if __name__ == "__main__":
    framework.main(RawTransactionsTest)
