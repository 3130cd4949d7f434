/* lab_model.c - the image lab's state, compute and readout (lab_model.h). */
#include "lab_model.h"

#include <math.h>
#include <string.h>
#include <time.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "conv.h"

/* ====================================================================== */
/* State                                                                   */
/* ====================================================================== */

void cp_lab_params_default(cp_lab_params *p) {
  memset(p, 0, sizeof *p);
  p->stride = 1;
  p->dilation = 1;
  p->pad = 1;
  p->same = 1;
  p->mode = CP_PAD_ZEROS;
  p->map = CP_MAP_CLAMP;
}

static int check_image(const cp_tensor *img, cp_err *e) {
  char b[96];
  if (img->ndim != 3 || img->shape[0] < 1 || img->shape[0] > CP_LAB_MAXC ||
      img->shape[1] < 1 || img->shape[2] < 1)
    return cp_fail(e,
                   "image: expected a (C,H,W) tensor with 1 to %d channels, "
                   "got %s",
                   CP_LAB_MAXC, cp_shape_str(img->ndim, img->shape, b, sizeof b));
  return 0;
}

int cp_lab_init(cp_lab *lab, const cp_tensor *image, cp_err *e) {
  memset(lab, 0, sizeof *lab);
  cp_lab_params_default(&lab->p);
  cp_preset_args_default(&lab->args);
  lab->preset = CP_PRESET_IDENTITY;
  if (check_image(image, e)) return -1;
  if (cp_kernel_identity(&lab->kernel, 3, e)) return -1;
  cp_tensor_share(&lab->image, image);
  return 0;
}

void cp_lab_free(cp_lab *lab) {
  cp_tensor_release(&lab->image);
  cp_tensor_release(&lab->kernel);
}

int cp_lab_copy(cp_lab *dst, const cp_lab *src, cp_err *e) {
  *dst = *src;
  memset(&dst->kernel, 0, sizeof dst->kernel);
  memset(&dst->image, 0, sizeof dst->image);
  if (cp_tensor_clone(&dst->kernel, &src->kernel, e)) return -1;
  cp_tensor_share(&dst->image, &src->image);
  return 0;
}

int cp_lab_set_image(cp_lab *lab, const cp_tensor *image, cp_err *e) {
  if (check_image(image, e)) return -1;
  cp_tensor t;
  cp_tensor_share(&t, image);
  cp_tensor_release(&lab->image);
  lab->image = t;
  return 0;
}

int cp_lab_set_kernel(cp_lab *lab, const cp_tensor *k, cp_err *e) {
  char b[96];
  if (k->ndim != 2 || k->shape[0] < 1 || k->shape[1] < 1 ||
      k->shape[0] > CP_LAB_MAXK || k->shape[1] > CP_LAB_MAXK)
    return cp_fail(e, "kernel: expected a 2-D (kH,kW) tensor, sides 1 to %d, "
                      "got %s",
                   CP_LAB_MAXK, cp_shape_str(k->ndim, k->shape, b, sizeof b));
  cp_tensor t;
  if (cp_tensor_clone(&t, k, e)) return -1;
  cp_tensor_release(&lab->kernel);
  lab->kernel = t;
  lab->preset = CP_PRESET_CUSTOM;
  return 0;
}

int cp_lab_set_preset(cp_lab *lab, cp_preset p, const cp_preset_args *a,
                      cp_err *e) {
  cp_tensor t;
  if (cp_kernel_preset(&t, p, a, e)) return -1;
  if (t.shape[0] > CP_LAB_MAXK) {
    cp_tensor_release(&t);
    return cp_fail(e, "size: the lab takes kernels up to %d", CP_LAB_MAXK);
  }
  cp_tensor_release(&lab->kernel);
  lab->kernel = t;
  lab->preset = p;
  if (a) lab->args = *a; else cp_preset_args_default(&lab->args);
  lab->p.magnitude = p == CP_PRESET_GRADMAG;
  return 0;
}

float cp_lab_cell(const cp_lab *lab, int64_t i, int64_t j) {
  return cp_tensor_data(&lab->kernel)[i * lab->kernel.shape[1] + j];
}

void cp_lab_set_cell(cp_lab *lab, int64_t i, int64_t j, float v) {
  cp_tensor_data(&lab->kernel)[i * lab->kernel.shape[1] + j] = v;
  lab->preset = CP_PRESET_CUSTOM;
}

int cp_lab_resize_kernel(cp_lab *lab, int64_t kH, int64_t kW, cp_err *e) {
  if (kH < 1 || kW < 1 || kH > CP_LAB_MAXK || kW > CP_LAB_MAXK)
    return cp_fail(e, "size: kernel sides must be 1 to %d, got %lldx%lld",
                   CP_LAB_MAXK, (long long)kH, (long long)kW);
  int64_t oH = lab->kernel.shape[0], oW = lab->kernel.shape[1];
  int64_t shape[2] = {kH, kW};
  cp_tensor t;
  if (cp_tensor_zeros(&t, 2, shape, e)) return -1;
  /* Align centres (the centre tap of an odd kernel stays the centre). */
  int64_t dr = kH / 2 - oH / 2, dc = kW / 2 - oW / 2;
  float *d = cp_tensor_data(&t);
  for (int64_t i = 0; i < oH; i++)
    for (int64_t j = 0; j < oW; j++) {
      int64_t r = i + dr, c = j + dc;
      if (r >= 0 && r < kH && c >= 0 && c < kW)
        d[r * kW + c] = cp_lab_cell(lab, i, j);
    }
  cp_tensor_release(&lab->kernel);
  lab->kernel = t;
  lab->preset = CP_PRESET_CUSTOM;
  return 0;
}

int cp_lab_normalize(cp_lab *lab, cp_err *e) {
  float *d = cp_tensor_data(&lab->kernel);
  int64_t n = cp_tensor_numel(&lab->kernel);
  double sum = 0, pos = 0, mag = 0;
  for (int64_t k = 0; k < n; k++) {
    sum += d[k];
    mag += fabs(d[k]);
    if (d[k] > 0) pos += d[k];
  }
  if (mag == 0) return cp_fail(e, "kernel: all cells are zero");
  double s = fabs(sum) > 1e-6 * mag ? sum : pos;
  if (s == 0) return cp_fail(e, "kernel: no positive cell to normalise by");
  for (int64_t k = 0; k < n; k++) d[k] = (float)(d[k] / s);
  lab->preset = CP_PRESET_CUSTOM;
  return 0;
}

/* ====================================================================== */
/* Weight and parameters                                                   */
/* ====================================================================== */

void cp_lab_conv_params(const cp_lab *lab, cp_conv_params *cp) {
  cp_conv_params_default(cp);
  cp->stride[0] = cp->stride[1] = lab->p.stride;
  cp->dilation[0] = cp->dilation[1] = lab->p.dilation;
  if (lab->p.same) {
    cp->padspec = CP_PADSPEC_SAME;
  } else {
    for (int i = 0; i < 4; i++) cp->pad[i] = lab->p.pad;
  }
  cp->mode = lab->p.mode;
  cp->groups = lab->p.full_mix ? 1 : lab->image.shape[0];
}

static float mix_at(const cp_lab *lab, int o, int c) {
  return lab->p.mix_custom ? lab->p.mix[o][c]
                           : 1.0f / (float)lab->image.shape[0];
}

int cp_lab_weight(const cp_lab *lab, int transposed_kernel, cp_tensor *w,
                  cp_err *e) {
  int64_t C = lab->image.shape[0];
  int64_t kH = lab->kernel.shape[0], kW = lab->kernel.shape[1];
  if (transposed_kernel) {
    int64_t t = kH;
    kH = kW;
    kW = t;
  }
  int64_t Ci = lab->p.full_mix ? C : 1;
  if (cp_tensor_empty4(w, C, Ci, kH, kW, e)) return -1;
  float *d = cp_tensor_data(w);
  for (int64_t o = 0; o < C; o++)
    for (int64_t c = 0; c < Ci; c++) {
      float m = lab->p.full_mix ? mix_at(lab, (int)o, (int)c) : 1.0f;
      float *plane = d + (o * Ci + c) * kH * kW;
      for (int64_t i = 0; i < kH; i++)
        for (int64_t j = 0; j < kW; j++) {
          /* (i, j) of the applied weight reads cell (si, sj) of the kernel:
           * flipped for true convolution, transposed for k^T. */
          int64_t si = lab->p.flip ? kH - 1 - i : i;
          int64_t sj = lab->p.flip ? kW - 1 - j : j;
          float v = transposed_kernel ? cp_lab_cell(lab, sj, si)
                                      : cp_lab_cell(lab, si, sj);
          plane[i * kW + j] = m * v;
        }
    }
  return 0;
}

/* Validate through the geometry module, exactly as cp_conv2d will. */
static int lab_geom(const cp_lab *lab, cp_geom *g, cp_err *e) {
  if (lab->p.magnitude && lab->kernel.shape[0] != lab->kernel.shape[1])
    return cp_fail(e, "magnitude: needs a square kernel (k and its transpose "
                      "must line up)");
  cp_conv_params cp;
  cp_lab_conv_params(lab, &cp);
  int64_t C = lab->image.shape[0];
  int64_t xs[4] = {1, C, lab->image.shape[1], lab->image.shape[2]};
  int64_t ws[4] = {C, lab->p.full_mix ? C : 1, lab->kernel.shape[0],
                   lab->kernel.shape[1]};
  return cp_geom_init(g, &cp, xs, ws, 0, 0, 0, e);
}

int cp_lab_out_size(const cp_lab *lab, int64_t *OH, int64_t *OW, cp_err *e) {
  cp_geom g;
  if (lab_geom(lab, &g, e)) return -1;
  *OH = g.OH;
  *OW = g.OW;
  return 0;
}

double cp_lab_macs(const cp_lab *lab) {
  cp_geom g;
  if (lab_geom(lab, &g, NULL)) return 0;
  double m = (double)g.O * (double)g.Cg * (double)g.OH * (double)g.OW *
             (double)g.kH * (double)g.kW;
  return lab->p.magnitude ? 2 * m : m;
}

void cp_lab_out_origin(const cp_lab *lab, double *oy, double *ox) {
  cp_geom g;
  if (lab_geom(lab, &g, NULL)) {
    *oy = *ox = 0;
    return;
  }
  double s = (double)lab->p.stride, d = (double)lab->p.dilation;
  *oy = d * (double)(g.kH - 1) / 2 - (double)g.p.pad[0] - (s - 1) / 2;
  *ox = d * (double)(g.kW - 1) / 2 - (double)g.p.pad[2] - (s - 1) / 2;
}

/* ====================================================================== */
/* Compute                                                                 */
/* ====================================================================== */

/* y = sqrt(y^2 + y2^2), elementwise on contiguous tensors of one shape. */
static void magnitude_into(cp_tensor *y, const cp_tensor *y2) {
  float *a = cp_tensor_data(y);
  const float *b = cp_tensor_data(y2);
  int64_t n = cp_tensor_numel(y);
  for (int64_t k = 0; k < n; k++) a[k] = sqrtf(a[k] * a[k] + b[k] * b[k]);
}

/* One conv2d (or the pair of magnitude mode) of x with the lab's weights. */
static int conv_once(cp_tensor *out, const cp_tensor *x, const cp_tensor *w,
                     const cp_tensor *w2, const cp_conv_params *cp,
                     cp_err *e) {
  if (cp_conv2d(out, x, w, NULL, cp, e)) return -1;
  if (!w2) return 0;
  cp_tensor y2;
  if (cp_conv2d(&y2, x, w2, NULL, cp, e)) {
    cp_tensor_release(out);
    return -1;
  }
  if (!cp_tensor_same_shape(out, &y2)) {
    cp_tensor_release(&y2);
    cp_tensor_release(out);
    return cp_fail(e, "magnitude: the two halves differ in size");
  }
  magnitude_into(out, &y2);
  cp_tensor_release(&y2);
  return 0;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Banded compute: pad once, then each band of output rows is a cp_conv2d
 * with padding 0 on a narrow view of the padded input. */
static int compute_bands(const cp_lab *lab, const cp_geom *g,
                         const cp_tensor *w, const cp_tensor *w2,
                         cp_tensor *out, const cp_lab_progress *prog,
                         cp_err *e) {
  cp_tensor xp, band_in, band_out;
  memset(&band_in, 0, sizeof band_in);
  memset(&band_out, 0, sizeof band_out);
  if (cp_pad2d(&xp, &lab->image, g->p.pad, g->p.mode, e)) return -1;
  if (cp_tensor_empty4(out, 1, g->O, g->OH, g->OW, e)) goto fail;
  cp_conv_params cp = g->p;
  memset(cp.pad, 0, sizeof cp.pad);
  cp.mode = CP_PAD_ZEROS;
  double row_macs = (double)g->O * g->Cg * g->OW * g->kH * g->kW *
                    (w2 ? 2 : 1);
  int64_t rows = (int64_t)((double)prog->band_macs / (row_macs > 1 ? row_macs : 1));
  if (rows < 1) rows = 1;
  int64_t next = rows;
  for (int64_t r0 = 0; r0 < g->OH; r0 += rows) {
    if (prog->cancel && *prog->cancel) {
      cp_fail(e, "cancelled");
      goto fail;
    }
    rows = next;
    double t0 = now_ms();
    int64_t r1 = r0 + rows < g->OH ? r0 + rows : g->OH;
    int64_t in0, in_len;
    cp_geom_band_rows(g, r0, r1, &in0, &in_len);
    if (cp_tensor_narrow(&band_in, &xp, 1, in0, in_len, e)) goto fail;
    if (conv_once(&band_out, &band_in, w, w2, &cp, e)) goto fail;
    cp_tensor_release(&band_in);
    /* Copy the band into rows r0..r1-1 of every output plane. */
    float *dst = cp_tensor_data(out);
    const float *src = cp_tensor_data(&band_out);
    int64_t n = (r1 - r0) * g->OW;
    for (int64_t o = 0; o < g->O; o++)
      memcpy(dst + (o * g->OH + r0) * g->OW, src + o * n, n * sizeof(float));
    cp_tensor_release(&band_out);
    if (prog->report) prog->report(prog->ud, (double)r1 / (double)g->OH);
    /* Steer the band size towards band_ms, so a slow machine (or a
     * sanitizer build) still reacts to cancel within a few frames. */
    double dt = now_ms() - t0;
    if (prog->band_ms > 0 && dt > 0) {
      double f = prog->band_ms / dt;
      f = f < 0.25 ? 0.25 : f > 4 ? 4 : f;
      next = (int64_t)((double)rows * f);
      if (next < 1) next = 1;
    }
  }
  cp_tensor_release(&xp);
  cp_tensor y3;
  int rc = cp_tensor_squeeze(&y3, out, 0, e);
  cp_tensor_release(out);
  *out = y3;
  return rc;
fail:
  cp_tensor_release(&band_in);
  cp_tensor_release(&band_out);
  cp_tensor_release(&xp);
  cp_tensor_release(out);
  return -1;
}

int cp_lab_compute(const cp_lab *lab, cp_tensor *out,
                   const cp_lab_progress *prog, cp_err *e) {
  memset(out, 0, sizeof *out);
  cp_geom g;
  if (lab_geom(lab, &g, e)) return -1;
  cp_tensor w, w2;
  memset(&w2, 0, sizeof w2);
  if (cp_lab_weight(lab, 0, &w, e)) return -1;
  if (lab->p.magnitude && cp_lab_weight(lab, 1, &w2, e)) {
    cp_tensor_release(&w);
    return -1;
  }
  const cp_tensor *w2p = lab->p.magnitude ? &w2 : NULL;
  int rc;
  if (prog && prog->band_macs > 0 && cp_lab_macs(lab) > 2.0 * prog->band_macs) {
    rc = compute_bands(lab, &g, &w, w2p, out, prog, e);
  } else {
    cp_conv_params cp;
    cp_lab_conv_params(lab, &cp);
    rc = conv_once(out, &lab->image, &w, w2p, &cp, e);
    if (rc == 0 && prog && prog->report) prog->report(prog->ud, 1.0);
  }
  cp_tensor_release(&w);
  cp_tensor_release(&w2);
  return rc;
}

/* ====================================================================== */
/* Display mapping                                                         */
/* ====================================================================== */

static const char *const map_names[CP_MAP_COUNT] = {"clamp", "abs", "offset"};

const char *cp_signmap_name(cp_signmap m) {
  return (unsigned)m < CP_MAP_COUNT ? map_names[m] : "?";
}

int cp_signmap_parse(const char *s, cp_signmap *m) {
  for (int i = 0; i < CP_MAP_COUNT; i++)
    if (strcmp(s, map_names[i]) == 0) {
      *m = (cp_signmap)i;
      return 0;
    }
  return -1;
}

static inline float clamp01(float v) {
  /* NaN maps to 0: fmaxf returns the non-NaN operand. */
  return fminf(fmaxf(v, 0.0f), 1.0f);
}

float cp_lab_map_value(cp_signmap m, float v) {
  switch (m) {
  case CP_MAP_ABS: return clamp01(fabsf(v));
  case CP_MAP_OFFSET: return clamp01(0.5f + 0.5f * v);
  default: return clamp01(v);
  }
}

/* Bytes 0..255 of a mapped value.  Written with comparisons instead of
 * fminf/fmaxf (NaN fails both tests and maps to 0, as cp_lab_map_value) so
 * the loops below vectorise: this runs on every displayed pixel. */
#define MAP_BYTE(v) ((uint32_t)(int32_t)((v) * 255.0f + 0.5f))
static inline float clamp_cmp(float v) {
  v = v > 0.0f ? v : 0.0f;
  return v < 1.0f ? v : 1.0f;
}
static inline float map_cmp(cp_signmap m, float v) {
  if (m == CP_MAP_ABS) return clamp_cmp(fabsf(v));
  if (m == CP_MAP_OFFSET) return clamp_cmp(0.5f + 0.5f * v);
  return clamp_cmp(v);
}

/* One row: channels r, g, b (may be the same plane) into opaque ARGB.
 * SSE2 when available (maxps/minps against 0 and 1 also send NaN to 0). */
#ifdef __SSE2__
static inline __m128i map4(cp_signmap m, __m128 v) {
  const __m128 zero = _mm_setzero_ps(), one = _mm_set1_ps(1.0f);
  if (m == CP_MAP_ABS) v = _mm_andnot_ps(_mm_set1_ps(-0.0f), v);
  if (m == CP_MAP_OFFSET) v = _mm_add_ps(_mm_set1_ps(0.5f), _mm_mul_ps(v, _mm_set1_ps(0.5f)));
  v = _mm_min_ps(_mm_max_ps(v, zero), one);
  return _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(v, _mm_set1_ps(255.0f)),
                                     _mm_set1_ps(0.5f)));
}
#endif

static void map_row(cp_signmap m, const float *r, const float *g,
                    const float *b, uint32_t *px, int64_t n) {
  int64_t k = 0;
#ifdef __SSE2__
  const __m128i alpha = _mm_set1_epi32((int)0xff000000u);
  for (; k + 4 <= n; k += 4) {
    __m128i R = map4(m, _mm_loadu_ps(r + k));
    __m128i G = map4(m, _mm_loadu_ps(g + k));
    __m128i B = map4(m, _mm_loadu_ps(b + k));
    __m128i p = _mm_or_si128(_mm_or_si128(alpha, _mm_slli_epi32(R, 16)),
                             _mm_or_si128(_mm_slli_epi32(G, 8), B));
    _mm_storeu_si128((__m128i *)(px + k), p);
  }
#endif
  for (; k < n; k++)
    px[k] = 0xff000000u | MAP_BYTE(map_cmp(m, r[k])) << 16 |
            MAP_BYTE(map_cmp(m, g[k])) << 8 | MAP_BYTE(map_cmp(m, b[k]));
}

void cp_lab_to_argb(const cp_tensor *y, cp_signmap m, uint32_t *pixels,
                    int64_t pitch, int64_t r0, int64_t r1) {
  int64_t C = y->shape[0], H = y->shape[1], W = y->shape[2];
  if (r1 > H) r1 = H;
  const float *d = cp_tensor_data(y);
  int64_t cs = y->stride[0], rs = y->stride[1], es = y->stride[2];
  int64_t cg = C >= 3 ? cs : 0, cb = C >= 3 ? 2 * cs : 0;
  for (int64_t r = r0; r < r1; r++) {
    uint32_t *px = pixels + r * pitch;
    const float *row = d + r * rs;
    if (es == 1) {
      map_row(m, row, row + cg, row + cb, px, W);
      continue;
    }
    for (int64_t k = 0; k < W; k++) /* a strided view: the plain way */
      px[k] = 0xff000000u |
              MAP_BYTE(cp_lab_map_value(m, row[k * es])) << 16 |
              MAP_BYTE(cp_lab_map_value(m, row[cg + k * es])) << 8 |
              MAP_BYTE(cp_lab_map_value(m, row[cb + k * es]));
  }
}

void cp_lab_sample_argb(const cp_tensor *y, cp_signmap m, const int32_t *rows,
                        int h, const int32_t *cols, int w, uint32_t *pixels,
                        int64_t pitch) {
  int64_t C = y->shape[0];
  const float *d = cp_tensor_data(y);
  int64_t cs = y->stride[0], rs = y->stride[1], es = y->stride[2];
  int64_t cg = C >= 3 ? cs : 0, cb = C >= 3 ? 2 * cs : 0;
  int j0 = 0, j1 = w; /* the valid run of columns */
  while (j0 < w && cols[j0] < 0) j0++;
  while (j1 > j0 && cols[j1 - 1] < 0) j1--;
  for (int i = 0; i < h; i++) {
    if (rows[i] < 0) continue;
    const float *r = d + rows[i] * rs, *g = r + cg, *b = r + cb;
    uint32_t *px = pixels + i * pitch;
    int j = j0;
#ifdef __SSE2__
    const __m128i alpha = _mm_set1_epi32((int)0xff000000u);
    for (; j + 4 <= j1; j += 4) {
      int64_t c0 = cols[j] * es, c1 = cols[j + 1] * es, c2 = cols[j + 2] * es,
              c3 = cols[j + 3] * es;
      __m128i R = map4(m, _mm_set_ps(r[c3], r[c2], r[c1], r[c0]));
      __m128i G = map4(m, _mm_set_ps(g[c3], g[c2], g[c1], g[c0]));
      __m128i B = map4(m, _mm_set_ps(b[c3], b[c2], b[c1], b[c0]));
      __m128i p = _mm_or_si128(_mm_or_si128(alpha, _mm_slli_epi32(R, 16)),
                               _mm_or_si128(_mm_slli_epi32(G, 8), B));
      _mm_storeu_si128((__m128i *)(px + j), p);
    }
#endif
    for (; j < j1; j++) {
      int64_t c = cols[j] * es;
      px[j] = 0xff000000u | MAP_BYTE(map_cmp(m, r[c])) << 16 |
              MAP_BYTE(map_cmp(m, g[c])) << 8 | MAP_BYTE(map_cmp(m, b[c]));
    }
  }
}

int cp_lab_mapped(const cp_tensor *y, cp_signmap m, cp_tensor *out,
                  cp_err *e) {
  if (cp_tensor_clone(out, y, e)) return -1;
  float *d = cp_tensor_data(out);
  int64_t n = cp_tensor_numel(out);
  for (int64_t k = 0; k < n; k++) d[k] = cp_lab_map_value(m, d[k]);
  return 0;
}

/* ====================================================================== */
/* Hover readout                                                           */
/* ====================================================================== */

/* Sum of w*x for output (ch, r, c) with weight w (as cp_conv2d applies it),
 * recording the first cap taps. Mirrors cp_conv2d_ref tap for tap. */
static double explain_sum(const cp_lab *lab, const cp_geom *g,
                          const cp_tensor *w, int64_t ch, int64_t r,
                          int64_t c, cp_lab_tap *taps, int cap, int *ntaps) {
  const float *x = cp_tensor_data(&lab->image);
  const cp_tensor *im = &lab->image;
  const float *wd = cp_tensor_data(w);
  int64_t kH = w->shape[2], kW = w->shape[3];
  int64_t c0 = cp_geom_group_of_out(g, ch) * g->Cg;
  double acc = 0;
  int n = 0;
  for (int64_t ci = 0; ci < g->Cg; ci++)
    for (int64_t i = 0; i < kH; i++) {
      int64_t row = cp_geom_in_row(g, r, i);
      int64_t sr = cp_pad_index(row, g->H, g->p.mode);
      for (int64_t j = 0; j < kW; j++) {
        int64_t col = cp_geom_in_col(g, c, j);
        int64_t sc = cp_pad_index(col, g->W, g->p.mode);
        float xv = 0.0f;
        if (sr >= 0 && sc >= 0)
          xv = x[(c0 + ci) * im->stride[0] + sr * im->stride[1] +
                 sc * im->stride[2]];
        float wv = wd[((ch * g->Cg) + ci) * kH * kW + i * kW + j];
        /* the product rounded to float32, summed in double: the reference
         * loops' and the trace's expression, so the readout shows what was
         * computed (1e30 * 1e30 is inf there, not 1e60) */
        float prod = wv * xv;
        acc += (double)prod;
        if (n < cap) {
          cp_lab_tap *t = &taps[n];
          t->i = i;
          t->j = j;
          t->ch = c0 + ci;
          t->row = row;
          t->col = col;
          t->src_row = sr < 0 || sc < 0 ? -1 : sr;
          t->src_col = sr < 0 || sc < 0 ? -1 : sc;
          t->w = wv;
          t->x = xv;
        }
        n++;
      }
    }
  *ntaps = n;
  return acc;
}

int cp_lab_explain(const cp_lab *lab, int64_t ch, int64_t r, int64_t c,
                   cp_lab_tap *taps, int cap, cp_lab_readout *ro, cp_err *e) {
  memset(ro, 0, sizeof *ro);
  cp_geom g;
  if (lab_geom(lab, &g, e)) return -1;
  if (ch < 0 || ch >= g.O || r < 0 || r >= g.OH || c < 0 || c >= g.OW)
    return cp_fail(e, "pixel: (%lld, %lld, %lld) is outside the %lldx%lldx%lld "
                      "output",
                   (long long)ch, (long long)r, (long long)c, (long long)g.O,
                   (long long)g.OH, (long long)g.OW);
  cp_tensor w;
  if (cp_lab_weight(lab, 0, &w, e)) return -1;
  ro->ch = ch;
  ro->r = r;
  ro->c = c;
  ro->sum = explain_sum(lab, &g, &w, ch, r, c, taps, cap, &ro->ntaps);
  cp_tensor_release(&w);
  ro->value = ro->sum;
  if (lab->p.magnitude) {
    /* The k^T half: the kernel is square, so the geometry is the same. */
    if (cp_lab_weight(lab, 1, &w, e)) return -1;
    int n2;
    ro->sum2 = explain_sum(lab, &g, &w, ch, r, c, NULL, 0, &n2);
    cp_tensor_release(&w);
    ro->value = sqrt(ro->sum * ro->sum + ro->sum2 * ro->sum2);
  }
  ro->mapped = cp_lab_map_value(lab->p.map, (float)ro->value);
  return 0;
}
