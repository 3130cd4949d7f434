-- stock.lua BUILD RUNNER [FILE...]: runs RUNNER (run.lua) under Debian's
-- stock lua5.4 with convplay loaded as a module from BUILD/convplay.so and
-- its parts made globals, as the convplay host does:
--   cd tests/lua && CONVPLAY_HEADLESS=1 lua5.4 stock.lua ../../build run.lua test_tensor.lua
local build = assert(arg[1], "usage: lua5.4 stock.lua BUILD RUNNER [FILE...]")
package.cpath = build .. "/?.so;" .. package.cpath
local cp = require "convplay"
assert(package.searchpath("convplay", package.cpath) == build .. "/convplay.so",
       "convplay.so was not loaded from " .. build)
for _, name in ipairs{"tensor", "conv", "image", "viz"} do
  _G[name], package.loaded[name] = cp[name], cp[name]
end
local runner = assert(arg[2], "no runner")
arg = table.move(arg, 3, #arg, 1, {[0] = runner})
dofile(runner)
