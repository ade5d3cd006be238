#!/usr/bin/env python3
"""signrawtransactionwithwallet (with minicoin-node the wallet answers from its minicoin-wallet
process): a transaction made with createrawtransaction and signed by the wallet is accepted; an
input of another key stays unsigned and is reported; an output the node does not know yet is
signed once prevtxs describes it (a parent and its child then pass testmempoolaccept together);
the wallet selection, a locked wallet and malformed arguments give Bitcoin Core's errors."""
import decimal
import json
import os
import subprocess
import urllib.parse

import framework
from framework import (COINBASE_MATURITY, JSONRPCError, TestFailure, assert_equal, assert_in,
                       assert_raises_rpc_error, assert_true)

FEE = decimal.Decimal("0.001")
ZERO_SIGNATURE = "00" * 64


def wcall(node, wallet, method, *params):
    """`method` on /wallet/<wallet>: its result, or JSONRPCError."""
    body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}).encode()
    status, data = node.post(body, path="/wallet/" + urllib.parse.quote(wallet, safe=""))
    try:
        reply = json.loads(data, parse_float=decimal.Decimal)
    except ValueError:
        raise TestFailure("%s on /wallet/%s: HTTP %d with a non-JSON body %r" % (method, wallet, status, data[:200]))
    if reply.get("error") is not None:
        raise JSONRPCError(reply["error"].get("code"), reply["error"].get("message"))
    return reply["result"]


def wallet_children(node):
    """The node's minicoin-wallet child processes."""
    result = subprocess.run(["pgrep", "-P", str(node.process.pid)], capture_output=True, text=True, timeout=10)
    children = []
    for pid in result.stdout.split():
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if os.path.basename(f.read().split(b"\0")[0].decode()) == "minicoin-wallet":
                    children.append(int(pid))
        except OSError:
            pass
    return children


class SignWithWalletTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc
        outsider = self.genkey()

        # No wallet yet.
        assert_raises_rpc_error(-18, "No wallet is loaded", rpc.signrawtransactionwithwallet, "00")

        rpc.createwallet("w")
        if os.path.basename(self.binary) == "minicoin-node":
            assert_equal(len(wallet_children(node)), 1, "the wallet runs in a minicoin-wallet process")
        address = rpc.getnewaddress()
        # Block 1 pays the wallet, block 2 the outsider; both mature.
        (first,) = rpc.generatetoaddress(1, address)
        (second,) = rpc.generatetoaddress(1, outsider["address"])
        rpc.generatetoaddress(COINBASE_MATURITY, outsider["address"])
        own = rpc.getblock(first)["tx"][0]
        foreign = rpc.getblock(second)["tx"][0]

        # The wallet's coin: complete; the node accepts it.
        unsigned = rpc.createrawtransaction([{"txid": own, "vout": 0}], [{outsider["address"]: str(50 - FEE)}])
        result = rpc.signrawtransactionwithwallet(unsigned)
        assert_equal(result["complete"], True, "complete")
        assert_true("errors" not in result, "no errors")
        decoded = rpc.decoderawtransaction(result["hex"])
        assert_equal(decoded["txid"], rpc.decoderawtransaction(unsigned)["txid"], "signing keeps the txid")
        assert_true(decoded["vin"][0]["signature"] != ZERO_SIGNATURE, "signed")
        assert_equal(rpc.getrawmempool(), [], "signing does not broadcast")
        assert_equal(rpc.testmempoolaccept([result["hex"]])[0]["allowed"], True, "the node would accept it")

        # With the outsider's coin too: that input is reported and left as it is.
        both = rpc.createrawtransaction([{"txid": foreign, "vout": 0}, {"txid": own, "vout": 0}],
                                        [{outsider["address"]: 99}])
        partly = rpc.signrawtransactionwithwallet(both)
        assert_equal(partly["complete"], False, "incomplete")
        assert_equal(len(partly["errors"]), 1, "one error")
        error = partly["errors"][0]
        assert_equal((error["txid"], error["vout"], error["signature"]), (foreign, 0, ZERO_SIGNATURE), "the error entry")
        assert_in("key", error["error"], "the reason")
        assert_equal(rpc.decoderawtransaction(partly["hex"])["vin"][0]["signature"], ZERO_SIGNATURE, "left unsigned")
        assert_raises_rpc_error(-26, "signature", rpc.sendrawtransaction, partly["hex"])
        # The outsider signs its input (minicoin-tx), then the wallet its own: complete.
        outsider_signed = self.create_tx([(foreign, 0, outsider["secret"]), (own, 0, outsider["secret"])],
                                         [(outsider["address"], 99)])
        finished = rpc.signrawtransactionwithwallet(outsider_signed)
        assert_equal(finished["complete"], True, "both inputs signed")
        assert_equal(rpc.testmempoolaccept([finished["hex"]])[0]["allowed"], True, "accepted with both signatures")

        # Send the first one; its coin is then spent in the mempool.
        txid = rpc.sendrawtransaction(result["hex"])
        assert_equal(rpc.getrawmempool(), [txid], "sent")
        again = rpc.signrawtransactionwithwallet(unsigned)
        assert_equal(again["complete"], False, "a spent input")
        assert_equal(again["errors"][0]["error"], "Input not found or already spent", "its reason")

        # A child of a transaction that is not broadcast yet: prevtxs says which key its input pays.
        rpc.generatetoaddress(1, outsider["address"])
        (third,) = rpc.generatetoaddress(1, address)
        rpc.generatetoaddress(COINBASE_MATURITY, outsider["address"])
        coin = rpc.getblock(third)["tx"][0]
        change = rpc.getnewaddress()
        parent = rpc.signrawtransactionwithwallet(
            rpc.createrawtransaction([{"txid": coin, "vout": 0}], [{change: str(50 - FEE)}]))["hex"]
        parent_txid = rpc.decoderawtransaction(parent)["txid"]
        child_unsigned = rpc.createrawtransaction([{"txid": parent_txid, "vout": 0}],
                                                  [{outsider["address"]: str(50 - 2 * FEE)}])
        missing = rpc.signrawtransactionwithwallet(child_unsigned)
        assert_equal((missing["complete"], missing["errors"][0]["error"]), (False, "Input not found or already spent"),
                     "the parent is unknown to the node")
        prevtxs = [{"txid": parent_txid, "vout": 0, "address": change}]
        child = rpc.signrawtransactionwithwallet(child_unsigned, prevtxs, "ALL")
        assert_equal(child["complete"], True, "signed with prevtxs")
        accepted = rpc.testmempoolaccept([parent, child["hex"]])
        assert_equal([r["allowed"] for r in accepted], [True, True], "the parent and the child together")
        assert_equal(rpc.sendrawtransaction(parent), parent_txid, "the parent")
        # Now the node knows the parent's output: a description that contradicts it is refused.
        wrong = [{"txid": parent_txid, "vout": 0, "address": outsider["address"]}]
        assert_raises_rpc_error(-22, "mismatch", rpc.signrawtransactionwithwallet, child_unsigned, wrong)
        assert_equal(rpc.signrawtransactionwithwallet(child_unsigned)["complete"], True, "signed from the mempool's output")
        assert_equal(rpc.sendrawtransaction(child["hex"]), accepted[1]["txid"], "the child")

        # Argument errors.
        assert_raises_rpc_error(-1, "signrawtransactionwithwallet", rpc.signrawtransactionwithwallet)
        assert_raises_rpc_error(-22, "TX decode failed", rpc.signrawtransactionwithwallet, "zz")
        assert_raises_rpc_error(-22, "TX decode failed", rpc.signrawtransactionwithwallet, unsigned[:-2])
        assert_raises_rpc_error(-3, None, rpc.signrawtransactionwithwallet, 7)
        assert_raises_rpc_error(-3, None, rpc.signrawtransactionwithwallet, unsigned, "notalist")
        assert_raises_rpc_error(-3, "Missing address", rpc.signrawtransactionwithwallet, unsigned,
                                [{"txid": parent_txid, "vout": 0}])
        assert_raises_rpc_error(-8, "txid must be of length 64", rpc.signrawtransactionwithwallet, unsigned,
                                [{"txid": "ab", "vout": 0, "address": change}])
        assert_raises_rpc_error(-8, "vout cannot be negative", rpc.signrawtransactionwithwallet, unsigned,
                                [{"txid": parent_txid, "vout": -1, "address": change}])
        assert_raises_rpc_error(-5, "Invalid address", rpc.signrawtransactionwithwallet, unsigned,
                                [{"txid": parent_txid, "vout": 0, "address": "nonsense"}])
        assert_raises_rpc_error(-8, "not a valid sighash parameter", rpc.signrawtransactionwithwallet, unsigned,
                                None, "NONE")
        assert_raises_rpc_error(-1, "signrawtransactionwithwallet", rpc.signrawtransactionwithwallet, unsigned,
                                None, "ALL", 1)

        # Two wallets: one must be named; an encrypted wallet must be unlocked.
        rpc.createwallet("locked", False, False, "secret")
        assert_raises_rpc_error(-19, "Wallet file not specified", rpc.signrawtransactionwithwallet, unsigned)
        assert_equal(wcall(node, "w", "signrawtransactionwithwallet", child_unsigned, prevtxs)["complete"], True,
                     "/wallet/w")
        assert_raises_rpc_error(-13, "walletpassphrase", wcall, node, "locked", "signrawtransactionwithwallet",
                                child_unsigned)
        wcall(node, "locked", "walletpassphrase", "secret", 60)
        unlocked = wcall(node, "locked", "signrawtransactionwithwallet", child_unsigned, prevtxs)
        assert_equal(unlocked["complete"], False, "another wallet does not have the key")
        assert_raises_rpc_error(-18, "does not exist or is not loaded", wcall, node, "nothere",
                                "signrawtransactionwithwallet", unsigned)
        assert_true(rpc.help("signrawtransactionwithwallet").startswith("signrawtransactionwithwallet"), "help")


if __name__ == "__main__":
    framework.main(SignWithWalletTest)
