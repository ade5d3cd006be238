#!/usr/bin/env bash
# Golden tests of crossproc-gen. Every tests/golden/*.capnp is translated and compared byte for
# byte with tests/golden/expected/; every tests/golden/errors/*.capnp must be rejected with the
# message in its `# expect-error:` line.
#
#   golden.sh check  <crossproc-gen> <work dir>   regenerate into <work dir>, diff with expected/
#   golden.sh update <crossproc-gen> <work dir>   regenerate expected/ (see scripts/update-golden.sh)
#   golden.sh errors <crossproc-gen> <work dir>   check the rejections
#
# CAPNP names the capnp executable (default: capnp from PATH).
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 check|update|errors <crossproc-gen> <work dir>" >&2
  exit 2
fi
mode=$1
gen=$(realpath "$2")
work=$3
here=$(cd "$(dirname "$0")" && pwd)
schema_dir=$(cd "$here/../../schema" && pwd)
capnp=${CAPNP:-capnp}

# generate <out dir> <schema>: runs crossproc-gen alone, as crossproc_generate does with capnpc-c++.
generate() {
  "$capnp" compile -I"$schema_dir" -I"$here" --src-prefix="$here" -o"$gen:$1" "$2"
}

case $mode in
  check | update)
    rm -rf "$work"
    mkdir -p "$work"
    for schema in "$here"/*.capnp; do
      generate "$work" "$schema"
    done
    if [ "$mode" = update ]; then
      rm -f "$here"/expected/*.crossproc.h "$here"/expected/*.crossproc.cpp
      mkdir -p "$here/expected"
      cp "$work"/*.crossproc.h "$work"/*.crossproc.cpp "$here/expected/"
      echo "updated $here/expected from $(cd "$here" && ls *.capnp | tr '\n' ' ')"
      exit 0
    fi
    # Same file names, same bytes; diff -u shows what changed.
    if ! diff -u -r "$here/expected" "$work"; then
      echo >&2
      echo "crossproc-gen output differs from tests/golden/expected (diff above: expected -> actual)." >&2
      echo "If the change is intended, run scripts/update-golden.sh and commit the new expectations." >&2
      exit 1
    fi
    echo "golden outputs match ($(ls "$work" | wc -l) files)"
    ;;
  errors)
    rm -rf "$work"
    mkdir -p "$work"
    failures=0
    for schema in "$here"/errors/*.capnp; do
      name=$(basename "$schema")
      expected=$(sed -n 's/^# expect-error: //p' "$schema" | head -n 1)
      if "$capnp" compile -I"$schema_dir" --src-prefix="$here/errors" -o"$gen:$work" "$schema" \
          2>"$work/stderr" >/dev/null; then
        echo "FAIL $name: crossproc-gen accepted it" >&2
        failures=$((failures + 1))
      elif ! grep -qF -- "$name: $expected" "$work/stderr" || ! grep -qF "plugin failed: exit code 1" "$work/stderr"; then
        echo "FAIL $name: expected \"$name: $expected\" and exit code 1, got:" >&2
        cat "$work/stderr" >&2
        failures=$((failures + 1))
      else
        echo "ok   $name: $(head -n 1 "$work/stderr")"
      fi
    done
    [ "$failures" -eq 0 ]
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
