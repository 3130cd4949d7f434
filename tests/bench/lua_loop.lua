-- lua_loop.lua - the per-call cost of a tiny convolution called from Lua.
-- Run: build/convplay --headless tests/bench/lua_loop.lua
-- Prints "case lua_loop_4x4 <microseconds per call>" (median of 7 runs).
local x = tensor.arange(16):reshape(1, 1, 4, 4)
local w = tensor.ones(1, 1, 2, 2)
local opts = {stride = 2}

-- The answer first: 2x2 sums of 0..15 with stride 2.
local y = conv.conv2d(x, w, opts)
local want = {10, 18, 42, 50}
for i = 1, 4 do
  local r, c = (i - 1) // 2 + 1, (i - 1) % 2 + 1
  assert(y:get(1, 1, r, c) == want[i], "lua_loop: wrong result")
end

local calls = 20000
local times = {}
for rep = 1, 9 do
  local t0 = os.clock()
  for _ = 1, calls do conv.conv2d(x, w, opts) end
  local dt = (os.clock() - t0) / calls * 1e6
  if rep > 2 then times[#times + 1] = dt end -- two warm-up runs
end
table.sort(times)
print(string.format("case lua_loop_4x4 %.4f", times[(#times + 1) // 2]))
