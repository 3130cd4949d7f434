-- conv.sep_conv2d and the separable path of conv.conv2d: against the
-- direct reference loop (conv.set_impl("reference")) on the same problem.

-- The (C, 1, kH, kW) weight that sep_conv2d(x, col, row) stands for.
local function outer(C, col, row)
  local w = tensor.zeros(C, 1, #col, #row)
  for c = 1, C do
    for i = 1, #col do
      for j = 1, #row do w:set(c, 1, i, j, col[i] * row[j]) end
    end
  end
  return w
end

-- Max |a - b| against the float32 budget of the fast kernels' tests.
local function close(a, b, budget, what)
  check(a:dim() == b:dim(), what .. ": ranks differ")
  for d = 1, a:dim() do
    check(a:size(d) == b:size(d), what .. ": sizes differ")
  end
  local diff = (a - b):abs():max()
  check(diff <= budget, string.format("%s: off by %g", what, diff))
end

local function reference(fn)
  conv.set_impl("reference")
  local ok, r = pcall(fn)
  conv.set_impl("auto")
  if not ok then error(r, 0) end
  return r
end

local function rnd_list(n)
  local t = {}
  for i = 1, n do t[i] = math.random() * 2 - 1 end
  return t
end

test("sep_conv2d equals conv2d with the outer product, random shapes", function()
  math.randomseed(14)
  local modes = {"zeros", "reflect", "replicate", "circular"}
  for _ = 1, 40 do
    local C, kH, kW = math.random(1, 3), math.random(1, 7), math.random(1, 7)
    local H, W = math.random(kH * 2, 40), math.random(kW * 2, 70)
    local s, d = math.random(1, 3), math.random(1, 2)
    local mode = modes[math.random(1, 4)]
    local pad = math.min(math.random(0, 3), H - 1, W - 1)
    local x = tensor.randn(math.random(1, 2), C, H, W)
    local col, row = rnd_list(kH), rnd_list(kW)
    local bias = math.random() < 0.5 and tensor.randn(C) or nil
    local opts = {stride = s, dilation = d, padding = pad,
                  padding_mode = mode, bias = bias}
    local ok, y = pcall(conv.sep_conv2d, x, col, row, opts)
    local wopts = {stride = s, dilation = d, padding = pad,
                   padding_mode = mode, bias = bias, groups = C}
    local ok2, want = pcall(reference, function()
      return conv.conv2d(x, outer(C, col, row), wopts)
    end)
    check(ok == ok2, "one of sep_conv2d / conv2d refused: " ..
          tostring(ok and want or y))
    if ok then close(y, want, 1e-4 * (kH * kW), "sep_conv2d " .. mode) end
  end
end)

test("sep_conv2d: unbatched input, tensors as factors, stride pairs", function()
  local x = tensor.randn(2, 33, 45)
  local col, row = tensor.new{1, 4, 6, 4, 1} / 16, tensor.new{-1, 0, 1}
  local y = conv.sep_conv2d(x, col, row, {padding = {2, 1}, stride = {1, 2}})
  check(y:dim() == 3 and y:size(1) == 2 and y:size(2) == 33)
  local want = reference(function()
    return conv.conv2d(x, outer(2, col:totable(), row:totable()),
                       {padding = {2, 1}, stride = {1, 2}, groups = 2})
  end)
  close(y, want, 1e-5, "unbatched")
end)

test("sep_conv2d: the classic Sobel on a ramp", function()
  -- a horizontal ramp: Sobel x = (1,2,1)^T (-1,0,1) gives 4 * 2 = 8
  local rows = {}
  for r = 1, 5 do rows[r] = {0, 2, 4, 6, 8, 10, 12, 14} end
  local x = tensor.new{{rows}}
  local y = conv.sep_conv2d(x, {1, 2, 1}, {-1, 0, 1})
  same_tensor(y, {{{{16, 16, 16, 16, 16, 16}, {16, 16, 16, 16, 16, 16},
                    {16, 16, 16, 16, 16, 16}}}})
end)

test("sep_conv2d: errors name the argument", function()
  local x = tensor.randn(1, 2, 8, 8)
  raises(function() conv.sep_conv2d(x, {}, {1}) end, "conv.sep_conv2d", "col",
         "non-empty 1-D")
  raises(function() conv.sep_conv2d(x, {1}, {{1, 2}}) end, "row", "1-D")
  raises(function() conv.sep_conv2d(x, {1}, "a") end, "bad argument #3 'row'")
  raises(function() conv.sep_conv2d(nil, {1}, {1}) end, "bad argument #1")
  raises(function() conv.sep_conv2d(x, {1}, {1}, {groups = 2}) end,
         "unknown option 'groups'")
  raises(function() conv.sep_conv2d(tensor.randn(8), {1}, {1}) end,
         "Expected 3D (unbatched) or 4D")
  raises(function() conv.sep_conv2d(x, tensor.ones(9), {1}) end,
         "Kernel size can't be greater")
  raises(function() conv.sep_conv2d(x, {1}, {1}, {bias = {1, 2, 3}}) end,
         "bias")
end)

test("separable presets through conv2d agree with the reference loop", function()
  local x = tensor.randn(1, 3, 64, 96)
  local presets = {
    image.kernels.gaussian(15, 3), image.kernels.box(5),
    image.kernels.gaussian(7), image.kernels.motion_blur(9, 90),
    image.kernels.sobel_x(), image.kernels.motion_blur(9, 30),
  }
  for n, k in ipairs(presets) do
    local w = tensor.zeros(3, 1, k:size(1), k:size(2))
    for c = 1, 3 do
      for i = 1, k:size(1) do
        for j = 1, k:size(2) do w:set(c, 1, i, j, k:get(i, j)) end
      end
    end
    for _, mode in ipairs({"zeros", "reflect"}) do
      local o = {padding = "same", groups = 3, padding_mode = mode}
      local y = conv.conv2d(x, w, o)
      local want = reference(function() return conv.conv2d(x, w, o) end)
      close(y, want, 1e-4, "preset " .. n .. " " .. mode)
    end
  end
end)

test("a NaN in the image stays where the reference puts it", function()
  local x = tensor.ones(1, 1, 30, 40)
  x:set(1, 1, 10, 10, 0 / 0)
  x:set(1, 1, 20, 30, math.huge)
  local g = image.kernels.gaussian(5):reshape(1, 1, 5, 5)
  local y = conv.conv2d(x, g, {padding = 2})
  local want = reference(function() return conv.conv2d(x, g, {padding = 2}) end)
  local a, b = y:totable()[1][1], want:totable()[1][1]
  for r = 1, 30 do
    for c = 1, 40 do
      local u, v = a[r][c], b[r][c]
      check((u ~= u) == (v ~= v), "NaN pattern differs at " .. r .. "," .. c)
      if v == v and math.abs(v) == math.huge then check(u == v) end
    end
  end
end)
