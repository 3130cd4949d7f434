-- code_golden.lua: the golden half of test_code.lua and test_code_kind.lua
-- (not a test file itself).  The views of a case file (tests/golden/*_cases.lua)
-- are built again; each must print exactly the PyTorch and Keras text its
-- fixture holds (a change in the generator shows up as a diff to re-run
-- through torch: make golden) and convplay's output must equal what
-- PyTorch computed from that text.
--
--   dofile("code_golden.lua")(cases_file, fixtures_file, label, extra)
--
-- registers one test for the list and one per view; extra(v, f, same),
-- optional, checks more of a view (same(got_flat, want, what) compares
-- flat values as the output is compared).
local GOLDEN = "../golden/"
local RTOL = 1e-4

local function flat(t)
  local n = t:numel()
  if n == 0 then return {} end
  return t:contiguous():reshape({n}):totable()
end

local function first_diff(a, b)
  local la, lb = {}, {}
  for l in (a .. "\n"):gmatch("(.-)\n") do la[#la + 1] = l end
  for l in (b .. "\n"):gmatch("(.-)\n") do lb[#lb + 1] = l end
  for i = 1, math.max(#la, #lb) do
    if la[i] ~= lb[i] then
      return string.format("line %d:\n  now:     %s\n  fixture: %s", i,
                           tostring(la[i]), tostring(lb[i]))
    end
  end
end

-- got (flat Lua list) against a fixture tensor's data, within RTOL of the
-- largest finite |value| (at least 1); NaN must be NaN.
local function same(got, want, what)
  check(#got == #want.data, string.format("%s: %d values, PyTorch %d", what, #got,
                                          #want.data))
  local scale = 1
  for _, e in ipairs(want.data) do
    if e == e and math.abs(e) ~= math.huge then scale = math.max(scale, math.abs(e)) end
  end
  for k, e in ipairs(want.data) do
    local g = got[k]
    check((g ~= g and e ~= e) or g == e or math.abs(g - e) <= RTOL * scale,
          string.format("%s[%d] = %.9g, PyTorch %.9g", what, k, g, e))
  end
end

return function(cases_file, fixtures_file, label, extra)
  local views = dofile(GOLDEN .. cases_file)()
  local fixtures = dofile(GOLDEN .. fixtures_file)

  test(label .. ": at least 50 views, the same list as the fixtures", function()
    check(#fixtures >= 50, "fixtures: " .. #fixtures)
    check(#views == #fixtures, string.format("%d views, %d fixtures", #views, #fixtures))
    for i, f in ipairs(fixtures) do
      check(views[i].desc == f.desc, string.format("view %d is %q, fixture %q", i,
                                                   views[i].desc, f.desc))
    end
  end)

  for i, f in ipairs(fixtures) do
    test(label .. " " .. f.desc, function()
      local v = assert(views[i], "no view " .. i).view
      local code, ok = v:code("pytorch")
      check(ok == true, "pytorch code is always expressible")
      if code ~= f.code then
        error("the code is not the text PyTorch ran (make golden after changing "
              .. "the generator); " .. first_diff(code, f.code))
      end
      -- the Keras text too: gen_code.py ran it through keras_mock.py
      local keras = v:code("keras")
      if keras ~= f.keras then
        error("the Keras code is not the text make golden checked; "
              .. first_diff(keras, f.keras))
      end
      local y = v:output()
      local ys = y:size()
      check(#ys == #f.out.shape, "output rank")
      for d = 1, #ys do check(ys[d] == f.out.shape[d], "output shape") end
      same(flat(y), f.out, "y")
      if extra then extra(v, f, same) end
    end)
  end
end
