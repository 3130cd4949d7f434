-- Bad input: a Lua error naming the function, the argument and the reason.
-- Never a crash, an abort or a silent wrong result.
local x = tensor.ones(1, 3, 5, 5)
local w = tensor.ones(2, 3, 3, 3)
local function e(name, fn, ...)
  local wants = {...}
  test("error: " .. name, function() raises(fn, table.unpack(wants)) end)
end

-- conv.conv2d: the table of shared/SEMANTICS.md §8
e("2-D input", function() conv.conv2d(tensor.ones(5, 5), w) end,
  "conv.conv2d", "input", "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [5, 5]")
e("5-D input", function() conv.conv2d(tensor.ones(1, 1, 3, 5, 5), w) end,
  "conv.conv2d", "input", "but got input of size: [1, 1, 3, 5, 5]")
e("3-D weight", function() conv.conv2d(x, tensor.ones(3, 3, 3)) end,
  "conv.conv2d", "weight", "expected a 4-D weight")
e("channel mismatch", function() conv.conv2d(x, tensor.ones(2, 2, 3, 3)) end,
  "conv.conv2d", "input", "Given groups=1, weight of size [2, 2, 3, 3], expected input[1, 3, 5, 5] to have 2 channels, but got 3 channels instead")
e("out channels not divisible by groups", function()
  conv.conv2d(tensor.ones(1, 4, 5, 5), tensor.ones(3, 2, 3, 3), {groups = 2}) end,
  "conv.conv2d", "weight", "Given groups=2, expected weight to be divisible by 2 at dimension 0")
e("groups 0", function() conv.conv2d(x, w, {groups = 0}) end,
  "conv.conv2d", "groups", "non-positive groups is not supported")
e("stride 0", function() conv.conv2d(x, w, {stride = 0}) end,
  "conv.conv2d", "stride", "non-positive stride is not supported")
e("stride -1", function() conv.conv2d(x, w, {stride = {1, -1}}) end,
  "stride", "non-positive stride is not supported")
e("padding -1", function() conv.conv2d(x, w, {padding = -1}) end,
  "conv.conv2d", "padding", "negative padding is not supported")
e("dilation 0", function() conv.conv2d(x, w, {dilation = 0}) end,
  "conv.conv2d", "dilation", "dilation should be greater than zero, but got [0, 0]")
e("kernel larger than the padded input", function()
  conv.conv2d(tensor.ones(1, 1, 2, 2), tensor.ones(1, 1, 3, 3)) end,
  "conv.conv2d", "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size")
e("dilated kernel larger than the input", function()
  conv.conv2d(tensor.ones(1, 1, 5, 5), tensor.ones(1, 1, 3, 3), {dilation = 3}) end,
  "Kernel size: (7 x 7)")
e("kernel 0x0", function() conv.conv2d(x, tensor.ones(2, 3, 0, 0)) end,
  "conv.conv2d", "weight", "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0")
e("4-tuple padding", function() conv.conv2d(x, w, {padding = {1, 1, 1, 1}}) end,
  "conv.conv2d", "opts.padding", "expected padding to be a single integer value or a list of 2 values", "{top=")
e("same with stride 2", function() conv.conv2d(x, w, {padding = "same", stride = 2}) end,
  "conv.conv2d", "padding", "padding='same' is not supported for strided convolutions")
e("padding 'full'", function() conv.conv2d(x, w, {padding = "full"}) end,
  "conv.conv2d", "opts.padding", "Invalid padding string: 'full'")
e("padding 'SAME' (case-sensitive)", function() conv.conv2d(x, w, {padding = "SAME"}) end,
  "Invalid padding string: 'SAME'")
e("padding_mode mirror", function() conv.conv2d(x, w, {padding_mode = "mirror"}) end,
  "conv.conv2d", "opts.padding_mode", "padding_mode must be one of", "mirror")
e("reflect padding too large", function()
  conv.conv2d(x, w, {padding = 5, padding_mode = "reflect"}) end,
  "conv.conv2d", "padding", "Padding size should be less than the corresponding input dimension")
e("circular padding wraps twice", function()
  conv.conv2d(tensor.ones(1, 3, 3, 3), w, {padding = 4, padding_mode = "circular"}) end,
  "padding", "Padding value causes wrapping around more than once.")
e("same + reflect with k=7 on 3x3", function()
  conv.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 7, 7), {padding = "same", padding_mode = "reflect"}) end,
  "Padding size should be less than the corresponding input dimension")
e("bias of the wrong size", function() conv.conv2d(x, w, {bias = tensor.ones(3)}) end,
  "conv.conv2d", "bias", "expected bias to be 1-dimensional with 2 elements")
e("zero output channels", function() conv.conv2d(x, tensor.ones(0, 3, 3, 3)) end,
  "expected weight to be at least 1 at dimension 0")
e("zero height with data", function()
  conv.conv2d(tensor.ones(1, 3, 0, 5), tensor.ones(2, 3, 1, 1), {padding = 1}) end,
  "Only zero batch or zero channel inputs are supported, but got input shape: [1, 3, 0, 5]")
e("unknown option", function() conv.conv2d(x, w, {strides = 2}) end,
  "conv.conv2d", "opts", "unknown option 'strides'")
e("fractional stride", function() conv.conv2d(x, w, {stride = 1.5}) end,
  "conv.conv2d", "opts.stride", "expected a whole number, got 1.5")
e("string stride", function() conv.conv2d(x, w, {stride = "2"}) end,
  "opts.stride", "expected a whole number")
e("options not a table", function() conv.conv2d(x, w, 3) end,
  "conv.conv2d", "opts", "table expected, got number")
e("input not a tensor", function() conv.conv2d({1, 2}, w) end,
  "bad argument #1", "tensor expected")
e("huge stride", function() conv.conv2d(x, w, {stride = 2^40}) end,
  "stride", "value too large")
e("bad data_format", function() conv.conv2d(x, w, {data_format = "NHWC"}) end,
  "opts.data_format", "channels_last")

-- conv.conv_transpose2d
e("transposed output_padding too large", function()
  conv.conv_transpose2d(x, tensor.ones(3, 2, 3, 3), {stride = 2, output_padding = 2}) end,
  "conv.conv_transpose2d", "output_padding", "output padding must be smaller than either stride or dilation, but got output_padding_height: 2 output_padding_width: 2 stride_height: 2 stride_width: 2 dilation_height: 1 dilation_width: 1")
e("transposed output too small", function()
  conv.conv_transpose2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 3, 3), {padding = 4}) end,
  "conv.conv_transpose2d", "Given input size per channel: (3 x 3). Calculated output size per channel: (-3 x -3). Output size is too small")
e("transposed padding 'same'", function()
  conv.conv_transpose2d(x, tensor.ones(3, 2, 3, 3), {padding = "same"}) end,
  "conv.conv_transpose2d", "opts.padding", "not the string 'same'")
e("transposed reflect", function()
  conv.conv_transpose2d(x, tensor.ones(3, 2, 3, 3), {padding_mode = "reflect"}) end,
  "conv.conv_transpose2d", "padding_mode", "only \"zeros\" padding mode is supported")
e("transposed negative output_padding", function()
  conv.conv_transpose2d(x, tensor.ones(3, 2, 3, 3), {output_padding = -1}) end,
  "negative output_padding is not supported")
e("transposed channel mismatch", function()
  conv.conv_transpose2d(x, tensor.ones(4, 2, 3, 3)) end,
  "expected input[1, 3, 5, 5] to have 4 channels, but got 3 channels instead")

-- conv.partial_conv2d and conv.output_size
e("partial mask of the wrong shape", function()
  conv.partial_conv2d(x, tensor.ones(1, 1, 4, 4), w) end,
  "conv.partial_conv2d", "mask", "does not fit input")
e("partial multi_channel mask with 1 channel", function()
  conv.partial_conv2d(x, tensor.ones(1, 1, 5, 5), w, {multi_channel = true}) end,
  "conv.partial_conv2d", "mask")
e("output_size negative input", function() conv.output_size(-1, 3) end,
  "conv.output_size", "input", "out of range")
e("output_size with kernel too large", function() conv.output_size(2, 5) end,
  "conv.output_size", "Kernel size can't be greater than actual input size")
e("conv.pad reflect too large", function() conv.pad(tensor.ones(1, 1, 3, 3), 3, "reflect") end,
  "conv.pad", "Padding size should be less than the corresponding input dimension")
e("conv.pad unknown mode", function() conv.pad(tensor.ones(1, 1, 3, 3), 1, "wrap") end,
  "conv.pad", "mode", "'wrap'")
e("set_impl unknown", function() conv.set_impl("turbo") end,
  "bad argument #1", "invalid option 'turbo'")

-- tensor
e("negative size", function() tensor.zeros(2, -3) end,
  "tensor.zeros", "size", "negative size -3")
e("fractional size", function() tensor.ones(2.5) end,
  "tensor.ones", "size", "expected a whole number, got 2.5")
e("size that overflows", function() tensor.zeros(2^40, 2^40) end,
  "tensor.zeros", "shape", "overflows")
e("size that exhausts memory", function() tensor.zeros(2^20, 2^20) end,
  "tensor.zeros", "shape", "more than the", "GiB limit")
e("ragged nested table", function() tensor.new{{1, 2}, {3}} end,
  "tensor.new", "data", "ragged nested table: [2] has 1 entries, expected 2")
e("non-number in a table", function() tensor.new{1, "x"} end,
  "tensor.new", "data", "[2] is string, expected a number")
e("impossible reshape", function() tensor.arange(6):reshape(4, 2) end,
  "tensor:reshape", "shape '[4, 2]' is invalid for input of size 6")
e("two -1 in reshape", function() tensor.arange(6):reshape(-1, -1) end,
  "tensor:reshape", "only one dimension can be -1")
e("index out of range", function() tensor.zeros(2, 3):get(3, 1) end,
  "tensor:get", "index", "index 3 is out of bounds for dimension 1 with size 2")
e("wrong number of indices", function() tensor.zeros(2, 3):get(1) end,
  "tensor:get", "expected 2 indices")
e("set without a value", function() tensor.zeros(2):set() end,
  "tensor:set")
e("unbroadcastable shapes", function() return tensor.ones(2, 3) + tensor.ones(4) end,
  "tensor:add", "cannot be broadcast", "size of tensor a (3) must match the size of tensor b (4)")
e("arithmetic with a string", function() return tensor.ones(2) * "x" end,
  "tensor:mul", "tensor or number expected, got string")
e("permute with a repeated dim", function() tensor.zeros(2, 3):permute(1, 1) end,
  "tensor:permute", "dimension 1 repeats")
e("permute with too few dims", function() tensor.zeros(2, 3):permute(1) end,
  "tensor:permute", "expected 2 dimensions, got 1")
e("transpose out of range", function() tensor.zeros(2, 3):transpose(1, 3) end,
  "tensor:transpose", "dim1", "dimension 3 out of range")
e("flip a dimension twice", function() tensor.zeros(2, 3):flip(1, 1) end,
  "tensor:flip", "appears twice")
e("cat mismatched sizes", function() tensor.cat({tensor.ones(2, 2), tensor.ones(3, 3)}, 1) end,
  "tensor.cat", "sizes must match except in dimension 1")
e("cat of non-tensors", function() tensor.cat({1, 2}) end,
  "tensor.cat", "entry 1 is number, expected a tensor")
e("item of many elements", function() tensor.ones(2):item() end,
  "tensor:item", "cannot be converted to a number")
e("min of an empty tensor", function() tensor.zeros(0):min() end,
  "tensor:min", "the tensor is empty")
e("narrow past the end", function() tensor.zeros(4):narrow(1, 3, 3) end,
  "tensor:narrow", "length", "out of range")
e("method on a non-tensor", function() tensor.zeros(2).sum({}) end,
  "tensor expected")

-- image
e("load a missing file", function() image.load("/nonexistent/x.png") end,
  "image.load", "path", "cannot open '/nonexistent/x.png'", "No such file or directory")
e("save with an unknown extension", function() image.save(tensor.zeros(3, 2, 2), "/tmp/x.webp") end,
  "image.save", "path", "unknown image format '.webp'")
e("save into a missing folder", function() image.save(tensor.zeros(3, 2, 2), "/nonexistent/dir/x.png") end,
  "image.save", "path", "cannot write")
e("save a 5-channel tensor", function() image.save(tensor.zeros(5, 2, 2), "/tmp/x.png") end,
  "image.save", "expected 1 to 4 channels, got 5")
e("save a 1-D tensor", function() image.save(tensor.zeros(4), "/tmp/x.png") end,
  "image.save", "expected (H, W), (C, H, W) or (1, C, H, W)")
e("save with a bad quality", function() image.save(tensor.zeros(3, 2, 2), "/tmp/x.jpg", {quality = 0}) end,
  "image.save", "opts.quality", "out of range")
test("error: load a corrupt file", function()
  local path = os.tmpname() .. ".png"
  local f = assert(io.open(path, "wb"))
  f:write("\137PNG\r\n\26\n this is not really a png")
  f:close()
  raises(function() image.load(path) end, "image.load", "path", "cannot decode")
  os.remove(path)
end)
e("output too large to allocate", function()
  conv.conv2d(tensor.ones(1, 1, 1, 1), tensor.ones(1, 1, 1, 1), {padding = 30000}) end,
  "conv.conv2d", "output: (1, 1, 60001, 60001) cannot be allocated", "GiB limit")
e("output size that overflows", function()
  conv.conv2d(tensor.ones(1, 1, 1, 1), tensor.ones(1, 1, 1, 1), {padding = 2^30}) end,
  "conv.conv2d", "output:", "overflows")

-- tensors given as tables inside option tables: the error names the
-- function and the option, not "tensor: bad argument #4"
e("bias of the wrong type", function() conv.conv2d(x, w, {bias = "b"}) end,
  "conv.conv2d: bad argument #3 'opts.bias': tensor, number or nested table expected, got string")
e("ragged bias table", function() conv.conv2d(x, w, {bias = {{1}, {1, 2}}}) end,
  "conv.conv2d: bad argument #3 'opts.bias': ragged nested table")
e("viz mask of the wrong type", function()
  viz.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 1, 1), {mask = true}) end,
  "viz.conv2d: bad argument #3 'opts.mask': tensor, number or nested table expected, got boolean")
e("viz kernel_mask with a string", function()
  viz.conv_transpose2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 2, 2), {kernel_mask = {{1, "a"}}}) end,
  "viz.conv_transpose2d: bad argument #3 'opts.kernel_mask': [1][2] is string, expected a number")
e("viz.show with a string grid", function() viz.show{input = "x"} end,
  "viz.show: bad argument #1 'input': tensor, number or nested table expected, got string")
e("ragged table operand", function() return tensor.ones(2) + {{1}, {2, 3}} end,
  "tensor:add: bad argument #1 'other': ragged nested table")
e("view names itself", function() tensor.ones(6):view(4, -1) end,
  "tensor:view: shape '[4, -1]' is invalid for input of size 6")
e("view with a fractional size", function() tensor.ones(6):view(1.5) end,
  "tensor:view: bad argument #1 'size': expected a whole number, got 1.5")

-- entries of table arguments name the argument, not a stack slot
e("output_size table entry", function() conv.output_size({1, "a"}, 3) end,
  "conv.output_size: bad argument #1 'input': expected a whole number, got string")
e("output_size kernel entry", function() conv.output_size(3, {1, -1}) end,
  "conv.output_size: bad argument #2 'kernel_size': -1 is out of range")
e("pad table entry", function() conv.pad(tensor.ones(2, 2), {1, 1, 1, -1}) end,
  "conv.pad: bad argument #2 'pad': -1 is out of range")
e("save quality", function() image.save(tensor.zeros(3, 2, 2), "/tmp/x.jpg", {quality = 101}) end,
  "image.save: bad argument #3 'opts.quality': 101 is out of range 1..100")
e("permute dims table", function() tensor.ones(2, 2):permute({1, 3}) end,
  "tensor:permute: bad argument #1 'dims': dimension 3 out of range")
e("flip dims table", function() tensor.ones(2, 2):flip({1.5}) end,
  "tensor:flip: bad argument #1 'dims': expected a whole number, got 1.5")
e("lab width", function() viz.lab(tensor.ones(3, 8, 8), {width = 1}) end,
  "viz.lab: bad argument #2 'opts.width': 1 is out of range 480..8192")

-- view:hover checks the cell (an index beyond the grid overflowed the unit
-- number, or highlighted another cell)
do
  local function v() return viz.conv2d(tensor.ones(1, 1, 4, 4), tensor.ones(1, 1, 3, 3)) end
  e("hover outside the output", function() v():hover("output", {1, 1, 2, 3}) end,
    "view:hover: bad argument #3 'index': output index 3 is out of range 1..2 at dimension 4")
  e("hover a huge index", function() v():hover("input", {1, 1, math.maxinteger, 1}) end,
    "view:hover: bad argument #3 'index': input index 9223372036854775807 is out of range 1..4")
  e("hover index 0", function() v():hover("output", {1, 1, 0, 1}) end,
    "view:hover: bad argument #3 'index': 0 is out of range")
  e("hover a short index", function() v():hover("output", {1, 1}) end,
    "view:hover: bad argument #3 'index': expected a whole number, got nil")
  test("hover inside the grids is accepted", function()
    local w = v()
    w:hover("input", {1, 1, 4, 4})
    check(w:state().hover.index[4] == 4)
    w:hover("output", {1, 1, 2, 2})
    check(w:state().hover.what == "output")
  end)
end
e("empty tensor whose strides overflow", function() tensor.zeros({2^61, 0, 4}) end,
  "tensor.zeros: shape: the element count overflows")
e("empty random tensor whose strides overflow", function() tensor.rand(0, math.maxinteger // 8, 9) end,
  "tensor.rand: shape: the element count overflows")
test("large empty tensors whose strides fit", function()
  check(tensor.zeros(0, 2^20, 2^20):numel() == 0)
end)
e("reshape of an empty tensor whose strides overflow", function()
  tensor.zeros(0, 2, 2, 4):reshape({0, 2, math.maxinteger, 2}) end,
  "tensor:reshape: shape: the element count overflows")
test("reshape an empty tensor to large sizes whose strides fit", function()
  check(tensor.zeros(0, 3):reshape(0, 2^40):size(2) == 2^40)
end)
e("viz with a stride of 2^31", function()
  viz.conv_transpose2d(tensor.ones(1, 1, 4, 2), tensor.ones(1, 3, 3, 3), {stride = 2^31}) end,
  "viz.conv_transpose2d: view: too large to step through (an output of size [1, 3, 6442450947, 2147483651])")
e("viz with a padding of 2^31", function()
  viz.conv2d(tensor.ones(2, 1, 3, 5), tensor.ones(3, 1, 1, 3), {padding = 2^31}) end,
  "viz.conv2d: view: too large to step through")
test("view:set to a huge padding reports it and the view recovers", function()
  local v = viz.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 1, 1))
  local ok, why = v:set{padding = 2^31}
  check(ok == false and why:find("too large to step through", 1, true), why)
  check(v:set{padding = 1} == true and v:state().steps == 25)
end)

-- viz option fields: checked whole numbers in range, named as options
-- (they were cast to int, so width = 2^32 + 1280 meant 1280, and type
-- errors read "bad argument #-1 to 'viz.show'")
e("viz.show width of the wrong type", function() viz.show{width = "a"} end,
  "viz.show: bad argument #1 'opts.width': expected a whole number, got string")
e("viz.show width that wraps around int", function() viz.show{width = 2^32 + 1280} end,
  "viz.show: bad argument #1 'opts.width': 4294968576 is out of range 320..8192")
e("viz.show height too small", function() viz.show{height = 100} end,
  "viz.show: bad argument #1 'opts.height': 100 is out of range 240..8192")
e("viz.show title of the wrong type", function() viz.show{title = {}} end,
  "viz.show: bad argument #1 'opts.title': string expected, got table")
e("viz.conv2d fractional width", function()
  viz.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 1, 1), {width = 1.5}) end,
  "viz.conv2d: bad argument #3 'opts.width': expected a whole number, got 1.5")
e("record fps 0", function()
  viz.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 1, 1)):record("/tmp/x.gif", {fps = 0}) end,
  "view:record: bad argument #3 'opts.fps': 0 is out of range 1..100")
e("record by a misspelt unit", function()
  viz.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 1, 1)):record("/tmp/x.gif", {by = "taps"}) end,
  "view:record: bad argument #3 'opts.by': expected \"tap\" or \"cell\", got \"taps\"")
e("viz.text huge size", function() viz.text("hi", 1, 1, {size = 1e6}) end,
  "viz.text: bad argument #4 'opts.size': 1000000 is out of range 1..512")

-- tensor.arange names the argument that is not finite (every case used to
-- blame #3 'step', even arange(0/0))
e("arange of NaN", function() tensor.arange(0 / 0) end,
  "tensor.arange: bad argument #1 'end': must be finite")
e("arange to infinity", function() tensor.arange(1, math.huge) end,
  "tensor.arange: bad argument #2 'end': must be finite, got inf")
e("arange from -infinity", function() tensor.arange(-math.huge, 1) end,
  "tensor.arange: bad argument #1 'start': must be finite, got -inf")
e("arange step 0", function() tensor.arange(1, 2, 0) end,
  "tensor.arange: bad argument #3 'step': must be finite and non-zero, got 0")
test("error: view coordinates: NaN refused, huge ones clamped (no int overflow)", function()
  local v = viz.conv2d(tensor.ones(1, 1, 3, 3), tensor.ones(1, 1, 2, 2))
  raises(function() v:mouse(0 / 0, 1) end, "bad argument #1", "coordinate is NaN")
  v:click(2 ^ 40, -2 ^ 40)   -- far outside: no cell, no wrap-around onto one
  v:mouse(2 ^ 62, 2 ^ 62)
  check(v:state().step == 1, "a click far outside the frame selects nothing")
end)

test("view:set numbers its options table as argument #1, as other methods do", function()
  local v = viz.conv2d(tensor.randn(1, 1, 5, 5), tensor.randn(1, 1, 3, 3))
  local ok, err = pcall(v.set, v, {padding = "foo"})
  check(not ok and err:find("view:set: bad argument #1 'opts.padding': Invalid padding string", 1, true),
        tostring(err))
end)
