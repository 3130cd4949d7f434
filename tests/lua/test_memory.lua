-- Tensor memory is visible to the collector: a loop that convolves a 1080p
-- image 200 times stays under 1 GiB.  Run in a fresh process so the peak
-- is the loop's own.
-- The interpreter running us: the lowest negative index of arg.
local exe, i = "../../build/convplay", -1
while arg[i] do exe, i = arg[i], i - 1 end

test("convolving 1x3x1080x1920 200 times stays under 1 GiB peak", function()
  local p = assert(io.popen(exe .. " --headless mem_loop.lua 200 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  check(ok, "the loop failed: " .. out)
  local mib = tonumber(out:match("peak (%d+) MiB"))
  check(mib, "no peak reported: " .. out)
  print(string.format("    (peak %d MiB)", mib))
  check(mib < 1024, string.format("peak %d MiB", mib))
end)
