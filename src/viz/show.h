/* show.h - static grids of tensors side by side (viz.show), no Lua.
 *
 * Each item is a tensor shown through its last two dimensions; leading
 * dimensions become a row of tiles (up to VZ_SHOW_TILES), labelled with
 * their 1-based indices.  Signed data use the diverging scale, masks (all
 * values in [0, 1]) the sequential one. */
#ifndef VZ_SHOW_H
#define VZ_SHOW_H

#include "viz/draw.h"

#include "core/tensor.h"

#define VZ_SHOW_MAX 8
#define VZ_SHOW_TILES 16

typedef struct vz_show {
  char title[256];                /* header line */
  int n;                          /* items used */
  char name[VZ_SHOW_MAX][32];     /* item labels ("input", ...) */
  cp_tensor t[VZ_SHOW_MAX];       /* contiguous copies (owned) */
  int width, height;              /* frame size */
} vz_show;

vz_show *vz_show_new(const char *title, int width, int height);
/* Add a tensor (shares or copies it); -1 with a reason when full/invalid. */
int vz_show_add(vz_show *sh, const char *name, const cp_tensor *t,
                cp_err *e);
void vz_show_free(vz_show *sh);
void vz_show_draw(vz_show *sh, vz_canvas *s);
/* Draw one 2-D slice (values v, rows x cols) at x, y with cell size cs:
 * the grid primitive the script API (viz.grid) uses as well. */
void vz_draw_slice(vz_canvas *s, const float *v, int64_t rows,
                   int64_t cols, int x, int y, int cs, float lo, float hi,
                   int sequential);

#endif
