/* test_sep.c - the separable path (sepconv.c) against the reference loops.
 *
 * The fast two-pass kernel is held to the plain two-pass reference and to
 * the direct conv2d reference on the outer-product weight, element by
 * element within the fast kernels' budget 1e-5 * (sum |w||x| + |b| + 1),
 * on random shapes with every padding mode, stride, dilation, and each
 * instruction-set level; the rank-1 rule is pinned on presets and on
 * near-misses; a NaN or Inf gives the direct path's exact pattern. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/conv.h"
#include "../../src/core/conv_fast.h"
#include "../../src/core/fftconv.h"
#include "../../src/core/kernels.h"
#include "../../src/core/sepconv.h"
#include "check.h"

static cp_rng rng;

static int64_t rnd(int64_t lo, int64_t hi) { /* inclusive */
  return lo + (int64_t)(cp_rng_uniform(&rng) * (double)(hi - lo + 1));
}

static float *rand_buf(int64_t n) {
  float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
  for (int64_t i = 0; i < n; i++) p[i] = (float)(cp_rng_uniform(&rng) * 2 - 1);
  return p;
}

/* w[o][i][j] = col[o][i] * row[o][j], rounded to float. */
static float *outer(const cp_geom *g, const cp_sep_factors *f) {
  float *w = malloc((size_t)(g->O * g->kH * g->kW) * sizeof *w);
  for (int64_t o = 0; o < g->O; o++)
    for (int64_t i = 0; i < g->kH; i++)
      for (int64_t j = 0; j < g->kW; j++)
        w[(o * g->kH + i) * g->kW + j] = f->col[o * f->col_stride + i] *
                                         f->row[o * f->row_stride + j];
  return w;
}

/* Mismatches of a against the reference r within the budget built from
 * the magnitudes m (the reference run on |x|, |w|, |b|). */
static int count_bad(const float *a, const float *r, const float *m,
                     int64_t n, const char *what) {
  int bad = 0;
  for (int64_t i = 0; i < n; i++) {
    double tol = 1e-5 * ((double)m[i] + 1.0);
    int ok = isnan(r[i]) ? isnan(a[i])
             : isinf(r[i]) ? a[i] == r[i]
                           : fabs((double)a[i] - r[i]) <= tol;
    if (!ok && bad++ < 3)
      printf("  %s[%lld] = %.9g, reference %.9g\n", what, (long long)i, a[i],
             r[i]);
  }
  return bad;
}

static int check_shape(const cp_geom *g, int shared, int with_bias) {
  int64_t nx = g->N * g->C * g->H * g->W, ny = g->N * g->O * g->OH * g->OW;
  int64_t nc = shared ? g->kH : g->O * g->kH, nr = shared ? g->kW : g->O * g->kW;
  float *x = rand_buf(nx), *col = rand_buf(nc), *row = rand_buf(nr);
  float *b = with_bias ? rand_buf(g->O) : NULL;
  cp_sep_factors f = {col, row, shared ? 0 : g->kH, shared ? 0 : g->kW};
  float *w = outer(g, &f);
  float *xa = malloc((size_t)nx * sizeof *xa), *wa = outer(g, &f);
  float *ba = b ? malloc((size_t)g->O * sizeof *ba) : NULL;
  for (int64_t i = 0; i < nx; i++) xa[i] = fabsf(x[i]);
  for (int64_t i = 0; i < g->O * g->kH * g->kW; i++) wa[i] = fabsf(wa[i]);
  for (int64_t i = 0; b && i < g->O; i++) ba[i] = fabsf(b[i]);
  float *yd = malloc((size_t)ny * sizeof *yd), *ys = malloc((size_t)ny * 4);
  float *ym = malloc((size_t)ny * 4), *yf = malloc((size_t)ny * 4);
  cp_conv2d_ref(g, x, w, b, yd);
  cp_conv2d_ref(g, xa, wa, ba, ym);
  cp_conv2d_sep_ref(g, x, &f, b, ys);
  int bad = count_bad(ys, yd, ym, ny, "sep_ref");
  for (int level = 2; level >= 0; level--) {
    cp_conv_fast_force_isa(level);
    for (int64_t i = 0; i < ny; i++) yf[i] = 12345.0f;
    int rc = cp_conv2d_sep(g, x, &f, b, yf);
    if (!CHECK(rc == 0)) bad++;
    if (rc == 0) {
      bad += count_bad(yf, ys, ym, ny, "sep");
      bad += count_bad(yf, yd, ym, ny, "sep vs direct");
    }
  }
  cp_conv_fast_force_isa(-1);
  /* The dispatcher finds the factors itself and agrees as well. */
  if (cp_sep_worth(g)) {
    float *c2 = malloc((size_t)(g->O * (g->kH + g->kW)) * sizeof *c2);
    CHECK(cp_sep_factor(g, w, c2, c2 + g->O * g->kH) == 0);
    free(c2);
    for (int64_t i = 0; i < ny; i++) yf[i] = 12345.0f;
    /* 1: a problem too small for any fast kernel (reference loop) */
    if (cp_conv2d_fast(g, x, w, b, yf) == 0)
      bad += count_bad(yf, yd, ym, ny, "dispatch");
  }
  free(x), free(col), free(row), free(b), free(w), free(xa), free(wa);
  free(ba), free(yd), free(ys), free(ym), free(yf);
  return bad;
}

static int make_geom(cp_geom *g, const cp_conv_params *p, int64_t N,
                     int64_t C, int64_t H, int64_t W, int64_t O, int64_t kH,
                     int64_t kW, int bias) {
  int64_t xs[4] = {N, C, H, W}, ws[4] = {O, C / p->groups, kH, kW};
  cp_err e;
  return cp_geom_init(g, p, xs, ws, bias, 1, O, &e);
}

TEST(sep_random_shapes) {
  cp_rng_seed(&rng, 777);
  const char *s = getenv("CP_FAST_FUZZ");
  int want = s && atoi(s) > 0 ? atoi(s) : 150, tried = 0, failed = 0;
  while (tried < want) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    int64_t C = rnd(1, 4), O = C * rnd(1, 2);
    p.groups = C;
    int64_t kH = rnd(1, 7), kW = rnd(1, 7);
    if (rnd(0, 6) == 0) kH = rnd(9, 17), kW = rnd(9, 17);
    p.stride[0] = rnd(1, 3), p.stride[1] = rnd(1, 3);
    p.dilation[0] = rnd(1, 3), p.dilation[1] = rnd(1, 3);
    if (rnd(0, 2) == 0) p.stride[0] = p.stride[1] = p.dilation[0] = p.dilation[1] = 1;
    p.mode = (cp_padmode)rnd(0, 3);
    for (int i = 0; i < 4; i++) p.pad[i] = rnd(0, 4);
    if (rnd(0, 4) == 0) {
      p.padspec = CP_PADSPEC_SAME;
      p.stride[0] = p.stride[1] = 1;
    }
    int64_t N = rnd(1, 2), H = rnd(2, 60), W = rnd(2, 150);
    if (rnd(0, 9) == 0) H = rnd(200, 300), W = rnd(100, 260); /* threaded */
    int bias = (int)rnd(0, 1), shared = (int)rnd(0, 1);
    cp_geom g;
    if (make_geom(&g, &p, N, C, H, W, O, kH, kW, bias)) continue;
    tried++;
    if (check_shape(&g, shared, bias)) {
      failed++;
      printf("  shape N%lld C%lld H%lld W%lld O%lld k%lldx%lld s%lld,%lld "
             "d%lld,%lld pad %lld,%lld,%lld,%lld mode %s\n",
             (long long)N, (long long)C, (long long)H, (long long)W,
             (long long)O, (long long)kH, (long long)kW,
             (long long)g.p.stride[0], (long long)g.p.stride[1],
             (long long)g.p.dilation[0], (long long)g.p.dilation[1],
             (long long)g.p.pad[0], (long long)g.p.pad[1],
             (long long)g.p.pad[2], (long long)g.p.pad[3],
             cp_padmode_name(g.p.mode));
    }
  }
  CHECK(failed == 0);
}

static int factor_kernel(const cp_tensor *k) {
  cp_conv_params p;
  cp_conv_params_default(&p);
  cp_geom g;
  if (!CHECK(make_geom(&g, &p, 1, 1, 64, 64, 1, k->shape[0], k->shape[1],
                       0) == 0))
    return -1;
  float col[CP_KERNEL_MAX], row[CP_KERNEL_MAX];
  return cp_sep_factor(&g, cp_tensor_data(k), col, row);
}

/* The separable presets are found rank 1; the others are not. */
TEST(sep_presets_detected) {
  cp_err e;
  cp_tensor k;
  CHECK(cp_kernel_box(&k, 5, &e) == 0);
  CHECK(factor_kernel(&k) == 0), cp_tensor_release(&k);
  CHECK(cp_kernel_box(&k, 4, &e) == 0);
  CHECK(factor_kernel(&k) == 0), cp_tensor_release(&k);
  for (int64_t s = 3; s <= 31; s += 2) {
    CHECK(cp_kernel_gaussian(&k, s, cp_kernel_default_sigma(s), &e) == 0);
    CHECK(factor_kernel(&k) == 0), cp_tensor_release(&k);
  }
  CHECK(cp_kernel_gaussian(&k, 31, 2.0, &e) == 0); /* tails of 1e-25 */
  CHECK(factor_kernel(&k) == 0), cp_tensor_release(&k);
  CHECK(cp_kernel_sobel_x(&k, &e) == 0);
  CHECK(factor_kernel(&k) == 0), cp_tensor_release(&k);
  CHECK(cp_kernel_sobel_y(&k, &e) == 0);
  CHECK(factor_kernel(&k) == 0), cp_tensor_release(&k);
  CHECK(cp_kernel_motion_blur(&k, 9, 0, &e) == 0);
  CHECK(factor_kernel(&k) == 0), cp_tensor_release(&k);
  CHECK(cp_kernel_motion_blur(&k, 9, 90, &e) == 0);
  CHECK(factor_kernel(&k) == 0), cp_tensor_release(&k);
  CHECK(cp_kernel_motion_blur(&k, 9, 45, &e) == 0);
  CHECK(factor_kernel(&k) == 1), cp_tensor_release(&k);
  CHECK(cp_kernel_laplacian(&k, &e) == 0);
  CHECK(factor_kernel(&k) == 1), cp_tensor_release(&k);
  CHECK(cp_kernel_sharpen(&k, &e) == 0);
  CHECK(factor_kernel(&k) == 1), cp_tensor_release(&k);
}

/* The tolerance rule at its edge: a relative change of 2^-22 on one
 * weight is still rank 1, 2^-18 is not; a zero must stay exact. */
TEST(sep_rank1_rule) {
  cp_conv_params p;
  cp_conv_params_default(&p);
  cp_geom g;
  CHECK(make_geom(&g, &p, 1, 1, 16, 16, 1, 3, 4, 0) == 0);
  const float a[3] = {1, -2, 0.5f}, b[4] = {3, 1, -1, 0.25f};
  float w[12], col[3], row[4];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++) w[i * 4 + j] = a[i] * b[j];
  CHECK(cp_sep_factor(&g, w, col, row) == 0);
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 4; j++)
      CHECK_NEAR((double)col[i] * row[j], (double)w[i * 4 + j], 0x1p-22);
  w[5] *= 1.0f + 0x1p-22f;
  CHECK(cp_sep_factor(&g, w, col, row) == 0);
  w[5] = a[1] * b[1] * (1.0f + 0x1p-18f);
  CHECK(cp_sep_factor(&g, w, col, row) == 1);
  w[5] = a[1] * b[1];
  w[0] = 0; /* col[0]*row[0] = 3 cannot be a zero */
  CHECK(cp_sep_factor(&g, w, col, row) == 1);
  w[0] = a[0] * b[0];
  w[7] = INFINITY;
  CHECK(cp_sep_factor(&g, w, col, row) == 1);
  /* two input channels per output: not the separable path's problem */
  CHECK(make_geom(&g, &p, 1, 2, 16, 16, 1, 3, 4, 0) == 0);
  float w2[24] = {0};
  CHECK(cp_sep_factor(&g, w2, col, row) == 1);
}

/* NaN and Inf in the input: the reference's exact pattern, for a
 * separable kernel (refused by the two passes, redone directly) and for
 * one that is not (row-pair tiles, whose zero taps for the other row must
 * not turn an Inf the row does not read into a NaN). */
TEST(sep_nonfinite_falls_back) {
  for (int kind = 0; kind < 2; kind++) {
  cp_rng_seed(&rng, 5);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.groups = 2;
  p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 2;
  cp_geom g;
  CHECK(make_geom(&g, &p, 1, 2, 40, 50, 2, 5, 5, 0) == 0);
  int64_t nx = 2 * 40 * 50, ny = 2 * g.OH * g.OW;
  float *x = rand_buf(nx), col[5] = {1, 0, 2, -1, 1}, row[5] = {1, 2, 0, 1, 1};
  x[3 * 50 + 7] = INFINITY;
  x[40 * 50 + 20 * 50 + 20] = NAN;
  cp_sep_factors f = {col, row, 0, 0};
  float *w = outer(&g, &f);
  float *yf = malloc((size_t)ny * 4), *yr = malloc((size_t)ny * 4);
  CHECK(cp_conv2d_sep(&g, x, &f, NULL, yf) == 1); /* refuses */
  if (kind == 1) w[7] = 3; /* not rank 1: the direct row-pair tiles */
  CHECK(cp_conv2d_fast(&g, x, w, NULL, yf) == 0);
  cp_conv2d_ref(&g, x, w, NULL, yr);
  int64_t diff = 0, nonfinite = 0;
  for (int64_t i = 0; i < ny; i++) {
    nonfinite += !isfinite(yr[i]);
    diff += isnan(yr[i]) ? !isnan(yf[i])
            : isinf(yr[i]) ? yf[i] != yr[i] : !isfinite(yf[i]);
  }
  CHECK(nonfinite > 0);
  CHECK(diff == 0);
  if (diff) printf("  %lld of %lld differ\n", (long long)diff, (long long)ny);
  free(x), free(w), free(yf), free(yr);
  }
}

/* Wide rows: the ring is split into strips of columns (two and three
 * here), with the padding modes at both ends of each. */
TEST(sep_strips) {
  cp_rng_seed(&rng, 31);
  struct { int64_t C, H, W, k, d, s; cp_padmode m; } cs[] = {
      {2, 24, 1500, 15, 2, 1, CP_PAD_REFLECT},
      {1, 40, 2100, 31, 1, 1, CP_PAD_ZEROS},
      {1, 50, 2300, 17, 1, 2, CP_PAD_CIRCULAR},
      {3, 30, 1700, 9, 3, 1, CP_PAD_REPLICATE},
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.groups = cs[i].C;
    p.mode = cs[i].m;
    p.dilation[0] = p.dilation[1] = cs[i].d;
    p.stride[0] = p.stride[1] = cs[i].s;
    p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = cs[i].k / 2 * cs[i].d / 2;
    cp_geom g;
    CHECK(make_geom(&g, &p, 1, cs[i].C, cs[i].H, cs[i].W, cs[i].C, cs[i].k,
                    cs[i].k, 1) == 0);
    if (!CHECK(check_shape(&g, (int)(i % 2), 1) == 0))
      printf("  strips case %zu\n", i);
  }
}

/* Two OS threads filtering at once (one small separable problem on the
 * calling thread, one large kernel by transform): each result is right,
 * so the per-thread scratch is never shared between them. */
typedef struct two_job {
  int64_t k, H, W;
  int bad;
} two_job;

static void *filter_loop(void *arg) {
  two_job *t = arg;
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.padspec = CP_PADSPEC_SAME;
  cp_geom g;
  if (make_geom(&g, &p, 1, 1, t->H, t->W, 1, t->k, t->k, 0)) {
    t->bad = 1;
    return NULL;
  }
  int64_t n = t->H * t->W;
  float *x = malloc((size_t)n * 4), *w = malloc((size_t)(t->k * t->k) * 4);
  float *y = malloc((size_t)n * 4), *yr = malloc((size_t)n * 4);
  for (int64_t i = 0; i < n; i++) x[i] = (float)((i * 7919) % 101) / 101.0f;
  for (int64_t i = 0; i < t->k; i++)
    for (int64_t j = 0; j < t->k; j++)
      w[i * t->k + j] = t->k < 10 /* rank 1, else not */
                            ? (float)((i + 1) * (t->k - j)) / (float)(t->k * t->k)
                            : (float)((i * 31 + j * 17) % 13) / (float)(t->k * t->k);
  cp_conv2d_ref(&g, x, w, NULL, yr);
  for (int rep = 0; rep < (t->k < 10 ? 400 : 40); rep++) {
    if (cp_conv2d_fast(&g, x, w, NULL, y) != 0) t->bad++;
    for (int64_t i = 0; i < n; i++)
      if (fabsf(y[i] - yr[i]) > 1e-4f * (float)(t->k * t->k)) {
        t->bad++;
        break;
      }
  }
  free(x), free(w), free(y), free(yr);
  return NULL;
}

TEST(sep_fft_from_two_threads) {
  two_job jobs[2] = {{5, 120, 200, 0}, {25, 120, 200, 0}};
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&th[i], NULL, filter_loop, &jobs[i]) == 0);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  CHECK(jobs[0].bad == 0 && jobs[1].bad == 0);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.padspec = CP_PADSPEC_SAME;
  cp_geom g;
  CHECK(make_geom(&g, &p, 1, 1, 120, 200, 1, 25, 25, 0) == 0);
  CHECK(cp_fft_worth(&g)); /* the second job did go through the transform */
}

/* An output over 16 MiB is written with streaming stores (sepconv.c):
 * the same numbers, odd widths (rows not vector-aligned) included. */
TEST(sep_streaming_output) {
  cp_rng_seed(&rng, 77);
  for (int odd = 0; odd < 2; odd++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.padspec = CP_PADSPEC_SAME;
    cp_geom g;
    int64_t H = 2050, W = odd ? 2101 : 2112;
    CHECK(make_geom(&g, &p, 1, 1, H, W, 1, 5, 5, 0) == 0);
    int64_t n = H * W;
    float *x = rand_buf(n), *col = rand_buf(5), *row = rand_buf(5);
    void *al = NULL; /* 64-byte aligned, as the tensor pool's blocks */
    CHECK(posix_memalign(&al, 64, (size_t)n * 4) == 0);
    float *yf = al, *yr = malloc((size_t)n * 4);
    float *ym = malloc((size_t)n * 4), *xa = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) xa[i] = fabsf(x[i]);
    float ca[5], ra[5];
    for (int i = 0; i < 5; i++) ca[i] = fabsf(col[i]), ra[i] = fabsf(row[i]);
    cp_sep_factors f = {col, row, 0, 0}, fa = {ca, ra, 0, 0};
    cp_conv2d_sep_ref(&g, x, &f, NULL, yr);
    cp_conv2d_sep_ref(&g, xa, &fa, NULL, ym);
    for (int level = 2; level >= 0; level--) {
      cp_conv_fast_force_isa(level);
      for (int64_t i = 0; i < n; i++) yf[i] = 12345.0f;
      CHECK(cp_conv2d_sep(&g, x, &f, NULL, yf) == 0);
      CHECK(count_bad(yf, yr, ym, n, "streamed") == 0);
    }
    cp_conv_fast_force_isa(-1);
    free(x), free(col), free(row), free(yf), free(yr), free(ym), free(xa);
  }
}
