/* bench_ops.c - convplay's side of `make bench` for the issue-11 ops:
 * conv2d_backward (grad_input + grad_weight + grad_bias) of the ResNet
 * 64->64 3x3 layer, max_pool2d 3x3/2 (ResNet's stem pool), avg_pool2d 2x2
 * on a 1080p image and unfold 3x3 of a 224x224 image.  Times the public
 * core calls (validation, allocation and kernels); the median of at least
 * REPS runs and half a second (bench_median), printed as
 * "case <name> <milliseconds>".  Links the
 * core alone. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/backward.h"
#include "core/pool.h"
#include "core/unfold.h"

#define REPS 21

#include "bench_util.h"

static int fill(cp_tensor *t, int64_t a, int64_t b, int64_t c, int64_t d,
                cp_rng *r) {
  return bench_fill(t, a, b, c, d, r, "bench_ops");
}

enum { BWD, MAXPOOL, AVGPOOL, UNFOLD };

typedef struct ocase {
  const char *name;
  int kind;
  int64_t N, C, H, W;
} ocase;

static const ocase cases[] = {
    {"conv2d_bwd64", BWD, 1, 64, 56, 56},
    {"maxpool3x3s2", MAXPOOL, 1, 64, 112, 112},
    {"avgpool2x2", AVGPOOL, 1, 3, 1080, 1920},
    {"unfold3x3", UNFOLD, 1, 3, 224, 224},
};

static int call(const ocase *c, const cp_tensor *x, const cp_tensor *w,
                const cp_tensor *gy, cp_tensor *out, cp_err *e) {
  cp_tensor gw, gb;
  int rc;
  cp_pool_params pp;
  switch (c->kind) {
  case BWD: {
    cp_conv_params p;
    cp_conv_params_default(&p);
    for (int i = 0; i < 4; i++) p.pad[i] = 1;
    rc = cp_conv2d_backward(out, &gw, &gb, x, w, gy, &p, e);
    if (rc == 0) {
      cp_tensor_release(&gw);
      cp_tensor_release(&gb);
    }
    return rc;
  }
  case MAXPOOL:
    cp_pool_params_default(&pp, 3, 3);
    pp.stride[0] = pp.stride[1] = 2;
    pp.pad[0] = pp.pad[1] = 1;
    return cp_max_pool2d(out, NULL, x, &pp, e);
  case AVGPOOL:
    cp_pool_params_default(&pp, 2, 2);
    return cp_avg_pool2d(out, x, &pp, e);
  default: {
    static const int64_t k[2] = {3, 3}, one[2] = {1, 1}, zero[2] = {0, 0};
    return cp_unfold(out, x, k, one, zero, one, e);
  }
  }
}

/* One timed call of a case (bench_median's callback). */
typedef struct one_op {
  const ocase *c;
  const cp_tensor *x, *w, *gy;
  cp_err e;
} one_op;

static double op_once(void *ctx) {
  one_op *o = ctx;
  cp_tensor y;
  double t0 = now_ms();
  int rc = call(o->c, o->x, o->w, o->gy, &y, &o->e);
  double t1 = now_ms();
  if (rc) return -1;
  cp_tensor_release(&y);
  return t1 - t0;
}

static int run_case(const ocase *c, const char *only) {
  if (only && strcmp(only, c->name) != 0) return 0;
  cp_rng r;
  cp_rng_seed(&r, 42);
  cp_tensor x, w, gy;
  memset(&w, 0, sizeof w);
  memset(&gy, 0, sizeof gy);
  if (fill(&x, c->N, c->C, c->H, c->W, &r)) return -1;
  if (c->kind == BWD && (fill(&w, 64, 64, 3, 3, &r) ||
                         fill(&gy, c->N, 64, c->H, c->W, &r)))
    return -1;
  one_op oo;
  memset(&oo, 0, sizeof oo);
  oo.c = c, oo.x = &x, oo.w = &w, oo.gy = &gy;
  double med = bench_median(op_once, &oo, REPS);
  if (med < 0) {
    fprintf(stderr, "bench_ops %s: %s\n", c->name, oo.e.msg);
    return -1;
  }
  printf("case %s %.4f\n", c->name, med);
  fflush(stdout);
  cp_tensor_release(&x);
  cp_tensor_release(&w);
  cp_tensor_release(&gy);
  return 0;
}

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : NULL;
  int status = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (run_case(&cases[i], only)) status = 1;
  return status;
}
