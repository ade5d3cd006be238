#!/usr/bin/env python3
"""The node's interfaces around the chain: uptime, help, unknown methods, echoipc, HTTP
authentication (cookie, wrong password: 401, -rpcuser/-rpcpassword), minicoin-cli, the config
file (-conf, minicoin.conf in the data directory), -help, bad options."""
import json
import os
import time

import framework
from framework import (TestNode, assert_equal, assert_in, assert_raises_rpc_error, assert_true, free_port)


class NodeInterfaceTest(framework.FunctionalTest):
    def run(self):
        node = self.add_node()
        rpc = node.rpc

        # Control RPCs.
        uptime = rpc.uptime()
        assert_true(isinstance(uptime, int) and 0 <= uptime < 600, "uptime %r" % uptime)
        text = rpc.help()
        for method in ("getblockcount", "getblock", "sendrawtransaction", "generatetoaddress", "stop", "echoipc"):
            assert_in(method, text, "help lists %s" % method)
        assert_in("getblockhash", rpc.help("getblockhash"), "help getblockhash")
        assert_equal(rpc.help("nosuchmethod"), "help: unknown command: nosuchmethod", "help of an unknown command")
        assert_raises_rpc_error(-32601, "Method not found", node.call, "nosuchmethod")
        assert_equal(rpc.echoipc("hello, ipc"), "hello, ipc", "echoipc")
        assert_equal(rpc.echoipc(""), "", "echoipc of an empty string")

        # HTTP: the cookie works, anything else is 401; a broken request is a JSON-RPC error.
        cookie = node.cookie_auth()
        assert_true(cookie.startswith("__cookie__:") and len(cookie) > len("__cookie__:") + 16, "cookie format")
        body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": "getblockcount", "params": []}).encode()
        assert_equal(node.post(body)[0], 200, "HTTP status with the cookie")
        assert_equal(node.post(body, auth="__cookie__:wrong")[0], 401, "HTTP status with a wrong password")
        assert_equal(node.post(body, auth="someone:" + cookie.split(":", 1)[1])[0], 401, "wrong user")
        status, data = node.post(b"{not json")
        assert_true(status in (400, 500), "HTTP status of a malformed request: %d" % status)
        if data.strip().startswith(b"{"):
            assert_equal(json.loads(data)["error"]["code"], -32700, "parse error code")

        # minicoin-cli finds the cookie in the data directory.
        rpc.generatetoaddress(2, self.genkey()["address"])
        result = node.cli("getblockcount")
        assert_equal((result.returncode, result.stdout.strip()), (0, "2"), "minicoin-cli getblockcount")
        result = node.cli("getblockhash", "1")
        assert_equal(result.stdout.strip(), rpc.getblockhash(1), "minicoin-cli getblockhash")
        result = node.cli("getblock", rpc.getblockhash(1))
        assert_equal(json.loads(result.stdout)["height"], 1, "minicoin-cli getblock")
        result = node.cli("echoipc", "from the cli")
        assert_equal(result.stdout.strip(), "from the cli", "minicoin-cli echoipc")
        result = node.cli("getblockhash", "99")
        assert_true(result.returncode != 0, "minicoin-cli exit code of an RPC error")
        assert_in("Block height out of range", result.stderr, "minicoin-cli error text")
        result = node.cli("nosuchmethod")
        assert_true(result.returncode != 0, "minicoin-cli exit code of an unknown method")
        wrong = [node.cli_binary, "-datadir=" + node.basedir, "-rpcport=%d" % node.rpcport, "-rpcpassword=wrong",
                 "-rpcuser=someone", "getblockcount"]
        result = framework.subprocess.run(wrong, capture_output=True, text=True, timeout=60)
        assert_true(result.returncode != 0, "minicoin-cli with a wrong password must fail")
        node.stop()
        result = node.cli("getblockcount")
        assert_true(result.returncode != 0, "minicoin-cli without a node must fail")

        # -rpcuser/-rpcpassword.
        node.start(extra_args=["-rpcuser=alice", "-rpcpassword=secret123"], wait=False)
        framework.wait_until(lambda: node.post(body, auth="alice:secret123", timeout=5)[0] == 200
                             if self.port_open(node) else False, timeout=60, message="RPC with -rpcuser")
        assert_equal(node.post(body, auth="alice:wrong")[0], 401, "wrong -rpcpassword")
        node.call("stop", auth="alice:secret123")
        node.wait_for_exit()

        # -conf with the port; then minicoin.conf in the data directory.
        conf_node = TestNode(99, os.path.join(self.tmpdir, "conf"), self.binary, self.cli_binary)
        self.nodes.append(conf_node)
        conf_node.rpcport = free_port()
        conf = os.path.join(self.tmpdir, "custom.conf")
        with open(conf, "w") as f:
            f.write("# a comment\nrpcport=%d\n" % conf_node.rpcport)
        conf_node.start(extra_args=["-conf=" + conf], rpcport_arg=False)
        assert_equal(conf_node.rpc.getblockcount(), 0, "RPC on the port from -conf")
        conf_node.stop()
        conf_node.rpcport = free_port()
        conf_node.write_config("rpcport=%d\n" % conf_node.rpcport)
        conf_node.start(extra_args=[], rpcport_arg=False)
        assert_equal(conf_node.rpc.getblockcount(), 0, "RPC on the port from minicoin.conf")
        conf_node.stop()

        # -ipcbind: a unix socket in the data directory for minicoin-node; an error for minicoind,
        # which runs everything in one process.
        ipc_node = TestNode(98, os.path.join(self.tmpdir, "ipc"), self.binary, self.cli_binary)
        self.nodes.append(ipc_node)
        socket_path = os.path.join(ipc_node.datadir, "node.sock")
        if os.path.basename(self.binary).startswith("minicoin-node"):
            ipc_node.start(extra_args=["-ipcbind=unix"])
            assert_true(os.path.exists(socket_path), "-ipcbind=unix creates %s" % socket_path)
            with framework.socket.socket(framework.socket.AF_UNIX, framework.socket.SOCK_STREAM) as s:
                s.settimeout(10)
                s.connect(socket_path)
            assert_equal(ipc_node.rpc.echoipc("over ipc"), "over ipc", "echoipc with -ipcbind")
            ipc_node.stop()
        else:
            result = self.run_node_binary("-datadir=" + ipc_node.basedir, "-ipcbind=unix")
            assert_equal(result.returncode, 1, "exit code of -ipcbind without IPC support")
            assert_in("ipcbind", result.stdout + result.stderr, "the -ipcbind error names the option")

        # Options that stop the start.
        result = self.run_node_binary("-help")
        assert_equal(result.returncode, 0, "-help exit code")
        for option in ("-datadir", "-rpcport", "-conf", "-rpcuser", "-rpcpassword"):
            assert_in(option, result.stdout, "-help lists %s" % option)
        datadir = os.path.join(self.tmpdir, "bad")
        os.makedirs(datadir)
        result = self.run_node_binary("-datadir=" + datadir, "-nosuchoption=1")
        assert_equal(result.returncode, 1, "exit code of an unknown option")
        assert_in("nosuchoption", result.stdout + result.stderr, "the unknown option is named")
        result = self.run_node_binary("-datadir=" + os.path.join(self.tmpdir, "missing"))
        assert_equal(result.returncode, 1, "exit code of a missing data directory")
        assert_in("does not exist", result.stdout + result.stderr, "missing data directory message")
        result = self.run_node_binary("-datadir=" + datadir, "-conf=" + os.path.join(self.tmpdir, "nope.conf"))
        assert_equal(result.returncode, 1, "exit code of a missing -conf file")
        bad_conf = os.path.join(self.tmpdir, "bad.conf")
        with open(bad_conf, "w") as f:
            f.write("nosuchsetting=1\n")
        result = self.run_node_binary("-datadir=" + datadir, "-conf=" + bad_conf)
        assert_equal(result.returncode, 1, "exit code of an unknown option in the config file")
        assert_in("nosuchsetting", result.stdout + result.stderr, "the config file's unknown option is named")
        try:
            result = self.run_node_binary("-datadir=" + datadir, "-rpcport=notaport",
                                          timeout=10)
            if result.returncode != 1:
                self.disagree("-rpcport=notaport: exit code %d, Bitcoin Core exits 1 (\"Invalid port specified in "
                              "-rpcport\")" % result.returncode)
        except framework.TestFailure:
            self.disagree("-rpcport=notaport: the node started anyway (killed after 10s); Bitcoin Core exits 1 "
                          "(\"Invalid port specified in -rpcport\")")

    @staticmethod
    def port_open(node):
        if node.process.poll() is not None:
            raise framework.TestFailure("node exited: " + node.read_file("stderr.txt")[-1000:])
        try:
            with framework.socket.create_connection(("127.0.0.1", node.rpcport), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
            return False


if __name__ == "__main__":
    framework.main(NodeInterfaceTest)
