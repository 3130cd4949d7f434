/* image_formats.c - the two formats convplay decodes itself: Netpbm (stb
 * byte-swaps 16-bit samples and ignores maxval) and Radiance HDR (stb loops
 * forever on a truncated run-length scanline). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "image_priv.h"

/* A bounded reader over the file's bytes. */
typedef struct {
  const unsigned char *b;
  size_t n, pos;
} rd;

static int at_end(const rd *r) { return r->pos >= r->n; }

/* ====================================================================== */
/* Netpbm                                                                   */
/* ====================================================================== */

static void pnm_skip_space(rd *r) {
  while (!at_end(r)) {
    unsigned char c = r->b[r->pos];
    if (c == '#') {
      while (!at_end(r) && r->b[r->pos] != '\n' && r->b[r->pos] != '\r')
        r->pos++;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
               c == '\v' || c == '\f') {
      r->pos++;
    } else {
      break;
    }
  }
}

/* A decimal number in [0, hi]; -1 if there is none or it is larger. */
static int64_t pnm_number(rd *r, int64_t hi) {
  pnm_skip_space(r);
  if (at_end(r) || r->b[r->pos] < '0' || r->b[r->pos] > '9') return -1;
  int64_t v = 0;
  while (!at_end(r) && r->b[r->pos] >= '0' && r->b[r->pos] <= '9') {
    v = v * 10 + (r->b[r->pos++] - '0');
    if (v > hi) return -1;
  }
  return v;
}

int cp_decode_pnm(const unsigned char *b, size_t n, const char *what,
                  cp_tensor *out, cp_err *e) {
  memset(out, 0, sizeof *out);
  rd r = {b, n, 2};
  int kind = n >= 2 && b[0] == 'P' ? b[1] - '0' : 0;
  if (kind < 1 || kind > 6)
    return cp_fail(e, "path: '%s' is not a Netpbm file", what);
  int ascii = kind <= 3, bitmap = kind == 1 || kind == 4;
  int64_t C = (kind == 3 || kind == 6) ? 3 : 1;
  int64_t W = pnm_number(&r, INT32_MAX), H = pnm_number(&r, INT32_MAX);
  if (W < 0 || H < 0)
    return cp_fail(e, "path: '%s': bad Netpbm header (width and height)",
                   what);
  int64_t maxval = 1;
  if (!bitmap) {
    maxval = pnm_number(&r, 65535);
    if (maxval < 1)
      return cp_fail(e, "path: '%s': bad Netpbm header (maxval must be "
                        "1..65535)", what);
  }
  if (cp_image_budget(W, H, C, what, e)) return -1;
  /* Exactly one whitespace byte ends the header of a binary file. */
  if (!ascii) {
    if (at_end(&r))
      return cp_fail(e, "path: '%s': truncated Netpbm file", what);
    r.pos++;
  }
  /* The data must be there before the tensor is allocated. */
  int64_t samples = W * H * C;
  int64_t need = kind == 4   ? (W + 7) / 8 * H
                 : ascii     ? samples /* at least one byte each */
                 : maxval > 255 ? samples * 2
                                : samples;
  if ((int64_t)(n - r.pos) < need)
    return cp_fail(e, "path: '%s': truncated Netpbm file (%lld bytes of "
                      "pixel data, need %s%lld)",
                   what, (long long)(n - r.pos), ascii ? "at least " : "",
                   (long long)need);
  int64_t shape[3] = {C, H, W};
  if (cp_tensor_empty(out, 3, shape, e)) return -1;
  float *d = cp_tensor_data(out);
  int64_t plane = W * H;
  float scale = 1.0f / (float)maxval;
  for (int64_t y = 0; y < H; y++) {
    for (int64_t x = 0; x < W; x++) {
      for (int64_t c = 0; c < C; c++) {
        int64_t v;
        if (kind == 4) {
          v = (r.b[r.pos + x / 8] >> (7 - x % 8)) & 1;
        } else if (kind == 1) {
          pnm_skip_space(&r);
          v = at_end(&r) ? -1 : r.b[r.pos] == '0' ? 0 : r.b[r.pos] == '1' ? 1 : -1;
          r.pos++;
        } else if (ascii) {
          v = pnm_number(&r, maxval);
        } else if (maxval > 255) {
          v = (int64_t)r.b[r.pos] << 8 | r.b[r.pos + 1];
          r.pos += 2;
        } else {
          v = r.b[r.pos++];
        }
        if (v < 0 || v > maxval) {
          cp_tensor_release(out);
          return cp_fail(e, "path: '%s': %s at row %lld, column %lld", what,
                         v < 0 ? "missing or bad sample"
                               : "sample larger than maxval",
                         (long long)y + 1, (long long)x + 1);
        }
        /* In a bitmap 1 is black. */
        d[c * plane + y * W + x] = bitmap ? (float)(1 - v) : (float)v * scale;
      }
    }
    if (kind == 4) r.pos += (size_t)((W + 7) / 8);
  }
  return 0;
}

/* ====================================================================== */
/* Radiance HDR                                                             */
/* ====================================================================== */

/* One header line (without its newline) into buf; -1 at the end. */
static int hdr_line(rd *r, char *buf, size_t cap) {
  if (at_end(r)) return -1;
  size_t k = 0;
  while (!at_end(r) && r->b[r->pos] != '\n') {
    if (k + 1 < cap) buf[k++] = (char)r->b[r->pos];
    r->pos++;
  }
  if (at_end(r)) return -1; /* a header line always ends with '\n' */
  r->pos++;
  buf[k] = '\0';
  return (int)k;
}

static void rgbe_to_float(const unsigned char *p, float *rgb) {
  if (p[3] == 0) {
    rgb[0] = rgb[1] = rgb[2] = 0;
    return;
  }
  float f = ldexpf(1.0f, p[3] - (128 + 8));
  rgb[0] = p[0] * f, rgb[1] = p[1] * f, rgb[2] = p[2] * f;
}

/* One run-length scanline of W pixels into line (W x 4 bytes). */
static int hdr_rle_line(rd *r, int64_t W, unsigned char *line) {
  for (int ch = 0; ch < 4; ch++) {
    int64_t x = 0;
    while (x < W) {
      if (at_end(r)) return -1;
      int count = r->b[r->pos++];
      if (count > 128) {
        count -= 128;
        if (count > W - x || at_end(r)) return -1;
        unsigned char v = r->b[r->pos++];
        for (int k = 0; k < count; k++) line[(x++) * 4 + ch] = v;
      } else {
        if (count == 0 || count > W - x || r->n - r->pos < (size_t)count)
          return -1;
        for (int k = 0; k < count; k++) line[(x++) * 4 + ch] = r->b[r->pos++];
      }
    }
  }
  return 0;
}

int cp_decode_hdr(const unsigned char *b, size_t n, const char *what,
                  cp_tensor *out, cp_err *e) {
  memset(out, 0, sizeof *out);
  rd r = {b, n, 0};
  char line[256];
  if (hdr_line(&r, line, sizeof line) < 0 ||
      (strcmp(line, "#?RADIANCE") != 0 && strcmp(line, "#?RGBE") != 0))
    return cp_fail(e, "path: '%s' is not a Radiance HDR file", what);
  for (;;) {
    int len = hdr_line(&r, line, sizeof line);
    if (len < 0)
      return cp_fail(e, "path: '%s': truncated HDR header", what);
    if (len == 0) break;
    if (strncmp(line, "FORMAT=", 7) == 0 &&
        strcmp(line + 7, "32-bit_rle_rgbe") != 0)
      return cp_fail(e, "path: '%s': unsupported HDR format '%s' (only "
                        "32-bit_rle_rgbe)", what, line + 7);
  }
  long long h = -1, w = -1;
  char tail;
  if (hdr_line(&r, line, sizeof line) < 0 ||
      sscanf(line, "-Y %lld +X %lld%c", &h, &w, &tail) != 2)
    return cp_fail(e, "path: '%s': unsupported HDR resolution line (only "
                      "\"-Y height +X width\")", what);
  if (cp_image_budget(w, h, 3, what, e)) return -1;
  int64_t W = w, H = h;
  /* Every pixel takes at least 4/127 bytes even run-length coded. */
  if ((int64_t)(n - r.pos) * 32 < W * H)
    return cp_fail(e, "path: '%s': truncated HDR file", what);
  int64_t shape[3] = {3, H, W};
  if (cp_tensor_empty(out, 3, shape, e)) return -1;
  unsigned char *linebuf = malloc((size_t)W * 4);
  if (linebuf == NULL) {
    cp_tensor_release(out);
    return cp_fail(e, "out of memory");
  }
  float *d = cp_tensor_data(out);
  int64_t plane = W * H;
  int flat = W < 8 || W > 0x7fff;
  int rc = 0;
  for (int64_t y = 0; y < H && rc == 0; y++) {
    const unsigned char *p = NULL;
    if (!flat && r.n - r.pos >= 4 && r.b[r.pos] == 2 && r.b[r.pos + 1] == 2 &&
        !(r.b[r.pos + 2] & 0x80)) {
      if (((int64_t)r.b[r.pos + 2] << 8 | r.b[r.pos + 3]) != W) {
        rc = cp_fail(e, "path: '%s': HDR scanline %lld has the wrong width",
                     what, (long long)y + 1);
        break;
      }
      r.pos += 4;
      if (hdr_rle_line(&r, W, linebuf)) {
        rc = cp_fail(e, "path: '%s': truncated or corrupt HDR scanline %lld",
                     what, (long long)y + 1);
        break;
      }
      p = linebuf;
    } else {
      /* A flat file: 4 bytes per pixel to the end. */
      flat = 1;
      if ((int64_t)(r.n - r.pos) < W * 4) {
        rc = cp_fail(e, "path: '%s': truncated HDR file at scanline %lld",
                     what, (long long)y + 1);
        break;
      }
      p = r.b + r.pos;
      r.pos += (size_t)W * 4;
    }
    for (int64_t x = 0; x < W; x++) {
      float rgb[3];
      rgbe_to_float(p + x * 4, rgb);
      for (int c = 0; c < 3; c++) d[c * plane + y * W + x] = rgb[c];
    }
  }
  free(linebuf);
  if (rc) cp_tensor_release(out);
  return rc;
}

/* ====================================================================== */
/* JPEG Huffman tables (a guard in front of stb)                           */
/* ====================================================================== */

/* DHT segment [p, end): tables of 1 + 16 counts + the codes. */
static int dht_ok(const unsigned char *b, size_t p, size_t end) {
  while (p < end) {
    if (end - p < 17) return 0;
    int total = 0;
    for (int i = 1; i <= 16; i++) total += b[p + i];
    if (total > 256 || (b[p] >> 4) > 1 || (b[p] & 15) > 3) return 0;
    p += 17 + (size_t)total;
  }
  return p == end;
}

int cp_jpeg_check(const unsigned char *b, size_t n, const char *what,
                  cp_err *e) {
  size_t p = 2; /* after SOI */
  while (p + 4 <= n) {
    if (b[p] != 0xFF) {
      /* entropy-coded data after a scan: find the next marker */
      p++;
      continue;
    }
    unsigned m = b[p + 1];
    if (m == 0xFF) { /* fill byte */
      p++;
      continue;
    }
    if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {
      p += 2; /* stuffed byte, TEM, RSTn, SOI: no length */
      continue;
    }
    if (m == 0xD9) break; /* EOI */
    size_t len = (size_t)b[p + 2] << 8 | b[p + 3];
    if (len < 2) break; /* stb reports a bad length itself */
    size_t end = p + 2 + len;
    if (end > n) break;   /* truncated: stb stops there */
    if (m == 0xC4 && !dht_ok(b, p + 4, end))
      return cp_fail(e, "path: cannot decode '%s' (JPEG): corrupt Huffman "
                        "table", what);
    p = end;
  }
  return 0;
}
