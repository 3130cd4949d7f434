/* bench_util.h - shared by the C benchmarks (bench.c, bench_ops.c,
 * bench_filters.c): a monotonic clock, a comparator for medians and
 * random-normal fixture tensors. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/tensor.h"

static inline double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* How long a case keeps being timed, at least (BENCH_MIN_MS, default
 * 500 ms): a neighbour's burst of a few ms then moves a few of many
 * samples, not the median. */
#define BENCH_MAX_REPS 4000
static inline double bench_min_ms(void) {
  const char *e = getenv("BENCH_MIN_MS");
  return e ? atof(e) : 500.0;
}

/* The median of the times one_call(ctx) returns (ms of one timed call, < 0
 * on failure) over at least min_reps calls and bench_min_ms() of wall
 * time, after two warm-up calls; -1 when a call failed. */
static inline double bench_median(double (*one_call)(void *), void *ctx,
                                  int min_reps) {
  static double t[BENCH_MAX_REPS];
  for (int w = 0; w < 2; w++)
    if (one_call(ctx) < 0) return -1;
  int n = 0;
  double start = now_ms(), min_ms = bench_min_ms();
  while (n < BENCH_MAX_REPS && (n < min_reps || now_ms() - start < min_ms)) {
    double ms = one_call(ctx);
    if (ms < 0) return -1;
    t[n++] = ms;
  }
  qsort(t, (size_t)n, sizeof t[0], cmp_double);
  return t[n / 2];
}

/* t = an a x b x c x d tensor of N(0, 1) values; -1 (said on stderr with
 * who's name) when it cannot be made. */
static inline int bench_fill(cp_tensor *t, int64_t a, int64_t b, int64_t c,
                             int64_t d, cp_rng *r, const char *who) {
  cp_err e;
  if (cp_tensor_empty4(t, a, b, c, d, &e)) {
    fprintf(stderr, "%s: %s\n", who, e.msg);
    return -1;
  }
  float *p = cp_tensor_data(t);
  for (int64_t i = 0; i < cp_tensor_numel(t); i++)
    p[i] = (float)cp_rng_normal(r);
  return 0;
}

#endif
