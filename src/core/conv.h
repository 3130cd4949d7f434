/* conv.h - convolution ops, PyTorch-exact.
 *
 * Each op works in two phases (as ggml does): cp_geom_init validates and
 * sizes the problem, then a kernel just computes on contiguous buffers.
 * cp_conv2d / cp_conv_transpose2d are the one dispatch point: they pick a
 * fast kernel when one applies and the plain reference loop otherwise.
 * The reference loops are exported so tests can hold the two together.
 *
 * Inputs may be 4-D (N,C,H,W) or 3-D unbatched (C,H,W); the output has the
 * same rank.  bias may be NULL.
 */
#ifndef CP_CONV_H
#define CP_CONV_H

#include "geometry.h"
#include "tensor.h"

int cp_conv2d(cp_tensor *out, const cp_tensor *x, const cp_tensor *w,
              const cp_tensor *bias, const cp_conv_params *p, cp_err *e);
int cp_conv_transpose2d(cp_tensor *out, const cp_tensor *x,
                        const cp_tensor *w, const cp_tensor *bias,
                        const cp_conv_params *p, cp_err *e);

/* Separable filter, as cv2.sepFilter2D: every channel of x (N,C,H,W) or
 * (C,H,W) convolved with the kernel col[i] * row[j] (1-D tensors of kH and
 * kW taps); equals cp_conv2d with that kernel as a (C, 1, kH, kW) weight and
 * groups = C (p->groups is ignored), run as a row pass and a column pass
 * (sepconv.h).  bias may be NULL or hold C values. */
int cp_sep_conv2d(cp_tensor *out, const cp_tensor *x, const cp_tensor *col,
                  const cp_tensor *row, const cp_tensor *bias,
                  const cp_conv_params *p, cp_err *e);

/* Pad a (N,C,H,W) or (C,H,W) tensor by pad[4] = top,bottom,left,right with a
 * padding mode (F.pad semantics and limits). */
int cp_pad2d(cp_tensor *out, const cp_tensor *x, const int64_t *pad,
             cp_padmode mode, cp_err *e);

/* Which implementation cp_conv2d/cp_conv_transpose2d use. */
typedef enum { CP_IMPL_AUTO = 0, CP_IMPL_REFERENCE } cp_impl;
void cp_conv_set_impl(cp_impl impl);
cp_impl cp_conv_get_impl(void);

/* ---- kernels on contiguous buffers ----------------------------------------
 * x: N*C*H*W (NCHW), w: as the op's weight layout, b: O or NULL,
 * y: N*O*OH*OW, fully overwritten. */
void cp_conv2d_ref(const cp_geom *g, const float *x, const float *w,
                   const float *b, float *y);
void cp_conv_transpose2d_ref(const cp_geom *g, const float *x, const float *w,
                             const float *b, float *y);

/* Fast kernels: return 0 when they computed y, 1 when the problem is not one
 * they handle (the dispatcher then runs the reference loop). */
int cp_conv2d_fast(const cp_geom *g, const float *x, const float *w,
                   const float *b, float *y);
int cp_conv_transpose2d_fast(const cp_geom *g, const float *x, const float *w,
                             const float *b, float *y);

#endif
