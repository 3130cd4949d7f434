-- test_code_kind.lua: the code of the views test_code.lua and
-- test_code_grad.lua leave out (tests/golden/kind_cases.lua: max / avg
-- pooling 2-D and 1-D, max_unpool2d, conv1d, conv_transpose1d, unfold in
-- its three pictures) is the text PyTorch ran (code_kind_views.lua, made
-- by make golden), the Keras text the one keras_mock.py checked, and
-- convplay's numbers equal what PyTorch computed from it: the output, and
-- for max pooling with return_indices the index each window's step shows.
-- No torch needed.
-- Run: cd tests/lua && ../../build/convplay --headless run.lua test_code_kind.lua

-- The view's own indices, output cell by output cell (the step of a cell
-- shows its window's argmax as PyTorch's flat index), in y's order.
local function view_indices(v)
  local s = v:state()
  local N, C, OH, OW = table.unpack(s.output_shape)
  local got = {}
  v:seek(1)
  for _ = 1, s.steps do
    local st = v:state()
    local o = st.out
    if st.index ~= nil then
      got[(((o[1] - 1) * C + o[2] - 1) * OH + o[3] - 1) * OW + o[4]] = st.index
    end
    v:step()
  end
  for k = 1, N * C * OH * OW do check(got[k] ~= nil, "no index for output cell " .. k) end
  return got
end

local kinds = {}
dofile("code_golden.lua")("kind_cases.lua", "code_kind_views.lua", "code golden (kinds)",
  function(v, f, same)
    local kind = f.desc:match("^%d+: (%S+)")
    kinds[kind] = (kinds[kind] or 0) + 1
    local py = v:code("pytorch")
    check((f.indices ~= nil) == (py:find("return_indices=True", 1, true) ~= nil),
          "indices kept exactly when the code asks for them")
    if f.indices then same(view_indices(v), f.indices, "indices") end
  end)

test("code golden (kinds): every view kind is there", function()
  for _, k in ipairs{"max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d",
                     "max_unpool2d", "conv1d", "conv_transpose1d", "unfold"} do
    check((kinds[k] or 0) >= 3, k .. ": " .. tostring(kinds[k]))
  end
end)
