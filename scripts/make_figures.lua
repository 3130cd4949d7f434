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

-- 8. the code on screen (key C) and correlation vs convolution side by
-- side (key F), on the edge example of the tour
local xe = tensor.zeros(1, 1, 5, 7)
xe:narrow(3, 2, 3):narrow(4, 3, 3):fill(1)
local ve = viz.conv2d(xe, tensor.new{{-1, 1}}:reshape(1, 1, 1, 2),
                      {padding = {0, 1}, bias = {0.5},
                       mask = tensor.new{{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1},
                                         {1, 1, 0, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1},
                                         {1, 1, 1, 1, 1, 1, 1}},
                       title = "the code on screen",
                       caption = "C: the PyTorch code that computes exactly this view (again: Keras), c copies it"})
ve:seek(9)
ve:key("C")
ve:screenshot(out("code_panel.png"), fig)
ve:key("C")
ve:key("C")
local vc = viz.conv2d(xe, tensor.new{{-1, 1}}:reshape(1, 1, 1, 2),
                      {compare = true, title = "correlation vs true convolution",
                       caption = "F: conv2d and the flipped kernel on the same input; the cells that differ outlined"})
vc:seek(8)
vc:screenshot(out("compare.png"), fig)
vc:record(out("compare_steps.gif"), {fps = 3, width = 800, height = 450, chrome = false})

-- 7. the image filter lab on the project's sample image
local lab = viz.lab(nil, {preset = "gradient_magnitude", map = "abs"})
lab:screenshot(out("lab_gradient.png"))
-- 8. the backward pass: grad_weight as the correlation of x with
-- grad_output, grad_input as the transposed convolution of grad_output
local xb = tensor.arange(25):reshape(1, 1, 5, 5) / 10
local wb = tensor.new{{1, 0, -1}, {2, 0, -2}, {1, 0, -1}}:reshape(1, 1, 3, 3)
local gyb = tensor.new{{1, -1, 0.5}, {0, 2, -1}, {-0.5, 1, 1}}:reshape(1, 1, 3, 3)
local vb = viz.conv2d_backward(xb, wb, gyb, {stride = 2, padding = 1, grad = "weight",
                                             title = "conv2d backward: grad_weight",
                                             caption = "each weight tap sums x times grad_output over the 9 output positions its forward tap fed"})
vb:seek(5)
vb:screenshot(out("backward_grad_weight.png"), fig)
vb:grad("input")
vb:title("conv2d backward: grad_input")
vb:caption("each grad_output cell times the kernel, added back where its forward window read x; taps that read padding are cropped")
vb:seek(5)
vb:screenshot(out("backward_grad_input.png"), fig)
vb:grad("weight")
vb:title("conv2d backward: grad_weight, tap by tap")
vb:record(out("backward_steps.gif"), {by = "tap", fps = 4, max_frames = 90, width = 960,
                                      height = 560, chrome = false})

-- 9. im2col: the patches as columns, the kernels as rows; and the matrix C
local vals = {}
for i = 0, 31 do vals[#vals + 1] = (i * 5) % 7 - 3 end
local xu = tensor.new(vals):reshape(1, 2, 4, 4)
local wu = tensor.new{{1, -1}, {1, 2}}:reshape(1, 1, 2, 2)
wu = tensor.cat({tensor.cat({wu, -wu}, 2), tensor.cat({wu:transpose(3, 4), wu * 2}, 2)}, 1)
local vu = viz.unfold(xu, wu, {padding = 1,
                               title = "im2col: y = W · unfold(x)",
                               caption = "the patch of the current output is a column of unfold(x), its kernel a row of W"})
vu:seek(7)
vu:screenshot(out("unfold_im2col.png"), fig)
local vc = viz.unfold(tensor.new(vals):narrow(1, 1, 16):reshape(1, 1, 4, 4),
                     tensor.new{{1, 2, 1}, {0, 0, 0}, {-1, -2, -1}}:reshape(1, 1, 3, 3),
                     {padding = 1, gemm = "matrix", title = "conv2d as a sparse matrix C",
                      caption = "one row per output cell: the kernel at the columns of the input cells its window reads; Cᵀ is conv_transpose2d"})
vc:seek(6)
vc:screenshot(out("unfold_matrix.png"), fig)
vu:gemm("im2col")
vu:title("im2col, one output cell per frame")
vu:record(out("unfold_steps.gif"), {fps = 2, width = 960, height = 560, chrome = false})

-- 10. correlation and convolution side by side
local vals5 = {}
for i = 0, 24 do vals5[#vals5 + 1] = (i * 3) % 5 - 2 end
local vcmp = viz.compare(tensor.new(vals5):reshape(1, 1, 5, 5),
                         tensor.new{{1, 2, 0}, {0, 1, -1}, {0, -2, 1}}:reshape(1, 1, 3, 3),
                         {padding = 1, title = "correlation (conv2d) vs convolution (flipped kernel)",
                          caption = "the same input cells times w and times w turned 180°; cells that differ are outlined"})
vcmp:seek(13)
vcmp:screenshot(out("compare_corr_conv.png"), fig)
vcmp:record(out("compare_steps.gif"), {fps = 2, width = 960, height = 560, chrome = false})
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

-- a stack of layers: the receptive field of one output cell back to the input
local vs = viz.stack{input = {3, 32, 32},
  title = "viz.stack: conv s2 → max_pool → dilated conv → conv_transpose, one cell's receptive field",
  {op = "conv2d", weight = tensor.zeros(8, 3, 3, 3), stride = 2, padding = 1},
  {op = "max_pool2d", kernel_size = 2},
  {op = "conv2d", weight = tensor.zeros(16, 8, 3, 3), padding = 2, dilation = 2},
  {op = "conv_transpose2d", weight = tensor.zeros(16, 8, 3, 3), stride = 2, padding = 1,
   output_padding = 1}}
vs:hover(4, 8, 8)
vs:screenshot(out("stack_receptive.png"), {width = 1280, height = 560})

print("figures written to " .. dir .. " (GIF: " .. frames .. " frames)")
