-- grad_cases.lua: views whose generated code (v:code) gen_code_grad.py
-- runs through PyTorch (make golden) and tests/lua/test_code_grad.lua
-- checks without torch: backward views (viz.conv2d_backward, each
-- gradient; stride, padding, dilation, groups, batch, padding modes for
-- grad_weight / grad_bias) and compare views (viz.compare).
-- Deterministic: its own generator.
return function()
  local state = 20261201
  local function rnd()
    state = state * 6364136223846793005 + 1442695040888963407
    return ((state >> 33) & 0x7fffffff) / 2147483648.0
  end
  local function int(lo, hi) return lo + math.floor(rnd() * (hi - lo + 1)) end
  local function T(shape)
    local n, t = 1, {}
    for _, d in ipairs(shape) do n = n * d end
    for i = 1, n do t[i] = (rnd() - 0.5) * 4 end
    return tensor.new(t):reshape(shape)
  end
  local cases = {}
  local modes = {"input", "weight", "bias"}
  local pads = {"zeros", "reflect", "replicate", "circular"}
  for i = 1, 24 do
    local G = int(1, 2)
    local C, O = G * int(1, 2), G * int(1, 2)
    local kh, kw = int(1, 3), int(1, 3)
    local o = {stride = {int(1, 2), int(1, 3)}, padding = {int(0, 1), int(0, 1)},
               dilation = {int(1, 2), int(1, 2)}, groups = G}
    local H = (kh - 1) * o.dilation[1] + int(2, 5)
    local W = (kw - 1) * o.dilation[2] + int(2, 5)
    local x, w = T{int(1, 2), C, H, W}, T{O, C // G, kh, kw}
    local compare = i > 18
    local m = modes[(i - 1) % 3 + 1]
    if m ~= "input" or compare then o.padding_mode = pads[int(1, 4)] end
    local desc = string.format("%d: %s x %dx%dx%dx%d w %dx%dx%dx%d s %d,%d p %d,%d d %d,%d g %d %s",
                               i, compare and "compare" or m, x:size()[1], C, H, W, O, C // G, kh, kw,
                               o.stride[1], o.stride[2], o.padding[1], o.padding[2],
                               o.dilation[1], o.dilation[2], G, o.padding_mode or "zeros")
    local v
    if compare then
      v = viz.compare(x, w, o)
    else
      local gy = T(conv.conv2d(x, w, o):size())
      o.grad = m
      v = viz.conv2d_backward(x, w, gy, o)
    end
    cases[#cases + 1] = {desc = desc, view = v, compare = compare}
  end
  return cases
end
