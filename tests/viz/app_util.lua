-- app_util.lua: shared by the apps the window tests drive (window_app.lua,
-- views_app.lua); loaded with dofile from the repository root.
local M = {}

-- A writer of OUTDIR/NAME that the shell side never sees half-written (a
-- temporary file renamed into place).
function M.writer(out)
  return function(name, text)
    local f = assert(io.open(out .. "/" .. name .. ".tmp", "w"))
    f:write(text)
    f:close()
    os.rename(out .. "/" .. name .. ".tmp", out .. "/" .. name)
  end
end

-- The first line of the tooltip (the first overlay text whose text
-- matches pattern, default any), or "none".
function M.tooltip(v, pattern)
  for _, b in ipairs(v:layout()) do
    if b.layer == 1 and b.kind == "text" and (not pattern or b.text:find(pattern)) then
      return b.text
    end
  end
  return "none"
end

return M
