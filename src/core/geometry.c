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

void cp_same_pad(int64_t k, int64_t d, int64_t *before, int64_t *after) {
  int64_t total = d * (k - 1);
  *before = total / 2;
  *after = total - total / 2;
}

/* Dilated kernel extent d(k-1)+1. */
static int64_t extent(int64_t k, int64_t d) { return d * (k - 1) + 1; }

int64_t cp_conv_out_len(int64_t in, int64_t k, int64_t s, int64_t pad_before,
                        int64_t pad_after, int64_t d, cp_err *e) {
  if (k <= 0) return cp_fail(e, "kernel_size: must be greater than zero");
  if (s <= 0) return cp_fail(e, "stride: non-positive stride is not supported");
  if (d <= 0) return cp_fail(e, "dilation: dilation should be greater than zero");
  if (pad_before < 0 || pad_after < 0)
    return cp_fail(e, "padding: negative padding is not supported");
  int64_t padded = in + pad_before + pad_after, ext = extent(k, d);
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
  int64_t out = (in - 1) * s - 2 * p + d * (k - 1) + op + 1;
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
  int64_t q = d * (k - 1) - p;
  int64_t zr = R + i * d - q;
  if (z) *z = zr;
  if (zr < 0 || zr > (in - 1) * s) return -1;
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
    int64_t pH = g->H + q->pad[0] + q->pad[1];
    int64_t pW = g->W + q->pad[2] + q->pad[3];
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
    g->OH = (g->H - 1) * p->stride[0] - q->pad[0] - q->pad[1] + eH - 1 +
            p->out_pad[0] + 1;
    g->OW = (g->W - 1) * p->stride[1] - q->pad[2] - q->pad[3] + eW - 1 +
            p->out_pad[1] + 1;
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
