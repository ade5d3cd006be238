#!/usr/bin/env python3
"""Randomized kill loop (minicoin-node only): while minicoin-miner (over
-ipcbind) and generatetoaddress mine blocks and two wallets pay each other, SIGKILL the node, a
wallet process or the miner at a random moment, restart what was killed, and check after every
iteration that nothing reported was lost and that every coin is accounted for:

- chain: getblockcount, getblockchaininfo and gettxoutsetinfo agree; the height never goes down;
  every block reported accepted (by generatetoaddress or as a new tip by the miner) is still in
  the active chain; the coin set holds exactly every block's subsidy (50, halved every 150 blocks);
- wallets (after mining until the mempool is empty): the coins of both wallets (trusted +
  pending + immature) are exactly the subsidies of the blocks that paid them (every coinbase after the first
  blocks pays one of them, so the fees come back to them); every txid that sendtoaddress
  reported is confirmed, in the sender's list as a send and in the receiver's as a receive of
  the amount sent; no address is handed out twice;
- at the end: the fees recorded by the wallets are exactly what the coinbases collected, no
  change address is a handed-out one, every address ever handed out still belongs to its wallet
  (a payment to all of them from an outside key is seen by the right wallet), and the coin set
  total is every block's subsidy, split between the wallets and the outside key.

    python3 test_fault_kill_loop.py --binary .../minicoin-node [--seed N] [--iterations N]

MINICOIN_FAULT_SEED and MINICOIN_FAULT_ITERATIONS do the same (run.py passes the environment
on). Default: 5 iterations (CI), a random seed, printed first. The seed chooses the targets, the
moments of the kills, the amounts and the block counts; thread timing still varies between runs.
"""
import argparse
import decimal
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

import framework
from framework import (COIN, COINBASE_MATURITY, SUBSIDY, JSONRPCError, TestFailure, assert_equal, assert_in,
                       assert_true, subsidy, total_subsidy, wait_until)

# Needs what only the multi-process layout has (wallet processes, -ipcbind).
BINARIES = ("minicoin-node",)

WALLETS = ("a", "b")
TARGETS = ("node", "wallet a", "wallet b", "miner")
OUTSIDE_BLOCKS = 5  # heights 1..5 pay an outside key; every later block pays a wallet
JOIN_TIMEOUT = 60


def units(amount):
    return int((decimal.Decimal(amount) * COIN).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def coins_text(amount_units):
    return "%d.%08d" % divmod(amount_units, COIN)


def wcall(node, wallet, method, *params, timeout=30):
    """`method` on /wallet/<wallet>: its result, or JSONRPCError."""
    body = json.dumps({"jsonrpc": "1.0", "id": 1, "method": method, "params": list(params)}).encode()
    status, data = node.post(body, path="/wallet/" + urllib.parse.quote(wallet, safe=""), timeout=timeout)
    try:
        reply = json.loads(data, parse_float=decimal.Decimal)
    except ValueError:
        raise TestFailure("%s on /wallet/%s: HTTP %d with a non-JSON body %r" % (method, wallet, status, data[:200]))
    if reply.get("error") is not None:
        raise JSONRPCError(reply["error"].get("code"), reply["error"].get("message"))
    return reply["result"]


def wallet_total(node, wallet):
    mine = wcall(node, wallet, "getbalances")["mine"]
    return units(mine["trusted"]) + units(mine["untrusted_pending"]) + units(mine["immature"])


def process_argv(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None
    return None if state == "Z" else [a.decode(errors="replace") for a in argv]


def wallet_processes(datadir, name=None):
    """Pids of live minicoin-wallet processes holding files under <datadir>/wallets/[<name>/]."""
    folder = os.path.realpath(os.path.join(datadir, "wallets", name or "")).rstrip(os.sep) + os.sep
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        argv = process_argv(pid)
        if not argv or os.path.basename(argv[0]) != "minicoin-wallet":
            continue
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(folder):
                    found.append(pid)
                    break
            except OSError:
                pass
    return found


class Activity:
    """The load during one iteration: a sender thread (a and b pay each other), a generator thread
    (generatetoaddress 1 block at a time) and a miner thread (minicoin-miner runs of 1 to 3
    blocks). Errors are expected while something is down: they are counted, not raised."""

    def __init__(self, test, seed, iteration):
        self.test = test
        self.iteration = iteration
        self.node = test.node
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.miner = None  # the running minicoin-miner Popen, under lock
        self.miner_runs = 0
        self.errors = []
        self.threads = [threading.Thread(target=self.guard, args=(fn, random.Random(seed * 3 + i)), daemon=True)
                        for i, fn in enumerate((self.sender, self.generator, self.mining))]

    def start(self):
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=JOIN_TIMEOUT)
            if thread.is_alive():
                raise TestFailure("an activity thread did not end within %d s (hang)" % JOIN_TIMEOUT)
        with self.lock:
            miner = self.miner
        if miner is not None and miner.poll() is None:
            miner.kill()
            miner.wait(timeout=10)

    def guard(self, fn, rng):
        try:
            fn(rng)
        except BaseException as e:  # a bug of the test itself: recorded and raised by the main thread
            self.errors.append(("crash", repr(e)))

    def note_error(self, where, e):
        self.errors.append((where, repr(e)[:200]))

    def sender(self, rng):
        test = self.test
        while not self.stop.is_set():
            source = rng.choice(WALLETS)
            target = "b" if source == "a" else "a"
            amount = rng.randint(10, 300) * COIN // 100
            try:
                address = test.new_address(target)
                txid = wcall(self.node, source, "sendtoaddress", address, coins_text(amount), timeout=30)
                with test.lock:
                    test.sent[txid] = (source, target, address, amount)
            except Exception as e:
                self.note_error("send", e)
                self.stop.wait(0.05)
            self.stop.wait(rng.uniform(0.01, 0.06))

    def generator(self, rng):
        test = self.test
        while not self.stop.is_set():
            try:
                address = test.new_address(rng.choice(WALLETS))
                count = rng.randint(5, 20) if rng.random() < 0.2 else 1  # now and then a burst
                hashes = self.node.call("generatetoaddress", count, address, timeout=30)
                test.record_accepted(hashes)
            except Exception as e:
                self.note_error("generate", e)
            self.stop.wait(rng.uniform(0.1, 0.3))

    def mining(self, rng):
        test = self.test
        while not self.stop.is_set():
            try:
                address = test.new_address(rng.choice(WALLETS))
            except Exception as e:
                self.note_error("miner address", e)
                self.stop.wait(0.1)
                continue
            output_path = os.path.join(self.node.datadir, "miner-%d-%d.txt" % (self.iteration, self.miner_runs))
            self.miner_runs += 1
            with open(output_path, "wb") as output, self.lock:
                if self.stop.is_set():
                    return
                self.miner = subprocess.Popen(
                    [test.miner_binary, "-datadir=" + self.node.basedir, "-address=" + address, "-threads=1",
                     "-blocks=%d" % rng.randint(1, 3)], stdout=output, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL)
                miner = self.miner
            deadline = time.monotonic() + 30
            while miner.poll() is None and time.monotonic() < deadline and not self.stop.is_set():
                time.sleep(0.01)
            if miner.poll() is None and not self.stop.is_set():
                self.note_error("miner", "minicoin-miner still running after 30 s (killed)")
                miner.kill()
            if self.stop.is_set() and miner.poll() is None:
                miner.send_signal(signal.SIGINT)
            try:
                miner.wait(timeout=20)
            except subprocess.TimeoutExpired:
                miner.kill()
                miner.wait(timeout=10)
                test.hangs.append("minicoin-miner did not exit within 20 s of SIGINT")
            test.record_miner_output(output_path)
            self.stop.wait(rng.uniform(0.1, 0.4))

    def kill_miner(self, timeout=10):
        """SIGKILLs the running miner; waits (bounded) for one to run if none does. True if killed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                miner = self.miner
                if miner is not None and miner.poll() is None:
                    miner.kill()
                    return True
            time.sleep(0.005)
        return False


class FaultKillLoopTest(framework.FunctionalTest):
    def run(self):
        self.activity = None
        try:
            self.kill_loop()
        except BaseException:
            self.print_diagnostics()
            raise

    def print_diagnostics(self):
        """What the framework does not print on a failure: the load's errors, the wallet processes'
        log and the last miner's output."""
        if self.activity is not None:
            print("---- errors of the load in the last iteration ----")
            for where, error in self.activity.errors[-20:]:
                print("%s: %s" % (where, error))
        node = self.nodes[0] if self.nodes else None
        if node is None:
            return
        wallet_log = node.read_file("wallet-debug.log").splitlines()
        if wallet_log:
            print("---- wallet-debug.log tail ----\n" + "\n".join(wallet_log[-40:]))
        runs = sorted((f for f in os.listdir(node.datadir) if f.startswith("miner-")),
                      key=lambda f: os.path.getmtime(os.path.join(node.datadir, f)))
        if runs:
            print("---- %s ----\n%s" % (runs[-1], node.read_file(runs[-1]).strip()))
        sys.stdout.flush()

    def kill_loop(self):
        here = os.path.dirname(self.binary)
        self.miner_binary = os.environ.get("MINICOIN_MINER_BINARY") or next(
            (p for p in (os.path.join(here, "minicoin-miner"), os.path.join(os.path.dirname(here), "miner",
                                                                               "minicoin-miner"))
             if os.access(p, os.X_OK)), None)
        assert_true(self.miner_binary, "minicoin-miner next to %s" % self.binary)
        seed, iterations = self.options.seed, self.options.iterations
        print("kill loop: seed %d, %d iterations (rerun with --seed %d --iterations %d)"
              % (seed, iterations, seed, iterations), flush=True)
        rng = random.Random(seed)
        self.lock = threading.Lock()
        self.addresses = {w: [] for w in WALLETS}  # handed out, in order
        self.all_addresses = set()
        self.sent = {}  # txid -> (source, target, address, amount units)
        self.accepted = {}  # height -> hash: reported as the new tip, or seen in the active chain
        self.miner_tips = set()  # hashes the miner reported as new tips
        self.generated = {}  # hash -> height: returned by generatetoaddress, not yet seen in the active chain
        self.stale_generated = 0
        self.hangs = []
        self.findings = []
        started = time.monotonic()

        self.node = node = self.add_node(["-wallet=a", "-wallet=b", "-ipcbind=unix"])
        node.rpc_timeout = 30
        self.outsider = self.genkey()
        self.record_accepted(node.rpc.generatetoaddress(OUTSIDE_BLOCKS, self.outsider["address"]))
        for chunk in range(6):  # heights 6..125: each wallet has 10 mature coinbases at 125
            self.record_accepted(node.rpc.generatetoaddress(20, self.new_address(WALLETS[chunk % 2])))
        self.sync_wallets()
        self.check(0)

        kills = {t: 0 for t in TARGETS}
        order = []
        for i in range(iterations):
            if not order:
                order = list(TARGETS)
                rng.shuffle(order)
            target = order.pop()
            delay = rng.uniform(0.05, 1.5)
            activity = Activity(self, rng.randrange(1 << 30), i + 1)
            self.activity = activity
            activity.start()
            time.sleep(delay)
            killed = self.kill(target, activity)
            time.sleep(rng.uniform(0, 0.3))  # the others go on a moment with the target gone
            activity.finish()
            if killed:
                kills[target] += 1
            self.restart(target)
            self.settle()
            self.check(i + 1)
            crash = [e for e in activity.errors if e[0] == "crash"]
            assert_equal(crash, [], "activity threads of iteration %d crashed" % (i + 1))
            assert_equal(self.hangs, [], "hangs")
            print("iteration %d/%d: %s killed after %.2f s (%s); height %d, %d sends reported, %d miner runs, "
                  "%d errors while it was down" % (i + 1, iterations, target, delay, "yes" if killed else "no",
                                                   node.rpc.getblockcount(), len(self.sent), activity.miner_runs,
                                                   len(activity.errors)), flush=True)

        self.final_checks()
        elapsed = time.monotonic() - started
        print("kill loop: seed %d, %d iterations in %.1f s; kills: %s; %d blocks, %d sends, %d addresses; "
              "%d generated blocks lost a race with the miner (stored off the active chain)"
              % (seed, iterations, elapsed, ", ".join("%s %d" % kv for kv in kills.items()),
                 node.rpc.getblockcount(), len(self.sent), len(self.all_addresses), self.stale_generated), flush=True)

    # Bookkeeping (called from the activity threads too)

    def new_address(self, wallet):
        address = wcall(self.node, wallet, "getnewaddress", timeout=30)
        with self.lock:
            if address in self.all_addresses:
                self.findings.append("address %s handed out twice (now by wallet %s)" % (address, wallet))
            self.all_addresses.add(address)
            self.addresses[wallet].append(address)
        return address

    def record_accepted(self, hashes):
        """Blocks generatetoaddress returned. They were accepted, but not necessarily as the tip: a
        miner's block at the same height may have come first (the RPC then still returns the hash
        of its block, stored off the active chain). check() sorts them out."""
        heights = [self.node.call("getblockheader", block_hash, timeout=30)["height"] for block_hash in hashes]
        with self.lock:
            self.generated.update(zip(hashes, heights))

    def record_tip(self, height, block_hash, source):
        """Under self.lock."""
        known = self.accepted.get(height)
        if known is not None and known != block_hash:
            self.findings.append("two blocks at height %d taken as the tip: %s and %s (%s)"
                                 % (height, known, block_hash, source))
        self.accepted[height] = block_hash

    def record_miner_output(self, path):
        try:
            with open(path) as f:
                lines = f.read().splitlines()
        except OSError:
            return
        with self.lock:
            for line in lines:
                parts = line.split()
                # "block <hash> height <h> accepted": a new tip; "accepted (valid-but-not-tip)" is not.
                if len(parts) == 5 and parts[0] == "block" and parts[4] == "accepted":
                    self.record_tip(int(parts[3]), parts[1], "the miner")
                    self.miner_tips.add(parts[1])

    # Kill and restart

    def kill(self, target, activity):
        node = self.node
        if target == "node":
            node.kill9()
            # Its wallet processes lose their connection and must go away by themselves.
            try:
                wait_until(lambda: not wallet_processes(node.datadir), timeout=20,
                           message="the wallet processes of the killed node to exit")
            except TestFailure:
                left = wallet_processes(node.datadir)
                for pid in left:
                    os.kill(pid, signal.SIGKILL)
                raise TestFailure("wallet processes %r still ran 20 s after their node was killed" % left)
            return True
        if target == "miner":
            return activity.kill_miner()
        name = target.split()[1]
        pids = [p for p in wallet_processes(node.datadir, name) if p in self.child_pids()]
        assert_equal(len(pids), 1, "one minicoin-wallet child of the node holds wallet %s" % name)
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: process_argv(pids[0]) is None, timeout=10, message="wallet process %d to die" % pids[0])
        return True

    def child_pids(self):
        result = subprocess.run(["pgrep", "-P", str(self.node.process.pid)], capture_output=True, text=True,
                                timeout=10)
        return [int(p) for p in result.stdout.split()]

    def restart(self, target):
        node = self.node
        if target == "node":
            node.start()
            wait_until(lambda: node.rpc.listwallets() == list(WALLETS), timeout=30,
                       message="the restarted node to load both wallets")
            wait_until(lambda: os.path.exists(os.path.join(node.datadir, "node.sock")), timeout=10,
                       message="node.sock after the restart")
        elif target.startswith("wallet"):
            name = target.split()[1]
            wait_until(lambda: name not in node.rpc.listwallets(), timeout=10,
                       message="the node to drop the killed wallet %s" % name)
            assert_equal(node.rpc.loadwallet(name)["name"], name, "loadwallet %s after the kill" % name)

    def sync_wallets(self, timeout=30):
        tip = self.node.rpc.getbestblockhash()
        for name in WALLETS:
            wait_until(lambda: wcall(self.node, name, "getwalletinfo")["lastprocessedblock"]["hash"] == tip,
                       timeout=timeout, message="wallet %s to process the tip %s" % (name, tip))

    def settle(self):
        """Mines (paying a) until the mempool is empty and both wallets are at the tip."""
        rpc = self.node.rpc
        for _ in range(8):
            self.sync_wallets()
            if not rpc.getrawmempool():
                return
            self.record_accepted(rpc.generatetoaddress(1, self.new_address("a")))
        raise TestFailure("the mempool still holds %r after 8 blocks" % rpc.getrawmempool())

    # Checks

    def check(self, iteration):
        rpc = self.node.rpc
        what = "after iteration %d" % iteration
        assert_equal(self.findings, [], what)
        height = rpc.getblockcount()
        info, stats = rpc.getblockchaininfo(), rpc.gettxoutsetinfo()
        tip = rpc.getbestblockhash()
        assert_equal((info["blocks"], info["bestblockhash"]), (height, tip), "getblockchaininfo " + what)
        assert_equal((stats["height"], stats["bestblock"]), (height, tip), "gettxoutsetinfo " + what)
        assert_equal(units(stats["total_amount"]), total_subsidy(1, height), "coin set total " + what)
        assert_true(height >= getattr(self, "last_height", 0), "the height went down %s" % what)
        self.last_height = height
        with self.lock:
            generated = dict(self.generated)
            self.generated.clear()
        # A generated block is kept (even through a kill); in the active chain it is held to the
        # rule below from now on; off it, the active block at its height is one the miner
        # reported as a new tip (the only source racing generatetoaddress).
        for block_hash, h in generated.items():
            header = rpc.getblockheader(block_hash)
            assert_equal(header["height"], h, "height of generated block %s %s" % (block_hash, what))
            active = rpc.getblockhash(h) if h <= height else None
            with self.lock:
                if active == block_hash:
                    self.record_tip(h, block_hash, "generatetoaddress")
                else:
                    assert_true(active in self.miner_tips, "generated block %s at height %d is off the active chain, "
                                "whose block there (%s) no miner reported %s" % (block_hash, h, active, what))
                    self.stale_generated += 1
        assert_equal(self.findings, [], what)
        with self.lock:
            accepted = dict(self.accepted)
            sent = dict(self.sent)
        lost = [(h, b) for h, b in sorted(accepted.items()) if h > height or rpc.getblockhash(h) != b]
        assert_equal(lost, [], "blocks reported accepted that left the active chain " + what)

        totals = {w: wallet_total(self.node, w) for w in WALLETS}
        assert_equal(sum(totals.values()), total_subsidy(OUTSIDE_BLOCKS + 1, height),
                     "coins of a + b (%r) == the subsidies of the blocks paying them %s" % (totals, what))
        lists = {w: {t["txid"]: t for t in wcall(self.node, w, "listtransactions", "*", 1000000)} for w in WALLETS}
        for txid, (source, target, address, amount) in sent.items():
            send = lists[source].get(txid)
            assert_true(send is not None and send["category"] == "send",
                        "reported send %s of %s is in its list as a send %s: %r" % (txid, source, what, send))
            assert_true(send["confirmations"] >= 1, "reported send %s confirmed %s: %r" % (txid, what, send))
            receive = lists[target].get(txid)
            assert_true(receive is not None and receive["category"] == "receive"
                        and units(receive["amount"]) == amount and receive["address"] == address,
                        "wallet %s received %s of %s at %s %s: %r" % (target, coins_text(amount), txid, address,
                                                                      what, receive))
            assert_equal(rpc.getblockhash(send["blockheight"]), send["blockhash"],
                         "block of send %s in the active chain %s" % (txid, what))
        self.lists = lists

    def final_checks(self):
        node, rpc = self.node, self.node.rpc
        height = rpc.getblockcount()
        # Fees: what the wallets recorded is what the coinbases collected.
        fees = -sum(units(t["fee"]) for w in WALLETS for t in self.lists[w].values() if t["category"] == "send")
        collected = 0
        outsider_coinbases = []
        for h in range(1, height + 1):
            block = rpc.getblock(rpc.getblockhash(h), 2)
            if h <= OUTSIDE_BLOCKS:
                outsider_coinbases.append(block["tx"][0]["txid"])
            collected += units(block["tx"][0]["vout"][0]["value"]) - subsidy(h)
        assert_equal(collected, fees, "fees collected by the coinbases == fees of the wallets' sends")
        # No change key is an address handed out; no change key twice.
        change = []
        for w in WALLETS:
            for t in self.lists[w].values():
                if t["category"] != "send":
                    continue
                outputs = rpc.getrawtransaction(t["txid"], True, t["blockhash"])["vout"]
                change += [o["address"] for o in outputs[1:]]
        assert_equal(set(change) & self.all_addresses, set(), "change addresses that were handed out")
        assert_equal(len(set(change)), len(change), "change addresses used twice")
        # Every address handed out is still known to its wallet: an outside key pays all of them.
        each = 10000
        payout = self.new_address("a")  # before the list, so that it is paid too
        count = len(self.all_addresses)
        spend_fee = 100 * count + 10000
        outputs = [(a, coins_text(each)) for w in WALLETS for a in self.addresses[w]]
        outputs.append((self.outsider["address"], coins_text(SUBSIDY * COIN - each * count - spend_fee)))
        tx = self.create_tx([(outsider_coinbases[0], 0, self.outsider["secret"])], outputs)
        txid = rpc.sendrawtransaction(tx)
        self.record_accepted(rpc.generatetoaddress(1, payout))
        self.sync_wallets()
        for w in WALLETS:
            found = set(u["address"] for u in wcall(node, w, "listunspent", 1, 9999999, self.addresses[w])
                        if u["txid"] == txid)
            missing = [a for a in self.addresses[w] if a not in found]
            assert_equal(missing, [], "addresses of wallet %s it no longer recognises" % w)
        height += 1
        stats = rpc.gettxoutsetinfo()
        assert_equal(units(stats["total_amount"]), total_subsidy(1, height), "final coin set total")
        outsider = SUBSIDY * COIN * (OUTSIDE_BLOCKS - 1) + SUBSIDY * COIN - each * count - spend_fee
        for h, cb in enumerate(outsider_coinbases[1:], start=2):
            assert_true(rpc.gettxout(cb, 0) is not None, "the outside coinbase of height %d is unspent" % h)
        totals = sum(wallet_total(node, w) for w in WALLETS)
        assert_equal(totals + outsider, total_subsidy(1, height), "final recount: wallets + outside key == coin set")
        print("final recount: height %d, coin set %s, wallets %s, outside key %s; fees %s; %d change keys"
              % (height, stats["total_amount"], coins_text(totals), coins_text(outsider), coins_text(fees),
                 len(change)), flush=True)


def parse_own_options():
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--seed", type=int, default=os.environ.get("MINICOIN_FAULT_SEED"))
    parser.add_argument("--iterations", type=int, default=int(os.environ.get("MINICOIN_FAULT_ITERATIONS", "5")))
    own, rest = parser.parse_known_args()
    if own.seed is None:
        own.seed = random.SystemRandom().randrange(1 << 31)
    own.seed = int(own.seed)
    if own.iterations < 1:
        parser.error("--iterations must be at least 1")
    return own, rest


class _Test(FaultKillLoopTest):
    own = None

    def __init__(self, options):
        super().__init__(options)
        options.seed, options.iterations = self.own.seed, self.own.iterations


if __name__ == "__main__":
    _Test.own, remaining = parse_own_options()
    framework.main(_Test, remaining)
