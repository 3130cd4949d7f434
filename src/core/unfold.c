/* unfold.c - im2col / col2im (reference loops and threaded row copies) and
 * torch.matmul. */
#include "unfold.h"

#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "threads.h"

/* ====================================================================== */
/* Reference loops                                                          */
/* ====================================================================== */

/* Row (c, i, j) of sample n, column (r, q): the conv2d tap. */
void cp_unfold_ref(const cp_geom *g, const float *x, float *cols) {
  const int64_t L = g->OH * g->OW, K = g->C * g->kH * g->kW;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t c = 0; c < g->C; c++)
      for (int64_t i = 0; i < g->kH; i++)
        for (int64_t j = 0; j < g->kW; j++) {
          int64_t row = (c * g->kH + i) * g->kW + j;
          float *dst = cols + (n * K + row) * L;
          const float *xc = x + (n * g->C + c) * g->H * g->W;
          for (int64_t r = 0; r < g->OH; r++)
            for (int64_t q = 0; q < g->OW; q++) {
              int64_t h = cp_geom_in_row(g, r, i), w = cp_geom_in_col(g, q, j);
              int inside = h >= 0 && h < g->H && w >= 0 && w < g->W;
              dst[r * g->OW + q] = inside ? xc[h * g->W + w] : 0.0f;
            }
        }
}

void cp_fold_ref(const cp_geom *g, const float *cols, float *y) {
  const int64_t L = g->OH * g->OW, K = g->C * g->kH * g->kW;
  memset(y, 0, (size_t)(g->N * g->C * g->H * g->W) * sizeof *y);
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t c = 0; c < g->C; c++)
      for (int64_t i = 0; i < g->kH; i++)
        for (int64_t j = 0; j < g->kW; j++) {
          int64_t row = (c * g->kH + i) * g->kW + j;
          const float *src = cols + (n * K + row) * L;
          float *yc = y + (n * g->C + c) * g->H * g->W;
          for (int64_t r = 0; r < g->OH; r++)
            for (int64_t q = 0; q < g->OW; q++) {
              int64_t h = cp_geom_in_row(g, r, i), w = cp_geom_in_col(g, q, j);
              if (h >= 0 && h < g->H && w >= 0 && w < g->W)
                yc[h * g->W + w] += src[r * g->OW + q];
            }
        }
}

/* ====================================================================== */
/* Fast paths: one output row of one column row at a time, the in-range    */
/* run copied (stride 1) or strided, the rest zero                          */
/* ====================================================================== */

typedef struct sl_job {
  const cp_geom *g;
  const float *src;
  float *dst;
} sl_job;

/* Columns q in [*q0, *q1) of tap j read inside the input. */
static void inside_cols(const cp_geom *g, int64_t j, int64_t *q0,
                        int64_t *q1) {
  int64_t s = g->p.stride[1], off = j * g->p.dilation[1] - g->p.pad[2];
  /* q*s + off >= 0  and  q*s + off <= W - 1 */
  int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t hi = g->W - 1 - off < 0 ? 0 : (g->W - 1 - off) / s + 1;
  if (hi > g->OW) hi = g->OW;
  if (lo > hi) lo = hi;
  *q0 = lo, *q1 = hi;
}

static void unfold_work(int tid, int nth, void *ctx) {
  sl_job *J = ctx;
  const cp_geom *g = J->g;
  const int64_t kk = g->kH * g->kW, rows = g->N * g->C * kk;
  const int64_t s = g->p.stride[1];
  int64_t lo = rows * tid / nth, hi = rows * (tid + 1) / nth;
  for (int64_t row = lo; row < hi; row++) {
    int64_t plane = row / kk, t = row % kk, i = t / g->kW, j = t % g->kW;
    const float *xc = J->src + plane * g->H * g->W;
    float *dst = J->dst + row * g->OH * g->OW;
    int64_t q0, q1;
    inside_cols(g, j, &q0, &q1);
    for (int64_t r = 0; r < g->OH; r++, dst += g->OW) {
      int64_t h = cp_geom_in_row(g, r, i);
      if (h < 0 || h >= g->H) {
        memset(dst, 0, (size_t)g->OW * sizeof *dst);
        continue;
      }
      const float *xr = xc + h * g->W;
      if (q0 > 0) memset(dst, 0, (size_t)q0 * sizeof *dst);
      if (s == 1) {
        if (q1 > q0)
          memcpy(dst + q0, xr + cp_geom_in_col(g, q0, j),
                 (size_t)(q1 - q0) * sizeof *dst);
      } else {
        const float *p = xr + cp_geom_in_col(g, q0, j);
        for (int64_t q = q0; q < q1; q++, p += s) dst[q] = *p;
      }
      if (q1 < g->OW)
        memset(dst + q1, 0, (size_t)(g->OW - q1) * sizeof *dst);
    }
  }
}

/* fold: each thread owns whole output planes, so no two add into one cell;
 * within a plane the taps are added in the reference loop's order. */
static void fold_work(int tid, int nth, void *ctx) {
  sl_job *J = ctx;
  const cp_geom *g = J->g;
  const int64_t kk = g->kH * g->kW, planes = g->N * g->C;
  const int64_t s = g->p.stride[1], L = g->OH * g->OW;
  int64_t lo = planes * tid / nth, hi = planes * (tid + 1) / nth;
  for (int64_t pl = lo; pl < hi; pl++) {
    float *yc = J->dst + pl * g->H * g->W;
    memset(yc, 0, (size_t)(g->H * g->W) * sizeof *yc);
    for (int64_t t = 0; t < kk; t++) {
      int64_t i = t / g->kW, j = t % g->kW;
      const float *src = J->src + (pl * kk + t) * L;
      int64_t q0, q1;
      inside_cols(g, j, &q0, &q1);
      for (int64_t r = 0; r < g->OH; r++) {
        int64_t h = cp_geom_in_row(g, r, i);
        if (h < 0 || h >= g->H || q1 <= q0) continue;
        float *yr = yc + h * g->W + cp_geom_in_col(g, q0, j);
        const float *sr = src + r * g->OW;
        for (int64_t q = q0; q < q1; q++, yr += s) *yr += sr[q];
      }
    }
  }
}

static int threads_for(int64_t cells) {
  return cells < 65536 ? 1 : cp_threads_count();
}

int cp_unfold_fast(const cp_geom *g, const float *x, float *cols) {
  sl_job J = {g, x, cols};
  int64_t cells = g->N * g->C * g->kH * g->kW * g->OH * g->OW;
  cp_threads_run(threads_for(cells), unfold_work, &J);
  return 0;
}

int cp_fold_fast(const cp_geom *g, const float *cols, float *y) {
  sl_job J = {g, cols, y};
  int64_t cells = g->N * g->C * g->kH * g->kW * g->OH * g->OW;
  cp_threads_run(threads_for(cells), fold_work, &J);
  return 0;
}

/* ====================================================================== */
/* The ops                                                                  */
/* ====================================================================== */

int cp_unfold(cp_tensor *out, const cp_tensor *x, const int64_t *kernel,
              const int64_t *dilation, const int64_t *pad,
              const int64_t *stride, cp_err *e) {
  memset(out, 0, sizeof *out);
  cp_geom g;
  if (cp_unfold_geom_init(&g, kernel, dilation, pad, stride, x->ndim,
                          x->shape, e))
    return -1;
  int64_t K, L;
  if (__builtin_mul_overflow(g.C, g.kH * g.kW, &K) ||
      __builtin_mul_overflow(g.OH, g.OW, &L))
    return cp_fail(e, "input: the unfolded size overflows");
  int64_t shape[3] = {g.N, K, L};
  int batched = x->ndim == 4;
  if (cp_tensor_empty(out, batched ? 3 : 2, batched ? shape : shape + 1, e))
    return -1;
  if (cp_tensor_numel(out) == 0) return 0;
  cp_tensor xc;
  if (cp_tensor_contiguous(&xc, x, e)) {
    cp_tensor_release(out);
    return -1;
  }
  if (cp_conv_get_impl() == CP_IMPL_REFERENCE ||
      cp_unfold_fast(&g, cp_tensor_data(&xc), cp_tensor_data(out)))
    cp_unfold_ref(&g, cp_tensor_data(&xc), cp_tensor_data(out));
  cp_tensor_release(&xc);
  return 0;
}

int cp_fold(cp_tensor *out, const cp_tensor *cols, const int64_t *out_hw,
            const int64_t *kernel, const int64_t *dilation, const int64_t *pad,
            const int64_t *stride, cp_err *e) {
  memset(out, 0, sizeof *out);
  cp_geom g;
  if (cp_fold_geom_init(&g, out_hw, kernel, dilation, pad, stride,
                        cols->ndim, cols->shape, e))
    return -1;
  int64_t shape[4] = {g.N, g.C, g.H, g.W};
  int batched = cols->ndim == 3;
  if (cp_tensor_empty(out, batched ? 4 : 3, batched ? shape : shape + 1, e))
    return -1;
  if (cp_tensor_numel(out) == 0) return 0;
  cp_tensor cc;
  if (cp_tensor_contiguous(&cc, cols, e)) {
    cp_tensor_release(out);
    return -1;
  }
  if (cp_conv_get_impl() == CP_IMPL_REFERENCE ||
      cp_fold_fast(&g, cp_tensor_data(&cc), cp_tensor_data(out)))
    cp_fold_ref(&g, cp_tensor_data(&cc), cp_tensor_data(out));
  cp_tensor_release(&cc);
  return 0;
}

/* ---- matmul ----------------------------------------------------------------- */

static int64_t prod(const int64_t *s, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; i++) p *= s[i];
  return p;
}

/* torch.matmul's shape checks, in its words for each case. */
static int matmul_check(const cp_tensor *a, const cp_tensor *b, int64_t n,
                        int64_t k, int64_t k2, int64_t m, cp_err *e) {
  const int da = a->ndim, db = b->ndim;
  if (k == k2) return 0;
  if (da == 1 && db == 1)
    return cp_fail(e,
                   "other: inconsistent tensor size, expected tensor [%lld] "
                   "and src [%lld] to have the same number of elements, but "
                   "got %lld and %lld elements respectively",
                   (long long)k, (long long)k2, (long long)k, (long long)k2);
  if (db == 1 && da <= 2)
    return cp_fail(e, "other: size mismatch, got %lld, %lldx%lld,%lld",
                   (long long)n, (long long)n, (long long)k, (long long)k2);
  if (db == 1) { /* a's batch folded into rows */
    int64_t R = prod(a->shape, da - 1);
    return cp_fail(e, "other: size mismatch, got %lld, %lldx%lld,%lld",
                   (long long)R, (long long)R, (long long)k, (long long)k2);
  }
  if (db == 2) {
    int64_t R = da == 1 ? 1 : prod(a->shape, da - 1);
    return cp_fail(e,
                   "other: mat1 and mat2 shapes cannot be multiplied "
                   "(%lldx%lld and %lldx%lld)",
                   (long long)R, (long long)k, (long long)k2, (long long)m);
  }
  if (da <= 2) { /* torch multiplies the transposes, b's batch folded */
    int64_t R = prod(b->shape, db - 2) * m;
    return cp_fail(e,
                   "other: mat1 and mat2 shapes cannot be multiplied "
                   "(%lldx%lld and %lldx%lld)",
                   (long long)R, (long long)k2, (long long)k, (long long)n);
  }
  return 1; /* both batched: reported after the broadcast */
}

int cp_matmul(cp_tensor *out, const cp_tensor *a, const cp_tensor *b,
              cp_err *e) {
  memset(out, 0, sizeof *out);
  const int da = a->ndim, db = b->ndim;
  if (da == 0 || db == 0)
    return cp_fail(e,
                   "both arguments to matmul need to be at least 1D, but "
                   "they are %dD and %dD",
                   da, db);
  int64_t n = da == 1 ? 1 : a->shape[da - 2], k = a->shape[da - 1];
  int64_t k2 = db == 1 ? b->shape[0] : b->shape[db - 2];
  int64_t m = db == 1 ? 1 : b->shape[db - 1];
  int rc = matmul_check(a, b, n, k, k2, m, e);
  if (rc < 0) return -1;
  /* the broadcast batch shape */
  int na = da > 2 ? da - 2 : 0, nb = db > 2 ? db - 2 : 0;
  int nbat = na > nb ? na : nb;
  int64_t bat[CP_MAXDIM];
  for (int t = 0; t < nbat; t++) {
    int ia = t - (nbat - na), ib = t - (nbat - nb);
    int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
    if (sa != sb && sa != 1 && sb != 1)
      return cp_fail(e,
                     "other: The size of tensor a (%lld) must match the size "
                     "of tensor b (%lld) at non-singleton dimension %d",
                     (long long)sa, (long long)sb, t);
    bat[t] = sa == 1 ? sb : sa;
  }
  if (rc > 0)
    return cp_fail(e,
                   "other: Expected size for first two dimensions of batch2 "
                   "tensor to be: [%lld, %lld] but got: [%lld, %lld].",
                   (long long)prod(bat, nbat), (long long)k,
                   (long long)prod(bat, nbat), (long long)k2);
  int64_t shape[CP_MAXDIM];
  int nd = 0;
  for (int t = 0; t < nbat; t++) shape[nd++] = bat[t];
  if (da >= 2) shape[nd++] = n;
  if (db >= 2) shape[nd++] = m;
  if (cp_tensor_empty(out, nd, shape, e)) return -1;
  int64_t total = cp_tensor_numel(out);
  if (total == 0) return 0;
  double *acc = malloc((size_t)m * sizeof *acc);
  if (acc == NULL) {
    cp_tensor_release(out);
    return cp_fail(e, "output: out of memory for a row of %lld", (long long)m);
  }
  /* strides of the row/inner/column dimensions */
  int64_t as_n = da >= 2 ? a->stride[da - 2] : 0, as_k = a->stride[da - 1];
  int64_t bs_k = db >= 2 ? b->stride[db - 2] : b->stride[0];
  int64_t bs_m = db >= 2 ? b->stride[db - 1] : 0;
  float *y = cp_tensor_data(out);
  int64_t nbatch = prod(bat, nbat), idx[CP_MAXDIM] = {0};
  for (int64_t bi = 0; bi < nbatch; bi++) {
    const float *A = a->st->data + a->offset, *B = b->st->data + b->offset;
    for (int t = 0; t < nbat; t++) {
      int ia = t - (nbat - na), ib = t - (nbat - nb);
      if (ia >= 0 && a->shape[ia] != 1) A += idx[t] * a->stride[ia];
      if (ib >= 0 && b->shape[ib] != 1) B += idx[t] * b->stride[ib];
    }
    for (int64_t i = 0; i < n; i++) {
      for (int64_t j = 0; j < m; j++) acc[j] = 0.0;
      for (int64_t kk = 0; kk < k; kk++) {
        double av = A[i * as_n + kk * as_k];
        const float *Bk = B + kk * bs_k;
        for (int64_t j = 0; j < m; j++) acc[j] += av * Bk[j * bs_m];
      }
      for (int64_t j = 0; j < m; j++) *y++ = (float)acc[j];
    }
    for (int t = nbat - 1; t >= 0; t--) {
      if (++idx[t] < bat[t]) break;
      idx[t] = 0;
    }
  }
  free(acc);
  return 0;
}
