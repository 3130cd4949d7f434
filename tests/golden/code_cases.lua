-- code_cases.lua: the random views whose generated code (v:code) is run
-- through PyTorch by gen_code.py (make golden) and checked by
-- tests/lua/test_code.lua (make test, no torch).  Deterministic: its own
-- generator, so the views are the same on every machine and every run.
--
-- Returns a function () -> list of {desc = "...", view = v}.  Every view is
-- valid; each covers some of: batch, channels, groups (depthwise too),
-- non-square kernels, stride, dilation, padding as a number, pair,
-- "same", "valid" or unequal sides, the four padding modes, bias, input
-- mask (per channel or broadcast), kernel mask, partial convolution
-- (single / multi-channel), true convolution (flip), conv_transpose2d with
-- output_padding, tensors small enough for literals and larger ones
-- (written exactly as base64), full-precision values, and parameters
-- changed after the view was made (v:set, keys), as a user does.
local NCASES = 72

return function()
  local state = 20261130
  local function rnd() -- [0, 1)
    state = state * 6364136223846793005 + 1442695040888963407
    return ((state >> 33) & 0x7fffffff) / 2147483648.0
  end
  local function int(lo, hi) return lo + math.floor(rnd() * (hi - lo + 1)) end
  local function pick(t) return t[int(1, #t)] end
  local function values(n, full)
    local t = {}
    for i = 1, n do
      if full then t[i] = (rnd() - 0.5) * 4
      else t[i] = int(-32, 32) / 16 end
    end
    return t
  end
  local function T(shape, full)
    local n = 1
    for _, d in ipairs(shape) do n = n * d end
    return tensor.new(values(n, full)):reshape(shape)
  end
  local function mask(shape)
    local n = 1
    for _, d in ipairs(shape) do n = n * d end
    local t = {}
    for i = 1, n do t[i] = rnd() < 0.7 and 1 or 0 end
    return tensor.new(t):reshape(shape)
  end
  local function sz() return pick{1, 2, 3} end

  local cases = {}
  local tries = 0
  while #cases < NCASES do
    tries = tries + 1
    assert(tries < 5000, "code_cases: cannot make enough valid views")
    local i = #cases + 1
    local transposed = rnd() < 0.3
    local full = rnd() < 0.25
    local N = rnd() < 0.8 and 1 or 2
    local G = pick{1, 1, 1, 2, 3}
    local C = G * pick{1, 1, 2}
    local O = G * pick{1, 2}
    local H, W = int(3, 7), int(3, 7)
    local small = rnd() < 0.3 -- every tensor a literal
    if small then N, C, O, G, H, W = 1, 1, pick{1, 2}, 1, int(3, 6), int(3, 6) end
    local kH, kW = int(1, math.min(4, H)), int(1, math.min(4, W))
    local x = T({N, C, H, W}, full)
    local w = transposed and T({C, O // G, kH, kW}, full) or T({O, C // G, kH, kW}, full)
    local opts = {groups = G}
    local desc = {}
    local function say(fmt, ...) desc[#desc + 1] = string.format(fmt, ...) end
    say("%s x%dx%dx%dx%d w%s", transposed and "convT" or "conv2d", N, C, H, W,
        table.concat(w:size(), "x"))
    if rnd() < 0.5 then opts.bias = T({O}, full); say("bias") end
    local sH, sW = pick{1, 1, 2, 3}, pick{1, 1, 2}
    opts.stride = {sH, sW}
    local dil = rnd() < 0.25 and {pick{1, 2}, 2} or {1, 1}
    opts.dilation = dil
    say("s%dx%d d%dx%d g%d", sH, sW, dil[1], dil[2], G)
    if transposed then
      local p = {int(0, kH - 1), int(0, kW - 1)}
      if rnd() < 0.15 then
        opts.padding = {top = p[1], bottom = int(0, kH - 1), left = p[2], right = p[2]}
        say("pad sides")
      else
        opts.padding = p
        say("pad %dx%d", p[1], p[2])
      end
      local op = {int(0, math.max(sH, dil[1]) - 1), int(0, math.max(sW, dil[2]) - 1)}
      opts.output_padding = op
      say("op %dx%d", op[1], op[2])
    else
      local r = rnd()
      if r < 0.2 and sH == 1 and sW == 1 then opts.padding = "same"; say("same")
      elseif r < 0.3 then opts.padding = "valid"; say("valid")
      elseif r < 0.45 then
        opts.padding = {top = int(0, 2), bottom = int(0, 2), left = int(0, 2), right = int(0, 2)}
        say("pad sides")
      else
        opts.padding = {int(0, 2), int(0, 2)}
        say("pad %dx%d", opts.padding[1], opts.padding[2])
      end
      local m = rnd()
      opts.padding_mode = m < 0.55 and "zeros" or m < 0.7 and "reflect"
                          or m < 0.85 and "replicate" or "circular"
      say("%s", opts.padding_mode)
    end
    if rnd() < 0.3 then
      opts.mask = rnd() < 0.5 and mask({N, C, H, W}) or mask({1, 1, H, W})
      say("mask%s", opts.mask:size(2) > 1 and " per channel" or "")
    end
    if rnd() < 0.25 then opts.kernel_mask = mask({kH, kW}); say("kmask") end
    if not transposed then
      if rnd() < 0.2 then
        opts.partial = true
        if rnd() < 0.4 then opts.multi_channel = true end
        say("partial%s", opts.multi_channel and " multi" or "")
      end
      if rnd() < 0.2 then opts.flip = true; say("flip") end
    end
    local ok, v = pcall(transposed and viz.conv_transpose2d or viz.conv2d, x, w, opts)
    if ok then
      -- a live change, as a user makes with keys or v:set
      local r = rnd()
      if r < 0.1 then
        v:key("s"); say("key s")
        if v:state().error then v:key("S") end
      elseif r < 0.2 and not transposed then
        v:key("f"); say("key f")
      elseif r < 0.3 then
        if not v:set{dilation = 2} then v:set{dilation = dil} else say("set d2") end
      end
      if not v:state().error and v:state().steps > 0 then
        cases[#cases + 1] = {desc = string.format("%d: %s", i, table.concat(desc, " ")),
                             view = v}
      end
    end
  end
  return cases
end
