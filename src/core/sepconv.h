/* sepconv.h - separable (rank-1) conv2d: a row pass, then a column pass.
 *
 * A kernel w[i][j] = col[i] * row[j] needs kH + kW multiply-adds per output
 * instead of kH * kW.  Applies when every output channel sees one input
 * channel (Cg == 1: image filters, depthwise); each output channel may have
 * its own pair.  Every padding mode, stride and dilation, as cp_conv2d.
 *
 * Rank-1 rule (cp_sep_factor): pivot on the weight of largest magnitude
 * w[p][q]; col[i] = w[i][q], row[j] = w[p][j] / w[p][q]; the kernel is taken
 * as separable when every |col[i]*row[j] - w[i][j]| <= 2^-20 * |w[i][j]|
 * (computed in double; a zero weight must be reproduced exactly).  Exact
 * outer products rounded to float32 (Gaussian, box, Sobel presets) pass
 * with a margin of 4; any change the substitution makes to an output is at
 * most 2^-20 * sum |w||x| over its window, a tenth of the budget the tests
 * hold every fast kernel to (1e-5 * (sum |w||x| + |b| + 1)).
 *
 * The fast kernel runs on the threads of threads.h, items = (image, output
 * channel, band of output rows); inside a band the row-pass results live in
 * a ring of (kH-1)*dH + sH + 1 rows (of a strip of columns, so that the
 * ring stays within 128 KiB) in the thread's scratch: no full-size
 * temporary exists and each row is computed once per band and strip.
 * Padding cells are real zeros (or the mode's copies) times finite weights.
 * A result that is NaN or Inf makes the call return 1: the caller then runs
 * the direct path, whose NaN/Inf pattern is PyTorch's exactly. */
#ifndef CP_SEPCONV_H
#define CP_SEPCONV_H

#include "geometry.h"

/* The 1-D factors of every output channel: channel o uses
 * col + o*col_stride (kH values) and row + o*row_stride (kW values);
 * stride 0 shares one pair between all channels. */
typedef struct cp_sep_factors {
  const float *col, *row;
  int64_t col_stride, row_stride;
} cp_sep_factors;

/* Factor every output channel's kernel of a conv2d weight (O, 1, kH, kW)
 * by the rule above into col (O*kH) and row (O*kW).  0: all rank 1;
 * 1: some kernel is not (or has a non-finite weight, or Cg != 1). */
int cp_sep_factor(const cp_geom *g, const float *w, float *col, float *row);

/* Is the separable path worth it for this problem (cost model, measured:
 * see sepconv.c)?  Needs Cg == 1 and a kernel of at least 2 x 2. */
int cp_sep_worth(const cp_geom *g);
/* Allow (1, the default) or forbid (0) the separable path in the
 * dispatcher, so that tests and benchmarks can compare it with the direct
 * tiles on the same problem. */
void cp_sep_set_enabled(int on);

/* The fast kernel on contiguous NCHW buffers: 0 when y holds the result,
 * 1 when it could not (scratch unavailable, non-finite result). */
int cp_conv2d_sep(const cp_geom *g, const float *x, const cp_sep_factors *f,
                  const float *b, float *y);

/* The dispatcher's entry (cp_conv2d_fast): when the cost model says so and
 * every kernel of w (O, 1, kH, kW) is rank 1, factor and run; else 1. */
int cp_conv2d_sep_auto(const cp_geom *g, const float *x, const float *w,
                       const float *b, float *y);

/* Reference: the same two passes as plain loops over a full temporary
 * (double sums), the yardstick of the fast kernel. */
void cp_conv2d_sep_ref(const cp_geom *g, const float *x,
                       const cp_sep_factors *f, const float *b, float *y);

#endif
