#!/bin/sh
# test_window.sh BUILD: the real window under Xvfb, driven by xdotool
# (see window_body.sh).  Missing xvfb-run or xdotool is a failure, not a
# skip: CI installs them (make test-deps).
# Prints "viz-window: N passed, N failed".  Keeps the screenshots in
# BUILD/window-test/ for a look.
B=${1:-build}
for tool in xvfb-run xdotool; do
  if ! command -v $tool >/dev/null 2>&1; then
    echo "not ok: $tool is not installed (make test-deps)"
    echo "viz-window: 0 passed, 1 failed"
    exit 1
  fi
done
out="$B/window-test"
rm -rf "$out"
mkdir -p "$out/fb"
out=$(cd "$out" && pwd)
timeout 120 xvfb-run -a -s "-screen 0 1280x800x24 -fbdir $out/fb" \
  sh tests/viz/window_body.sh "$B" "$out" > "$out/body.log" 2>&1
p=$(grep -c '^ok ' "$out/results" 2>/dev/null)
f=$(grep -c '^not ok ' "$out/results" 2>/dev/null)
p=${p:-0}
f=${f:-0}
grep '^not ok' "$out/results" 2>/dev/null
if [ "$p" -lt 10 ] && [ "$f" = 0 ]; then
  echo "not ok: the window test stopped early (see $out/body.log)"
  f=1
fi
echo "viz-window: $p passed, $f failed"
[ "$f" = 0 ]
