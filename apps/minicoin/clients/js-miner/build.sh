#!/usr/bin/env bash
# Installs capnp-es exactly as package-lock.json says (npm ci) and generates the JavaScript for
# minicoin's schemas into gen-js/ (capnpc-ts writes TypeScript to gen/, tsc turns it into JS).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
ipc=$root/apps/minicoin/ipc
cd "$here"
# The minicoind and minicoin-node suites may build at the same time; npm ci starts by deleting
# node_modules, so one build at a time.
exec 9>"$here/.build.lock"
flock 9
npm ci --no-audit --no-fund --loglevel=error
rm -rf gen gen-js
mkdir gen
capnp compile -I "$root/schema" -I /usr/include --src-prefix="$ipc" --src-prefix="$root/schema" \
  -o node_modules/.bin/capnpc-ts:gen \
  "$ipc/init.capnp" "$ipc/mining.capnp" "$ipc/chain.capnp" "$ipc/common.capnp" "$ipc/echo.capnp" \
  "$ipc/wallet.capnp" "$ipc/node.capnp" "$ipc/net.capnp" "$root/schema/crossproc/proxy.capnp" >/dev/null
node_modules/.bin/tsc --noCheck --skipLibCheck --target es2022 --module nodenext --moduleResolution nodenext \
  --outDir gen-js gen/*.ts gen/crossproc/*.ts
