-- repl_app.lua OUTDIR: the app behind the prompt in test_repl.sh.  A 5x5
-- ramp under a 3x3 box filter; every frame it writes OUTDIR/state.txt
-- (one line) so the test can see what lines typed at the prompt did.
local out = arg[1] or "."
local cp = require "convplay" -- the host's module is the one stock Lua loads
x = cp.tensor.arange(25):reshape(1, 1, 5, 5)
v = cp.viz.conv2d(x, cp.tensor.ones(1, 1, 3, 3), {title = "prompt test"})

local last
function update()
  local cur, page = viz.current()
  local s = cur:state()
  local line = string.format("page=%d stride=%d out11=%g windowed=%s\n", page,
                             s.params.stride[1], v:output():get(1, 1, 1, 1),
                             tostring(not viz.headless))
  if line ~= last then
    last = line
    local f = assert(io.open(out .. "/state.tmp", "w"))
    f:write(line)
    f:close()
    os.rename(out .. "/state.tmp", out .. "/state.txt")
  end
end

viz.run(v)
print("viz.run returned")
