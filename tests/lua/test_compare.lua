-- test_compare.lua: correlation and true convolution side by side (key F,
-- v:compare, viz.conv2d{compare = true}).

local function flat(t)
  local n = t:numel()
  if n == 0 then return {} end
  return t:contiguous():reshape({n}):totable()
end

local function binary(h, w)
  local t = {}
  for i = 1, h * w do t[i] = math.random() < 0.7 and 1 or 0 end
  return tensor.new(t):reshape({h, w})
end

local function same(a, b, tol, what)
  local fa, fb = flat(a), flat(b)
  check(#fa == #fb, what .. ": sizes")
  for i = 1, #fa do
    local x, y = fa[i], fb[i]
    check((x ~= x and y ~= y) or math.abs(x - y) <= (tol or 0) * math.max(1, math.abs(y)),
          string.format("%s[%d]: %.9g vs %.9g", what, i, x, y))
  end
end

test("compare: SEMANTICS 7, the edge filter and its flip", function()
  local x = tensor.zeros(1, 1, 5, 7)
  x:narrow(3, 2, 3):narrow(4, 3, 3):fill(1)
  local w = tensor.new({-1, 1}):reshape({1, 1, 1, 2})
  local v = viz.conv2d(x, w)
  local corr, tc = v:compare()
  local want = {0, 1, 0, 0, -1, 0}
  for r = 1, 5 do
    for c = 1, 6 do
      local e = (r >= 2 and r <= 4) and want[c] or 0
      check(corr:get(1, 1, r, c) == e, "corr " .. r .. "," .. c)
      check(tc:get(1, 1, r, c) == -e, "conv " .. r .. "," .. c)
    end
  end
  same(corr, conv.conv2d(x, w), 0, "corr = conv2d")
  same(tc, conv.convolve2d(x, w), 0, "conv = convolve2d")
end)

test("compare: both outputs are the view's own, flip off and on", function()
  math.randomseed(12)
  local modes = {"zeros", "reflect", "replicate", "circular"}
  for i = 1, 12 do
    local C = math.random(1, 3)
    local x = tensor.randn(math.random(1, 2), C, math.random(4, 7), math.random(4, 7))
    local k = math.random(1, 3)
    local w = tensor.randn(math.random(1, 3), C, k, math.random(1, 3))
    local opts = {padding = math.random(0, 1), padding_mode = modes[math.random(1, 4)],
                  stride = math.random(1, 2)}
    if i % 3 == 0 then opts.mask = binary(x:size(3), x:size(4)) end
    if i % 4 == 0 then opts.kernel_mask = binary(k, w:size(4)) end
    if i % 5 == 0 then opts.partial = true end
    local v = viz.conv2d(x, w, opts)
    local corr, conv2 = v:compare()
    same(corr, v:output(), 0, "corr = output " .. i)
    v:key("f")
    same(conv2, v:output(), 0, "conv = flipped output " .. i)
    if not opts.mask and not opts.kernel_mask and not opts.partial then
      local o = {padding = opts.padding, padding_mode = opts.padding_mode, stride = opts.stride}
      same(corr, conv.conv2d(x, w, o), 1e-5, "corr = conv.conv2d " .. i)
      same(conv2, conv.convolve2d(x, w, o), 1e-5, "conv = conv.convolve2d " .. i)
    end
  end
end)

test("compare: key F, the option, v:compare(show), state", function()
  local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3))
  check(v:state().compare == false, "off at first")
  check(v:key("F"), "F used")
  check(v:state().compare == true, "on")
  check(v:state().params.flip == false, "F does not flip")
  v:key("f", true)
  check(v:state().compare == false, "shift+f: off")
  v:compare(true)
  check(v:state().compare == true, "v:compare(true)")
  v:compare(false)
  check(v:state().compare == false, "v:compare(false)")
  check(viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3),
                   {compare = true}):state().compare == true, "option")
  raises(function() v:compare("yes") end, "boolean expected")
  check(viz.help():find("side by side", 1, true), "help lists F")
  local t = viz.conv_transpose2d(tensor.randn(1, 1, 3, 3), tensor.randn(1, 1, 2, 2))
  check(t:key("F") == false, "transposed: F unused")
  raises(function() t:compare() end, "view:compare", "conv2d")
  v:set{dilation = 9}
  raises(function() v:compare() end, "view:compare")
end)

local SIZES = {{480, 320}, {640, 400}, {1280, 720}, {1366, 768}, {1920, 1080}, {2560, 1440}}

test("compare: the panel fits at every size; differences are counted", function()
  local x = tensor.zeros(1, 1, 5, 7)
  x:narrow(3, 2, 3):narrow(4, 3, 3):fill(1)
  local views = {
    viz.conv2d(x, tensor.new({-1, 1}):reshape({1, 1, 1, 2}), {compare = true}),
    viz.conv2d(tensor.randn(2, 3, 9, 9), tensor.randn(4, 3, 3, 3),
               {compare = true, padding = 1, padding_mode = "reflect"}),
    viz.conv2d(tensor.randn(1, 1, 6, 6), tensor.ones(1, 1, 3, 3), {compare = true}),
  }
  for vi, v in ipairs(views) do
    v:seek(v:state().steps) -- every cell computed: the counts are final
    for _, sz in ipairs(SIZES) do
      for _, th in ipairs{"dark", "light"} do
        local lay = v:layout{width = sz[1], height = sz[2], theme = th}
        local box, texts, labels = nil, {}, {}
        for _, b in ipairs(lay) do
          if box and (b.kind == "text" or b.kind == "label") then
            check(b.x >= box.x - 0.5 and b.y >= box.y - 0.5 and b.x + b.w <= box.x + box.w + 0.5
                  and b.y + b.h <= box.y + box.h + 0.5,
                  string.format("view %d %dx%d: %s '%s' outside the panel", vi, sz[1], sz[2],
                                b.kind, b.text))
            check(b.size >= 13, "under 13 px: " .. b.text)
            if b.kind == "text" then texts[#texts + 1] = b else labels[#labels + 1] = b end
          end
          if b.kind == "panel" and b.name == "compare" then box = b end
        end
        check(box, string.format("view %d %dx%d: panel drawn", vi, sz[1], sz[2]))
        check(box.x >= 0 and box.y >= 0 and box.x + box.w <= sz[1] and box.y + box.h <= sz[2],
              "panel inside the frame")
        local all = {}
        for _, t in ipairs(texts) do all[#all + 1] = t end
        for _, t in ipairs(labels) do all[#all + 1] = t end
        for i = 1, #all do
          for j = i + 1, #all do
            local a, b = all[i], all[j]
            local e = 0.75
            check(not (a.x + e < b.x + b.w and b.x + e < a.x + a.w and
                       a.y + e < b.y + b.h and b.y + e < a.y + a.h),
                  string.format("view %d %dx%d: '%s' overlaps '%s'", vi, sz[1], sz[2],
                                a.text, b.text))
          end
        end
        local joined = {}
        for _, t in ipairs(texts) do joined[#joined + 1] = t.text end
        joined = table.concat(joined, " | ")
        if vi == 1 then check(joined:find("6 of 30 cells differ", 1, true), joined) end
        if vi == 3 then check(joined:find("no cell differs: the kernel is the same turned 180°", 1, true), joined) end
      end
    end
  end
end)

test("compare: a screenshot shows it", function()
  local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3))
  local a, b = os.tmpname() .. ".png", os.tmpname() .. ".png"
  v:screenshot(a, {width = 640, height = 400})
  v:key("F")
  v:screenshot(b, {width = 640, height = 400})
  local fa, fb = io.open(a, "rb"), io.open(b, "rb")
  local da, db = fa:read("a"), fb:read("a")
  fa:close()
  fb:close()
  os.remove(a)
  os.remove(b)
  check(#da > 0 and da ~= db, "the panel changes the picture")
end)

test("compare: a click on an output cell of the panel goes to its step", function()
  local x = tensor.zeros(1, 1, 5, 7)
  x:narrow(3, 2, 3):narrow(4, 3, 3):fill(1)
  local v = viz.conv2d(x, tensor.new({-1, 1}):reshape({1, 1, 1, 2}), {compare = true})
  v:seek(v:state().steps) -- every cell computed: every cell labelled
  local lay = v:layout()
  local box, labels = nil, {}
  for _, b in ipairs(lay) do
    if box and b.kind == "label" then labels[#labels + 1] = b end
    if b.kind == "panel" and b.name == "compare" then box = b end
  end
  -- kernel 1x2, turned 1x2, then the correlation's 5x6 cells row by row
  check(#labels == 2 + 2 + 3 * 30, "cell labels: " .. #labels)
  for _, grid in ipairs{0, 1, 2} do
    local cell = labels[4 + grid * 30 + 2 * 6 + 3 + 1] -- row 3, col 4
    v:seek(1)
    v:click(math.floor(cell.x + cell.w / 2), math.floor(cell.y + cell.h / 2))
    local s = v:state()
    check(s.step == 2 * 6 + 3 + 1, "grid " .. grid .. ": step " .. s.step)
    check(s.out[3] == 3 and s.out[4] == 4, "the clicked output")
  end
  -- a click on the panel's title goes nowhere
  v:seek(7)
  v:click(math.floor(box.x + 20), math.floor(box.y + 8))
  check(v:state().step == 7, "title click")
end)
