-- test_layout.lua: every figure fits its frame.  For the tour's pages, the
-- seeds' views and random problems, at sizes from 480x320 to 2560x1440 and
-- in both themes: no two texts overlap, no cell label overlaps a text,
-- every box lies inside the frame, every text is at least 13 px, and cell
-- digits have at least 4.5:1 contrast against their cell (checked from the
-- layout and from the frame's pixels).
local SIZES = {{480, 320}, {640, 400}, {640, 480}, {1280, 720}, {1280, 800},
               {1366, 768}, {1920, 1080}, {2560, 1440}}

local function lum(c)
  local function lin(v)
    v = v / 255
    return v <= 0.04045 and v / 12.92 or ((v + 0.055) / 1.055) ^ 2.4
  end
  return 0.2126 * lin(c[1]) + 0.7152 * lin(c[2]) + 0.0722 * lin(c[3])
end
local function contrast(a, b)
  local la, lb = lum(a), lum(b)
  if la < lb then la, lb = lb, la end
  return (la + 0.05) / (lb + 0.05)
end

-- boxes a and b overlap by more than a hair (antialiasing)
local function overlap(a, b)
  local e = 0.75
  return a.x + e < b.x + b.w and b.x + e < a.x + a.w and
         a.y + e < b.y + b.h and b.y + e < a.y + a.h
end

local function describe(b)
  return string.format("%s '%s' at %.0f,%.0f %.0fx%.0f", b.kind, b.text or b.name or "",
                       b.x, b.y, b.w, b.h)
end

-- All the checks on one layout; returns nil or the first problem.  An
-- overlay (layer 1: help, tooltip, message) is drawn over the frame: its
-- texts must not overlap each other and must lie inside its panel; what
-- it covers is checked as the frame without it.
local function problems(lay, what)
  local W, H = lay.width, lay.height
  local texts, labels = {}, {}
  local overlays, otexts = {}, {}
  for _, b in ipairs(lay) do
    if (b.layer or 0) > 0 then
      if b.kind == "panel" then overlays[#overlays + 1] = b else otexts[#otexts + 1] = b end
    end
  end
  for _, t in ipairs(otexts) do
    local inside = false
    for _, o in ipairs(overlays) do
      if t.x >= o.x - 0.5 and t.y >= o.y - 0.5 and t.x + t.w <= o.x + o.w + 0.5 and
         t.y + t.h <= o.y + o.h + 0.5 then inside = true end
    end
    if not inside then return what .. ": overlay text outside its panel: " .. describe(t) end
  end
  for i = 1, #otexts do
    for j = i + 1, #otexts do
      if otexts[i].kind ~= "label" and otexts[j].kind ~= "label" and overlap(otexts[i], otexts[j]) then
        return what .. ": " .. describe(otexts[i]) .. " overlaps " .. describe(otexts[j])
      end
    end
  end
  for _, b in ipairs(lay) do
    if b.x < -0.5 or b.y < -0.5 or b.x + b.w > W + 0.5 or b.y + b.h > H + 0.5 then
      return what .. ": outside the " .. W .. "x" .. H .. " frame: " .. describe(b)
    end
  end
  -- a text that starts in the bottom panel ends in it too
  for _, p in ipairs(lay) do
    if p.kind == "panel" and p.name == "bottom" then
      for _, b in ipairs(lay) do
        if b.kind == "text" and (b.layer or 0) == 0 and b.y >= p.y and b.y < p.y + p.h and
           b.y + b.h > p.y + p.h + 0.5 then
          return what .. ": runs out of the bottom panel: " .. describe(b)
        end
      end
    end
  end
  for _, b in ipairs(lay) do
    if (b.layer or 0) > 0 then goto continue end
    if b.kind == "text" then
      texts[#texts + 1] = b
      if b.size < 13 then return what .. ": text under 13 px: " .. describe(b) end
    elseif b.kind == "label" then
      labels[#labels + 1] = b
      if b.size < 13 then return what .. ": label under 13 px: " .. describe(b) end
      local c = contrast(b.color, b.background)
      if c < 4.5 then
        return string.format("%s: label contrast %.2f: %s", what, c, describe(b))
      end
    end
    ::continue::
  end
  for i = 1, #texts do
    for j = i + 1, #texts do
      if overlap(texts[i], texts[j]) then
        return what .. ": " .. describe(texts[i]) .. " overlaps " .. describe(texts[j])
      end
    end
    for j = 1, #labels do
      if overlap(texts[i], labels[j]) then
        return what .. ": " .. describe(texts[i]) .. " overlaps " .. describe(labels[j])
      end
    end
  end
  for i = 1, #labels do
    for j = i + 1, #labels do
      if overlap(labels[i], labels[j]) then
        return what .. ": " .. describe(labels[i]) .. " overlaps " .. describe(labels[j])
      end
    end
  end
end

-- A view at three points of its step-through (start, middle, end).
local function check_view(v, name, sizes, themes)
  local steps = v:state().steps or 0
  local points = steps > 2 and {1, steps // 2, steps} or {1}
  local n = 0
  for _, st in ipairs(points) do
    if steps > 0 then v:seek(st) end
    for _, sz in ipairs(sizes) do
      for _, th in ipairs(themes) do
        local what = string.format("%s step %d %dx%d %s", name, st, sz[1], sz[2], th)
        local p = problems(v:layout{width = sz[1], height = sz[2], theme = th}, what)
        check(p == nil, p)
        n = n + 1
      end
    end
  end
  return n
end

local pages = {} -- the tour's step-through pages (viz.stack pages have no steps)
for _, v in ipairs(dofile("../../scripts/tour.lua")) do
  if v:state().steps then pages[#pages + 1] = v end
end

test("layout: every tour page at every size and theme", function()
  check(#pages >= 11, "tour pages: " .. #pages)
  for i, v in ipairs(pages) do
    check_view(v, "tour page " .. i, SIZES, {"dark", "light"})
  end
end)

test("layout: tour pages in tap mode, chrome off, and each panel alone", function()
  for i, v in ipairs(pages) do
    local mode = v:mode()
    v:mode("tap")
    check_view(v, "tour page " .. i .. " (taps)", {{480, 320}, {1280, 720}}, {"dark"})
    v:mode(mode)
    for _, panels in ipairs{{"input", "kernel", "output"}, {"output"}, {"taps"},
                            {"formula"}, {"header", "taps", "formula"}} do
      local lay = v:layout{width = 640, height = 400, chrome = false, panels = panels}
      local p = problems(lay, "page " .. i .. " panels " .. table.concat(panels, ","))
      check(p == nil, p)
    end
  end
end)

test("layout: the seeds' views", function()
  local seeds = {"correlation_vs_convolution", "groups", "keras_mask", "masked_input",
                 "output_size", "transposed"}
  local n = 0
  for _, name in ipairs(seeds) do
    local views = {}
    local run, out, headless = viz.run, print, viz.headless
    viz.run = function(v) views[#views + 1] = v end
    print = function() end
    viz.headless = false -- seeds open their views only with a window
    local ok, err = pcall(dofile, "../../scripts/seeds/" .. name .. ".lua")
    viz.run, print, viz.headless = run, out, headless
    check(ok, err)
    for k, v in ipairs(views) do
      if type(v) == "userdata" and v.state then
        n = n + check_view(v, name .. " " .. k, {{480, 320}, {640, 400}, {1366, 768}, {1920, 1080}},
                           {"dark", "light"})
      end
    end
  end
  check(n > 0, "no seed view checked")
end)

-- deterministic random problems
local seed = 12345
local function rnd(a, b)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return a + seed % (b - a + 1)
end

local function binmask(h, w)
  local rows = {}
  for i = 1, h do
    rows[i] = {}
    for j = 1, w do rows[i][j] = rnd(0, 9) < 7 and 1 or 0 end
  end
  return tensor.new(rows)
end

local function random_view()
  local G = ({1, 1, 1, 2, 3})[rnd(1, 5)]
  local C = G * rnd(1, 2)
  local O = G * rnd(1, 3)
  local H, W = rnd(1, 12), rnd(1, 12)
  local kH, kW = rnd(1, 4), rnd(1, 4)
  local N = rnd(1, 2)
  local x = tensor.randn(N, C, H, W) * rnd(1, 100)
  local opts = {stride = {rnd(1, 3), rnd(1, 3)}, padding = {rnd(0, 2), rnd(0, 2)},
                dilation = {rnd(1, 2), rnd(1, 2)}, groups = G}
  if rnd(0, 3) == 0 then opts.bias = tensor.randn(O) end
  if rnd(0, 2) == 0 then opts.by = "tap" end
  local kind = rnd(1, 4)
  if kind == 4 then
    opts.view = rnd(0, 1) == 0 and "scatter" or "gather"
    opts.output_padding = {rnd(0, 1), rnd(0, 1)}
    return viz.conv_transpose2d(x, tensor.randn(C, O // G, kH, kW), opts)
  end
  if kind == 3 then opts.padding_mode = ({"reflect", "replicate", "circular"})[rnd(1, 3)] end
  if kind == 2 then
    opts.mask = binmask(H, W)
    if rnd(0, 1) == 0 then opts.partial = true end
  end
  if rnd(0, 4) == 0 then opts.kernel_mask = binmask(kH, kW) end
  if rnd(0, 4) == 0 then opts.title = "a long title that says a great deal about this problem, maybe too much" end
  if rnd(0, 4) == 0 then opts.caption = string.rep("a caption that wraps; ", rnd(1, 8)) end
  return viz.conv2d(x, tensor.randn(O, C // G, kH, kW), opts)
end

test("layout: 120 random problems at random sizes", function()
  local n = 0
  for i = 1, 120 do
    local ok, v = pcall(random_view)
    if ok then
      local w, h = rnd(480, 2560), rnd(320, 1440)
      n = n + check_view(v, "random " .. i, {{w, h}}, {rnd(0, 1) == 0 and "dark" or "light"})
    end
  end
  check(n >= 100, "only " .. n .. " random layouts checked")
end)

test("layout: label contrast holds in the frame's pixels", function()
  local d = os.getenv("TMPDIR") or "/tmp"
  for _, th in ipairs{"dark", "light"} do
    for i = 1, #pages, 3 do
      local v = pages[i]
      local png = d .. "/convplay-layout-" .. math.random(1, 1 << 30) .. ".png"
      v:screenshot(png, {theme = th})
      local lay = v:layout{theme = th}
      local img = image.load(png)
      local checked = 0
      for _, b in ipairs(lay) do
        if b.kind == "label" and checked < 40 then
          -- the top middle of a label's box is cell background (above the
          -- digits, and away from a masked cell's diagonal cross)
          local px, py = math.floor(b.x + b.w / 2), math.floor(b.y) + 1
          local bg = {img:get(1, py + 1, px + 1) * 255, img:get(2, py + 1, px + 1) * 255,
                      img:get(3, py + 1, px + 1) * 255}
          local dev = math.max(math.abs(bg[1] - b.background[1]), math.abs(bg[2] - b.background[2]),
                               math.abs(bg[3] - b.background[3]))
          check(dev <= 3, string.format("page %d %s: label '%s' background %.0f,%.0f,%.0f, layout says %d,%d,%d",
                                        i, th, b.text, bg[1], bg[2], bg[3], b.background[1],
                                        b.background[2], b.background[3]))
          check(contrast(bg, b.color) >= 4.5, "pixel contrast")
          checked = checked + 1
        end
      end
      os.remove(png)
    end
  end
end)

test("layout: help overlay and invalid parameters fit at every size", function()
  local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3))
  v:key("?")
  for _, sz in ipairs(SIZES) do
    local lay = v:layout{width = sz[1], height = sz[2]}
    local inhelp = {width = lay.width, height = lay.height}
    local box
    for _, b in ipairs(lay) do
      if b.layer == 1 and b.kind == "text" then inhelp[#inhelp + 1] = b end
      if b.kind == "panel" and b.name == "help" then
        box = b
        inhelp[#inhelp + 1] = b
      end
    end
    check(box and box.layer == 1, "help panel drawn as an overlay")
    check(#inhelp >= 11, "help lines inside the help box at " .. sz[1] .. "x" .. sz[2] .. ": " .. #inhelp)
    local p = problems(inhelp, "help " .. sz[1] .. "x" .. sz[2])
    check(p == nil, p)
  end
  v:key("?")
  v:set{padding = 0, dilation = 9}
  check(v:state().error, "the view shows the error")
  for _, sz in ipairs(SIZES) do
    local p = problems(v:layout{width = sz[1], height = sz[2]}, "invalid " .. sz[1] .. "x" .. sz[2])
    check(p == nil, p)
  end
end)

test("layout: the code panel (PyTorch, Keras, not expressible) fits at every size", function()
  -- tensors small enough to be literals, larger ones (base64), a mask and a
  -- partial convolution: long lines, folded literals, several languages
  local cases = {
    viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3), {padding = 1}),
    viz.conv2d(tensor.randn(1, 3, 9, 9), tensor.randn(4, 3, 3, 3),
               {bias = tensor.randn(4), mask = tensor.ones(9, 9), partial = true,
                kernel_mask = {{1, 0, 1}, {0, 1, 0}, {1, 0, 1}}, flip = true}),
    viz.conv_transpose2d(tensor.randn(1, 2, 4, 4), tensor.randn(2, 2, 3, 3),
                         {stride = 2, padding = 1, output_padding = 1}),
    viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3),
               {padding = 1, padding_mode = "reflect"}),
  }
  for ci, v in ipairs(cases) do
    for lang = 1, 2 do
      v:key("C")
      check(v:state().code == (lang == 1 and "pytorch" or "keras"), "panel shown")
      for si, sz in ipairs(SIZES) do
        local th = si % 2 == 0 and "light" or "dark"
        local lay = v:layout{width = sz[1], height = sz[2], theme = th}
        local incode = {width = lay.width, height = lay.height}
        local box
        for _, b in ipairs(lay) do
          -- the panel is drawn over the grids: every text after it is in it
          if box and b.kind == "text" then
            check(b.x >= box.x and b.y >= box.y and b.x + b.w <= box.x + box.w + 0.5
                  and b.y + b.h <= box.y + box.h + 0.5,
                  "code text outside its box: " .. describe(b))
            incode[#incode + 1] = b
          end
          if b.kind == "panel" and b.name == "code" then box = b; incode[#incode + 1] = b end
        end
        local what = string.format("code panel %d %s %dx%d %s", ci, v:state().code, sz[1], sz[2], th)
        check(box, what .. ": panel drawn")
        check(#incode >= 3, what .. ": lines shown: " .. #incode)
        local p = problems(incode, what)
        check(p == nil, p)
      end
    end
    v:key("C")
    check(v:state().code == false, "hidden again")
  end
end)

test("layout: with the code panel shown the view makes room (or the panel is an honest overlay)", function()
  -- the review's frame (1366x768: taps, legend, weight, output and formula
  -- were hidden under the panel; 2560x1440: colorbar labels stuck out
  -- under it, literals folded to "…" with room to spare), and views of
  -- every kind
  tensor.manual_seed(1)
  local function r1(t) -- one decimal, as the review's tensors
    local f = t:reshape(-1)
    for i = 1, f:numel() do f:set(i, math.floor(f:get(i) * 10 + 0.5) / 10) end
    return t
  end
  local x, w = r1(tensor.randn(1, 2, 5, 5) * 10), r1(tensor.randn(2, 2, 3, 3))
  local review = viz.conv2d(x, w, {padding = 1, stride = 2, bias = {0.5, -0.5}})
  review:seek(7)
  local gy = tensor.randn(1, 3, 3, 3)
  local views = {
    review,
    viz.conv_transpose2d(tensor.randn(1, 2, 3, 3), tensor.randn(2, 3, 3, 3),
                         {stride = 2, padding = 1, output_padding = 1, by = "tap"}),
    viz.conv2d(tensor.randn(1, 3, 9, 9), tensor.randn(4, 3, 3, 3),
               {bias = tensor.randn(4), mask = tensor.ones(9, 9), partial = true, groups = 1}),
    viz.conv2d(tensor.randn(1, 8, 12, 12), tensor.randn(8, 4, 3, 3), {groups = 2, stride = 2, padding = 1}),
    viz.conv2d_backward(tensor.randn(1, 2, 5, 5), tensor.randn(3, 2, 3, 3), gy,
                        {stride = 2, padding = 1, grad = "weight"}),
    viz.unfold(tensor.randn(1, 2, 4, 4), tensor.randn(3, 2, 2, 2), {padding = 1, gemm = "matrix"}),
    viz.max_pool2d(tensor.randn(1, 2, 7, 7), 3, {stride = 2, padding = 1}),
    viz.compare(tensor.randn(1, 1, 6, 6), tensor.randn(1, 1, 3, 3), {padding = 1}),
    viz.conv1d(tensor.randn(1, 2, 16), tensor.randn(2, 2, 3), {padding = 1}),
  }
  local n = 0
  for vi, v in ipairs(views) do
    local steps = v:state().steps or 0
    if steps > 2 and vi > 1 then v:seek(steps // 2) end
    for _, lang in ipairs{"pytorch", "keras"} do
      v:code(lang, true)
      for si, sz in ipairs(SIZES) do
        local th = (si + vi) % 2 == 0 and "light" or "dark"
        local what = string.format("view %d %s %dx%d %s", vi, lang, sz[1], sz[2], th)
        local lay = v:layout{width = sz[1], height = sz[2], theme = th}
        local p = problems(lay, what)
        check(p == nil, p)
        local ci
        for i, b in ipairs(lay) do if b.kind == "panel" and b.name == "code" then ci = i end end
        check(ci, what .. ": the code panel is drawn")
        local code = lay[ci]
        if sz[1] >= 1024 then
          check(code.layer == 0, what .. ": a column of its own, not an overlay")
        end
        for i = 1, ci - 1 do
          local b = lay[i]
          if overlap(b, code) then
            -- in a column of its own nothing is under it; as an overlay,
            -- what it covers is covered whole (nothing sticks out)
            check(code.layer == 1, what .. ": under the code panel: " .. describe(b))
            check(b.x >= code.x - 0.5 and b.y >= code.y - 0.5 and b.x + b.w <= code.x + code.w + 0.5
                  and b.y + b.h <= code.y + code.h + 0.5, what .. ": sticks out from under the code panel: " .. describe(b))
          end
        end
        if vi == 1 and (sz[1] >= 1366 and sz[2] >= 768) and lang == "pytorch" then
          -- room enough: the tensors are written out, not folded
          local rows = 0
          for i = ci + 1, #lay do
            if lay[i].text and lay[i].text:find("^%s+%[") then rows = rows + 1 end
          end
          check(rows >= 15, what .. ": literal rows shown: " .. rows)
        end
        n = n + 1
      end
    end
    v:code("pytorch", false)
  end
  check(n == #views * 2 * #SIZES, n)
end)

test("layout: the checks themselves catch overlaps, clipping, tiny text, low contrast", function()
  local base = {width = 100, height = 100}
  local function lay(...)
    local l = {width = 100, height = 100}
    for i, b in ipairs{...} do l[i] = b end
    return l
  end
  local t1 = {kind = "text", text = "a", size = 13, x = 0, y = 0, w = 40, h = 16}
  local t2 = {kind = "text", text = "b", size = 13, x = 30, y = 5, w = 40, h = 16}
  local t3 = {kind = "text", text = "c", size = 13, x = 80, y = 0, w = 40, h = 16}
  local t4 = {kind = "text", text = "d", size = 11, x = 0, y = 50, w = 20, h = 14}
  local l1 = {kind = "label", text = "1", size = 13, x = 0, y = 80, w = 10, h = 16,
              color = {255, 255, 255}, background = {200, 200, 200}}
  check(problems(base, "empty") == nil)
  check(problems(lay(t1), "one") == nil)
  check(problems(lay(t1, t2), "two"):find("overlaps"), "overlap found")
  check(problems(lay(t3), "three"):find("outside"), "clipping found")
  check(problems(lay(t4), "four"):find("under 13"), "tiny text found")
  check(problems(lay(l1), "five"):find("contrast"), "low contrast found")
end)

test("layout: tooltips (hovered and pinned cells) and controls fit at every size", function()
  local n = 0
  for i, v in ipairs(pages) do
    local lay = v:layout()
    local out, inp = lay.output[1], lay.input[1]
    for _, sz in ipairs{{480, 320}, {640, 400}, {1280, 720}, {1920, 1080}} do
      for _, what in ipairs{"output", "input"} do
        local grad = v:state().grad
        if grad == "weight" or grad == "bias" then
          if what == "output" then v:hover("gradient", {1, 1, 1, 1}) end
        elseif what == "output" and out then
          v:hover("output", {1, out.channel, 1, 1})
        elseif what == "input" and inp then
          v:hover("input", {1, inp.channel, 1, 1})
        end
        local l = v:layout{width = sz[1], height = sz[2]}
        local tip = false
        for _, b in ipairs(l) do if b.name == "tooltip" then tip = true end end
        -- (the forward views, pages 1-11, have tooltips; later views draw their
        -- own panels and are checked for layout only)
        check(tip or (i > 11 and not (grad == "weight" or grad == "bias")) or what == "input"
              and (grad == "weight" or grad == "bias") or v:state().steps == 0 or v:state().error,
              "page " .. i .. ": a tooltip for the hovered " .. what)
        local p = problems(l, string.format("page %d hover %s %dx%d", i, what, sz[1], sz[2]))
        check(p == nil, p)
        n = n + 1
      end
      v:hover()
    end
  end
  check(n > 40)
end)

test("layout: the image lab at every size (panel, presets, status)", function()
  for _, sz in ipairs{{900, 560}, {640, 400}, {1280, 800}, {1920, 1080}} do
    local lab = viz.lab(nil, {preset = "sobel_x", width = sz[1], height = sz[2]})
    local lay = lab:layout()
    local p = problems(lay, string.format("lab %dx%d", sz[1], sz[2]))
    check(p == nil, p)
    local found = false
    for _, b in ipairs(lay) do if b.text == "presets" then found = true end end
    check(found or sz[2] < 500, "presets shown at " .. sz[1] .. "x" .. sz[2])
    lab:close()
  end
end)

test("layout: the lab's hover readout stays in its panel at every size (long formulas wrap)", function()
  -- sizes from the smallest the lab accepts; readouts of a gradient
  -- magnitude, of large values in four channels, of an input pixel, and of
  -- padding taps at stride 2 (the review's frames: text past x = 1280)
  local big = tensor.rand(4, 40, 50) * 9000 - 4500
  local cases = {
    {nil, {preset = "gradient_magnitude", map = "abs", hover = {100, 120}}},
    {nil, {preset = "sobel_x", map = "offset", stride = 2, padding = 1, hover = {40, 40},
           select = {2, 2}}},
    {big, {kernel = tensor.new{{-1234.5678, 2345.25, -3456.125}, {4567.5, -5678.75, 6789.5},
                               {-7890.25, 8901.5, -9012.75}}, hover = {1, 1}}},
    {big, {kernel = tensor.new{{-1234.5678, 2345.25, -3456.125}, {4567.5, -5678.75, 6789.5},
                               {-7890.25, 8901.5, -9012.75}}, mixing = "full", hover = {20, 25}}},
    {big, {preset = "gaussian", size = 9, hover_input = {40, 50}}},
  }
  local n = 0
  for ci, c in ipairs(cases) do
    for _, sz in ipairs{{480, 360}, {640, 400}, {900, 560}, {1024, 640}, {1280, 800},
                        {1366, 768}, {1920, 1080}, {2560, 1440}} do
      local opts = {width = sz[1], height = sz[2]}
      for k, v in pairs(c[2]) do opts[k] = v end
      local lab = viz.lab(c[1], opts)
      local lay = lab:layout()
      local what = string.format("lab case %d %dx%d", ci, sz[1], sz[2])
      local p = problems(lay, what)
      check(p == nil, p)
      local px0 = lay.width - 360 -- the panel
      for _, b in ipairs(lay) do
        if b.kind == "text" and b.x >= px0 then
          check(b.x + b.w <= lay.width - 6 + 0.5, what .. ": past the panel's margin: " .. describe(b))
        end
      end
      if sz[2] >= 768 and c[2].hover then
        local spelled = false
        for _, b in ipairs(lay) do
          if b.text and (b.text:find("^%a = sum of") or b.text:find("^%a = sqrt")) then spelled = true end
        end
        check(spelled, what .. ": the readout's formula is shown")
      end
      lab:close()
      n = n + 1
    end
  end
  check(n == 40, n)
end)

test("layout: the lab's before/after labels read in both themes and sit inside their side", function()
  local d = os.getenv("TMPDIR") or "/tmp"
  for _, th in ipairs{"dark", "light"} do
    local old = viz.theme()
    viz.theme(th)
    for _, sz in ipairs{{480, 360}, {1366, 768}} do
      local lab = viz.lab(nil, {width = sz[1], height = sz[2], preset = "box"})
      local png = d .. "/convplay-lab-labels-" .. math.random(1, 1 << 30) .. ".png"
      lab:screenshot(png)
      local lay = lab:layout()
      local img = image.load(png)
      local found = 0
      for _, b in ipairs(lay) do
        if b.text == "before" or b.text == "after" then
          found = found + 1
          check(b.x >= 0 and b.x + b.w <= lay.width - 360, "label inside the image area: " .. describe(b))
          -- the chip behind the text: 3 px left of it, at mid height
          local px, py = math.floor(b.x) - 3, math.floor(b.y + b.h / 2)
          local bg = {img:get(1, py + 1, px + 1) * 255, img:get(2, py + 1, px + 1) * 255,
                      img:get(3, py + 1, px + 1) * 255}
          local c = contrast(bg, b.color)
          check(c >= 4.5, string.format("%s %dx%d: '%s' contrast %.2f", th, sz[1], sz[2], b.text, c))
        end
      end
      check(found == 2 or sz[1] < 640, th .. ": both labels drawn at " .. sz[1] .. "x" .. sz[2])
      os.remove(png)
      lab:close()
    end
    viz.theme(old)
  end
end)

test("lab: the bundled sample saves in the current directory", function()
  local lab = viz.lab(nil, {preset = "box"})
  local saved = lab:save()
  lab:close()
  check(not saved:find("assets/"), "not into the source tree: " .. saved)
  check(saved:match("^sample%-lab[%-%d]*%.png$"), saved)
  check(os.remove(saved), "written in the current directory")
end)

test("layout: the backward view (grad_input scatter and gather, grad_weight, grad_bias) at every size", function()
  local function backward(N, C, O, H, W, k, o)
    local x = tensor.randn(N, C, H, W)
    local w = tensor.randn(O, C // (o.groups or 1), k, k)
    local gy = tensor.randn(table.unpack(conv.conv2d(x, w, o):size()))
    local opts = {}
    for key, val in pairs(o) do opts[key] = val end
    return viz.conv2d_backward(x, w, gy, opts)
  end
  local views = {backward(1, 2, 3, 5, 5, 3, {stride = 2, padding = 1}),
                 backward(2, 2, 2, 7, 6, 3, {dilation = 2, groups = 2, padding = 1}),
                 backward(1, 1, 1, 12, 12, 2, {stride = 3})}
  for i, v in ipairs(views) do
    for _, m in ipairs{"input", "weight", "bias"} do
      v:grad(m)
      check_view(v, "backward " .. i .. " " .. m, SIZES, {"dark", "light"})
      v:mode("tap")
      check_view(v, "backward " .. i .. " " .. m .. " (taps)", {{480, 320}, {1280, 720}}, {"dark"})
      v:mode("cell")
      for _, panels in ipairs{{"input", "kernel", "output"}, {"output"}, {"taps"}} do
        local lay = v:layout{width = 640, height = 400, chrome = false, panels = panels}
        local p = problems(lay, "backward " .. i .. " " .. m .. " panels " .. table.concat(panels, ","))
        check(p == nil, p)
      end
    end
    v:grad("input")
    v:view("gather")
    check_view(v, "backward " .. i .. " gather", SIZES, {"dark"})
  end
end)

test("layout: the unfold view (im2col, matrix C, Cᵀ) at every size", function()
  local views = {viz.unfold(tensor.randn(1, 2, 4, 4), tensor.randn(3, 2, 2, 2), {padding = 1}),
                 viz.unfold(tensor.randn(2, 2, 5, 5), tensor.randn(2, 1, 3, 3),
                            {stride = 2, dilation = 1, groups = 2, padding = 1}),
                 viz.unfold(tensor.randn(1, 1, 6, 6), tensor.randn(1, 1, 3, 3), {dilation = 2})}
  for i, v in ipairs(views) do
    for _, m in ipairs{"im2col", "matrix", "matrix_t"} do
      v:gemm(m)
      check_view(v, "unfold " .. i .. " " .. m, SIZES, {"dark", "light"})
      v:mode("tap")
      check_view(v, "unfold " .. i .. " " .. m .. " (taps)", {{480, 320}, {1280, 720}}, {"dark"})
      v:mode("cell")
      for _, panels in ipairs{{"input", "kernel", "output"}, {"output"}, {"taps"}} do
        local lay = v:layout{width = 640, height = 400, chrome = false, panels = panels}
        local p = problems(lay, "unfold " .. i .. " " .. m .. " panels " .. table.concat(panels, ","))
        check(p == nil, p)
      end
    end
  end
end)

test("layout: correlation vs convolution side by side at every size", function()
  local views = {viz.compare(tensor.randn(1, 2, 5, 5), tensor.randn(2, 2, 3, 3), {padding = 1}),
                 viz.compare(tensor.randn(2, 2, 7, 6), tensor.randn(2, 1, 2, 3),
                             {stride = 2, groups = 2, padding_mode = "reflect", padding = 1}),
                 viz.compare(tensor.randn(1, 1, 16, 16), tensor.randn(1, 1, 3, 3))}
  for i, v in ipairs(views) do
    check_view(v, "compare " .. i, SIZES, {"dark", "light"})
    v:mode("tap")
    check_view(v, "compare " .. i .. " (taps)", {{480, 320}, {1280, 720}}, {"dark"})
    v:mode("cell")
    for _, panels in ipairs{{"input", "kernel", "output"}, {"output"}, {"taps"}} do
      local lay = v:layout{width = 640, height = 400, chrome = false, panels = panels}
      local p = problems(lay, "compare " .. i .. " panels " .. table.concat(panels, ","))
      check(p == nil, p)
    end
  end
end)

test("layout: pooling views (max, avg, 1-D; ceil_mode, padding, indices) at every size", function()
  local x = tensor.randn(1, 2, 7, 7)
  local views = {
    viz.max_pool2d(x, 3, {stride = 2, padding = 1, ceil_mode = true, return_indices = true}),
    viz.max_pool2d(x, 2, {dilation = 2, by = "tap"}),
    viz.avg_pool2d(x, 2, {padding = 1, ceil_mode = true, count_include_pad = false}),
    viz.avg_pool2d(tensor.randn(2, 5, 12, 12), {3, 2}, {divisor_override = 4, by = "tap"}),
    viz.max_pool1d(tensor.randn(2, 3, 16), 3, {stride = 2, padding = 1, ceil_mode = true}),
    viz.avg_pool1d(tensor.randn(1, 40), 4, {stride = 3}),
  }
  local py, pi = conv.max_pool2d(tensor.randn(1, 2, 8, 8), 2, {return_indices = true})
  views[#views + 1] = viz.max_unpool2d(py, pi, 2)
  local qy, qi = conv.max_pool2d(tensor.randn(2, 1, 9, 7), 3, {stride = 2, padding = 1, return_indices = true})
  views[#views + 1] = viz.max_unpool2d(qy, qi, 3, {stride = 2, padding = 1, output_size = {9, 7}})
  local n = 0
  for i, v in ipairs(views) do
    n = n + check_view(v, "pool view " .. i, SIZES, {"dark", "light"})
    v:hover("output", {1, 1, 1, 1})
    for _, sz in ipairs{{640, 400}, {1280, 720}, {1920, 1080}} do
      local p = problems(v:layout{width = sz[1], height = sz[2]},
                         string.format("pool view %d hover %dx%d", i, sz[1], sz[2]))
      check(p == nil, p)
    end
    v:hover()
    v:key("p"); v:key("p"); v:key("p") -- invalid: pad > k/2
    local p = problems(v:layout{width = 640, height = 400}, "pool view " .. i .. " invalid")
    check(p == nil, p)
  end
  check(n >= 200, n)
end)

test("layout: 1-D views (conv1d causal and dilated, conv_transpose1d) at every size", function()
  local views = {
    viz.conv1d(tensor.randn(1, 1, 16), tensor.randn(1, 1, 3), {padding = "causal", dilation = 2, by = "tap"}),
    viz.conv1d(tensor.randn(2, 4, 40), tensor.randn(6, 2, 5), {groups = 2, stride = 2, bias = tensor.randn(6)}),
    viz.conv1d(tensor.randn(3, 9), tensor.randn(2, 3, 2), {padding = {left = 1, right = 0}}),
    viz.conv_transpose1d(tensor.randn(1, 2, 6), tensor.randn(2, 1, 3), {stride = 2, output_padding = 1}),
    viz.conv_transpose1d(tensor.randn(1, 2, 6), tensor.randn(2, 1, 3), {stride = 3, view = "gather"}),
  }
  local n = 0
  for i, v in ipairs(views) do
    n = n + check_view(v, "1-D view " .. i, SIZES, {"dark", "light"})
    v:hover("output", {1, 1, 1, 1})
    for _, sz in ipairs{{640, 400}, {1920, 1080}} do
      local p = problems(v:layout{width = sz[1], height = sz[2]},
                         string.format("1-D view %d hover %dx%d", i, sz[1], sz[2]))
      check(p == nil, p)
    end
    v:hover()
  end
  check(n >= 150, n)
end)

test("layout: viz.stack pages at every size and theme, with and without a hover", function()
  local w3 = tensor.zeros(8, 3, 3, 3)
  local stacks = {
    viz.stack{input = {3, 32, 32}, title = "encoder / decoder",
      {op = "conv2d", weight = w3, stride = 2, padding = 1},
      {op = "max_pool2d", kernel_size = 2},
      {op = "conv2d", weight = tensor.zeros(16, 8, 3, 3), dilation = 2, padding = 2},
      {op = "conv_transpose2d", weight = tensor.zeros(16, 8, 3, 3), stride = 2, padding = 1,
       output_padding = 1},
      {op = "avg_pool2d", kernel_size = 3, stride = 2, ceil_mode = true}},
    viz.stack{input = {33, 20},
      {op = "conv2d", kernel_size = {3, 5}, stride = {2, 3}},
      {op = "max_pool2d", kernel_size = 2, dilation = 2},
      {op = "conv_transpose2d", kernel_size = {4, 2}, stride = {3, 2}, output_padding = {2, 1}}},
    viz.stack{input = {64, 64}, title = "a dilated stack: the field grows",
      {op = "conv2d", kernel_size = 3, padding = 1},
      {op = "conv2d", kernel_size = 3, padding = 2, dilation = 2},
      {op = "conv2d", kernel_size = 3, padding = 4, dilation = 4},
      {op = "conv2d", kernel_size = 3, padding = 8, dilation = 8}},
    viz.stack{input = {2, 3}, {op = "conv_transpose2d", kernel_size = 3, stride = 3}},
  }
  local n = 0
  for i, s in ipairs(stacks) do
    local st = s:state()
    local last = st.layers[#st.layers].shape
    for _, hover in ipairs{false, true} do
      if hover then s:hover(#st.layers, last[#last - 1] // 2 + 1, last[#last] // 2 + 1)
      else s:hover() end
      for _, sz in ipairs(SIZES) do
        for _, th in ipairs{"dark", "light"} do
          local what = string.format("stack %d%s %dx%d %s", i, hover and " hover" or "",
                                     sz[1], sz[2], th)
          local p = problems(s:layout{width = sz[1], height = sz[2], theme = th}, what)
          check(p == nil, p)
          n = n + 1
        end
      end
    end
  end
  check(n == #stacks * 2 * #SIZES * 2, n)
end)
