/* trace.h - the step model of the visual step-through (no Lua, no SDL).
 *
 * A trace enumerates a convolution as a sequence of *units*, each made of
 * *taps* (one multiply-add each), exactly in the order and with exactly the
 * index arithmetic of the reference loops (all of it from geometry.h):
 *
 *   CP_TRACE_CONV     conv2d.  Unit = output cell (n, o, r, c), in row-major
 *                     order; taps = (ci < C/G, i < kH, j < kW).
 *   CP_TRACE_GATHER   conv_transpose2d as a stride-1 convolution of the
 *                     zero-inserted input with the flipped kernel.  Unit =
 *                     output cell; taps = (ci < C/G, i, j) of the flipped
 *                     kernel, reading the canvas via cp_geomT_gather_row/col.
 *   CP_TRACE_SCATTER  conv_transpose2d as scatter.  Unit = input pixel
 *                     (n, ci, r, c); taps = (oo < O/G, i, j), each adding
 *                     x * w into output (r*s + i*d - p, ...), or cropped.
 *   CP_TRACE_GRADW    conv2d's grad_weight, the correlation of the input
 *                     with grad_output (trace_grad.c).  Unit = weight tap
 *                     (o, ci, i, j); taps = (n, r, c), every output
 *                     position: x[n, g*C/G+ci, r*s+i*d-p, ...] * gy[n, o,
 *                     r, c], the products of that forward tap.
 *   CP_TRACE_GRADB    conv2d's grad_bias.  Unit = output channel (o, 0, 0,
 *                     0); taps = (n, r, c): 1 * gy[n, o, r, c].
 *   CP_TRACE_MAXPOOL  max_pool2d / avg_pool2d (trace_pool.c).  Unit =
 *   CP_TRACE_AVGPOOL  output cell (n, c, r, c); taps = window cells (i, j)
 *                     in the reference loop's order; a tap's sum is the
 *                     running maximum (its arg the running argmax) or the
 *                     running float sum.  No weights (w = 1).  g is the
 *                     pool as a conv-shaped geometry (cp_pool_as_conv).
 *   CP_TRACE_UNPOOL   max_unpool2d, seen from the output: unit = output
 *                     cell (n, c, r, c); one tap, the input cell whose
 *                     index names it (the last one in input order: it is
 *                     written last), or none (the cell stays 0).
 *
 * Steps are what the viewer walks through: one unit per step, or one tap per
 * step (cp_trace_steps / cp_trace_locate).  All indices are 0-based.
 *
 * The trace borrows its buffers (x, w, bias, masks): the caller keeps them
 * alive and unchanged while the trace is used.
 */
#ifndef CP_TRACE_H
#define CP_TRACE_H

#include <stdint.h>

#include "err.h"
#include "geometry.h"

typedef enum {
  CP_TRACE_CONV = 0,
  CP_TRACE_GATHER,
  CP_TRACE_SCATTER,
  CP_TRACE_GRADW,
  CP_TRACE_GRADB,
  CP_TRACE_MAXPOOL,
  CP_TRACE_AVGPOOL,
  CP_TRACE_UNPOOL
} cp_trace_kind;

typedef enum {
  CP_TAP_INPUT = 0,           /* reads a real input cell in[] */
  CP_TAP_PAD,                 /* zero padding / border of the zero canvas */
  CP_TAP_PADSRC,              /* reflect/replicate/circular: reads in[] */
  CP_TAP_HOLE,                /* stride hole of the zero-inserted canvas */
  CP_TAP_CROPPED,             /* scatter: lands outside the output */
  CP_TAP_BEYOND               /* pool: past the right padding (ceil_mode's
                                 last window): neither read nor counted */
} cp_tap_kind;

typedef struct cp_tap {
  cp_tap_kind kind;
  int64_t pos[2];   /* CONV: input row/col it reads (outside = padding);
                       GATHER: row/col on the zero-inserted input z (before
                       its border: negative or past (H-1)s = border pad);
                       SCATTER: output row/col it adds into (may be cropped)*/
  int64_t in[4];    /* input n, c, h, w read (INPUT, PADSRC; SCATTER: the
                       unit's pixel); -1 when nothing is read */
  int64_t k[2];     /* tap position in the kernel as drawn (flipped for
                       GATHER and for true convolution) */
  int64_t w[4];     /* weight element used, in the op's own layout
                       (GRADW/GRADB: the grad_output cell n, o, r, c; k
                       then holds its r, c) */
  int64_t out[4];   /* output n, o, r, c the tap contributes to */
  float xv;         /* input factor (after the input mask; 0 for padding) */
  float wv;         /* weight factor (after the kernel mask) */
  float xm, km;     /* input-mask and kernel-mask values (1 without masks) */
  double prod;      /* xv * wv, rounded to float32 as the reference */
  double sum;       /* running sum after this tap, bias included (SCATTER:
                       the output cell's value after this addition; MAXPOOL:
                       the running maximum; AVGPOOL: the float sum) */
  int64_t arg;      /* MAXPOOL: running argmax, flat h*W + w in its plane
                       (0-based, as return_indices) */
} cp_tap;

typedef struct cp_unit {
  int64_t idx[4];   /* CONV/GATHER: output n, o, r, c; SCATTER: input */
  int64_t group;    /* group of the unit */
  double bias;      /* bias of the output channel (0 without bias) */
  double raw;       /* bias + sum of all products (CONV/GATHER) */
  float value;      /* final output value (CONV/GATHER; partial rescaled) */
  float msum;       /* partial: sum of the mask under the window (S) */
  float ratio;      /* partial: winsize / S * clamp(S, 0, 1) */
  float newmask;    /* partial: clamp(S, 0, 1) */
  int64_t winsize;  /* partial: taps counted by S (kH*kW, or C*kH*kW) */
  int64_t argmax;   /* MAXPOOL: flat index h*W + w of the maximum (what
                       return_indices holds, 0-based) */
  int64_t argtap;   /* MAXPOOL: the tap that set it (-1: the first input
                       cell, PyTorch's start, when nothing beat -inf) */
  int64_t divisor;  /* AVGPOOL: what the sum is divided by */
} cp_unit;

/* What the trace reads; buffers contiguous. */
typedef struct cp_trace_src {
  const float *x;       /* N*C*H*W */
  const float *w;       /* conv2d (O,C/G,kH,kW); transposed (C,O/G,kH,kW) */
  const float *b;       /* O, or NULL */
  const float *mask;    /* input mask, already expanded to N*C*H*W, or NULL */
  const float *kmask;   /* kernel mask kH*kW (broadcast over channels), or
                           NULL */
  int partial;          /* conv2d only: NVIDIA partial convolution */
  int mask_multi;       /* partial: the mask had C channels (multi_channel)
                           rather than one */
  int flip;             /* conv2d only: true convolution (flipped kernel) */
  const float *gy;      /* GRADW/GRADB: grad_output N*O*OH*OW */
  const int64_t *unpool_src; /* UNPOOL: per output cell (N*C*OH*OW) the
                                flat input offset written there, or -1 */
} cp_trace_src;

typedef struct cp_trace {
  cp_geom g;            /* the validated problem */
  cp_pool_geom pg;      /* pooling kinds: the pool it came from */
  cp_trace_kind kind;
  cp_trace_src s;       /* borrowed buffers and flags */
  int64_t nunits;       /* units in the whole trace */
  int64_t ntaps;        /* taps per unit */
} cp_trace;

/* Check that kind and flags fit g (g from cp_geom_init) and fill t. */
int cp_trace_init(cp_trace *t, const cp_geom *g, cp_trace_kind kind,
                  const cp_trace_src *src, cp_err *e);

/* A pooling trace (kind from pg->kind) over x (N*C*H*W, borrowed). */
int cp_trace_init_pool(cp_trace *t, const cp_pool_geom *pg, const float *x,
                       cp_err *e);
/* A max_unpool2d trace: x (N, C, H, W) scattered into (N, C, OH, OW) at
 * indices; src (N*C*OH*OW, from cp_unpool_sources) borrowed. */
int cp_trace_init_unpool(cp_trace *t, int64_t N, int64_t C, int64_t H,
                         int64_t W, int64_t OH, int64_t OW, const float *x,
                         const int64_t *src, cp_err *e);
/* For each output cell the flat input offset max_unpool2d writes there
 * last, or -1: src has N*C*OH*OW entries; ind holds N*C*H*W indices (as
 * return_indices gives them; each already checked to lie in the plane). */
void cp_unpool_sources(int64_t N, int64_t C, int64_t H, int64_t W,
                       int64_t OH, int64_t OW, const float *ind,
                       int64_t *src);
/* Fill taps / info of unit u of a pooling trace (trace_pool.c). */
void cp_trace_pool_unit(const cp_trace *t, int64_t u, cp_tap *taps,
                        cp_unit *info);

/* The unit's index (output cell, or input pixel for SCATTER). */
void cp_trace_unit_index(const cp_trace *t, int64_t u, int64_t idx[4]);
/* Inverse: unit of an output cell (CONV/GATHER) or input pixel (SCATTER). */
int64_t cp_trace_unit_of(const cp_trace *t, const int64_t idx[4]);

/* Fill taps[t->ntaps] and *info for unit u.  SCATTER needs canvas: the
 * output (N*O*OH*OW) as it stands before unit u (cp_trace_canvas); the
 * others ignore it (NULL is fine). */
void cp_trace_unit(const cp_trace *t, int64_t u, const float *canvas,
                   cp_tap *taps, cp_unit *info);

/* SCATTER: the output after the first u units (bias included), accumulated
 * in the reference loop's order, so that after all units it equals
 * cp_conv_transpose2d_ref bit for bit.  CONV/GATHER: the final values of
 * the first u units, zero elsewhere.  y has N*O*OH*OW floats. */
void cp_trace_canvas(const cp_trace *t, int64_t u, float *y);
/* Add unit u's contributions to a SCATTER canvas (one step forward). */
void cp_trace_scatter_add(const cp_trace *t, int64_t u, float *y);

/* Steps: 1 .. cp_trace_steps.  by_tap = 0: one unit per step; 1: one tap
 * per step.  locate gives the unit and how many of its taps are done
 * (1 .. ntaps; all of them when by_tap = 0). */
int64_t cp_trace_steps(const cp_trace *t, int by_tap);
void cp_trace_locate(const cp_trace *t, int by_tap, int64_t step,
                     int64_t *unit, int64_t *taps_done);
/* The step at which unit u (and its tap k, 0-based) is reached. */
int64_t cp_trace_step_of(const cp_trace *t, int by_tap, int64_t u, int64_t k);

const char *cp_trace_kind_name(cp_trace_kind k);

/* ---- trace_grad.c: the GRADW / GRADB kinds (called by the above) ---- */
int cp_trace_grad_init(cp_trace *t, const cp_geom *g, cp_trace_kind kind,
                       const cp_trace_src *src, cp_err *e);
void cp_trace_grad_unit(const cp_trace *t, int64_t u, cp_tap *taps,
                        cp_unit *info);
/* The forward tap a backward product comes from: the forward output cell
 * y4 (n, o, r, c), the weight element w4 (o, ci, i, j) and the tap's
 * number within y4's unit (0-based, as CP_TRACE_CONV orders them). */
int64_t cp_trace_forward_tap(const cp_geom *g, const int64_t y4[4],
                             const int64_t w4[4]);
const char *cp_tap_kind_name(cp_tap_kind k);

#endif
