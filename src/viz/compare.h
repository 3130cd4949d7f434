/* compare.h - correlation and true convolution side by side (no Lua).
 *
 * A conv2d view shows one of the two (key f toggles); with v->compare on
 * (key F) a panel over its grids shows both at once, for the same input,
 * masks and padding: the kernel and its 180-degree turn, both outputs and
 * their difference, cells that differ outlined (view_compare.c). */
#ifndef VZ_COMPARE_H
#define VZ_COMPARE_H

#include "viz/view.h"

/* Both full outputs (N*O*OH*OW floats each), from the step model with flip
 * off (corr) and on (conv): the numbers the view shows either way.  -1
 * when the view is invalid or transposed, or out of memory. */
int vz_view_compare_outputs(const vz_view *v, float *corr, float *conv);

/* The panel, in the box x, y, w, h (nothing when it does not fit). */
void vz_view_compare_draw(vz_canvas *s, vz_view *v, int x, int y, int w,
                          int h);

/* A click on the panel: on a cell of one of its output grids, go to that
 * output's step (as a click on the view's output grid does). */
void vz_view_compare_click(vz_view *v, int x, int y);

#endif
