#!/bin/sh
# run_suite.sh BUILD: every test suite against the binaries in BUILD.
# Each suite prints "name: N passed, N failed"; this adds them up.
B=${1:-build}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
echo "== core C tests ($B)"
"$B/test_core" 2>&1 | tee -a "$out" || status=1
echo "== Lua tests ($B)"
(cd tests/lua && ../../"$B"/convplay --headless run.lua test_*.lua) 2>&1 | tee -a "$out" || status=1
if ls tests/viz/test_*.sh >/dev/null 2>&1; then
  for t in tests/viz/test_*.sh; do
    echo "== $t ($B)"
    sh "$t" "$B" 2>&1 | tee -a "$out" || status=1
  done
fi
p=$(sed -n 's/^[a-z-]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
f=$(sed -n 's/^[a-z-]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$out" | awk '{s+=$1} END {print s+0}')
echo "suite $B: $p passed, $f failed" > "$B/summary.txt"
cat "$B/summary.txt"
[ "$status" = 0 ] && [ "$f" = 0 ]
