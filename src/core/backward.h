/* backward.h - gradients of conv2d and conv_transpose2d, equal to
 * torch.autograd on F.conv2d / F.conv_transpose2d (and nn.Conv2d's padding
 * modes), built from the forward ops and the one geometry module.
 *
 * Fast paths (auto mode): Winograd F(4x4, 3x3) grad_input and F(3x3, 4x4)
 * grad_weight for 3x3 stride-1 kernels, the gather view for other stride-1
 * grad_inputs, an unfold product for other grad_weights (grad_kernels.c).
 *
 * conv2d, y = conv2d(x, w; s, p, d, G):
 *   grad_input  = conv_transpose2d(gy, w; s, p, d, G, output_padding op)
 *                 with op = (H + p_top + p_bottom - d(k-1) - 1) mod s, the
 *                 rows the forward's floor division dropped (per dim);
 *                 with a padding mode other than zeros, the gradient of the
 *                 padded input is folded back onto the cells each padding
 *                 cell copies (cp_pad2d_backward).
 *   grad_weight = the correlation of the input with gy, stride and dilation
 *                 swapped: per group, conv2d(x^T, gy^T; stride d,
 *                 dilation s, padding p) cropped to kH x kW and transposed
 *                 (x^T: channels as the batch, the batch as channels).
 *                 Fast paths: the same sum as gy (O, L) times unfold(x)^T,
 *                 or Winograd F(3x3, 4x4) for 3x3 stride-1 kernels.
 *   grad_bias   = gy summed over N, H, W.
 * conv_transpose2d, y = conv_transpose2d(x, w; s, p, op, d, G):
 *   grad_input  = conv2d(gy, w; s, p, d, G)  (a transposed conv's adjoint)
 *   grad_weight = per group, conv2d(gy^T, x^T; stride d, dilation s,
 *                 padding p) cropped and transposed to (C, O/G, kH, kW).
 *                 Fast path: x (C, L) times unfold(gy)^T.
 *   grad_bias   = gy summed over N, H, W.
 * Inputs may be 4-D or unbatched 3-D (gy then 3-D too); the gradients have
 * the shapes of x, w and (O).  Any of gx, gw, gb may be NULL (not wanted).
 */
#ifndef CP_BACKWARD_H
#define CP_BACKWARD_H

#include "geometry.h"
#include "tensor.h"

int cp_conv2d_backward(cp_tensor *gx, cp_tensor *gw, cp_tensor *gb,
                       const cp_tensor *x, const cp_tensor *w,
                       const cp_tensor *gy, const cp_conv_params *p,
                       cp_err *e);
int cp_conv_transpose2d_backward(cp_tensor *gx, cp_tensor *gw, cp_tensor *gb,
                                 const cp_tensor *x, const cp_tensor *w,
                                 const cp_tensor *gy,
                                 const cp_conv_params *p, cp_err *e);

/* The adjoint of cp_pad2d: out (x's H, W) gets every cell of g (the padded
 * gradient, H + t + b by W + l + r) added at the cell it was copied from
 * (zeros mode: the padding cells are dropped). */
int cp_pad2d_backward(cp_tensor *out, const cp_tensor *g, int64_t H,
                      int64_t W, const int64_t *pad, cp_padmode mode,
                      cp_err *e);

#endif
