/* pool.c - max / avg / adaptive pooling and max_unpool2d: reference loops,
 * vectorised threaded fast paths, and the ops around them. */
#include "pool.h"

#include <math.h>
#include <smmintrin.h>
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "threads.h"

/* Planes whose indices float32 holds exactly. */
#define INDEX_LIMIT ((int64_t)1 << 24)

/* PyTorch's update rule: a larger value, or any NaN. */
static inline int takes(float v, float m) { return v > m || isnan(v); }

/* ====================================================================== */
/* Reference loops                                                          */
/* ====================================================================== */

/* One (H, W) plane: PyTorch's scan, window by window. */
static void max_plane(const cp_pool_geom *g, const float *xp, float *y,
                      float *ind) {
  const int64_t H = g->H, W = g->W, kH = g->p.kernel[0], kW = g->p.kernel[1];
  const int64_t dH = g->p.dilation[0], dW = g->p.dilation[1];
  for (int64_t r = 0; r < g->OH; r++)
    for (int64_t c = 0; c < g->OW; c++) {
      /* the first cell inside the input (PyTorch's starting index) */
      int64_t h0 = cp_pool_in_row(g, r, 0), w0 = cp_pool_in_col(g, c, 0);
      while (h0 < 0) h0 += dH;
      while (w0 < 0) w0 += dW;
      float m = -INFINITY;
      int64_t mi = h0 * W + w0;
      for (int64_t i = 0; i < kH; i++) {
        int64_t h = cp_pool_in_row(g, r, i);
        if (h < 0 || h >= H) continue;
        for (int64_t j = 0; j < kW; j++) {
          int64_t w = cp_pool_in_col(g, c, j);
          if (w < 0 || w >= W) continue;
          float v = xp[h * W + w];
          if (takes(v, m)) {
            m = v;
            mi = h * W + w;
          }
        }
      }
      y[r * g->OW + c] = m;
      if (ind) ind[r * g->OW + c] = (float)mi;
    }
}

void cp_max_pool2d_ref(const cp_pool_geom *g, const float *x, float *y,
                       float *ind) {
  const int64_t in = g->H * g->W, out = g->OH * g->OW;
  for (int64_t pl = 0; pl < g->N * g->C; pl++)
    max_plane(g, x + pl * in, y + pl * out, ind ? ind + pl * out : NULL);
}

void cp_avg_pool2d_ref(const cp_pool_geom *g, const float *x, float *y) {
  const int64_t H = g->H, W = g->W;
  for (int64_t pl = 0; pl < g->N * g->C; pl++) {
    const float *xp = x + pl * H * W;
    for (int64_t r = 0; r < g->OH; r++)
      for (int64_t c = 0; c < g->OW; c++) {
        int64_t r0, r1, c0, c1, div;
        cp_avg_window(g, r, c, &r0, &r1, &c0, &c1, &div);
        float sum = 0.0f; /* in float and row-major order, as PyTorch */
        for (int64_t h = r0; h < r1; h++)
          for (int64_t w = c0; w < c1; w++) sum += xp[h * W + w];
        y[(pl * g->OH + r) * g->OW + c] = sum / (float)div;
      }
  }
}

/* ====================================================================== */
/* Fast paths: rows first (vectors down the columns), then across          */
/* ====================================================================== */

typedef struct pool_job {
  const cp_pool_geom *g;
  const float *x;
  float *y;
  int failed;                 /* a thread could not get its scratch */
} pool_job;

/* The output rows [lo, hi) of all planes (row index = plane*OH + r) that
 * thread tid of nth does. */
static void split(const cp_pool_geom *g, int tid, int nth, int64_t *lo,
                  int64_t *hi) {
  int64_t rows = g->N * g->C * g->OH;
  *lo = rows * tid / nth;
  *hi = rows * (tid + 1) / nth;
}

/* m = max(m, v) elementwise with NaN kept (maxps drops a NaN first
 * operand, so NaN lanes are tracked apart and put back at the end). */
static void max_rows(const float *src, float *m, float *nan, int64_t W,
                     int first) {
  int64_t c = 0;
  if (first) {
    for (; c + 4 <= W; c += 4) {
      __m128 v = _mm_loadu_ps(src + c);
      _mm_storeu_ps(m + c, v);
      _mm_storeu_ps(nan + c, _mm_cmpunord_ps(v, v));
    }
    for (; c < W; c++) {
      m[c] = src[c];
      nan[c] = isnan(src[c]) ? 1.0f : 0.0f;
    }
    return;
  }
  for (; c + 4 <= W; c += 4) {
    __m128 v = _mm_loadu_ps(src + c);
    _mm_storeu_ps(m + c, _mm_max_ps(_mm_loadu_ps(m + c), v));
    _mm_storeu_ps(nan + c,
                  _mm_or_ps(_mm_loadu_ps(nan + c), _mm_cmpunord_ps(v, v)));
  }
  for (; c < W; c++) {
    if (src[c] > m[c]) m[c] = src[c];
    if (isnan(src[c])) nan[c] = 1.0f;
  }
}

static void max_work(int tid, int nth, void *ctx) {
  pool_job *J = ctx;
  const cp_pool_geom *g = J->g;
  const int64_t H = g->H, W = g->W, kH = g->p.kernel[0], kW = g->p.kernel[1];
  int64_t lo, hi;
  split(g, tid, nth, &lo, &hi);
  if (lo >= hi) return;
  float *m = cp_threads_scratch(tid, (size_t)(2 * W + 8) * sizeof(float));
  if (m == NULL) {
    J->failed = 1;
    return;
  }
  float *nan = m + W + 4;
  for (int64_t row = lo; row < hi; row++) {
    int64_t pl = row / g->OH, r = row % g->OH;
    const float *xp = J->x + pl * H * W;
    float *yr = J->y + row * g->OW;
    int first = 1;
    for (int64_t i = 0; i < kH; i++) {
      int64_t h = cp_pool_in_row(g, r, i);
      if (h < 0 || h >= H) continue;
      max_rows(xp + h * W, m, nan, W, first);
      first = 0;
    }
    for (int64_t c = 0; c < g->OW; c++) {
      float v = -INFINITY;
      int isn = 0;
      if (!first)
        for (int64_t j = 0; j < kW; j++) {
          int64_t w = cp_pool_in_col(g, c, j);
          if (w < 0 || w >= W) continue;
          if (m[w] > v) v = m[w];
          isn |= nan[w] != 0.0f; /* (the mask's all-ones bits are a NaN) */
        }
      yr[c] = isn ? NAN : v;
    }
  }
}

/* The common 2x2 / stride-2 window on two input rows: both rows and both
 * columns added in one pass (even and odd columns split by shuffles), the
 * divisor of each column from cw as in the general loop below. */
static void avg_2x2_row(const float *x0, const float *x1, float *y,
                        int64_t OW, int64_t W, const int64_t *cw, int64_t fr,
                        int64_t override) {
  int64_t c = 0;
  /* full windows: columns 2c, 2c+1 both inside (c < W/2) */
  int64_t full = W / 2 < OW ? W / 2 : OW;
  float dv = (float)(override ? override : fr * 2);
  __m128 d = _mm_set1_ps(dv);
  for (; c + 4 <= full; c += 4) {
    __m128 a = _mm_add_ps(_mm_loadu_ps(x0 + 2 * c), _mm_loadu_ps(x1 + 2 * c));
    __m128 b = _mm_add_ps(_mm_loadu_ps(x0 + 2 * c + 4),
                          _mm_loadu_ps(x1 + 2 * c + 4));
    __m128 ev = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    __m128 od = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    _mm_storeu_ps(y + c, _mm_div_ps(_mm_add_ps(ev, od), d));
  }
  for (; c < OW; c++) {
    float sum = 0.0f;
    for (int64_t w = cw[3 * c]; w < cw[3 * c + 1]; w++) sum += x0[w] + x1[w];
    int64_t dd = override ? override : fr * cw[3 * c + 2];
    y[c] = sum / (float)dd;
  }
}

static void avg_work(int tid, int nth, void *ctx) {
  pool_job *J = ctx;
  const cp_pool_geom *g = J->g;
  const int64_t H = g->H, W = g->W, OW = g->OW;
  int64_t lo, hi;
  split(g, tid, nth, &lo, &hi);
  if (lo >= hi) return;
  /* row sums, then per output column its first/last input column and its
   * share of the divisor (the window is a product of a row and a column
   * range, and so is each divisor rule) */
  float *s = cp_threads_scratch(tid, (size_t)(W + 4 + 3 * OW) * 8);
  if (s == NULL) {
    J->failed = 1;
    return;
  }
  int64_t *cw = (int64_t *)(void *)(s + ((W + 4 + 1) & ~(int64_t)1));
  for (int64_t c = 0; c < OW; c++)
    cp_avg_range(g, 1, c, &cw[3 * c], &cw[3 * c + 1], &cw[3 * c + 2]);
  for (int64_t row = lo; row < hi; row++) {
    int64_t pl = row / g->OH, r = row % g->OH;
    const float *xp = J->x + pl * H * W;
    float *yr = J->y + row * OW;
    int64_t r0, r1, fr;
    cp_avg_range(g, 0, r, &r0, &r1, &fr);
    if (r1 - r0 == 2 && g->p.kernel[1] == 2 && g->p.stride[1] == 2 &&
        g->p.pad[1] == 0) {
      avg_2x2_row(xp + r0 * W, xp + (r0 + 1) * W, yr, OW, W, cw, fr,
                  g->p.divisor_override);
      continue;
    }
    if (r1 <= r0) {
      memset(s, 0, (size_t)W * sizeof *s);
    } else {
      memcpy(s, xp + r0 * W, (size_t)W * sizeof *s);
      for (int64_t h = r0 + 1; h < r1; h++) {
        const float *src = xp + h * W;
        int64_t c = 0;
        for (; c + 4 <= W; c += 4)
          _mm_storeu_ps(s + c, _mm_add_ps(_mm_loadu_ps(s + c),
                                          _mm_loadu_ps(src + c)));
        for (; c < W; c++) s[c] += src[c];
      }
    }
    for (int64_t c = 0; c < OW; c++) {
      float sum = 0.0f;
      for (int64_t w = cw[3 * c]; w < cw[3 * c + 1]; w++) sum += s[w];
      int64_t d = g->p.divisor_override ? g->p.divisor_override
                                        : fr * cw[3 * c + 2];
      yr[c] = sum / (float)d;
    }
  }
}

/* With indices: the reference scan, planes split over threads. */
typedef struct idx_job {
  const cp_pool_geom *g;
  const float *x;
  float *y, *ind;
} idx_job;

static void max_idx_work(int tid, int nth, void *ctx) {
  idx_job *J = ctx;
  const cp_pool_geom *g = J->g;
  const int64_t planes = g->N * g->C, in = g->H * g->W, out = g->OH * g->OW;
  for (int64_t pl = planes * tid / nth; pl < planes * (tid + 1) / nth; pl++)
    max_plane(g, J->x + pl * in, J->y + pl * out, J->ind + pl * out);
}

/* Threads for n output cells: one below ~64K, else all. */
static int threads_for(int64_t n) { return n < 65536 ? 1 : cp_threads_count(); }

int cp_max_pool2d_fast_indices(const cp_pool_geom *g, const float *x,
                               float *y, float *ind) {
  idx_job J = {g, x, y, ind};
  int nth = g->N * g->C < 2 ? 1 : threads_for(g->N * g->C * g->OH * g->OW);
  cp_threads_run(nth, max_idx_work, &J);
  return 0;
}

int cp_max_pool2d_fast(const cp_pool_geom *g, const float *x, float *y) {
  pool_job J = {g, x, y, 0};
  cp_threads_run(threads_for(g->N * g->C * g->OH * g->OW), max_work, &J);
  return J.failed;
}

int cp_avg_pool2d_fast(const cp_pool_geom *g, const float *x, float *y) {
  pool_job J = {g, x, y, 0};
  cp_threads_run(threads_for(g->N * g->C * g->OH * g->OW), avg_work, &J);
  return J.failed;
}

/* ====================================================================== */
/* The ops                                                                  */
/* ====================================================================== */

/* An output (and optional indices) of x's rank with the last two sizes
 * replaced; a contiguous copy of x in *xc. */
static int prepare(cp_tensor *out, cp_tensor *ind, cp_tensor *xc,
                   const cp_tensor *x, int64_t OH, int64_t OW, cp_err *e) {
  int64_t shape[CP_MAXDIM];
  memcpy(shape, x->shape, sizeof shape);
  shape[x->ndim - 2] = OH;
  shape[x->ndim - 1] = OW;
  memset(xc, 0, sizeof *xc);
  if (cp_tensor_empty(out, x->ndim, shape, e)) return -1;
  if (ind && cp_tensor_empty(ind, x->ndim, shape, e)) goto fail;
  if (cp_tensor_contiguous(xc, x, e)) goto fail;
  return 0;
fail:
  cp_tensor_release(out);
  if (ind) cp_tensor_release(ind);
  return -1;
}

static int check_index_plane(int64_t H, int64_t W, cp_err *e) {
  if (H * W > INDEX_LIMIT)
    return cp_fail(e,
                   "return_indices: a plane of %lld x %lld cells has "
                   "indices float32 cannot hold exactly (at most 2^24 cells)",
                   (long long)H, (long long)W);
  return 0;
}

int cp_max_pool2d(cp_tensor *out, cp_tensor *indices, const cp_tensor *x,
                  const cp_pool_params *p, cp_err *e) {
  memset(out, 0, sizeof *out);
  if (indices) memset(indices, 0, sizeof *indices);
  cp_pool_geom g;
  if (cp_pool_geom_init(&g, p, CP_POOL_MAX, x->ndim, x->shape, e)) return -1;
  if (indices && check_index_plane(g.H, g.W, e)) return -1;
  cp_tensor xc;
  if (prepare(out, indices, &xc, x, g.OH, g.OW, e)) return -1;
  if (cp_tensor_numel(out) > 0) {
    const float *xp = cp_tensor_data(&xc);
    float *yp = cp_tensor_data(out);
    float *ip = indices ? cp_tensor_data(indices) : NULL;
    if (cp_conv_get_impl() == CP_IMPL_REFERENCE ||
        (ip ? cp_max_pool2d_fast_indices(&g, xp, yp, ip)
            : cp_max_pool2d_fast(&g, xp, yp)))
      cp_max_pool2d_ref(&g, xp, yp, ip);
  }
  cp_tensor_release(&xc);
  return 0;
}

int cp_avg_pool2d(cp_tensor *out, const cp_tensor *x, const cp_pool_params *p,
                  cp_err *e) {
  memset(out, 0, sizeof *out);
  cp_pool_geom g;
  if (cp_pool_geom_init(&g, p, CP_POOL_AVG, x->ndim, x->shape, e)) return -1;
  cp_tensor xc;
  if (prepare(out, NULL, &xc, x, g.OH, g.OW, e)) return -1;
  if (cp_tensor_numel(out) > 0) {
    const float *xp = cp_tensor_data(&xc);
    float *yp = cp_tensor_data(out);
    if (cp_conv_get_impl() == CP_IMPL_REFERENCE ||
        cp_avg_pool2d_fast(&g, xp, yp))
      cp_avg_pool2d_ref(&g, xp, yp);
  }
  cp_tensor_release(&xc);
  return 0;
}

/* ---- adaptive ------------------------------------------------------------ */

int cp_adaptive_pool2d(cp_tensor *out, cp_tensor *indices, const cp_tensor *x,
                       const int64_t *out_hw, cp_pool_kind kind, cp_err *e) {
  char b[160];
  const char *name = kind == CP_POOL_MAX ? "adaptive_max_pool2d"
                                         : "adaptive_avg_pool2d";
  memset(out, 0, sizeof *out);
  if (indices) memset(indices, 0, sizeof *indices);
  if (out_hw[0] < 0 || out_hw[1] < 0)
    return cp_fail(e,
                   "output_size: %s: elements of output_size must be greater "
                   "than or equal to 0 but received {%lld, %lld}",
                   name, (long long)out_hw[0], (long long)out_hw[1]);
  if (out_hw[0] > ((int64_t)1 << 31) || out_hw[1] > ((int64_t)1 << 31))
    return cp_fail(e, "output_size: value too large (at most 2^31)");
  if (x->ndim != 3 && x->ndim != 4)
    return cp_fail(e, "input: %s(): Expected 3D or 4D tensor, but got%s %s",
                   name, kind == CP_POOL_MAX ? ":" : "",
                   cp_shape_str(x->ndim, x->shape, b, sizeof b));
  for (int d = x->ndim - 3; d < x->ndim; d++)
    if (x->shape[d] == 0)
      return cp_fail(e,
                     "input: %s(): Expected input to have non-zero size for "
                     "non-batch dimensions, but input has sizes %s with "
                     "dimension %d being empty",
                     name, cp_shape_str(x->ndim, x->shape, b, sizeof b), d);
  const int64_t H = x->shape[x->ndim - 2], W = x->shape[x->ndim - 1];
  const int64_t OH = out_hw[0], OW = out_hw[1];
  if (indices && check_index_plane(H, W, e)) return -1;
  cp_tensor xc;
  if (prepare(out, indices, &xc, x, OH, OW, e)) return -1;
  int64_t planes = cp_tensor_numel(&xc) / (H * W);
  const float *xp = cp_tensor_data(&xc);
  float *yp = cp_tensor_numel(out) ? cp_tensor_data(out) : NULL;
  float *ip = indices && yp ? cp_tensor_data(indices) : NULL;
  for (int64_t pl = 0; yp && pl < planes; pl++)
    for (int64_t r = 0; r < OH; r++) {
      int64_t h0 = cp_adaptive_start(r, H, OH), h1 = cp_adaptive_end(r, H, OH);
      for (int64_t c = 0; c < OW; c++) {
        int64_t w0 = cp_adaptive_start(c, W, OW);
        int64_t w1 = cp_adaptive_end(c, W, OW);
        const float *src = xp + pl * H * W;
        int64_t o = (pl * OH + r) * OW + c;
        if (kind == CP_POOL_AVG) {
          float sum = 0.0f;
          for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++) sum += src[h * W + w];
          yp[o] = sum / (float)((h1 - h0) * (w1 - w0));
        } else {
          float m = -INFINITY;
          int64_t mi = h0 * W + w0;
          for (int64_t h = h0; h < h1; h++)
            for (int64_t w = w0; w < w1; w++)
              if (takes(src[h * W + w], m)) {
                m = src[h * W + w];
                mi = h * W + w;
              }
          yp[o] = m;
          if (ip) ip[o] = (float)mi;
        }
      }
    }
  cp_tensor_release(&xc);
  return 0;
}

/* ---- max_unpool2d ---------------------------------------------------------- */

int cp_max_unpool2d(cp_tensor *out, const cp_tensor *x,
                    const cp_tensor *indices, const cp_pool_params *p,
                    const int64_t *out_hw, cp_err *e) {
  char b1[160], b2[160];
  memset(out, 0, sizeof *out);
  const int64_t big = (int64_t)1 << 31;
  for (int i = 0; i < 2; i++) {
    if (p->kernel[i] <= 0 || p->kernel[i] > big)
      return cp_fail(e, "kernel_size: expected 1..2^31, got %lld",
                     (long long)p->kernel[i]);
    if (p->stride[i] <= 0 || p->stride[i] > big)
      return cp_fail(e, "stride: expected 1..2^31, got %lld",
                     (long long)p->stride[i]);
    if (p->pad[i] < 0 || p->pad[i] > big)
      return cp_fail(e, "padding: expected 0..2^31, got %lld",
                     (long long)p->pad[i]);
  }
  if (x->ndim != 3 && x->ndim != 4)
    return cp_fail(e,
                   "input: Input to max_unpooling2d should be a 3d or 4d "
                   "Tensor, but got a tensor with %d dimensions.",
                   x->ndim);
  int64_t size[2];
  for (int i = 0; i < 2; i++) {
    int64_t in = x->shape[x->ndim - 2 + i];
    int64_t def = (in - 1) * p->stride[i] + p->kernel[i] - 2 * p->pad[i];
    size[i] = def;
    if (out_hw) {
      int64_t lo = def - p->stride[i], hi = def + p->stride[i];
      if (!(lo < out_hw[i] && out_hw[i] < hi))
        return cp_fail(e,
                       "output_size: invalid output_size \"[%lld, %lld]\" (dim "
                       "%d must be between %lld and %lld)",
                       (long long)out_hw[0], (long long)out_hw[1], i,
                       (long long)lo, (long long)hi);
      size[i] = out_hw[i];
    }
    if (size[i] < 0)
      return cp_fail(e, "output_size: the output size %lld is negative",
                     (long long)size[i]);
  }
  if (!cp_tensor_same_shape(x, indices))
    return cp_fail(e,
                   "indices: Expected shape of indices to be same as that of "
                   "the input tensor (%s) but got indices tensor with shape: "
                   "%s",
                   cp_shape_str(x->ndim, x->shape, b1, sizeof b1),
                   cp_shape_str(indices->ndim, indices->shape, b2, sizeof b2));
  for (int d = 1; d < x->ndim; d++)
    if (x->shape[d] == 0)
      return cp_fail(e,
                     "input: max_unpooling2d_forward_out_cpu(): Expected "
                     "input to have non-zero size for non-batch dimensions, "
                     "but got %s with dimension %d being empty.",
                     cp_shape_str(x->ndim, x->shape, b1, sizeof b1), d);
  cp_tensor xc, ic;
  if (prepare(out, NULL, &xc, x, size[0], size[1], e)) return -1;
  if (cp_tensor_contiguous(&ic, indices, e)) {
    cp_tensor_release(&xc);
    cp_tensor_release(out);
    return -1;
  }
  int64_t plane = size[0] * size[1], n = cp_tensor_numel(out);
  if (n) memset(cp_tensor_data(out), 0, (size_t)n * sizeof(float));
  int64_t in_plane = x->shape[x->ndim - 2] * x->shape[x->ndim - 1];
  int64_t m = cp_tensor_numel(&xc);
  const float *xp = m ? cp_tensor_data(&xc) : NULL;
  const float *ip = m ? cp_tensor_data(&ic) : NULL;
  /* Every index is checked and the last bad one reported, as PyTorch's
   * kernel does; an empty output takes nothing and checks nothing. */
  int rc = 0;
  float bad = 0.0f;
  for (int64_t k = 0; k < m && plane > 0; k++) {
    float fi = ip[k];
    if (!(fi >= 0 && (double)fi < (double)plane) || fi != floorf(fi)) {
      rc = -1;
      bad = fi;
      continue;
    }
    cp_tensor_data(out)[(k / in_plane) * plane + (int64_t)fi] = xp[k];
  }
  if (rc)
    cp_fail(e,
            "indices: Found an invalid max index: %g (output volumes are of "
            "size %lldx%lld",
            (double)bad, (long long)size[0], (long long)size[1]);
  cp_tensor_release(&ic);
  cp_tensor_release(&xc);
  if (rc) cp_tensor_release(out);
  return rc;
}
