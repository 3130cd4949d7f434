-- kind_cases.lua: the views code_cases.lua and grad_cases.lua leave out,
-- whose generated code (v:code) gen_code_kind.py runs through PyTorch
-- (make golden) and tests/lua/test_code_kind.lua checks (make test, no
-- torch):
--   pooling   viz.max_pool2d / avg_pool2d (3-D and 4-D input), max_pool1d /
--             avg_pool1d (2-D and 3-D input), int or pair kernel, stride
--             absent / int / pair, padding up to k/2, dilation (max),
--             ceil_mode, return_indices, count_include_pad,
--             divisor_override (avg_pool2d), ties, -inf and NaN values;
--             viz.max_unpool2d of a max_pool2d's indices, output_size;
--   1-D conv  viz.conv1d ("causal", "same", "valid", a number, unequal
--             sides, padding modes, groups, bias, channels_last) and
--             viz.conv_transpose1d (output_padding, output_size);
--   unfold    viz.unfold in its three pictures (im2col, matrix, matrix_t).
-- Some parameters are changed after the view is made (keys, v:set), as a
-- user does.  Deterministic: its own generator, so the views are the same
-- on every machine and every run.
--
-- Returns a function () -> list of {desc = "...", view = v}.
local PLAN = { -- kind, how many valid views
  {"max_pool2d", 16}, {"avg_pool2d", 14}, {"max_pool1d", 7}, {"avg_pool1d", 6},
  {"max_unpool2d", 5}, {"conv1d", 9}, {"conv_transpose1d", 4}, {"unfold", 6},
}

return function()
  local state = 20261214
  local function rnd() -- [0, 1)
    state = state * 6364136223846793005 + 1442695040888963407
    return ((state >> 33) & 0x7fffffff) / 2147483648.0
  end
  local function int(lo, hi) return lo + math.floor(rnd() * (hi - lo + 1)) end
  local function pick(t) return t[int(1, #t)] end
  -- values: multiples of 1/16 (exact), of 1/2 in [-1, 1] (many ties in a
  -- window), full precision, or with some -inf and NaN
  local function T(shape, kind)
    local n = 1
    for _, d in ipairs(shape) do n = n * d end
    local t = {}
    for i = 1, n do
      if kind == "full" then t[i] = (rnd() - 0.5) * 4
      elseif kind == "ties" then t[i] = int(-2, 2) / 2
      elseif kind == "inf" and rnd() < 0.6 then t[i] = rnd() < 0.9 and -1 / 0 or 0 / 0
      else t[i] = int(-32, 32) / 16 end
    end
    return tensor.new(t):reshape(shape)
  end
  local function data_kind(special)
    local r = rnd()
    if r < 0.25 then return "full" end
    if special and r < 0.4 then return "ties" end
    if special and r < 0.6 then return "inf" end
    return "sixteenths"
  end

  local cases = {}
  local made = {}
  local function pool2d(kind, say)
    local max = kind == "max_pool2d"
    local dk = data_kind(true)
    if not max and dk == "inf" then dk = "ties" end
    local unbatched = rnd() < 0.2
    local N, C = pick{1, 1, 2}, pick{1, 2, 3}
    local H, W = int(2, 8), int(2, 8)
    local shape = unbatched and {C, H, W} or {N, C, H, W}
    local k = rnd() < 0.5 and int(1, 4) or {int(1, 4), int(1, 4)}
    local kh, kw = type(k) == "table" and k[1] or k, type(k) == "table" and k[2] or k
    local o = {}
    local r = rnd()
    if r < 0.3 then o.stride = int(1, 3)
    elseif r < 0.6 then o.stride = {int(1, 3), int(1, 3)} end
    if rnd() < 0.6 then o.padding = {int(0, kh // 2), int(0, kw // 2)} end
    if max and rnd() < 0.35 then o.dilation = {int(1, 2), int(1, 2)} end
    if rnd() < 0.4 then o.ceil_mode = true end
    if max and rnd() < 0.6 then o.return_indices = true end
    if not max then
      if rnd() < 0.5 then o.count_include_pad = false end
      if rnd() < 0.25 then o.divisor_override = int(1, 5) end
    end
    say("%s x%s k%s %s", kind, table.concat(shape, "x"),
        type(k) == "table" and table.concat(k, "x") or tostring(k), dk)
    for _, key in ipairs{"stride", "padding", "dilation"} do
      local v = o[key]
      if v then say("%s=%s", key, type(v) == "table" and table.concat(v, "x") or v) end
    end
    for _, key in ipairs{"ceil_mode", "return_indices", "count_include_pad",
                         "divisor_override"} do
      if o[key] ~= nil then say("%s=%s", key, tostring(o[key])) end
    end
    return viz[kind], T(shape, dk), k, o
  end
  local function pool1d(kind, say)
    local max = kind == "max_pool1d"
    local dk = data_kind(true)
    if not max and dk == "inf" then dk = "ties" end
    local unbatched = rnd() < 0.3
    local N, C, L = pick{1, 2}, pick{1, 2, 3}, int(2, 12)
    local shape = unbatched and {C, L} or {N, C, L}
    local k = int(1, 4)
    local o = {}
    if rnd() < 0.6 then o.stride = int(1, 3) end
    if rnd() < 0.6 then o.padding = int(0, k // 2) end
    if max and rnd() < 0.35 then o.dilation = int(1, 3) end
    if rnd() < 0.4 then o.ceil_mode = true end
    if max and rnd() < 0.5 then o.return_indices = true end
    if not max and rnd() < 0.5 then o.count_include_pad = false end
    say("%s x%s k%d %s", kind, table.concat(shape, "x"), k, dk)
    for _, key in ipairs{"stride", "padding", "dilation", "ceil_mode",
                         "return_indices", "count_include_pad"} do
      if o[key] ~= nil then say("%s=%s", key, tostring(o[key])) end
    end
    return viz[kind], T(shape, dk), k, o
  end

  -- one view of `kind`, or nil when the random parameters are invalid
  -- (nth: how many of this kind are made: the padding kind of conv1d and
  -- the picture of unfold cycle through all of theirs)
  local function make(kind, say, nth)
    if kind:find("pool") and kind ~= "max_unpool2d" then
      local f, x, k, o = (kind:find("1d") and pool1d or pool2d)(kind, say)
      local ok, v = pcall(f, x, k, o)
      if not ok then return nil end
      -- a live change, as a user makes with keys or v:set
      local r = rnd()
      if r < 0.12 then v:key("e"); say("key e")
      elseif r < 0.22 and kind:find("avg") then v:key("i"); say("key i")
      elseif r < 0.3 then v:key("s"); say("key s")
      elseif r < 0.36 and kind:find("max") then v:key("d"); say("key d")
      elseif r < 0.42 then
        local p = int(0, 1)
        if v:set{padding = p} then say("set padding=%d", p) end
      end
      return v
    elseif kind == "max_unpool2d" then
      local dk = data_kind(false)
      local N, C, H, W = pick{1, 2}, pick{1, 2}, int(3, 8), int(3, 8)
      local unbatched = rnd() < 0.3
      local shape = unbatched and {C, H, W} or {N, C, H, W}
      local k = int(1, 3)
      local o = {stride = int(1, 3), padding = int(0, k // 2)}
      local okp, y, ind = pcall(conv.max_pool2d, T(shape, dk), k,
                                {stride = o.stride, padding = o.padding, return_indices = true})
      if not okp then return nil end
      say("max_unpool2d of max_pool2d(x%s, %d, stride=%d, padding=%d) %s",
          table.concat(shape, "x"), k, o.stride, o.padding, dk)
      if rnd() < 0.5 then o.output_size = {H, W}; say("output_size=%dx%d", H, W) end
      local ok, v = pcall(viz.max_unpool2d, y, ind, k, o)
      return ok and v or nil
    elseif kind == "conv1d" or kind == "conv_transpose1d" then
      local T1 = kind == "conv_transpose1d"
      local dk = data_kind(false)
      local G = pick{1, 1, 2}
      local C, O = G * pick{1, 2}, G * pick{1, 2}
      local L, k = int(3, 12), int(1, 4)
      local unbatched = rnd() < 0.3
      local N = pick{1, 2}
      local x = T(unbatched and {C, L} or {N, C, L}, dk)
      local w = T(T1 and {C, O // G, k} or {O, C // G, k}, dk)
      local o = {groups = G, stride = int(1, 3), dilation = int(1, 2)}
      say("%s x%s w%s s%d d%d g%d", kind, table.concat(x:size(), "x"),
          table.concat(w:size(), "x"), o.stride, o.dilation, G)
      if rnd() < 0.5 then o.bias = T({O}, dk); say("bias") end
      if T1 then
        o.padding = int(0, k - 1)
        say("pad %d", o.padding)
        if rnd() < 0.5 then
          o.output_padding = int(0, math.max(o.stride, o.dilation) - 1)
          say("op %d", o.output_padding)
        end
      else
        local r = nth % 5
        if r == 1 then o.padding = "causal"
        elseif r == 2 then o.padding = "valid"
        elseif r == 3 then o.padding = "same"; o.stride = 1; say("stride 1")
        elseif r == 4 then o.padding = {left = int(0, 2), right = int(0, 2)}
        else o.padding = int(1, 2) end
        say("pad %s", type(o.padding) == "table"
            and string.format("l%dr%d", o.padding.left, o.padding.right) or o.padding)
        if type(o.padding) == "number" then
          o.padding_mode = pick{"reflect", "replicate", "circular"}
          say("%s", o.padding_mode)
        end
        if not unbatched and nth % 3 == 2 then
          -- channels_last: the same numbers as NLC, the kernel (k, C/G, O)
          o.data_format = "channels_last"
          x = x:permute(1, 3, 2):contiguous()
          w = w:permute(3, 2, 1):contiguous()
          say("channels_last")
        end
      end
      local ok, v = pcall(viz[kind], x, w, o)
      if not ok then return nil end
      if rnd() < 0.25 then
        if v:set{dilation = 2} then say("set d2") else v:set{dilation = o.dilation} end
      end
      return v
    else -- unfold
      local dk = data_kind(false)
      local G = pick{1, 1, 2}
      local C, O = G * pick{1, 2}, G * pick{1, 2}
      local H, W, kh, kw = int(3, 5), int(3, 5), int(1, 3), int(1, 3)
      local gemm = ({"im2col", "matrix", "matrix_t"})[nth % 3 + 1]
      local o = {groups = G, stride = {int(1, 2), int(1, 2)},
                 padding = {int(0, 1), int(0, 1)}, dilation = {1, int(1, 2)}, gemm = gemm}
      local x, w = T({1, C, H, W}, dk), T({O, C // G, kh, kw}, dk)
      if rnd() < 0.5 then o.bias = T({O}, dk) end
      if rnd() < 0.3 then o.padding_mode = pick{"reflect", "replicate", "circular"} end
      say("unfold %s x1x%dx%dx%d w%dx%dx%dx%d s%dx%d p%dx%d d1x%d g%d%s%s", gemm, C, H, W,
          O, C // G, kh, kw, o.stride[1], o.stride[2], o.padding[1], o.padding[2],
          o.dilation[2], G, o.bias and " bias" or "",
          o.padding_mode and (" " .. o.padding_mode) or "")
      local ok, v = pcall(viz.unfold, x, w, o)
      if not ok then return nil end
      if rnd() < 0.3 then v:key("u"); say("key u") end
      return v
    end
  end

  local tries = 0
  for _, plan in ipairs(PLAN) do
    local kind, want = plan[1], plan[2]
    made[kind] = 0
    while made[kind] < want do
      tries = tries + 1
      assert(tries < 5000, "kind_cases: cannot make enough valid views")
      local desc = {}
      local function say(fmt, ...) desc[#desc + 1] = string.format(fmt, ...) end
      local v = make(kind, say, made[kind])
      if v and not v:state().error and v:state().steps > 0 then
        made[kind] = made[kind] + 1
        cases[#cases + 1] = {desc = string.format("%d: %s", #cases + 1,
                                                  table.concat(desc, " ")),
                             view = v, kind = kind}
      end
    end
  end
  return cases
end
