#!/usr/bin/env bash
# Functional test of minicoin-cli against minicoin_rpc_test_server in a temporary data directory.
# Usage: cli_test.sh <minicoin-cli> <minicoin_rpc_test_server>
set -u
CLI=$1
SERVER=$2
DIR=$(mktemp -d)
SERVER_PID=
failures=0

cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# check <name> <expected exit code> <expected stdout> <expected stderr> -- <cli args...>
check() {
  local name=$1 want_rc=$2 want_out=$3 want_err=$4
  shift 5
  local out err rc
  out=$("$CLI" "$@" 2>"$DIR/stderr")
  rc=$?
  err=$(cat "$DIR/stderr")
  [ "$rc" = "$want_rc" ] || fail "$name: exit code $rc, expected $want_rc (stderr: $err)"
  [ "$out" = "$want_out" ] || fail "$name: stdout [$out], expected [$want_out]"
  [ "$err" = "$want_err" ] || fail "$name: stderr [$err], expected [$want_err]"
}

# start_server <args...>: starts it in the background, waits for "ready <port>", sets PORT.
start_server() {
  "$SERVER" -datadir="$DIR" -portfile="$DIR/port" "$@" >"$DIR/server.out" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    if grep -q '^ready' "$DIR/server.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  PORT=$(awk '/^ready/ {print $2}' "$DIR/server.out")
  [ -n "$PORT" ] || { echo "server did not start: $(cat "$DIR/server.out")" >&2; exit 1; }
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}

start_server
C=(-datadir="$DIR" -rpcport="$PORT")

# Output formats: strings raw, null nothing, other JSON pretty-printed with 2 spaces.
check "string result" 0 "0000000000000000000000000000000000000000000000000000000000000007" "" -- "${C[@]}" getblockhash 7
check "null result" 0 "" "" -- "${C[@]}" ping
check "array result" 0 $'[\n  "a",\n  "1"\n]' "" -- "${C[@]}" echo a 1
check "json params" 0 $'[\n  1,\n  true,\n  {\n    "k": [\n      null\n    ]\n  }\n]' "" -- "${C[@]}" echojson 1 true '{"k":[null]}'
check "empty array" 0 "[]" "" -- "${C[@]}" echo
check "error reply" 1 "" $'error code: -8\nerror message:\nThis is a test error' -- "${C[@]}" error
check "unknown method" 1 "" $'error code: -32601\nerror message:\nMethod not found' -- "${C[@]}" nosuchmethod
check "type error" 1 "" "error: Error parsing JSON: abc" -- "${C[@]}" getblockhash abc
check "too many params" 1 "" $'error code: -1\nerror message:\ngetblockhash height\n\nA fake block hash for a height (a number).' -- "${C[@]}" getblockhash 1 2
# -named: params by name, converted by the same table.
check "named" 0 $'{\n  "address": "addr",\n  "units": 150000000,\n  "wallet": ""\n}' "" -- "${C[@]}" -named sendtoaddress amount=1.5 address=addr
check "named unknown" 1 "" $'error code: -8\nerror message:\nUnknown named parameter bogus' -- "${C[@]}" -named echo bogus=1
check "named without =" 1 "" "error: No '=' in named argument 'x', this needs to be fixed (-named takes name=value arguments)" -- "${C[@]}" -named echo x
check "bad amount" 1 "" $'error code: -3\nerror message:\nInvalid amount' -- "${C[@]}" sendtoaddress a 0.000000001
# -rpcwallet selects /wallet/<name>.
check "rpcwallet" 0 "my wallet" "" -- "${C[@]}" -rpcwallet="my wallet" getwalletname
# -stdin appends one argument per line.
out=$(printf 'b\nc d\n' | "$CLI" "${C[@]}" -stdin echo a)
[ "$out" = $'[\n  "a",\n  "b",\n  "c d"\n]' ] || fail "stdin: [$out]"
# Options after the command are parameters.
check "positional stops options" 0 $'[\n  "-rpcport=1"\n]' "" -- "${C[@]}" echo -rpcport=1
# Help from the server.
out=$("$CLI" "${C[@]}" help)
case "$out" in *"== Test =="*"echo ( \"arg0\" ... )"*) ;; *) fail "help: [$out]" ;; esac
# A config file in the data dir supplies rpcport (and unknown daemon options are ignored).
printf 'rpcport=%s\nserver=1\n' "$PORT" >"$DIR/minicoin.conf"
check "config rpcport" 0 "" "" -- -datadir="$DIR" ping
rm "$DIR/minicoin.conf"
check "missing conf" 1 "" "Error reading configuration file: Specified config file \"$DIR/none.conf\" could not be opened." -- -datadir="$DIR" -conf=none.conf ping
# Credentials.
check "wrong password" 1 "" "error: Authorization failed: Incorrect rpcuser or rpcpassword" -- "${C[@]}" -rpcuser=u -rpcpassword=p ping
check "no cookie" 1 "" "error: Could not locate RPC credentials. No authentication cookie could be found, and RPC password is not set.  See -rpcpassword and -stdinrpcpass.  Configuration file: ($DIR/minicoin.conf)" -- "${C[@]}" -rpccookiefile=missing ping
cp "$DIR/.cookie" "$DIR/other.cookie"
check "rpccookiefile" 0 "" "" -- "${C[@]}" -rpccookiefile=other.cookie ping
# Option errors.
check "invalid option" 1 "" "Error parsing command line arguments: Invalid parameter -foo" -- "${C[@]}" -foo ping
check "missing datadir" 1 "" "Error: Specified data directory \"$DIR/nope\" does not exist." -- -datadir="$DIR/nope" ping
check "no command" 1 "" "error: too few parameters (need at least command)" -- "${C[@]}"
check "bad port" 1 "" "error: Invalid value for -rpcport: x (expected an integer)" -- -datadir="$DIR" -rpcport=x ping
out=$("$CLI" -help) || fail "-help exit code"
case "$out" in *"Usage:  minicoin-cli [options] <command> [params]"*"-rpcwait"*) ;; *) fail "-help: [$out]" ;; esac
out=$("$CLI" -version) || fail "-version exit code"
case "$out" in "Minicoin RPC client version v"*) ;; *) fail "-version: [$out]" ;; esac
# The stop RPC shuts the server down cleanly and removes the cookie.
check "stop" 0 "minicoin test server stopping" "" -- "${C[@]}" stop
wait "$SERVER_PID"; rc=$?
SERVER_PID=
[ "$rc" = 0 ] || fail "server exit code after stop: $rc"
[ ! -e "$DIR/.cookie" ] || fail "cookie left after stop"

# Nothing listening.
check "could not connect" 1 "" $'error: Could not connect to the server 127.0.0.1:'"$PORT"$'\n\nMake sure the minicoind server is running and that you are connecting to the correct RPC port.' -- "${C[@]}" ping
start=$(date +%s)
check "rpcwait timeout" 1 "" $'error: timeout on transient error: Could not connect to the server 127.0.0.1:'"$PORT"$'\n\nMake sure the minicoind server is running and that you are connecting to the correct RPC port.' -- "${C[@]}" -rpcwait -rpcwaittimeout=1 ping
[ $(( $(date +%s) - start )) -le 10 ] || fail "rpcwait timeout took too long"

# -rpcwait: the server starts (and writes its cookie) 1.5 s later on the same port, then warms up.
"$SERVER" -datadir="$DIR" -rpcport="$PORT" -startdelay=1500 -warmup=1500 >"$DIR/server.out" 2>&1 &
SERVER_PID=$!
check "rpcwait" 0 $'[\n  "waited"\n]' "" -- "${C[@]}" -rpcwait -rpcwaittimeout=30 echo waited
grep -q '^ready' "$DIR/server.out" || fail "rpcwait: answered before the server was ready"
stop_server

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all minicoin-cli checks passed"
