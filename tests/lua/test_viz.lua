-- test_viz.lua: the step-through views (state, numbers, formula, pixels).
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_viz.lua
local tmp = os.getenv("TMPDIR") or "/tmp"
local function tmpfile(name)
  return string.format("%s/convplay-viz-%d-%s", tmp, math.random(1, 1 << 30), name)
end
math.randomseed(1234)
tensor.manual_seed(99)

local function rint(lo, hi) return math.random(lo, hi) end

-- Step through every output cell of v; at each, state.sum and state.value
-- must equal y at state.out.
local function check_all_cells(v, y, tol, what)
  local s = v:state()
  v:seek(1)
  for step = 1, s.steps do
    local st = v:state()
    check(st.step == step, what .. ": step " .. st.step .. " ~= " .. step)
    local o = st.out
    local want = y:get(o[1], o[2], o[3], o[4])
    near(st.value, want, tol, what .. " value at step " .. step)
    if st.sum then near(st.sum, want, tol, what .. " sum at step " .. step) end
    v:step()
  end
end

-- ---------------------------------------------------------------------------
test("viz.conv2d state: SEMANTICS §1 example, padding 1", function()
  local x = tensor.new{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}:reshape(1, 1, 3, 3)
  local w = tensor.new{{1, 10}, {100, 1000}}:reshape(1, 1, 2, 2)
  local v = viz.conv2d(x, w, {padding = 1})
  local s = v:state()
  check(s.step == 1 and s.steps == 16, "16 output cells")
  check(s.out[1] == 1 and s.out[2] == 1 and s.out[3] == 1 and s.out[4] == 1)
  check(#s.taps == 4, "4 taps")
  near(s.value, 1000)
  -- tap 1 of output (1,1) is padding; tap 4 reads x[1,1,1,1] = 1
  check(s.taps[1].kind == "padding" and s.taps[1].input == nil)
  check(s.taps[4].kind == "input" and s.taps[4].input[3] == 1)
  near(s.taps[4].x, 1); near(s.taps[4].w, 1000); near(s.taps[4].product, 1000)
  v:step(5) -- output (2,2): 5421
  s = v:state()
  check(s.out[3] == 2 and s.out[4] == 2)
  near(s.value, 5421); near(s.sum, 5421)
  v:step(-100)
  check(v:state().step == 1, "step clamps at 1")
  v:step(1000)
  check(v:state().step == 16, "step clamps at the end")
end)

test("viz.conv2d tap mode: running sums, backwards", function()
  local x = tensor.arange(25):reshape(1, 1, 5, 5)
  local w = tensor.new{{1, 10}, {100, 1000}}:reshape(1, 1, 2, 2)
  local v = viz.conv2d(x, w, {stride = 2, dilation = 2, bias = {0.5}, by = "tap"})
  local s = v:state()
  check(s.steps == 4 * 4, "4 cells x 4 taps")
  check(s.tap == 1 and s.taps[1].done and not s.taps[2].done)
  near(s.sum, 0.5 + 0 * 1)
  v:step(); near(v:state().sum, 0.5 + 2 * 10)
  v:step(); near(v:state().sum, 0.5 + 20 + 10 * 100)
  v:step(); s = v:state(); near(s.sum, 13020.5); near(s.value, 13020.5)
  v:step(); s = v:state()
  check(s.out[4] == 2 and s.tap == 1, "next output cell")
  v:step(-1); check(v:state().tap == 4, "back one tap")
  v:mode("cell"); check(v:state().steps == 4)
  v:seek(-1); near(v:state().value, 26352.5)
end)

test("viz.conv2d: sums equal conv.conv2d at every output cell (random)", function()
  local modes = {"zeros", "reflect", "replicate", "circular"}
  local ran = 0
  for it = 1, 40 do
    local G = rint(1, 2)
    local Cg, Og = rint(1, 2), rint(1, 2)
    local H, W = rint(3, 7), rint(3, 7)
    local opts = {stride = {rint(1, 3), rint(1, 2)}, dilation = {rint(1, 2), rint(1, 2)},
                  padding = {rint(0, 2), rint(0, 2)}, groups = G,
                  padding_mode = modes[rint(1, 4)]}
    if it % 2 == 0 then opts.bias = tensor.randn(G * Og) end
    local x = tensor.randn(rint(1, 2), G * Cg, H, W)
    local w = tensor.randn(G * Og, Cg, rint(1, 3), rint(1, 3))
    local ok, y = pcall(conv.conv2d, x, w, opts)
    if ok then
      ran = ran + 1
      local v = viz.conv2d(x, w, opts)
      check_all_cells(v, y, 1e-5, "case " .. it)
    else
      -- the view refuses exactly what conv.conv2d refuses
      local vok = pcall(viz.conv2d, x, w, opts)
      check(not vok, "case " .. it .. ": view accepted an invalid problem")
    end
  end
  check(ran >= 20, "too few valid random cases: " .. ran)
end)

test("viz.conv_transpose2d: both views give conv_transpose2d's numbers", function()
  local ran = 0
  for it = 1, 30 do
    local G = rint(1, 2)
    local Cg, Og = rint(1, 2), rint(1, 2)
    local s, d = rint(1, 3), rint(1, 2)
    local opts = {stride = s, dilation = d, padding = rint(0, 2),
                  output_padding = rint(0, 1), groups = G}
    if it % 2 == 1 then opts.bias = tensor.randn(G * Og) end
    local x = tensor.randn(1, G * Cg, rint(1, 4), rint(1, 4))
    local w = tensor.randn(G * Cg, Og, rint(1, 3), rint(1, 3))
    local ok, y = pcall(conv.conv_transpose2d, x, w, opts)
    if ok then
      ran = ran + 1
      opts.view = "gather"
      local v = viz.conv_transpose2d(x, w, opts)
      check(v:state().view == "gather")
      check_all_cells(v, y, 1e-4, "gather " .. it)
      -- scatter: the final canvas is the output; every landed tap's running
      -- sum at the last step of its pixel matches the canvas so far
      v:view("scatter")
      check(v:state().view == "scatter")
      same_tensor(v:output(), y:totable(), 1e-5)
      v:seek(-1)
      local st = v:state()
      for _, t in ipairs(st.taps) do
        check(t.kind == "output" or t.kind == "cropped")
      end
    end
  end
  check(ran >= 15, "too few valid random cases: " .. ran)
end)

test("viz.conv_transpose2d scatter: SEMANTICS §3 8x8 example", function()
  local x = tensor.ones(1, 1, 4, 4)
  local w = (tensor.arange(16) + 1):reshape(1, 1, 4, 4)
  local v = viz.conv_transpose2d(x, w, {stride = 2, padding = 1, view = "scatter"})
  local s = v:state()
  check(s.steps == 16 and #s.taps == 16, "16 pixels, 16 taps each")
  check(s.input[3] == 1 and s.input[4] == 1)
  -- pixel (1,1), tap (1,1) lands at (-1,-1): cropped by the padding
  check(s.taps[1].kind == "cropped")
  check(s.taps[6].kind == "output" and s.taps[6].out[3] == 1 and s.taps[6].out[4] == 1)
  local y = v:output()
  near(y:get(1, 1, 1, 1), 6); near(y:get(1, 1, 2, 2), 24); near(y:get(1, 1, 8, 8), 11)
  -- the last pixel's last product completes output (8,8): sum = value
  v:seek(-1)
  s = v:state()
  check(s.out[3] == 8 and s.out[4] == 8, table.concat(s.out, ","))
  near(s.sum, 11); near(s.value, 11)
  v:seek(1)
  v:view("gather"); v:seek(10) -- output (2,2): 24
  s = v:state(); check(s.out[3] == 2 and s.out[4] == 2); near(s.sum, 24)
  local holes, pads = 0, 0
  for _, t in ipairs(s.taps) do
    if t.kind == "hole" then holes = holes + 1 end
    if t.kind == "padding" then pads = pads + 1 end
  end
  check(holes > 0 and pads > 0, "gather shows holes and border padding")
end)

test("viz.conv2d masks, partial convolution, flip", function()
  local x = tensor.arange(16):reshape(1, 1, 4, 4)
  local w = tensor.ones(1, 1, 2, 2)
  local m = tensor.new{{1, 1, 1, 0}, {1, 0, 1, 1}, {1, 1, 0, 1}, {0, 1, 1, 1}}:reshape(1, 1, 4, 4)
  local v = viz.conv2d(x, w, {stride = 2, mask = m})
  check_all_cells(v, conv.conv2d(x * m, w, {stride = 2}), 1e-6, "input mask")
  local yp, nm = conv.partial_conv2d(x, m, w, {stride = 2, bias = {1}})
  v = viz.conv2d(x, w, {stride = 2, mask = m, partial = true, bias = {1}})
  for step = 1, 4 do
    v:seek(step)
    local s = v:state()
    near(s.value, yp:get(table.unpack(s.out)), 1e-5)
    near(s.sum, s.raw)   -- the running sum is the raw (masked) sum
  end
  v:seek(1)
  local s = v:state()
  near(s.mask_sum, 3); near(s.ratio, 4 / 3, 1e-6); near(s.new_mask, nm:get(1, 1, 1, 1))
  -- kernel mask = conv with w * M
  local xk, wk = tensor.randn(1, 2, 5, 5), tensor.randn(3, 2, 3, 3)
  local M = tensor.new{{1, 1, 0}, {1, 1, 1}, {0, 1, 1}}
  v = viz.conv2d(xk, wk, {kernel_mask = M, padding = 1})
  check_all_cells(v, conv.conv2d(xk, wk * M:reshape(1, 1, 3, 3), {padding = 1}), 1e-5, "kernel mask")
  -- flip = true convolution = conv.convolve2d
  v = viz.conv2d(xk, wk, {flip = true})
  check_all_cells(v, conv.convolve2d(xk, wk), 1e-5, "flip")
  v:set{flip = false}
  check_all_cells(v, conv.conv2d(xk, wk), 1e-5, "flip toggled back")
end)

test("formula text matches conv.output_size, live", function()
  local x, w = tensor.randn(1, 1, 7, 9), tensor.randn(1, 1, 3, 2)
  local v = viz.conv2d(x, w, {stride = 2, padding = 1})
  local function last(s) return tonumber(s:match("= (%-?%d+)[^=]*$")) end
  local function agree(opts)
    local h, wd = conv.output_size({7, 9}, {3, 2}, opts)
    local f = v:state().formula
    check(last(f.h) == h, f.h .. " vs " .. h)
    check(last(f.w) == wd, f.w .. " vs " .. wd)
    check(v:state().output_shape[3] == h)
  end
  agree{stride = 2, padding = 1}
  v:key("s") ; agree{stride = 3, padding = 1}
  v:key("p") ; agree{stride = 3, padding = 2}
  v:key("d") ; agree{stride = 3, padding = 2, dilation = 2}
  v:key("S") ; agree{stride = 2, padding = 2, dilation = 2}
  check(v:state().formula.h:find("⌊", 1, true), "floor brackets shown")
  local vt = viz.conv_transpose2d(tensor.randn(1, 1, 4, 4), tensor.randn(1, 1, 3, 3),
                                  {stride = 2, padding = 1})
  local f = vt:state().formula
  check(last(f.h) == conv.output_size(4, 3, {stride = 2, padding = 1, transposed = true}))
  vt:key("o")
  f = vt:state().formula
  check(last(f.h) == 8, f.h)
end)

test("keys: an invalid combination shows the error, the view recovers", function()
  local x, w = tensor.randn(1, 1, 4, 4), tensor.randn(1, 1, 3, 3)
  local v = viz.conv_transpose2d(x, w, {stride = 2})
  v:key("o"); check(v:state().error == nil)
  v:key("o")                       -- output_padding 2 >= stride 2
  local s = v:state()
  check(s.error and s.error:find("output padding must be smaller", 1, true), tostring(s.error))
  check(s.steps == 0)
  local png = tmpfile("err.png")
  v:screenshot(png)                -- draws the message instead of crashing
  local img = image.load(png)
  local red = 0
  for yy = 140, 320, 4 do
    for xx = 560, 1200, 8 do
      if img:get(1, yy, xx) > 0.9 and img:get(2, yy, xx) < 0.5 then red = red + 1 end
    end
  end
  os.remove(png)
  check(red > 5, "error text drawn in red: " .. red)
  v:key("O")
  check(v:state().error == nil and v:state().steps > 0, "recovered")
  local ok, msg = v:set{padding = 9}
  check(ok == false and msg:find("too small"), tostring(msg))
  check(v:set{padding = 1} == true)
  -- reflect padding beyond the input size
  local vc = viz.conv2d(x, w, {padding = 1, padding_mode = "reflect"})
  for _ = 1, 3 do vc:key("p") end
  check(vc:state().error:find("Padding size should be less", 1, true))
  vc:key("m")                      -- replicate: any padding is fine
  check(vc:state().params.padding_mode == "replicate" and vc:state().error == nil)
  vc:key("p") ; vc:key("m")        -- circular with p = 5 > 4 wraps twice
  check(vc:state().error:find("wrapping around more than once", 1, true))
end)

-- Pixels: where a cell is drawn, from v:layout().
local function cell_px(g, r, c)
  return g.x + (c - g.col0) * g.cell, g.y + (r - g.row0) * g.cell
end
-- Is the frame of cell (r, c) drawn in the footprint colour (255,196,0)?
local function accent_at(img, g, r, c)
  local x0, y0 = cell_px(g, r, c)
  local hits = 0
  for k = 1, g.cell - 2, 3 do
    local px, py = x0 + k + 1, y0 + 1  -- top edge (image is 1-based)
    if math.abs(img:get(1, py, px) - 1) < 0.02 and math.abs(img:get(2, py, px) - 196 / 255) < 0.05
       and img:get(3, py, px) < 0.05 then
      hits = hits + 1
    end
  end
  return hits >= 3
end

test("screenshot: the footprint highlight moves as you step", function()
  local x = tensor.randn(1, 1, 6, 6)
  local w = tensor.randn(1, 1, 3, 3)
  local v = viz.conv2d(x, w, {padding = 1, stride = 2})
  local png = tmpfile("fp.png")
  v:screenshot(png)
  local g = v:layout().input[1]
  check(g.row0 == 0 and g.col0 == 0 and g.rows == 8, "padding ring drawn")
  local img = image.load(png)
  check(img:shape()[1] == 3 and img:shape()[2] == 720 and img:shape()[3] == 1280)
  -- output (1,1) with padding 1: taps at rows/cols 0..2 (1-based; 0 = pad)
  check(accent_at(img, g, 0, 0) and accent_at(img, g, 2, 2), "footprint at step 1")
  check(not accent_at(img, g, 0, 3) and not accent_at(img, g, 4, 4))
  v:step()          -- output (1,2): cols 2..4
  v:screenshot(png)
  img = image.load(png)
  check(accent_at(img, g, 0, 4) and accent_at(img, g, 2, 4), "footprint moved right")
  check(not accent_at(img, g, 0, 0), "left column no longer highlighted")
  -- the current output cell is outlined in green (0,220,140)
  local go = v:layout().output[1]
  local ox, oy = cell_px(go, 1, 2)
  check(img:get(2, oy + 1, ox + go.cell // 2) > 0.8 and img:get(1, oy + 1, ox + go.cell // 2) < 0.1,
        "current output cell outlined")
  os.remove(png)
end)

test("hover: output cell -> receptive field, input cell -> outputs it feeds", function()
  local v = viz.conv2d(tensor.randn(1, 1, 6, 6), tensor.randn(1, 1, 3, 3))
  local lay = v:layout()
  local go, gi = lay.output[1], lay.input[1]
  local x, y = cell_px(go, 2, 3)
  local what, idx = v:mouse(x + 3, y + 3)
  check(what == "output" and idx[3] == 2 and idx[4] == 3, what)
  local png = tmpfile("hover.png")
  v:screenshot(png)
  local img = image.load(png)
  local function magenta(g, r, c)
    local px, py = cell_px(g, r, c)
    return img:get(1, py + 1, px + g.cell // 2) > 0.95 and img:get(2, py + 1, px + g.cell // 2) < 0.05
  end
  check(magenta(gi, 2, 3) and magenta(gi, 4, 5), "receptive field rows 2-4, cols 3-5")
  check(not magenta(gi, 1, 1))
  x, y = cell_px(gi, 1, 1)
  what, idx = v:mouse(x + 3, y + 3)
  check(what == "input" and idx[3] == 1 and idx[4] == 1)
  v:screenshot(png)
  img = image.load(png)
  check(magenta(go, 1, 1) and not magenta(go, 2, 2), "input (1,1) feeds only output (1,1)")
  os.remove(png)
  -- a click on an output cell jumps to its step
  x, y = cell_px(go, 3, 2)
  check(v:click(x + 2, y + 2) == 2 * 4 + 2, "clicked output (3,2) of a 4x4 output")
  local s = v:state()
  check(s.out[3] == 3 and s.out[4] == 2)
end)

test("record: an animated GIF of the whole step-through", function()
  local v = viz.conv2d(tensor.randn(1, 1, 4, 4), tensor.randn(1, 1, 2, 2))
  local gif = tmpfile("rec.gif")
  local frames = v:record(gif, {fps = 5})
  check(frames == 9, "one frame per output cell: " .. frames)
  local f = assert(io.open(gif, "rb"))
  local data = f:read("a")
  f:close()
  os.remove(gif)
  check(data:sub(1, 6) == "GIF89a", "GIF header")
  check(data:find("NETSCAPE2.0", 1, true), "loops")
  check(v:state().step == 1, "recording restores the step")
  frames = v:record(gif, {by = "tap", max_frames = 10})
  os.remove(gif)
  check(frames <= 11 and frames >= 10, "frames capped: " .. frames)
end)

test("viz.show, drawing API, viz.run headless", function()
  local png = tmpfile("show.png")
  local s = viz.show{input = tensor.randn(2, 3, 3), kernel = tensor.ones(3, 3),
                     mask = tensor.new{{1, 0}, {0, 1}}, title = "static"}
  s:screenshot(png)
  local img = image.load(png)
  check(img:shape()[3] == 1280)
  os.remove(png)
  raises(function() s:step() end, "not a step-through view")
  viz.clear()
  viz.rect(10, 10, 50, 40, {255, 0, 0})
  viz.text("hello", 100, 10, {size = 20, color = {0, 255, 0}})
  viz.grid(tensor.new{{1, -1}, {0, 2}}, 200, 10, {cell = 30})
  viz.screenshot(png)
  img = image.load(png)
  near(img:get(1, 20, 20), 1); near(img:get(2, 20, 20), 0)
  os.remove(png)
  check(viz.headless == true)
  viz.run(viz.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 2, 2))) -- returns at once
end)

test("viz.show draws tensors with a 0-sized dimension", function()
  -- laying out the tiles of an empty grid divided by zero (SIGFPE)
  local png = tmpfile("show_empty.png")
  for _, t in ipairs({tensor.zeros(2, 0), tensor.zeros(0, 3), tensor.zeros(0),
                      tensor.zeros(2, 0, 3, 3)}) do
    viz.show{input = t, output = tensor.ones(3, 3)}:screenshot(png)
    check(image.load(png):size(3) == 1280)
  end
  os.remove(png)
end)

test("bad arguments name the function, argument and reason", function()
  local x, w = tensor.ones(1, 1, 4, 4), tensor.ones(1, 1, 3, 3)
  raises(function() viz.conv2d(x) end, "bad argument #2")
  raises(function() viz.conv2d(x, w, {strides = 2}) end, "viz.conv2d", "unknown option 'strides'")
  raises(function() viz.conv2d(x, w, {stride = 0}) end, "viz.conv2d", "stride")
  raises(function() viz.conv2d(x, tensor.ones(1, 2, 3, 3)) end, "viz.conv2d", "channels")
  raises(function() viz.conv2d(x, w, {mask = tensor.ones(3, 3)}) end, "viz.conv2d", "mask")
  raises(function() viz.conv2d(x, w, {kernel_mask = tensor.ones(2, 2)}) end, "kernel_mask")
  raises(function() viz.conv2d(x, w, {by = "row"}) end, "opts.by")
  raises(function() viz.conv_transpose2d(x, w, {view = "both"}) end, "viz.conv_transpose2d", "opts.view")
  raises(function() viz.conv_transpose2d(x, w, {padding = 4}) end, "viz.conv_transpose2d", "too small")
  raises(function() viz.conv2d(x, w):view("scatter") end, "transposed")
  raises(function() viz.run(42) end, "bad argument #1")
  local v = viz.conv2d(x, w)
  raises(function() v:mode("row") end, "tap")
  v:close()
  raises(function() v:step() end, "closed")
end)

test("large tensors: 64x64 renders, labels hide, zoom works", function()
  local x, w = tensor.randn(1, 1, 64, 64), tensor.randn(1, 1, 3, 3)
  local v = viz.conv2d(x, w, {padding = 1})
  local g = v:layout().input[1]
  check(g.cell >= 2 and g.cell < 12, "small cells: " .. g.cell)
  v:key("+"); v:key("+")
  local png = tmpfile("big.png")
  v:screenshot(png)
  os.remove(png)
  check(v:layout().input[1].cell > g.cell, "zoomed in")
  v:key("0")
  v:seek(4096)
  near(v:state().value, conv.conv2d(x, w, {padding = 1}):get(1, 1, 64, 64), 1e-5)
end)

test("the tour builds every page headless, and each renders", function()
  local pages = dofile("../../scripts/tour.lua")
  check(#pages >= 10, "pages: " .. #pages)
  local png = tmpfile("tour.png")
  for i, v in ipairs(pages) do
    if v:state().steps then v:step(2) end -- (a viz.stack page has no steps)
    v:screenshot(png)
    check(v:state().error == nil, "page " .. i .. ": " .. tostring(v:state().error))
  end
  os.remove(png)
  check(pages[1]:title():find("conv2d"), pages[1]:title())
end)

test("empty problems: a view with nothing to step through", function()
  local v = viz.conv2d(tensor.zeros(0, 1, 4, 4), tensor.ones(1, 1, 3, 3))
  local s = v:state()
  check(s.steps == 0 and s.error == nil and s.output_shape[1] == 0)
  local png = tmpfile("empty.png")
  v:screenshot(png)
  os.remove(png)
  raises(function() v:record(png) end, "nothing to record")
end)

test("masks on transposed views, multi-channel partial convolution", function()
  local x, w = tensor.randn(1, 2, 3, 3), tensor.randn(2, 2, 3, 3)
  local m = tensor.new{{1, 0, 1}, {1, 1, 0}, {0, 1, 1}}
  local M = tensor.new{{1, 1, 0}, {0, 1, 1}, {1, 0, 1}}
  local want = conv.conv_transpose2d(x * m, w * M:reshape(1, 1, 3, 3), {stride = 2, padding = 1})
  for _, view in ipairs{"gather", "scatter"} do
    local v = viz.conv_transpose2d(x, w, {stride = 2, padding = 1, mask = m,
                                          kernel_mask = M, view = view})
    same_tensor(v:output(), want:totable(), 1e-5)
    if view == "gather" then check_all_cells(v, want, 1e-5, "masked gather") end
  end
  -- partial convolution with a mask per input channel
  local xm = tensor.randn(1, 2, 5, 5)
  local mm = tensor.rand(1, 2, 5, 5)
  mm = ((mm - 0.4) * 1e6):clamp(0, 1)   -- a random 0/1 mask
  local wm = tensor.randn(3, 2, 3, 3)
  local yp = conv.partial_conv2d(xm, mm, wm, {padding = 1, multi_channel = true, bias = {0.1, 0.2, 0.3}})
  local v = viz.conv2d(xm, wm, {padding = 1, mask = mm, partial = true, multi_channel = true,
                                bias = {0.1, 0.2, 0.3}})
  for step = 1, v:state().steps do
    v:seek(step)
    local s = v:state()
    near(s.value, yp:get(table.unpack(s.out)), 1e-4, "multi-channel partial at " .. step)
  end
end)

test("partial convolution with a soft mask, with and without bias, equals conv.partial_conv2d", function()
  local x = tensor.randn(1, 2, 5, 5)
  local m = tensor.rand(1, 1, 5, 5) * 0.8          -- soft: window sums between 0 and 1 occur
  m:set(1, 1, 1, 1, 0); m:set(1, 1, 1, 2, 0.05)
  local w = tensor.randn(3, 2, 2, 2)
  for _, bias in ipairs{false, true} do
    local opts = {padding = 1, bias = bias and tensor.randn(3) or nil}
    local y = conv.partial_conv2d(x, m, w, opts)
    local v = viz.conv2d(x, w, {padding = 1, mask = m, partial = true, bias = opts.bias})
    for step = 1, v:state().steps do   -- (state.sum is the raw masked sum here)
      v:seek(step)
      local s = v:state()
      near(s.value, y:get(table.unpack(s.out)), 1e-5, "partial value at step " .. step)
    end
  end
end)

test("step and seek saturate at huge counts", function()
  -- v.step + n overflowed int64 (UBSan) for v:step(math.maxinteger)
  local v = viz.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 2, 2))
  local n = v:state().steps
  check(v:step(math.maxinteger) == n)
  check(v:step(math.maxinteger) == n)
  check(v:step(math.mininteger) == 1)
  check(v:step(math.mininteger) == 1)
  check(v:seek(math.maxinteger) == n)
  check(v:seek(math.mininteger) == 1)
end)

test("a mask broadcast over rows or columns reads inside the mask", function()
  -- expand_mask indexed rows and columns of a (1, W) or (H, 1) mask as if
  -- it were full size: a heap over-read and wrong masked values
  local x = tensor.arange(9):reshape(1, 1, 3, 3)
  local w = tensor.ones(1, 1, 1, 1)
  for _, m in ipairs({tensor.new{{0}}, tensor.new{{1, 0, 1}},
                      tensor.new{{1}, {0}, {1}}, tensor.zeros(1, 1, 1)}) do
    local v = viz.conv2d(x, w, {mask = m})
    local want = conv.conv2d(x * m, w):reshape(-1):totable()
    for i = 1, #want do
      v:seek(i)
      near(v:state().value, want[i])
    end
  end
  raises(function() viz.conv2d(x, w, {kernel_mask = tensor.new(1)}) end,
         "viz.conv2d", "kernel_mask", "expected size [1, 1]")
end)

test("empty problems: switching to taps and an invalid key stay in bounds", function()
  -- with a zero batch, switching tap/cell set step -7, and a key that makes
  -- the problem invalid drew sample 1 of the empty input (heap over-read)
  local v = viz.conv_transpose2d(tensor.randn(0, 3, 2, 3), tensor.randn(3, 2, 2, 2))
  v:mode("tap")
  check(v:state().step == 1, "step " .. v:state().step)
  v:key("t", true)
  check(v:state().step == 1)
  v:key("o")                               -- output_padding 1 with stride 1
  check(v:state().error:find("output padding must be smaller", 1, true))
  local png = tmpfile("empty_err.png")
  v:screenshot(png)
  v:layout()
  os.remove(png)
end)
