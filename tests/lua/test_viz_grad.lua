-- test_viz_grad.lua: the backward view (viz.conv2d_backward): every number
-- a step shows equals conv.conv2d_backward's, on random problems with
-- stride, padding, dilation, groups and a batch; the forward tap named for
-- each product; modes, keys and errors.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_viz_grad.lua
math.randomseed(4321)
tensor.manual_seed(77)

local function rint(lo, hi) return math.random(lo, hi) end

-- A random conv2d problem small enough to step through.
local function problem()
  local G = rint(1, 2)
  local C, O = G * rint(1, 2), G * rint(1, 2)
  local kh, kw = rint(1, 3), rint(1, 3)
  local o = {stride = {rint(1, 3), rint(1, 2)}, padding = {rint(0, 2), rint(0, 1)},
             dilation = {rint(1, 2), rint(1, 2)}, groups = G}
  if o.padding[1] * 2 >= (kh - 1) * o.dilation[1] + 1 then o.padding[1] = 0 end
  if o.padding[2] * 2 >= (kw - 1) * o.dilation[2] + 1 then o.padding[2] = 0 end
  local H = (kh - 1) * o.dilation[1] + rint(1, 5)
  local W = (kw - 1) * o.dilation[2] + rint(1, 5)
  local x = tensor.randn(rint(1, 2), C, H, W)
  local w = tensor.randn(O, C // G, kh, kw)
  local y = conv.conv2d(x, w, o)
  local gy = tensor.randn(table.unpack(y:size()))
  return x, w, gy, o
end

local function get(t, idx) return t:get(table.unpack(idx)) end

local function describe(o)
  return string.format("stride %d,%d padding %d,%d dilation %d,%d groups %d",
                       o.stride[1], o.stride[2], o.padding[1], o.padding[2],
                       o.dilation[1], o.dilation[2], o.groups)
end

-- grad_weight / grad_bias: at every step the unit's value and the running
-- sum after all its taps equal the op's gradient at that cell.
local function check_units(v, want, what)
  local n = v:state().steps
  for s = 1, n do
    v:seek(s)
    local st = v:state()
    local w = get(want, st.out)
    near(st.value, w, 1e-4, what .. " value at step " .. s)
    near(st.taps[#st.taps].sum, w, 1e-4, what .. " sum at step " .. s)
  end
end

test("viz.conv2d_backward: grad_weight at every cell equals conv.conv2d_backward (random problems)", function()
  for trial = 1, 12 do
    local x, w, gy, o = problem()
    local _, gw = conv.conv2d_backward(x, w, gy, o)
    local v = viz.conv2d_backward(x, w, gy, {stride = o.stride, padding = o.padding,
                                             dilation = o.dilation, groups = o.groups,
                                             grad = "weight"})
    check(v:grad() == "weight")
    check(v:state().steps == gw:numel(), "one step per weight tap")
    same_tensor(v:output(), gw:totable(), 1e-4)
    check_units(v, gw, "trial " .. trial .. " " .. describe(o))
  end
end)

test("viz.conv2d_backward: grad_bias equals conv.conv2d_backward", function()
  for trial = 1, 6 do
    local x, w, gy, o = problem()
    local _, _, gb = conv.conv2d_backward(x, w, gy, o)
    local v = viz.conv2d_backward(x, w, gy, {stride = o.stride, padding = o.padding,
                                             dilation = o.dilation, groups = o.groups})
    v:grad("bias")
    check(v:state().grad == "bias")
    same_tensor(v:output(), gb:totable(), 1e-4)
    check_units(v, gb, "grad_bias trial " .. trial)
  end
end)

test("viz.conv2d_backward: grad_input, scatter and gather, equals conv.conv2d_backward", function()
  for trial = 1, 12 do
    local x, w, gy, o = problem()
    local gx = conv.conv2d_backward(x, w, gy, o)
    local v = viz.conv2d_backward(x, w, gy, {stride = o.stride, padding = o.padding,
                                             dilation = o.dilation, groups = o.groups})
    local what = "trial " .. trial .. " " .. describe(o)
    check(v:grad() == "input" and v:view() == "scatter", what)
    same_tensor(v:output(), gx:totable(), 1e-4)
    -- scatter: the last sum shown for each grad_input cell is its value
    local last = {}
    for s = 1, v:state().steps do
      v:seek(s)
      for _, tp in ipairs(v:state().taps) do
        if tp.kind == "output" then last[table.concat(tp.out, ",")] = {tp.out, tp.sum} end
      end
    end
    for _, e in pairs(last) do near(e[2], get(gx, e[1]), 1e-4, what .. " scatter sum") end
    -- every grad_input cell that has a product was reached
    local reached = 0
    for _ in pairs(last) do reached = reached + 1 end
    check(reached <= gx:numel(), what)
    -- gather: every cell's value and running sum
    v:view("gather")
    check(v:view() == "gather" and v:state().steps == gx:numel(), what)
    for s = 1, v:state().steps do
      v:seek(s)
      local st = v:state()
      near(st.value, get(gx, st.out), 1e-4, what .. " gather value")
      near(st.sum, get(gx, st.out), 1e-4, what .. " gather sum")
    end
  end
end)

test("viz.conv2d_backward: each product names its forward tap", function()
  local x = tensor.randn(1, 2, 4, 5)
  local w = tensor.randn(3, 2, 2, 3)
  local o = {stride = 2, padding = 1, dilation = 1}
  local gy = tensor.randn(table.unpack(conv.conv2d(x, w, o):size()))
  local v = viz.conv2d_backward(x, w, gy, {stride = 2, padding = 1, grad = "weight"})
  v:seek(4) -- gw[1,1,2,1]
  local st = v:state()
  check(st.out[1] == 1 and st.out[2] == 1 and st.out[3] == 2 and st.out[4] == 1)
  local fwd = viz.conv2d(x, w, {stride = 2, padding = 1})
  for _, tp in ipairs(st.taps) do
    -- forward tap (ci, i, j) = (1, 2, 1) is tap 4 of its output cell
    check(tp.forward_tap == 4, "forward tap " .. tostring(tp.forward_tap))
    local y = tp.grad_output
    fwd:seek((((y[1] - 1) * 3 + y[2] - 1) * gy:size()[3] + y[3] - 1) * gy:size()[4] + y[4])
    local ft = fwd:state().taps[tp.forward_tap]
    check(ft.kind == tp.kind, "the same input cell (or padding)")
    if tp.input then
      check(table.concat(ft.input, ",") == table.concat(tp.input, ","), "same input")
    end
    near(tp.x, ft.x, 0)
  end
  -- the text on screen says it
  local found = false
  for _, b in ipairs(v:layout{width = 1600, height = 900}) do
    if b.text and b.text:find("forward tap 4", 1, true) then found = true end
  end
  check(found, "the headline names the forward tap")
end)

test("viz.conv2d_backward: padding modes in grad_weight; grad_input says why not", function()
  local x = tensor.randn(1, 1, 5, 5)
  local w = tensor.randn(2, 1, 3, 3)
  local gy = tensor.randn(1, 2, 5, 5)
  local _, gw = conv.conv2d_backward(x, w, gy, {padding = 1, padding_mode = "reflect"})
  local v = viz.conv2d_backward(x, w, gy, {padding = 1, padding_mode = "reflect",
                                           grad = "weight"})
  same_tensor(v:output(), gw:totable(), 1e-4)
  v:grad("input")
  local st = v:state()
  check(st.error and st.error:find("padding_mode", 1, true), tostring(st.error))
  v:grad("weight")
  check(v:state().error == nil)
end)

test("viz.conv2d_backward: keys g (mode) and v (scatter/gather), refused keys", function()
  local x = tensor.randn(1, 1, 4, 4)
  local w = tensor.randn(1, 1, 2, 2)
  local gy = tensor.randn(1, 1, 3, 3)
  local v = viz.conv2d_backward(x, w, gy)
  check(v:grad() == "input")
  check(v:key("g") and v:grad() == "weight")
  check(v:key("g") and v:grad() == "bias")
  check(v:key("g") and v:grad() == "input")
  check(v:key("G") and v:grad() == "bias")
  check(not v:key("v") and v:state().status:find("grad_input", 1, true))
  v:grad("input")
  check(v:key("v") and v:view() == "gather")
  check(not v:key("f") and not v:key("o"))
  -- a stride edit makes grad_output the wrong shape: said, then recovered
  check(v:key("s"))
  check(v:state().error:find("grad_output", 1, true))
  check(v:key("S") and v:state().error == nil)
end)

test("viz.conv2d_backward: errors name the function, the argument and the reason", function()
  local x = tensor.randn(1, 2, 4, 4)
  local w = tensor.randn(3, 2, 3, 3)
  local gy = tensor.randn(1, 3, 2, 2)
  raises(function() viz.conv2d_backward(x, w) end, "viz.conv2d_backward",
         "#3", "grad_output")
  raises(function() viz.conv2d_backward(x, w, tensor.randn(1, 3, 3, 3)) end,
         "viz.conv2d_backward", "grad_output", "[1, 3, 2, 2]")
  raises(function() viz.conv2d_backward(x, w, gy, {grad = "bogus"}) end,
         "viz.conv2d_backward", "opts.grad", "bogus")
  raises(function() viz.conv2d_backward(x, w, gy, {bias = tensor.randn(3)}) end,
         "viz.conv2d_backward", "bias")
  raises(function() viz.conv2d_backward(x, w, tensor.randn(3, 2, 2)) end,
         "viz.conv2d_backward", "grad_output")
  local v = viz.conv2d_backward(x, w, gy)
  raises(function() v:grad("nope") end, "invalid option 'nope'")
  raises(function() viz.conv2d(x, w):grad() end, "view:grad", "not a backward view")
  -- unbatched input and grad_output
  local v3 = viz.conv2d_backward(tensor.randn(2, 4, 4), w, tensor.randn(3, 2, 2),
                                 {grad = "weight"})
  local _, gw = conv.conv2d_backward(tensor.randn(2, 4, 4), w, tensor.randn(3, 2, 2))
  check(v3:output():size()[1] == 3 and gw:size()[1] == 3)
end)

test("viz.conv2d_backward: v:code() is autograd on the forward conv2d, printing the gradient shown", function()
  local x = tensor.randn(1, 2, 4, 4)
  local w = tensor.randn(2, 1, 3, 3)
  local gy = tensor.randn(1, 2, 2, 2)
  local v = viz.conv2d_backward(x, w, gy, {stride = 2, padding = 1, groups = 2})
  local want = {input = "print(x.grad)", weight = "print(w.grad)", bias = "print(b.grad)"}
  for _, m in ipairs{"input", "weight", "bias"} do
    v:grad(m)
    local code = v:code("pytorch")
    for _, s in ipairs{"x = torch.tensor(", "gy = torch.tensor(", "y.backward(gy)", want[m],
                       "stride=2, padding=1, dilation=1, groups=2"} do
      check(code:find(s, 1, true), m .. ": code lacks " .. s .. "\n" .. code)
    end
    local k, ok = v:code("keras")
    check(ok == false and k:find("not expressible in Keras", 1, true), k)
  end
  -- padding_mode: the input padded by F.pad first
  v = viz.conv2d_backward(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3),
                          tensor.randn(1, 1, 5, 5), {padding = 1, padding_mode = "reflect", grad = "weight"})
  check(v:code():find('xp = F.pad(x, (1, 1, 1, 1), mode="reflect")', 1, true), v:code())
end)

test("viz.conv2d_backward: a click on a grad_weight or grad_bias cell goes to its step", function()
  local x, w = tensor.randn(1, 2, 5, 5), tensor.randn(3, 2, 3, 3)
  local gy = tensor.randn(1, 3, 3, 3)
  local v = viz.conv2d_backward(x, w, gy, {grad = "weight"})
  local lay = v:layout{width = 1280, height = 720}
  local g = lay.output[2] -- gw[1, 2]: slice ci = 2 of out channel 1
  check(g and g.rows == 3 and g.cols == 3, "the grad_weight tiles are grids")
  v:click(g.x + g.cell * 2 + g.cell // 2, g.y + g.cell + g.cell // 2) -- (i, j) = (2, 3)
  local st = v:state()
  check(st.out[1] == 1 and st.out[2] == 2 and st.out[3] == 2 and st.out[4] == 3,
        table.concat(st.out, ","))
  v:grad("bias")
  lay = v:layout{width = 1280, height = 720}
  g = lay.output[1]
  v:click(g.x + g.cell * 2 + g.cell // 2, g.y + g.cell // 2)
  check(v:state().out[1] == 3 and v:state().step == 3)
end)

test("viz.conv2d_backward: hovering a grad_weight or grad_bias cell shows its value and products", function()
  local x, w = tensor.randn(2, 2, 5, 5), tensor.randn(3, 2, 3, 3)
  local gy = tensor.randn(2, 3, 3, 3)
  local _, gw, gb = conv.conv2d_backward(x, w, gy)
  local function tip(lay)
    local t = {}
    for _, b in ipairs(lay) do
      if b.layer == 1 and b.kind == "text" then t[#t + 1] = b.text end
    end
    return t
  end
  for _, mode in ipairs{"weight", "bias"} do
    for _, sz in ipairs{{1280, 720}, {640, 400}} do
      -- the view's own size: the mouse reads the grids of the frame it shows
      local v = viz.conv2d_backward(x, w, gy, {grad = mode, width = sz[1], height = sz[2]})
      local lay = v:layout{width = sz[1], height = sz[2]}
      local g = lay.output[#lay.output]
      local what, idx = v:mouse(g.x + g.cell + 1, g.y + 1) -- row 1, column 2
      check(what == "gradient", mode .. ": hovered a gradient cell, got " .. tostring(what))
      local t = tip(v:layout{width = sz[1], height = sz[2]})
      local want = mode == "weight" and gw:get(table.unpack(idx)) or gb:get(idx[1])
      local name = mode == "weight" and string.format("gw[%d,%d,%d,%d]", table.unpack(idx))
                   or string.format("gb[%d]", idx[1])
      local val = t[1] and tonumber(t[1]:match(" = (%S+)$"))
      check(t[1] and t[1]:find(name, 1, true) == 1, mode .. ": tooltip names the cell: " .. tostring(t[1]))
      check(val and math.abs(val - want) <= 1e-4 * (1 + math.abs(want)),
            mode .. ": tooltip value " .. tostring(val) .. " vs " .. want)
      check(t[2] and t[2]:find("^= "), mode .. ": the products: " .. tostring(t[2]))
      -- every output position of that channel, in every sample (no padding here)
      local count = t[3] and tonumber(t[3]:match("(%d+) "))
      check(count == 2 * 3 * 3, mode .. ": how many: " .. tostring(t[3]))
      v:mouse(2, 2)
      check(v:state().hover == nil, mode .. ": moving off clears the hover")
    end
  end
end)

-- The tap lines of a frame: "[dest ]+= [names = ]a×b[ = p] → s[  (note)]"
-- (a negative b in parentheses), a tap to come without "→ s", grad_bias
-- "+= [gy[..] = ]g → s".  Returns the parsed lines; fails on any other
-- line that adds.
local function plus_lines(v, w, h)
  local num = "(%-?[%d.]+e?[%-+]?%d*)"
  local out = {}
  for _, b in ipairs(v:layout{width = w, height = h}) do
    local s = b.text
    if s and s:find("+=", 1, true) and b.kind == "text" then
      check(not s:find("…", 1, true), "a tap line cut: " .. s)
      local rest = s:gsub("^gx%[[%d,]+%] ", ""):gsub("  %(.*%)$", "")
      check(rest:sub(1, 3) == "+= ", "starts with +=: " .. s)
      rest = rest:sub(4):gsub("^[%w%[%],×=]-[%]y] = ", "")
      local t = {text = s}
      local a, lp, bb, rp, tail = rest:match("^" .. num .. "×(%(?)" .. num .. "(%)?)(.*)$")
      if a then
        t.a, t.b, t.paren = tonumber(a), tonumber(bb), lp == "(" and rp == ")"
        check((lp == "(") == (rp == ")"), "balanced: " .. s)
        local p, sm = tail:match("^ = " .. num .. " → " .. num .. "$")
        if not p then sm = tail:match("^ → " .. num .. "$") end
        check(tail == "" or sm, "a×b[ = p] → s: " .. s)
        t.p, t.s = tonumber(p), tonumber(sm)
      else
        local g, tail2 = rest:match("^" .. num .. "(.*)$")
        check(g, "a number added: " .. s)
        t.g = tonumber(g)
        t.s = tonumber(tail2:match("^ → " .. num .. "$"))
        check(tail2 == "" or t.s, "+= g → s: " .. s)
      end
      out[#out + 1] = t
    end
  end
  return out
end

local function close2(got, want, what)
  check(got and math.abs(got - want) <= 0.0051 + 1e-6 * math.abs(want),
        string.format("%s: shown %s, value %.6g", what, tostring(got), want))
end

test("viz.conv2d_backward: every tap line reads += a×b = p → s, negative factors in parentheses, numbers the step's", function()
  tensor.manual_seed(5)
  local x = tensor.randn(1, 2, 5, 5) * 3
  local w = tensor.randn(3, 2, 3, 3)
  local gy = tensor.randn(1, 3, 3, 3)
  local v = viz.conv2d_backward(x, w, gy, {stride = 2, padding = 1, grad = "input", by = "tap"})
  local cases = {{"input", "scatter"}, {"input", "gather"}, {"weight"}, {"bias"}}
  for _, c in ipairs(cases) do
    v:grad(c[1])
    if c[2] then v:view(c[2]) end
    local steps = v:state().steps
    for _, step in ipairs{2, steps // 2, steps} do
      v:seek(step)
      local st = v:state()
      local xs, sums = {}, {}
      for _, tp in ipairs(st.taps) do
        if tp.done then
          sums[#sums + 1] = tp.sum
        end
        xs[#xs + 1] = {tp.x, tp.gy or tp.w, tp.product}
      end
      for _, sz in ipairs{{1600, 900}, {1024, 640}, {640, 400}} do
        local what = string.format("%s %s step %d %dx%d", c[1], c[2] or "", step, sz[1], sz[2])
        local lines = plus_lines(v, sz[1], sz[2])
        check(#lines > 0 or sz[2] <= 400, what .. ": tap lines shown")
        for _, t in ipairs(lines) do
          if t.a then
            check(t.paren == (t.b < 0), what .. ": a negative factor in parentheses: " .. t.text)
            local found = false
            for _, f in ipairs(xs) do
              if math.abs(f[1] - t.a) <= 0.0051 and math.abs(f[2] - t.b) <= 0.0051 and
                 (not t.p or math.abs(f[3] - t.p) <= 0.0051) then found = true end
            end
            check(found, what .. ": the factors and product are a tap's: " .. t.text)
          end
          if t.s then
            local found = false
            for _, sm in ipairs(sums) do
              if math.abs(sm - t.s) <= 0.0051 + 1e-6 * math.abs(sm) then found = true end
            end
            check(found, what .. ": the running value is a done tap's: " .. t.text)
          end
        end
      end
    end
  end
end)

test("viz.conv2d_backward: the current gradient cell shows its running sum", function()
  local x, w = tensor.randn(1, 2, 5, 5), tensor.randn(3, 2, 3, 3)
  local gy = tensor.randn(1, 3, 3, 3)
  for _, mode in ipairs{"bias", "weight"} do
    local v = viz.conv2d_backward(x, w, gy, {grad = mode, by = "tap"})
    v:seek(2)
    local st = v:state()
    local lay = v:layout{width = 1280, height = 720}
    local o = st.out
    local g = mode == "bias" and lay.output[1] or lay.output[o[2]]
    local r, c = mode == "bias" and 1 or o[3], mode == "bias" and o[1] or o[4]
    local cx, cy = g.x + (c - 1) * g.cell, g.y + (r - 1) * g.cell
    local shown
    for _, b in ipairs(lay) do
      if b.text and b.x >= cx and b.x < cx + g.cell and b.y >= cy and b.y < cy + g.cell then
        shown = tonumber(b.text)
      end
    end
    check(shown, mode .. ": the current cell has a value")
    check(math.abs(shown - st.sum) <= 0.01 * (1 + math.abs(st.sum)),
          mode .. ": running " .. st.sum .. " shown " .. tostring(shown))
  end
end)
