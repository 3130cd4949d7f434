-- PyTorch's "convolution" is cross-correlation: the kernel is not flipped.
-- A 5x7 image with a 3x3 square of ones (rows 2-4, cols 3-5) and the edge
-- filter [[-1, 1]]:
--   F.conv2d(x, w)           rows 2-4: [0, 1, 0, 0, -1, 0]   (x[c+1] - x[c])
--   true convolution (flip)  rows 2-4: [0, -1, 0, 0, 1, 0]   (= scipy convolve2d)
local x = tensor.zeros(1, 1, 5, 7)
for r = 2, 4 do for c = 3, 5 do x:set(1, 1, r, c, 1) end end
local w = tensor.new{{-1, 1}}:reshape(1, 1, 1, 2)

local corr = conv.conv2d(x, w)
local true_conv = conv.convolve2d(x, w)
print("image:", x:reshape(5, 7))
print("conv.conv2d (cross-correlation, PyTorch):", corr:reshape(5, 6))
print("conv.convolve2d (kernel flipped, textbook convolution):", true_conv:reshape(5, 6))

if viz and not viz.headless then
  viz.run(viz.conv2d(x, w))
end
return {x = x, corr = corr, conv = true_conv}
