-- test_viz_gemm.lua: the unfold view (viz.unfold): im2col columns equal
-- conv.unfold's, the products conv2d's, Cᵀ y conv_transpose2d's, on random
-- problems with stride, padding, dilation, groups and a batch; modes, keys,
-- refusals and errors.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_viz_gemm.lua
math.randomseed(8765)
tensor.manual_seed(31)

local function rint(lo, hi) return math.random(lo, hi) end

local function problem()
  local G = rint(1, 2)
  local C, O = G * rint(1, 2), G * rint(1, 2)
  local kh, kw = rint(1, 3), rint(1, 2)
  local o = {stride = {rint(1, 2), rint(1, 3)}, padding = {rint(0, 1), rint(0, 1)},
             dilation = {rint(1, 2), rint(1, 2)}, groups = G}
  local H = (kh - 1) * o.dilation[1] + rint(1, 4)
  local W = (kw - 1) * o.dilation[2] + rint(1, 4)
  return tensor.randn(rint(1, 2), C, H, W), tensor.randn(O, C // G, kh, kw), o
end

local function copy(o, extra)
  local t = {}
  for k, v in pairs(o) do t[k] = v end
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

test("viz.unfold im2col: each step's factors are a column of conv.unfold and a row of W; values conv2d's", function()
  for trial = 1, 10 do
    local x, w, o = problem()
    local y = conv.conv2d(x, w, o)
    local cols = conv.unfold(x, {w:size()[3], w:size()[4]},
                             {stride = o.stride, padding = o.padding, dilation = o.dilation})
    local v = viz.unfold(x, w, copy(o))
    check(v:gemm() == "im2col" and v:state().gemm == "im2col")
    local OW = y:size()[4]
    local Kg = w:size()[2] * w:size()[3] * w:size()[4]
    local what = "trial " .. trial
    for s = 1, v:state().steps do
      v:seek(s)
      local st = v:state()
      local n, oc, r, c = table.unpack(st.out)
      near(st.value, y:get(n, oc, r, c), 1e-4, what .. " value")
      local L = (r - 1) * OW + c
      for k, tp in ipairs(st.taps) do
        near(tp.x, cols:get(n, (st.group - 1) * Kg + k, L), 0, what .. " column entry")
      end
    end
  end
end)

test("viz.unfold matrix_t: Cᵀ y equals conv_transpose2d(y, w) (the adjoint), sample by sample", function()
  for trial = 1, 10 do
    local x, w, o = problem()
    local y = conv.conv2d(x, w, o)
    local H, W = x:size()[3], x:size()[4]
    local kh, kw = w:size()[3], w:size()[4]
    local op = {}
    for d = 1, 2 do
      local len = ({H, W})[d] + 2 * o.padding[d] - o.dilation[d] * (({kh, kw})[d] - 1) - 1
      op[d] = len % o.stride[d]
    end
    local gx = conv.conv_transpose2d(y, w, {stride = o.stride, padding = o.padding,
                                           dilation = o.dilation, groups = o.groups,
                                           output_padding = op})
    local v = viz.unfold(x, w, copy(o, {gemm = "matrix_t"}))
    local N, O, OH, OW = table.unpack(y:size())
    local per = O * OH * OW
    for n = 1, N do
      v:seek(n * per)
      local ct = v:state().ct
      local C = x:size()[2]
      check(#ct == C * H * W, "ct length")
      for ci = 1, C do
        for h = 1, H do
          for ww = 1, W do
            near(ct[((ci - 1) * H + h - 1) * W + ww], gx:get(n, ci, h, ww), 1e-4,
                 "trial " .. trial .. " Cᵀy")
          end
        end
      end
    end
    -- partway: only the output cells done have added in
    v:seek(1)
    local ct = v:state().ct
    local v2 = viz.unfold(x, w, copy(o, {gemm = "matrix"}))
    check(v2:state().ct[1] == ct[1], "the matrix view reports the same Cᵀ y")
  end
end)

test("viz.unfold: key u cycles the pictures, step kept; f refused", function()
  local v = viz.unfold(tensor.randn(1, 1, 4, 4), tensor.randn(1, 1, 2, 2))
  v:seek(5)
  check(v:key("u") and v:gemm() == "matrix" and v:state().step == 5)
  check(v:key("u") and v:gemm() == "matrix_t")
  check(v:key("u") and v:gemm() == "im2col")
  check(v:key("U") and v:gemm() == "matrix_t")
  check(not v:key("f") and v:state().status:find("unfold", 1, true))
end)

test("viz.unfold: errors and sizes too large to draw", function()
  local x, w = tensor.randn(1, 2, 4, 4), tensor.randn(3, 2, 3, 3)
  raises(function() viz.unfold(x) end, "viz.unfold", "#2", "weight")
  raises(function() viz.unfold(x, w, {gemm = "bogus"}) end, "viz.unfold", "opts.gemm", "bogus")
  raises(function() viz.unfold(x, w, {mask = x}) end, "viz.unfold", "mask")
  raises(function() viz.unfold(x, tensor.randn(3, 3, 3, 3)) end, "viz.unfold")
  raises(function() viz.unfold(tensor.randn(1, 16, 20, 20), tensor.randn(4, 16, 3, 3)) end,
         "viz.unfold", "too large to draw")
  raises(function() viz.unfold(tensor.randn(1, 3, 12, 12), tensor.randn(4, 3, 3, 3), {gemm = "matrix"}) end,
         "viz.unfold", "the convolution matrix C is 400 x 432", "too large to draw")
  local v = viz.unfold(x, w)
  raises(function() v:gemm("nope") end, "invalid option 'nope'")
  raises(function() viz.conv2d(x, w):gemm() end, "view:gemm", "not an unfold view")
end)
