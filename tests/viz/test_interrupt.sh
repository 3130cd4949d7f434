#!/bin/sh
# test_interrupt.sh BUILD: a script never takes the window hostage, and an
# error in its main chunk waits in the window for a fix.  Under Xvfb:
#  - a main chunk that fails shows the error screen; saving a fixed file
#    reloads it and the view comes up;
#  - a keypressed callback spinning in `while true do end` is stopped by
#    Ctrl-C (SIGINT) within a second, the window stays with the
#    "interrupted" error screen, 'r' brings the script back;
#  - the same spin is stopped by closing the window (as a window manager
#    asks: WM_DELETE_WINDOW) within a second, and the process exits;
#  - SIGTERM while it spins ends it within a second;
#  - when SDL cannot open a window, the message quotes SDL's own reason.
# Prints "viz-interrupt: N passed, N failed".
B=${1:-build}
. tests/viz/lib.sh
need_tools viz-interrupt xvfb-run xdotool cc
out="$B/interrupt-test"
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
cc -O1 -o "$out/wm_close" tests/viz/wm_close.c -lX11 2>"$out/cc.log" ||
  { echo "not ok: cannot build wm_close: $(head -1 "$out/cc.log")"; echo "viz-interrupt: 0 passed, 1 failed"; exit 1; }
timeout 120 xvfb-run -a -s "-screen 0 1280x720x24" \
  sh tests/viz/interrupt_body.sh "$B" "$out" > "$out/body.log" 2>&1
tally viz-interrupt "$out"
