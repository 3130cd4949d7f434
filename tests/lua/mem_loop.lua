-- mem_loop.lua N: convolve a 1x3x1080x1920 image N times, dropping each
-- result; prints the peak resident memory (VmHWM) in MiB.
local n = tonumber(arg[1]) or 200
local x = tensor.rand(1, 3, 1080, 1920)
local w = tensor.rand(3, 3, 1, 1)
for _ = 1, n do
  local y = conv.conv2d(x, w, {padding = 1})
  x = y:narrow(3, 2, 1080):narrow(4, 2, 1920) * 0.5
end
local f = assert(io.open("/proc/self/status"))
local status = f:read("a")
f:close()
print(string.format("peak %.0f MiB", tonumber(status:match("VmHWM:%s*(%d+)")) / 1024))
