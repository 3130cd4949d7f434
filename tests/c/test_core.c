/* test_core.c - the core alone: tensors, geometry, reference convolution,
 * partial convolution, image I/O.  Numbers from shared/SEMANTICS.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/conv.h"
#include "../../src/core/image.h"
#include "../../src/core/partial.h"
#include "check.h"

static cp_tensor make(int nd, const int64_t *shape, const float *v) {
  cp_tensor t;
  cp_tensor_empty(&t, nd, shape, NULL);
  memcpy(cp_tensor_data(&t), v, sizeof(float) * (size_t)cp_tensor_numel(&t));
  return t;
}

static int same(const cp_tensor *t, const float *want, double tol) {
  int ok = 1;
  cp_tensor c;
  cp_tensor_contiguous(&c, t, NULL);
  const float *p = cp_tensor_data(&c);
  for (int64_t i = 0; i < cp_tensor_numel(t); i++)
    ok &= CHECK_NEAR(p[i], want[i], tol);
  cp_tensor_release(&c);
  return ok;
}

TEST(tensor_views_share_and_copies_do_not) {
  int64_t s[2] = {2, 3};
  float v[6] = {0, 1, 2, 3, 4, 5};
  cp_tensor t = make(2, s, v), tr, cl, fl;
  CHECK(cp_tensor_transpose(&tr, &t, 0, 1, NULL) == 0);
  CHECK(tr.st == t.st && !cp_tensor_is_contiguous(&tr));
  CHECK(cp_tensor_clone(&cl, &tr, NULL) == 0);
  float want[6] = {0, 3, 1, 4, 2, 5};
  same(&cl, want, 0);
  int d = 1;
  CHECK(cp_tensor_flip(&fl, &t, 1, &d, NULL) == 0);
  float wf[6] = {2, 1, 0, 5, 4, 3};
  same(&fl, wf, 0);
  CHECK(t.st->refs == 2);
  cp_tensor_release(&tr);
  CHECK(t.st->refs == 1);
  cp_tensor_release(&cl);
  cp_tensor_release(&fl);
  cp_tensor_release(&t);
  cp_tensor_release(&t); /* releasing twice is harmless */
}

TEST(tensor_errors_are_messages_not_crashes) {
  cp_err e;
  int64_t big[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
  cp_tensor t;
  CHECK(cp_tensor_empty(&t, 2, big, &e) == -1 && strstr(e.msg, "overflow"));
  CHECK(t.st == NULL);
  int64_t neg[1] = {-1};
  CHECK(cp_tensor_empty(&t, 1, neg, &e) == -1 && strstr(e.msg, "negative"));
  int64_t s[1] = {6}, r[2] = {4, 2};
  cp_tensor a, b;
  cp_tensor_zeros(&a, 1, s, NULL);
  CHECK(cp_tensor_reshape(&b, &a, 2, r, &e) == -1 &&
        strstr(e.msg, "shape '[4, 2]' is invalid for input of size 6"));
  cp_tensor_release(&a);
}

TEST(broadcasting_follows_pytorch) {
  int64_t sa[2] = {2, 1}, sb[1] = {3};
  float va[2] = {10, 20}, vb[3] = {1, 2, 3};
  cp_tensor a = make(2, sa, va), b = make(1, sb, vb), c;
  CHECK(cp_tensor_binop(&c, &a, &b, CP_ADD, NULL) == 0);
  CHECK(c.ndim == 2 && c.shape[0] == 2 && c.shape[1] == 3);
  float want[6] = {11, 12, 13, 21, 22, 23};
  same(&c, want, 0);
  cp_err e;
  cp_tensor d;
  int64_t sd[1] = {2};
  cp_tensor x;
  cp_tensor_zeros(&x, 1, sd, NULL);
  CHECK(cp_tensor_binop(&d, &b, &x, CP_MUL, &e) == -1 &&
        strstr(e.msg, "cannot be broadcast"));
  cp_tensor_release(&x);
  cp_tensor_release(&c);
  cp_tensor_release(&a);
  cp_tensor_release(&b);
}

TEST(pool_reuses_a_freed_block_of_the_same_size) {
  int64_t s[1] = {1 << 20};
  cp_tensor a, b;
  cp_tensor_empty(&a, 1, s, NULL);
  float *p = a.st->data;
  cp_tensor_release(&a);
  cp_tensor_empty(&b, 1, s, NULL);
  CHECK(b.st->data == p);
  cp_tensor_release(&b);
}

TEST(pad_index_modes) {
  /* Row [1,2,3] padded 2: reflect 3 2 1 2 3 2 1; replicate 1 1 1 2 3 3 3;
   * circular 2 3 1 2 3 1 2 (as 0-based source indices). */
  int64_t refl[7] = {2, 1, 0, 1, 2, 1, 0}, repl[7] = {0, 0, 0, 1, 2, 2, 2},
          circ[7] = {1, 2, 0, 1, 2, 0, 1};
  for (int i = 0; i < 7; i++) {
    CHECK(cp_pad_index(i - 2, 3, CP_PAD_REFLECT) == refl[i]);
    CHECK(cp_pad_index(i - 2, 3, CP_PAD_REPLICATE) == repl[i]);
    CHECK(cp_pad_index(i - 2, 3, CP_PAD_CIRCULAR) == circ[i]);
    CHECK(cp_pad_index(i - 2, 3, CP_PAD_ZEROS) == (i >= 2 && i < 5 ? i - 2 : -1));
  }
}

TEST(output_lengths) {
  CHECK(cp_conv_out_len(7, 3, 2, 1, 1, 1, NULL) == 4);
  CHECK(cp_conv_out_len(8, 3, 2, 1, 1, 1, NULL) == 4);
  CHECK(cp_conv_out_len(32, 3, 1, 0, 0, 2, NULL) == 28);
  CHECK(cp_convT_out_len(4, 4, 2, 1, 1, 0, NULL) == 8);
  CHECK(cp_convT_out_len(2, 3, 2, 1, 1, 1, NULL) == 4);
  cp_err e;
  CHECK(cp_convT_out_len(3, 3, 1, 4, 1, 0, &e) == -1 && strstr(e.msg, "too small"));
  CHECK(cp_convT_out_len(3, 3, 2, 0, 1, 2, &e) == -1 && strstr(e.msg, "smaller than"));
  int64_t b, a;
  cp_same_pad(4, 1, &b, &a);
  CHECK(b == 1 && a == 2); /* the extra row goes at the bottom */
}

static cp_tensor conv_ref(const cp_tensor *x, const cp_tensor *w,
                          const cp_conv_params *p) {
  cp_tensor y;
  cp_err e;
  cp_conv_set_impl(CP_IMPL_REFERENCE);
  if (p->transposed ? cp_conv_transpose2d(&y, x, w, NULL, p, &e)
                    : cp_conv2d(&y, x, w, NULL, p, &e))
    printf("  unexpected error: %s\n", e.msg);
  cp_conv_set_impl(CP_IMPL_AUTO);
  return y;
}

TEST(padding_modes_with_a_ones_kernel) {
  int64_t sx[4] = {1, 1, 3, 3}, sw[4] = {1, 1, 3, 3};
  float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, wv[9];
  for (int i = 0; i < 9; i++) wv[i] = 1;
  cp_tensor x = make(4, sx, xv), w = make(4, sw, wv);
  static const float want[4][9] = {
      {12, 21, 16, 27, 45, 33, 24, 39, 28},
      {33, 36, 39, 42, 45, 48, 51, 54, 57},
      {21, 27, 33, 39, 45, 51, 57, 63, 69},
      {45, 45, 45, 45, 45, 45, 45, 45, 45}};
  for (int m = 0; m < 4; m++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 1;
    p.mode = (cp_padmode)m;
    cp_tensor y = conv_ref(&x, &w, &p);
    same(&y, want[m], 0);
    cp_tensor_release(&y);
  }
  cp_tensor_release(&x);
  cp_tensor_release(&w);
}

TEST(transposed_scatter_example_and_8x8) {
  int64_t s2[4] = {1, 1, 2, 2};
  float xv[4] = {2, 4, 0, 1}, wv[4] = {3, 1, 1, 5};
  cp_tensor x = make(4, s2, xv), w = make(4, s2, wv);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.transposed = 1;
  cp_tensor y = conv_ref(&x, &w, &p);
  float want[9] = {6, 14, 4, 2, 17, 21, 0, 1, 5};
  same(&y, want, 0);
  cp_tensor_release(&y);
  cp_tensor_release(&x);
  cp_tensor_release(&w);

  int64_t s4[4] = {1, 1, 4, 4};
  float ones[16], w16[16];
  for (int i = 0; i < 16; i++) ones[i] = 1, w16[i] = (float)(i + 1);
  cp_tensor x4 = make(4, s4, ones), w4 = make(4, s4, w16);
  p.stride[0] = p.stride[1] = 2;
  p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 1;
  cp_tensor y8 = conv_ref(&x4, &w4, &p);
  CHECK(y8.shape[2] == 8 && y8.shape[3] == 8);
  float row0[8] = {6, 12, 14, 12, 14, 12, 14, 7};
  float *d = cp_tensor_data(&y8);
  for (int i = 0; i < 8; i++) CHECK_NEAR(d[i], row0[i], 0);
  CHECK_NEAR(d[9], 24, 0);
  CHECK_NEAR(d[63], 11, 0);
  cp_tensor_release(&y8);
  cp_tensor_release(&x4);
  cp_tensor_release(&w4);
}

/* The gather (zero-insertion) map of the geometry module reproduces the
 * scatter loop: y[R,C] = sum over flipped taps of the canvas cell. */
TEST(transposed_gather_map_equals_scatter) {
  cp_rng r;
  cp_rng_seed(&r, 3);
  for (int trial = 0; trial < 40; trial++) {
    int64_t H = 1 + trial % 4, W = 2 + trial % 3, k = 1 + trial % 4;
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.transposed = 1;
    p.stride[0] = 1 + trial % 3, p.stride[1] = 1 + (trial / 3) % 3;
    p.dilation[0] = 1 + trial % 2, p.dilation[1] = 1 + (trial / 2) % 2;
    int64_t pad = trial % 3;
    p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = pad;
    p.out_pad[0] = p.stride[0] > 1 ? trial % 2 : 0;
    int64_t xs[4] = {1, 1, H, W}, ws[4] = {1, 1, k, k};
    cp_geom g;
    if (cp_geom_init(&g, &p, xs, ws, 0, 0, 0, NULL)) continue;
    cp_tensor x, w;
    cp_tensor_empty(&x, 4, xs, NULL);
    cp_tensor_empty(&w, 4, ws, NULL);
    float *xd = cp_tensor_data(&x), *wd = cp_tensor_data(&w);
    for (int64_t i = 0; i < H * W; i++) xd[i] = (float)cp_rng_normal(&r);
    for (int64_t i = 0; i < k * k; i++) wd[i] = (float)cp_rng_normal(&r);
    cp_tensor y = conv_ref(&x, &w, &p);
    const float *yd = cp_tensor_data(&y);
    for (int64_t R = 0; R < g.OH; R++)
      for (int64_t C = 0; C < g.OW; C++) {
        double acc = 0;
        for (int64_t i = 0; i < k; i++)
          for (int64_t j = 0; j < k; j++) {
            int64_t ri = cp_geomT_gather_row(&g, R, i, NULL);
            int64_t cj = cp_geomT_gather_col(&g, C, j, NULL);
            if (ri < 0 || cj < 0) continue;
            acc += xd[ri * W + cj] * wd[(k - 1 - i) * k + (k - 1 - j)];
          }
        CHECK_NEAR(yd[R * g.OW + C], acc, 1e-5);
      }
    cp_tensor_release(&y);
    cp_tensor_release(&x);
    cp_tensor_release(&w);
  }
}

TEST(partial_conv_example) {
  int64_t s[4] = {1, 1, 4, 4}, sw[4] = {1, 1, 2, 2};
  float xv[16], mv[16] = {1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1},
                wv[4] = {1, 1, 1, 1};
  for (int i = 0; i < 16; i++) xv[i] = (float)i;
  cp_tensor x = make(4, s, xv), m = make(4, s, mv), w = make(4, sw, wv), y, nm;
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.stride[0] = p.stride[1] = 2;
  CHECK(cp_partial_conv2d(&y, &nm, &x, &m, &w, NULL, &p, 0, NULL) == 0);
  float want[4] = {20.0f / 3, 20, 40, 160.0f / 3}, ones[4] = {1, 1, 1, 1};
  same(&y, want, 1e-6);
  same(&nm, ones, 0);
  cp_tensor_release(&y);
  cp_tensor_release(&nm);
  cp_tensor_release(&x);
  cp_tensor_release(&m);
  cp_tensor_release(&w);
}

TEST(nan_and_inf_propagate_as_in_pytorch) {
  int64_t s[4] = {1, 1, 3, 3}, sw[4] = {1, 1, 2, 2};
  float xv[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0}, wv[4] = {1, 1, 1, INFINITY};
  cp_tensor x = make(4, s, xv), w = make(4, sw, wv);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.pad[0] = p.pad[1] = p.pad[2] = p.pad[3] = 1;
  cp_tensor y = conv_ref(&x, &w, &p);
  const float *d = cp_tensor_data(&y);
  for (int i = 0; i < 16; i++) CHECK(isnan(d[i])); /* Inf * 0 everywhere */
  cp_tensor_release(&y);
  cp_tensor_release(&x);
  cp_tensor_release(&w);
}

TEST(image_round_trip_and_atomic_save) {
  int64_t s[3] = {3, 2, 4};
  float v[24];
  for (int i = 0; i < 24; i++) v[i] = (float)i / 23.0f;
  v[0] = -1; v[1] = 2; v[2] = NAN; /* clamped: 0, 1, 0 */
  cp_tensor t = make(3, s, v), back;
  char path[] = "/tmp/convplay_test_XXXXXX.png";
  int fd = mkstemps(path, 4);
  close(fd);
  cp_err e;
  CHECK(cp_image_save(&t, path, 90, &e) == 0);
  CHECK(cp_image_load(&back, path, &e) == 0);
  CHECK(back.ndim == 3 && back.shape[0] == 3 && back.shape[1] == 2 &&
        back.shape[2] == 4);
  const float *b = cp_tensor_data(&back);
  CHECK_NEAR(b[0], 0, 0);
  CHECK_NEAR(b[1], 1, 0);
  CHECK_NEAR(b[2], 0, 0);
  for (int i = 3; i < 24; i++) CHECK_NEAR(b[i], v[i], 0.5 / 255 + 1e-6);
  /* A failing save leaves the old file intact. */
  cp_tensor bad;
  int64_t s5[3] = {5, 2, 2};
  cp_tensor_zeros(&bad, 3, s5, NULL);
  CHECK(cp_image_save(&bad, path, 90, &e) == -1);
  cp_tensor again;
  CHECK(cp_image_load(&again, path, &e) == 0);
  cp_tensor_release(&again);
  CHECK(cp_image_save(&t, "/tmp/x.unknown", 90, &e) == -1 &&
        strstr(e.msg, "unknown image format"));
  unlink(path);
  cp_tensor_release(&bad);
  cp_tensor_release(&back);
  cp_tensor_release(&t);
}

/* The lab's bands: the padded-input rows that output rows r0..r1-1 read are
 * exactly the span of their taps (first row of r0's window to the last row
 * of r1-1's), for strides, dilations and unequal top/bottom padding. */
TEST(band_rows_span_the_taps) {
  for (int trial = 0; trial < 200; trial++) {
    cp_conv_params p;
    cp_conv_params_default(&p);
    p.stride[0] = 1 + trial % 3;
    p.dilation[0] = 1 + (trial / 3) % 3;
    p.pad[0] = trial % 4;
    p.pad[1] = (trial / 4) % 3;
    int64_t k = 1 + (trial / 7) % 4;
    int64_t xs[4] = {1, 1, 6 + trial % 9, 5}, ws[4] = {1, 1, k, 2};
    cp_geom g;
    if (cp_geom_init(&g, &p, xs, ws, 0, 0, 0, NULL)) continue;
    for (int64_t r0 = 0; r0 < g.OH; r0++)
      for (int64_t r1 = r0 + 1; r1 <= g.OH; r1++) {
        int64_t lo = INT64_MAX, hi = INT64_MIN, in0, len;
        for (int64_t r = r0; r < r1; r++)
          for (int64_t i = 0; i < k; i++) {
            int64_t row = r * p.stride[0] + i * p.dilation[0]; /* padded */
            if (row < lo) lo = row;
            if (row > hi) hi = row;
          }
        cp_geom_band_rows(&g, r0, r1, &in0, &len);
        CHECK(in0 == lo && len == hi - lo + 1);
        CHECK(in0 + len <= g.H + p.pad[0] + p.pad[1]);
      }
  }
}

/* A stack layer (viz.stack): output lengths equal the ops' formulas, and
 * the field of one output cell equals the taps of the conv2d geometry /
 * the gather view of a transposed one (an independent formula). */
TEST(stack_layer_lengths_and_fields) {
  int checked = 0;
  for (int trial = 0; trial < 400; trial++) {
    cp_layer l;
    memset(&l, 0, sizeof l);
    l.kind = (cp_layer_kind)(trial % 4);
    int64_t in = 1 + trial % 11, k = 1 + trial % 4, s = 1 + (trial / 4) % 3;
    int64_t d = l.kind == CP_LAYER_AVGPOOL ? 1 : 1 + (trial / 12) % 2;
    int64_t p = (trial / 24) % 3;
    l.k[0] = k, l.s[0] = s, l.d[0] = d, l.p[0] = p;
    l.op[0] = l.kind == CP_LAYER_CONVT ? (trial / 72) % (s > d ? s : d) : 0;
    l.ceil_mode = l.kind >= CP_LAYER_MAXPOOL && (trial / 72) % 2;
    l.k[1] = l.s[1] = l.d[1] = 1; /* dimension 1 unused here */
    cp_err e;
    int64_t out = cp_layer_out_len(&l, 0, in, &e);
    int64_t want =
        l.kind == CP_LAYER_CONV ? cp_conv_out_len(in, k, s, p, p, d, NULL)
        : l.kind == CP_LAYER_CONVT
            ? cp_convT_out_len(in, k, s, p, d, l.op[0], NULL)
            : (2 * p > k ? -1 : cp_pool_out_len(in, k, s, p, d, l.ceil_mode));
    if (want < 1) want = -1;
    CHECK(out == want);
    if (out < 1) continue;
    /* one conv geometry for both directions */
    cp_conv_params cpp;
    cp_conv_params_default(&cpp);
    cpp.transposed = l.kind == CP_LAYER_CONVT;
    cpp.stride[0] = s, cpp.dilation[0] = d, cpp.out_pad[0] = l.op[0];
    cpp.pad[0] = cpp.pad[1] = p;
    int64_t xs[4] = {1, 1, in, 1}, ws[4] = {1, 1, k, 1};
    cp_geom g;
    if (l.kind != CP_LAYER_MAXPOOL && l.kind != CP_LAYER_AVGPOOL &&
        cp_geom_init(&g, &cpp, xs, ws, 0, 0, 0, NULL))
      continue;
    unsigned char os[64] = {0}, is[64], want_is[64];
    for (int64_t o = 0; o < out && o < 64; o++) {
      memset(os, 0, sizeof os);
      os[o] = 1;
      cp_layer_field(&l, 0, in, out, os, is);
      memset(want_is, 0, sizeof want_is);
      for (int64_t t = 0; t < k; t++) {
        int64_t i;
        if (l.kind == CP_LAYER_CONVT) i = cp_geomT_gather_row(&g, o, t, NULL);
        else i = o * s - p + t * d; /* cp_geom_in_row / cp_pool_in_row */
        if (i >= 0 && i < in) want_is[i] = 1;
      }
      CHECK(!memcmp(is, want_is, (size_t)in));
      checked++;
    }
  }
  CHECK(checked > 500);
}
