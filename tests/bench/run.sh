#!/bin/sh
# run.sh BUILD - `make bench`: convplay beside PyTorch and OpenCV on the
# same machine.
#
# Builds BUILD/bench (tests/bench/bench.c against BUILD/libcore.a, the core
# alone), runs it, runs tests/bench/bench_torch.py with Debian's python3
# (torch.set_num_threads(2)), times a tiny conv called from Lua in a loop
# (tests/bench/lua_loop.lua), and prints one row per case:
#   convplay median ms, PyTorch median ms, ratio = torch / convplay
#   (> 1: convplay is faster), the target and whether it is met.
# Missing PyTorch or a convplay binary that cannot run the Lua case are
# reported and those columns left as "-"; convplay's numbers still print.
# Then the image filters beside OpenCV (tests/bench/bench_filters.c and
# bench_opencv.py, Debian's python3-opencv, cv2.setNumThreads(2)), the two
# sides taking turns case by case: ratio = OpenCV / convplay.
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

${MAKE:-make} --no-print-directory BUILD="$B" "$B/libcore.a" >/dev/null || exit 1
LIBS="-lfftw3f -lm -lpthread"
for b in bench bench_ops bench_filters; do
  $CC -O2 -march=x86-64-v2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Isrc \
    tests/bench/$b.c "$B/libcore.a" $LIBS -o "$B/$b" || exit 1
done

echo "machine: $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs"
# Other processes on a 2-core machine move every number: say how busy it was.
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
PY=${PYTHON:-/usr/bin/python3}   # Debian's python3-torch and python3-opencv live there
[ -x "$PY" ] || PY=python3
# BENCH_ONLY=filters: just the OpenCV comparison (below).
if [ "${BENCH_ONLY:-}" != filters ]; then
echo "running convplay ..."
"$B/bench" > "$tmp/cp.txt" || echo "bench: convplay benchmark failed"
"$B/bench_ops" >> "$tmp/cp.txt" || echo "bench: convplay ops benchmark failed"

echo "running PyTorch (torch.set_num_threads(2); the 15x15 depthwise case takes ~1 min) ..."
if ! "$PY" tests/bench/bench_torch.py > "$tmp/pt.txt" 2> "$tmp/pt.err"; then
  echo "bench: PyTorch numbers unavailable: $(cat "$tmp/pt.err" | tail -1)"
  echo "       (install python3-torch for the comparison; convplay's numbers follow)"
fi

if [ -x "$B/convplay" ] &&
   "$B/convplay" --headless tests/bench/lua_loop.lua > "$tmp/lua.txt" 2> "$tmp/lua.err"; then
  cat "$tmp/lua.txt" >> "$tmp/cp.txt"
else
  echo "bench: skipping lua_loop_4x4: $B/convplay --headless tests/bench/lua_loop.lua failed"
  [ -s "$tmp/lua.err" ] && sed 's/^/       /' "$tmp/lua.err" | head -5
fi

if [ -x "$B/convplay" ] &&
   "$B/convplay" --headless tests/bench/lab_frame.lua > "$tmp/lab.txt" 2> "$tmp/lab.err"; then
  sed -n 's/^lab frame .*: \([0-9.]*\) ms.*/case lab_frame \1/p' "$tmp/lab.txt" >> "$tmp/cp.txt"
else
  echo "bench: skipping lab_frame: $B/convplay --headless tests/bench/lab_frame.lua failed"
  [ -s "$tmp/lab.err" ] && sed 's/^/       /' "$tmp/lab.err" | head -5
fi

if [ -x "$B/convplay" ] &&
   "$B/convplay" --headless tests/bench/view_frame.lua > "$tmp/view.txt" 2> "$tmp/view.err"; then
  cat "$tmp/view.txt"
  sed -n 's/^view frame .*: \([0-9.]*\) ms.*/case view_frame \1/p' "$tmp/view.txt" >> "$tmp/cp.txt"
else
  echo "bench: skipping view_frame: $B/convplay --headless tests/bench/view_frame.lua failed"
  [ -s "$tmp/view.err" ] && sed 's/^/       /' "$tmp/view.err" | head -5
fi

# name, kind (ratio = at least torch/convplay; us = at most microseconds;
# ms = at most milliseconds), target
cat > "$tmp/targets.txt" <<'T'
image3x3 ratio 4
dw3x3 ratio 5
dw7x7 ratio 5
dw15x15 ratio 50
gray512_3x3 ratio 3
gray512_5x5 ratio 3
resnet64 ratio 0.7
batch8_s2d2 ratio 0.7
convT64to32 ratio 5
conv2d_bwd64 ratio 1
maxpool3x3s2 ratio 2
avgpool2x2 ratio 2
unfold3x3 ratio 1
lua_loop_4x4 us 0.5
lab_frame ms 4
view_frame ms 8
T

awk -v cpf="$tmp/cp.txt" -v ptf="$tmp/pt.txt" '
  BEGIN {
    while ((getline l < cpf) > 0) { split(l, a, " "); if (a[1] == "case") cp[a[2]] = a[3] }
    while ((getline l < ptf) > 0) { split(l, a, " "); if (a[1] == "case") pt[a[2]] = a[3] }
    printf "%-14s %12s %12s %8s %10s %s\n", "case", "convplay", "torch", "ratio", "target", "met"
  }
  {
    name = $1; kind = $2; tgt = $3
    if (kind == "us" || kind == "ms") {
      v = (name in cp) ? cp[name] : ""
      met = v == "" ? "-" : (v + 0 <= tgt + 0 ? "yes" : "NO")
      printf "%-14s %12s %12s %8s %10s %s\n", name, v == "" ? "-" : sprintf("%.3f %s", v, kind), "-", "-", "<= " tgt " " kind, met
      next
    }
    c = (name in cp) ? cp[name] : ""; t = (name in pt) ? pt[name] : ""
    r = (c != "" && t != "" && c + 0 > 0) ? t / c : ""
    met = r == "" ? "-" : (r + 0 >= tgt + 0 ? "yes" : "NO")
    printf "%-14s %12s %12s %8s %10s %s\n", name,
      c == "" ? "-" : sprintf("%.3f ms", c), t == "" ? "-" : sprintf("%.3f ms", t),
      r == "" ? "-" : sprintf("%.2fx", r), ">= " tgt "x", met
  }' "$tmp/targets.txt"
fi

# ---- image filters beside OpenCV ---------------------------------------------
# Case by case, the two sides take turns (ROUNDS rounds of >= 1 s each), and
# each side's number is the median of its rounds' medians: a neighbour's
# build that starts half-way through the run slows both sides alike instead
# of deciding the ratio.
ROUNDS=3
echo
echo "image filters beside OpenCV ($ROUNDS alternating rounds of >= 1 s per side and case) ..."
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
: > "$tmp/cpf.txt"
: > "$tmp/cv.txt"
cv_ok=1
for c in cv_3x3 cv_5x5 cv_7x7 cv_15x15 cv_31x31 cv_gauss15 cv_gray512; do
  r=0
  while [ $r -lt $ROUNDS ]; do
    BENCH_MIN_MS=1000 "$B/bench_filters" $c >> "$tmp/cpf_rounds.txt" ||
      echo "bench: convplay filter case $c failed"
    if [ $cv_ok = 1 ] && ! BENCH_MIN_MS=1000 "$PY" tests/bench/bench_opencv.py $c \
         >> "$tmp/cv_rounds.txt" 2> "$tmp/cv.err"; then
      echo "bench: OpenCV numbers unavailable: $(tail -1 "$tmp/cv.err")"
      echo "       (install python3-opencv for the comparison)"
      cv_ok=0
    fi
    r=$((r + 1))
  done
done
# median of the rounds, per case
for f in cpf cv; do
  [ -f "$tmp/${f}_rounds.txt" ] || continue
  awk '$1 == "case" { v[$2] = v[$2] " " $3 }
       END { for (c in v) { n = split(v[c], a, " ");
               for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                 if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
               print "case", c, a[int((n + 1) / 2)] } }' "$tmp/${f}_rounds.txt" > "$tmp/$f.txt"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
cat > "$tmp/cvtargets.txt" <<'T'
cv_3x3 2 filter2D 1x3x1080x1920 3x3
cv_5x5 2 filter2D 1x3x1080x1920 5x5
cv_7x7 2 filter2D 1x3x1080x1920 7x7
cv_15x15 2 filter2D 1x3x1080x1920 15x15
cv_31x31 8 filter2D 1x3x1080x1920 31x31
cv_gauss15 2 sepFilter2D 1x3x1080x1920 Gaussian 15x15
cv_gray512 2 filter2D 1x1x512x512 3x3
T
awk -v cpf="$tmp/cpf.txt" -v cvf="$tmp/cv.txt" '
  BEGIN {
    while ((getline l < cpf) > 0) { split(l, a, " "); if (a[1] == "case") cp[a[2]] = a[3] }
    while ((getline l < cvf) > 0) { split(l, a, " "); if (a[1] == "case") cv[a[2]] = a[3] }
    printf "%-11s %-32s %11s %11s %8s %7s %s\n", "case", "what", "convplay", "OpenCV", "ratio", "target", "met"
  }
  {
    name = $1; tgt = $2; what = $3; for (i = 4; i <= NF; i++) what = what " " $i
    c = (name in cp) ? cp[name] : ""; v = (name in cv) ? cv[name] : ""
    r = (c != "" && v != "" && c + 0 > 0) ? v / c : ""
    met = r == "" ? "-" : (r + 0 >= tgt + 0 ? "yes" : "NO")
    printf "%-11s %-32s %11s %11s %8s %7s %s\n", name, what,
      c == "" ? "-" : sprintf("%.3f ms", c), v == "" ? "-" : sprintf("%.3f ms", v),
      r == "" ? "-" : sprintf("%.2fx", r), ">= " tgt "x", met
  }' "$tmp/cvtargets.txt"
