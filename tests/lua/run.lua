-- run.lua FILE...: runs Lua test files through build/convplay --headless.
-- Each file calls test(name, fn); a test passes when fn returns without
-- error.  Helpers: check(cond, msg), near(a, b, tol), raises(fn, pattern),
-- same_tensor(t, expected_table, tol).  Prints "lua: N passed, N failed".
local passed, failed = 0, 0
local only = os.getenv("CONVPLAY_TEST_ONLY")

function check(cond, msg)
  if not cond then error(msg or "check failed", 2) end
end

function near(a, b, tol, what)
  tol = tol or 1e-5
  local ok = (a ~= a and b ~= b) or a == b or
             math.abs(a - b) <= tol * math.max(1, math.abs(b))
  if not ok then
    error(string.format("%s%.9g, expected %.9g", what and (what .. ": ") or "",
                        a, b), 2)
  end
end

-- fn must raise an error whose message contains every plain string given.
function raises(fn, ...)
  local ok, msg = pcall(fn)
  if ok then error("expected an error, got none", 2) end
  msg = tostring(msg)
  for _, want in ipairs({...}) do
    if not msg:find(want, 1, true) then
      error(string.format("error %q lacks %q", msg, want), 2)
    end
  end
  return msg
end

-- Compare a tensor with a nested Lua table of numbers.
function same_tensor(t, want, tol)
  local got = t:totable()
  local function walk(g, w, path)
    if type(w) == "table" then
      if type(g) ~= "table" or #g ~= #w then
        error(string.format("shape differs at %s: got %s entries, want %d",
                            path, type(g) == "table" and #g or "a number", #w), 3)
      end
      for i = 1, #w do walk(g[i], w[i], path .. "[" .. i .. "]") end
    else
      local ok = (g ~= g and w ~= w) or g == w or
                 math.abs(g - w) <= (tol or 1e-5) * math.max(1, math.abs(w))
      if not ok then
        error(string.format("value at %s: got %.9g, want %.9g", path, g, w), 3)
      end
    end
  end
  walk(got, want, "t")
end

function test(name, fn)
  if only and not name:find(only, 1, true) then return end
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    print("not ok: " .. name .. "\n    " .. tostring(err):gsub("\n", "\n    "))
  end
end

for _, file in ipairs(arg) do
  local chunk, err = loadfile(file)
  if not chunk then
    failed = failed + 1
    print("not ok: " .. file .. " does not load: " .. err)
  else
    local ok, e = xpcall(chunk, debug.traceback)
    if not ok then
      failed = failed + 1
      print("not ok: " .. file .. " stopped: " .. tostring(e))
    end
  end
end
print(string.format("lua: %d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
