-- test_lab.lua: image.kernels presets and the image filter lab (viz.lab),
-- headless: the lab's result against conv.conv2d, the readout against the
-- result, settings and their errors, saving, and rendered pixels.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_lab.lua
local tmp = os.getenv("TMPDIR") or "/tmp"
local function tmpdir()
  -- os.tmpname: unique even when two runs of the suite share a second
  local d = os.tmpname()
  os.remove(d)
  d = d:gsub("^.*/", tmp .. "/convplay-lab-")
  assert(os.execute("mkdir -p '" .. d .. "'"))
  return d
end
math.randomseed(4321)
tensor.manual_seed(7)
local K = image.kernels

local function max_abs_diff(a, b)
  return (a - b):abs():max()
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- The conv2d weight the lab should use: depthwise (3,1,kH,kW) or full
-- mixing (3,3,kH,kW) with every entry k/3.
local function weight(k, full, C)
  C = C or 3
  local kH, kW = k:size(1), k:size(2)
  local w = k:reshape(1, 1, kH, kW)
  if full then
    local row = {}
    for c = 1, C do row[c] = w / C end
    local w1 = tensor.cat(row, 2)
    local rows = {}
    for o = 1, C do rows[o] = w1 end
    return tensor.cat(rows, 1)
  end
  local ws = {}
  for c = 1, C do ws[c] = w end
  return tensor.cat(ws, 1)
end

-- ---------------------------------------------------------------------------
-- image.kernels
-- ---------------------------------------------------------------------------
test("kernels: gaussian sums to 1, is symmetric and peaks in the centre", function()
  for _, args in ipairs{{3, 0.8}, {5, 1}, {7, 2.5}, {11, 0.5}} do
    local g = K.gaussian(args[1], args[2])
    local n = args[1]
    check(g:size(1) == n and g:size(2) == n, "size")
    near(g:sum(), 1, 1e-5, "sum")
    local c = (n + 1) // 2
    near(g:get(c, c), g:max(), 0, "centre is the maximum")
    near(g:get(1, 2), g:get(2, 1), 0, "symmetric")
    near(g:get(1, 1), g:get(n, n), 0, "symmetric")
  end
  -- sigma 1: centre / neighbour = e^(1/2), centre / diagonal = e
  local g = K.gaussian(5, 1)
  near(g:get(3, 3) / g:get(3, 2), math.exp(0.5), 1e-5)
  near(g:get(3, 3) / g:get(2, 2), math.exp(1), 1e-5)
  near(K.gaussian(5):sum(), 1, 1e-5, "default sigma")
end)

test("kernels: fixed 3x3 values", function()
  same_tensor(K.sobel_x(), {{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}, 0)
  same_tensor(K.sobel_y(), {{-1, -2, -1}, {0, 0, 0}, {1, 2, 1}}, 0)
  same_tensor(K.laplacian(), {{0, 1, 0}, {1, -4, 1}, {0, 1, 0}}, 0)
  same_tensor(K.sharpen(), {{0, -1, 0}, {-1, 5, -1}, {0, -1, 0}}, 0)
  same_tensor(K.emboss(), {{-2, -1, 0}, {-1, 1, 1}, {0, 1, 2}}, 0)
  same_tensor(K.outline(), {{-1, -1, -1}, {-1, 8, -1}, {-1, -1, -1}}, 0)
  same_tensor(K.identity(), {{0, 0, 0}, {0, 1, 0}, {0, 0, 0}}, 0)
  same_tensor(K.identity(1), {{1}}, 0)
  same_tensor(K.box(2), {{0.25, 0.25}, {0.25, 0.25}}, 0)
  near(K.box(5):get(5, 5), 1 / 25, 1e-7)
end)

test("kernels: unsharp = identity + amount * (identity - gaussian)", function()
  local g, u = K.gaussian(5, 1.5), K.unsharp(5, 1.5, 2)
  local id = K.identity(5)
  check(max_abs_diff(u, id + (id - g) * 2) < 1e-6, "formula")
  near(u:sum(), 1, 1e-5, "sums to 1")
  near(K.unsharp(5, 1.5):sum(), 1, 1e-5, "default amount")
end)

test("kernels: motion blur lines", function()
  local h = K.motion_blur(5)
  for j = 1, 5 do near(h:get(3, j), 0.2, 1e-6) end
  near(h:sum(), 1, 1e-6)
  check(h:get(2, 3) == 0, "only the middle row")
  local v = K.motion_blur(7, 90)
  for i = 1, 7 do near(v:get(i, 4), 1 / 7, 1e-6) end
  local d = K.motion_blur(5, 45)
  near(d:get(1, 5), d:get(3, 3), 0, "45 degrees: bottom-left to top-right")
  check(d:get(1, 1) == 0, "not the other diagonal")
end)

test("kernels: argument errors", function()
  raises(function() K.gaussian(5, 0) end,
         "image.kernels.gaussian: bad argument #2 'sigma': must be > 0")
  raises(function() K.gaussian(5, -1) end, "'sigma': must be > 0")
  raises(function() K.gaussian(4, 1) end,
         "image.kernels.gaussian: bad argument #1 'size'", "odd")
  raises(function() K.box(0) end, "image.kernels.box: bad argument #1 'size'")
  raises(function() K.unsharp(3, 1, 0 / 0) end, "'amount'")
  raises(function() K.motion_blur(6) end, "motion_blur", "odd")
  raises(function() K.gaussian("five") end, "gaussian", "'size'")
  raises(function() K.sobel_x(3) end, "image.kernels.sobel_x: takes no arguments")
  raises(function() K.identity(2.5) end, "identity", "whole number")
end)

-- ---------------------------------------------------------------------------
-- the lab's compute = conv.conv2d
-- ---------------------------------------------------------------------------
local img = tensor.rand(3, 23, 31)

test("lab: result equals conv.conv2d, depthwise, same padding", function()
  local lab = viz.lab(img, K.sobel_x())
  local want = conv.conv2d(img, weight(K.sobel_x()), {padding = "same", groups = 3})
  local got = lab:result()
  check(got:dim() == 3 and got:size(1) == 3 and got:size(2) == 23 and got:size(3) == 31)
  check(max_abs_diff(got, want) < 1e-5, "max diff " .. max_abs_diff(got, want))
  lab:close()
end)

test("lab: stride, padding modes, dilation, flip, full mixing", function()
  local lab = viz.lab(img)
  local k = K.emboss()
  local cases = {
    {set = {kernel = k, stride = 2, padding = 1, padding_mode = "reflect"},
     opts = {stride = 2, padding = 1, padding_mode = "reflect", groups = 3}},
    {set = {kernel = k, stride = 1, padding = 2, dilation = 2, padding_mode = "circular"},
     opts = {padding = 2, dilation = 2, padding_mode = "circular", groups = 3}},
    {set = {kernel = k, padding = "valid", stride = 3, dilation = 1,
            padding_mode = "replicate"},
     opts = {padding = 0, stride = 3, groups = 3}},
    {set = {kernel = k, padding = "same", stride = 1, dilation = 1, convolution = true,
            padding_mode = "zeros"},
     opts = {padding = "same", groups = 3}, flip = true},
    {set = {kernel = k, mixing = "full", convolution = false}, opts = {padding = "same"},
     full = true},
  }
  for n, c in ipairs(cases) do
    lab:set(c.set)
    local kk = c.flip and k:flip(1, 2) or k
    local want = conv.conv2d(img, weight(kk, c.full), c.opts)
    local got = lab:result()
    check(got:size(2) == want:size(2) and got:size(3) == want:size(3),
          "case " .. n .. " shape")
    check(max_abs_diff(got, want) < 1e-5, "case " .. n .. " values")
  end
  lab:close()
end)

test("lab: even and non-square kernels, custom mix", function()
  local k = tensor.new{{1, -2, 0.5}, {0.25, 3, -1}}
  local lab = viz.lab(img, {kernel = k, padding = "same"})
  local want = conv.conv2d(img, weight(k), {padding = "same", groups = 3})
  check(max_abs_diff(lab:result(), want) < 1e-5, "2x3 kernel, same")
  -- mix: output 1 = input 3, output 2 = inputs 1 + 2, output 3 = 0
  local lab2 = viz.lab(img, {{1, -2, 0.5}, {0.25, 3, -1}}) -- a nested table
  check(max_abs_diff(lab2:kernel(), k) == 0, "kernel from a nested table")
  lab2:close()
  lab:set{mix = {{0, 0, 1}, {1, 1, 0}, {0, 0, 0}}}
  local k4 = k:reshape(1, 1, 2, 3)
  local z = k4 * 0
  local w = tensor.cat({tensor.cat({z, z, k4}, 2), tensor.cat({k4, k4, z}, 2),
                        tensor.cat({z, z, z}, 2)}, 1)
  local y = conv.conv2d(img, w, {padding = "same"})
  check(max_abs_diff(lab:result(), y) < 1e-5, "custom mix")
  check(lab:get().mixing == "full")
  lab:close()
end)

test("lab: gradient magnitude = sqrt(sobel_x^2 + sobel_y^2)", function()
  local lab = viz.lab(img)
  lab:preset("gradient_magnitude")
  check(lab:get().magnitude == true, "magnitude on")
  local gx = conv.conv2d(img, weight(K.sobel_x()), {padding = "same", groups = 3})
  local gy = conv.conv2d(img, weight(K.sobel_y()), {padding = "same", groups = 3})
  local want = (gx * gx + gy * gy):sqrt()
  check(max_abs_diff(lab:result(), want) < 1e-5)
  lab:preset("sobel_y")
  check(lab:get().magnitude == false, "another preset turns it off")
  lab:close()
end)

test("lab: presets take image.kernels' arguments", function()
  local lab = viz.lab(img)
  lab:preset("gaussian", 7, 2)
  check(max_abs_diff(lab:kernel(), K.gaussian(7, 2)) == 0)
  lab:preset("unsharp", 5, 1, 3)
  check(max_abs_diff(lab:kernel(), K.unsharp(5, 1, 3)) == 0)
  lab:preset("motion_blur", 9, 30)
  check(max_abs_diff(lab:kernel(), K.motion_blur(9, 30)) == 0)
  lab:set{size = 5}
  check(max_abs_diff(lab:kernel(), K.motion_blur(5, 30)) == 0, "size rebuilds the preset")
  check(lab:get().preset == "motion_blur")
  lab:set{cell = {1, 1, 2}}
  check(lab:get().preset == "custom" and lab:kernel():get(1, 1) == 2, "edited cell")
  lab:set{normalize = true}
  near(lab:kernel():sum(), 1, 1e-5, "normalised")
  raises(function() lab:preset("blur") end, "lab:preset", "unknown preset 'blur'")
  raises(function() lab:preset("sobel_x", 3) end, "takes 0 argument")
  raises(function() lab:preset("gaussian", 5, -1) end, "sigma")
  lab:close()
end)

-- ---------------------------------------------------------------------------
-- readout = result
-- ---------------------------------------------------------------------------
test("lab: readout of a pixel equals the result there", function()
  local lab = viz.lab(img, {preset = "emboss", padding_mode = "reflect", stride = 2,
                           padding = 1, map = "offset"})
  local y = lab:result()
  for _, p in ipairs{{1, 1, 1}, {2, 5, 7}, {3, y:size(2), y:size(3)}} do
    local r = lab:readout(p[1], p[2], p[3])
    near(r.value, y:get(p[1], p[2], p[3]), 1e-5, "value")
    check(r.ntaps == 9 and #r.taps == 9, "9 taps")
    local s = 0
    for _, t in ipairs(r.taps) do s = s + t.w * t.x end
    near(s, r.value, 1e-5, "sum of w*x")
    near(r.mapped, math.max(0, math.min(1, 0.5 + 0.5 * r.value)), 1e-6, "offset map")
  end
  -- output (1,1) with stride 2, padding 1: tap (1,1) reads row 0, col 0
  -- (1-based), which reflect padding resolves to row 2, col 2.
  local t = lab:readout(1, 1, 1).taps[1]
  check(t.row == 0 and t.col == 0 and t.src_row == 2 and t.src_col == 2, "reflect tap")
  near(t.x, img:get(1, 2, 2), 0)
  lab:set{padding_mode = "zeros"}
  t = lab:readout(1, 1, 1).taps[1]
  check(t.src_row == nil and t.x == 0, "zero padding tap")
  raises(function() lab:readout(1, 100, 1) end, "lab:readout", "outside")
  lab:close()
end)

-- ---------------------------------------------------------------------------
-- settings and their errors
-- ---------------------------------------------------------------------------
test("lab: bad settings raise and change nothing", function()
  local lab = viz.lab(img, {preset = "box", stride = 2, padding = 1})
  raises(function() lab:set{strid = 2} end, "lab:set: unknown setting 'strid'")
  raises(function() lab:set{padding_mode = "mirror"} end, "'opts.padding_mode'", "mirror")
  raises(function() lab:set{stride = 0} end, "opts.stride")
  raises(function() lab:set{map = "log"} end, "'opts.map'")
  raises(function() lab:set{padding = "same"} end, "strided")
  raises(function() lab:set{kernel = tensor.zeros(2, 2, 2)} end, "opts.kernel", "2-D")
  raises(function() lab:set{padding = 40, padding_mode = "reflect", stride = 1} end,
         "Padding size should be less")
  local s = lab:get()
  check(s.stride == 2 and s.padding == 1 and s.padding_mode == "zeros" and
        s.preset == "box", "unchanged after errors")
  raises(function() viz.lab(tensor.zeros(5, 4, 4)) end, "viz.lab", "1 to 4 channels")
  raises(function() viz.lab("/nonexistent/x.png") end, "viz.lab")
  raises(function() viz.lab(img, 42) end, "viz.lab: bad argument #2")
  lab:close()
  raises(function() lab:get() end, "closed")
end)

test("lab: one-channel and four-channel images", function()
  local g = tensor.rand(1, 9, 8)
  local lab = viz.lab(g, K.laplacian())
  local want = conv.conv2d(g, K.laplacian():reshape(1, 1, 3, 3), {padding = "same"})
  check(max_abs_diff(lab:result(), want) < 1e-5)
  lab:close()
  local rgba = tensor.rand(4, 6, 7)
  lab = viz.lab(rgba, {preset = "box"})
  check(lab:result():size(1) == 4)
  lab:close()
end)

-- ---------------------------------------------------------------------------
-- saving
-- ---------------------------------------------------------------------------
test("lab: save beside the input with a new name, the shown values", function()
  local d = tmpdir()
  local src = d .. "/photo.png"
  image.save(tensor.rand(3, 20, 30), src)
  local lab = viz.lab(src, {preset = "sobel_x", map = "abs"})
  local p1 = lab:save()
  check(p1 == d .. "/photo-lab.png", p1)
  local p2 = lab:save()
  check(p2 == d .. "/photo-lab-2.png", p2)
  check(exists(p1) and exists(p2) and exists(src))
  -- the file holds the shown (mapped) result, quantised to 8 bits
  local saved = image.load(p1)
  local shown = lab:result{mapped = true}
  check(max_abs_diff(saved, shown) <= 0.5 / 255 + 1e-6, "saved = shown")
  local y = lab:result()
  check(max_abs_diff(shown, y:abs():clamp(0, 1)) < 1e-6, "abs mapping")
  local p3 = lab:save(d .. "/explicit.png")
  check(p3 == d .. "/explicit.png" and exists(p3))
  lab:close()
  os.execute("rm -rf '" .. d .. "'")
end)

test("lab: open another image (as dropping a file does)", function()
  local d = tmpdir()
  local other = tensor.rand(3, 12, 17)
  image.save(other, d .. "/other.png")
  local lab = viz.lab(img, {preset = "box", hover = {5, 5}})
  lab:open(d .. "/other.png")
  local y = lab:result()
  check(y:size(2) == 12 and y:size(3) == 17, "new size")
  local x = image.load(d .. "/other.png")
  local want = conv.conv2d(x, weight(K.box()), {padding = "same", groups = 3})
  check(max_abs_diff(y, want) < 1e-5, "filtered the new image")
  check(lab:save() == d .. "/other-lab.png", "saves beside the new file")
  raises(function() lab:open(d .. "/missing.png") end, "lab:open")
  check(lab:result():size(3) == 17, "a failed open keeps the image")
  lab:close()
  os.execute("rm -rf '" .. d .. "'")
end)

-- ---------------------------------------------------------------------------
-- rendered frames
-- ---------------------------------------------------------------------------
-- Pixel (x, y) of a PNG, 0-based, as 0..255 integers.
local function pixel(t, x, y)
  local function b(c) return math.floor(t:get(c, y + 1, x + 1) * 255 + 0.5) end
  return b(1), b(2), b(3)
end

test("lab screenshot: after view shows the filtered image", function()
  -- left half red, right half blue; 64 x 48
  local rows = {}
  local R, G, B = {}, {}, {}
  for y = 1, 48 do
    R[y], G[y], B[y] = {}, {}, {}
    for x = 1, 64 do
      R[y][x] = x <= 32 and 1 or 0
      G[y][x] = 0
      B[y][x] = x <= 32 and 0 or 1
    end
  end
  local x = tensor.new{R, G, B}
  local d = tmpdir()
  local lab = viz.lab(x, {view = "after"})
  lab:screenshot(d .. "/a.png")
  local s = image.load(d .. "/a.png")
  check(s:size(2) == 800 and s:size(3) == 1280, "1280x800 frame")
  -- image area 920x774, fit zoom 14.375, image at x 0..920, y 42..732;
  -- sample pixel centres (grid lines are drawn at this zoom): column k is
  -- at x = (k + 0.5) * 14.375, row 24 at y = 394
  local r, g, b = pixel(s, 194, 394)
  check(r == 255 and g == 0 and b == 0, string.format("left red, got %d %d %d", r, g, b))
  r, g, b = pixel(s, 698, 394)
  check(r == 0 and g == 0 and b == 255, string.format("right blue, got %d %d %d", r, g, b))
  -- sobel_x, offset mapping: flat areas grey 128, the red->blue edge:
  -- red channel falls (dark), blue rises (bright)
  lab:set{preset = "sobel_x", map = "offset"}
  lab:screenshot(d .. "/b.png")
  s = image.load(d .. "/b.png")
  r, g, b = pixel(s, 194, 394)
  check(r == 128 and g == 128 and b == 128, string.format("flat grey, got %d %d %d", r, g, b))
  r, g, b = pixel(s, 453, 394) -- column 31, the last red one
  check(r == 0 and g == 128 and b == 255, string.format("edge, got %d %d %d", r, g, b))
  -- split view: before on the left of the line, after on the right
  lab:set{view = "split", split = 0.75}
  lab:screenshot(d .. "/c.png")
  s = image.load(d .. "/c.png")
  r, g, b = pixel(s, 597, 394)
  check(r == 0 and g == 0 and b == 255, string.format("before side blue, got %d %d %d", r, g, b))
  r, g, b = pixel(s, 798, 394)
  check(r == 128 and g == 128 and b == 128, string.format("after side grey, got %d %d %d", r, g, b))
  r, g, b = pixel(s, 690, 300)
  check(r > 200 and g > 200 and b > 200, "the split line")
  lab:close()
  os.execute("rm -rf '" .. d .. "'")
end)

test("lab screenshot: kernel grid colours, selection and zoom", function()
  local d = tmpdir()
  local lab = viz.lab(img, {preset = "sobel_x", select = {2, 3}})
  lab:screenshot(d .. "/k.png")
  local s = image.load(d .. "/k.png")
  local x, y, w, h = lab:cell_rect(2, 3) -- value 2: strongest red
  check(x and w > 20, "cell (2,3) drawn")
  local r, g, b = pixel(s, x + 4, y + h // 2)
  check(r > 150 and b < 80, string.format("positive cell red, got %d %d %d", r, g, b))
  local x1, y1 = lab:cell_rect(2, 1) -- value -2: blue
  r, g, b = pixel(s, x1 + 4, y1 + h // 2)
  check(b > 120 and r < 80, string.format("negative cell blue, got %d %d %d", r, g, b))
  r, g, b = pixel(s, x, y + h // 2) -- selection frame (accent) on the edge
  check(r == 255 and g == 196 and b == 0, string.format("selection frame, got %d %d %d", r, g, b))
  -- zoom 20 centred on input pixel (12, 16): one input pixel = 20 screen px
  lab:set{preset = "identity", view = "before", zoom = 20, center = {12, 16}, select = false}
  lab:screenshot(d .. "/z.png")
  s = image.load(d .. "/z.png")
  -- centre of the area (460, 387) lies in pixel (12, 16); check its colour
  local want = {}
  for c = 1, 3 do want[c] = math.floor(img:get(c, 12, 16) * 255 + 0.5) end
  r, g, b = pixel(s, 462, 384)
  check(math.abs(r - want[1]) <= 1 and math.abs(g - want[2]) <= 1 and
        math.abs(b - want[3]) <= 1,
        string.format("zoomed pixel %d %d %d, want %d %d %d", r, g, b, want[1], want[2], want[3]))
  lab:close()
  os.execute("rm -rf '" .. d .. "'")
end)

test("lab screenshot: hover readout footprint", function()
  local d = tmpdir()
  local lab = viz.lab(img, {preset = "box", view = "after", zoom = 16, center = {10, 10},
                           hover = {10, 10}})
  lab:screenshot(d .. "/h.png")
  local s = image.load(d .. "/h.png")
  -- output (10,10) = input (10,10) (same padding): its square spans
  -- x 460-8-0..., framed in the accent-2 colour 2 px outside the square
  local found = 0
  for x = 430, 490 do
    local r, g, b = pixel(s, x, 387)
    if r == 0 and g == 220 and b == 140 then found = found + 1 end
  end
  check(found >= 2, "output pixel frame (green) drawn, found " .. found)
  lab:close()
  os.execute("rm -rf '" .. d .. "'")
end)

test("lab readout: products rounded to float32 as computed (1e30 x 1e30 is inf)", function()
  local img = tensor.full({1, 3, 3}, 1e30)
  local lab = viz.lab(img, {kernel = tensor.new{{0, 0, 0}, {0, 1e30, 0}, {0, 0, 0}}, padding = 1})
  local r = lab:readout(1, 2, 2)
  check(r.value == math.huge, "readout: " .. tostring(r.value))
  local y = lab:result()
  check(y:get(1, 2, 2) == math.huge, "the result agrees: " .. tostring(y:get(1, 2, 2)))
  lab:close()
end)

test("lab:set reads stride, dilation and padding with conv.*'s parser (pairs, 'valid') and the lab's limits", function()
  local lab = viz.lab(nil, {preset = "box"})
  lab:set{stride = {2, 2}, padding = {1, 1}, dilation = {1}}
  local s = lab:get()
  check(s.stride == 2 and s.padding == 1 and s.dilation == 1, "pairs: " .. s.stride .. " " .. s.padding)
  lab:set{padding = "valid"}
  check(lab:get().padding == 0, "valid")
  raises(function() lab:set{stride = {1, 2}} end, "'opts.stride'", "one stride for both dimensions")
  raises(function() lab:set{padding = {top = 1}} end, "'opts.padding'", "all four sides alike")
  raises(function() lab:set{padding = "foo"} end, "'opts.padding'", "Invalid padding string")
  raises(function() lab:set{dilation = 65} end, "'opts.dilation'", "out of range 1..64")
  check(lab:get().stride == 2, "a failed set changes nothing")
end)
