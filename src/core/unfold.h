/* unfold.h - F.unfold (im2col), F.fold (col2im) and torch.matmul.
 *
 * unfold: x (N, C, H, W) or (C, H, W) -> columns (N, C*kH*kW, L) or
 * (C*kH*kW, L): row (c, i, j) with j fastest, column l = r*OW + c of the
 * blocks in row-major order; entry = the input cell that conv2d's tap
 * (i, j) of output (r, c) reads (geometry.c), 0 in the padding.  So
 * conv2d(x, w) == w:reshape(O, C*kH*kW) @ unfold(x), reshaped.
 * fold is its adjoint: every column entry is added into the cell it came
 * from, so overlapping blocks sum (padding cells are dropped).
 *
 * matmul follows torch.matmul: 1-D . 1-D (a 0-D dot), 2-D @ 2-D, 1-D
 * operands promoted and the added dimension removed, and batched operands
 * (any rank >= 3) with the batch dimensions broadcast.  Products are summed
 * in double and rounded once.
 */
#ifndef CP_UNFOLD_H
#define CP_UNFOLD_H

#include "geometry.h"
#include "tensor.h"

/* kernel, dilation, padding, stride: (h, w) pairs. */
int cp_unfold(cp_tensor *out, const cp_tensor *x, const int64_t *kernel,
              const int64_t *dilation, const int64_t *pad,
              const int64_t *stride, cp_err *e);
/* out_hw: the output's (H, W). */
int cp_fold(cp_tensor *out, const cp_tensor *cols, const int64_t *out_hw,
            const int64_t *kernel, const int64_t *dilation, const int64_t *pad,
            const int64_t *stride, cp_err *e);
int cp_matmul(cp_tensor *out, const cp_tensor *a, const cp_tensor *b,
              cp_err *e);

/* ---- kernels on contiguous buffers (g from cp_unfold/fold_geom_init) ---- */
void cp_unfold_ref(const cp_geom *g, const float *x, float *cols);
void cp_fold_ref(const cp_geom *g, const float *cols, float *y);
/* Threaded row copies; 0 done, 1 not handled. */
int cp_unfold_fast(const cp_geom *g, const float *x, float *cols);
int cp_fold_fast(const cp_geom *g, const float *cols, float *y);

#endif
