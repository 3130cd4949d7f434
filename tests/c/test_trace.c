/* test_trace.c - the step model agrees with the reference loops. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/conv.h"
#include "core/trace.h"

/* Values with full float32 mantissas, so that products round and the
 * order and precision of every operation matter for exact equality. */
static float *randbuf(cp_rng *r, int64_t n) {
  float *p = malloc(sizeof *p * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) p[i] = (float)cp_rng_normal(r);
  return p;
}

static int64_t rint_(cp_rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(cp_rng_uniform(r) * (double)(hi - lo + 1));
}

/* Walk every unit of a CONV/GATHER trace: each unit's last running sum and
 * value must equal y (exactly for CONV, within rounding for GATHER). */
static int check_units(const cp_trace *t, const float *y, double tol) {
  cp_tap *taps = malloc(sizeof *taps * (size_t)(t->ntaps ? t->ntaps : 1));
  int bad = 0;
  for (int64_t u = 0; u < t->nunits; u++) {
    cp_unit info;
    cp_trace_unit(t, u, NULL, taps, &info);
    double last = t->ntaps ? taps[t->ntaps - 1].sum : info.bias;
    if (tol == 0 ? (info.value != y[u] || (float)last != y[u])
                 : fabs(info.value - y[u]) > tol * fmax(1, fabs(y[u])))
      bad++;
  }
  free(taps);
  return bad;
}

TEST(trace_conv2d_random_matches_reference) {
  cp_rng r;
  cp_rng_seed(&r, 42);
  for (int it = 0; it < 200; it++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    int64_t G = rint_(&r, 1, 2), Cg = rint_(&r, 1, 2), Og = rint_(&r, 1, 2);
    int64_t N = rint_(&r, 1, 2), H = rint_(&r, 3, 7), W = rint_(&r, 3, 7);
    int64_t kH = rint_(&r, 1, 3), kW = rint_(&r, 1, 3);
    p.stride[0] = rint_(&r, 1, 3);
    p.stride[1] = rint_(&r, 1, 3);
    p.dilation[0] = rint_(&r, 1, 2);
    p.dilation[1] = rint_(&r, 1, 2);
    p.pad[0] = p.pad[1] = rint_(&r, 0, 2);
    p.pad[2] = p.pad[3] = rint_(&r, 0, 2);
    p.groups = G;
    p.mode = (cp_padmode)rint_(&r, 0, 3);
    int64_t xs[4] = {N, G * Cg, H, W}, ws[4] = {G * Og, Cg, kH, kW};
    cp_geom g;
    cp_err e;
    int has_b = it % 2;
    if (cp_geom_init(&g, &p, xs, ws, has_b, 1, G * Og, &e)) continue;
    float *x = randbuf(&r, N * G * Cg * H * W);
    float *w = randbuf(&r, G * Og * Cg * kH * kW);
    float *b = has_b ? randbuf(&r, G * Og) : NULL;
    float *y = malloc(sizeof *y * (size_t)(g.N * g.O * g.OH * g.OW));
    cp_conv2d_ref(&g, x, w, b, y);
    cp_trace t;
    cp_trace_src src = {.x = x, .w = w, .b = b};
    CHECK(cp_trace_init(&t, &g, CP_TRACE_CONV, &src, &e) == 0);
    CHECK(check_units(&t, y, 0) == 0);
    float *c = malloc(sizeof *c * (size_t)(g.N * g.O * g.OH * g.OW));
    cp_trace_canvas(&t, t.nunits, c);
    CHECK(memcmp(c, y, sizeof *c * (size_t)(g.N * g.O * g.OH * g.OW)) == 0);
    free(c);
    free(x);
    free(w);
    free(b);
    free(y);
  }
}

TEST(trace_convT_random_matches_reference) {
  cp_rng r;
  cp_rng_seed(&r, 7);
  int ran = 0;
  for (int it = 0; it < 200; it++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.transposed = 1;
    int64_t G = rint_(&r, 1, 2), Cg = rint_(&r, 1, 2), Og = rint_(&r, 1, 2);
    int64_t N = rint_(&r, 1, 2), H = rint_(&r, 1, 4), W = rint_(&r, 1, 4);
    int64_t kH = rint_(&r, 1, 4), kW = rint_(&r, 1, 3);
    for (int d = 0; d < 2; d++) {
      p.stride[d] = rint_(&r, 1, 3);
      p.dilation[d] = rint_(&r, 1, 2);
      p.pad[2 * d] = p.pad[2 * d + 1] = rint_(&r, 0, 3);
      p.out_pad[d] = rint_(&r, 0, 2);
    }
    p.groups = G;
    int64_t xs[4] = {N, G * Cg, H, W}, ws[4] = {G * Cg, Og, kH, kW};
    cp_geom g;
    cp_err e;
    int has_b = it % 2;
    if (cp_geom_init(&g, &p, xs, ws, has_b, 1, G * Og, &e)) continue;
    ran++;
    float *x = randbuf(&r, N * G * Cg * H * W);
    float *w = randbuf(&r, G * Og * Cg * kH * kW);
    float *b = has_b ? randbuf(&r, G * Og) : NULL;
    int64_t ny = g.N * g.O * g.OH * g.OW;
    float *y = malloc(sizeof *y * (size_t)ny);
    float *c = malloc(sizeof *c * (size_t)ny);
    cp_conv_transpose2d_ref(&g, x, w, b, y);
    cp_trace_src src = {.x = x, .w = w, .b = b};
    cp_trace t;
    /* Gather: every output cell's running sum ends at its value. */
    CHECK(cp_trace_init(&t, &g, CP_TRACE_GATHER, &src, &e) == 0);
    CHECK(check_units(&t, y, 1e-5) == 0);
    /* Scatter: stepping unit by unit, each tap's running sum is the canvas
     * value after its addition; the final canvas is the reference output. */
    CHECK(cp_trace_init(&t, &g, CP_TRACE_SCATTER, &src, &e) == 0);
    cp_trace_canvas(&t, 0, c);
    cp_tap *taps = malloc(sizeof *taps * (size_t)t.ntaps);
    int bad = 0;
    for (int64_t u = 0; u < t.nunits; u++) {
      cp_unit info;
      cp_trace_unit(&t, u, c, taps, &info);
      cp_trace_scatter_add(&t, u, c);
      for (int64_t k = 0; k < t.ntaps; k++) {
        if (taps[k].kind == CP_TAP_CROPPED) continue;
        int64_t *o = taps[k].out;
        float now = c[((o[0] * g.O + o[1]) * g.OH + o[2]) * g.OW + o[3]];
        if ((float)taps[k].sum != now) bad++;
      }
    }
    CHECK(bad == 0);
    CHECK(memcmp(c, y, sizeof *c * (size_t)ny) == 0);
    free(taps);
    free(x);
    free(w);
    free(b);
    free(y);
    free(c);
  }
  CHECK(ran > 50);
}

/* SEMANTICS §1: padding modes on x = 1..9, 3x3 ones, p = 1. */
TEST(trace_padding_modes_sources) {
  float x[9], w[9];
  for (int i = 0; i < 9; i++) x[i] = (float)(i + 1), w[i] = 1;
  const float want[4][9] = {{12, 21, 16, 27, 45, 33, 24, 39, 28},
                            {33, 36, 39, 42, 45, 48, 51, 54, 57},
                            {21, 27, 33, 39, 45, 51, 57, 63, 69},
                            {45, 45, 45, 45, 45, 45, 45, 45, 45}};
  for (int m = 0; m < 4; m++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 1;
    p.mode = (cp_padmode)m;
    int64_t xs[4] = {1, 1, 3, 3}, ws[4] = {1, 1, 3, 3};
    cp_geom g;
    cp_err e;
    CHECK(cp_geom_init(&g, &p, xs, ws, 0, 0, 0, &e) == 0);
    cp_trace t;
    cp_trace_src src = {.x = x, .w = w};
    CHECK(cp_trace_init(&t, &g, CP_TRACE_CONV, &src, &e) == 0);
    CHECK(check_units(&t, want[m], 0) == 0);
    cp_tap taps[9];
    cp_unit info;
    cp_trace_unit(&t, 0, NULL, taps, &info);
    /* Tap (0,0) of output (0,0) sits at input (-1,-1). */
    CHECK(taps[0].pos[0] == -1 && taps[0].pos[1] == -1);
    CHECK(taps[0].kind == (m == 0 ? CP_TAP_PAD : CP_TAP_PADSRC));
    if (m == 1) CHECK(taps[0].in[2] == 1 && taps[0].in[3] == 1);
    if (m == 2) CHECK(taps[0].in[2] == 0 && taps[0].in[3] == 0);
    if (m == 3) CHECK(taps[0].in[2] == 2 && taps[0].in[3] == 2);
    CHECK(taps[4].kind == CP_TAP_INPUT && taps[4].in[2] == 0);
  }
}

/* SEMANTICS §4: input mask and partial convolution. */
TEST(trace_partial_conv) {
  float x[16], w[4] = {1, 1, 1, 1}, b = 1;
  float m[16] = {1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1};
  for (int i = 0; i < 16; i++) x[i] = (float)i;
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.stride[0] = p.stride[1] = 2;
  int64_t xs[4] = {1, 1, 4, 4}, ws[4] = {1, 1, 2, 2};
  cp_geom g;
  cp_err e;
  CHECK(cp_geom_init(&g, &p, xs, ws, 1, 1, 1, &e) == 0);
  cp_trace t;
  cp_trace_src src = {.x = x, .w = w, .mask = m};
  CHECK(cp_trace_init(&t, &g, CP_TRACE_CONV, &src, &e) == 0);
  const float masked[4] = {5, 15, 30, 40};
  CHECK(check_units(&t, masked, 0) == 0);
  src.partial = 1;
  src.b = &b;
  CHECK(cp_trace_init(&t, &g, CP_TRACE_CONV, &src, &e) == 0);
  const float want[4] = {7.6666667f, 21, 41, 54.333333f};
  CHECK(check_units(&t, want, 1e-6) == 0);
  cp_tap taps[4];
  cp_unit info;
  cp_trace_unit(&t, 0, NULL, taps, &info);
  CHECK(info.msum == 3 && info.newmask == 1 && info.winsize == 4);
  m[0] = m[1] = m[4] = m[5] = 0;
  cp_trace_unit(&t, 0, NULL, taps, &info);
  CHECK(info.msum == 0 && info.newmask == 0 && info.value == 0);
}

/* SEMANTICS §3: x=[[1,2],[3,4]], ones 3x3, s2 p1 op1 -> 4x4. */
TEST(trace_convT_output_padding) {
  float x[4] = {1, 2, 3, 4}, w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.transposed = 1;
  p.stride[0] = p.stride[1] = 2;
  p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 1;
  p.out_pad[0] = p.out_pad[1] = 1;
  int64_t xs[4] = {1, 1, 2, 2}, ws[4] = {1, 1, 3, 3};
  cp_geom g;
  cp_err e;
  CHECK(cp_geom_init(&g, &p, xs, ws, 0, 0, 0, &e) == 0);
  CHECK(g.OH == 4 && g.OW == 4);
  const float want[16] = {1, 3, 2, 2, 4, 10, 6, 6, 3, 7, 4, 4, 3, 7, 4, 4};
  cp_trace t;
  cp_trace_src src = {.x = x, .w = w};
  CHECK(cp_trace_init(&t, &g, CP_TRACE_GATHER, &src, &e) == 0);
  CHECK(check_units(&t, want, 1e-6) == 0);
  /* Output (0,0): flipped tap (0,0) reads the border (q = 2-1 = 1). */
  cp_tap taps[9];
  cp_unit info;
  cp_trace_unit(&t, 0, NULL, taps, &info);
  CHECK(taps[0].kind == CP_TAP_PAD && taps[0].pos[0] == -1);
  CHECK(taps[4].kind == CP_TAP_INPUT && taps[4].in[2] == 0);
  CHECK(taps[5].kind == CP_TAP_HOLE);
  CHECK(cp_trace_init(&t, &g, CP_TRACE_SCATTER, &src, &e) == 0);
  float c[16];
  cp_trace_canvas(&t, t.nunits, c);
  CHECK(memcmp(c, want, sizeof c) == 0);
  /* Pixel (0,0) at tap (0,0) lands at (-1,-1): cropped by padding. */
  cp_trace_unit(&t, 0, c, taps, &info);
  CHECK(taps[0].kind == CP_TAP_CROPPED);
  CHECK(cp_trace_init(&t, &g, CP_TRACE_CONV, &src, &e) != 0);
}

TEST(trace_steps_by_tap) {
  float x[9] = {0}, w[4] = {0};
  cp_conv_params p;
  cp_conv_params_default(&p);
  int64_t xs[4] = {1, 1, 3, 3}, ws[4] = {1, 1, 2, 2};
  cp_geom g;
  cp_err e;
  CHECK(cp_geom_init(&g, &p, xs, ws, 0, 0, 0, &e) == 0);
  cp_trace t;
  cp_trace_src src = {.x = x, .w = w};
  CHECK(cp_trace_init(&t, &g, CP_TRACE_CONV, &src, &e) == 0);
  CHECK(cp_trace_steps(&t, 0) == 4 && cp_trace_steps(&t, 1) == 16);
  int64_t u, k;
  cp_trace_locate(&t, 1, 6, &u, &k);
  CHECK(u == 1 && k == 2);
  CHECK(cp_trace_step_of(&t, 1, 1, 1) == 6);
  cp_trace_locate(&t, 0, 3, &u, &k);
  CHECK(u == 2 && k == 4);
}
