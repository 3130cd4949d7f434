/* pool.h - pooling, PyTorch-exact (F.max_pool2d, F.avg_pool2d,
 * F.adaptive_avg_pool2d, F.adaptive_max_pool2d, F.max_unpool2d).
 *
 * Inputs are (N, C, H, W) or unbatched (C, H, W); outputs have the same
 * rank.  The window geometry (output sizes, ceil_mode's rule, which cells a
 * window covers, the avg divisor, adaptive bins) is geometry.c's.
 *
 * Indices (return_indices, max_unpool2d) are PyTorch's: the 0-based flat
 * position h*W + w of the maximum within its (H, W) plane, stored as
 * float32, which holds them exactly for planes of up to 2^24 cells (larger
 * planes are refused when indices are asked for).
 *
 * Max pooling: padding cells are -inf; a NaN in the window makes the result
 * NaN (its index is the last NaN's); ties keep the first maximum in scan
 * order; a window of only -inf reports its first cell.
 */
#ifndef CP_POOL_H
#define CP_POOL_H

#include "geometry.h"
#include "tensor.h"

/* indices may be NULL (no return_indices). */
int cp_max_pool2d(cp_tensor *out, cp_tensor *indices, const cp_tensor *x,
                  const cp_pool_params *p, cp_err *e);
int cp_avg_pool2d(cp_tensor *out, const cp_tensor *x, const cp_pool_params *p,
                  cp_err *e);
/* out_hw: output (h, w), each >= 0.  indices: max only, may be NULL. */
int cp_adaptive_pool2d(cp_tensor *out, cp_tensor *indices, const cp_tensor *x,
                       const int64_t *out_hw, cp_pool_kind kind, cp_err *e);
/* Scatter x into zeros at `indices` (same shape as x).  out_hw NULL: the
 * default size (H-1)*s - 2p + k per dimension; else it must lie strictly
 * between default - s and default + s, as F.max_unpool2d checks. */
int cp_max_unpool2d(cp_tensor *out, const cp_tensor *x,
                    const cp_tensor *indices, const cp_pool_params *p,
                    const int64_t *out_hw, cp_err *e);

/* ---- kernels on contiguous (N*C planes) buffers ---------------------------
 * Reference loops: the obviously-correct yardstick.  ind may be NULL. */
void cp_max_pool2d_ref(const cp_pool_geom *g, const float *x, float *y,
                       float *ind);
void cp_avg_pool2d_ref(const cp_pool_geom *g, const float *x, float *y);
/* Vectorised, threaded; values only.  0 done, 1 not handled. */
int cp_max_pool2d_fast(const cp_pool_geom *g, const float *x, float *y);
/* With indices: the reference scan with the planes split over threads. */
int cp_max_pool2d_fast_indices(const cp_pool_geom *g, const float *x,
                               float *y, float *ind);
int cp_avg_pool2d_fast(const cp_pool_geom *g, const float *x, float *y);

#endif
