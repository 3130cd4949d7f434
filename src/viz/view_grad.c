/* view_grad.c - the backward view of conv2d: grad_input, grad_weight and
 * grad_bias stepped through with the forward tap each product comes from.
 *
 * One vz_view serves the three modes (v->grad):
 *   grad_input   conv_transpose2d of grad_output with the same weight,
 *                stride, padding, dilation and groups, output_padding the
 *                rows the forward's floor division dropped: the scatter
 *                (or zero-insertion) trace of view.c with the panels
 *                renamed, v->x sharing grad_output.
 *   grad_weight  CP_TRACE_GRADW: one unit per weight tap, its taps every
 *                forward output position; drawn by the panels below.
 *   grad_bias    CP_TRACE_GRADB: one unit per output channel.
 * v->req stays the forward conv2d's request; vz_grad_params derives the
 * problem each mode steps through (geometry.h answers every index). */
#include <stdlib.h>

#include "viz/view_priv.h"

/* ====================================================================== */
/* Problem and modes                                                       */
/* ====================================================================== */

const char *vz_grad_name(int grad) {
  switch (grad) {
  case VZ_GRAD_INPUT: return "input";
  case VZ_GRAD_WEIGHT: return "weight";
  case VZ_GRAD_BIAS: return "bias";
  }
  return "none";
}

/* v->x shares the tensor the current mode reads on its input side. */
static void select_x(vz_view *v) {
  cp_tensor_release(&v->x);
  cp_tensor_share(&v->x, v->grad == VZ_GRAD_INPUT ? &v->gy : &v->fx);
}

int vz_grad_setup(vz_view *v, const vz_view_init *in, cp_err *e) {
  char b1[128], b2[128];
  const cp_tensor *gy = in->grad_out;
  if (in->p.transposed)
    return cp_fail(e, "view: the backward view is conv2d's");
  if (gy->ndim != in->x->ndim)
    return cp_fail(e, "grad_output: expected a %d-D tensor as the input, "
                      "got size %s",
                   in->x->ndim, cp_shape_str(gy->ndim, gy->shape, b1,
                                             sizeof b1));
  cp_tensor g4;
  if (gy->ndim == 3) {
    if (cp_tensor_unsqueeze(&g4, gy, 0, e)) return -1;
  } else {
    cp_tensor_share(&g4, gy);
  }
  int rc = cp_tensor_contiguous(&v->gy, &g4, e);
  cp_tensor_release(&g4);
  if (rc) return -1;
  (void)b2;
  cp_tensor_share(&v->fx, &v->x);
  v->grad = in->grad >= VZ_GRAD_INPUT && in->grad <= VZ_GRAD_BIAS
                ? in->grad
                : VZ_GRAD_INPUT;
  select_x(v);
  return 0;
}

int vz_grad_params(vz_view *v, cp_conv_params *q, cp_err *e) {
  cp_conv_params f = *q;
  f.transposed = 0;
  cp_geom g;
  if (cp_geom_init(&g, &f, v->fx.shape, v->w.shape, 0, 0, 0, e)) return -1;
  const int64_t *s = v->gy.shape;
  if (s[0] != g.N || s[1] != g.O || s[2] != g.OH || s[3] != g.OW) {
    char b[128];
    return cp_fail(e, "grad_output: expected the shape of the conv2d output "
                      "[%lld, %lld, %lld, %lld], but got %s",
                   (long long)g.N, (long long)g.O, (long long)g.OH,
                   (long long)g.OW, cp_shape_str(4, s, b, sizeof b));
  }
  *q = g.p;
  if (v->grad != VZ_GRAD_INPUT) return 0;
  if (g.p.mode != CP_PAD_ZEROS)
    return cp_fail(e, "padding_mode: the grad_input view draws zero padding "
                      "only (with '%s' the padded input's gradient is folded "
                      "back; conv.conv2d_backward computes it)",
                   cp_padmode_name(g.p.mode));
  q->transposed = 1;
  q->padspec = CP_PADSPEC_EXPLICIT;
  q->out_pad[0] = cp_conv_dropped_rows(g.H, g.kH, g.p.stride[0], g.p.pad[0],
                                       g.p.pad[1], g.p.dilation[0]);
  q->out_pad[1] = cp_conv_dropped_rows(g.W, g.kW, g.p.stride[1], g.p.pad[2],
                                       g.p.pad[3], g.p.dilation[1]);
  return 0;
}

void vz_view_set_grad(vz_view *v, int grad) {
  if (!v->grad || grad < VZ_GRAD_INPUT || grad > VZ_GRAD_BIAS) return;
  v->grad = grad;
  select_x(v);
  v->step = 1;
  v->hover = 0;
  v->pinned = 0;
  v->panx = v->pany = 0;
  vz_view_rebuild(v);
}

/* The gradient cell under (x, y), as its unit's index (grad_weight
 * {o, c, i, j}, grad_bias {o, 0, 0, 0}); 1 when there is one. */
static int grad_hit(const vz_view *v, int x, int y, int64_t idx[4]) {
  if (v->grad < VZ_GRAD_WEIGHT || !v->ok) return 0;
  for (int i = 0; i < v->hit.nout; i++) {
    const vz_grid *g = &v->hit.gout[i];
    if (x < g->x || y < g->y) continue;
    int64_t r = (y - g->y) / g->cs, c = (x - g->x) / g->cs;
    if (r >= g->rows || c >= g->cols) continue;
    if (g->ch < 0) { /* grad_bias: the columns are the channels */
      idx[0] = c;
      idx[1] = idx[2] = idx[3] = 0;
    } else {
      idx[0] = g->ch2;
      idx[1] = g->ch;
      idx[2] = r;
      idx[3] = c;
    }
    int64_t u = cp_trace_unit_of(&v->t, idx);
    return u >= 0 && u < v->t.nunits;
  }
  return 0;
}

/* A click on a gradient cell goes to its step and pins its tooltip. */
int vzg_click(vz_view *v, int x, int y) {
  int64_t idx[4];
  if (!grad_hit(v, x, y, idx)) return 0;
  vz_view_seek(v, cp_trace_step_of(&v->t, v->by_tap,
                                   cp_trace_unit_of(&v->t, idx), 0));
  vz_view_hover(v, VZ_HOVER_GRAD, idx);
  v->pinned = 1;
  return 1;
}

int vzg_mouse(vz_view *v, int x, int y) {
  if (v->grad < VZ_GRAD_WEIGHT) return 0;
  int64_t idx[4];
  if (grad_hit(v, x, y, idx)) vz_view_hover(v, VZ_HOVER_GRAD, idx);
  else v->hover = 0;
  return 1;
}

int vzg_hover_rect(const vz_view *v, int *x, int *y, int *cs) {
  const int64_t *h = v->hover_idx;
  int bias = v->grad == VZ_GRAD_BIAS;
  for (int i = 0; i < v->hit.nout; i++) {
    const vz_grid *g = &v->hit.gout[i];
    if (bias ? g->ch >= 0 : g->ch != h[1] || g->ch2 != h[0]) continue;
    cell_rect(g, bias ? 0 : h[2], bias ? h[0] : h[3], x, y);
    *cs = g->cs;
    return 1;
  }
  return 0;
}

/* The tooltip of a gradient cell: its value and the products it sums. */
int vzg_tooltip(vz_view *v, char lines[][200], int max) {
  int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
  if (u < 0 || u >= v->t.nunits || max < 3) return 0;
  cp_tap *tmp = malloc(sizeof *tmp * (size_t)(v->t.ntaps > 0 ? v->t.ntaps
                                                              : 1));
  if (!tmp) return 0;
  cp_unit info;
  cp_trace_unit(&v->t, u, NULL, tmp, &info);
  int bias = v->grad == VZ_GRAD_BIAS, n = 0;
  char a[64], b[32];
  idx1(a, sizeof a, bias ? "gb" : "gw", v->hover_idx, bias ? 1 : 4);
  vz_fmt(b, sizeof b, v->y[u], 10);
  snprintf(lines[n++], 200, "%s = %s", a, b);
  int o = snprintf(lines[n], 200, "= ");
  int64_t shown = 0, real = 0;
  for (int64_t k = 0; k < v->t.ntaps; k++) {
    if (tmp[k].kind == CP_TAP_PAD) continue; /* read zero padding */
    real++;
    if (o >= 150) continue;
    if (bias) {
      char gs[24];
      vz_fmt(gs, sizeof gs, tmp[k].wv, 6);
      o += snprintf(lines[n] + o, 200 - (size_t)o, "%s%s", shown ? " + " : "",
                    gs);
    } else {
      o = vz_product_term(lines[n], o, 200, !shown, tmp[k].xv, tmp[k].wv);
    }
    shown++;
  }
  if (shown < real)
    snprintf(lines[n] + o, 200 - (size_t)o, " + …");
  else if (!real)
    snprintf(lines[n], 200, "= 0 (every product reads padding)");
  n++;
  if (bias)
    snprintf(lines[n++], 200, "the sum of %lld grad_output cells of channel "
             "%lld", (long long)real, (long long)v->hover_idx[0] + 1);
  else
    snprintf(lines[n++], 200, "%lld products x·gy (every output position of "
             "channel %lld)", (long long)real, (long long)v->hover_idx[0] + 1);
  if (u >= v->cur_unit && n < max)
    snprintf(lines[n++], 200, "(computed at step %lld)",
             (long long)cp_trace_step_of(&v->t, v->by_tap, u, 0));
  free(tmp);
  return n;
}

int vz_grad_key(vz_view *v, const char *key, int shift) {
  if (!strcmp(key, "g")) {
    int m = v->grad + (shift ? -1 : 1);
    if (m > VZ_GRAD_BIAS) m = VZ_GRAD_INPUT;
    if (m < VZ_GRAD_INPUT) m = VZ_GRAD_BIAS;
    vz_view_set_grad(v, m);
    return 1;
  }
  if (!strcmp(key, "v")) {
    if (v->grad != VZ_GRAD_INPUT) {
      vz_view_status(v, "v: the scatter and zero-insertion views belong to "
                        "grad_input (g switches to it)");
      return 0;
    }
    v->scatter = !v->scatter;
    v->step = 1;
    vz_view_rebuild(v);
    return 1;
  }
  if (!strcmp(key, "f")) {
    vz_view_status(v, "f: the backward view is the gradient of conv2d "
                      "(cross-correlation)");
    return 0;
  }
  if (!strcmp(key, "o")) {
    vz_view_status(v, "o: output_padding follows the forward problem (the "
                      "rows its floor division dropped)");
    return 0;
  }
  return -1;
}

const char *vz_grad_panel_name(const vz_view *v, int which) {
  static const char *const fwd[3] = {"input x", "weight", "output y"};
  static const char *const gin[3] = {"grad_output gy", "weight w",
                                     "grad_input gx"};
  static const char *const gw[3] = {"input x", "grad_output gy",
                                    "grad_weight gw"};
  static const char *const gb[3] = {"input x", "grad_output gy",
                                    "grad_bias gb"};
  if (which < 0 || which > 2) which = 0;
  switch (v->grad) {
  case VZ_GRAD_INPUT: return gin[which];
  case VZ_GRAD_WEIGHT: return gw[which];
  case VZ_GRAD_BIAS: return gb[which];
  }
  return fwd[which];
}

const char *vzg_identity(const vz_view *v) {
  switch (v->grad) {
  case VZ_GRAD_INPUT:
    return "grad_input = conv_transpose2d(grad_output, w) with the forward "
           "stride, padding, dilation and groups; output_padding = the rows "
           "the forward dropped";
  case VZ_GRAD_WEIGHT:
    return "grad_weight = the correlation of x with grad_output: per group "
           "conv2d(xᵀ, gyᵀ; stride d, dilation s, padding p), cropped to "
           "kH×kW";
  case VZ_GRAD_BIAS:
    return "grad_bias = grad_output summed over the batch and every output "
           "position (the bias was added to each)";
  }
  return "";
}

/* ====================================================================== */
/* Text of the bottom panel                                                */
/* ====================================================================== */

/* "fwd tap K of y[n,o,r,c]": the forward multiply-add a product comes
 * from (y4 the forward output cell, w4 the weight element it used). */
static void fwd_tap(const vz_view *v, const int64_t y4[4], const int64_t w4[4],
                    char *b, size_t n) {
  cp_geom f = v->g; /* kH, kW are the forward's in every mode */
  char ys[48];
  idx1(ys, sizeof ys, "y", y4, 4);
  snprintf(b, n, "fwd tap %lld of %s", (long long)cp_trace_forward_tap(
                                          &f, y4, w4) + 1, ys);
}

/* A product line: "<dest> += <names> = a×b = p → s  (note)" with a
 * negative second factor in parentheses; a tap to come without "= p → s";
 * compact without names and note; compact 2 (the list's lines measured
 * too wide) also without "= p" (the running value is the point). */
static void plus_line(char *buf, size_t n, const char *dest,
                      const char *names, double a, double b, double p,
                      double sum, const char *note, int compact, int done) {
  char f[64], ps[32], ss[32];
  vz_times2(f, sizeof f, a, b);
  vz_fmt2(ps, sizeof ps, p);
  vz_fmt2(ss, sizeof ss, sum);
  const char *sp = dest[0] ? " " : "";
  if (compact) {
    if (!done)
      snprintf(buf, n, "%s%s+= %s", dest, sp, f);
    else if (compact >= 2)
      snprintf(buf, n, "%s%s+= %s → %s", dest, sp, f, ss);
    else
      snprintf(buf, n, "%s%s+= %s = %s → %s", dest, sp, f, ps, ss);
    return;
  }
  if (!done)
    snprintf(buf, n, "%s%s+= %s%s%s  (%s)", dest, sp, names,
             names[0] ? " = " : "", f, note);
  else
    snprintf(buf, n, "%s%s+= %s%s%s = %s → %s  (%s)", dest, sp, names,
             names[0] ? " = " : "", f, ps, ss, note);
}

int vzg_tap_text(const vz_view *v, const cp_tap *tp, char *buf, size_t n,
                 int compact, int done) {
  if (vzu_tap_text(v, tp, buf, n, compact, done)) return 1; /* Cᵀ mode */
  if (!v->grad) return 0;
  char xs[72], ws[72], ft[80], nm[160], a[32], ss[32];
  switch (v->t.kind) {
  case CP_TRACE_SCATTER: {
    /* unit = gy pixel (n, o, r, c); tap (oo = ci, i, j) adds into gx */
    char os[48];
    int64_t w4[4] = {tp->w[0], tp->w[1], tp->w[2], tp->w[3]};
    idx1(os, sizeof os, "gx", tp->out, 4);
    fwd_tap(v, tp->in, w4, ft, sizeof ft);
    if (tp->kind == CP_TAP_CROPPED) {
      char f[64];
      vz_times2(f, sizeof f, tp->xv, tp->wv);
      snprintf(buf, n, compact ? "%s cropped" : "%s: %s read padding, "
                                                "no gradient",
               f, ft);
      return 1;
    }
    idx1(ws, sizeof ws, "w", tp->w, 4);
    snprintf(nm, sizeof nm, "gy×%s", ws);
    plus_line(buf, n, os, nm, tp->xv, tp->wv, tp->prod, tp->sum, ft,
              compact, done);
    return 1;
  }
  case CP_TRACE_GATHER: {
    if (tp->kind != CP_TAP_INPUT) return 0; /* holes and border: as conv */
    idx1(xs, sizeof xs, "gy", tp->in, 4);
    idx1(ws, sizeof ws, "w", tp->w, 4);
    int64_t w4[4] = {tp->w[0], tp->w[1], tp->w[2], tp->w[3]};
    fwd_tap(v, tp->in, w4, ft, sizeof ft);
    break;
  }
  case CP_TRACE_GRADW:
    if (tp->kind == CP_TAP_PAD) snprintf(xs, sizeof xs, "pad");
    else idx1(xs, sizeof xs, "x", tp->in, 4);
    if (tp->kind == CP_TAP_PADSRC) {
      char t[64];
      snprintf(t, sizeof t, "pad=%.40s", xs);
      snprintf(xs, sizeof xs, "%s", t);
    }
    idx1(ws, sizeof ws, "gy", tp->w, 4);
    {
      int64_t y4[4] = {tp->w[0], tp->w[1], tp->w[2], tp->w[3]};
      int64_t w4[4] = {tp->out[0], tp->out[1], tp->out[2], tp->out[3]};
      fwd_tap(v, y4, w4, ft, sizeof ft);
    }
    break;
  case CP_TRACE_GRADB: {
    /* a sum of grad_output cells: "+= gy[..] = b → s" */
    idx1(ws, sizeof ws, "gy", tp->w, 4);
    vz_fmt2(a, sizeof a, tp->wv);
    vz_fmt2(ss, sizeof ss, tp->sum);
    if (compact) snprintf(buf, n, done ? "+= %s → %s" : "+= %s", a, ss);
    else if (!done) snprintf(buf, n, "+= %s = %s", ws, a);
    else snprintf(buf, n, "+= %s = %s → %s  (b[%lld] was added to y[%lld,"
                          "%lld,%lld,%lld])",
                  ws, a, ss, (long long)tp->w[1] + 1,
                  (long long)tp->w[0] + 1, (long long)tp->w[1] + 1,
                  (long long)tp->w[2] + 1, (long long)tp->w[3] + 1);
    return 1;
  }
  default: return 0;
  }
  /* gather / grad_weight: the unit is one cell (the headline names it) */
  snprintf(nm, sizeof nm, "%s×%s", xs, ws);
  plus_line(buf, n, "", nm, tp->xv, tp->wv, tp->prod, tp->sum, ft, compact,
            done);
  return 1;
}

int vzg_headline(const vz_view *v, char *line, size_t n) {
  if (!v->grad) return 0;
  const cp_geom *g = &v->g;
  char t1[64], t2[32];
  const int64_t *u = v->info.idx;
  switch (v->t.kind) {
  case CP_TRACE_SCATTER: {
    float gv = xval(v, u[0], u[1], u[2], u[3]);
    idx1(t1, sizeof t1, "gy", u, 4);
    vz_fmt(t2, sizeof t2, gv, 9);
    snprintf(line, n, "%s = %s times the kernel w[%lld,:,:,:], added onto "
                      "gx where the forward output y[%lld,%lld,%lld,%lld] "
                      "read x",
             t1, t2, (long long)u[1] + 1, (long long)u[0] + 1,
             (long long)u[1] + 1, (long long)u[2] + 1, (long long)u[3] + 1);
    return 1;
  }
  case CP_TRACE_GATHER:
    idx1(t1, sizeof t1, "gx", u, 4);
    snprintf(line, n, "%s = Σ gy·w over the %lld taps of the flipped "
                      "kernel on zero-inserted grad_output",
             t1, (long long)v->t.ntaps);
    return 1;
  case CP_TRACE_GRADW:
    idx1(t1, sizeof t1, "gw", u, 4);
    snprintf(line, n, "%s = Σ x·gy over all %lld output positions: forward "
                      "tap %lld (channel %lld, row %lld, col %lld of the "
                      "kernel) of every y[:,%lld,:,:]",
             t1, (long long)v->t.ntaps,
             (long long)cp_trace_forward_tap(g, u, u) + 1, (long long)u[1] + 1,
             (long long)u[2] + 1, (long long)u[3] + 1, (long long)u[0] + 1);
    return 1;
  case CP_TRACE_GRADB:
    snprintf(line, n, "gb[%lld] = Σ gy[:,%lld,:,:] over %lld cells: b[%lld] "
                      "was added to each",
             (long long)u[0] + 1, (long long)u[0] + 1, (long long)v->t.ntaps,
             (long long)u[0] + 1);
    return 1;
  default: return 0;
  }
}

int vzg_result(vz_view *v, int64_t done, char *line, size_t n) {
  if (vzu_result(v, done, line, n)) return 1; /* the unfold view's Cᵀ */
  if (!v->grad) return 0;
  char t1[32], t3[64];
  if (v->t.kind == CP_TRACE_SCATTER) {
    int64_t land = vz_taps_landed(v);
    snprintf(line, n, "%lld of %lld products land in grad_input; %lld came "
                      "from taps that read padding",
             (long long)land, (long long)v->t.ntaps,
             (long long)(v->t.ntaps - land));
    return 1;
  }
  double sum = vz_view_sum(v);
  vz_fmt(t1, sizeof t1, done < v->t.ntaps ? sum : v->info.value, 10);
  const char *nm = v->t.kind == CP_TRACE_GATHER ? "gx"
                   : v->t.kind == CP_TRACE_GRADW ? "gw" : "gb";
  idx1(t3, sizeof t3, nm, v->info.idx, v->t.kind == CP_TRACE_GRADB ? 1 : 4);
  if (done < v->t.ntaps)
    snprintf(line, n, "running sum after %lld of %lld products: %s",
             (long long)done, (long long)v->t.ntaps, t1);
  else
    snprintf(line, n, "%s = %s", t3, t1);
  return 1;
}

/* ====================================================================== */
/* grad_weight / grad_bias panels                                          */
/* ====================================================================== */

/* One panel: tiles of rows x cols cells. */
typedef struct gpanel {
  const char *title;
  char sub[96];
  int64_t rows, cols;         /* one tile */
  int tiles;
  box b;
} gpanel;

static int gleg_h(const vz_view *v) { return 8 + 2 + line_hpx(v->fsm) + 2; }

/* Width the panel needs at cell size cs inside height h. */
static int gneed(const gpanel *p, int cs, int h, int label_h) {
  for (int nc = 1; nc <= p->tiles; nc++) {
    int nr = (p->tiles + nc - 1) / nc;
    if (nr * (p->rows * cs + label_h + 10) <= h)
      return (int)(nc * p->cols * cs + (nc - 1) * TILE_GAP);
  }
  return 1 << 28; /* not even one row of tiles fits: smaller cells */
}

/* Title, then the tile origins (x, y) for cell size cs; returns the
 * number of tile columns. */
static int gframe(vz_canvas *s, const vz_view *v, gpanel *p, int cs,
                  int label_h) {
  char buf[160];
  snprintf(buf, sizeof buf, "%s", p->title);
  vz_ellipsize(buf, v->fs, VZ_BOLD, p->b.w);
  int w = vz_text(s, p->b.x, p->b.y, buf, v->fs, VZ_BOLD, VZ_FG, VZ_LEFT);
  int sw;
  vz_text_size(p->sub, v->fsm, 0, &sw, NULL);
  if (p->sub[0] && w + v->fs + sw <= p->b.w)
    vz_text(s, p->b.x + w + v->fs, p->b.y + (v->lh - line_hpx(v->fsm)) / 2,
            p->sub, v->fsm, 0, VZ_DIM, VZ_LEFT);
  vz_panel_box(s, "panel", p->b.x, p->b.y, p->b.w, p->b.h);
  int avail = p->b.w;
  int nc = (int)((avail + TILE_GAP) / (p->cols * cs + TILE_GAP));
  if (nc < 1) nc = 1;
  if (nc > p->tiles) nc = p->tiles;
  return nc;
}

static void tile_xy(const vz_view *v, const gpanel *p, int t, int nc, int cs,
                    int label_h, int *x, int *y) {
  int tc = t % nc, tr = t / nc;
  *x = p->b.x + tc * (int)(p->cols * cs + TILE_GAP);
  *y = p->b.y + v->lh + 4 + label_h +
       tr * (int)(p->rows * cs + label_h + 10);
}

static void glabel(vz_canvas *s, const vz_view *v, int x, int y, int w,
                   const char *text, vz_color c) {
  char buf[96];
  snprintf(buf, sizeof buf, "%s", text);
  vz_ellipsize(buf, v->fsm, 0, w);
  vz_text(s, x, y, buf, v->fsm, 0, c, VZ_LEFT);
}

static void glegend(vz_canvas *s, const vz_view *v, const gpanel *p, float am) {
  int w = p->b.w < 260 ? p->b.w : 260;
  if (w < 60) return;
  vz_legend(s, p->b.x, p->b.y + p->b.h - gleg_h(v) + 2, w, 8, -am, am, 1,
            NULL, v->fsm);
}

/* The tap k of the current unit is done (solid) or to come (dashed). */
static void gmark(vz_canvas *s, const vz_grid *gr, int64_t r, int64_t c,
                  int64_t k, int64_t done, int by_tap, int cs) {
  int mt = cs >= 30 ? 3 : 2;
  if (k < done)
    mark(s, gr, r, c, by_tap && k == done - 1 ? mt + 2 : mt, VZ_ACCENT);
  else
    mark_dashed(s, gr, r, c, VZ_ACCENT);
}

/* Samples shown (tiles): those around the current tap's, at most max. */
static int64_t first_sample(const vz_view *v, int64_t done, int max) {
  int64_t N = v->g.N, per = v->g.OH * v->g.OW;
  if (N <= max || per <= 0) return 0;
  int64_t cur = done > 0 ? (done - 1) / per : 0;
  int64_t f = cur - max / 2;
  if (f > N - max) f = N - max;
  return f < 0 ? 0 : f;
}

void vzg_panels(vz_canvas *s, vz_view *v, box a, int64_t done) {
  const cp_geom *g = &v->g;
  int wmode = v->t.kind == CP_TRACE_GRADW;
  const int64_t *u = v->info.idx;
  int64_t o = u[0], grp = v->info.group;
  int64_t ch = wmode ? grp * g->Cg + u[1] : 0;
  int label_h = line_hpx(v->fsm) + 2;
  int maxs = g->N > 4 ? 4 : (int)g->N;
  int64_t n0 = first_sample(v, done, maxs);
  gpanel p[3];
  memset(p, 0, sizeof p);
  char t0[96], t1[96], t2[96];
  snprintf(t0, sizeof t0, "%s (%lldx%lldx%lldx%lld)", vz_grad_panel_name(v, 0),
           (long long)g->N, (long long)g->C, (long long)g->H, (long long)g->W);
  snprintf(t1, sizeof t1, "%s (%lldx%lldx%lldx%lld)", vz_grad_panel_name(v, 1),
           (long long)g->N, (long long)g->O, (long long)g->OH,
           (long long)g->OW);
  if (wmode)
    snprintf(t2, sizeof t2, "%s (%lldx%lldx%lldx%lld)",
             vz_grad_panel_name(v, 2), (long long)g->O, (long long)g->Cg,
             (long long)g->kH, (long long)g->kW);
  else
    snprintf(t2, sizeof t2, "%s (%lld)", vz_grad_panel_name(v, 2),
             (long long)g->O);
  p[0].title = t0;
  p[1].title = t1;
  p[2].title = t2;
  p[0].rows = g->H + g->p.pad[0] + g->p.pad[1];
  p[0].cols = g->W + g->p.pad[2] + g->p.pad[3];
  p[0].tiles = maxs;
  snprintf(p[0].sub, sizeof p[0].sub, "channel %lld", (long long)ch + 1);
  p[1].rows = g->OH;
  p[1].cols = g->OW;
  p[1].tiles = maxs;
  snprintf(p[1].sub, sizeof p[1].sub, "channel %lld", (long long)o + 1);
  int64_t nsl = wmode ? (g->Cg > 8 ? 8 : g->Cg) : 1;
  int64_t sl0 = wmode && g->Cg > nsl ? (u[1] / nsl) * nsl : 0;
  if (sl0 + nsl > g->Cg) sl0 = g->Cg - nsl;
  p[2].rows = wmode ? g->kH : 1;
  p[2].cols = wmode ? g->kW : g->O;
  p[2].tiles = (int)nsl;
  if (wmode)
    snprintf(p[2].sub, sizeof p[2].sub, "out channel %lld", (long long)o + 1);
  int first = !wmode; /* grad_bias leaves out the input panel */
  int np = 3 - first;
  int gap = v->fs * 2;
  int avail = a.w - (np - 1) * gap;
  int hbody = a.h - (v->lh + 4) - gleg_h(v) - 4;
  int cs = max_cell(v), need[3] = {0, 0, 0};
  /* each panel at least as wide as its title, unless the titles alone
   * take most of the width */
  int minw[3], tsum = 0;
  for (int i = first; i < 3; i++) {
    vz_text_size(p[i].title, v->fs, VZ_BOLD, &minw[i], NULL);
    tsum += minw[i];
  }
  if (tsum > avail * 3 / 4)
    for (int i = first; i < 3; i++)
      vz_text_size("0000000000", v->fs, VZ_BOLD, &minw[i], NULL);
  for (; cs > 2; cs--) {
    int sum = 0;
    for (int i = first; i < 3; i++) {
      need[i] = gneed(&p[i], cs, hbody, label_h);
      if (need[i] < minw[i]) need[i] = minw[i];
      sum += need[i];
    }
    if (sum <= avail) break;
  }
  int sum = 0;
  for (int i = first; i < 3; i++) sum += need[i];
  if (sum > avail)
    for (int i = first; i < 3; i++)
      need[i] = (int)((long)avail * need[i] / (sum > 0 ? sum : 1));
  int extra = sum < avail ? (avail - sum) / np : 0, x = a.x;
  for (int i = first; i < 3; i++) {
    int w = need[i] + extra;
    if (i == 2) w = a.x + a.w - x;
    p[i].b = (box){x, a.y, w, a.h};
    x += w + gap;
  }
  v->hit.nin = v->hit.nk = v->hit.nout = 0;
  char vb[32], lab[96];
  vz_grid gr;
  memset(&gr, 0, sizeof gr);
  gr.cs = cs;
  /* ---- input x: channel ch of the samples shown, padding drawn ---- */
  if (wmode) {
    int nc = gframe(s, v, &p[0], cs, label_h);
    vz_clip(s, p[0].b.x, p[0].b.y, p[0].b.w, p[0].b.h - gleg_h(v));
    for (int t = 0; t < maxs; t++) {
      int64_t n = n0 + t;
      int tx, ty;
      tile_xy(v, &p[0], t, nc, cs, label_h, &tx, &ty);
      gr.x = tx;
      gr.y = ty;
      gr.r0 = -g->p.pad[0];
      gr.c0 = -g->p.pad[2];
      gr.rows = p[0].rows;
      gr.cols = p[0].cols;
      snprintf(lab, sizeof lab, "sample %lld", (long long)n + 1);
      glabel(s, v, tx, ty - label_h, (int)(p[0].cols * cs), lab, VZ_FG);
      for (int64_t r = gr.r0; r < gr.r0 + gr.rows; r++)
        for (int64_t c = gr.c0; c < gr.c0 + gr.cols; c++) {
          int cx, cy;
          cell_rect(&gr, r, c, &cx, &cy);
          int64_t sr = cp_pad_index(r, g->H, g->p.mode),
                  sc = cp_pad_index(c, g->W, g->p.mode);
          int inside = r >= 0 && r < g->H && c >= 0 && c < g->W;
          if (sr < 0 || sc < 0) {
            paint_cell(s, cx, cy, cs, vz_th->pad, "0", 0);
            if (cs >= 8)
              vz_dashed(s, cx, cy, cs - 1, cs - 1, cs >= 24 ? 3 : 2, VZ_DIM);
            continue;
          }
          float xv = xval(v, n, ch, sr, sc);
          vz_color f = vz_diverging(xv, v->xmax);
          if (!inside) f = vz_mix(f, VZ_BG, 0.5f);
          fmt_value(vb, sizeof vb, xv, cs);
          paint_cell(s, cx, cy, cs, f, vb, 0);
        }
      for (int64_t k = 0; k < v->t.ntaps; k++) {
        const cp_tap *tp = &v->taps[k];
        if (tp->w[0] != n) continue;
        gmark(s, &gr, tp->pos[0], tp->pos[1], k, done, v->by_tap, cs);
      }
    }
    vz_unclip(s);
    glegend(s, v, &p[0], v->xmax);
  }
  /* ---- grad_output: channel o of the samples shown ---- */
  {
    int nc = gframe(s, v, &p[1], cs, label_h);
    vz_clip(s, p[1].b.x, p[1].b.y, p[1].b.w, p[1].b.h - gleg_h(v));
    for (int t = 0; t < maxs; t++) {
      int64_t n = n0 + t;
      int tx, ty;
      tile_xy(v, &p[1], t, nc, cs, label_h, &tx, &ty);
      gr.x = tx;
      gr.y = ty;
      gr.r0 = gr.c0 = 0;
      gr.rows = g->OH;
      gr.cols = g->OW;
      snprintf(lab, sizeof lab, "sample %lld", (long long)n + 1);
      glabel(s, v, tx, ty - label_h, (int)(p[1].cols * cs), lab, VZ_FG);
      const float *gyd = cp_tensor_data(&v->gy);
      for (int64_t r = 0; r < g->OH; r++)
        for (int64_t c = 0; c < g->OW; c++) {
          int cx, cy;
          cell_rect(&gr, r, c, &cx, &cy);
          float gv = gyd[cp_geom_yoff(g, n, o, r, c)];
          fmt_value(vb, sizeof vb, gv, cs);
          paint_cell(s, cx, cy, cs, vz_diverging(gv, v->wmax), vb, 0);
        }
      for (int64_t k = 0; k < v->t.ntaps; k++) {
        const cp_tap *tp = &v->taps[k];
        if (tp->w[0] != n) continue;
        gmark(s, &gr, tp->k[0], tp->k[1], k, done, v->by_tap, cs);
      }
    }
    vz_unclip(s);
    glegend(s, v, &p[1], v->wmax);
  }
  /* ---- the gradient: finished units keep their values ---- */
  {
    int nc = gframe(s, v, &p[2], cs, label_h);
    vz_clip(s, p[2].b.x, p[2].b.y, p[2].b.w, p[2].b.h - gleg_h(v));
    int64_t cur = v->cur_unit;
    for (int t = 0; t < p[2].tiles; t++) {
      int64_t sl = sl0 + t;
      int tx, ty;
      tile_xy(v, &p[2], t, nc, cs, label_h, &tx, &ty);
      gr.x = tx;
      gr.y = ty;
      gr.r0 = gr.c0 = 0;
      gr.rows = p[2].rows;
      gr.cols = p[2].cols;
      gr.used = 1;
      gr.ch = wmode ? sl : -1; /* grad_bias: the columns are channels */
      gr.ch2 = o;
      if (v->hit.nout < VZ_MAXGRIDS) /* clicks */
        v->hit.gout[v->hit.nout++] = gr;
      if (wmode) {
        int64_t wi[2] = {o, sl};
        idx1(lab, sizeof lab, "gw", wi, 2);
      } else {
        snprintf(lab, sizeof lab, "every output channel");
      }
      glabel(s, v, tx, ty - label_h, (int)(p[2].cols * cs), lab, VZ_FG);
      for (int64_t r = 0; r < gr.rows; r++)
        for (int64_t c = 0; c < gr.cols; c++) {
          int cx, cy;
          cell_rect(&gr, r, c, &cx, &cy);
          int64_t idx[4] = {wmode ? o : c, sl, r, c};
          int64_t un = wmode ? cp_trace_unit_of(&v->t, idx) : c;
          int known = un < cur || (un == cur && done >= v->t.ntaps);
          int running = un == cur && !known && done > 0;
          if (!known && !running) {
            paint_cell(s, cx, cy, cs, vz_th->pad, "", 0);
            continue;
          }
          /* the current cell holds its running sum, as the forward's */
          float gv = running ? (float)vz_view_sum(v) : v->y[un];
          fmt_value(vb, sizeof vb, gv, cs);
          paint_cell(s, cx, cy, cs, vz_diverging(gv, v->ymax), vb, 0);
        }
      if (wmode && sl == u[1]) mark(s, &gr, u[2], u[3], 3, VZ_ACCENT2);
      if (!wmode) mark(s, &gr, 0, o, 3, VZ_ACCENT2);
    }
    vz_unclip(s);
    glegend(s, v, &p[2], v->ymax);
  }
}
