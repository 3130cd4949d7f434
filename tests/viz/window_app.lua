-- window_app.lua OUTDIR: the app driven by test_window.sh under Xvfb.
-- Two pages (conv2d, conv_transpose2d); after every change it writes
-- OUTDIR/state.txt (one line) and, on key "x", a screenshot of the view
-- as rendered offscreen (OUTDIR/app.png) to compare with the real window.
local out = arg[1] or "."
local x = tensor.arange(36):reshape(1, 1, 6, 6)
local a = viz.conv2d(x, tensor.ones(1, 1, 3, 3), {padding = 1, title = "window test"})
local b = viz.conv_transpose2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 2, 2),
                               {stride = 2, view = "scatter"})

local function write(name, text)
  local f = assert(io.open(out .. "/" .. name .. ".tmp", "w"))
  f:write(text)
  f:close()
  os.rename(out .. "/" .. name .. ".tmp", out .. "/" .. name)
end

-- where output cell (2,3) of page 1 is, for the mouse
local g = a:layout().output[1]
write("layout.txt", string.format("%d %d\n", g.x + (3 - g.col0) * g.cell + g.cell // 2,
                                  g.y + (2 - g.row0) * g.cell + g.cell // 2))

local last
function update(dt)
  local v, page = viz.current()
  if not v then return end
  local s = v:state()
  local hover = s.hover and (s.hover.what .. ":" .. table.concat(s.hover.index, ",")) or "none"
  local line = string.format("page=%d step=%d view=%s stride=%d help=%s hover=%s code=%s compare=%s\n",
                             page, s.step, s.view, s.params.stride[1], tostring(s.help), hover,
                             tostring(s.code), tostring(s.compare))
  if line ~= last then
    last = line
    write("state.txt", line)
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
