-- window_app.lua OUTDIR: the app driven by test_window.sh under Xvfb.
-- Two pages (conv2d, conv_transpose2d); after every change it writes
-- OUTDIR/state.txt (one line) and, on key "x", a screenshot of the view
-- as rendered offscreen (OUTDIR/app.png) to compare with the real window.
local out = arg[1] or "."
local x = tensor.arange(36):reshape(1, 1, 6, 6)
local a = viz.conv2d(x, tensor.ones(1, 1, 3, 3), {padding = 1, title = "window test"})
local b = viz.conv_transpose2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 2, 2),
                               {stride = 2, view = "scatter"})

local util = dofile("tests/viz/app_util.lua")
local write = util.writer(out)

-- where output cell (2,3) of page 1 is, for the mouse
local g = a:layout().output[1]
write("layout.txt", string.format("%d %d\n", g.x + (3 - g.col0) * g.cell + g.cell // 2,
                                  g.y + (2 - g.row0) * g.cell + g.cell // 2))

-- where the controls and the timeline of page 1 are (the window's size)
do
  local lay = a:layout()
  local lines = {}
  for _, c in ipairs(lay.controls) do
    lines[#lines + 1] = string.format("%s %s %d %d", c.key, c.kind, c.x + c.w // 2, c.y + c.h // 2)
  end
  local tl = lay.timeline
  lines[#lines + 1] = string.format("timeline - %d %d %d", tl.x, tl.y + tl.h // 2, tl.w)
  write("controls.txt", table.concat(lines, "\n") .. "\n")
end

-- no two texts of a frame overlap, and all lie inside it (as
-- tests/lua/test_layout.lua checks offscreen), for the window's own size
local function layout_ok(lay)
  local t = {}
  for _, b in ipairs(lay) do
    if b.x < -0.5 or b.y < -0.5 or b.x + b.w > lay.width + 0.5 or b.y + b.h > lay.height + 0.5 then
      return false
    end
    if b.kind ~= "panel" and (b.layer or 0) == 0 then t[#t + 1] = b end
  end
  for i = 1, #t do
    for j = i + 1, #t do
      local a, c = t[i], t[j]
      if a.x + 0.75 < c.x + c.w and c.x + 0.75 < a.x + a.w and a.y + 0.75 < c.y + c.h and
         c.y + 0.75 < a.y + a.h then
        return false
      end
    end
  end
  return true
end

local last, last_tip, last_size
function update(dt)
  local v, page = viz.current()
  if not v then return end
  local s = v:state()
  local hover = s.hover and (s.hover.what .. ":" .. table.concat(s.hover.index, ",")) or "none"
  local line = string.format("page=%d step=%d view=%s stride=%d help=%s hover=%s pad=%d dil=%d flip=%s mode=%s play=%s code=%s compare=%s\n",
                             page, s.step, s.view, s.params.stride[1], tostring(s.help), hover,
                             s.params.padding[1], s.params.dilation[1], tostring(s.params.flip),
                             s.params.padding_mode or "-", tostring(s.playing), tostring(s.code),
                             tostring(s.compare))
  if line ~= last then
    last = line
    write("state.txt", line)
  end
  -- the frame's size (it follows the window) and whether its layout holds
  local lay = v:layout()
  local size = string.format("size=%dx%d layout=%s\n", lay.width, lay.height, tostring(layout_ok(lay)))
  if size ~= last_size then
    last_size = size
    write("size.txt", size)
  end
  -- the tooltip's first line, when a cell is hovered
  local tip = s.hover and util.tooltip(v, "^[xy]%[") or "none"
  if tip ~= last_tip then
    last_tip = tip
    write("tooltip.txt", tip .. "\n")
  end
end

function keypressed(key)
  if key == "x" then
    local v = viz.current()
    v:screenshot(out .. "/app.png")
    write("shot.txt", "done\n")
    return true
  elseif key == "e" then
    error("boom from keypressed")
  end
end

viz.run{a, b}
