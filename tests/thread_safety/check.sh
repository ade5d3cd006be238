#!/usr/bin/env bash
# Proves the thread-safety analysis is live: clang must accept locking_ok.cpp and reject each
# violation in locking_violation.cpp with the diagnostic written beside it (and accept the file
# with no violation selected). Exit 77 (skip) without clang++, unless CROSSPROC_REQUIRE_TOOLS=1.
#   check.sh CLANG++ INCLUDE_DIR
set -uo pipefail
clang=$1
include=$2
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v "$clang" >/dev/null 2>&1; then
  echo "clang++ not found"
  [ "${CROSSPROC_REQUIRE_TOOLS:-0}" = 1 ] && exit 1
  exit 77
fi
compile() { "$clang" -std=c++20 -fsyntax-only -Wthread-safety -Werror -I"$include" "$@" 2>&1; }
status=0
if ! out=$(compile "$here/locking_ok.cpp"); then
  echo "FAIL: locking_ok.cpp was rejected:"; echo "$out"; status=1
fi
if ! out=$(compile -DVIOLATION=0 "$here/locking_violation.cpp"); then
  echo "FAIL: locking_violation.cpp without a violation was rejected:"; echo "$out"; status=1
fi
while IFS= read -r line; do
  n=$(echo "$line" | sed -E 's/.*VIOLATION == ([0-9]+).*/\1/')
  expected=$(echo "$line" | sed -E 's/.*expect: //')
  if out=$(compile -DVIOLATION="$n" "$here/locking_violation.cpp"); then
    echo "FAIL: violation $n was accepted (expected: $expected)"; status=1
  elif ! grep -qF "$expected" <<<"$out"; then
    echo "FAIL: violation $n was rejected for another reason (expected: $expected):"; echo "$out"; status=1
  else
    echo "ok: violation $n rejected: $expected"
  fi
done < <(grep -E '^#if VIOLATION == [0-9]+ +// expect: ' "$here/locking_violation.cpp")
exit $status
