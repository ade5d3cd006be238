#!/usr/bin/env bash
# Starts kvstore-server listening on a socket, uses it from two separate client runs (the value
# set by the first is read by the second), then stops the server.
set -euo pipefail
server=$1
client=$2
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
"$server" -ipcbind=unix:"$dir/kv.sock" > "$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do [ -S "$dir/kv.sock" ] && break; sleep 0.02; done
"$client" -ipcconnect=unix:"$dir/kv.sock" set color blue
out=$("$client" -ipcconnect=unix:"$dir/kv.sock" get color)
echo "$out"
grep -q "color = blue" <<<"$out"
kill -INT $pid
wait $pid
grep -q "stopping" "$dir/server.log"
