/* grad_kernels.c - the fast grad_weight products (backward.c's fast
 * paths): C += A B^T along rows, and Winograd F(3x3, 4x4). */
#include "grad_kernels.h"

#include <immintrin.h>
#include <string.h>

#include "threads.h"

int cp_all_finite(const cp_tensor *t) {
  const float *p = cp_tensor_data(t);
  int64_t n = cp_tensor_numel(t), i = 0;
  float acc[8] = {0}; /* x * 0 is NaN for an Inf or NaN x; 8 lanes */
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) acc[k] += p[i + k] * 0.0f;
  for (; i < n; i++) acc[0] += p[i] * 0.0f;
  for (int k = 1; k < 8; k++) acc[0] += acc[k];
  return acc[0] == 0.0f;
}

/* The largest |v| and the sum of |v| of p[0..n). */
__attribute__((target("avx512f"))) static void abs_stats_512(
    const float *p, int64_t n, float *big, double *sum) {
  __m512 mx = _mm512_setzero_ps(), sm = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 a = _mm512_abs_ps(_mm512_loadu_ps(p + i));
    mx = _mm512_max_ps(a, mx); /* (a NaN shows in the sum) */
    sm = _mm512_add_ps(sm, a);
  }
  float b = _mm512_reduce_max_ps(mx);
  double s = _mm512_reduce_add_ps(sm);
  for (; i < n; i++) {
    float a = p[i] < 0 ? -p[i] : p[i];
    b = a > b ? a : b;
    s += a;
  }
  *big = b, *sum = s;
}

static void abs_stats_plain(const float *p, int64_t n, float *big,
                            double *sum) {
  float mx[8] = {0}, sm[8] = {0}; /* eight lanes */
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) {
      float a = p[i + k] < 0 ? -p[i + k] : p[i + k];
      mx[k] = a > mx[k] ? a : mx[k];
      sm[k] += a;
    }
  float b = 0;
  double s = 0;
  for (; i < n; i++) {
    float a = p[i] < 0 ? -p[i] : p[i];
    b = a > b ? a : b;
    s += a;
  }
  for (int k = 0; k < 8; k++) {
    b = mx[k] > b ? mx[k] : b;
    s += sm[k];
  }
  *big = b, *sum = s;
}

int cp_wino_safe(const cp_tensor *t) {
  int64_t n = cp_tensor_numel(t);
  float big;
  double sum;
  if (__builtin_cpu_supports("avx512f"))
    abs_stats_512(cp_tensor_data(t), n, &big, &sum);
  else
    abs_stats_plain(cp_tensor_data(t), n, &big, &sum);
  if (!(sum <= 1e300)) return 0; /* an Inf or NaN */
  if (n <= 1 || big == 0) return 1;
  /* the typical magnitude, the largest value left out */
  return (double)big <= 1e4 * ((sum - big) / (double)(n - 1));
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

/* The same block with AVX-512 FMA intrinsics, 16 lanes. */
__attribute__((target("avx512f"))) static void nt_avx512(
    int64_t na, int64_t b0, int64_t b1, int64_t L, const float *A,
    int64_t lda, const float *B, int64_t ldb, float *C, int64_t ldc) {
  const int64_t LC = 768;
  for (int64_t l0 = 0; l0 < L; l0 += LC) {
    int64_t ll = L - l0 < LC ? L - l0 : LC, l16 = ll & ~(int64_t)15;
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
        /* named accumulators stay in registers (an array indexed in a
         * loop would be kept in memory) */
        __m512 z = _mm512_setzero_ps();
        __m512 a00 = z, a01 = z, a02 = z, a10 = z, a11 = z, a12 = z;
        __m512 a20 = z, a21 = z, a22 = z, a30 = z, a31 = z, a32 = z;
        for (int64_t l = 0; l < l16; l += 16) {
          __m512 x0 = _mm512_loadu_ps(Bp[0] + l);
          __m512 x1 = _mm512_loadu_ps(Bp[1] + l);
          __m512 x2 = _mm512_loadu_ps(Bp[2] + l), av;
          av = _mm512_loadu_ps(Ap[0] + l);
          a00 = _mm512_fmadd_ps(av, x0, a00), a01 = _mm512_fmadd_ps(av, x1, a01);
          a02 = _mm512_fmadd_ps(av, x2, a02);
          av = _mm512_loadu_ps(Ap[1] + l);
          a10 = _mm512_fmadd_ps(av, x0, a10), a11 = _mm512_fmadd_ps(av, x1, a11);
          a12 = _mm512_fmadd_ps(av, x2, a12);
          av = _mm512_loadu_ps(Ap[2] + l);
          a20 = _mm512_fmadd_ps(av, x0, a20), a21 = _mm512_fmadd_ps(av, x1, a21);
          a22 = _mm512_fmadd_ps(av, x2, a22);
          av = _mm512_loadu_ps(Ap[3] + l);
          a30 = _mm512_fmadd_ps(av, x0, a30), a31 = _mm512_fmadd_ps(av, x1, a31);
          a32 = _mm512_fmadd_ps(av, x2, a32);
        }
        __m512 acc[4][3] = {{a00, a01, a02}, {a10, a11, a12},
                            {a20, a21, a22}, {a30, a31, a32}};
        for (int i = 0; i < nr; i++)
          for (int j = 0; j < nb; j++) {
            float s = _mm512_reduce_add_ps(acc[i][j]);
            for (int64_t l = l16; l < ll; l++) s += Ap[i][l] * Bp[j][l];
            C[(a + i) * ldc + b + j] += s;
          }
      }
    }
  }
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

/* ---- Winograd F(3x3, 4x4) for a 3x3, stride-1, dilation-1 grad_weight ----
 * gw[o, c, i, j] = sum over 4x4 tiles t of gy and samples n of
 *   sum_{u,v<4} e[u][v] d[u+i][v+j],  e = gy's tile, d = the 6x6 input
 * patch at (4a - pad_top, 4b - pad_left): a 3x3 correlation of a 6x6 patch
 * with a 4x4 kernel, which Winograd computes as
 *   G^T [ (A e A^T) .* (B^T d B) ] G
 * with B^T, A^T, G of F(4x4, 3x3) (points 0, +-1, +-2, infinity) and the
 * roles of A and G swapped (the transposition principle).  The sums over
 * tiles run in the transformed domain: 36 products U_k (L x O) by V_k
 * (L x C) with L = N * tiles, 4x fewer multiplies than direct.
 *
 * Two threaded passes, so that a busy machine costs two waits, not six:
 * (1) per tile row, its input and gradient rows copied channels-last into a
 *     zero-bordered band of the thread's scratch, then transformed 16
 *     channels at a time into U and V ([k][l][channel]);
 * (2) per range of output channels o, the 36 products and the output
 *     transform of those o. */
#define WN 36                 /* transformed positions (6 x 6) */

typedef struct wino_job {
  const cp_geom *u;           /* input geometry (H, W, pads, OH, OW, N) */
  const float *x, *gy;        /* (N, C, H, W), (N, O, OH, OW) */
  float *U, *V, *M;           /* transformed gy, x; products (WN, O, Cg) */
  float *gw;                  /* (O, Cg, 3, 3) */
  int64_t O, C, Og, Cg, G, L, th, tw;
  int64_t pu, pv;             /* plane strides of U and V: rows*L plus a
                                 skew, so the planes do not alias in the
                                 caches */
  int failed;                 /* a thread had no scratch */
} wino_job;

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

/* rows x cols cells of R channels, channels last, zero outside the plane:
 * band[(m*cols + q)*R + ch] = src[(ch*H + r0 + m)*W + q0 + q]. */
static void band_copy(float *band, const float *src, int64_t R, int64_t H,
                      int64_t W, int64_t r0, int64_t q0, int64_t rows,
                      int64_t cols) {
  memset(band, 0, (size_t)(rows * cols * R) * sizeof *band);
  int64_t qa = q0 < 0 ? -q0 : 0, qb = W - q0 < cols ? W - q0 : cols;
  for (int64_t m = 0; m < rows; m++) {
    int64_t r = r0 + m;
    if (r < 0 || r >= H) continue;
    for (int64_t ch = 0; ch < R; ch++) {
      const float *sr = src + (ch * H + r) * W + q0;
      float *d = band + m * cols * R + ch;
      for (int64_t q = qa; q < qb; q++) d[q * R] = sr[q];
    }
  }
}

/* Tile row (n, a): U = A e A^T of its 4x4 gy tiles, V = B^T d B of its
 * 6x6 input patches; gb, xb are its bands. */
static AI void wino_row_body(const wino_job *J, int64_t na, float *gb,
                             float *xb) {
  const cp_geom *u = J->u;
  const int64_t n = na / J->th, a = na % J->th, tw = J->tw;
  const int64_t O = J->O, C = J->C, gcols = 4 * tw, xcols = 4 * tw + 2;
  band_copy(gb, J->gy + n * O * u->OH * u->OW, O, u->OH, u->OW, 4 * a, 0, 4,
            gcols);
  band_copy(xb, J->x + n * C * u->H * u->W, C, u->H, u->W,
            4 * a - u->p.pad[0], -u->p.pad[2], 6, xcols);
  for (int64_t b = 0; b < tw; b++) {
    int64_t l = na * tw + b;
    float *dst = J->U + l * O;
    for (int64_t c0 = 0; c0 < O; c0 += 16) {
      int nc = O - c0 < 16 ? (int)(O - c0) : 16;
      v16sf t[6][4], col[4], out[6];
      for (int k = 0; k < 4; k++) {
        v16sf in[4], o6[6];
        for (int m = 0; m < 4; m++)
          ld16(&in[m], gb + (m * gcols + 4 * b + k) * O + c0, nc);
        wino_a(in, o6);
        for (int m = 0; m < 6; m++) t[m][k] = o6[m];
      }
      for (int m = 0; m < 6; m++) {
        for (int k = 0; k < 4; k++) col[k] = t[m][k];
        wino_a(col, out);
        for (int j = 0; j < 6; j++)
          st16(dst + (6 * m + j) * J->pu + c0, &out[j], nc);
      }
    }
    dst = J->V + l * C;
    for (int64_t c0 = 0; c0 < C; c0 += 16) {
      int nc = C - c0 < 16 ? (int)(C - c0) : 16;
      v16sf t[6][6], out[6];
      for (int k = 0; k < 6; k++) {
        v16sf in[6], o6[6];
        for (int m = 0; m < 6; m++)
          ld16(&in[m], xb + (m * xcols + 4 * b + k) * C + c0, nc);
        wino_bt(in, o6);
        for (int m = 0; m < 6; m++) t[m][k] = o6[m];
      }
      for (int m = 0; m < 6; m++) {
        wino_bt(t[m], out);
        for (int j = 0; j < 6; j++)
          st16(dst + (6 * m + j) * J->pv + c0, &out[j], nc);
      }
    }
  }
}

__attribute__((target("avx512f"))) static void wino_row_512(
    const wino_job *J, int64_t na, float *gb, float *xb) {
  wino_row_body(J, na, gb, xb);
}
static void wino_row_base(const wino_job *J, int64_t na, float *gb,
                          float *xb) {
  wino_row_body(J, na, gb, xb);
}

/* Pass 1: the tile rows split over threads. */
static void wino_transform_work(int tid, int nth, void *ctx) {
  wino_job *J = ctx;
  int64_t rows = J->u->N * J->th;
  int64_t lo = rows * tid / nth, hi = rows * (tid + 1) / nth;
  if (lo >= hi) return;
  size_t gsz = (size_t)(4 * 4 * J->tw * J->O);
  size_t xsz = (size_t)(6 * (4 * J->tw + 2) * J->C);
  float *gb = cp_threads_scratch(tid, (gsz + xsz) * sizeof(float));
  if (gb == NULL) {
    J->failed = 1;
    return;
  }
  int avx512 = __builtin_cpu_supports("avx512f");
  for (int64_t na = lo; na < hi; na++) {
    if (avx512)
      wino_row_512(J, na, gb, gb + gsz);
    else
      wino_row_base(J, na, gb, gb + gsz);
  }
}

/* C[m][n] += sum_k A(m, k) * B[k*ldb + n] for m < M_, n < N_, with A(m, k)
 * = A[m*sm + k*sk]: the products of both Winograd gradients, as outer
 * products (a 6 x 32 tile of C in registers over the whole sum; no
 * horizontal adds).  Inlined into one function per layout, where sm or sk
 * is the constant 1. */
static inline __attribute__((always_inline, target("avx512f"))) void
gemm512_body(int64_t M_, int64_t N_, int64_t K, const float *A, int64_t sm,
             int64_t sk, const float *B, int64_t ldb, float *C, int64_t ldc) {
  for (int64_t n0 = 0; n0 < N_; n0 += 32) {
    int64_t nn = N_ - n0 < 32 ? N_ - n0 : 32;
    __mmask16 k0 = nn >= 16 ? 0xffff : (__mmask16)((1u << nn) - 1);
    __mmask16 k1 = nn > 16 ? (__mmask16)(nn >= 32 ? 0xffff
                                                  : (1u << (nn - 16)) - 1)
                           : 0;
    for (int64_t m0 = 0; m0 < M_; m0 += 6) {
      int mm = M_ - m0 < 6 ? (int)(M_ - m0) : 6;
      __m512 c[6][2];
      for (int i = 0; i < 6; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
      const float *a = A + m0 * sm, *b = B + n0;
      if (mm == 6) {
        /* the full tile: named accumulators, so that they stay in
         * registers (an array indexed in a loop is kept in memory) */
        __m512 c00 = c[0][0], c01 = c[0][1], c10 = c[1][0], c11 = c[1][1];
        __m512 c20 = c[2][0], c21 = c[2][1], c30 = c[3][0], c31 = c[3][1];
        __m512 c40 = c[4][0], c41 = c[4][1], c50 = c[5][0], c51 = c[5][1];
        for (int64_t k = 0; k < K; k++, a += sk, b += ldb) {
          __m512 b0 = _mm512_maskz_loadu_ps(k0, b);
          __m512 b1 = _mm512_maskz_loadu_ps(k1, b + 16), av;
          av = _mm512_set1_ps(a[0]);
          c00 = _mm512_fmadd_ps(av, b0, c00), c01 = _mm512_fmadd_ps(av, b1, c01);
          av = _mm512_set1_ps(a[sm]);
          c10 = _mm512_fmadd_ps(av, b0, c10), c11 = _mm512_fmadd_ps(av, b1, c11);
          av = _mm512_set1_ps(a[2 * sm]);
          c20 = _mm512_fmadd_ps(av, b0, c20), c21 = _mm512_fmadd_ps(av, b1, c21);
          av = _mm512_set1_ps(a[3 * sm]);
          c30 = _mm512_fmadd_ps(av, b0, c30), c31 = _mm512_fmadd_ps(av, b1, c31);
          av = _mm512_set1_ps(a[4 * sm]);
          c40 = _mm512_fmadd_ps(av, b0, c40), c41 = _mm512_fmadd_ps(av, b1, c41);
          av = _mm512_set1_ps(a[5 * sm]);
          c50 = _mm512_fmadd_ps(av, b0, c50), c51 = _mm512_fmadd_ps(av, b1, c51);
        }
        c[0][0] = c00, c[0][1] = c01, c[1][0] = c10, c[1][1] = c11;
        c[2][0] = c20, c[2][1] = c21, c[3][0] = c30, c[3][1] = c31;
        c[4][0] = c40, c[4][1] = c41, c[5][0] = c50, c[5][1] = c51;
      } else {
        for (int64_t k = 0; k < K; k++, a += sk, b += ldb) {
          __m512 b0 = _mm512_maskz_loadu_ps(k0, b);
          __m512 b1 = _mm512_maskz_loadu_ps(k1, b + 16);
          for (int i = 0; i < mm; i++) {
            __m512 av = _mm512_set1_ps(a[i * sm]);
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

/* The same sum, plain (no AVX-512); the same order of terms per cell. */
static void gemm_plain(int64_t M_, int64_t N_, int64_t K, const float *A,
                       int64_t sm, int64_t sk, const float *B, int64_t ldb,
                       float *C, int64_t ldc) {
  for (int64_t m = 0; m < M_; m++)
    for (int64_t k = 0; k < K; k++) {
      float av = A[m * sm + k * sk];
      float *cr = C + m * ldc;
      const float *br = B + k * ldb;
      for (int64_t n = 0; n < N_; n++) cr[n] += av * br[n];
    }
}

/* C += A^T B, A stored K x M with rows lda apart (the grad_weight
 * products). */
__attribute__((target("avx512f"))) static void gemm_tn512(
    int64_t M_, int64_t N_, int64_t K, const float *A, int64_t lda,
    const float *B, int64_t ldb, float *C, int64_t ldc) {
  gemm512_body(M_, N_, K, A, 1, lda, B, ldb, C, ldc);
}

/* G^T (3x6) applied to 6 vectors. */
static AI void wino_gt(const v16sf *m, v16sf *z) {
  v16sf s12 = m[1] + m[2], d12 = m[1] - m[2];
  v16sf s34 = m[3] + m[4], d34 = m[3] - m[4];
  z[0] = m[0] * (1.0f / 4) - s12 * (1.0f / 6) + s34 * (1.0f / 24);
  z[1] = -d12 * (1.0f / 6) + d34 * (1.0f / 12);
  z[2] = -s12 * (1.0f / 6) + s34 * (1.0f / 6) + m[5];
}

/* gw[o, c] = G^T M[:, o, c] G for o in [o0, o1), 16 channels c at a time
 * (each plane of M read along its rows). */
static AI void wino_output_body(const wino_job *J, int64_t o0, int64_t o1) {
  const int64_t O = J->O, Cg = J->Cg;
  for (int64_t o = o0; o < o1; o++)
    for (int64_t c0 = 0; c0 < Cg; c0 += 16) {
      int nc = Cg - c0 < 16 ? (int)(Cg - c0) : 16;
      v16sf m[6][6], t[3][6], z[3], col[6];
      for (int k = 0; k < WN; k++)
        ld16(&m[k / 6][k % 6], J->M + (k * O + o) * Cg + c0, nc);
      for (int k = 0; k < 6; k++) {
        for (int q = 0; q < 6; q++) col[q] = m[q][k];
        wino_gt(col, z);
        for (int i = 0; i < 3; i++) t[i][k] = z[i];
      }
      float zs[9][16];
      for (int i = 0; i < 3; i++) {
        wino_gt(t[i], z);
        for (int j = 0; j < 3; j++) memcpy(zs[3 * i + j], &z[j], sizeof z[j]);
      }
      float *dst = J->gw + (o * Cg + c0) * 9;
      for (int c = 0; c < nc; c++)
        for (int j = 0; j < 9; j++) dst[c * 9 + j] = zs[j][c];
    }
}

__attribute__((target("avx512f"))) static void wino_output_512(
    const wino_job *J, int64_t o0, int64_t o1) {
  wino_output_body(J, o0, o1);
}
static void wino_output_base(const wino_job *J, int64_t o0, int64_t o1) {
  wino_output_body(J, o0, o1);
}

/* Pass 2: output channels split over threads (within a group's range), all
 * 36 products of those channels, then their output transform. */
static void wino_product_work(int tid, int nth, void *ctx) {
  wino_job *J = ctx;
  int64_t o0 = J->O * tid / nth, o1 = J->O * (tid + 1) / nth;
  int avx512 = __builtin_cpu_supports("avx512f");
  for (int64_t gi = 0; gi < J->G; gi++) {
    int64_t lo = gi * J->Og > o0 ? gi * J->Og : o0;
    int64_t hi = (gi + 1) * J->Og < o1 ? (gi + 1) * J->Og : o1;
    if (lo >= hi) continue;
    for (int k = 0; k < WN; k++) {
      const float *U = J->U + k * J->pu + lo;
      const float *V = J->V + k * J->pv + gi * J->Cg;
      float *M = J->M + (k * J->O + lo) * J->Cg;
      memset(M, 0, (size_t)((hi - lo) * J->Cg) * sizeof *M);
      if (avx512)
        gemm_tn512(hi - lo, J->Cg, J->L, U, J->O, V, J->C, M, J->Cg);
      else
        gemm_plain(hi - lo, J->Cg, J->L, U, 1, J->O, V, J->C, M, J->Cg);
    }
  }
  if (avx512)
    wino_output_512(J, o0, o1);
  else
    wino_output_base(J, o0, o1);
}

int cp_wino_grad_weight(cp_tensor *gw, const cp_tensor *gy4,
                        const cp_geom *u, const cp_tensor *src, int64_t G,
                        cp_err *e) {
  if (u->kH != 3 || u->kW != 3 || u->p.stride[0] != 1 ||
      u->p.stride[1] != 1 || u->p.dilation[0] != 1 || u->p.dilation[1] != 1)
    return 1;
  const int64_t O = gy4->shape[1], C = u->C;
  const int64_t th = (u->OH + 3) / 4, tw = (u->OW + 3) / 4;
  const int64_t L = u->N * th * tw;
  if ((size_t)(WN * (O + C)) > CP_GRAD_BUF_LIMIT / sizeof(float) / (size_t)L)
    return 1;
  const int64_t pu = O * L + 48, pv = C * L + 48;
  int64_t n = WN * (pu + pv) + WN * O * (C / G);
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
  int rc = 1;
  /* Inf, NaN or an outlier would spread over whole transformed tiles:
   * such inputs take the direct path, which keeps PyTorch's pattern. */
  if (cp_wino_safe(&yc) && cp_wino_safe(&xc)) {
    float *U = cp_tensor_data(&buf), *V = U + WN * pu, *M = V + WN * pv;
    wino_job J = {u, cp_tensor_data(&xc), cp_tensor_data(&yc), U, V, M,
                  cp_tensor_data(gw), O, C, O / G, C / G, G, L, th, tw,
                  pu, pv, 0};
    int nth = L * (O + C) < 20000 ? 1 : cp_threads_count();
    cp_threads_run(nth, wino_transform_work, &J);
    if (!J.failed) {
      cp_threads_run(O < 2 ? 1 : nth, wino_product_work, &J);
      rc = 0;
    }
  }
  cp_tensor_release(&xc);
  cp_tensor_release(&yc);
  cp_tensor_release(&buf);
  return rc;
}

/* ---- Winograd F(4x4, 3x3) for a 3x3, stride-1, dilation-1 grad_input ----
 * grad_input is the convolution of gy with the kernel flipped and in/out
 * swapped within each group, padded 2 - p (the gather view of the
 * transposed convolution).  Each 4x4 output tile is
 *   A^T [ sum_o (G f G^T) .* (B^T d_o B) ] A
 * over the 6x6 patches d_o of gy: 36 products V_k (L x O) by W_k (O x C),
 * 4x fewer multiplies than direct.  Three threaded passes: transforms of
 * gy's tile rows and of the kernel; the products, by transformed position;
 * the output transform, by tile row. */

typedef struct winx_job {
  const cp_geom *g;           /* the conv2d problem (x's H, W; pads) */
  const float *gy, *w;        /* (N, O, OH, OW), (O, Cg, 3, 3) */
  float *V, *Wt, *M, *gx;     /* [k][l][o], [k][o][c], [k][l][c]; output */
  int64_t O, C, Og, Cg, G, L, th, tw, qt, ql;
  int64_t pv, pw, pm;         /* plane strides (skewed, as above) */
  int failed;
} winx_job;

/* G (6x3) applied to 3 vectors. */
static AI void wino_g(const v16sf *f, v16sf *u) {
  v16sf s02 = f[0] + f[2];
  u[0] = f[0] * (1.0f / 4);
  u[1] = -(s02 + f[1]) * (1.0f / 6);
  u[2] = -(s02 - f[1]) * (1.0f / 6);
  u[3] = f[0] * (1.0f / 24) + f[1] * (1.0f / 12) + f[2] * (1.0f / 6);
  u[4] = f[0] * (1.0f / 24) - f[1] * (1.0f / 12) + f[2] * (1.0f / 6);
  u[5] = f[2];
}

/* A^T (4x6) applied to 6 vectors. */
static AI void wino_at(const v16sf *m, v16sf *y) {
  v16sf s12 = m[1] + m[2], d12 = m[1] - m[2];
  v16sf s34 = m[3] + m[4], d34 = m[3] - m[4];
  y[0] = m[0] + s12 + s34;
  y[1] = d12 + 2 * d34;
  y[2] = s12 + 4 * s34;
  y[3] = d12 + 8 * d34 + m[5];
}

/* Pass 1 body: tile rows [lo, hi) of gy into V, output channels [o0, o1)
 * of the kernel into Wt. */
static AI void winx_in_body(const winx_job *J, int64_t lo, int64_t hi,
                            int64_t o0, int64_t o1, float *band) {
  const cp_geom *g = J->g;
  const int64_t O = J->O, C = J->C, cols = 4 * J->tw + 2;
  for (int64_t na = lo; na < hi; na++) {
    int64_t n = na / J->th, a = na % J->th;
    band_copy(band, J->gy + n * O * g->OH * g->OW, O, g->OH, g->OW,
              4 * a - J->qt, -J->ql, 6, cols);
    for (int64_t b = 0; b < J->tw; b++) {
      float *dst = J->V + (na * J->tw + b) * O;
      for (int64_t c0 = 0; c0 < O; c0 += 16) {
        int nc = O - c0 < 16 ? (int)(O - c0) : 16;
        v16sf t[6][6], out[6];
        for (int k = 0; k < 6; k++) {
          v16sf in[6], o6[6];
          for (int m = 0; m < 6; m++)
            ld16(&in[m], band + (m * cols + 4 * b + k) * O + c0, nc);
          wino_bt(in, o6);
          for (int m = 0; m < 6; m++) t[m][k] = o6[m];
        }
        for (int m = 0; m < 6; m++) {
          wino_bt(t[m], out);
          for (int j = 0; j < 6; j++)
            st16(dst + (6 * m + j) * J->pv + c0, &out[j], nc);
        }
      }
    }
  }
  /* Wt[k][o][c] = G f G^T, f[c][o] = w[o][ci] flipped (c = gi*Cg + ci) */
  for (int64_t o = o0; o < o1; o++) {
    int64_t gi = o / J->Og;
    for (int64_t c0 = 0; c0 < J->Cg; c0 += 16) {
      int nc = J->Cg - c0 < 16 ? (int)(J->Cg - c0) : 16;
      float fs[9][16];
      memset(fs, 0, sizeof fs);
      for (int ci = 0; ci < nc; ci++)
        for (int q = 0; q < 9; q++)
          fs[q][ci] = J->w[(o * J->Cg + c0 + ci) * 9 + 8 - q];
      v16sf f[3][3], t[6][3], col[3], u6[6];
      for (int q = 0; q < 9; q++) memcpy(&f[q / 3][q % 3], fs[q], 64);
      for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 3; i++) col[i] = f[i][k];
        wino_g(col, u6);
        for (int m = 0; m < 6; m++) t[m][k] = u6[m];
      }
      float *dst = J->Wt + o * C + gi * J->Cg + c0;
      for (int m = 0; m < 6; m++) {
        wino_g(t[m], u6);
        for (int j = 0; j < 6; j++) st16(dst + (6 * m + j) * J->pw, &u6[j], nc);
      }
    }
  }
}

__attribute__((target("avx512f"))) static void winx_in_512(
    const winx_job *J, int64_t lo, int64_t hi, int64_t o0, int64_t o1,
    float *band) {
  winx_in_body(J, lo, hi, o0, o1, band);
}
static void winx_in_base(const winx_job *J, int64_t lo, int64_t hi,
                         int64_t o0, int64_t o1, float *band) {
  winx_in_body(J, lo, hi, o0, o1, band);
}

static void winx_in_work(int tid, int nth, void *ctx) {
  winx_job *J = ctx;
  int64_t rows = J->g->N * J->th;
  float *band = cp_threads_scratch(
      tid, (size_t)(6 * (4 * J->tw + 2) * J->O) * sizeof(float));
  if (band == NULL) {
    J->failed = 1;
    return;
  }
  int64_t lo = rows * tid / nth, hi = rows * (tid + 1) / nth;
  int64_t o0 = J->O * tid / nth, o1 = J->O * (tid + 1) / nth;
  if (__builtin_cpu_supports("avx512f"))
    winx_in_512(J, lo, hi, o0, o1, band);
  else
    winx_in_base(J, lo, hi, o0, o1, band);
}

/* C += A B, A stored M x K with rows lda apart: rows of V times the kernel
 * (the grad_input products). */
__attribute__((target("avx512f"))) static void gemm_nn512(
    int64_t M_, int64_t N_, int64_t K, const float *A, int64_t lda,
    const float *B, int64_t ldb, float *C, int64_t ldc) {
  gemm512_body(M_, N_, K, A, lda, 1, B, ldb, C, ldc);
}

static void winx_product_work(int tid, int nth, void *ctx) {
  winx_job *J = ctx;
  int64_t jobs = WN * J->G;
  int avx512 = __builtin_cpu_supports("avx512f");
  for (int64_t jb = jobs * tid / nth; jb < jobs * (tid + 1) / nth; jb++) {
    int64_t k = jb / J->G, gi = jb % J->G;
    const float *A = J->V + k * J->pv + gi * J->Og;
    const float *B = J->Wt + k * J->pw + gi * J->Og * J->C + gi * J->Cg;
    float *M = J->M + k * J->pm + gi * J->Cg;
    for (int64_t l = 0; l < J->L; l++)
      memset(M + l * J->C, 0, (size_t)J->Cg * sizeof *M);
    if (avx512)
      gemm_nn512(J->L, J->Cg, J->Og, A, J->O, B, J->C, M, J->C);
    else
      gemm_plain(J->L, J->Cg, J->Og, A, J->O, 1, B, J->C, M, J->C);
  }
}

/* Pass 3 body: Y = A^T m A of each tile, into gx (cropped at the edge). */
static AI void winx_out_body(const winx_job *J, int64_t lo, int64_t hi) {
  const cp_geom *g = J->g;
  const int64_t C = J->C, H = g->H, W = g->W;
  for (int64_t na = lo; na < hi; na++) {
    int64_t n = na / J->th, a = na % J->th;
    for (int64_t b = 0; b < J->tw; b++) {
      const float *src = J->M + (na * J->tw + b) * C;
      for (int64_t c0 = 0; c0 < C; c0 += 16) {
        int nc = C - c0 < 16 ? (int)(C - c0) : 16;
        v16sf m[6][6], t[4][6], y[4], col[6];
        for (int k = 0; k < WN; k++)
          ld16(&m[k / 6][k % 6], src + k * J->pm + c0, nc);
        for (int k = 0; k < 6; k++) {
          for (int q = 0; q < 6; q++) col[q] = m[q][k];
          wino_at(col, y);
          for (int i = 0; i < 4; i++) t[i][k] = y[i];
        }
        for (int i = 0; i < 4; i++) {
          int64_t r = 4 * a + i;
          if (r >= H) break;
          wino_at(t[i], y);
          float ys[4][16];
          memcpy(ys, y, sizeof ys);
          for (int j = 0; j < 4; j++) {
            int64_t q = 4 * b + j;
            if (q >= W) break;
            float *d = J->gx + ((n * C + c0) * H + r) * W + q;
            for (int ci = 0; ci < nc; ci++) d[ci * H * W] = ys[j][ci];
          }
        }
      }
    }
  }
}

__attribute__((target("avx512f"))) static void winx_out_512(
    const winx_job *J, int64_t lo, int64_t hi) {
  winx_out_body(J, lo, hi);
}
static void winx_out_base(const winx_job *J, int64_t lo, int64_t hi) {
  winx_out_body(J, lo, hi);
}

static void winx_out_work(int tid, int nth, void *ctx) {
  winx_job *J = ctx;
  int64_t rows = J->g->N * J->th;
  int64_t lo = rows * tid / nth, hi = rows * (tid + 1) / nth;
  if (__builtin_cpu_supports("avx512f"))
    winx_out_512(J, lo, hi);
  else
    winx_out_base(J, lo, hi);
}

int cp_wino_grad_input(cp_tensor *gx, const cp_tensor *gy4,
                       const cp_tensor *w, const cp_geom *g, cp_err *e) {
  memset(gx, 0, sizeof *gx);
  if (g->kH != 3 || g->kW != 3 || g->p.stride[0] != 1 ||
      g->p.stride[1] != 1 || g->p.dilation[0] != 1 ||
      g->p.dilation[1] != 1 || g->p.mode != CP_PAD_ZEROS)
    return 1;
  for (int i = 0; i < 4; i++)
    if (g->p.pad[i] > 2) return 1; /* a crop: the transposed loop does it */
  const int64_t O = g->O, C = g->C, G = g->p.groups;
  const int64_t th = (g->H + 3) / 4, tw = (g->W + 3) / 4, L = g->N * th * tw;
  if ((size_t)(WN * (O + C)) > CP_GRAD_BUF_LIMIT / sizeof(float) / (size_t)L)
    return 1;
  const int64_t pv = L * O + 48, pw = O * C + 48, pm = L * C + 48;
  int64_t n = WN * (pv + pw + pm);
  cp_tensor buf, yc, wc;
  if (cp_tensor_empty(&buf, 1, &n, e)) return 1;
  if (cp_tensor_contiguous(&yc, gy4, e)) {
    cp_tensor_release(&buf);
    return -1;
  }
  if (cp_tensor_contiguous(&wc, w, e)) {
    cp_tensor_release(&yc);
    cp_tensor_release(&buf);
    return -1;
  }
  int rc = 1;
  int64_t xs[4] = {g->N, C, g->H, g->W};
  /* Inf or NaN would smear over whole tiles (Inf - Inf): direct path */
  if (cp_wino_safe(&yc) && cp_wino_safe(&wc) &&
      cp_tensor_empty(gx, 4, xs, e) == 0) {
    float *V = cp_tensor_data(&buf), *Wt = V + WN * pv, *M = Wt + WN * pw;
    winx_job J = {g, cp_tensor_data(&yc), cp_tensor_data(&wc), V, Wt, M,
                  cp_tensor_data(gx), O, C, O / G, C / G, G, L, th, tw,
                  2 - g->p.pad[0], 2 - g->p.pad[2], pv, pw, pm, 0};
    int nth = L * (O + C) < 20000 ? 1 : cp_threads_count();
    cp_threads_run(nth, winx_in_work, &J);
    if (!J.failed) {
      cp_threads_run(nth, winx_product_work, &J);
      cp_threads_run(nth, winx_out_work, &J);
      rc = 0;
    } else {
      cp_tensor_release(gx);
    }
  }
  cp_tensor_release(&wc);
  cp_tensor_release(&yc);
  cp_tensor_release(&buf);
  return rc;
}
