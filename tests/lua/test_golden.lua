-- test_golden.lua: convplay against PyTorch's numbers (tests/golden/*.lua,
-- made by tests/golden/gen_golden.py).  One test per fixture case; every
-- valid case runs on the reference loops and on the dispatcher's choice.

local DIR = "../golden/"
local FILES = {"conv2d", "conv_transpose2d", "convolve2d", "partial_conv2d",
               "channels_last", "errors"}

-- float32 results: within 1e-4 of the largest |expected| value (at least 1)
local RTOL = 1e-4

-- ---- fixture tensors --------------------------------------------------------

local GT = dofile("golden_tensors.lua")
local numel_of, T, T_strided = GT.numel_of, GT.T, GT.T_strided

local function flat(t)
  local n = t:numel()
  if n == 0 then return {} end
  return t:contiguous():reshape({n}):totable()
end

local function shape_str(s)
  return "{" .. table.concat(s, ", ") .. "}"
end

-- got (a convplay tensor) must have want's shape and values.
local function compare(got, want, what)
  check(tensor.istensor(got), what .. ": not a tensor: " .. tostring(got))
  local gs, ws = got:shape(), want.shape
  if shape_str(gs) ~= shape_str(ws) then
    error(string.format("%s: shape %s, expected %s", what, shape_str(gs),
                        shape_str(ws)), 0)
  end
  local scale = 1
  for _, v in ipairs(want.data) do
    if v == v and math.abs(v) ~= math.huge then
      scale = math.max(scale, math.abs(v))
    end
  end
  local tol = RTOL * scale
  local g = flat(got)
  local bad, first = 0, nil
  for i, w in ipairs(want.data) do
    local v = g[i]
    local ok
    if w ~= w then
      ok = v ~= v
    elseif math.abs(w) == math.huge then
      ok = v == w
    else
      ok = v == v and math.abs(v - w) <= tol
    end
    if not ok then
      bad = bad + 1
      first = first or string.format("flat index %d: got %.9g, expected %.9g",
                                     i, v, w)
    end
  end
  if bad > 0 then
    error(string.format("%s: %d of %d values differ (tol %.3g); first at %s",
                        what, bad, #want.data, tol, first), 0)
  end
end

-- ---- running a case ---------------------------------------------------------

local function opts_of(c)
  local o = {}
  for k, v in pairs(c.opts or {}) do o[k] = v end
  if o.bias then o.bias = T(o.bias) end
  return o
end

local function call(c, strided)
  local mk = strided and T_strided or T
  local x, w, o = mk(c.x), mk(c.w), opts_of(c)
  if c.op == "partial_conv2d" then
    return conv.partial_conv2d(x, mk(c.mask), w, o)
  end
  return conv[c.op](x, w, o)
end

-- Run fn(strided) on the reference loops, on the dispatcher's choice, and
-- on the dispatcher's choice with non-contiguous inputs; "auto" is restored
-- whatever happens.
local RUNS = {{"reference", false}, {"auto", false}, {"auto", true}}
local function each_impl(fn)
  local errs = {}
  for _, r in ipairs(RUNS) do
    conv.set_impl(r[1])
    local ok, err = pcall(fn, r[2])
    conv.set_impl("auto")
    if not ok then
      errs[#errs + 1] = "[" .. r[1] .. (r[2] and ", strided views" or "") ..
                        "] " .. tostring(err)
    end
  end
  if #errs > 0 then error(table.concat(errs, "\n"), 0) end
end

local function check_valid(c)
  each_impl(function(strided)
    local out, new_mask = call(c, strided)
    compare(out, c.out, "out")
    if c.out_mask then compare(new_mask, c.out_mask, "out_mask") end
  end)
end

-- ---- errors -----------------------------------------------------------------
-- convplay copies PyTorch's message for most errors; by default the whole
-- PyTorch message must appear in ours.  Where ours differs on purpose (the
-- wording of a Python TypeError/ValueError, an nn-only check, PyTorch's odd
-- "[[...]]" shape or its message for a 3-D weight) the entry below names
-- the phrases ours must contain instead.  {pattern in PyTorch's message,
-- phrase, ...}; the first matching pattern wins.
local ERROR_PHRASES = {
  -- a 3-D weight: PyTorch complains about the stride's length
  {"expected stride to be a single integer value or a list of 1 values",
   "expected a 4-D weight"},
  -- a 4-tuple: ours adds how to pad unequal sides
  {"^(expected padding to be a single integer value or a list of 2 values)",
   function(m) return {m, "list of 4"} end},
  -- conv_transpose2d has no string padding (a Python TypeError in torch)
  {"argument 'padding' %(position 5%) must be tuple of ints, not str",
   "'opts.padding'", "conv_transpose2d takes a number or {ph, pw}, not the "
   .. "string"},
  {"Only \"zeros\" padding mode is supported for ConvTranspose2d",
   "\"zeros\" padding mode is supported"},
  {"padding_mode must be one of", "padding_mode must be one of", "mirror"},
  -- torch prints the weight size in double brackets
  {"expected weight to be divisible by (%d+) at dimension 0",
   function(m) return {"expected weight to be divisible by " .. m ..
                       " at dimension 0"} end},
  {"expected bias to be 1%-dimensional with (%d+) elements",
   function(m) return {"expected bias to be 1-dimensional with " .. m ..
                       " elements"} end},
  -- convT words it dilation_height: 0, dilation_width: 0
  {"dilation should be greater than zero", "dilation should be greater than "
   .. "zero"},
  -- F.pad's "Argument #4: " names its own argument, not ours
  {"^Argument #%d+: (.*)$", function(m) return {m} end},
}

-- Cases where PyTorch fails somewhere else (its Python argument parser,
-- which names no argument; a broadcast or the mask conv for a mask of the
-- wrong shape) and convplay checks the argument itself.  By fixture desc.
local ERROR_BY_DESC = {
  ["mask shape: height 4 for input height 5"] =
    {"mask: shape [1, 1, 4, 5] does not fit input [1, 3, 5, 5]"},
  ["mask shape: 3 channels without multi_channel"] =
    {"mask: shape [1, 3, 5, 5] does not fit input [1, 3, 5, 5]",
     "multi_channel=false"},
  ["mask shape: 1 channel with multi_channel"] =
    {"mask: shape [1, 1, 5, 5] does not fit input [1, 3, 5, 5]",
     "multi_channel=true"},
  ["mask shape: 2-D mask"] = {"mask: expected 4 dimensions like the input"},
  ["option type: stride 1.5"] =
    {"'opts.stride'", "expected a whole number, got 1.5"},
  ["option type: padding {1.5, 1}"] =
    {"'opts.padding'", "expected a whole number, got 1.5"},
  ["option type: groups 1.5"] =
    {"'opts.groups'", "expected a whole number, got 1.5"},
  ["option name: output_padding is not a conv2d option"] =
    {"unknown option 'output_padding'"},
  ["option name: strides (misspelt)"] = {"unknown option 'strides'"},
  -- F.pad refuses an empty channel dimension for reflect ("3D or 4D (batch
  -- mode) tensor expected for input, but got: [ torch.FloatTensor{...} ]")
  ["C_in=0 with reflect padding"] = {"padding", "[1, 0, 5, 5]"},
}

local function phrases_for(msg, desc)
  if ERROR_BY_DESC[desc] then return ERROR_BY_DESC[desc] end
  for _, e in ipairs(ERROR_PHRASES) do
    local m = msg:match(e[1])
    if m then
      if type(e[2]) == "function" then return e[2](m) end
      return {table.unpack(e, 2)}
    end
  end
  return {msg}
end

local function check_error(c)
  local want = phrases_for(c.error, c.desc)
  each_impl(function(strided)
    raises(function() call(c, strided) end, table.unpack(want))
  end)
end

-- ---- the cases --------------------------------------------------------------

for _, name in ipairs(FILES) do
  local ok, cases = pcall(dofile, DIR .. name .. ".lua")
  test("golden " .. name .. " fixture loads", function()
    check(ok, tostring(cases))
    check(type(cases) == "table" and #cases > 0, "no cases")
  end)
  if ok then
    for i, c in ipairs(cases) do
      local label = string.format("golden %s #%d %s: %s", name, i, c.op,
                                  c.desc or "")
      if c.error then
        test(label, function() check_error(c) end)
      else
        test(label, function() check_valid(c) end)
      end
    end
  end
end
