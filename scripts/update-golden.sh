#!/usr/bin/env bash
# Regenerates the golden expectations of crossproc-gen (tests/golden/expected/) from
# tests/golden/*.capnp with a freshly built generator. Run it after an intended change to the
# generator, review `git diff tests/golden/expected`, and commit it with the change:
#
#   scripts/update-golden.sh [build dir]        (default: build/, configured if needed)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$root/build}
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCROSSPROC_WERROR=ON >/dev/null
fi
cmake --build "$build_dir" --target crossproc-gen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$root/tests/golden/golden.sh" update "$build_dir/gen/crossproc-gen" "$work/outputs"
git -C "$root" status --short -- tests/golden/expected || true
