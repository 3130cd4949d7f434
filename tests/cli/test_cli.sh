#!/bin/sh
# test_cli.sh BUILD: the command line behaves as documented in README.
B=${1:-build}
CP="$B/convplay"
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "not ok: $1"; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# script arguments reach Lua as arg, as with the stock interpreter
printf 'print(arg[0], arg[1], arg[2], #arg)\n' > "$t/args.lua"
out=$("$CP" --headless "$t/args.lua" a b)
[ "$out" = "$(printf '%s\ta\tb\t2' "$t/args.lua")" ] && ok || bad "arg table: $out"

# a Lua error: file:line: message and a traceback on stderr, status 1
printf 'local x = 1\nerror("boom")\n' > "$t/err.lua"
"$CP" --headless "$t/err.lua" 2> "$t/stderr"; rc=$?
[ $rc = 1 ] && ok || bad "error exit status $rc"
head -n 1 "$t/stderr" | grep -q "^$t/err.lua:2: boom$" && ok || bad "error line: $(head -n 1 "$t/stderr")"
grep -q "stack traceback:" "$t/stderr" && ok || bad "no traceback"

# -e runs before the script, and alone
out=$("$CP" --headless -e 'x = 41' -e 'print(x + 1)')
[ "$out" = "42" ] && ok || bad "-e: $out"
printf 'print(x * 2)\n' > "$t/x.lua"
out=$("$CP" --headless -e 'x = 21' "$t/x.lua")
[ "$out" = "42" ] && ok || bad "-e then script: $out"

# standard input as a script when it is not a terminal; its errors count
out=$(printf 'print(conv.output_size(7, 3, {stride = 2, padding = 1}))\n' | "$CP" --headless)
[ "$out" = "4" ] && ok || bad "stdin script: $out"
printf 'error("x")\n' | "$CP" --headless 2>/dev/null && bad "stdin error status 0" || ok

# -i: a prompt that prints expression values
out=$(printf '1 + 1\nfor i = 1, 2 do\nprint(i)\nend\n' | "$CP" --headless -i)
[ "$out" = "$(printf '2\n1\n2')" ] && ok || bad "-i: $out"

# -i goes on at the prompt after an error in the code before it
out=$(printf 'print(y)\n' | "$CP" --headless -i -e 'y = 5' -e 'error("oops")' 2>/dev/null)
[ "$out" = "5" ] && ok || bad "-i after an error: $out"

# --tour under --headless builds every page and exits
"$CP" --headless --tour && ok || bad "--headless --tour"

# --version, --help, unknown options
"$CP" --version | grep -q "^convplay [0-9.]* (Lua 5.4" && ok || bad "--version"
"$CP" --help | grep -q -- "--headless" && ok || bad "--help"
"$CP" --bogus 2> "$t/stderr"; rc=$?
[ $rc = 2 ] && grep -q "unknown option '--bogus'" "$t/stderr" && ok || bad "unknown option: $rc"
"$CP" --headless -e 2> /dev/null; [ $? = 2 ] && ok || bad "-e without code"

# a missing script
"$CP" --headless "$t/nope.lua" 2> "$t/stderr"; rc=$?
[ $rc = 1 ] && grep -q "cannot open" "$t/stderr" && ok || bad "missing script: $rc"

echo "cli: $pass passed, $fail failed"
[ $fail = 0 ]
