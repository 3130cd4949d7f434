-- make_figures.lua: renders the README figures with convplay itself.
--   build/convplay --headless scripts/make_figures.lua [outdir]
-- Writes assets/figures/*.png, an SVG, and GIFs of whole step-throughs.
-- Figures leave out the window's chrome (key hints, play state).
local dir = arg and arg[1] or "assets/figures"
local function out(name) return dir .. "/" .. name end
local fig = {chrome = false}

-- 1. conv2d: padding 1, stride 2, one multiply-add at a time
local x = tensor.arange(36):reshape(1, 1, 6, 6) - 12
local w = tensor.new{{1, 0, -1}, {2, 0, -2}, {1, 0, -1}}:reshape(1, 1, 3, 3)
local v = viz.conv2d(x, w, {padding = 1, stride = 2, bias = {0.5}, by = "tap",
                            title = "conv2d, tap by tap",
                            caption = "padding 1 (dashed zeros), stride 2: the footprint, each product and the running sum"})
v:seek(4 * 9 + 6) -- output (2,1), sixth tap
v:screenshot(out("conv2d_taps.png"), fig)
-- the same frame for papers and slides: light, as a vector figure
v:screenshot(out("conv2d_taps_light.svg"), {chrome = false, theme = "light"})
v:screenshot(out("conv2d_taps_light.png"), {chrome = false, theme = "light"})

-- 2./3. the same transposed convolution in both views
local xt = tensor.ones(1, 1, 4, 4)
local wt = (tensor.arange(16) + 1):reshape(1, 1, 4, 4)
local vt = viz.conv_transpose2d(xt, wt, {stride = 2, padding = 1, view = "scatter",
                                         title = "conv_transpose2d: scatter view",
                                         caption = "each input pixel times the kernel, added at (2r, 2c); the dashed ring is cropped by padding=1"})
vt:seek(6)
vt:screenshot(out("transposed_scatter.png"), fig)
vt:view("gather")
vt:title("conv_transpose2d: zero-insertion view")
vt:caption("the same numbers: stride-1 holes, a border of d(k-1)-p = 2, the flipped kernel sliding")
vt:seek(10)
vt:screenshot(out("transposed_gather.png"), fig)

-- 4. partial convolution with a masked input
local xm = tensor.arange(16):reshape(1, 1, 4, 4)
local m = tensor.new{{1, 1, 1, 0}, {1, 0, 1, 1}, {1, 1, 0, 1}, {0, 1, 1, 1}}:reshape(1, 1, 4, 4)
local vm = viz.conv2d(xm, tensor.ones(1, 1, 2, 2), {stride = 2, mask = m, partial = true,
                                                   title = "partial convolution",
                                                   caption = "masked cells are crossed out; the sum is rescaled by taps/S = 4/3 and the mask updated"})
vm:seek(3)
vm:screenshot(out("partial_conv.png"), fig)

-- 5. groups: which input channels feed which outputs
local xg = tensor.arange(3 * 25):reshape(1, 3, 5, 5) / 10
local wg = tensor.new{{1, 0, -1}, {1, 0, -1}, {1, 0, -1}}:reshape(1, 1, 3, 3)
wg = tensor.cat({wg, wg * 2, wg * -1, wg, wg * 0.5, wg * 3}, 1)
local vg = viz.conv2d(xg, wg, {groups = 3, padding = 1, padding_mode = "reflect",
                               title = "depthwise conv2d, groups = 3, reflect padding",
                               caption = "two output channels per input channel; padding cells show the reflected values"})
vg:seek(3 * 25 + 6)
vg:screenshot(out("groups_reflect.png"), fig)

-- 6. the whole step-through of a small conv2d, as an animated GIF
local va = viz.conv2d(tensor.arange(25):reshape(1, 1, 5, 5), tensor.ones(1, 1, 3, 3),
                      {padding = 1, stride = 2,
                       title = "conv2d: 5x5 input, 3x3 kernel, padding 1, stride 2"})
local frames = va:record(out("conv2d_steps.gif"),
                         {fps = 1, width = 960, height = 600, chrome = false})
-- and tap by tap, grids only, in the spirit of the convolution-arithmetic
-- GIFs but with the numbers
va:record(out("conv2d_taps_grids.gif"),
          {by = "tap", fps = 4, width = 960, height = 420, chrome = false,
           panels = {"input", "kernel", "output"}})

-- 7. the image filter lab on the project's sample image
local lab = viz.lab(nil, {preset = "gradient_magnitude", map = "abs"})
lab:screenshot(out("lab_gradient.png"))
-- 8. pooling: max pooling with padding and indices, avg pooling with
-- ceil_mode's extra and dropped windows; 9. a dilated causal conv1d
local xp = tensor.new{{1, 9, 2, 0, 5, 3}, {3, 4, 8, 1, 2, 6}, {7, 5, 6, 3, 0, 2},
                      {2, 8, 1, 9, 4, 1}, {6, 0, 3, 7, 1, 8}, {4, 2, 5, 0, 9, 3}}:reshape(1, 1, 6, 6)
local vp = viz.max_pool2d(xp, 3, {stride = 2, padding = 1, return_indices = true,
                                  title = "max_pool2d: kernel 3, stride 2, padding 1",
                                  caption = "padding reads -inf; green: the argmax, its flat index h*W + w (0-based) is what return_indices gives"})
vp:seek(5)
vp:screenshot(out("pool_max.png"), fig)
vp:record(out("pool_max.gif"), {fps = 1, width = 960, height = 560, chrome = false})
local xa = tensor.arange(25):reshape(1, 1, 5, 5)
local va2 = viz.avg_pool2d(xa, 2, {padding = 1, ceil_mode = true, count_include_pad = false,
                                   title = "avg_pool2d: kernel 2, padding 1, ceil_mode, count_include_pad off",
                                   caption = "padding is not counted in the divisor; red dashes: the window ceil_mode drops (it would start in the padding)"})
va2:record(out("pool_avg_ceil.gif"), {fps = 1, width = 960, height = 560, chrome = false})
local yp, ip = conv.max_pool2d(xp, 2, {return_indices = true})
local vu = viz.max_unpool2d(yp, ip, 2, {title = "max_unpool2d: the maxima of a 2x2 max_pool2d go back",
                                        caption = "each output cell takes the x whose index (h*W_out + w) names it; the others stay 0"})
vu:record(out("unpool.gif"), {fps = 4, width = 960, height = 560, chrome = false})
local xc = tensor.arange(16):reshape(1, 1, 16) * 0.25 - 2
local vc = viz.conv1d(xc, tensor.new{{{1, 2, 4}}}, {padding = "causal", dilation = 2,
                                                    title = "conv1d, causal, dilation 2",
                                                    caption = "d(k-1) = 4 zeros on the left only: output t reads inputs t-4, t-2, t, never later ones"})
vc:seek(9)
vc:screenshot(out("conv1d_causal.png"), fig)
vc:record(out("conv1d_causal.gif"), {fps = 2, width = 960, height = 400, chrome = false})

print("figures written to " .. dir .. " (GIF: " .. frames .. " frames)")
