-- test_ops.lua: properties of the issue-11 ops that hold for any shape:
-- conv2d is a matrix product with unfold, fold is unfold's adjoint, the
-- gradients satisfy the adjoint identities, the fast paths equal the
-- reference loops, and 1-D ops are their 2-D siblings with H = 1.

local function maxdiff(a, b)
  check(table.concat(a:shape(), "x") == table.concat(b:shape(), "x"),
        "shapes " .. table.concat(a:shape(), "x") .. " and " ..
        table.concat(b:shape(), "x"))
  if a:numel() == 0 then return 0 end
  return (a - b):abs():max()
end

local function dot(a, b) return (a * b):sum() end

local function rnd(lo, hi) return math.random(lo, hi) end
math.randomseed(11)
tensor.manual_seed(11)

-- the same call on the reference loops and on the dispatcher's choice
local function both(fn)
  conv.set_impl("reference")
  local ok, r = pcall(table.pack, fn())
  conv.set_impl("auto")
  assert(ok, r)
  return r, table.pack(fn())
end

test("conv2d == weight:reshape(O, -1) @ unfold(x), reshaped", function()
  for _ = 1, 25 do
    local N, C, O = rnd(1, 2), rnd(1, 4), rnd(1, 5)
    local kh, kw = rnd(1, 4), rnd(1, 4)
    local o = {stride = {rnd(1, 3), rnd(1, 2)}, padding = {rnd(0, 2), rnd(0, 2)},
               dilation = {rnd(1, 2), rnd(1, 2)}}
    local H, W = rnd(4, 12), rnd(4, 12)
    local x, w = tensor.randn(N, C, H, W), tensor.randn(O, C, kh, kw)
    local ok, y = pcall(conv.conv2d, x, w, o)
    if ok then
      local cols = conv.unfold(x, {kh, kw}, o)
      local z = w:reshape(O, -1):matmul(cols)             -- (N, O, L) by broadcast
      local d = maxdiff(z:reshape(y:shape()), y)
      check(d < 1e-4, "differs by " .. d)
    end
  end
end)

test("fold is the adjoint of unfold: <unfold(x), c> == <x, fold(c)>", function()
  for _ = 1, 20 do
    local k = {rnd(1, 3), rnd(1, 3)}
    local o = {stride = {rnd(1, 3), rnd(1, 3)}, padding = {rnd(0, 2), rnd(0, 1)},
               dilation = {rnd(1, 2), rnd(1, 2)}}
    local x = tensor.randn(rnd(1, 2), rnd(1, 3), rnd(3, 9), rnd(3, 9))
    local ok, u = pcall(conv.unfold, x, k, o)
    if ok then
      local c = tensor.randn(u:shape())
      local f = conv.fold(c, {x:size(3), x:size(4)}, k, o)
      near(dot(u, c), dot(x, f), 1e-4)
    end
  end
end)

test("gradients satisfy <conv(x, w), g> = <gx, x> = <gw, w>", function()
  local modes = {"zeros", "zeros", "reflect", "replicate", "circular"}
  for _ = 1, 30 do
    local G = rnd(1, 2)
    local C, O = G * rnd(1, 3), G * rnd(1, 3)
    local kh, kw = rnd(1, 3), rnd(1, 3)
    local o = {stride = {rnd(1, 3), rnd(1, 2)}, padding = {rnd(0, 2), rnd(0, 2)},
               dilation = {rnd(1, 2), rnd(1, 2)}, groups = G,
               padding_mode = modes[rnd(1, #modes)]}
    local x = tensor.randn(rnd(1, 2), C, rnd(3, 9), rnd(3, 9))
    local w = tensor.randn(O, C // G, kh, kw)
    local ok, y = pcall(conv.conv2d, x, w, o)
    if ok then
      local g = tensor.randn(y:shape())
      local gx, gw, gb = conv.conv2d_backward(x, w, g, o)
      local s = dot(y, g)
      near(dot(gw, w), s, 1e-3, "grad_weight")
      near(gb:sum(), g:sum(), 1e-4, "grad_bias")
      if o.padding_mode == "zeros" then near(dot(gx, x), s, 1e-3, "grad_input") end
      -- the transposed op: y = convT(x, w) is linear in x and w alike
      local wt = tensor.randn(C, O // G, kh, kw)
      local ot = {stride = o.stride, padding = o.padding, dilation = o.dilation,
                  groups = G}
      local ok2, yt = pcall(conv.conv_transpose2d, x, wt, ot)
      if ok2 then
        local gt = tensor.randn(yt:shape())
        local tx, tw = conv.conv_transpose2d_backward(x, wt, gt, ot)
        local st = dot(yt, gt)
        near(dot(tx, x), st, 1e-3, "convT grad_input")
        near(dot(tw, wt), st, 1e-3, "convT grad_weight")
      end
    end
  end
end)

test("fast paths equal the reference loops on random shapes", function()
  for _ = 1, 40 do
    local x = tensor.randn(rnd(1, 2), rnd(1, 4), rnd(1, 40), rnd(1, 40))
    if math.random() < 0.2 then x:set(1, 1, 1, 1, 0 / 0) end
    local k = {rnd(1, 4), rnd(1, 4)}
    local o = {stride = {rnd(1, 3), rnd(1, 3)},
               padding = {rnd(0, k[1] // 2), rnd(0, k[2] // 2)},
               ceil_mode = math.random() < 0.5}
    local ok = pcall(conv.max_pool2d, x, k, o)
    if ok then
      local r, a = both(function() return conv.max_pool2d(x, k, o) end)
      check(r[1]:equal(a[1]) or maxdiff(r[1], a[1]) ~= maxdiff(r[1], a[1]),
            "max_pool2d")
      o.count_include_pad = math.random() < 0.5
      r, a = both(function() return conv.avg_pool2d(x, k, o) end)
      check(maxdiff(r[1], a[1]) < 1e-5 or r[1]:max() ~= r[1]:max(), "avg_pool2d")
      local uo = {stride = o.stride, padding = o.padding}
      local okU = pcall(conv.unfold, x, k, uo)
      if okU then
        r, a = both(function() return conv.unfold(x, k, uo) end)
        check(r[1]:equal(a[1]) or x:max() ~= x:max(), "unfold")
      end
    end
  end
  -- large enough for the threads (and the grad_weight product)
  local x = tensor.randn(1, 8, 120, 130)
  local r, a = both(function() return conv.max_pool2d(x, 3, {stride = 2, padding = 1}) end)
  check(r[1]:equal(a[1]), "threaded max_pool2d")
  r, a = both(function() return conv.avg_pool2d(x, 2) end)
  check(maxdiff(r[1], a[1]) < 1e-6, "threaded avg_pool2d")
  r, a = both(function() return conv.unfold(x, 3, {padding = 1}) end)
  check(r[1]:equal(a[1]), "threaded unfold")
  local c = tensor.randn(1, 8 * 4, 60 * 65)
  r, a = both(function() return conv.fold(c, {120, 130}, 2, {stride = 2}) end)
  check(maxdiff(r[1], a[1]) < 1e-5, "fold")
  for _, o in ipairs({{padding = 1}, {stride = 2, padding = 1, groups = 2},
                      {padding = "same", padding_mode = "reflect", dilation = 2}}) do
    local w = tensor.randn(16, 8 // (o.groups or 1), 3, 3)
    local xx = tensor.randn(2, 8, 30, 31)
    local y = conv.conv2d(xx, w, o)
    local g = tensor.randn(y:shape())
    r, a = both(function() return conv.conv2d_backward(xx, w, g, o) end)
    for i = 1, 3 do
      local d = maxdiff(r[i], a[i])
      check(d < 1e-3 * math.max(1, r[i]:abs():max()), "conv2d_backward result " .. i .. ": " .. d)
    end
    local wt = tensor.randn(8, 16 // (o.groups or 1), 3, 3)
    local ot = {stride = o.stride, padding = 1, groups = o.groups}
    local yt = conv.conv_transpose2d(xx, wt, ot)
    local gt = tensor.randn(yt:shape())
    r, a = both(function() return conv.conv_transpose2d_backward(xx, wt, gt, ot) end)
    for i = 1, 3 do
      local d = maxdiff(r[i], a[i])
      check(d < 1e-3 * math.max(1, r[i]:abs():max()), "convT backward result " .. i .. ": " .. d)
    end
  end
end)

test("1-D ops are the 2-D ops with H = 1", function()
  for _ = 1, 20 do
    local x = tensor.randn(rnd(1, 2), rnd(1, 3), rnd(3, 12))
    local w = tensor.randn(rnd(1, 3), x:size(2), rnd(1, 3))
    local o = {stride = rnd(1, 2), padding = rnd(0, 2), dilation = rnd(1, 2)}
    local ok, y = pcall(conv.conv1d, x, w, o)
    if ok then
      local y2 = conv.conv2d(x:unsqueeze(3), w:unsqueeze(3),
                             {stride = {1, o.stride}, padding = {0, o.padding},
                              dilation = {1, o.dilation}})
      check(y:equal(y2:squeeze(3)), "conv1d")
      local m1, i1 = conv.max_pool1d(x, 2, {return_indices = true})
      local m2, i2 = conv.max_pool2d(x:unsqueeze(3), {1, 2}, {return_indices = true})
      check(m1:equal(m2:squeeze(3)) and i1:equal(i2:squeeze(3)), "max_pool1d")
    end
  end
  -- causal: output t sees inputs <= t only; channels_last is NLC with a (k, in, out) kernel
  local x = tensor.randn(1, 2, 9)
  local w = tensor.randn(3, 2, 4)
  local y = conv.conv1d(x, w, {padding = "causal", dilation = 2})
  check(y:size(3) == 9)
  local x2 = x:clone()
  x2:set(1, 1, 9, 100)
  local y2 = conv.conv1d(x2, w, {padding = "causal", dilation = 2})
  check(y:narrow(3, 1, 8):equal(y2:narrow(3, 1, 8)), "the past does not see the future")
  local ycl = conv.conv1d(x:permute(1, 3, 2):contiguous(), w:permute(3, 2, 1):contiguous(),
                          {padding = "causal", dilation = 2, data_format = "channels_last"})
  check(ycl:permute(1, 3, 2):equal(y), "channels_last")
end)

test("pooling errors name the function and the argument", function()
  local x = tensor.zeros(1, 1, 5, 5)
  raises(function() conv.max_pool2d(x) end, "conv.max_pool2d: bad argument #2 'kernel_size'")
  raises(function() conv.max_pool2d(nil, 2) end,
         "conv.max_pool2d: bad argument #1 'input': tensor expected, got nil")
  raises(function() conv.max_pool2d(x, 2, {strides = 2}) end, "unknown option 'strides'")
  raises(function() conv.max_pool2d(x, 2, {ceil_mode = 1}) end,
         "bad argument #3 'opts.ceil_mode': expected a boolean, got number")
  raises(function() conv.avg_pool2d(x, 2, {divisor_override = 0}) end,
         "'opts.divisor_override': divisor must be not zero")
  raises(function() conv.avg_pool2d(x, 2, {dilation = 2}) end, "unknown option 'dilation'")
  raises(function() conv.max_pool2d(x, {1, 2, 3}) end, "'kernel_size'", "list of 3")
  raises(function() conv.max_unpool2d(x, nil, 2) end,
         "conv.max_unpool2d: bad argument #2 'indices': tensor expected, got nil")
  raises(function() conv.max_unpool2d(x, tensor.full({1, 1, 5, 5}, 0.5), 2) end,
         "Found an invalid max index: 0.5")
  raises(function() tensor.matmul(tensor.ones(2)) end,
         "tensor.matmul: bad argument #2 'other': tensor expected, got no value")
  raises(function() tensor.ones(2):matmul(3) end,
         "tensor:matmul: bad argument #1 'other': tensor expected, got number")
  raises(function() conv.conv2d_backward(x, tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 2, 2)) end,
         "conv.conv2d_backward: grad_output: expected the shape of the conv2d output [1, 1, 3, 3]")
  raises(function() conv.output_size(5, 2, {ceil_mode = true, transposed = true}) end,
         "exclude each other")
end)

test("max_unpool2d undoes max_pool2d's selection", function()
  local x = tensor.rand(2, 3, 8, 9) + 1 -- positive: above the zeros around
  local y, i = conv.max_pool2d(x, 2, {return_indices = true})
  local u = conv.max_unpool2d(y, i, 2, {output_size = {8, 9}})
  local y2 = conv.max_pool2d(u, 2)
  check(y2:equal(y), "pooling the unpooled gives the same maxima")
  check(math.abs(u:sum() - y:sum()) < 1e-3)
end)

test("matmul shapes follow torch.matmul", function()
  local function sh(t) return table.concat(t:shape(), "x") end
  check(sh(tensor.matmul(tensor.ones(3), tensor.ones(3))) == "")
  check(tensor.matmul(tensor.ones(3), tensor.ones(3)):item() == 3)
  check(sh(tensor.ones(2, 3):matmul(tensor.ones(3))) == "2")
  check(sh(tensor.ones(3):matmul(tensor.ones(3, 4))) == "4")
  check(sh(tensor.ones(5, 2, 3):matmul(tensor.ones(3, 4))) == "5x2x4")
  check(sh(tensor.ones(1, 2, 3):matmul(tensor.ones(6, 3, 4))) == "6x2x4")
  local a = tensor.arange(6):reshape(2, 3)
  same_tensor(a:matmul(a:transpose(1, 2)), {{5, 14}, {14, 50}})
end)

test("gradients with Inf, NaN or an outlier equal the reference loops", function()
  -- the Winograd paths would spread such a value over its tile: they step
  -- aside, and the direct paths give PyTorch's pattern
  for _, v in ipairs({1e30, 0 / 0, math.huge, -math.huge, 5}) do
    local x, w, g = tensor.randn(1, 4, 9, 9), tensor.randn(4, 4, 3, 3), tensor.randn(1, 4, 9, 9)
    g:set(1, 1, 5, 5, v)
    conv.set_impl("reference")
    local a = table.pack(conv.conv2d_backward(x, w, g, {padding = 1}))
    conv.set_impl("auto")
    local b = table.pack(conv.conv2d_backward(x, w, g, {padding = 1}))
    for i = 1, 3 do
      local fa, fb = a[i]:reshape(-1), b[i]:reshape(-1)
      for j = 1, fa:numel() do
        local u, q = fa:get(j), fb:get(j)
        check((u ~= u and q ~= q) or u == q or
              math.abs(u - q) <= 1e-3 * math.max(1, math.abs(u)),
              string.format("value %s, result %d, element %d: %g vs %g", v, i, j, u, q))
      end
    end
  end
end)
