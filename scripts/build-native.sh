#!/bin/sh
# Builds the optional native addon (native/udp-batch.c -> build/udp-batch.node): recvmmsg batches
# for `palisade collect`. Node-API only, so one build loads in Node 20, 22 and 24. Without a C
# compiler or Node's headers it says why and stops with success: collect then reads with node:dgram.
cd "$(dirname "$0")/.." || exit 0
out=build/udp-batch.node
src=native/udp-batch.c
[ -f "$out" ] && [ "$out" -nt "$src" ] && exit 0
cc=${CC:-cc}
inc=""
for d in "${npm_config_nodedir:-}/include/node" "$(dirname "$(dirname "$(command -v node)")")/include/node" /usr/include/node /usr/local/include/node; do
  if [ -f "$d/node_api.h" ] && [ -f "$d/uv.h" ]; then inc=$d; break; fi
done
if ! command -v "$cc" >/dev/null 2>&1; then echo "build-native: no C compiler ($cc); palisade collect will read with node:dgram" >&2; exit 0; fi
if [ -z "$inc" ]; then echo "build-native: Node headers (node_api.h, uv.h) not found; palisade collect will read with node:dgram" >&2; exit 0; fi
mkdir -p build
if ! "$cc" -O2 -Wall -shared -fPIC -I"$inc" -o "$out.tmp" "$src"; then
  echo "build-native: compiling $src failed; palisade collect will read with node:dgram" >&2
  rm -f "$out.tmp"
  exit 0
fi
mv "$out.tmp" "$out"
