#!/usr/bin/env python3
"""minicoin-wallet -server (minicoin-node only): a wallet process serves its wallets' RPC methods
itself, with the same results and errors as through the node, in both layouts: spawned by
minicoin-node with -walletrpcport (cookie and .rpcport in <datadir>/wallets/<name>/) and attached
with -ipcconnect -server. Checks the cookie (mode 0600, removed at exit), refused credentials,
/wallet/<name> routing, minicoin-cli against the wallet's port, a port already taken (a clear RPC
error when spawned, exit 1 when attached), a bad -rpcbind, and that the server goes away with the
process."""
import base64
import decimal
import json
import os
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import framework
from framework import (COIN, COINBASE_MATURITY, JSONRPCError, TestFailure, assert_equal, assert_in,
                       assert_raises_rpc_error, assert_true, wait_until)

# Needs what only the multi-process layout has (wallet processes, -ipcbind).
BINARIES = ("minicoin-node",)


def units(amount):
    return int((decimal.Decimal(amount) * COIN).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


class Endpoint:
    """A JSON-RPC server at 127.0.0.1:`port` with the cookie at `cookie_path` (or explicit auth)."""

    def __init__(self, port, cookie_path):
        self.port = port
        self.cookie_path = cookie_path

    def cookie(self):
        with open(self.cookie_path) as f:
            return f.read().strip()

    def post(self, method, params, path="/", auth=None, timeout=30):
        """(HTTP status, parsed reply or None)."""
        body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        auth = self.cookie() if auth is None else auth
        if auth:
            request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, data = e.code, e.read()
        try:
            return status, json.loads(data, parse_float=decimal.Decimal)
        except ValueError:
            return status, None

    def call(self, method, *params, path="/"):
        status, reply = self.post(method, params, path=path)
        if reply is None:
            raise TestFailure("%s on port %d%s: HTTP %d without a JSON body" % (method, self.port, path, status))
        if reply.get("error") is not None:
            raise JSONRPCError(reply["error"].get("code"), reply["error"].get("message"))
        return reply["result"]


class NodeWallet:
    """The wallet `name` through the node's RPC (/wallet/<name>)."""

    def __init__(self, node, name):
        self.endpoint = Endpoint(node.rpcport, os.path.join(node.datadir, ".cookie"))
        self.path = "/wallet/" + urllib.parse.quote(name, safe="")

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *params: self.endpoint.call(method, *params, path=self.path)


class OwnWallet:
    """A wallet through its process's own server: on "/" or on /wallet/<name>."""

    def __init__(self, endpoint, name=None):
        self.endpoint = endpoint
        self.path = "/" if name is None else "/wallet/" + urllib.parse.quote(name, safe="")

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *params: self.endpoint.call(method, *params, path=self.path)


def total(wallet):
    """Every coin of the wallet (trusted, pending, immature), in units."""
    mine = wallet.getbalances()["mine"]
    return units(mine["trusted"]) + units(mine["untrusted_pending"]) + units(mine["immature"])


def rpc_error(fn, *params):
    """(code, message) of the JSON-RPC error `fn(*params)` raises; fails if it succeeds."""
    try:
        fn(*params)
    except JSONRPCError as e:
        return e.code, e.message
    raise TestFailure("expected an RPC error")


def connection_refused(port):
    with socket.socket() as s:
        s.settimeout(5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def read_port(folder):
    with open(os.path.join(folder, ".rpcport")) as f:
        return int(f.read().strip())


class WalletServerTest(framework.FunctionalTest):
    def run(self):
        self.wallet_binary = os.path.join(os.path.dirname(self.binary), "minicoin-wallet")
        assert_true(os.access(self.wallet_binary, os.X_OK), "minicoin-wallet next to the node binary")
        self.outsider = self.genkey()["address"]
        self.attached = []
        try:
            node = self.add_node(["-wallet=w1", "-walletrpcport=0", "-ipcbind=unix"])
            self.spawned_layout(node)
            self.attached_layout(node)
            self.notification_delay(node)
            self.spawned_port_conflict()
        finally:
            for process in self.attached:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)

    def wallet_folder(self, node, name):
        return os.path.join(node.datadir, "wallets", name)

    def sync(self, node, wallets):
        tip = node.rpc.getbestblockhash()
        for wallet in wallets:
            wait_until(lambda: wallet.getwalletinfo()["lastprocessedblock"]["hash"] == tip, timeout=20,
                       message="wallet to process the tip")

    def check_cookie(self, path):
        assert_true(os.path.exists(path), "cookie %s written" % path)
        assert_equal(stat.S_IMODE(os.stat(path).st_mode), 0o600, "cookie mode")
        with open(path) as f:
            assert_true(f.read().startswith("__cookie__:"), "cookie format")

    def same_results(self, node, name, own, through_node):
        """The wallet's own server and the node agree on the wallet `name` (already funded)."""
        rpc = node.rpc
        self.sync(node, [own, through_node])
        assert_equal(own.getbalances(), through_node.getbalances(), "getbalances: own server vs node")
        assert_equal(own.getwalletinfo(), through_node.getwalletinfo(), "getwalletinfo: own server vs node")
        assert_equal(own.getwalletinfo()["walletname"], name, "getwalletinfo names the wallet")
        assert_equal(own.listtransactions(), through_node.listtransactions(), "listtransactions: own vs node")
        # getnewaddress: each side hands out a fresh address of this wallet (a payment to the one
        # the own server gave shows in the balance the node reports).
        a1 = own.getnewaddress()
        a2 = through_node.getnewaddress()
        assert_true(a1 != a2 and a1.startswith("mcrt1") and a2.startswith("mcrt1"), "two fresh addresses")
        before = total(through_node)
        txid = own.sendtoaddress(a1, 2)
        assert_in(txid, rpc.getrawmempool(), "the own server's send reached the node's mempool")
        rpc.generatetoaddress(1, self.outsider)
        self.sync(node, [own, through_node])
        after = total(through_node)
        fee = before - after
        assert_true(0 < fee < COIN // 100, "a send to itself costs only the fee (%d units)" % fee)
        assert_equal(own.getbalances(), through_node.getbalances(), "getbalances after the send")
        assert_equal(own.listtransactions(), through_node.listtransactions(), "listtransactions after the send")
        assert_in(txid, [t["txid"] for t in own.listtransactions()], "the send is listed")
        # Errors: same code and message.
        for method, params in [("sendtoaddress", ("not-an-address", 1)),
                               ("sendtoaddress", (self.outsider, 1_000_000)),
                               ("listtransactions", ("*", -1))]:
            mine = rpc_error(getattr(own, method), *params)
            theirs = rpc_error(getattr(through_node, method), *params)
            assert_equal(mine, theirs, "%s%r error: own server vs node" % (method, params))
        assert_equal(rpc_error(own.sendtoaddress, "not-an-address", 1)[0], -5, "invalid address code")

    def auth_refused(self, endpoint):
        for auth in ("", "__cookie__:" + "0" * 64, "user:wrong"):
            status, _ = endpoint.post("getwalletinfo", [], auth=auth)
            assert_equal(status, 401, "HTTP status with credentials %r" % auth)
        status, _ = endpoint.post("getwalletinfo", [])
        assert_equal(status, 200, "HTTP status with the cookie")

    def cli(self, endpoint, *args):
        result = subprocess.run([self.cli_binary, "-rpcport=%d" % endpoint.port, "-rpccookiefile=" + endpoint.cookie_path,
                                 *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        return result

    def spawned_layout(self, node):
        rpc = node.rpc
        folder = self.wallet_folder(node, "w1")
        port = read_port(folder)
        assert_in("wallet w1: its process serves the wallet RPC on port %d" % port, node.read_file("debug.log"),
                  "the node logs the wallet's port")
        own = Endpoint(port, os.path.join(folder, ".cookie"))
        self.check_cookie(own.cookie_path)
        assert_true(port != node.rpcport, "the wallet has a port of its own")
        w1 = OwnWallet(own)
        through_node = NodeWallet(node, "w1")
        rpc.generatetoaddress(COINBASE_MATURITY + 1, through_node.getnewaddress())
        self.same_results(node, "w1", w1, through_node)
        # /wallet/<name> routing, as on the node.
        assert_equal(OwnWallet(own, "w1").getwalletinfo()["walletname"], "w1", "/wallet/w1 on the own server")
        assert_equal(rpc_error(OwnWallet(own, "nosuch").getbalances),
                     rpc_error(NodeWallet(node, "nosuch").getbalances), "/wallet/nosuch: own server vs node")
        # The node manages a spawned process's wallets.
        code, message = rpc_error(w1.createwallet, "other")
        assert_equal(code, -4, "createwallet on a spawned wallet's server")
        assert_in("through the node", message, "createwallet refusal says where to go")
        self.auth_refused(own)
        result = self.cli(own, "getwalletinfo")
        assert_equal(result.returncode, 0, "minicoin-cli against the wallet's port: %s" % result.stderr)
        assert_equal(json.loads(result.stdout)["walletname"], "w1", "minicoin-cli getwalletinfo")
        # A second spawned wallet gets another free port, the node's config stays the node's.
        rpc.createwallet("w2")
        port2 = read_port(self.wallet_folder(node, "w2"))
        assert_true(port2 != port, "w2's process has its own port")
        w2 = OwnWallet(Endpoint(port2, os.path.join(self.wallet_folder(node, "w2"), ".cookie")))
        assert_equal(w2.getwalletinfo()["walletname"], "w2", "w2's own server serves w2")
        # Goes away with the process.
        rpc.unloadwallet("w2")
        wait_until(lambda: connection_refused(port2), timeout=15, message="w2's server to go away")
        assert_true(not os.path.exists(os.path.join(self.wallet_folder(node, "w2"), ".cookie")), "w2 cookie removed")
        assert_true(not os.path.exists(os.path.join(self.wallet_folder(node, "w2"), ".rpcport")), "w2 port file removed")
        assert_equal(w1.getwalletinfo()["walletname"], "w1", "w1 still served")

    def start_attached(self, node, name, *extra, expect_running=True):
        args = [self.wallet_binary, "-ipcconnect=unix", "-datadir=" + node.basedir, "-wallet=" + name,
                "-createwallet", *extra]
        log_path = os.path.join(node.datadir, "attached-%s.txt" % name)
        log = open(log_path, "ab")
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.attached.append(process)
        if not expect_running:
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                raise TestFailure("minicoin-wallet %s did not exit within 30 s" % " ".join(extra))
            return code, node.read_file("attached-%s.txt" % name)
        wait_until(lambda: name in node.rpc.listwallets() or process.poll() is not None, timeout=30,
                   message="attached wallet %s to be listed" % name)
        assert_equal(process.poll(), None, "minicoin-wallet for %s exited early: %s"
                     % (name, node.read_file("attached-%s.txt" % name)[-1000:]))
        return process

    def attached_layout(self, node):
        rpc = node.rpc
        process = self.start_attached(node, "a1", "-server")
        folder = self.wallet_folder(node, "a1")
        port = read_port(folder)
        own = Endpoint(port, os.path.join(folder, ".cookie"))
        self.check_cookie(own.cookie_path)
        a1 = OwnWallet(own)
        through_node = NodeWallet(node, "a1")
        NodeWallet(node, "w1").sendtoaddress(a1.getnewaddress(), 10)
        rpc.generatetoaddress(1, self.outsider)
        self.same_results(node, "a1", a1, through_node)
        self.auth_refused(own)
        result = self.cli(own, "getbalances")
        assert_equal(result.returncode, 0, "minicoin-cli against the attached wallet: %s" % result.stderr)
        assert_equal(json.loads(result.stdout, parse_float=decimal.Decimal), a1.getbalances(), "cli getbalances")
        # An attached process manages its own wallets: one created through its server is the node's to see.
        a1.createwallet("a2")
        wait_until(lambda: "a2" in rpc.listwallets(), timeout=10, message="a2 listed by the node")
        assert_equal(OwnWallet(own, "a2").getwalletinfo()["walletname"], "a2", "/wallet/a2 on a1's server")
        assert_equal(rpc_error(a1.getbalances)[0], -19, "two wallets and none named: -19 as on the node")

        # Port taken, bad bind, RPC options without -server: clear message, exit 1.
        code, output = self.start_attached(node, "a3", "-server", "-rpcport=%d" % port, expect_running=False)
        assert_equal(code, 1, "exit code with the port taken")
        assert_in("cannot start the wallet RPC server", output, "port taken message")
        assert_in("Unable to bind", output, "port taken message names the bind")
        assert_true("a3" not in rpc.listwallets(), "a3 not handed to the node")
        code, output = self.start_attached(node, "a4", "-server", "-rpcbind=256.0.0.1", expect_running=False)
        assert_equal(code, 1, "exit code with a bad -rpcbind")
        assert_in("256.0.0.1", output, "bad bind message names the address")
        code, output = self.start_attached(node, "a5", "-rpcport=1234", expect_running=False)
        assert_equal(code, 1, "exit code of -rpcport without -server")
        assert_in("-server", output, "the message says -server is needed")

        # The server goes away with the process.
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise TestFailure("the attached wallet process did not exit within 30 s of SIGTERM")
        assert_equal(code, 0, "attached wallet exit code after SIGTERM")
        assert_true(connection_refused(port), "a1's server is gone")
        assert_true(not os.path.exists(own.cookie_path), "a1 cookie removed")
        assert_true(not os.path.exists(os.path.join(folder, ".rpcport")), "a1 port file removed")
        wait_until(lambda: "a1" not in rpc.listwallets(), timeout=10, message="a1 detached")

    def notification_delay(self, node):
        """-testnotificationdelay=<ms>: the wallet handles each block that much later."""
        rpc = node.rpc
        process = self.start_attached(node, "slow", "-testnotificationdelay=1500")
        slow = NodeWallet(node, "slow")
        start = time.monotonic()
        rpc.generatetoaddress(1, self.outsider)
        tip = rpc.getbestblockhash()
        assert_true(slow.getwalletinfo()["lastprocessedblock"]["hash"] != tip, "the slow wallet has not yet handled the block")
        wait_until(lambda: slow.getwalletinfo()["lastprocessedblock"]["hash"] == tip, timeout=20,
                   message="the slow wallet to handle the block")
        elapsed = time.monotonic() - start
        assert_true(elapsed >= 1.2, "the block was handled after the delay (%.2f s)" % elapsed)
        process.send_signal(signal.SIGTERM)
        assert_equal(process.wait(timeout=30), 0, "slow wallet exit code")

    def spawned_port_conflict(self):
        taken = socket.socket()
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        node = self.add_node(["-walletrpcport=%d" % port])
        try:
            assert_raises_rpc_error(-4, "cannot start the wallet RPC server", node.rpc.createwallet, "c1")
            code, message = rpc_error(node.rpc.createwallet, "c1")
            assert_in("Unable to bind", message, "the error says the bind failed")
            assert_equal(node.rpc.listwallets(), [], "no wallet loaded after the failure")
        finally:
            taken.close()
        # Once free, the fixed port serves the wallet.
        node.rpc.createwallet("c1")
        own = OwnWallet(Endpoint(port, os.path.join(self.wallet_folder(node, "c1"), ".cookie")))
        assert_equal(own.getwalletinfo()["walletname"], "c1", "c1 served on the fixed port")
        assert_equal(read_port(self.wallet_folder(node, "c1")), port, ".rpcport holds the fixed port")
        node.stop()
        wait_until(lambda: connection_refused(port), timeout=15, message="c1's server to go away with the node")
        assert_true(not os.path.exists(own.endpoint.cookie_path), "c1 cookie removed at exit")
        # A bad -walletrpcport stops the node at start with a clear message.
        result = self.run_node_binary("-datadir=" + node.basedir, "-printtoconsole=0", "-walletrpcport=70000")
        assert_equal(result.returncode, 1, "exit code with -walletrpcport=70000")
        assert_in("-walletrpcport", result.stderr, "the message names -walletrpcport")


if __name__ == "__main__":
    framework.main(WalletServerTest)
