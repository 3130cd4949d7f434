#!/bin/sh
# test_repl.sh BUILD: the live prompt beside a real window (convplay -i)
# and a window opened from stock lua5.4, under Xvfb (see repl_body.sh).
# Missing tools are a failure, not a skip: make test-deps installs them.
# Prints "viz-repl: N passed, N failed"; keeps its files in BUILD/repl-test/.
B=${1:-build}
. tests/viz/lib.sh
need_tools viz-repl xvfb-run xdotool script lua5.4
out="$B/repl-test"
rm -rf "$out"
mkdir -p "$out/fb"
out=$(cd "$out" && pwd)
timeout 150 xvfb-run -a -s "-screen 0 1280x800x24 -fbdir $out/fb" \
  sh tests/viz/repl_body.sh "$B" "$out" > "$out/body.log" 2>&1
tally viz-repl "$out"
