#!/bin/sh
# repl_body.sh BUILD OUTDIR: runs inside xvfb-run.  Four sessions:
#  1. `convplay -i repl_app.lua` fed through a pipe: typed lines change the
#     view in the open window (state.txt and the screen), errors print and
#     the window stays, new views become pages, end of input quits;
#  2. a bare `convplay -i`: an empty window, views typed become its pages;
#  3. the first session again on a terminal (a pty from script(1)): readline's prompt,
#     Ctrl-C stops a runaway line, Ctrl-D quits, the history file;
#  4. stock lua5.4 opening a window with require "convplay" and viz.run.
# Writes one "ok NAME" / "not ok NAME" line per check to OUTDIR/results.
B=$1
out=$2
res="$out/results"
: > "$res"
. tests/viz/lib.sh
root=$(pwd)
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"
state() { cat "$out/state.txt" 2>/dev/null; }
diffpx() { "$B/convplay" --headless tests/viz/imgdiff.lua diff "$1" "$2" 0.03; }
grab() { cp "$out/fb/Xvfb_screen0" "$out/$1.xwd"; }
# wait_exit PID TENTHS: the process ended within TENTHS/10 s
wait_exit() {
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
  ! kill -0 "$1" 2>/dev/null
}
window_id() {
  i=0
  wid=""
  while [ -z "$wid" ] && [ $i -lt 50 ]; do
    # (by class too: under script(1) the title is not always found by name)
    wid=$( (xdotool search --name '^convplay$'; xdotool search --class '^convplay$') 2>/dev/null | head -1)
    [ -z "$wid" ] && sleep 0.1
    i=$((i + 1))
  done
  echo "$wid"
}

# ---- 1. a pipe -------------------------------------------------------------
rm -f "$out/in1"; mkfifo "$out/in1"
"$B/convplay" -i tests/viz/repl_app.lua "$out" < "$out/in1" > "$out/pipe.log" 2>&1 &
pid=$!
exec 3> "$out/in1"
wait_for "$out/state.txt" "page=1 stride=1 out11=54 windowed=true"
check pipe-window-opens $? "$(state)"
[ -n "$(window_id)" ]; check pipe-window-found $?
sleep 0.3; grab p0
echo 'v:set{stride = 2}' >&3
wait_for "$out/state.txt" "stride=2 "
check typed-set-changes-view $? "$(state)"
sleep 0.3; grab p1
n=$(diffpx "$out/p0.xwd" "$out/p1.xwd")
[ "${n:-0}" -gt 200 ] 2>/dev/null; check typed-set-redraws $? "only $n pixels changed"
echo 'x:set(1, 1, 1, 1, 100)' >&3
wait_for "$out/state.txt" "out11=154 "
check typed-tensor-edit-shows $? "$(state)"
echo 'error("typed boom")' >&3
echo 'v:set{stride = 1}' >&3
wait_for "$out/pipe.log" "stdin:1: typed boom"
check typed-error-prints $?
wait_for "$out/state.txt" "stride=1 "
check window-survives-error $? "$(state)"
grep -q "repl_app.lua" "$out/pipe.log"; [ $? != 0 ]
check error-traceback-ends-at-prompt $?
echo 'v2 = viz.conv2d(tensor.ones(1, 1, 4, 4), tensor.ones(1, 1, 2, 2))' >&3
wait_for "$out/state.txt" "page=2 "
check typed-view-becomes-page $? "$(state)"
printf 'for i = 1, 2 do\nprint("line" .. i)\nend\n6 * 7\n' >&3
wait_for "$out/pipe.log" "^42$"
check multi-line-and-values $?
grep -q "^line2$" "$out/pipe.log"; check multi-line-runs $?
# lines that arrive together still run one per frame: the second sees the
# view rebuilt after the first
printf 'x:set(1, 1, 1, 1, 0)\nprint("o11=" .. v:output():get(1, 1, 1, 1))\n' >&3
wait_for "$out/pipe.log" "^o11="
grep -q "^o11=54" "$out/pipe.log"; check batched-lines-see-rebuilt-view $? "$(grep '^o11=' "$out/pipe.log")"
exec 3>&-
wait_exit $pid 100; check end-of-input-quits $?
wait $pid; check pipe-exit-status $?
grep -q "^viz.run returned$" "$out/pipe.log"; check script-continues-after-loop $?

# ---- 2. a bare `convplay -i`: an empty window; views typed become pages ----
rm -f "$out/in3" "$out/state.txt"; mkfifo "$out/in3"
"$B/convplay" -i < "$out/in3" > "$out/bare.log" 2>&1 &
pid=$!
exec 3> "$out/in3"
cat >&3 <<LUA
function update()
  local cur, page = viz.current()
  local f = io.open("$out/state.tmp", "w")
  f:write(string.format("page=%s title=%s\\n", page, cur and cur:title() or "none"))
  f:close()
  os.rename("$out/state.tmp", "$out/state.txt")
end
LUA
wait_for "$out/state.txt" "title=none"
check bare-window-empty $? "$(state)"
echo 'a = viz.conv2d(tensor.ones(1, 1, 4, 4), tensor.ones(1, 1, 3, 3), {title = "A"})' >&3
wait_for "$out/state.txt" "page=1 title=A"
check bare-first-view-shown $? "$(state)"
echo 'b = viz.conv2d(tensor.ones(1, 1, 4, 4), tensor.ones(1, 1, 2, 2), {title = "B"})' >&3
wait_for "$out/state.txt" "page=2 title=B"
check bare-new-view-shown $? "$(state)"
echo 'a:set{stride = 2}' >&3
sleep 0.3
wait_for "$out/state.txt" "page=2 title=B"
check bare-pages-stay $? "$(state)"
# viz.run() with no list shows every view; one more joins once
echo 'viz.run()' >&3
wait_for "$out/state.txt" "page=1 title=A"
check bare-run-all-views $? "$(state)"
echo 'c = viz.conv2d(tensor.ones(1, 1, 4, 4), tensor.ones(1, 1, 1, 1), {title = "C"})' >&3
wait_for "$out/state.txt" "page=3 title=C"
check bare-third-view-once $? "$(state)"
exec 3>&-
wait_exit $pid 100; check bare-end-of-input-quits $?

# ---- 3. a terminal ------------------------------------------------------------
rm -f "$out/in2" "$out/state.txt"; mkfifo "$out/in2"
xdg="$out/xdg"
XDG_DATA_HOME="$xdg" script -qfec "$B/convplay -i tests/viz/repl_app.lua $out" /dev/null \
  < "$out/in2" > "$out/tty.log" 2>&1 &
pid=$!
exec 4> "$out/in2"
wait_for "$out/state.txt" "page=1 stride=1 "
check tty-window-opens $? "$(state)"
wait_for "$out/tty.log" "> "
check tty-prompt $?
printf 'v:set{stride = 3}\r' >&4
wait_for "$out/state.txt" "stride=3 "
check tty-typed-set $? "$(state)"
printf 'while true do end\r' >&4
sleep 1
printf '\003' >&4
wait_for "$out/tty.log" "interrupted!"
check ctrl-c-stops-code $?
printf 'v:set{stride = 1}\r' >&4
wait_for "$out/state.txt" "stride=1 "
check prompt-after-ctrl-c $? "$(state)"
printf 'half = 1 +\r' >&4
sleep 0.3
printf '\003' >&4
sleep 0.3
printf 'print(half == nil and "dropped")\r' >&4
wait_for "$out/tty.log" "dropped"
check ctrl-c-drops-chunk $?
# output from the window (a key's callback prints) steps the prompt aside:
# the half-typed line comes back below it
printf 'function keypressed(k) if k == "p" then print("pressed" .. " p!") return true end end\r' >&4
sleep 0.3
printf 'half typed' >&4
sleep 0.3
wid=$(window_id)
xdotool windowfocus --sync "$wid" 2>/dev/null
xdotool mousemove 5 5
sleep 0.5
xdotool key p
wait_for "$out/tty.log" "pressed p!"
check tty-callback-print $?
sleep 0.3
n=$(grep -a -o "half typed" "$out/tty.log" | wc -l)
[ "$n" -ge 2 ]; check prompt-restored-after-output $? "typed line shown $n times"
printf '\025' >&4
printf '\004' >&4
wait_exit $pid 100; check ctrl-d-quits $?
exec 4>&-
grep -q '^v:set{stride = 3}$' "$xdg/convplay/history" 2>/dev/null
check history-file $? "$(cat "$xdg/convplay/history" 2>&1)"

# ---- 4. stock lua5.4 opens a window ---------------------------------------------
rm -f "$out/state.txt"
cat > "$out/stock_app.lua" <<LUA
package.cpath = "$root/$B/?.so;" .. package.cpath
local cp = require "convplay"
local v = cp.viz.conv2d(cp.tensor.arange(16):reshape(1, 1, 4, 4), cp.tensor.ones(1, 1, 2, 2))
function update()
  local f = io.open("$out/state.tmp", "w")
  f:write("step=" .. v:state().step .. "\n")
  f:close()
  os.rename("$out/state.tmp", "$out/state.txt")
end
cp.viz.run(v)
print("stock viz.run returned")
LUA
LD_PRELOAD="$CONVPLAY_PRELOAD" lua5.4 "$out/stock_app.lua" > "$out/stock.log" 2>&1 &
pid=$!
wait_for "$out/state.txt" "step=1"
check stock-window-opens $? "$(state)"
wid=$(window_id)
[ -n "$wid" ]; check stock-window-found $?
xdotool windowfocus --sync "$wid" 2>/dev/null
xdotool mousemove 5 5
sleep 0.5
xdotool key --delay 60 Right Right
wait_for "$out/state.txt" "step=3"
check stock-window-keys $? "$(state)"
xdotool key q
wait_exit $pid 100; check stock-window-closes $?
wait $pid; check stock-exit-status $?
grep -q "stock viz.run returned" "$out/stock.log"; check stock-run-returns $?
