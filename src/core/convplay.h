/* convplay.h - convplay's core as a C library: float32 strided tensors and
 * PyTorch-exact 2-D convolutions, with no Lua and no SDL.
 *
 *   #include <convplay/convplay.h>
 *   cc prog.c $(pkg-config --cflags --libs convplay)
 *
 * Every function that can fail takes a cp_err * last and returns 0 or -1
 * with the reason in err.msg (err.h); nothing aborts, exits or prints.
 * Tensors follow one ownership rule (tensor.h): whoever holds a filled-in
 * cp_tensor calls cp_tensor_release() once.  Indices are 0-based here.
 *
 * A 10-line example (a 4x4 ramp, a 2x2 box filter with stride 2):
 *
 *   cp_err e;
 *   cp_tensor x, w, y;
 *   int64_t xs[4] = {1, 1, 4, 4}, ws[4] = {1, 1, 2, 2};
 *   cp_tensor_empty(&x, 4, xs, &e);
 *   for (int i = 0; i < 16; i++) cp_tensor_data(&x)[i] = (float)i;
 *   cp_tensor_full(&w, 4, ws, 1.0f, &e);
 *   cp_conv_params p;
 *   cp_conv_params_default(&p);
 *   p.stride[0] = p.stride[1] = 2;
 *   if (cp_conv2d(&y, &x, &w, NULL, &p, &e)) puts(e.msg);
 *   // y is (1,1,2,2): 10 18 42 50
 *   cp_tensor_release(&x); cp_tensor_release(&w); cp_tensor_release(&y);
 */
#ifndef CONVPLAY_H
#define CONVPLAY_H

#include "version.h"
#include "err.h"
#include "tensor.h"
#include "geometry.h"
#include "conv.h"
#include "partial.h"
#include "image.h"

#endif
