-- lab.lua: the entry script of `convplay --lab [IMAGE]`: the image filter
-- lab on IMAGE, or on assets/sample.png when none is given.  The window
-- stays open until it is closed (q); with --headless the lab renders one
-- frame offscreen and this prints what it computed.  Keys: docs/lab.md.
local path = ...
if type(viz) ~= "table" or type(viz.lab) ~= "function" then
  error("convplay was built without viz.lab (src/lua/wrap_viz.c)", 0)
end
local lab = viz.lab(path)
local s = lab:get()
if s.out_shape then
  print(string.format("lab: %s kernel, output %dx%dx%d", s.preset,
                      s.out_shape[1], s.out_shape[2], s.out_shape[3]))
end
