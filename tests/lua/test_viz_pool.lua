-- test_viz_pool.lua: the pooling step-through views (viz.max_pool2d,
-- viz.avg_pool2d, viz.max_pool1d, viz.avg_pool1d): the numbers every step
-- shows equal conv.max_pool2d / avg_pool2d at every cell on random
-- problems; the argmax and indices equal return_indices; keys and errors.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_viz_pool.lua
math.randomseed(1212)
tensor.manual_seed(1212)
local rint = math.random

local function same(a, b) return a == b or (a ~= a and b ~= b) end

-- Walk every output cell of v: value and last running max / sum equal the
-- op's y (exactly: the trace and the reference loop add in the same order);
-- for max, the argmax's flat index equals return_indices.
local function check_cells(v, y, ind, what, dims)
  local s = v:state()
  v:seek(1)
  local nd = #y:shape()
  local function get(t, o)
    if dims == 1 then -- (N, C, L) or (C, L); the view says (n, c, 1, t)
      if nd == 3 then return t:get(o[1], o[2], o[4]) end
      return t:get(o[2], o[4])
    end
    if nd == 4 then return t:get(o[1], o[2], o[3], o[4]) end
    return t:get(o[2], o[3], o[4])
  end
  for step = 1, s.steps do
    local st = v:state()
    local o = st.out
    local want = get(y, o)
    check(same(st.value, want), string.format("%s: value %.9g at step %d, op %.9g",
                                                what, st.value, step, want))
    if st.divisor then
      check(same(st.sum / st.divisor, want) or
            math.abs(st.sum / st.divisor - want) <= 1e-6 * math.max(1, math.abs(want)),
            what .. ": sum / divisor")
    else
      check(same(st.sum, want), what .. ": running max at step " .. step)
    end
    if ind then
      local wi = get(ind, o)
      check(st.index == wi, string.format("%s: index %s at step %d, op %s", what,
                                          tostring(st.index), step, tostring(wi)))
      -- the argmax cell (1-based) is the index's cell: row = index // W + 1
      local W = v:state().input_width
      local a = st.argmax
      check(a[1] == o[1] and a[2] == o[2], what .. ": argmax in the output's plane")
      if W then check((a[3] - 1) * W + a[4] - 1 == wi, what .. ": argmax cell") end
    end
    v:step()
  end
end

local function random_pool(kind)
  local k = {rint(1, 4), rint(1, 4)}
  local o = {}
  if rint(0, 1) == 1 then o.stride = {rint(1, 3), rint(1, 3)} end
  if rint(0, 1) == 1 then o.padding = {rint(0, k[1] // 2), rint(0, k[2] // 2)} end
  if kind == "max" and rint(0, 2) == 0 then o.dilation = {rint(1, 2), rint(1, 2)} end
  o.ceil_mode = rint(0, 1) == 1
  if kind == "avg" then
    o.count_include_pad = rint(0, 1) == 1
    if rint(0, 5) == 0 then o.divisor_override = rint(1, 5) end
  else
    o.return_indices = true
  end
  local x = tensor.randn(rint(1, 2), rint(1, 3), rint(1, 7), rint(1, 7))
  return x, k, o
end

test("viz.max_pool2d / avg_pool2d: every cell equals the op, random problems", function()
  conv.set_impl("reference")
  local tried = 0
  for it = 1, 60 do
    for _, kind in ipairs{"max", "avg"} do
      local x, k, o = random_pool(kind)
      local okv, v = pcall(viz[kind .. "_pool2d"], x, k, o)
      local oky, y, ind = pcall(conv[kind .. "_pool2d"], x, k, o)
      check(okv == oky, string.format("%s: view %s, op %s", kind, tostring(v), tostring(y)))
      if okv then
        tried = tried + 1
        check_cells(v, y, ind, kind .. " problem " .. it)
        v:close()
      end
    end
  end
  conv.set_impl("auto")
  check(tried >= 60, "only " .. tried .. " valid problems")
end)

test("viz.max_pool2d: argmax, indices (0-based flat h*W + w), padding reads -inf", function()
  local x = tensor.new{{1, 9, 2}, {3, 4, 8}, {7, 5, 6}}:reshape(1, 1, 3, 3)
  local v = viz.max_pool2d(x, 2, {stride = 1, padding = 1, return_indices = true,
                                  by = "tap"})
  local s = v:state()
  check(s.view == "max_pool2d" and s.steps == 16 * 4, "16 windows of 4 cells")
  check(s.taps[1].kind == "padding" and s.taps[1].x == -math.huge, "padding reads -inf")
  check(s.taps[4].kind == "input" and s.taps[4].x == 1)
  v:seek(4) -- window (1,1) complete: max 1 at x[1,1,1,1], index 0
  s = v:state()
  check(s.value == 1 and s.index == 0, "index " .. tostring(s.index))
  check(s.argmax[3] == 1 and s.argmax[4] == 1)
  v:mode("cell")
  v:seek(7) -- output (2, 3): window rows 1-2, cols 2-3 -> max 9 at (1, 2)
  s = v:state()
  check(s.out[3] == 2 and s.out[4] == 3)
  check(s.value == 9 and s.index == 1 and s.argmax[3] == 1 and s.argmax[4] == 2)
  local _, ind = conv.max_pool2d(x, 2, {stride = 1, padding = 1, return_indices = true})
  check(ind:get(1, 1, 2, 3) == 1)
  check(s.params.return_indices == true and s.params.ceil_mode == false)
  check(s.params.kernel_size[1] == 2 and s.params.kernel_size[2] == 2)
end)

test("viz.avg_pool2d: count_include_pad, divisor, ceil_mode's window", function()
  local x = tensor.arange(25):reshape(1, 1, 5, 5)
  local v = viz.avg_pool2d(x, 2, {padding = 1, ceil_mode = true})
  local s = v:state()
  check(s.output_shape[3] == 3, "ceil_mode's 4th window starts in the padding: dropped")
  check(s.formula.h:find("dropped", 1, true), s.formula.h)
  check(s.divisor == 4, "padding counted")
  v:key("i")
  s = v:state()
  check(s.params.count_include_pad == false and s.divisor == 1)
  check(s.value == 0, "x[1,1,1,1] alone")
  v:key("e")
  s = v:state()
  check(s.params.ceil_mode == false and s.output_shape[3] == 3)
  local y = conv.avg_pool2d(x, 2, {padding = 1, count_include_pad = false})
  check_cells(v, y, nil, "after keys") -- (integers: exact in any order)
  -- no padding, ceil_mode: the last window runs past the input
  v = viz.avg_pool2d(x, 2, {ceil_mode = true, by = "tap"})
  s = v:state()
  check(s.output_shape[3] == 3)
  v:seek(-1)
  s = v:state()
  check(s.taps[4].kind == "beyond" and s.taps[1].kind == "input")
  check(s.divisor == 1 and s.value == 24)
end)

test("viz pooling views: keys edit stride, padding, dilation; refused keys say why", function()
  local x = tensor.randn(1, 2, 6, 6)
  local v = viz.max_pool2d(x, 3)
  v:key("s", true)
  check(v:state().params.stride[1] == 2)
  v:key("p")
  local s = v:state()
  check(s.params.padding[1] == 1 and s.params.padding[3] == 1)
  conv.set_impl("reference")
  local y, ind = conv.max_pool2d(x, 3, {stride = 2, padding = 1, return_indices = true})
  check_cells(v, y, ind, "edited")
  conv.set_impl("auto")
  v:key("p"); v:key("p")
  s = v:state()
  check(s.error and s.error:find("pad should be at most half of kernel size", 1, true), s.error)
  v:key("p", true); v:key("p", true)
  check(v:state().error == nil, "recovers")
  v:key("m")
  check(v:state().status:find("not a pooling parameter", 1, true))
  local a = viz.avg_pool2d(x, 2)
  a:key("d")
  check(a:state().status:find("no dilation", 1, true))
  v:key("i")
  check(v:state().status:find("count_include_pad", 1, true))
end)

test("viz.max_pool1d / avg_pool1d: rows, every cell equals the op", function()
  conv.set_impl("reference")
  for it = 1, 20 do
    local x = tensor.randn(rint(1, 2), rint(1, 3), rint(2, 12))
    local k = rint(1, 4)
    local o = {stride = rint(1, 3), padding = rint(0, k // 2), ceil_mode = rint(0, 1) == 1}
    local v = viz.avg_pool1d(x, k, o)
    check_cells(v, conv.avg_pool1d(x, k, o), nil, "avg1d " .. it, 1)
    o.dilation = rint(1, 2)
    o.return_indices = true
    local ok, v2 = pcall(viz.max_pool1d, x, k, o)
    local ok2, y, ind = pcall(conv.max_pool1d, x, k, o)
    check(ok == ok2, tostring(v2) .. " / " .. tostring(y))
    if ok then
      check(v2:state().view == "max_pool1d")
      check_cells(v2, y, ind, "max1d " .. it, 1)
    end
  end
  conv.set_impl("auto")
end)

test("viz pooling views: bad calls name the function and the argument", function()
  local x = tensor.randn(1, 1, 4, 4)
  raises(function() viz.max_pool2d(x) end, "viz.max_pool2d", "kernel_size")
  raises(function() viz.max_pool2d(x, 2, {bogus = 1}) end, "viz.max_pool2d",
         "unknown option 'bogus'")
  raises(function() viz.avg_pool2d(x, 2, {dilation = 2}) end, "viz.avg_pool2d",
         "unknown option 'dilation'")
  raises(function() viz.max_pool2d(x, 2, {padding = 2}) end, "viz.max_pool2d",
         "pad should be at most half of kernel size")
  raises(function() viz.max_pool2d(tensor.randn(4, 4), 2) end, "viz.max_pool2d", "input")
  raises(function() viz.max_pool2d("x", 2) end, "viz.max_pool2d", "tensor expected")
  raises(function() viz.avg_pool2d(x, 2, {divisor_override = 0}) end, "viz.avg_pool2d",
         "divisor must be not zero")
  raises(function() viz.max_pool1d(x, 2) end, "viz.max_pool1d", "input")
  raises(function() viz.max_pool2d(x, 2, {by = "row"}) end, "viz.max_pool2d", "opts.by")
end)

test("viz pooling views: v:code writes the F.*_pool call with the current options", function()
  local x = tensor.randn(1, 2, 5, 5)
  local v = viz.max_pool2d(x, 3, {stride = 2, padding = 1, return_indices = true})
  local c = v:code("pytorch")
  check(c:find("y, indices = F.max_pool2d(x, kernel_size=3, stride=2, padding=1,", 1, true), c)
  check(c:find("ceil_mode=False, return_indices=True)", 1, true), c)
  check(not c:find("conv2d", 1, true) and not c:find("w = ", 1, true), "no weights: " .. c)
  v:key("e")
  check(v:code("pytorch"):find("ceil_mode=True", 1, true), "follows the keys")
  local k, ok = v:code("keras")
  check(k:find("not expressible in Keras", 1, true), k)
  local a = viz.avg_pool2d(x, 2, {count_include_pad = false})
  c = a:code("pytorch")
  check(c:find("F.avg_pool2d(x, kernel_size=2, stride=2, padding=0,", 1, true), c)
  check(c:find("count_include_pad=False, divisor_override=None)", 1, true), c)
  k = a:code("keras")
  check(k:find("keras.layers.AveragePooling2D(pool_size=2, strides=2, padding=\"valid\")", 1, true), k)
  local m1 = viz.max_pool1d(tensor.randn(2, 9), 3, {padding = 1})
  c = m1:code("pytorch")
  check(c:find("x = x.squeeze(2)", 1, true) and c:find("F.max_pool1d(x, kernel_size=3, stride=3, padding=1,", 1, true), c)
end)

-- Click the header control whose key is `key` (kind "chip", "plus", "minus").
local function click(v, key, kind)
  local lay = v:layout()
  for _, c in ipairs(lay.controls) do
    if c.key == key and (kind == nil or c.kind == kind) then
      v:click(c.x + c.w // 2, c.y + c.h // 2)
      return true
    end
  end
  return false
end

test("viz pooling views: every header control clicks (steppers, ceil_mode, count_include_pad)", function()
  local x = tensor.randn(1, 1, 7, 7)
  local v = viz.max_pool2d(x, 3, {stride = 1})
  check(click(v, "s", "plus")); check(v:state().params.stride[1] == 2)
  check(click(v, "s", "minus")); check(v:state().params.stride[1] == 1)
  check(click(v, "p", "plus")); check(v:state().params.padding[1] == 1)
  check(click(v, "d", "plus")); check(v:state().params.dilation[1] == 2)
  check(click(v, "e", "chip")); check(v:state().params.ceil_mode == true)
  check(not click(v, "i"), "no count_include_pad control on a max pooling view")
  local a = viz.avg_pool2d(x, 2, {padding = 1})
  check(not click(a, "d"), "no dilation control on an avg pooling view")
  check(click(a, "i", "chip")); check(a:state().params.count_include_pad == false)
  check(click(a, "e", "chip")); check(a:state().params.ceil_mode == true)
  conv.set_impl("reference") -- the sums in the reference loop's order
  local y = conv.avg_pool2d(x, 2, {padding = 1, count_include_pad = false, ceil_mode = true})
  check_cells(a, y, nil, "after clicks")
  conv.set_impl("auto")
  local c = viz.conv1d(tensor.randn(1, 1, 9), tensor.randn(1, 1, 3), {padding = "causal"})
  check(click(c, "d", "plus"))
  local s = c:state()
  check(s.params.dilation[2] == 2 and s.params.padding[3] == 4 and s.params.padding[4] == 0,
        "causal after a click on dilation +")
end)

test("viz.max_unpool2d: every output cell equals conv.max_unpool2d, random problems", function()
  for it = 1, 25 do
    local k = {rint(1, 3), rint(1, 3)}
    local o = {stride = {rint(1, 3), rint(1, 3)}, return_indices = true}
    if rint(0, 1) == 1 then o.padding = {rint(0, k[1] // 2), rint(0, k[2] // 2)} end
    local x = tensor.randn(rint(1, 2), rint(1, 2), rint(2, 7), rint(2, 7))
    local okp, y, ind = pcall(conv.max_pool2d, x, k, o)
    if okp then
      local uo = {stride = o.stride, padding = o.padding}
      local oku, u = pcall(conv.max_unpool2d, y, ind, k, uo)
      local okv, v = pcall(viz.max_unpool2d, y, ind, k, uo)
      check(oku == okv, tostring(u) .. " / " .. tostring(v))
      if okv then
        local s = v:state()
        check(s.view == "max_unpool2d")
        for step = 1, s.steps do
          v:seek(step)
          local st = v:state()
          local want = u:get(st.out[1], st.out[2], st.out[3], st.out[4])
          check(st.value == want, string.format("unpool %d step %d: %g vs %g", it, step,
                                                st.value, want))
          check(st.index == (st.out[3] - 1) * s.output_shape[4] + st.out[4] - 1)
          if st.source then
            local src = st.source
            check(y:get(src[1], src[2], src[3], src[4]) == want, "the source holds the value")
            check(ind:get(src[1], src[2], src[3], src[4]) == st.index, "its index names the cell")
          else
            check(want == 0, "no source: 0")
          end
        end
      end
    end
  end
end)

test("viz.max_unpool2d: output_size, keys refused, errors as conv.max_unpool2d", function()
  local x = tensor.randn(1, 1, 4, 4)
  local y, ind = conv.max_pool2d(x, 2, {return_indices = true})
  local v = viz.max_unpool2d(y, ind, 2, {output_size = {5, 5}, title = "unpool"})
  local s = v:state()
  check(s.output_shape[3] == 5 and s.output_shape[4] == 5)
  check(s.params.output_size[1] == 5)
  check(s.formula.h:find("output_size gives 5", 1, true), s.formula.h)
  v:key("s")
  check(v:state().status:find("the indices fix", 1, true))
  raises(function() viz.max_unpool2d(y, ind) end, "viz.max_unpool2d", "kernel_size")
  raises(function() viz.max_unpool2d(y, ind, 2, {output_size = {9, 9}}) end,
         "viz.max_unpool2d", "invalid output_size")
  raises(function() viz.max_unpool2d(y, ind + 100, 2) end, "viz.max_unpool2d",
         "Found an invalid max index")
  raises(function() viz.max_unpool2d(y, tensor.zeros(1, 1, 3, 3), 2) end,
         "viz.max_unpool2d", "indices")
  raises(function() viz.max_unpool2d(y, ind, 2, {bogus = 1}) end, "viz.max_unpool2d",
         "unknown option 'bogus'")
end)

test("v:set on pooling and 1-D views: their own keys, the ops' numbers after", function()
  local x = tensor.randn(1, 2, 7, 7)
  local v = viz.max_pool2d(x, 3)
  check(v:set{stride = {1, 2}, padding = 1, ceil_mode = true, dilation = 2} == true)
  local s = v:state()
  check(s.params.stride[1] == 1 and s.params.stride[2] == 2 and s.params.ceil_mode)
  conv.set_impl("reference")
  local o = {stride = {1, 2}, padding = 1, ceil_mode = true, dilation = 2, return_indices = true}
  local y, ind = conv.max_pool2d(x, 3, o)
  check_cells(v, y, ind, "after v:set")
  local a = viz.avg_pool2d(x, 2)
  check(a:set{count_include_pad = false, padding = 1} == true)
  check_cells(a, conv.avg_pool2d(x, 2, {count_include_pad = false, padding = 1}), nil, "avg after set")
  conv.set_impl("auto")
  raises(function() a:set{dilation = 2} end, "view:set", "unknown option 'dilation'")
  local ok, why = v:set{padding = 3}
  check(ok == false and why:find("pad should be at most half", 1, true), why)
  local c = viz.conv1d(tensor.randn(1, 1, 9), tensor.randn(1, 1, 3))
  check(c:set{padding = "causal", dilation = 3} == true)
  s = c:state()
  check(s.params.padding[3] == 6 and s.params.padding[4] == 0 and s.params.dilation[2] == 3
        and s.params.dilation[1] == 1 and s.output_shape[3] == 1)
  check(c:set{padding = 1, stride = 2} == true)
  s = c:state()
  check(s.params.padding[1] == 0 and s.params.padding[3] == 1 and s.params.stride[2] == 2
        and s.params.stride[1] == 1)
  local py, pi = conv.max_pool2d(tensor.randn(1, 1, 6, 6), 2, {return_indices = true})
  raises(function() viz.max_unpool2d(py, pi, 2):set{stride = 1} end, "view:set", "fixed by its indices")
end)
