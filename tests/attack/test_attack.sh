#!/bin/bash
# test_attack.sh BUILD: the attacks of issue 10 that need a process of their
# own (the Lua and C attack tests cover the rest):
#  - every crafted image loads or fails in bounded time and memory
#    (ulimit -v 1 GiB; skipped in the sanitizer build, whose shadow memory
#    does not fit such a limit);
#  - image.save on a full filesystem keeps the old file byte for byte and
#    reports the error (a small tmpfs: needs root, skipped otherwise);
#  - convplay killed by SIGTERM or SIGINT in the middle of saving leaves no
#    temporary file;
#  - image.load of a FIFO without a writer returns at once.
# Ends with "attack: N passed, N failed".
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
CP="$PWD/$B/convplay --headless"
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "not ok: $1"; }
work=$(mktemp -d /tmp/cp-attack-XXXXXX)
mnt=""
cleanup() {
  [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# ---- bounded time and memory for every crafted file ------------------------
if [[ "$B" == *asan* ]]; then
  echo "skip: memory limit per file (sanitizer build)"
else
  n=0; slow=0; crashed=0
  for f in tests/attack/corpus/*; do
    n=$((n + 1))
    ( ulimit -v 1048576; ulimit -t 5
      timeout 5 $CP -e "pcall(image.load, '$f')" ) >/dev/null 2>&1
    rc=$?
    [ $rc = 124 ] || [ $rc = 137 ] || [ $rc = 152 ] && slow=$((slow + 1))
    [ $rc -ge 128 ] && [ $rc != 137 ] && [ $rc != 152 ] && crashed=$((crashed + 1))
    [ $rc != 0 ] && echo "  $f: status $rc"
  done
  [ $slow = 0 ] && [ $crashed = 0 ] &&
    ok "corpus: $n files in 1 GiB and 5 s each" ||
    bad "corpus: $slow hung or out of memory, $crashed crashed of $n"
fi

# ---- a FIFO without a writer -----------------------------------------------
mkfifo "$work/fifo.png"
start=$(date +%s)
out=$(timeout 10 $CP -e "print(select(2, pcall(image.load, '$work/fifo.png')))" 2>&1)
rc=$?
if [ $rc = 0 ] && [ $(( $(date +%s) - start )) -le 3 ] &&
   [[ "$out" == *"no writer"* ]]; then
  ok "fifo without a writer: clean error at once"
else
  bad "fifo without a writer: status $rc, '$out'"
fi

# ---- killed mid-save --------------------------------------------------------
for sig in TERM INT; do
  d="$work/kill-$sig"
  mkdir -p "$d"
  # A big noise image saved over and over; killed while one is in flight.
  # (A background job of a script starts with SIGINT ignored: reset it.)
  env --default-signal=$sig $CP -e "local t = tensor.rand(3, 2048, 2048)
          for i = 1, 1000 do image.save(t, '$d/big.png') end" &
  pid=$!
  # wait until the first temporary file exists, then kill
  for i in $(seq 1 100); do
    ls -a "$d" | grep -q '^\.cpsave-' && break
    sleep 0.05
  done
  kill -$sig $pid
  for i in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
  kill -KILL $pid 2>/dev/null && echo "  SIG$sig did not end convplay: killed"
  wait $pid
  rc=$?
  left=$(ls -a "$d" | grep -c '^\.cpsave-')
  if [ "$left" = 0 ] && [ $rc -ge 128 ]; then
    ok "SIG$sig mid-save: died (status $rc), no temporary file left"
  else
    bad "SIG$sig mid-save: status $rc, $left temporary files left"
  fi
done

# ---- a full filesystem --------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
  echo "skip: full-disk save (needs root to mount a small tmpfs)"
elif ! mkdir -p "$work/full" || ! mount -t tmpfs -o size=256k tmpfs "$work/full" 2>/dev/null; then
  echo "skip: full-disk save (cannot mount a tmpfs here)"
else
  mnt="$work/full"
  for ext in png jpg bmp tga; do
    head -c 20000 /dev/urandom > "$mnt/old.$ext"
    cp "$mnt/old.$ext" "$work/expect.$ext"
  done
  out=$($CP -e "
    local t = tensor.rand(3, 300, 300)
    for _, ext in ipairs({'png', 'jpg', 'bmp', 'tga'}) do
      local ok, err = pcall(image.save, t, '$mnt/old.' .. ext, {quality = 100})
      print(ext, ok, err)
    end" 2>&1)
  for ext in png jpg bmp tga; do
    line=$(echo "$out" | grep "^$ext")
    if [[ "$line" == *false*"No space left"*unchanged* ]] &&
       cmp -s "$mnt/old.$ext" "$work/expect.$ext"; then
      ok "full disk: image.save .$ext reports the error, old file intact"
    else
      bad "full disk: .$ext: '$line'"
    fi
  done
  # the figures: PNG, SVG and PDF screenshots and a GIF recording, big
  # enough not to fit in what is left
  for f in shot.png shot.svg shot.pdf rec.gif; do
    head -c 20000 /dev/urandom > "$mnt/$f"
    cp "$mnt/$f" "$work/expect-$f"
  done
  # leave about 8 KiB free: every figure is bigger than that
  cat /dev/zero > "$mnt/filler" 2>/dev/null
  truncate -s -8K "$mnt/filler"
  out=$($CP --headless -e "
    local v = viz.conv2d(tensor.randn(1, 1, 24, 24), tensor.randn(1, 1, 3, 3), {padding = 1})
    for _, f in ipairs({'shot.png', 'shot.svg', 'shot.pdf'}) do
      local ok, err = pcall(v.screenshot, v, '$mnt/' .. f, {width = 1920, height = 1080})
      print(f, ok, err)
    end
    local ok, err = pcall(v.record, v, '$mnt/rec.gif', {by = 'tap', width = 1280, height = 720})
    print('rec.gif', ok, err)" 2>&1)
  for f in shot.png shot.svg shot.pdf rec.gif; do
    line=$(echo "$out" | grep "^$f")
    if [[ "$line" == *false*"No space left"*unchanged* ]] &&
       cmp -s "$mnt/$f" "$work/expect-$f"; then
      ok "full disk: $f reports the error, old file intact"
    else
      bad "full disk: $f: '$line'"
    fi
  done
  left=$(ls -a "$mnt" | grep -c '^\.cpsave-')
  [ "$left" = 0 ] && ok "full disk: no temporary file left" ||
    bad "full disk: $left temporary files left"
fi

echo "attack: $pass passed, $fail failed"
[ $fail = 0 ]
