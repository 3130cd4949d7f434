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

-- The texts drawn in a frame of v.
local function texts(v, w, h)
  local t = {}
  for _, b in ipairs(v:layout{width = w or 1600, height = h or 900}) do
    if b.text then t[#t + 1] = b.text end
  end
  return t
end

-- A number shown with 2 decimals is within 0.005 of the value.
local function close2(got, want, what)
  check(got and math.abs(got - want) <= 0.0051 + 1e-6 * math.abs(want),
        string.format("%s: shown %s, value %.6g", what, tostring(got), want))
end

-- "gx[n,c,h,w] += [y×w[o,i,k,l] = ]a×b[ = p] → s" (a negative b in
-- parentheses; a compact column may leave p out): the indices and
-- numbers, or nil.
local function parse_ct(s)
  local gi, rest = s:match("^gx%[([%d,]+)%] %+= (.+)$")
  if not gi then return nil end
  local wi = rest:match("^y×w%[([%d,]+)%] = ")
  rest = rest:gsub("^y×w%[[%d,]+%] = ", "")
  local num = "(%-?[%d.]+e?[%-+]?%d*)"
  local a, lp, b, rp, p, r = rest:match("^" .. num .. "×(%(?)" .. num .. "(%)?) = " ..
                                        num .. " → " .. num .. "$")
  if not a then
    a, lp, b, rp, r = rest:match("^" .. num .. "×(%(?)" .. num .. "(%)?) → " .. num .. "$")
  end
  if not a then return {bad = s} end
  local function ints(t)
    local o = {}
    for d in t:gmatch("%d+") do o[#o + 1] = tonumber(d) end
    return o
  end
  return {gx = ints(gi), w = wi and ints(wi), a = tonumber(a), b = tonumber(b),
          p = tonumber(p), run = tonumber(r), paren = lp == "(" and rp == ")"}
end

test("viz.unfold matrix_t: the list shows y·w added into gx (2 decimals), the running gx = conv_transpose2d's", function()
  tensor.manual_seed(3)
  local x = tensor.arange(32):reshape(1, 2, 4, 4)
  local w = tensor.randn(2, 2, 2, 2)
  local o = {padding = 1, stride = 2}
  local y = conv.conv2d(x, w, o)
  local v = viz.unfold(x, w, copy(o, {gemm = "matrix_t"}))
  local steps = v:state().steps
  for _, step in ipairs{1, 5, 9, steps} do
    v:seek(step)
    local st = v:state()
    local yv = y:get(table.unpack(st.out))
    local nonpad, lines, head, gxlabel = 0, 0, false, false
    for _, tp in ipairs(st.taps) do
      if tp.input then nonpad = nonpad + 1 end
    end
    for _, s in ipairs(texts(v)) do
      check(not s:find("Σ", 1, true), "no forward products or sums in Cᵀ: " .. s)
      if s == "gx" then gxlabel = true end
      if s:find("^Cᵀ: y%[") then
        head = true
        close2(tonumber(s:match("^Cᵀ: y%[[%d,]+%] = (%S+) times")), yv, "headline y")
      end
      local t = parse_ct(s)
      if t then
        check(not t.bad, "a tap line reads gx[..] += a×b = p → s: " .. tostring(t.bad))
        -- at most 2 decimals, but 2 significant digits below 0.01
        check(not s:gsub("0%.00%d+", ""):match("%d%.%d%d%d"), "at most 2 decimals: " .. s)
        lines = lines + 1
        close2(t.a, yv, "factor y")
        -- the weight: named in a full line; the tap reading that cell
        local wv
        for _, tp in ipairs(st.taps) do
          if tp.input and table.concat(tp.input, ",") == table.concat(t.gx, ",") then
            wv = w:get(table.unpack(tp.kernel))
            check(not t.w or table.concat(t.w, ",") == table.concat(tp.kernel, ","),
                  "the weight named is the tap's: " .. s)
          end
        end
        check(wv, "gx cell read by a tap of this output: " .. s)
        close2(t.b, wv, "factor w")
        check(t.paren == (t.b < 0), "a negative factor in parentheses: " .. s)
        if t.p then close2(t.p, yv * wv, "product") end
        -- the step is whole: every gx cell's running value is Cᵀ y so far
        local C, H, W = 2, 4, 4
        local n, c, h, ww = table.unpack(t.gx)
        check(n == st.out[1] and c >= 1 and c <= C, "gx index " .. s)
        close2(t.run, st.ct[((c - 1) * H + h - 1) * W + ww], "running gx")
      end
    end
    check(head, "the headline names y and its value")
    check(gxlabel, "the product column is labelled gx")
    check(lines == nonpad, string.format("step %d: %d gx lines for %d products", step, lines, nonpad))
  end
  -- at the end gx is conv_transpose2d(y, w) (output_padding: the dropped row)
  local gx = conv.conv_transpose2d(y, w, {stride = 2, padding = 1, output_padding = 1})
  local ct = v:state().ct
  for c = 1, 2 do
    for h = 1, 4 do
      for ww = 1, 4 do
        near(ct[((c - 1) * 4 + h - 1) * 4 + ww], gx:get(1, c, h, ww), 1e-4, "Cᵀ y")
      end
    end
  end
  local res = false
  for _, s in ipairs(texts(v)) do
    if s:find("conv_transpose2d(y, w)", 1, true) then res = true end
  end
  check(res, "the last step says gx is conv_transpose2d(y, w)")
  -- one tap per step: taps to come are listed without a result
  local vt = viz.unfold(x, w, copy(o, {gemm = "matrix_t", by = "tap"}))
  vt:seek(4 * 8 + 3)
  local pending = 0
  for _, s in ipairs(texts(vt)) do
    if s:match("^gx%[[%d,]+%] %+= ") and not s:find("→", 1, true) then
      check(s:match("×%S+$"), "a tap to come shows its factors: " .. s)
      pending = pending + 1
    end
    check(not s:find("Σ", 1, true), "no forward sums: " .. s)
  end
  check(pending > 0, "taps to come: gx[..] += a×b")
end)

test("viz.unfold matrix and matrix_t: beside the matrix, the vectors as tensors with colour bars", function()
  local x = tensor.arange(32):reshape(1, 2, 4, 4)
  local v = viz.unfold(x, tensor.randn(2, 2, 2, 2), {padding = 1, stride = 2, gemm = "matrix"})
  v:seek(5)
  local function has(t, pat)
    for _, s in ipairs(t) do if s:find(pat, 1, true) then return true end end
    return false
  end
  local t = texts(v, 1366, 768)
  check(has(t, "x (2×4×4"), "x as a tensor")
  check(has(t, "y = C·x (2×3×3)"), "y as a tensor")
  check(has(t, "y"), "y column labelled")
  v:gemm("matrix_t")
  t = texts(v, 1366, 768)
  check(has(t, "gx = Cᵀ·y so far (2×4×4)"), "gx as a tensor")
  check(has(t, "y (2×3×3"), "y as a tensor")
end)
