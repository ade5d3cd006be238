#!/usr/bin/env python3
"""Runs minicoin's functional tests (every test_*.py here), two at a time, each with a timeout.

    python3 run.py --binary build/apps/minicoin/bin/minicoind [-k reorg] [--jobs 2] [--timeout 300]

Prints one line per test, the output of failed tests, and at the end "N passed, N failed" alone
on a line. Exits 1 if any test failed (or none matched).
"""
import argparse
import fnmatch
import glob
import os
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run_one(path, forwarded, timeout):
    """Runs one test script in its own process group; returns (ok, seconds, output)."""
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, path, *forwarded], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        ok = process.returncode == 0
        note = ""
    except subprocess.TimeoutExpired:
        # SIGTERM lets the test kill its nodes and print their logs; SIGKILL the group after that.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        ok = False
        note = "\n[run.py] timed out after %ss\n" % timeout
    # Whatever the test left behind in its group (nodes it could not stop) goes too.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return ok, time.monotonic() - start, output.decode(errors="replace") + note


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.environ.get("MINICOIN_NODE_BINARY"),
                        help="node executable (minicoind or minicoin-node); default $MINICOIN_NODE_BINARY")
    parser.add_argument("--build-dir", help="where minicoin-cli and minicoin-tx are (default: next to --binary)")
    parser.add_argument("--cli", help="minicoin-cli executable")
    parser.add_argument("--tx", help="minicoin-tx executable")
    parser.add_argument("-k", dest="pattern", help="run only tests whose name contains this (or matches this glob)")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="tests run at the same time (default 2)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per test (default 300)")
    parser.add_argument("--tmpdir-root", help="parent of the tests' temporary directories")
    options = parser.parse_args()

    forwarded = []
    if options.binary:
        forwarded.append("--binary=" + os.path.abspath(options.binary))
    for name in ("build_dir", "cli", "tx", "tmpdir_root"):
        value = getattr(options, name)
        if value:
            forwarded.append("--%s=%s" % (name.replace("_", "-"), os.path.abspath(value)))

    tests = sorted(glob.glob(os.path.join(HERE, "test_*.py")))
    if options.pattern:
        pattern = options.pattern
        tests = [t for t in tests
                 if pattern in os.path.basename(t) or fnmatch.fnmatch(os.path.basename(t), pattern)]
    if not tests:
        print("no test matches %r" % options.pattern)
        print("0 passed, 0 failed")
        return 1

    results = {}
    lock = threading.Lock()
    queue = list(tests)

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop(0)
            ok, seconds, output = run_one(path, forwarded, options.timeout)
            name = os.path.splitext(os.path.basename(path))[0]
            with lock:
                results[path] = (ok, output)
                print("%-40s %s  %6.1fs" % (name, "passed" if ok else "FAILED", seconds), flush=True)

    threads = [threading.Thread(target=worker) for _ in range(max(1, options.jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failed = [path for path in tests if not results[path][0]]
    for path in failed:
        print("\n==== %s output ====" % os.path.basename(path))
        print(results[path][1].rstrip())
    print()
    print("%d passed, %d failed" % (len(tests) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
