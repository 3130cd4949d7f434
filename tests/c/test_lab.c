/* test_lab.c - kernel presets and the image lab model (src/core/kernels.c,
 * src/core/lab_model.c). */
#include <string.h>

#include "../../src/core/conv.h"
#include "../../src/core/kernels.h"
#include "../../src/core/lab_model.h"
#include "check.h"

static double tsum(const cp_tensor *t) { return cp_tensor_sum(t); }

static float at2(const cp_tensor *t, int64_t i, int64_t j) {
  int64_t idx[2] = {i, j};
  return *cp_tensor_ptr(t, idx);
}

static float at3(const cp_tensor *t, int64_t c, int64_t i, int64_t j) {
  int64_t idx[3] = {c, i, j};
  return *cp_tensor_ptr(t, idx);
}

/* A (C,H,W) image with distinct, non-symmetric values in [0, 1]. */
static void make_image(cp_tensor *x, int64_t C, int64_t H, int64_t W) {
  int64_t shape[3] = {C, H, W};
  cp_tensor_empty(x, 3, shape, NULL);
  float *d = cp_tensor_data(x);
  for (int64_t k = 0; k < C * H * W; k++)
    d[k] = (float)((k * 37 + (k / W) * 11) % 101) / 100.0f;
}

static int max_diff(const cp_tensor *a, const cp_tensor *b, double *md) {
  if (!cp_tensor_same_shape(a, b)) return 0;
  const float *x = cp_tensor_data(a), *y = cp_tensor_data(b);
  double m = 0;
  for (int64_t k = 0; k < cp_tensor_numel(a); k++) {
    double d = x[k] > y[k] ? x[k] - y[k] : y[k] - x[k];
    if (d > m || d != d) m = d != d ? 1e30 : d;
  }
  *md = m;
  return 1;
}

/* ---- presets ------------------------------------------------------------- */

TEST(kernels_fixed_values) {
  cp_tensor k;
  CHECK(cp_kernel_sobel_x(&k, NULL) == 0);
  CHECK(at2(&k, 0, 0) == -1 && at2(&k, 1, 0) == -2 && at2(&k, 1, 2) == 2 &&
        at2(&k, 2, 2) == 1 && at2(&k, 1, 1) == 0);
  cp_tensor_release(&k);
  CHECK(cp_kernel_sobel_y(&k, NULL) == 0);
  CHECK(at2(&k, 0, 1) == -2 && at2(&k, 2, 1) == 2 && at2(&k, 1, 0) == 0);
  cp_tensor_release(&k);
  CHECK(cp_kernel_laplacian(&k, NULL) == 0);
  CHECK(at2(&k, 1, 1) == -4 && tsum(&k) == 0);
  cp_tensor_release(&k);
  CHECK(cp_kernel_outline(&k, NULL) == 0);
  CHECK(at2(&k, 1, 1) == 8 && tsum(&k) == 0);
  cp_tensor_release(&k);
  CHECK(cp_kernel_sharpen(&k, NULL) == 0);
  CHECK(at2(&k, 1, 1) == 5 && tsum(&k) == 1);
  cp_tensor_release(&k);
  CHECK(cp_kernel_emboss(&k, NULL) == 0);
  CHECK(at2(&k, 0, 0) == -2 && at2(&k, 2, 2) == 2 && tsum(&k) == 1);
  cp_tensor_release(&k);
  CHECK(cp_kernel_identity(&k, 5, NULL) == 0);
  CHECK(k.shape[0] == 5 && at2(&k, 2, 2) == 1 && tsum(&k) == 1);
  cp_tensor_release(&k);
  CHECK(cp_kernel_box(&k, 4, NULL) == 0);
  CHECK(k.shape[0] == 4);
  CHECK_NEAR(at2(&k, 3, 0), 1.0 / 16, 1e-7);
  cp_tensor_release(&k);
}

TEST(kernels_gaussian) {
  cp_tensor k;
  CHECK(cp_kernel_gaussian(&k, 5, 1.0, NULL) == 0);
  CHECK_NEAR(tsum(&k), 1.0, 1e-6);
  CHECK(at2(&k, 2, 2) > at2(&k, 2, 1) && at2(&k, 2, 1) > at2(&k, 2, 0));
  CHECK(at2(&k, 0, 1) == at2(&k, 1, 0) && at2(&k, 4, 3) == at2(&k, 0, 1));
  /* centre / neighbour = exp(1/2) for sigma 1 */
  CHECK_NEAR(at2(&k, 2, 2) / at2(&k, 2, 1), exp(0.5), 1e-5);
  cp_tensor_release(&k);
  cp_err e;
  CHECK(cp_kernel_gaussian(&k, 5, 0.0, &e) == -1);
  CHECK(strstr(e.msg, "sigma: must be > 0") != NULL);
  CHECK(k.st == NULL);
  CHECK(cp_kernel_gaussian(&k, 4, 1.0, &e) == -1);
  CHECK(strstr(e.msg, "size: must be odd") != NULL);
  CHECK(cp_kernel_box(&k, 0, &e) == -1);
  CHECK(strstr(e.msg, "size: must be between 1 and") != NULL);
}

TEST(kernels_unsharp_and_motion) {
  cp_tensor k, g;
  CHECK(cp_kernel_unsharp(&k, 5, 1.0, 2.0, NULL) == 0);
  CHECK(cp_kernel_gaussian(&g, 5, 1.0, NULL) == 0);
  CHECK_NEAR(tsum(&k), 1.0, 1e-5);
  CHECK_NEAR(at2(&k, 2, 2), 1 + 2 * (1 - at2(&g, 2, 2)), 1e-6);
  CHECK_NEAR(at2(&k, 0, 1), -2 * at2(&g, 0, 1), 1e-6);
  cp_tensor_release(&k);
  cp_tensor_release(&g);
  CHECK(cp_kernel_motion_blur(&k, 5, 0, NULL) == 0);
  for (int j = 0; j < 5; j++) CHECK_NEAR(at2(&k, 2, j), 0.2, 1e-6);
  CHECK(at2(&k, 1, 2) == 0 && at2(&k, 3, 0) == 0);
  cp_tensor_release(&k);
  CHECK(cp_kernel_motion_blur(&k, 5, 90, NULL) == 0);
  for (int i = 0; i < 5; i++) CHECK_NEAR(at2(&k, i, 2), 0.2, 1e-6);
  cp_tensor_release(&k);
  /* 45 degrees counter-clockwise: bottom-left to top-right. */
  CHECK(cp_kernel_motion_blur(&k, 5, 45, NULL) == 0);
  CHECK_NEAR(tsum(&k), 1.0, 1e-6);
  CHECK(at2(&k, 0, 4) == at2(&k, 2, 2) && at2(&k, 4, 0) == at2(&k, 2, 2));
  CHECK(at2(&k, 0, 0) == 0);
  cp_tensor_release(&k);
}

TEST(kernels_preset_names) {
  cp_preset p;
  CHECK(cp_preset_parse("gradient_magnitude", &p) == 0 &&
        p == CP_PRESET_GRADMAG);
  CHECK(cp_preset_parse("nope", &p) == -1);
  for (int i = 0; i < CP_PRESET_COUNT; i++) {
    cp_tensor k;
    CHECK(cp_preset_parse(cp_preset_name((cp_preset)i), &p) == 0 && p == i);
    CHECK(cp_kernel_preset(&k, (cp_preset)i, NULL, NULL) == 0);
    CHECK(k.ndim == 2 && k.shape[0] % 2 == 1);
    cp_tensor_release(&k);
  }
}

/* ---- the lab model ----------------------------------------------------------- */

/* An independent depthwise 3x3 correlation with zero "same" padding. */
static float direct3(const cp_tensor *x, const float k[9], int64_t c,
                     int64_t r, int64_t q) {
  double acc = 0;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      int64_t rr = r + i - 1, qq = q + j - 1;
      if (rr < 0 || qq < 0 || rr >= x->shape[1] || qq >= x->shape[2]) continue;
      acc += k[i * 3 + j] * at3(x, c, rr, qq);
    }
  return (float)acc;
}

TEST(lab_depthwise_matches_direct) {
  cp_tensor x, y;
  make_image(&x, 3, 9, 11);
  cp_lab lab;
  CHECK(cp_lab_init(&lab, &x, NULL) == 0);
  CHECK(cp_lab_set_preset(&lab, CP_PRESET_SOBEL_X, NULL, NULL) == 0);
  CHECK(cp_lab_compute(&lab, &y, NULL, NULL) == 0);
  CHECK(y.ndim == 3 && y.shape[0] == 3 && y.shape[1] == 9 && y.shape[2] == 11);
  const float sx[9] = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
  int bad = 0;
  for (int c = 0; c < 3; c++)
    for (int r = 0; r < 9; r++)
      for (int q = 0; q < 11; q++)
        if (fabsf(at3(&y, c, r, q) - direct3(&x, sx, c, r, q)) > 1e-5) bad++;
  CHECK(bad == 0);
  cp_tensor_release(&y);
  cp_lab_free(&lab);
  cp_tensor_release(&x);
}

TEST(lab_flip_is_true_convolution) {
  /* SEMANTICS.md section 7: ones at rows 1-3, cols 2-4 of a 5x7 zero image,
   * filter [[-1, 1]]: correlation gives [0,1,0,0,-1,0] on rows 1-3, true
   * convolution [0,-1,0,0,1,0]. */
  int64_t shape[3] = {1, 5, 7};
  cp_tensor x, y, k;
  cp_tensor_zeros(&x, 3, shape, NULL);
  for (int r = 1; r <= 3; r++)
    for (int c = 2; c <= 4; c++) cp_tensor_data(&x)[r * 7 + c] = 1;
  int64_t ks[2] = {1, 2};
  cp_tensor_empty(&k, 2, ks, NULL);
  cp_tensor_data(&k)[0] = -1;
  cp_tensor_data(&k)[1] = 1;
  cp_lab lab;
  CHECK(cp_lab_init(&lab, &x, NULL) == 0);
  CHECK(cp_lab_set_kernel(&lab, &k, NULL) == 0);
  lab.p.same = 0;
  lab.p.pad = 0;
  const float corr[6] = {0, 1, 0, 0, -1, 0};
  for (int flip = 0; flip < 2; flip++) {
    lab.p.flip = flip;
    CHECK(cp_lab_compute(&lab, &y, NULL, NULL) == 0);
    CHECK(y.shape[1] == 5 && y.shape[2] == 6);
    for (int c = 0; c < 6; c++) {
      CHECK(at3(&y, 0, 0, c) == 0);
      CHECK(at3(&y, 0, 2, c) == (flip ? -corr[c] : corr[c]));
    }
    cp_tensor_release(&y);
  }
  cp_lab_free(&lab);
  cp_tensor_release(&k);
  cp_tensor_release(&x);
}

TEST(lab_full_mix) {
  /* Channels constant 0.3, 0.6, 0.9; box 3x3, valid: full mixing with the
   * default mix gives the channel mean 0.6 everywhere on every channel. */
  int64_t shape[3] = {3, 4, 5};
  cp_tensor x, y;
  cp_tensor_empty(&x, 3, shape, NULL);
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < 20; k++) cp_tensor_data(&x)[c * 20 + k] = 0.3f * (c + 1);
  cp_lab lab;
  cp_lab_init(&lab, &x, NULL);
  cp_lab_set_preset(&lab, CP_PRESET_BOX, NULL, NULL);
  lab.p.same = 0;
  lab.p.pad = 0;
  lab.p.full_mix = 1;
  CHECK(cp_lab_compute(&lab, &y, NULL, NULL) == 0);
  CHECK(y.shape[0] == 3 && y.shape[1] == 2 && y.shape[2] == 3);
  for (int c = 0; c < 3; c++) CHECK_NEAR(at3(&y, c, 1, 2), 0.6, 1e-5);
  cp_tensor_release(&y);
  /* A custom mix: output 0 = input 2 only. */
  lab.p.mix_custom = 1;
  memset(lab.p.mix, 0, sizeof lab.p.mix);
  lab.p.mix[0][2] = 1;
  CHECK(cp_lab_compute(&lab, &y, NULL, NULL) == 0);
  CHECK_NEAR(at3(&y, 0, 0, 0), 0.9, 1e-5);
  CHECK_NEAR(at3(&y, 1, 0, 0), 0.0, 1e-6);
  cp_tensor_release(&y);
  cp_lab_free(&lab);
  cp_tensor_release(&x);
}

/* Build a lab with awkward settings, compute in one go and in bands. */
TEST(lab_bands_equal_single) {
  cp_tensor x, y1, y2;
  make_image(&x, 3, 23, 19);
  cp_lab lab;
  cp_lab_init(&lab, &x, NULL);
  const cp_padmode modes[4] = {CP_PAD_ZEROS, CP_PAD_REFLECT, CP_PAD_REPLICATE,
                               CP_PAD_CIRCULAR};
  for (int m = 0; m < 4; m++)
    for (int v = 0; v < 3; v++) {
      cp_lab_set_preset(&lab, v == 2 ? CP_PRESET_GRADMAG : CP_PRESET_EMBOSS,
                        NULL, NULL);
      lab.p.mode = modes[m];
      lab.p.same = v == 0;
      lab.p.pad = 2;
      lab.p.stride = v == 0 ? 1 : 2;
      lab.p.dilation = v == 1 ? 2 : 1;
      lab.p.flip = v == 1;
      lab.p.full_mix = v == 1;
      cp_lab_progress prog = {0};
      prog.band_macs = 200; /* a few rows per band */
      CHECK(cp_lab_compute(&lab, &y1, NULL, NULL) == 0);
      CHECK(cp_lab_compute(&lab, &y2, &prog, NULL) == 0);
      double md = 1;
      CHECK(max_diff(&y1, &y2, &md) && md < 1e-5);
      cp_tensor_release(&y1);
      cp_tensor_release(&y2);
    }
  atomic_int cancel = 1;
  cp_lab_progress prog = {0};
  prog.band_macs = 200;
  prog.cancel = &cancel;
  cp_err e;
  CHECK(cp_lab_compute(&lab, &y1, &prog, &e) == -1);
  CHECK(strcmp(e.msg, "cancelled") == 0 && y1.st == NULL);
  cp_lab_free(&lab);
  cp_tensor_release(&x);
}

TEST(lab_gradmag) {
  cp_tensor x, y, gx, gy;
  make_image(&x, 1, 6, 7);
  cp_lab lab;
  cp_lab_init(&lab, &x, NULL);
  cp_lab_set_preset(&lab, CP_PRESET_SOBEL_X, NULL, NULL);
  cp_lab_compute(&lab, &gx, NULL, NULL);
  cp_lab_set_preset(&lab, CP_PRESET_SOBEL_Y, NULL, NULL);
  cp_lab_compute(&lab, &gy, NULL, NULL);
  cp_lab_set_preset(&lab, CP_PRESET_GRADMAG, NULL, NULL);
  CHECK(lab.p.magnitude == 1);
  CHECK(cp_lab_compute(&lab, &y, NULL, NULL) == 0);
  for (int r = 0; r < 6; r++)
    for (int c = 0; c < 7; c++) {
      double a = at3(&gx, 0, r, c), b = at3(&gy, 0, r, c);
      CHECK_NEAR(at3(&y, 0, r, c), sqrt(a * a + b * b), 1e-5);
    }
  cp_tensor_release(&x);
  cp_tensor_release(&y);
  cp_tensor_release(&gx);
  cp_tensor_release(&gy);
  cp_lab_free(&lab);
}

TEST(lab_explain_matches_compute) {
  cp_tensor x, y;
  make_image(&x, 3, 8, 10);
  cp_lab lab;
  cp_lab_init(&lab, &x, NULL);
  for (int v = 0; v < 3; v++) {
    cp_lab_set_preset(&lab, v == 2 ? CP_PRESET_GRADMAG : CP_PRESET_EMBOSS,
                      NULL, NULL);
    lab.p.mode = v == 0 ? CP_PAD_ZEROS : CP_PAD_REFLECT;
    lab.p.flip = v == 1;
    lab.p.full_mix = v == 1;
    lab.p.same = v != 1;
    lab.p.pad = 1;
    lab.p.stride = v == 1 ? 2 : 1;
    lab.p.map = CP_MAP_OFFSET;
    CHECK(cp_lab_compute(&lab, &y, NULL, NULL) == 0);
    int bad = 0;
    for (int c = 0; c < 3; c++)
      for (int r = 0; r < y.shape[1]; r++)
        for (int q = 0; q < y.shape[2]; q++) {
          cp_lab_readout ro;
          cp_lab_tap taps[27];
          if (cp_lab_explain(&lab, c, r, q, taps, 27, &ro, NULL)) bad++;
          if (fabs(ro.value - at3(&y, c, r, q)) > 1e-5) bad++;
          if (ro.ntaps != (v == 1 ? 27 : 9)) bad++;
          if (fabs(ro.mapped - cp_lab_map_value(CP_MAP_OFFSET,
                                                at3(&y, c, r, q))) > 1e-6)
            bad++;
        }
    CHECK(bad == 0);
    cp_tensor_release(&y);
  }
  /* Top-left pixel, reflect, same: tap (0,0) reads (-1,-1), i.e. (1,1). */
  cp_lab_set_preset(&lab, CP_PRESET_EMBOSS, NULL, NULL);
  lab.p.mode = CP_PAD_REFLECT;
  lab.p.same = 1;
  lab.p.stride = 1;
  lab.p.flip = 0;
  lab.p.full_mix = 0;
  cp_lab_readout ro;
  cp_lab_tap taps[9];
  CHECK(cp_lab_explain(&lab, 1, 0, 0, taps, 9, &ro, NULL) == 0);
  CHECK(taps[0].row == -1 && taps[0].col == -1 && taps[0].src_row == 1 &&
        taps[0].src_col == 1 && taps[0].ch == 1 && taps[0].w == -2);
  CHECK(taps[0].x == at3(&x, 1, 1, 1));
  lab.p.mode = CP_PAD_ZEROS;
  CHECK(cp_lab_explain(&lab, 1, 0, 0, taps, 9, &ro, NULL) == 0);
  CHECK(taps[0].src_row == -1 && taps[0].x == 0);
  cp_err e;
  CHECK(cp_lab_explain(&lab, 0, 8, 0, taps, 9, &ro, &e) == -1);
  CHECK(strstr(e.msg, "outside") != NULL);
  cp_lab_free(&lab);
  cp_tensor_release(&x);
}

TEST(lab_edit_resize_normalize) {
  cp_tensor x;
  make_image(&x, 3, 8, 8);
  cp_lab lab;
  cp_lab_init(&lab, &x, NULL);
  cp_lab_set_preset(&lab, CP_PRESET_SHARPEN, NULL, NULL);
  CHECK(cp_lab_resize_kernel(&lab, 5, 5, NULL) == 0);
  CHECK(cp_lab_cell(&lab, 2, 2) == 5 && cp_lab_cell(&lab, 1, 2) == -1 &&
        cp_lab_cell(&lab, 0, 0) == 0 && lab.preset == CP_PRESET_CUSTOM);
  CHECK(cp_lab_resize_kernel(&lab, 1, 1, NULL) == 0);
  CHECK(cp_lab_cell(&lab, 0, 0) == 5);
  cp_lab_set_cell(&lab, 0, 0, 4);
  CHECK(cp_lab_normalize(&lab, NULL) == 0 && cp_lab_cell(&lab, 0, 0) == 1);
  cp_lab_set_preset(&lab, CP_PRESET_LAPLACIAN, NULL, NULL);
  CHECK(cp_lab_normalize(&lab, NULL) == 0);
  CHECK(cp_lab_cell(&lab, 0, 1) == 0.25f && cp_lab_cell(&lab, 1, 1) == -1);
  cp_err e;
  CHECK(cp_lab_resize_kernel(&lab, 0, 3, &e) == -1);
  /* Padding limits come from the geometry module. */
  lab.p.same = 0;
  lab.p.pad = 8;
  lab.p.mode = CP_PAD_REFLECT;
  int64_t OH, OW;
  CHECK(cp_lab_out_size(&lab, &OH, &OW, &e) == -1);
  CHECK(strstr(e.msg, "Padding size should be less") != NULL);
  lab.p.pad = 0;
  lab.p.stride = 3;
  CHECK(cp_lab_out_size(&lab, &OH, &OW, NULL) == 0 && OH == 2 && OW == 2);
  lab.p.same = 1;
  CHECK(cp_lab_out_size(&lab, &OH, &OW, &e) == -1);
  CHECK(strstr(e.msg, "strided") != NULL);
  int64_t bad[3] = {5, 4, 4};
  cp_tensor t;
  cp_tensor_zeros(&t, 3, bad, NULL);
  CHECK(cp_lab_set_image(&lab, &t, &e) == -1);
  CHECK(strstr(e.msg, "1 to 4 channels") != NULL);
  cp_tensor_release(&t);
  cp_lab_free(&lab);
  cp_tensor_release(&x);
}

TEST(lab_display_mapping) {
  CHECK(cp_lab_map_value(CP_MAP_CLAMP, -0.5f) == 0);
  CHECK(cp_lab_map_value(CP_MAP_CLAMP, 1.5f) == 1);
  CHECK(cp_lab_map_value(CP_MAP_CLAMP, NAN) == 0);
  CHECK(cp_lab_map_value(CP_MAP_ABS, -0.25f) == 0.25f);
  CHECK(cp_lab_map_value(CP_MAP_OFFSET, 0) == 0.5f);
  CHECK(cp_lab_map_value(CP_MAP_OFFSET, -1) == 0);
  int64_t shape[3] = {3, 1, 3};
  cp_tensor y;
  cp_tensor_empty(&y, 3, shape, NULL);
  const float v[9] = {-1, 0, 1, 0.5f, -0.5f, 2, 0, 0, 0};
  memcpy(cp_tensor_data(&y), v, sizeof v);
  uint32_t px[3];
  cp_lab_to_argb(&y, CP_MAP_ABS, px, 3, 0, 1);
  CHECK(px[0] == 0xffff8000u);
  CHECK(px[1] == 0xff008000u);
  CHECK(px[2] == 0xffffff00u);
  cp_lab_to_argb(&y, CP_MAP_OFFSET, px, 3, 0, 1);
  CHECK(px[0] == 0xff00bf80u);
  cp_tensor_release(&y);
  /* One channel: grey. */
  int64_t s1[3] = {1, 1, 1};
  cp_tensor_full(&y, 3, s1, 0.5f, NULL);
  cp_lab_to_argb(&y, CP_MAP_CLAMP, px, 1, 0, 1);
  CHECK(px[0] == 0xff808080u);
  cp_tensor_release(&y);
}
