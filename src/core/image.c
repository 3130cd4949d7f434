/* image.c - image I/O through Debian's libstb (implementation in -lstb). */
#include "image.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

int cp_image_load(cp_tensor *out, const char *path, cp_err *e) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return cp_fail(e, "path: cannot open '%s': %s", path, strerror(errno));
  int w = 0, h = 0, c = 0;
  void *px = NULL;
  int kind; /* 0: 8-bit, 1: 16-bit, 2: float (HDR) */
  if (stbi_is_hdr_from_file(f)) {
    kind = 2;
    px = stbi_loadf_from_file(f, &w, &h, &c, 0);
  } else if (stbi_is_16_bit_from_file(f)) {
    kind = 1;
    px = stbi_load_from_file_16(f, &w, &h, &c, 0);
  } else {
    kind = 0;
    px = stbi_load_from_file(f, &w, &h, &c, 0);
  }
  fclose(f);
  if (px == NULL)
    return cp_fail(e, "path: cannot decode '%s': %s", path,
                   stbi_failure_reason());
  int64_t shape[3] = {c, h, w};
  if (cp_tensor_empty(out, 3, shape, e)) {
    stbi_image_free(px);
    return -1;
  }
  float *d = cp_tensor_data(out);
  int64_t plane = (int64_t)w * h;
  for (int64_t i = 0; i < plane; i++)
    for (int ch = 0; ch < c; ch++) {
      int64_t k = i * c + ch;
      float v = kind == 0   ? ((unsigned char *)px)[k] / 255.0f
                : kind == 1 ? ((unsigned short *)px)[k] / 65535.0f
                            : ((float *)px)[k];
      d[ch * plane + i] = v;
    }
  stbi_image_free(px);
  return 0;
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
  /* Temporary file in the target's folder, so rename() is atomic. */
  size_t n = strlen(path) + 16;
  char *tmp = malloc(n);
  if (tmp == NULL) {
    free(px);
    return cp_fail(e, "out of memory");
  }
  snprintf(tmp, n, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int err = errno;
    free(px);
    free(tmp);
    return cp_fail(e, "path: cannot write '%s': %s", path, strerror(err));
  }
  fchmod(fd, 0644); /* mkstemp's 0600 would surprise whoever opens it */
  close(fd);
  int ok = fmt == 0   ? stbi_write_png(tmp, w, h, c, px, w * c)
           : fmt == 1 ? stbi_write_jpg(tmp, w, h, c, px, quality)
           : fmt == 2 ? stbi_write_bmp(tmp, w, h, c, px)
                      : stbi_write_tga(tmp, w, h, c, px);
  free(px);
  if (!ok) {
    unlink(tmp);
    free(tmp);
    return cp_fail(e, "path: writing '%s' failed", path);
  }
  if (rename(tmp, path) != 0) {
    int err = errno;
    unlink(tmp);
    free(tmp);
    return cp_fail(e, "path: cannot write '%s': %s", path, strerror(err));
  }
  free(tmp);
  return 0;
}
