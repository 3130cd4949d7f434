/* bench_filters.c - convplay's side of the OpenCV comparison in `make bench`.
 *
 * Image filters as people run them with cv2.filter2D / cv2.sepFilter2D
 * (tests/bench/bench_opencv.py runs the same cases): 1x3x1080x1920 float32,
 * one k x k kernel for all three channels (convplay: depthwise, groups 3),
 * zero padding, output the input's size; a 15x15 Gaussian (separable); a
 * 1x1x512x512 3x3.  Each case is warmed up, then called again and again for
 * at least MIN_MS of wall time (BENCH_MIN_MS in the environment, default
 * 2500; and at least MIN_REPS calls), so that a neighbour's burst cannot
 * decide a ratio; prints the median as
 * "case <name> <milliseconds>".  Links the core alone.
 * Also `bench_filters --impl NAME` forces a path for comparisons:
 * "direct" forbids the separable and transform paths, "fft" takes the
 * transform wherever it applies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/conv.h"
#include "core/fftconv.h"
#include "core/kernels.h"
#include "core/sepconv.h"

#define MIN_MS (getenv("BENCH_MIN_MS") ? atof(getenv("BENCH_MIN_MS")) : 2500.0)
#define MIN_REPS 11
#define MAX_REPS 20000

#include "bench_util.h"

typedef struct fcase {
  const char *name;
  int64_t C, H, W, k;
  int gaussian;               /* 1: Gaussian (separable), 0: random */
} fcase;

/* The same cases, names and kernels' kinds as bench_opencv.py. */
static const fcase cases[] = {
    {"cv_3x3", 3, 1080, 1920, 3, 0},   {"cv_5x5", 3, 1080, 1920, 5, 0},
    {"cv_7x7", 3, 1080, 1920, 7, 0},   {"cv_15x15", 3, 1080, 1920, 15, 0},
    {"cv_31x31", 3, 1080, 1920, 31, 0}, {"cv_gauss15", 3, 1080, 1920, 15, 1},
    {"cv_gray512", 1, 512, 512, 3, 0},
};

static int run(const fcase *c) {
  cp_rng r;
  cp_rng_seed(&r, 7);
  cp_err e;
  cp_tensor x, w, k, y;
  if (cp_tensor_empty4(&x, 1, c->C, c->H, c->W, &e) ||
      cp_tensor_empty4(&w, c->C, 1, c->k, c->k, &e)) {
    fprintf(stderr, "bench_filters: %s\n", e.msg);
    return -1;
  }
  float *xp = cp_tensor_data(&x);
  for (int64_t i = 0; i < cp_tensor_numel(&x); i++)
    xp[i] = (float)cp_rng_uniform(&r);
  float *wp = cp_tensor_data(&w);
  int64_t kk = c->k * c->k;
  if (c->gaussian) {
    if (cp_kernel_gaussian(&k, c->k, cp_kernel_default_sigma(c->k), &e)) {
      fprintf(stderr, "bench_filters: %s\n", e.msg);
      return -1;
    }
    memcpy(wp, cp_tensor_data(&k), (size_t)kk * sizeof *wp);
    cp_tensor_release(&k);
  } else {
    for (int64_t i = 0; i < kk; i++) wp[i] = (float)(cp_rng_normal(&r) / c->k);
  }
  for (int64_t ch = 1; ch < c->C; ch++)
    memcpy(wp + ch * kk, wp, (size_t)kk * sizeof *wp);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.groups = c->C;
  p.padspec = CP_PADSPEC_SAME;
  static double t[MAX_REPS];
  int n = 0;
  double start = now_ms();
  for (int rep = -2; n < MAX_REPS; rep++) {
    double t0 = now_ms();
    if (cp_conv2d(&y, &x, &w, NULL, &p, &e)) {
      fprintf(stderr, "bench_filters %s: %s\n", c->name, e.msg);
      return -1;
    }
    double t1 = now_ms();
    cp_tensor_release(&y);
    if (rep >= 0) t[n++] = t1 - t0;
    if (n >= MIN_REPS && t1 - start >= MIN_MS) break;
  }
  qsort(t, (size_t)n, sizeof t[0], cmp_double);
  printf("case %s %.4f\n", c->name, t[n / 2]);
  fflush(stdout);
  cp_tensor_release(&x);
  cp_tensor_release(&w);
  return 0;
}

int main(int argc, char **argv) {
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--impl") == 0 && i + 1 < argc) {
      const char *impl = argv[++i];
      if (strcmp(impl, "direct") == 0) cp_sep_set_enabled(0);
      if (strcmp(impl, "direct") == 0) cp_fft_set_enabled(0);
      if (strcmp(impl, "fft") == 0) cp_fft_set_enabled(2);
    } else {
      only = argv[i];
    }
  }
  int status = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (!only || strcmp(only, cases[i].name) == 0)
      if (run(&cases[i])) status = 1;
  return status;
}
