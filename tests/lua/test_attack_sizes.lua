-- test_attack_sizes.lua: sizes never overflow (issue 10, class 2).  Every
-- product of a size and a parameter in the geometry module is checked (the
-- sanitizer build turns a signed overflow into a failure), and views and
-- grids refuse or skip sizes they cannot draw before they loop.

local function quick(f, limit)
  local t0 = os.clock()
  local ok, r = pcall(f)
  check(os.clock() - t0 < (limit or 1), "took " .. (os.clock() - t0) .. " s")
  return ok, r
end

test("sizes: conv geometry with huge sizes and parameters", function()
  local big = 2^40
  local cases = {
    function() return conv.conv2d(tensor.zeros(1, 0, 1, big),
                                  tensor.zeros(1, 0, 1, big),
                                  {dilation = 2^31}) end,
    function() return conv.conv_transpose2d(tensor.zeros(0, 1, 1, big),
                                            tensor.ones(1, 1, 1, 1),
                                            {stride = 2^31}) end,
    function() return conv.conv2d(tensor.zeros(0, 1, big, big),
                                  tensor.ones(1, 1, 1, 1),
                                  {padding = 2^31}) end,
    function() return conv.conv2d(tensor.zeros(1, 0, 1, big),
                                  tensor.zeros(1, 0, 1, big),
                                  {padding = "same"}) end,
    function() return conv.conv_transpose2d(tensor.zeros(0, 1, big, big),
                                            tensor.ones(1, 1, 1, big),
                                            {dilation = 2^31, stride = 2^31}) end,
    function() return conv.conv2d(tensor.zeros(0, 1, 3, 3),
                                  tensor.ones(1, 1, 1, 1),
                                  {stride = 2^62}) end,
    function() return conv.conv2d(tensor.zeros(0, 1, 3, 3),
                                  tensor.ones(1, 1, 1, 1),
                                  {dilation = 2^62, padding = 2^62}) end,
  }
  for i, f in ipairs(cases) do
    local ok, r = quick(f)
    if not ok then
      r = tostring(r)
      check((r:find("^conv%.conv") or r:find("^tensor%.zeros")) and
            not r:find("-%d%d%d%d%d%d"), i .. ": " .. r)
    else
      -- an empty result is a legal answer for an empty batch
      check(r:numel() == 0, i .. ": non-empty result")
    end
  end
end)

test("sizes: the 'too large' message names the sizes, not wrapped values", function()
  raises(function()
    conv.conv2d(tensor.zeros(1, 0, 1, 2^40), tensor.zeros(1, 0, 1, 2^40),
                {dilation = 2^31})
  end, "conv.conv2d", "too large")
  raises(function()
    conv.conv_transpose2d(tensor.zeros(0, 1, 1, 2^40), tensor.ones(1, 1, 1, 1),
                          {stride = 2^31})
  end, "conv.conv_transpose2d", "overflows")
end)

test("sizes: grids and views do not loop over what they cannot draw", function()
  quick(function() viz.grid(tensor.zeros(2^40, 0), 0, 0) end)
  quick(function() viz.grid(tensor.zeros(0, 2^40), 0, 0) end)
  quick(function() viz.grid(tensor.zeros(2^20, 1), 0, 0, {cell = 1}) end)
  quick(function() viz.grid(tensor.zeros(1, 2^20), -2^19, 0, {cell = 1}) end)
  local ok = quick(function()
    local v = viz.show({input = tensor.zeros(2^40, 0), title = "empty"})
    v:screenshot(os.tmpname() .. ".png")
  end, 5)
  local ok2, r = quick(function()
    return viz.conv2d(tensor.zeros(1, 1, 2^31, 2^31), tensor.ones(1, 1, 1, 1))
  end)
  check(not ok2, "a 2^62-cell view is refused")
end)
