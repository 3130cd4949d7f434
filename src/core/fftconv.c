/* fftconv.c - overlap-save conv2d by real FFTs (see fftconv.h).
 *
 * conv2d is a cross-correlation, y[r][c] = sum w[i][j] x[r + i*dH][c + j*dW];
 * over an N x M tile it is the circular correlation, whose transform is
 * X * conj(K) with K the transform of the (dilated) kernel placed at the
 * tile's origin.  Cells r <= N - kH', c <= M - kW' never wrap: those are
 * the tile's outputs, and tiles step by that much (overlap-save).
 *
 * FFTW (single precision) does the transforms: its plans are made once per
 * tile size under a lock (planning is not thread-safe) and executed by every
 * thread on its own buffers (the new-array execute functions are); the
 * buffers come from the threads' kept scratch, 64-byte aligned as the
 * planning arrays were. */
#include "fftconv.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "threads.h"

#pragma GCC optimize("fp-contract=fast")
/* The product and copy loops below are plain loops for the vectoriser;
 * each is built for AVX-512, AVX2 and the baseline, chosen at load time. */
#pragma GCC optimize("tree-vectorize", "vect-cost-model=dynamic")
/* (Not under ThreadSanitizer: a target_clones resolver runs while the
 * dynamic loader relocates the program, before TSan's runtime is up, and
 * the instrumented resolver crashes at start-up.) */
#if defined(__SANITIZE_THREAD__)
#define VECTOR_CLONES
#else
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif

static atomic_int fft_on = 1;
void cp_fft_set_enabled(int on) { atomic_store(&fft_on, on); }

/* ====================================================================== */
/* Cost model and tile size                                                */
/* ====================================================================== */

/* Measured on the benchmark machine (process CPU time per call of
 * 1x3x1080x1920 depthwise, "same" padding): the direct tiles cost DIRECT_NS
 * per output and kernel tap (0.0124 at 15x15, 0.0123 at 21x21); a tile of
 * n*m cells costs about FFT_NS * n*m*log2(n*m) through gather, forward
 * transform, product, inverse transform and scatter (fully measured plans:
 * 3.3 ns per output at 31x31 with 256 x 512 tiles).  Direct against
 * transform, ms of CPU per call: 15x15 17.4 / 19.8, 17x17 22.2 / 18.3,
 * 19x19 27.9 / 21.5, 21x21 33.7 / 21.2, 25x25 47.3 / 20.9: the model
 * keeps 15x15 direct and takes the transform from 17x17. */
#define DIRECT_NS 0.0125
#define FFT_NS 0.16
/* A tile and its spectrum within about 1 MiB, the L2 share of a thread:
 * measured at 31x31, 512 x 512 tiles cost 5.6 ns per output against 4.2
 * for 256 x 512 and 3.8 for 128 x 512 (wide tiles gather whole rows). */
#define TILE_CELLS_MAX ((int64_t)1 << 17)
#define SPECTRA_MAX ((size_t)16 << 20)

static int64_t eff(int64_t k, int64_t d) { return (k - 1) * d + 1; }

/* The cheapest tile (n, m) for kernel extent kh x kw and an oh x ow output;
 * returns its cost per output in ns, or -1 when none applies. */
static double choose_tile(int64_t kh, int64_t kw, int64_t oh, int64_t ow,
                          int *bn, int *bm) {
  double best = -1;
  for (int n = 16; n <= 512; n *= 2) {
    if (n < kh + 1 || n - kh + 1 > 2 * oh + kh) continue;
    for (int m = 16; m <= 512; m *= 2) {
      if (m < kw + 1 || m - kw + 1 > 2 * ow + kw) continue;
      if ((int64_t)n * m > TILE_CELLS_MAX) continue;
      double vh = (double)(n - kh + 1), vw = (double)(m - kw + 1);
      /* the last tile of a row or column computes cells nobody reads */
      double th = ceil(oh / vh), tw = ceil(ow / vw);
      double cost = FFT_NS * n * m * log2((double)n * m) * th * tw /
                    ((double)oh * ow);
      if (best < 0 || cost < best) best = cost, *bn = n, *bm = m;
    }
  }
  return best;
}

int cp_fft_worth(const cp_geom *g) {
  if (!atomic_load_explicit(&fft_on, memory_order_relaxed) || g->Cg != 1 ||
      g->p.stride[0] != 1 || g->p.stride[1] != 1 || g->OH < 1 || g->OW < 1)
    return 0;
  int n, m;
  double fft = choose_tile(eff(g->kH, g->p.dilation[0]),
                           eff(g->kW, g->p.dilation[1]), g->OH, g->OW, &n, &m);
  if (atomic_load_explicit(&fft_on, memory_order_relaxed) == 2)
    return fft > 0; /* forced, for the tests */
  return fft > 0 && fft < DIRECT_NS * (double)(g->kH * g->kW);
}

/* ====================================================================== */
/* Plans                                                                   */
/* ====================================================================== */

typedef struct plan_pair {
  int n, m;
  fftwf_plan fwd, inv;
} plan_pair;

#define PLAN_CACHE 36 /* every (n, m) choose_tile can pick */
static plan_pair plans[PLAN_CACHE];
static int nplans;
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;

/* The plans for n x m tiles (kept for the process), or NULL. */
static const plan_pair *get_plans(int n, int m) {
  const plan_pair *found = NULL;
  pthread_mutex_lock(&plan_lock);
  for (int i = 0; i < nplans && !found; i++)
    if (plans[i].n == n && plans[i].m == m) found = &plans[i];
  if (!found && nplans < PLAN_CACHE) {
    float *re = fftwf_malloc(sizeof(float) * (size_t)n * m);
    fftwf_complex *sp =
        fftwf_malloc(sizeof(fftwf_complex) * (size_t)n * (m / 2 + 1));
    if (re && sp) {
      /* Measured plans run 20-30% faster than estimated ones.  A full
       * measurement of a 256 x 512 pair takes about 0.3 s, once per tile
       * size and process; cut at 0.1 s per plan, the plans it found ran
       * 22% slower (0.318 ms against 0.259 ms per forward + inverse, CPU
       * time, three runs each), so the limit only guards odd cases. */
      fftwf_set_timelimit(1.0);
      plan_pair *p = &plans[nplans];
      p->n = n, p->m = m;
      p->fwd = fftwf_plan_dft_r2c_2d(n, m, re, sp, FFTW_MEASURE);
      p->inv = fftwf_plan_dft_c2r_2d(n, m, sp, re, FFTW_MEASURE);
      if (p->fwd && p->inv) {
        found = p;
        nplans++;
      } else {
        if (p->fwd) fftwf_destroy_plan(p->fwd);
        if (p->inv) fftwf_destroy_plan(p->inv);
      }
    }
    fftwf_free(re);
    fftwf_free(sp);
  }
  pthread_mutex_unlock(&plan_lock);
  return found;
}

/* ====================================================================== */
/* Tiles                                                                   */
/* ====================================================================== */

typedef struct fjob {
  const cp_geom *g;
  const float *x, *b;
  float *y;
  const plan_pair *pl;
  int n, m;                   /* tile */
  int64_t vh, vw;             /* outputs per tile */
  int64_t th, tw;             /* tiles per plane */
  int64_t nspec;              /* complex values per spectrum */
  const fftwf_complex *spec;  /* O spectra: conj(K) / (n*m) */
  size_t scratch;
  int64_t nitems;
  atomic_long next;
  atomic_int bad;             /* a NaN/Inf met, or no scratch */
} fjob;

/* s *= k over n complex values (interleaved re, im). */
VECTOR_CLONES static void cmul(float *restrict s, const float *restrict k,
                               int64_t n) {
  for (int64_t i = 0; i < 2 * n; i += 2) {
    float a = s[i], b = s[i + 1];
    s[i] = a * k[i] - b * k[i + 1];
    s[i + 1] = a * k[i + 1] + b * k[i];
  }
}

/* d = s + bias; returns 1 when every result is finite (an OR of exponent
 * tests in the same pass: it vectorises where a float sum would not). */
VECTOR_CLONES static int add_bias(float *restrict d, const float *restrict s,
                                  float bias, int64_t n) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < n; i++) {
    float v = s[i] + bias;
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    bad |= (u & 0x7f800000u) == 0x7f800000u;
    d[i] = v;
  }
  return bad == 0;
}

/* Gather the tile whose output corner is (r0, c0) into re (n x m). */
static void gather(const fjob *J, const float *xp, int64_t r0, int64_t c0,
                   float *re) {
  const cp_geom *g = J->g;
  const cp_padmode mode = g->p.mode;
  const int m = J->m;
  const int64_t cb = c0 - g->p.pad[2]; /* input column of tile column 0 */
  int64_t ia = cb < 0 ? -cb : 0, ib = g->W - cb < m ? g->W - cb : m;
  if (ia > m) ia = m;
  if (ib < ia) ib = ia;
  for (int q = 0; q < J->n; q++) {
    float *d = re + (int64_t)q * m;
    int64_t ri = cp_pad_index(r0 - g->p.pad[0] + q, g->H, mode);
    if (ri < 0) {
      memset(d, 0, sizeof *d * (size_t)m);
      continue;
    }
    const float *xr = xp + ri * g->W;
    for (int64_t u = 0; u < ia; u++) {
      int64_t cj = cp_pad_index(cb + u, g->W, mode);
      d[u] = cj < 0 ? 0.0f : xr[cj];
    }
    memcpy(d + ia, xr + cb + ia, sizeof *d * (size_t)(ib - ia));
    for (int64_t u = ib; u < m; u++) {
      int64_t cj = cp_pad_index(cb + u, g->W, mode);
      d[u] = cj < 0 ? 0.0f : xr[cj];
    }
  }
}

static void do_tile(fjob *J, int64_t it, float *re, fftwf_complex *sp) {
  const cp_geom *g = J->g;
  int64_t tile = it % (J->th * J->tw), no = it / (J->th * J->tw);
  int64_t nn = no / g->O, o = no % g->O;
  int64_t r0 = tile / J->tw * J->vh, c0 = tile % J->tw * J->vw;
  const float *xp = J->x + (nn * g->C + o / g->Og) * g->H * g->W;
  gather(J, xp, r0, c0, re);
  /* A NaN or Inf in the tile spreads over every cell of the transform, so
   * the check of the outputs below catches it: no pass over the input. */
  fftwf_execute_dft_r2c(J->pl->fwd, re, sp);
  cmul((float *)sp, (const float *)(J->spec + o * J->nspec), J->nspec);
  fftwf_execute_dft_c2r(J->pl->inv, sp, re);
  float bias = J->b ? J->b[o] : 0.0f;
  int64_t rows = g->OH - r0 < J->vh ? g->OH - r0 : J->vh;
  int64_t cols = g->OW - c0 < J->vw ? g->OW - c0 : J->vw;
  float *yo = J->y + ((nn * g->O + o) * g->OH + r0) * g->OW + c0;
  int ok = 1;
  for (int64_t q = 0; q < rows; q++)
    ok &= add_bias(yo + q * g->OW, re + q * J->m, bias, cols);
  if (!ok) atomic_store(&J->bad, 1);
}

static void work(int tid, int nth, void *ctx) {
  (void)nth;
  fjob *J = ctx;
  float *re = cp_threads_scratch(tid, J->scratch);
  if (re == NULL) {
    atomic_store(&J->bad, 1);
    return;
  }
  fftwf_complex *sp = (fftwf_complex *)(re + (int64_t)J->n * J->m);
  for (;;) {
    long it = atomic_fetch_add(&J->next, 1);
    if (it >= J->nitems || atomic_load_explicit(&J->bad, memory_order_relaxed))
      break;
    do_tile(J, it, re, sp);
  }
}

/* conj(K) / (n*m) of every output channel's dilated kernel. */
static int make_spectra(const fjob *J, const float *w, fftwf_complex *spec) {
  const cp_geom *g = J->g;
  const int n = J->n, m = J->m;
  float *re = fftwf_malloc(sizeof(float) * (size_t)n * m);
  if (re == NULL) return 1;
  const float scale = 1.0f / ((float)n * (float)m);
  for (int64_t o = 0; o < g->O; o++) {
    memset(re, 0, sizeof(float) * (size_t)n * m);
    const float *k = w + o * g->kH * g->kW;
    for (int64_t i = 0; i < g->kH; i++)
      for (int64_t j = 0; j < g->kW; j++)
        re[i * g->p.dilation[0] * m + j * g->p.dilation[1]] =
            k[i * g->kW + j];
    fftwf_complex *s = spec + o * J->nspec;
    fftwf_execute_dft_r2c(J->pl->fwd, re, s);
    for (int64_t i = 0; i < J->nspec; i++) {
      s[i][0] *= scale;
      s[i][1] *= -scale;
    }
  }
  fftwf_free(re);
  return 0;
}

/* The spectra of the last call's kernels, kept for the next call: a filter
 * applied to frame after frame (the lab, a video, a benchmark) transforms
 * its kernels once.  The entry is taken out while a call uses it, so two
 * concurrent calls never share it (the second computes its own and keeps
 * whichever is put back last). */
typedef struct spectra {
  int n, m;
  int64_t O, kH, kW, dH, dW;
  float *w;                   /* the kernels they were made from */
  fftwf_complex *spec;
  size_t wcap, scap;          /* allocated counts */
} spectra;
static _Atomic(spectra *) kept;

static void spectra_free(spectra *c) {
  if (c == NULL) return;
  free(c->w);
  fftwf_free(c->spec);
  free(c);
}

/* The spectra of w for J: the kept ones when they were made from the same
 * kernels (bit for bit) and tile, else new ones.  NULL when out of memory. */
static spectra *get_spectra(const fjob *J, const float *w) {
  const cp_geom *g = J->g;
  size_t nw = (size_t)(g->O * g->kH * g->kW), ns = (size_t)(g->O * J->nspec);
  spectra *c = atomic_exchange(&kept, NULL);
  if (c && c->n == J->n && c->m == J->m && c->O == g->O && c->kH == g->kH &&
      c->kW == g->kW && c->dH == g->p.dilation[0] &&
      c->dW == g->p.dilation[1] && memcmp(c->w, w, nw * sizeof *w) == 0)
    return c;
  if (c == NULL && (c = calloc(1, sizeof *c)) == NULL) return NULL;
  if (c->wcap < nw || c->scap < ns) {
    free(c->w);
    fftwf_free(c->spec);
    c->w = malloc(nw * sizeof *w);
    c->spec = fftwf_malloc(ns * sizeof(fftwf_complex));
    c->wcap = c->w ? nw : 0;
    c->scap = c->spec ? ns : 0;
  }
  c->O = 0; /* matches nothing until filled */
  if (c->w == NULL || c->spec == NULL || make_spectra(J, w, c->spec)) {
    spectra_free(c);
    return NULL;
  }
  memcpy(c->w, w, nw * sizeof *w);
  c->n = J->n, c->m = J->m, c->O = g->O, c->kH = g->kH, c->kW = g->kW;
  c->dH = g->p.dilation[0], c->dW = g->p.dilation[1];
  return c;
}

static void keep_spectra(spectra *c) {
  spectra_free(atomic_exchange(&kept, c));
}

int cp_conv2d_fft(const cp_geom *g, const float *x, const float *w,
                  const float *b, float *y) {
  if (!cp_fft_worth(g) || g->N == 0 || g->O == 0) return 1;
  for (int64_t i = 0; i < g->O * g->kH * g->kW; i++)
    if (!isfinite(w[i])) return 1;
  fjob J;
  memset(&J, 0, sizeof J);
  J.g = g, J.x = x, J.b = b, J.y = y;
  int64_t kh = eff(g->kH, g->p.dilation[0]), kw = eff(g->kW, g->p.dilation[1]);
  choose_tile(kh, kw, g->OH, g->OW, &J.n, &J.m);
  J.vh = J.n - kh + 1;
  J.vw = J.m - kw + 1;
  J.th = (g->OH + J.vh - 1) / J.vh;
  J.tw = (g->OW + J.vw - 1) / J.vw;
  J.nspec = (int64_t)J.n * (J.m / 2 + 1);
  if ((size_t)(g->O * J.nspec) * sizeof(fftwf_complex) > SPECTRA_MAX) return 1;
  J.scratch = sizeof(float) * (size_t)J.n * J.m +
              sizeof(fftwf_complex) * (size_t)J.nspec;
  J.pl = get_plans(J.n, J.m);
  if (J.pl == NULL) return 1;
  spectra *sp = get_spectra(&J, w);
  if (sp == NULL) return 1;
  J.spec = sp->spec;
  J.nitems = g->N * g->O * J.th * J.tw;
  int nth = J.nitems < 2 ? 1 : cp_threads_count();
  cp_threads_run(nth, work, &J);
  keep_spectra(sp);
  return atomic_load(&J.bad) ? 1 : 0;
}
