/* view.h - the step-through view of one convolution (no Lua).
 *
 * A view owns contiguous copies of the problem's tensors (input, weight,
 * bias, masks), the requested parameters, the trace built from them
 * (core/trace.h) and the presentation state: current step, granularity
 * (one output cell or one tap per step), play/pause, zoom/pan, hover.
 *
 *   vz_view *v = vz_view_new(&init, &e);     NULL + reason on bad input
 *   vz_view_move(v, 1);                      one step forward
 *   vz_view_key(v, "s", 0);                  keys as SDL names: stride + 1
 *   vz_view_draw(v, surface);                render (window or offscreen)
 *   vz_view_free(v);
 *
 * A parameter change that makes the problem invalid does not fail: the view
 * keeps the request, shows the reason (vz_view_error) and recovers when the
 * next change makes it valid again.
 */
#ifndef VZ_VIEW_H
#define VZ_VIEW_H

#include "viz/draw.h"

#include "core/tensor.h"
#include "core/trace.h"

typedef struct vz_view_init {
  const cp_tensor *x;         /* (N,C,H,W) or (C,H,W) */
  const cp_tensor *w;         /* 4-D weight in the op's layout */
  const cp_tensor *bias;      /* (O) or NULL */
  const cp_tensor *mask;      /* input mask broadcastable to x, or NULL */
  const cp_tensor *kmask;     /* kernel mask (kH,kW), or NULL */
  cp_conv_params p;           /* parsed options (p.transposed set) */
  int scatter;                /* transposed: start in the scatter view */
  int partial;                /* partial convolution (needs conv2d) */
  int multi;                  /* partial: -1 auto, 0 single, 1 multi */
  int flip;                   /* conv2d as true convolution */
  int by_tap;                 /* one tap per step */
  int keras;                  /* label kernels with HWIO indices too */
  int compare;                /* conv2d: both results side by side */
  int pool;                   /* VZ_POOL_MAX / VZ_POOL_AVG: a pooling view
                               * (w unused, p ignored: pp instead) */
  cp_pool_params pp;          /* pooling parameters */
  int ret_idx;                /* max pooling: return_indices shown */
  const cp_tensor *ind;       /* max_unpool2d: the indices (x's shape) */
  int64_t out_hw[2];          /* max_unpool2d: the output size (checked) */
  int dims1;                  /* a 1-D op drawn as rows (x, w have H = 1) */
  int causal;                 /* 1-D: padding = "causal" */
  const char *title;          /* NULL: a title from the op */
  const char *caption;        /* a line of explanation, or NULL */
  int width, height;          /* frame size (0: 1280 x 800) */
  const cp_tensor *grad_out;  /* backward view: grad_output of conv2d(x, w)
                                 (then p is conv2d's, without bias/masks) */
  int grad;                   /* backward view: VZ_GRAD_* to start in */
  int gemm;                   /* unfold view: VZ_GEMM_* to start in */
  int cmpview;                /* correlation and convolution side by side */
} vz_view_init;

/* The backward view's modes (view_grad.c): which gradient is stepped. */
enum { VZ_GRAD_NONE = 0, VZ_GRAD_INPUT, VZ_GRAD_WEIGHT, VZ_GRAD_BIAS };
/* The unfold view's modes (view_gemm.c): im2col, the convolution matrix C
 * and its transpose (conv_transpose2d). */
enum { VZ_GEMM_NONE = 0, VZ_GEMM_IM2COL, VZ_GEMM_MATRIX, VZ_GEMM_MATRIX_T };

/* A rectangle of grid cells on screen: cell (r, c) of the grid is drawn at
 * x + (c - c0) * cs, y + (r - r0) * cs.  Used for hit tests and tests. */
typedef struct vz_grid {
  int x, y, cs;               /* pixel origin of cell (r0, c0), cell size */
  int64_t r0, c0;             /* first row / col drawn (negative: padding) */
  int64_t rows, cols;         /* rows / cols drawn */
  int64_t ch;                 /* channel shown (input/output/kernel slice) */
  int64_t ch2;                /* kernel: second index of the slice */
  int used;                   /* drawn in the last frame */
} vz_grid;

#define VZ_MAXGRIDS 32
#define VZ_MAXCTL 24

/* Parts of a frame that can be shown or left out (figures). */
enum {
  VZ_PANEL_INPUT = 1, VZ_PANEL_KERNEL = 2, VZ_PANEL_OUTPUT = 4,
  VZ_PANEL_TAPS = 8, VZ_PANEL_FORMULA = 16, VZ_PANEL_HEADER = 32,
  VZ_PANEL_ALL = 63
};

enum { VZ_POOL_NONE = 0, VZ_POOL_MAX, VZ_POOL_AVG, VZ_POOL_UNPOOL };

/* A clickable part of the last frame (a button, a chip, the play key). */
typedef struct vz_control {
  int x, y, w, h;
  char key[12];               /* the key it presses ("" = none) */
  int shift;
  int kind;                   /* VZ_CTL_* */
} vz_control;

/* What the last frame drew where (clicks, hover, v:layout()). */
typedef struct vz_view_hits {
  vz_grid gin[VZ_MAXGRIDS];   /* input grids */
  vz_grid gout[VZ_MAXGRIDS];  /* output grids */
  vz_grid gk[VZ_MAXGRIDS];    /* kernel slices */
  int nin, nout, nk;          /* grids used */
  vz_control ctl[VZ_MAXCTL];  /* clickable parts */
  int nctl;
  int tl[4];                  /* the timeline's bar: x, y, w, h (w 0: none) */
} vz_view_hits;

/* The view is opaque (its struct is in view_priv.h); readers take a
 * snapshot (vz_view_state_get) or call the functions below. */
typedef struct vz_view vz_view;

vz_view *vz_view_new(const vz_view_init *in, cp_err *e);
void vz_view_free(vz_view *v);

/* Apply v->req (after an edit) and rebuild; keeps the step when possible.
 * Returns 0 when valid, -1 when the view now shows an error. */
int vz_view_rebuild(vz_view *v);
/* What the view's trace reads (its tensors and flags), with flip given. */
void vz_view_trace_src(const vz_view *v, int flip, cp_trace_src *src);

/* A snapshot of a view for readers (v:state(), v:set, ...): plain data,
 * copied out; nothing in it points into the view. */
typedef struct vz_view_state {
  /* ---- the problem ---- */
  int ok;                     /* the problem is valid (else see
                                 vz_view_error) */
  cp_conv_params req;         /* parameters as requested */
  cp_geom g;                  /* the validated problem (when ok) */
  int64_t xshape[4];          /* the input, 4-D (1-D views: H = 1) */
  int64_t wshape[4];          /* the weight as stored */
  int out_ndim;               /* v:output()'s shape (when ok): (N,O,OH,OW), */
  int64_t out_shape[4];       /* the weight's (grad_weight) or (O) */
  int pool;                   /* VZ_POOL_* (0: not a pooling view) */
  cp_pool_params preq;        /* pooling: as requested */
  int ret_idx;                /* max pooling: return_indices shown */
  int64_t unpool_hw[2];       /* max_unpool2d: the output size */
  int dims1, causal;          /* a 1-D view; its padding is "causal" */
  int partial, flip;          /* partial convolution; true convolution */
  int scatter;                /* transposed: scatter (1) or gather (0) */
  int grad, gemm;             /* VZ_GRAD_*, VZ_GEMM_* (0: neither view) */
  int cmpview;                /* the compare view (viz.compare) */
  /* ---- stepping ---- */
  int by_tap;                 /* granularity: tap (1) or cell (0) */
  int64_t step, steps;        /* 1 .. steps (steps 0: invalid or empty) */
  int playing;                /* play/pause */
  /* ---- presentation ---- */
  int width, height;          /* frame size */
  int chrome;                 /* key hints, play state, footer shown */
  unsigned panels;            /* VZ_PANEL_* shown */
  int help;                   /* keyboard help shown */
  int code;                   /* code panel: 0 hidden, 1 PyTorch, 2 Keras */
  int compare;                /* correlation / convolution panel shown */
  float zoom;                 /* grid zoom factor (1 = fit) */
  int hover;                  /* 0 none, 1 output, 2 input, VZ_HOVER_GRAD */
  int64_t hover_idx[4];       /* the hovered cell (0-based) */
  int pinned;                 /* the hover is pinned (a click) */
  char status[160];           /* the status line's message, or "" */
} vz_view_state;
void vz_view_state_get(const vz_view *v, vz_view_state *s);

/* The unit (output cell, scatter input pixel, gradient cell) of the
 * current step, made current first (vz_view_current).  The tap pointers
 * point into the view: valid until the view next changes. */
typedef struct vz_view_unit {
  int kind;                   /* the trace's CP_TRACE_* */
  int64_t index;              /* the unit's number (0-based) */
  int64_t done;               /* its taps done at this step */
  int64_t ntaps;              /* taps per unit */
  const cp_tap *taps;         /* ntaps taps */
  cp_unit info;
  const cp_tap *taps2;        /* compare view: the convolution's taps and */
  cp_unit info2;              /* info (taps2 NULL in other views) */
} vz_view_unit;
/* 0, or -1 when there is no unit (an invalid problem or empty output). */
int vz_view_unit_get(vz_view *v, vz_view_unit *u);
/* The final output (vz_view_state's out_shape; conv: the compare view's
 * convolution), or NULL when the problem is invalid. */
const float *vz_view_output(const vz_view *v, int conv);

int64_t vz_view_step(const vz_view *v);
/* Why the problem is invalid, or NULL when it is valid. */
const char *vz_view_error(const vz_view *v);
int64_t vz_view_steps(const vz_view *v);
void vz_view_seek(vz_view *v, int64_t step);
void vz_view_move(vz_view *v, int64_t n);
/* Steps at granularity by_tap (0 when the problem is invalid). */
int64_t vz_view_steps_by(const vz_view *v, int by_tap);
void vz_view_set_by_tap(vz_view *v, int by_tap);
/* Play or pause; speed in steps per second when > 0. */
void vz_view_set_playing(vz_view *v, int playing, double speed);
int vz_view_playing(const vz_view *v);
/* New requested parameters (and flip); rebuilds: 0, or -1 with the
 * reason in v->err (the view then shows it). */
int vz_view_set_params(vz_view *v, const cp_conv_params *req, int flip);
/* The code panel: 0 hidden, 1 PyTorch, 2 Keras; the side-by-side
 * correlation / convolution panel on or off. */
void vz_view_show_code(vz_view *v, int which);
/* Pooling and 1-D views: parameters, pooling options and 1-D causal
 * padding; rebuilds as vz_view_set_params. */
int vz_view_set_special(vz_view *v, const cp_conv_params *req,
                        const cp_pool_params *pool, int causal);
void vz_view_show_compare(vz_view *v, int on);

/* A figure of another size or with other chrome / panels redraws the
 * view; what the window's last frame recorded for clicks and hover (grids,
 * controls, timeline) is saved first and put back after. */
typedef struct vz_view_frame {
  int chrome;
  unsigned panels;
  vz_view_hits hit;
} vz_view_frame;
/* The last frame's grids, controls and timeline (v:layout()). */
void vz_view_hits_get(const vz_view *v, vz_view_hits *hit);
/* Save the frame state into sv, then draw with chrome and panels. */
void vz_view_frame_begin(vz_view *v, vz_view_frame *sv, int chrome,
                         unsigned panels);
/* keep_hits: keep the grids, controls and timeline just drawn (a figure
 * of the window's own size), put back the chrome and panels only. */
void vz_view_frame_end(vz_view *v, const vz_view_frame *sv, int keep_hits);
void vz_view_set_scatter(vz_view *v, int scatter);
/* Backward view: step through grad_input, grad_weight or grad_bias
 * (VZ_GRAD_*); 0 on a view that is not a backward view does nothing. */
void vz_view_set_grad(vz_view *v, int grad);
const char *vz_grad_name(int grad);   /* "input", "weight", "bias" */
/* Unfold view: im2col, matrix C or Cᵀ (VZ_GEMM_*); keeps the step. */
void vz_view_set_gemm(vz_view *v, int gemm);
const char *vz_gemm_name(int gemm);   /* "im2col", "matrix", "matrix_t" */
/* Compare view: how many output cells differ between correlation and
 * convolution (*total: how many there are). */
int vz_compare_differ(const vz_view *v, int64_t *total);
/* Matrix modes: Cᵀ y over the output cells done (gx, K2 = C*H*W floats of
 * the current sample; NULL: only *len).  0, or -1 out of memory. */
int vz_gemm_ct(vz_view *v, float *gx, int64_t *len);
/* Make taps/info describe the current step's unit (cheap when cached).
 * *done receives the number of the unit's taps done at this step. */
void vz_view_current(vz_view *v, int64_t *done);
/* The running sum at the current step (bias included; scatter: the value
 * of the current tap's output cell after its addition). */
double vz_view_sum(vz_view *v);
/* Scatter: the last of the first `done` taps that lands in the output (the
 * current output cell), or NULL when all of them are cropped. */
const cp_tap *vz_view_scatter_tap(const vz_view *v, int64_t done);

/* A key by SDL name ("Right", "Space", "s", "?") with shift state.
 * Returns 1 when the view used it. */
int vz_view_key(vz_view *v, const char *key, int shift);
void vz_view_tick(vz_view *v, double dt);
/* Mouse: motion (hover), wheel (zoom), drag (pan: dx, dy). */
void vz_view_mouse(vz_view *v, int x, int y);
void vz_view_wheel(vz_view *v, int dy);
void vz_view_drag(vz_view *v, int dx, int dy);
/* A click: on an output cell (or, in the scatter view, an input pixel)
 * jumps to its step. */
void vz_view_click(vz_view *v, int x, int y);
/* Mouse button down at (x, y): 1 when it grabbed the timeline (then
 * vz_view_timeline_to follows the drag), else 0. */
int vz_view_press(vz_view *v, int x, int y);
void vz_view_timeline_to(vz_view *v, int x);
void vz_view_release(vz_view *v);
/* A status-line message (printf-style). */
void vz_view_status(vz_view *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum { VZ_CTL_MINUS = 1, VZ_CTL_PLUS, VZ_CTL_CHIP, VZ_CTL_PLAY,
       VZ_CTL_HELP, VZ_CTL_CODE };
/* Hover a cell directly (what = 1 output, 2 input, VZ_HOVER_GRAD a
 * grad_weight / grad_bias cell {o, c, i, j} / {o, 0, 0, 0}; 0 clears). */
enum { VZ_HOVER_GRAD = 3 };
void vz_view_hover(vz_view *v, int what, const int64_t idx[4]);

/* The output-size formula with the numbers substituted, per dimension
 * (dim 0 = height, 1 = width), e.g. "H_out = ⌊(5 + 1 + 1 - 1·(3-1) - 1)/2⌋
 * + 1 = 3".  Also right for an invalid problem (shows the bad number). */
void vz_view_formula(const vz_view *v, int dim, char *buf, size_t n);

/* The window's frame: its size and the footer's right side (the app's
 * page line; "" for none). */
void vz_view_set_frame(vz_view *v, int width, int height,
                       const char *footer);
/* The header's title and explanation line (copied, cut to fit). */
const char *vz_view_title(const vz_view *v);
void vz_view_set_title(vz_view *v, const char *text);
const char *vz_view_caption(const vz_view *v);
void vz_view_set_caption(vz_view *v, const char *text);

/* Draw the whole frame. */
void vz_view_draw(vz_view *v, vz_canvas *s);
/* Keyboard help text, one key per line ("key  what"). */
const char *vz_view_help_text(void);

#endif
