-- conv.*: the worked examples of shared/SEMANTICS.md, option forms, layouts.
local X3 = tensor.new{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}:reshape(1, 1, 3, 3)
local W2 = tensor.new{{1, 10}, {100, 1000}}:reshape(1, 1, 2, 2)

test("conv2d is cross-correlation: the digits show the taps", function()
  same_tensor(conv.conv2d(X3, W2), {{{{5421, 6532}, {8754, 9865}}}})
  same_tensor(conv.conv2d(X3, W2, {padding = 1}), {{{
    {1000, 2100, 3200, 300}, {4010, 5421, 6532, 603},
    {7040, 8754, 9865, 906}, {70, 87, 98, 9}}}})
  -- 'same' with an even kernel puts the extra padding at the bottom/right
  same_tensor(conv.conv2d(X3, W2, {padding = "same"}),
              {{{{5421, 6532, 603}, {8754, 9865, 906}, {87, 98, 9}}}})
  same_tensor(conv.conv2d(X3, W2, {padding = "valid"}), {{{{5421, 6532}, {8754, 9865}}}})
end)

test("stride, dilation and bias", function()
  local x = tensor.arange(25):reshape(1, 1, 5, 5)
  same_tensor(conv.conv2d(x, W2, {stride = 2, dilation = 2, bias = tensor.new{0.5}}),
              {{{{13020.5, 15242.5}, {24130.5, 26352.5}}}})
  same_tensor(conv.conv2d(x, W2, {stride = {1, 3}}), {{{
    {6510, 9843}, {12065, 15398}, {17620, 20953}, {23175, 26508}}}})
  -- a bias given as a plain table
  same_tensor(conv.conv2d(x, W2, {stride = 2, dilation = 2, bias = {0.5}}),
              {{{{13020.5, 15242.5}, {24130.5, 26352.5}}}})
end)

test("padding modes: zeros, reflect, replicate, circular", function()
  local ones = tensor.ones(1, 1, 3, 3)
  local want = {
    zeros = {{12, 21, 16}, {27, 45, 33}, {24, 39, 28}},
    reflect = {{33, 36, 39}, {42, 45, 48}, {51, 54, 57}},
    replicate = {{21, 27, 33}, {39, 45, 51}, {57, 63, 69}},
    circular = {{45, 45, 45}, {45, 45, 45}, {45, 45, 45}},
  }
  for mode, w in pairs(want) do
    same_tensor(conv.conv2d(X3, ones, {padding = 1, padding_mode = mode}), {{w}})
  end
  -- the padded rows themselves, via conv.pad (F.pad order: left, right, top, bottom)
  local row = tensor.new{{{1, 2, 3}}}
  same_tensor(conv.pad(row, {2, 2, 0, 0}, "reflect"), {{{3, 2, 1, 2, 3, 2, 1}}})
  same_tensor(conv.pad(row, {2, 2, 0, 0}, "replicate"), {{{1, 1, 1, 2, 3, 3, 3}}})
  same_tensor(conv.pad(row, {2, 2, 0, 0}, "circular"), {{{2, 3, 1, 2, 3, 1, 2}}})
  same_tensor(conv.pad(row, {2, 2, 0, 0}), {{{0, 0, 1, 2, 3, 0, 0}}})
  -- limits: reflect p <= size-1, circular p <= size, replicate any
  conv.conv2d(X3, ones, {padding = 3, padding_mode = "circular"})
  conv.conv2d(X3, ones, {padding = 10, padding_mode = "replicate"})
end)

test("explicit sides {top=, bottom=, left=, right=} equal conv.pad then valid", function()
  local x = tensor.arange(20):reshape(1, 1, 4, 5)
  local w = tensor.randn(1, 1, 2, 3)
  for _, mode in ipairs{"zeros", "reflect", "replicate", "circular"} do
    local a = conv.conv2d(x, w, {padding = {top = 1, left = 2, right = 0, bottom = 2},
                                 padding_mode = mode})
    local b = conv.conv2d(conv.pad(x, {2, 0, 1, 2}, mode), w)
    same_tensor(a, b:totable(), 1e-5)
  end
end)

test("true convolution flips the kernel (scipy.signal.convolve2d)", function()
  same_tensor(conv.convolve2d(X3, W2), {{{{1245, 2356}, {4578, 5689}}}})
  same_tensor(conv.convolve2d(X3, W2, {padding = 1}), {{{
    {1, 12, 23, 30}, {104, 1245, 2356, 3060},
    {407, 4578, 5689, 6090}, {700, 7800, 8900, 9000}}}})
  -- scipy's 'same' for an even kernel pads at the top/left
  same_tensor(conv.convolve2d(X3, W2, {padding = {top = 1, left = 1}}),
              {{{{1, 12, 23}, {104, 1245, 2356}, {407, 4578, 5689}}}})
  same_tensor(conv.convolve2d(X3, W2, {padding = "same"}),
              {{{{1245, 2356, 3060}, {4578, 5689, 6090}, {7800, 8900, 9000}}}})
end)

test("conv_transpose2d: output_padding un-crops real rows; gaps hold the bias", function()
  local x = tensor.new{{1, 2}, {3, 4}}:reshape(1, 1, 2, 2)
  local k = tensor.ones(1, 1, 3, 3)
  same_tensor(conv.conv_transpose2d(x, k, {stride = 2, padding = 1}),
              {{{{1, 3, 2}, {4, 10, 6}, {3, 7, 4}}}})
  same_tensor(conv.conv_transpose2d(x, k, {stride = 2, padding = 1, output_padding = 1}),
              {{{{1, 3, 2, 2}, {4, 10, 6, 6}, {3, 7, 4, 4}, {3, 7, 4, 4}}}})
  local y = conv.conv_transpose2d(tensor.ones(1, 1, 2, 2), tensor.ones(1, 1, 2, 2),
                                  {stride = 3, output_padding = 2, bias = {0.5}})
  check(table.concat(y:shape(), "x") == "1x1x7x7")
  for r = 1, 7 do for c = 1, 7 do
    local gap = r == 3 or r == 6 or r == 7 or c == 3 or c == 6 or c == 7
    near(y:get(1, 1, r, c), gap and 0.5 or 1.5)
  end end
  -- output_padding 1 with stride 1 is legal when dilation is 2
  conv.conv_transpose2d(x, k, {dilation = 2, output_padding = 1})
end)

test("partial convolution: bias, holes, multi_channel", function()
  local x = tensor.arange(16):reshape(1, 1, 4, 4)
  local m = tensor.new{{1, 1, 1, 0}, {1, 0, 1, 1}, {1, 1, 0, 1}, {0, 1, 1, 1}}:reshape(1, 1, 4, 4)
  local w = tensor.ones(1, 1, 2, 2)
  local y = conv.partial_conv2d(x, m, w, {stride = 2, bias = {1}})
  same_tensor(y, {{{{23 / 3, 21}, {41, 163 / 3}}}}, 1e-6)
  local m2 = m:clone()
  m2:set(1, 1, 1, 1, 0); m2:set(1, 1, 1, 2, 0); m2:set(1, 1, 2, 1, 0); m2:set(1, 1, 2, 2, 0)
  local y2, nm2 = conv.partial_conv2d(x, m2, w, {stride = 2, bias = {1}})
  same_tensor(y2, {{{{0, 21}, {41, 163 / 3}}}}, 1e-6)   -- S = 0: 0, bias included
  same_tensor(nm2, {{{{0, 1}, {1, 1}}}})
  -- a mask of ones with padding 1: borders rescaled by 9/4 and 9/6, all 9
  local y3 = conv.partial_conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 3, 3),
                                 tensor.ones(1, 1, 3, 3), {padding = 1})
  same_tensor(y3, {{{{9, 9, 9}, {9, 9, 9}, {9, 9, 9}}}}, 1e-6)
  -- multi_channel: the mask has the input's channels; S has O channels
  local ym, nm = conv.partial_conv2d(tensor.ones(1, 2, 3, 3), tensor.ones(1, 2, 3, 3),
                                     tensor.ones(3, 2, 2, 2), {multi_channel = true})
  check(table.concat(ym:shape(), "x") == "1x3x2x2" and table.concat(nm:shape(), "x") == "1x3x2x2")
  near(ym:get(1, 3, 2, 2), 8)
end)

test("groups and depthwise wire channels as PyTorch", function()
  local x = tensor.ones(1, 10, 7, 7)
  local w = tensor.cat({tensor.zeros(10, 5, 3, 3), tensor.ones(10, 5, 3, 3)}, 1)
  local y = conv.conv2d(x, w, {groups = 2})
  check(y:narrow(2, 1, 10):max() == 0 and y:narrow(2, 11, 10):min() == 45)
end)

test("Keras layouts: channels_last with an HWIO kernel equals permuting by hand", function()
  tensor.manual_seed(1)
  local x = tensor.randn(2, 5, 6, 3)     -- NHWC
  local k = tensor.randn(3, 2, 3, 4)     -- HWIO
  local a = conv.conv2d(x, k, {data_format = "channels_last", padding = "same", bias = tensor.randn(4)})
  check(table.concat(a:shape(), "x") == "2x5x6x4")
  local b = conv.conv2d(x:permute(1, 4, 2, 3), conv.to_oihw(k), {padding = "same", bias = nil})
  local bias_free = conv.conv2d(x, k, {data_format = "channels_last", padding = "same"})
  same_tensor(bias_free, b:permute(1, 3, 4, 2):totable(), 1e-5)
  check(conv.to_hwio(conv.to_oihw(k)):equal(k))
  -- unbatched HWC
  local u = conv.conv2d(x:narrow(1, 1, 1):squeeze(1), k, {data_format = "channels_last"})
  check(table.concat(u:shape(), "x") == "3x5x4")
end)

test("unbatched (C, H, W) input gives (O, H', W')", function()
  local y = conv.conv2d(tensor.ones(3, 5, 5), tensor.ones(2, 3, 3, 3))
  check(table.concat(y:shape(), "x") == "2x3x3")
  near(y:get(2, 3, 3), 27)
  local t = conv.conv_transpose2d(tensor.ones(3, 2, 2), tensor.ones(3, 1, 2, 2), {stride = 2})
  check(table.concat(t:shape(), "x") == "1x4x4")
end)

test("odd cases PyTorch accepts", function()
  -- N = 0
  local y = conv.conv2d(tensor.zeros(0, 3, 5, 5), tensor.ones(2, 3, 3, 3))
  check(table.concat(y:shape(), "x") == "0x2x3x3")
  -- C_in = 0: the output has no channels either (PyTorch's quirk)
  local z = conv.conv2d(tensor.zeros(1, 0, 5, 5), tensor.zeros(5, 0, 3, 3), {bias = tensor.ones(5)})
  check(table.concat(z:shape(), "x") == "1x0x3x3")
  -- stride larger than the input
  check(table.concat(conv.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 1, 1), {stride = 10}):shape(), "x") == "1x1x1x1")
end)

test("NaN and Inf propagate exactly as in PyTorch", function()
  local x = tensor.zeros(1, 1, 4, 4)
  x:set(1, 1, 1, 1, 0 / 0)
  local y = conv.conv2d(x, tensor.new{{0, 1}, {1, 1}}:reshape(1, 1, 2, 2))
  check(y:get(1, 1, 1, 1) ~= y:get(1, 1, 1, 1), "NaN even under a 0 weight")
  check(y:get(1, 1, 1, 2) == 0 and y:get(1, 1, 2, 2) == 0)
  local xi = tensor.zeros(1, 1, 3, 3)
  xi:set(1, 1, 2, 2, 1 / 0)
  local yi = conv.conv2d(xi, tensor.new{{1, 0}, {1, 1}}:reshape(1, 1, 2, 2))
  check(yi:get(1, 1, 2, 1) ~= yi:get(1, 1, 2, 1), "Inf * 0 = NaN")
  check(yi:get(1, 1, 1, 1) == 1 / 0 and yi:get(1, 1, 1, 2) == 1 / 0 and yi:get(1, 1, 2, 2) == 1 / 0)
  local wn = tensor.ones(1, 1, 2, 2)
  wn:set(1, 1, 1, 1, 0 / 0)
  local yn = conv.conv2d(tensor.ones(1, 1, 3, 3), wn, {padding = 1})
  for r = 1, 4 do for c = 1, 4 do local v = yn:get(1, 1, r, c); check(v ~= v) end end
end)

test("fast kernels agree with the reference loops on random problems", function()
  tensor.manual_seed(5)
  local modes = {"zeros", "reflect", "replicate", "circular"}
  for i = 1, 60 do
    local G = ({1, 1, 2, 3})[i % 4 + 1]
    local C, O = G * (1 + i % 3), G * (1 + (i // 3) % 3)
    local k = {1 + i % 5, 1 + (i // 2) % 4}
    local H, W = 6 + i % 9, 7 + (i * 7) % 23
    local opts = {groups = G, stride = {1 + i % 2, 1 + (i // 5) % 3}, dilation = {1 + (i // 7) % 2, 1},
                  padding = {i % 3, (i // 3) % 3}, padding_mode = modes[i % 4 + 1],
                  bias = tensor.randn(O)}
    local x, w = tensor.randn(1 + i % 2, C, H, W), tensor.randn(O, C // G, k[1], k[2])
    local ok, fast = pcall(conv.conv2d, x, w, opts)
    conv.set_impl("reference")
    local ok2, ref = pcall(conv.conv2d, x, w, opts)
    conv.set_impl("auto")
    check(ok == ok2, "both raise or neither")
    if ok then same_tensor(fast, ref:totable(), 1e-4) end
  end
end)

test("conv_transpose2d with explicit sides crops each side of the canvas", function()
  tensor.manual_seed(3)
  local x, w = tensor.randn(1, 2, 3, 4), tensor.randn(2, 3, 3, 2)
  local full = conv.conv_transpose2d(x, w, {stride = 2})           -- the whole canvas
  local same = conv.conv_transpose2d(x, w, {stride = 2, padding = {top = 1, bottom = 1, left = 1, right = 1}})
  same_tensor(same, conv.conv_transpose2d(x, w, {stride = 2, padding = 1}):totable(), 1e-6)
  local crop = conv.conv_transpose2d(x, w, {stride = 2, padding = {top = 2, right = 1}})
  local H, W = full:size(3), full:size(4)
  same_tensor(crop, full:narrow(3, 3, H - 2):narrow(4, 1, W - 1):totable(), 1e-6)
end)
