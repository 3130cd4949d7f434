-- test_attack_keepalive.lua: a C function keeps alive everything it uses
-- until it returns (issue 10, class 1).  Each attack closes or drops, from
-- Lua code that runs in the middle of a call (an __index metamethod, a
-- finalizer), the very objects the call is using.  Without the keep-alive
-- frame each of these is a null dereference or a use-after-free: a crash in
-- the normal build, an ASan report in the sanitizer build.  Each test also
-- checks that the attack really ran (`fired`), and that the object is closed
-- once the call has returned.

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function tmp(name) return dir .. "/" .. name end

local function close(o) getmetatable(o).__close(o) end

-- An option table whose every lookup runs `attack` (once).
local function hostile(attack, fields)
  local state = {fired = false}
  local t = setmetatable({}, {__index = function(_, k)
    if not state.fired then
      state.fired = true
      attack(k)
      collectgarbage()
      collectgarbage()
    end
    return fields and fields[k]
  end})
  return t, state
end

local function closed(o) return tostring(o):find("closed", 1, true) ~= nil end

local function img() return tensor.rand(3, 8, 8) end

-- The binding tells the collector about new tensor memory and runs a full
-- collection once as much was allocated as was live after the last one
-- (at least 64 MiB).  With the collector stopped, allocate and drop 1 MiB
-- tensors until that collection happens (a sentinel's finalizer shows it):
-- the count then starts again from 0, with the threshold at its 64 MiB
-- floor (little is live: the 1 MiB tensors are garbage).
local function reset_accounting()
  collectgarbage("stop")
  local ran = false
  setmetatable({}, {__gc = function() ran = true end})
  for _ = 1, 4096 do
    local junk = tensor.zeros(2^18)
    junk = nil
    if ran then return end
  end
  error("the collection never ran")
end

test("keepalive: image.save whose options close the tensor", function()
  local t = img()
  local opts, st = hostile(function() close(t) end)
  image.save(t, tmp("a.png"), opts)
  check(st.fired, "the attack did not run")
  check(closed(t), "the tensor is closed after the call")
  local back = image.load(tmp("a.png"))
  check(back:size()[2] == 8)
end)

test("keepalive: viz.grid whose options close the tensor", function()
  local t = tensor.rand(4, 4)
  local opts, st = hostile(function() close(t) end)
  viz.grid(t, 0, 0, opts)
  check(st.fired and closed(t))
end)

test("keepalive: viz.conv2d closing x when 'mask' is read", function()
  local x, w = tensor.rand(1, 1, 6, 6), tensor.rand(1, 1, 3, 3)
  local opts, st = hostile(function(k) close(x); close(w) end)
  local ok, v = pcall(viz.conv2d, x, w, opts)
  check(st.fired, "the attack did not run")
  check(closed(x) and closed(w))
  if ok then v:step(3); v:close() end
end)

test("keepalive: v:record whose options close the view", function()
  local v = viz.conv2d(tensor.rand(1, 1, 4, 4), tensor.rand(1, 1, 2, 2))
  local opts, st = hostile(function() v:close() end)
  pcall(v.record, v, tmp("r.gif"), opts)
  check(st.fired and closed(v))
  raises(function() v:step(1) end, "closed")
end)

test("keepalive: lab:set and lab:result whose options close the lab", function()
  for _, m in ipairs({"set", "result"}) do
    local lab = viz.lab(tensor.rand(3, 16, 16))
    local opts, st = hostile(function() lab:close() end)
    pcall(lab[m], lab, opts)
    check(st.fired, m .. ": the attack did not run")
    raises(function() lab:set({size = 3}) end, "closed")
  end
end)

test("keepalive: a title made by __index, collected during 'height'", function()
  for _, make in ipairs({
    function(o) return viz.conv2d(tensor.rand(1, 1, 4, 4),
                                  tensor.rand(1, 1, 2, 2), o) end,
    function(o) return viz.show(o) end}) do
    local n = 0
    local o = setmetatable({}, {__index = function(_, k)
      if k == "title" then
        n = n + 1
        return string.rep("t", 40) .. n -- a fresh string nothing else holds
      end
      if k == "height" then collectgarbage(); collectgarbage() end
      return nil
    end})
    local v = make(o)
    check(n == 1, "the title was read")
    check(v:title():sub(1, 3) == "ttt", "the title survived")
    v:close()
  end
end)

test("keepalive: a finalizer closes x while x + {big table} converts", function()
  collectgarbage("stop")
  local x = tensor.ones(1)
  local fired = false
  setmetatable({}, {__gc = function() fired = true; close(x) end})
  local t = {}
  for i = 1, 2^16 do t[i] = 1 end
  local ok, r = pcall(function() return x + t end)
  collectgarbage("restart")
  collectgarbage()
  -- The finalizer may run before or during the call: either the call
  -- sees a closed tensor (a clean error) or it completes.
  check(fired, "the finalizer ran")
  check(ok and r:numel() == 2^16 or tostring(r):find("closed"), tostring(r))
end)

test("keepalive: the issue's exact finalizer repro (big allocation)", function()
  reset_accounting() -- as in a fresh process
  local x = tensor.ones(1)
  local p = tensor.zeros(15 * 2^20)
  setmetatable({}, {__gc = function() getmetatable(x).__close(x) end})
  local t = {}
  for i = 1, 2^20 + 16 do t[i] = 1 end -- 60 MiB + 4 MiB: crosses 64 MiB
  local ok, r = pcall(function() return x + t end)
  local during = closed(x) -- the collection forced by the conversion ran it
  collectgarbage("restart")
  p, t = nil, nil
  collectgarbage()
  check(ok or tostring(r):find("closed"), tostring(r))
  check(during or not ok, "the finalizer ran inside the call")
end)

test("keepalive: a finalizer closes x and w while conv.conv2d converts the bias", function()
  -- Set up the collection to fall inside the bias conversion.
  local O = 2^20
  local x, w = tensor.ones(1, 1, 1, 1), tensor.ones(O, 1, 1, 1)
  local bias = {}
  for i = 1, O do bias[i] = 1 end
  reset_accounting()
  -- 64 MiB minus 2 MiB: the 4 MiB bias crosses the threshold
  local p = tensor.zeros(2^24 - 2^19)
  local fired = false
  setmetatable({}, {__gc = function() fired = true; close(x); close(w) end})
  local ok, y = pcall(conv.conv2d, x, w, {bias = bias})
  local during = fired
  collectgarbage("restart")
  p, bias = nil, nil
  collectgarbage()
  check(during, "the collection ran inside the call")
  check(ok and y:size()[2] == O or tostring(y):find("closed"), tostring(y))
end)

test("keepalive: a tensor in an option table, dropped and collected", function()
  local x, w = tensor.rand(1, 1, 6, 6), tensor.rand(1, 1, 3, 3)
  local opts = {stride = 1}
  opts.bias = tensor.rand(1)
  setmetatable(opts, {__index = function()
    local b = rawget(opts, "bias")
    rawset(opts, "bias", nil)
    if b then close(b) end
    collectgarbage(); collectgarbage()
  end})
  -- "bias" is read raw, then a missing key runs __index, which closes the
  -- bias and drops the table's reference to it.
  local ok, y = pcall(conv.conv2d, x, w, opts)
  check(ok or not tostring(y):find("nil"), tostring(y))
end)

-- ---- the same attack against every function of every module --------------
-- Each function and method is called with several argument patterns that
-- put a hostile table (closing every object in reach, collecting, and
-- returning odd values) wherever a table may go.  Errors are fine; a crash,
-- a hang or a sanitizer report fails the suite.
test("keepalive: every function with a hostile table", function()
  local calls, errors = 0, 0
  local function fresh()
    local o = {}
    o.t = tensor.rand(1, 1, 6, 6)
    o.w = tensor.rand(1, 1, 3, 3)
    o.v = viz.conv2d(tensor.rand(1, 1, 5, 5), tensor.rand(1, 1, 2, 2))
    o.lab = viz.lab(tensor.rand(3, 12, 12))
    return o
  end
  local function attack_table(o)
    local values = {title = "x", by = "tap", view = "gather", preset = "box",
                    size = 3, quality = 50, cell = 8}
    return setmetatable({}, {__index = function(_, k)
      for _, obj in pairs(o) do pcall(close, obj) end
      collectgarbage()
      return values[k]
    end})
  end
  local skip = {run = true, _after_script = true, open = true, help = true}
  local function attack(name, f, self_kind)
    for pattern = 1, 6 do
      local o = fresh()
      local h = attack_table(o)
      local self = self_kind and o[self_kind]
      local args = ({
        {h},
        {o.t, h},
        {o.t, o.w, h},
        {o.t, 0, 0, h},
        {o.t, tmp("k.png"), h},
        {tmp("k.gif"), h},
      })[pattern]
      if self then table.insert(args, 1, self) end
      calls = calls + 1
      local ok = pcall(f, table.unpack(args))
      if not ok then errors = errors + 1 end
      for _, obj in pairs(o) do pcall(close, obj) end
    end
  end
  for _, modname in ipairs({"tensor", "conv", "image", "viz"}) do
    for name, f in pairs(_G[modname]) do
      if type(f) == "function" and not skip[name] then
        attack(modname .. "." .. name, f)
      end
    end
  end
  local o = fresh()
  for kind, obj in pairs({t = o.t, v = o.v, lab = o.lab}) do
    local mt = getmetatable(obj)
    local methods = type(mt.__index) == "table" and mt.__index or {}
    for name, f in pairs(methods) do
      if type(f) == "function" and not skip[name] then
        attack(kind .. ":" .. name, f, kind)
      end
    end
    for name, f in pairs(mt) do
      if type(f) == "function" and name ~= "__gc" and name ~= "__close" then
        attack(kind .. " " .. name, f, kind)
      end
    end
  end
  for _, obj in pairs(o) do pcall(close, obj) end
  check(calls > 300, "attacked " .. calls .. " calls")
  print(string.format("  keepalive sweep: %d attacked calls, %d clean errors",
                      calls, errors))
end)

test("keepalive: a finalizer moves the view while v:state() and v:output() read it", function()
  -- v:set / v:seek rebuild the taps and the output that state() and
  -- output() are reading; the nested call must refuse, not free them
  local v = viz.conv2d(tensor.randn(1, 3, 12, 12), tensor.randn(4, 3, 5, 5),
                       {padding = 2, by = "tap"})
  v:seek(40)
  local fired, refused = 0, 0
  local armed = true
  local function bomb()
    setmetatable({}, {__gc = function()
      if not armed then return end
      fired = fired + 1
      local ok, err = pcall(function() v:set{stride = fired % 2 + 1, padding = fired % 3} end)
      if not ok and tostring(err):find("being read by a call still running", 1, true) then
        refused = refused + 1
      end
      pcall(function() v:seek(fired * 7 % 200 + 1) end)
      bomb()
    end})
  end
  local pause = collectgarbage("setpause", 1)
  local mul = collectgarbage("setstepmul", 1000)
  bomb()
  for _ = 1, 60 do
    local st = v:state()
    check(type(st.taps) == "table", "state has its taps")
    local y = v:output()
    check(y:numel() > 0, "an output")
  end
  armed = false
  collectgarbage("setpause", pause)
  collectgarbage("setstepmul", mul)
  check(fired > 0 and refused > 0, string.format(
    "the finalizer ran %d times, was refused %d times", fired, refused))
  -- outside such a call the view changes as before
  v:set{stride = 1, padding = 0}
  check(v:state().params.stride[1] == 1, "v:set works again")
end)

os.execute("rm -rf " .. dir)
