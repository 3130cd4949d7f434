/* bench_util.h - shared by the C benchmarks (bench.c, bench_ops.c,
 * bench_filters.c): a monotonic clock, a comparator for medians and
 * random-normal fixture tensors. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdio.h>
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
