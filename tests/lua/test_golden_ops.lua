-- test_golden_ops.lua: gradients, unfold/fold, matmul, pooling and the 1-D
-- ops against PyTorch's numbers (tests/golden/ops_*.lua, made by
-- tests/golden/gen_ops.py).  Every case runs on the reference loops, on the
-- dispatcher's choice, and on the dispatcher's choice with non-contiguous
-- inputs; error cases must raise PyTorch's message (or the phrase mapped
-- below where convplay words it differently on purpose).

local DIR = "../golden/"
local FILES = {"backward", "unfold", "pool", "conv1d", "errors"}
local RTOL = 1e-4

local GT = dofile("golden_tensors.lua")
local numel_of, T, T_strided = GT.numel_of, GT.T, GT.T_strided

local function is_tensor_spec(v)
  return type(v) == "table" and v.shape ~= nil
end

local function compare(got, want, what)
  check(tensor.istensor(got), what .. ": not a tensor: " .. tostring(got))
  local gs, ws = table.concat(got:shape(), ", "), table.concat(want.shape, ", ")
  if gs ~= ws then
    error(string.format("%s: shape {%s}, expected {%s}", what, gs, ws), 0)
  end
  local scale = 1
  for _, v in ipairs(want.data) do
    if v == v and math.abs(v) ~= math.huge then
      scale = math.max(scale, math.abs(v))
    end
  end
  local g = got:numel() > 0 and got:contiguous():reshape(got:numel()):totable()
            or {}
  for i, w in ipairs(want.data) do
    local v, ok = g[i], nil
    if w ~= w then ok = v ~= v
    elseif math.abs(w) == math.huge then ok = v == w
    else ok = v == v and math.abs(v - w) <= RTOL * scale end
    if not ok then
      error(string.format("%s: flat index %d: got %.9g, expected %.9g", what,
                          i, v, w), 0)
    end
  end
end

local function call(c, strided)
  local mk = strided and T_strided or T
  local args = {}
  for i, a in ipairs(c.args) do args[i] = is_tensor_spec(a) and mk(a) or a end
  local o = {}
  for k, v in pairs(c.opts or {}) do o[k] = is_tensor_spec(v) and T(v) or v end
  if next(o) ~= nil then args[#args + 1] = o end
  if c.op == "matmul" then return tensor.matmul(table.unpack(args)) end
  return conv[c.op](table.unpack(args, 1, #c.args + (next(o) and 1 or 0)))
end

local RUNS = {{"reference", false}, {"auto", false}, {"auto", true}}
local function each_impl(fn)
  local errs = {}
  for _, r in ipairs(RUNS) do
    conv.set_impl(r[1])
    local ok, err = pcall(fn, r[2])
    conv.set_impl("auto")
    if not ok then
      errs[#errs + 1] = "[" .. r[1] .. (r[2] and ", strided" or "") .. "] " ..
                        tostring(err)
    end
  end
  if #errs > 0 then error(table.concat(errs, "\n"), 0) end
end

-- Where convplay's message differs from PyTorch's on purpose:
-- {pattern in PyTorch's message, phrase or function(captures) -> phrases}.
local ERROR_PHRASES = {
  -- PyTorch prints a torch.Size; convplay a plain list
  {"^(requested an output size of .*) %(for an input of", function(m)
    return {m} end},
  -- PyTorch prints the weight size in double brackets
  {"expected weight to be divisible by (%d+) at dimension 0", function(m)
    return {"expected weight to be divisible by " .. m .. " at dimension 0"} end},
  -- conv1d's bias: convplay's geometry counts elements and dimensions
  {"expected bias to be 1%-dimensional with (%d+) elements", function(m)
    return {"expected bias to be 1-dimensional with " .. m .. " elements"} end},
  -- im2col prints the input height twice; convplay prints (height, width)
  {"^Given input with spatial size %(%d+, %d+%), (kernel_size.*)$", function(m)
    return {m} end},
  -- F.avg_pool2d on a 2-D input fails in Python's indexing (IndexError)
  {"^Dimension out of range", "Expected 3D or 4D (batch mode) tensor"},
}

local function phrases_for(msg)
  for _, e in ipairs(ERROR_PHRASES) do
    local m = msg:match(e[1])
    if m then
      if type(e[2]) == "function" then return e[2](m) end
      return {table.unpack(e, 2)}
    end
  end
  return {msg}
end

for _, name in ipairs(FILES) do
  local ok, cases = pcall(dofile, DIR .. "ops_" .. name .. ".lua")
  test("golden ops_" .. name .. " fixture loads", function()
    check(ok, tostring(cases))
    check(type(cases) == "table" and #cases > 0, "no cases")
  end)
  for i, c in ipairs(ok and cases or {}) do
    local fname = c.op == "matmul" and "tensor.matmul" or "conv." .. c.op
    local label = string.format("golden ops_%s #%d %s: %s", name, i, c.op,
                                c.desc or "")
    test(label, function()
      if c.error then
        local want = phrases_for(c.error)
        each_impl(function(strided)
          raises(function() call(c, strided) end, fname .. ": ",
                 table.unpack(want))
        end)
      else
        each_impl(function(strided)
          local res = table.pack(call(c, strided))
          check(res.n == #c.outs, string.format("%d results, expected %d",
                                                res.n, #c.outs))
          for k, want in ipairs(c.outs) do
            compare(res[k], want, "result " .. k)
          end
        end)
      end
    end)
  end
end
