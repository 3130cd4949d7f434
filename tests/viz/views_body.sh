#!/bin/sh
# views_body.sh BUILD OUTDIR: runs inside xvfb-run.  Drives the newer pages
# (views_app.lua) with xdotool: the backward view's gradient chip and a
# gradient cell's tooltip, max pooling's ceil_mode chip and stride
# stepper, and the stack's receptive-field hover.
B=$1
out=$2
res="$out/results"
: > "$res"
. tests/viz/lib.sh
state() { cat "$out/state.txt" 2>/dev/null; }
LSAN_OPTIONS="suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0" \
  "$B/convplay" tests/viz/views_app.lua "$out" > "$out/app.log" 2>&1 &
pid=$!
wait_for "$out/state.txt" "page=1 grad=weight "
check views-window-opens $? "$(state)"
wid=$(find_window_id '^convplay$')
[ -n "$wid" ]; check views-window-found $?
xdotool windowfocus --sync "$wid" 2>/dev/null
# at "PAGE KEY KIND": x y
at() { grep "^$1 $2 $3 " "$out/controls.txt" | head -1 | cut -d' ' -f4-; }
click() { set -- $(at "$@"); xdotool mousemove "$1" "$2" click 1; }

# hover_until X Y FILE PATTERN: put the pointer on (X, Y) until FILE says
# PATTERN (up to ~10 s).  A motion the app has not seen (it was busy with
# its first frames, as under ASan) is sent again, one pixel over.
hover_until() {
  for nudge in 0 1 0 1; do
    xdotool mousemove "$(($1 + nudge))" "$2"
    wait_for "$3" "$4" 25 && return 0
  done
  return 1
}

# page 1, the backward view: hover a grad_weight cell, then the chip
set -- $(at 1 cell -)
hover_until "$1" "$2" "$out/state.txt" "hover=gradient:"
check grad-cell-hover $? "$(state)"
hover_until "$1" "$2" "$out/tooltip.txt" "^gw\["
check grad-cell-tooltip $? "$(cat "$out/tooltip.txt")"
xdotool mousemove 5 5
click 1 g chip
wait_for "$out/state.txt" "grad=bias "
check grad-chip-click $? "$(state)"
click 1 g chip
wait_for "$out/state.txt" "grad=input "
check grad-chip-click-again $? "$(state)"

# page 2, max pooling: ceil_mode chip, stride stepper
xdotool key Tab
wait_for "$out/state.txt" "page=2 "
check pool-page $? "$(state)"
click 2 e chip
wait_for "$out/state.txt" "ceil=true "
check pool-ceil-click $? "$(state)"
click 2 s plus
wait_for "$out/state.txt" "stride=3 "
check pool-stride-plus $? "$(state)"
click 2 s minus
wait_for "$out/state.txt" "stride=2 "
check pool-stride-minus $? "$(state)"

# page 3, the stack: hovering a cell of the last layer
xdotool key Tab
wait_for "$out/state.txt" "page=3 "
check stack-page $? "$(state)"
set -- $(at 3 cell -)
hover_until "$1" "$2" "$out/state.txt" "page=3 .*hover=2,2,2"
check stack-hover $? "$(state)"
xdotool mousemove 2 2
wait_for "$out/state.txt" "page=3 .*hover=none"
check stack-hover-off $? "$(state)"

xdotool key q
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
! kill -0 $pid 2>/dev/null
check views-q-quits $?
kill $pid 2>/dev/null
exit 0
