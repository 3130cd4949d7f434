/* sepconv.c - separable conv2d: row pass and column pass (see sepconv.h).
 *
 * For one output row r the column pass needs the row-pass results of the
 * input rows r*sH + i*dH - pad_top (i < kH), each of them
 *   t[R][c] = sum_j row[j] * x[R][c*sW + j*dW - pad_left]
 * (rows and columns outside the image resolved by the padding mode).  A
 * band of output rows walks down the image keeping those rows in a ring
 * tagged by input row: a row is computed the first time a tap asks for it
 * and stays while later output rows need it (the ring is one window plus
 * one stride long, so nothing still needed is overwritten).
 *
 * When stride equals dilation (1 and 1 included), output row r+1's window
 * is row r's shifted by one tap: the column pass does the two rows
 * together, each loaded row feeding both (measured: -16% CPU time on the
 * 15x15 Gaussian).  An output far larger than the caches is written with
 * streaming stores (-8% CPU time on the 5x5 Gaussian of a 1080p picture:
 * no line of y is read before it is overwritten).
 *
 * The row pass reads a source row laid out as in conv_fast.c: the input
 * row padded by the mode and split into its sW stride phases, so that tap
 * j is a fixed offset and every load is a plain vector load.  The vector
 * code is written once with GCC vector extensions and instantiated for
 * AVX-512, AVX2+FMA and the SSE baseline (cp_kern_isa picks, tests force
 * each). */
#include "sepconv.h"

#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conv_kernels.h"
#include "threads.h"

/* a*b + c as one FMA: -std=c11 turns contraction off by default. */
#pragma GCC optimize("fp-contract=fast")

/* ====================================================================== */
/* Rank-1 detection and the cost model                                     */
/* ====================================================================== */

int cp_sep_factor(const cp_geom *g, const float *w, float *col, float *row) {
  if (g->Cg != 1) return 1;
  const int64_t kH = g->kH, kW = g->kW;
  for (int64_t o = 0; o < g->O; o++) {
    const float *k = w + o * kH * kW;
    float *c = col + o * kH, *r = row + o * kW;
    int64_t p = 0, q = 0;
    float big = 0.0f;
    for (int64_t i = 0; i < kH; i++)
      for (int64_t j = 0; j < kW; j++) {
        float v = k[i * kW + j];
        if (!isfinite(v)) return 1;
        if (fabsf(v) > big) big = fabsf(v), p = i, q = j;
      }
    for (int64_t i = 0; i < kH; i++) c[i] = k[i * kW + q];
    for (int64_t j = 0; j < kW; j++)
      r[j] = big == 0.0f ? 0.0f
                         : (float)((double)k[p * kW + j] / k[p * kW + q]);
    for (int64_t i = 0; i < kH; i++)
      for (int64_t j = 0; j < kW; j++) {
        double v = k[i * kW + j];
        if (fabs((double)c[i] * r[j] - v) > ldexp(fabs(v), -20)) return 1;
      }
  }
  return 0;
}

/* The cost model, measured (CPU time of 40 calls on 1x3x1080x1920,
 * depthwise Gaussian, "same" padding, against the direct row-pair tiles):
 * 3x3 +7%, 5x5 -8%, 15x15 -58%.  The two passes cost about twice their
 * multiply-adds (the row copy, storing and reloading the intermediate), so
 * they are taken when kH*kW >= 2*(kH + kW): 4x4, 5x5, 3x7 and larger. */
static int sep_pays(int64_t kH, int64_t kW) { return kH * kW >= 2 * (kH + kW); }

static atomic_int sep_on = 1;
void cp_sep_set_enabled(int on) { atomic_store(&sep_on, on != 0); }

int cp_sep_worth(const cp_geom *g) {
  return atomic_load_explicit(&sep_on, memory_order_relaxed) &&
         g->Cg == 1 && g->kH >= 2 && g->kW >= 2 && sep_pays(g->kH, g->kW);
}

/* ====================================================================== */
/* Vector passes, per instruction set                                      */
/* ====================================================================== */

typedef float v16 __attribute__((vector_size(64)));
typedef float v16u __attribute__((vector_size(64), aligned(4)));
typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));
typedef float v4 __attribute__((vector_size(16)));
typedef float v4u __attribute__((vector_size(16), aligned(4)));

/* Row pass: t[c] = sum_k wt[k] * S[koff[k] + c] for c < n, n a multiple of
 * 4 vectors (the caller pads). */
typedef void (*row_fn)(int K, const float *S, const int32_t *koff,
                       const float *wt, float *t, int64_t n);
/* Column pass: y[c] = bias + sum_k wt[k] * rows[k][c] for c0 <= c < n (the rows
 * are readable up to n rounded up to a vector); nonzero if some y is NaN
 * or Inf. */
typedef int (*col_fn)(int K, const float *const *rows, const float *wt,
                      float bias, float *y, int64_t c, int64_t n);
/* The same for two output rows, windows rows[0..K) and rows[1..K]. */
typedef int (*col2_fn)(int K, const float *const *rows, const float *wt,
                       float bias, float *y0, float *y1, int64_t n,
                       int stream);

/* The accumulators must be registers: the vector type and width are
 * compile-time constants, hence one macro per instruction set. */
#define SEP_PASSES(SFX, VT, VTU, VL, NT, ATTR)                                   \
  ATTR static void row_##SFX(int K, const float *S, const int32_t *koff,     \
                             const float *wt, float *t, int64_t n) {         \
    for (int64_t c = 0; c < n; c += 4 * VL) {                                \
      VT a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};                             \
      for (int k = 0; k < K; k++) {                                          \
        const float *s = S + koff[k] + c;                                    \
        VT w = wt[k] - (VT){0};                                              \
        a0 += w * *(const VTU *)(s);                                         \
        a1 += w * *(const VTU *)(s + VL);                                    \
        a2 += w * *(const VTU *)(s + 2 * VL);                                \
        a3 += w * *(const VTU *)(s + 3 * VL);                                \
      }                                                                      \
      *(VTU *)(t + c) = a0;                                                  \
      *(VTU *)(t + c + VL) = a1;                                             \
      *(VTU *)(t + c + 2 * VL) = a2;                                         \
      *(VTU *)(t + c + 3 * VL) = a3;                                         \
    }                                                                        \
  }                                                                          \
  ATTR static int col_##SFX(int K, const float *const *rows,                 \
                            const float *wt, float bias, float *y,           \
                            int64_t c, int64_t n) {                          \
    VT chk = {0}; /* a - a: 0, or NaN where a is not finite */               \
    for (; c + 2 * VL <= n; c += 2 * VL) {                                   \
      VT a0 = bias - (VT){0}, a1 = a0;                                       \
      for (int k = 0; k < K; k++) {                                          \
        VT w = wt[k] - (VT){0};                                              \
        a0 += w * *(const VTU *)(rows[k] + c);                               \
        a1 += w * *(const VTU *)(rows[k] + c + VL);                          \
      }                                                                      \
      chk += (a0 - a0) + (a1 - a1);                                          \
      *(VTU *)(y + c) = a0;                                                  \
      *(VTU *)(y + c + VL) = a1;                                             \
    }                                                                        \
    for (; c < n; c += VL) {                                                 \
      VT a = bias - (VT){0};                                                 \
      for (int k = 0; k < K; k++)                                            \
        a += (wt[k] - (VT){0}) * *(const VTU *)(rows[k] + c);                \
      if (c + VL <= n) {                                                     \
        chk += a - a;                                                        \
        *(VTU *)(y + c) = a;                                                 \
      } else {                                                               \
        for (int64_t l = 0; l < n - c; l++) {                                \
          chk[0] += a[l] - a[l];                                             \
          y[c + l] = a[l];                                                   \
        }                                                                    \
      }                                                                      \
    }                                                                        \
    int bad = 0;                                                             \
    for (int l = 0; l < VL; l++) bad |= chk[l] != chk[l];                    \
    return bad;                                                              \
  }                                                                          \
  /* Two output rows whose windows are rows[0..K) and rows[1..K]: each     \
   * loaded row serves both. */                                              \
  ATTR static int col2_##SFX(int K, const float *const *rows,                \
                             const float *wt, float bias, float *y0,         \
                             float *y1, int64_t n, int stream) {             \
    VT chk = {0};                                                            \
    int64_t c = 0;                                                           \
    stream = stream && (uintptr_t)y0 % sizeof(VT) == 0 &&                    \
             (uintptr_t)y1 % sizeof(VT) == 0;                                \
    for (; c + 2 * VL <= n; c += 2 * VL) {                                   \
      VT a0 = bias - (VT){0}, a1 = a0, b0 = a0, b1 = a0;                     \
      VT r0 = *(const VTU *)(rows[0] + c);                                   \
      VT r1 = *(const VTU *)(rows[0] + c + VL);                              \
      a0 += (wt[0] - (VT){0}) * r0;                                          \
      a1 += (wt[0] - (VT){0}) * r1;                                          \
      for (int k = 1; k < K; k++) {                                          \
        VT w = wt[k] - (VT){0}, v = wt[k - 1] - (VT){0};                     \
        r0 = *(const VTU *)(rows[k] + c);                                    \
        r1 = *(const VTU *)(rows[k] + c + VL);                               \
        a0 += w * r0;                                                        \
        a1 += w * r1;                                                        \
        b0 += v * r0;                                                        \
        b1 += v * r1;                                                        \
      }                                                                      \
      VT w = wt[K - 1] - (VT){0};                                            \
      b0 += w * *(const VTU *)(rows[K] + c);                                 \
      b1 += w * *(const VTU *)(rows[K] + c + VL);                            \
      chk += (a0 - a0) + (a1 - a1) + (b0 - b0) + (b1 - b1);                  \
      if (stream) { /* past the caches: no read for ownership */             \
        NT(y0 + c, a0);                     \
        NT(y0 + c + VL, a1);                \
        NT(y1 + c, b0);                     \
        NT(y1 + c + VL, b1);                \
      } else {                                                               \
        *(VTU *)(y0 + c) = a0;                                               \
        *(VTU *)(y0 + c + VL) = a1;                                          \
        *(VTU *)(y1 + c) = b0;                                               \
        *(VTU *)(y1 + c + VL) = b1;                                          \
      }                                                                      \
    }                                                                        \
    int bad = 0;                                                             \
    for (int l = 0; l < VL; l++) bad |= chk[l] != chk[l];                    \
    if (c < n) {                                                             \
      bad |= col_##SFX(K, rows, wt, bias, y0, c, n);                         \
      bad |= col_##SFX(K, rows + 1, wt, bias, y1, c, n);                     \
    }                                                                        \
    return bad;                                                              \
  }

#define ISA512 __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))
#define ISA256 __attribute__((target("avx2,fma")))
/* Streaming (non-temporal) stores of one aligned vector. */
#define NT512(p, v) _mm512_stream_ps((p), (__m512)(v))
#define NT256(p, v) _mm256_stream_ps((p), (__m256)(v))
#define NT128(p, v) _mm_stream_ps((p), (__m128)(v))
SEP_PASSES(512, v16, v16u, 16, NT512, ISA512)
SEP_PASSES(256, v8, v8u, 8, NT256, ISA256)
SEP_PASSES(128, v4, v4u, 4, NT128, )

/* Row-pass width is padded to a multiple of this (4 vectors of the widest
 * instruction set). */
#define ROW_ALIGN 64

/* ====================================================================== */
/* The fast kernel                                                         */
/* ====================================================================== */

typedef struct phase {        /* one stride phase of a source row */
  int64_t col0;               /* element m holds input col col0 + m*sW */
  int64_t ia, ib;             /* elements whose column is inside 0..W-1 */
} phase;

typedef struct sjob {
  const cp_geom *g;
  const float *x, *b;
  float *y;
  const cp_sep_factors *f;
  row_fn row;
  col_fn col;
  col2_fn col2;
  int nph;                    /* stride phases the row taps read */
  phase *ph;
  int32_t *koff;              /* kW source offsets (phase*Wq + m) */
  int32_t *colmap;            /* nph x Wq: input column, or -1 for zero */
  int64_t Wq, OWp;            /* phase row length, row-pass width */
  int64_t cw, Ls;             /* strip width, strip phase length */
  int64_t maxoff;             /* largest tap offset in a phase */
  int64_t ring;               /* ring rows */
  int64_t nb, nbands, nitems; /* output rows per band, bands, items */
  size_t scratch;             /* bytes per thread */
  atomic_long next;
  atomic_int bad;             /* a non-finite result or no scratch */
  int stream;                 /* output written past the caches */
} sjob;

static int64_t round_up(int64_t a, int64_t m) { return (a + m - 1) / m * m; }

/* Row pass of input row R (any integer: the padding mode resolves it) for
 * the output columns c0 .. c0 + width (a multiple of ROW_ALIGN): the
 * strip's source phases go to S (J->Ls elements each), the results to t. */
static void row_of(const sjob *J, const float *xp, int64_t R, int64_t c0,
                   int64_t width, const float *rw, float *S, float *t) {
  const cp_geom *g = J->g;
  int64_t ri = cp_pad_index(R, g->H, g->p.mode);
  if (ri < 0) { /* a zero row times finite weights */
    memset(t, 0, (size_t)width * sizeof *t);
    return;
  }
  const float *xr = xp + ri * g->W;
  const int64_t sW = g->p.stride[1], m1 = c0 + width + J->maxoff;
  for (int k = 0; k < J->nph; k++) {
    const phase *P = &J->ph[k];
    const int32_t *cm = J->colmap + k * J->Wq;
    float *s = S + k * J->Ls - c0; /* s[m]: element m of the phase */
    int64_t ia = P->ia > c0 ? P->ia : c0, ib = P->ib < m1 ? P->ib : m1;
    if (ia > m1) ia = m1;
    if (ib < ia) ib = ia;
    for (int64_t m = c0; m < ia; m++) s[m] = cm[m] < 0 ? 0.0f : xr[cm[m]];
    if (sW == 1) {
      memcpy(s + ia, xr + P->col0 + ia, (size_t)(ib - ia) * sizeof *s);
    } else {
      const float *xs = xr + P->col0;
      for (int64_t m = ia; m < ib; m++) s[m] = xs[m * sW];
    }
    for (int64_t m = ib; m < m1; m++) s[m] = cm[m] < 0 ? 0.0f : xr[cm[m]];
  }
  J->row((int)g->kW, S, J->koff, rw, t, width);
}

/* One item: a band of output rows of one output plane, strip by strip, so
 * that the ring (window rows x strip width) stays in cache. */
static void do_item(sjob *J, int64_t it, char *scr) {
  const cp_geom *g = J->g;
  const int64_t kH = g->kH;
  float *T = (float *)scr;                         /* ring x cw */
  float *S = T + J->ring * J->cw;                  /* nph x Ls */
  int64_t *tag = (int64_t *)(S + J->nph * J->Ls);  /* ring */
  const float **rows = (const float **)(tag + J->ring); /* kH + 1 */
  int64_t band = it % J->nbands, no = it / J->nbands;
  int64_t n = no / g->O, o = no % g->O;
  const float *xp = J->x + (n * g->C + o / g->Og) * g->H * g->W;
  const float *cw = J->f->col + o * J->f->col_stride;
  const float *rw = J->f->row + o * J->f->row_stride;
  float bias = J->b ? J->b[o] : 0.0f;
  float *yp = J->y + (n * g->O + o) * g->OH * g->OW;
  int64_t r0 = band * J->nb, r1 = r0 + J->nb < g->OH ? r0 + J->nb : g->OH;
  int bad = 0, pair = 0;
  for (int64_t c0 = 0; c0 < g->OW; c0 += J->cw) {
    int64_t ncol = g->OW - c0 < J->cw ? g->OW - c0 : J->cw;
    int64_t width = round_up(ncol, ROW_ALIGN);
    for (int64_t s = 0; s < J->ring; s++) tag[s] = INT64_MIN;
    for (int64_t r = r0; r < r1; r += pair ? 2 : 1) {
      /* with sH = dH, row r+1's window is row r's shifted by one tap */
      pair = g->p.stride[0] == g->p.dilation[0] && r + 1 < r1;
      for (int64_t i = 0; i < kH + pair; i++) {
        int64_t R = cp_geom_in_row(g, r, 0) + i * g->p.dilation[0];
        int64_t slot = R % J->ring;
        if (slot < 0) slot += J->ring;
        float *t = T + slot * J->cw;
        if (tag[slot] != R) {
          row_of(J, xp, R, c0, width, rw, S, t);
          tag[slot] = R;
        }
        rows[i] = t;
      }
      float *y0 = yp + r * g->OW + c0;
      bad |= pair ? J->col2((int)kH, rows, cw, bias, y0, y0 + g->OW, ncol,
                            J->stream)
                  : J->col((int)kH, rows, cw, bias, y0, 0, ncol);
    }
  }
  if (J->stream) _mm_sfence(); /* order the streaming stores */
  if (bad) atomic_store(&J->bad, 1);
}

static void work(int tid, int nth, void *ctx) {
  (void)nth;
  sjob *J = ctx;
  char *scr = cp_threads_scratch(tid, J->scratch);
  if (scr == NULL) {
    atomic_store(&J->bad, 1);
    return;
  }
  for (;;) {
    long it = atomic_fetch_add(&J->next, 1);
    if (it >= J->nitems || atomic_load_explicit(&J->bad, memory_order_relaxed))
      break;
    do_item(J, it, scr);
  }
}

/* Set up the source phases and tap offsets; 1 if they would not fit. */
static int plan_columns(sjob *J) {
  const cp_geom *g = J->g;
  const int64_t sW = g->p.stride[1], dW = g->p.dilation[1], kW = g->kW;
  int64_t maxoff = (kW - 1) * dW / sW;
  J->OWp = round_up(g->OW, ROW_ALIGN);
  J->maxoff = maxoff;
  /* Strips of equal width, the ring of row-pass results within 128 KiB
   * (L2; measured: 24 KiB strips cost 10-50% more CPU time, the strided
   * reads of the input defeating the prefetcher). */
  int64_t cmax = round_up(131072 / 4 / J->ring, ROW_ALIGN) - ROW_ALIGN;
  if (cmax < ROW_ALIGN) cmax = ROW_ALIGN;
  int64_t nstrips = (J->OWp + cmax - 1) / cmax;
  J->cw = round_up((g->OW + nstrips - 1) / nstrips, ROW_ALIGN);
  J->Ls = round_up(J->cw + maxoff, 16);
  /* the last strip's source ends here */
  J->Wq = round_up(J->OWp, J->cw) - J->cw + J->Ls;
  const int64_t maxph = sW < kW ? sW : kW; /* phases the taps can read */
  if (maxph * J->Wq > ((int64_t)1 << 26)) return 1;
  int nph = 0;
  int64_t *which = malloc((size_t)maxph * sizeof *which);
  J->koff = malloc((size_t)kW * sizeof *J->koff);
  if (!which || !J->koff) {
    free(which);
    return 1;
  }
  for (int64_t j = 0; j < kW; j++) {
    int64_t p = j * dW % sW, k = 0;
    while (k < nph && which[k] != p) k++;
    if (k == nph) which[nph++] = p;
    J->koff[j] = (int32_t)(k * J->Ls + j * dW / sW);
  }
  J->nph = nph;
  J->ph = malloc((size_t)nph * sizeof *J->ph);
  J->colmap = malloc((size_t)(nph * J->Wq) * sizeof *J->colmap);
  if (!J->ph || !J->colmap) {
    free(which);
    return 1;
  }
  /* Elements past the last one a real output column reads are zeros: the
   * row pass computes them (the width is padded) and nothing uses them. */
  int64_t used = g->OW + maxoff;
  for (int k = 0; k < nph; k++) {
    phase *P = &J->ph[k];
    P->col0 = cp_geom_in_col(g, 0, 0) + which[k];
    int32_t *cm = J->colmap + k * J->Wq;
    for (int64_t m = 0; m < J->Wq; m++)
      cm[m] = m < used ? (int32_t)cp_pad_index(P->col0 + m * sW, g->W,
                                               g->p.mode)
                       : -1;
    int64_t m = 0;
    while (m < used && P->col0 + m * sW < 0) m++;
    P->ia = m;
    while (m < used && P->col0 + m * sW < g->W) m++;
    P->ib = m;
  }
  free(which);
  return 0;
}

int cp_conv2d_sep(const cp_geom *g, const float *x, const cp_sep_factors *f,
                  const float *b, float *y) {
  if (g->Cg != 1 || g->N == 0 || g->O == 0 || g->OH == 0 || g->OW == 0)
    return 1;
  sjob J;
  memset(&J, 0, sizeof J);
  J.g = g, J.x = x, J.b = b, J.y = y, J.f = f;
  switch (cp_kern_isa()) {
  case 2: J.row = row_512, J.col = col_512, J.col2 = col2_512; break;
  case 1: J.row = row_256, J.col = col_256, J.col2 = col2_256; break;
  default: J.row = row_128, J.col = col_128, J.col2 = col2_128; break;
  }
  int rc = 1;
  const int64_t sH = g->p.stride[0], dH = g->p.dilation[0];
  J.ring = (g->kH - 1) * dH + 1 + sH;
  if (plan_columns(&J)) goto out;
  double bytes = (double)J.ring * J.cw * 4 + (double)J.nph * J.Ls * 4 +
                 (double)J.ring * 8 + (double)(g->kH + 1) * sizeof(float *) + 64;
  if (bytes > (double)CP_SCRATCH_MAX) goto out;
  J.scratch = (size_t)bytes;
  /* Tiny problems stay on the calling thread (a wake-up costs more); else
   * bands of output rows, at least about 8 items per thread so a slow
   * thread does not hold the others, each band several windows tall so the
   * rows recomputed at its top are few. */
  double macs = (double)g->N * g->O * g->OH * g->OW * (g->kH + g->kW);
  int nth = macs < 262144.0 ? 1 : cp_threads_count();
  int64_t planes = g->N * g->O;
  int64_t want_bands = (8 * nth + planes - 1) / planes;
  int64_t nb = (g->OH + want_bands - 1) / want_bands;
  int64_t min_nb = 4 * ((g->kH - 1) * dH + 1) / sH + 1;
  if (nb < min_nb) nb = min_nb;
  if (nb > g->OH) nb = g->OH;
  /* An output far larger than the caches is written with streaming
   * stores: no read of each line before it is overwritten. */
  J.stream = (double)g->N * g->O * g->OH * g->OW * 4 > 16.0 * (1 << 20);
  J.nb = nb;
  J.nbands = (g->OH + nb - 1) / nb;
  J.nitems = planes * J.nbands;
  cp_threads_run(nth, work, &J);
  rc = atomic_load(&J.bad) ? 1 : 0;
out:
  free(J.koff), free(J.ph), free(J.colmap);
  return rc;
}

int cp_conv2d_sep_auto(const cp_geom *g, const float *x, const float *w,
                       const float *b, float *y) {
  if (!cp_sep_worth(g)) return 1;
  float *col = malloc((size_t)(g->O * (g->kH + g->kW)) * sizeof *col);
  if (col == NULL) return 1;
  float *row = col + g->O * g->kH;
  int rc = 1;
  if (cp_sep_factor(g, w, col, row) == 0) {
    cp_sep_factors f = {col, row, g->kH, g->kW};
    rc = cp_conv2d_sep(g, x, &f, b, y);
  }
  free(col);
  return rc;
}

/* ====================================================================== */
/* Reference                                                               */
/* ====================================================================== */

void cp_conv2d_sep_ref(const cp_geom *g, const float *x,
                       const cp_sep_factors *f, const float *b, float *y) {
  const cp_padmode mode = g->p.mode;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t o = 0; o < g->O; o++) {
      const float *xc = x + (n * g->C + o / g->Og) * g->H * g->W;
      const float *cw = f->col + o * f->col_stride;
      const float *rw = f->row + o * f->row_stride;
      for (int64_t r = 0; r < g->OH; r++)
        for (int64_t c = 0; c < g->OW; c++) {
          double acc = b ? b[o] : 0.0;
          for (int64_t i = 0; i < g->kH; i++) {
            int64_t ri = cp_pad_index(cp_geom_in_row(g, r, i), g->H, mode);
            double t = 0.0; /* the row pass of input row ri at column c */
            for (int64_t j = 0; j < g->kW; j++) {
              int64_t cj = cp_pad_index(cp_geom_in_col(g, c, j), g->W, mode);
              float xv = (ri < 0 || cj < 0) ? 0.0f : xc[ri * g->W + cj];
              t += (double)rw[j] * xv;
            }
            acc += cw[i] * t;
          }
          y[((n * g->O + o) * g->OH + r) * g->OW + c] = (float)acc;
        }
    }
}
