-- test_viz_1d.lua: the 1-D step-through views (viz.conv1d,
-- viz.conv_transpose1d): every output cell equals conv.conv1d /
-- conv_transpose1d on random problems; causal padding (left d(k-1), output
-- t reads only inputs <= t); 1-D keys, names and errors.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_viz_1d.lua
math.randomseed(1213)
tensor.manual_seed(1213)
local rint = math.random

-- y is (N, C, L) or (C, L); the view's indices are (n, c, 1, t).
local function y_at(y, o)
  if #y:shape() == 3 then return y:get(o[1], o[2], o[4]) end
  return y:get(o[2], o[4])
end

local function check_cells(v, y, tol, what)
  local s = v:state()
  check(s.steps > 0, what .. ": steps")
  v:seek(1)
  for step = 1, s.steps do
    local st = v:state()
    if st.out then
      near(st.value, y_at(y, st.out), tol, what .. " value at step " .. step)
      if st.sum and st.view ~= "scatter" then
        near(st.sum, y_at(y, st.out), tol, what .. " sum at step " .. step)
      end
    end
    v:step()
  end
end

test("viz.conv1d: every cell equals conv.conv1d, random problems (causal too)", function()
  local tried = 0
  for it = 1, 40 do
    local G = rint(1, 2)
    local C, O = G * rint(1, 2), G * rint(1, 2)
    local k = rint(1, 4)
    local x = rint(0, 1) == 1 and tensor.randn(rint(1, 2), C, rint(1, 14))
              or tensor.randn(C, rint(1, 14))
    local w = tensor.randn(O, C // G, k)
    local o = {stride = rint(1, 2), dilation = rint(1, 3), groups = G}
    local r = rint(0, 3)
    if r == 0 then o.padding = "causal"
    elseif r == 1 then o.padding = rint(0, 2)
    elseif r == 2 then o.padding = {left = rint(0, 2), right = rint(0, 2)} end
    if rint(0, 1) == 1 then o.bias = tensor.randn(O) end
    local okv, v = pcall(viz.conv1d, x, w, o)
    local oky, y = pcall(conv.conv1d, x, w, o)
    check(okv == oky, "view " .. tostring(v) .. " / op " .. tostring(y))
    if okv then
      tried = tried + 1
      check(v:state().view == "conv1d")
      check_cells(v, y, 1e-5, "conv1d " .. it)
    end
  end
  check(tried >= 25, "only " .. tried)
end)

test("viz.conv1d causal: left padding d(k-1), output t reads only inputs <= t", function()
  local x = tensor.randn(1, 1, 12)
  local w = tensor.randn(1, 1, 3)
  for _, d in ipairs{1, 2, 4} do
    local v = viz.conv1d(x, w, {padding = "causal", dilation = d, by = "tap"})
    local s = v:state()
    check(s.output_shape[4] == 12, "same length")
    check(s.params.padding[3] == d * 2 and s.params.padding[4] == 0,
          "padding " .. table.concat(s.params.padding, ","))
    v:mode("cell")
    for t = 1, 12 do
      v:seek(t)
      local st = v:state()
      local lo = math.huge
      for _, tp in ipairs(st.taps) do
        if tp.kind == "input" then
          check(tp.input[4] <= st.out[4], "output " .. st.out[4] .. " reads " .. tp.input[4])
          lo = math.min(lo, tp.input[4])
        end
      end
      -- the receptive field spans d(k-1) + 1 samples, ending at t
      check(st.taps[3].kind == "input" and st.taps[3].input[4] == t)
      if t > 2 * d then check(lo == t - 2 * d, "dilation grows the field") end
    end
    near(v:state().value, conv.conv1d(x, w, {padding = "causal", dilation = d}):get(1, 1, 12))
    -- d keeps it causal; p makes the padding explicit
    v:key("d")
    s = v:state()
    check(s.params.padding[3] == (d + 1) * 2 and s.params.padding[4] == 0)
    v:key("p")
    s = v:state()
    check(s.params.padding[4] == 1 and s.status:find("no longer causal", 1, true))
  end
end)

test("viz.conv1d keys edit the width only; formula names L", function()
  local v = viz.conv1d(tensor.randn(1, 2, 10), tensor.randn(2, 2, 3), {padding = 1})
  v:key("s")
  local s = v:state()
  check(s.params.stride[1] == 1 and s.params.stride[2] == 2)
  v:key("d")
  s = v:state()
  check(s.params.dilation[1] == 1 and s.params.dilation[2] == 2)
  check(s.error == nil, s.error)
  check(s.formula.w:find("^L_out"), s.formula.w)
  check(s.output_shape[3] == 1)
end)

test("viz.conv_transpose1d: scatter and gather views equal conv.conv_transpose1d", function()
  for it = 1, 15 do
    local x = tensor.randn(1, 2, rint(1, 7))
    local w = tensor.randn(2, rint(1, 2), rint(1, 3))
    local s = rint(1, 3)
    local o = {stride = s, padding = rint(0, 1), output_padding = rint(0, s - 1)}
    local oky, y = pcall(conv.conv_transpose1d, x, w, o)
    for _, view in ipairs{"gather", "scatter"} do
      o.view = view
      local okv, v = pcall(viz.conv_transpose1d, x, w, o)
      check(okv == oky, tostring(v) .. " / " .. tostring(y))
      if okv and view == "gather" then check_cells(v, y, 1e-5, "convT1d " .. it) end
      if okv and view == "scatter" then
        v:seek(-1)
        local last = v:output()
        for t = 1, y:shape()[3] do near(last:get(1, 1, 1, t), y:get(1, 1, t), 1e-5) end
      end
      o.view = nil
    end
  end
end)

test("viz 1-D views: bad calls name the function and the argument", function()
  local x, w = tensor.randn(1, 2, 8), tensor.randn(3, 2, 3)
  raises(function() viz.conv1d(x) end, "viz.conv1d", "weight")
  raises(function() viz.conv1d(x, w, {padding = "left"}) end, "viz.conv1d",
         "Invalid padding string")
  raises(function() viz.conv1d(x, w, {bogus = 1}) end, "viz.conv1d", "unknown option 'bogus'")
  raises(function() viz.conv1d(tensor.randn(2, 2, 2, 8), w) end, "viz.conv1d", "input")
  raises(function() viz.conv1d(x, tensor.randn(3, 2, 3, 1)) end, "viz.conv1d", "weight")
  raises(function() viz.conv1d(x, tensor.randn(3, 1, 3)) end, "viz.conv1d")
  raises(function() viz.conv_transpose1d(x, w, {padding = "causal"}) end,
         "viz.conv_transpose1d", "opts.padding")
  raises(function() viz.conv_transpose1d(x, tensor.randn(2, 1, 3), {view = "x"}) end,
         "viz.conv_transpose1d", "opts.view")
end)

test("viz.conv1d: a v:set that fails on one key changes nothing", function()
  local v = viz.conv1d(tensor.randn(1, 1, 9), tensor.randn(1, 1, 3))
  local before = v:state().params.stride
  local ok, err = pcall(v.set, v, {stride = 2, padding = "sideways"})
  check(not ok and err:find("causal", 1, true), tostring(err))
  v:set{} -- a rebuild: a half-applied stride would show now
  local after = v:state().params.stride
  check(after[1] == before[1] and after[#after] == before[#before],
        "stride unchanged: " .. table.concat(after, ","))
end)

test("viz.conv_transpose1d and viz.conv1d work without an options table", function()
  local v = viz.conv_transpose1d(tensor.ones(1, 1, 3), tensor.ones(1, 1, 2))
  check(v:state().view == "scatter", tostring(v:state().view))
  check(viz.conv1d(tensor.ones(1, 1, 3), tensor.ones(1, 1, 2)):state().view == "conv1d")
end)
