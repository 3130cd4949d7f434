#!/usr/bin/env python3
"""gen_corpus.py - the crafted image files of the attack suite (stdlib only).

Writes tests/attack/corpus/: the crafted files of issue 10 (Softimage PIC
packets that crash stb, a truncated run-length HDR, a JPEG and a PSD whose
headers declare far more pixels than the file holds, 16-bit and odd-maxval
Netpbm, a 0x0 BMP, a corrupt PNG...), then truncations and seeded bit flips
of a small valid file of every format convplay reads.  The base files in
tests/attack/base/ (PNG, JPEG, BMP, TGA) were written by convplay's own
image.save; the others are built here.  Deterministic: rerunning gives the
same bytes.  The expected outcome of the hand-made files is in
tests/attack/expect.txt (a tensor shape, or a piece of the error message);
mutated files only need to load or fail cleanly, fast.
"""
import os
import random
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
BASE = os.path.join(HERE, "base")


def put(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def png(w, h, color_type, depth, rows):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(
            ">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type,
                                       0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def gif(w, h, pixels):
    """8-color GIF; LZW with a clear code before every 6 symbols keeps all
    codes 4 bits wide (a valid, if not compact, stream)."""
    min_size = 3
    clear, end = 1 << min_size, (1 << min_size) + 1
    codes = []
    for i, p in enumerate(pixels):
        if i % 6 == 0:
            codes.append(clear)
        codes.append(p)
    codes.append(end)
    bits = acc = 0
    out = bytearray()
    for c in codes:
        acc |= c << bits
        bits += 4
        while bits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            bits -= 8
    if bits:
        out.append(acc & 0xFF)
    blocks = b"".join(bytes([len(out[i:i + 255])]) + bytes(out[i:i + 255])
                      for i in range(0, len(out), 255)) + b"\0"
    palette = bytes(v for i in range(8) for v in (i * 36, 255 - i * 36, i * 20))
    return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0xF2, 0, 0) + palette +
            b"\x2c" + struct.pack("<HHHHB", 0, 0, w, h, 0) +
            bytes([min_size]) + blocks + b"\x3b")


def psd(w, h, channels, planes):
    """Raw (uncompressed) 8-bit RGB PSD."""
    head = b"8BPS" + struct.pack(">H6xHIIHH", 1, channels, h, w, 8, 3)
    return (head + struct.pack(">I", 0) + struct.pack(">I", 0) +
            struct.pack(">I", 0) + struct.pack(">H", 0) + b"".join(planes))


def hdr_rle(w, h, rnd):
    out = bytearray(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n")
    out += b"-Y %d +X %d\n" % (h, w)
    for _ in range(h):
        out += bytes([2, 2, w >> 8, w & 0xFF])
        for ch in range(4):
            vals = [rnd.randrange(256) if ch < 3 else 128 for _ in range(w)]
            # one literal run and one repeat run per component
            half = w // 2
            out += bytes([half]) + bytes(vals[:half])
            out += bytes([128 + (w - half), vals[half]])
    return bytes(out)


def hdr_flat(w, h, rnd):
    out = bytearray(b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n")
    out += b"-Y %d +X %d\n" % (h, w)
    for _ in range(w * h):
        out += bytes([rnd.randrange(256), rnd.randrange(256),
                      rnd.randrange(256), 129])
    return bytes(out)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    rnd = random.Random(10)

    # ---- the reproductions of issue 10 ----
    pic_head = (b"\x53\x80\xF6\x34" + b"\0" * 84 + b"PICT" +
                struct.pack(">HH", 2, 2) + b"\0" * 8)
    put("pic_assert.pic", pic_head + b"\x01\x08\x00\xE0" * 12)
    put("pic_segv.pic", pic_head + b"\x00\x08\x08\xE0" + bytes(range(12)))
    put("hdr_trunc_rle.hdr",
        b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 16\n\x02\x02\x00\x10")
    jpg = open(os.path.join(BASE, "rgb.jpg"), "rb").read()
    sof = jpg.index(b"\xFF\xC0")
    huge = bytearray(jpg)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 16384, 16384)
    put("jpeg_16384.jpg", bytes(huge))
    dht = jpg.index(b"\xFF\xC4")
    over = bytearray(jpg)
    over[dht + 5:dht + 21] = b"\xFF" * 16  # 4080 codes in a 256-code table
    put("jpeg_dht_overflow.jpg", bytes(over))
    planes = [bytes(rnd.randrange(256) for _ in range(40 * 30))
              for _ in range(3)]
    good_psd = psd(40, 30, 3, planes)
    put("psd_ok.psd", good_psd)
    flipped = bytearray(good_psd)
    flipped[14:18] = struct.pack(">I", 1048606)  # height, as in the report
    flipped[12:14] = struct.pack(">H", 4)
    put("psd_flipped_height.psd", bytes(flipped))
    put("pgm16.pgm", b"P5\n3 1\n65535\n\x00\x01\x80\x00\xff\xff")
    put("ppm16.ppm", b"P6\n1 1\n65535\n\x00\x01\x80\x00\xff\xff")
    put("pgm_maxval15.pgm", b"P2\n2 1\n15\n15 0\n")
    put("ppm_maxval1000.ppm", b"P6\n1 1\n1000\n\x03\xe8\x01\xf4\x00\x00")
    put("pgm_over_maxval.pgm", b"P5\n1 1\n15\n\x10")
    put("pbm_ascii.pbm", b"P1\n# a comment\n3 1\n1 0\n1\n")
    put("pbm_raw.pbm", b"P4\n9 2\n\x80\x80\xff\x00")
    put("ppm_header_only.ppm", b"P6\n2")
    put("ppm_truncated.ppm", b"P6\n4 4\n255\n" + bytes(10))
    put("ppm_zero.ppm", b"P6\n0 5\n255\n")
    put("ppm_huge.ppm", b"P6\n100000 100000\n255\n" + bytes(100))
    bmp0 = bytearray(open(os.path.join(BASE, "rgb.bmp"), "rb").read())
    bmp0[18:26] = struct.pack("<ii", 0, 0)
    put("bmp_0x0.bmp", bytes(bmp0))
    png_ok = png(4, 3, 2, 8, [bytes(rnd.randrange(256) for _ in range(12))
                              for _ in range(3)])
    put("png_ok.png", png_ok)
    bad = bytearray(png_ok)
    bad[41] ^= 0xFF  # inside the zlib stream
    put("png_corrupt_zlib.png", bytes(bad))
    put("png_16bit.png",
        png(2, 1, 0, 16, [struct.pack(">HH", 1, 65535)]))
    put("png_huge_dims.png", png(1, 1, 0, 8, [b"\0"])
        .replace(struct.pack(">II", 1, 1), struct.pack(">II", 30000, 30000), 1))
    put("gif_ok.gif", gif(5, 4, [rnd.randrange(8) for _ in range(20)]))
    put("hdr_rle_ok.hdr", hdr_rle(16, 3, rnd))
    put("hdr_flat_ok.hdr", hdr_flat(4, 2, rnd))
    put("hdr_wrong_width.hdr",
        hdr_rle(16, 3, rnd).replace(b"\x02\x02\x00\x10", b"\x02\x02\x00\x11", 1))
    put("hdr_xyze.hdr", b"#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 1\n"
        b"\0\0\0\0")
    put("hdr_flipped_axes.hdr", b"#?RADIANCE\n\n+X 1 -Y 1\n\0\0\0\0")
    put("empty.png", b"")
    put("text.png", b"this is not an image\n")

    # ---- truncations and bit flips of every format ----
    bases = {n: open(os.path.join(BASE, n), "rb").read()
             for n in sorted(os.listdir(BASE))}
    bases.update({"ok.psd": good_psd, "ok.gif": gif(5, 4, [1] * 20),
                  "ok16.png": open(os.path.join(OUT, "png_16bit.png"),
                                   "rb").read(),
                  "ok16.pgm": b"P5\n3 1\n65535\n\x00\x01\x80\x00\xff\xff",
                  "ok.ppm": b"P6\n2 2\n255\n" + bytes(range(12)),
                  "ok.pgm": b"P2\n2 2\n255\n0 1\n2 3\n",
                  "ok.pbm": b"P4\n9 2\n\x80\x80\xff\x00",
                  "rle.hdr": hdr_rle(16, 3, rnd),
                  "flat.hdr": hdr_flat(4, 2, rnd)})
    for name, data in bases.items():
        stem, ext = name.rsplit(".", 1)
        for k, cut in enumerate(sorted({1, 2, 8, 16, len(data) // 4,
                                        len(data) // 2, len(data) - 16,
                                        len(data) - 1})):
            if 0 < cut < len(data):
                put("trunc_%s_%d.%s" % (stem, cut, ext), data[:cut])
        for k in range(24):
            m = bytearray(data)
            for _ in range(1 + k % 4):
                i = rnd.randrange(len(m))
                m[i] ^= 1 << rnd.randrange(8)
            if k % 3 == 0:  # aim at the header, where sizes live
                i = rnd.randrange(min(len(m), 40))
                m[i] = rnd.choice([0, 0xFF, 0x7F, 0x80])
            put("flip_%s_%02d.%s" % (stem, k, ext), bytes(m))


if __name__ == "__main__":
    main()
