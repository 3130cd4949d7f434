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

typedef struct vz_show vz_show;   /* opaque */

vz_show *vz_show_new(const char *title, int width, int height);
/* Add a tensor (shares or copies it); -1 with a reason when full/invalid. */
int vz_show_add(vz_show *sh, const char *name, const cp_tensor *t,
                cp_err *e);
void vz_show_free(vz_show *sh);
/* How many grids; the frame size; the header's title (copied, cut to
 * fit). */
int vz_show_count(const vz_show *sh);
void vz_show_size(const vz_show *sh, int *width, int *height);
const char *vz_show_title(const vz_show *sh);
void vz_show_set_title(vz_show *sh, const char *title);
void vz_show_draw(vz_show *sh, vz_canvas *s);
/* Draw one 2-D slice (values v, rows x cols) at x, y with cell size cs:
 * the grid primitive the script API (viz.grid) uses as well. */
void vz_draw_slice(vz_canvas *s, const float *v, int64_t rows,
                   int64_t cols, int x, int y, int cs, float lo, float hi,
                   int sequential);

#endif
