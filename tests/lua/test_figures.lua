-- test_figures.lua: exported figures (PNG, SVG, PDF, GIF) and their options.
local tmp = os.getenv("TMPDIR") or "/tmp"
local function tmpfile(name)
  return string.format("%s/convplay-fig-%d-%s", tmp, math.random(1, 1 << 30), name)
end
local function size_of(path)
  local f = assert(io.open(path, "rb"))
  local n = f:seek("end")
  f:close()
  return n
end
local function have(tool)
  return os.execute("command -v " .. tool .. " >/dev/null 2>&1") == true
end

-- README's example: a 5x5 input, 3x3 kernel, padding 1, stride 2
local function example()
  return viz.conv2d(tensor.arange(25):reshape(1, 1, 5, 5), tensor.ones(1, 1, 3, 3),
                    {padding = 1, stride = 2,
                     title = "conv2d: 5x5 input, 3x3 kernel, padding 1, stride 2"})
end

-- fraction of pixels of two same-size images differing by more than tol
local function diff_fraction(a, b, tol)
  check(a:size(2) == b:size(2) and a:size(3) == b:size(3), "same size")
  local d = (a:narrow(1, 1, 3) - b:narrow(1, 1, 3)):abs()
  local H, W, n = a:size(2), a:size(3), 0
  local t = d:totable()
  for y = 1, H do
    for x = 1, W do
      if t[1][y][x] > tol or t[2][y][x] > tol or t[3][y][x] > tol then n = n + 1 end
    end
  end
  return n / (H * W)
end

test("record: GIFs small enough to share (81 taps <= 1 MB, 9 cells <= 150 KB at 960x600)", function()
  local v = example()
  local g81, g9 = tmpfile("81.gif"), tmpfile("9.gif")
  check(v:record(g81, {by = "tap", width = 960, height = 600}) == 81, "81 frames")
  check(v:record(g9, {by = "cell", width = 960, height = 600}) == 9, "9 frames")
  local s81, s9 = size_of(g81), size_of(g9)
  print(string.format("    GIF sizes: 81 frames %d KB, 9 frames %d KB", s81 // 1024, s9 // 1024))
  check(s81 <= 1024 * 1024, "81-frame GIF is " .. s81 .. " bytes")
  check(s9 <= 150 * 1024, "9-frame GIF is " .. s9 .. " bytes")
  -- every frame after the first is a patch with transparency: the last
  -- frame, put together, is the last step's screenshot
  if have("convert") then
    local last, png = tmpfile("last.png"), tmpfile("ref.png")
    os.execute(string.format("convert '%s' -coalesce -delete 0--2 '%s' 2>/dev/null", g9, last))
    v:mode("cell")
    v:seek(9)
    v:screenshot(png, {width = 960, height = 600})
    local f = io.open(last, "rb")
    if f then
      f:close()
      local frac = diff_fraction(image.load(last), image.load(png), 0.12)
      check(frac < 0.01, "GIF's last frame differs from the PNG in " .. frac * 100 .. "% of pixels")
    end
    os.remove(last)
    os.remove(png)
  end
  os.remove(g81)
  os.remove(g9)
end)

test("screenshot: width, height, theme, chrome, panels", function()
  local v = example()
  local png = tmpfile("opt.png")
  v:screenshot(png, {width = 800, height = 500})
  local img = image.load(png)
  check(img:size(2) == 500 and img:size(3) == 800, "800x500")
  -- the light theme has a white background, the dark one a dark one
  v:screenshot(png, {theme = "light"})
  img = image.load(png)
  check(img:get(1, 2, 2) > 0.95 and img:get(3, 2, 2) > 0.95, "light background")
  v:screenshot(png, {theme = "dark"})
  img = image.load(png)
  check(img:get(1, 2, 2) < 0.2, "dark background")
  check(viz.theme() == "dark", "the theme option does not stick")
  -- chrome = false: no key hints, no play state
  local function has_text(lay, pat)
    for _, b in ipairs(lay) do if b.text and b.text:find(pat) then return true end end
    return false
  end
  check(has_text(v:layout(), "help"), "chrome shows the help hint")
  check(not has_text(v:layout{chrome = false}, "help"), "no chrome, no hint")
  check(not has_text(v:layout{chrome = false}, "paused"), "no chrome, no play state")
  -- panels: a grids-only figure has no tap list and no formula
  local lay = v:layout{panels = {"input", "kernel", "output"}, chrome = false}
  check(not has_text(lay, "output size") and not has_text(lay, "Σ"), "grids only")
  check(#lay.input == 1 and #lay.kernel == 1 and #lay.output == 1, "the three grids")
  lay = v:layout{panels = {"output"}}
  check(#lay.input == 0 and #lay.output == 1, "output only")
  os.remove(png)
end)

test("screenshot: bad figure options name the option", function()
  local v = example()
  raises(function() v:screenshot(tmpfile("x.png"), {theme = "blue"}) end, "opts.theme")
  raises(function() v:screenshot(tmpfile("x.png"), {panels = {"inputs"}}) end, "unknown panel inputs")
  raises(function() v:screenshot(tmpfile("x.png"), {panels = {}}) end, "no panel")
  raises(function() v:screenshot(tmpfile("x.png"), {widht = 3}) end, "unknown option 'widht'")
  raises(function() v:screenshot(tmpfile("x.png"), {width = 100}) end, "opts.width")
  raises(function() v:screenshot(tmpfile("x.png"), {palette = "jet"}) end, "opts.palette")
  raises(function() v:layout{fps = 3} end, "unknown option 'fps'")
  raises(function() viz.theme("blue") end, "invalid option 'blue'")
end)

test("screenshot: SVG and PDF figures show what the PNG shows", function()
  local v = example()
  v:seek(5)
  local png, svg, pdf = tmpfile("f.png"), tmpfile("f.svg"), tmpfile("f.pdf")
  v:screenshot(png, {chrome = false, theme = "light"})
  v:screenshot(svg, {chrome = false, theme = "light"})
  v:screenshot(pdf, {chrome = false, theme = "light"})
  local f = assert(io.open(svg, "rb"))
  local text = f:read("a")
  f:close()
  check(text:find("<svg", 1, true) and text:find('width="1280', 1, true), "an SVG, 1280 wide")
  f = assert(io.open(pdf, "rb"))
  check(f:read(5) == "%PDF-", "a PDF")
  f:close()
  local ref = image.load(png)
  if have("rsvg-convert") then
    local out = tmpfile("svg.png")
    check(os.execute(string.format("rsvg-convert -w 1280 -h 720 -b white -o '%s' '%s'", out, svg)) == true,
          "rsvg-convert renders the SVG")
    local frac = diff_fraction(image.load(out), ref, 0.25)
    check(frac < 0.02, string.format("SVG differs from the PNG in %.2f%% of pixels", frac * 100))
    os.remove(out)
  else
    print("    (rsvg-convert not installed: SVG not rendered)")
  end
  if have("pdftoppm") then
    local out = tmpfile("pdf")
    check(os.execute(string.format("pdftoppm -png -r 72 -singlefile '%s' '%s'", pdf, out)) == true,
          "pdftoppm renders the PDF")
    local frac = diff_fraction(image.load(out .. ".png"), ref, 0.25)
    check(frac < 0.02, string.format("PDF differs from the PNG in %.2f%% of pixels", frac * 100))
    os.remove(out .. ".png")
  else
    print("    (pdftoppm not installed: PDF not rendered)")
  end
  -- a vector file is not left half-written on error
  raises(function() v:screenshot("/nonexistent-dir/x.svg") end, "cannot")
  os.remove(png)
  os.remove(svg)
  os.remove(pdf)
end)

test("palette: cividis is offered, and the default comes back", function()
  local v = example()
  local png = tmpfile("p.png")
  check(viz.palette() == "default")
  local lay = v:layout{palette = "cividis"}
  check(viz.palette() == "default", "option does not stick")
  local label
  for _, b in ipairs(lay) do if b.kind == "label" and b.text == "24" then label = b end end
  check(label, "a label")
  -- cividis' top end is yellow: much more green than blue
  check(label.background[2] > label.background[3] + 60, "cividis colours")
  viz.palette("cividis")
  check(viz.palette() == "cividis")
  viz.palette("default")
  os.remove(png)
end)
