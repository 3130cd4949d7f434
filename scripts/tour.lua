-- tour.lua: the guided tour through the seed scripts (what `make run` and
-- a bare `build/convplay` open).  Each page is one step-through view:
-- Tab / PageDown goes to the next page, Shift+Tab / PageUp back; ? shows
-- every key.  Under --headless the tour builds its pages and returns them
-- (scripts/make_figures.lua and the tests use that).
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "scripts"

-- Run a seed script, keeping the views it would open instead of opening
-- them, and its printed numbers out of the way.
local function seed_views(name)
  local views = {}
  local run, out, headless = viz.run, print, viz.headless
  viz.run = function(v) views[#views + 1] = v end
  print = function() end
  viz.headless = false -- seeds open their view only with a window
  local ok, err = pcall(dofile, here .. "/seeds/" .. name .. ".lua")
  viz.run, print, viz.headless = run, out, headless
  if not ok then error("tour: seed " .. name .. " failed: " .. tostring(err), 0) end
  return views
end

local pages = {}
local function page(v, title, caption)
  v:title(title)
  v:caption(caption)
  pages[#pages + 1] = v
end

local function from_seed(name, title, caption)
  for _, v in ipairs(seed_views(name)) do page(v, title, caption) end
end

-- 1. what conv2d computes, tap by tap
do
  local x = tensor.new{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}:reshape(1, 1, 3, 3)
  local w = tensor.new{{1, 10}, {100, 1000}}:reshape(1, 1, 2, 2)
  local v = viz.conv2d(x, w, {padding = 1, by = "tap"})
  page(v, "1. conv2d, one multiply-add at a time",
       "the digits of each output show which taps hit it; Right: next tap, t: whole cells, Space: play")
end
from_seed("correlation_vs_convolution", "2. PyTorch's conv2d is cross-correlation",
          "the kernel is not flipped: f flips it (true convolution), F shows both side by side, C the PyTorch code")
from_seed("output_size", "3. output size",
          "s/S p/P d/D change stride, padding, dilation; the formula below updates, invalid values show why")
-- 4. padding modes
do
  local x = tensor.arange(9):reshape(1, 1, 3, 3) + 1
  local v = viz.conv2d(x, tensor.ones(1, 1, 3, 3), {padding = 1, padding_mode = "reflect"})
  page(v, "4. padding modes",
       "dashed cells are padding: m cycles zeros / reflect / replicate / circular (their values shown)")
end
-- 5. stride and dilation
do
  local x = tensor.arange(25):reshape(1, 1, 5, 5)
  local w = tensor.new{{1, 10}, {100, 1000}}:reshape(1, 1, 2, 2)
  page(viz.conv2d(x, w, {stride = 2, dilation = 2, bias = {0.5}, by = "tap"}),
       "5. stride 2, dilation 2, bias 0.5",
       "the footprint skips a cell between taps (dilation) and jumps two cells per output (stride)")
end
from_seed("groups", "6. groups and depthwise convolution",
          "groups=3: each output channel reads only its group's input channels (wiring at the bottom right)")
from_seed("masked_input", "7. masked input, partial convolution",
          "crossed cells are masked out; partial conv rescales by taps/S and updates the mask")
from_seed("keras_mask", "8. a masked Keras kernel (HWIO labels)",
          "grey crossed taps are masked; labels show PyTorch OIHW w[o,i] and Keras HWIO k[:,:,i,o]")
from_seed("transposed", "9. transposed convolution, pixel by pixel",
          "each input pixel times the kernel is added into the canvas; padding crops it (v: zero-insertion view)")
do
  local x = tensor.new{{1, 2}, {3, 4}}:reshape(1, 1, 2, 2)
  page(viz.conv_transpose2d(x, tensor.ones(1, 1, 3, 3),
                            {stride = 2, padding = 1, output_padding = 1, view = "gather"}),
       "10. transposed convolution with output_padding",
       "holes between pixels, border d(k-1)-p, flipped kernel; output_padding adds the purple row (o/O)")
end
do
  local x = tensor.randn(1, 1, 64, 64)
  page(viz.conv2d(x, tensor.new{{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}:reshape(1, 1, 3, 3),
                  {padding = 1}),
       "11. a 64x64 input",
       "cells shrink and labels hide: + / - zoom, drag to pan, hover a cell for its receptive field")
end
-- the backward pass: the gradients PyTorch's autograd computes, step by step
do
  local x = tensor.arange(25):reshape(1, 1, 5, 5) / 10
  local w = tensor.new{{1, 0, -1}, {2, 0, -2}, {1, 0, -1}}:reshape(1, 1, 3, 3)
  local w2 = tensor.cat({w, w:transpose(3, 4)}, 1)
  local gy = tensor.new{{1, -1, 0.5}, {0, 2, -1}, {-0.5, 1, 1}}:reshape(1, 1, 3, 3)
  gy = tensor.cat({gy, gy * -0.5}, 2)
  page(viz.conv2d_backward(x, w2, gy, {stride = 2, padding = 1, grad = "weight"}),
       "12. the backward pass: grad_weight",
       "each weight tap sums x times grad_output over every output position it fed; g: grad_input / grad_bias")
end
-- im2col: the same convolution as one matrix product
do
  local vals = {}
  for i = 0, 31 do vals[#vals + 1] = (i * 5) % 7 - 3 end -- small integers
  local x = tensor.new(vals):reshape(1, 2, 4, 4)
  local w = tensor.new{{1, -1}, {1, 2}}:reshape(1, 1, 2, 2)
  w = tensor.cat({tensor.cat({w, -w}, 2), tensor.cat({w:transpose(3, 4), w * 2}, 2)}, 1)
  page(viz.unfold(x, w, {padding = 1, stride = 1}),
       "13. im2col: convolution as a matrix product",
       "each patch is a column of unfold(x), each kernel a row of W: y = W · unfold(x); u: the matrix C and Cᵀ")
end
-- correlation and convolution at once: the flip decides which cells differ
do
  local vals = {}
  for i = 0, 24 do vals[#vals + 1] = (i * 3) % 5 - 2 end
  local x = tensor.new(vals):reshape(1, 1, 5, 5)
  page(viz.compare(x, tensor.new{{1, 0, -1}, {2, 0, -2}, {1, 0, -1}}:reshape(1, 1, 3, 3),
                   {padding = 1}),
       "14. correlation vs convolution, side by side",
       "the same taps times w and times w turned 180°: a Sobel kernel flips sign, so every cell differs (outlined)")
end
-- pooling: the window with no weights (pages numbered from the end of the
-- list so that pages added elsewhere merge without renumbering)
do
  local x = tensor.new{{1, 9, 2, 0, 5}, {3, 4, 8, 1, 2}, {7, 5, 6, 3, 0},
                       {2, 8, 1, 9, 4}, {6, 0, 3, 7, 1}}:reshape(1, 1, 5, 5)
  page(viz.max_pool2d(x, 3, {stride = 2, padding = 1, return_indices = true, by = "tap"}),
       #pages + 1 .. ". max pooling: padding reads -inf, the argmax wins",
       "the window keeps the largest value (green: its argmax; indices = h*W + w, 0-based); e: ceil_mode")
  page(viz.avg_pool2d(x, 2, {padding = 1, ceil_mode = true, count_include_pad = false}),
       #pages + 1 .. ". avg pooling, ceil_mode, count_include_pad",
       "i: count padding in the divisor or not; red dashes: the window ceil_mode drops (it would start in the padding)")
end
-- max_unpool2d: the maxima go back where return_indices says
do
  local x = tensor.new{{1, 9, 2, 0}, {3, 4, 8, 1}, {7, 5, 6, 3}, {2, 8, 1, 9}}:reshape(1, 1, 4, 4)
  local y, ind = conv.max_pool2d(x, 2, {return_indices = true})
  page(viz.max_unpool2d(y, ind, 2),
       #pages + 1 .. ". max_unpool2d: the maxima go back to their places",
       "each output cell takes the x whose index (h*W_out + w, 0-based, from max_pool2d) names it; the rest stay 0")
end
-- 1-D and causal: a WaveNet-style dilated causal convolution
do
  local x = tensor.arange(16):reshape(1, 1, 16) * 0.25 - 2
  page(viz.conv1d(x, tensor.new{{{1, 2, 4}}}, {padding = "causal", dilation = 2, by = "tap"}),
       #pages + 1 .. ". 1-D causal convolution, dilation 2",
       "d(k-1) zeros on the left only: output t reads inputs t-4, t-2, t and none later; d/D grows the receptive field")
end
-- a stack of layers: every shape, its formula, the receptive field of a
-- hovered cell back to the input (a static page: no steps)
do
  local s = viz.stack{input = {3, 32, 32},
    {op = "conv2d", weight = tensor.zeros(8, 3, 3, 3), stride = 2, padding = 1},
    {op = "max_pool2d", kernel_size = 2},
    {op = "conv2d", weight = tensor.zeros(16, 8, 3, 3), padding = 2, dilation = 2},
    {op = "conv_transpose2d", weight = tensor.zeros(16, 8, 3, 3), stride = 2, padding = 1,
     output_padding = 1},
    title = #pages + 1 .. ". a stack of layers: shapes and receptive fields (hover a cell)"}
  s:hover(4, 8, 8)
  pages[#pages + 1] = s
end

if viz.headless then return pages end
viz.run(pages)
