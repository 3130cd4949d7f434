/* conv_fast.c - fast convolution kernels (filled in by the speed work).
 * Until a kernel applies, every problem goes to the reference loop. */
#include "conv.h"

int cp_conv2d_fast(const cp_geom *g, const float *x, const float *w,
                   const float *b, float *y) {
  (void)g; (void)x; (void)w; (void)b; (void)y;
  return 1;
}

int cp_conv_transpose2d_fast(const cp_geom *g, const float *x, const float *w,
                             const float *b, float *y) {
  (void)g; (void)x; (void)w; (void)b; (void)y;
  return 1;
}
