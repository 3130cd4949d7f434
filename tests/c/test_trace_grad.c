/* test_trace_grad.c - the grad_weight / grad_bias traces (trace_grad.c)
 * agree with cp_conv2d_backward on random problems, padding modes
 * included; the forward tap each product names is the CONV trace's. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/backward.h"
#include "core/trace.h"

static int64_t rint_(cp_rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(cp_rng_uniform(r) * (double)(hi - lo + 1));
}

static void fill(cp_rng *r, cp_tensor *t) {
  float *p = cp_tensor_data(t);
  for (int64_t i = 0; i < cp_tensor_numel(t); i++) p[i] = (float)cp_rng_normal(r);
}

TEST(trace_grad_weight_and_bias_match_backward) {
  cp_rng r;
  cp_rng_seed(&r, 7);
  int done = 0;
  for (int it = 0; it < 120; it++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    int64_t G = rint_(&r, 1, 2), Cg = rint_(&r, 1, 2), Og = rint_(&r, 1, 2);
    int64_t xs[4] = {rint_(&r, 1, 2), G * Cg, rint_(&r, 3, 7), rint_(&r, 3, 7)};
    int64_t ws[4] = {G * Og, Cg, rint_(&r, 1, 3), rint_(&r, 1, 3)};
    p.stride[0] = rint_(&r, 1, 3);
    p.stride[1] = rint_(&r, 1, 2);
    p.dilation[0] = rint_(&r, 1, 2);
    p.dilation[1] = rint_(&r, 1, 2);
    p.pad[0] = p.pad[1] = rint_(&r, 0, 1);
    p.pad[2] = p.pad[3] = rint_(&r, 0, 1);
    p.groups = G;
    p.mode = (cp_padmode)rint_(&r, 0, 3);
    cp_geom g;
    cp_err e;
    if (cp_geom_init(&g, &p, xs, ws, 0, 0, 0, &e)) continue;
    int64_t ys[4] = {g.N, g.O, g.OH, g.OW};
    cp_tensor x, w, gy, gx, gw, gb;
    CHECK(cp_tensor_empty(&x, 4, xs, &e) == 0);
    CHECK(cp_tensor_empty(&w, 4, ws, &e) == 0);
    CHECK(cp_tensor_empty(&gy, 4, ys, &e) == 0);
    fill(&r, &x);
    fill(&r, &w);
    fill(&r, &gy);
    if (cp_conv2d_backward(&gx, &gw, &gb, &x, &w, &gy, &p, &e)) {
      CHECK(0);
      continue;
    }
    cp_trace_src src;
    memset(&src, 0, sizeof src);
    src.x = cp_tensor_data(&x);
    src.w = cp_tensor_data(&w);
    src.gy = cp_tensor_data(&gy);
    cp_trace tw, tb, tc;
    CHECK(cp_trace_init(&tw, &g, CP_TRACE_GRADW, &src, &e) == 0);
    CHECK(cp_trace_init(&tb, &g, CP_TRACE_GRADB, &src, &e) == 0);
    CHECK(cp_trace_init(&tc, &g, CP_TRACE_CONV, &src, &e) == 0);
    CHECK(tw.nunits == cp_tensor_numel(&gw) && tb.nunits == g.O);
    cp_tap *taps = malloc(sizeof *taps * (size_t)tw.ntaps);
    cp_tap *ftaps = malloc(sizeof *ftaps * (size_t)tc.ntaps);
    float *yw = malloc(sizeof *yw * (size_t)tw.nunits);
    cp_trace_canvas(&tw, tw.nunits, yw);
    for (int64_t u = 0; u < tw.nunits; u++) {
      cp_unit info;
      cp_trace_unit(&tw, u, NULL, taps, &info);
      CHECK_NEAR(info.value, cp_tensor_data(&gw)[u], 1e-4);
      CHECK(yw[u] == info.value);
      /* a product's forward tap reads the same input cell */
      const cp_tap *tp = &taps[u % tw.ntaps];
      int64_t fu = cp_trace_unit_of(&tc, tp->w);
      cp_unit finfo;
      cp_trace_unit(&tc, fu, NULL, ftaps, &finfo);
      const cp_tap *ft = &ftaps[cp_trace_forward_tap(&g, tp->w, tp->out)];
      CHECK(ft->kind == tp->kind && ft->xv == tp->xv);
      CHECK(!memcmp(ft->w, tp->out, sizeof ft->w));
    }
    for (int64_t o = 0; o < g.O; o++) {
      cp_unit info;
      cp_trace_unit(&tb, o, NULL, taps, &info);
      CHECK(info.value == cp_tensor_data(&gb)[o]);
    }
    free(yw);
    free(ftaps);
    free(taps);
    cp_tensor_release(&x);
    cp_tensor_release(&w);
    cp_tensor_release(&gy);
    cp_tensor_release(&gx);
    cp_tensor_release(&gw);
    cp_tensor_release(&gb);
    done++;
  }
  CHECK(done > 60);
}

TEST(trace_grad_refuses_what_it_cannot_step) {
  cp_conv_params p;
  cp_conv_params_default(&p);
  int64_t xs[4] = {1, 1, 4, 4}, ws[4] = {1, 1, 2, 2};
  cp_geom g;
  cp_err e;
  CHECK(cp_geom_init(&g, &p, xs, ws, 0, 0, 0, &e) == 0);
  float x[16] = {0}, w[4] = {0};
  cp_trace_src src;
  memset(&src, 0, sizeof src);
  src.x = x;
  src.w = w;
  cp_trace t;
  CHECK(cp_trace_init(&t, &g, CP_TRACE_GRADW, &src, &e) != 0);
  CHECK(strstr(e.msg, "grad_output") != NULL);
  float gy[9] = {0};
  src.gy = gy;
  src.flip = 1;
  CHECK(cp_trace_init(&t, &g, CP_TRACE_GRADB, &src, &e) != 0);
}
