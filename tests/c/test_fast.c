/* test_fast.c - the fast kernels against the reference loops.
 *
 * Every comparison is element by element: |fast - ref| <= 1e-5 * (sum of
 * |w|*|x| over the window + |b| + 1), the float32 rounding budget, and NaN
 * only where the reference has NaN.  Each shape is run with every
 * instruction-set level the CPU has (SSE, AVX2, AVX-512 tiles). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/conv.h"
#include "../../src/core/conv_fast.h"
#include "../../src/core/threads.h"
#include "check.h"

static cp_rng rng;

/* How many random shapes: the default, or CP_FAST_FUZZ=n for a longer
 * search (e.g. CP_FAST_FUZZ=5000 build/test_core fast_). */
static int fuzz_count(int dflt) {
  const char *s = getenv("CP_FAST_FUZZ");
  return s && atoi(s) > 0 ? atoi(s) : dflt;
}

static int64_t rnd(int64_t lo, int64_t hi) { /* inclusive */
  return lo + (int64_t)(cp_rng_uniform(&rng) * (double)(hi - lo + 1));
}

static float *rand_buf(int64_t n) {
  float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
  for (int64_t i = 0; i < n; i++) p[i] = (float)(cp_rng_uniform(&rng) * 2 - 1);
  return p;
}

static float *abs_copy(const float *p, int64_t n) {
  float *q = malloc((size_t)(n > 0 ? n : 1) * sizeof *q);
  for (int64_t i = 0; i < n; i++) q[i] = fabsf(p[i]);
  return q;
}

static int64_t x_len(const cp_geom *g) { return g->N * g->C * g->H * g->W; }
static int64_t w_len(const cp_geom *g) {
  return g->p.transposed ? g->C * g->Og * g->kH * g->kW
                         : g->O * g->Cg * g->kH * g->kW;
}
static int64_t y_len(const cp_geom *g) { return g->N * g->O * g->OH * g->OW; }

/* Run fast (must return want_rc) and reference on given buffers; compare.
 * Returns the number of mismatching elements. */
static int compare_bufs(const cp_geom *g, const float *x, const float *w,
                        const float *b, int want_rc) {
  int T = g->p.transposed;
  int64_t ny = y_len(g);
  float *yf = malloc((size_t)ny * sizeof *yf);
  float *yr = malloc((size_t)ny * sizeof *yr);
  float *ya = malloc((size_t)ny * sizeof *ya);
  float *xa = abs_copy(x, x_len(g)), *wa = abs_copy(w, w_len(g));
  float *ba = b ? abs_copy(b, g->O) : NULL;
  /* Magnitudes; non-finite inputs make this meaningless, so clamp. */
  for (int64_t i = 0; i < x_len(g); i++) if (!isfinite(xa[i])) xa[i] = 1;
  for (int64_t i = 0; i < w_len(g); i++) if (!isfinite(wa[i])) wa[i] = 1;
  if (T) {
    cp_conv_transpose2d_ref(g, x, w, b, yr);
    cp_conv_transpose2d_ref(g, xa, wa, ba, ya);
  } else {
    cp_conv2d_ref(g, x, w, b, yr);
    cp_conv2d_ref(g, xa, wa, ba, ya);
  }
  int bad = 0;
  for (int level = 2; level >= 0; level--) {
    cp_conv_fast_force_isa(level);
    for (int64_t i = 0; i < ny; i++) yf[i] = 12345.0f; /* must be overwritten */
    int rc = T ? cp_conv_transpose2d_fast(g, x, w, b, yf)
               : cp_conv2d_fast(g, x, w, b, yf);
    if (!CHECK(rc == want_rc)) bad++;
    if (rc != 0) continue;
    for (int64_t i = 0; i < ny; i++) {
      double tol = 1e-5 * ((double)ya[i] + 1.0);
      int ok = isnan(yr[i]) ? isnan(yf[i])
               : isinf(yr[i]) ? yf[i] == yr[i]
                              : fabs((double)yf[i] - yr[i]) <= tol;
      if (!ok) {
        if (bad < 5)
          CHECK_NEAR(yf[i], yr[i], tol);
        bad++;
      }
    }
  }
  cp_conv_fast_force_isa(-1);
  free(yf), free(yr), free(ya), free(xa), free(wa), free(ba);
  return bad;
}

/* Random data for geometry g, then compare_bufs. */
static int compare_random(const cp_geom *g, int with_bias, int want_rc) {
  float *x = rand_buf(x_len(g)), *w = rand_buf(w_len(g));
  float *b = with_bias ? rand_buf(g->O) : NULL;
  int bad = compare_bufs(g, x, w, b, want_rc);
  free(x), free(w), free(b);
  return bad;
}

/* Build a geometry; 0 when PyTorch would accept the problem. */
static int make_geom(cp_geom *g, const cp_conv_params *p, int64_t N,
                     int64_t C, int64_t H, int64_t W, int64_t O, int64_t kH,
                     int64_t kW, int bias) {
  int64_t xs[4] = {N, C, H, W};
  int64_t ws[4];
  if (p->transposed) {
    ws[0] = C; ws[1] = O / p->groups; ws[2] = kH; ws[3] = kW;
  } else {
    ws[0] = O; ws[1] = C / p->groups; ws[2] = kH; ws[3] = kW;
  }
  cp_err e;
  return cp_geom_init(g, p, xs, ws, bias, 1, O, &e);
}

static double macs(const cp_geom *g) {
  return (double)g->N * g->O * g->OH * g->OW * g->Cg * g->kH * g->kW;
}

/* ---- conv2d ------------------------------------------------------------- */

TEST(fast_conv2d_random_shapes) {
  cp_rng_seed(&rng, 1234);
  int tried = 0, bad = 0;
  int want = fuzz_count(160);
  while (tried < want) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    int kind = (int)rnd(0, 3); /* 0 plain, 1 groups, 2 depthwise, 3 many */
    int64_t C = kind == 3 ? rnd(8, 24) : rnd(1, 6);
    int64_t G = 1, O;
    if (kind == 1) {
      G = rnd(2, 3);
      C = G * rnd(1, 4);
      O = G * rnd(1, 7);
    } else if (kind == 2) {
      G = C;
      O = C * rnd(1, 3);
    } else {
      O = kind == 3 ? rnd(5, 40) : rnd(1, 5);
    }
    p.groups = G;
    int64_t kH = rnd(1, 5), kW = rnd(1, 5);
    if (rnd(0, 5) == 0) { kH = rnd(8, 11); kW = rnd(7, 12); }
    p.stride[0] = rnd(1, 3);
    p.stride[1] = rnd(1, 3);
    p.dilation[0] = rnd(1, 3);
    p.dilation[1] = rnd(1, 3);
    p.mode = (cp_padmode)rnd(0, 3);
    for (int i = 0; i < 4; i++) p.pad[i] = rnd(0, 3);
    if (rnd(0, 4) == 0) {
      p.padspec = CP_PADSPEC_SAME;
      p.stride[0] = p.stride[1] = 1;
    }
    int64_t N = rnd(1, 3), H = rnd(3, 37), W = rnd(3, 41);
    int bias = (int)rnd(0, 1);
    cp_geom g;
    if (make_geom(&g, &p, N, C, H, W, O, kH, kW, bias)) continue;
    if (macs(&g) < 4096) continue;
    tried++;
    int nb = compare_random(&g, bias, 0);
    if (nb) {
      bad++;
      printf("  shape N%lld C%lld H%lld W%lld O%lld k%lldx%lld s%lld,%lld "
             "d%lld,%lld pad %lld,%lld,%lld,%lld G%lld mode %s\n",
             (long long)N, (long long)C, (long long)H, (long long)W,
             (long long)O, (long long)kH, (long long)kW,
             (long long)g.p.stride[0], (long long)g.p.stride[1],
             (long long)g.p.dilation[0], (long long)g.p.dilation[1],
             (long long)g.p.pad[0], (long long)g.p.pad[1],
             (long long)g.p.pad[2], (long long)g.p.pad[3], (long long)G,
             cp_padmode_name(g.p.mode));
    }
  }
  CHECK(bad == 0);
}

/* Shapes the speed cases use, scaled down, plus the awkward ones. */
TEST(fast_conv2d_named_shapes) {
  cp_rng_seed(&rng, 99);
  struct { int64_t N, C, H, W, O, k, s, d, pad, G; cp_padmode m; } cs[] = {
      {1, 3, 45, 67, 3, 3, 1, 1, 1, 1, CP_PAD_ZEROS},     /* image filter */
      {1, 3, 45, 67, 3, 3, 1, 1, 1, 1, CP_PAD_REFLECT},
      {1, 3, 30, 33, 3, 7, 1, 1, 3, 3, CP_PAD_REPLICATE}, /* depthwise 7 */
      {1, 3, 40, 41, 3, 15, 1, 1, 7, 3, CP_PAD_CIRCULAR}, /* depthwise 15 */
      {1, 1, 64, 64, 1, 5, 1, 1, 0, 1, CP_PAD_ZEROS},     /* single channel */
      {1, 16, 14, 14, 16, 3, 1, 1, 1, 1, CP_PAD_ZEROS},   /* GEMM path */
      {2, 8, 16, 16, 8, 3, 2, 2, 2, 1, CP_PAD_ZEROS},     /* s2 d2 */
      {3, 5, 9, 13, 11, 1, 1, 1, 0, 1, CP_PAD_ZEROS},     /* 1x1 */
      {1, 4, 37, 23, 8, 1, 2, 1, 0, 1, CP_PAD_ZEROS},     /* 1x1 stride 2 */
      {1, 6, 21, 19, 12, 3, 1, 1, 1, 6, CP_PAD_ZEROS},    /* multiplier 2 */
      {1, 2, 12, 130, 70, 3, 1, 1, 1, 1, CP_PAD_REFLECT}, /* wide, O=70 */
      {2, 4, 11, 11, 4, 9, 3, 1, 4, 2, CP_PAD_ZEROS},     /* k9 s3 */
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.stride[0] = p.stride[1] = cs[i].s;
    p.dilation[0] = p.dilation[1] = cs[i].d;
    for (int q = 0; q < 4; q++) p.pad[q] = cs[i].pad;
    p.groups = cs[i].G;
    p.mode = cs[i].m;
    cp_geom g;
    if (!CHECK(make_geom(&g, &p, cs[i].N, cs[i].C, cs[i].H, cs[i].W, cs[i].O,
                         cs[i].k, cs[i].k, 1) == 0))
      continue;
    if (!CHECK(compare_random(&g, 1, 0) == 0)) printf("  case %zu\n", i);
  }
}

/* The Winograd path (3x3, stride = dilation, >= 16 channels each side):
 * every padding mode, odd sizes, batches, groups, strides; and the same
 * shapes with it switched off, so both paths are held to the reference. */
TEST(fast_conv2d_winograd) {
  cp_rng_seed(&rng, 77);
  struct { int64_t N, C, H, W, O, G, pad, sh, sw; } cs[] = {
      {1, 16, 9, 9, 16, 1, 1, 1, 1},   {2, 17, 12, 31, 20, 1, 1, 1, 1},
      {1, 32, 7, 5, 33, 1, 0, 1, 1},   {1, 32, 15, 14, 32, 2, 1, 1, 1},
      {3, 24, 6, 70, 18, 1, 2, 1, 1},  {1, 16, 40, 3, 16, 1, 1, 1, 1},
      {2, 16, 21, 22, 16, 1, 2, 2, 2}, {1, 20, 17, 13, 24, 1, 2, 2, 1},
      {1, 16, 30, 31, 16, 1, 3, 3, 3},
  };
  for (int wino = 1; wino >= 0; wino--) {
    cp_conv_fast_set_winograd(wino);
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
      for (int mode = 0; mode < 4; mode++) {
        cp_conv_params p;
        cp_conv_params_default(&p);
        p.groups = cs[i].G;
        p.mode = (cp_padmode)mode;
        p.stride[0] = p.dilation[0] = cs[i].sh;
        p.stride[1] = p.dilation[1] = cs[i].sw;
        for (int q = 0; q < 4; q++) p.pad[q] = cs[i].pad;
        p.pad[1] = 0; /* asymmetric: nothing at the bottom */
        cp_geom g;
        if (make_geom(&g, &p, cs[i].N, cs[i].C, cs[i].H, cs[i].W, cs[i].O, 3,
                      3, 1))
          continue;
        if (!CHECK(compare_random(&g, 1, 0) == 0))
          printf("  case %zu mode %d wino %d\n", i, mode, wino);
      }
  }
  cp_conv_fast_set_winograd(1);
}

/* Asymmetric padding through pad[4] = top, bottom, left, right. */
TEST(fast_conv2d_asymmetric_padding) {
  cp_rng_seed(&rng, 7);
  for (int mode = 0; mode < 4; mode++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.pad[0] = 0; p.pad[1] = 3; p.pad[2] = 2; p.pad[3] = 1;
    p.mode = (cp_padmode)mode;
    p.stride[1] = 2;
    cp_geom g;
    CHECK(make_geom(&g, &p, 2, 3, 19, 25, 4, 4, 3, 1) == 0);
    CHECK(compare_random(&g, 1, 0) == 0);
  }
}

/* NaN and Inf: a NaN in x poisons exactly the windows covering it, an Inf
 * weight every output of its channel (padding zeros times Inf), Inf times a
 * zero weight is NaN. */
TEST(fast_conv2d_nonfinite) {
  cp_rng_seed(&rng, 5);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 2;
  cp_geom g;
  CHECK(make_geom(&g, &p, 1, 2, 20, 30, 6, 3, 3, 1) == 0);
  float *x = rand_buf(x_len(&g)), *w = rand_buf(w_len(&g)), *b = rand_buf(6);
  x[5 * 30 + 7] = NAN;
  x[20 * 30 + 12 * 30 + 29] = INFINITY;
  w[1 * 18 + 4] = 0.0f;                      /* channel 1 sees Inf * 0 */
  w[4 * 18 + 9] = INFINITY;                  /* channel 4 all Inf/NaN */
  CHECK(compare_bufs(&g, x, w, b, 0) == 0);
  /* The same through the Winograd shape, which must notice the NaN and
   * take the tiles (a transform would spread it to more outputs). */
  free(w), free(b);
  CHECK(make_geom(&g, &p, 1, 2, 20, 30, 6, 3, 3, 1) == 0);
  {
    cp_geom gw;
    CHECK(make_geom(&gw, &p, 1, 16, 12, 13, 16, 3, 3, 1) == 0);
    float *xw = rand_buf(x_len(&gw)), *ww = rand_buf(w_len(&gw));
    float *bw = rand_buf(16);
    xw[3 * 13 + 4] = NAN;
    xw[5 * 156 + 7 * 13 + 12] = INFINITY;
    CHECK(compare_bufs(&gw, xw, ww, bw, 0) == 0);
    xw[3 * 13 + 4] = 1.0f;
    xw[5 * 156 + 7 * 13 + 12] = 1.0f;
    ww[100] = INFINITY;
    CHECK(compare_bufs(&gw, xw, ww, bw, 0) == 0);
    free(xw), free(ww), free(bw);
  }
  w = rand_buf(w_len(&g));
  b = rand_buf(6);
  /* The same through the GEMM tile (many channels). */
  free(w), free(b);
  CHECK(make_geom(&g, &p, 1, 2, 20, 30, 20, 3, 3, 1) == 0);
  w = rand_buf(w_len(&g));
  b = rand_buf(20);
  w[13 * 18 + 2] = NAN;
  CHECK(compare_bufs(&g, x, w, b, 0) == 0);
  free(x), free(w), free(b);
}

/* conv2d with float products, each rounded before it is added (what
 * PyTorch's CPU kernels compute); for the overflow test only. */
static void conv2d_float_products(const cp_geom *g, const float *x,
                                  const float *w, const float *b, float *y) {
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t o = 0; o < g->O; o++)
      for (int64_t r = 0; r < g->OH; r++)
        for (int64_t c = 0; c < g->OW; c++) {
          float acc = b ? b[o] : 0.0f;
          int64_t c0 = cp_geom_group_of_out(g, o) * g->Cg;
          for (int64_t ci = 0; ci < g->Cg; ci++)
            for (int64_t i = 0; i < g->kH; i++)
              for (int64_t j = 0; j < g->kW; j++) {
                int64_t ri = cp_pad_index(cp_geom_in_row(g, r, i), g->H,
                                          g->p.mode);
                int64_t cj = cp_pad_index(cp_geom_in_col(g, c, j), g->W,
                                          g->p.mode);
                float xv = (ri < 0 || cj < 0)
                               ? 0.0f
                               : x[((n * g->C + c0 + ci) * g->H + ri) * g->W +
                                   cj];
                volatile float prod =
                    w[((o * g->Cg + ci) * g->kH + i) * g->kW + j] * xv;
                acc += prod;
              }
          y[((n * g->O + o) * g->OH + r) * g->OW + c] = acc;
        }
}

/* 1e30 * 1e30 overflows to Inf in float32 and Inf - Inf is NaN, as in
 * PyTorch; a fused multiply-add (or the reference's double) would not say
 * so.  Direct tiles, GEMM tiles and the Winograd shape alike. */
TEST(fast_conv2d_product_overflow) {
  struct { int64_t C, H, O, k; } cs[] = {
      {4, 16, 4, 1}, {4, 16, 1, 3}, {16, 12, 16, 3}, {16, 12, 20, 1}};
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = cs[i].k / 2;
    cp_geom g;
    CHECK(make_geom(&g, &p, 1, cs[i].C, cs[i].H, cs[i].H, cs[i].O, cs[i].k,
                    cs[i].k, 0) == 0);
    float *x = malloc((size_t)x_len(&g) * sizeof *x);
    float *w = malloc((size_t)w_len(&g) * sizeof *w);
    float *ye = malloc((size_t)y_len(&g) * sizeof *ye);
    float *yf = malloc((size_t)y_len(&g) * sizeof *yf);
    for (int64_t q = 0; q < x_len(&g); q++) x[q] = 1e30f;
    for (int64_t q = 0; q < w_len(&g); q++) w[q] = q % 2 ? -1e30f : 1e30f;
    w[0] = 1.0f; /* and one ordinary product among the overflows */
    conv2d_float_products(&g, x, w, NULL, ye);
    for (int level = 2; level >= 0; level--) {
      cp_conv_fast_force_isa(level);
      CHECK(cp_conv2d_fast(&g, x, w, NULL, yf) == 0);
      int bad = 0;
      for (int64_t q = 0; q < y_len(&g); q++) {
        int same = isnan(ye[q]) ? isnan(yf[q])
                   : isinf(ye[q]) ? yf[q] == ye[q]
                                  : fabsf(yf[q] - ye[q]) <= 1e-5f * fabsf(ye[q]);
        bad += !same;
      }
      if (!CHECK(bad == 0)) printf("  case %zu isa %d: %d differ\n", i, level, bad);
    }
    cp_conv_fast_force_isa(-1);
    free(x), free(w), free(ye), free(yf);
  }
}

/* The smallest problems take a scalar loop (the Lua-loop case); tiny but
 * tall ones are left to the reference loop (return 1). */
TEST(fast_conv2d_tiny_shapes) {
  cp_rng_seed(&rng, 31);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.stride[0] = p.stride[1] = 2;
  cp_geom g;
  CHECK(make_geom(&g, &p, 1, 1, 4, 4, 1, 2, 2, 0) == 0);
  CHECK(compare_random(&g, 0, 0) == 0);
  cp_conv_params_default(&p);
  CHECK(make_geom(&g, &p, 1, 1, 70, 3, 1, 1, 1, 0) == 0);
  CHECK(compare_random(&g, 0, 1) == 0);
  int tried = 0;
  while (tried < 60) {
    cp_conv_params_default(&p);
    p.mode = (cp_padmode)rnd(0, 3);
    for (int i = 0; i < 4; i++) p.pad[i] = rnd(0, 2);
    p.stride[0] = rnd(1, 2);
    p.stride[1] = rnd(1, 2);
    p.dilation[0] = rnd(1, 2);
    p.groups = rnd(1, 2);
    int64_t C = p.groups * rnd(1, 2), O = p.groups * rnd(1, 2);
    if (make_geom(&g, &p, rnd(1, 2), C, rnd(2, 6), rnd(2, 6), O, rnd(1, 3),
                  rnd(1, 3), 1))
      continue;
    tried++;
    CHECK(compare_random(&g, 1, 0) == 0);
  }
}

/* Weights too large to pack within the scratch budget go back (return 1)
 * instead of allocating without bound. */
TEST(fast_conv2d_huge_weights_fall_back) {
  cp_conv_params p;
  cp_conv_params_default(&p);
  cp_geom g;
  CHECK(make_geom(&g, &p, 1, 1024, 3, 3, 1024, 3, 3, 0) == 0);
  float *x = calloc((size_t)x_len(&g), sizeof *x);
  float *w = calloc((size_t)w_len(&g), sizeof *w);
  float *y = calloc((size_t)y_len(&g), sizeof *y);
  CHECK(cp_conv2d_fast(&g, x, w, NULL, y) == 1);
  free(x), free(w), free(y);
}

/* Through the public op: 3-D input, strided (non-contiguous) weight view. */
TEST(fast_conv2d_through_dispatcher) {
  cp_err e;
  cp_tensor x, w, y1, y2;
  int64_t xs[3] = {3, 50, 61}, wsh[4] = {5, 3, 3, 3};
  CHECK(cp_tensor_empty(&x, 3, xs, &e) == 0);
  CHECK(cp_tensor_empty(&w, 4, wsh, &e) == 0);
  cp_rng_seed(&rng, 11);
  for (int64_t i = 0; i < cp_tensor_numel(&x); i++)
    cp_tensor_data(&x)[i] = (float)cp_rng_normal(&rng);
  for (int64_t i = 0; i < cp_tensor_numel(&w); i++)
    cp_tensor_data(&w)[i] = (float)cp_rng_normal(&rng);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.padspec = CP_PADSPEC_SAME;
  p.mode = CP_PAD_REFLECT;
  CHECK(cp_conv2d(&y1, &x, &w, NULL, &p, &e) == 0);
  cp_conv_set_impl(CP_IMPL_REFERENCE);
  CHECK(cp_conv2d(&y2, &x, &w, NULL, &p, &e) == 0);
  cp_conv_set_impl(CP_IMPL_AUTO);
  CHECK(cp_tensor_same_shape(&y1, &y2));
  int bad = 0;
  for (int64_t i = 0; i < cp_tensor_numel(&y1); i++)
    if (fabsf(cp_tensor_data(&y1)[i] - cp_tensor_data(&y2)[i]) > 1e-4f) bad++;
  CHECK(bad == 0);
  cp_tensor_release(&x), cp_tensor_release(&w);
  cp_tensor_release(&y1), cp_tensor_release(&y2);
}

/* ---- conv_transpose2d --------------------------------------------------- */

TEST(fast_convT_random_shapes) {
  cp_rng_seed(&rng, 4321);
  int tried = 0, bad = 0;
  int want = fuzz_count(120);
  while (tried < want) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.transposed = 1;
    int64_t G = rnd(1, 3) == 3 ? rnd(2, 3) : 1;
    int64_t C = G * rnd(1, 6), O = G * rnd(1, rnd(0, 2) ? 4 : 12);
    p.groups = G;
    int64_t kH = rnd(1, 5), kW = rnd(1, 5);
    p.stride[0] = rnd(1, 4);
    p.stride[1] = rnd(1, 3);
    p.dilation[0] = rnd(1, 2);
    p.dilation[1] = rnd(1, 3);
    int64_t ph = rnd(0, 3), pw = rnd(0, 3);
    p.pad[0] = p.pad[1] = ph;
    p.pad[2] = p.pad[3] = pw;
    int64_t mh = p.stride[0] > p.dilation[0] ? p.stride[0] : p.dilation[0];
    int64_t mw = p.stride[1] > p.dilation[1] ? p.stride[1] : p.dilation[1];
    p.out_pad[0] = rnd(0, mh - 1);
    p.out_pad[1] = rnd(0, mw - 1);
    int64_t N = rnd(1, 2), H = rnd(1, 19), W = rnd(1, 23);
    int bias = (int)rnd(0, 1);
    cp_geom g;
    if (make_geom(&g, &p, N, C, H, W, O, kH, kW, bias)) continue;
    if ((double)N * C * H * W * g.Og * kH * kW < 4096) continue;
    tried++;
    if (compare_random(&g, bias, 0)) {
      bad++;
      printf("  convT N%lld C%lld H%lld W%lld O%lld k%lldx%lld s%lld,%lld "
             "d%lld,%lld p%lld,%lld op%lld,%lld G%lld\n",
             (long long)N, (long long)C, (long long)H, (long long)W,
             (long long)O, (long long)kH, (long long)kW,
             (long long)p.stride[0], (long long)p.stride[1],
             (long long)p.dilation[0], (long long)p.dilation[1],
             (long long)ph, (long long)pw, (long long)p.out_pad[0],
             (long long)p.out_pad[1], (long long)G);
    }
  }
  CHECK(bad == 0);
}

TEST(fast_convT_named_shapes) {
  cp_rng_seed(&rng, 17);
  struct { int64_t C, H, O, k, s, p, op, d, G; } cs[] = {
      {16, 14, 8, 4, 2, 1, 0, 1, 1},  /* the speed case, scaled down */
      {8, 9, 8, 3, 2, 1, 1, 1, 1},    /* output_padding */
      {4, 7, 6, 2, 3, 0, 2, 1, 2},    /* stride > kernel: gaps, groups */
      {6, 8, 6, 3, 1, 4, 0, 2, 3},    /* padding > d(k-1): crop */
      {3, 10, 3, 5, 2, 2, 1, 2, 3},   /* depthwise-like, dilation 2 */
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.transposed = 1;
    p.stride[0] = p.stride[1] = cs[i].s;
    p.dilation[0] = p.dilation[1] = cs[i].d;
    for (int q = 0; q < 4; q++) p.pad[q] = cs[i].p;
    p.out_pad[0] = p.out_pad[1] = cs[i].op;
    p.groups = cs[i].G;
    cp_geom g;
    if (!CHECK(make_geom(&g, &p, 2, cs[i].C, cs[i].H, cs[i].H + 3, cs[i].O,
                         cs[i].k, cs[i].k, 1) == 0))
      continue;
    if (!CHECK(compare_random(&g, 1, 0) == 0)) printf("  case %zu\n", i);
  }
}

/* A NaN in x is fine for the gather; a non-finite weight is not (the
 * scatter never multiplies it by a border zero), so that goes back. */
TEST(fast_convT_nonfinite) {
  cp_rng_seed(&rng, 23);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.transposed = 1;
  p.stride[0] = p.stride[1] = 2;
  p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 1;
  cp_geom g;
  CHECK(make_geom(&g, &p, 1, 4, 12, 12, 4, 4, 4, 1) == 0);
  float *x = rand_buf(x_len(&g)), *w = rand_buf(w_len(&g)), *b = rand_buf(4);
  x[3 * 12 + 5] = NAN;
  x[144 + 11] = INFINITY;
  CHECK(compare_bufs(&g, x, w, b, 0) == 0);
  w[7] = INFINITY;
  CHECK(compare_bufs(&g, x, w, b, 1) == 0);
  free(x), free(w), free(b);
}

/* Two threads of the caller's own, each running convolutions: the calls
 * take turns on the shared scratch and both come out right. */
static void *conv_from_thread(void *arg) {
  int *bad = arg;
  cp_rng r;
  cp_rng_seed(&r, (uint64_t)(uintptr_t)arg);
  for (int rep = 0; rep < 6; rep++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 1;
    p.stride[0] = p.stride[1] = 1 + rep % 2;
    cp_geom g;
    int64_t C = 8 + rep, O = 3 + 7 * (rep % 3);
    if (make_geom(&g, &p, 1, C, 30 + rep, 33, O, 3, 3, 0)) {
      (*bad)++;
      continue;
    }
    float *x = malloc((size_t)x_len(&g) * sizeof *x);
    float *w = malloc((size_t)w_len(&g) * sizeof *w);
    float *yf = malloc((size_t)y_len(&g) * sizeof *yf);
    float *yr = malloc((size_t)y_len(&g) * sizeof *yr);
    for (int64_t i = 0; i < x_len(&g); i++) x[i] = (float)cp_rng_uniform(&r);
    for (int64_t i = 0; i < w_len(&g); i++) w[i] = (float)cp_rng_uniform(&r);
    if (cp_conv2d_fast(&g, x, w, NULL, yf) != 0) (*bad)++;
    cp_conv2d_ref(&g, x, w, NULL, yr);
    for (int64_t i = 0; i < y_len(&g); i++)
      if (fabsf(yf[i] - yr[i]) > 1e-4f * (1 + fabsf(yr[i]))) {
        (*bad)++;
        break;
      }
    free(x), free(w), free(yf), free(yr);
  }
  return NULL;
}

TEST(fast_conv2d_from_two_threads) {
  pthread_t t[2];
  int bad[2] = {0, 0};
  for (int i = 0; i < 2; i++)
    CHECK(pthread_create(&t[i], NULL, conv_from_thread, &bad[i]) == 0);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  CHECK(bad[0] == 0 && bad[1] == 0);
}

/* ---- the pool -------------------------------------------------------------- */

static void count_tids(int tid, int nth, void *ctx) {
  int *seen = ctx;
  if (tid >= 0 && tid < nth) __atomic_fetch_add(&seen[tid], 1, __ATOMIC_RELAXED);
}

TEST(threads_run_every_tid_once) {
  for (int nth = 1; nth <= CP_THREADS_MAX; nth++)
    for (int rep = 0; rep < 20; rep++) {
      int seen[CP_THREADS_MAX] = {0};
      cp_threads_run(nth, count_tids, seen);
      for (int t = 0; t < CP_THREADS_MAX; t++)
        CHECK(seen[t] == (t < nth ? 1 : 0));
    }
  CHECK(cp_threads_count() >= 1);
  float *a = cp_threads_scratch(0, 1000);
  CHECK(a != NULL && ((uintptr_t)a & 63) == 0);
  if (a) a[999] = 1.0f;
  CHECK(cp_threads_scratch(0, 500) == a); /* kept, not shrunk */
  CHECK(cp_threads_scratch(0, (size_t)1 << 40) == NULL);
}
