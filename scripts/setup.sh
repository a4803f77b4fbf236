#!/usr/bin/env bash
# Installs everything Palisade's tests, benches and demo need: Debian packages (when root or
# with sudo), npm packages, and the compiled CLI. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=$(grep -v '^\s*#' .ci/apt-packages.txt | grep -v '^\s*$' | tr '\n' ' ')
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
  }
fi

export npm_config_nodedir=${npm_config_nodedir:-/usr}
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
npm run --silent build
