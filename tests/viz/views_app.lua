-- views_app.lua OUTDIR: the newer pages driven by test_window_views.sh
-- under Xvfb: the backward view (grad_weight), a max-pooling view and a
-- stack of layers.  Writes where each page's controls and cells are, and
-- after every change OUTDIR/state.txt (one line) and OUTDIR/tooltip.txt.
local out = arg[1] or "."
tensor.manual_seed(3)
local g = viz.conv2d_backward(tensor.randn(1, 2, 5, 5), tensor.randn(2, 2, 3, 3),
                              tensor.randn(1, 2, 3, 3), {grad = "weight"})
local p = viz.max_pool2d(tensor.randn(1, 1, 7, 7), 3, {stride = 2})
local s = viz.stack{{op = "conv2d", kernel_size = 3, stride = 2}, {op = "max_pool2d", kernel_size = 2},
                    input = {16, 16}}

local util = dofile("tests/viz/app_util.lua")
local write = util.writer(out)

-- "KEY KIND X Y" per control of pages 1 and 2, "cell PAGE X Y" for a cell
-- to hover: grad_weight's last grid, the stack's last grid
local lines = {}
for i, v in ipairs{g, p} do
  for _, c in ipairs(v:layout().controls) do
    lines[#lines + 1] = string.format("%d %s %s %d %d", i, c.key, c.kind, c.x + c.w // 2, c.y + c.h // 2)
  end
end
local gg = g:layout().output
gg = gg[#gg]
lines[#lines + 1] = string.format("1 cell - %d %d", gg.x + gg.cell // 2, gg.y + gg.cell // 2)
local sg = s:layout().grids
sg = sg[#sg]
lines[#lines + 1] = string.format("3 cell - %d %d", math.floor(sg.x + sg.cell * 1.5),
                                  math.floor(sg.y + sg.cell * 1.5))
write("controls.txt", table.concat(lines, "\n") .. "\n")

local last, last_tip
function update(dt)
  local v, page = viz.current()
  if not v then return end
  local st = v:state()
  local hover = "none"
  if page == 3 then
    hover = st.hover and table.concat(st.hover, ",") or "none"
  elseif st.hover then
    hover = st.hover.what .. ":" .. table.concat(st.hover.index, ",")
  end
  local line = string.format("page=%d grad=%s ceil=%s stride=%s hover=%s\n", page, tostring(st.grad),
                             st.params and tostring(st.params.ceil_mode) or "-",
                             st.params and tostring(st.params.stride[1]) or "-", hover)
  if line ~= last then
    last = line
    write("state.txt", line)
  end
  local tip = util.tooltip(v)
  if tip ~= last_tip then
    last_tip = tip
    write("tooltip.txt", tip .. "\n")
  end
end

viz.run{g, p, s}
