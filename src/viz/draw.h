/* draw.h - software drawing on SDL surfaces, shared by every viz module.
 *
 * Everything draws onto an SDL_Surface in ARGB8888 (vz_surface_new), the same
 * code for a window (blit the surface to the window, see vz_present) and for
 * headless rendering: no SDL_Init(SDL_INIT_VIDEO) is needed for any of this,
 * so screenshots and recordings work with no display at all.
 *
 * Usage:
 *   char err[256];
 *   if (vz_init(err, sizeof err)) { report err; }   // fonts: DejaVu Sans Mono
 *   SDL_Surface *s = vz_surface_new(640, 480);
 *   vz_clear(s, VZ_BG);
 *   vz_fill(s, 10, 10, 40, 40, vz_diverging(-0.5f, 1.0f));
 *   vz_text(s, 10, 60, "x[0,0,1,2] = 3", 14, 0, VZ_FG, VZ_LEFT);
 *   vz_save_png(s, "out.png", err, sizeof err);      // atomic: tmp + rename
 *   SDL_FreeSurface(s);
 *
 * Ownership: vz_surface_new returns a surface the caller frees with
 * SDL_FreeSurface.  Fonts are cached inside this module (vz_font) and freed
 * by vz_quit.  Functions that can fail return 0 on success, -1 with a reason
 * in err otherwise; nothing here aborts or exits.
 */
#ifndef VZ_DRAW_H
#define VZ_DRAW_H

#include <stddef.h>
#include <stdint.h>

#include <SDL.h>
#include <SDL_ttf.h>

#define VZ_FONT_PATH "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
#define VZ_FONT_BOLD_PATH \
  "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"

/* Palette of the playground (dark theme). */
#define VZ_RGB(r, g, b) ((SDL_Color){(r), (g), (b), 255})
#define VZ_RGBA(r, g, b, a) ((SDL_Color){(r), (g), (b), (a)})
#define VZ_BG VZ_RGB(24, 26, 31)          /* window background */
#define VZ_PANEL VZ_RGB(34, 37, 44)       /* panel background */
#define VZ_FG VZ_RGB(225, 228, 232)       /* normal text */
#define VZ_DIM VZ_RGB(140, 146, 156)      /* secondary text */
#define VZ_GRIDLINE VZ_RGB(60, 64, 72)    /* lines between cells */
#define VZ_ACCENT VZ_RGB(255, 196, 0)     /* the current tap / footprint */
#define VZ_ACCENT2 VZ_RGB(0, 220, 140)    /* the current output cell */
#define VZ_HOVER VZ_RGB(255, 0, 255)      /* hover highlights */
#define VZ_ERRC VZ_RGB(255, 95, 95)       /* error text */

enum { VZ_LEFT = 0, VZ_CENTER = 1, VZ_RIGHT = 2 };

/* ---- lifetime ---------------------------------------------------------- */
/* TTF_Init and a check that the fonts exist (clear error if not). */
int vz_init(char *err, size_t n);
void vz_quit(void);
/* A font of pixel size px (clamped to 6..96), regular or bold; cached. */
TTF_Font *vz_font(int px, int bold);

/* ---- surfaces and shapes -------------------------------------------------- */
SDL_Surface *vz_surface_new(int w, int h);
void vz_clear(SDL_Surface *s, SDL_Color c);
/* Filled rectangle; alpha < 255 blends over what is there. */
void vz_fill(SDL_Surface *s, int x, int y, int w, int h, SDL_Color c);
/* Outline of thickness t drawn inside the rectangle. */
void vz_frame(SDL_Surface *s, int x, int y, int w, int h, int t, SDL_Color c);
/* Line of thickness t (square pen). */
void vz_line(SDL_Surface *s, int x0, int y0, int x1, int y1, int t,
             SDL_Color c);
/* Dashed outline (dash length dl), for "virtual" cells such as padding. */
void vz_dashed(SDL_Surface *s, int x, int y, int w, int h, int dl,
               SDL_Color c);
/* Read one pixel (for tests and the GIF quantiser). */
SDL_Color vz_pixel(SDL_Surface *s, int x, int y);

/* ---- text ------------------------------------------------------------------ */
/* Draw UTF-8 text with its top at y; align picks which x the text is
 * anchored at.  Returns the width drawn. */
int vz_text(SDL_Surface *s, int x, int y, const char *utf8, int px, int bold,
            SDL_Color c, int align);
/* Text centred in a box. */
void vz_text_box(SDL_Surface *s, int x, int y, int w, int h, const char *utf8,
                 int px, int bold, SDL_Color c);
void vz_text_size(const char *utf8, int px, int bold, int *w, int *h);
/* Largest font size <= px at which utf8 fits in w x h (0 if none >= 6). */
int vz_fit_text(const char *utf8, int px, int bold, int w, int h);

/* ---- numbers and colours ---------------------------------------------------- */
/* Compact value text: at most maxc characters ("3", "-0.25", "1.2e+04"). */
void vz_fmt(char *buf, size_t n, double v, int maxc);
/* Diverging blue - white - red scale, zero in the middle; v in
 * [-absmax, absmax] (clamped).  NaN is drawn magenta-grey. */
SDL_Color vz_diverging(float v, float absmax);
/* Sequential dark-to-light scale for v in [lo, hi] (masks, images). */
SDL_Color vz_sequential(float v, float lo, float hi);
/* Black or white, whichever reads better on background c. */
SDL_Color vz_contrast(SDL_Color c);
SDL_Color vz_mix(SDL_Color a, SDL_Color b, float t);
/* Colour bar with tick labels lo / 0 / hi (or lo / hi when sequential). */
void vz_legend(SDL_Surface *s, int x, int y, int w, int h, float lo, float hi,
               int diverging, const char *label);

/* ---- files --------------------------------------------------------------- */
/* PNG of the surface (RGB), written to a temporary file then renamed. */
int vz_save_png(SDL_Surface *s, const char *path, char *err, size_t n);

/* Animated GIF: frames quantised to a fixed 256-colour palette (6x6x6 cube
 * plus greys), looping forever; delay in 1/100 s per frame.  Written to a
 * temporary file and renamed on vz_gif_close. */
typedef struct vz_gif vz_gif;
vz_gif *vz_gif_open(const char *path, int w, int h, int delay_cs, char *err,
                    size_t n);
int vz_gif_frame(vz_gif *g, SDL_Surface *s, int delay_cs, char *err,
                 size_t n);
/* Finishes and renames (ok = 1) or discards (ok = 0) the file; frees g. */
int vz_gif_close(vz_gif *g, int ok, char *err, size_t n);

/* ---- window -------------------------------------------------------------- */
/* Copy surface s to the window (its surface), scaling nothing. */
int vz_present(SDL_Window *win, SDL_Surface *s);

#endif
