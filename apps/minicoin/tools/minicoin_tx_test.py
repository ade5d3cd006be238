#!/usr/bin/env python3
"""Functional test of the minicoin-tx executable: genkey, create, decode, -help and errors."""
import json
import subprocess
import sys


def run(binary, *args):
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    if len(sys.argv) != 2:
        print("usage: minicoin_tx_test.py <path to minicoin-tx>", file=sys.stderr)
        return 2
    binary = sys.argv[1]

    result = run(binary, "genkey")
    check(result.returncode == 0, "genkey failed: " + result.stderr)
    key = json.loads(result.stdout)
    check(set(key) == {"secret", "pubkey", "address"}, "genkey fields: %r" % key)
    check(len(key["secret"]) == 64 and len(key["pubkey"]) == 64, "genkey hex lengths: %r" % key)
    check(key["address"].startswith("mcrt1p"), "address: " + key["address"])
    other = json.loads(run(binary, "genkey").stdout)
    check(other["secret"] != key["secret"], "two genkey calls gave the same secret")

    txid = "ab" * 32
    result = run(binary, "create", "-in=%s:1:%s" % (txid, key["secret"]),
                 "-out=%s:12.5" % other["address"], "-out=%s:0.00000001" % key["address"])
    check(result.returncode == 0, "create failed: " + result.stderr)
    raw = result.stdout.strip()
    check(all(c in "0123456789abcdef" for c in raw), "create output is not hex: " + raw)

    result = run(binary, "decode", raw)
    check(result.returncode == 0, "decode failed: " + result.stderr)
    tx = json.loads(result.stdout)
    check(tx["size"] == len(raw) // 2, "size %r for %d bytes" % (tx["size"], len(raw) // 2))
    check(tx["vin"] == [{"txid": txid, "vout": 1, "signature": raw[-128:]}], "vin: %r" % tx["vin"])
    check(tx["vout"] == [{"n": 0, "value": 12.5, "address": other["address"]},
                         {"n": 1, "value": 0.00000001, "address": key["address"]}], "vout: %r" % tx["vout"])
    check(tx["version"] == 1 and tx["height"] == 0 and len(tx["txid"]) == 64, "header: %r" % tx)
    check('"value": 12.50000000' in result.stdout, "amounts not printed with 8 decimals: " + result.stdout)
    # The identifier does not cover signatures: signing again gives another signature, same txid.
    again = run(binary, "create", "-in=%s:1:%s" % (txid, key["secret"]),
                "-out=%s:12.5" % other["address"], "-out=%s:0.00000001" % key["address"]).stdout.strip()
    check(json.loads(run(binary, "decode", again).stdout)["txid"] == tx["txid"], "txid depends on the signature")

    result = run(binary, "-help")
    check(result.returncode == 0 and "genkey" in result.stdout and "decode" in result.stdout, "-help: " + result.stdout)

    failures = [
        (["create", "-in=%s:1:%s" % (txid, key["secret"]), "-out=%s:1.5.5" % key["address"]], "invalid amount"),
        (["create", "-in=%s:1:%s" % (txid, key["secret"]), "-out=%s:-1" % key["address"]], "invalid amount"),
        (["create", "-in=%s:1:%s" % (txid, key["secret"]), "-out=%s:1" % key["address"][:-1]], "invalid address"),
        (["create", "-in=%s:x:%s" % (txid, key["secret"]), "-out=%s:1" % key["address"]], "output index"),
        (["decode", raw[:-2]], "cannot decode"),
        (["decode", "xyz"], "invalid hex"),
        (["nonsense"], "unknown command"),
        ([], "no command"),
    ]
    for args, message in failures:
        result = run(binary, *args)
        check(result.returncode == 1, "%r: exit code %d" % (args, result.returncode))
        check(message in result.stderr, "%r: stderr %r lacks %r" % (args, result.stderr, message))
        check(result.stdout == "", "%r: stdout %r" % (args, result.stdout))
    print("minicoin-tx: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
