#!/bin/sh
# test_install.sh BUILD: `make install` into a temporary DESTDIR (no root),
# then the installed pieces work from there, away from this checkout: the
# binary finds its tour and assets, stock lua5.4 loads the module, and a C
# program builds through `pkg-config --cflags --libs convplay` against the
# shared and the static library.  Then `make uninstall` removes every file.
# Prints "install: N passed, N failed".
B=${1:-build}
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "not ok: $1"; }
check() { if [ "$2" = 0 ]; then ok; else bad "$1${3:+: $3}"; fi; }
root=$(pwd)
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
dest="$t/stage"
P=/usr/local
CC=${CC:-cc}

make --no-print-directory BUILD="$B" SAN="$CONVPLAY_SAN" PREFIX=$P DESTDIR="$dest" install > "$t/install.log" 2>&1
check "make install" $? "$(tail -n 3 "$t/install.log")"
for f in bin/convplay lib/libconvplay.a lib/libconvplay.so lib/libconvplay.so.0 \
         lib/pkgconfig/convplay.pc include/convplay/convplay.h include/convplay/tensor.h \
         include/convplay/version.h share/convplay/scripts/tour.lua \
         share/convplay/scripts/seeds/transposed.lua share/convplay/assets/sample.png \
         share/man/man1/convplay.1 share/doc/convplay/README.md share/doc/convplay/LICENSE \
         share/doc/convplay/viz.md lib/lua/5.4/convplay.so; do
  # (lib/lua/5.4: where stock lua5.4 looks under /usr/local)
  [ -f "$dest$P/$f" ] || bad "installed file $P/$f missing"
done
ok
grep -q '^\.TH CONVPLAY 1' "$dest$P/share/man/man1/convplay.1"; check "man page" $?

# the installed binary, run from elsewhere, finds its data in share/convplay
bin="$dest$P/bin/convplay"
v=$("$bin" --version); check "installed --version" $? "$v"
home=$(cd / && env -u CONVPLAY_HOME "$bin" --headless -e 'print(require("convplay").home)')
[ "$home" = "$dest$P/share/convplay" ]; check "installed binary's data folder" $? "$home"
(cd / && env -u CONVPLAY_HOME "$bin" --headless --tour); check "installed tour, headless" $?
n=$(cd / && SHOT="$t/shot.png" env -u CONVPLAY_HOME "$bin" --headless -e \
  'local pages = dofile(require("convplay").home .. "/scripts/tour.lua")
   pages[#pages]:screenshot(os.getenv("SHOT")); print(#pages)' 2>&1 | tail -n 1)
[ "${n:-0}" -ge 5 ] 2>/dev/null && [ -s "$t/shot.png" ]; check "tour pages render" $? "$n"
# the lab opens its default image from the same folder
out=$(cd / && env -u CONVPLAY_HOME "$bin" --headless -e 'local lab = viz.lab(); print(lab)' 2>&1)
check "installed lab finds its sample image" $? "$out"

# stock lua5.4 loads the installed module, which finds the same data
out=$(cd / && env -u CONVPLAY_HOME LD_PRELOAD="$CONVPLAY_PRELOAD" lua5.4 -e \
  "package.cpath = '$dest$P/lib/lua/5.4/?.so'" -e 'local cp = require "convplay"
   print(cp._VERSION, cp.home)')
[ "$out" = "$(printf 'convplay %s\t%s' "$(echo "$v" | cut -d' ' -f2)" "$dest$P/share/convplay")" ]
check "stock lua5.4 requires the installed module" $? "$out"

# a C program through pkg-config (PKG_CONFIG_SYSROOT_DIR maps the staged tree)
export PKG_CONFIG_PATH="$dest$P/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest"
mv_=$(pkg-config --modversion convplay)
[ "$v" = "convplay $mv_ $(echo "$v" | cut -d' ' -f3-)" ]; check "convplay.pc version" $? "$mv_ vs $v"
want="10 18 42 50 $mv_
error: stride: non-positive stride is not supported"
$CC $CONVPLAY_SAN -o "$t/hello" tests/install/hello.c $(pkg-config --cflags --libs convplay) 2> "$t/cc.log"
check "cc hello.c \$(pkg-config --cflags --libs convplay)" $? "$(head -n 3 "$t/cc.log")"
out=$(LD_LIBRARY_PATH="$dest$P/lib" "$t/hello" 2>&1)
[ "$out" = "$want" ]; check "hello runs against libconvplay.so" $? "$out"
ldd "$t/hello" 2>/dev/null | grep -q 'libconvplay.so.0'; check "hello links the shared library" $?
libs=$(pkg-config --static --libs convplay | sed 's/-lconvplay/-Wl,-Bstatic -lconvplay -Wl,-Bdynamic/')
$CC $CONVPLAY_SAN -o "$t/hello_static" tests/install/hello.c $(pkg-config --cflags convplay) $libs 2> "$t/cc.log"
check "static link through pkg-config --static" $? "$(head -n 3 "$t/cc.log")"
out=$("$t/hello_static" 2>&1)
[ "$out" = "$want" ]; check "hello runs against libconvplay.a" $? "$out"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# uninstall leaves nothing behind
make --no-print-directory BUILD="$B" PREFIX=$P DESTDIR="$dest" uninstall > "$t/uninstall.log" 2>&1
check "make uninstall" $?
left=$(find "$dest" \( -type f -o -type l \) | sed "s|^$dest||")
[ -z "$left" ]; check "uninstall removes every file" $? "$left"

echo "install: $pass passed, $fail failed"
[ $fail = 0 ]
