# lib.sh: shared by the window tests (sourced from the repository root).

# need_tools LABEL TOOL...: a missing tool is a failure, not a skip (CI
# installs them: make test-deps).
need_tools() {
  label=$1
  shift
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "not ok: $tool is not installed (make test-deps)"
      echo "$label: 0 passed, 1 failed"
      exit 1
    fi
  done
}

# tally LABEL OUTDIR: count the "ok"/"not ok" lines the body wrote to
# OUTDIR/results, print the failures and "LABEL: N passed, N failed".  A
# body that stopped early (fewer than 10 checks, none failed) is a failure.
tally() {
  p=$(grep -c '^ok ' "$2/results" 2>/dev/null)
  f=$(grep -c '^not ok ' "$2/results" 2>/dev/null)
  p=${p:-0}
  f=${f:-0}
  grep '^not ok' "$2/results" 2>/dev/null
  if [ "$p" -lt 10 ] && [ "$f" = 0 ]; then
    echo "not ok: the $1 test stopped early (see $2/body.log)"
    f=1
  fi
  echo "$1: $p passed, $f failed"
  [ "$f" = 0 ]
}

# For the bodies that run inside xvfb-run: one line per check in $res.
ok() { echo "ok $1" >> "$res"; }
bad() { echo "not ok $1${2:+: $2}" >> "$res"; }
check() { if [ "$2" = 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }
# wait_for FILE PATTERN [TENTHS]: up to TENTHS/10 s (default 10 s) for FILE
# to contain PATTERN
wait_for() {
  i=0
  while [ $i -lt "${3:-100}" ]; do
    if [ -f "$1" ] && grep -q -- "$2" "$1"; then return 0; fi
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}

# find_window_id NAME-REGEX: the id of the first window so named, waiting
# up to 5 s for it (empty when none came)
find_window_id() {
  _wid=""
  _i=0
  while [ -z "$_wid" ] && [ $_i -lt 50 ]; do
    _wid=$(xdotool search --name "$1" 2>/dev/null | head -1)
    [ -z "$_wid" ] && sleep 0.1
    _i=$((_i + 1))
  done
  echo "$_wid"
}
