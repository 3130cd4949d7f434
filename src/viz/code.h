/* code.h - the PyTorch and Keras code that computes what a view draws
 * (no Lua, no SDL calls).
 *
 *   char *py = vz_code(v, VZ_CODE_PYTORCH);   malloc'ed text, caller frees
 *   char *ks = vz_code(v, VZ_CODE_KERAS);     "not expressible in Keras:
 *                                              <reason>" when it is not
 *
 * The text follows the view's current parameters (v->req / v->g), masks,
 * kernel mask, partial convolution and flip.  Tensors are written so that
 * the numbers ARE convplay's:
 *   - up to VZ_CODE_LITERAL elements: a nested list literal, each float32
 *     printed with the fewest digits that read back as the same float32;
 *   - up to VZ_CODE_EXACT elements: base64 of the little-endian float32
 *     bytes, decoded by a three-line helper f32() written into the code;
 *   - larger: random values under torch.manual_seed(0) (numpy's
 *     default_rng(0) for Keras) and a comment saying that the numbers then
 *     differ from convplay's.
 * Every program leaves the result in `y`, NCHW as the output panel shows
 * it (partial convolution also `new_mask`), and prints it.
 *
 * The clipboard is reached through a hook so this module needs no video:
 * the window loop installs one (SDL_SetClipboardText); headless there is
 * none and vz_code_copy does nothing but report 0.
 */
#ifndef VZ_CODE_H
#define VZ_CODE_H

#include "viz/view.h"

typedef enum { VZ_CODE_PYTORCH = 0, VZ_CODE_KERAS = 1 } vz_code_lang;

#define VZ_CODE_LITERAL 64      /* elements written as a literal */
#define VZ_CODE_EXACT 65536     /* elements written exactly (base64) */

/* The code for v in lang, NUL-terminated, malloc'ed (NULL: out of memory).
 * *expressible (optional) receives 0 when Keras cannot express the view
 * (the text is then "not expressible in Keras: <reason>"). */
char *vz_code(const vz_view *v, vz_code_lang lang, int *expressible);

/* "pytorch" / "keras" (also "torch"): 0 and *lang, or -1. */
int vz_code_parse_lang(const char *s, vz_code_lang *lang);
const char *vz_code_lang_name(vz_code_lang lang);

/* The clipboard hook (NULL: none). */
typedef void (*vz_clipboard_fn)(const char *text);
void vz_code_set_clipboard(vz_clipboard_fn fn);
/* Put the code of the language the panel shows (PyTorch when hidden) on
 * the clipboard; 1 when a hook took it. */
int vz_code_copy(vz_view *v);

/* The code panel in the box x, y, w, h when v->code is on (view_code.c):
 * chips PyTorch / Keras / copy / close in its title row are clickable;
 * shrink: as tall as its text (a column of its own) rather than all of h
 * (an overlay covers all it is given). */
void vz_view_code_draw(vz_canvas *s, vz_view *v, int x, int y, int w, int h,
                       int shrink);
/* The width of the column the code panel takes at the right of a frame
 * W x H (the grids and the bottom lay out in the rest), or 0: the frame is
 * too narrow for both, and the panel covers the grids and the bottom as an
 * overlay (layer 1).  0 when the panel is hidden. */
int vz_view_code_room(vz_view *v, int W, int H);
/* The overlays of a frame: compare (over the grids, box p*) and code (in
 * its column right of p* and b*, or over both), as v->compare / v->code
 * ask; called
 * last by vz_view_draw (before the help). */
void vz_view_overlays_draw(vz_canvas *s, vz_view *v, int px, int py, int pw,
                           int ph, int bx, int by, int bw, int bh);
/* The outline of cells where correlation and convolution differ (the
 * compare panel, viz.compare); the legend names it (view_compare.c). */
vz_color vz_differs_color(void);
/* Is (x, y) on an overlay panel (code, compare) drawn in the last frame? */
int vz_view_in_overlay(const vz_view *v, int x, int y);
/* A click: 1 when it landed on an overlay (a chip acts; nothing under the
 * panel is clicked), 0 otherwise. */
int vz_view_overlay_click(vz_view *v, int x, int y);

#endif
