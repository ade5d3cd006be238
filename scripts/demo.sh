#!/usr/bin/env bash
# Builds crossproc and runs the calculator example: a client and a server in two processes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh" "$root/build"
"$root/build/examples/calculator/calculator"
