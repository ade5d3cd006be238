#!/usr/bin/env python3
"""Nodes started after 2,000 blocks catch up from their peers (headers first, then blocks from
several peers), with -connect limiting a node to the peers it names."""
import framework
from framework import assert_equal, assert_true

BLOCKS = 2100


class P2PCatchupTest(framework.FunctionalTest):
    def run(self):
        other = self.other_binary() or self.binary
        n0 = self.add_node(start=False)
        n0.start(n0.p2p_args())
        _, hashes = self.mine_to_new_key(n0, BLOCKS)
        n1 = self.add_node(start=False, binary=other)
        n1.start(n1.p2p_args() + ["-connect=" + n0.p2p_address()])
        assert_equal(self.sync_blocks([n0, n1], timeout=300), hashes[-1], "n1 caught up with n0")
        # n2 downloads from both n0 and n1.
        n2 = self.add_node(start=False)
        n2.start(n2.p2p_args() + ["-connect=" + n0.p2p_address(), "-connect=" + n1.p2p_address()])
        assert_equal(self.sync_blocks([n0, n1, n2], timeout=300), hashes[-1], "n2 caught up with both")
        peers = n2.rpc.getpeerinfo()
        assert_equal(sorted(p["addr"] for p in peers), sorted([n0.p2p_address(), n1.p2p_address()]),
                     "-connect: only the named peers")
        info = n2.rpc.getblockchaininfo()
        assert_equal(info["headers"], BLOCKS, "n2's best header")
        assert_equal(info["initialblockdownload"], False, "n2 left initial download")
        assert_true(all(p["synced_blocks"] == BLOCKS for p in peers), "both peers known to have every block")
        for node in self.nodes:
            node.stop()


if __name__ == "__main__":
    framework.main(P2PCatchupTest)
