/* conv_fast.c - fast conv2d and conv_transpose2d on contiguous buffers.
 *
 * One idea serves every path: "tap-offset" tiles.  For one image, a band of
 * output rows and a set of input channels, the input is first copied into a
 * source block whose rows are the rows the taps read, already padded by the
 * padding mode and, for strides, split into stride phases (sH*sW planes,
 * only the ones some tap reads).  Then every kernel tap of every channel is
 * just a fixed offset into that block, and output positions are a flat run:
 *
 *   out[m][p] = bias[m] + sum_k A[k][m] * src[koff[k] + p]
 *
 * where p = (row in band) * Wq + col, Wq the source row length.  Columns
 * past the output width are computed and dropped (a few per row), so every
 * load of src is a plain vector load: no im2col copy at all.  A register-
 * blocked micro-kernel computes MR output channels x NR positions; the
 * weights are packed into MR-wide panels (and kept while the same weights
 * come back).  The vector code itself is in conv_kernels.c.
 *
 *  - few output channels per group (image filters, depthwise, groups == C):
 *    small MR (1..4), wide NR: a vectorised direct convolution; with one
 *    channel per group the two rows of the tile are two output rows, so
 *    each loaded vector serves both;
 *  - many channels: MR = 8 (AVX-512) / 6 (AVX2) panels: an implicit GEMM;
 *  - 3x3, stride = dilation, many channels: Winograd F(2x2, 3x3), 16 GEMMs
 *    on the same GEMM tile (2.25x fewer multiplies);
 *  - conv_transpose2d: gather per output phase.  Output rows R = a + s*t
 *    (a = 0..s-1) receive only the taps i with out_row(0, i) = a (mod s),
 *    each reading input row t + const: a stride-1 correlation per phase
 *    over the zero-padded input, with the same tiles.
 *
 * All index arithmetic comes from geometry.h.  Padding cells are real zeros
 * (or the mode's copies) multiplied by the weights, so NaN/Inf behave as in
 * the reference conv2d loop.  The transposed scatter never touches outputs
 * whose taps fall outside the input, so a non-finite transposed weight goes
 * to the reference loop.  The tiles use fused multiply-adds; a tile whose
 * result holds a NaN or Inf is redone with every product rounded first, so
 * that an overflowing product is Inf and Inf - Inf is NaN, as in PyTorch.
 *
 * Work is split into items (image, band of rows, chunk of channels) taken
 * from an atomic counter by the threads of threads.h; each thread builds its
 * source block in its own kept scratch.  Scratch stays under 64 MiB: the
 * planner sizes bands and chunks to a budget and falls back (returns 1)
 * when even the smallest item would not fit. */
#include "conv.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conv_fast.h"
#include "conv_kernels.h"
#include "fftconv.h"
#include "sepconv.h"
#include "threads.h"

/* Let GCC vectorise the plain copy loops (strided phase copies). */
#pragma GCC optimize("vect-cost-model=dynamic")

/* ====================================================================== */
/* The plan of one call                                                    */
/* ====================================================================== */

typedef struct tap {
  int i, j;                   /* kernel indices */
  int plane;                  /* source plane the tap reads */
  int64_t drow, dcol;         /* offset in plane rows / columns */
  int i1, j1;                 /* row pairs: the tap of the second row that
                                 reads the same cell (i1 = -1: none; then
                                 i = -1 when only the second row reads it) */
} tap;

typedef struct pass {         /* output positions computed alike */
  int ntaps;
  const tap *taps;
  int32_t *koff;              /* Cg * ntaps source offsets, ci-major */
  int64_t aoff;               /* this pass's packed weights in a group */
  int64_t row0, rstep;        /* output row of position row t */
  int64_t col0, cstep;        /* output col of position col u */
  int64_t nrows, ncols;       /* valid t and u */
} pass;

typedef struct plane {        /* which input cells a source plane holds */
  int64_t rowA, rowB, rowstep;  /* input row = rowA*t0 + rowB + rowstep*rq */
  int64_t colB, colstep;        /* input col = colB + colstep*cq */
  int64_t ia, ib;               /* cq range whose column is inside 0..W-1 */
} plane;

typedef struct job {
  const cp_geom *g;
  const float *x, *w, *b;
  float *y;
  cp_padmode mode;            /* how the source resolves outside cells */
  tile_kernel tk;
  int npass, nplanes;
  pass *passes;
  plane *planes;
  int32_t *colmap;            /* nplanes x Wq: input col or -1 */
  int64_t Wq, halo;           /* source row length, extra rows per band */
  int64_t RQ, PS, CS;         /* rows per plane, plane and channel stride */
  int64_t trows;              /* position rows in all (max over passes) */
  int64_t nb, nbands;         /* position rows per band, bands */
  int64_t gpc, nchunkg;       /* groups per chunk, group chunks */
  int64_t mchunk, nchunkm;    /* channels per chunk inside a group */
  int64_t npan;               /* MR panels per group */
  int64_t gstride;            /* packed weights per group */
  const float *A;             /* packed weights */
  const float *bias;          /* G x npan*MR, zero padded */
  int wino;                   /* Winograd F(2x2, 3x3) instead of taps */
  int rowpair;                /* one channel: tile rows m = output rows */
  atomic_int nonfinite;       /* Winograd saw a NaN/Inf: result invalid */
  int64_t TW, wch, VS;        /* tiles per row, tiles per chunk, V stride */
  int32_t *wkoff;             /* k * VS: rows of V for the tile kernel */
  float zeros[MR_MAX];        /* bias of the Winograd GEMM (added later) */
  int64_t nitems;
  size_t scratch_bytes;       /* per thread */
  atomic_long next;
  atomic_long done;
  struct { int64_t n, band, c0; } last[CP_THREADS_MAX];
} job;

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static int64_t round16(int64_t a) { return (a + 15) & ~(int64_t)15; }

/* No NaN or Inf in p[0..n). */
static int all_finite(const float *p, int64_t n) {
  typedef uint32_t v4u32 __attribute__((vector_size(16)));
  const uint32_t expo = 0x7f800000u;
  v4u32 acc = {0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    v4u32 v;
    memcpy(&v, p + i, sizeof v);
    acc |= (v & expo) == expo;
  }
  uint32_t any = acc[0] | acc[1] | acc[2] | acc[3];
  for (; i < n; i++) any |= !isfinite(p[i]);
  return any == 0;
}

/* Copy the rows of band t0 for channels c0..c0+nc-1 of image n into S. */
static void build_source(const job *J, int64_t n, int64_t c0, int64_t nc,
                         int64_t t0, float *S) {
  const cp_geom *g = J->g;
  const int64_t Wq = J->Wq;
  for (int64_t ci = 0; ci < nc; ci++) {
    const float *xc = J->x + (n * g->C + c0 + ci) * g->H * g->W;
    for (int k = 0; k < J->nplanes; k++) {
      const plane *pl = &J->planes[k];
      const int32_t *cmap = J->colmap + k * Wq;
      float *P = S + ci * J->CS + k * J->PS;
      int64_t rbase = pl->rowA * t0 + pl->rowB;
      for (int64_t rq = 0; rq < J->RQ; rq++) {
        float *d = P + rq * Wq;
        int64_t row = cp_pad_index(rbase + pl->rowstep * rq, g->H, J->mode);
        if (row < 0) {
          memset(d, 0, (size_t)Wq * sizeof *d);
          continue;
        }
        const float *s = xc + row * g->W;
        for (int64_t cq = 0; cq < pl->ia; cq++)
          d[cq] = cmap[cq] < 0 ? 0.0f : s[cmap[cq]];
        if (pl->colstep == 1) {
          if (pl->ib > pl->ia)
            memcpy(d + pl->ia, s + cmap[pl->ia],
                   (size_t)(pl->ib - pl->ia) * sizeof *d);
        } else if (pl->colstep == 2 && pl->ib > pl->ia) {
          /* the even or odd columns (strides of 2, Winograd) */
          const float *s0 = s + cmap[pl->ia];
          float *d0 = d + pl->ia;
          for (int64_t q = 0; q < pl->ib - pl->ia; q++) d0[q] = s0[2 * q];
        } else if (pl->ib > pl->ia) {
          const float *s0 = s + cmap[pl->ia];
          float *d0 = d + pl->ia;
          const int64_t st = pl->colstep;
          for (int64_t q = 0; q < pl->ib - pl->ia; q++) d0[q] = s0[st * q];
        }
        for (int64_t cq = pl->ib; cq < Wq; cq++)
          d[cq] = cmap[cq] < 0 ? 0.0f : s[cmap[cq]];
      }
      memset(P + J->RQ * Wq, 0, (size_t)(J->PS - J->RQ * Wq) * sizeof *P);
    }
  }
}

/* Write the valid part of tile T (positions p0..p0+NR-1, not past pend, of
 * the band starting at position row t0) for channels obase..+mvalid-1. */
static void store_tile(const job *J, const pass *P, int64_t n, int64_t obase,
                       int mvalid, int64_t t0, int64_t p0, int64_t pend,
                       const float *T) {
  const cp_geom *g = J->g;
  const int64_t Wq = J->Wq, NR = J->tk.nr;
  int64_t pe = p0 + NR < pend ? p0 + NR : pend;
  for (int64_t p = p0; p < pe;) {
    int64_t t = p / Wq, u = p - t * Wq;
    int64_t rowend = t * Wq + P->ncols;
    if (u < P->ncols) {
      int64_t len = (rowend < pe ? rowend : pe) - p;
      int64_t orow = P->row0 + P->rstep * (t0 + t);
      for (int m = 0; m < mvalid; m++) {
        const float *src = T + m * NR + (p - p0);
        float *dst = J->y + ((n * g->O + obase + m) * g->OH + orow) * g->OW +
                     P->col0 + P->cstep * u;
        if (P->cstep == 1) {
          memcpy(dst, src, (size_t)len * sizeof *dst);
        } else {
          for (int64_t q = 0; q < len; q++) dst[q * P->cstep] = src[q];
        }
      }
    }
    p = (t + 1) * Wq;
  }
}

static void wino_item(job *J, int64_t n, int64_t grp, int64_t m0,
                      int64_t m1, int64_t t0, const float *Sg, float *work);

/* One output channel per group, two output rows per tile: rows t and t+1
 * read the same source rows shifted by one, so the pair is a 2-row tile
 * over the union of their taps (each loaded vector feeds both rows; the
 * taps one row lacks have weight 0).  The tile's second row goes straight
 * to the next output row (ldt = the output row stride).  Those zero weights
 * would turn an Inf or NaN that only the other row reads into a NaN here,
 * so a non-finite tile marks the call, which is redone with plain taps. */
static void rowpair_item(job *J, int64_t n, int64_t grp, int64_t t0,
                         const float *Sg, float *T) {
  const cp_geom *g = J->g;
  const tile_kernel tk = J->tk;
  const pass *P = &J->passes[0];
  const int64_t NR = tk.nr, Wq = J->Wq;
  int K = (int)(g->Cg * P->ntaps);
  const float *A = J->A + grp * J->gstride;
  const float *bp = J->bias + grp * J->npan * tk.mr;
  int64_t nr = P->nrows - t0 < J->nb ? P->nrows - t0 : J->nb;
  float *yc = J->y + (n * g->O + grp) * g->OH * g->OW;
  for (int64_t t = 0; t < nr; t += 2) {
    int two = t + 1 < nr;
    float *y0 = yc + (t0 + t) * g->OW;
    for (int64_t u0 = 0; u0 < P->ncols; u0 += NR) {
      const float *S = Sg + t * Wq + u0;
      if (two && u0 + NR <= P->ncols) {
        if (tk.fn(K, A, P->koff, S, bp, y0 + u0, g->OW))
          atomic_store_explicit(&J->nonfinite, 1, memory_order_relaxed);
        continue;
      }
      if (tk.fn(K, A, P->koff, S, bp, T, NR))
        atomic_store_explicit(&J->nonfinite, 1, memory_order_relaxed);
      int64_t len = P->ncols - u0 < NR ? P->ncols - u0 : NR;
      memcpy(y0 + u0, T, (size_t)len * sizeof *T);
      if (two) memcpy(y0 + g->OW + u0, T + NR, (size_t)len * sizeof *T);
    }
  }
}

/* Scratch layout of one thread: source block, then the tiles' space. */
static void do_item(job *J, int tid, int64_t it, float *scr) {
  const cp_geom *g = J->g;
  const tile_kernel tk = J->tk;
  int64_t chunk = it % (J->nchunkg * J->nchunkm);
  int64_t band = (it / (J->nchunkg * J->nchunkm)) % J->nbands;
  int64_t n = it / (J->nchunkg * J->nchunkm * J->nbands);
  int64_t gc = chunk / J->nchunkm, mc = chunk % J->nchunkm;
  int64_t g0 = gc * J->gpc;
  int64_t g1 = g0 + J->gpc < g->p.groups ? g0 + J->gpc : g->p.groups;
  int64_t m0 = mc * J->mchunk;
  int64_t m1 = m0 + J->mchunk < g->Og ? m0 + J->mchunk : g->Og;
  int64_t t0 = band * J->nb;
  int64_t c0 = g0 * g->Cg, nc = (g1 - g0) * g->Cg;
  float *S = scr;
  float *T = scr + nc * J->CS;

  if (J->last[tid].n != n || J->last[tid].band != band ||
      J->last[tid].c0 != c0) {
    build_source(J, n, c0, nc, t0, S);
    J->last[tid].n = n;
    J->last[tid].band = band;
    J->last[tid].c0 = c0;
  }
  for (int64_t grp = g0; grp < g1; grp++) {
    const float *Sg = S + (grp * g->Cg - c0) * J->CS;
    if (J->wino) {
      wino_item(J, n, grp, m0, m1, t0, Sg, T);
      continue;
    }
    if (J->rowpair) {
      rowpair_item(J, n, grp, t0, Sg, T);
      continue;
    }
    for (int ip = 0; ip < J->npass; ip++) {
      const pass *P = &J->passes[ip];
      int64_t nr = P->nrows - t0 < J->nb ? P->nrows - t0 : J->nb;
      if (nr <= 0 || P->ncols <= 0) continue;
      int K = (int)(g->Cg * P->ntaps);
      int64_t pend = (nr - 1) * J->Wq + P->ncols;
      for (int64_t p0 = 0; p0 < pend; p0 += tk.nr)
        for (int64_t m = m0; m < m1; m += tk.mr) {
          int64_t pan = m / tk.mr;
          const float *A = J->A + grp * J->gstride + P->aoff +
                           pan * (int64_t)K * tk.mr;
          const float *bp = J->bias + grp * J->npan * tk.mr + pan * tk.mr;
          int mv = (int)(m1 - m < tk.mr ? m1 - m : tk.mr);
          int64_t t = p0 / J->Wq, u = p0 - t * J->Wq;
          if (mv == tk.mr && P->cstep == 1 && u + tk.nr <= P->ncols) {
            /* whole tile inside one output row: write it in place */
            int64_t orow = P->row0 + P->rstep * (t0 + t);
            float *dst = J->y +
                         ((n * g->O + grp * g->Og + m) * g->OH + orow) * g->OW +
                         P->col0 + u;
            if (tk.fn(K, A, P->koff, Sg + p0, bp, dst, g->OH * g->OW))
              tk.fn_sep(K, A, P->koff, Sg + p0, bp, dst, g->OH * g->OW);
          } else {
            if (tk.fn(K, A, P->koff, Sg + p0, bp, T, tk.nr))
              tk.fn_sep(K, A, P->koff, Sg + p0, bp, T, tk.nr);
            store_tile(J, P, n, grp * g->Og + m, mv, t0, p0, pend, T);
          }
        }
    }
  }
}

/* ====================================================================== */
/* Winograd F(2x2, 3x3)                                                    */
/* ====================================================================== */
/* For 3x3 with stride = dilation and many channels, each 2x2 block of
 * outputs is A^T [(G g G^T) .* (B^T d B)] A of its 4x4 input block d (Lavin
 * & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): 16
 * multiplies per channel pair instead of 36.  The 16 elementwise products,
 * summed over input channels, are 16 GEMMs run by the GEMM tile.  The
 * transforms mix neighbouring cells, so a NaN or Inf would reach outputs
 * whose window does not hold it: only finite weights come here, and when a
 * GEMM tile reports a NaN or Inf (a non-finite input, or an overflow) the
 * whole call is redone with the tap tiles.
 *
 * The source block holds the band as two column phases (even and odd padded
 * columns), so tile b's columns 2b..2b+3 are E[b], O[b], E[b+1], O[b+1] and
 * the transforms are plain vector loops over tiles.  With stride s equal to
 * dilation (s = d = 1 or the s = d = 2 of a dilated net) every tap reads
 * the same stride phase at consecutive cells, so the same applies to that
 * phase: its rows at stride s, its columns at 2s. */

/* Scratch of wino_item: V[e][c][tile] (element planes ES apart, skewed so
 * that the 16 planes do not share cache sets), then the GEMM results
 * Mb[e][block][m][NR], written by the tile kernel in place. */
static int64_t wino_es(const job *J) { return J->g->Cg * J->VS + 16; }
static int64_t wino_mpad(const job *J) {
  return ceil_div(J->mchunk, J->tk.mr) * J->tk.mr;
}
static size_t wino_floats(const job *J) {
  return (size_t)(16 * wino_es(J) + 16 * wino_mpad(J) * J->wch + 64);
}

/* One group of one band: output channels m0..m1-1 of group grp. */
static void wino_item(job *J, int64_t n, int64_t grp, int64_t m0,
                      int64_t m1, int64_t t0, const float *Sg, float *work) {
  const cp_geom *g = J->g;
  const tile_kernel tk = J->tk;
  const int64_t Cg = g->Cg, TW = J->TW, CH = J->wch, VS = J->VS;
  const int64_t ES = wino_es(J), mpad = wino_mpad(J), NR = tk.nr;
  const int64_t MES = (CH / NR) * mpad * NR; /* Mb element stride */
  int64_t rows = g->OH - t0 < J->nb ? g->OH - t0 : J->nb;
  int64_t ntiles = (rows + 1) / 2 * TW;
  float *V = work;
  float *Mb = V + 16 * ES;
  int64_t nfull = g->OW / 2; /* tiles whose two columns are both inside */
  const wino_in_fn win = cp_kern_wino_in();
  const wino_out_fn wout = cp_kern_wino_out();
  for (int64_t q0 = 0; q0 < ntiles; q0 += CH) {
    int64_t nt = ntiles - q0 < CH ? ntiles - q0 : CH;
    /* Input transform; tiles q0..q0+nt-1 come as runs inside tile rows.
     * Whole vectors: the extra tiles land where the next run (or the
     * row's slack) is written afterwards. */
    for (int64_t c = 0; c < Cg; c++)
      for (int64_t q = q0, len; q < q0 + nt; q += len) {
        int64_t a = q / TW, bs = q - a * TW;
        len = TW - bs < q0 + nt - q ? TW - bs : q0 + nt - q;
        const float *E = Sg + c * J->CS + 2 * a * J->Wq + bs;
        win(E, E + J->PS, J->Wq, (len + 15) & ~(int64_t)15,
            V + c * VS + (q - q0), ES);
      }
    /* 16 GEMMs: Mb[e] = U[e] x V[e] */
    for (int e = 0; e < 16; e++)
      for (int64_t m = m0; m < m1; m += tk.mr) {
        int64_t pan = m / tk.mr;
        const float *A =
            J->A + grp * J->gstride + (e * J->npan + pan) * Cg * tk.mr;
        for (int64_t p0 = 0; p0 < nt; p0 += NR)
          if (tk.fn((int)Cg, A, J->wkoff, V + e * ES + p0, J->zeros,
                    Mb + e * MES + ((p0 / NR) * mpad + (m - m0)) * NR, NR))
            atomic_store(&J->nonfinite, 1);
      }
    /* Output transform, in runs that stay inside one tile row and one
     * NR block of Mb. */
    for (int64_t m = m0; m < m1; m++) {
      int64_t o = grp * g->Og + m;
      float bias = J->b ? J->b[o] : 0.0f;
      for (int64_t q = q0, len; q < q0 + nt; q += len) {
        int64_t a = q / TW, bs = q - a * TW, p = q - q0;
        len = TW - bs < q0 + nt - q ? TW - bs : q0 + nt - q;
        if (len > NR - p % NR) len = NR - p % NR;
        const float *Mm = Mb + ((p / NR) * mpad + (m - m0)) * NR + p % NR;
        int64_t R = t0 + 2 * a;
        float *y0 = J->y + ((n * g->O + o) * g->OH + R) * g->OW;
        float *y1 = R + 1 < g->OH ? y0 + g->OW : NULL;
        int64_t full = bs + len <= nfull ? len : nfull - bs;
        if (full > 0)
          wout(Mm, MES, full, bias, y0 + 2 * bs, y1 ? y1 + 2 * bs : NULL);
        if (full < len) { /* odd width: the last tile's left column */
          int64_t b = bs + len - 1;
          const float *M = Mm + len - 1;
          float s0 = M[0] + M[MES] + M[2 * MES],
                s1 = M[4 * MES] + M[5 * MES] + M[6 * MES],
                s2 = M[8 * MES] + M[9 * MES] + M[10 * MES],
                s3 = M[12 * MES] + M[13 * MES] + M[14 * MES];
          y0[2 * b] = bias + (s0 + s1 + s2);
          if (y1) y1[2 * b] = bias + (s1 - s2 - s3);
        }
      }
    }
  }
}

static void work(int tid, int nth, void *ctx) {
  (void)nth;
  job *J = ctx;
  float *scr = cp_threads_scratch(tid, J->scratch_bytes);
  if (!scr) return; /* the other threads take every item */
  J->last[tid].n = -1;
  for (;;) {
    long it = atomic_fetch_add_explicit(&J->next, 1, memory_order_relaxed);
    if (it >= J->nitems) break;
    do_item(J, tid, it, scr);
    atomic_fetch_add_explicit(&J->done, 1, memory_order_relaxed);
  }
}

/* ---- packed weights: kept between calls ----------------------------------- */

#define PACK_MAX ((size_t)12 << 20)
/* Per-thread scratch limit: with the packed weights and the copy of the
 * weights they came from (PACK_MAX each) the total stays under 64 MiB. */
#define THREAD_SCRATCH_TOTAL ((size_t)38 << 20)
/* The packed weights of the last call and what they were packed from:
 * a loop that applies the same kernel again (the common case in a
 * playground) skips the packing, after one memcmp. */
typedef struct pack_key {
  cp_geom g;                  /* N zeroed: the batch does not matter */
  int wino, rowpair, mr, nr, has_bias;
} pack_key;
static struct {
  int valid;
  pack_key key;
  float *src;                 /* weights then bias, as packed */
  size_t n, cap;
} memo;

static int memo_hit(const pack_key *k, const float *w, size_t nw,
                    const float *b, size_t nb) {
  return memo.valid && memcmp(&memo.key, k, sizeof *k) == 0 &&
         memo.n == nw + nb && memcmp(memo.src, w, nw * sizeof *w) == 0 &&
         (nb == 0 || memcmp(memo.src + nw, b, nb * sizeof *b) == 0);
}

static void memo_store(const pack_key *k, const float *w, size_t nw,
                       const float *b, size_t nb) {
  memo.valid = 0;
  if ((nw + nb) * sizeof(float) > PACK_MAX) return;
  if (nw + nb > memo.cap) {
    float *p = malloc((nw + nb) * sizeof *p);
    if (!p) return;
    free(memo.src);
    memo.src = p;
    memo.cap = nw + nb;
  }
  memcpy(memo.src, w, nw * sizeof *w);
  if (nb) memcpy(memo.src + nw, b, nb * sizeof *b);
  memo.n = nw + nb;
  memo.key = *k;
  memo.valid = 1;
}

static float *pack_buf;
static size_t pack_cap;
/* What one band's source block should take to stay in L2. */
#define SRC_TARGET ((size_t)1 << 20)

static float *pack_scratch(size_t bytes) {
  if (bytes > PACK_MAX) return NULL;
  if (bytes > pack_cap) {
    memo.valid = 0; /* the packed block is about to go */
    size_t want = (bytes + 65535) & ~(size_t)65535;
    void *p = NULL;
    if (posix_memalign(&p, 64, want) != 0) return NULL;
    free(pack_buf);
    pack_buf = p;
    pack_cap = want;
  }
  return pack_buf;
}

/* Weight of output channel oo of group grp, input channel ci of the group,
 * tap (i, j), for either layout. */
static inline float weight_at(const cp_geom *g, const float *w, int64_t grp,
                              int64_t oo, int64_t ci, int i, int j) {
  if (g->p.transposed)
    return w[(((grp * g->Cg + ci) * g->Og + oo) * g->kH + i) * g->kW + j];
  return w[(((grp * g->Og + oo) * g->Cg + ci) * g->kH + i) * g->kW + j];
}


/* Source bytes of one item: gpc groups of channels, nb position rows. */
static size_t src_bytes(const job *J, int64_t gpc, int64_t nb) {
  int64_t PS = round16((nb + J->halo) * J->Wq + J->tk.nr + 16);
  return (size_t)(gpc * J->g->Cg * J->nplanes * PS) * sizeof(float);
}

/* Winograd bands: whole 2x2 tiles, and as few padded GEMM columns (tiles
 * rounded up to NR per band) on the busiest thread as possible. */
static int64_t wino_band_rows(const job *J, int64_t maxrows, int nth) {
  const int64_t TW = ceil_div(J->g->OW, 2), TR = ceil_div(J->trows, 2);
  const int64_t NR = J->tk.nr;
  int64_t best = 2, trmax = maxrows / 2 < 1 ? 1 : maxrows / 2;
  double bestcost = -1;
  for (int64_t tr = 1; tr <= trmax && tr <= TR; tr++) {
    double load[CP_THREADS_MAX] = {0};
    for (int64_t n = 0; n < J->g->N && n < 64; n++)
      for (int64_t a = 0; a < TR; a += tr) {
        int64_t rows = TR - a < tr ? TR - a : tr;
        /* columns of the GEMMs, plus the source rows' share */
        double cost = (double)(ceil_div(rows * TW, NR) * NR) +
                      0.1 * (double)((2 * rows + 2) * TW);
        int t = 0;
        for (int k = 1; k < nth; k++)
          if (load[k] < load[t]) t = k;
        load[t] += cost;
      }
    double span = 0;
    for (int k = 0; k < nth; k++)
      if (load[k] > span) span = load[k];
    if (bestcost < 0 || span < bestcost) {
      bestcost = span;
      best = tr;
    }
  }
  return 2 * best;
}

/* Size bands and chunks, pack the weights, run.  The passes, planes and
 * taps are filled in by the caller.  Returns 0 when y was computed.
 * The packed weights and the threads' scratch are shared by every call, so
 * calls from different threads take turns. */
static pthread_mutex_t fast_lock = PTHREAD_MUTEX_INITIALIZER;
static int plan_and_run_locked(job *J);
static int plan_and_run(job *J) {
  pthread_mutex_lock(&fast_lock);
  int rc = plan_and_run_locked(J);
  pthread_mutex_unlock(&fast_lock);
  return rc;
}

static int plan_and_run_locked(job *J) {
  const cp_geom *g = J->g;
  const tile_kernel tk = J->tk;
  const int64_t G = g->p.groups;
  int nth = cp_threads_count();
  size_t thread_cap = THREAD_SCRATCH_TOTAL / (size_t)nth;

  /* ---- bands and chunks ---- */
  J->gpc = G;
  int64_t minrows = J->trows < 8 ? J->trows : 8;
  while (J->gpc > 1 && src_bytes(J, J->gpc, minrows) > SRC_TARGET)
    J->gpc = ceil_div(J->gpc, 2);
  int64_t per_row = (int64_t)src_bytes(J, J->gpc, 1) -
                    (int64_t)src_bytes(J, J->gpc, 0);
  int64_t nb = ((int64_t)SRC_TARGET - (int64_t)src_bytes(J, J->gpc, 0)) /
               (per_row > 0 ? per_row : 1);
  if (nb < 1) nb = 1;
  if (nb > J->trows) nb = J->trows;
  J->nchunkg = ceil_div(G, J->gpc);
  J->mchunk = g->Og;
  J->nchunkm = 1;
  int64_t items = g->N * ceil_div(J->trows, nb) * J->nchunkg;
  const int64_t nb_budget = nb;
  while (items < 4 * nth && nb >= 4 && nb >= 2 * J->halo) {
    nb = ceil_div(nb, 2);
    items = g->N * ceil_div(J->trows, nb) * J->nchunkg;
  }
  if (J->wino) {
    nb = wino_band_rows(J, nb_budget, nth);
    items = g->N * ceil_div(J->trows, nb) * J->nchunkg;
  }
  if (J->rowpair) nb = (nb + 1) & ~(int64_t)1; /* whole pairs per band */
  J->npan = ceil_div(g->Og, tk.mr);
  if (items < nth && J->npan >= 2) {
    int64_t per = ceil_div(J->npan, nth < J->npan ? nth : J->npan);
    J->mchunk = per * tk.mr;
    J->nchunkm = ceil_div(J->npan, per);
  }
  J->nb = nb;
  J->nbands = ceil_div(J->trows, nb);
  J->nitems = g->N * J->nbands * J->nchunkg * J->nchunkm;
  J->RQ = nb + J->halo;
  J->PS = round16(J->RQ * J->Wq + tk.nr + 16);
  J->CS = J->nplanes * J->PS;
  J->scratch_bytes = src_bytes(J, J->gpc, nb) +
                     (size_t)(MR_MAX * NR_MAX) * sizeof(float) + 64;
  if (J->wino) {
    J->TW = ceil_div(g->OW, 2);
    J->wch = tk.nr * ceil_div(96, tk.nr);
    J->VS = J->wch + tk.nr + 16;
    J->scratch_bytes += wino_floats(J) * sizeof(float);
  }
  if (J->scratch_bytes > thread_cap) return 1;
  if (g->Cg * J->CS > INT32_MAX / 2) return 1;

  /* ---- tap offsets per pass ---- */
  int64_t ttaps = 0;
  for (int ip = 0; ip < J->npass; ip++) ttaps += J->passes[ip].ntaps;
  J->gstride = J->npan * tk.mr * g->Cg * (J->wino ? 16 : ttaps);
  if ((double)G * (double)(J->gstride + J->npan * tk.mr) * sizeof(float) >
      (double)PACK_MAX)
    return 1;
  int32_t *koff = malloc((size_t)(g->Cg * (ttaps + 1) + 1) * sizeof *koff);
  if (!koff) return 1;
  J->wkoff = koff + g->Cg * ttaps;
  for (int64_t k = 0; k < g->Cg; k++) J->wkoff[k] = (int32_t)(k * J->VS);
  int64_t kpos = 0;
  for (int ip = 0; ip < J->npass; ip++) {
    pass *P = &J->passes[ip];
    P->koff = koff + kpos;
    P->aoff = J->npan * tk.mr * g->Cg * (kpos / (g->Cg ? g->Cg : 1));
    for (int64_t ci = 0; ci < g->Cg; ci++)
      for (int t = 0; t < P->ntaps; t++) {
        const tap *tp = &P->taps[t];
        P->koff[ci * P->ntaps + t] =
            (int32_t)(ci * J->CS + tp->plane * J->PS + tp->drow * J->Wq +
                      tp->dcol);
      }
    kpos += g->Cg * P->ntaps;
  }

  /* ---- packed weights and bias ---- */
  size_t apack = (size_t)(G * J->gstride + G * J->npan * tk.mr);
  float *A = pack_scratch(apack * sizeof(float));
  if (!A) {
    free(koff);
    return 1;
  }
  pack_key key;
  memset(&key, 0, sizeof key);
  key.g = *g;
  key.g.N = 0;
  key.wino = J->wino;
  key.mr = tk.mr;
  key.nr = tk.nr;
  key.has_bias = J->b != NULL;
  key.rowpair = J->rowpair;
  size_t nw = (size_t)(g->p.transposed ? g->C * g->Og : g->O * g->Cg) *
              (size_t)(g->kH * g->kW);
  size_t nbias = J->b ? (size_t)g->O : 0;
  int packed = memo_hit(&key, J->w, nw, J->b, nbias);
  for (int64_t grp = 0; grp < G && J->wino && !packed; grp++)
    for (int64_t oo = 0; oo < J->npan * tk.mr; oo++)
      for (int64_t ci = 0; ci < g->Cg; ci++) {
        float U[16] = {0};
        if (oo < g->Og)
          cp_kern_wino_filter(J->w + ((grp * g->Og + oo) * g->Cg + ci) * 9, U);
        int64_t pan = oo / tk.mr, m = oo % tk.mr;
        for (int e = 0; e < 16; e++)
          A[grp * J->gstride + ((e * J->npan + pan) * g->Cg + ci) * tk.mr +
            m] = U[e];
      }
  for (int64_t grp = 0; grp < G && J->rowpair && !packed; grp++) {
    const pass *P = &J->passes[0];
    float *Ap = A + grp * J->gstride;
    for (int64_t ci = 0; ci < g->Cg; ci++)
      for (int t = 0; t < P->ntaps; t++) {
        const tap *tp = &P->taps[t];
        float *dst = Ap + (ci * P->ntaps + t) * 2;
        dst[0] = tp->i >= 0 ? weight_at(g, J->w, grp, 0, ci, tp->i, tp->j)
                            : 0.0f;
        dst[1] = tp->i1 >= 0 ? weight_at(g, J->w, grp, 0, ci, tp->i1, tp->j1)
                             : 0.0f;
      }
  }
  for (int64_t grp = 0; grp < G && !J->wino && !J->rowpair && !packed; grp++)
    for (int ip = 0; ip < J->npass; ip++) {
      const pass *P = &J->passes[ip];
      int64_t K = g->Cg * P->ntaps;
      for (int64_t pan = 0; pan < J->npan; pan++) {
        float *Ap = A + grp * J->gstride + P->aoff + pan * K * tk.mr;
        if (!g->p.transposed) {
          /* conv2d taps are in weight order: a row of w is a column of A */
          for (int m = 0; m < tk.mr; m++) {
            int64_t oo = pan * tk.mr + m;
            const float *src = J->w + (grp * g->Og + oo) * K;
            for (int64_t k = 0; k < K; k++)
              Ap[k * tk.mr + m] = oo < g->Og ? src[k] : 0.0f;
          }
          continue;
        }
        for (int64_t ci = 0; ci < g->Cg; ci++)
          for (int t = 0; t < P->ntaps; t++) {
            float *dst = Ap + (ci * P->ntaps + t) * tk.mr;
            for (int m = 0; m < tk.mr; m++) {
              int64_t oo = pan * tk.mr + m;
              dst[m] = oo < g->Og ? weight_at(g, J->w, grp, oo, ci,
                                              P->taps[t].i, P->taps[t].j)
                                  : 0.0f;
            }
          }
      }
    }
  float *bias = A + G * J->gstride;
  for (int64_t grp = 0; grp < G; grp++)
    for (int64_t m = 0; m < J->npan * tk.mr; m++) {
      int64_t oo = J->rowpair ? 0 : m; /* row pairs: both rows channel 0 */
      bias[grp * J->npan * tk.mr + m] =
          (J->b && oo < g->Og) ? J->b[grp * g->Og + oo] : 0.0f;
    }
  if (!packed) memo_store(&key, J->w, nw, J->b, nbias);
  J->A = A;
  J->bias = bias;

  /* ---- run ---- */
  double macs = (double)g->N * (double)g->O * (double)J->trows *
                (double)J->Wq * (double)(g->Cg * ttaps + 1);
  int use = macs < 1e6 ? 1 : nth; /* below ~15 us a wake-up does not pay */
  if (use > J->nitems) use = (int)J->nitems;
  atomic_store(&J->next, 0);
  atomic_store(&J->nonfinite, 0);
  atomic_store(&J->done, 0);
  cp_threads_run(use, work, J);
  free(koff);
  return atomic_load(&J->done) == J->nitems ? 0 : 1;
}

/* Column map of a plane over Wq columns, and its inside run [ia, ib). */
static void plane_columns(job *J, int k, const cp_geom *g) {
  plane *pl = &J->planes[k];
  int32_t *cmap = J->colmap + k * J->Wq;
  pl->ia = pl->ib = 0;
  int64_t cq = 0;
  for (; cq < J->Wq; cq++) {
    int64_t raw = pl->colB + pl->colstep * cq;
    cmap[cq] = (int32_t)cp_pad_index(raw, g->W, J->mode);
  }
  for (cq = 0; cq < J->Wq && pl->colB + pl->colstep * cq < 0; cq++) {}
  pl->ia = cq;
  for (; cq < J->Wq && pl->colB + pl->colstep * cq < g->W; cq++) {}
  pl->ib = cq;
}

/* Below this many multiply-adds the tiles' set-up costs more than it saves:
 * a scalar loop over precomputed index tables does the work. */
#define MIN_MACS 4096
#define SMALL_TAB 64

static int conv2d_small(const cp_geom *g, const float *x, const float *w,
                        const float *b, float *y) {
  int64_t rows[SMALL_TAB], cols[SMALL_TAB];
  if (g->OH * g->kH > SMALL_TAB || g->OW * g->kW > SMALL_TAB) return 1;
  for (int64_t r = 0; r < g->OH; r++)
    for (int64_t i = 0; i < g->kH; i++)
      rows[r * g->kH + i] =
          cp_pad_index(cp_geom_in_row(g, r, i), g->H, g->p.mode);
  for (int64_t c = 0; c < g->OW; c++)
    for (int64_t j = 0; j < g->kW; j++)
      cols[c * g->kW + j] =
          cp_pad_index(cp_geom_in_col(g, c, j), g->W, g->p.mode);
  const int64_t kk = g->kH * g->kW;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t o = 0; o < g->O; o++) {
      const float *xg = x + (n * g->C + cp_geom_group_of_out(g, o) * g->Cg) *
                                g->H * g->W;
      float *yo = y + (n * g->O + o) * g->OH * g->OW;
      for (int64_t r = 0; r < g->OH; r++)
        for (int64_t c = 0; c < g->OW; c++) {
          float acc = b ? b[o] : 0.0f;
          for (int64_t ci = 0; ci < g->Cg; ci++) {
            const float *xc = xg + ci * g->H * g->W;
            const float *wc = w + (o * g->Cg + ci) * kk;
            for (int64_t i = 0; i < g->kH; i++) {
              int64_t ri = rows[r * g->kH + i];
              for (int64_t j = 0; j < g->kW; j++) {
                int64_t cj = cols[c * g->kW + j];
                /* padding is a real zero times the weight (Inf*0 = NaN) */
                float xv = (ri < 0 || cj < 0) ? 0.0f : xc[ri * g->W + cj];
                acc += wc[i * g->kW + j] * xv;
              }
            }
          }
          yo[r * g->OW + c] = acc;
        }
    }
  return 0;
}

/* ====================================================================== */
/* conv2d                                                                  */
/* ====================================================================== */

/* Winograd pays off from this many channels on both sides. */
#define WINO_MIN_CH 16

static int wino_on = 1;
void cp_conv_fast_set_winograd(int on) { wino_on = on; }

static int wino_applies(const cp_geom *g, const float *x, const float *w) {
  if (!wino_on) return 0;
  /* Stride equal to dilation puts all nine taps on one stride phase, at
   * consecutive cells: a plain 3x3 on that phase (s = d = 1 included). */
  if (g->kH != 3 || g->kW != 3 || g->p.stride[0] != g->p.dilation[0] ||
      g->p.stride[1] != g->p.dilation[1])
    return 0;
  if (g->Cg < WINO_MIN_CH || g->Og < WINO_MIN_CH) return 0;
  (void)x; /* checked band by band as the sources are built */
  return all_finite(w, g->O * g->Cg * 9);
}

/* Row pairs pay off for one output channel per group (image filters on
 * one channel, depthwise) with kernels of more than one row; the union of
 * taps is searched pairwise, so very large kernels keep the plain tiles. */
static int rowpairs_apply(const cp_geom *g, int64_t nk) {
  return g->Og == 1 && g->kH >= 2 && g->OH >= 2 && nk <= 1024;
}

/* The taps of output rows t and t+1 as one list over the cells they read:
 * tap (i, j) of row t reads (plane, drow, dcol); of row t+1, (plane,
 * drow + 1, dcol).  Returns the number of cells (at most 2 * n). */
static int rowpair_taps(const tap *taps, int n, tap *out) {
  int nu = 0;
  for (int t = 0; t < n; t++)
    for (int second = 0; second < 2; second++) {
      int64_t drow = taps[t].drow + second;
      int q = 0;
      while (q < nu && !(out[q].plane == taps[t].plane &&
                         out[q].drow == drow && out[q].dcol == taps[t].dcol))
        q++;
      if (q == nu) {
        out[nu] = taps[t];
        out[nu].drow = drow;
        out[nu].i = out[nu].j = out[nu].i1 = out[nu].j1 = -1;
        nu++;
      }
      if (second) {
        out[q].i1 = taps[t].i;
        out[q].j1 = taps[t].j;
      } else {
        out[q].i = taps[t].i;
        out[q].j = taps[t].j;
      }
    }
  return nu;
}

int cp_conv2d_fast(const cp_geom *g, const float *x, const float *w,
                   const float *b, float *y) {
  if (g->N == 0 || g->O == 0 || g->OH == 0 || g->OW == 0) return 1;
  if ((double)g->N * g->O * g->OH * g->OW * g->Cg * g->kH * g->kW < MIN_MACS)
    return conv2d_small(g, x, w, b, y);
  if (cp_conv2d_sep_auto(g, x, w, b, y) == 0) return 0;
  if (cp_conv2d_fft(g, x, w, b, y) == 0) return 0;
  const int64_t sH = g->p.stride[0], sW = g->p.stride[1];
  const int64_t nk = g->kH * g->kW;
  if (sH * sW > 4096 || nk > 65536) return 1;

  job J;
  memset(&J, 0, sizeof J);
  J.g = g;
  J.x = x;
  J.w = w;
  J.b = b;
  J.y = y;
  J.mode = g->p.mode;
  J.tk = cp_kern_pick(g->Og);

  tap *taps = malloc((size_t)nk * sizeof *taps);
  int *planeof = malloc((size_t)(sH * sW) * sizeof *planeof);
  plane *planes = malloc((size_t)(sH * sW + 1) * sizeof *planes);
  if (!taps || !planeof || !planes) {
    free(taps), free(planeof), free(planes);
    return 1;
  }
  /* Tap (i, j) reads padded row r*sH + di, col c*sW + dj: plane
   * (di % sH, dj % sW), plane row r + di/sH, plane col c + dj/sW. */
  for (int64_t q = 0; q < sH * sW; q++) planeof[q] = -1;
  int np = 0;
  for (int i = 0; i < g->kH; i++)
    for (int j = 0; j < g->kW; j++) {
      int64_t di = cp_geom_in_row(g, 0, i) - cp_geom_in_row(g, 0, 0);
      int64_t dj = cp_geom_in_col(g, 0, j) - cp_geom_in_col(g, 0, 0);
      int64_t ph = (di % sH) * sW + dj % sW;
      if (planeof[ph] < 0) {
        planes[np].rowA = sH;
        planes[np].rowB = cp_geom_in_row(g, 0, 0) + di % sH;
        planes[np].rowstep = sH;
        planes[np].colB = cp_geom_in_col(g, 0, 0) + dj % sW;
        planes[np].colstep = sW;
        planeof[ph] = np++;
      }
      tap *t = &taps[i * g->kW + j];
      t->i = i;
      t->j = j;
      t->plane = planeof[ph];
      t->drow = di / sH;
      t->dcol = dj / sW;
      if (t->drow > J.halo) J.halo = t->drow;
    }
  int64_t maxdcol = taps[nk - 1].dcol;
  J.Wq = g->OW + maxdcol;
  J.nplanes = np;
  if (np * J.Wq > ((int64_t)1 << 22)) { /* column maps alone past 16 MiB */
    free(taps), free(planeof), free(planes);
    return 1;
  }
  J.planes = planes;
  J.trows = g->OH;
  pass P = {.ntaps = (int)nk, .taps = taps, .row0 = 0, .rstep = 1,
            .col0 = 0, .cstep = 1, .nrows = g->OH, .ncols = g->OW};
  J.passes = &P;
  J.npass = 1;
  int rc = 1;
  if (wino_applies(g, x, w)) {
    /* The one stride phase the taps read, its columns split again into
     * even and odd (rows as planes[0] has them). */
    job W = J;
    W.wino = 1;
    W.Wq = ceil_div(g->OW, 2) + 1;
    W.nplanes = 2;
    planes[1] = planes[0];
    for (int k = 0; k < 2; k++) {
      planes[k].colB = cp_geom_in_col(g, 0, 0) + k * sW;
      planes[k].colstep = 2 * sW;
    }
    W.colmap = malloc((size_t)(2 * W.Wq) * sizeof *W.colmap);
    if (W.colmap) {
      for (int k = 0; k < 2; k++) plane_columns(&W, k, g);
      rc = plan_and_run(&W);
      if (rc == 0 && atomic_load(&W.nonfinite)) rc = 1;
    }
    free(W.colmap);
    if (rc == 0) goto done;
    planes[0].colB = cp_geom_in_col(g, 0, 0); /* back to the tap layout */
    planes[0].colstep = sW;
  }
  tap *pairs = NULL;
  if (rowpairs_apply(g, nk)) {
    pairs = malloc((size_t)(2 * nk) * sizeof *pairs);
    if (pairs) {
      P.ntaps = rowpair_taps(taps, (int)nk, pairs);
      P.taps = pairs;
      J.rowpair = 1;
      J.halo += 1;
      J.tk = cp_kern_pick(2);
    }
  }
  J.colmap = malloc((size_t)(np * J.Wq) * sizeof *J.colmap);
  if (J.colmap) {
    for (int k = 0; k < np; k++) plane_columns(&J, k, g);
    rc = plan_and_run(&J);
    if (rc == 0 && J.rowpair && atomic_load(&J.nonfinite)) {
      /* a NaN or Inf met a row pair: again with one row per tile */
      P.ntaps = (int)nk;
      P.taps = taps;
      J.rowpair = 0;
      J.halo -= 1;
      J.tk = cp_kern_pick(g->Og);
      atomic_store(&J.nonfinite, 0);
      rc = plan_and_run(&J);
    }
  }
  free(J.colmap);
  free(pairs);
done:
  free(taps), free(planeof), free(planes);
  return rc;
}

/* ====================================================================== */
/* conv_transpose2d: gather per output phase                              */
/* ====================================================================== */

/* Taps of one dimension that land on output phase a (mod s), with the input
 * offset each reads: output a + s*t gets tap i from input t + off. */
static int phase_taps(int64_t a, int64_t s, int64_t k, const int64_t *base,
                      int *idx, int64_t *off) {
  int n = 0;
  for (int64_t i = 0; i < k; i++) {
    int64_t d = a - base[i];
    int64_t r = d % s;
    if (r != 0) continue;
    idx[n] = (int)i;
    off[n] = d / s;
    n++;
  }
  return n;
}

int cp_conv_transpose2d_fast(const cp_geom *g, const float *x, const float *w,
                             const float *b, float *y) {
  if (g->N == 0 || g->O == 0 || g->OH == 0 || g->OW == 0) return 1;
  if ((double)g->N * g->C * g->H * g->W * g->Og * g->kH * g->kW < MIN_MACS)
    return 1;
  const int64_t sH = g->p.stride[0], sW = g->p.stride[1];
  if (sH * sW > 4096 || g->kH * g->kW > 65536) return 1;
  /* The scatter never multiplies a weight by a cell outside the input; the
   * gather does (by zero), which matters only for non-finite weights. */
  if (!all_finite(w, g->C * g->Og * g->kH * g->kW)) return 1;

  job J;
  memset(&J, 0, sizeof J);
  J.g = g;
  J.x = x;
  J.w = w;
  J.b = b;
  J.y = y;
  J.mode = CP_PAD_ZEROS;
  J.tk = cp_kern_pick(g->Og);

  int64_t *rbase = malloc((size_t)(g->kH + g->kW) * sizeof *rbase);
  int64_t *cbase = rbase ? rbase + g->kH : NULL;
  int *ri = malloc((size_t)(g->kH + g->kW) * sizeof *ri);
  int64_t *roff = malloc((size_t)(g->kH + g->kW) * sizeof *roff);
  tap *taps = malloc((size_t)(g->kH * g->kW) * sizeof *taps);
  pass *passes = malloc((size_t)(sH * sW) * sizeof *passes);
  int rc = 1;
  if (!rbase || !ri || !roff || !taps || !passes) goto out;
  int *cj = ri + g->kH;
  int64_t *coff = roff + g->kH;
  for (int i = 0; i < g->kH; i++) rbase[i] = cp_geomT_out_row(g, 0, i);
  for (int j = 0; j < g->kW; j++) cbase[j] = cp_geomT_out_col(g, 0, j);

  /* First sweep: offset ranges; second: taps relative to the minimum. */
  int64_t minr = INT64_MAX, maxr = INT64_MIN, minc = INT64_MAX,
          maxc = INT64_MIN, maxcols = 0;
  for (int64_t a = 0; a < sH && a < g->OH; a++) {
    int nr = phase_taps(a, sH, g->kH, rbase, ri, roff);
    for (int q = 0; q < nr; q++) {
      if (roff[q] < minr) minr = roff[q];
      if (roff[q] > maxr) maxr = roff[q];
    }
  }
  for (int64_t a = 0; a < sW && a < g->OW; a++) {
    int nc = phase_taps(a, sW, g->kW, cbase, cj, coff);
    int64_t ncols = ceil_div(g->OW - a, sW);
    if (ncols > maxcols) maxcols = ncols;
    for (int q = 0; q < nc; q++) {
      if (coff[q] < minc) minc = coff[q];
      if (coff[q] > maxc) maxc = coff[q];
    }
  }
  if (minr > maxr) minr = maxr = 0;
  if (minc > maxc) minc = maxc = 0;
  J.Wq = maxcols + (maxc - minc);
  J.halo = maxr - minr;
  J.trows = ceil_div(g->OH, sH);

  int ntap = 0;
  J.npass = 0;
  for (int64_t aR = 0; aR < sH && aR < g->OH; aR++) {
    int nr = phase_taps(aR, sH, g->kH, rbase, ri, roff);
    for (int64_t aC = 0; aC < sW && aC < g->OW; aC++) {
      int nc = phase_taps(aC, sW, g->kW, cbase, cj, coff);
      pass *P = &passes[J.npass++];
      P->taps = taps + ntap;
      P->ntaps = nr * nc;
      P->row0 = aR;
      P->rstep = sH;
      P->col0 = aC;
      P->cstep = sW;
      P->nrows = ceil_div(g->OH - aR, sH);
      P->ncols = ceil_div(g->OW - aC, sW);
      for (int p = 0; p < nr; p++)
        for (int q = 0; q < nc; q++) {
          tap *t = &taps[ntap++];
          t->i = ri[p];
          t->j = cj[q];
          t->plane = 0;
          t->drow = roff[p] - minr;
          t->dcol = coff[q] - minc;
        }
    }
  }
  /* One plane: input rows t0 + minr + rq, columns minc + cq. */
  plane pl = {.rowA = 1, .rowB = minr, .rowstep = 1, .colB = minc,
              .colstep = 1};
  J.planes = &pl;
  J.nplanes = 1;
  J.passes = passes;
  J.colmap = malloc((size_t)J.Wq * sizeof *J.colmap);
  if (J.colmap) {
    plane_columns(&J, 0, g);
    rc = plan_and_run(&J);
  }
  free(J.colmap);
out:
  free(rbase), free(ri), free(roff), free(taps), free(passes);
  return rc;
}
