-- Every seed script runs headless and prints PyTorch's numbers.
local function seed(name)
  local chunk = assert(loadfile("../../scripts/seeds/" .. name .. ".lua"))
  -- Silence the scripts' printing while they run.
  local real_print = print
  print = function() end
  local ok, res = pcall(chunk)
  print = real_print
  if not ok then error(res, 0) end
  return res
end

test("seed masked_input: plain, masked and partial convolution", function()
  local r = seed("masked_input")
  same_tensor(r.plain, {{{{10, 18}, {42, 50}}}})
  same_tensor(r.masked, {{{{5, 15}, {30, 40}}}})
  same_tensor(r.partial, {{{{20 / 3, 20}, {40, 160 / 3}}}}, 1e-6)
  same_tensor(r.new_mask, {{{{1, 1}, {1, 1}}}})
end)

test("seed correlation_vs_convolution: the sign of the edge", function()
  local r = seed("correlation_vs_convolution")
  local corr, conv_ = r.corr:reshape(5, 6), r.conv:reshape(5, 6)
  for row = 1, 5 do
    local inside = row >= 2 and row <= 4
    same_tensor(corr:narrow(1, row, 1):reshape(6),
                inside and {0, 1, 0, 0, -1, 0} or {0, 0, 0, 0, 0, 0})
    same_tensor(conv_:narrow(1, row, 1):reshape(6),
                inside and {0, -1, 0, 0, 1, 0} or {0, 0, 0, 0, 0, 0})
  end
end)

test("seed transposed: 8x8 up-sampling and the 2x2 scatter", function()
  local r = seed("transposed")
  local row1 = {6, 12, 14, 12, 14, 12, 14, 7}
  local rowA = {12, 24, 28, 24, 28, 24, 28, 14}
  local rowB = {20, 40, 44, 40, 44, 40, 44, 22}
  local last = {10, 20, 22, 20, 22, 20, 22, 11}
  same_tensor(r.up, {{{row1, rowA, rowB, rowA, rowB, rowA, rowB, last}}})
  same_tensor(r.scatter, {{{{6, 14, 4}, {2, 17, 21}, {0, 1, 5}}}})
end)

test("seed output_size: the arithmetic with dilation and transposition", function()
  local r = seed("output_size")
  local want = {30, 32, 16, 4, 4, 28, 32, 32, 1, 7, 8, 56}
  for i, v in ipairs(want) do check(r[i] == v, ("row %d: %s ~= %d"):format(i, r[i], v)) end
end)

test("seed groups: halves of 0 and 45; depthwise 9 18 54 72 135 162", function()
  local r = seed("groups")
  for o = 1, 20 do near(tonumber(r.groups[o]), o <= 10 and 0 or 45) end
  local want = {9, 18, 54, 72, 135, 162}
  for o = 1, 6 do near(tonumber(r.depthwise[o]), want[o]) end
  check(r.y:min() == (0) and r.y:max() == 45)
  check(table.concat(r.yd:shape(), "x") == "1x6x2x2")
end)

test("seed keras_mask: every value 21", function()
  local r = seed("keras_mask")
  same_tensor(r.y, {{{{21, 21}, {21, 21}}, {{21, 21}, {21, 21}}}})
end)
