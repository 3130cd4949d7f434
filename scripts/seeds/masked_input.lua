-- Masking the input of a convolution, and NVIDIA's partial convolution.
-- PyTorch:
--   x = torch.arange(16.).reshape(1,1,4,4); w = torch.ones(1,1,2,2)
--   F.conv2d(x, w, stride=2)            -> [[10,18],[42,50]]
--   F.conv2d(x * m, w, stride=2)        -> [[5,15],[30,40]]
--   PartialConv2d(1,1,2,stride=2,bias=False) with w = 1 -> [[6.6667,20],[40,53.3333]]
local x = tensor.arange(16):reshape(1, 1, 4, 4)
local w = tensor.ones(1, 1, 2, 2)
local m = tensor.new{{1, 1, 1, 0},
                     {1, 0, 1, 1},
                     {1, 1, 0, 1},
                     {0, 1, 1, 1}}:reshape(1, 1, 4, 4)

local plain = conv.conv2d(x, w, {stride = 2})
local masked = conv.conv2d(x * m, w, {stride = 2})
local partial, new_mask = conv.partial_conv2d(x, m, w, {stride = 2})
print("conv2d(x, w, stride 2):", plain)
print("conv2d(x * mask, w, stride 2):", masked)
print("partial_conv2d (every window sees 3 of 4 pixels: scaled by 4/3):", partial)
print("updated mask:", new_mask)

if viz and not viz.headless then
  viz.run(viz.conv2d(x, w, {stride = 2, mask = m, partial = true}))
end
return {plain = plain, masked = masked, partial = partial, new_mask = new_mask}
