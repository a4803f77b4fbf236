#!/usr/bin/env bash
# The test files, in two lanes run side by side: the files of test/live-lane.txt one after the
# other (minutes each of mostly waiting), and all the others two at a time. The live lane's
# report is printed after the main lane's, whole; the exit status fails if either lane failed.
#   scripts/test-unit.sh [--exclude LISTFILE]   (files named in LISTFILE are left out of both lanes)
set -uo pipefail
cd "$(dirname "$0")/.."
exclude=/dev/null
if [ "${1:-}" = "--exclude" ]; then exclude="$2"; fi
list() { grep -v '^#' "$1" | grep -v '^$'; }
all=$(find test -name '*.test.ts' | sort | grep -vxF -f <(list "$exclude") || true)
live=$(printf '%s\n' $all | grep -xF -f <(list test/live-lane.txt) || true)
main=$(printf '%s\n' $all | grep -vxF -f <(list test/live-lane.txt) || true)
run() { node --import tsx --test --test-reporter=spec "$@"; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
livePid=
if [ -n "$live" ]; then
  run --test-concurrency=1 $live >"$out" 2>&1 &
  livePid=$!
fi
run --test-concurrency=2 $main
mainRc=$?
liveRc=0
if [ -n "$livePid" ]; then
  wait "$livePid"
  liveRc=$?
  echo "== the live lane ($(echo $live | wc -w) files, run beside the others) =="
  cat "$out"
fi
[ "$mainRc" -eq 0 ] && [ "$liveRc" -eq 0 ]
