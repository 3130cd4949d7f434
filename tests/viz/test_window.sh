#!/bin/sh
# test_window.sh BUILD: the real window under Xvfb, driven by xdotool
# (see window_body.sh).  Missing xvfb-run or xdotool is a failure, not a
# skip: CI installs them (make test-deps).
# Prints "viz-window: N passed, N failed".  Keeps the screenshots in
# BUILD/window-test/ for a look.
B=${1:-build}
. tests/viz/lib.sh
need_tools viz-window xvfb-run xdotool
out="$B/window-test"
rm -rf "$out"
mkdir -p "$out/fb"
out=$(cd "$out" && pwd)
timeout 120 xvfb-run -a -s "-screen 0 1280x720x24 -fbdir $out/fb" \
  sh tests/viz/window_body.sh "$B" "$out" > "$out/body.log" 2>&1
tally viz-window "$out"
