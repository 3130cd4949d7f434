/* geometry.c - validation and index arithmetic for 2-D convolution. */
#include "geometry.h"

#include <stdio.h>
#include <string.h>

void cp_conv_params_default(cp_conv_params *p) {
  memset(p, 0, sizeof *p);
  p->stride[0] = p->stride[1] = 1;
  p->dilation[0] = p->dilation[1] = 1;
  p->groups = 1;
  p->padspec = CP_PADSPEC_EXPLICIT;
  p->mode = CP_PAD_ZEROS;
}

static const char *const padmode_names[] = {"zeros", "reflect", "replicate",
                                            "circular"};

const char *cp_padmode_name(cp_padmode m) {
  return (unsigned)m < 4 ? padmode_names[m] : "?";
}

int cp_padmode_parse(const char *s, cp_padmode *m) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, padmode_names[i]) == 0) {
      *m = (cp_padmode)i;
      return 0;
    }
  return -1;
}

/* ---- checked size arithmetic -------------------------------------------
 * Sizes reach 2^62 and parameters 2^63; every product or sum of a size and
 * a parameter goes through these, which saturate at INT64_MAX / INT64_MIN
 * (far outside any size a tensor can have) instead of overflowing.  A
 * saturated result then fails the ordinary range checks. */
static int64_t sat_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
  return r;
}

static int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return a < 0 ? INT64_MIN : INT64_MAX;
  return r;
}

static int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return a < 0 ? INT64_MIN : INT64_MAX;
  return r;
}

void cp_same_pad(int64_t k, int64_t d, int64_t *before, int64_t *after) {
  int64_t total = sat_mul(d, sat_sub(k, 1));
  *before = total / 2;
  *after = total - total / 2;
}

/* Dilated kernel extent d(k-1)+1 (saturating). */
static int64_t extent(int64_t k, int64_t d) {
  return sat_add(sat_mul(d, sat_sub(k, 1)), 1);
}

int64_t cp_conv_out_len(int64_t in, int64_t k, int64_t s, int64_t pad_before,
                        int64_t pad_after, int64_t d, cp_err *e) {
  if (k <= 0) return cp_fail(e, "kernel_size: must be greater than zero");
  if (s <= 0) return cp_fail(e, "stride: non-positive stride is not supported");
  if (d <= 0) return cp_fail(e, "dilation: dilation should be greater than zero");
  if (pad_before < 0 || pad_after < 0)
    return cp_fail(e, "padding: negative padding is not supported");
  int64_t padded = sat_add(sat_add(in, pad_before), pad_after);
  int64_t ext = extent(k, d);
  if (padded == INT64_MAX || ext == INT64_MAX)
    return cp_fail(e, "kernel_size: sizes overflow (input %lld, kernel %lld, "
                      "dilation %lld)", (long long)in, (long long)k,
                   (long long)d);
  if (ext > padded)
    return cp_fail(e,
                   "kernel_size: dilated kernel size %lld is greater than the "
                   "padded input size %lld",
                   (long long)ext, (long long)padded);
  return (padded - ext) / s + 1;
}

int64_t cp_convT_out_len(int64_t in, int64_t k, int64_t s, int64_t p,
                         int64_t d, int64_t op, cp_err *e) {
  if (k <= 0) return cp_fail(e, "kernel_size: must be greater than zero");
  if (s <= 0) return cp_fail(e, "stride: non-positive stride is not supported");
  if (d <= 0) return cp_fail(e, "dilation: dilation should be greater than zero");
  if (p < 0) return cp_fail(e, "padding: negative padding is not supported");
  if (op < 0)
    return cp_fail(e,
                   "output_padding: negative output_padding is not supported");
  if (op >= s && op >= d)
    return cp_fail(e,
                   "output_padding: output padding must be smaller than "
                   "either stride or dilation, but got output_padding %lld, "
                   "stride %lld, dilation %lld",
                   (long long)op, (long long)s, (long long)d);
  int64_t out = sat_add(sat_add(sat_sub(sat_mul(in - 1, s), sat_mul(2, p)),
                                 sat_mul(d, k - 1)), op + 1);
  if (out >= CP_GEOM_MAX_SIZE)
    return cp_fail(e, "input: calculated output size overflows (input size "
                      "%lld, stride %lld, dilation %lld)", (long long)in,
                   (long long)s, (long long)d);
  if (out < 1)
    return cp_fail(e,
                   "padding: calculated output size %lld is too small (input "
                   "size %lld)",
                   (long long)out, (long long)in);
  return out;
}

int64_t cp_pad_index(int64_t x, int64_t n, cp_padmode m) {
  if (x >= 0 && x < n) return x;
  if (n <= 0) return -1;
  switch (m) {
  case CP_PAD_REFLECT: {
    if (n == 1) return 0;
    int64_t period = 2 * (n - 1);
    int64_t r = x % period;
    if (r < 0) r += period;
    return r < n ? r : period - r;
  }
  case CP_PAD_REPLICATE:
    return x < 0 ? 0 : n - 1;
  case CP_PAD_CIRCULAR: {
    int64_t r = x % n;
    return r < 0 ? r + n : r;
  }
  default:
    return -1;
  }
}

int cp_convT_output_padding(const cp_conv_params *p, const int64_t *in_hw,
                            const int64_t *k_hw, const int64_t *size,
                            int64_t *op, cp_err *e) {
  const int64_t big = (int64_t)1 << 31;
  int64_t lo[2], hi[2];
  op[0] = op[1] = 0;
  for (int i = 0; i < 2; i++) {
    int64_t s = p->stride[i], d = p->dilation[i];
    int64_t pb = p->pad[2 * i], pa = p->pad[2 * i + 1];
    if (s <= 0 || s > big || d <= 0 || d > big || pb < 0 || pb > big ||
        pa < 0 || pa > big || k_hw[i] <= 0 || k_hw[i] > big ||
        in_hw[i] < 0 || in_hw[i] > big)
      return 0; /* cp_geom_init says what is wrong */
    lo[i] = (in_hw[i] - 1) * s - pb - pa + d * (k_hw[i] - 1) + 1;
    hi[i] = lo[i] + s - 1;
  }
  if (size[0] < lo[0] || size[0] > hi[0] || size[1] < lo[1] ||
      size[1] > hi[1])
    return cp_fail(e,
                   "output_size: requested an output size of [%lld, %lld], "
                   "but valid sizes range from [%lld, %lld] to [%lld, %lld] "
                   "(for an input of [%lld, %lld])",
                   (long long)size[0], (long long)size[1], (long long)lo[0],
                   (long long)lo[1], (long long)hi[0], (long long)hi[1],
                   (long long)in_hw[0], (long long)in_hw[1]);
  op[0] = size[0] - lo[0];
  op[1] = size[1] - lo[1];
  return 0;
}

static int64_t gather(int64_t R, int64_t i, int64_t s, int64_t d, int64_t k,
                      int64_t p, int64_t in, int64_t *z) {
  int64_t q = sat_sub(sat_mul(d, k - 1), p);
  int64_t zr = sat_sub(sat_add(R, sat_mul(i, d)), q);
  if (z) *z = zr;
  if (zr < 0 || zr > sat_mul(in - 1, s)) return -1;
  if (zr % s != 0) return -2;
  return zr / s;
}

int64_t cp_geomT_gather_row(const cp_geom *g, int64_t R, int64_t i,
                            int64_t *zrow) {
  return gather(R, i, g->p.stride[0], g->p.dilation[0], g->kH, g->p.pad[0],
                g->H, zrow);
}

int64_t cp_geomT_gather_col(const cp_geom *g, int64_t C, int64_t j,
                            int64_t *zcol) {
  return gather(C, j, g->p.stride[1], g->p.dilation[1], g->kW, g->p.pad[2],
                g->W, zcol);
}

/* ---- validation ----------------------------------------------------------- */

static const char *shp(const int64_t *s, char *buf, size_t n) {
  snprintf(buf, n, "[%lld, %lld, %lld, %lld]", (long long)s[0],
           (long long)s[1], (long long)s[2], (long long)s[3]);
  return buf;
}

/* Limits of the non-zero padding modes (F.pad's checks). */
int cp_check_padmode(cp_padmode mode, const int64_t *pd, int64_t H, int64_t W,
                     cp_err *e) {
  if (mode == CP_PAD_REFLECT) {
    if (pd[2] >= W || pd[3] >= W)
      return cp_fail(e,
                     "padding: Padding size should be less than the "
                     "corresponding input dimension, but got: padding (%lld, "
                     "%lld) at dimension 3 of input 4",
                     (long long)pd[2], (long long)pd[3]);
    if (pd[0] >= H || pd[1] >= H)
      return cp_fail(e,
                     "padding: Padding size should be less than the "
                     "corresponding input dimension, but got: padding (%lld, "
                     "%lld) at dimension 2 of input 4",
                     (long long)pd[0], (long long)pd[1]);
  } else if (mode == CP_PAD_CIRCULAR) {
    if (pd[0] > H || pd[1] > H || pd[2] > W || pd[3] > W)
      return cp_fail(e,
                     "padding: Padding value causes wrapping around more than "
                     "once.");
  } else if (mode == CP_PAD_REPLICATE) {
    if ((H == 0 && (pd[0] || pd[1])) || (W == 0 && (pd[2] || pd[3])))
      return cp_fail(e, "padding: replicate padding of an empty dimension");
  }
  return 0;
}

int cp_geom_init(cp_geom *g, const cp_conv_params *p, const int64_t *xs,
                 const int64_t *ws, int has_bias, int bias_ndim,
                 int64_t bias_len, cp_err *e) {
  char b1[128], b2[128];
  memset(g, 0, sizeof *g);
  g->p = *p;
  cp_conv_params *q = &g->p;
  const int T = p->transposed;
  /* Bound every parameter so that no size arithmetic below can overflow. */
  const int64_t big = (int64_t)1 << 31;
  for (int i = 0; i < 2; i++)
    if (p->stride[i] > big || p->dilation[i] > big || p->out_pad[i] > big ||
        p->pad[2 * i] > big || p->pad[2 * i + 1] > big || p->groups > big)
      return cp_fail(e, "%s: value too large (at most 2^31)",
                     p->stride[i] > big     ? "stride"
                     : p->dilation[i] > big ? "dilation"
                     : p->out_pad[i] > big  ? "output_padding"
                     : p->groups > big      ? "groups"
                                            : "padding");

  for (int i = 0; i < 2; i++)
    if (p->stride[i] <= 0)
      return cp_fail(e, "stride: non-positive stride is not supported");
  for (int i = 0; i < 4; i++)
    if (p->pad[i] < 0)
      return cp_fail(e, "padding: negative padding is not supported");
  if (T)
    for (int i = 0; i < 2; i++)
      if (p->out_pad[i] < 0)
        return cp_fail(e, "output_padding: negative output_padding is not "
                          "supported");
  if (p->dilation[0] <= 0 || p->dilation[1] <= 0)
    return cp_fail(e,
                   "dilation: dilation should be greater than zero, but got "
                   "[%lld, %lld]",
                   (long long)p->dilation[0], (long long)p->dilation[1]);
  if (p->groups <= 0)
    return cp_fail(e, "groups: non-positive groups is not supported");
  if (p->padspec == CP_PADSPEC_SAME) {
    if (T)
      return cp_fail(e, "padding: padding='same' is not supported for "
                        "conv_transpose2d (padding must be numbers)");
    if (p->stride[0] != 1 || p->stride[1] != 1)
      return cp_fail(e, "padding: padding='same' is not supported for "
                        "strided convolutions");
  }
  if (T && p->mode != CP_PAD_ZEROS)
    return cp_fail(e, "padding_mode: only \"zeros\" padding mode is "
                      "supported for conv_transpose2d");
  if (ws[2] <= 0 || ws[3] <= 0)
    return cp_fail(e,
                   "weight: kernel size should be greater than zero, but got "
                   "kernel_height: %lld kernel_width: %lld",
                   (long long)ws[2], (long long)ws[3]);
  if (T && ws[0] >= 1 && ws[1] < 1)
    return cp_fail(e,
                   "weight: non-empty 2D or 4D weight tensor expected, but "
                   "got: %s",
                   shp(ws, b1, sizeof b1));
  if (ws[0] < 1)
    return cp_fail(e,
                   "weight: Given groups=%lld, expected weight to be at least "
                   "%lld at dimension 0, but got weight of size %s instead",
                   (long long)p->groups, (long long)p->groups,
                   shp(ws, b1, sizeof b1));
  if (ws[0] % p->groups != 0)
    return cp_fail(e,
                   "weight: Given groups=%lld, expected weight to be "
                   "divisible by %lld at dimension 0, but got weight of size "
                   "%s instead",
                   (long long)p->groups, (long long)p->groups,
                   shp(ws, b1, sizeof b1));
  int64_t C = xs[1];
  int64_t expectC = T ? ws[0] : ws[1] * p->groups;
  if (C != expectC) {
    if (T)
      return cp_fail(e,
                     "input: Given transposed=1, weight of size %s, expected "
                     "input%s to have %lld channels, but got %lld channels "
                     "instead",
                     shp(ws, b1, sizeof b1), shp(xs, b2, sizeof b2),
                     (long long)expectC, (long long)C);
    return cp_fail(e,
                   "input: Given groups=%lld, weight of size %s, expected "
                   "input%s to have %lld channels, but got %lld channels "
                   "instead",
                   (long long)p->groups, shp(ws, b1, sizeof b1),
                   shp(xs, b2, sizeof b2), (long long)expectC, (long long)C);
  }
  int64_t O = T ? ws[1] * p->groups : ws[0];
  if (has_bias && (bias_ndim != 1 || bias_len != O))
    return cp_fail(e,
                   "bias: Given weight of size %s, expected bias to be "
                   "1-dimensional with %lld elements, but got a bias of %lld "
                   "elements (%d dimensions) instead",
                   shp(ws, b1, sizeof b1), (long long)O, (long long)bias_len,
                   bias_ndim);

  g->N = xs[0];
  g->C = C;
  g->H = xs[2];
  g->W = xs[3];
  g->kH = ws[2];
  g->kW = ws[3];
  g->O = O;
  g->Cg = C / p->groups;
  g->Og = O / p->groups;

  if (p->padspec == CP_PADSPEC_SAME) {
    cp_same_pad(g->kH, p->dilation[0], &q->pad[0], &q->pad[1]);
    cp_same_pad(g->kW, p->dilation[1], &q->pad[2], &q->pad[3]);
  } else if (p->padspec == CP_PADSPEC_VALID) {
    memset(q->pad, 0, sizeof q->pad);
  }
  q->padspec = CP_PADSPEC_EXPLICIT;

  int64_t eH = extent(g->kH, p->dilation[0]);
  int64_t eW = extent(g->kW, p->dilation[1]);
  if (!T) {
    int padded = q->pad[0] || q->pad[1] || q->pad[2] || q->pad[3];
    if (q->mode != CP_PAD_ZEROS && padded && g->C == 0)
      return cp_fail(e,
                     "padding: %s padding needs a non-empty 3D or 4D (batch "
                     "mode) tensor for input, but got input of size %s",
                     cp_padmode_name(q->mode), shp(xs, b1, sizeof b1));
    if (cp_check_padmode(q->mode, q->pad, g->H, g->W, e)) return -1;
    int64_t pH = sat_add(sat_add(g->H, q->pad[0]), q->pad[1]);
    int64_t pW = sat_add(sat_add(g->W, q->pad[2]), q->pad[3]);
    if (pH >= CP_GEOM_MAX_SIZE || pW >= CP_GEOM_MAX_SIZE ||
        eH >= CP_GEOM_MAX_SIZE || eW >= CP_GEOM_MAX_SIZE)
      return cp_fail(e,
                     "input: padded input (%lld x %lld) or dilated kernel "
                     "(%lld x %lld) is too large (at most 2^62)",
                     (long long)pH, (long long)pW, (long long)eH,
                     (long long)eW);
    if (pH < eH || pW < eW)
      return cp_fail(e,
                     "input: Calculated padded input size per channel: (%lld "
                     "x %lld). Kernel size: (%lld x %lld). Kernel size can't "
                     "be greater than actual input size",
                     (long long)pH, (long long)pW, (long long)eH,
                     (long long)eW);
    g->OH = (pH - eH) / p->stride[0] + 1;
    g->OW = (pW - eW) / p->stride[1] + 1;
  } else {
    for (int i = 0; i < 2; i++)
      if (p->out_pad[i] >= p->stride[i] && p->out_pad[i] >= p->dilation[i])
        return cp_fail(e,
                       "output_padding: output padding must be smaller than "
                       "either stride or dilation, but got "
                       "output_padding_height: %lld output_padding_width: "
                       "%lld stride_height: %lld stride_width: %lld "
                       "dilation_height: %lld dilation_width: %lld",
                       (long long)p->out_pad[0], (long long)p->out_pad[1],
                       (long long)p->stride[0], (long long)p->stride[1],
                       (long long)p->dilation[0], (long long)p->dilation[1]);
    /* A zero-size input (allowed with N or C empty) counts as one row for
     * the output formula, as in PyTorch's (H - 1) s arithmetic. */
    int64_t canvasH = sat_add(sat_mul(g->H - 1, p->stride[0]), eH);
    int64_t canvasW = sat_add(sat_mul(g->W - 1, p->stride[1]), eW);
    if (canvasH >= CP_GEOM_MAX_SIZE || canvasW >= CP_GEOM_MAX_SIZE)
      return cp_fail(e,
                     "input: calculated output size overflows (input %lld x "
                     "%lld, stride %lld x %lld, kernel extent %lld x %lld)",
                     (long long)g->H, (long long)g->W,
                     (long long)p->stride[0], (long long)p->stride[1],
                     (long long)eH, (long long)eW);
    g->OH = canvasH - q->pad[0] - q->pad[1] + p->out_pad[0];
    g->OW = canvasW - q->pad[2] - q->pad[3] + p->out_pad[1];
    if (g->OH < 1 || g->OW < 1)
      return cp_fail(e,
                     "input: Given input size per channel: (%lld x %lld). "
                     "Calculated output size per channel: (%lld x %lld). "
                     "Output size is too small",
                     (long long)g->H, (long long)g->W, (long long)g->OH,
                     (long long)g->OW);
  }
  if (g->N > 0 && g->C > 0 && (g->H == 0 || g->W == 0))
    return cp_fail(e,
                   "input: Only zero batch or zero channel inputs are "
                   "supported, but got input shape: %s",
                   shp(xs, b1, sizeof b1));
  /* PyTorch quirk: with no input channels the output has none either. */
  if (g->C == 0) g->O = g->Og = 0;
  return 0;
}

/* ---- transposed canvases ------------------------------------------------ */

void cp_geomT_canvas(const cp_geom *g, cp_convT_canvas *c) {
  const int64_t in[2] = {g->H, g->W}, k[2] = {g->kH, g->kW};
  const int64_t out[2] = {g->OH, g->OW};
  for (int d = 0; d < 2; d++) {
    int64_t s = g->p.stride[d], dl = g->p.dilation[d];
    int64_t pb = g->p.pad[2 * d], pa = g->p.pad[2 * d + 1];
    int64_t span = dl * (k[d] - 1);
    int64_t full = (in[d] - 1) * s + span + 1;
    if (d == 0) c->rows = full;
    else c->cols = full;
    c->crop_after[d] = pa - g->p.out_pad[d];
    /* scatter, output coordinates: from -p to the last canvas cell or the
     * last output cell, whichever is further */
    int64_t hi = full - 1 - pb;
    if (hi < out[d] - 1) hi = out[d] - 1;
    c->scatter_lo[d] = -pb;
    c->scatter_len[d] = hi + pb + 1;
    /* gather: canvas row R + i*d - q for every output R and tap i, and
     * the zero-inserted input itself */
    int64_t q = span - pb;
    c->border[d] = q;
    c->zlen[d] = (in[d] - 1) * s + 1;
    int64_t lo = -q < 0 ? -q : 0;
    int64_t top = out[d] - 1 + span - q;
    if (top < c->zlen[d] - 1) top = c->zlen[d] - 1;
    c->gather_lo[d] = lo;
    c->gather_len[d] = top - lo + 1;
  }
}

int64_t cp_geomT_zsource(const cp_geom *g, int dim, int64_t z) {
  int64_t n = dim ? g->W : g->H, s = g->p.stride[dim];
  if (z < 0 || z > (n - 1) * s) return -1;
  if (z % s) return -2;
  return z / s;
}

/* ==========================================================================
 * Causal padding, the gradient's output_padding
 * ========================================================================== */

void cp_causal_pad(int64_t k, int64_t d, int64_t *before, int64_t *after) {
  *before = d * (k - 1);
  *after = 0;
}

int64_t cp_conv_dropped_rows(int64_t in, int64_t k, int64_t s,
                             int64_t pad_before, int64_t pad_after,
                             int64_t d) {
  return (in + pad_before + pad_after - d * (k - 1) - 1) % s;
}

/* ==========================================================================
 * Pooling
 * ========================================================================== */

void cp_pool_params_default(cp_pool_params *p, int64_t kH, int64_t kW) {
  memset(p, 0, sizeof *p);
  p->kernel[0] = p->stride[0] = kH;
  p->kernel[1] = p->stride[1] = kW;
  p->dilation[0] = p->dilation[1] = 1;
  p->count_include_pad = 1;
}

/* "[2, 3, 4]" for a message. */
static const char *dims_str(int ndim, const int64_t *s, char *buf, size_t n) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < ndim && used < n; i++)
    used += (size_t)snprintf(buf + used, n - used, "%s%lld", i ? ", " : "[",
                             (long long)s[i]);
  if (used < n) snprintf(buf + used, n - used, ndim ? "]" : "[]");
  return buf;
}

/* Floor division for a negative numerator too (PyTorch's div_rtn). */
static int64_t div_floor(int64_t a, int64_t b) {
  int64_t q = a / b, r = a % b;
  return (r != 0 && ((r < 0) != (b < 0))) ? q - 1 : q;
}

int64_t cp_pool_out_len_raw(int64_t in, int64_t k, int64_t s, int64_t p,
                            int64_t d, int ceil_mode) {
  return div_floor(in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0),
                   s) + 1;
}

int64_t cp_pool_out_len(int64_t in, int64_t k, int64_t s, int64_t p,
                        int64_t d, int ceil_mode) {
  int64_t out = cp_pool_out_len_raw(in, k, s, p, d, ceil_mode);
  /* the last window must start inside the input or the left padding */
  if (ceil_mode && (out - 1) * s >= in + p) out--;
  return out;
}

/* pooling_output_shape's own checks, then the size. */
static int pool_len(int64_t in, int64_t k, int64_t p, int64_t s, int64_t d,
                    int ceil_mode, int64_t *out, cp_err *e) {
  if (s == 0) return cp_fail(e, "stride: stride should not be zero");
  if (p < 0)
    return cp_fail(e, "padding: pad must be non-negative, but got pad: %lld",
                   (long long)p);
  if (p > k / 2)
    return cp_fail(e,
                   "padding: pad should be at most half of kernel size, but "
                   "got pad=%lld and kernel_size=%lld",
                   (long long)p, (long long)k);
  *out = s > 0 ? cp_pool_out_len(in, k, s, p, d, ceil_mode) : 0;
  return 0;
}

int cp_pool_geom_init(cp_pool_geom *g, const cp_pool_params *p,
                      cp_pool_kind kind, int ndim, const int64_t *shape,
                      cp_err *e) {
  char b[160];
  memset(g, 0, sizeof *g);
  g->p = *p;
  g->kind = kind;
  if (kind == CP_POOL_AVG) g->p.dilation[0] = g->p.dilation[1] = 1;
  if (ndim != 3 && ndim != 4) {
    if (kind == CP_POOL_MAX)
      return cp_fail(e, "input: non-empty 3D or 4D (batch mode) tensor "
                        "expected for input, but got input of size: %s",
                     dims_str(ndim, shape, b, sizeof b));
    return cp_fail(e,
                   "input: Expected 3D or 4D (batch mode) tensor with "
                   "optional 0 dim batch size for input, but got:%s",
                   dims_str(ndim, shape, b, sizeof b));
  }
  const int64_t big = (int64_t)1 << 31;
  const cp_pool_params *q = &g->p;
  for (int i = 0; i < 2; i++) {
    const char *what = q->kernel[i] > big || q->kernel[i] < -big ? "kernel_size"
                       : q->stride[i] > big || q->stride[i] < -big ? "stride"
                       : q->pad[i] > big || q->pad[i] < -big       ? "padding"
                       : q->dilation[i] > big || q->dilation[i] < -big
                           ? "dilation"
                           : NULL;
    if (what) return cp_fail(e, "%s: value too large (at most 2^31)", what);
  }
  g->N = ndim == 4 ? shape[0] : 1;
  g->C = shape[ndim - 3];
  g->H = shape[ndim - 2];
  g->W = shape[ndim - 1];
  if (pool_len(g->H, q->kernel[0], q->pad[0], q->stride[0], q->dilation[0],
               q->ceil_mode, &g->OH, e) ||
      pool_len(g->W, q->kernel[1], q->pad[1], q->stride[1], q->dilation[1],
               q->ceil_mode, &g->OW, e))
    return -1;
  /* pool2d_shape_check */
  if (q->kernel[0] <= 0 || q->kernel[1] <= 0)
    return cp_fail(e,
                   "kernel_size: kernel size should be greater than zero, "
                   "but got kH: %lld kW: %lld",
                   (long long)q->kernel[0], (long long)q->kernel[1]);
  if (q->stride[0] <= 0 || q->stride[1] <= 0)
    return cp_fail(e,
                   "stride: stride should be greater than zero, but got dH: "
                   "%lld dW: %lld",
                   (long long)q->stride[0], (long long)q->stride[1]);
  if (q->dilation[0] <= 0 || q->dilation[1] <= 0)
    return cp_fail(e,
                   "dilation: dilation should be greater than zero, but got "
                   "dilationH: %lld dilationW: %lld",
                   (long long)q->dilation[0], (long long)q->dilation[1]);
  int valid = shape[ndim == 4 ? 1 : 0] != 0 && g->H != 0 && g->W != 0;
  if (ndim == 3) valid = g->C != 0 && g->H != 0 && g->W != 0;
  if (!valid)
    return cp_fail(e,
                   "input: Expected 3D or 4D (batch mode) tensor with "
                   "optional 0 dim batch size for input, but got:%s",
                   dims_str(ndim, shape, b, sizeof b));
  if (g->OH < 1 || g->OW < 1)
    return cp_fail(e,
                   "input: Given input size: (%lldx%lldx%lld). Calculated "
                   "output size: (%lldx%lldx%lld). Output size is too small",
                   (long long)g->C, (long long)g->H, (long long)g->W,
                   (long long)g->C, (long long)g->OH, (long long)g->OW);
  return 0;
}

void cp_avg_range(const cp_pool_geom *g, int dim, int64_t i, int64_t *lo,
                  int64_t *hi, int64_t *factor) {
  const cp_pool_params *p = &g->p;
  int64_t n = dim ? g->W : g->H, pad = p->pad[dim];
  int64_t start = i * p->stride[dim] - pad, end = start + p->kernel[dim];
  if (end > n + pad) end = n + pad; /* (ceil_mode: past the right padding) */
  int64_t padded = end - start;
  if (start < 0) start = 0;
  if (end > n) end = n;
  *lo = start, *hi = end;
  *factor = p->count_include_pad ? padded : end - start;
}

void cp_avg_window(const cp_pool_geom *g, int64_t r, int64_t c, int64_t *r0,
                   int64_t *r1, int64_t *c0, int64_t *c1, int64_t *divisor) {
  int64_t fr, fc;
  cp_avg_range(g, 0, r, r0, r1, &fr);
  cp_avg_range(g, 1, c, c0, c1, &fc);
  *divisor = g->p.divisor_override ? g->p.divisor_override : fr * fc;
}

void cp_pool_as_conv(const cp_pool_geom *pg, cp_geom *g) {
  memset(g, 0, sizeof *g);
  cp_conv_params_default(&g->p);
  g->N = pg->N, g->C = pg->C, g->H = pg->H, g->W = pg->W;
  g->O = pg->C;
  g->kH = pg->p.kernel[0], g->kW = pg->p.kernel[1];
  g->OH = pg->OH, g->OW = pg->OW;
  g->Cg = g->Og = 1;
  g->p.groups = pg->C;
  const int64_t in[2] = {pg->H, pg->W}, out[2] = {pg->OH, pg->OW};
  for (int d = 0; d < 2; d++) {
    int64_t s = pg->p.stride[d], p = pg->p.pad[d], dd = pg->p.dilation[d];
    int64_t k = pg->p.kernel[d];
    g->p.stride[d] = s;
    g->p.dilation[d] = dd;
    g->p.pad[2 * d] = p;
    /* the last window's end, past the right padding with ceil_mode; and
     * the window ceil_mode dropped, so that a picture can show it */
    int64_t last = cp_pool_out_len_raw(in[d], k, s, p, dd, pg->p.ceil_mode);
    if (last < out[d]) last = out[d];
    int64_t end = (last - 1) * s - p + dd * (k - 1) + 1;
    int64_t after = end - in[d] > p ? end - in[d] : p;
    g->p.pad[2 * d + 1] = after;
  }
}

/* ==========================================================================
 * unfold / fold
 * ========================================================================== */

static void sliding_geom(cp_geom *g, const int64_t *kernel,
                         const int64_t *dilation, const int64_t *pad,
                         const int64_t *stride, int64_t H, int64_t W) {
  memset(g, 0, sizeof *g);
  cp_conv_params_default(&g->p);
  for (int i = 0; i < 2; i++) {
    g->p.stride[i] = stride[i];
    g->p.dilation[i] = dilation[i];
    g->p.pad[2 * i] = g->p.pad[2 * i + 1] = pad[i];
  }
  g->kH = kernel[0], g->kW = kernel[1];
  g->H = H, g->W = W;
  g->OH = div_floor(H + 2 * pad[0] - (dilation[0] * (kernel[0] - 1) + 1),
                    stride[0]) + 1;
  g->OW = div_floor(W + 2 * pad[1] - (dilation[1] * (kernel[1] - 1) + 1),
                    stride[1]) + 1;
}

/* The checks im2col and col2im share; `first` orders them as each does. */
static int sliding_checks(const int64_t *k, const int64_t *d,
                          const int64_t *p, const int64_t *s, int col2im,
                          cp_err *e) {
  const int64_t big = (int64_t)1 << 31;
  for (int i = 0; i < 2; i++)
    if (k[i] > big || d[i] > big || p[i] > big || s[i] > big)
      return cp_fail(e, "%s: value too large (at most 2^31)",
                     k[i] > big ? "kernel_size" : d[i] > big ? "dilation"
                     : p[i] > big ? "padding" : "stride");
  if (k[0] <= 0 || k[1] <= 0)
    return cp_fail(e,
                   "kernel_size: kernel size should be greater than zero, "
                   "but got kernel_height: %lld kernel_width: %lld",
                   (long long)k[0], (long long)k[1]);
  for (int step = 0; step < 3; step++) {
    /* im2col: dilation, padding, stride; col2im: stride, dilation, padding */
    int which = col2im ? (step == 0 ? 2 : step - 1) : step;
    if (which == 0 && (d[0] <= 0 || d[1] <= 0))
      return cp_fail(e,
                     "dilation: dilation should be greater than zero, but "
                     "got dilation_height: %lld dilation_width: %lld",
                     (long long)d[0], (long long)d[1]);
    if (which == 1 && (p[0] < 0 || p[1] < 0))
      return cp_fail(e,
                     "padding: padding should be non-negative, but got "
                     "pad_height: %lld pad_width: %lld",
                     (long long)p[0], (long long)p[1]);
    if (which == 2 && (s[0] <= 0 || s[1] <= 0))
      return cp_fail(e,
                     "stride: stride should be greater than zero, but got "
                     "stride_height: %lld stride_width: %lld",
                     (long long)s[0], (long long)s[1]);
  }
  return 0;
}

int cp_unfold_geom_init(cp_geom *g, const int64_t *k, const int64_t *d,
                        const int64_t *p, const int64_t *s, int ndim,
                        const int64_t *shape, cp_err *e) {
  char b[160];
  if (sliding_checks(k, d, p, s, 0, e)) return -1;
  int ok = (ndim == 3 && shape[0] && shape[1] && shape[2]) ||
           (ndim == 4 && shape[1] && shape[2] && shape[3]);
  if (!ok)
    return cp_fail(e,
                   "input: Expected 3D or 4D (batch mode) tensor with "
                   "possibly 0 batch size and other non-zero dimensions for "
                   "input, but got: %s",
                   dims_str(ndim, shape, b, sizeof b));
  sliding_geom(g, k, d, p, s, shape[ndim - 2], shape[ndim - 1]);
  g->N = ndim == 4 ? shape[0] : 1;
  g->C = shape[ndim - 3];
  if (g->OH < 1 || g->OW < 1)
    /* (PyTorch prints the input height twice; the width is meant) */
    return cp_fail(e,
                   "input: Given input with spatial size (%lld, %lld), "
                   "kernel_size=(%lld, %lld), dilation=(%lld, %lld), "
                   "padding=(%lld, %lld), calculated shape of the array of "
                   "sliding blocks as (%lld, %lld), but its components must "
                   "be at least one.",
                   (long long)g->H, (long long)g->W, (long long)k[0],
                   (long long)k[1], (long long)d[0], (long long)d[1],
                   (long long)p[0], (long long)p[1], (long long)g->OH,
                   (long long)g->OW);
  return 0;
}

int cp_fold_geom_init(cp_geom *g, const int64_t *out_hw, const int64_t *k,
                      const int64_t *d, const int64_t *p, const int64_t *s,
                      int ndim, const int64_t *shape, cp_err *e) {
  char b[160];
  const int64_t big = (int64_t)1 << 31;
  if (sliding_checks(k, d, p, s, 1, e)) return -1;
  if (out_hw[0] < 0 || out_hw[1] < 0 || out_hw[0] > big || out_hw[1] > big)
    return cp_fail(e, "output_size: expected sizes in 0..2^31, got (%lld, %lld)",
                   (long long)out_hw[0], (long long)out_hw[1]);
  int ok = (ndim == 2 && shape[0] && shape[1]) ||
           (ndim == 3 && shape[1] && shape[2]);
  if (!ok)
    return cp_fail(e,
                   "input: Expected 2D or 3D (batch mode) tensor for input "
                   "with possibly 0 batch size and non-zero dimensions for "
                   "input, but got: %s",
                   dims_str(ndim, shape, b, sizeof b));
  int64_t planes = shape[ndim - 2], L = shape[ndim - 1];
  if (planes % (k[0] * k[1]) != 0)
    return cp_fail(e,
                   "input: Expected size of input's dimension 1 to be "
                   "divisible by the product of kernel_size, but got "
                   "input.size(1)=%lld and kernel_size=(%lld, %lld).",
                   (long long)planes, (long long)k[0], (long long)k[1]);
  sliding_geom(g, k, d, p, s, out_hw[0], out_hw[1]);
  g->N = ndim == 3 ? shape[0] : 1;
  g->C = planes / (k[0] * k[1]);
  int64_t blocks;
  if (__builtin_mul_overflow(g->OH, g->OW, &blocks)) blocks = -1;
  if (L != blocks)
    return cp_fail(e,
                   "input: Given output_size=(%lld, %lld), kernel_size=(%lld, "
                   "%lld), dilation=(%lld, %lld), padding=(%lld, %lld), "
                   "stride=(%lld, %lld), expected size of input's dimension 2 "
                   "to match the calculated number of sliding blocks %lld * "
                   "%lld = %lld, but got input.size(2)=%lld.",
                   (long long)out_hw[0], (long long)out_hw[1], (long long)k[0],
                   (long long)k[1], (long long)d[0], (long long)d[1],
                   (long long)p[0], (long long)p[1], (long long)s[0],
                   (long long)s[1], (long long)g->OH, (long long)g->OW,
                   (long long)blocks, (long long)L);
  if (g->OH < 1 || g->OW < 1)
    return cp_fail(e,
                   "output_size: Given output_size=(%lld, %lld), "
                   "kernel_size=(%lld, %lld), dilation=(%lld, %lld), "
                   "padding=(%lld, %lld), stride=(%lld, %lld), calculated "
                   "shape of the array of sliding blocks as (%lld, %lld), "
                   "which is too small (non-positive).",
                   (long long)out_hw[0], (long long)out_hw[1], (long long)k[0],
                   (long long)k[1], (long long)d[0], (long long)d[1],
                   (long long)p[0], (long long)p[1], (long long)s[0],
                   (long long)s[1], (long long)g->OH, (long long)g->OW);
  return 0;
}

int64_t cp_conv_out_len_raw(int64_t in, int64_t k, int64_t s,
                            int64_t pad_before, int64_t pad_after,
                            int64_t d) {
  int64_t num = in + pad_before + pad_after - d * (k - 1) - 1;
  /* floor division, also for a negative numerator */
  int64_t q = s > 0 ? (num >= 0 ? num / s : -((-num + s - 1) / s)) : 0;
  return q + 1;
}

/* ---- a stack of layers ------------------------------------------------------ */

int64_t cp_layer_out_len(const cp_layer *l, int dim, int64_t in, cp_err *e) {
  const char *dn = dim ? "width" : "height";
  int64_t k = l->k[dim], s = l->s[dim], p = l->p[dim], d = l->d[dim];
  if (k < 1) return cp_fail(e, "kernel size must be at least 1, got %lld",
                            (long long)k), -1;
  if (s < 1) return cp_fail(e, "stride must be at least 1, got %lld",
                            (long long)s), -1;
  if (d < 1) return cp_fail(e, "dilation must be at least 1, got %lld",
                            (long long)d), -1;
  if (p < 0) return cp_fail(e, "padding must not be negative, got %lld",
                            (long long)p), -1;
  if (k > 4096 || s > 4096 || d > 4096 || p > 4096 || in > 1 << 20)
    return cp_fail(e, "parameters too large"), -1;
  int64_t out;
  if (l->kind == CP_LAYER_CONVT) {
    int64_t op = l->op[dim];
    if (op < 0 || (op >= s && op >= d))
      return cp_fail(e, "output_padding %lld must be smaller than the "
                     "stride (%lld) or the dilation (%lld)", (long long)op,
                     (long long)s, (long long)d), -1;
    out = (in - 1) * s - 2 * p + d * (k - 1) + op + 1;
    if (out < 1)
      return cp_fail(e, "output %s would be %lld: (%lld-1)*%lld - 2*%lld + "
                     "%lld*(%lld-1) + %lld + 1", dn, (long long)out,
                     (long long)in, (long long)s, (long long)p, (long long)d,
                     (long long)k, (long long)op), -1;
    return out;
  }
  if (l->kind != CP_LAYER_CONV && 2 * p > k)
    return cp_fail(e, "padding %lld should be at most half of the kernel "
                   "size %lld", (long long)p, (long long)k), -1;
  if (l->kind == CP_LAYER_CONV)
    out = cp_conv_out_len_raw(in, k, s, p, p, d);
  else
    out = cp_pool_out_len(in, k, s, p, d, l->ceil_mode);
  if (out < 1)
    return cp_fail(e, "output %s would be %lld: the window (%lld) is larger "
                   "than the padded input (%lld)", dn, (long long)out,
                   (long long)(d * (k - 1) + 1), (long long)(in + 2 * p)), -1;
  return out;
}

void cp_layer_field(const cp_layer *l, int dim, int64_t in, int64_t out,
                    const unsigned char *out_set, unsigned char *in_set) {
  int64_t k = l->k[dim], s = l->s[dim], p = l->p[dim], d = l->d[dim];
  for (int64_t i = 0; i < in; i++) in_set[i] = 0;
  if (l->kind == CP_LAYER_CONVT) { /* input i, tap t writes i*s + t*d - p */
    for (int64_t i = 0; i < in; i++)
      for (int64_t t = 0; t < k && !in_set[i]; t++) {
        int64_t o = i * s + t * d - p;
        if (o >= 0 && o < out && out_set[o]) in_set[i] = 1;
      }
    return;
  }
  for (int64_t o = 0; o < out; o++) { /* output o reads o*s - p + t*d */
    if (!out_set[o]) continue;
    for (int64_t t = 0; t < k; t++) {
      int64_t i = o * s - p + t * d;
      if (i >= 0 && i < in) in_set[i] = 1;
    }
  }
}

int64_t cp_layer_unread(const cp_layer *l, int dim, int64_t in, int64_t out,
                        unsigned char *read) {
  int64_t n = 0;
  if (l->kind == CP_LAYER_CONVT) { /* every input cell is scattered */
    for (int64_t i = 0; i < in; i++) read[i] = 1;
    return 0;
  }
  for (int64_t i = 0; i < in; i++) read[i] = 0;
  int64_t k = l->k[dim], s = l->s[dim], p = l->p[dim], d = l->d[dim];
  for (int64_t o = 0; o < out; o++)
    for (int64_t t = 0; t < k; t++) {
      int64_t i = o * s - p + t * d;
      if (i >= 0 && i < in) read[i] = 1;
    }
  for (int64_t i = 0; i < in; i++) n += !read[i];
  return n;
}
