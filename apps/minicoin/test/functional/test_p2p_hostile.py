#!/usr/bin/env python3
"""Hostile peers: garbage, an oversized message, an invalid block and a flood of unrequested
blocks each get their sender disconnected and its address banned, while an honest peer stays
connected and in sync. Bans are listed, refused at connect time, and managed with setban and
clearbanned."""
import struct

import framework
import p2p
from framework import assert_equal, assert_in, assert_true, make_block, wait_until


class P2PHostileTest(framework.FunctionalTest):
    def run(self):
        n0 = self.add_node(start=False)
        n1 = self.add_node(start=False)
        n0.start(n0.p2p_args())
        n1.start(n1.p2p_args())
        key, _ = self.mine_to_new_key(n0, 20)
        self.connect_nodes(n1, n0)
        self.sync_blocks([n0, n1])
        port = n0.p2pport

        def banned():
            return {entry["address"] for entry in n0.rpc.listbanned()}

        # Garbage: a wrong magic ends the connection at once.
        peer = p2p.Peer(port, source_ip="127.0.0.2")
        peer.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 4)
        assert_true(peer.closed_by_node(), "garbage closes the connection")
        wait_until(lambda: "127.0.0.2" in banned(), message="127.0.0.2 banned for garbage")

        # An oversized payload length, refused before any payload byte arrives.
        peer = p2p.Peer(port, source_ip="127.0.0.3")
        peer.handshake()
        header = p2p.MAGIC["regtest"] + b"block".ljust(12, b"\0") + struct.pack("<I", 5_000_000) + b"\0\0\0\0"
        peer.send_raw(header)
        assert_true(peer.closed_by_node(), "an oversized message closes the connection")
        wait_until(lambda: "127.0.0.3" in banned(), message="127.0.0.3 banned for an oversized message")

        # A block with a wrong merkle root but valid proof of work, on the current tip.
        tip = n0.rpc.getblockheader(n0.rpc.getbestblockhash())
        bad = make_block(tip["hash"], tip["height"] + 1, tip["time"] + 1, key["pubkey"], merkle_hex="11" * 32)
        peer = p2p.Peer(port, source_ip="127.0.0.4")
        peer.handshake(best_height=tip["height"] + 1)
        peer.send("block", bytes.fromhex(bad))
        assert_true(peer.closed_by_node(), "an invalid block closes the connection")
        wait_until(lambda: "127.0.0.4" in banned(), message="127.0.0.4 banned for an invalid block")
        assert_equal(n0.rpc.getbestblockhash(), tip["hash"], "the invalid block changed nothing")

        # A flood of unrequested (already known) blocks.
        known = bytes.fromhex(n0.rpc.getblock(tip["hash"], 0))
        peer = p2p.Peer(port, source_ip="127.0.0.5")
        peer.handshake(best_height=tip["height"])
        closed = False
        for _ in range(200):
            try:
                peer.send("block", known)
            except OSError:
                closed = True
                break
        assert_true(closed or peer.closed_by_node(), "a block flood closes the connection")
        wait_until(lambda: "127.0.0.5" in banned(), message="127.0.0.5 banned for a flood")

        # The honest peer stayed connected and keeps syncing.
        assert_in(n0.p2p_address(), n1.peer_addresses(), "n1 is still connected to n0")
        more = n0.rpc.generatetoaddress(5, key["address"])
        assert_equal(self.sync_blocks([n0, n1]), more[-1], "n1 follows n0 after the attacks")

        # Banned addresses are refused at connect time; others are not.
        assert_true(p2p.connection_refused(port, "127.0.0.2"), "a banned address is refused")
        assert_true(not p2p.connection_refused(port, "127.0.0.6"), "an unbanned address is served")

        # setban, listbanned, clearbanned.
        n0.rpc.setban("127.0.0.7", "add", 3600)
        entry = [e for e in n0.rpc.listbanned() if e["address"] == "127.0.0.7"]
        assert_equal(len(entry), 1, "setban lists the address")
        assert_true(3500 <= entry[0]["ban_duration"] <= 3600, "the ban lasts an hour")
        framework.assert_raises_rpc_error(-30, "", n0.rpc.setban, "not-an-ip", "add")
        n0.rpc.setban("127.0.0.7", "remove")
        assert_true("127.0.0.7" not in banned(), "setban remove lifts the ban")
        # Bans survive a restart.
        n0.restart(n0.p2p_args())
        assert_in("127.0.0.2", banned(), "bans kept across a restart")
        n0.rpc.clearbanned()
        assert_equal(n0.rpc.listbanned(), [], "clearbanned empties the list")
        assert_true(not p2p.connection_refused(port, "127.0.0.2"), "a lifted ban lets the address in")
        for node in self.nodes:
            node.stop()


if __name__ == "__main__":
    framework.main(P2PHostileTest)
