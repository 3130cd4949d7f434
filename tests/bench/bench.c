/* bench.c - convplay's side of `make bench`.
 *
 * Times the public ops (cp_conv2d / cp_conv_transpose2d: validation, output
 * allocation and the kernel, as a Lua call would pay) on the benchmark
 * shapes.  Each case is warmed up, then run at least REPS times (REPS_SMALL
 * for small inputs) and half a second (bench_median); the median is
 * printed as "case <name> <milliseconds>", one line per case, for run.sh to
 * put beside PyTorch's numbers.  Links the core alone.
 * CONVPLAY_ISA=0|1 in the environment times the SSE / AVX2 tiles instead of
 * the best the CPU has (the machine's AVX-512). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/conv.h"
#include "core/conv_fast.h"

#define REPS 11
#define REPS_SMALL 31

#include "bench_util.h"

static int fill(cp_tensor *t, int64_t a, int64_t b, int64_t c, int64_t d,
                cp_rng *r) {
  return bench_fill(t, a, b, c, d, r, "bench");
}

typedef struct bcase {
  const char *name;
  int64_t N, C, H, W, O, k;   /* O = conv2d out channels / convT out */
  int64_t s, d, pad, G;
  int same, transposed;
} bcase;

static const bcase cases[] = {
    {"image3x3", 1, 3, 1080, 1920, 3, 3, 1, 1, 1, 1, 0, 0},
    {"dw3x3", 1, 3, 1080, 1920, 3, 3, 1, 1, 0, 3, 1, 0},
    {"dw7x7", 1, 3, 1080, 1920, 3, 7, 1, 1, 0, 3, 1, 0},
    {"dw15x15", 1, 3, 1080, 1920, 3, 15, 1, 1, 0, 3, 1, 0},
    {"gray512_3x3", 1, 1, 512, 512, 1, 3, 1, 1, 0, 1, 0, 0},
    {"gray512_5x5", 1, 1, 512, 512, 1, 5, 1, 1, 0, 1, 0, 0},
    {"resnet64", 1, 64, 56, 56, 64, 3, 1, 1, 1, 1, 0, 0},
    {"batch8_s2d2", 8, 32, 64, 64, 32, 3, 2, 2, 2, 1, 0, 0},
    {"convT64to32", 1, 64, 28, 28, 32, 4, 2, 1, 1, 1, 0, 1},
};

/* One timed call of a case (bench_median's callback). */
typedef struct one_conv {
  const bcase *c;
  const cp_tensor *x, *w;
  const cp_conv_params *p;
  cp_err e;
} one_conv;

static double conv_once(void *ctx) {
  one_conv *o = ctx;
  cp_tensor y;
  double t0 = now_ms();
  int rc = o->c->transposed
               ? cp_conv_transpose2d(&y, o->x, o->w, NULL, o->p, &o->e)
               : cp_conv2d(&y, o->x, o->w, NULL, o->p, &o->e);
  double t1 = now_ms();
  if (rc) return -1;
  /* Released at once: the next call gets the same warm block back from
   * the storage pool, as a loop in Lua would. */
  cp_tensor_release(&y);
  return t1 - t0;
}

static int run_case(const bcase *c, const char *only) {
  if (only && strcmp(only, c->name) != 0) return 0;
  cp_rng r;
  cp_rng_seed(&r, 42);
  cp_tensor x, w;
  int64_t w0 = c->transposed ? c->C : c->O;
  int64_t w1 = c->transposed ? c->O / c->G : c->C / c->G;
  if (fill(&x, c->N, c->C, c->H, c->W, &r)) return -1;
  if (fill(&w, w0, w1, c->k, c->k, &r)) return -1;
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.stride[0] = p.stride[1] = c->s;
  p.dilation[0] = p.dilation[1] = c->d;
  for (int i = 0; i < 4; i++) p.pad[i] = c->pad;
  p.groups = c->G;
  if (c->same) p.padspec = CP_PADSPEC_SAME;
  one_conv oc;
  memset(&oc, 0, sizeof oc);
  oc.c = c, oc.x = &x, oc.w = &w, oc.p = &p;
  /* Small cases are noisy: more repetitions, same median. */
  int reps = (double)c->N * c->C * c->H * c->W < 1e6 ? REPS_SMALL : REPS;
  double med = bench_median(conv_once, &oc, reps);
  if (med < 0) {
    fprintf(stderr, "bench %s: %s\n", c->name, oc.e.msg);
    return -1;
  }
  printf("case %s %.4f\n", c->name, med);
  fflush(stdout);
  cp_tensor_release(&x);
  cp_tensor_release(&w);
  return 0;
}

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : NULL;
  const char *isa = getenv("CONVPLAY_ISA");
  if (isa) cp_conv_fast_force_isa(atoi(isa));
  int status = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (run_case(&cases[i], only)) status = 1;
  return status;
}
