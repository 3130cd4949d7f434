-- test_ui.lua: the view driven by hand: clickable controls, the timeline,
-- hover tooltips, pinned cells, every output channel, status messages.
local function find(list, pred)
  for _, x in ipairs(list) do if pred(x) then return x end end
end
local function centre(c) return c.x + c.w // 2, c.y + c.h // 2 end
local function has_text(lay, pat)
  for _, b in ipairs(lay) do if b.text and b.text:find(pat) then return b end end
end

test("controls: -/+ steppers, clickable chips, play and help buttons", function()
  local v = viz.conv2d(tensor.randn(1, 1, 6, 6), tensor.randn(1, 1, 3, 3), {padding = 1})
  local lay = v:layout()
  local plus = find(lay.controls, function(c) return c.key == "s" and c.kind == "plus" end)
  local minus = find(lay.controls, function(c) return c.key == "s" and c.kind == "minus" end)
  check(plus and minus, "stride steppers")
  v:click(centre(plus))
  check(v:state().params.stride[1] == 2, "stride + clicked: " .. v:state().params.stride[1])
  lay = v:layout()
  minus = find(lay.controls, function(c) return c.key == "s" and c.kind == "minus" end)
  v:click(centre(minus))
  check(v:state().params.stride[1] == 1, "stride - clicked")
  for _, key in ipairs{"p", "d"} do
    local p = find(v:layout().controls, function(c) return c.key == key and c.kind == "plus" end)
    check(p, key .. " stepper")
    v:click(centre(p))
  end
  local s = v:state().params
  check(s.padding[1] == 2 and s.dilation[1] == 2, "padding and dilation +")
  local chip = find(v:layout().controls, function(c) return c.key == "f" end)
  v:click(centre(chip))
  check(v:state().params.flip == true, "the correlation chip flips the kernel")
  chip = find(v:layout().controls, function(c) return c.key == "m" end)
  v:click(centre(chip))
  check(v:state().params.padding_mode == "reflect", "the padding-mode chip cycles")
  local play = find(v:layout().controls, function(c) return c.kind == "play" end)
  v:click(centre(play))
  check(v:state().playing, "play button")
  v:click(centre(find(v:layout().controls, function(c) return c.kind == "play" end)))
  check(not v:state().playing, "pause")
  v:click(centre(find(v:layout().controls, function(c) return c.kind == "help" end)))
  check(v:state().help, "help button")
  -- transposed: output_padding stepper and the view chip
  local t = viz.conv_transpose2d(tensor.randn(1, 1, 3, 3), tensor.randn(1, 1, 3, 3), {stride = 2})
  local op = find(t:layout().controls, function(c) return c.key == "o" and c.kind == "plus" end)
  t:click(centre(op))
  check(t:state().params.output_padding[1] == 1, "output_padding +")
  t:click(centre(find(t:layout().controls, function(c) return c.key == "v" end)))
  check(t:state().view == "gather", "the view chip switches")
  -- figures have no controls
  check(#v:layout{chrome = false}.controls == 0, "no controls without chrome")
end)

test("timeline: a click or a drag goes to that step", function()
  local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 2, 2))
  local n = v:state().steps
  local tl = v:layout().timeline
  check(tl and tl.w > 50, "a timeline")
  v:click(tl.x + tl.w, tl.y + tl.h // 2)
  check(v:state().step == n, "end of the timeline: the last step")
  v:click(tl.x, tl.y + tl.h // 2)
  check(v:state().step == 1, "start: the first step")
  v:click(tl.x + tl.w // 2, tl.y + tl.h // 2)
  local mid = v:state().step
  check(mid > 1 and mid < n, "middle: " .. mid)
end)

test("hover: a tooltip with the value and the computation; a click pins it", function()
  local x = tensor.arange(9):reshape(1, 1, 3, 3)
  local v = viz.conv2d(x, tensor.ones(1, 1, 2, 2), {bias = {0.5}})
  v:hover("output", {1, 1, 2, 2})
  local lay = v:layout()
  local tip = has_text(lay, "^y%[1,1,2,2%] = 24%.5")
  check(tip and tip.layer == 1, "tooltip title: y[1,1,2,2] = 24.5")
  check(has_text(lay, "= 0%.5 %+ 4·1 %+ 5·1 %+ 7·1 %+ 8·1"), "tooltip computation")
  v:hover("input", {1, 1, 2, 2})
  lay = v:layout()
  check(has_text(lay, "^x%[1,1,2,2%] = 4"), "input value")
  check(has_text(lay, "feeds y%[1,1,1,1%], y%[1,1,1,2%], y%[1,1,2,1%]"), "the outputs it feeds")
  -- a click on an output cell pins it: moving the mouse keeps the tooltip
  local g = v:layout().output[1]
  v:click(g.x + g.cell + 3, g.y + 3)
  local s = v:state()
  check(s.hover and s.hover.pinned and s.hover.index[4] == 2, "pinned")
  v:mouse(1, 1)
  check(v:state().hover and v:state().hover.pinned, "still pinned after a move")
  v:click(2, 2) -- elsewhere: unpinned
  check(not (v:state().hover and v:state().hover.pinned), "unpinned")
end)

test("every output channel is drawn; finished channels keep their values", function()
  local v = viz.conv2d(tensor.randn(1, 3, 5, 5), tensor.randn(6, 1, 3, 3), {groups = 3, padding = 1})
  local lay = v:layout()
  check(#lay.output == 6, "six output grids: " .. #lay.output)
  v:seek(2 * 25 + 1) -- channel 3, first cell
  lay = v:layout()
  -- channels 1 and 2 are finished: their cells show numbers
  local labels = 0
  for _, b in ipairs(lay) do
    if b.kind == "label" then labels = labels + 1 end
  end
  check(labels > 50 + 25, "finished channels keep their values: " .. labels .. " labels")
  -- many channels: the grids shrink, a window around the current one
  local w = viz.conv2d(tensor.randn(1, 1, 4, 4), tensor.randn(40, 1, 3, 3))
  local l2 = w:layout()
  check(#l2.output >= 8, "many output channels drawn: " .. #l2.output)
end)

test("status: a key that does not apply, or a clamp, says so", function()
  local v = viz.conv2d(tensor.randn(1, 1, 6, 6), tensor.randn(1, 1, 3, 3))
  check(v:key("o") == false)
  check(v:state().status:find("output_padding"), v:state().status)
  check(has_text(v:layout(), "output_padding belongs"), "shown in the footer")
  for _ = 1, 20 do v:key("s") end
  check(v:state().params.stride[1] == 16)
  check(v:state().status:find("stride 16 is the largest"), v:state().status)
  v:key("Right")
  check(v:state().status == nil, "the next key clears it")
  local t = viz.conv_transpose2d(tensor.randn(1, 1, 3, 3), tensor.randn(1, 1, 3, 3))
  t:key("m")
  check(t:state().status:find("padding_mode"), "m on a transposed view")
end)

test("consistency: no '-0' labels, tidy colour-bar ends, 1-based scatter headline", function()
  local x = tensor.new{{-0.0001, 0.0004, -0.00049}, {1, -1, 0}, {0.5, -0.5, 3.4506}}:reshape(1, 1, 3, 3)
  local v = viz.conv2d(x, tensor.ones(1, 1, 1, 1))
  for _, sz in ipairs{{480, 320}, {1280, 720}} do
    for _, b in ipairs(v:layout{width = sz[1], height = sz[2]}) do
      if b.text then
        check(not b.text:match("^%-0%.?0*$"), "a '-0' label: " .. b.text)
      end
    end
  end
  -- legend ends: three significant digits
  local ends = {}
  for _, b in ipairs(v:layout()) do
    if b.text == "3.45" or b.text == "-3.45" then ends[#ends + 1] = b.text end
  end
  check(#ends >= 2, "colour-bar ends -3.45 / 3.45")
  -- transposed, scatter: the headline's position is 1-based like its index
  local t = viz.conv_transpose2d(tensor.ones(1, 1, 2, 2), tensor.ones(1, 1, 2, 2), {stride = 2})
  t:seek(2) -- input pixel (1,2): its first tap lands at y row 1, col 3
  local head
  for _, b in ipairs(t:layout()) do
    if b.text and b.text:find("^x%[1,1,1,2%]") then head = b.text end
  end
  check(head and head:find("row 1, col 3"), tostring(head))
end)

test("consistency: the updated mask of a partial conv waits for the sum in tap mode", function()
  local x = tensor.ones(1, 1, 3, 3)
  local m = tensor.new{{1, 0, 1}, {1, 1, 1}, {0, 1, 1}}
  local v = viz.conv2d(x, tensor.ones(1, 1, 2, 2), {mask = m, partial = true, by = "tap"})
  v:seek(2) -- the second tap of the first cell
  local lay = v:layout()
  local g = lay.output[#lay.output] -- the updated mask grid
  local x0, y0 = g.x, g.y
  for _, b in ipairs(lay) do
    if b.kind == "label" then
      check(not (b.x >= x0 and b.x < x0 + g.cell and b.y >= y0 and b.y < y0 + g.cell),
            "the current cell's new mask shown before its taps are done: " .. b.text)
    end
  end
  v:seek(4) -- the cell is finished: now it shows
  local shown = false
  for _, b in ipairs(v:layout()) do
    if b.kind == "label" and b.x >= x0 and b.x < x0 + g.cell and b.y >= y0 and b.y < y0 + g.cell then
      shown = true
    end
  end
  check(shown, "shown once the cell is done")
end)

test("consistency: a tap list that does not fit says how many are hidden", function()
  local v = viz.conv2d(tensor.randn(1, 4, 6, 6), tensor.randn(1, 4, 3, 3), {by = "tap"})
  v:seek(30)
  local found
  for _, b in ipairs(v:layout{width = 640, height = 400}) do
    if b.text and b.text:find("^… %d+ ") then found = b.text end
  end
  check(found and found:find("taps"), "'… N earlier taps' line: " .. tostring(found))
end)

test("mouse: the footer's code button cycles PyTorch, Keras, hidden", function()
  local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3))
  -- a small frame has the button too, inside the frame
  local small
  for _, c in ipairs(v:layout{width = 640, height = 400, chrome = true}.controls) do
    if c.kind == "code" then small = c end
  end
  check(small and small.x + small.w <= 640 and small.y + small.h <= 400, "code button at 640x400")
  -- clicks land on the controls of the frame the view last showed: its own size
  for _, sz in ipairs{{1280, 720}} do
    local want = {"pytorch", "keras", false}
    for i = 1, 3 do
      local btn
      for _, c in ipairs(v:layout{width = sz[1], height = sz[2], chrome = true}.controls) do
        if c.kind == "code" then btn = c end
      end
      check(btn, "a code button at " .. sz[1] .. "x" .. sz[2])
      if not btn then return end
      v:click(btn.x + btn.w // 2, btn.y + btn.h // 2)
      check(v:state().code == want[i], sz[1] .. ": click " .. i .. " shows " .. tostring(want[i]) ..
            ", got " .. tostring(v:state().code))
    end
  end
end)
