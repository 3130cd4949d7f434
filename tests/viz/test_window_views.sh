#!/bin/sh
# test_window_views.sh BUILD: the newer pages (backward, pooling, stack)
# in the real window under Xvfb, driven by xdotool (see views_body.sh).
# Prints "viz-window-views: N passed, N failed".
B=${1:-build}
. tests/viz/lib.sh
need_tools viz-window-views xvfb-run xdotool
out="$B/window-views-test"
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
timeout 120 xvfb-run -a -s "-screen 0 1280x720x24" \
  sh tests/viz/views_body.sh "$B" "$out" > "$out/body.log" 2>&1
tally viz-window-views "$out"
