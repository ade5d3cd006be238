"""Functional test framework for minicoin: starts real node processes and drives them over RPC.

Python 3 standard library only. A test is a script defining a subclass of FunctionalTest with a
run() method (or a plain main(test) function) and ending with

    if __name__ == "__main__":
        framework.main(MyTest)

It runs alone (python3 test_x.py --binary=build/.../minicoind) or under run.py. Every wait is
bounded; on failure the temporary directory is kept and each node's debug.log tail is printed;
on success it is removed.

A test that applies to only one node binary says so at the top level of its script:

    BINARIES = ("minicoin-node",)

(default: both minicoind and minicoin-node). CMake registers it only for those, and run against
another binary it exits with SKIP_EXIT_CODE. A test that cannot run here (a missing tool) calls
self.skip(reason), which also exits with SKIP_EXIT_CODE: ctest and run.py report it as skipped,
never as passed.
"""
import argparse
import base64
import decimal
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

# The exit status of a skipped test (ctest's SKIP_RETURN_CODE for these tests).
SKIP_EXIT_CODE = 77
NODE_BINARIES = ("minicoind", "minicoin-node")

COIN = 100_000_000
COINBASE_MATURITY = 100
# The data subfolder of each chain.
CHAIN_SUBDIRS = {"main": "", "test": "testnet", "regtest": "regtest"}
REGTEST_HALVING_INTERVAL = 150
SUBSIDY = 50


class JSONRPCError(Exception):
    """An error answer of the node: error.code and error.message of the JSON-RPC reply."""

    def __init__(self, code, message):
        super().__init__("JSON-RPC error %s: %s" % (code, message))
        self.code = code
        self.message = message


class SkipTest(Exception):
    """Raised by FunctionalTest.skip: the test cannot run here, for the reason given."""


class TestFailure(AssertionError):
    pass


# ----------------------------------------------------------------------------------------------
# Assertions and waiting


def assert_equal(got, expected, message=""):
    if got != expected:
        raise TestFailure("%s: got %r, expected %r" % (message or "not equal", got, expected))


def assert_true(condition, message="condition is false"):
    if not condition:
        raise TestFailure(message)


def assert_greater_than(a, b, message=""):
    if not a > b:
        raise TestFailure("%s: %r is not greater than %r" % (message or "not greater", a, b))


def assert_in(item, container, message=""):
    if item not in container:
        raise TestFailure("%s: %r not in %r" % (message or "missing", item, container))


def assert_raises_rpc_error(code, substring, fn, *args, **kwargs):
    """Calls fn(*args); passes only if it raises JSONRPCError with `code` (None: any code) and a
    message containing `substring` (None: any message; a tuple: any of them, case-insensitive).
    Returns the error."""
    try:
        fn(*args, **kwargs)
    except JSONRPCError as e:
        if code is not None and e.code != code:
            raise TestFailure("expected RPC error code %r, got %r (%r)" % (code, e.code, e.message))
        if substring is not None and not message_matches(e.message, substring):
            raise TestFailure("expected RPC error message containing %r, got %r" % (substring, e.message))
        return e
    raise TestFailure("expected RPC error %r (%r), but the call succeeded" % (code, substring))


def message_matches(message, substring):
    options = substring if isinstance(substring, (tuple, list)) else (substring,)
    text = str(message).lower()
    return any(option.lower() in text for option in options)


def wait_until(predicate, timeout=30, interval=0.05, message="condition"):
    """Polls predicate() until it is true; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise TestFailure("timed out after %ss waiting for %s" % (timeout, message))
        time.sleep(interval)


def free_port():
    """A TCP port that was free a moment ago (the node binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------------------------
# Block and transaction bytes (the node's encoding: see primitives/block.h, transaction.h)


def sha256d(data):
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def hash_to_hex(digest):
    """Hashes are shown most significant byte first: the digest reversed."""
    return digest[::-1].hex()


HEADER_SIZE = 80  # version 4, previous 32, merkle root 32, time 4, bits 4, nonce 4
OFFSET_PREVIOUS = 4
OFFSET_MERKLE = 36
OFFSET_TIME = 68
OFFSET_BITS = 72
OFFSET_NONCE = 76


def block_hash(block_bytes):
    return hash_to_hex(sha256d(block_bytes[:HEADER_SIZE]))


def target_from_bits(bits):
    exponent = bits >> 24
    mantissa = bits & 0x007FFFFF
    if exponent <= 3:
        return mantissa >> (8 * (3 - exponent))
    return mantissa << (8 * (exponent - 3))


def header_meets_pow(header):
    bits = struct.unpack_from("<I", header, OFFSET_BITS)[0]
    return int.from_bytes(sha256d(bytes(header[:HEADER_SIZE])), "little") <= target_from_bits(bits)


def regrind(block_bytes, want_valid=True, max_tries=1_000_000):
    """Changes the nonce until the header's proof of work is valid (or, want_valid=False,
    invalid). Returns the new bytes."""
    data = bytearray(block_bytes)
    nonce = struct.unpack_from("<I", data, OFFSET_NONCE)[0]
    for _ in range(max_tries):
        if header_meets_pow(data) == want_valid:
            return bytes(data)
        nonce = (nonce + 1) & 0xFFFFFFFF
        struct.pack_into("<I", data, OFFSET_NONCE, nonce)
    raise TestFailure("could not find a nonce in %d tries" % max_tries)


def merkle_root(txids_hex):
    """Merkle root of hashes (display hex), pairing with double SHA-256, repeating an odd last.
    A block's merkle root is that of its transactions' full hashes (wtxid_of)."""
    level = [bytes.fromhex(t)[::-1] for t in txids_hex]
    if not level:
        return "00" * 32
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [sha256d(level[i] + level[i + 1]) for i in range(0, len(level), 2)]
    return hash_to_hex(level[0])


def mutate_signature(tx_hex, input_index=0):
    """The transaction with one bit of input `input_index`'s signature flipped (signatures are
    the last 64 bytes per input, in order)."""
    data = bytearray(bytes.fromhex(tx_hex))
    count = data[4]  # compact size of the inputs (below 253 in the tests)
    position = len(data) - 64 * (count - input_index) + 5
    data[position] ^= 0x01
    return data.hex()


def compact_size(n):
    if n < 253:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def txid_of(tx_hex):
    """The identifier: double SHA-256 of the transaction without its signatures (64 bytes per
    input at the end; the input count must be below 253)."""
    data = bytes.fromhex(tx_hex)
    return hash_to_hex(sha256d(data[:len(data) - 64 * data[4]]))


def subsidy(height):
    """What a regtest coinbase at `height` may claim besides the fees, in units."""
    halvings = height // REGTEST_HALVING_INTERVAL
    return 0 if halvings >= 64 else (SUBSIDY * COIN) >> halvings


def total_subsidy(first, last):
    """The subsidies of regtest blocks first..last (inclusive), in units."""
    return sum(subsidy(h) for h in range(first, last + 1))


def wtxid_of(tx_hex):
    """The full hash: double SHA-256 of the whole transaction, signatures included (what a
    block's merkle root commits to)."""
    return hash_to_hex(sha256d(bytes.fromhex(tx_hex)))


def make_coinbase(height, pubkey_hex, amount_units, signature=bytes(64)):
    """A coinbase transaction's hex: the null outpoint, one output, the height, and `signature`
    (64 bytes of free data for the miner; zero by default)."""
    data = struct.pack("<I", 1) + compact_size(1) + b"\x00" * 32 + struct.pack("<I", 0xFFFFFFFF)
    data += compact_size(1) + struct.pack("<Q", amount_units) + bytes.fromhex(pubkey_hex)
    data += struct.pack("<I", height) + signature
    return data.hex()


def make_block(previous_hex, height, time_, pubkey_hex, txs_hex=(), amount_units=None,
               bits=0x1F7FFFFF, merkle_hex=None, solve=True, coinbase_signature=bytes(64)):
    """A block's hex: a coinbase paying `amount_units` (default: the height's subsidy) to
    `pubkey_hex`, then `txs_hex`; its proof of work solved unless solve=False. merkle_hex
    overrides the computed merkle root."""
    if amount_units is None:
        amount_units = subsidy(height)
    txs = [make_coinbase(height, pubkey_hex, amount_units, coinbase_signature)] + list(txs_hex)
    root = merkle_hex or merkle_root([wtxid_of(t) for t in txs])
    header = struct.pack("<I", 1) + bytes.fromhex(previous_hex)[::-1] + bytes.fromhex(root)[::-1]
    header += struct.pack("<III", time_, bits, 0)
    data = header + compact_size(len(txs)) + b"".join(bytes.fromhex(t) for t in txs)
    return (regrind(data) if solve else data).hex()


def replace_transactions(block_hex, txs_hex):
    """The block with the same header (so the same hash) and other transactions: a malleated copy
    when the transactions differ only in data the merkle root must commit to."""
    header = bytes.fromhex(block_hex)[:HEADER_SIZE]
    return (header + compact_size(len(txs_hex)) + b"".join(bytes.fromhex(t) for t in txs_hex)).hex()


def set_header_field(block_hex, offset, value_bytes, pow_valid=True):
    """The block with `value_bytes` written at `offset` of the header, the nonce ground again so
    that the proof of work is valid (pow_valid) or not."""
    data = bytearray(bytes.fromhex(block_hex))
    data[offset:offset + len(value_bytes)] = value_bytes
    return regrind(bytes(data), want_valid=pow_valid).hex()


# ----------------------------------------------------------------------------------------------
# Nodes


class RPCProxy:
    """node.rpc.getblockcount() -> node.call("getblockcount")."""

    def __init__(self, node):
        self._node = node

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        return lambda *args: self._node.call(method, *args)


class TestNode:
    """One node process with its own data directory and RPC port. Not thread-safe."""

    def __init__(self, index, datadir, binary, cli_binary=None, extra_args=None, rpc_timeout=120,
                 start_timeout=60, stop_timeout=60, chain="regtest"):
        """`datadir` is the data directory given with -datadir (self.basedir); its minicoin.conf
        selects `chain`, so that every program pointed at it (wallets, miners, minicoin-cli) runs
        on that chain too. The chain's files are in self.datadir, its subfolder (regtest/ for
        regtest, testnet/ for test, none for main)."""
        self.index = index
        self.chain = chain
        self.basedir = datadir
        self.datadir = os.path.join(datadir, CHAIN_SUBDIRS[chain]) if CHAIN_SUBDIRS[chain] else datadir
        self.binary = binary
        self.cli_binary = cli_binary
        self.extra_args = list(extra_args or [])
        self.rpc_timeout = rpc_timeout
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.rpcport = free_port()
        self.p2pport = free_port()
        self.process = None
        self.rpc = RPCProxy(self)
        self._next_id = 0
        self._stdout = None
        self._stderr = None
        os.makedirs(self.datadir, exist_ok=True)
        self.write_config("")

    def __repr__(self):
        return "node%d" % self.index

    def write_config(self, text):
        """Writes <basedir>/minicoin.conf: chain=<the node's chain>, then `text`."""
        with open(os.path.join(self.basedir, "minicoin.conf"), "w") as f:
            f.write("chain=%s\n" % self.chain + text)

    # Process control

    def start(self, extra_args=None, wait=True, rpcport_arg=True):
        """Starts the process with -datadir, -rpcport (unless rpcport_arg is false: the port then
        comes from a config file and self.rpcport must be set to it), -printtoconsole=0 and
        `extra_args` (default: those given to the constructor); waits for RPC if `wait`."""
        assert self.process is None, "%r already running" % self
        args = [self.binary, "-datadir=" + self.basedir, "-chain=" + self.chain, "-printtoconsole=0"]
        if rpcport_arg:
            args.insert(3, "-rpcport=%d" % self.rpcport)
        args += self.extra_args if extra_args is None else list(extra_args)
        self._stdout = open(os.path.join(self.datadir, "stdout.txt"), "ab")
        self._stderr = open(os.path.join(self.datadir, "stderr.txt"), "ab")
        self.process = subprocess.Popen(args, stdout=self._stdout, stderr=self._stderr, stdin=subprocess.DEVNULL)
        if wait:
            self.wait_for_rpc()

    def wait_for_rpc(self):
        """Waits until the node answers getblockcount, failing if it exits or takes too long."""
        deadline = time.monotonic() + self.start_timeout
        last_error = None
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                self._close_files()
                self.process = None
                raise TestFailure("%r exited with code %d during startup; stderr: %s"
                                  % (self, code, self.read_file("stderr.txt")[-2000:]))
            try:
                self.call("getblockcount", timeout=5)
                return
            except JSONRPCError as e:
                if e.code != -28:  # -28: still warming up
                    raise
                last_error = e
            except (OSError, http.client.HTTPException, TestFailure) as e:
                last_error = e
            time.sleep(0.05)
        self.kill9()
        raise TestFailure("%r did not answer RPC within %ss (last error: %s)" % (self, self.start_timeout, last_error))

    def stop(self, expect_code=0):
        """Stops through the `stop` RPC and waits for the exit; on timeout kills and fails."""
        if self.process is None:
            return
        self.call("stop")
        self.wait_for_exit(expect_code)

    def wait_for_exit(self, expect_code=0, timeout=None):
        try:
            code = self.process.wait(timeout=self.stop_timeout if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            raise TestFailure("%r did not exit within %ss after stop; killed" % (self, self.stop_timeout))
        self.process = None
        self._close_files()
        if expect_code is not None and code != expect_code:
            raise TestFailure("%r exited with code %d, expected %d; stderr: %s"
                              % (self, code, expect_code, self.read_file("stderr.txt")[-2000:]))
        return code

    def kill9(self):
        """SIGKILL: no chance to flush or clean up."""
        if self.process is None:
            return
        try:
            self.process.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.process = None
        self._close_files()

    # Peer-to-peer

    def p2p_args(self, automatic=False):
        """Options that make the node listen for peers on 127.0.0.1:self.p2pport. Without
        `automatic` the node makes no outbound connection of its own (-noconnect): only those a
        test asks for (addnode), so that a test decides the network's shape."""
        return ["-bind=127.0.0.1:%d" % self.p2pport] + ([] if automatic else ["-noconnect"])

    def p2p_address(self):
        return "127.0.0.1:%d" % self.p2pport

    def peer_addresses(self):
        return [peer["addr"] for peer in self.rpc.getpeerinfo()]

    def restart(self, extra_args=None):
        self.stop()
        self.start(extra_args)

    def is_running(self):
        return self.process is not None and self.process.poll() is None

    def _close_files(self):
        for f in (self._stdout, self._stderr):
            if f:
                f.close()
        self._stdout = self._stderr = None

    # RPC

    def cookie_auth(self):
        text = self.read_file(".cookie").strip()
        if not text:
            raise TestFailure("no cookie file in %s" % self.datadir)
        return text

    def post(self, body, auth=None, timeout=None, path="/"):
        """POSTs `body` (bytes) with Basic auth `auth` ("user:password", default the cookie);
        returns (HTTP status, body bytes)."""
        auth = self.cookie_auth() if auth is None else auth
        request = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.rpcport, path), data=body, method="POST",
            headers={"Authorization": "Basic " + base64.b64encode(auth.encode()).decode(),
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.rpc_timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def call(self, method, *args, timeout=None, auth=None):
        """JSON-RPC 1.0 call; returns the result or raises JSONRPCError."""
        self._next_id += 1
        body = json.dumps({"jsonrpc": "1.0", "id": self._next_id, "method": method, "params": list(args)})
        status, data = self.post(body.encode(), auth=auth, timeout=timeout)
        if status == 401:
            raise TestFailure("%r: RPC %s unauthorized (401)" % (self, method))
        try:
            reply = json.loads(data, parse_float=decimal.Decimal)
        except ValueError:
            raise TestFailure("%r: RPC %s: HTTP %d with a non-JSON body %r" % (self, method, status, data[:200]))
        if not isinstance(reply, dict):
            raise TestFailure("%r: RPC %s: reply is not an object: %r" % (self, method, reply))
        if reply.get("error") is not None:
            error = reply["error"]
            raise JSONRPCError(error.get("code"), error.get("message"))
        if "result" not in reply:
            raise TestFailure("%r: RPC %s: reply without result: %r" % (self, method, reply))
        if reply.get("id") != self._next_id:
            raise TestFailure("%r: RPC %s: reply id %r, expected %r" % (self, method, reply.get("id"), self._next_id))
        return reply["result"]

    def cli(self, *args, timeout=60, input=None):
        """Runs minicoin-cli on this node's data directory and port; returns the
        CompletedProcess (returncode, stdout, stderr as text)."""
        if not self.cli_binary:
            raise TestFailure("minicoin-cli not found (use --cli or --build-dir)")
        command = [self.cli_binary, "-datadir=" + self.basedir, "-chain=" + self.chain, "-rpcport=%d" % self.rpcport]
        command += [str(a) for a in args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, input=input)

    # Files

    def read_file(self, name):
        try:
            with open(os.path.join(self.datadir, name), "r", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def debug_log_tail(self, lines=40):
        return "\n".join(self.read_file("debug.log").splitlines()[-lines:])


# ----------------------------------------------------------------------------------------------
# Tests


class FunctionalTest:
    """Base of a test: owns the nodes and the temporary directory. Subclasses implement run()."""

    def __init__(self, options):
        self.options = options
        self.binary = options.binary
        self.cli_binary = options.cli
        self.tx_binary = options.tx
        self.tmpdir = options.tmpdir
        self.nodes = []
        self.disagreements = []

    def run(self):
        raise NotImplementedError

    def skip(self, reason):
        """Stops the test as skipped (exit status SKIP_EXIT_CODE), printing the reason."""
        raise SkipTest(reason)

    def note(self, message):
        """Prints a cosmetic difference from Bitcoin Core that does not fail the test."""
        print("NOTE: " + message, flush=True)

    def disagree(self, message):
        """Records a behaviour that differs from Bitcoin Core's without stopping the test: the
        remaining checks still run, and the test fails at the end listing every disagreement."""
        print("DISAGREEMENT: " + message, flush=True)
        self.disagreements.append(message)

    def add_node(self, extra_args=None, start=True, chain="regtest", binary=None):
        """A node of `binary` (default: the one under test), started unless `start` is false."""
        index = len(self.nodes)
        node = TestNode(index, os.path.join(self.tmpdir, "node%d" % index), binary or self.binary, self.cli_binary,
                        extra_args, chain=chain)
        self.nodes.append(node)
        if start:
            node.start()
        return node

    def other_binary(self):
        """The other node binary (minicoind for minicoin-node and the reverse), from the folder
        of the one under test; None if it is not there."""
        name = os.path.basename(self.binary)
        other = {"minicoind": "minicoin-node", "minicoin-node": "minicoind"}.get(name)
        path = os.path.join(os.path.dirname(self.binary), other) if other else None
        return path if path and os.access(path, os.X_OK) else None

    # Peer-to-peer

    def connect_nodes(self, a, b, command="add", timeout=60):
        """Makes `a` connect to `b` (addnode `command`) and waits until each lists the other."""
        before = len(b.rpc.getpeerinfo())
        a.rpc.addnode(b.p2p_address(), command)
        wait_until(lambda: b.p2p_address() in a.peer_addresses(), timeout=timeout,
                   message="%r to connect to %r" % (a, b))
        wait_until(lambda: len(b.rpc.getpeerinfo()) > before, timeout=timeout,
                   message="%r to see %r's connection" % (b, a))

    def sync_blocks(self, nodes, timeout=120):
        """Waits until every node in `nodes` has the same tip; returns it."""
        def same():
            return len({n.rpc.getbestblockhash() for n in nodes}) == 1
        wait_until(same, timeout=timeout, interval=0.2,
                   message="tips to agree: %s" % ", ".join("%r at %d" % (n, n.rpc.getblockcount()) for n in nodes))
        return nodes[0].rpc.getbestblockhash()

    def sync_mempools(self, nodes, timeout=60):
        def same():
            return len({tuple(sorted(n.rpc.getrawmempool())) for n in nodes}) == 1
        wait_until(same, timeout=timeout, interval=0.2, message="mempools to agree")

    def run_node_binary(self, *args, timeout=20):
        """Runs the node binary to completion (-help, bad options); returns CompletedProcess.
        A process still running after `timeout` seconds is killed and the test fails."""
        try:
            return subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise TestFailure("%s %s did not exit within %ss (killed)" % (self.binary, " ".join(args), timeout))

    # minicoin-tx

    def tx_tool(self, *args):
        if not self.tx_binary:
            raise TestFailure("minicoin-tx not found (use --tx or --build-dir)")
        result = subprocess.run([self.tx_binary, *[str(a) for a in args]], capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise TestFailure("minicoin-tx %s failed: %s" % (" ".join(map(str, args)), result.stderr.strip()))
        return result.stdout.strip()

    def genkey(self):
        """{"secret", "pubkey", "address"} of a new key."""
        return json.loads(self.tx_tool("genkey"))

    def create_tx(self, inputs, outputs):
        """inputs: [(txid, vout, secret hex)], outputs: [(address, amount in coins as text or number)];
        returns the signed transaction's hex."""
        args = ["create"]
        args += ["-in=%s:%d:%s" % (txid, vout, secret) for txid, vout, secret in inputs]
        args += ["-out=%s:%s" % (address, amount) for address, amount in outputs]
        return self.tx_tool(*args)

    def decode_tx(self, tx_hex):
        return json.loads(self.tx_tool("decode", tx_hex), parse_float=decimal.Decimal)

    # Common scenarios

    def mine_to_new_key(self, node, blocks):
        """Mines `blocks` blocks paying a new key; returns (key, block hashes)."""
        key = self.genkey()
        hashes = node.rpc.generatetoaddress(blocks, key["address"])
        assert_equal(len(hashes), blocks, "generatetoaddress hash count")
        return key, hashes

    def coinbase_of(self, node, block_hash_hex):
        block = node.rpc.getblock(block_hash_hex, 1)
        return block["tx"][0]


def find_tool(name, binary, build_dir):
    """Where minicoin-cli or minicoin-tx is: next to the node binary or in the build tree."""
    roots = []
    if build_dir:
        roots += [build_dir, os.path.join(build_dir, "apps", "minicoin")]
    if binary:
        here = os.path.dirname(os.path.abspath(binary))
        roots += [here, os.path.dirname(here)]
    for root in roots:
        for sub in ("", "bin", "cli", "tools"):
            candidate = os.path.join(root, sub, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def parse_options(argv=None):
    parser = argparse.ArgumentParser(description="Run one minicoin functional test.")
    parser.add_argument("--binary", default=os.environ.get("MINICOIN_NODE_BINARY"),
                        help="the node executable (minicoind or minicoin-node); default $MINICOIN_NODE_BINARY")
    parser.add_argument("--build-dir", default=os.environ.get("MINICOIN_BUILD_DIR"),
                        help="where to look for minicoin-cli and minicoin-tx (default: next to --binary)")
    parser.add_argument("--cli", default=os.environ.get("MINICOIN_CLI_BINARY"), help="minicoin-cli executable")
    parser.add_argument("--tx", default=os.environ.get("MINICOIN_TX_BINARY"), help="minicoin-tx executable")
    parser.add_argument("--tmpdir-root", default=os.environ.get("MINICOIN_TEST_TMPDIR"),
                        help="parent of the test's temporary directory")
    options = parser.parse_args(argv)
    if not options.binary:
        parser.error("no node binary: pass --binary or set MINICOIN_NODE_BINARY")
    options.binary = os.path.abspath(options.binary)
    if not (os.path.isfile(options.binary) and os.access(options.binary, os.X_OK)):
        parser.error("node binary %s does not exist or is not executable" % options.binary)
    options.cli = options.cli or find_tool("minicoin-cli", options.binary, options.build_dir)
    options.tx = options.tx or find_tool("minicoin-tx", options.binary, options.build_dir)
    return options


def _raise_terminated(signum, frame):
    raise TestFailure("terminated by signal %d (run.py's timeout?)" % signum)


def main(test, argv=None):
    """Runs one test (a FunctionalTest subclass, or a function taking a FunctionalTest) and
    exits: 0 on success, 1 on failure."""
    options = parse_options(argv)
    name = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    binaries = getattr(sys.modules.get("__main__"), "BINARIES", NODE_BINARIES)
    if os.path.basename(options.binary) not in binaries:
        print("SKIP: %s runs only against %s, not %s" % (name, " and ".join(binaries),
                                                         os.path.basename(options.binary)))
        sys.exit(SKIP_EXIT_CODE)
    options.tmpdir = tempfile.mkdtemp(prefix="minicoin_%s_" % name, dir=options.tmpdir_root)
    if isinstance(test, type):
        instance = test(options)
    else:
        instance = FunctionalTest(options)
        instance.run = lambda: test(instance)
    ok = False
    skipped = None
    start = time.monotonic()
    # run.py's timeout sends SIGTERM: turn it into an exception so the nodes are cleaned up.
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        instance.run()
        ok = not instance.disagreements
    except SkipTest as e:
        ok = True
        skipped = str(e)
    except BaseException:
        traceback.print_exc()
    finally:
        for node in instance.nodes:
            if node.is_running():
                try:
                    if ok:
                        node.stop()
                    else:
                        node.kill9()
                except BaseException as e:
                    ok = False
                    print("%r: stopping failed: %s" % (node, e))
                    node.kill9()
    elapsed = time.monotonic() - start
    if instance.disagreements:
        ok = False
        print("%d disagreement(s) with Bitcoin Core's behaviour:" % len(instance.disagreements))
        for message in instance.disagreements:
            print("  - " + message)
    if ok:
        shutil.rmtree(options.tmpdir, ignore_errors=True)
        if skipped is not None:
            print("SKIP: %s: %s" % (name, skipped))
            sys.exit(SKIP_EXIT_CODE)
        print("%s passed in %.1fs" % (name, elapsed))
        sys.exit(0)
    for node in instance.nodes:
        print("---- %r debug.log tail (%s) ----" % (node, os.path.join(node.datadir, "debug.log")))
        print(node.debug_log_tail())
        stderr = node.read_file("stderr.txt").strip()
        if stderr:
            print("---- %r stderr ----\n%s" % (node, stderr[-2000:]))
    print("%s FAILED after %.1fs; data kept in %s" % (name, elapsed, options.tmpdir))
    sys.exit(1)
