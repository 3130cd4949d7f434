#!/bin/sh
# test_stock.sh BUILD: convplay as a module of Debian's stock lua5.4
# (BUILD/convplay.so): require forms, the version, the data folder, errors,
# and viz.run returning without a display.  The Lua API itself runs through
# lua5.4 in run_suite.sh ("Lua tests, stock lua5.4"); windows from lua5.4
# are in tests/viz/test_repl.sh.  Prints "stock-lua: N passed, N failed".
B=${1:-build}
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "not ok: $1"; }
expect() { # expect NAME WANT GOT
  if [ "$2" = "$3" ]; then ok; else bad "$1: got '$3', want '$2'"; fi
}
if ! command -v lua5.4 >/dev/null 2>&1; then
  echo "not ok: lua5.4 is not installed (make test-deps)"
  echo "stock-lua: 0 passed, 1 failed"
  exit 1
fi
root=$(pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
# lua5.4 with the module from BUILD (and sanitizer runtimes when it has them)
L() {
  LD_PRELOAD="$CONVPLAY_PRELOAD" lua5.4 -e "package.cpath = '$root/$B/?.so;' .. package.cpath" "$@"
}

# require "convplay": one table with the four parts, no globals
out=$(L -e 'local cp = require "convplay"
  print(type(cp.tensor), type(cp.conv), type(cp.image), type(cp.viz),
        tensor == nil and conv == nil and viz == nil)')
expect "require convplay" "$(printf 'table\ttable\ttable\ttable\ttrue')" "$out"

# a submodule first, then the whole: the same tables, each loaded once
out=$(L -e 'local t = require "convplay.tensor"
  local cv = require "convplay.conv"
  local cp = require "convplay"
  print(t == cp.tensor, cv == cp.conv, require "convplay.image" == cp.image,
        require "convplay.viz" == cp.viz, package.loaded["convplay.conv"] == cp.conv)')
expect "submodules" "$(printf 'true\ttrue\ttrue\ttrue\ttrue')" "$out"

# the numbers are the host's
out=$(L -e 'local cp = require "convplay"
  local y = cp.conv.conv2d(cp.tensor.arange(16):reshape(1, 1, 4, 4),
                           cp.tensor.ones(1, 1, 2, 2), {stride = 2})
  print(string.format("%g %g %g %g", table.unpack(y:reshape(4):totable())))')
expect "conv2d" "10 18 42 50" "$out"

# the version: one place for the module and the binary
v=$("$B/convplay" --version | cut -d' ' -f1-2)
out=$(L -e 'print(require("convplay")._VERSION)')
expect "_VERSION" "$v" "$out"
echo "$out" | grep -q '^convplay [0-9]*\.[0-9]*\.[0-9]*$' && ok || bad "_VERSION form: $out"

# the data folder: this checkout (the lab's default image is found)
out=$(cd "$t" && L -e 'local cp = require "convplay"; print(cp.home)')
expect "home" "$root" "$out"
out=$(cd "$t" && CONVPLAY_HEADLESS=1 L -e 'local cp = require "convplay"
  print(cp.viz.lab())' 2>&1)
expect "the lab's default image" "lab (3x480x640 image, 3x3 identity kernel)" "$out"

# errors are Lua errors with the function's name, caught by pcall
out=$(L -e 'local cp = require "convplay"
  print(select(2, pcall(cp.conv.conv2d, cp.tensor.ones(1, 1, 3, 3), cp.tensor.ones(1, 1, 2, 2), {stride = 0})))')
echo "$out" | grep -q "^conv.conv2d: .*stride" && ok || bad "error: $out"

# headless by environment, and viz.run returns without a display
out=$(CONVPLAY_HEADLESS=1 L -e 'local cp = require "convplay"
  local v = cp.viz.conv2d(cp.tensor.ones(1, 1, 4, 4), cp.tensor.ones(1, 1, 3, 3))
  cp.viz.run(v); v:step(3); print(cp.viz.headless, v:state().step)')
expect "headless run" "$(printf 'true\t4')" "$out"
out=$(SDL_VIDEODRIVER=offscreen L -e 'local cp = require "convplay"
  local v = cp.viz.conv2d(cp.tensor.ones(1, 1, 4, 4), cp.tensor.ones(1, 1, 3, 3))
  cp.viz.run(v); print(cp.viz.headless, "returned")')
expect "offscreen run" "$(printf 'false\treturned')" "$out"

# a view renders to a file from stock Lua exactly as from the host
shot='local v = viz.conv2d(tensor.arange(16):reshape(1, 1, 4, 4), tensor.ones(1, 1, 3, 3))
  v:screenshot(os.getenv("SHOT"))'
SHOT="$t/stock.png" L -e "viz = require 'convplay.viz'; tensor = require 'convplay.tensor'" -e "$shot" 2>/dev/null
SHOT="$t/host.png" "$B/convplay" --headless -e "$shot" 2>/dev/null
[ -s "$t/stock.png" ] && cmp -s "$t/stock.png" "$t/host.png" && ok || bad "stock screenshot differs from the host's"

echo "stock-lua: $pass passed, $fail failed"
[ $fail = 0 ]
