-- imgdiff.lua: pixel checks for the window test, with convplay itself (no
-- ImageMagick needed).  Images are PNG files or XWD dumps (Xvfb's
-- -fbdir framebuffer, 24/32-bit TrueColor).
--   convplay --headless imgdiff.lua diff A B [tol]  -> pixels differing by
--                                                     more than tol (0..1)
--   convplay --headless imgdiff.lua pixel A X Y     -> "r,g,b" (0..255)
--   convplay --headless imgdiff.lua png A OUT.png   -> converts to PNG
local function load_xwd(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("a")
  f:close()
  local hsize, _, format, depth, w, h, _, order, _, _, _, bpp, bpl =
    string.unpack(">I4I4I4I4I4I4I4I4I4I4I4I4I4", data)
  local ncolors = string.unpack(">I4", data, 77)
  assert(format == 2 and bpp == 32 and depth == 24,
         "unsupported XWD (format " .. format .. ", " .. bpp .. " bpp)")
  local base = hsize + ncolors * 12
  local r, g, b = {}, {}, {}
  for y = 1, h do
    local rr, gg, bb = {}, {}, {}
    local off = base + (y - 1) * bpl
    for x = 1, w do
      local b0, b1, b2, b3 = string.byte(data, off + 1, off + 4)
      if order == 1 then b0, b1, b2 = b3, b2, b1 end -- MSBFirst
      rr[x], gg[x], bb[x] = b2 / 255, b1 / 255, b0 / 255
      off = off + 4
    end
    r[y], g[y], b[y] = rr, gg, bb
  end
  return tensor.new{r, g, b}
end

local function load(path)
  if path:match("%.png$") then return image.load(path) end
  return load_xwd(path)
end

local cmd = arg[1]
if cmd == "diff" then
  local a, b = load(arg[2]), load(arg[3])
  local tol = tonumber(arg[4] or "0.03")
  local sa, sb = a:shape(), b:shape()
  if sa[2] ~= sb[2] or sa[3] ~= sb[3] then
    print(sa[2] * sa[3]) -- different sizes: everything differs
    return
  end
  -- a channel value differing by more than tol counts; a pixel counts once
  local d = ((a:narrow(1, 1, 3) - b:narrow(1, 1, 3)):abs() - tol) * 1e6
  d = d:clamp(0, 1)
  local any = (d:narrow(1, 1, 1) + d:narrow(1, 2, 1) + d:narrow(1, 3, 1)):clamp(0, 1)
  print(math.floor(any:sum() + 0.5))
elseif cmd == "pixel" then
  local a = load(arg[2])
  local x, y = tonumber(arg[3]) + 1, tonumber(arg[4]) + 1
  print(string.format("%d,%d,%d", math.floor(a:get(1, y, x) * 255 + 0.5),
                      math.floor(a:get(2, y, x) * 255 + 0.5),
                      math.floor(a:get(3, y, x) * 255 + 0.5)))
elseif cmd == "png" then
  image.save(load(arg[2]), arg[3])
else
  error("usage: imgdiff.lua diff A B [tol] | pixel A X Y | png A OUT")
end
