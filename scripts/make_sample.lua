-- make_sample.lua [OUT]: draws the lab's default sample image, a 640x480
-- synthetic scene made for filtering: a sky gradient, a sun with a soft rim,
-- hard-edged shapes, block letters, fine stripes and a checkerboard (for
-- blur and aliasing), a grey ramp, and a patch of noise (for smoothing).
-- Run: build/convplay --headless scripts/make_sample.lua assets/sample.png
-- Made by the convplay project; the output is CC0 (see assets/README.md).
local out = ... or "assets/sample.png"
local W, H = 640, 480

-- Deterministic noise (a small LCG), so the file is reproducible.
local seed = 12345
local function rnd()
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
end

-- Block letters on a 5x7 grid ("#" = filled cell).
local glyphs = {
  C = {" ####", "#    ", "#    ", "#    ", "#    ", "#    ", " ####"},
  O = {" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "},
  N = {"#   #", "##  #", "# # #", "#  ##", "#   #", "#   #", "#   #"},
  V = {"#   #", "#   #", "#   #", "#   #", " # # ", " # # ", "  #  "},
}
local function in_text(x, y, x0, y0, cell, word)
  local gx, gy = (x - x0) // cell, (y - y0) // cell
  if gy < 0 or gy >= 7 or gx < 0 then return false end
  local letter = gx // 6 + 1
  local col = gx % 6
  if letter > #word or col == 5 then return false end
  local row = glyphs[word:sub(letter, letter)][gy + 1]
  return row:sub(col + 1, col + 1) == "#"
end

local R, G, B = {}, {}, {}
for y = 0, H - 1 do
  local rr, gg, bb = {}, {}, {}
  for x = 0, W - 1 do
    -- sky: vertical gradient
    local t = y / (H - 1)
    local r, g, b = 0.25 + 0.35 * t, 0.45 + 0.3 * t, 0.85 - 0.25 * t
    -- ground below the horizon
    if y > 300 then r, g, b = 0.30, 0.42 + 0.1 * math.sin(x / 23), 0.22 end
    -- sun with a soft rim
    local d = math.sqrt((x - 500) ^ 2 + (y - 90) ^ 2)
    if d < 60 then
      local k = math.min(1, (60 - d) / 8)
      r, g, b = r + (1.0 - r) * k, g + (0.85 - g) * k, b + (0.3 - b) * k
    end
    -- a hard-edged dark triangle (mountain)
    if y > 180 and y <= 300 and math.abs(x - 210) < (y - 180) * 1.3 then
      r, g, b = 0.18, 0.2, 0.26
    end
    -- block letters "CONV"
    if in_text(x, y, 40, 30, 8, "CONV") then r, g, b = 1, 1, 1 end
    -- fine vertical stripes, period 4
    if y > 320 and y < 400 and x >= 20 and x < 180 then
      local v = (x // 2) % 2 == 0 and 0.95 or 0.05
      r, g, b = v, v, v
    end
    -- checkerboard of 8-pixel squares
    if y > 320 and y < 400 and x >= 200 and x < 360 then
      local v = ((x // 8) + (y // 8)) % 2 == 0 and 0.9 or 0.1
      r, g, b = v, v * 0.5, 0.1
    end
    -- grey ramp along the bottom
    if y >= 420 and y < 460 and x >= 20 and x < 620 then
      local v = (x - 20) / 599
      r, g, b = v, v, v
    end
    -- noisy patch
    if y > 320 and y < 400 and x >= 380 and x < 620 then
      local n = rnd() - 0.5
      r, g, b = 0.5 + 0.4 * n, 0.3 + 0.4 * n, 0.6 + 0.4 * n
    end
    rr[x + 1] = math.max(0, math.min(1, r))
    gg[x + 1] = math.max(0, math.min(1, g))
    bb[x + 1] = math.max(0, math.min(1, b))
  end
  R[y + 1], G[y + 1], B[y + 1] = rr, gg, bb
end

image.save(tensor.new({R, G, B}), out)
print("wrote " .. out)
