-- How groups and depthwise convolution wire channels.
-- PyTorch: nn.Conv2d(10, 20, 3, groups=2, bias=False); weight (20, 5, 3, 3);
--   weight[:10] = 0, weight[10:] = 1; input ones(1,10,7,7)
--   -> channels 1-10 all 0, channels 11-20 all 45 (= 5 channels x 9 taps)
local x = tensor.ones(1, 10, 7, 7)
local w = tensor.cat({tensor.zeros(10, 5, 3, 3), tensor.ones(10, 5, 3, 3)}, 1)
local y = conv.conv2d(x, w, {groups = 2})
local firsts = {}
for o = 1, 20 do firsts[o] = string.format("%g", y:get(1, o, 1, 1)) end
print("groups=2, output shape " .. table.concat(y:shape(), "x"))
print("value of each output channel: " .. table.concat(firsts, " "))

-- Depthwise with a channel multiplier: groups = C = 3, K = 2 outputs per
-- input channel; output o reads input channel ceil(o/2).
-- Input channel c is constant c, kernel of output o is all o:
--   value = 9 * c * o -> 9 18 54 72 135 162
local xd = tensor.cat({tensor.full({1, 1, 4, 4}, 1), tensor.full({1, 1, 4, 4}, 2),
                       tensor.full({1, 1, 4, 4}, 3)}, 2)
local wd = tensor.cat({tensor.full({1, 1, 3, 3}, 1), tensor.full({1, 1, 3, 3}, 2),
                       tensor.full({1, 1, 3, 3}, 3), tensor.full({1, 1, 3, 3}, 4),
                       tensor.full({1, 1, 3, 3}, 5), tensor.full({1, 1, 3, 3}, 6)}, 1)
local yd = conv.conv2d(xd, wd, {groups = 3})
local dw = {}
for o = 1, 6 do dw[o] = string.format("%g", yd:get(1, o, 1, 1)) end
print("depthwise (groups=3, multiplier 2), shape " .. table.concat(yd:shape(), "x"))
print("value of each output channel: " .. table.concat(dw, " "))

if viz and not viz.headless then
  viz.run(viz.conv2d(xd, wd, {groups = 3}))
end
return {groups = firsts, depthwise = dw, y = y, yd = yd}
