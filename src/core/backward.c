/* backward.c - conv2d / conv_transpose2d gradients (identities in
 * backward.h), and the grad_weight product. */
#include "backward.h"

#include <immintrin.h>
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "threads.h"
#include "unfold.h"

/* Column buffers of the fast grad_weight path above this many bytes are
 * not worth their memory: the reference identity runs instead. */
#define COLS_LIMIT ((size_t)512 << 20)

/* No Inf or NaN in a contiguous tensor. */
static int all_finite(const cp_tensor *t) { /* contiguous */
  const float *p = cp_tensor_data(t);
  int64_t n = cp_tensor_numel(t), i = 0;
  float acc[8] = {0}; /* x * 0 is NaN for an Inf or NaN x; 8 lanes */
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) acc[k] += p[i + k] * 0.0f;
  for (; i < n; i++) acc[0] += p[i] * 0.0f;
  for (int k = 1; k < 8; k++) acc[0] += acc[k];
  return acc[0] == 0.0f;
}

/* ====================================================================== */
/* The grad_weight product C += A B^T (rows of A and B run along L)         */
/* ====================================================================== */

typedef float v8sf __attribute__((vector_size(32)));

/* (through a pointer: a vector return value would change the ABI) */
static inline __attribute__((always_inline)) void load8(v8sf *v,
                                                        const float *p) {
  memcpy(v, p, sizeof *v);
}

/* Columns b0..b1 of C, L in chunks that keep 7 rows in L1: a 4x3 block of
 * dot products at a time, 8 lanes each. */
static inline __attribute__((always_inline)) void nt_body(
    int64_t na, int64_t b0, int64_t b1, int64_t L, const float *A,
    int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc) {
  const int64_t LC = 768;
  for (int64_t l0 = 0; l0 < L; l0 += LC) {
    int64_t ll = L - l0 < LC ? L - l0 : LC, l8 = ll & ~(int64_t)7;
    for (int64_t b = b0; b < b1; b += 3) {
      int nb = b1 - b < 3 ? (int)(b1 - b) : 3;
      const float *Bp[3];
      for (int j = 0; j < 3; j++)
        Bp[j] = B + (b + (j < nb ? j : nb - 1)) * ldb + l0;
      for (int64_t a = 0; a < na; a += 4) {
        int nr = na - a < 4 ? (int)(na - a) : 4;
        const float *Ap[4];
        for (int i = 0; i < 4; i++)
          Ap[i] = A + (a + (i < nr ? i : nr - 1)) * lda + l0;
        v8sf acc[4][3];
        memset(acc, 0, sizeof acc);
        for (int64_t l = 0; l < l8; l += 8) {
          v8sf x0, x1, x2;
          load8(&x0, Bp[0] + l);
          load8(&x1, Bp[1] + l);
          load8(&x2, Bp[2] + l);
          for (int i = 0; i < 4; i++) {
            v8sf av;
            load8(&av, Ap[i] + l);
            acc[i][0] += av * x0;
            acc[i][1] += av * x1;
            acc[i][2] += av * x2;
          }
        }
        for (int i = 0; i < nr; i++)
          for (int j = 0; j < nb; j++) {
            float s = 0.0f;
            for (int q = 0; q < 8; q++) s += acc[i][j][q];
            for (int64_t l = l8; l < ll; l++) s += Ap[i][l] * Bp[j][l];
            C[(a + i) * ldc + b + j] += s;
          }
      }
    }
  }
}

/* The same block with FMA intrinsics, 16 lanes (AVX-512) or 8 (AVX2). */
#define NT_INTRIN_BODY(VEC, W, ZERO, LOAD, FMA, HSUM)                       \
  const int64_t LC = 768;                                                 \
  for (int64_t l0 = 0; l0 < L; l0 += LC) {                                \
    int64_t ll = L - l0 < LC ? L - l0 : LC, lw = ll - ll % (W);           \
    for (int64_t b = b0; b < b1; b += 3) {                                \
      int nb = b1 - b < 3 ? (int)(b1 - b) : 3;                            \
      const float *Bp[3];                                                 \
      for (int j = 0; j < 3; j++)                                         \
        Bp[j] = B + (b + (j < nb ? j : nb - 1)) * ldb + l0;               \
      for (int64_t a = 0; a < na; a += 4) {                               \
        int nr = na - a < 4 ? (int)(na - a) : 4;                          \
        const float *Ap[4];                                               \
        for (int i = 0; i < 4; i++)                                       \
          Ap[i] = A + (a + (i < nr ? i : nr - 1)) * lda + l0;             \
        VEC c00 = ZERO, c01 = ZERO, c02 = ZERO, c10 = ZERO, c11 = ZERO,   \
            c12 = ZERO, c20 = ZERO, c21 = ZERO, c22 = ZERO, c30 = ZERO,   \
            c31 = ZERO, c32 = ZERO;                                       \
        for (int64_t l = 0; l < lw; l += (W)) {                           \
          VEC x0 = LOAD(Bp[0] + l), x1 = LOAD(Bp[1] + l),                 \
              x2 = LOAD(Bp[2] + l), av;                                   \
          av = LOAD(Ap[0] + l);                                           \
          c00 = FMA(av, x0, c00), c01 = FMA(av, x1, c01),                 \
          c02 = FMA(av, x2, c02);                                         \
          av = LOAD(Ap[1] + l);                                           \
          c10 = FMA(av, x0, c10), c11 = FMA(av, x1, c11),                 \
          c12 = FMA(av, x2, c12);                                         \
          av = LOAD(Ap[2] + l);                                           \
          c20 = FMA(av, x0, c20), c21 = FMA(av, x1, c21),                 \
          c22 = FMA(av, x2, c22);                                         \
          av = LOAD(Ap[3] + l);                                           \
          c30 = FMA(av, x0, c30), c31 = FMA(av, x1, c31),                 \
          c32 = FMA(av, x2, c32);                                         \
        }                                                                 \
        VEC acc[4][3] = {{c00, c01, c02}, {c10, c11, c12},                \
                         {c20, c21, c22}, {c30, c31, c32}};               \
        for (int i = 0; i < nr; i++)                                      \
          for (int j = 0; j < nb; j++) {                                  \
            float sum = HSUM(acc[i][j]);                                  \
            for (int64_t l = lw; l < ll; l++) sum += Ap[i][l] * Bp[j][l]; \
            C[(a + i) * ldc + b + j] += sum;                              \
          }                                                               \
      }                                                                   \
    }                                                                     \
  }

__attribute__((target("avx512f"))) static float hsum512(__m512 v) {
  return _mm512_reduce_add_ps(v);
}
__attribute__((target("avx512f"))) static void nt_avx512(
    int64_t na, int64_t b0, int64_t b1, int64_t L, const float *A,
    int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc) {
  NT_INTRIN_BODY(__m512, 16, _mm512_setzero_ps(), _mm512_loadu_ps,
                 _mm512_fmadd_ps, hsum512)
}

__attribute__((target("avx2,fma"))) static float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
__attribute__((target("avx2,fma"))) static void nt_avx2(
    int64_t na, int64_t b0, int64_t b1, int64_t L, const float *A,
    int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc) {
  NT_INTRIN_BODY(__m256, 8, _mm256_setzero_ps(), _mm256_loadu_ps,
                 _mm256_fmadd_ps, hsum256)
}

static void nt_base(int64_t na, int64_t b0, int64_t b1, int64_t L,
                    const float *A, int64_t lda, const float *B, int64_t ldb,
                    float *C, int64_t ldc) {
  nt_body(na, b0, b1, L, A, lda, B, ldb, C, ldc);
}

typedef struct nt_job {
  int64_t na, nb, L, lda, ldb, ldc;
  const float *A, *B;
  float *C;
} nt_job;

static void nt_work(int tid, int nth, void *ctx) {
  nt_job *J = ctx;
  int64_t blocks = (J->nb + 2) / 3;
  int64_t b0 = blocks * tid / nth * 3, b1 = blocks * (tid + 1) / nth * 3;
  if (b1 > J->nb) b1 = J->nb;
  if (b0 >= b1) return;
  if (__builtin_cpu_supports("avx512f"))
    nt_avx512(J->na, b0, b1, J->L, J->A, J->lda, J->B, J->ldb, J->C, J->ldc);
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    nt_avx2(J->na, b0, b1, J->L, J->A, J->lda, J->B, J->ldb, J->C, J->ldc);
  else
    nt_base(J->na, b0, b1, J->L, J->A, J->lda, J->B, J->ldb, J->C, J->ldc);
}

void cp_gemm_nt(int64_t na, int64_t nb, int64_t L, const float *A,
                int64_t lda, const float *B, int64_t ldb, float *C,
                int64_t ldc) {
  nt_job J = {na, nb, L, lda, ldb, ldc, A, B, C};
  int64_t work = na * nb * L;
  int nth = work < ((int64_t)1 << 20) || nb < 6 ? 1 : cp_threads_count();
  cp_threads_run(nth, nt_work, &J);
}

/* ====================================================================== */
/* Helpers                                                                  */
/* ====================================================================== */

int cp_pad2d_backward(cp_tensor *out, const cp_tensor *g, int64_t H,
                      int64_t W, const int64_t *pad, cp_padmode mode,
                      cp_err *e) {
  memset(out, 0, sizeof *out);
  int nd = g->ndim;
  int64_t shape[CP_MAXDIM];
  memcpy(shape, g->shape, sizeof shape);
  int64_t PH = shape[nd - 2], PW = shape[nd - 1];
  if (PH != H + pad[0] + pad[1] || PW != W + pad[2] + pad[3])
    return cp_fail(e, "grad: padded size does not match the input");
  shape[nd - 2] = H;
  shape[nd - 1] = W;
  if (cp_tensor_zeros(out, nd, shape, e)) return -1;
  int64_t n = cp_tensor_numel(out);
  if (n == 0) return 0;
  cp_tensor gc;
  if (cp_tensor_contiguous(&gc, g, e)) {
    cp_tensor_release(out);
    return -1;
  }
  const float *src = cp_tensor_data(&gc);
  float *dst = cp_tensor_data(out);
  for (int64_t pl = 0; pl < n / (H * W); pl++)
    for (int64_t r = 0; r < PH; r++) {
      int64_t sr = cp_pad_index(r - pad[0], H, mode);
      for (int64_t c = 0; c < PW; c++) {
        int64_t sc = cp_pad_index(c - pad[2], W, mode);
        if (sr >= 0 && sc >= 0)
          dst[(pl * H + sr) * W + sc] += src[(pl * PH + r) * PW + c];
      }
    }
  cp_tensor_release(&gc);
  return 0;
}

/* A 4-D view of a 4-D or (unsqueezed) 3-D tensor. */
static int as4(cp_tensor *out, const cp_tensor *t, cp_err *e) {
  if (t->ndim == 3) return cp_tensor_unsqueeze(out, t, 0, e);
  cp_tensor_share(out, t);
  return 0;
}

/* Back to x's rank. */
static int unbatch(cp_tensor *t, int was3, cp_err *e) {
  if (!was3 || t->st == NULL) return 0;
  cp_tensor s;
  if (cp_tensor_squeeze(&s, t, 0, e)) return -1;
  cp_tensor_release(t);
  *t = s;
  return 0;
}

/* grad_bias: gy (N, O, OH, OW) summed over N, OH, OW. */
static int bias_grad(cp_tensor *gb, const cp_tensor *gy4, int64_t O,
                     cp_err *e) {
  int64_t shape[1] = {O};
  if (cp_tensor_zeros(gb, 1, shape, e)) return -1;
  if (cp_tensor_numel(gy4) == 0) return 0;
  cp_tensor c;
  if (cp_tensor_contiguous(&c, gy4, e)) return -1;
  const float *p = cp_tensor_data(&c);
  int64_t N = gy4->shape[0], Oy = gy4->shape[1];
  int64_t L = gy4->shape[2] * gy4->shape[3];
  for (int64_t o = 0; o < Oy && o < O; o++) {
    double s = 0.0;
    for (int64_t n = 0; n < N; n++)
      for (int64_t l = 0; l < L; l++) s += p[(n * Oy + o) * L + l];
    cp_tensor_data(gb)[o] = (float)s;
  }
  cp_tensor_release(&c);
  return 0;
}

static int check_grad_shape(const cp_tensor *gy4, int64_t N, int64_t O,
                            int64_t OH, int64_t OW, const char *op,
                            cp_err *e) {
  if (gy4->ndim == 4 && gy4->shape[0] == N && gy4->shape[1] == O &&
      gy4->shape[2] == OH && gy4->shape[3] == OW)
    return 0;
  char b[160];
  return cp_fail(e,
                 "grad_output: expected the shape of the %s output [%lld, "
                 "%lld, %lld, %lld], but got %s",
                 op, (long long)N, (long long)O, (long long)OH, (long long)OW,
                 cp_shape_str(gy4->ndim, gy4->shape, b, sizeof b));
}

/* The correlation identity for grad_weight, one group at a time:
 * out[:, ...] (rows r0.. of dst along dim 0) = transpose(conv2d(src^T,
 * ker^T; stride sw, dilation dl, pads)) cropped to kH x kW. */
static int corr_group(const cp_tensor *dst, const cp_tensor *src,
                      const cp_tensor *ker, const int64_t *stride,
                      const int64_t *dilation, const int64_t *pad,
                      int64_t kH, int64_t kW, cp_err *e) {
  cp_tensor st, kt, r, c1, c2, rt;
  memset(&r, 0, sizeof r);
  int rc = -1;
  if (cp_tensor_transpose(&st, src, 0, 1, e)) return -1;
  if (cp_tensor_transpose(&kt, ker, 0, 1, e)) goto out1;
  cp_conv_params p;
  cp_conv_params_default(&p);
  for (int i = 0; i < 2; i++) {
    p.stride[i] = stride[i];
    p.dilation[i] = dilation[i];
  }
  memcpy(p.pad, pad, sizeof p.pad);
  if (cp_conv2d(&r, &st, &kt, NULL, &p, e)) goto out2;
  if (cp_tensor_narrow(&c1, &r, 2, 0, kH, e)) goto out3;
  if (cp_tensor_narrow(&c2, &c1, 3, 0, kW, e)) goto out4;
  if (cp_tensor_transpose(&rt, &c2, 0, 1, e)) goto out5;
  cp_tensor_copy_into(dst, &rt);
  rc = 0;
  cp_tensor_release(&rt);
out5:
  cp_tensor_release(&c2);
out4:
  cp_tensor_release(&c1);
out3:
  cp_tensor_release(&r);
out2:
  cp_tensor_release(&kt);
out1:
  cp_tensor_release(&st);
  return rc;
}

/* dst (rows [g*rows, (g+1)*rows) along dim 0 of gw) for each group g:
 * corr_group on channel slices of a and b. */
static int corr_groups(cp_tensor *gw, const cp_tensor *a, int64_t a_per,
                       const cp_tensor *b, int64_t b_per, int64_t G,
                       int64_t rows, const int64_t *stride,
                       const int64_t *dilation, const int64_t *pad,
                       cp_err *e) {
  for (int64_t gi = 0; gi < G; gi++) {
    cp_tensor as, bs, ds;
    if (cp_tensor_narrow(&as, a, 1, gi * a_per, a_per, e)) return -1;
    if (cp_tensor_narrow(&bs, b, 1, gi * b_per, b_per, e)) {
      cp_tensor_release(&as);
      return -1;
    }
    int rc = cp_tensor_narrow(&ds, gw, 0, gi * rows, rows, e);
    if (rc == 0)
      rc = corr_group(&ds, &as, &bs, stride, dilation, pad, gw->shape[2],
                      gw->shape[3], e);
    cp_tensor_release(&ds);
    cp_tensor_release(&bs);
    cp_tensor_release(&as);
    if (rc) return -1;
  }
  return 0;
}

/* Fast grad_weight: gw[gi*na + a, r] += sum_n sum_l A[n, gi*na + a, l] *
 * cols[n, gi*nb + r, l], where cols = unfold of `src` under geometry u.
 * Returns 1 when the columns would be too large (caller falls back). */
static int gemm_groups(cp_tensor *gw, const cp_tensor *A4, const cp_geom *u,
                       const cp_tensor *src, int64_t G, cp_err *e) {
  int64_t kk = u->kH * u->kW, L = u->OH * u->OW;
  int64_t rows = u->C * kk;
  if ((size_t)(u->N * rows) > COLS_LIMIT / sizeof(float) / (size_t)(L ? L : 1))
    return 1;
  int64_t shape[3] = {u->N, rows, L};
  cp_tensor cols, sc, ac;
  if (cp_tensor_empty(&cols, 3, shape, e)) return 1;
  if (cp_tensor_contiguous(&sc, src, e)) {
    cp_tensor_release(&cols);
    return -1;
  }
  if (cp_tensor_contiguous(&ac, A4, e)) {
    cp_tensor_release(&sc);
    cp_tensor_release(&cols);
    return -1;
  }
  cp_unfold_fast(u, cp_tensor_data(&sc), cp_tensor_data(&cols));
  int64_t nA = A4->shape[1], na = nA / G, nb = rows / G;
  const float *ap = cp_tensor_data(&ac), *cp = cp_tensor_data(&cols);
  float *gp = cp_tensor_data(gw);
  memset(gp, 0, (size_t)cp_tensor_numel(gw) * sizeof *gp);
  for (int64_t n = 0; n < u->N; n++)
    for (int64_t gi = 0; gi < G; gi++)
      cp_gemm_nt(na, nb, L, ap + (n * nA + gi * na) * L, L,
                 cp + (n * rows + gi * nb) * L, L, gp + gi * na * nb, nb);
  cp_tensor_release(&ac);
  cp_tensor_release(&sc);
  cp_tensor_release(&cols);
  return 0;
}

/* ---- Winograd F(3x3, 4x4) for a 3x3, stride-1, dilation-1 grad_weight ----
 * gw[o, c, i, j] = sum over 4x4 tiles t of gy and samples n of
 *   sum_{u,v<4} e[u][v] d[u+i][v+j],  e = gy's tile, d = the 6x6 input
 * patch at (4a - pad_top, 4b - pad_left): a 3x3 correlation of a 6x6 patch
 * with a 4x4 kernel, which Winograd computes as
 *   G^T [ (A e A^T) .* (B^T d B) ] G
 * with B^T, A^T, G of F(4x4, 3x3) (points 0, +-1, +-2, infinity) and the
 * roles of A and G swapped (the transposition principle).  The sums over
 * tiles run in the transformed domain: 36 products U_k (L x O) by V_k
 * (L x C) with L = N * tiles, 4x fewer multiplies than direct. */
#define WN 36                 /* transformed positions (6 x 6) */

typedef struct wino_job {
  const cp_geom *g;           /* source geometry (H, W, pads, OH, OW) */
  const float *src;           /* gy (N, O, OH, OW) or x (N, C, H, W) */
  float *dst;                 /* WN planes of L x rows */
  int64_t rows, L, th, tw;
  int64_t plane;              /* plane stride: rows*L plus a skew, so the
                                 planes do not alias in the caches */
} wino_job;

/* Tiles (n, a, b) split over threads by tile row; within a tile the
 * channels run innermost, so each of the 16 transformed planes is written
 * contiguously ([k][l][channel] layout, l = (n*th + a)*tw + b). */
static void tile_rows(const wino_job *J, int tid, int nth, int64_t *lo,
                      int64_t *hi) {
  int64_t rows = J->g->N * J->th;
  *lo = rows * tid / nth;
  *hi = rows * (tid + 1) / nth;
}

/* The transforms read a channels-last copy (cells of 16 channels are one
 * vector) and write 16 channels at a time. */
typedef float v16sf __attribute__((vector_size(64)));
#define AI inline __attribute__((always_inline))

static AI void ld16(v16sf *v, const float *p, int nc) {
  if (nc == 16) {
    memcpy(v, p, sizeof *v);
  } else {
    memset(v, 0, sizeof *v);
    memcpy(v, p, (size_t)nc * sizeof(float));
  }
}
static AI void st16(float *p, const v16sf *v, int nc) {
  if (nc == 16)
    memcpy(p, v, sizeof *v);
  else
    memcpy(p, v, (size_t)nc * sizeof(float));
}

/* A (6x4) applied to 4 vectors. */
static AI void wino_a(const v16sf *e, v16sf *u) {
  v16sf s02 = e[0] + e[2], s13 = e[1] + e[3];
  v16sf f02 = e[0] + 4 * e[2], f13 = 2 * e[1] + 8 * e[3];
  u[0] = e[0];
  u[1] = s02 + s13;
  u[2] = s02 - s13;
  u[3] = f02 + f13;
  u[4] = f02 - f13;
  u[5] = e[3];
}

/* B^T (6x6) applied to 6 vectors. */
static AI void wino_bt(const v16sf *d, v16sf *v) {
  v[0] = 4 * d[0] - 5 * d[2] + d[4];
  v[1] = -4 * d[1] - 4 * d[2] + d[3] + d[4];
  v[2] = 4 * d[1] - 4 * d[2] - d[3] + d[4];
  v[3] = -2 * d[1] - d[2] + 2 * d[3] + d[4];
  v[4] = 2 * d[1] - d[2] - 2 * d[3] + d[4];
  v[5] = 4 * d[1] - 5 * d[3] + d[5];
}

/* U = A e A^T of each 4x4 gy tile (zeros past the edge); src is
 * (N, OH, OW, O). */
static AI void wino_gy_body(const wino_job *J, int64_t lo, int64_t hi) {
  const cp_geom *g = J->g;
  const int64_t OH = g->OH, OW = g->OW, R = J->rows, plane = J->plane;
  for (int64_t na = lo; na < hi; na++) {
    int64_t n = na / J->th, a = na % J->th, r0 = 4 * a;
    for (int64_t b = 0; b < J->tw; b++) {
      int64_t q0 = 4 * b, l = na * J->tw + b;
      float *u = J->dst + l * R;
      for (int64_t c0 = 0; c0 < R; c0 += 16) {
        int nc = R - c0 < 16 ? (int)(R - c0) : 16;
        v16sf e[4][4], t[6][4], col[4], out[6];
        for (int m = 0; m < 4; m++)
          for (int k = 0; k < 4; k++) {
            int64_t rr = r0 + m, qq = q0 + k;
            if (rr < OH && qq < OW)
              ld16(&e[m][k], J->src + ((n * OH + rr) * OW + qq) * R + c0, nc);
            else
              memset(&e[m][k], 0, sizeof e[m][k]);
          }
        for (int k = 0; k < 4; k++) {
          v16sf in[4] = {e[0][k], e[1][k], e[2][k], e[3][k]}, o6[6];
          wino_a(in, o6);
          for (int m = 0; m < 6; m++) t[m][k] = o6[m];
        }
        for (int m = 0; m < 6; m++) {
          for (int k = 0; k < 4; k++) col[k] = t[m][k];
          wino_a(col, out);
          for (int j = 0; j < 6; j++)
            st16(u + (6 * m + j) * plane + c0, &out[j], nc);
        }
      }
    }
  }
}

/* V = B^T d B of each 6x6 input patch (zeros outside); src is
 * (N, H, W, C). */
static AI void wino_x_body(const wino_job *J, int64_t lo, int64_t hi) {
  const cp_geom *g = J->g;
  const int64_t H = g->H, W = g->W, R = J->rows, plane = J->plane;
  for (int64_t na = lo; na < hi; na++) {
    int64_t n = na / J->th, a = na % J->th;
    int64_t r0 = 4 * a - g->p.pad[0];
    for (int64_t b = 0; b < J->tw; b++) {
      int64_t q0 = 4 * b - g->p.pad[2], l = na * J->tw + b;
      float *v = J->dst + l * R;
      for (int64_t c0 = 0; c0 < R; c0 += 16) {
        int nc = R - c0 < 16 ? (int)(R - c0) : 16;
        v16sf d[6][6], t[6][6], out[6];
        for (int m = 0; m < 6; m++)
          for (int k = 0; k < 6; k++) {
            int64_t rr = r0 + m, qq = q0 + k;
            if (rr >= 0 && rr < H && qq >= 0 && qq < W)
              ld16(&d[m][k], J->src + ((n * H + rr) * W + qq) * R + c0, nc);
            else
              memset(&d[m][k], 0, sizeof d[m][k]);
          }
        for (int k = 0; k < 6; k++) {
          v16sf in[6] = {d[0][k], d[1][k], d[2][k], d[3][k], d[4][k], d[5][k]};
          v16sf o6[6];
          wino_bt(in, o6);
          for (int m = 0; m < 6; m++) t[m][k] = o6[m];
        }
        for (int m = 0; m < 6; m++) {
          wino_bt(t[m], out);
          for (int j = 0; j < 6; j++)
            st16(v + (6 * m + j) * plane + c0, &out[j], nc);
        }
      }
    }
  }
}

__attribute__((target("avx512f"))) static void wino_gy_512(
    const wino_job *J, int64_t lo, int64_t hi) {
  wino_gy_body(J, lo, hi);
}
static void wino_gy_base(const wino_job *J, int64_t lo, int64_t hi) {
  wino_gy_body(J, lo, hi);
}
__attribute__((target("avx512f"))) static void wino_x_512(const wino_job *J,
                                                          int64_t lo,
                                                          int64_t hi) {
  wino_x_body(J, lo, hi);
}
static void wino_x_base(const wino_job *J, int64_t lo, int64_t hi) {
  wino_x_body(J, lo, hi);
}

static void wino_gy_work(int tid, int nth, void *ctx) {
  int64_t lo, hi;
  tile_rows(ctx, tid, nth, &lo, &hi);
  if (__builtin_cpu_supports("avx512f"))
    wino_gy_512(ctx, lo, hi);
  else
    wino_gy_base(ctx, lo, hi);
}
static void wino_x_work(int tid, int nth, void *ctx) {
  int64_t lo, hi;
  tile_rows(ctx, tid, nth, &lo, &hi);
  if (__builtin_cpu_supports("avx512f"))
    wino_x_512(ctx, lo, hi);
  else
    wino_x_base(ctx, lo, hi);
}

/* Channels last: dst[(n*P + p)*R + r] = src[(n*R + r)*P + p], in blocks
 * of 64 cells, split over threads. */
typedef struct tr_job {
  const float *src;
  float *dst;
  int64_t N, R, P;
} tr_job;

static void transpose_work(int tid, int nth, void *ctx) {
  tr_job *J = ctx;
  int64_t nblk = (J->P + 63) / 64, jobs = J->N * nblk;
  for (int64_t jb = jobs * tid / nth; jb < jobs * (tid + 1) / nth; jb++) {
    int64_t n = jb / nblk, p0 = (jb % nblk) * 64;
    int64_t p1 = p0 + 64 < J->P ? p0 + 64 : J->P;
    for (int64_t r = 0; r < J->R; r++) {
      const float *s = J->src + (n * J->R + r) * J->P;
      float *d = J->dst + n * J->P * J->R + r;
      for (int64_t p = p0; p < p1; p++) d[p * J->R] = s[p];
    }
  }
}

/* C[m][n] += sum_l A[l*lda + m] * B[l*ldb + n] for m < M_, n < N_: the
 * transformed-domain products, as outer products (a 6 x 32 tile of C in
 * registers over the whole sum; no horizontal adds). */
__attribute__((target("avx512f"))) static void gemm_tn512(
    int64_t M_, int64_t N_, int64_t K, const float *A, int64_t lda,
    const float *B, int64_t ldb, float *C, int64_t ldc) {
  for (int64_t n0 = 0; n0 < N_; n0 += 32) {
    int64_t nn = N_ - n0 < 32 ? N_ - n0 : 32;
    __mmask16 k0 = nn >= 16 ? 0xffff : (__mmask16)((1u << nn) - 1);
    __mmask16 k1 = nn > 16 ? (__mmask16)(nn >= 32 ? 0xffff
                                                  : (1u << (nn - 16)) - 1)
                           : 0;
    for (int64_t m0 = 0; m0 < M_; m0 += 6) {
      int mm = M_ - m0 < 6 ? (int)(M_ - m0) : 6;
      __m512 c[6][2];
      for (int i = 0; i < 6; i++)
        c[i][0] = c[i][1] = _mm512_setzero_ps();
      const float *a = A + m0, *b = B + n0;
      if (mm == 6) {
        for (int64_t l = 0; l < K; l++, a += lda, b += ldb) {
          __m512 b0 = _mm512_maskz_loadu_ps(k0, b);
          __m512 b1 = _mm512_maskz_loadu_ps(k1, b + 16);
          for (int i = 0; i < 6; i++) {
            __m512 av = _mm512_set1_ps(a[i]);
            c[i][0] = _mm512_fmadd_ps(av, b0, c[i][0]);
            c[i][1] = _mm512_fmadd_ps(av, b1, c[i][1]);
          }
        }
      } else {
        for (int64_t l = 0; l < K; l++, a += lda, b += ldb) {
          __m512 b0 = _mm512_maskz_loadu_ps(k0, b);
          __m512 b1 = _mm512_maskz_loadu_ps(k1, b + 16);
          for (int i = 0; i < mm; i++) {
            __m512 av = _mm512_set1_ps(a[i]);
            c[i][0] = _mm512_fmadd_ps(av, b0, c[i][0]);
            c[i][1] = _mm512_fmadd_ps(av, b1, c[i][1]);
          }
        }
      }
      for (int i = 0; i < mm; i++) {
        float *cr = C + (m0 + i) * ldc + n0;
        _mm512_mask_storeu_ps(
            cr, k0, _mm512_add_ps(_mm512_maskz_loadu_ps(k0, cr), c[i][0]));
        _mm512_mask_storeu_ps(cr + 16, k1,
                              _mm512_add_ps(_mm512_maskz_loadu_ps(k1, cr + 16),
                                            c[i][1]));
      }
    }
  }
}

/* The same sum, plain (no AVX-512). */
static void gemm_tn_plain(int64_t M_, int64_t N_, int64_t K, const float *A,
                          int64_t lda, const float *B, int64_t ldb, float *C,
                          int64_t ldc) {
  for (int64_t l = 0; l < K; l++)
    for (int64_t m = 0; m < M_; m++) {
      float av = A[l * lda + m];
      float *cr = C + m * ldc;
      const float *br = B + l * ldb;
      for (int64_t n = 0; n < N_; n++) cr[n] += av * br[n];
    }
}

typedef struct wino_gemm_job {
  const float *U, *V;
  float *M;
  int64_t O, C, Og, Cg, G, L;
  int64_t pu, pv;             /* plane strides of U and V */
} wino_gemm_job;

/* The transformed positions times the groups, split over threads. */
static void wino_gemm_work(int tid, int nth, void *ctx) {
  wino_gemm_job *J = ctx;
  int avx512 = __builtin_cpu_supports("avx512f");
  int64_t jobs = WN * J->G;
  for (int64_t jb = jobs * tid / nth; jb < jobs * (tid + 1) / nth; jb++) {
    int64_t k = jb / J->G, gi = jb % J->G;
    const float *U = J->U + k * J->pu + gi * J->Og;
    const float *V = J->V + k * J->pv + gi * J->Cg;
    float *M = J->M + (k * J->O + gi * J->Og) * J->Cg;
    if (avx512)
      gemm_tn512(J->Og, J->Cg, J->L, U, J->O, V, J->C, M, J->Cg);
    else
      gemm_tn_plain(J->Og, J->Cg, J->L, U, J->O, V, J->C, M, J->Cg);
  }
}

/* The output transform gw[o, c] = G^T M[:, o, c] G, split over o; c runs
 * innermost in chunks, so each of the 36 planes of M is read along rows. */
typedef struct wino_out_job {
  const float *M;
  float *out;
  int64_t O, Cg;
} wino_out_job;

static void wino_out_work(int tid, int nth, void *ctx) {
  static const float GT[3][6] = {
      {1.0f / 4, -1.0f / 6, -1.0f / 6, 1.0f / 24, 1.0f / 24, 0},
      {0, -1.0f / 6, 1.0f / 6, 1.0f / 12, -1.0f / 12, 0},
      {0, -1.0f / 6, -1.0f / 6, 1.0f / 6, 1.0f / 6, 1}};
  enum { CH = 64 };
  const wino_out_job *J = ctx;
  const int64_t O = J->O, Cg = J->Cg;
  float t[3][6][CH];
  for (int64_t o = O * tid / nth; o < O * (tid + 1) / nth; o++)
    for (int64_t c0 = 0; c0 < Cg; c0 += CH) {
      int64_t nc = Cg - c0 < CH ? Cg - c0 : CH;
      for (int i = 0; i < 3; i++)
        for (int k = 0; k < 6; k++) {
          float *ti = t[i][k];
          for (int64_t c = 0; c < nc; c++) ti[c] = 0.0f;
          for (int q = 0; q < 6; q++) {
            float gq = GT[i][q];
            if (gq == 0.0f) continue;
            const float *m = J->M + ((q * 6 + k) * O + o) * Cg + c0;
            for (int64_t c = 0; c < nc; c++) ti[c] += gq * m[c];
          }
        }
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
          float *z = J->out + (o * Cg + c0) * 9 + 3 * i + j;
          for (int64_t c = 0; c < nc; c++) {
            float acc = 0.0f;
            for (int q = 0; q < 6; q++) acc += t[i][q][c] * GT[j][q];
            z[c * 9] = acc;
          }
        }
    }
}

/* 1 when the shape is not this path's (or too large), -1 on error. */
static int wino_grad_weight(cp_tensor *gw, const cp_tensor *gy4,
                            const cp_geom *u, const cp_tensor *src,
                            int64_t G, cp_err *e) {
  if (u->kH != 3 || u->kW != 3 || u->p.stride[0] != 1 ||
      u->p.stride[1] != 1 || u->p.dilation[0] != 1 || u->p.dilation[1] != 1)
    return 1;
  const int64_t O = gy4->shape[1], C = u->C, Og = O / G, Cg = C / G;
  const int64_t th = (u->OH + 3) / 4, tw = (u->OW + 3) / 4;
  const int64_t L = u->N * th * tw;
  if ((size_t)(WN * (O + C)) > COLS_LIMIT / sizeof(float) / (size_t)L)
    return 1;
  const int64_t pu = O * L + 48, pv = C * L + 48; /* (skews: see job) */
  const int64_t ny = u->N * O * u->OH * u->OW, nx = u->N * C * u->H * u->W;
  int64_t n = WN * (pu + pv) + WN * O * Cg + ny + nx;
  cp_tensor buf, yc, xc;
  if (cp_tensor_empty(&buf, 1, &n, e)) return 1;
  if (cp_tensor_contiguous(&yc, gy4, e)) {
    cp_tensor_release(&buf);
    return -1;
  }
  if (cp_tensor_contiguous(&xc, src, e)) {
    cp_tensor_release(&yc);
    cp_tensor_release(&buf);
    return -1;
  }
  /* Inf or NaN would spread over a whole transformed tile (Inf - Inf):
   * such inputs take the direct path, which keeps PyTorch's pattern. */
  if (!all_finite(&yc) || !all_finite(&xc)) {
    cp_tensor_release(&xc);
    cp_tensor_release(&yc);
    cp_tensor_release(&buf);
    return 1;
  }
  float *U = cp_tensor_data(&buf), *V = U + WN * pu, *M = V + WN * pv;
  float *yl = M + WN * O * Cg, *xl = yl + ny;
  int nth = L * (O + C) < 20000 ? 1 : cp_threads_count();
  tr_job ty = {cp_tensor_data(&yc), yl, u->N, O, u->OH * u->OW};
  cp_threads_run(nth, transpose_work, &ty);
  tr_job tx = {cp_tensor_data(&xc), xl, u->N, C, u->H * u->W};
  cp_threads_run(nth, transpose_work, &tx);
  wino_job jy = {u, yl, U, O, L, th, tw, pu};
  cp_threads_run(nth, wino_gy_work, &jy);
  wino_job jx = {u, xl, V, C, L, th, tw, pv};
  cp_threads_run(nth, wino_x_work, &jx);
  memset(M, 0, (size_t)(WN * O * Cg) * sizeof *M);
  wino_gemm_job jg = {U, V, M, O, C, Og, Cg, G, L, pu, pv};
  cp_threads_run(cp_threads_count(), wino_gemm_work, &jg);
  /* gw = G^T m G for each (o, c) */
  wino_out_job jo = {M, cp_tensor_data(gw), O, Cg};
  cp_threads_run(nth, wino_out_work, &jo);
  cp_tensor_release(&xc);
  cp_tensor_release(&yc);
  cp_tensor_release(&buf);
  return 0;
}

/* grad_input of a stride-1 conv2d by the gather view of the transposed
 * convolution (SEMANTICS 3b; no stride holes at stride 1): conv2d of gy
 * with the kernel flipped and in/out swapped within each group, padded
 * d(k-1) - p per side, so the forward's fast kernels (Winograd for 3x3)
 * run it.  t: the transposed problem's params.  1: not this case. */
static int gather_grad_input(cp_tensor *out, const cp_tensor *gy4,
                             const cp_tensor *w, const cp_conv_params *t,
                             int64_t kH, int64_t kW, int64_t G, cp_err *e) {
  if (t->stride[0] != 1 || t->stride[1] != 1) return 1;
  cp_conv_params c;
  cp_conv_params_default(&c);
  c.dilation[0] = t->dilation[0], c.dilation[1] = t->dilation[1];
  c.groups = G;
  int64_t span[2] = {t->dilation[0] * (kH - 1), t->dilation[1] * (kW - 1)};
  for (int i = 0; i < 4; i++) {
    c.pad[i] = span[i / 2] - t->pad[i];
    if (c.pad[i] < 0) return 1; /* a crop: the transposed loop does it */
  }
  int64_t O = w->shape[0], Cg = w->shape[1];
  int64_t s5[5] = {G, O / G, Cg, kH, kW}, s4[4] = {G * Cg, O / G, kH, kW};
  static const int perm[5] = {0, 2, 1, 3, 4};
  static const int hw[2] = {2, 3};
  cp_tensor a, b, cc, d, f;
  int rc = -1;
  if (cp_tensor_reshape(&a, w, 5, s5, e)) return -1;
  if (cp_tensor_permute(&b, &a, perm, e)) goto out1;
  if (cp_tensor_contiguous(&cc, &b, e)) goto out2;
  if (cp_tensor_reshape(&d, &cc, 4, s4, e)) goto out3;
  if (cp_tensor_flip(&f, &d, 2, hw, e)) goto out4;
  /* its padding cells are real zeros times the weights: with an Inf or NaN
   * weight they would make NaN where the scatter adds nothing */
  rc = all_finite(&f) ? cp_conv2d(out, gy4, &f, NULL, &c, e) : 1;
  cp_tensor_release(&f);
out4:
  cp_tensor_release(&d);
out3:
  cp_tensor_release(&cc);
out2:
  cp_tensor_release(&b);
out1:
  cp_tensor_release(&a);
  return rc;
}

/* ====================================================================== */
/* conv2d                                                                   */
/* ====================================================================== */

int cp_conv2d_backward(cp_tensor *gx, cp_tensor *gw, cp_tensor *gb,
                       const cp_tensor *x, const cp_tensor *w,
                       const cp_tensor *gy, const cp_conv_params *p,
                       cp_err *e) {
  char b1[160];
  cp_tensor *outs[3] = {gx, gw, gb};
  for (int i = 0; i < 3; i++)
    if (outs[i]) memset(outs[i], 0, sizeof *outs[i]);
  if (x->ndim != 3 && x->ndim != 4)
    return cp_fail(e,
                   "input: Expected 3D (unbatched) or 4D (batched) input to "
                   "conv2d, but got input of size: %s",
                   cp_shape_str(x->ndim, x->shape, b1, sizeof b1));
  if (w->ndim != 4)
    return cp_fail(e,
                   "weight: expected a 4-D weight (out_channels, "
                   "in_channels/groups, kH, kW), but got weight of size %s",
                   cp_shape_str(w->ndim, w->shape, b1, sizeof b1));
  if (gy->ndim != x->ndim)
    return cp_fail(e,
                   "grad_output: expected %d dimensions like the input, but "
                   "got %s",
                   x->ndim, cp_shape_str(gy->ndim, gy->shape, b1, sizeof b1));
  const int was3 = x->ndim == 3;
  cp_tensor x4, gy4, xp;
  memset(&xp, 0, sizeof xp);
  if (as4(&x4, x, e)) return -1;
  if (as4(&gy4, gy, e)) {
    cp_tensor_release(&x4);
    return -1;
  }
  cp_conv_params q = *p;
  q.transposed = 0;
  cp_geom g;
  int rc = -1;
  if (cp_geom_init(&g, &q, x4.shape, w->shape, 0, 0, 0, e)) goto done;
  if (check_grad_shape(&gy4, g.N, g.O, g.OH, g.OW, "conv2d", e)) goto done;
  const int64_t *pd = g.p.pad;
  const int zeros = g.p.mode == CP_PAD_ZEROS;
  const int empty = cp_tensor_numel(&x4) == 0 || cp_tensor_numel(&gy4) == 0;
  /* The padded input of a non-zero padding mode; convolved with pad 0. */
  int64_t nopad[4] = {0, 0, 0, 0};
  const int64_t *cpad = zeros ? pd : nopad;
  if (!zeros && !empty && cp_pad2d(&xp, &x4, pd, g.p.mode, e)) goto done;
  const cp_tensor *xs = zeros || empty ? &x4 : &xp;
  const int64_t Hs = xs->shape[2], Ws = xs->shape[3];

  if (gx) {
    if (empty) {
      if (cp_tensor_zeros(gx, 4, x4.shape, e)) goto done;
    } else {
      cp_conv_params t = g.p;
      t.transposed = 1;
      t.mode = CP_PAD_ZEROS;
      memcpy(t.pad, cpad, sizeof t.pad);
      t.out_pad[0] = cp_conv_dropped_rows(Hs, g.kH, g.p.stride[0], cpad[0],
                                          cpad[1], g.p.dilation[0]);
      t.out_pad[1] = cp_conv_dropped_rows(Ws, g.kW, g.p.stride[1], cpad[2],
                                          cpad[3], g.p.dilation[1]);
      cp_tensor gs;
      int r1 = 1;
      if (cp_conv_get_impl() == CP_IMPL_AUTO)
        r1 = gather_grad_input(&gs, &gy4, w, &t, g.kH, g.kW, g.p.groups, e);
      if (r1 < 0) goto done;
      if (r1 == 1 && cp_conv_transpose2d(&gs, &gy4, w, NULL, &t, e))
        goto done;
      if (zeros) {
        *gx = gs;
      } else {
        int r2 = cp_pad2d_backward(gx, &gs, g.H, g.W, pd, g.p.mode, e);
        cp_tensor_release(&gs);
        if (r2) goto done;
      }
    }
    if (unbatch(gx, was3, e)) goto done;
  }
  if (gw) {
    if (cp_tensor_zeros(gw, 4, w->shape, e)) goto done;
    if (!empty) {
      int r2 = 1;
      if (cp_conv_get_impl() == CP_IMPL_AUTO) {
        cp_geom u = g;
        u.H = Hs, u.W = Ws;
        memcpy(u.p.pad, cpad, sizeof u.p.pad);
        r2 = wino_grad_weight(gw, &gy4, &u, xs, g.p.groups, e);
        if (r2 == 1) r2 = gemm_groups(gw, &gy4, &u, xs, g.p.groups, e);
        if (r2 < 0) goto done;
      }
      if (r2 == 1 &&
          corr_groups(gw, xs, g.Cg, &gy4, g.Og, g.p.groups, g.Og,
                      g.p.dilation, g.p.stride, cpad, e))
        goto done;
    }
  }
  if (gb && bias_grad(gb, &gy4, w->shape[0], e)) goto done;
  rc = 0;
done:
  if (rc)
    for (int i = 0; i < 3; i++)
      if (outs[i]) cp_tensor_release(outs[i]);
  cp_tensor_release(&xp);
  cp_tensor_release(&gy4);
  cp_tensor_release(&x4);
  return rc;
}

/* ====================================================================== */
/* conv_transpose2d                                                         */
/* ====================================================================== */

int cp_conv_transpose2d_backward(cp_tensor *gx, cp_tensor *gw, cp_tensor *gb,
                                 const cp_tensor *x, const cp_tensor *w,
                                 const cp_tensor *gy,
                                 const cp_conv_params *p, cp_err *e) {
  char b1[160];
  cp_tensor *outs[3] = {gx, gw, gb};
  for (int i = 0; i < 3; i++)
    if (outs[i]) memset(outs[i], 0, sizeof *outs[i]);
  if (x->ndim != 3 && x->ndim != 4)
    return cp_fail(e,
                   "input: Expected 3D (unbatched) or 4D (batched) input to "
                   "conv_transpose2d, but got input of size: %s",
                   cp_shape_str(x->ndim, x->shape, b1, sizeof b1));
  if (w->ndim != 4)
    return cp_fail(e,
                   "weight: expected a 4-D weight (in_channels, "
                   "out_channels/groups, kH, kW), but got weight of size %s",
                   cp_shape_str(w->ndim, w->shape, b1, sizeof b1));
  if (gy->ndim != x->ndim)
    return cp_fail(e,
                   "grad_output: expected %d dimensions like the input, but "
                   "got %s",
                   x->ndim, cp_shape_str(gy->ndim, gy->shape, b1, sizeof b1));
  const int was3 = x->ndim == 3;
  cp_tensor x4, gy4;
  if (as4(&x4, x, e)) return -1;
  if (as4(&gy4, gy, e)) {
    cp_tensor_release(&x4);
    return -1;
  }
  cp_conv_params q = *p;
  q.transposed = 1;
  cp_geom g;
  int rc = -1;
  if (cp_geom_init(&g, &q, x4.shape, w->shape, 0, 0, 0, e)) goto done;
  if (check_grad_shape(&gy4, g.N, g.O, g.OH, g.OW, "conv_transpose2d", e))
    goto done;
  const int empty = cp_tensor_numel(&x4) == 0 || cp_tensor_numel(&gy4) == 0;
  const int64_t *pd = g.p.pad;
  if (gx) {
    if (empty) {
      if (cp_tensor_zeros(gx, 4, x4.shape, e)) goto done;
    } else {
      cp_conv_params t;
      cp_conv_params_default(&t);
      memcpy(t.stride, g.p.stride, sizeof t.stride);
      memcpy(t.dilation, g.p.dilation, sizeof t.dilation);
      memcpy(t.pad, pd, sizeof t.pad);
      t.groups = g.p.groups;
      /* an output_padding of at least the stride (allowed when below the
       * dilation) gives rows past x's: they belong to no input cell */
      cp_tensor full, c1, c2;
      if (cp_conv2d(&full, &gy4, w, NULL, &t, e)) goto done;
      int r2 = cp_tensor_narrow(&c1, &full, 2, 0, g.H, e);
      if (r2 == 0) {
        r2 = cp_tensor_narrow(&c2, &c1, 3, 0, g.W, e);
        if (r2 == 0) {
          r2 = cp_tensor_contiguous(gx, &c2, e);
          cp_tensor_release(&c2);
        }
        cp_tensor_release(&c1);
      }
      cp_tensor_release(&full);
      if (r2) goto done;
    }
    if (unbatch(gx, was3, e)) goto done;
  }
  if (gw) {
    if (cp_tensor_zeros(gw, 4, w->shape, e)) goto done;
    if (!empty) {
      int r2 = 1;
      if (cp_conv_get_impl() == CP_IMPL_AUTO) {
        /* unfold gy with the scatter map: blocks = x's H x W */
        cp_geom u = g;
        u.C = g.O;
        u.H = g.OH, u.W = g.OW;
        u.OH = g.H, u.OW = g.W;
        r2 = gemm_groups(gw, &x4, &u, &gy4, g.p.groups, e);
        if (r2 < 0) goto done;
      }
      if (r2 == 1 &&
          corr_groups(gw, &gy4, g.Og, &x4, g.Cg, g.p.groups, g.Cg,
                      g.p.dilation, g.p.stride, pd, e))
        goto done;
    }
  }
  if (gb && bias_grad(gb, &gy4, g.O, e)) goto done;
  rc = 0;
done:
  if (rc)
    for (int i = 0; i < 3; i++)
      if (outs[i]) cp_tensor_release(outs[i]);
  cp_tensor_release(&gy4);
  cp_tensor_release(&x4);
  return rc;
}
