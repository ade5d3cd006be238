#!/usr/bin/env bash
# Builds and runs every test: the normal build (unit, process, functional, golden), then the unit
# and process suites under AddressSanitizer+UndefinedBehaviorSanitizer, the framework suites under
# ThreadSanitizer, and the fuzz-smoke runs of the fuzz targets (clang, in build-fuzz). Prints a
# closing "total: N passed, N failed, N skipped" line; a skipped test (one that cannot run here)
# is never counted as passed. Runs after scripts/install-deps.sh, so the tests that need a tool
# (npm) fail rather than skip when it is missing (CROSSPROC_REQUIRE_TOOLS=1).
#
# CROSSPROC_TEST_MODE=quick (default) keeps sanitizer and fuzz runs short; =long runs them in full.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${CROSSPROC_TEST_MODE:-quick}
jobs=${CROSSPROC_JOBS:-$(nproc)}
export CROSSPROC_TEST_MODE=$mode
export CROSSPROC_REQUIRE_TOOLS=1
logs=$(mktemp -d)
passed=0
failed=0
skipped=0
status=0

# run_suite NAME BUILD_DIR CTEST_ARGS... : runs ctest, adds its counts to the totals. ctest
# counts a skipped test among the passed ones in its summary line and lists it under "The
# following tests did not run" with "(Skipped)".
run_suite() {
  local name=$1 dir=$2
  shift 2
  echo "=== $name"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 600 "$@" 2>&1 | tee "$logs/$name.log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" "$logs/$name.log" | tail -1)
  if [ -n "$line" ]; then
    local total fails skips
    total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
    fails=$(echo "$line" | sed -E 's/.*tests passed, ([0-9]+) tests failed.*/\1/')
    skips=$(grep -cE '^[[:space:]]+[0-9]+ - .* \(Skipped\)$' "$logs/$name.log")
    passed=$((passed + total - fails - skips))
    failed=$((failed + fails))
    skipped=$((skipped + skips))
  elif ! grep -q "No tests were found" "$logs/$name.log"; then
    failed=$((failed + 1))
  fi
  [ "$rc" -eq 0 ] || status=1
}

build() {
  local dir=$1
  shift
  echo "=== build $dir $*"
  if ! "$root/scripts/build.sh" "$dir" "$@"; then
    echo "build failed: $dir" >&2
    failed=$((failed + 1))
    status=1
    return 1
  fi
}

if build "$root/build"; then
  run_suite default "$root/build"
fi
if build "$root/build-asan" "-DCROSSPROC_SANITIZE=address,undefined" -DCMAKE_BUILD_TYPE=Debug \
    -DCROSSPROC_BUILD_EXAMPLES=OFF -DCROSSPROC_BUILD_BENCH=OFF -DMINICOIN_BUILD_GUI=OFF; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite asan "$root/build-asan" -L "unit|process"
fi
if build "$root/build-tsan" -DCROSSPROC_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug \
    -DCROSSPROC_BUILD_EXAMPLES=OFF -DCROSSPROC_BUILD_BENCH=OFF -DMINICOIN_BUILD_GUI=OFF; then
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" run_suite tsan "$root/build-tsan" -L "unit"
fi

# The fuzz targets (clang, libFuzzer with ASan+UBSan), each replaying its seeds and regressions
# and fuzzing for 20 s (300 s in long mode). Only the targets and what they need are built
# (minicoin's libraries for the RPC target, not its executables or GUI). This clang tree also
# carries -Wthread-safety.
if command -v clang++ >/dev/null 2>&1; then
  if CC=clang CXX=clang++ CROSSPROC_TARGETS="fuzz_minicoin_decode fuzz_minicoin_net fuzz_connection fuzz_calls fuzz_minicoin_rpc fuzz_minicoin_peer" \
      build "$root/build-fuzz" -DCROSSPROC_BUILD_FUZZ=ON -DCROSSPROC_BUILD_TESTS=OFF \
      -DCROSSPROC_BUILD_EXAMPLES=OFF -DCROSSPROC_BUILD_BENCH=OFF -DMINICOIN_BUILD_GUI=OFF; then
    run_suite fuzz "$root/build-fuzz/fuzz" -L fuzz-smoke
  fi
else
  echo "clang++ not found: fuzz-smoke skipped (bash scripts/install-deps.sh installs it)" >&2
  failed=$((failed + 1))
  status=1
fi

echo
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $status
