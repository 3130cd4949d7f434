#!/bin/sh
# window_body.sh BUILD OUTDIR: runs inside xvfb-run (DISPLAY set, Xvfb
# started with -fbdir OUTDIR/fb).  Starts the window app, drives it with
# xdotool, grabs the real screen from Xvfb's framebuffer file (XWD) and
# checks pixels with tests/viz/imgdiff.lua (convplay itself), and writes
# one "ok NAME" / "not ok NAME" line per check to OUTDIR/results.
B=$1
out=$2
res="$out/results"
: > "$res"
. tests/viz/lib.sh
state() { cat "$out/state.txt" 2>/dev/null; }
# differing pixels between two images (PNG or XWD)
diffpx() { "$B/convplay" --headless tests/viz/imgdiff.lua diff "$1" "$2" 0.03; }
# the screen as the X server has it
grab() { cp "$out/fb/Xvfb_screen0" "$out/$1.xwd"; }

# a copy of the app, so that the test can touch it (reload on save)
cp tests/viz/window_app.lua "$out/window_app.lua"
# Under AddressSanitizer, D-Bus's connection (opened by SDL) is not ours.
LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0" \
  "$B/convplay" "$out/window_app.lua" "$out" > "$out/app.log" 2>&1 &
pid=$!
wait_for "$out/state.txt" "page=1 step=1 "
check window-opens $? "$(state)"
wid=$(find_window_id '^convplay$')
[ -n "$wid" ]; check window-found $?
xdotool windowfocus --sync "$wid" 2>/dev/null
xdotool mousemove 5 5
sleep 0.3
grab win0

key() { xdotool key --delay 60 "$@"; }

key Right Right Right
wait_for "$out/state.txt" "page=1 step=4 "
check step-keys $? "$(state)"
sleep 0.3
grab win1
n=$(diffpx "$out/win0.xwd" "$out/win1.xwd")
[ "${n:-0}" -gt 200 ] 2>/dev/null
check frame-changes-on-step $? "only $n pixels changed"

# the real window shows what the offscreen renderer draws for this state
key x
wait_for "$out/shot.txt" done
check app-screenshot $?
n=$(diffpx "$out/win1.xwd" "$out/app.png")
[ "${n:-999999}" -lt 2000 ] 2>/dev/null
check window-matches-offscreen $? "$n pixels differ"

key Left
wait_for "$out/state.txt" "page=1 step=3 "
check step-back $? "$(state)"
key s
wait_for "$out/state.txt" "page=1 step=3 view=conv2d stride=2"
check stride-key $? "$(state)"
key shift+s
wait_for "$out/state.txt" "stride=1 "
check stride-key-shift $? "$(state)"
key shift+slash
wait_for "$out/state.txt" "help=true"
check help-key $? "$(state)"
sleep 0.3
grab win-help
key shift+slash
wait_for "$out/state.txt" "help=false"
check help-closes $? "$(state)"

# the code panel (C), the copy key (c: SDL's clipboard), and correlation
# and convolution side by side (F)
sleep 0.3
grab win-precode
key shift+c
wait_for "$out/state.txt" "code=pytorch"
check code-panel-key $? "$(state)"
sleep 0.3
grab win-code
n=$(diffpx "$out/win-precode.xwd" "$out/win-code.xwd")
[ "${n:-0}" -gt 2000 ] 2>/dev/null
check code-panel-drawn $? "only $n pixels changed"
key c
wait_for "$out/app.log" "code copied to the clipboard"
check copy-key $? "$(tail -3 "$out/app.log")"
key shift+c
wait_for "$out/state.txt" "code=keras"
check code-panel-keras $? "$(state)"
key shift+c
wait_for "$out/state.txt" "code=false"
check code-panel-hides $? "$(state)"
key shift+f
wait_for "$out/state.txt" "compare=true"
check compare-key $? "$(state)"
key shift+f
wait_for "$out/state.txt" "compare=false"
check compare-hides $? "$(state)"

# hover an output cell: its index appears in the state
set -- $(cat "$out/layout.txt")
xdotool mousemove "$1" "$2"
wait_for "$out/state.txt" "hover=output:1,1,2,3"
check hover-output $? "$(state)"
sleep 0.3
grab win-hover
xdotool click 1
wait_for "$out/state.txt" "page=1 step=9 "
check click-jumps $? "$(state)"
wait_for "$out/tooltip.txt" "y\[1,1,2,3\] = "
check hover-tooltip-text $? "$(cat "$out/tooltip.txt")"
xdotool mousemove 5 5

# the controls: -/+ steppers, the timeline (click and drag)
ctl() { grep "^$1 $2 " "$out/controls.txt" | head -1 | cut -d' ' -f3-; }
set -- $(ctl s plus)
xdotool mousemove "$1" "$2" click 1
wait_for "$out/state.txt" "stride=2 "
check click-stride-plus $? "$(state)"
set -- $(ctl s minus)
xdotool mousemove "$1" "$2" click 1
wait_for "$out/state.txt" "stride=1 "
check click-stride-minus $? "$(state)"
set -- $(ctl timeline -)
tx=$1; ty=$2; tw=$3
xdotool mousemove $((tx + tw - 1)) "$ty" click 1
wait_for "$out/state.txt" "page=1 step=36 "
check timeline-click-end $? "$(state)"
xdotool mousemove "$tx" "$ty" mousedown 1 mousemove $((tx + tw / 4)) "$ty" \
  mousemove $((tx + tw / 2)) "$ty" mouseup 1
wait_for "$out/state.txt" "page=1 step=1[89] "
check timeline-drag-middle $? "$(state)"
# every other control of the header and the footer
for c in "p plus:pad=2 " "p minus:pad=1 " "d plus:dil=2 " "d minus:dil=1 " \
         "f chip:flip=true " "f chip:flip=false " "m chip:mode=reflect " \
         "Space play:play=true" "Space play:play=false" \
         "c code:code=pytorch" "c code:code=keras" "c code:code=false"; do
  set -- $(ctl ${c%%:*})
  xdotool mousemove "$1" "$2" click 1
  wait_for "$out/state.txt" "${c#*:}"
  check "click-${c%%:*}" $? "$(state)"
done
xdotool mousemove 5 5

# the window resized to three sizes: the frame and its layout follow
for sz in "800 500" "1100 680" "520 360"; do
  set -- $sz
  xdotool windowsize "$wid" "$1" "$2"
  wait_for "$out/size.txt" "size=$1x$2 layout=true"
  check "resize-$1x$2" $? "$(cat "$out/size.txt")"
done
xdotool windowsize "$wid" 1280 720
wait_for "$out/size.txt" "size=1280x720 "

# next page: the transposed view, then toggle scatter/gather
key Tab
wait_for "$out/state.txt" "page=2 step=1 view=scatter"
check page-key $? "$(state)"
key End
wait_for "$out/state.txt" "page=2 step=9 view=scatter"
check end-key $? "$(state)"
sleep 0.3
grab win-scatter
key v
wait_for "$out/state.txt" "page=2 step=1 view=gather"
check view-key $? "$(state)"
sleep 0.3
grab win-gather
n=$(diffpx "$out/win-scatter.xwd" "$out/win-gather.xwd")
[ "${n:-0}" -gt 1000 ] 2>/dev/null
check views-differ $? "only $n pixels differ"

# a Lua error shows the error screen; r reloads the script
key e
sleep 0.5
grep -q "boom from keypressed" "$out/app.log" && grep -q "stack traceback" "$out/app.log"
check error-on-stderr $?
grab win-error
bg=$("$B/convplay" --headless tests/viz/imgdiff.lua pixel "$out/win-error.xwd" 600 600)
[ "$bg" = "30,16,18" ]
check error-screen-shown $? "background $bg"
rm -f "$out/state.txt"
key r
wait_for "$out/state.txt" "page=1 step=1 "
check reload-recovers $? "$(state)"
grep -q "reloaded" "$out/app.log"
check reload-logged $?

# saving the script reloads it by itself
key Right Right
wait_for "$out/state.txt" "page=1 step=3 "
check step-after-reload $? "$(state)"
touch -d "+3 seconds" "$out/window_app.lua"
wait_for "$out/state.txt" "page=1 step=1 "
check reload-on-save $? "$(state)"
[ "$(grep -c reloaded "$out/app.log")" = 2 ]
check reload-on-save-logged $?

key Escape
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
  kill $pid
  bad quit-key "still running"
else
  wait $pid
  check quit-key $? "exit status"
fi

# keep PNGs of the grabs to look at
for f in "$out"/*.xwd; do
  "$B/convplay" --headless tests/viz/imgdiff.lua png "$f" "${f%.xwd}.png" && rm -f "$f"
done
