/* image.c - image files <-> tensors.
 *
 * Decoding is defensive: the file is read into memory first (regular files
 * and pipes only, bounded in size, never blocking on a FIFO without a
 * writer); its format is recognised by its magic bytes; the declared size
 * is checked against a pixel budget, the tensor limit and what the file's
 * size can plausibly hold, all before anything is decoded.  stb_image is
 * compiled by convplay (stb_build.c) with only the formats it handles
 * well; Netpbm and Radiance HDR have decoders of their own
 * (image_formats.c).  Saving goes through the atomic save (save.h). */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image_priv.h"
#include "save.h"


/* ====================================================================== */
/* Reading the bytes                                                        */
/* ====================================================================== */

#define MAX_FILE_BYTES ((size_t)1 << 30)
#define PIPE_IDLE_MS 10000 /* a writer that stops writing for this long */
#define PIPE_GRACE_MS 250  /* a FIFO with no writer at all */

static int grow(unsigned char **buf, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t c = *cap ? *cap : 65536;
  while (c < need) c *= 2;
  unsigned char *p = realloc(*buf, c);
  if (p == NULL) return -1;
  *buf = p, *cap = c;
  return 0;
}

/* The whole file (a regular file or a pipe) into *out (malloc'ed). */
static int read_all(const char *path, unsigned char **out, size_t *len,
                    cp_err *e) {
  *out = NULL, *len = 0;
  /* O_NONBLOCK: opening a FIFO with no writer returns at once. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return cp_fail(e, "path: cannot open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return cp_fail(e, "path: cannot open '%s': %s", path, strerror(err));
  }
  int pipe = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
  if (!S_ISREG(st.st_mode) && !pipe) {
    close(fd);
    return cp_fail(e, "path: '%s' is %s, not an image file", path,
                   S_ISDIR(st.st_mode)   ? "a directory"
                   : S_ISCHR(st.st_mode) ? "a character device"
                   : S_ISBLK(st.st_mode) ? "a block device"
                                         : "not a regular file");
  }
  if (!pipe && (size_t)st.st_size > MAX_FILE_BYTES) {
    close(fd);
    return cp_fail(e, "path: '%s' is larger than %zu MiB", path,
                   MAX_FILE_BYTES >> 20);
  }
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0;
  int rc = 0, waited = 0;
  for (;;) {
    if (n == cap && grow(&buf, &cap, n + 1)) {
      rc = cp_fail(e, "path: out of memory reading '%s'", path);
      break;
    }
    ssize_t got = read(fd, buf + n, cap - n);
    if (got > 0) {
      n += (size_t)got;
      if (n > MAX_FILE_BYTES) {
        rc = cp_fail(e, "path: '%s' is larger than %zu MiB", path,
                     MAX_FILE_BYTES >> 20);
        break;
      }
      continue;
    }
    if (got == 0) {
      /* A FIFO whose writer has not opened it yet also reads as the end:
       * give a writer racing with us a moment (poll sees no hang-up on a
       * FIFO that never had a writer, only data or the timeout). */
      if (pipe && n == 0 && !waited) {
        waited = 1;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, PIPE_GRACE_MS) > 0) continue;
      }
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      /* A pipe with a writer that has not written yet. */
      struct pollfd p = {fd, POLLIN, 0};
      int r = poll(&p, 1, PIPE_IDLE_MS);
      if (r == 0) {
        rc = cp_fail(e, "path: no data from the pipe '%s' for %d s", path,
                     PIPE_IDLE_MS / 1000);
        break;
      }
      if (r < 0 && errno != EINTR) {
        rc = cp_fail(e, "path: cannot read '%s': %s", path, strerror(errno));
        break;
      }
      continue;
    }
    rc = cp_fail(e, "path: cannot read '%s': %s", path, strerror(errno));
    break;
  }
  close(fd);
  if (rc == 0 && n == 0)
    rc = cp_fail(e, "path: '%s' is empty%s", path,
                 pipe ? " (a pipe with no writer)" : "");
  if (rc) {
    free(buf);
    return -1;
  }
  *out = buf, *len = n;
  return 0;
}

/* ====================================================================== */
/* Decoding                                                                 */
/* ====================================================================== */

int cp_image_budget(int64_t w, int64_t h, int64_t c, const char *what,
                    cp_err *e) {
  if (w < 1 || h < 1)
    return cp_fail(e, "path: '%s' is an empty image (%lldx%lld)", what,
                   (long long)w, (long long)h);
  if (w > CP_IMAGE_MAX_PIXELS || h > CP_IMAGE_MAX_PIXELS ||
      w * h > CP_IMAGE_MAX_PIXELS)
    return cp_fail(e, "path: '%s' is %lldx%lld, more than the %lld pixels "
                      "an image may have", what, (long long)w, (long long)h,
                   (long long)CP_IMAGE_MAX_PIXELS);
  if ((uint64_t)(w * h) * (uint64_t)c * sizeof(float) > cp_tensor_limit())
    return cp_fail(e, "path: '%s' (%lldx%lld, %lld channels) needs more "
                      "memory than the tensor limit", what, (long long)w,
                   (long long)h, (long long)c);
  return 0;
}

typedef enum { F_PNG, F_JPEG, F_GIF, F_BMP, F_PSD, F_TGA, F_PNM, F_HDR,
               F_UNKNOWN } format;

static const char *const format_name[] = {"PNG", "JPEG", "GIF", "BMP", "PSD",
                                          "TGA", "PNM", "HDR", "?"};
/* Most pixels one byte of each (compressed) format can describe, with a
 * margin: deflate expands at most 1032x and a 1-bit pixel is 1/8 byte; a
 * JPEG spends at least one bit per 8x8 block; LZW codes of 12 bits expand
 * to at most 4096 pixels; PSD and TGA runs hold 128 pixels in 2 bytes. */
static const int64_t format_ratio[] = {8448, 1024, 4096, 16, 128, 128, 0, 0,
                                       0};

static format sniff(const unsigned char *b, size_t n) {
  if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return F_PNG;
  if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return F_JPEG;
  if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
    return F_GIF;
  if (n >= 2 && b[0] == 'B' && b[1] == 'M') return F_BMP;
  if (n >= 4 && memcmp(b, "8BPS", 4) == 0) return F_PSD;
  if (n >= 2 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6') return F_PNM;
  if (n >= 2 && b[0] == '#' && b[1] == '?') return F_HDR;
  return F_UNKNOWN; /* TGA has no magic: stb's header check decides */
}

static int decode_stb(const unsigned char *b, size_t n, format f,
                      const char *path, cp_tensor *out, cp_err *e) {
  if (n > INT32_MAX)
    return cp_fail(e, "path: '%s' is too large", path);
  if (f == F_JPEG && cp_jpeg_check(b, n, path, e)) return -1;
  int w = 0, h = 0, c = 0;
  if (!cp_stb_info(b, (int)n, &w, &h, &c)) {
    if (f == F_UNKNOWN)
      return cp_fail(e, "path: '%s' is not an image convplay reads (PNG, "
                        "JPEG, GIF, BMP, TGA, PSD, HDR, PNM)", path);
    return cp_fail(e, "path: cannot decode '%s' (%s): %s", path,
                   format_name[f], cp_stb_reason());
  }
  if (f == F_UNKNOWN) f = F_TGA;
  if (cp_image_budget(w, h, c, path, e)) return -1;
  if ((int64_t)w * h > format_ratio[f] * (int64_t)n + 4096)
    return cp_fail(e, "path: '%s' declares %dx%d pixels, more than its %zu "
                      "bytes of %s can hold (truncated or corrupt)", path, w,
                   h, n, format_name[f]);
  int is16 = cp_stb_is_16_bit(b, (int)n);
  int w2 = 0, h2 = 0, c2 = 0;
  void *px = cp_stb_load(b, (int)n, is16, &w2, &h2, &c2);
  if (px == NULL) {
    return cp_fail(e, "path: cannot decode '%s' (%s): %s", path,
                   format_name[f], cp_stb_reason());
  }
  if (w2 != w || h2 != h || c2 != c || c < 1 || c > 4) {
    cp_stb_free(px);
    return cp_fail(e, "path: cannot decode '%s' (%s): inconsistent header",
                   path, format_name[f]);
  }
  int64_t shape[3] = {c, h, w};
  if (cp_tensor_empty(out, 3, shape, e)) {
    cp_stb_free(px);
    return -1;
  }
  float *d = cp_tensor_data(out);
  int64_t plane = (int64_t)w * h;
  for (int64_t i = 0; i < plane; i++)
    for (int ch = 0; ch < c; ch++) {
      int64_t k = i * c + ch;
      d[ch * plane + i] = is16 ? ((unsigned short *)px)[k] / 65535.0f
                               : ((unsigned char *)px)[k] / 255.0f;
    }
  cp_stb_free(px);
  return 0;
}

int cp_image_load(cp_tensor *out, const char *path, cp_err *e) {
  memset(out, 0, sizeof *out);
  unsigned char *b;
  size_t n;
  if (read_all(path, &b, &n, e)) return -1;
  format f = sniff(b, n);
  int rc = f == F_PNM   ? cp_decode_pnm(b, n, path, out, e)
           : f == F_HDR ? cp_decode_hdr(b, n, path, out, e)
                        : decode_stb(b, n, f, path, out, e);
  free(b);
  if (rc) cp_tensor_release(out);
  return rc;
}

int cp_image_to_u8(const cp_tensor *t, unsigned char **pixels, int *w,
                   int *h, int *c, cp_err *e) {
  char b[160];
  *pixels = NULL;
  int64_t C, H, W;
  if (t->ndim == 2) {
    C = 1, H = t->shape[0], W = t->shape[1];
  } else if (t->ndim == 3) {
    C = t->shape[0], H = t->shape[1], W = t->shape[2];
  } else if (t->ndim == 4 && t->shape[0] == 1) {
    C = t->shape[1], H = t->shape[2], W = t->shape[3];
  } else {
    return cp_fail(e,
                   "image: expected (H, W), (C, H, W) or (1, C, H, W), got "
                   "shape %s",
                   cp_shape_str(t->ndim, t->shape, b, sizeof b));
  }
  if (C < 1 || C > 4)
    return cp_fail(e, "image: expected 1 to 4 channels, got %lld",
                   (long long)C);
  if (H < 1 || W < 1 || H > 65535 || W > 65535)
    return cp_fail(e, "image: size %lldx%lld is outside 1..65535",
                   (long long)W, (long long)H);
  cp_tensor flat;
  int64_t shape[3] = {C, H, W};
  if (cp_tensor_reshape(&flat, t, 3, shape, e)) return -1;
  cp_tensor cont;
  int rc = cp_tensor_contiguous(&cont, &flat, e);
  cp_tensor_release(&flat);
  if (rc) return -1;
  unsigned char *px = malloc((size_t)(C * H * W));
  if (px == NULL) {
    cp_tensor_release(&cont);
    return cp_fail(e, "out of memory");
  }
  const float *d = cp_tensor_data(&cont);
  int64_t plane = H * W;
  for (int64_t i = 0; i < plane; i++)
    for (int64_t ch = 0; ch < C; ch++) {
      float v = d[ch * plane + i];
      v = isnan(v) ? 0.0f : v < 0 ? 0.0f : v > 1 ? 1.0f : v;
      px[i * C + ch] = (unsigned char)lrintf(v * 255.0f);
    }
  cp_tensor_release(&cont);
  *pixels = px;
  *w = (int)W, *h = (int)H, *c = (int)C;
  return 0;
}

static const char *extension(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(path, '.');
  return (dot && (!slash || dot > slash)) ? dot + 1 : "";
}

int cp_image_save(const cp_tensor *t, const char *path, int quality,
                  cp_err *e) {
  const char *ext = extension(path);
  int fmt = !strcasecmp(ext, "png")                              ? 0
            : (!strcasecmp(ext, "jpg") || !strcasecmp(ext, "jpeg")) ? 1
            : !strcasecmp(ext, "bmp")                            ? 2
            : !strcasecmp(ext, "tga")                            ? 3
                                                                 : -1;
  if (fmt < 0)
    return cp_fail(e,
                   "path: unknown image format '.%s' in '%s' (use .png, .jpg, "
                   ".jpeg, .bmp or .tga)",
                   ext, path);
  if (quality < 1 || quality > 100)
    return cp_fail(e, "quality: must be 1..100, got %d", quality);
  unsigned char *px;
  int w, h, c;
  if (cp_image_to_u8(t, &px, &w, &h, &c, e)) return -1;
  cp_save *sv = cp_save_begin(path, e);
  if (sv == NULL) {
    free(px);
    return -1;
  }
  int ok = cp_stb_write(fmt, cp_save_stbi_func, sv, w, h, c, px, quality);
  free(px);
  if (!ok) {
    cp_save_abort(sv);
    return cp_fail(e, "path: encoding '%s' failed (out of memory?); the old "
                      "file is unchanged", path);
  }
  return cp_save_commit(sv, e);
}
