-- How stride, padding and dilation set the output size.
--   conv2d:           H_out = floor((H + 2p - d(k-1) - 1) / s) + 1
--   conv_transpose2d: H_out = (H - 1)s - 2p + d(k-1) + output_padding + 1
local rows = {
  {32, 3, {}},
  {32, 3, {padding = 1}},
  {32, 3, {stride = 2, padding = 1}},
  {7, 3, {stride = 2, padding = 1}},   -- 7 and 8 both give 4:
  {8, 3, {stride = 2, padding = 1}},   -- the last row is dropped silently
  {32, 3, {dilation = 2}},
  {32, 3, {dilation = 2, padding = 2}},
  {32, 3, {dilation = 4, padding = "same"}},
  {5, 3, {stride = 2, dilation = 2}},
  {4, 3, {stride = 2, padding = 1, transposed = true}},
  {4, 3, {stride = 2, padding = 1, output_padding = 1, transposed = true}},
  {28, 4, {stride = 2, padding = 1, transposed = true}},
}
local out = {}
for i, r in ipairs(rows) do
  local H, k, o = r[1], r[2], r[3]
  local parts = {}
  for _, key in ipairs{"stride", "padding", "dilation", "output_padding"} do
    if o[key] then parts[#parts + 1] = key .. "=" .. tostring(o[key]) end
  end
  out[i] = conv.output_size(H, k, o)
  print(string.format("%-16s H=%-3d k=%d %-40s -> %d",
                      o.transposed and "conv_transpose2d" or "conv2d",
                      H, k, table.concat(parts, ", "), out[i]))
end
if viz and not viz.headless then
  -- the formula, live: s/S, p/P, d/D change stride, padding and dilation
  viz.run(viz.conv2d(tensor.arange(64):reshape(1, 1, 8, 8), tensor.ones(1, 1, 3, 3),
                     {stride = 2, padding = 1,
                      caption = "keys s/S p/P d/D change stride, padding, dilation: "
                                .. "the output size formula updates"}))
end
return out
