-- test_code.lua: v:code("pytorch" | "keras"), the program that computes
-- what a view draws, and its panel (key C) and copy key (c).
--
-- The golden half needs no torch: tests/golden/code_views.lua holds, for
-- every view of tests/golden/code_cases.lua, the PyTorch code convplay
-- generated when `make golden` ran it through PyTorch, and PyTorch's
-- result.  Here the same views are built again; the code must be the same
-- text (a change in the generator shows up as a diff to re-run through
-- torch) and convplay's output must equal what PyTorch computed from it.
-- The Keras text is pinned the same way: where Keras can express a view,
-- gen_code.py ran it through tests/golden/keras_mock.py (Keras's
-- documented rules on top of torch) and it gave PyTorch's numbers.

-- ---- helpers -------------------------------------------------------------

local function has(text, ...)
  for _, want in ipairs({...}) do
    if not text:find(want, 1, true) then
      error(string.format("code lacks %q:\n%s", want, text), 2)
    end
  end
end

local function lacks(text, ...)
  for _, bad in ipairs({...}) do
    if text:find(bad, 1, true) then
      error(string.format("code has %q:\n%s", bad, text), 2)
    end
  end
end

local function flat(t)
  local n = t:numel()
  if n == 0 then return {} end
  return t:contiguous():reshape({n}):totable()
end

local function f32(v) return string.unpack("<f", string.pack("<f", v)) end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function unbase64(s)
  local out, bits, nb = {}, 0, 0
  for ch in s:gmatch("[^=]") do
    bits = (bits << 6) | (B64:find(ch, 1, true) - 1)
    nb = nb + 6
    if nb >= 8 then
      nb = nb - 8
      out[#out + 1] = string.char((bits >> nb) & 255)
    end
  end
  return table.concat(out)
end

-- The numbers of a literal `name = torch.tensor([...])` in the code.
local function literal(code, name)
  local s = code:match("\n" .. name .. " = torch%.tensor%((%b[])%)")
  assert(s, "no literal for " .. name)
  local vals = {}
  for tok in s:gsub('float%("nan"%)', "nan"):gsub('float%("inf"%)', "inf")
               :gmatch("[^%[%],%s]+") do
    if tok == "nan" then vals[#vals + 1] = 0 / 0
    elseif tok == "inf" then vals[#vals + 1] = 1 / 0
    elseif tok == "-inf" then vals[#vals + 1] = -1 / 0
    else vals[#vals + 1] = assert(tonumber(tok), tok) end
  end
  return vals
end

local function same_f32(got, want, what)
  check(#got == #want, string.format("%s: %d values, want %d", what, #got, #want))
  for i = 1, #want do
    local a, b = f32(got[i]), f32(want[i])
    check((a ~= a and b ~= b) or a == b,
          string.format("%s[%d]: %.9g is not %.9g", what, i, a, b))
  end
end

-- ---- generated code against PyTorch (fixtures: code_golden.lua) -------------

dofile("code_golden.lua")("code_cases.lua", "code_views.lua", "code golden")

-- ---- each feature in the text -----------------------------------------------

local function seq(n, scale)
  local t = {}
  for i = 1, n do t[i] = ((i * 7) % 11 - 5) * (scale or 0.25) end
  return t
end
local function T(shape, scale)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return tensor.new(seq(n, scale)):reshape(shape)
end

test("code: conv2d with the current parameters, live", function()
  local v = viz.conv2d(T{1, 2, 5, 5}, T{3, 2, 3, 3}, {bias = {1, 2, 3}})
  local c = v:code()
  check(c == v:code("pytorch"), "pytorch is the default")
  has(c, "import torch", "import torch.nn.functional as F", "F.conv2d(x, w, b,",
      "stride=1, padding=0, dilation=1, groups=1", "print(y)",
      "1x3x3x3 (N, C_out, H_out, W_out)")
  v:set{stride = {2, 1}, padding = 1}
  has(v:code(), "stride=(2, 1), padding=1")
  v:key("d")
  has(v:code(), "dilation=2")
  v:key("p")
  has(v:code(), "padding=2")
  v:set{padding = "same", stride = 1}
  has(v:code(), 'padding="same"')
  v:set{padding = "valid"}
  has(v:code(), 'padding="valid"')
  v:set{padding = {top = 1, bottom = 0, left = 2, right = 0}}
  has(v:code(), "xp = F.pad(x, (2, 0, 1, 0))", "F.conv2d(xp, w, b,", "padding=0")
end)

test("code: tensors up to 64 values are literals with exact float32 values", function()
  local x = tensor.new({0.1, -2.5, 1 / 3, 1e-8, 3e9, -0.0, 7, 0.2,
                        1.17549435e-38, 65504, -1e-3, 12345.678, 0.3, 0.7, 2, 1})
                  :reshape({1, 1, 4, 4})
  local v = viz.conv2d(x, T{1, 1, 2, 2})
  local c = v:code()
  has(c, "x = torch.tensor([[[[0.1, -2.5, 0.33333334, 1e-08],", "-0.0")
  lacks(c, "f32(", "base64", "manual_seed")
  same_f32(literal(c, "x"), flat(x), "x")
  same_f32(literal(c, "w"), flat(T{1, 1, 2, 2}), "w")
  local xn = tensor.new({0 / 0, 1 / 0, -1 / 0, 1}):reshape({1, 1, 2, 2})
  has(viz.conv2d(xn, T{1, 1, 1, 1}):code(), 'float("nan")', 'float("inf")',
      '-float("inf")')
  -- 64 values: still a literal; 65: exact base64
  has(viz.conv2d(T{1, 1, 8, 8}, T{1, 1, 3, 3}):code(), "x = torch.tensor(")
end)

test("code: larger tensors are written exactly (base64), huge ones seeded", function()
  local x = T({1, 2, 9, 9}, 0.1)
  local v = viz.conv2d(x, T{2, 2, 3, 3})
  local c = v:code()
  has(c, "import base64", "def f32(text, *shape):", "torch.frombuffer(",
      'x = f32("', '", 1, 2, 9, 9)', "w = torch.tensor(")
  lacks(c, "manual_seed", "differ")
  local b64 = c:match('\nx = f32%("([^"]+)"')
  local bytes = unbase64(b64)
  check(#bytes == 4 * 162, "bytes: " .. #bytes)
  local vals, pos = {}, 1
  while pos <= #bytes do
    vals[#vals + 1], pos = string.unpack("<f", bytes, pos)
  end
  same_f32(vals, flat(x), "x from base64")
  has(v:code("keras"), "np.frombuffer(base64.b64decode(text), \"<f4\")")
  -- more than 65536 values: random stand-ins, and the code says so
  local big = viz.conv2d(tensor.zeros(1, 1, 257, 257), T{1, 1, 2, 2})
  local cb = big:code()
  has(cb, "torch.manual_seed(0)", "x = torch.randn(1, 1, 257, 257)",
      "the numbers differ from convplay's")
  has(big:code("keras"), "rng = np.random.default_rng(0)", "differ from convplay's")
end)

test("code: masks, kernel masks, flip, partial convolution", function()
  local x, w = T{1, 2, 4, 4}, T{2, 2, 2, 2}
  local m = tensor.new({1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1}):reshape({4, 4})
  local v = viz.conv2d(x, w, {mask = m, kernel_mask = {{1, 0}, {1, 1}}})
  local c = v:code()
  has(c, "mask = torch.tensor([[[[1.0, 1.0, 0.0, 1.0],", "M = torch.tensor([[1.0, 0.0],",
      "F.conv2d(x * mask, w * M, None,")
  has(v:code("keras"), "x * mask", "k = k * M[:, :, None, None]",
      "mask = mask.transpose(0, 2, 3, 1)")
  -- a per-channel mask keeps its channels
  local m2 = tensor.ones(1, 2, 4, 4)
  m2:narrow(2, 2, 1):fill(0)
  has(viz.conv2d(x, w, {mask = m2}):code(), "mask = torch.tensor([[[[1.0, 1.0, 1.0, 1.0],",
      "[[0.0, 0.0, 0.0, 0.0]")
  v:key("f")
  has(v:code(), "wk = torch.flip(w * M, dims=[2, 3])", "F.conv2d(x * mask, wk, None,")
  has(v:code("keras"), "k = k[::-1, ::-1].copy()")
  local p = viz.conv2d(x, w, {mask = m, partial = true, padding = 1, bias = {0.5, -1}})
  local cp = p:code()
  has(cp, "multi_channel=False", "ones = torch.ones(1, 1, 2, 2)",
      "S = F.conv2d(mask, ones, stride=1, padding=1, dilation=1)",
      "ratio = 4 / (S + 1e-8) * torch.clamp(S, 0, 1)",
      "raw = F.conv2d(x * mask, w, b,", "y = ((raw - bb) * ratio + bb) * torch.clamp(S, 0, 1)",
      "new_mask = torch.clamp(S, 0, 1)")
  local kp, ok = p:code("keras")
  check(ok, "partial conv is expressible in Keras")
  has(kp, "ones.set_weights([np.ones((2, 2, 1, 1), \"float32\")])", "ratio = np.float32(4)")
  local pm = viz.conv2d(x, w, {mask = m2, partial = true, multi_channel = true})
  has(pm:code(), "multi_channel=True", "ones = torch.ones(2, 2, 2, 2)", "ratio = 8 /")
  -- partial convolution without a mask: a mask of ones
  has(viz.conv2d(x, w, {partial = true, padding = 1}):code(),
      "mask = torch.tensor(", "S = F.conv2d(mask, ones")
end)

test("code: padding modes are F.pad; Keras cannot express them", function()
  local v = viz.conv2d(T{1, 1, 4, 4}, T{1, 1, 3, 3}, {padding = 1, padding_mode = "reflect"})
  has(v:code(), 'xp = F.pad(x, (1, 1, 1, 1), mode="reflect")', "F.conv2d(xp, w, None,",
      "padding=0")
  local k, ok = v:code("keras")
  check(ok == false, "reflect: not expressible")
  check(k:find("^not expressible in Keras: ") and k:find("reflect", 1, true), k)
  v:key("m")
  has(v:code(), 'mode="replicate"')
  check(select(2, v:code("keras")) == false, "replicate")
  v:key("m")
  has(v:code(), 'mode="circular"')
  v:set{padding = "same"}
  has(v:code(), 'F.pad(x, (1, 1, 1, 1), mode="circular")')
  v:set{padding = 0}
  has(v:code(), 'padding_mode="circular" pads nothing')
  check(select(2, v:code("keras")) == true, "no padding: Keras can")
  v:key("m")
  has(v:code(), "padding=0")
  lacks(v:code(), "F.pad")
end)

test("code: groups and depthwise", function()
  local v = viz.conv2d(T{1, 4, 5, 5}, T{8, 1, 3, 3}, {groups = 4})
  has(v:code(), "groups=4")
  local k, ok = v:code("keras")
  check(ok, "Conv2D has groups")
  has(k, "keras.layers.Conv2D(\n    8, (3, 3)", "groups=4", "k = w.transpose(2, 3, 1, 0)  # OIHW -> HWIO")
end)

test("code: Keras padding: same only where it matches, else ZeroPadding2D", function()
  -- 5x5, k3, s2, p1: TF's SAME pads 1 and 1: the same numbers
  local v = viz.conv2d(T{1, 1, 5, 5}, T{1, 1, 3, 3}, {stride = 2, padding = 1})
  local k = v:code("keras")
  has(k, 'padding="same"')
  lacks(k, "ZeroPadding2D")
  -- 6x6: TF's SAME pads 0 before, 1 after; PyTorch 1 and 1
  local v2 = viz.conv2d(T{1, 1, 6, 6}, T{1, 1, 3, 3}, {stride = 2, padding = 1})
  has(v2:code("keras"), "keras.layers.ZeroPadding2D(((1, 1), (1, 1)))", 'padding="valid"')
  -- 'same' with an even kernel: extra at the bottom/right in both
  local v3 = viz.conv2d(T{1, 1, 5, 5}, T{1, 1, 2, 2}, {padding = "same"})
  has(v3:code("keras"), 'padding="same"')
  has(viz.conv2d(T{1, 1, 5, 5}, T{1, 1, 2, 2}):code("keras"), 'padding="valid"')
  -- stride with dilation: no Keras layer takes both
  local v4 = viz.conv2d(T{1, 1, 7, 7}, T{1, 1, 2, 2}, {stride = 2, dilation = 2})
  local k4, ok4 = v4:code("keras")
  check(not ok4 and k4:find("^not expressible in Keras: .*dilation_rate"), k4)
end)

test("code: conv_transpose2d", function()
  local v = viz.conv_transpose2d(T{1, 2, 3, 3}, T{2, 3, 3, 3},
                                 {stride = 2, padding = 1, output_padding = 1, bias = {1, 2, 3}})
  has(v:code(), "y = F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1,",
      "groups=1, dilation=1)", "1x3x6x6", "weight (C_in, C_out/groups, kH, kW)")
  local k, ok = v:code("keras")
  check(ok, k)
  has(k, "keras.layers.Conv2DTranspose(\n    3, (3, 3), strides=(2, 2),\n    padding=\"valid\"",
      "output_padding=(0, 0)", "keras.layers.Cropping2D(((1, 0), (1, 0)))",
      "(C_in, C_out, kH, kW) -> (kH, kW, C_out, C_in)")
  v:key("o") -- output_padding 1 -> 1 (max stride-1 is 1): set it lower and back
  v:set{output_padding = 0}
  has(v:code(), "output_padding=0")
  has(v:code("keras"), "Cropping2D(((1, 1), (1, 1)))")
  v:set{padding = 0, output_padding = 1}
  has(v:code("keras"), "output_padding=(1, 1)")
  lacks(v:code("keras"), "Cropping2D")
  -- masks on a transposed view
  local vm = viz.conv_transpose2d(T{1, 1, 3, 3}, T{1, 1, 2, 2},
                                  {mask = tensor.ones(3, 3), kernel_mask = {{1, 0}, {0, 1}}})
  has(vm:code(), "F.conv_transpose2d(x * mask, w * M, None,")
  -- groups: not in Conv2DTranspose
  local vg = viz.conv_transpose2d(T{1, 2, 3, 3}, T{2, 1, 2, 2}, {groups = 2})
  has(vg:code(), "groups=2")
  local kg, okg = vg:code("keras")
  check(not okg and kg:find("^not expressible in Keras: Conv2DTranspose has no groups"), kg)
  -- unequal sides: no padding, then a crop
  local vs = viz.conv_transpose2d(T{1, 1, 3, 3}, T{1, 1, 3, 3},
                                  {padding = {top = 1, bottom = 0, left = 0, right = 2}})
  has(vs:code(), "padding=0, output_padding=0", "y = y[:, :, 1:5, 0:3]")
end)

test("code: invalid parameters say so", function()
  local v = viz.conv2d(T{1, 1, 4, 4}, T{1, 1, 3, 3})
  v:set{dilation = 9}
  check(v:state().error, "invalid")
  has(v:code(), "convplay shows an error for these parameters", "dilation=9")
  local k, ok = v:code("keras")
  check(not ok and k:find("^not expressible in Keras: the parameters are invalid"), k)
  v:set{dilation = 1}
  lacks(v:code(), "error")
end)

test("code: v:code checks its argument", function()
  local v = viz.conv2d(T{1, 1, 4, 4}, T{1, 1, 3, 3})
  raises(function() v:code("cobol") end, "bad argument #1 to 'code'",
         'expected "pytorch" or "keras", got "cobol"')
  raises(function() v:code({}) end, "bad argument #1 to 'code'", "string expected, got table")
  check(v:code("PyTorch") == v:code(), "case does not matter")
  check(v:code("torch") == v:code(), "torch = pytorch")
  check(v:code("Keras") == v:code("keras"), "Keras")
end)

test("code: key C shows PyTorch, Keras, then hides; c copies", function()
  local v = viz.conv2d(T{1, 1, 4, 4}, T{1, 1, 3, 3})
  check(v:state().code == false, "hidden at first")
  check(v:key("C"), "C used")
  check(v:state().code == "pytorch", "pytorch")
  v:key("c", true)
  check(v:state().code == "keras", "keras")
  v:key("C")
  check(v:state().code == false, "hidden")
  check(v:key("c"), "c used (copies when a window is open)")
  v:code("keras", true)
  check(v:state().code == "keras", "v:code(lang, true) shows the panel")
  v:code("pytorch", true)
  check(v:state().code == "pytorch", "in that language")
  v:code("pytorch", false)
  check(v:state().code == false, "v:code(lang, false) hides it")
  raises(function() v:code("pytorch", 1) end, "boolean expected")
  check(viz.help():find("copy the code", 1, true), "help lists c")
end)

-- ---- the panel ----------------------------------------------------------------

local function panel_texts(lay)
  local box, inside = nil, {}
  for _, b in ipairs(lay) do
    if box and b.kind == "text" then inside[#inside + 1] = b end
    if b.kind == "panel" and b.name == "code" then box = b end
  end
  return box, inside
end

test("code panel: drawn over the grids, its text inside, code lines shown", function()
  local v = viz.conv2d(T{1, 2, 5, 5}, T{3, 2, 3, 3}, {padding = 1, bias = {1, 2, 3}})
  v:key("C")
  for _, sz in ipairs{{640, 400}, {1280, 720}, {1920, 1080}} do
    local lay = v:layout{width = sz[1], height = sz[2]}
    local box, inside = panel_texts(lay)
    check(box, "code panel at " .. sz[1])
    local seen = {}
    for _, b in ipairs(inside) do
      check(b.x >= box.x and b.y >= box.y and b.x + b.w <= box.x + box.w + 0.5
            and b.y + b.h <= box.y + box.h + 0.5, "text outside the code panel: " .. b.text)
      seen[b.text] = true
    end
    check(seen["PyTorch"] and seen["Keras"] and seen["copy"] and seen["close"], "chips")
    check(seen["import torch"], "code line shown at " .. sz[1])
  end
  v:key("C")
  local _, inside = panel_texts(v:layout{width = 1280, height = 720})
  local keras = false
  for _, b in ipairs(inside) do keras = keras or b.text == "import keras" end
  check(keras, "Keras code")
  -- not expressible: the reason, wrapped, inside the panel
  v:set{padding_mode = "reflect"}
  local box, inside2 = panel_texts(v:layout{width = 640, height = 400})
  check(box and #inside2 >= 2, "reason shown")
  local text = {}
  for _, b in ipairs(inside2) do text[#text + 1] = b.text end
  check(table.concat(text, " "):find("not expressible", 1, true), table.concat(text, " "))
end)

test("code panel: a screenshot shows it (pixels differ from the plain view)", function()
  local v = viz.conv2d(T{1, 1, 5, 5}, T{1, 1, 3, 3})
  local a, b = os.tmpname() .. ".png", os.tmpname() .. ".png"
  v:screenshot(a, {width = 640, height = 400})
  v:key("C")
  v:screenshot(b, {width = 640, height = 400})
  local fa, fb = io.open(a, "rb"), io.open(b, "rb")
  local da, db = fa:read("a"), fb:read("a")
  fa:close()
  fb:close()
  os.remove(a)
  os.remove(b)
  check(#da > 0 and #db > 0 and da ~= db, "the panel changes the picture")
end)

test("code panel: its chips are clickable; clicks on it reach nothing below", function()
  local v = viz.conv2d(T{1, 1, 6, 6}, T{1, 1, 3, 3}, {padding = 1})
  v:seek(5)
  v:key("C")
  local function chip(name)
    local box, inside = panel_texts(v:layout())
    for _, b in ipairs(inside) do
      if b.text == name then return math.floor(b.x + b.w / 2), math.floor(b.y + b.h / 2), box end
    end
    error("no chip " .. name)
  end
  local x, y = chip("Keras")
  v:click(x, y)
  check(v:state().code == "keras", "Keras chip")
  x, y = chip("PyTorch")
  v:click(x, y)
  check(v:state().code == "pytorch", "PyTorch chip")
  x, y = chip("copy")
  v:click(x, y) -- no clipboard headless: nothing happens, nothing breaks
  check(v:state().code == "pytorch" and v:state().step == 5, "copy chip")
  -- a click on the code itself: the grid below does not get it
  local _, _, box = chip("copy")
  v:click(math.floor(box.x + box.w / 2), math.floor(box.y + box.h - 10))
  check(v:state().step == 5, "no click through the panel")
  check(v:mouse(math.floor(box.x + box.w / 2), math.floor(box.y + box.h - 10)) == "none",
        "no hover through the panel")
  x, y = chip("close")
  v:click(x, y)
  check(v:state().code == false, "close chip")
end)

test("code: random views and keys, both languages, never fail", function()
  math.randomseed(20261130)
  local keys = {"s", "S", "p", "P", "d", "D", "o", "O", "m", "f", "v", "C", "F", "t"}
  local n = 0
  for i = 1, 60 do
    local transposed = math.random() < 0.3
    local C = math.random(1, 3)
    local x = tensor.randn(math.random(1, 2), C, math.random(1, 7), math.random(1, 7))
    local w = tensor.randn(math.random(1, 3), C, math.random(1, 3), math.random(1, 3))
    local opts = {}
    if math.random() < 0.3 then opts.bias = tensor.randn(w:size(transposed and 2 or 1)) end
    if not transposed and math.random() < 0.2 then opts.partial = true end
    local ok, v = pcall(transposed and viz.conv_transpose2d or viz.conv2d, x, w, opts)
    if ok then
      for _ = 1, 6 do
        v:key(keys[math.random(#keys)])
        local py, pok = v:code("pytorch")
        check(pok == true and py:find("^# PyTorch: ") and py:find("print(y)", 1, true), py)
        local k, kok = v:code("keras")
        if kok then
          check(k:find("import keras", 1, true) and k:find("print(y)", 1, true), k)
        else
          check(k:find("^not expressible in Keras: .+"), k)
        end
        if v:state().error then
          check(py:find("convplay shows an error", 1, true), "invalid: said")
        end
        n = n + 1
      end
      v:layout{width = 640, height = 400} -- panels drawn in any state
    end
  end
  check(n >= 200, "code generated " .. n .. " times")
end)
