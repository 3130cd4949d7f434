/* test_ops.c - the issue-11 core: pooling geometry, the fast pooling,
 * unfold and fold paths against their reference loops, and the grad_weight
 * product against a plain loop, on random shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/backward.h"
#include "../../src/core/pool.h"
#include "../../src/core/unfold.h"
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

TEST(ops_pool_out_len_rules) {
  /* SEMANTICS.md section 9 */
  CHECK(cp_pool_out_len(5, 2, 2, 0, 1, 1) == 3);
  CHECK(cp_pool_out_len(5, 2, 2, 1, 1, 1) == 3); /* not 4: the last window
                                                    would start in the pad */
  CHECK(cp_pool_out_len(6, 3, 2, 1, 1, 1) == 4);
  CHECK(cp_pool_out_len(5, 2, 2, 0, 1, 0) == 2);
  CHECK(cp_pool_out_len(7, 3, 2, 1, 1, 0) == 4);
  cp_pool_params p;
  cp_pool_geom g;
  cp_err e;
  int64_t shape[4] = {1, 1, 5, 5};
  cp_pool_params_default(&p, 3, 3);
  p.pad[0] = p.pad[1] = 2;
  CHECK(cp_pool_geom_init(&g, &p, CP_POOL_MAX, 4, shape, &e) == -1);
  CHECK(strstr(e.msg, "pad should be at most half of kernel size, but got "
                      "pad=2 and kernel_size=3") != NULL);
  cp_pool_params_default(&p, 3, 3);
  p.stride[0] = -((int64_t)1 << 40);
  CHECK(cp_pool_geom_init(&g, &p, CP_POOL_MAX, 4, shape, &e) == -1);
  CHECK(strstr(e.msg, "too large") != NULL);
  /* avg window divisor: 4x4, k3 s2 p1, corner window covers 2x2 inside */
  int64_t s4[4] = {1, 1, 4, 4}, r0, r1, c0, c1, div;
  cp_pool_params_default(&p, 3, 3);
  p.stride[0] = p.stride[1] = 2;
  p.pad[0] = p.pad[1] = 1;
  CHECK(cp_pool_geom_init(&g, &p, CP_POOL_AVG, 4, s4, &e) == 0);
  cp_avg_window(&g, 0, 0, &r0, &r1, &c0, &c1, &div);
  CHECK(r0 == 0 && r1 == 2 && c0 == 0 && c1 == 2 && div == 9);
  g.p.count_include_pad = 0;
  cp_avg_window(&g, 0, 0, &r0, &r1, &c0, &c1, &div);
  CHECK(div == 4);
}

TEST(ops_pool_fast_matches_reference) {
  cp_rng_seed(&rng, 1101);
  for (int it = 0; it < 300; it++) {
    cp_pool_params p;
    cp_pool_params_default(&p, rnd(1, 4), rnd(1, 4));
    if (rnd(0, 1)) p.stride[0] = rnd(1, 3), p.stride[1] = rnd(1, 3);
    p.pad[0] = rnd(0, p.kernel[0] / 2);
    p.pad[1] = rnd(0, p.kernel[1] / 2);
    p.dilation[0] = rnd(1, 2), p.dilation[1] = rnd(1, 2);
    p.ceil_mode = (int)rnd(0, 1);
    p.count_include_pad = (int)rnd(0, 1);
    if (rnd(0, 9) == 0) p.divisor_override = rnd(1, 5);
    int big = rnd(0, 9) == 0;
    int64_t shape[4] = {rnd(1, 2), rnd(1, 3), rnd(1, big ? 300 : 20),
                        rnd(1, big ? 300 : 20)};
    for (int kind = 0; kind < 2; kind++) {
      cp_pool_geom g;
      cp_err e;
      if (cp_pool_geom_init(&g, &p, (cp_pool_kind)kind, 4, shape, &e))
        continue;
      int64_t nx = g.N * g.C * g.H * g.W, ny = g.N * g.C * g.OH * g.OW;
      float *x = rand_buf(nx);
      if (rnd(0, 4) == 0) x[rnd(0, nx - 1)] = NAN;
      if (rnd(0, 4) == 0) x[rnd(0, nx - 1)] = -INFINITY;
      float *yr = malloc((size_t)ny * sizeof *yr);
      float *yf = malloc((size_t)ny * sizeof *yf);
      float *ind = malloc((size_t)ny * sizeof *ind);
      int bad = 0;
      if (kind == CP_POOL_MAX) {
        cp_max_pool2d_ref(&g, x, yr, ind);
        CHECK(cp_max_pool2d_fast(&g, x, yf) == 0);
        for (int64_t i = 0; i < ny; i++) {
          bad += !(yr[i] == yf[i] || (isnan(yr[i]) && isnan(yf[i])));
          /* the index names a cell holding the maximum */
          /* (an all -inf window keeps PyTorch's starting index, which
           * may lie past the plane: read the cell only for a real max) */
          int64_t pl = i / (g.OH * g.OW), k = (int64_t)ind[i];
          if (isfinite(yr[i])) bad += x[pl * g.H * g.W + k] != yr[i];
        }
      } else {
        cp_avg_pool2d_ref(&g, x, yr);
        CHECK(cp_avg_pool2d_fast(&g, x, yf) == 0);
        for (int64_t i = 0; i < ny; i++)
          bad += !(fabsf(yr[i] - yf[i]) <= 1e-5f * (1 + fabsf(yr[i])) ||
                   (isnan(yr[i]) && isnan(yf[i])) || yr[i] == yf[i]);
      }
      CHECK(bad == 0);
      free(x);
      free(yr);
      free(yf);
      free(ind);
    }
  }
}

TEST(ops_unfold_fold_fast_match_reference) {
  cp_rng_seed(&rng, 1102);
  for (int it = 0; it < 200; it++) {
    int64_t k[2] = {rnd(1, 4), rnd(1, 4)}, d[2] = {rnd(1, 2), rnd(1, 2)};
    int64_t p[2] = {rnd(0, 3), rnd(0, 3)}, s[2] = {rnd(1, 3), rnd(1, 3)};
    int big = rnd(0, 9) == 0;
    int64_t shape[4] = {rnd(1, 2), rnd(1, 3), rnd(1, big ? 200 : 12),
                        rnd(1, big ? 200 : 12)};
    cp_geom g;
    cp_err e;
    if (cp_unfold_geom_init(&g, k, d, p, s, 4, shape, &e)) continue;
    int64_t nx = g.N * g.C * g.H * g.W;
    int64_t nc = g.N * g.C * g.kH * g.kW * g.OH * g.OW;
    float *x = rand_buf(nx), *cr = malloc((size_t)nc * 4),
          *cf = malloc((size_t)nc * 4);
    cp_unfold_ref(&g, x, cr);
    memset(cf, 0xff, (size_t)nc * 4); /* every cell must be written */
    CHECK(cp_unfold_fast(&g, x, cf) == 0);
    CHECK(memcmp(cr, cf, (size_t)nc * 4) == 0);
    float *yr = malloc((size_t)nx * 4), *yf = malloc((size_t)nx * 4);
    cp_fold_ref(&g, cr, yr);
    CHECK(cp_fold_fast(&g, cr, yf) == 0);
    int bad = 0;
    for (int64_t i = 0; i < nx; i++)
      bad += !(fabsf(yr[i] - yf[i]) <= 1e-5f * (1 + fabsf(yr[i])));
    CHECK(bad == 0);
    free(x), free(cr), free(cf), free(yr), free(yf);
  }
}

TEST(ops_gemm_nt_matches_plain_loop) {
  cp_rng_seed(&rng, 1103);
  for (int it = 0; it < 60; it++) {
    int64_t na = rnd(1, 9), nb = rnd(1, 13), L = rnd(1, 1600);
    if (it % 10 == 0) na = 64, nb = rnd(30, 80), L = rnd(1000, 3000);
    int64_t lda = L + rnd(0, 3), ldb = L + rnd(0, 3), ldc = nb + rnd(0, 2);
    float *A = rand_buf(na * lda), *B = rand_buf(nb * ldb);
    float *C = rand_buf(na * ldc), *C0 = malloc((size_t)(na * ldc) * 4);
    memcpy(C0, C, (size_t)(na * ldc) * 4);
    cp_gemm_nt(na, nb, L, A, lda, B, ldb, C, ldc);
    int bad = 0;
    for (int64_t a = 0; a < na; a++)
      for (int64_t b = 0; b < ldc; b++) {
        double want = C0[a * ldc + b], mag = fabs(want);
        if (b < nb)
          for (int64_t l = 0; l < L; l++) {
            want += (double)A[a * lda + l] * B[b * ldb + l];
            mag += fabs((double)A[a * lda + l] * B[b * ldb + l]);
          }
        bad += !(fabs(C[a * ldc + b] - want) <= 1e-5 * (mag + 1));
      }
    CHECK(bad == 0);
    free(A), free(B), free(C), free(C0);
  }
}

TEST(ops_matmul_shapes_and_errors) {
  cp_err e;
  cp_tensor a, b, y;
  int64_t sa[3] = {2, 2, 3}, sb[2] = {4, 5};
  CHECK(cp_tensor_zeros(&a, 3, sa, &e) == 0);
  CHECK(cp_tensor_zeros(&b, 2, sb, &e) == 0);
  CHECK(cp_matmul(&y, &a, &b, &e) == -1);
  CHECK(strstr(e.msg, "mat1 and mat2 shapes cannot be multiplied (4x3 and "
                      "4x5)") != NULL);
  CHECK(y.st == NULL);
  cp_tensor_release(&b);
  int64_t sb2[3] = {1, 3, 2};
  CHECK(cp_tensor_full(&b, 3, sb2, 1.0f, &e) == 0);
  cp_tensor_fill(&a, 2.0f);
  CHECK(cp_matmul(&y, &a, &b, &e) == 0);
  CHECK(y.ndim == 3 && y.shape[0] == 2 && y.shape[1] == 2 && y.shape[2] == 2);
  CHECK(cp_tensor_data(&y)[0] == 6.0f);
  cp_tensor_release(&y);
  cp_tensor_release(&a);
  cp_tensor_release(&b);
}
