-- view_frame.lua - the bench row "view frame": the time to draw the
-- busiest page of the tour (every page is tried, each at the middle of its
-- step-through) at 1920x1080, with Cairo and Pango, into a reused canvas;
-- median of 41 draws (v:frame_ms).  Target: at most 8 ms.
-- Run: build/convplay --headless tests/bench/view_frame.lua
-- Prints one line: "view frame 1920x1080 (page N): X ms (target 8 ms)".
local pages = dofile("scripts/tour.lua")
local worst, page = 0, 0
for i, v in ipairs(pages) do
  local steps = v:state().steps or 1
  if steps > 2 then v:seek(steps // 2) end
  local ms = v:frame_ms({width = 1920, height = 1080}, 41)
  if ms > worst then worst, page = ms, i end
end
print(string.format("view frame 1920x1080 (page %d): %.2f ms (target 8 ms)", page, worst))
