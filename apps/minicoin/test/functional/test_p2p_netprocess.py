#!/usr/bin/env python3
"""minicoin-node's minicoin-net process: killed with SIGKILL during sync, it is restarted by the
node, which keeps answering RPC meanwhile, and sync completes; the address book survives a clean
restart of the node."""
import os
import signal

import framework
from framework import assert_equal, assert_true, wait_until

BINARIES = ("minicoin-node",)


class NetProcessTest(framework.FunctionalTest):
    def run(self):
        n0 = self.add_node(start=False)
        n1 = self.add_node(start=False)
        n0.start(n0.p2p_args())
        key, _ = self.mine_to_new_key(n0, 300)
        n1.start(n1.p2p_args() + ["-addnode=" + n0.p2p_address()])
        info = n1.rpc.getnetworkinfo()
        pid = info["netprocess"]["pid"]
        assert_true(pid > 0, "getnetworkinfo names the minicoin-net process")
        assert_equal(info["netprocess"]["restarts"], 0, "no restart yet")
        # Kill it while sync is (most likely) still going on.
        wait_until(lambda: n1.rpc.getblockcount() > 0 or n1.rpc.getconnectioncount() > 0, message="sync to start")
        os.kill(pid, signal.SIGKILL)
        # The node answers RPC while the process is gone and after.
        assert_true(n1.rpc.getblockcount() >= 0, "RPC answered while minicoin-net is down")
        def restarted():
            try:
                return n1.rpc.getnetworkinfo()["netprocess"]["restarts"] == 1
            except framework.JSONRPCError as e:
                assert_equal(e.code, -9, "the error while minicoin-net is down")
                return False
        wait_until(restarted, timeout=60, message="minicoin-net restarted")
        new_pid = n1.rpc.getnetworkinfo()["netprocess"]["pid"]
        assert_true(new_pid not in (0, pid), "a new minicoin-net process")
        assert_equal(self.sync_blocks([n0, n1]), n0.rpc.getbestblockhash(), "sync completed after the kill")
        more = n0.rpc.generatetoaddress(3, key["address"])
        assert_equal(self.sync_blocks([n0, n1]), more[-1], "new blocks relayed after the restart")

        # The address book: after a clean restart without -addnode, n1 finds n0 from peers.dat.
        n1.stop()
        assert_true(os.path.exists(os.path.join(n1.datadir, "net", "peers.dat")), "peers.dat written")
        n1.start(n1.p2p_args(automatic=True))
        wait_until(lambda: n0.p2p_address() in n1.peer_addresses(), timeout=60,
                   message="n1 to reconnect to n0 from its address book")
        for node in self.nodes:
            node.stop()


if __name__ == "__main__":
    framework.main(NetProcessTest)
