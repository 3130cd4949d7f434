#!/bin/bash
# run_suite.sh BUILD: every test suite against the binaries in BUILD.
# Each suite ends with "name: N passed, N failed"; this adds them up.  A
# suite that exits non-zero, or ends without its summary line (a crash, a
# sanitizer report), counts as one more failure.
B=${1:-build}
all=$(mktemp); one=$(mktemp)
trap 'rm -f "$all" "$one"' EXIT
status=0
suite() { # suite TITLE COMMAND...
  echo "== $1 ($B)"
  shift
  "$@" > "$one" 2>&1
  local rc=$?
  grep -v '^ok' "$one"
  local line
  line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$one" | tail -n 1)
  if [ -z "$line" ]; then
    echo "crash: 0 passed, 1 failed   ($* ended without a summary, status $rc)" | tee -a "$all"
    status=1
  else
    echo "$line" >> "$all"
    [ $rc = 0 ] || status=1
  fi
}
suite "core C tests" "$B/test_core"
suite "Lua tests" sh -c "cd tests/lua && ../../$B/convplay --headless run.lua test_*.lua"
# The same API through Debian's stock lua5.4, convplay loaded as a module
# (BUILD/convplay.so); a sanitized module needs its runtimes preloaded.
export CONVPLAY_PRELOAD=""
case "$CONVPLAY_SAN" in *address*)
  CONVPLAY_PRELOAD="$(${CC:-cc} -print-file-name=libasan.so) $(${CC:-cc} -print-file-name=libubsan.so)" ;;
esac
suite "Lua tests, stock lua5.4" sh -c "cd tests/lua && CONVPLAY_HEADLESS=1 \
  LD_PRELOAD=\"\$CONVPLAY_PRELOAD\" lua5.4 stock.lua ../../$B run.lua test_tensor.lua \
  test_conv_api.lua test_errors.lua test_golden.lua test_viz.lua test_lab.lua test_seeds.lua"
for t in tests/*/test_*.sh; do
  [ -f "$t" ] && suite "$t" bash "$t" "$B"
done
p=$(sed -n 's/^[a-z-]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p' "$all" | awk '{s+=$1} END {print s+0}')
f=$(sed -n 's/^[a-z-]*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p' "$all" | awk '{s+=$1} END {print s+0}')
echo "suite $B: $p passed, $f failed" > "$B/summary.txt"
cat "$B/summary.txt"
[ "$status" = 0 ] && [ "$f" = 0 ]
