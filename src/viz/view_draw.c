/* view_draw.c - one frame of a step-through view, laid out for its size.
 *
 * The layout pass (frame_layout) measures text with the real font and
 * places, top to bottom:
 *   header   title and step counter; the parameters as chips that wrap;
 *            the caption, wrapped (at most two lines)
 *   panels   input (with padding / zero-insertion canvas) | kernel | output
 *            (view_panels.c), widths shared by how many cells each shows
 *   bottom   the current unit's taps and running sum | the output-size
 *            formula, groups wiring, notes
 *   footer   (chrome) how a step advances, play state, page and help keys
 * Fonts scale with the frame (never below VZ_MIN_PX); whatever does not fit
 * is wrapped, shortened with "…" or summarised ("… 12 more"), never drawn
 * over something else.  Every text drawn is recorded (v:layout()). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/code.h"
#include "viz/view_priv.h"

/* ====================================================================== */
/* The layout pass                                                         */
/* ====================================================================== */

typedef struct frame {
  int W, H, m;                /* frame size, margin */
  int fst;                    /* title font */
  box header, panels, bottom, footer;
  box taps, side;             /* the bottom's two columns */
  box pb[3];                  /* input, kernel, output panels (has_pb) */
  int has_pb;
} frame;

static int line_h(int px) {
  int h;
  vz_text_size("Ag", px, 0, NULL, &h);
  return h;
}

/* Fonts for a frame of W x H: 15 px body text at 1280x720, scaled with
 * the frame, never under VZ_MIN_PX. */
static void frame_fonts(vz_view *v, int W, int H) {
  double sc = fmin(W / 1280.0, H / 720.0);
  int fs = (int)lround(15 * sc);
  if (fs < VZ_MIN_PX) fs = VZ_MIN_PX;
  if (fs > 28) fs = 28;
  v->fs = fs;
  v->fsm = fs - 2 < VZ_MIN_PX ? VZ_MIN_PX : fs - 2;
  v->lh = line_h(fs);
}

/* ====================================================================== */
/* Header                                                                  */
/* ====================================================================== */

/* The parameters as separate chips ("stride 2,2"), so they wrap between
 * chips and never mid-number; each says which key edits it (a chip with
 * key and stepper = 1 gets -/+ buttons in the window, one with a key and
 * stepper = 0 is clicked as a whole).  Returns the number of chips. */
typedef struct chip {
  char text[64];
  char key[4];                /* the key that edits it, "" for none */
  int stepper;                /* -/+ (the key with and without Shift) */
} chip;

static int param_chips(const vz_view *v, chip *c, int max) {
  const cp_conv_params *p = v->ok ? &v->g.p : &v->req;
  int n = 0;
#define CHIP(k, st, ...)                                                 \
  do {                                                                   \
    if (n < max) {                                                       \
      snprintf(c[n].text, sizeof c[n].text, __VA_ARGS__);                \
      snprintf(c[n].key, sizeof c[n].key, "%s", k);                      \
      c[n].stepper = st;                                                 \
      n++;                                                               \
    }                                                                    \
  } while (0)
  if (v->pool == VZ_POOL_UNPOOL) { /* fixed by the indices: no keys */
    const cp_pool_params *q = &v->preq;
    CHIP("", 0, "kernel_size %lld,%lld", (long long)q->kernel[0],
         (long long)q->kernel[1]);
    CHIP("", 0, "stride %lld,%lld", (long long)q->stride[0],
         (long long)q->stride[1]);
    CHIP("", 0, "padding %lld,%lld", (long long)q->pad[0],
         (long long)q->pad[1]);
    CHIP("", 0, "output %lldx%lld", (long long)v->unpool_hw[0],
         (long long)v->unpool_hw[1]);
    return n;
  }
  if (v->pool) { /* pooling: the window and its options */
    cp_pool_params pp;
    vz_pool_params(v, &pp);
    int at = v->dims1 ? 1 : 0;
#define PAIR(a) (long long)(a)[at], (long long)(a)[1]
    CHIP("", 0, v->dims1 ? "kernel_size %lld" : "kernel_size %lld,%lld",
         PAIR(pp.kernel));
    CHIP("s", 1, v->dims1 ? "stride %lld" : "stride %lld,%lld",
         PAIR(pp.stride));
    CHIP("p", 1, v->dims1 ? "padding %lld" : "padding %lld,%lld",
         PAIR(pp.pad));
    if (v->pool == VZ_POOL_MAX)
      CHIP("d", 1, v->dims1 ? "dilation %lld" : "dilation %lld,%lld",
           PAIR(pp.dilation));
#undef PAIR
    CHIP("e", 0, "ceil_mode %s", pp.ceil_mode ? "on" : "off");
    if (v->pool == VZ_POOL_AVG)
      CHIP("i", 0, "count_include_pad %s",
           pp.count_include_pad ? "on" : "off");
    if (pp.divisor_override)
      CHIP("", 0, "divisor_override %lld", (long long)pp.divisor_override);
    if (v->ret_idx) CHIP("", 0, "return_indices");
    return n;
  }
  if (v->dims1) { /* 1-D: one number each, padding as left, right */
    if (p->transposed)
      CHIP("v", 0, "%s", v->scatter ? "scatter view"
                                    : "zero-insertion (gather) view");
    CHIP("s", 1, "stride %lld", (long long)p->stride[1]);
    if (v->causal)
      CHIP("p", 1, "padding causal (%lld left, 0 right)",
           (long long)p->pad[2]);
    else if (p->pad[2] != p->pad[3])
      CHIP("p", 1, "padding %lld left, %lld right", (long long)p->pad[2],
           (long long)p->pad[3]);
    else
      CHIP("p", 1, "padding %lld", (long long)p->pad[2]);
    CHIP("d", 1, "dilation %lld", (long long)p->dilation[1]);
    if (p->transposed)
      CHIP("o", 1, "output_padding %lld", (long long)p->out_pad[1]);
    CHIP("", 0, "groups %lld", (long long)p->groups);
    if (!p->transposed) CHIP("m", 0, "%s", cp_padmode_name(p->mode));
    return n;
  }
  if (v->grad)
    CHIP("g", 0, "gradient: %s", v->grad == VZ_GRAD_INPUT ? "grad_input"
                                 : v->grad == VZ_GRAD_WEIGHT ? "grad_weight"
                                                              : "grad_bias");
  if (v->grad == VZ_GRAD_INPUT)
    CHIP("v", 0, "%s", v->scatter ? "scatter view"
                                  : "zero-insertion (gather) view");
  else if (v->grad)
    ;
  else if (v->cmpview)
    ;
  else if (v->gemm)
    CHIP("u", 0, "%s", v->gemm == VZ_GEMM_IM2COL ? "im2col"
                       : v->gemm == VZ_GEMM_MATRIX ? "matrix C"
                                                   : "matrix Cᵀ");
  else if (!p->transposed)
    CHIP("f", 0, "%s", v->flip ? "true convolution (kernel flipped)"
                               : "cross-correlation (PyTorch conv2d)");
  else
    CHIP("v", 0, "%s", v->scatter ? "scatter view"
                                  : "zero-insertion (gather) view");
  CHIP("s", 1, "stride %lld,%lld", (long long)p->stride[0],
       (long long)p->stride[1]);
  if (p->pad[1] != p->pad[0] || p->pad[3] != p->pad[2])
    CHIP("p", 1, "padding %lld,%lld,%lld,%lld", (long long)p->pad[0],
         (long long)p->pad[1], (long long)p->pad[2], (long long)p->pad[3]);
  else
    CHIP("p", 1, "padding %lld,%lld", (long long)p->pad[0],
         (long long)p->pad[2]);
  CHIP("d", 1, "dilation %lld,%lld", (long long)p->dilation[0],
       (long long)p->dilation[1]);
  if (p->transposed && !v->grad)
    CHIP("o", 1, "output_padding %lld,%lld", (long long)p->out_pad[0],
         (long long)p->out_pad[1]);
  CHIP("", 0, "groups %lld", (long long)p->groups);
  if (!p->transposed) CHIP("m", 0, "%s", cp_padmode_name(p->mode));
  if (v->has_mask) CHIP("", 0, "%s", v->partial ? "partial conv" : "input mask");
  if (v->has_kmask) CHIP("", 0, "kernel mask");
#undef CHIP
  return n;
}

static void add_control(vz_view *v, int x, int y, int w, int h,
                        const char *key, int shift, int kind) {
  if (v->hit.nctl >= (int)(sizeof v->hit.ctl / sizeof v->hit.ctl[0])) return;
  struct vz_control *c = &v->hit.ctl[v->hit.nctl++];
  c->x = x;
  c->y = y;
  c->w = w;
  c->h = h;
  snprintf(c->key, sizeof c->key, "%s", key);
  c->shift = shift;
  c->kind = kind;
}

/* A small button with a one-character label, recorded as a control. */
static void button(vz_canvas *s, vz_view *v, int x, int y, int w, int h,
                   const char *label, const char *key, int shift,
                   int kind) {
  vz_fill(s, x, y, w, h, VZ_PANEL);
  vz_frame(s, x, y, w, h, 1, VZ_GRIDLINE);
  vz_text_box(s, x, y, w, h, label, v->fsm, VZ_BOLD, VZ_FG, VZ_PANEL);
  add_control(v, x, y, w, h, key, shift, kind);
}

/* Lay out (draw = 0) or draw the chips in w from (x, y); returns the
 * height used.  With chrome (the window) editable chips are controls:
 * -/+ steppers, or the chip itself to click. */
static int flow_chips(vz_canvas *s, vz_view *v, int x, int y, int w,
                      int maxlines, int draw) {
  chip chips[12];
  int n = param_chips(v, chips, 12), cx = 0, line = 0, gap = v->fs * 3 / 2;
  int bw = v->chrome ? v->lh : 0; /* stepper button size */
  for (int i = 0; i < n; i++) {
    int tw, extra = v->chrome && chips[i].stepper ? 2 * bw + 6 : 0;
    vz_text_size(chips[i].text, v->fs, 0, &tw, NULL);
    if (cx > 0 && cx + tw + extra > w) {
      if (line + 1 >= maxlines) break;
      line++;
      cx = 0;
    }
    if (tw + extra > w) { /* a chip wider than the frame: shortened */
      if (draw) vz_ellipsize(chips[i].text, v->fs, 0, w - extra);
      tw = w - extra;
    }
    int cy = y + line * v->lh;
    if (draw) {
      int clickable = v->chrome && chips[i].key[0] && !chips[i].stepper;
      vz_text(s, x + cx, cy, chips[i].text, v->fs, 0,
              clickable ? VZ_FG : VZ_DIM, VZ_LEFT);
      if (clickable) { /* underlined: click it (or press its key) */
        vz_fill(s, x + cx, cy + v->lh - 2, tw, 1, VZ_DIM);
        add_control(v, x + cx, cy, tw, v->lh, chips[i].key, 0, VZ_CTL_CHIP);
      }
      if (extra) {
        button(s, v, x + cx + tw + 4, cy + 1, bw - 2, v->lh - 2, "−",
               chips[i].key, 1, VZ_CTL_MINUS);
        button(s, v, x + cx + tw + 4 + bw, cy + 1, bw - 2, v->lh - 2, "+",
               chips[i].key, 0, VZ_CTL_PLUS);
      }
    }
    cx += tw + extra + gap;
  }
  return (line + 1) * v->lh;
}

/* Parameter lines: two, one in a short frame. */
static int chip_lines(const vz_view *v) { return v->height_now < 400 ? 1 : 2; }

static void title_text(const vz_view *v, char *t, size_t n) {
  const cp_conv_params *p = v->ok ? &v->g.p : &v->req;
  if (v->title[0]) snprintf(t, n, "%s", v->title);
  else if (v->pool) snprintf(t, n, "%s", vz_pool_name(v));
  else if (v->dims1 && !p->transposed)
    snprintf(t, n, "conv1d%s", v->causal ? " (causal)" : "");
  else if (v->dims1)
    snprintf(t, n, "conv_transpose1d (%s view)",
             v->scatter ? "scatter" : "zero-insertion");
  else if (v->grad == VZ_GRAD_INPUT)
    snprintf(t, n, "conv2d backward: grad_input (%s)",
             v->scatter ? "scatter" : "zero-insertion");
  else if (v->grad)
    snprintf(t, n, "conv2d backward: grad_%s", vz_grad_name(v->grad));
  else if (v->cmpview)
    snprintf(t, n, "correlation (conv2d) vs convolution (flipped kernel)");
  else if (v->gemm)
    snprintf(t, n, "conv2d as a matrix product: %s",
             v->gemm == VZ_GEMM_IM2COL ? "im2col (unfold)"
             : v->gemm == VZ_GEMM_MATRIX ? "the matrix C"
                                         : "Cᵀ (conv_transpose2d)");
  else if (!p->transposed)
    snprintf(t, n, "conv2d%s", v->flip ? " (true convolution)" : "");
  else
    snprintf(t, n, "conv_transpose2d (%s view)",
             v->scatter ? "scatter" : "zero-insertion");
}

/* Height of the caption when wrapped to w (at most two lines). */
static int caption_h(const vz_view *v, int w) {
  if (!v->caption[0]) return 0;
  int tw;
  vz_text_size(v->caption, v->fs, VZ_SANS, &tw, NULL);
  /* a short frame keeps its height for the grids: one line, shortened */
  return tw <= w || v->height_now < 480 ? v->lh : 2 * v->lh;
}

static void draw_header(vz_canvas *s, vz_view *v, const frame *f) {
  box b = f->header;
  char t[300], step[64] = "";
  int sw = 0;
  if (v->ok && vz_view_steps(v) > 0) {
    snprintf(step, sizeof step, "step %lld / %lld", (long long)v->step,
             (long long)vz_view_steps(v));
    vz_text_size(step, f->fst, VZ_BOLD, &sw, NULL);
  }
  title_text(v, t, sizeof t);
  vz_ellipsize(t, f->fst, VZ_BOLD | VZ_SANS, b.w - sw - (sw ? v->fs : 0));
  vz_text(s, b.x, b.y, t, f->fst, VZ_BOLD | VZ_SANS, VZ_FG, VZ_LEFT);
  if (step[0]) vz_text(s, b.x + b.w, b.y, step, f->fst, VZ_BOLD, VZ_FG,
                       VZ_RIGHT);
  int y = b.y + line_h(f->fst) + 2;
  y += flow_chips(s, v, b.x, y, b.w, chip_lines(v), 1) + 2;
  if (v->caption[0])
    vz_para(s, b.x, y, b.w, caption_h(v, b.w), v->caption, v->fs, VZ_SANS,
            VZ_FG);
}

static int header_h(vz_view *v, const frame *f) {
  return line_h(f->fst) + 2 +
         flow_chips(NULL, v, 0, 0, f->header.w, chip_lines(v), 0) +
         2 + caption_h(v, f->header.w);
}

/* ====================================================================== */
/* Footer (chrome only)                                                    */
/* ====================================================================== */

/* The footer: a play/pause button, the timeline (click or drag to any
 * step), the play state or the last message, the page and a help button. */
static void draw_footer(vz_canvas *s, vz_view *v, const frame *f) {
  box b = f->footer;
  vz_fill(s, 0, b.y - 4, f->W, f->H - b.y + 4, VZ_PANEL);
  int fs = v->fsm, bh = b.h, x = b.x, steps = (int)(v->ok ? vz_view_steps(v)
                                                          : 0);
  char right[200], left[200];
  snprintf(right, sizeof right, "%s", v->footer);
  v->hit.tl[2] = 0;
  int rw = 0;
  /* the help button at the far right, the page left of it */
  button(s, v, b.x + b.w - bh, b.y, bh, bh, "?", "?", 0, VZ_CTL_HELP);
  int rx = b.x + b.w - bh - fs / 2;
  /* left of it, the code panel's button (PyTorch → Keras → hidden) when
   * the frame is wide enough to keep room for the timeline */
  {
    const char *cl = v->code ? "code ✕" : "code";
    int cw;
    vz_text_size(cl, fs, VZ_BOLD, &cw, NULL);
    cw += fs;
    if (b.w >= 8 * cw) {
      button(s, v, rx - cw, b.y, cw, bh, cl, "c", 1, VZ_CTL_CODE);
      rx -= cw + fs / 2;
    }
  }
  rx -= fs / 2;
  if (right[0]) {
    vz_ellipsize(right, fs, VZ_BOLD, b.w / 3);
    vz_text_size(right, fs, VZ_BOLD, &rw, NULL);
    vz_text(s, rx, b.y, right, fs, VZ_BOLD, VZ_ACCENT, VZ_RIGHT);
    rx -= rw + fs;
  }
  if (steps > 0) {
    button(s, v, x, b.y, bh + 4, bh, v->playing ? "❚❚" : "▶", "Space", 0,
           VZ_CTL_PLAY);
    x += bh + 4 + fs;
    /* the timeline: 30% of the width, less when the page text needs it
     * (so it sits in the same place with and without pages) */
    int tw = b.w * 3 / 10;
    if (tw > (rx - x) / 2) tw = (rx - x) / 2;
    if (tw >= 60) {
      int ty = b.y + bh / 2 - 3;
      vz_fill(s, x, ty, tw, 6, VZ_GRIDLINE);
      double t = steps > 1 ? (double)(v->step - 1) / (steps - 1) : 1;
      vz_fill(s, x, ty, tw * t, 6, VZ_ACCENT2);
      vz_disc(s, x + tw * t, ty + 3, bh / 3.0, VZ_FG);
      v->hit.tl[0] = x;
      v->hit.tl[1] = b.y;
      v->hit.tl[2] = tw;
      v->hit.tl[3] = bh;
      vz_panel_box(s, "timeline", x - 2, b.y, tw + 4, bh);
      x += tw + fs;
    }
  }
  /* a message (a key that does not apply, a clamp) wins over the state */
  if (v->status[0])
    snprintf(left, sizeof left, "%s", v->status);
  else if (steps > 0)
    snprintf(left, sizeof left, "%s · %s %g/s",
             v->by_tap ? "one tap per step"
             : v->t.kind == CP_TRACE_SCATTER ? "one input pixel per step"
                                              : "one output per step",
             v->playing ? (v->backward ? "◀ playing" : "▶ playing")
                        : "paused",
             v->speed);
  else
    snprintf(left, sizeof left, "? help");
  if (rx - x > 20) {
    vz_ellipsize(left, fs, 0, rx - x);
    vz_text(s, x, b.y, left, fs, 0, v->status[0] ? VZ_ACCENT : VZ_DIM,
            VZ_LEFT);
  }
}

/* ====================================================================== */
/* Bottom: the arithmetic of the current unit                              */
/* ====================================================================== */

/* One tap as text: full ("x[1,1,2,1]=-0.283 × w[1,1,1,2]=1.508 = -0.4266
 * Σ -0.4266") or, in a narrow column, the numbers only. */
static void tap_text(const vz_view *v, const cp_tap *tp, char *buf,
                     size_t n, int compact, int done) {
  char xs[64], ws[64], a[24], b[24], p[24], sm[24];
  /* compact 2: the shortest numbers (a line still too wide) */
  int tight = compact >= 2;
  vz_fmt(a, sizeof a, tp->xv, compact ? 5 : 7);
  vz_fmt(b, sizeof b, tp->wv, tight ? 4 : compact ? 5 : 7);
  vz_fmt(p, sizeof p, tp->prod, tight ? 5 : compact ? 6 : 8);
  vz_fmt(sm, sizeof sm, tp->sum, tight ? 6 : compact ? 7 : 9);
  if (v->pool) {
    vzp_pool_tap_text(v, tp, buf, n, compact, done);
    return;
  }
  if (vzg_tap_text(v, tp, buf, n, compact, done) ||
      vzc_tap_text(v, tp, buf, n, compact, done))
    return;
  if (v->t.kind == CP_TRACE_SCATTER) {
    char os[48];
    vidx(v, os, sizeof os, "y", tp->out);
    /* a negative factor in parentheses: "2.82×(-0.51)" */
    char ab[64];
    vz_paren_neg(b, sizeof b);
    snprintf(ab, sizeof ab, "%s×%s", a, b);
    /* tight: the product is left out (the factors and the sum say it) */
    if (tp->kind == CP_TAP_CROPPED && tight)
      snprintf(buf, n, "%s %s cropped", os, ab);
    else if (tp->kind == CP_TAP_CROPPED)
      snprintf(buf, n, "%s %s = %s  cropped", os, ab, p);
    else if (!done)
      snprintf(buf, n, "%s += %s", os, ab);
    else if (tight)
      snprintf(buf, n, "%s += %s → %s", os, ab, sm);
    else
      snprintf(buf, n, "%s += %s = %s  → %s", os, ab, p, sm);
    return;
  }
  switch (tp->kind) {
  case CP_TAP_PAD: snprintf(xs, sizeof xs, "pad"); break;
  case CP_TAP_HOLE: snprintf(xs, sizeof xs, "hole"); break;
  case CP_TAP_PADSRC: {
    char t[48];
    vidx(v, t, sizeof t, "x", tp->in);
    snprintf(xs, sizeof xs, "pad=%s", t);
    break;
  }
  default: vidx(v, xs, sizeof xs, "x", tp->in);
  }
  if (v->has_mask && tp->xm != 1 && tp->kind != CP_TAP_PAD &&
      tp->kind != CP_TAP_HOLE) {
    size_t l = strlen(xs);
    snprintf(xs + l, sizeof xs - l, "·m");
  }
  vidx(v, ws, sizeof ws, "w", tp->w);
  if (v->has_kmask && tp->km != 1) {
    size_t l = strlen(ws);
    snprintf(ws + l, sizeof ws - l, "·M");
  }
  /* bare numbers: a negative second factor in parentheses */
  char bp[32], ab[64];
  snprintf(bp, sizeof bp, "%s", b);
  vz_paren_neg(bp, sizeof bp);
  snprintf(ab, sizeof ab, "%s × %s", a, bp);
  if (compact && !done) snprintf(buf, n, "%s", ab);
  else if (compact) snprintf(buf, n, "%s = %s  Σ %s", ab, p, sm);
  else if (!done) snprintf(buf, n, "%s=%s × %s=%s", xs, a, ws, b);
  else snprintf(buf, n, "%s=%s × %s=%s = %s   Σ %s", xs, a, ws, b, p, sm);
}

/* The headline over the taps. */
static void taps_headline(const vz_view *v, char *line, size_t n) {
  const cp_geom *g = &v->g;
  char t1[64], t2[32];
  if (v->pool) {
    vzp_pool_headline(v, line, n);
    return;
  }
  if (vzg_headline(v, line, n) || vzu_headline(v, line, n) ||
      vzc_headline(v, line, n))
    return;
  if (v->t.kind == CP_TRACE_SCATTER) {
    float xv = xval(v, v->info.idx[0], v->info.idx[1], v->info.idx[2],
                    v->info.idx[3]);
    vidx(v, t1, sizeof t1, "x", v->info.idx);
    vz_fmt(t2, sizeof t2, xv, 9);
    /* where the kernel's first tap lands, 1-based like every index shown
     * (row 0 and above are the cropped padding) */
    long long r = (long long)cp_geomT_out_row(g, v->info.idx[2], 0) + 1;
    long long c = (long long)cp_geomT_out_col(g, v->info.idx[3], 0) + 1;
    if (v->dims1)
      snprintf(line, n,
               "%s = %s times the kernel, its first tap added at y position "
               "%lld%s",
               t1, t2, c, c < 1 ? " (in the cropped padding)" : "");
    else
      snprintf(line, n,
               "%s = %s times the kernel, its first tap added at y row %lld, "
               "col %lld%s",
               t1, t2, r, c, r < 1 || c < 1 ? " (in the cropped padding)"
                                            : "");
  } else {
    vidx(v, t1, sizeof t1, "y", v->info.idx);
    vz_fmt(t2, sizeof t2, v->info.bias, 9);
    snprintf(line, n, "%s = %s%s + Σ x·w  over %lld taps", t1,
             v->has_b ? "b=" : "", v->has_b ? t2 : "0",
             (long long)v->t.ntaps);
  }
}

/* The result line under the taps. */
static void taps_result(vz_view *v, int64_t done, char *line, size_t n) {
  char t1[32], t2[32], t3[64];
  if (v->pool) {
    vzp_pool_result(v, done, line, n);
    return;
  }
  if (vzg_result(v, done, line, n) || vzc_result(v, done, line, n)) return;
  if (v->t.kind == CP_TRACE_SCATTER) {
    int64_t land = vz_taps_landed(v);
    snprintf(line, n, "%lld of %lld products land in the output, %lld "
                      "cropped",
             (long long)land, (long long)v->t.ntaps,
             (long long)(v->t.ntaps - land));
    return;
  }
  double sum = vz_view_sum(v);
  vz_fmt(t1, sizeof t1, sum, 10);
  vidx(v, t3, sizeof t3, "y", v->info.idx);
  if (done < v->t.ntaps) {
    snprintf(line, n, "running sum after %lld of %lld taps: %s",
             (long long)done, (long long)v->t.ntaps, t1);
  } else if (v->partial) {
    char rs[24], ms[24];
    vz_fmt(t2, sizeof t2, v->info.value, 10);
    vz_fmt(rs, sizeof rs, v->info.ratio, 7);
    vz_fmt(ms, sizeof ms, v->info.msum, 6);
    snprintf(line, n, "raw %s; S=%s of %lld, ratio %lld/S = %s  →  %s = %s",
             t1, ms, (long long)v->info.winsize, (long long)v->info.winsize,
             rs, t3, t2);
  } else {
    vz_fmt(t2, sizeof t2, v->info.value, 10);
    snprintf(line, n, "%s = %s", t3, t2);
  }
}

/* The short form of a running result, whose number matters more than its
 * words: "running sum after 5 of 9 taps: 5.17" -> "Σ after 5/9: 5.17",
 * "running max after 4 of 9 cells: 0.84 at x[..]" -> "max after 4/9: ...". */
static void short_result(char *res, size_t n) {
  char kind[16], rest[400];
  long long a, b, c;
  if (sscanf(res, "%lld of %lld products land in the output, %lld cropped",
             &a, &b, &c) == 3) {
    snprintf(res, n, "%lld/%lld products land, %lld cropped", a, b, c);
    return;
  }
  if (sscanf(res, "running %15s after %lld of %lld %*[^:]: %399[^\n]", kind, &a,
             &b, rest) != 4)
    return;
  snprintf(res, n, "%s after %lld/%lld: %s",
           strcmp(kind, "sum") == 0 ? "Σ" : kind, a, b, rest);
}

static void draw_taps(vz_canvas *s, vz_view *v, box b, int64_t done) {
  char line[512];
  int lh = v->lh, fs = v->fs, y = b.y;
  if (!v->ok) {
    vz_para(s, b.x, y, b.w, b.h, "no computation: the parameters are invalid",
            fs, VZ_BOLD, VZ_ERRC);
    return;
  }
  if (v->t.ntaps == 0 || vz_view_steps(v) == 0) return;
  taps_headline(v, line, sizeof line);
  y += vz_para(s, b.x, y, b.w, 2 * lh, line, fs, VZ_BOLD, VZ_FG) + 4;
  /* the result line (two when it is long), at the bottom */
  char res[512];
  taps_result(v, done, res, sizeof res);
  int rw;
  vz_text_size(res, fs, VZ_BOLD, &rw, NULL);
  if (rw > b.w && (b.h < 8 * lh || rw > 2 * b.w)) {
    short_result(res, sizeof res);
    vz_text_size(res, fs, VZ_BOLD, &rw, NULL);
  }
  int rlines = rw > b.w && b.h >= 5 * lh ? 2 : 1;
  int result_y = b.y + b.h - rlines * lh;
  /* tap lines between the headline and the result line */
  int lines = (result_y - 4 - y) / lh;
  if (lines < 0) lines = 0;
  int cw;
  vz_text_size("0", fs, 0, &cw, NULL);
  int64_t nt = v->t.ntaps;
  /* two columns when they are needed and each holds a compact line */
  int ncols = nt > lines && b.w / 2 >= 34 * cw ? 2 : 1;
  int colw = (b.w - (ncols - 1) * fs) / ncols;
  int compact = colw < 52 * cw;
  int64_t cap = (int64_t)lines * ncols, first = 0;
  /* the last slot says how many are hidden, when there are two or more */
  int more_line = nt > cap && cap > 1;
  if (more_line) cap -= 1;
  if (cap < 0) cap = 0;
  /* keep the current tap in view: the window of taps ending at it */
  if (nt > cap && done > cap) first = done - cap;
  /* one form for the whole list: shorter numbers (then no names) when a
   * line shown would not fit, before any line is cut */
  for (int64_t k = first; k < nt && k < first + cap && compact < 2; k++) {
    tap_text(v, &v->taps[k], line, sizeof line, compact, k < done);
    int lw;
    vz_text_size(line, fs, 0, &lw, NULL);
    if (lw > colw) {
      compact++;
      k = first - 1; /* again, in the shorter form */
    }
  }
  /* "… N earlier taps" goes before the taps it stands for, anything else
   * about hidden taps after them */
  int more_top = more_line && first > 0 && first + cap >= nt;
  int slot0 = more_top ? 1 : 0;
  for (int64_t k = first; k < nt && k < first + cap; k++) {
    int is_done = k < done;
    tap_text(v, &v->taps[k], line, sizeof line, compact, is_done);
    vz_ellipsize(line, fs, 0, colw);
    int is_cur = k == done - 1 && v->by_tap;
    vz_color c = is_done ? (is_cur ? VZ_ACCENT : VZ_FG) : VZ_DIM;
    int64_t i = k - first + slot0;
    int row = (int)(ncols == 1 ? i : i % lines),
        col = (int)(ncols == 1 ? 0 : i / lines);
    vz_text(s, b.x + col * (colw + fs), y + row * lh, line, fs, 0, c,
            VZ_LEFT);
  }
  if (more_line) {
    int64_t shown = nt - first < cap ? nt - first : cap;
    int64_t before = first, after = nt - first - shown;
    if (before && after)
      snprintf(line, sizeof line, "… %lld taps before, %lld more after",
               (long long)before, (long long)after);
    else
      snprintf(line, sizeof line, "… %lld %s taps", (long long)(before + after),
               before ? "earlier" : "more");
    vz_ellipsize(line, fs, 0, colw);
    int i = more_top ? 0 : (int)cap, row = ncols == 1 ? i : i % lines,
        col = ncols == 1 ? 0 : i / lines;
    vz_text(s, b.x + col * (colw + fs), y + row * lh, line, fs, 0, VZ_DIM,
            VZ_LEFT);
  }
  vz_para(s, b.x, result_y, b.w, rlines * lh, res, fs, VZ_BOLD, VZ_ACCENT2);
}

/* ====================================================================== */
/* Bottom right: output size, groups, notes                                 */
/* ====================================================================== */

/* "channel 3" or "channels 3-4" for n channels from first (0-based). */
static void channel_range(char *b, size_t sz, int64_t first, int64_t n) {
  if (n == 1)
    snprintf(b, sz, "channel %lld", (long long)first + 1);
  else
    snprintf(b, sz, "channels %lld-%lld", (long long)first + 1,
             (long long)(first + n));
}

/* The groups wiring: which input channels feed which output channels,
 * the current group highlighted.  Fits in b. */
static void draw_wiring(vz_canvas *s, vz_view *v, box b) {
  const cp_geom *g = &v->g;
  int64_t C = g->C, O = g->O, grp = v->info.group;
  if (b.h < 3 * v->lh || C > 256 || O > 256) return;
  int lw;
  vz_text_size("out", v->fsm, 0, &lw, NULL);
  int xl = b.x + lw + 10, xr = b.x + b.w - lw - 10;
  if (xr - xl < 40) return;
  int top = b.y + 4, hgt = b.h - 8;
  vz_text(s, xl - 8, top + hgt / 2 - v->lh / 2, "in", v->fsm, 0, VZ_DIM,
          VZ_RIGHT);
  vz_text(s, xr + 8, top + hgt / 2 - v->lh / 2, "out", v->fsm, 0, VZ_DIM,
          VZ_LEFT);
  double dot = fmin(6.0, fmax(2.0, hgt / (2.0 * (C > O ? C : O))));
  for (int64_t o = 0; o < O; o++) {
    int64_t gg = o / g->Og;
    double yo = top + (o + 0.5) * hgt / O;
    for (int64_t ci = gg * g->Cg; ci < (gg + 1) * g->Cg; ci++) {
      double yi = top + (ci + 0.5) * hgt / C;
      vz_line(s, xl, yi, xr, yo, gg == grp ? 1.5 : 1,
              gg == grp ? VZ_ACCENT : vz_mix(VZ_DIM, VZ_PANEL, 0.55f));
    }
  }
  for (int64_t ci = 0; ci < C; ci++)
    vz_disc(s, xl, top + (ci + 0.5) * hgt / C, dot,
            ci / g->Cg == grp ? VZ_ACCENT : VZ_DIM);
  for (int64_t o = 0; o < O; o++) {
    int cur = v->t.kind != CP_TRACE_SCATTER && o == v->info.idx[1];
    vz_disc(s, xr, top + (o + 0.5) * hgt / O, dot + (cur ? 1.5 : 0),
            cur ? VZ_ACCENT2 : o / g->Og == grp ? VZ_ACCENT : VZ_DIM);
  }
}

/* A formula wider than w at px loses its spaces, but those around "=",
 * and its minus signs become U+2212 (no line break after them), so that it
 * wraps at an "=" rather than inside a bracket: "⌊(H+2p−d·(k−1)−1)/s⌋+1".
 * A note in words at the end ("(the last window ...)") is kept as it is.
 * t holds n bytes. Returns 1 when it changed t. */
static int tight_formula(char *t, size_t n, int px, int w) {
  int tw;
  vz_text_size(t, px, 0, &tw, NULL);
  if (tw <= w) return 0;
  char out[512];
  size_t o = 0;
  const char *c = t;
  for (; *c && o + 4 < sizeof out; c++) {
    if (c[0] == ' ' && c[1] == '(' && c[2] >= 'a' && c[2] <= 'z') break;
    int by_eq = c[1] == '=' || (c > t && c[-1] == '=');
    if (*c == ' ' && !by_eq) continue;
    if (*c == '-') {
      memcpy(out + o, "\xe2\x88\x92", 3);
      o += 3;
      continue;
    }
    out[o++] = *c;
  }
  snprintf(out + o, sizeof out - o, "%s", c);
  snprintf(t, n, "%s", out);
  return 1;
}

static void draw_side(vz_canvas *s, vz_view *v, box b) {
  const cp_geom *g = &v->g;
  char line[512];
  int fs = v->fsm, lh = line_h(fs), y = b.y, end = b.y + b.h;
  if (v->panels & VZ_PANEL_FORMULA) {
    vz_text(s, b.x, y, "output size", v->fs, VZ_BOLD, VZ_FG, VZ_LEFT);
    y += v->lh + 2;
    for (int d = v->dims1 ? 1 : 0; d < 2 && y < end; d++) {
      vz_view_formula(v, d, line, sizeof line);
      vz_color fc = strstr(line, "invalid") ? VZ_ERRC : VZ_FG;
      /* the lines this dimension may take: the rest shared with the next */
      int budget = (end - y) / lh / (2 - d);
      if (budget < 1) budget = 1;
      /* the rule on one line, the numbers under it; when they do not fit,
       * the name, the numbers and the result on one line; else the name
       * and the result: the result is never the part cut */
      char *eq = strstr(line, " = ");
      char *nums = eq ? strstr(eq + 3, " = ") : NULL;
      int ind;
      vz_text_size("H_out", fs, 0, &ind, NULL);
      if (!nums) {
        y += vz_para(s, b.x, y, b.w, end - y, line, fs, 0, fc) + 4;
        continue;
      }
      char rule[512], rest[512], one[512];
      snprintf(rule, sizeof rule, "%.*s", (int)(nums - line), line);
      snprintf(rest, sizeof rest, "%s", nums + 1);
      snprintf(one, sizeof one, "%.*s%s", (int)(eq - line), line, nums);
      tight_formula(rule, sizeof rule, fs, b.w);
      /* a numbers line too wide for its indent starts at the margin */
      int rind = tight_formula(rest, sizeof rest, fs, b.w - ind) ? 0 : ind;
      tight_formula(one, sizeof one, fs, b.w);
      int two = vz_para_lines(rule, fs, 0, b.w) +
                vz_para_lines(rest, fs, 0, b.w - rind);
      int room = budget * lh; /* the next dimension keeps its share */
      if (two <= budget) {
        y += vz_para(s, b.x, y, b.w, room, rule, fs, 0, fc);
        y += vz_para(s, b.x + rind, y, b.w - rind, room, rest, fs, 0, fc);
      } else if (vz_para_lines(one, fs, 0, b.w) <= budget) {
        y += vz_para(s, b.x, y, b.w, room, one, fs, 0, fc);
      } else {
        /* "W_out = 8": the name and the last "= ...", without a note */
        const char *res = nums, *nx;
        while ((nx = strstr(res + 3, " = ")) != NULL) res = nx;
        char shortf[512];
        snprintf(shortf, sizeof shortf, "%.*s%s", (int)(eq - line), line, res);
        char *note = strstr(shortf, " (");
        if (note && !strstr(note, "(invalid)")) *note = 0;
        y += vz_para(s, b.x, y, b.w, room, shortf, fs, 0, fc);
      }
      y += 4;
    }
  }
  if (!v->ok || vz_view_steps(v) == 0 || y + lh > end) return;
  y += 4;
  if (v->pool) {
    vzp_pool_notes(s, v, b, y);
    return;
  }
  if (v->causal && y + lh <= end) {
    snprintf(line, sizeof line,
             "causal: %lld zeros on the left (d·(k-1)), none on the right: "
             "output t reads inputs t-%lld .. t only",
             (long long)g->p.pad[2], (long long)g->p.pad[2]);
    y += vz_para(s, b.x, y, b.w, end - y, line, fs, 0, VZ_FG) + 2;
  }
  if (v->grad) { /* the identity this backward mode steps through */
    y += vz_para(s, b.x, y, b.w, end - y, vzg_identity(v), fs, 0, VZ_FG) + 4;
    if (y + lh > end || v->grad >= VZ_GRAD_WEIGHT) return;
  }
  if (g->p.groups > 1) {
    int64_t grp = v->info.group;
    char rd[48], wr[48];
    channel_range(rd, sizeof rd, grp * g->Cg, g->Cg);
    channel_range(wr, sizeof wr, grp * g->Og, g->Og);
    snprintf(line, sizeof line,
             "groups=%lld: group %lld reads input %s and writes output %s",
             (long long)g->p.groups, (long long)grp + 1, rd, wr);
    y += vz_para(s, b.x, y, b.w, end - y, line, fs, 0, VZ_FG) + 2;
    draw_wiring(s, v, (box){b.x, y, b.w, end - y});
    return;
  }
  if (v->t.kind == CP_TRACE_GATHER) {
    cp_convT_canvas cv;
    cp_geomT_canvas(g, &cv);
    long long hr = g->p.stride[0] - 1, hc = g->p.stride[1] - 1;
    char holes[96];
    if (v->dims1)
      snprintf(holes, sizeof holes, "%lld %s between samples", hc,
               hc == 1 ? "hole" : "holes");
    else if (hr == hc)
      snprintf(holes, sizeof holes, "%lld %s between pixels", hr,
               hr == 1 ? "hole" : "holes");
    else
      snprintf(holes, sizeof holes, "%lld between rows, %lld between columns",
               hr, hc);
    if (v->dims1)
      snprintf(line, sizeof line,
               "zero insertion: %s; border d(k-1)-p = %lld (+%lld "
               "output_padding at the end); then a stride-1 correlation with "
               "the flipped kernel",
               holes, (long long)cv.border[1], (long long)g->p.out_pad[1]);
    else
      snprintf(line, sizeof line,
               "zero insertion: %s; border d(k-1)-p = %lld rows, %lld cols "
               "(+%lld, %lld output_padding); then a stride-1 correlation "
               "with the flipped kernel",
               holes, (long long)cv.border[0], (long long)cv.border[1],
               (long long)g->p.out_pad[0], (long long)g->p.out_pad[1]);
    y += vz_para(s, b.x, y, b.w, end - y, line, fs, 0, VZ_FG) + 2;
  } else if (v->t.kind == CP_TRACE_SCATTER) {
    cp_convT_canvas cv;
    cp_geomT_canvas(g, &cv);
    int n = v->dims1
                ? snprintf(line, sizeof line,
                           "canvas: (L-1)s+d(k-1)+1 = %lld; cropped: p=%lld "
                           "left, p-op=%lld right",
                           (long long)cv.cols, (long long)g->p.pad[2],
                           (long long)cv.crop_after[1])
                : snprintf(line, sizeof line,
                           "canvas: (H-1)s+d(k-1)+1 = %lld rows; cropped: "
                           "p=%lld top, ",
                           (long long)cv.rows, (long long)g->p.pad[0]);
    if (v->dims1)
      ; /* said above */
    else if (cv.crop_after[0] >= 0)
      snprintf(line + n, sizeof line - n, "p-op=%lld bottom",
               (long long)cv.crop_after[0]);
    else
      snprintf(line + n, sizeof line - n,
               "op > p adds %lld bias-only %s at the bottom",
               (long long)-cv.crop_after[0],
               cv.crop_after[0] == -1 ? "row" : "rows");
    y += vz_para(s, b.x, y, b.w, end - y, line, fs, 0, VZ_FG) + 2;
    if (y + lh <= end)
      y += vz_para(s, b.x, y, b.w, end - y,
                   "dim cells: no product has landed there yet", fs, 0,
                   VZ_DIM) + 2;
  }
  if (v->partial && y + lh <= end)
    vz_para(s, b.x, y, b.w, end - y,
            "partial: out = ((raw-b)·ratio + b)·[S>0], new mask = [S>0]", fs,
            0, VZ_DIM);
}

/* ====================================================================== */
/* Overlays: help, errors                                                  */
/* ====================================================================== */

/* A box with wrapped text, centred in area a, as tall as its text. */
static void message_box(vz_canvas *s, const vz_view *v, box a,
                        const char *text, vz_color c, vz_color bg) {
  int w = a.w - 2 * v->fs, pad = v->fs;
  if (w > 60 * v->fs) w = 60 * v->fs;
  if (w < 40) return;
  /* measure by drawing nothing: the paragraph height for width w */
  int tw;
  vz_text_size(text, v->fs, 0, &tw, NULL);
  int lines = 1;
  for (const char *p = text; *p; p++) lines += *p == '\n';
  int est = (tw / (w - 2 * pad) + lines + 1) * v->lh;
  int h = est + 2 * pad;
  if (h > a.h) h = a.h;
  int x = a.x + (a.w - w) / 2, y = a.y + (a.h - h) / 2;
  vz_fill(s, x, y, w, h, bg);
  vz_frame(s, x, y, w, h, 1.5, c);
  vz_panel_box(s, "message", x, y, w, h);
  vz_para(s, x + pad, y + pad, w - 2 * pad, h - 2 * pad, text, v->fs, 0, c);
}

/* Keyboard help over the frame: key column and description column, in two
 * halves side by side when the frame is wide enough. */
static void draw_help(vz_canvas *s, vz_view *v, const frame *f) {
  const char *text = vz_view_help_text();
  char keys[40][40], what[40][80];
  int n = 0;
  for (const char *p = text; *p && n < 40;) {
    const char *e = strchr(p, '\n');
    int len = e ? (int)(e - p) : (int)strlen(p);
    /* "key<2+ spaces>what" */
    const char *sp = strstr(p, "  ");
    int kl = sp && sp < p + len ? (int)(sp - p) : len;
    snprintf(keys[n], sizeof keys[n], "%.*s", kl, p);
    const char *w = p + kl;
    while (w < p + len && *w == ' ') w++;
    snprintf(what[n], sizeof what[n], "%.*s", (int)(p + len - w), w);
    n++;
    p += len;
    if (*p) p++;
  }
  int fs = v->fs, lh = v->lh, kw = 0;
  for (int i = 0; i < n; i++) {
    int w;
    vz_text_size(keys[i], fs, VZ_BOLD, &w, NULL);
    if (w > kw) kw = w;
  }
  int cw;
  vz_text_size("0", fs, 0, &cw, NULL);
  int colw = kw + fs + 30 * cw;
  int avail_w = f->W - 2 * f->m, avail_h = f->H - 2 * f->m;
  int halves = 2 * colw + 3 * fs <= avail_w && (n + 1) / 2 * lh + 3 * lh <=
                                                   avail_h
                   ? 2
                   : 1;
  int rows = (n + halves - 1) / halves;
  int bw = halves * colw + (halves + 1) * fs;
  if (bw > avail_w) bw = avail_w;
  colw = (bw - (halves + 1) * fs) / halves;
  /* a narrow frame: the keys' column gives way to the descriptions */
  if (kw > colw * 2 / 5) kw = colw * 2 / 5;
  int shown = (avail_h - 3 * lh) / lh;
  if (shown > rows) shown = rows;
  if (shown < 1) shown = 1;
  int bh = shown * lh + 3 * lh;
  int bx = (f->W - bw) / 2, by = (f->H - bh) / 2;
  s->layer = 1;
  vz_fill(s, bx, by, bw, bh, VZ_PANEL);
  vz_frame(s, bx, by, bw, bh, 2, VZ_ACCENT);
  vz_panel_box(s, "help", bx, by, bw, bh);
  vz_text(s, bx + fs, by + lh / 2, "keys", fs, VZ_BOLD | VZ_SANS, VZ_ACCENT,
          VZ_LEFT);
  /* rows that do not fit: the last one shown says how many keys are left
   * out (one column only: two columns always fit their rows) */
  int hidden = halves == 1 && shown < rows ? rows - shown + 1 : 0;
  for (int i = 0; i < n; i++) {
    int col = i / rows, row = i % rows;
    if (row >= shown || (hidden && row == shown - 1)) continue;
    int x = bx + fs + col * (colw + fs), y = by + 2 * lh + row * lh;
    char k[40], w[80];
    snprintf(k, sizeof k, "%s", keys[i]);
    snprintf(w, sizeof w, "%s", what[i]);
    vz_ellipsize(k, fs, VZ_BOLD, kw);
    vz_text(s, x, y, k, fs, VZ_BOLD, VZ_FG, VZ_LEFT);
    vz_ellipsize(w, fs, 0, colw - kw - fs);
    vz_text(s, x + kw + fs, y, w, fs, 0, VZ_DIM, VZ_LEFT);
  }
  if (hidden) {
    char more[96];
    snprintf(more, sizeof more, "… %d more keys: a larger window shows them",
             hidden);
    vz_ellipsize(more, fs, 0, bw - 2 * fs);
    vz_text(s, bx + fs, by + 2 * lh + (shown - 1) * lh, more, fs, 0, VZ_ACCENT,
            VZ_LEFT);
  }
  s->layer = 0;
}

/* ====================================================================== */
/* Tooltip: the hovered (or pinned) cell's numbers                          */
/* ====================================================================== */

/* Lines of the tooltip for the hovered cell; returns how many. */
static int tooltip_lines(vz_view *v, char lines[][200], int max) {
  const cp_geom *g = &v->g;
  int n = 0;
  char a[64], b[32];
  if (v->hover == VZ_HOVER_GRAD) return vzg_tooltip(v, lines, max);
  cp_tap *tmp = malloc(sizeof *tmp * (size_t)(v->t.ntaps > 0 ? v->t.ntaps : 1));
  if (!tmp) return 0;
  cp_unit info;
  if (v->hover == 1 && v->pool) {
    free(tmp);
    return vzp_pool_tooltip(v, lines, max);
  }
  if (v->hover == 1) { /* an output cell: its value and computation */
    vidx(v, a, sizeof a, "y", v->hover_idx);
    float val = v->y[yoff(v, v->hover_idx[0], v->hover_idx[1],
                          v->hover_idx[2], v->hover_idx[3])];
    vz_fmt(b, sizeof b, val, 10);
    snprintf(lines[n++], 200, "%s = %s", a, b);
    if (v->t.kind != CP_TRACE_SCATTER) {
      int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
      if (u >= 0 && u < v->t.nunits) {
        cp_trace_unit(&v->t, u, NULL, tmp, &info);
        int o = snprintf(lines[n], 200, "= %s", v->has_b ? "" : "");
        if (v->has_b) {
          vz_fmt(b, sizeof b, info.bias, 6);
          o += snprintf(lines[n] + o, 200 - (size_t)o, "%s + ", b);
        }
        int shown = 0;
        for (int64_t k = 0; k < v->t.ntaps && o < 150; k++) {
          if (tmp[k].kind == CP_TAP_PAD || tmp[k].kind == CP_TAP_HOLE)
            continue; /* zeros: they add nothing */
          o = vz_product_term(lines[n], o, 200, !shown, tmp[k].xv,
                              tmp[k].wv);
          shown++;
        }
        int64_t real = 0;
        for (int64_t k = 0; k < v->t.ntaps; k++)
          real += tmp[k].kind != CP_TAP_PAD && tmp[k].kind != CP_TAP_HOLE;
        if (shown < real)
          snprintf(lines[n] + o, 200 - (size_t)o, " + … (%lld products)",
                   (long long)real);
        else if (shown == 0)
          snprintf(lines[n] + o, 200 - (size_t)o, "0 (every tap reads "
                                                  "padding)");
        n++;
        if (v->partial && n < max) {
          char r[24];
          vz_fmt(r, sizeof r, info.ratio, 7);
          snprintf(lines[n++], 200, "partial: × ratio %s (S = %g of %lld)", r,
                   (double)info.msum, (long long)info.winsize);
        }
        if (u >= v->cur_unit && n < max)
          snprintf(lines[n++], 200, "(computed at step %lld)",
                   (long long)cp_trace_step_of(&v->t, v->by_tap, u, 0));
      }
    } else {
      /* scatter: which input pixels' products land here */
      int found = 0, o = snprintf(lines[n], 200, "receives ");
      for (int64_t u = 0; u < v->t.nunits && found < 64; u++) {
        cp_trace_unit(&v->t, u, NULL, tmp, &info);
        for (int64_t k = 0; k < v->t.ntaps; k++)
          if (tmp[k].kind != CP_TAP_CROPPED &&
              !memcmp(tmp[k].out, v->hover_idx, sizeof v->hover_idx)) {
            if (found < 3 && o < 150) {
              char xs[48];
              vidx(v, xs, sizeof xs, "x", info.idx);
              o += snprintf(lines[n] + o, 200 - (size_t)o, "%s%s·w",
                            found ? " + " : "", xs);
            }
            found++;
          }
      }
      if (found > 3)
        snprintf(lines[n] + o, 200 - (size_t)o, " + … (%d products)", found);
      else if (!found)
        snprintf(lines[n], 200, "no product lands here (bias only)");
      n++;
    }
  } else if (v->hover == 2) { /* an input cell: the outputs it feeds */
    vidx(v, a, sizeof a, "x", v->hover_idx);
    vz_fmt(b, sizeof b, xval(v, v->hover_idx[0], v->hover_idx[1],
                             v->hover_idx[2], v->hover_idx[3]), 10);
    snprintf(lines[n++], 200, "%s = %s", a, b);
    int found = 0, o = snprintf(lines[n], 200, "feeds ");
    if (v->t.kind == CP_TRACE_SCATTER) {
      int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
      if (u >= 0 && u < v->t.nunits) {
        cp_trace_unit(&v->t, u, NULL, tmp, &info);
        for (int64_t k = 0; k < v->t.ntaps; k++)
          if (tmp[k].kind != CP_TAP_CROPPED) {
            if (found < 3 && o < 150) {
              char ys[48];
              vidx(v, ys, sizeof ys, "y", tmp[k].out);
              o += snprintf(lines[n] + o, 200 - (size_t)o, "%s%s",
                            found ? ", " : "", ys);
            }
            found++;
          }
      }
    } else {
      for (int64_t u = 0; u < v->t.nunits; u++) {
        int64_t oi[4];
        cp_trace_unit_index(&v->t, u, oi);
        if (oi[0] != v->hover_idx[0] ||
            cp_geom_group_of_out(g, oi[1]) != v->hover_idx[1] / g->Cg)
          continue;
        cp_trace_unit(&v->t, u, NULL, tmp, &info);
        for (int64_t k = 0; k < v->t.ntaps; k++)
          if ((tmp[k].kind == CP_TAP_INPUT || tmp[k].kind == CP_TAP_PADSRC) &&
              !memcmp(tmp[k].in, v->hover_idx, sizeof v->hover_idx)) {
            if (found < 3 && o < 150) {
              char ys[48];
              vidx(v, ys, sizeof ys, "y", oi);
              o += snprintf(lines[n] + o, 200 - (size_t)o, "%s%s",
                            found ? ", " : "", ys);
            }
            found++;
            break;
          }
      }
    }
    if (found > 3)
      snprintf(lines[n] + o, 200 - (size_t)o, ", … (%d outputs)", found);
    else if (!found)
      snprintf(lines[n], 200, "feeds no output (outside every window)");
    n++;
  }
  free(tmp);
  return n;
}

/* Where the hovered cell is on screen (its grid's rectangle), or 0. */
static int hover_rect(const vz_view *v, int *x, int *y, int *cs) {
  if (v->hover == VZ_HOVER_GRAD) return vzg_hover_rect(v, x, y, cs);
  const vz_grid *gs = v->hover == 1 ? v->hit.gout : v->hit.gin;
  int ng = v->hover == 1 ? v->hit.nout : v->hit.nin;
  int64_t r = v->hover_idx[2], c = v->hover_idx[3];
  if (v->hover == 2 && v->t.kind == CP_TRACE_GATHER) {
    r *= v->g.p.stride[0];
    c *= v->g.p.stride[1];
  }
  for (int i = 0; i < ng; i++)
    if (gs[i].ch == v->hover_idx[1]) {
      cell_rect(&gs[i], r, c, x, y);
      *cs = gs[i].cs;
      return 1;
    }
  return 0;
}

static void draw_tooltip(vz_canvas *s, vz_view *v, const frame *f) {
  if (!v->ok || !v->hover || vz_view_steps(v) == 0) return;
  char lines[6][200];
  int n = tooltip_lines(v, lines, 6);
  if (n == 0) return;
  int cx, cy, cs;
  if (!hover_rect(v, &cx, &cy, &cs)) {
    cx = v->mousex;
    cy = v->mousey;
    cs = 0;
  }
  int fs = v->fsm, lh = line_h(fs), pad = fs / 2 + 2;
  int maxw = f->W / 2 > 24 * fs ? f->W / 2 : 24 * fs;
  if (maxw > f->W - 2 * f->m) maxw = f->W - 2 * f->m;
  int w = 0;
  for (int i = 0; i < n; i++) {
    vz_ellipsize(lines[i], fs, i == 0 ? VZ_BOLD : 0, maxw - 2 * pad);
    int tw;
    vz_text_size(lines[i], fs, i == 0 ? VZ_BOLD : 0, &tw, NULL);
    if (tw > w) w = tw;
  }
  w += 2 * pad;
  int h = n * lh + 2 * pad;
  /* below-right of the cell, kept inside the frame */
  int x = cx + cs + 6, y = cy + cs + 6;
  if (x + w > f->W - 2) x = cx - w - 6;
  if (x < 2) x = 2;
  if (y + h > f->H - 2) y = cy - h - 6;
  if (y < 2) y = 2;
  s->layer = 1;
  vz_fill(s, x, y, w, h, VZ_PANEL);
  vz_frame(s, x, y, w, h, 1.5, v->pinned ? VZ_ACCENT : VZ_HOVER);
  vz_panel_box(s, "tooltip", x, y, w, h);
  for (int i = 0; i < n; i++)
    vz_text(s, x + pad, y + pad + i * lh, lines[i], fs, i == 0 ? VZ_BOLD : 0,
            i == 0 ? VZ_FG : VZ_DIM, VZ_LEFT);
  s->layer = 0;
}

/* ====================================================================== */
/* Colour key                                                              */
/* ====================================================================== */

enum { KEY_SOLID, KEY_DASHED, KEY_CROSS, KEY_BAR };

/* One line saying what each outline colour means, for what this view
 * draws; items that do not fit are left out whole. */
static void draw_key(vz_canvas *s, vz_view *v, box b) {
  struct { int style; vz_color c; const char *text; } it[8];
  int n = 0;
  const cp_geom *g = &v->g;
  int scatter = v->t.kind == CP_TRACE_SCATTER;
#define ITEM(st, col, tx) \
  do { it[n].style = (st); it[n].c = (col); it[n].text = (tx); n++; } while (0)
  ITEM(KEY_SOLID, VZ_ACCENT, scatter && v->grad ? "this grad_output cell, its products"
                             : scatter ? "this input pixel, its products"
                                       : "footprint: taps done");
  if (!scatter) ITEM(KEY_DASHED, VZ_ACCENT, "taps to come");
  if (!scatter) ITEM(KEY_SOLID, VZ_ACCENT2,
                     v->pool == VZ_POOL_MAX ? "this output, its argmax"
                                            : "this output");
  if (g->p.pad[0] || g->p.pad[1] || g->p.pad[2] || g->p.pad[3] ||
      v->t.kind == CP_TRACE_GATHER)
    ITEM(KEY_DASHED, VZ_DIM, scatter ? "cropped"
                             : v->pool == VZ_POOL_MAX ? "padding (−∞)"
                                                      : "padding");
  if (v->has_mask || v->has_kmask) ITEM(KEY_CROSS, VZ_DIM, "masked");
  if (v->pool && v->t.pg.p.ceil_mode &&
      (v->g.OH < cp_pool_out_len_raw(g->H, v->t.pg.p.kernel[0],
                                     g->p.stride[0], v->t.pg.p.pad[0],
                                     g->p.dilation[0], 1) ||
       v->g.OW < cp_pool_out_len_raw(g->W, v->t.pg.p.kernel[1],
                                     g->p.stride[1], v->t.pg.p.pad[1],
                                     g->p.dilation[1], 1)))
    ITEM(KEY_DASHED, VZ_ERRC, "dropped window");
  if (g->p.transposed && (g->p.out_pad[0] || g->p.out_pad[1]))
    ITEM(KEY_BAR, vz_th->outpad, "output_padding");
  if (v->cmpview || (v->compare && !v->req.transposed))
    ITEM(KEY_SOLID, vz_differs_color(), "correlation ≠ convolution");
  ITEM(KEY_SOLID, VZ_HOVER, "under the pointer");
#undef ITEM
  int fs = v->fsm, lh = line_hpx(fs), sw = lh - 4, x = b.x, gap = fs * 2;
  for (int i = 0; i < n; i++) {
    int tw;
    vz_text_size(it[i].text, fs, 0, &tw, NULL);
    if (x + sw + 6 + tw > b.x + b.w) break;
    int y = b.y + 2;
    switch (it[i].style) {
    case KEY_SOLID: vz_frame(s, x, y, sw, sw, 2, it[i].c); break;
    case KEY_DASHED: vz_dashed(s, x, y, sw, sw, 3, it[i].c); break;
    case KEY_CROSS:
      vz_frame(s, x, y, sw, sw, 1, it[i].c);
      vz_line(s, x + 2, y + 2, x + sw - 2, y + sw - 2, 1, it[i].c);
      vz_line(s, x + sw - 2, y + 2, x + 2, y + sw - 2, 1, it[i].c);
      break;
    default: vz_fill(s, x, y + sw / 2 - 1, sw, 3, it[i].c);
    }
    vz_text(s, x + sw + 6, b.y, it[i].text, fs, 0, VZ_DIM, VZ_LEFT);
    x += sw + 6 + tw + gap;
  }
}

/* ====================================================================== */
/* The frame                                                               */
/* ====================================================================== */

/* Place header, footer and bottom; the panels get the rest.  tapcols: the
 * columns the tap list is sized for (1, or 2 to leave the grids more
 * height). */
static void frame_layout(vz_view *v, frame *f, int W, int H, int tapcols) {
  frame_fonts(v, W, H);
  v->height_now = H;
  f->W = W;
  f->H = H;
  f->m = v->fs * 3 / 4 + 4;
  f->fst = v->fs * 4 / 3;
  int m = f->m, lh = v->lh;
  int y = m / 2 + 2, bottom = H - m / 2;
  f->header = (box){m, y, W - 2 * m, 0};
  if (v->panels & VZ_PANEL_HEADER) {
    f->header.h = header_h(v, f);
    y += f->header.h + m / 2;
  }
  f->footer = (box){m, bottom, W - 2 * m, 0};
  if (v->chrome) {
    int fh = line_h(v->fsm) + 4;
    f->footer = (box){m, H - fh - 4, W - 2 * m, fh};
    bottom = f->footer.y - 8;
  }
  int want_taps = (v->panels & VZ_PANEL_TAPS) != 0;
  int want_side = (v->panels & VZ_PANEL_FORMULA) != 0 ||
                  (want_taps && v->ok && v->g.p.groups > 1);
  f->bottom = (box){m / 2, bottom, W - m, 0};
  if (want_taps || want_side) {
    /* as tall as the taps need, at most a third of the frame */
    int64_t need =
        want_taps && v->ok ? (v->t.ntaps + tapcols - 1) / tapcols + 3 : 4;
    int side_need = want_side ? 7 * line_h(v->fsm) : 0;
    int hb = (int)(need * lh > side_need ? need * lh : side_need) + m;
    int cap = (bottom - y) * (H < 480 ? 1 : 2) / (H < 480 ? 3 : 5);
    if (hb > cap) hb = cap;
    if (hb < 3 * lh + m) hb = 3 * lh + m;
    f->bottom = (box){m / 2, bottom - hb, W - m, hb};
    bottom = f->bottom.y - m / 2;
    box in = {f->bottom.x + m / 2, f->bottom.y + m / 2, f->bottom.w - m,
              f->bottom.h - m};
    int split = want_taps && want_side ? in.w * 3 / 5 : want_taps ? in.w : 0;
    f->taps = (box){in.x, in.y, split - (want_side ? m : 0), in.h};
    f->side = (box){in.x + split, in.y, in.w - split, in.h};
  }
  f->panels = (box){m, y, W - 2 * m, bottom - y};
  /* the code panel takes a column at the right: the grids and the bottom
   * lay out in the rest (view_code.c; room 0: it is an overlay) */
  int room = vz_view_code_room(v, f->W, f->H);
  if (room > 0) {
    int inw = f->side.x + f->side.w - f->taps.x - room, split = inw * 3 / 5;
    f->panels.w -= room;
    f->bottom.w -= room;
    if (f->side.w > 0 && f->taps.w > 0) {
      f->taps.w = split - f->m;
      f->side = (box){f->taps.x + split, f->side.y, inw - split, f->side.h};
    } else if (f->side.w > 0) {
      f->side.w -= room;
    } else if (f->taps.w > 0) {
      f->taps.w -= room;
    }
  }
}

/* The panels share the width so that their cells come out the same size:
 * the largest cell size at which every panel's tiles fit, each panel as
 * wide as its tiles (at least its title), the space left spread between
 * them. */
static int split_panels(vz_view *v, box a, int mask, box *bin, box *bk,
                        box *bout) {
  int gap = v->fs * 2;
  vzp_extent ex[3];
  box *out[3] = {bin, bk, bout};
  int on[3] = {(mask & VZ_PANEL_INPUT) != 0, (mask & VZ_PANEL_KERNEL) != 0,
               (mask & VZ_PANEL_OUTPUT) != 0};
  vzp_input_extent(v, &ex[0]);
  vzp_kernel_extent(v, &ex[1]);
  vzp_output_extent(v, &ex[2]);
  int n = on[0] + on[1] + on[2];
  int avail = a.w - (n > 1 ? (n - 1) * gap : 0);
  int cw;
  vz_text_size("0", v->fs, VZ_BOLD, &cw, NULL);
  /* at least the title's width, unless the titles alone overflow */
  int minw[3], need[3] = {0, 0, 0}, tsum = 0;
  for (int i = 0; i < 3; i++) {
    minw[i] = ex[i].title_w;
    if (on[i]) tsum += minw[i];
  }
  if (tsum > avail * 3 / 4)
    for (int i = 0; i < 3; i++) minw[i] = 8 * cw;
  int chosen = 1;
  for (int cs = max_cell(v); cs >= 1; cs--) {
    int sum = 0;
    for (int i = 0; i < 3; i++) {
      if (!on[i]) continue;
      int c = cs > ex[i].max_cs ? ex[i].max_cs : cs;
      int h = a.h - ex[i].fixed_h, best = -1;
      for (int nc = 1; nc <= (ex[i].tiles > 0 ? ex[i].tiles : 1); nc++) {
        int nr = (ex[i].tiles + nc - 1) / nc;
        if (nr * (ex[i].rows * c + ex[i].label_h + 10) > h && nc < ex[i].tiles)
          continue;
        best = (int)(nc * ex[i].cols * c + (nc - 1) * TILE_GAP);
        break;
      }
      if (best < 0) best = (int)(ex[i].cols * c);
      need[i] = best < minw[i] ? minw[i] : best;
      sum += need[i];
    }
    if (sum <= avail || cs == 1) {
      chosen = cs;
      break;
    }
  }
  int sum = 0;
  for (int i = 0; i < 3; i++) sum += on[i] ? need[i] : 0;
  if (sum > avail) { /* even 1-px cells do not fit: share in proportion */
    for (int i = 0; i < 3; i++)
      if (on[i]) need[i] = (int)((long)avail * need[i] / (sum > 0 ? sum : 1));
    sum = avail;
  }
  int extra = (avail - sum) / (n > 0 ? n : 1), x = a.x;
  for (int i = 0; i < 3; i++) {
    if (!on[i]) {
      *out[i] = (box){x, a.y, 0, a.h};
      continue;
    }
    int w = need[i] + extra;
    if (i == 2 || (i == 1 && !on[2])) w = a.x + a.w - x; /* the last one */
    *out[i] = (box){x, a.y, w, a.h};
    x += w + gap;
  }
  return chosen;
}

/* The colour key's height under the grids, 0 when the frame has no room. */
static int key_h(const vz_view *v, const frame *f) {
  return f->panels.h >= 14 * v->lh ? line_hpx(v->fsm) + 4 : 0;
}

/* A cell this size shows a signed value with a decimal ("-4.5") at its
 * digits' size. */
#define DIGITS_CS 38

/* The cell panel i (0 input, 1 kernel, 2 output) gets in box b, as the
 * panels fit their tiles (vzp_fit_tiles). */
static int panel_cs(vz_view *v, int i, box b) {
  vzp_extent ex;
  if (i == 0) vzp_input_extent(v, &ex);
  else if (i == 1) vzp_kernel_extent(v, &ex);
  else vzp_output_extent(v, &ex);
  int nc, c = vzp_fit_tiles(b.w, b.h - ex.fixed_h, ex.tiles, ex.rows,
                            ex.cols, ex.label_h, &nc);
  return c > ex.max_cs ? ex.max_cs : c;
}

/* The panels' boxes in area a: side by side, or (stacked) the input over
 * the kernel and output, the input taking `top` of the height (percent).
 * Returns the smallest cell the grids get. */
static int arrange(vz_view *v, box a, int top, box b[3]) {
  const int io = VZ_PANEL_KERNEL | VZ_PANEL_OUTPUT;
  int cs;
  if (!top) {
    cs = split_panels(v, a, v->panels, &b[0], &b[1], &b[2]);
  } else {
    int gap = v->fs;
    int h0 = a.h * top / 100;
    b[0] = (box){a.x, a.y, a.w, h0 - gap};
    box low = {a.x, a.y + h0, a.w, a.h - h0};
    box unused;
    cs = split_panels(v, low, v->panels & io, &unused, &b[1], &b[2]);
  }
  for (int i = 0; i < 3; i++) {
    if (b[i].w <= 0 || !(v->panels & (VZ_PANEL_INPUT << i))) continue;
    int c = panel_cs(v, i, b[i]);
    if (c < cs) cs = c;
  }
  return cs;
}

/* The best arrangement of the panels in a: side by side unless stacking the
 * input over the others gives the grids clearly larger cells (a 1-D view,
 * a wide input).  Fills b, returns the cell size. */
static int best_arrangement(vz_view *v, box a, box b[3]) {
  int cs = arrange(v, a, 0, b);
  if ((v->panels & VZ_PANEL_INPUT) == 0 ||
      (v->panels & (VZ_PANEL_KERNEL | VZ_PANEL_OUTPUT)) == 0)
    return cs;
  for (int top = 30; top <= 60; top += 10) {
    box t[3];
    int c = arrange(v, a, top, t);
    if (c * 5 > cs * 6) { /* 20% larger cells */
      cs = c;
      memcpy(b, t, sizeof t);
    }
  }
  return cs;
}

/* The panels' area of f: what the colour key under the grids leaves. */
static box panels_area(const vz_view *v, const frame *f) {
  box a = f->panels;
  a.h -= key_h(v, f);
  return a;
}

/* The frame's layout: the tap list in one column, or in two when that lets
 * the grids' cells grow to show their values (the bottom's height goes to
 * the grids).  The panels' boxes it measured are kept (has_pb). */
static void choose_layout(vz_view *v, frame *f, int W, int H) {
  frame_layout(v, f, W, H, 1);
  f->has_pb = 0;
  if (!v->ok || v->cmpview || v->gemm || v->grad >= VZ_GRAD_WEIGHT ||
      !(v->panels & VZ_PANEL_TAPS) || v->t.ntaps < 4)
    return;
  int cw;
  vz_text_size("0", v->fs, 0, &cw, NULL);
  if (f->taps.w / 2 < 34 * cw) return; /* no room for two columns */
  int cs1 = best_arrangement(v, panels_area(v, f), f->pb);
  f->has_pb = 1;
  if (cs1 >= DIGITS_CS) return;
  frame two;
  frame_layout(v, &two, W, H, 2);
  if (best_arrangement(v, panels_area(v, &two), two.pb) > cs1) {
    two.has_pb = 1;
    *f = two;
  }
}

void vz_view_draw(vz_view *v, vz_canvas *s) {
  vz_clear(s, VZ_BG);
  v->hit.nctl = 0;
  v->hit.tl[2] = 0;
  int64_t done = 0;
  vz_view_current(v, &done);
  frame f;
  choose_layout(v, &f, s->w, s->h);
  if (v->panels & VZ_PANEL_HEADER) draw_header(s, v, &f);
  if (v->chrome) draw_footer(s, v, &f);
  if (f.bottom.h > 0) {
    vz_fill(s, f.bottom.x, f.bottom.y, f.bottom.w, f.bottom.h, VZ_PANEL);
    vz_panel_box(s, "bottom", f.bottom.x, f.bottom.y, f.bottom.w,
                 f.bottom.h);
    if (f.taps.w > 0) draw_taps(s, v, f.taps, done);
    if (f.side.w > 0) draw_side(s, v, f.side);
  }
  if (v->ok && vz_view_steps(v) == 0) {
    /* N = 0, C = 0 or O = 0: a valid problem with nothing to compute */
    char msg[256];
    snprintf(msg, sizeof msg,
             "nothing to step through: the output has %lld x %lld x %lld x "
             "%lld cells and each takes %lld taps",
             (long long)v->g.N, (long long)v->g.O, (long long)v->g.OH,
             (long long)v->g.OW, (long long)v->t.ntaps);
    message_box(s, v, f.panels, msg, VZ_FG, VZ_PANEL);
    v->hit.nin = v->hit.nk = v->hit.nout = 0;
  } else if (!v->ok) {
    /* no grids to step through: the reason, where they would be */
    char msg[700];
    snprintf(msg, sizeof msg,
             "invalid parameters: %s\nchange a parameter (%s) to fix it",
             v->err, v->pool ? "s/S p/P d/D e" : "s/S p/P d/D o/O m");
    v->hit.nin = v->hit.nk = v->hit.nout = 0;
    message_box(s, v, f.panels, msg, VZ_ERRC, vz_th->errbg);
  } else {
    /* the colour key under the grids, when the frame has room for it */
    int kh = key_h(v, &f);
    if (kh > 0) {
      f.panels.h -= kh;
      draw_key(s, v, (box){f.panels.x, f.panels.y + f.panels.h, f.panels.w,
                           kh});
    }
    v->hit.nin = v->hit.nk = v->hit.nout = 0;
    if (v->cmpview) {
      vzc_panels(s, v, f.panels, done);
    } else if (v->gemm) {
      vzu_panels(s, v, f.panels, done);
    } else if (v->grad >= VZ_GRAD_WEIGHT) {
      if (v->panels & (VZ_PANEL_INPUT | VZ_PANEL_KERNEL | VZ_PANEL_OUTPUT))
        vzg_panels(s, v, f.panels, done);
    } else {
      if (!f.has_pb) best_arrangement(v, f.panels, f.pb);
      if (f.pb[0].w > 0) vzp_input_panel(s, v, f.pb[0], done);
      if (f.pb[1].w > 0) vzp_kernel_panel(s, v, f.pb[1], done);
      if (f.pb[2].w > 0) vzp_output_panel(s, v, f.pb[2], done);
    }
  }
  /* code and compare panels, over the grids (view_code.c) */
  vz_view_overlays_draw(s, v, f.panels.x, f.panels.y, f.panels.w, f.panels.h,
                        f.bottom.x, f.bottom.y, f.bottom.w, f.bottom.h);
  draw_tooltip(s, v, &f);
  if (v->help) draw_help(s, v, &f);
}
