#!/usr/bin/env python3
"""Initial block download between real minicoin processes on 127.0.0.1.

Generates (or reuses) a regtest chain of signature-heavy blocks with minicoin-chaingen, serves it
from 1 or 3 minicoind peers, and times a fresh node (minicoind or minicoin-node) syncing it over
the peer-to-peer network with -connect, from its start until its tip is the chain's. Prints
blocks/s and MB/s per configuration, and the ratios the docs quote, each against a baseline
measured in the same run:
  minicoin-node / minicoind (same peers, same -par), and -par=2 / -par=1 (minicoind, one peer).

  python3 bench/minicoin_ibd_bench.py [--build-dir build] [--blocks 5000] [--txs-per-block 50]
                                      [--repeat 2] [--quick] [--json FILE] [--only layouts|par]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "apps", "minicoin", "test", "functional"))
import framework  # noqa: E402


def start_node(binary, datadir, args, index):
    node = framework.TestNode(index, datadir, binary, start_timeout=120, rpc_timeout=600)
    node.start(args)
    return node


def sync_once(options, chain_dir, chain_info, binary, peers, par, run_dir):
    """Seconds for a fresh `binary` node to sync the chain from `peers` minicoind peers."""
    sources = []
    try:
        for i in range(peers):
            datadir = os.path.join(run_dir, "source%d" % i)
            shutil.copytree(chain_dir, datadir)
            source = framework.TestNode(100 + i, datadir, options.minicoind, start_timeout=120)
            source.start(source.p2p_args())
            sources.append(source)
        target_dir = os.path.join(run_dir, "target")
        target = framework.TestNode(0, target_dir, binary, start_timeout=120)
        args = ["-listen=0", "-par=%d" % par] + ["-connect=" + s.p2p_address() for s in sources]
        start = time.monotonic()
        target.start(args)
        deadline = start + options.timeout
        while target.rpc.getblockcount() < chain_info["blocks"]:
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not sync within %ss" % (binary, options.timeout))
            time.sleep(0.05)
        seconds = time.monotonic() - start
        if target.rpc.getbestblockhash() != chain_info["tip"]:
            raise RuntimeError("synced to another tip")
        target.stop()
        return seconds
    finally:
        for source in sources:
            if source.is_running():
                source.stop()
        shutil.rmtree(run_dir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(HERE, "..", "build"))
    parser.add_argument("--blocks", type=int, default=5000)
    parser.add_argument("--txs-per-block", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2, help="runs per configuration (the fastest counts)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one sync may take")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (300 blocks, 10 transactions each)")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--only", choices=("layouts", "par"),
                        help="only the minicoind/minicoin-node comparison, or only -par=1 against -par=2")
    options = parser.parse_args()
    if options.quick:
        options.blocks, options.txs_per_block, options.repeat = 300, 10, 1
    bin_dir = os.path.join(options.build_dir, "apps", "minicoin", "bin")
    options.minicoind = os.path.join(bin_dir, "minicoind")
    node_binary = os.path.join(bin_dir, "minicoin-node")
    chaingen = os.path.join(options.build_dir, "bench", "minicoin-chaingen")
    for path in (options.minicoind, node_binary, chaingen):
        if not os.access(path, os.X_OK):
            sys.exit("missing %s (build the tree first)" % path)

    work = tempfile.mkdtemp(prefix="minicoin-ibd-bench-")
    try:
        chain_dir = os.path.join(work, "chain")
        started = time.monotonic()
        out = subprocess.run([chaingen, "--datadir", chain_dir, "--blocks", str(options.blocks),
                              "--txs-per-block", str(options.txs_per_block)],
                             check=True, capture_output=True, text=True).stdout
        chain_info = json.loads(out)
        megabytes = chain_info["bytes"] / 1e6
        print("chain: %d blocks, %d transactions each, %.1f MB, generated in %.1f s"
              % (chain_info["blocks"], options.txs_per_block, megabytes, time.monotonic() - started), flush=True)
        nproc = os.cpu_count() or 1
        configs = [("minicoind", options.minicoind, 1, 0), ("minicoin-node", node_binary, 1, 0),
                   ("minicoind", options.minicoind, 3, 0), ("minicoin-node", node_binary, 3, 0),
                   ("minicoind", options.minicoind, 1, 1), ("minicoind", options.minicoind, 1, 2)]
        if options.only == "layouts":
            configs = configs[:4]
        elif options.only == "par":
            configs = configs[4:]
        best = {}
        for run in range(options.repeat):
            for name, binary, peers, par in configs:
                seconds = sync_once(options, chain_dir, chain_info, binary, peers, par,
                                    os.path.join(work, "run"))
                key = (name, peers, par)
                best[key] = min(best.get(key, seconds), seconds)
                print("run %d: %-13s peers=%d par=%s: %.2f s" % (run + 1, name, peers, par or "auto", seconds),
                      flush=True)
        results = []
        print("\n| node | peers | -par | seconds | blocks/s | MB/s |\n| --- | --- | --- | --- | --- | --- |")
        for (name, peers, par), seconds in best.items():
            row = {"node": name, "peers": peers, "par": par, "seconds": seconds,
                   "blocks_per_second": chain_info["blocks"] / seconds, "mb_per_second": megabytes / seconds}
            results.append(row)
            print("| %s | %d | %s | %.2f | %.0f | %.2f |" % (name, peers, par or "auto (%d)" % nproc, seconds,
                                                            row["blocks_per_second"], row["mb_per_second"]))
        ratios = {}
        if ("minicoin-node", 1, 0) in best:
            ratios["node_vs_minicoind_1_peer"] = best[("minicoind", 1, 0)] / best[("minicoin-node", 1, 0)]
            ratios["node_vs_minicoind_3_peers"] = best[("minicoind", 3, 0)] / best[("minicoin-node", 3, 0)]
            print("\nminicoin-node speed / minicoind speed, 1 peer:  %.3f" % ratios["node_vs_minicoind_1_peer"])
            print("minicoin-node speed / minicoind speed, 3 peers: %.3f" % ratios["node_vs_minicoind_3_peers"])
        if ("minicoind", 1, 2) in best:
            ratios["par2_vs_par1"] = best[("minicoind", 1, 1)] / best[("minicoind", 1, 2)]
            print("-par=2 speed / -par=1 speed (minicoind, 1 peer): %.3f" % ratios["par2_vs_par1"])
        if options.json:
            with open(options.json, "w") as f:
                json.dump({"chain": chain_info, "cpus": nproc, "results": results, "ratios": ratios}, f, indent=2)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
