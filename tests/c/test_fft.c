/* test_fft.c - the transform path (fftconv.c) against the reference loop.
 *
 * The bound of fftconv.h: |y_fft - y_ref| <= 1e-5 * sum|w| * max|x| +
 * 1e-6 * |y_ref| (max over the input plane), on random shapes with every
 * padding mode, dilation and tile layout; NaN/Inf and strides refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/core/conv.h"
#include "../../src/core/fftconv.h"
#include "check.h"

static cp_rng rng;

static int64_t rnd(int64_t lo, int64_t hi) {
  return lo + (int64_t)(cp_rng_uniform(&rng) * (double)(hi - lo + 1));
}

static float *rand_buf(int64_t n, double scale) {
  float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
  for (int64_t i = 0; i < n; i++)
    p[i] = (float)((cp_rng_uniform(&rng) * 2 - 1) * scale);
  return p;
}

static int make_geom(cp_geom *g, const cp_conv_params *p, int64_t N,
                     int64_t C, int64_t H, int64_t W, int64_t O, int64_t kH,
                     int64_t kW, int bias) {
  int64_t xs[4] = {N, C, H, W}, ws[4] = {O, C / p->groups, kH, kW};
  cp_err e;
  return cp_geom_init(g, p, xs, ws, bias, 1, O, &e);
}

/* Mismatches of the transform against the reference under the bound. */
static int check_fft(const cp_geom *g, double xscale, int with_bias) {
  int64_t nx = g->N * g->C * g->H * g->W, ny = g->N * g->O * g->OH * g->OW;
  int64_t nw = g->O * g->kH * g->kW;
  float *x = rand_buf(nx, xscale), *w = rand_buf(nw, 1.0);
  float *b = with_bias ? rand_buf(g->O, 1.0) : NULL;
  float *yf = malloc((size_t)ny * 4), *yr = malloc((size_t)ny * 4);
  cp_conv2d_ref(g, x, w, b, yr);
  for (int64_t i = 0; i < ny; i++) yf[i] = 12345.0f;
  int bad = 0;
  if (!CHECK(cp_conv2d_fft(g, x, w, b, yf) == 0)) bad++;
  double xmax = 0;
  for (int64_t i = 0; i < nx; i++) xmax = fmax(xmax, fabs(x[i]));
  for (int64_t i = 0; i < ny && !bad; i++) {
    int64_t o = i / (g->OH * g->OW) % g->O;
    double wsum = 0;
    for (int64_t k = 0; k < g->kH * g->kW; k++)
      wsum += fabs(w[o * g->kH * g->kW + k]);
    double tol = 1e-5 * wsum * xmax + 1e-6 * fabs(yr[i]);
    if (!(fabs((double)yf[i] - yr[i]) <= tol)) {
      printf("  y[%lld] = %.9g, reference %.9g (bound %.3g)\n", (long long)i,
             yf[i], yr[i], tol);
      bad++;
    }
  }
  free(x), free(w), free(b), free(yf), free(yr);
  return bad;
}

TEST(fft_random_shapes) {
  cp_rng_seed(&rng, 2024);
  cp_fft_set_enabled(2);
  int tried = 0, failed = 0;
  while (tried < 60) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    int64_t C = rnd(1, 3), O = C * rnd(1, 2);
    p.groups = C;
    int64_t kH = rnd(1, 19), kW = rnd(1, 19);
    p.dilation[0] = rnd(1, 2), p.dilation[1] = rnd(1, 2);
    p.mode = (cp_padmode)rnd(0, 3);
    for (int i = 0; i < 4; i++) p.pad[i] = rnd(0, 9);
    if (rnd(0, 2) == 0) p.padspec = CP_PADSPEC_SAME;
    int64_t H = rnd(20, 150), W = rnd(20, 300);
    int bias = (int)rnd(0, 1);
    cp_geom g;
    if (make_geom(&g, &p, rnd(1, 2), C, H, W, O, kH, kW, bias)) continue;
    tried++;
    double scale = rnd(0, 3) == 0 ? 1000.0 : 1.0;
    if (check_fft(&g, scale, bias)) {
      failed++;
      printf("  shape C%lld H%lld W%lld O%lld k%lldx%lld d%lld,%lld pad "
             "%lld,%lld,%lld,%lld mode %s\n",
             (long long)C, (long long)H, (long long)W, (long long)O,
             (long long)kH, (long long)kW, (long long)g.p.dilation[0],
             (long long)g.p.dilation[1], (long long)g.p.pad[0],
             (long long)g.p.pad[1], (long long)g.p.pad[2],
             (long long)g.p.pad[3], cp_padmode_name(g.p.mode));
    }
  }
  cp_fft_set_enabled(1);
  CHECK(failed == 0);
}

/* The kernels' spectra are kept from one call to the next: a kernel that
 * differs in its last value only, the same values at another dilation, and
 * the first kernel again must each give their own reference. */
TEST(fft_kept_spectra_follow_the_kernel) {
  cp_rng_seed(&rng, 77);
  cp_fft_set_enabled(2);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.groups = 2;
  int64_t nx = 2 * 60 * 90, nw = 2 * 9 * 9;
  float *x = rand_buf(nx, 1.0), *w = rand_buf(nw, 1.0);
  float *yf = malloc((size_t)nx * 4), *yr = malloc((size_t)nx * 4);
  const struct { float last; int64_t dil; } steps[] = {
      {0.5f, 1}, {-0.25f, 1}, {-0.25f, 2}, {0.5f, 1}, {0.5f, 1}};
  for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
    w[nw - 1] = steps[s].last;
    p.dilation[0] = p.dilation[1] = steps[s].dil;
    cp_geom g;
    CHECK(make_geom(&g, &p, 1, 2, 60, 90, 2, 9, 9, 0) == 0);
    int64_t ny = g.N * g.O * g.OH * g.OW;
    CHECK(cp_conv2d_fft(&g, x, w, NULL, yf) == 0);
    cp_conv2d_ref(&g, x, w, NULL, yr);
    double worst = 0;
    for (int64_t i = 0; i < ny; i++) worst = fmax(worst, fabs(yf[i] - yr[i]));
    if (!CHECK(worst < 1e-5 * 81)) printf("  step %zu: off by %g\n", s, worst);
  }
  cp_fft_set_enabled(1);
  free(x), free(w), free(yf), free(yr);
}

/* A large image: many tiles, both threads, and the dispatcher's choice
 * for a 31x31 kernel agrees with the reference too. */
TEST(fft_large_kernel_dispatch) {
  cp_rng_seed(&rng, 31);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.groups = 2;
  p.padspec = CP_PADSPEC_SAME;
  p.mode = CP_PAD_REFLECT;
  cp_geom g;
  CHECK(make_geom(&g, &p, 1, 2, 300, 420, 2, 31, 31, 1) == 0);
  CHECK(cp_fft_worth(&g));
  CHECK(check_fft(&g, 1.0, 1) == 0);
  int64_t ny = 2 * 300 * 420;
  float *x = rand_buf(2 * 300 * 420, 1.0), *w = rand_buf(2 * 961, 1.0);
  float *yf = malloc((size_t)ny * 4), *yr = malloc((size_t)ny * 4);
  CHECK(cp_conv2d_fast(&g, x, w, NULL, yf) == 0);
  cp_conv2d_ref(&g, x, w, NULL, yr);
  double worst = 0;
  for (int64_t i = 0; i < ny; i++) worst = fmax(worst, fabs(yf[i] - yr[i]));
  CHECK(worst < 1e-5 * 961);
  free(x), free(w), free(yf), free(yr);
}

/* Refused: strides, several input channels per output, NaN/Inf anywhere
 * (the direct path then gives PyTorch's pattern). */
TEST(fft_refuses) {
  cp_rng_seed(&rng, 3);
  cp_fft_set_enabled(2);
  cp_conv_params p;
  cp_conv_params_default(&p);
  cp_geom g;
  p.stride[0] = 2;
  CHECK(make_geom(&g, &p, 1, 1, 64, 64, 1, 9, 9, 0) == 0);
  CHECK(!cp_fft_worth(&g));
  cp_conv_params_default(&p);
  CHECK(make_geom(&g, &p, 1, 2, 64, 64, 1, 9, 9, 0) == 0);
  CHECK(!cp_fft_worth(&g));
  CHECK(make_geom(&g, &p, 1, 1, 64, 64, 1, 9, 9, 0) == 0);
  CHECK(cp_fft_worth(&g));
  float *x = rand_buf(64 * 64, 1.0), *w = rand_buf(81, 1.0);
  float *y = malloc(56 * 56 * 4), *yr = malloc(56 * 56 * 4);
  x[40 * 64 + 3] = NAN;
  CHECK(cp_conv2d_fft(&g, x, w, NULL, y) == 1);
  x[40 * 64 + 3] = 0;
  w[5] = INFINITY;
  CHECK(cp_conv2d_fft(&g, x, w, NULL, y) == 1);
  w[5] = 0;
  x[10] = 3e38f; /* overflows in the transform: refused, not wrong */
  x[11] = 3e38f;
  int rc = cp_conv2d_fft(&g, x, w, NULL, y);
  cp_conv2d_ref(&g, x, w, NULL, yr);
  if (rc == 0)
    for (int i = 0; i < 56 * 56; i++)
      if (isfinite(yr[i])) CHECK(isfinite(y[i]));
  cp_fft_set_enabled(1);
  free(x), free(w), free(y), free(yr);
}
