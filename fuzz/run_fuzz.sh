#!/usr/bin/env bash
# Runs one fuzz target over its committed seeds and regressions, then fuzzes on for a while:
#   run_fuzz.sh <fuzzer> <seed dir> <regression dir> [extra libFuzzer flags]
# CROSSPROC_TEST_MODE=long fuzzes for 300 s, otherwise 20 s (CROSSPROC_FUZZ_SECONDS overrides).
# New inputs go to a temporary folder (the committed corpus is left as it is); a crashing input is
# written to $CROSSPROC_FUZZ_ARTIFACTS (default: the current folder). $CROSSPROC_FUZZ_DICT names a
# libFuzzer dictionary for the target, if it has one.
set -euo pipefail
fuzzer=$1 seeds=$2 regressions=$3
shift 3
seconds=${CROSSPROC_FUZZ_SECONDS:-}
if [ -z "$seconds" ]; then
  if [ "${CROSSPROC_TEST_MODE:-quick}" = long ]; then seconds=300; else seconds=20; fi
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Every regression input alone first: a failure names the input.
for input in "$regressions"/*; do
  [ -f "$input" ] || continue
  "$fuzzer" -timeout=30 "$input" >"$work/replay.log" 2>&1 || { cat "$work/replay.log"; echo "regression fails: $input" >&2; exit 1; }
done
# A target without regressions has no folder for them (git keeps no empty folders).
dirs=("$work" "$seeds")
dict=()
[ -n "${CROSSPROC_FUZZ_DICT:-}" ] && dict=(-dict="$CROSSPROC_FUZZ_DICT")
[ -d "$regressions" ] && dirs+=("$regressions")
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  exec "$fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
  -artifact_prefix="${CROSSPROC_FUZZ_ARTIFACTS:-$PWD}/$(basename "$fuzzer")-" "${dict[@]}" "$@" "${dirs[@]}"
