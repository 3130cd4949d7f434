/* partial.h - NVIDIA-style partial convolution (Liu et al. 2018), math as
 * models/partialconv2d.py of NVIDIA/partialconv (see shared/SEMANTICS.md §4c):
 *   S     = conv2d(mask, ones)  (same stride/padding/dilation, groups 1,
 *                                zero padding)
 *   ratio = W / (S + 1e-8) * clamp(S, 0, 1)     W = taps of ones per output
 *   raw   = conv2d(x * mask, w, b)
 *   out   = ((raw - b) * ratio + b) * clamp(S, 0, 1)
 *   new_mask = clamp(S, 0, 1)
 * multi_channel = 0: mask (N|1, 1, H, W), broadcast over channels; ones is
 * (1,1,kH,kW); S and new_mask have one channel.  multi_channel = 1: mask
 * (N|1, C, H, W); ones (O, C, kH, kW); S and new_mask have O channels.
 * 3-D (unbatched) x takes a 3-D mask. */
#ifndef CP_PARTIAL_H
#define CP_PARTIAL_H

#include "conv.h"

int cp_partial_conv2d(cp_tensor *out, cp_tensor *new_mask, const cp_tensor *x,
                      const cp_tensor *mask, const cp_tensor *w,
                      const cp_tensor *bias, const cp_conv_params *p,
                      int multi_channel, cp_err *e);

#endif
