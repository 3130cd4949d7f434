#!/bin/bash
# tsan_lab.sh BUILD: the lab's window test (tests/viz/test_lab_window.sh)
# against a ThreadSanitizer build: the worker thread computes while the
# window draws its progress and the UI cancels it.  Any ThreadSanitizer
# report is one more failure.  Writes "suite BUILD: N passed, N failed" to
# BUILD/summary.txt (as run_suite.sh does).
B=${1:-build/tsan}
logs="$B/tsan-logs"
rm -rf "$logs"
mkdir -p "$logs"
echo "== tests/viz/test_lab_window.sh ($B, ThreadSanitizer)"
run() { TSAN_OPTIONS="log_path=$PWD/$logs/tsan suppressions=$PWD/tests/tsan.supp" bash tests/viz/test_lab_window.sh "$B" 2>&1; }
out=$(run)
# On a machine shared by several suites, xvfb-run -a can hand two of them the
# same display number; the window then finds no X server.  Once, retry.
if echo "$out" | grep -q 'window-opens: no window'; then
  echo "  (no window: X display taken by another run?  retrying once)"
  out=$(run)
fi
echo "$out" | grep -v '^ok'
line=$(echo "$out" | grep -E '^viz-lab: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
p=$(echo "$line" | sed -n 's/^viz-lab: \([0-9]*\) passed.*/\1/p')
f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
[ -z "$line" ] && p=0 && f=1 && echo "crash: the lab window test ended without a summary"
races=$(cat "$logs"/tsan* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer')
if [ "$races" -gt 0 ]; then
  cat "$logs"/tsan* | grep -E '^(WARNING|SUMMARY): ThreadSanitizer'
  echo "not ok: $races ThreadSanitizer reports (full logs in $logs)"
  f=$((f + 1))
else
  echo "ok no ThreadSanitizer report"
  p=$((p + 1))
fi
echo "suite $B: $p passed, $f failed" | tee "$B/summary.txt"
[ "$f" = 0 ]
