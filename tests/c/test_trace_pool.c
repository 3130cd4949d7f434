/* test_trace_pool.c - the pooling step model agrees with the reference
 * loops (every value, index and divisor), on random problems. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/pool.h"
#include "core/trace.h"

static int64_t pick(cp_rng *r, int64_t lo, int64_t hi) {
  return lo + (int64_t)(cp_rng_uniform(r) * (double)(hi - lo + 1));
}

static int same(float a, float b) { return a == b || (isnan(a) && isnan(b)); }

TEST(trace_pool_random_matches_reference) {
  cp_rng r;
  cp_rng_seed(&r, 1212);
  int tried = 0;
  for (int it = 0; it < 400; it++) {
    cp_pool_params p;
    cp_pool_params_default(&p, pick(&r, 1, 4), pick(&r, 1, 4));
    if (pick(&r, 0, 1)) p.stride[0] = pick(&r, 1, 3), p.stride[1] = pick(&r, 1, 3);
    p.pad[0] = pick(&r, 0, p.kernel[0] / 2);
    p.pad[1] = pick(&r, 0, p.kernel[1] / 2);
    p.dilation[0] = pick(&r, 1, 2), p.dilation[1] = pick(&r, 1, 2);
    p.ceil_mode = (int)pick(&r, 0, 1);
    p.count_include_pad = (int)pick(&r, 0, 1);
    if (pick(&r, 0, 9) == 0) p.divisor_override = pick(&r, 1, 5);
    int64_t shape[4] = {pick(&r, 1, 2), pick(&r, 1, 3), pick(&r, 1, 9),
                        pick(&r, 1, 9)};
    for (int kind = 0; kind < 2; kind++) {
      cp_pool_geom g;
      cp_err e;
      if (cp_pool_geom_init(&g, &p, (cp_pool_kind)kind, 4, shape, &e))
        continue;
      tried++;
      int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.C * g.OH * g.OW;
      float *x = malloc(sizeof *x * (size_t)nx);
      for (int64_t i = 0; i < nx; i++) x[i] = (float)cp_rng_normal(&r);
      if (pick(&r, 0, 4) == 0) x[pick(&r, 0, nx - 1)] = NAN;
      if (pick(&r, 0, 4) == 0) x[pick(&r, 0, nx - 1)] = x[pick(&r, 0, nx - 1)];
      float *y = malloc(sizeof *y * (size_t)ny);
      float *ind = malloc(sizeof *ind * (size_t)ny);
      float *yt = malloc(sizeof *yt * (size_t)ny);
      if (kind == CP_POOL_MAX) cp_max_pool2d_ref(&g, x, y, ind);
      else cp_avg_pool2d_ref(&g, x, y);
      cp_trace t;
      CHECK(cp_trace_init_pool(&t, &g, x, &e) == 0);
      CHECK(t.nunits == ny);
      CHECK(t.g.OH == g.OH && t.g.OW == g.OW && t.g.O == g.C);
      cp_tap *taps = malloc(sizeof *taps * (size_t)t.ntaps);
      int bad = 0;
      for (int64_t u = 0; u < t.nunits; u++) {
        cp_unit info;
        cp_trace_unit(&t, u, NULL, taps, &info);
        bad += !same(info.value, y[u]);
        if (kind == CP_POOL_MAX) {
          bad += info.argmax != (int64_t)ind[u];
          bad += !same((float)taps[t.ntaps - 1].sum, y[u]);
          bad += taps[t.ntaps - 1].arg != (int64_t)ind[u];
        } else {
          /* the last running sum over the divisor is the value */
          bad += !same((float)taps[t.ntaps - 1].sum / (float)info.divisor,
                       y[u]);
        }
        /* every tap's kind is where geometry says it reads */
        for (int64_t k = 0; k < t.ntaps; k++) {
          const cp_tap *tp = &taps[k];
          int wh = cp_pool_where(&g, 0, tp->pos[0]),
              ww = cp_pool_where(&g, 1, tp->pos[1]);
          cp_tap_kind want = wh == 0 && ww == 0  ? CP_TAP_INPUT
                             : wh == 2 || ww == 2 ? CP_TAP_BEYOND
                                                  : CP_TAP_PAD;
          bad += tp->kind != want;
        }
      }
      cp_trace_canvas(&t, t.nunits, yt);
      for (int64_t i = 0; i < ny; i++) bad += !same(yt[i], y[i]);
      CHECK(bad == 0);
      free(taps);
      free(x);
      free(y);
      free(ind);
      free(yt);
    }
  }
  CHECK(tried > 300);
}

TEST(trace_pool_ceil_mode_window_past_padding) {
  /* H = 5, k = 2, s = 2, ceil: 3 windows, the last one starts at row 4
   * (inside the input) and its second row (5) lies past the input with no
   * padding: BEYOND; the drawn geometry reaches row 6. */
  cp_pool_params p;
  cp_pool_params_default(&p, 2, 2);
  p.ceil_mode = 1;
  int64_t shape[4] = {1, 1, 5, 5};
  cp_pool_geom g;
  cp_err e;
  CHECK(cp_pool_geom_init(&g, &p, CP_POOL_AVG, 4, shape, &e) == 0);
  CHECK(g.OH == 3);
  float x[25];
  for (int i = 0; i < 25; i++) x[i] = (float)i;
  cp_trace t;
  CHECK(cp_trace_init_pool(&t, &g, x, &e) == 0);
  CHECK(t.g.p.pad[0] == 0 && t.g.p.pad[1] == 1);
  cp_tap taps[4];
  cp_unit info;
  cp_trace_unit(&t, 8, NULL, taps, &info); /* window (2, 2): one cell */
  CHECK(taps[0].kind == CP_TAP_INPUT && taps[3].kind == CP_TAP_BEYOND);
  CHECK(info.divisor == 1 && info.value == 24.0f);
  /* H 5, padding 1, k 2, s 2, ceil: ⌈5/2⌉ + 1 = 4 windows, but the 4th
   * would start at row 5 (padded 6 = H + p): in the right padding, dropped */
  p.pad[0] = p.pad[1] = 1;
  CHECK(cp_pool_geom_init(&g, &p, CP_POOL_MAX, 4, shape, &e) == 0);
  CHECK(g.OH == 3);
  CHECK(cp_pool_out_len_raw(5, 2, 2, 1, 1, 1) == 4);
  cp_geom cg;
  cp_pool_as_conv(&g, &cg);
  /* the picture reaches the dropped window's end, row 6 */
  CHECK(cg.OH == 3 && cg.p.pad[0] == 1 && cg.p.pad[1] == 2);
}
