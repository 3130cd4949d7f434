-- What a transposed convolution does to each input pixel.
-- PyTorch:
--   up = nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1, bias=False)
--   up.weight = 1..16 (row-major); up(torch.ones(1,1,4,4)) -> 8x8
--   F.conv_transpose2d([[2,4],[0,1]], [[3,1],[1,5]]) -> [[6,14,4],[2,17,21],[0,1,5]]
local x = tensor.ones(1, 1, 4, 4)
local w = (tensor.arange(16) + 1):reshape(1, 1, 4, 4)
local up = conv.conv_transpose2d(x, w, {stride = 2, padding = 1})
print("ConvTranspose2d(1,1,4,stride=2,padding=1) on ones(4x4), weights 1..16:", up)
print("interior 24 = w[1,1]+w[1,3]+w[3,1]+w[3,3] = 1+3+9+11: each interior pixel gets 4 taps")

local xs = tensor.new{{2, 4}, {0, 1}}:reshape(1, 1, 2, 2)
local ws = tensor.new{{3, 1}, {1, 5}}:reshape(1, 1, 2, 2)
local scatter = conv.conv_transpose2d(xs, ws)
print("scatter example (each input pixel times the kernel, summed):", scatter)

if viz and not viz.headless then
  viz.run(viz.conv_transpose2d(x, w, {stride = 2, padding = 1, view = "scatter"}))
end
return {up = up, scatter = scatter}
