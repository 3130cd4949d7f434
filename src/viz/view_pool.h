/* view_pool.h - pooling step-through views (max_pool2d, avg_pool2d) on
 * the view machinery (no Lua).  A pooling view is a view whose "kernel" is
 * the window: w is a (C, 1, kH, kW) tensor of ones, the geometry the pool
 * as a depthwise convolution (cp_pool_as_conv) and the trace a pooling
 * trace (trace.h).  Stride, padding and dilation live in v->req as for a
 * convolution (the same keys edit them); the rest in v->preq. */
#ifndef VZ_VIEW_POOL_H
#define VZ_VIEW_POOL_H

#include "viz/view.h"

/* At construction: check the pooling problem, make the ones kernel, fill
 * v->pool, v->preq, v->req, v->ret_idx.  v->x is already set. */
int vz_pool_setup(vz_view *v, const vz_view_init *in, cp_err *e);
/* At each rebuild: v->g and v->t from v->req and v->preq. */
int vz_pool_trace(vz_view *v, cp_err *e);
/* Keys with a pooling meaning (e ceil_mode, i count_include_pad) or none
 * (m, f, o, v): 1 used, 0 refused with a status line, -1 not a pooling
 * key (the view's usual handling applies). */
int vz_pool_key(vz_view *v, const char *key, int shift);
/* The output-size rule, floor or ceil, with ceil_mode's dropped window. */
void vz_pool_formula(const vz_view *v, int dim, char *buf, size_t n);
/* "max_pool2d" / "avg_pool2d" (or the 1-D name). */
const char *vz_pool_name(const vz_view *v);
/* The pooling parameters the view computes with (req merged into preq). */
void vz_pool_params(const vz_view *v, cp_pool_params *p);

#endif
