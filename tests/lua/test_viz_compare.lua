-- test_viz_compare.lua: correlation and convolution side by side
-- (viz.compare): both numbers at every step equal conv.conv2d's and
-- conv.convolve2d's; the differing cells counted; errors.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_viz_compare.lua
math.randomseed(2468)
tensor.manual_seed(13)

local function rint(lo, hi) return math.random(lo, hi) end

test("viz.compare: both results at every cell equal conv.conv2d and conv.convolve2d", function()
  for trial = 1, 10 do
    local G = rint(1, 2)
    local x = tensor.randn(rint(1, 2), G * rint(1, 2), rint(3, 6), rint(3, 6))
    local w = tensor.randn(G * rint(1, 2), x:size()[2] // G, rint(1, 3), rint(1, 3))
    local o = {stride = rint(1, 2), padding = rint(0, 1), dilation = rint(1, 2), groups = G,
               padding_mode = ({"zeros", "reflect"})[rint(1, 2)]}
    if o.dilation * (w:size()[3] - 1) >= x:size()[3] or o.dilation * (w:size()[4] - 1) >= x:size()[4] then
      o.dilation = 1
    end
    local y1 = conv.conv2d(x, w, o)
    local y2 = conv.convolve2d(x, w, o)
    local v = viz.compare(x, w, o)
    same_tensor(v:output(), y1:totable(), 1e-5)
    same_tensor(v:output("convolution"), y2:totable(), 1e-5)
    local differ = 0
    for s = 1, v:state().steps do
      v:seek(s)
      local st = v:state()
      local a, b = y1:get(table.unpack(st.out)), y2:get(table.unpack(st.out))
      near(st.value, a, 1e-5, "correlation")
      near(st.convolution.value, b, 1e-5, "convolution")
      near(st.convolution.sum, b, 1e-5, "convolution sum")
      if st.value ~= st.convolution.value then differ = differ + 1 end
      -- the convolution's tap k uses the kernel entry turned 180 degrees
      local kh, kw = w:size()[3], w:size()[4]
      for k, tp in ipairs(st.taps) do
        local f = st.convolution.kernel[k]
        check(f[3] == kh + 1 - tp.kernel[3] and f[4] == kw + 1 - tp.kernel[4], "flipped entry")
      end
    end
    check(v:state().differ == differ, "differ count " .. v:state().differ .. " vs " .. differ)
  end
end)

test("viz.compare: a kernel symmetric under the flip gives no difference", function()
  local x = tensor.randn(1, 1, 5, 5)
  local w = tensor.new{{1, 2, 1}, {2, 4, 2}, {1, 2, 1}}:reshape(1, 1, 3, 3)
  local v = viz.compare(x, w, {padding = 1})
  check(v:state().differ == 0)
  local found = false
  v:seek(-1)
  for _, b in ipairs(v:layout{width = 1280, height = 720}) do
    if b.text and b.text:find("0 of 25 output cells differ in all", 1, true) then found = true end
  end
  check(found, "the view says how many cells differ")
end)

test("viz.compare: errors", function()
  local x, w = tensor.randn(1, 1, 4, 4), tensor.randn(1, 1, 2, 2)
  raises(function() viz.compare(x) end, "viz.compare", "#2", "weight")
  raises(function() viz.compare(x, w, {flip = true}) end, "viz.compare", "flip")
  raises(function() viz.compare(x, w, {stride = 0}) end, "viz.compare", "stride")
  raises(function() viz.conv2d(x, w):output("convolution") end, "view:output", "compare view")
  local v = viz.compare(x, w)
  raises(function() v:output("both") end, "invalid option 'both'")
  check(not v:key("f") and v:state().status:find("at once", 1, true))
end)

test("v:set{flip} is refused by the backward, unfold and compare views", function()
  local x, w = tensor.randn(1, 1, 4, 4), tensor.randn(1, 1, 2, 2)
  raises(function() viz.compare(x, w):set{flip = true} end, "view:set", "compare view")
  raises(function() viz.unfold(x, w):set{flip = true} end, "view:set", "unfold view")
  raises(function() viz.conv2d_backward(x, w, tensor.randn(1, 1, 3, 3)):set{flip = true} end,
         "view:set", "backward view")
  -- stride through v:set on the unfold view: the picture follows
  local v = viz.unfold(x, w)
  check(v:set{stride = 2} and v:state().steps == 4)
end)

test("the new views' header chips are controls: a click on them switches the mode", function()
  local x, w = tensor.randn(1, 1, 4, 4), tensor.randn(1, 1, 2, 2)
  local function chip(v, key)
    for _, c in ipairs(v:layout{width = 1280, height = 720}.controls) do
      if c.key == key and c.kind == "chip" then return c end
    end
  end
  local v = viz.conv2d_backward(x, w, tensor.randn(1, 1, 3, 3))
  local c = chip(v, "g")
  check(c, "a gradient chip")
  v:click(c.x + c.w // 2, c.y + c.h // 2)
  check(v:grad() == "weight", v:grad())
  v:grad("input")
  c = chip(v, "v")
  check(c, "grad_input has the scatter/gather chip")
  v:click(c.x + c.w // 2, c.y + c.h // 2)
  check(v:view() == "gather")
  local u = viz.unfold(x, w)
  c = chip(u, "u")
  check(c, "an unfold chip")
  u:click(c.x + c.w // 2, c.y + c.h // 2)
  check(u:gemm() == "matrix", u:gemm())
end)

test("viz.compare: v:code() computes both, the convolution with the flipped kernel", function()
  local v = viz.compare(tensor.randn(1, 1, 4, 4), tensor.randn(1, 1, 3, 3), {padding = 1})
  local code = v:code()
  check(code:find("y = F.conv2d(x, w, None", 1, true), code)
  check(code:find("yc = F.conv2d(x, torch.flip(w, dims=[2, 3]), None", 1, true), code)
  check(code:find("print(yc)", 1, true), code)
  local k, ok = v:code("keras")
  check(ok == false and k:find("not expressible in Keras", 1, true))
end)

-- ---- colours, layers and the step in the figures --------------------------

-- the colour of the legend swatch left of the legend text `label` (its
-- frame's left edge, mid height), read from a screenshot
local function swatch(v, label, fig)
  local png = os.tmpname() .. ".png"
  v:screenshot(png, fig)
  local img = image.load(png)
  os.remove(png)
  for _, b in ipairs(v:layout(fig)) do
    if b.text == label then
      local sw = math.floor(b.h) - 4
      local px, py = math.floor(b.x) - 6 - sw, math.floor(b.y + 2 + sw / 2)
      return {img:get(1, py + 1, px + 1) * 255, img:get(2, py + 1, px + 1) * 255,
              img:get(3, py + 1, px + 1) * 255}
    end
  end
end

test("compare legend: 'correlation ≠ convolution' has a colour of its own", function()
  -- the review: differing cells outlined in the footprint's gold (F panel)
  -- and in a lavender the legend did not name (viz.compare)
  local x = tensor.arange(25):reshape(1, 1, 5, 5)
  local w = tensor.new{{-1, 2, 1}, {0, 1, 0}}:reshape(1, 1, 2, 3)
  local views = {viz.compare(x, w, {padding = 1}),
                 viz.conv2d(x, w, {compare = true, by = "tap"})}
  for vi, v in ipairs(views) do
    v:seek(8)
    for _, th in ipairs{"dark", "light"} do
      local fig = {width = 1366, height = 768, theme = th}
      local d = swatch(v, "correlation ≠ convolution", fig)
      check(d, vi .. " " .. th .. ": the legend names the differing cells' outline")
      for _, other in ipairs{"footprint: taps done", "this output", "under the pointer"} do
        local c = swatch(v, other, fig)
        check(c, other)
        local dist = math.max(math.abs(c[1] - d[1]), math.abs(c[2] - d[2]), math.abs(c[3] - d[3]))
        check(dist > 80, string.format("%d %s: differs %.0f,%.0f,%.0f too close to '%s' %.0f,%.0f,%.0f",
                                       vi, th, d[1], d[2], d[3], other, c[1], c[2], c[3]))
      end
    end
  end
  -- a plain conv2d view has no such entry
  local lay = viz.conv2d(x, w):layout{width = 1366, height = 768}
  for _, b in ipairs(lay) do check(b.text ~= "correlation ≠ convolution", "plain view") end
end)

test("compare panel (F): an overlay (layer 1) showing only what the step has computed", function()
  -- the review's frame: 2x2x3x3 over 1x2x6x6 by tap, step 40 = output
  -- cell 3 after 4 of its 18 taps; the panel showed all 16 final values,
  -- and was reported as layer 0 over the grids
  tensor.manual_seed(2)
  local x, w = tensor.randn(1, 2, 6, 6) * 10, tensor.randn(2, 2, 3, 3)
  local v = viz.conv2d(x, w, {compare = true, by = "tap"})
  v:seek(40)
  local st = v:state()
  check(st.out[3] == 1 and st.out[4] == 3, "cell (1, 3)")
  local corr = conv.conv2d(x, w)
  local lay = v:layout{width = 1366, height = 768, theme = "light"}
  local box, labels = nil, {}
  for _, b in ipairs(lay) do
    if b.kind == "panel" and b.name == "compare" then box = b end
    if box and b.kind == "label" then labels[#labels + 1] = b end
  end
  check(box and box.layer == 1, "the panel is an overlay")
  for _, b in ipairs(labels) do check(b.layer == 1, "its cells are in the overlay") end
  -- kernel and turned kernel (9 + 9), two computed cells and the current
  -- one in both outputs (3 + 3), two computed differences
  check(#labels == 18 + 3 + 3 + 2, "cells shown: " .. #labels)
  -- the correlation's current cell holds the running sum of the tap list
  local running = st.taps[4].sum
  local want = {}
  for c = 1, 2 do want[#want + 1] = corr:get(1, 1, 1, c) end
  want[#want + 1] = running
  local function num(s) return tonumber((s:gsub("…", ""))) end
  for i = 1, 3 do
    local got = num(labels[18 + i].text)
    check(got and math.abs(got - want[i]) <= 0.05 * math.max(1, math.abs(want[i])),
          string.format("correlation cell %d: '%s', want %.4g", i, labels[18 + i].text, want[i]))
  end
  -- a frame with the panel: the layout checks hold for it as an overlay
  for _, sz in ipairs{{480, 320}, {640, 400}, {1024, 640}, {1366, 768}, {2560, 1440}} do
    local l = v:layout{width = sz[1], height = sz[2]}
    local cbox
    for _, b in ipairs(l) do if b.name == "compare" then cbox = b end end
    if cbox then
      for i, b in ipairs(l) do
        if b.layer == 0 and b.kind ~= "panel" then
          local inside = b.x >= cbox.x - 0.5 and b.y >= cbox.y - 0.5 and
                         b.x + b.w <= cbox.x + cbox.w + 0.5 and b.y + b.h <= cbox.y + cbox.h + 0.5
          local apart = b.x >= cbox.x + cbox.w or b.x + b.w <= cbox.x or
                        b.y >= cbox.y + cbox.h or b.y + b.h <= cbox.y
          check(inside or apart, string.format("%dx%d: sticks out from under the panel: '%s'",
                                               sz[1], sz[2], tostring(b.text)))
        end
      end
    end
  end
end)
