#!/bin/sh
# interrupt_body.sh BUILD OUTDIR: see test_interrupt.sh (runs in xvfb-run).
B=$(cd "$1" && pwd)
out=$2
res="$out/results"
: > "$res"
. tests/viz/lib.sh
cd "$out" || exit 1
# seconds.fraction since the epoch
now() { date +%s.%N; }
# wait until pid is gone, up to TENTHS/10 s; 0 when it is
gone() {
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt "$2" ]; do sleep 0.1; i=$((i + 1)); done
  ! kill -0 "$1" 2>/dev/null
}
# wait for a log line, up to TENTHS/10 s
log_has() {
  i=0
  while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt "$3" ]; do sleep 0.1; i=$((i + 1)); done
  grep -q "$2" "$1" 2>/dev/null
}
win() { find_window_id '^convplay$'; }
# press x until the spinning callback has started (the first key may reach
# the window before its loop runs)
start_spin() {
  rm -f spinning.txt
  for try in 1 2 3 4 5; do
    xdotool windowfocus --sync "$1" 2>/dev/null
    sleep 0.3
    xdotool key x
    i=0; while [ ! -f spinning.txt ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
    [ -f spinning.txt ] && return 0
  done
  return 1
}

# ---- 1. an error in the main chunk: the error screen, then reload on save
cat > bad.lua <<'EOT'
local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3))
error("boom in the main chunk")
EOT
"$B/convplay" bad.lua > bad.log 2>&1 &
pid=$!
wid=$(win)
[ -n "$wid" ]; check main-error-window-opens $? "no window"
kill -0 $pid 2>/dev/null; check main-error-waits $? "the process exited: $(cat bad.log)"
grep -q "boom in the main chunk" bad.log; check main-error-reported $?
! grep -q "_after_script\|_error_screen" bad.log; check traceback-hides-internal-frames $? "$(cat bad.log)"
sleep 1.1 # a new mtime second
cat > bad.lua <<'EOT'
local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3))
local f = io.open("fixed.txt", "w") f:write("loaded\n") f:close()
viz.run(v)
EOT
i=0; while [ ! -f fixed.txt ] && [ $i -lt 40 ]; do sleep 0.1; i=$((i + 1)); done
[ -f fixed.txt ]; check main-error-reloads-on-save $? "$(tail -3 bad.log)"
kill -INT $pid
gone $pid 20; check ctrl-c-quits-when-idle $?
wait $pid; check fixed-script-exits-0 $? 

# ---- 2. a runaway callback: Ctrl-C stops it
cat > spin.lua <<'EOT'
local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3))
function keypressed(k)
  if k == "x" then
    local f = io.open("spinning.txt", "w") f:write("1") f:close()
    while true do end
  end
end
viz.run(v)
EOT
rm -f spinning.txt
"$B/convplay" spin.lua > spin.log 2>&1 &
pid=$!
wid=$(win)
start_spin "$wid"; check spin-started $?
t0=$(now)
kill -INT $pid
log_has spin.log "interrupted" 10; check sigint-stops-spin-within-1s $? "$(tail -2 spin.log)"
t1=$(now)
echo "sigint stop: $(echo "$t1 - $t0" | bc 2>/dev/null) s" >> "$out/times.txt"
kill -0 $pid 2>/dev/null; check window-survives-sigint $?
sleep 0.3
import -window "$wid" spin-int.png 2>/dev/null
# the window is alive: the error screen answers 'r' (reload)
xdotool key r
log_has spin.log "reloaded" 20; check reload-after-interrupt $?

# ---- 3. the same spin: closing the window stops it and exits
start_spin "$wid"; check spin-again $?
"$out/wm_close" "$wid"
gone $pid 10; check close-stops-spin-within-1s $? "still running"
kill -9 $pid 2>/dev/null

# ---- 4. SIGTERM while spinning
rm -f spinning.txt
"$B/convplay" spin.lua > spin2.log 2>&1 &
pid=$!
wid=$(win)
start_spin "$wid"
kill -TERM $pid
gone $pid 10; check sigterm-ends-spin-within-1s $? "still running"
kill -9 $pid 2>/dev/null

# ---- 5. no window to be had: SDL's own reason is quoted
echo 'viz.run(viz.conv2d(tensor.ones(1,1,3,3), tensor.ones(1,1,2,2)))' > nowin.lua
DISPLAY=:987 SDL_VIDEODRIVER=x11 "$B/convplay" nowin.lua > nowin.log 2>&1
grep -q "cannot open a window:.*[a-z]" nowin.log && grep -q -- "--headless" nowin.log
check no-display-quotes-sdl $? "$(head -2 nowin.log)"

# ---- 6. F2 saves into the current directory and says so in the window
"$B/convplay" spin.lua > f2.log 2>&1 &
pid=$!
wid=$(win)
# (the first key may reach the window before its loop runs: try again)
for try in 1 2 3; do
  xdotool windowfocus --sync "$wid" 2>/dev/null
  sleep 0.3
  xdotool key F2
  log_has f2.log "saved convplay-0001.png" 15 && break
done
log_has f2.log "saved convplay-0001.png" 5; check f2-saves-and-says-so $? "$(tail -1 f2.log)"
[ -f convplay-0001.png ]; check f2-file-in-cwd $?
xdotool key Escape
gone $pid 30; check escape-quits $?
