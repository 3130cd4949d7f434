-- golden_tensors.lua: fixture tensors of the golden tests
-- (test_golden.lua, test_golden_ops.lua): a spec {shape=, data=} as a
-- tensor, and as a non-contiguous view of the same values.
local M = {}

function M.numel_of(shape)
  local n = 1
  for _, d in ipairs(shape) do n = n * d end
  return n
end

function M.T(spec)
  if M.numel_of(spec.shape) == 0 then return tensor.zeros(spec.shape) end
  return tensor.new(spec.data):reshape(spec.shape)
end

-- The same values as a non-contiguous view (last two dims' strides swapped):
-- the ops must not assume contiguous inputs.
function M.T_strided(spec)
  local t = M.T(spec)
  local nd = #spec.shape
  if nd < 2 then return t end
  return t:transpose(nd - 1, nd):contiguous():transpose(nd - 1, nd)
end

return M
