-- test_viz_stack.lua: viz.stack, a stack of layers.  Shapes equal the real
-- ops' output shapes (conv.conv2d, conv_transpose2d, max_pool2d,
-- avg_pool2d on zeros); the receptive field of a hovered cell in every
-- earlier grid equals brute force (a one-hot input pushed through the real
-- ops with all-ones weights: an output cell is positive exactly when the
-- hot cell feeds it); unread rows, transposed sizes, errors, pages.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_viz_stack.lua
math.randomseed(1213)
local rint = math.random

-- The real op of a layer spec on x (1,1,H,W), all-ones weights.
local function run_layer(l, x)
  local k = l.kernel_size
  if l.op == "conv2d" then
    return conv.conv2d(x, tensor.ones(1, 1, k[1], k[2]),
                       {stride = l.stride, padding = l.padding, dilation = l.dilation})
  elseif l.op == "conv_transpose2d" then
    return conv.conv_transpose2d(x, tensor.ones(1, 1, k[1], k[2]),
                                 {stride = l.stride, padding = l.padding, dilation = l.dilation,
                                  output_padding = l.output_padding})
  elseif l.op == "max_pool2d" then
    return conv.max_pool2d(x, k, {stride = l.stride, padding = l.padding,
                                  dilation = l.dilation, ceil_mode = l.ceil_mode})
  else
    return conv.avg_pool2d(x, k, {stride = l.stride, padding = l.padding,
                                  ceil_mode = l.ceil_mode})
  end
end

local function pair() return {rint(1, 3), rint(1, 3)} end

-- A random layer spec (sizes as pairs) and the viz.stack table for it.
local function random_layer()
  local ops = {"conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d"}
  local op = ops[rint(1, 4)]
  local k = pair()
  local l = {op = op, kernel_size = k, stride = pair(), dilation = {1, 1},
             padding = {0, 0}}
  if op ~= "avg_pool2d" and rint(1, 2) == 1 then l.dilation = pair() end
  for d = 1, 2 do
    l.padding[d] = op:find("pool") and rint(0, k[d] // 2) or rint(0, 2)
  end
  if op == "conv_transpose2d" then
    l.output_padding = {rint(0, math.max(l.stride[1], l.dilation[1]) - 1),
                        rint(0, math.max(l.stride[2], l.dilation[2]) - 1)}
  end
  if op:find("pool") then l.ceil_mode = rint(1, 3) == 1 end
  return l
end

local function spec_for_viz(l)
  local t = {}
  for k, v in pairs(l) do t[k] = v end
  if l.op:find("conv") then -- a weight gives the kernel (and channels)
    t.kernel_size = nil
    t.weight = tensor.zeros(1, 1, l.kernel_size[1], l.kernel_size[2])
  end
  return t
end

-- A random valid stack (real ops accept it); returns layers, input size,
-- the shapes the real ops give.
local function random_stack()
  while true do
    local H, W = rint(3, 10), rint(3, 10)
    local layers, shapes = {}, {{H, W}}
    local x = tensor.zeros(1, 1, H, W)
    local ok = true
    for i = 1, rint(1, 4) do
      local l = random_layer()
      local good, y = pcall(run_layer, l, x)
      if not good then ok = false break end
      local s = y:shape()
      if s[3] > 14 or s[4] > 14 then ok = false break end
      layers[i] = l
      shapes[i + 1] = {s[3], s[4]}
      x = y
    end
    if ok then return layers, {H, W}, shapes end
  end
end

local function make(layers, input)
  local t = {input = input}
  for i, l in ipairs(layers) do t[i] = spec_for_viz(l) end
  return viz.stack(t)
end

local function grid_of(st, j) return j == 0 and st.input or st.layers[j] end

test("stack: shapes equal the real ops' output shapes (random stacks)", function()
  local n = 0
  for _ = 1, 60 do
    local layers, input, shapes = random_stack()
    local s = make(layers, input)
    local st = s:state()
    check(#st.layers == #layers)
    for j = 0, #layers do
      local sh = grid_of(st, j).shape
      local want = shapes[j + 1]
      check(sh[#sh - 1] == want[1] and sh[#sh] == want[2],
            string.format("grid %d: %dx%d, the op gives %dx%d", j, sh[#sh - 1], sh[#sh],
                          want[1], want[2]))
      n = n + 1
    end
  end
  check(n > 100, n)
end)

test("stack: stacks the real ops refuse are refused, naming the layer", function()
  local refused = 0
  for _ = 1, 300 do
    local H, W = rint(2, 6), rint(2, 6)
    local x, layers, bad = tensor.zeros(1, 1, H, W), {}, nil
    for i = 1, 3 do
      local l = random_layer()
      layers[i] = l
      local good, y = pcall(run_layer, l, x)
      if not good then bad = i break end
      x = y
    end
    if bad then
      local ok, msg = pcall(make, layers, {H, W})
      check(not ok, "viz.stack accepted a stack the op refuses at layer " .. bad)
      check(msg:find("viz.stack: layer " .. bad, 1, true), msg)
      refused = refused + 1
    end
  end
  check(refused > 20, refused)
end)

-- field[k] of hovered cell (j, r, c) by brute force: each cell of grid k,
-- one-hot, through layers k+1..j; the cell is in the field when (r, c) of
-- grid j comes out positive.
local function brute_field(layers, shapes, k, j, r, c)
  local rows, cols = {}, {}
  local H, W = shapes[k + 1][1], shapes[k + 1][2]
  for a = 1, H do
    for b = 1, W do
      local x = tensor.zeros(1, 1, H, W)
      x:set(1, 1, a, b, 1)
      for i = k + 1, j do x = run_layer(layers[i], x) end
      if x:get(1, 1, r, c) > 0 then rows[a] = true; cols[b] = true end
    end
  end
  return rows, cols
end

local function set_of(list)
  local t = {}
  for _, v in ipairs(list) do t[v] = true end
  return t
end

local function same_set(a, b, n)
  for i = 1, n do if (a[i] or false) ~= (b[i] or false) then return false end end
  return true
end

test("stack: receptive fields equal brute force through the real ops", function()
  local n = 0
  for _ = 1, 40 do
    local layers, input, shapes = random_stack()
    local s = make(layers, input)
    local j = rint(1, #layers)
    local r, c = rint(1, shapes[j + 1][1]), rint(1, shapes[j + 1][2])
    check(s:hover(j, r, c))
    local st = s:state()
    check(st.hover[1] == j and st.hover[2] == r and st.hover[3] == c)
    for k = 0, j do
      local f = grid_of(st, k).field
      check(f, "no field in grid " .. k)
      local br, bc = brute_field(layers, shapes, k, j, r, c)
      local any = next(br) ~= nil
      if any then -- a field that the product of sets describes exactly
        check(same_set(set_of(f.row_list), br, shapes[k + 1][1]),
              string.format("grid %d rows (hover %d,%d,%d)", k, j, r, c))
        check(same_set(set_of(f.col_list), bc, shapes[k + 1][2]),
              string.format("grid %d cols (hover %d,%d,%d)", k, j, r, c))
      else -- the cell reads only padding / the output_padding tail
        check(#f.row_list == 0 or #f.col_list == 0,
              string.format("grid %d: field not empty (hover %d,%d,%d)", k, j, r, c))
      end
      n = n + 1
    end
    -- later grids have no field
    for k = j + 1, #layers do check(grid_of(st, k).field == nil) end
  end
  check(n >= 60, n)
end)

test("stack: a dilated stack's field grows; known example", function()
  local w = tensor.zeros(1, 1, 3, 3)
  local s = viz.stack{input = {32, 32},
    {op = "conv2d", weight = w, dilation = 1, padding = 1},
    {op = "conv2d", weight = w, dilation = 2, padding = 2},
    {op = "conv2d", weight = w, dilation = 4, padding = 4}}
  s:hover(3, 16, 16)
  local st = s:state()
  local f = st.input.field
  check(f.rows[1] == 16 - 7 and f.rows[2] == 16 + 7, f.rows[1] .. ".." .. f.rows[2])
  check(#f.row_list == 15) -- 1 + 2 + 4 + 8 = 15 contiguous rows
  local f2 = st.layers[2].field -- after one layer back: dilation 4 taps
  check(#f2.row_list == 3 and f2.row_list[1] == 12 and f2.row_list[3] == 20)
  check(st.layers[1].formula_h == "H_out = ⌊(32 + 2·1 − 1·(3−1) − 1)/1⌋ + 1 = 32",
        st.layers[1].formula_h)
  local seen = false
  for _, b in ipairs(s:layout{width = 1280, height = 720}) do
    if b.text == "L3 (16, 16) sees input rows 9–23, columns 9–23 (15×15 cells read)" then
      seen = true
    end
  end
  check(seen, "the field's summary line is not drawn")
  s:hover()
  check(s:state().hover == nil and s:state().input.field == nil)
  check(s:hover(3, 33, 1) == false)
end)

test("stack: unread rows (floor division) and convT sizes", function()
  local s = viz.stack{input = {3, 8, 7},
    {op = "conv2d", weight = tensor.zeros(4, 3, 3, 3), stride = 2},
    {op = "conv_transpose2d", weight = tensor.zeros(4, 2, 3, 3), stride = 2,
     padding = 1, output_padding = 1}}
  local st = s:state()
  -- H 8, k3 s2: windows start 0,2,4 -> rows 1..7 read; row 8 dropped
  check(#st.input.unread.rows == 1 and st.input.unread.rows[1] == 8)
  check(#st.input.unread.cols == 0) -- W 7: 0,2,4 + 3 = 7
  check(st.layers[1].shape[1] == 4 and st.layers[1].shape[2] == 3)
  check(st.layers[2].shape[1] == 2 and st.layers[2].shape[2] == 6)
  local fs = st.layers[2].forward_sizes[1]
  -- conv2d(k3, s2, p1) maps 5 and 6 to 3
  check(#fs == 2 and fs[1].input == 5 and fs[1].output_padding == 0 and
        fs[2].input == 6 and fs[2].output_padding == 1)
  for _, f in ipairs(fs) do
    local y = conv.conv2d(tensor.zeros(1, 1, f.input, f.input), tensor.zeros(1, 1, 3, 3),
                          {stride = 2, padding = 1})
    check(y:shape()[3] == 3)
  end
end)

test("stack: errors name viz.stack, the layer and the reason", function()
  local w = tensor.zeros(8, 3, 3, 3)
  raises(function() viz.stack{input = {4, 4}, {op = "conv2d", weight = tensor.zeros(1, 1, 5, 5)}} end,
         "viz.stack: layer 1", "output height would be 0")
  raises(function() viz.stack{input = {3, 16, 16}, {op = "conv2d", weight = w},
                              {op = "conv2d", weight = w}} end,
         "viz.stack: layer 2", "channel mismatch", "expects 3 input channels", "gives 8")
  raises(function() viz.stack{input = {3, 16, 16}, {op = "conv2d", weight = tensor.zeros(3, 3)}} end,
         "viz.stack: layer 1", "weight must be 4-D")
  raises(function() viz.stack{input = {8, 8}, {op = "max_pool2d", kernel_size = 2},
                              {op = "conv_transpose2d", weight = tensor.zeros(1, 1, 3, 3),
                               stride = 2, output_padding = 2}} end,
         "viz.stack: layer 2", "output_padding 2 must be smaller")
  raises(function() viz.stack{input = {8, 8}, {op = "relu"}} end, "viz.stack: layer 1", "op must be")
  raises(function() viz.stack{input = {8, 8}, {op = "max_pool2d", kernel_size = 2, padding = 2}} end,
         "viz.stack: layer 1", "at most half")
  raises(function() viz.stack{input = {8, 8}, {op = "max_pool2d", kernel_size = 2, bogus = 1}} end,
         "viz.stack: layer 1", "unknown key 'bogus'")
  raises(function() viz.stack{input = {8, 8}} end, "viz.stack: no layers")
  raises(function() viz.stack{{op = "max_pool2d", kernel_size = 2}} end, "viz.stack", "input")
  raises(function() viz.stack{input = {8, 8}, {op = "max_pool2d", kernel_size = 2}, colour = 1} end,
         "viz.stack", "unknown option 'colour'")
  raises(function() viz.stack{input = {8, 8}, {op = "max_pool2d", kernel_size = 9}} end,
         "viz.stack: layer 1 (max_pool2d)")
end)

test("stack: screenshots (PNG, SVG, PDF), layout, tostring, tensor input", function()
  local s = viz.stack{input = tensor.zeros(1, 3, 20, 20), title = "t",
    {op = "conv2d", weight = tensor.zeros(4, 3, 3, 3), stride = 2, padding = 1},
    {op = "avg_pool2d", kernel_size = 2, ceil_mode = true}}
  check(tostring(s) == "viz stack (2 layers)")
  check(s:state().input.shape[1] == 3)
  local dir = os.tmpname()
  os.remove(dir)
  for _, ext in ipairs{"png", "svg", "pdf"} do
    local p = dir .. "." .. ext
    check(s:screenshot(p, {width = 640, height = 400}) == p)
    local f = io.open(p, "rb")
    check(f and f:read("a"):len() > 500, ext)
    f:close()
    os.remove(p)
  end
  local lay = s:layout{width = 800, height = 500}
  local found = false
  for _, b in ipairs(lay) do
    if b.text and b.text:find("H_out = W_out = ⌊(20 + 2·1", 1, true) then found = true end
  end
  check(found, "formula text not drawn")
  check(s:title("new") == "new")
  raises(function() s:step() end, "not a step-through view (viz.stack)")
end)

test("stack: the mouse hovers what the frame shows (as in the window)", function()
  local s = viz.stack{input = {12, 10},
    {op = "conv2d", kernel_size = 3, stride = 2},
    {op = "max_pool2d", kernel_size = 2}}
  -- a figure of another size leaves the hit test alone (the window's)
  local other = s:layout{width = 640, height = 400}
  local lay = s:layout() -- the page's own size: its grids are the hit test
  check(#lay.grids == 3 and other.grids[2].cell ~= lay.grids[2].cell)
  local g = lay.grids[2] -- layer 1's output, 5x4
  check(g.rows == 5 and g.cols == 4 and g.cell > 4)
  local j, r, c = s:mouse(g.x + 2.5 * g.cell, g.y + 1.5 * g.cell)
  check(j == 1 and r == 2 and c == 3, tostring(j) .. " " .. tostring(r) .. " " .. tostring(c))
  local f = s:state().input.field -- output (2, 3) of k3 s2 reads rows 3..5, cols 5..7
  check(f.rows[1] == 3 and f.rows[2] == 5 and f.cols[1] == 5 and f.cols[2] == 7)
  check(s:mouse(1, 1) == nil and s:state().hover == nil)
  local tmp = os.tmpname()
  s:screenshot(tmp, {width = 480, height = 320}) -- another size: no change
  os.remove(tmp)
  j, r, c = s:mouse(g.x + 2.5 * g.cell, g.y + 1.5 * g.cell)
  check(j == 1 and r == 2 and c == 3)
end)

test("viz.stack: many layers in a tall frame go to rows; grids inside, apart, cells larger", function()
  local layers = {input = {3, 12, 12}}
  for i = 1, 6 do layers[i] = {op = "conv2d", weight = tensor.ones(3, 3, 3, 3), padding = 1} end
  local s = viz.stack(layers)
  for _, sz in ipairs{{1280, 1440}, {1280, 720}, {480, 320}, {2560, 1440}} do
    local lay = s:layout{width = sz[1], height = sz[2]}
    local g = lay.grids
    check(#g == 7, "seven grids")
    for i, a in ipairs(g) do
      local w, h = a.cell * a.cols, a.cell * a.rows
      check(a.x >= 0 and a.y >= 0 and a.x + w <= sz[1] and a.y + h <= sz[2],
            string.format("%dx%d: grid %d outside the frame", sz[1], sz[2], i))
      for j = i + 1, #g do
        local b = g[j]
        local apart = a.x + w <= b.x or b.x + b.cell * b.cols <= a.x or
                      a.y + h <= b.y or b.y + b.cell * b.rows <= a.y
        check(apart, string.format("%dx%d: grids %d and %d overlap", sz[1], sz[2], i, j))
      end
    end
  end
  -- tall: rows give larger cells than one row of seven would (1280/7 px)
  local tall = s:layout{width = 1280, height = 1440}.grids
  check(tall[1].cell > (1280 - 48) / 7 / 12, "rows: cells " .. tall[1].cell)
  check(tall[7].y > tall[1].y, "the last grid is on a later row")
end)
