-- Deterministic fuzzing of the public API: random calls to every function of
-- tensor, conv, image and viz with a mix of valid and invalid arguments.
-- Each call either succeeds (results spot-checked where cheap) or fails with
-- a string naming the function ("conv.conv2d: ...", "tensor:reshape: ...",
-- or Lua's "bad argument #N to 'f'").  Crashes and sanitizer reports end the
-- process, so reaching the end is the main check.
-- CONVPLAY_FUZZ_SEED and CONVPLAY_FUZZ_N (a multiplier) vary the run.
local SEED = tonumber(os.getenv("CONVPLAY_FUZZ_SEED") or "") or 20261125
local SCALE = tonumber(os.getenv("CONVPLAY_FUZZ_N") or "") or 1
math.randomseed(SEED)
tensor.manual_seed(SEED)

local calls = 0
local function R(n) return math.random(n) end          -- 1..n
local function chance(p) return math.random() < p end
local function pick(t) return t[R(#t)] end

local nan, inf = 0 / 0, math.huge
local junk = {
  function() return nil end,
  function() return "x" end,
  function() return "2" end,
  function() return true end,
  function() return false end,
  function() return {} end,
  function() return {1, 2} end,
  function() return {{1}, {2, 3}} end,
  function() return print end,
  function() return tensor.ones(2) end,
  function() return nan end,
  function() return inf end,
  function() return -inf end,
  function() return 2^53 end,
  function() return 2^63 end,
  function() return -1 end,
  function() return 0 end,
  function() return 1.5 end,
  function() return -2^31 end,
  function() return math.maxinteger end,
  function() return math.mininteger end,
  function() return 1e308 end,
  function() return 2^31 end,
}
local function bad() return pick(junk)() end

-- A small whole number, sometimes junk.
local function num(lo, hi, pbad)
  if chance(pbad or 0.1) then return bad() end
  return lo + R(hi - lo + 1) - 1
end

-- Random tensor of the given shape, sometimes non-contiguous (same shape),
-- sometimes with NaN / Inf values.
local function rtensor(shape)
  local t
  local nd = #shape
  local kind = nd >= 2 and R(4) or 1
  local ok, r = pcall(function()
    if kind == 2 then -- a transpose of the swapped shape
      local s = {table.unpack(shape)}
      s[nd], s[nd - 1] = s[nd - 1], s[nd]
      return tensor.randn(s):transpose(nd - 1, nd)
    elseif kind == 3 then -- a narrow of a larger tensor
      local s = {table.unpack(shape)}
      s[nd] = s[nd] + 2
      return tensor.randn(s):narrow(nd, 2, shape[nd])
    elseif kind == 4 then -- a permutation (reversed dims)
      local s, p = {}, {}
      for i = 1, nd do s[i] = shape[nd + 1 - i]; p[i] = nd + 1 - i end
      return tensor.randn(s):permute(p)
    end
    return tensor.randn(shape)
  end)
  assert(ok, r)
  t = r
  if chance(0.1) and t:numel() > 0 then
    local idx = {}
    for d = 1, nd do idx[d] = R(shape[d]) end
    idx[#idx + 1] = pick({nan, inf, -inf, 1e30})
    t:set(table.unpack(idx))
  end
  return t
end

local function rshape(maxnd, maxdim)
  local s = {}
  for i = 1, R(maxnd + 1) - 1 do s[i] = R(maxdim + 1) - 1 end
  return s
end

local function anytensor() return rtensor(rshape(4, 4)) end

-- The highest non-nil index of a list with holes (nil junk values).
local function len(t)
  local n = 0
  for k in pairs(t) do if math.type(k) == "integer" and k > n then n = k end end
  return n
end

local function escape(s) return (s:gsub("%p", "%%%0")) end

-- err must name one of the given functions.
local function named(err, names)
  if type(err) ~= "string" then return false end
  if err:match("^bad argument #%-?%d+ to '") or err:match("^calling '") then
    return true
  end
  for _, n in ipairs(names) do
    if err:match("^" .. escape(n) .. "[: ]") then return true end
  end
  return false
end

-- pcall f(...), checking the error shape.  Returns ok, results...
local TRACE = os.getenv("CONVPLAY_FUZZ_TRACE")
local function show(v)
  if tensor.istensor(v) then
    local ok, s = pcall(function() return "T(" .. table.concat(v:shape(), ",") .. ")" end)
    return ok and s or "T(closed)"
  elseif type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. show(x) end
    return "{" .. table.concat(parts, " ") .. "}"
  elseif math.type(v) == "float" then
    return string.format("%.17g", v)
  end
  return tostring(v)
end

local function try(names, f, ...)
  if type(names) == "string" then names = {names} end
  calls = calls + 1
  local args = table.pack(...)
  if TRACE then
    local parts = {}
    for i = 1, args.n do parts[i] = show(args[i]) end
    io.stderr:write(names[1], "(", table.concat(parts, ", "), ")\n")
    io.stderr:flush()
  end
  local res = table.pack(pcall(f, table.unpack(args, 1, args.n)))
  if not res[1] then
    local err = res[2]
    if not named(err, names) then
      error(string.format("%s: unexpected error %s", names[1], tostring(err)), 2)
    end
    if type(err) == "string" and (err:find("%(null%)") or err:find("%%[ds]")) then
      error(string.format("%s: malformed message %q", names[1], err), 2)
    end
  end
  return table.unpack(res, 1, res.n)
end

local function same(a, b, tol)
  if not (tensor.istensor(a) and tensor.istensor(b)) then return false end
  local sa, sb = a:shape(), b:shape()
  if #sa ~= #sb then return false end
  for i = 1, #sa do if sa[i] ~= sb[i] then return false end end
  local fa, fb = a:reshape(-1), b:reshape(-1)
  if a:dim() == 0 then fa, fb = a:reshape(1), b:reshape(1) end
  for i = 1, fa:numel() do
    local x, y = fa:get(i), fb:get(i)
    if not ((x ~= x and y ~= y) or x == y or
            math.abs(x - y) <= (tol or 1e-4) * math.max(1, math.abs(x), math.abs(y))) then
      return false, string.format("element %d: %.9g vs %.9g", i, x, y)
    end
  end
  return true
end

-- ====================================================================== --
-- tensor
-- ====================================================================== --

local ctor_names = {"zeros", "ones", "rand", "randn"}

local function rsizes()
  -- sizes as numbers or a table, mostly valid
  local s = rshape(4, 4)
  if chance(0.2) then s[R(#s + 1)] = bad() end
  if chance(0.15) then s[#s + 1] = pick({-1, -5, 2^40, 2^62}) end
  -- a legal but huge size would only make the run slow: keep sizes either
  -- small or far beyond the allocation limit
  local prod, zero = 1, false
  for i = 1, len(s) do
    local v = s[i]
    if math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v)) then
      if v == 0 then zero = true elseif v > 0 then prod = prod * v end
    end
  end
  if not zero and prod > 1e6 and prod < 2^40 then s[#s + 1] = 2^40 end
  if chance(0.5) then return {s} end
  return s
end

test("fuzz: tensor constructors", function()
  for _ = 1, 400 * SCALE do
    local which = R(8)
    if which <= 4 then
      local name = pick(ctor_names)
      local sz = rsizes()
      local ok, t = try("tensor." .. name, tensor[name], table.unpack(sz, 1, len(sz)))
      if ok then
        check(tensor.istensor(t))
        if name == "zeros" and t:numel() > 0 then check(t:sum() == 0) end
        if name == "ones" then check(t:sum() == t:numel()) end
      end
    elseif which == 5 then
      local sz = rsizes()[1]
      if type(sz) ~= "table" and chance(0.7) then sz = {2, 3} end
      local v = chance(0.7) and math.random() * 10 - 5 or bad()
      local ok, t = try("tensor.full", tensor.full, sz, v)
      if ok and t:numel() > 0 and type(v) == "number" and v == v then
        check(t:max() == t:min(), "full: not constant")
      end
    elseif which == 6 then
      local a = {}
      for i = 1, R(4) - 1 do
        a[i] = chance(0.8) and (math.random(-20, 20) / pick({1, 2, 4})) or bad()
      end
      local ok, t = try("tensor.arange", tensor.arange, table.unpack(a, 1, len(a)))
      if ok then
        check(t:dim() == 1)
        if #a == 1 and math.type(a[1]) == "integer" then
          check(t:numel() == math.max(0, a[1]), "arange(n) size")
        end
      end
    elseif which == 7 then
      local data = pick({
        function() return math.random() end,
        function() return {1, 2, 3} end,
        function() return {{1, 2}, {3, 4}} end,
        function() return {{1, 2}, {3}} end,
        function() return {{1, 2}, 3} end,
        function() return {{1, "a"}} end,
        function() return {} end,
        function() return {{}} end,
        function() return {{{{{{{{{1}}}}}}}}} end,
        function() return {nan, inf, -inf} end,
        function() return anytensor() end,
        bad,
      })()
      local ok, t = try("tensor.new", tensor.new, data)
      if ok and tensor.istensor(data) then check(same(t, data)) end
    else
      local list = {}
      local base = rshape(3, 3)
      if #base == 0 then base = {2} end
      for i = 1, R(3) do
        local s = {table.unpack(base)}
        if chance(0.3) then s[R(#s)] = R(3) - 1 end
        if chance(0.1) then s[#s + 1] = 1 end
        list[i] = chance(0.95) and rtensor(s) or bad()
      end
      local dim = chance(0.3) and nil or num(-3, 4, 0.15)
      local ok, t = try("tensor.cat", tensor.cat, chance(0.95) and list or bad(), dim)
      if ok then
        local n = 0
        for _, u in ipairs(list) do n = n + u:numel() end
        check(t:numel() == n, "cat: element count")
      end
      try("tensor.manual_seed", tensor.manual_seed, num(0, 100, 0.3))
      try("tensor.istensor", tensor.istensor, chance(0.5) and anytensor() or bad())
    end
  end
end)

local function dimarg(t) return num(-t:dim() - 1, t:dim() + 1, 0.15) end

local method_calls = {
  function(t) return "shape", {} end,
  function(t) return "size", {chance(0.5) and dimarg(t) or nil} end,
  function(t) return "dim", {} end,
  function(t) return "numel", {} end,
  function(t) return "reshape", rsizes() end,
  function(t) return "view", {-1} end,
  function(t) return "reshape", {t:numel(), chance(0.5) and -1 or 1} end,
  function(t)
    local p = {}
    for i = 1, t:dim() do p[i] = i end
    for i = #p, 2, -1 do local j = R(i); p[i], p[j] = p[j], p[i] end
    if chance(0.2) then p[#p + 1] = dimarg(t) end
    if chance(0.1) and #p > 1 then p[1] = p[2] end
    return "permute", chance(0.5) and {p} or p
  end,
  function(t) return "transpose", {dimarg(t), dimarg(t)} end,
  function(t)
    local d = {}
    for i = 1, R(3) - 1 do d[i] = dimarg(t) end
    return "flip", chance(0.5) and {d} or d
  end,
  function(t) return "narrow", {dimarg(t), num(-3, 4, 0.15), num(-1, 4, 0.15)} end,
  function(t) return "squeeze", {chance(0.5) and dimarg(t) or nil} end,
  function(t) return "unsqueeze", {num(-1, t:dim() + 2, 0.15)} end,
  function(t)
    local i = {}
    for d = 1, t:dim() + R(3) - 2 do i[d] = num(-3, 3, 0.1) end
    return "get", i
  end,
  function(t)
    local i = {}
    for d = 1, t:dim() + R(3) - 2 do i[d] = num(-3, 3, 0.1) end
    i[#i + 1] = chance(0.8) and math.random() or bad()
    return "set", i
  end,
  function(t) return "clone", {} end,
  function(t) return "contiguous", {} end,
  function(t) return "totable", {} end,
  function(t) return "item", {} end,
  function(t) return "sum", {} end,
  function(t) return "mean", {} end,
  function(t) return "min", {} end,
  function(t) return "max", {} end,
  function(t) return "fill", {chance(0.8) and math.random() or bad()} end,
  function(t) return "abs", {} end,
  function(t) return "sqrt", {} end,
  function(t)
    return "clamp", {chance(0.7) and -0.5 or bad(), chance(0.7) and 0.5 or bad()}
  end,
  function(t)
    local s = t:shape()
    if chance(0.3) and #s > 0 then s[R(#s)] = 1 end
    if chance(0.2) and #s > 0 then table.remove(s, 1) end
    if chance(0.1) then s[#s + 1] = 3 end
    local o = pick({function() return rtensor(s) end,
                    function() return math.random() end,
                    function() return {1, 2} end, bad})()
    return pick({"add", "sub", "mul", "div"}), {o}
  end,
  function(t) return "neg", {} end,
  function(t) return "equal", {chance(0.5) and t:clone() or bad()} end,
}

test("fuzz: tensor methods", function()
  for _ = 1, 800 * SCALE do
    local t = anytensor()
    local name, args = pick(method_calls)(t)
    local self = t
    if chance(0.03) then self = bad() end
    local ok, r = try("tensor:" .. name, t[name], self, table.unpack(args, 1, len(args)))
    if ok and self == t then
      if name == "clone" or name == "contiguous" or name == "abs" or name == "neg" then
        check(same(r:shape()[1] and r or r, r))
        check(r:numel() == t:numel())
      end
      if name == "clone" then check(same(r, t), name) end
      if name == "neg" then check(same(r, t * -1), name) end
      if name == "reshape" or name == "view" then check(r:numel() == t:numel(), name) end
      if name == "transpose" or name == "permute" or name == "flip" then
        check(r:numel() == t:numel(), name)
      end
      if name == "sum" and t:numel() > 0 then
        local s = 0
        for _, v in ipairs(t:reshape(-1):totable()) do s = s + v end
        near(r, s, 1e-3)
      end
    end
    -- operators, also with the tensor on the right
    local o = pick({function() return math.random() end, anytensor, bad})()
    local op = R(5)
    local names = {"tensor:add", "tensor:sub", "tensor:mul", "tensor:div", "tensor:neg"}
    local fns = {
      function(a, b) return a + b end, function(a, b) return a - b end,
      function(a, b) return a * b end, function(a, b) return a / b end,
      function(a) return -a end,
    }
    -- attempt to perform arithmetic on a non-number (Lua's own) is fine
    -- when neither side is a tensor
    if chance(0.5) then t, o = o, t end
    local ok2, err = pcall(fns[op], t, o)
    calls = calls + 1
    if not ok2 then
      err = tostring(err):gsub("^[^:]*:%d+: ", "") -- the Lua wrapper's position
      -- with no tensor involved, Lua's own arithmetic error is fine
      local involved = tensor.istensor(t) or (op < 5 and tensor.istensor(o))
      check(named(err, {names[op]}) or
            (not involved and err:find("attempt to", 1, true)),
            "operator: " .. tostring(err))
    end
    calls = calls + 1
    if tensor.istensor(t) then local _ = tostring(t); _ = #t end
  end
end)

test("fuzz: closed tensors", function()
  for _ = 1, 30 * SCALE do
    local t = anytensor()
    do local c <close> = t end
    local name, args = pick(method_calls)(tensor.ones(2))
    try({"tensor", "tensor:" .. name}, t[name], t, table.unpack(args, 1, len(args)))
    try({"conv.conv2d", "tensor"}, conv.conv2d, t, tensor.ones(1, 1, 1, 1))
    check(tostring(t) == "tensor(closed)")
  end
end)

-- ====================================================================== --
-- conv
-- ====================================================================== --

local pairkeys = {"stride", "padding", "dilation", "output_padding"}
local function rpair(lo, hi)
  local r = R(10)
  if r <= 6 then return num(lo, hi, 0) end
  if r <= 8 then return {num(lo, hi, 0.05), num(lo, hi, 0.05)} end
  if r == 9 then return pick({{1}, {1, 2, 3}, {1, 1, 1, 1}, {a = 1}}) end
  return bad()
end

-- Random option table for conv ops; C, O: channel counts for groups/bias.
local function ropts(kind, C, O)
  if chance(0.05) then return bad() end
  local o = {}
  if chance(0.4) then o.stride = rpair(1, 3) end
  if chance(0.4) then
    local r = R(10)
    if r <= 6 then o.padding = rpair(0, 2)
    elseif r <= 8 then o.padding = pick({"same", "valid", "full", "SAME"})
    else o.padding = {top = num(0, 2), bottom = num(0, 2), left = num(0, 2)} end
  end
  if chance(0.3) then o.dilation = rpair(1, 2) end
  if chance(0.3) then o.groups = chance(0.85) and pick({1, C, 2, 3}) or bad() end
  if chance(0.2) and kind == "T" then o.output_padding = rpair(0, 2) end
  if chance(0.25) then
    o.padding_mode = chance(0.85) and pick({"zeros", "reflect", "replicate", "circular"})
                     or pick({"mirror", 1, true})
  end
  if chance(0.25) then
    local n = chance(0.8) and O or R(4)
    o.bias = chance(0.8) and rtensor({n}) or pick({{1, 2}, 3, "b", tensor.ones(1, n)})
  end
  if chance(0.1) then o.data_format = pick({"channels_first", "channels_last", "NHWC", 3}) end
  if chance(0.15) and kind == "P" then o.multi_channel = pick({true, false, 1}) end
  if chance(0.05) then o[pick({"strides", "pad", "bias_", "transposed"})] = 1 end
  if chance(0.02) then o[1] = 1 end
  return o
end

local function conv_case(kind)
  local N, C = R(3) - 1, R(4)
  if chance(0.7) then N = 1 end
  local g = pick({1, 1, 1, C})
  local H, W = R(7) - 1, R(7) - 1
  if chance(0.8) then H, W = R(5) + 1, R(5) + 1 end
  local kh, kw = R(3), R(3)
  if chance(0.05) then kh = 0 end
  local O = g * R(3)
  local xs = {N, C, H, W}
  if chance(0.15) then table.remove(xs, 1) end
  if chance(0.05) then xs = rshape(5, 3) end
  local ws
  if kind == "T" then ws = {C, O / g, kh, kw} else ws = {O, C // g, kh, kw} end
  if chance(0.05) then ws = rshape(5, 3) end
  local x = rtensor(xs)
  local w = rtensor(ws)
  local opts = ropts(kind, C, kind == "T" and O or O)
  if type(opts) == "table" and opts.groups == nil and g ~= 1 then opts.groups = g end
  if type(opts) == "table" and opts.data_format == "channels_last" then
    -- give it the layout it wants most of the time
    if chance(0.8) and (x:dim() == 3 or x:dim() == 4) then
      local p = x:dim() == 4 and {1, 3, 4, 2} or {2, 3, 1}
      x = x:permute(p):contiguous()
    end
    if chance(0.8) and w:dim() == 4 then w = w:permute(3, 4, 2, 1) end
  end
  if chance(0.03) then x = bad() end
  if chance(0.03) then w = bad() end
  return x, w, opts
end

local function both_impls(fname, f, ...)
  conv.set_impl("reference")
  local r1 = table.pack(try(fname, f, ...))
  conv.set_impl("auto")
  local r2 = table.pack(try(fname, f, ...))
  if r1[1] ~= r2[1] then
    error(string.format("%s: reference %s but auto %s", fname,
                        r1[1] and "succeeds" or tostring(r1[2]),
                        r2[1] and "succeeds" or tostring(r2[2])))
  end
  if r1[1] then
    for i = 2, r1.n do
      local ok, why = same(r1[i], r2[i], 1e-3)
      if not ok then error(fname .. ": reference and auto differ: " .. tostring(why)) end
    end
  elseif r1[2] ~= r2[2] then
    error(string.format("%s: messages differ: %q vs %q", fname, r1[2], r2[2]))
  end
  return table.unpack(r2, 1, r2.n)
end

test("fuzz: conv.conv2d / convolve2d", function()
  for _ = 1, 500 * SCALE do
    local x, w, opts = conv_case("C")
    local ok, y = both_impls("conv.conv2d", conv.conv2d, x, w, opts)
    local ok2, y2 = both_impls("conv.convolve2d", conv.convolve2d, x, w, opts)
    if ok2 and tensor.istensor(w) and w:dim() == 4 and
       not (type(opts) == "table" and opts.data_format == "channels_last") then
      local ok3, y3 = try("conv.conv2d", conv.conv2d, x, w:flip(3, 4), opts)
      check(ok3, "convolve2d succeeded but conv2d of the flipped kernel failed")
      check(same(y2, y3, 1e-3), "convolve2d differs from conv2d of the flipped kernel")
    end
    if ok then check(tensor.istensor(y)) end
  end
end)

test("fuzz: conv.conv_transpose2d", function()
  for _ = 1, 400 * SCALE do
    local x, w, opts = conv_case("T")
    both_impls("conv.conv_transpose2d", conv.conv_transpose2d, x, w, opts)
  end
end)

test("fuzz: conv.partial_conv2d", function()
  for _ = 1, 300 * SCALE do
    local x, w, opts = conv_case("P")
    local m
    if tensor.istensor(x) and x:dim() >= 2 then
      local s = x:shape()
      if not (type(opts) == "table" and opts.multi_channel) and #s >= 3 then
        s[#s - 2] = 1
        if type(opts) == "table" and opts.data_format == "channels_last" then
          s = x:shape(); s[#s] = 1
        end
      end
      if chance(0.1) then s[#s] = s[#s] + 1 end
      m = rtensor(s)
      if chance(0.7) then m = m:clamp(0, 0):add(1) * (m:abs() / m:abs()):clamp(0, 1) end
      if chance(0.5) then m = (m:abs() + 0.5):clamp(0, 1) - 0.5 end
    end
    if chance(0.05) or m == nil then m = chance(0.5) and anytensor() or bad() end
    local ok, y, nm = both_impls("conv.partial_conv2d", conv.partial_conv2d, x, m, w, opts)
    if ok then check(tensor.istensor(y) and tensor.istensor(nm)) end
  end
end)

test("fuzz: conv.output_size / pad / layouts", function()
  for _ = 1, 600 * SCALE do
    local r = R(4)
    if r == 1 then
      local i = chance(0.5) and num(0, 9) or {num(0, 9), num(0, 9)}
      local k = chance(0.5) and num(0, 4) or {num(1, 4), num(1, 4)}
      if chance(0.05) then i = pick({{1}, {1, 2, 3}, "7"}) end
      local o = ropts(chance(0.5) and "T" or "C", 1, 1)
      if type(o) == "table" then
        o.bias, o.groups, o.data_format, o.multi_channel = nil, nil, nil, nil
        if chance(0.4) then o.transposed = chance(0.9) or "yes" end
      end
      local ok, h, ww = try("conv.output_size", conv.output_size, i, k, o)
      if ok then
        check(math.type(h) == "integer" and h >= 0, "output_size: h")
        if type(i) == "table" then check(math.type(ww) == "integer", "output_size: w") end
        -- agree with a real convolution when it is cheap to check
        if type(i) == "number" and type(k) == "number" and i <= 9 and k >= 1 and
           (type(o) ~= "table" or not o.transposed) then
          local ok2, y = try("conv.conv2d", conv.conv2d, tensor.ones(1, 1, i, i),
                             tensor.ones(1, 1, k, k), o)
          if ok2 then check(y:size(3) == h, "output_size disagrees with conv2d") end
        end
      end
    elseif r == 2 then
      local x = rtensor(rshape(5, 4))
      local p = chance(0.5) and num(0, 3) or {num(0, 3), num(0, 3), num(0, 3), num(0, 3)}
      if chance(0.05) then p = pick({{1, 2}, {1, 2, 3, 4, 5}, {}}) end
      local mode = chance(0.2) and nil or
                   (chance(0.85) and pick({"zeros", "constant", "reflect", "replicate", "circular"})
                    or bad())
      local ok, y = try("conv.pad", conv.pad, chance(0.97) and x or bad(), p, mode)
      if ok and type(p) == "number" and x:dim() >= 2 then
        check(y:size(-1) == x:size(-1) + 2 * p, "pad: width")
        if (mode == nil or mode == "zeros" or mode == "constant") then
          near(y:sum(), x:sum(), 1e-3)
        end
      end
    else
      local f = r == 3 and "to_hwio" or "to_oihw"
      local x = chance(0.85) and rtensor({R(3), R(3), R(3), R(3) - 1}) or anytensor()
      if chance(0.05) then x = bad() end
      local ok, y = try("conv." .. f, conv[f], x)
      if ok then
        local back = r == 3 and conv.to_oihw(y) or conv.to_hwio(y)
        check(same(back, x), f .. " round trip")
      end
    end
  end
  try("conv.set_impl", conv.set_impl, "fast")
  try("conv.set_impl", conv.set_impl, nil)
  conv.set_impl("auto")
  check(conv.get_impl() == "auto")
end)

-- ====================================================================== --
-- image
-- ====================================================================== --

local function readall(p)
  local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s
end
local function writeall(p, s)
  local f = assert(io.open(p, "wb")); f:write(s); f:close()
end

test("fuzz: image.load / image.save", function()
  local dir = os.tmpname()
  os.remove(dir)
  check(os.execute("mkdir -p '" .. dir .. "'"))
  local exts = {".png", ".jpg", ".jpeg", ".bmp", ".tga", ".PNG", ".gif", "", ".png/", ".x.png"}
  local saved = {}
  for i = 1, 120 * SCALE do
    local s = pick({{R(4), R(5), R(5)}, {R(5), R(5)}, {1, R(4), R(4), R(4)},
                    {R(6) - 1, R(3), R(3)}, rshape(5, 3)})
    local t = rtensor(s)
    if chance(0.3) then t = t:clamp(0, 1) end
    local path = dir .. "/f" .. i .. pick(exts)
    if chance(0.05) then path = pick({dir .. "/nodir/a.png", "", dir, dir .. "/.png"}) end
    local opts = chance(0.7) and nil or
                 (chance(0.7) and {quality = num(1, 100, 0.3)} or bad())
    local ok, r = try("image.save", image.save, chance(0.97) and t or bad(),
                      chance(0.97) and path or bad(), opts)
    if ok then
      check(r == path)
      saved[#saved + 1] = {path = path, t = t}
      if path:sub(-4) == ".png" then
        local u = image.load(path)
        local want = t:dim() == 2 and t:unsqueeze(1) or t:dim() == 4 and t:squeeze(1) or t
        want = want:clamp(0, 1)
        local a, b = u:reshape(-1), want:reshape(-1)
        for k = 1, a:numel(), math.max(1, a:numel() // 7) do
          local v = b:get(k)
          if v ~= v then v = 0 end
          check(math.abs(a:get(k) - v) <= 0.5 / 255 + 1e-6, "png round trip")
        end
      end
    end
  end
  -- corrupt, truncated and junk files
  local srcs = {}
  for _, s in ipairs(saved) do
    local ok, body = pcall(readall, s.path)
    if ok then srcs[#srcs + 1] = body end
  end
  srcs[#srcs + 1] = "\137PNG\r\n\26\n"
  srcs[#srcs + 1] = "BM"
  srcs[#srcs + 1] = "P6\n99999 99999\n255\n"
  srcs[#srcs + 1] = "P5\n2 2\n65535\n\0\1\2\3\4\5\6\7"
  srcs[#srcs + 1] = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n\1\1\1\1\1\1\1\1"
  for i = 1, 250 * SCALE do
    local body = pick(srcs)
    local mode = R(4)
    if mode == 1 then
      body = body:sub(1, R(#body + 1) - 1)
    elseif mode == 2 and #body > 0 then
      local b = {body:byte(1, -1)}
      for _ = 1, R(8) do b[R(#b)] = R(256) - 1 end
      body = string.char(table.unpack(b))
    elseif mode == 3 then
      local b = {}
      for k = 1, R(64) do b[k] = R(256) - 1 end
      body = string.char(table.unpack(b))
    end
    local p = dir .. "/c" .. i .. ".img"
    writeall(p, body)
    local ok, u = try("image.load", image.load, p)
    if ok then
      check(u:dim() == 3 and u:size(1) >= 1 and u:size(1) <= 4, "load: shape")
    end
    os.remove(p)
  end
  try("image.load", image.load, dir .. "/missing.png")
  try("image.load", image.load, dir)
  try("image.load", image.load, "")
  for _ = 1, 10 do try("image.load", image.load, bad()) end
  for _, s in ipairs(saved) do os.remove(s.path) end
  os.execute("rm -rf '" .. dir .. "'")
end)

-- ====================================================================== --
-- viz (headless)
-- ====================================================================== --

test("fuzz: viz", function()
  local dir = os.tmpname()
  os.remove(dir)
  check(os.execute("mkdir -p '" .. dir .. "'"))
  local shots = 0
  for i = 1, 150 * SCALE do
    local transposed = chance(0.4)
    local fname = transposed and "viz.conv_transpose2d" or "viz.conv2d"
    local x, w, opts = conv_case(transposed and "T" or "C")
    if type(opts) == "table" then
      opts.data_format = nil
      if chance(0.2) then opts.mask = chance(0.8) and rtensor({R(4), R(4)}) or bad() end
      if chance(0.15) then opts.kernel_mask = chance(0.8) and rtensor({R(3), R(3)}) or bad() end
      if not transposed then
        if chance(0.15) then opts.partial = pick({true, false, 1}) end
        if chance(0.1) then opts.flip = true end
        if chance(0.05) then opts.multi_channel = pick({true, false}) end
      else
        opts.padding_mode = nil
        if chance(0.3) then opts.view = chance(0.8) and pick({"scatter", "gather"}) or bad() end
      end
      if chance(0.3) then opts.by = chance(0.8) and pick({"tap", "cell"}) or bad() end
      if chance(0.1) then opts.title = chance(0.7) and ("t%d"):format(i) or bad() end
      if chance(0.05) then opts.caption = bad() end
      if chance(0.1) then opts.keras = true end
      if chance(0.1) then opts.width = num(320, 640, 0.5) end
      if chance(0.1) then opts.height = num(240, 480, 0.5) end
    end
    local f = transposed and viz.conv_transpose2d or viz.conv2d
    local ok, v = try(fname, f, x, w, opts)
    if ok then
      local st = v:state()
      check(math.type(st.steps) == "integer" and st.steps >= 0, "state.steps")
      for _ = 1, 4 do
        local which = R(3)
        if which == 1 then
          try("view:step", v.step, v, chance(0.6) and num(-5, 5, 0) or
              (chance(0.5) and pick({math.maxinteger, math.mininteger, 2^62}) or bad()))
        elseif which == 2 then
          try("view:seek", v.seek, v, chance(0.6) and num(-st.steps - 2, st.steps + 2, 0) or
              (chance(0.5) and pick({math.maxinteger, math.mininteger}) or bad()))
        else
          local s2 = v:state()
          if st.steps > 0 then
            check(s2.step >= 1 and s2.step <= st.steps,
                  ("step %d outside 1..%d"):format(s2.step, st.steps))
          end
        end
      end
      if chance(0.2) then
        local what = pick({"output", "input"})
        local idx = {num(0, 3, 0), num(0, 3, 0), num(0, 6, 0), num(0, 6, 0)}
        if chance(0.2) then idx[R(4)] = pick({-1, 1000, math.maxinteger, math.mininteger}) end
        try("view:hover", v.hover, v, what, idx)
        if shots < 6 then
          shots = shots + 1
          try("view:screenshot", v.screenshot, v, dir .. "/s" .. i .. ".png")
        end
      end
      if chance(0.1) then
        try("view:set", v.set, v, ropts(transposed and "T" or "C", 1, 1))
      end
      if chance(0.3) then -- keys change stride, padding, ... live
        local keys = {"Right", "Left", "Home", "End", "Space", "Up", "Down",
                      "t", "s", "p", "d", "o", "m", "f", "v", "c", "k", "?",
                      "+", "-", "=", "S", "P", "D", "O", "M", "n", "b", "x", ""}
        for _ = 1, R(30) do
          try("view:key", v.key, v, pick(keys), chance(0.3))
        end
        local s2 = v:state()
        check(s2.steps == 0 or (s2.step >= 1 and s2.step <= s2.steps), "step after keys")
        if chance(0.3) then
          try("view:mouse", v.mouse, v, num(0, 1280, 0.2), num(0, 800, 0.2))
          try("view:click", v.click, v, num(0, 1280, 0.2), num(0, 800, 0.2))
          try("view:mode", v.mode, v, chance(0.8) and pick({"tap", "cell"}) or bad())
          try("view:view", v.view, v, chance(0.8) and pick({"scatter", "gather"}) or bad())
          try("view:output", v.output, v)
          try("view:layout", v.layout, v)
          try("view:title", v.title, v, chance(0.8) and "t" or bad())
        end
        if shots < 12 and chance(0.3) then
          shots = shots + 1
          try("view:screenshot", v.screenshot, v, dir .. "/k" .. i .. ".png")
        end
      end
      if chance(0.05) then try("view:step", v.step, bad(), 1) end
    end
  end
  for _ = 1, 40 * SCALE do
    local items = {}
    for _, k in ipairs({"input", "kernel", "mask", "output"}) do
      if chance(0.5) then
        items[k] = chance(0.85) and rtensor(rshape(4, 3)) or
                   pick({{1, 2}, {{1}, {2}}, 3, "x", true})
      end
    end
    if chance(0.2) then items.title = chance(0.5) and "show" or bad() end
    if chance(0.1) then items.width = num(320, 640, 0.6) end
    if chance(0.1) then items.height = num(240, 480, 0.6) end
    if chance(0.05) then items.bogus = 1 end
    local ok, v = try("viz.show", viz.show, chance(0.97) and items or bad())
    if ok and chance(0.2) and shots < 10 then
      shots = shots + 1
      try("view:screenshot", v.screenshot, v, dir .. "/show" .. shots .. ".png")
      try("view:state", v.state, v)
    end
  end
  os.execute("rm -rf '" .. dir .. "'")
end)

-- ====================================================================== --
-- gradients, unfold/fold, matmul, pooling, 1-D ops (issue 11)
-- ====================================================================== --

-- A size: a number, {n}, {h, w}, or (rarely) something wrong.
local function rsize(lo, hi)
  local r = R(10)
  if r <= 5 then return num(lo, hi)
  elseif r <= 7 then return {num(lo, hi)}
  elseif r <= 9 then return {num(lo, hi), num(lo, hi)} end
  return pick({{}, {1, 2, 3}, "2", bad()})
end

local function rpoolopts(max)
  if chance(0.05) then return bad() end
  local o = {}
  if chance(0.5) then o.stride = rsize(0, 3) end
  if chance(0.4) then o.padding = rsize(0, 2) end
  if max and chance(0.3) then o.dilation = rsize(0, 2) end
  if chance(0.3) then o.ceil_mode = chance(0.9) and chance(0.5) or 1 end
  if max and chance(0.4) then o.return_indices = chance(0.9) or "yes" end
  if not max and chance(0.3) then o.count_include_pad = chance(0.5) end
  if not max and chance(0.2) then o.divisor_override = num(-2, 5) end
  if chance(0.03) then o.bogus = 1 end
  return o
end

test("fuzz: conv pooling", function()
  for _ = 1, 400 * SCALE do
    local x = chance(0.95) and rtensor(rshape(5, 6)) or bad()
    local k = rsize(0, 4)
    local r = R(7)
    if r == 1 then
      local o = rpoolopts(true)
      local ok, y = both_impls("conv.max_pool2d", conv.max_pool2d, x, k, o)
      -- conv.output_size with pooling's rule must agree with the op
      if ok and x:dim() >= 3 then
        local oo = {pooling = true}
        if type(o) == "table" then
          oo.stride, oo.padding, oo.dilation = o.stride, o.padding, o.dilation
          oo.ceil_mode = o.ceil_mode
        end
        local ok2, h, w = try("conv.output_size", conv.output_size,
                              {x:size(-2), x:size(-1)}, k, oo)
        check(ok2, "output_size refused what max_pool2d accepted")
        check(h == y:size(-2) and w == y:size(-1), "output_size disagrees with max_pool2d")
      end
    elseif r == 2 then
      both_impls("conv.avg_pool2d", conv.avg_pool2d, x, k, rpoolopts(false))
    elseif r == 3 then
      both_impls("conv.max_pool1d", conv.max_pool1d, x, k, rpoolopts(true))
    elseif r == 4 then
      local o = rpoolopts(false)
      if type(o) == "table" and chance(0.8) then o.divisor_override = nil end
      both_impls("conv.avg_pool1d", conv.avg_pool1d, x, k, o)
    elseif r == 5 then
      both_impls("conv.adaptive_avg_pool2d", conv.adaptive_avg_pool2d, x,
                 rsize(0, 5), chance(0.05) and {} or nil)
    elseif r == 6 then
      both_impls("conv.adaptive_max_pool2d", conv.adaptive_max_pool2d, x,
                 rsize(0, 5), chance(0.5) and {return_indices = true} or nil)
    else
      -- unpool what a pool returned, sometimes with spoilt indices
      local ok, y, i = try("conv.max_pool2d", conv.max_pool2d, x, k,
                           {return_indices = true})
      if ok then
        if chance(0.2) then i = i + pick({1, -1, 0.5, 1e9, 0 / 0}) end
        local o = chance(0.7) and {} or {output_size = rsize(0, 8)}
        local ok2, u = both_impls("conv.max_unpool2d", conv.max_unpool2d, y,
                                  chance(0.95) and i or bad(), k, o)
        if ok2 then check(tensor.istensor(u) and u:dim() == y:dim()) end
      end
    end
  end
end)

local function rsliding()
  if chance(0.05) then return bad() end
  if chance(0.3) then return nil end
  local o = {}
  if chance(0.3) then o.dilation = rsize(0, 2) end
  if chance(0.4) then o.padding = rsize(0, 2) end
  if chance(0.4) then o.stride = rsize(0, 3) end
  if chance(0.03) then o.kernel_size = 2 end
  return o
end

test("fuzz: conv.unfold / fold, tensor.matmul", function()
  for _ = 1, 300 * SCALE do
    local r = R(3)
    if r == 1 then
      local x = chance(0.95) and rtensor(rshape(5, 5)) or bad()
      local ok, u = both_impls("conv.unfold", conv.unfold, x, rsize(0, 3), rsliding())
      if ok then check(u:dim() == x:dim() - 1, "unfold: rank") end
    elseif r == 2 then
      local o, k = rsliding(), rsize(0, 3)
      local cols = rtensor(rshape(4, 6))
      both_impls("conv.fold", conv.fold, cols, rsize(0, 6), k, o)
      -- and one that fits: fold(unfold(x)) has x's shape
      local x = rtensor({R(2), R(3), R(5), R(5)})
      local ok, u = try("conv.unfold", conv.unfold, x, k, o)
      if ok then
        local ok2, f = both_impls("conv.fold", conv.fold, u, {x:size(3), x:size(4)}, k, o)
        check(ok2, "fold of an unfold failed")
        check(table.concat(f:shape(), "x") == table.concat(x:shape(), "x"), "fold: shape")
      end
    else
      local a, b = rtensor(rshape(4, 4)), rtensor(rshape(4, 4))
      if chance(0.5) and a:dim() >= 1 and b:dim() >= 2 then
        local s = b:shape()
        s[#s - 1] = a:size(-1)
        b = rtensor(s)
      end
      local ok, y = try("tensor.matmul", tensor.matmul, a, chance(0.97) and b or bad())
      local ok2, y2 = try("tensor:matmul", a.matmul, a, b)
      if ok and ok2 then check(same(y, y2), "tensor.matmul and t:matmul differ") end
    end
  end
end)

local function r1dopts(T, C, O)
  if chance(0.05) then return bad() end
  local o = {}
  if chance(0.4) then o.stride = rsize(0, 3) end
  if chance(0.4) then
    local r = R(10)
    if r <= 5 then o.padding = rsize(0, 2)
    elseif r <= 8 then o.padding = pick({"same", "valid", "causal", "full"})
    else o.padding = {left = num(0, 2), right = num(0, 2)} end
  end
  if chance(0.3) then o.dilation = rsize(0, 2) end
  if chance(0.2) then o.groups = chance(0.85) and pick({1, C, 2}) or bad() end
  if T and chance(0.2) then o.output_padding = rsize(0, 2) end
  if T and chance(0.1) then o.output_size = rsize(0, 12) end
  if chance(0.2) then o.padding_mode = pick({"zeros", "reflect", "replicate", "circular", "x"}) end
  if chance(0.2) then o.bias = chance(0.8) and rtensor({O}) or pick({{1, 2}, "b"}) end
  if chance(0.1) then o.data_format = pick({"channels_first", "channels_last", 3}) end
  if chance(0.03) then o.strides = 1 end
  return o
end

test("fuzz: conv gradients and 1-D convolutions", function()
  for _ = 1, 300 * SCALE do
    local kind = chance(0.5) and "C" or "T"
    local x, w, opts = conv_case(kind)
    local f = kind == "T" and conv.conv_transpose2d or conv.conv2d
    local ok, y = pcall(f, x, w, opts)
    local gy = (ok and chance(0.9)) and rtensor(y:shape())
               or (chance(0.5) and anytensor() or bad())
    if kind == "T" and type(opts) == "table" and chance(0.2) then
      opts.output_padding, opts.output_size = nil, rsize(0, 9)
    end
    local name = kind == "T" and "conv.conv_transpose2d_backward" or "conv.conv2d_backward"
    local okb, gx, gw, gb = both_impls(name, conv[name:sub(6)], x, w, gy, opts)
    if okb then
      check(table.concat(gx:shape(), "x") == table.concat(x:shape(), "x"), name .. ": gx shape")
      check(table.concat(gw:shape(), "x") == table.concat(w:shape(), "x"), name .. ": gw shape")
      check(gb:dim() == 1, name .. ": gb rank")
    end
    local C, O = R(3), R(3)
    local x1 = rtensor(chance(0.8) and {R(2), C, R(8)} or rshape(4, 6))
    local T = chance(0.4)
    local w1 = rtensor(chance(0.8) and (T and {C, O, R(3)} or {O, C, R(3)}) or rshape(4, 3))
    local o1 = r1dopts(T, C, O)
    if T then
      both_impls("conv.conv_transpose1d", conv.conv_transpose1d, x1, w1, o1)
    else
      both_impls("conv.conv1d", conv.conv1d, chance(0.97) and x1 or bad(), w1, o1)
    end
  end
end)

test("fuzz: call count", function()
  check(calls > 2000, "only " .. calls .. " calls")
  if os.getenv("CONVPLAY_FUZZ_VERBOSE") then print("fuzz: " .. calls .. " calls, seed " .. SEED) end
end)
