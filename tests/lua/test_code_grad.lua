-- test_code_grad.lua: the code of the backward and compare views is the
-- text PyTorch ran (tests/golden/code_grad_views.lua, made by make golden)
-- and convplay's numbers equal what PyTorch computed from it: the gradient
-- the program prints, or both results of a compare view.  No torch needed.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_code_grad.lua
local GOLDEN = "../golden/"
local views = dofile(GOLDEN .. "grad_cases.lua")()
local fixtures = dofile(GOLDEN .. "code_grad_views.lua")

local function same(t, want, what)
  local s = t:size()
  check(#s == #want.shape, what .. ": rank")
  for d = 1, #s do check(s[d] == want.shape[d], what .. ": shape") end
  local flat = t:reshape(t:numel()):totable()
  for i, e in ipairs(want.data) do
    near(flat[i], e, 1e-4, what .. " element " .. i)
  end
end

test("code golden (backward, compare): the same views as the fixtures", function()
  check(#fixtures == #views and #views >= 20, #views .. " views, " .. #fixtures .. " fixtures")
  for i, f in ipairs(fixtures) do check(views[i].desc == f.desc, f.desc) end
end)

for i, f in ipairs(fixtures) do
  test("code golden " .. f.desc, function()
    local v = views[i].view
    local code = v:code("pytorch")
    check(code == f.code, "the code is not the text PyTorch ran (make golden after changing the generator)")
    same(v:output(), f.out, "output")
    if f.out2 then same(v:output("convolution"), f.out2, "convolution") end
  end)
end
