#!/usr/bin/env bash
# Configures and builds crossproc in build/ (or $1), warnings as errors.
# Extra arguments are passed to CMake, for example -DCROSSPROC_SANITIZE=thread.
# CROSSPROC_TARGETS="a b" builds only those targets (and what they need).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$root/build}
shift || true
jobs=${CROSSPROC_JOBS:-$(nproc)}
cmake -S "$root" -B "$build_dir" -G Ninja -DCROSSPROC_WERROR=ON "$@" >/dev/null
targets=()
for target in ${CROSSPROC_TARGETS:-}; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j "$jobs" "${targets[@]}"
