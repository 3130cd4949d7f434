/* view_priv.h - the view's struct and what the view's files share
 * (private to src/viz: the bindings see view.h only).  Small helpers on a
 * view's tensors and on grid cells; the panels. */
#ifndef VZ_VIEW_PRIV_H
#define VZ_VIEW_PRIV_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "viz/draw.h"
#include "viz/view.h"
#include "viz/view_pool.h"


/* ====================================================================== */
/* The view (opaque outside src/viz: see view.h)                           */
/* ====================================================================== */

struct vz_view {
  /* ---- the problem ---- */
  int pool;                   /* VZ_POOL_*: a pooling view (w = ones) */
  cp_pool_params preq;        /* pooling: kernel, ceil_mode,
                               * count_include_pad, divisor_override (stride,
                               * padding, dilation come from req) */
  int ret_idx;                /* max pooling: return_indices shown */
  cp_tensor ind;              /* max_unpool2d: indices, contiguous 4-D */
  int64_t *unpool_src;        /* max_unpool2d: per output cell the input
                               * offset written there, or -1 */
  int64_t unpool_hw[2];       /* max_unpool2d: output size */
  int dims1;                  /* 1-D op (H = 1): indices shown as (n, c, t) */
  int causal;                 /* 1-D: causal padding kept at d(k-1), 0 */
  cp_tensor x, w, b, mask, kmask; /* contiguous; x and mask 4-D */
  int has_b, has_mask, has_kmask; /* which optional tensors exist */
  int partial, multi, flip;   /* partial conv, multi-channel mask, flip */
  cp_conv_params req;         /* parameters as requested (keys edit) */
  int scatter;                /* transposed: scatter (1) or gather (0) */
  int grad;                   /* backward view: VZ_GRAD_* (0: forward) */
  cp_tensor fx, gy;           /* backward: forward input, grad_output (x
                                 shares gy for grad_input, fx otherwise;
                                 req stays the forward conv2d's) */
  int gemm;                   /* unfold view: VZ_GEMM_* (0: not one) */
  float *cmat;                /* unfold view: C of sample cmat_n, or NULL */
  int64_t cmat_n;
  int cmpview;                /* compare view (view_cmpview.c): t2, y2,
                                 taps2, info2 are the convolution's */
  cp_trace t2;
  float *y2;
  cp_tap *taps2;
  cp_unit info2;
  /* ---- derived (vz_view_rebuild) ---- */
  int ok;                     /* the problem is valid */
  char err[512];              /* why not, when !ok */
  cp_geom g;                  /* the validated problem */
  cp_trace t;                 /* its step model */
  float *y;                   /* final output N*O*OH*OW */
  float *canvas;              /* scatter: output before unit canvas_unit */
  int64_t canvas_unit;        /* unit the canvas is "before" */
  cp_tap *taps;               /* taps of unit cur_unit */
  cp_unit info;               /* info of unit cur_unit */
  int64_t cur_unit;           /* unit taps/info describe (-1: none) */
  float xmax, wmax, ymax;     /* largest |value| per panel (colour scale) */
  /* ---- stepping ---- */
  int by_tap;                 /* granularity: tap (1) or cell (0) */
  int64_t step;               /* 1 .. steps */
  int playing;                /* play/pause */
  int backward;               /* playing backwards */
  double speed;               /* steps per second while playing */
  double play_acc;            /* fractional steps accumulated */
  /* ---- presentation ---- */
  char title[256];            /* shown in the header */
  char caption[512];          /* explanation line (may be empty) */
  int keras;                  /* HWIO labels */
  int help;                   /* keyboard help shown */
  int code;                   /* code panel: 0 hidden, 1 PyTorch, 2 Keras */
  int compare;                /* correlation / convolution side by side */
  int overlay[2][4];          /* code, compare panels last drawn: x, y, w, h */
  int code_btn[4][4];         /* code panel chips: PyTorch, Keras, copy,
                               * close (w = 0: not drawn) */
  vz_grid cmp[3];             /* compare panel's output grids (ch = o,
                               * ch2 = n) */
  int width, height;          /* frame size */
  int chrome;                 /* key hints, play state, footer shown */
  unsigned panels;            /* VZ_PANEL_* shown */
  char footer[160];           /* right side of the footer (page, set by
                               * the app), may be empty */
  char status[160];           /* a message for the status line (a key
                               * that does not apply, a clamp), cleared
                               * by the next key */
  int pinned;                 /* the hovered cell is pinned (a click) */
  int timeline_drag;          /* the timeline is being dragged */
  vz_view_hits hit;           /* what the last frame drew where */
  int fs, fsm, lh;            /* this frame's body / small font, line h */
  int height_now;             /* this frame's height */
  float zoom;                 /* grid zoom factor (1 = fit) */
  int panx, pany;             /* grid pan in pixels */
  int hover;                  /* 0 none, 1 output cell, 2 input cell */
  int64_t hover_idx[4];       /* hovered cell (n, c, r, c) */
  int mousex, mousey;         /* last mouse position */
};

typedef struct box { int x, y, w, h; } box;

/* Rows/cols of the input-side grid and how a cell maps to the input. */
typedef struct inmap {
  int64_t r0, c0, rows, cols; /* drawn range in grid coordinates */
  int canvas;                 /* gather: coordinates on the zero canvas */
} inmap;

/* ====================================================================== */
/* Small helpers                                                           */
/* ====================================================================== */

static inline int64_t xoff(const vz_view *v, int64_t n, int64_t c, int64_t h,
                    int64_t w) {
  return cp_off4(v->x.shape, n, c, h, w);
}
static inline int64_t yoff(const vz_view *v, int64_t n, int64_t o, int64_t r,
                    int64_t c) {
  return cp_geom_yoff(&v->g, n, o, r, c);
}
static inline float xval(const vz_view *v, int64_t n, int64_t c, int64_t h,
                  int64_t w) {
  return cp_tensor_data(&v->x)[xoff(v, n, c, h, w)];
}
static inline float mval(const vz_view *v, int64_t n, int64_t c, int64_t h,
                  int64_t w) {
  return v->has_mask ? cp_tensor_data(&v->mask)[xoff(v, n, c, h, w)] : 1.0f;
}
/* Weight element (a, b, i, j) of the stored 4-D weight. */
static inline float wval(const vz_view *v, int64_t a, int64_t b, int64_t i,
                  int64_t j) {
  return cp_tensor_data(&v->w)[cp_off4(v->w.shape, a, b, i, j)];
}
static inline float kmval(const vz_view *v, int64_t i, int64_t j) {
  return v->has_kmask ? cp_tensor_data(&v->kmask)[i * v->w.shape[3] + j]
                      : 1.0f;
}

/* Font size for values in a cell of size cs (0: too small for text). */
static inline int value_px(int cs) {
  if (cs < 24) return 0;
  /* a third of the cell; up to 20 px in the default frame's cells (64 px),
   * growing with larger ones (a 2560x1440 figure's 110 px cells: 33 px) */
  int px = cs * 36 / 100, cap = cs * 30 / 100 > 20 ? cs * 30 / 100 : 20;
  return px < VZ_MIN_PX ? VZ_MIN_PX : px > cap ? cap : px;
}

/* The width a cell's digits may take: clear of the 2 px outline that marks
 * a footprint cell, so an outline does not cut a digit. */
static inline int cell_text_w(int cs) { return cs - 6; }

/* A coloured cell with its value when it fits; crossed = masked out (a
 * thin cross under the digits).  The digits are black or white, whichever
 * contrasts more with the fill (at least 4.5:1). */
static inline void paint_cell(vz_canvas *s, int x, int y, int cs, vz_color fill,
                       const char *txt, int crossed) {
  int gap = cs >= 6 ? 1 : 0;
  vz_fill(s, x, y, cs - gap, cs - gap, fill);
  int px = value_px(cs);
  if (!(crossed && cs >= 10) && !(px && txt && *txt)) return;
  vz_color tc = vz_contrast(fill);
  if (crossed && cs >= 10) {
    vz_color lc = vz_mix(tc, fill, 0.6f);
    vz_line(s, x + 2, y + 2, x + cs - 3, y + cs - 3, 1, lc);
    vz_line(s, x + cs - 3, y + 2, x + 2, y + cs - 3, 1, lc);
  }
  if (px && txt && *txt) {
    int fit = vz_fit_text(txt, px, VZ_SANS, cell_text_w(cs), cs - 2);
    if (fit)
      vz_text_box(s, x, y, cs - gap, cs - gap, txt, fit, VZ_SANS, tc, fill);
  }
}

/* The largest cell: 64 px at the default size, growing with the frame. */
static inline int max_cell(const vz_view *v) { return v->fs * 64 / 15; }

/* Height of a line of text at px. */
static inline int line_hpx(int px) {
  int h;
  vz_text_size("Ag", px, 0, NULL, &h);
  return h;
}

static inline void fmt_value(char *b, size_t n, double v, int cs) {
  int px = value_px(cs);
  if (!px) { /* no digits at this cell size: nothing to format */
    b[0] = 0;
    return;
  }
  vz_fmt_fit(b, n, v, px, cell_text_w(cs));
}

static inline void cell_rect(const vz_grid *g, int64_t r, int64_t c, int *x, int *y) {
  *x = g->x + (int)((c - g->c0) * g->cs);
  *y = g->y + (int)((r - g->r0) * g->cs);
}

/* How many of the current unit's taps land in the output (not cropped). */
static inline int64_t vz_taps_landed(const vz_view *v) {
  int64_t land = 0;
  for (int64_t k = 0; k < v->t.ntaps; k++)
    land += v->taps[k].kind != CP_TAP_CROPPED;
  return land;
}

/* A negative number's text in parentheses, in place ("-2" -> "(-2)"), as
 * a factor after "×" or "·" reads; t holds n bytes. */
static inline void vz_paren_neg(char *t, size_t n) {
  size_t len = strlen(t);
  if (t[0] != '-' || len + 3 > n) return;
  memmove(t + 1, t, len + 1);
  t[0] = '(';
  t[len + 1] = ')';
  t[len + 2] = 0;
}

/* One product of a tooltip's sum at buf + o (of n): " + a·b", the first
 * without " + ", a negative second factor in parentheses; returns the new
 * length. */
static inline int vz_product_term(char *buf, int o, size_t n, int first,
                                  float a, float b) {
  char as[24], bs[24];
  vz_fmt(as, sizeof as, a, 6);
  vz_fmt(bs, sizeof bs, b, 6);
  vz_paren_neg(bs, sizeof bs);
  return o + snprintf(buf + o, n - (size_t)o, "%s%s·%s", first ? "" : " + ",
                      as, bs);
}

/* Where cell (r, c) of grid g is drawn, and its size less the gap; 0 when
 * the grid does not cover it. */
static inline int mark_rect(const vz_grid *g, int64_t r, int64_t c, int *x,
                            int *y, int *cs) {
  if (r < g->r0 || c < g->c0 || r >= g->r0 + g->rows ||
      c >= g->c0 + g->cols)
    return 0;
  cell_rect(g, r, c, x, y);
  *cs = g->cs - (g->cs >= 6 ? 1 : 0);
  return 1;
}

/* Outline cell (r, c) of grid g (drawn if the grid covers it). */
static inline void mark(vz_canvas *s, const vz_grid *g, int64_t r, int64_t c,
                 int t, vz_color col) {
  int x, y, cs;
  if (!mark_rect(g, r, c, &x, &y, &cs)) return;
  if (cs < 3) {
    vz_fill(s, x, y, cs > 0 ? cs : 1, cs > 0 ? cs : 1, col);
    return;
  }
  if (t * 2 >= cs) t = cs / 3 > 0 ? cs / 3 : 1;
  vz_frame(s, x, y, cs, cs, t, col);
}

/* Dashed outline of cell (r, c): a tap of the footprint not visited yet. */
static inline void mark_dashed(vz_canvas *s, const vz_grid *g, int64_t r,
                               int64_t c, vz_color col) {
  int x, y, cs;
  if (!mark_rect(g, r, c, &x, &y, &cs)) return;
  if (cs < 6) {
    vz_frame(s, x, y, cs, cs, 1, col);
    return;
  }
  /* the inner dashes a shade toward the text colour: the outline stays
   * visible on light cells in the light theme and on cividis' yellows */
  vz_dashed(s, x + 1, y + 1, cs - 2, cs - 2, cs >= 24 ? 4 : 2, col);
  vz_dashed(s, x + 2, y + 2, cs - 4, cs - 4, cs >= 24 ? 4 : 2,
            vz_mix(col, VZ_FG, 0.35f));
}

static inline void idx1(char *b, size_t n, const char *name, const int64_t *i,
                 int k) {
  /* 1-based index text, as the Lua surface shows it */
  int o = snprintf(b, n, "%s[", name);
  for (int j = 0; j < k && o < (int)n; j++)
    o += snprintf(b + o, n - (size_t)o, "%s%lld", j ? "," : "",
                  (long long)(i[j] + 1));
  if (o < (int)n) snprintf(b + o, n - (size_t)o, "]");
}

/* A 4-D index of view v as the Lua surface shows it: 1-based, and for a
 * 1-D view (H = 1) without the H index (x[n,c,t], w[o,i,j]). */
static inline void vidx(const vz_view *v, char *b, size_t n, const char *name,
                        const int64_t *i) {
  if (!v->dims1) {
    idx1(b, n, name, i, 4);
    return;
  }
  int64_t j[3] = {i[0], i[1], i[3]};
  idx1(b, n, name, j, 3);
}

/* Cut UTF-8 text to at most maxc characters (never inside a character). */
static inline void utf8_cut(char *t, int maxc) {
  if (maxc < 1) return;
  int n = 0;
  for (char *p = t; *p; p++)
    if (((unsigned char)*p & 0xC0) != 0x80 && n++ == maxc) {
      *p = 0;
      return;
    }
}

/* ---- the three grid panels (view_panels.c) ---- */
void vzp_input_panel(vz_canvas *s, vz_view *v, box b, int64_t done);
void vzp_kernel_panel(vz_canvas *s, vz_view *v, box b, int64_t done);
void vzp_output_panel(vz_canvas *s, vz_view *v, box b, int64_t done);
/* What each panel shows, for sharing the width (see view_panels.c). */
typedef struct vzp_extent {
  int64_t rows, cols;         /* one tile */
  int tiles;                  /* tiles shown */
  int label_h;                /* label over each tile */
  int fixed_h;                /* title, notes, legend */
  int max_cs;                 /* largest cell size */
  int title_w;                /* width of the panel's title */
} vzp_extent;
void vzp_input_extent(const vz_view *v, vzp_extent *e);
void vzp_kernel_extent(const vz_view *v, vzp_extent *e);
void vzp_output_extent(const vz_view *v, vzp_extent *e);
/* Tile arrangement: cell size for n tiles of rows x cols in w x h. */
int vzp_fit_tiles(int w, int h, int n, int64_t rows, int64_t cols,
                  int label_h, int *ncol_out);
#define TILE_GAP 14

/* ---- the backward view (view_grad.c) ---- */
struct vz_view_init;
/* Copy grad_output and the forward input into v (constructor). */
int vz_grad_setup(vz_view *v, const struct vz_view_init *in, cp_err *e);
/* The problem v's mode steps through: q in = the forward conv2d's request;
 * out = conv_transpose2d's parameters (grad_input) or the resolved
 * conv2d's.  Checks grad_output's shape against the forward output. */
int vz_grad_params(vz_view *v, cp_conv_params *q, cp_err *e);
/* grad_weight / grad_bias: a click on a gradient cell goes to its step
 * (1), else 0. */
int vzg_click(vz_view *v, int x, int y);
/* grad_weight / grad_bias: hover (1: handled, hovered or not), the hovered
 * cell's rectangle and its tooltip. */
int vzg_mouse(vz_view *v, int x, int y);
int vzg_hover_rect(const vz_view *v, int *x, int *y, int *cs);
int vzg_tooltip(vz_view *v, char lines[][200], int max);
/* Keys of the backward view: 1 used, 0 refused, -1 not its key. */
int vz_grad_key(vz_view *v, const char *key, int shift);
/* Panel titles: which = 0 input side, 1 kernel, 2 output side. */
const char *vz_grad_panel_name(const vz_view *v, int which);
/* grad_weight / grad_bias: the three panels, in box b. */
void vzg_panels(vz_canvas *s, vz_view *v, box b, int64_t done);
/* Bottom text of a backward view: 1 when it wrote buf. */
int vzg_tap_text(const vz_view *v, const cp_tap *tp, char *buf, size_t n,
                 int compact, int done);
int vzg_headline(const vz_view *v, char *buf, size_t n);
int vzg_result(vz_view *v, int64_t done, char *buf, size_t n);
/* ---- the unfold view (view_gemm.c) ---- */
int vz_gemm_check(const vz_view *v, cp_err *e);   /* too large to draw? */
int vz_gemm_key(vz_view *v, const char *key, int shift);
void vzu_panels(vz_canvas *s, vz_view *v, box b, int64_t done);
int vzu_headline(const vz_view *v, char *buf, size_t n);
/* A number in a list of products: at most 2 decimals ("9.04", "-0.97",
 * "7"); below 0.01, 2 significant digits ("0.0051": 2 decimals would read
 * 0.01, twice the value). */
static inline void vz_fmt2(char *b, size_t n, double x) {
  double a = fabs(x);
  if (!isfinite(x) || a >= 1e6) {
    vz_fmt(b, n, x, 9);
    return;
  }
  if (a > 0 && a < 0.01) { /* two significant digits: 0.0051, not 0.01 */
    snprintf(b, n, "%.2g", x);
    return;
  }
  snprintf(b, n, "%.2f", x);
  char *dot = strchr(b, '.');
  if (dot) {
    char *e = b + strlen(b) - 1;
    while (e > dot && *e == '0') *e-- = 0;
    if (e == dot) *e = 0;
  }
  if (!strcmp(b, "-0")) snprintf(b, n, "0");
}
/* "a×b" (2 decimals), a negative second factor in parentheses. */
static inline void vz_times2(char *b, size_t n, double x, double y) {
  char xs[24], ys[24];
  vz_fmt2(xs, sizeof xs, x);
  vz_fmt2(ys, sizeof ys, y);
  vz_paren_neg(ys, sizeof ys);
  snprintf(b, n, "%s×%s", xs, ys);
}
/* The Cᵀ mode's tap lines and result line (1 when written; called from
 * vzg_tap_text / vzg_result, which view_draw.c asks first). */
int vzu_tap_text(const vz_view *v, const cp_tap *tp, char *buf, size_t n,
                 int compact, int done);
int vzu_result(const vz_view *v, int64_t done, char *buf, size_t n);
/* ---- the compare view (view_cmpview.c) ---- */
int vzc_rebuild(vz_view *v, const cp_trace_src *src, cp_err *e);
void vzc_current(vz_view *v, int64_t u);
int vzc_flip_key(vz_view *v, const char *key);
void vzc_panels(vz_canvas *s, vz_view *v, box b, int64_t done);
int vzc_tap_text(const vz_view *v, const cp_tap *tp, char *buf, size_t n,
                 int compact, int done);
int vzc_headline(const vz_view *v, char *buf, size_t n);
int vzc_result(vz_view *v, int64_t done, char *buf, size_t n);
/* A line for the side panel: the identity this mode steps through. */
const char *vzg_identity(const vz_view *v);
/* ---- pooling views (view_pool.c) ---- */
/* The bottom's texts for a pooling unit (see view_draw.c's tap_text,
 * taps_headline, taps_result). */
void vzp_pool_tap_text(const vz_view *v, const cp_tap *tp, char *buf,
                       size_t n, int compact, int done);
void vzp_pool_headline(const vz_view *v, char *line, size_t n);
void vzp_pool_result(vz_view *v, int64_t done, char *line, size_t n);
/* Notes under the formula from y to end; returns the new y. */
int vzp_pool_notes(vz_canvas *s, vz_view *v, box b, int y);
/* The window panel (in place of the kernel) and its extent. */
void vzp_window_panel(vz_canvas *s, vz_view *v, box b, int64_t done);
void vzp_window_extent(const vz_view *v, vzp_extent *e);
/* An input-side cell outside the input: padding (-inf / 0) or past it. */
void vzp_pool_outside_cell(vz_canvas *s, const vz_view *v, int64_t r,
                           int64_t c, int x, int y, int cs);
/* The running argmax on the input grids (max pooling). */
void vzp_pool_input_marks(vz_canvas *s, vz_view *v, int64_t done);
/* The input panel's note on its padding. */
const char *vzp_pool_pad_note(const vz_view *v);
/* Tooltip lines for a hovered output cell; returns how many. */
int vzp_pool_tooltip(vz_view *v, char lines[][200], int max);

#endif
