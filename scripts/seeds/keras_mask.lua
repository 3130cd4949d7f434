-- Masking a Keras Conv2D kernel (HWIO layout) and running it channels_last.
-- Keras: x = ones(1,4,4,3) (NHWC); kernel = ones(3,3,3,2) (kH,kW,C_in,filters)
--   kernel *= M[:, :, None, None], M = [[1,1,0],[1,1,1],[0,1,1]]
--   Conv2D(2, 3, padding="valid") -> (1,2,2,2), every value 21 (7 taps x 3 channels)
local x = tensor.ones(1, 4, 4, 3)
local k = tensor.ones(3, 3, 3, 2)
local M = tensor.new{{1, 1, 0}, {1, 1, 1}, {0, 1, 1}}:reshape(3, 3, 1, 1)
local masked = k * M                     -- broadcasting over C_in and filters
local y = conv.conv2d(x, masked, {data_format = "channels_last"})
print("masked HWIO kernel, channels_last output " .. table.concat(y:shape(), "x") .. ":", y)

if viz and not viz.headless then
  viz.run(viz.conv2d(x:permute(1, 4, 2, 3), conv.to_oihw(k),
                     {kernel_mask = M:reshape(3, 3), keras = true}))
end
return {y = y}
