-- test_cell_values.lua: a number drawn in a grid cell is that cell's value.
-- Cells are small; a value that does not fit is shown as "…" (its tooltip
-- and the tap list have it), never rounded into another number: "-4.5"
-- must not read "-4", "-0.7" not "-1".  Every digit label of the input,
-- weight and output grids is checked against the tensor it shows, on
-- values with one decimal (the case that went wrong) and on random ones,
-- at sizes from 480x320 to 2560x1440.
local SIZES = {{480, 320}, {640, 400}, {1024, 640}, {1366, 768}, {2560, 1440}}

-- the text keeps two significant digits of v, or is v itself
local function faithful(t, v)
  local r = tonumber(t)
  if r == nil or r == 0 then return v == 0 and r == 0 end
  if math.abs(r - v) <= 1e-6 * math.abs(v) then return true end
  local mant = t:gsub("e.*", ""):gsub("[^0-9]", ""):gsub("^0+", "")
  return #mant >= 2 and math.abs(r - v) <= 0.051 * math.abs(v)
end

-- (row, col) of the cell under a label's centre in grid g (1-based, in the
-- grid's own coordinates: row0/col0 are its first shown row and column)
local function cell_of(g, b)
  local cx, cy = b.x + b.w / 2, b.y + b.h / 2
  if cx < g.x or cy < g.y or cx >= g.x + g.cols * g.cell or
     cy >= g.y + g.rows * g.cell then
    return nil
  end
  return g.row0 + (cy - g.y) // g.cell, g.col0 + (cx - g.x) // g.cell
end

-- Every digit label inside one of the grids of `grids` must be faithful to
-- value(g, r, c); returns the labels checked.
local function check_grids(lay, grids, value, what)
  local n = 0
  for _, b in ipairs(lay) do
    if b.kind == "label" and b.text and tonumber(b.text) then
      for _, g in ipairs(grids) do
        local r, c = cell_of(g, b)
        if r then
          local v = value(g, r, c)
          if v then
            n = n + 1
            check(faithful(b.text, v), string.format(
              "%s: cell (%d,%d) of channel %d shows '%s' for %.9g",
              what, r, c, g.channel, b.text, v))
          end
        end
      end
    end
  end
  return n
end

local function one_decimal(n)
  local t = {}
  for i = 1, n do t[i] = math.floor((math.random() - 0.5) * 400 + 0.5) / 10 end
  return t
end

-- Grids give the 1-based row and column of their first shown cell (row0,
-- col0); padding rows and columns are 0 and below or past the size.
local function check_view(x, w, opts, W, H, what)
  local v = viz.conv2d(x, w, opts)
  v:seek(math.max(1, v:state().steps // 2))
  local lay = v:layout{width = W, height = H}
  local y = conv.conv2d(x, w, opts)
  local n = 0
  n = n + check_grids(lay, lay.input, function(g, r, c)
    if r < 1 or c < 1 or r > x:size(3) or c > x:size(4) then return nil end
    return x:get(1, g.channel, r, c)
  end, what .. " input")
  n = n + check_grids(lay, lay.output, function(g, r, c)
    local st = v:state()
    -- only finished outputs carry their final value
    if r < 1 or c < 1 or r > y:size(3) or c > y:size(4) then return nil end
    local done = (g.channel - 1) * y:size(3) * y:size(4) + (r - 1) * y:size(4) + c
    if done >= st.step then return nil end
    return y:get(1, g.channel, r, c)
  end, what .. " output")
  return n
end

test("cell labels with one decimal are never rounded into another number", function()
  math.randomseed(7)
  local checked = 0
  for _, sz in ipairs(SIZES) do
    for _, shape in ipairs{{1, 5, 5}, {2, 6, 6}, {1, 9, 9}} do
      local C, H, W = shape[1], shape[2], shape[3]
      local x = tensor.new(one_decimal(C * H * W)):reshape(1, C, H, W)
      local w = tensor.new(one_decimal(2 * C * 9)):reshape(2, C, 3, 3) / 10
      checked = checked + check_view(x, w, {}, sz[1], sz[2],
                                     string.format("%dx%d %dx%dx%d", sz[1], sz[2], C, H, W))
    end
  end
  check(checked > 200, "too few labels checked: " .. checked)
end)

test("random values: every digit label is faithful or an ellipsis", function()
  tensor.manual_seed(3)
  local checked = 0
  for _, sz in ipairs(SIZES) do
    local x = tensor.randn(1, 2, 7, 7) * 10
    local w = tensor.randn(3, 2, 3, 3)
    checked = checked + check_view(x, w, {stride = 2}, sz[1], sz[2],
                                   string.format("%dx%d random", sz[1], sz[2]))
  end
  check(checked > 50, "too few labels checked: " .. checked)
end)

test("the tap list goes to two columns when that lets the cells show values", function()
  local x = tensor.new{{-0.1, -4.5, 3.6, 8.1, 3.7}, {-4.0, -0.7, -9.9, -16.9, 14.7},
                       {1.9, -7.4, -8.0, 6.5, 8.6}, {-9.0, 8.3, 6.4, 13.6, -3.6},
                       {-1.4, 2.2, -10.1, 11.1, 6.4}}:reshape(1, 1, 5, 5)
  local v = viz.conv2d(x, tensor.ones(1, 1, 3, 3), {padding = 1, stride = 2})
  v:seek(4)
  local lay = v:layout{width = 1024, height = 640}
  local shown = {}
  for _, b in ipairs(lay) do
    if b.kind == "label" then shown[b.text] = true end
  end
  for _, t in ipairs{"-4.5", "-0.7", "-0.1", "14.7", "-7.4"} do
    check(shown[t], "cell value " .. t .. " not shown at 1024x640")
  end
end)

test("the channel being computed is among the grids drawn, at every size", function()
  local x = tensor.arange(8 * 32 * 32):reshape(1, 8, 32, 32) / 1000
  local v = viz.conv2d(x, tensor.ones(8, 4, 3, 3), {groups = 2, stride = 2, padding = 1})
  for _, step in ipairs{1, 5 * 256 + 100, 2048} do
    v:seek(step)
    local out = v:state().out
    for _, sz in ipairs(SIZES) do
      local lay = v:layout{width = sz[1], height = sz[2]}
      local seen = false
      for _, g in ipairs(lay.output) do seen = seen or g.channel == out[2] end
      check(seen, string.format("step %d at %dx%d: output channel %d not drawn",
                                step, sz[1], sz[2], out[2]))
      -- the input grids drawn belong to the current output's group
      local grp = (out[2] - 1) // 4
      for _, g in ipairs(lay.input) do
        check((g.channel - 1) // 4 == grp, string.format(
          "step %d at %dx%d: input channel %d is not in group %d", step,
          sz[1], sz[2], g.channel, grp + 1))
      end
    end
  end
end)

test("tap lines fit their column without being cut, and no factor reads 0", function()
  tensor.manual_seed(1)
  local x = tensor.randn(1, 2, 3, 3) * 10
  local w = tensor.randn(2, 3, 3, 3)
  w:set(2, 3, 1, 2, -0.022) -- a small negative factor
  local v = viz.conv_transpose2d(x, w, {stride = 2, padding = 1, output_padding = 1})
  for _, step in ipairs{1, 10, 18} do
    v:seek(step)
    for _, sz in ipairs{{1366, 768}, {1920, 1080}} do
      local lay = v:layout{width = sz[1], height = sz[2]}
      for _, b in ipairs(lay) do
        if b.kind == "text" and b.text and b.text:match("^y%[") then
          check(not b.text:find("…", 1, true), string.format(
            "step %d at %dx%d: tap line cut: %s", step, sz[1], sz[2], b.text))
          check(not b.text:find("×%(0%)") and not b.text:find("×0 "),
                "a factor reads 0: " .. b.text)
        end
      end
    end
  end
end)

test("a wide input is stacked over the kernel and output when that grows the cells", function()
  tensor.manual_seed(3)
  local v = viz.conv2d(tensor.randn(1, 1, 6, 40), tensor.randn(1, 1, 3, 3), {padding = 1})
  v:seek(20)
  local lay = v:layout{width = 1280, height = 720}
  local gi, go = lay.input[1], lay.output[1]
  -- side by side the three panels shared 1280 px: 12 px cells for both
  check(gi.cell >= 14 and go.cell >= 20, string.format(
    "cells input %d, output %d", gi.cell, go.cell))
  check(go.y > gi.y + gi.rows * gi.cell, "the output is below the input")
  -- a square problem stays side by side
  local sq = viz.conv2d(tensor.randn(1, 1, 6, 6), tensor.randn(1, 1, 3, 3), {padding = 1})
  local l2 = sq:layout{width = 1280, height = 720}
  check(l2.output[1].y == l2.input[1].y, "a square problem is side by side")
end)

test("the output-size formula always shows its result, at every size", function()
  local views = {
    viz.conv_transpose2d(tensor.arange(16):reshape(1, 1, 4, 4) + 1,
                         (tensor.arange(16) + 1):reshape(1, 1, 4, 4),
                         {stride = 2, padding = 1, by = "tap"}),
    viz.conv2d(tensor.randn(1, 2, 9, 13), tensor.randn(3, 2, 3, 3),
               {stride = 2, padding = 1, dilation = 2}),
    viz.avg_pool2d(tensor.arange(25):reshape(1, 1, 5, 5), 2,
                   {padding = 1, ceil_mode = true, count_include_pad = false}),
  }
  for vi, v in ipairs(views) do
    local shape = v:state().out_shape or v:output():shape()
    local oh, ow = shape[#shape - 1], shape[#shape]
    for _, sz in ipairs(SIZES) do
      local lay = v:layout{width = sz[1], height = sz[2]}
      -- the formula's lines: the rule "H_out = ...", its numbers "= ..."
      local found = {}
      local dim
      for _, b in ipairs(lay) do
        local t = b.text or ""
        local d = t:match("^([HW])_out =")
        if d then dim = d end
        if dim and (d or t:match("^= ")) then
          local r = t:gsub(" +%(%a.*$", ""):match("= (%d+)$")
          if r then found[dim] = tonumber(r) end
        end
      end
      local what = string.format("view %d at %dx%d", vi, sz[1], sz[2])
      check(found.H == oh, what .. ": H_out's result not shown")
      check(found.W == ow, what .. ": W_out's result not shown")
    end
  end
end)

test("whole numbers read as themselves: the tour's digits say which taps hit a cell", function()
  local x = (tensor.arange(9) + 1):reshape(1, 1, 3, 3)
  local w = tensor.new{{1, 10}, {100, 1000}}:reshape(1, 1, 2, 2)
  local v = viz.conv2d(x, w, {padding = 1})
  v:seek(v:state().steps)
  local y = conv.conv2d(x, w, {padding = 1})
  for _, sz in ipairs{{1280, 720}, {1920, 1080}} do
    local lay = v:layout{width = sz[1], height = sz[2]}
    local seen = 0
    for _, b in ipairs(lay) do
      if b.kind == "label" and tonumber(b.text) and tonumber(b.text) >= 1000 then
        seen = seen + 1
        check(b.text:match("^%d+$"), "a whole number in exponent or decimal form: " .. b.text)
      end
    end
    check(seen >= 5, string.format("%dx%d: only %d four-digit cells", sz[1], sz[2], seen))
  end
  check(y:get(1, 1, 2, 2) == 5421, "the cell the tour talks about")
end)
