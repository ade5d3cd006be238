#!/usr/bin/env python3
"""Runs minicoin's functional tests (every test_*.py here), two at a time, each with a timeout.

    python3 run.py --binary build/apps/minicoin/bin/minicoind [-k reorg] [--jobs 2] [--timeout 300]

Prints one line per test (passed, FAILED or skipped, with the reason of a skip), the output of
failed tests, and at the end "N passed, N failed, N skipped" alone on a line. A test exits with
framework.SKIP_EXIT_CODE when it does not apply to the binary or cannot run here. Exits 1 if
any test failed (or none matched).
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
sys.path.insert(0, HERE)
from framework import SKIP_EXIT_CODE  # noqa: E402


def run_one(path, forwarded, timeout):
    """Runs one test script in its own process group; returns (status, seconds, output), status
    being "passed", "FAILED" or "skipped"."""
    start = time.monotonic()
    process = subprocess.Popen([sys.executable, path, *forwarded], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        status = {0: "passed", SKIP_EXIT_CODE: "skipped"}.get(process.returncode, "FAILED")
        note = ""
    except subprocess.TimeoutExpired:
        # SIGTERM lets the test kill its nodes and print their logs; SIGKILL the group after that.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        status = "FAILED"
        note = "\n[run.py] timed out after %ss\n" % timeout
    # Whatever the test left behind in its group (nodes it could not stop) goes too.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return status, time.monotonic() - start, output.decode(errors="replace") + note


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
        print("0 passed, 0 failed, 0 skipped")
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
            status, seconds, output = run_one(path, forwarded, options.timeout)
            name = os.path.splitext(os.path.basename(path))[0]
            reason = ""
            if status == "skipped":
                lines = [line for line in output.splitlines() if line.startswith("SKIP: ")]
                reason = "  (%s)" % lines[-1][len("SKIP: "):] if lines else ""
            with lock:
                results[path] = (status, output)
                print("%-40s %-7s  %6.1fs%s" % (name, status, seconds, reason), flush=True)

    threads = [threading.Thread(target=worker) for _ in range(max(1, options.jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    failed = [path for path in tests if results[path][0] == "FAILED"]
    skipped = [path for path in tests if results[path][0] == "skipped"]
    for path in failed:
        print("\n==== %s output ====" % os.path.basename(path))
        print(results[path][1].rstrip())
    print()
    print("%d passed, %d failed, %d skipped" % (len(tests) - len(failed) - len(skipped), len(failed), len(skipped)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
