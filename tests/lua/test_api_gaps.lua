-- test_api_gaps.lua: PyTorch habits that used to fail (issue 11): one-element
-- lists, conv_transpose2d's output_size, arange's direction error, equal on
-- infinities, and the message for a missing tensor argument.

test("one-element lists mean the single value", function()
  local x = tensor.arange(49):reshape(1, 1, 7, 7)
  local w = tensor.ones(1, 1, 3, 3)
  local a = conv.conv2d(x, w, {stride = {2}, padding = {1}, dilation = {2}})
  local b = conv.conv2d(x, w, {stride = 2, padding = 1, dilation = 2})
  check(a:equal(b), "conv2d with {2}/{1}/{2}")
  local t1 = conv.conv_transpose2d(x, w, {stride = {2}, output_padding = {1}})
  local t2 = conv.conv_transpose2d(x, w, {stride = 2, output_padding = 1})
  check(t1:equal(t2), "conv_transpose2d with {2}/{1}")
  check(select(1, conv.output_size(7, 3, {stride = {2}, padding = {1}})) == 4)
  raises(function() conv.conv2d(x, w, {stride = {1, 1, 1}}) end,
         "conv.conv2d: bad argument #3 'opts.stride'", "list of 3")
end)

test("conv_transpose2d output_size picks output_padding", function()
  local x = tensor.randn(1, 2, 3, 3)
  local w = tensor.randn(2, 1, 3, 3)
  for _, size in ipairs({7, 8}) do
    local y = conv.conv_transpose2d(x, w, {stride = 2, output_size = {size, size}})
    local z = conv.conv_transpose2d(x, w, {stride = 2, output_padding = size - 7})
    check(y:equal(z), "size " .. size)
  end
  -- PyTorch also takes {N, C, H, W}; rows and columns independently
  local y = conv.conv_transpose2d(x, w, {stride = 2, output_size = {1, 1, 8, 7}})
  check(table.concat(y:shape(), "x") == "1x1x8x7")
  -- explicit sides count both sides
  local s = conv.conv_transpose2d(x, w, {stride = 3, padding = {top = 1},
                                          output_size = {8, 9}})
  check(table.concat(s:shape(), "x") == "1x1x8x9")
  raises(function()
    conv.conv_transpose2d(x, w, {stride = 2, output_size = {9, 9}})
  end, "conv.conv_transpose2d: output_size: requested an output size of [9, 9], "
       .. "but valid sizes range from [7, 7] to [8, 8] (for an input of [3, 3])")
  raises(function()
    conv.conv_transpose2d(x, w, {stride = 2, output_size = {8, 8}, output_padding = 1})
  end, "'opts.output_size'", "not both")
  raises(function() conv.conv2d(x, tensor.randn(1, 2, 3, 3), {output_size = {3, 3}}) end,
         "unknown option 'output_size'")
end)

test("arange in the wrong direction is PyTorch's error", function()
  raises(function() tensor.arange(0, -5) end, "tensor.arange: bad argument #2 'end'",
         "upper bound and larger bound inconsistent with step sign")
  raises(function() tensor.arange(-3) end, "bad argument #1 'end'",
         "upper bound and larger bound inconsistent with step sign")
  raises(function() tensor.arange(5, 0, 1) end, "inconsistent with step sign")
  check(tensor.arange(5, 5):numel() == 0, "an empty range in either direction")
  check(tensor.arange(5, 0, -2):numel() == 3)
end)

test("equal: infinities equal themselves, NaN nothing", function()
  local inf = math.huge
  check(tensor.new{inf}:equal(tensor.new{inf}))
  check(tensor.new{-inf, 1}:equal(tensor.new{-inf, 1}))
  check(not tensor.new{inf}:equal(tensor.new{-inf}))
  check(not tensor.new{0 / 0}:equal(tensor.new{0 / 0}))
  check(not tensor.new{1, 2}:equal(tensor.new{{1, 2}}), "shapes differ")
  local t = tensor.arange(6):reshape(2, 3)
  check(t:transpose(1, 2):equal(t:transpose(1, 2):contiguous()), "strided")
end)

test("a missing tensor argument names the function and the argument", function()
  local x = tensor.ones(1, 1, 3, 3)
  raises(function() conv.conv2d(nil, x) end,
         "conv.conv2d: bad argument #1 'input': tensor expected, got nil")
  raises(function() conv.conv2d(x) end,
         "conv.conv2d: bad argument #2 'weight': tensor expected, got no value")
  raises(function() conv.conv_transpose2d(x, 3) end,
         "conv.conv_transpose2d: bad argument #2 'weight': tensor expected, got number")
  raises(function() conv.partial_conv2d(x, nil, x) end,
         "conv.partial_conv2d: bad argument #2 'mask': tensor expected, got nil")
  raises(function() conv.pad({}, 1) end, "conv.pad: bad argument #1 'input'")
end)

test("method arguments are counted as lauxlib counts them (not self)", function()
  local t = tensor.zeros(2, 3)
  raises(function() t:narrow(9, 1, 1) end, "tensor:narrow: bad argument #1 'dim'")
  raises(function() t:narrow(1, 5, 1) end, "tensor:narrow: bad argument #2 'index'")
  raises(function() t:narrow(1, 1, 7) end, "tensor:narrow: bad argument #3 'length'")
  raises(function() t:size(5) end, "tensor:size: bad argument #1 'dim'")
  raises(function() t:transpose(1, 7) end, "tensor:transpose: bad argument #2 'dim1'")
  raises(function() t:get(1, 99) end, "tensor:get: bad argument #2 'index'")
  raises(function() t:reshape(1.5) end, "tensor:reshape: bad argument #1 'size'")
  raises(function() t:reshape(2, "x") end, "tensor:reshape: bad argument #2 'size'")
  raises(function() t:unsqueeze(9) end, "tensor:unsqueeze: bad argument #1 'dim'")
  raises(function() t:permute(1) end, "tensor:permute: bad argument #1 'dims'")
  raises(function() t:add("x") end, "tensor:add: bad argument #1 'other'")
  raises(function() t:matmul(nil) end, "tensor:matmul: bad argument #1 'other'")
  raises(function() t:fill("x") end, "bad argument #1 to 'fill'")
  -- functions count every argument
  raises(function() tensor.zeros(2, -1) end, "tensor.zeros: bad argument #1 'size'")
  raises(function() tensor.cat({t}, 9) end, "tensor.cat: bad argument #2 'dim'")
end)
