-- test_attack_images.lua: image decoding is defensive (issue 10, class 3),
-- saving never loses the old file (class 4, what needs no root).
-- Every file of the crafted corpus (tests/attack/corpus, made by
-- tests/attack/gen_corpus.py) gives a tensor or a clean error, fast.

local corpus = "../attack/corpus"
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function tmp(name) return dir .. "/" .. name end

local function load(name) return image.load(corpus .. "/" .. name) end

local function list(path)
  local p = io.popen("ls " .. path)
  local files = {}
  for f in p:lines() do files[#files + 1] = f end
  p:close()
  return files
end

test("images: every corpus file loads or fails cleanly within a second", function()
  local files = list(corpus)
  check(#files > 400, "corpus has " .. #files .. " files")
  local loaded, refused = 0, 0
  for _, f in ipairs(files) do
    local t0 = os.clock()
    local ok, r = pcall(load, f)
    local dt = os.clock() - t0
    check(dt < 1, f .. " took " .. dt .. " s")
    if ok then
      loaded = loaded + 1
      local s = r:size()
      check(#s == 3 and s[1] >= 1 and s[1] <= 4 and s[2] >= 1 and s[3] >= 1,
            f .. ": shape " .. table.concat(s, "x"))
      check(r:numel() <= 2^28, f .. ": too many pixels")
      local lo, hi = r:min(), r:max()
      check(lo == lo and hi == hi, f .. ": NaN")
      if not f:match("%.hdr$") then
        check(lo >= 0 and hi <= 1, f .. ": values outside [0, 1]")
      end
    else
      refused = refused + 1
      r = tostring(r)
      check(r:find("^image%.load: path: "), f .. ": " .. r)
      check(not r:find("(null)", 1, true), f .. ": " .. r)
    end
  end
  print(string.format("  image corpus: %d files, %d loaded, %d clean errors",
                      #files, loaded, refused))
end)

-- Fresh mutations of the hand-made files on every run (seeded, so a
-- failure reproduces): bit flips, odd bytes, deletions, insertions, cuts.
test("images: 1500 seeded mutations load or fail cleanly", function()
  math.randomseed(10)
  local bases = {}
  for _, f in ipairs(list(corpus)) do
    if not f:match("^flip_") and not f:match("^trunc_") then
      local h = io.open(corpus .. "/" .. f, "rb")
      local data = h:read("a")
      h:close()
      if #data > 0 then bases[#bases + 1] = {f, data} end
    end
  end
  local loaded, refused = 0, 0
  for k = 1, 1500 do
    local b = bases[math.random(#bases)]
    local d = b[2]
    local op = math.random(4)
    for _ = 1, math.random(8) do
      local i = math.random(#d)
      if op == 1 then
        d = d:sub(1, i - 1) .. string.char(d:byte(i) ~ (1 << math.random(0, 7))) .. d:sub(i + 1)
      elseif op == 2 then
        local v = ({0, 255, 127, 128, 1, 2})[math.random(6)]
        d = d:sub(1, i - 1) .. string.char(v) .. d:sub(i + 1)
      elseif op == 3 and #d > 4 then
        d = d:sub(1, i - 1) .. d:sub(i + math.random(4))
      else
        d = d:sub(1, i - 1) .. string.char(math.random(0, 255)) .. d:sub(i)
      end
    end
    if math.random() < 0.3 then d = d:sub(1, math.random(#d)) end
    local path = tmp("m" .. k .. "." .. b[1]:match("[^.]*$"))
    local h = io.open(path, "wb")
    h:write(d)
    h:close()
    local t0 = os.clock()
    local ok, r = pcall(image.load, path)
    check(os.clock() - t0 < 1, path .. " (from " .. b[1] .. ") was slow")
    if ok then
      loaded = loaded + 1
      check(r:numel() > 0 and r:min() == r:min(), path)
    else
      refused = refused + 1
      check(tostring(r):find("^image%.load: path: ") and
            not tostring(r):find("(null)", 1, true), tostring(r))
    end
    os.remove(path)
  end
  print(string.format("  image mutations: 1500 files, %d loaded, %d clean errors",
                      loaded, refused))
end)

-- The reproductions of issue 10, with what each must give.
test("images: crafted files from the report", function()
  raises(function() load("pic_assert.pic") end, "not an image convplay reads")
  raises(function() load("pic_segv.pic") end, "not an image convplay reads")
  raises(function() load("hdr_trunc_rle.hdr") end, "truncated or corrupt HDR")
  raises(function() load("jpeg_16384.jpg") end, "16384x16384",
         "more than its 693 bytes")
  raises(function() load("psd_flipped_height.psd") end, "40x1048606")
  raises(function() load("jpeg_dht_overflow.jpg") end, "corrupt Huffman table")
  raises(function() load("jpeg_dht_overflow_cut.jpg") end, "corrupt Huffman table")
  raises(function() load("bmp_0x0.bmp") end, "empty image")
  raises(function() load("ppm_header_only.ppm") end, "bad Netpbm header")
  raises(function() load("ppm_zero.ppm") end, "empty image")
  raises(function() load("ppm_truncated.ppm") end, "truncated Netpbm")
  raises(function() load("ppm_huge.ppm") end, "more than the 268435456 pixels")
  raises(function() load("png_huge_dims.png") end, "30000x30000")
  raises(function() load("png_corrupt_zlib.png") end, "cannot decode", "(PNG)")
  raises(function() load("hdr_xyze.hdr") end, "32-bit_rle_xyze")
  raises(function() load("hdr_flipped_axes.hdr") end, "-Y height +X width")
  raises(function() load("hdr_wrong_width.hdr") end, "wrong width")
  raises(function() load("empty.png") end, "is empty")
  raises(function() load("pgm_over_maxval.pgm") end, "larger than maxval")
end)

test("images: Netpbm samples are big-endian and scaled by maxval", function()
  same_tensor(load("pgm16.pgm"), {{{1 / 65535, 32768 / 65535, 1}}}, 1e-6)
  same_tensor(load("ppm16.ppm"), {{{1 / 65535}}, {{32768 / 65535}}, {{1}}}, 1e-6)
  same_tensor(load("pgm_maxval15.pgm"), {{{1, 0}}})
  same_tensor(load("ppm_maxval1000.ppm"), {{{1}}, {{0.5}}, {{0}}})
  same_tensor(load("pbm_ascii.pbm"), {{{0, 1, 0}}}) -- 1 is black
  same_tensor(load("pbm_raw.pbm"),
              {{{0, 1, 1, 1, 1, 1, 1, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 1}}})
end)

test("images: 16-bit PNG keeps its precision; HDR gives linear radiance", function()
  same_tensor(load("png_16bit.png"), {{{1 / 65535, 1}}}, 1e-6)
  local h = load("hdr_flat_ok.hdr")
  check(h:size()[1] == 3 and h:size()[2] == 2 and h:size()[3] == 4)
  check(h:max() > 1, "exponent 129 doubles: values reach above 1")
  local r = load("hdr_rle_ok.hdr")
  check(r:size()[2] == 3 and r:size()[3] == 16)
end)

test("images: other file types are refused, a FIFO never blocks", function()
  raises(function() image.load(dir) end, "is a directory")
  raises(function() image.load("/dev/zero") end, "character device")
  local fifo = tmp("fifo.png")
  assert(os.execute("mkfifo " .. fifo))
  local t0 = os.time()
  raises(function() image.load(fifo) end, "a pipe with no writer")
  check(os.time() - t0 <= 2, "returned at once")
  -- a PNG written into the FIFO by another process loads; the writer
  -- waits for us to open the FIFO (then EOF ends the read)
  image.save(tensor.rand(3, 5, 7), tmp("p.png"))
  assert(os.execute("cat " .. tmp("p.png") .. " > " .. fifo .. " &"))
  local t = image.load(fifo)
  check(t:size()[3] == 7)
end)

test("images: saving keeps the old file on failure, long names work", function()
  local t = tensor.rand(3, 4, 4)
  local long = tmp(string.rep("n", 250) .. ".png") -- 254 characters
  image.save(t, long)
  check(image.load(long):size()[3] == 4)
  local old = tmp("old.png")
  image.save(t, old)
  local f = io.open(old, "rb")
  local before = f:read("a")
  f:close()
  raises(function() image.save(tensor.rand(5, 4, 4), old) end, "channels")
  assert(os.execute("mkdir " .. tmp("d.png")))
  raises(function() image.save(t, tmp("d.png")) end, "not a regular file")
  raises(function() image.save(t, tmp("no/such/dir.png")) end,
         "No such file")
  f = io.open(old, "rb")
  check(f:read("a") == before, "the old file is unchanged")
  f:close()
  local p = io.popen("ls -a " .. dir .. " | grep -c cpsave")
  check(tonumber(p:read("a")) == 0, "no temporary file left")
  p:close()
end)

os.execute("rm -rf " .. dir)
