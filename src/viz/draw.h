/* draw.h - drawing on a canvas with Cairo (shapes) and Pango (text),
 * shared by every viz module.
 *
 * A canvas is a Cairo surface plus what the layout tests need: every text
 * and panel drawn is recorded as a box (vz_canvas_boxes), so a figure can
 * be checked for overlaps and clipping without looking at pixels.  The same
 * drawing code renders into a window (an image canvas whose pixels are
 * copied to the window, vz_present), into PNG and GIF frames, and into SVG
 * and PDF files (vz_canvas_vector).  No SDL_Init is needed for any of this,
 * so screenshots and recordings work with no display at all.
 *
 * Usage:
 *   char err[256];
 *   if (vz_init(err, sizeof err)) { report err; }   // fonts: DejaVu
 *   vz_canvas *s = vz_canvas_new(640, 480);
 *   vz_clear(s, VZ_BG);
 *   vz_fill(s, 10, 10, 40, 40, vz_diverging(-0.5f, 1.0f));
 *   vz_text(s, 10, 60, "x[1,1,2,3] = 3", 14, 0, VZ_FG, VZ_LEFT);
 *   vz_save_png(s, "out.png", err, sizeof err);      // atomic: tmp + rename
 *   vz_canvas_free(s);
 *
 * Colours come from the current theme (vz_set_theme: dark or light) and
 * palette (vz_set_palette); VZ_BG and friends read the current theme, so a
 * figure is drawn in the light theme by switching the theme around the
 * drawing call.
 *
 * Ownership: vz_canvas_new / vz_canvas_vector return a canvas the caller
 * frees with vz_canvas_free.  Text layouts are cached inside this module
 * and freed by vz_quit.  Functions that can fail return 0 on success, -1
 * with a reason in err otherwise; nothing here aborts or exits.
 */
#ifndef VZ_DRAW_H
#define VZ_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

typedef struct vz_color { uint8_t r, g, b, a; } vz_color;

#define VZ_RGB(r, g, b) ((vz_color){(r), (g), (b), 255})
#define VZ_RGBA(r, g, b, a) ((vz_color){(r), (g), (b), (a)})

/* One theme: every colour with a meaning (the legend names them). */
typedef struct vz_theme {
  const char *name;           /* "dark" or "light" */
  vz_color bg;                /* window background */
  vz_color panel;             /* panel background */
  vz_color fg;                /* normal text */
  vz_color dim;               /* secondary text */
  vz_color grid;              /* lines between cells, frames */
  vz_color accent;            /* the current footprint / tap */
  vz_color accent2;           /* the current output cell */
  vz_color hover;             /* hover highlights */
  vz_color err;               /* error text */
  vz_color pad;               /* zero padding cell */
  vz_color hole;              /* stride hole (zero insertion) */
  vz_color crop;              /* cropped canvas cell */
  vz_color outpad;            /* output_padding marker */
  vz_color pending;           /* output cell not computed yet */
  vz_color errbg;             /* error box background */
  vz_color shade;             /* overlay for inactive grids (alpha) */
} vz_theme;

extern const vz_theme *vz_th;  /* the current theme */
#define VZ_BG (vz_th->bg)
#define VZ_PANEL (vz_th->panel)
#define VZ_FG (vz_th->fg)
#define VZ_DIM (vz_th->dim)
#define VZ_GRIDLINE (vz_th->grid)
#define VZ_ACCENT (vz_accent())
#define VZ_ACCENT2 (vz_th->accent2)
#define VZ_HOVER (vz_th->hover)
#define VZ_ERRC (vz_th->err)

/* The footprint colour: the theme's, or one the palette does not use. */
vz_color vz_accent(void);
/* Select the theme ("dark" or "light"); returns the previous one's name,
 * or NULL (and changes nothing) for an unknown name. */
const char *vz_set_theme(const char *name);
/* Select the value palette: "default" (diverging blue - neutral - red) or
 * "cividis" (colour-blind safe).  Returns the previous name, or NULL. */
const char *vz_set_palette(const char *name);
const char *vz_palette_name(void);

/* Default frame: fits a 1366x768 screen less the desktop's bars. */
#define VZ_DEFAULT_W 1280
#define VZ_DEFAULT_H 720

enum { VZ_LEFT = 0, VZ_CENTER = 1, VZ_RIGHT = 2 };
/* Text styles (the `bold` argument of the text functions is a set). */
enum { VZ_MONO = 0, VZ_BOLD = 1, VZ_SANS = 2 };

/* Box kinds recorded for the layout (see vz_canvas_boxes). */
enum { VZ_BOX_TEXT = 0, VZ_BOX_LABEL = 1, VZ_BOX_PANEL = 2 };
typedef struct vz_box {
  int kind;                   /* VZ_BOX_* */
  char *text;                 /* the text (owned), NULL for a panel */
  double x, y, w, h;          /* ink-independent logical box, pixels */
  vz_color fg, bg;            /* label: text colour and the cell's colour */
  int px;                     /* font size of a text */
  const char *name;           /* panel: its name (static string) */
  int layer;                  /* 0 the frame, 1 an overlay drawn over it
                               * (help, tooltip, message) */
} vz_box;

typedef struct vz_canvas vz_canvas;
struct vz_canvas {
  int w, h;                   /* frame size in pixels */
  void *cr;                   /* cairo_t * (opaque outside draw.c) */
  void *surf;                 /* cairo_surface_t * */
  int vector;                 /* 1: an SVG or PDF surface */
  vz_box *boxes;              /* recorded boxes */
  int nbox, capbox;
  int clips;                  /* nesting depth of vz_clip */
  int layer;                  /* layer of the boxes recorded now */
};

/* ---- lifetime ---------------------------------------------------------- */
/* A check that the fonts exist (clear error if not). */
int vz_init(char *err, size_t n);
void vz_quit(void);

/* ---- canvases ------------------------------------------------------------ */
/* An ARGB32 image canvas (NULL when out of memory or too large). */
vz_canvas *vz_canvas_new(int w, int h);
/* An SVG or PDF canvas writing to path, chosen by its extension (".svg",
 * ".pdf"); vz_canvas_finish writes it. */
vz_canvas *vz_canvas_vector(const char *path, int w, int h, char *err,
                            size_t n);
/* Finish a vector canvas (writes the file atomically); 0 or -1 + err. */
int vz_canvas_finish(vz_canvas *c, char *err, size_t n);
void vz_canvas_free(vz_canvas *c);
/* Pixels of an image canvas (ARGB32, native endian), after flushing Cairo;
 * stride in pixels.  Call vz_canvas_dirty after writing to them. */
uint32_t *vz_canvas_pixels(vz_canvas *c, int *stride);
void vz_canvas_dirty(vz_canvas *c);
/* Forget the recorded boxes (each frame starts empty). */
void vz_canvas_reset_boxes(vz_canvas *c);
/* Record a panel box (what v:layout() reports as kind "panel"). */
void vz_panel_box(vz_canvas *c, const char *name, int x, int y, int w, int h);

/* ---- shapes -------------------------------------------------------------- */
void vz_clear(vz_canvas *s, vz_color c);
/* Filled rectangle; alpha < 255 blends over what is there. */
void vz_fill(vz_canvas *s, double x, double y, double w, double h, vz_color c);
/* Outline of thickness t drawn inside the rectangle. */
void vz_frame(vz_canvas *s, double x, double y, double w, double h, double t,
              vz_color c);
/* Line of width t with round caps. */
void vz_line(vz_canvas *s, double x0, double y0, double x1, double y1,
             double t, vz_color c);
/* Dashed outline (dash length dl), for "virtual" cells such as padding. */
void vz_dashed(vz_canvas *s, double x, double y, double w, double h,
               double dl, vz_color c);
/* Filled circle. */
void vz_disc(vz_canvas *s, double cx, double cy, double r, vz_color c);
/* Restrict drawing to a rectangle until the matching vz_unclip. */
void vz_clip(vz_canvas *s, int x, int y, int w, int h);
void vz_unclip(vz_canvas *s);
/* Paint an ARGB32 image (w x h, stride in pixels) scaled into the
 * rectangle; smooth = 0 shows pixels as blocks. */
void vz_image(vz_canvas *s, const uint32_t *argb, int w, int h, int stride,
              double x, double y, double dw, double dh, int smooth);
/* Read one pixel of an image canvas (tests, GIF quantiser). */
vz_color vz_pixel(vz_canvas *s, int x, int y);

/* ---- text ------------------------------------------------------------------ */
/* Draw UTF-8 text with its top at y; align picks which x the text is
 * anchored at.  Returns the width drawn.  Recorded as a text box. */
int vz_text(vz_canvas *s, int x, int y, const char *utf8, int px, int style,
            vz_color c, int align);
/* A paragraph wrapped to width w, at most maxh pixels tall (the last line
 * shown ends in "…" when the text does not fit).  Returns its height. */
int vz_para(vz_canvas *s, int x, int y, int w, int maxh, const char *utf8,
            int px, int style, vz_color c);
/* Text centred in a cell of colour bg (recorded as a label with both
 * colours, for the contrast test). */
/* How many lines vz_para wraps utf8 to in w pixels (no height limit). */
int vz_para_lines(const char *utf8, int px, int style, int w);
void vz_text_box(vz_canvas *s, int x, int y, int w, int h, const char *utf8,
                 int px, int style, vz_color c, vz_color bg);
void vz_text_size(const char *utf8, int px, int style, int *w, int *h);
/* Largest font size <= px at which utf8 fits in w x h (0 if none >= min). */
int vz_fit_text(const char *utf8, int px, int style, int w, int h);
/* The smallest size text is drawn at (13 px: every reading text). */
#define VZ_MIN_PX 13
/* Cut UTF-8 text in place so that it fits in w pixels, ending with "…"
 * when anything was cut.  Returns 1 when it cut. */
int vz_ellipsize(char *t, int px, int style, int w);

/* ---- numbers and colours ---------------------------------------------------- */
/* Compact value text: at most maxc characters ("3", "-0.25", "1.2e+04")
 * when that keeps two significant digits (or is v itself), else v to two
 * significant digits, longer: never "-0", never "0" for -0.02. */
void vz_fmt(char *buf, size_t n, double v, int maxc);
/* A cell's value text: the most precise form of v, to at most 3
 * significant digits, that fits w pixels at px
 * or smaller, down to VZ_MIN_PX, in the cells' font (VZ_SANS, whose sign and point are narrow) and still
 * keeps two significant digits, or is v exactly (never "-4" for -4.5 or
 * "0" for -0.1);
 * "…" when no such form fits (the tooltip and the tap list have it). */
void vz_fmt_fit(char *buf, size_t n, double v, int px, int w);
/* Diverging scale of the current palette, zero a neutral mid tone; v in
 * [-absmax, absmax] (clamped).  NaN is drawn magenta-grey. */
vz_color vz_diverging(float v, float absmax);
/* Sequential scale for v in [lo, hi] (masks). */
vz_color vz_sequential(float v, float lo, float hi);
/* Black or white text, whichever has the higher contrast on c (WCAG). */
vz_color vz_contrast(vz_color c);
/* WCAG contrast ratio of two colours (1 .. 21). */
double vz_contrast_ratio(vz_color a, vz_color b);
vz_color vz_mix(vz_color a, vz_color b, float t);
/* Colour bar with tick labels lo / 0 / hi (or lo / hi when sequential).
 * Returns the height used (bar and labels). */
int vz_legend(vz_canvas *s, int x, int y, int w, int h, float lo, float hi,
              int diverging, const char *label, int px);

/* ---- files --------------------------------------------------------------- */
/* PNG of the canvas, written to a temporary file then renamed. */
int vz_save_png(vz_canvas *s, const char *path, char *err, size_t n);

/* Animated GIF: frames quantised to one global palette, each frame storing
 * only the changed rectangle with unchanged pixels transparent, looping
 * forever; delay in 1/100 s per frame.  Written to a temporary file and
 * renamed on vz_gif_close. */
typedef struct vz_gif vz_gif;
vz_gif *vz_gif_open(const char *path, int w, int h, int delay_cs, char *err,
                    size_t n);
int vz_gif_frame(vz_gif *g, vz_canvas *s, int delay_cs, char *err, size_t n);
/* Finishes and renames (ok = 1) or discards (ok = 0) the file; frees g. */
int vz_gif_close(vz_gif *g, int ok, char *err, size_t n);

/* ---- window -------------------------------------------------------------- */
/* The size to open a window at, for a frame of *w x *h: the default
 * grows on a large display; nothing is larger than the screen's usable
 * area (video must be initialised). */
void vz_window_size(int *w, int *h);
/* Copy canvas s to the window (its surface), scaling nothing. */
int vz_present(SDL_Window *win, vz_canvas *s);

#endif
