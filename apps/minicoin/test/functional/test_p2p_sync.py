#!/usr/bin/env python3
"""Peer-to-peer sync and relay between real node processes on 127.0.0.1: three nodes (one of them
the other node binary, so minicoind and minicoin-node networks mix) sync from genesis, a
transaction reaches every mempool, two partitions mine competing chains and all nodes end on the
most-work tip after reconnecting, and a node started later catches up."""
import framework
from framework import COINBASE_MATURITY, assert_equal, assert_in, assert_true, wait_until


class P2PSyncTest(framework.FunctionalTest):
    def run(self):
        other = self.other_binary() or self.binary
        n0 = self.add_node(start=False)
        n1 = self.add_node(start=False, binary=other)
        n2 = self.add_node(start=False)
        for node in (n0, n1, n2):
            node.start(node.p2p_args())

        # Blocks mined before anyone is connected: n1 and n2 start from genesis.
        key, hashes = self.mine_to_new_key(n0, COINBASE_MATURITY + 10)
        assert_equal(n1.rpc.getblockcount(), 0, "n1 is still at genesis")
        self.connect_nodes(n1, n0)
        self.connect_nodes(n2, n1)
        tip = self.sync_blocks([n0, n1, n2])
        assert_equal(tip, hashes[-1], "every node on n0's tip")
        for node in (n1, n2):
            info = node.rpc.getblockchaininfo()
            assert_equal(info["blocks"], COINBASE_MATURITY + 10, "%r's height" % node)
            assert_equal(info["headers"], COINBASE_MATURITY + 10, "%r's best header" % node)

        # getpeerinfo describes the connections.
        peers = n1.rpc.getpeerinfo()
        assert_equal(len(peers), 2, "n1 has n0 (outbound) and n2 (inbound)")
        by_addr = {p["addr"]: p for p in peers}
        assert_in(n0.p2p_address(), by_addr, "n1's peer list names n0")
        assert_equal(by_addr[n0.p2p_address()]["inbound"], False, "n1 connected to n0")
        assert_equal(by_addr[n0.p2p_address()]["synced_headers"], COINBASE_MATURITY + 10, "n0's known headers")
        assert_true(by_addr[n0.p2p_address()]["bytesrecv"] > 0, "bytes received from n0")
        assert_equal(n1.rpc.getconnectioncount(), 2, "getconnectioncount")
        info = n1.rpc.getnetworkinfo()
        assert_equal(info["connections_in"], 1, "one inbound")
        assert_equal(info["connections_out"], 1, "one outbound")
        totals = n1.rpc.getnettotals()
        assert_true(totals["totalbytesrecv"] > 0 and totals["totalbytessent"] > 0, "getnettotals counts bytes")

        # A transaction sent to n2 reaches every mempool through n1.
        coinbase = self.coinbase_of(n0, hashes[0])
        payee = self.genkey()
        tx = self.create_tx([(coinbase, 0, key["secret"])], [(payee["address"], "49.999")])
        txid = n2.rpc.sendrawtransaction(tx)
        self.sync_mempools([n0, n1, n2])
        assert_in(txid, n0.rpc.getrawmempool(), "the transaction reached n0")
        # Mined at n0, the block reaches everyone and empties their mempools.
        block = n0.rpc.generatetoaddress(1, key["address"])[0]
        assert_equal(self.sync_blocks([n0, n1, n2]), block, "the block with the transaction everywhere")
        wait_until(lambda: all(not n.rpc.getrawmempool() for n in (n0, n1, n2)), message="mempools emptied")

        # Partition: n2 alone mines a longer chain than n0 and n1 together.
        # n2 stops keeping its connection to n1 (addnode remove), then n1 closes it.
        n2.rpc.addnode(n1.p2p_address(), "remove")
        framework.assert_raises_rpc_error(-24, "", n1.rpc.addnode, n2.p2p_address(), "remove")
        for peer in n1.rpc.getpeerinfo():
            if peer["inbound"]:
                n1.rpc.disconnectnode("", peer["id"])
        wait_until(lambda: n2.rpc.getconnectioncount() == 0, message="n2 cut off")
        short = n0.rpc.generatetoaddress(3, key["address"])
        self.sync_blocks([n0, n1])
        # (Another payee: blocks mined on the same parent in the same second to the same address
        # would be identical.)
        long_chain = n2.rpc.generatetoaddress(6, payee["address"])
        assert_true(n1.rpc.getbestblockhash() == short[-1], "n1 follows n0 while cut off")
        self.connect_nodes(n2, n1)
        tip = self.sync_blocks([n0, n1, n2])
        assert_equal(tip, long_chain[-1], "every node on the most-work tip after the partition")
        tips = {t["hash"]: t["status"] for t in n0.rpc.getchaintips()}
        assert_equal(tips.get(short[-1]), "valid-fork", "n0 keeps its old branch as a fork")

        # A node started later catches up from its peers.
        n3 = self.add_node(start=False)
        n3.start(n3.p2p_args() + ["-addnode=" + n0.p2p_address(), "-addnode=" + n2.p2p_address()])
        assert_equal(self.sync_blocks([n0, n1, n2, n3]), long_chain[-1], "the late node caught up")
        for node in self.nodes:
            node.stop()


if __name__ == "__main__":
    framework.main(P2PSyncTest)
