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

typedef struct vz_stack {
  char title[256];
  int n;                              /* layers */
  cp_layer l[VZ_STACK_MAX];           /* layer i+1 is l[i] */
  char op[VZ_STACK_MAX][24];          /* "conv2d", ... */
  int64_t C[VZ_STACK_MAX + 1];        /* grid j: channels (0 unknown) */
  int64_t H[VZ_STACK_MAX + 1], W[VZ_STACK_MAX + 1];
  unsigned char *rset[VZ_STACK_MAX + 1], *cset[VZ_STACK_MAX + 1];
  /* field of the hovered cell */
  unsigned char *rread[VZ_STACK_MAX], *cread[VZ_STACK_MAX];
  /* rows / cols of grid i that layer i+1 reads */
  int64_t ndrop[VZ_STACK_MAX][2];     /* unread rows / cols of grid i */
  int hl;                             /* hovered grid, -1: none */
  int64_t hr, hc;                     /* hovered cell (0-based) */
  double gx[VZ_STACK_MAX + 1], gy[VZ_STACK_MAX + 1], gcs[VZ_STACK_MAX + 1];
  /* where the last frame drew each grid (mouse hit test) */
  int width, height;                  /* frame size */
} vz_stack;

vz_stack *vz_stack_new(const char *title, int width, int height);
void vz_stack_free(vz_stack *st);
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
