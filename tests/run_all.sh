#!/bin/sh
# run_all.sh: the suite in a normal build, then under ASan + UBSan, then
# the lab's window test under ThreadSanitizer.
# Ends with one line "N passed, N failed" over both.
set -u
rm -f build/summary.txt build/asan/summary.txt build/tsan/summary.txt
status=0
make --no-print-directory test-fast || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0 \
  make --no-print-directory test-asan || status=1
make --no-print-directory test-tsan || status=1
p=0; f=0
for s in build/summary.txt build/asan/summary.txt build/tsan/summary.txt; do
  if [ -f "$s" ]; then
    p=$((p + $(sed 's/.*: \([0-9]*\) passed.*/\1/' "$s")))
    f=$((f + $(sed 's/.* \([0-9]*\) failed.*/\1/' "$s")))
  else
    f=$((f + 1)); echo "missing $s: that suite did not run"
  fi
done
[ "$status" = 0 ] || [ "$f" -gt 0 ] || f=1
echo "$p passed, $f failed"
[ "$status" = 0 ] && [ "$f" = 0 ]
