"""A minimal minicoin peer for functional tests: frames messages (docs/network.md), performs the
version/verack handshake and sends whatever a test wants, well-formed or not. Python 3 standard
library only."""
import hashlib
import random
import socket
import struct
import time

from framework import compact_size

# Network magic of each chain (docs/network.md).
MAGIC = {"main": bytes.fromhex("f3c6a5e9"), "test": bytes.fromhex("0b6d6307"), "regtest": bytes.fromhex("e67c9d3a")}
PROTOCOL_VERSION = 1


def checksum(payload):
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]


def frame(command, payload, magic=MAGIC["regtest"]):
    name = command.encode().ljust(12, b"\0")
    return magic + name + struct.pack("<I", len(payload)) + checksum(payload) + payload


def address(ip="127.0.0.1", port=0, services=0):
    packed = b"\0" * 10 + b"\xff\xff" + socket.inet_aton(ip)
    return struct.pack("<Q", services) + packed + struct.pack("<H", port)


def version_payload(user_agent="/p2p-test:0.1/", best_height=0, nonce=None):
    nonce = random.getrandbits(64) if nonce is None else nonce
    ua = user_agent.encode()
    return (struct.pack("<IQq", PROTOCOL_VERSION, 0, int(time.time())) + address() + address() +
            struct.pack("<Q", nonce) + compact_size(len(ua)) + ua + struct.pack("<I", best_height))


class Peer:
    """One TCP connection to a node, from `source_ip` (any 127.x.y.z address works on Linux)."""

    def __init__(self, port, source_ip="127.0.0.1", host="127.0.0.1", magic=MAGIC["regtest"], timeout=10):
        self.magic = magic
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.bind((source_ip, 0))
        self.sock.connect((host, port))
        self.buffer = b""

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, command, payload=b""):
        self.send_raw(frame(command, payload, self.magic))

    def receive(self, timeout=10):
        """The next message as (command, payload); None if the connection closed."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buffer) >= 24:
                length = struct.unpack("<I", self.buffer[16:20])[0]
                if len(self.buffer) >= 24 + length:
                    command = self.buffer[4:16].rstrip(b"\0").decode()
                    payload = self.buffer[24:24 + length]
                    self.buffer = self.buffer[24 + length:]
                    return command, payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no complete message within %ss" % timeout)
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return None
            if not data:
                return None
            self.buffer += data

    def receive_until(self, command, timeout=10):
        """Messages until one with `command`, which is returned (its payload); None if closed."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message is None:
                return None
            if message[0] == command:
                return message[1]

    def handshake(self, best_height=0, timeout=10):
        """Sends version, waits for the node's version and verack, answers verack."""
        self.send("version", version_payload(best_height=best_height))
        got_version = got_verack = False
        deadline = time.monotonic() + timeout
        while not (got_version and got_verack):
            message = self.receive(max(0.01, deadline - time.monotonic()))
            if message is None:
                raise ConnectionError("the node closed the connection during the handshake")
            got_version |= message[0] == "version"
            got_verack |= message[0] == "verack"
        self.send("verack")

    def closed_by_node(self, timeout=10):
        """True once the node has closed the connection (messages it sent first are skipped);
        False if it is still open after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.receive(max(0.01, deadline - time.monotonic())) is None:
                    return True
            except TimeoutError:
                return False
            except OSError:
                return True
        return False


def connection_refused(port, source_ip, timeout=10):
    """True if a connection from `source_ip` is closed by the node without a version answer."""
    try:
        peer = Peer(port, source_ip=source_ip, timeout=timeout)
    except OSError:
        return True
    try:
        peer.send("version", version_payload())
        while True:
            message = peer.receive(timeout)
            if message is None:
                return True
            if message[0] == "version":
                return False
    except TimeoutError:
        return False
    except OSError:
        return True
    finally:
        peer.close()
