/* stack.h - a stack of layers (viz.stack), no Lua.
 *
 * The input and every layer's output as a grid, left to right, each with
 * its output-size formula filled in; hovering a cell highlights its
 * receptive field in every earlier grid (cp_layer_field, layer by layer
 * back to the input); input rows / columns no window reads are hatched;
 * a transposed layer lists the forward conv2d input sizes that map to its
 * input and the output_padding picking each.
 *
 *   vz_stack *st = vz_stack_new(title, 1280, 720);
 *   vz_stack_input(st, C, H, W);           // C = 0: unknown
 *   cp_layer l = {...};
 *   if (vz_stack_add(st, &l, "conv2d", O, &e)) ... // e: why it is empty
 *   vz_stack_hover(st, 2, 0, 3);           // layer 2's output (0, 3)
 *   vz_stack_draw(st, canvas);
 *   vz_stack_free(st);
 * Grids are numbered 0 (the input) .. n (the last layer's output). */
#ifndef VZ_STACK_H
#define VZ_STACK_H

#include "core/geometry.h"
#include "viz/draw.h"

#define VZ_STACK_MAX 16
#define VZ_STACK_MAXLEN 4096  /* largest height / width of any grid */

typedef struct vz_stack vz_stack;   /* opaque */

/* Where the last frame drew each grid (the mouse's hit test); a figure
 * saves and puts them back. */
typedef struct vz_stack_hits {
  double gx[VZ_STACK_MAX + 1], gy[VZ_STACK_MAX + 1], gcs[VZ_STACK_MAX + 1];
} vz_stack_hits;

/* Grid j of a stack for readers (s:state(), s:layout()). */
typedef struct vz_stack_grid {
  int64_t C, H, W;            /* channels (0: unknown), rows, cols */
  const unsigned char *rset, *cset; /* the hovered cell's field in this
                                 grid (H / W flags; hovered grid >= j) */
  const unsigned char *rread, *cread; /* rows / cols layer j+1 reads
                                 (NULL for the last grid) */
  double x, y, cs;            /* where the last frame drew it */
  const char *op;             /* layer j's op ("conv2d", ...; NULL: input) */
  int transposed;             /* layer j is a transposed convolution */
} vz_stack_grid;

vz_stack *vz_stack_new(const char *title, int width, int height);
void vz_stack_free(vz_stack *st);
/* How many layers; grid j (0 .. that count) into g. */
int vz_stack_count(const vz_stack *st);
void vz_stack_grid_get(const vz_stack *st, int j, vz_stack_grid *g);
/* The hovered grid (-1: none) and its cell's row and column (0-based). */
int vz_stack_hovered(const vz_stack *st, int64_t *r, int64_t *c);
void vz_stack_hits_get(const vz_stack *st, vz_stack_hits *hit);
void vz_stack_hits_set(vz_stack *st, const vz_stack_hits *hit);
/* The frame size; the header's title (copied, cut to fit). */
void vz_stack_size(const vz_stack *st, int *width, int *height);
const char *vz_stack_title(const vz_stack *st);
void vz_stack_set_title(vz_stack *st, const char *title);
/* The input grid; -1 with a reason when a size is out of range. */
int vz_stack_input(vz_stack *st, int64_t C, int64_t H, int64_t W,
                   cp_err *e);
/* Append a layer producing `out_ch` channels (0: unknown); -1 with the
 * reason when it is invalid or its output would be empty. */
int vz_stack_add(vz_stack *st, const cp_layer *l, const char *op,
                 int64_t out_ch, cp_err *e);
/* Hover cell (r, c) of grid j (0-based); j < 0 clears.  -1 when the cell
 * is outside the grid (nothing changes). */
int vz_stack_hover(vz_stack *st, int j, int64_t r, int64_t c);
/* Hover what the last drawn frame shows at pixel (x, y) (clears outside
 * every grid); 1 when the hover changed. */
int vz_stack_mouse(vz_stack *st, int x, int y);
/* Layer i's (1-based) output-size formula for dimension dim with numbers,
 * "H_out = ⌊(32 + 2·1 − 1·(3−1) − 1)/2⌋ + 1 = 16". */
void vz_stack_formula(const vz_stack *st, int i, int dim, char *buf,
                      size_t n);
/* For a transposed layer i (1-based) and dimension dim: the forward conv2d
 * input sizes mapping to its input size, sizes[r] with output_padding r
 * (r < its stride); returns how many (0 for other layers). */
int vz_stack_convT_sizes(const vz_stack *st, int i, int dim,
                         int64_t *sizes, int max);
void vz_stack_draw(vz_stack *st, vz_canvas *s);

#endif
