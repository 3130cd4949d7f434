/* view_cmpview.c - correlation and convolution side by side (viz.compare).
 *
 * PyTorch's conv2d is a cross-correlation; a true convolution flips the
 * kernel.  A compare view steps through both at once: v->t is the
 * correlation's CONV trace, v->t2 the same problem with the flipped kernel
 * (flip = 1); a unit is the same output cell in both, and the tap k of both
 * reads the same input cell, times w[i, j] in one and w[kH-1-i, kW-1-j] in
 * the other.  Both outputs are drawn, the cells where they differ outlined. */
#include <stdlib.h>
#include <string.h>

#include "viz/code.h"
#include "viz/view_priv.h"

int vzc_rebuild(vz_view *v, const cp_trace_src *src, cp_err *e) {
  cp_trace_src s2 = *src;
  s2.flip = 1;
  if (cp_trace_init(&v->t2, &v->g, CP_TRACE_CONV, &s2, e)) return -1;
  int64_t ny = v->g.N * v->g.O * v->g.OH * v->g.OW;
  v->y2 = malloc(sizeof *v->y2 * (size_t)(ny ? ny : 1));
  v->taps2 = malloc(sizeof *v->taps2 * (size_t)(v->t.ntaps ? v->t.ntaps : 1));
  if (!v->y2 || !v->taps2) return cp_fail(e, "view: out of memory");
  cp_trace_canvas(&v->t2, v->t2.nunits, v->y2);
  for (int64_t q = 0; q < ny; q++) {
    float a = fabsf(v->y2[q]);
    if (isfinite(a) && a > v->ymax) v->ymax = a;
  }
  return 0;
}

void vzc_current(vz_view *v, int64_t u) {
  cp_trace_unit(&v->t2, u, NULL, v->taps2, &v->info2);
}

int vz_compare_differ(const vz_view *v, int64_t *total) {
  int64_t ny = v->g.N * v->g.O * v->g.OH * v->g.OW, d = 0;
  for (int64_t q = 0; q < ny; q++) d += v->y[q] != v->y2[q];
  if (total) *total = ny;
  return (int)(d > 2147483647 ? 2147483647 : d);
}

int vzc_flip_key(vz_view *v, const char *key) {
  if (strcmp(key, "f")) return -1;
  vz_view_status(v, "f: this view shows correlation and convolution at once");
  return 0;
}

/* ====================================================================== */
/* Text                                                                    */
/* ====================================================================== */

int vzc_tap_text(const vz_view *v, const cp_tap *tp, char *buf, size_t n,
                 int compact, int done) {
  if (!v->cmpview) return 0;
  const cp_tap *t2 = &v->taps2[tp - v->taps];
  char a[24], b[40], b2[40], p[24], p2[24], xs[64], w1[48], w2[48];
  vz_fmt(a, sizeof a, tp->xv, compact ? 5 : 7);
  vz_fmt(b, sizeof b, tp->wv, compact ? 5 : 7);
  vz_fmt(b2, sizeof b2, t2->wv, compact ? 5 : 7);
  /* bare factors: a negative one in parentheses, "×(-2)" */
  if (compact) {
    vz_paren_neg(b, sizeof b);
    vz_paren_neg(b2, sizeof b2);
  }
  vz_fmt(p, sizeof p, tp->prod, compact ? 6 : 8);
  vz_fmt(p2, sizeof p2, t2->prod, compact ? 6 : 8);
  if (tp->kind == CP_TAP_PAD) snprintf(xs, sizeof xs, "pad");
  else idx1(xs, sizeof xs, "x", tp->in, 4);
  idx1(w1, sizeof w1, "w", tp->w, 4);
  idx1(w2, sizeof w2, "w", t2->w, 4);
  if (compact && !done) snprintf(buf, n, "%s × %s | × %s", a, b, b2);
  else if (compact) snprintf(buf, n, "%s×%s = %s | ×%s = %s", a, b, p, b2, p2);
  else if (!done)
    snprintf(buf, n, "%s=%s × %s=%s  |  × %s=%s", xs, a, w1, b, w2, b2);
  else
    snprintf(buf, n, "%s=%s × %s=%s = %s  |  × %s=%s = %s", xs, a, w1, b, p,
             w2, b2, p2);
  return 1;
}

int vzc_headline(const vz_view *v, char *line, size_t n) {
  if (!v->cmpview) return 0;
  char t1[64];
  idx1(t1, sizeof t1, "y", v->info.idx, 4);
  snprintf(line, n, "%s: correlation Σ x·w[i,j]  |  convolution Σ "
                    "x·w[kH+1-i,kW+1-j], the same %lld input cells",
           t1, (long long)v->t.ntaps);
  return 1;
}

int vzc_result(vz_view *v, int64_t done, char *line, size_t n) {
  if (!v->cmpview) return 0;
  double s1 = v->taps[done > 0 ? done - 1 : 0].sum;
  double s2 = v->taps2[done > 0 ? done - 1 : 0].sum;
  char a[32], b[32];
  if (done < v->t.ntaps) {
    vz_fmt(a, sizeof a, s1, 10);
    vz_fmt(b, sizeof b, s2, 10);
    snprintf(line, n, "after %lld of %lld taps: correlation %s  |  "
                      "convolution %s",
             (long long)done, (long long)v->t.ntaps, a, b);
    return 1;
  }
  vz_fmt(a, sizeof a, v->info.value, 10);
  vz_fmt(b, sizeof b, v->info2.value, 10);
  if (v->info.value == v->info2.value)
    snprintf(line, n, "correlation %s = convolution %s (equal here)", a, b);
  else {
    char d[32];
    vz_fmt(d, sizeof d, (double)v->info2.value - v->info.value, 10);
    snprintf(line, n, "correlation %s  |  convolution %s  (differ by %s)", a,
             b, d);
  }
  return 1;
}

/* ====================================================================== */
/* Panels                                                                  */
/* ====================================================================== */

static void clabel(vz_canvas *s, const vz_view *v, int x, int y, int w,
                   const char *text, int px, int style, vz_color c) {
  char buf[200];
  snprintf(buf, sizeof buf, "%s", text);
  if (w < 8) return;
  vz_ellipsize(buf, px, style, w);
  vz_text(s, x, y, buf, px, style, c, VZ_LEFT);
}

static int cfit(const vz_view *v, int w, int h, int64_t cols, int64_t rows) {
  int cw = (int)(w / (cols > 0 ? cols : 1)), ch = (int)(h / (rows > 0 ? rows : 1));
  int cs = cw < ch ? cw : ch;
  if (cs > max_cell(v)) cs = max_cell(v);
  return cs < 2 ? 2 : cs;
}

/* One kernel slice (o, ci), flipped or not, with the taps done marked. */
static void kernel_grid(vz_canvas *s, vz_view *v, int x, int y, int cs,
                        int64_t o, int64_t ci, int flip, int64_t done) {
  const cp_geom *g = &v->g;
  vz_grid gr = {.x = x, .y = y, .cs = cs, .rows = g->kH, .cols = g->kW,
                .used = 1};
  char b[32];
  for (int64_t i = 0; i < g->kH; i++)
    for (int64_t j = 0; j < g->kW; j++) {
      int64_t si = flip ? g->kH - 1 - i : i, sj = flip ? g->kW - 1 - j : j;
      float wv = wval(v, o, ci, si, sj);
      int cx, cy;
      cell_rect(&gr, i, j, &cx, &cy);
      fmt_value(b, sizeof b, wv, cs);
      paint_cell(s, cx, cy, cs, vz_diverging(wv, v->wmax), b, 0);
    }
  int64_t per = g->kH * g->kW;
  for (int64_t k = ci * per; k < (ci + 1) * per && k < v->t.ntaps; k++) {
    const cp_tap *tp = &v->taps[k];
    int cur = v->by_tap && k == done - 1;
    if (k < done) mark(s, &gr, tp->k[0], tp->k[1], cur ? 4 : 2, VZ_ACCENT);
  }
}

/* One output channel: known cells with values, differences outlined. */
static void output_grid(vz_canvas *s, vz_view *v, int x, int y, int cs,
                        const float *yy, int64_t done) {
  const cp_geom *g = &v->g;
  int64_t n = v->info.idx[0], o = v->info.idx[1];
  vz_grid gr = {.x = x, .y = y, .cs = cs, .rows = g->OH, .cols = g->OW,
                .used = 1};
  char b[32];
  for (int64_t r = 0; r < g->OH; r++)
    for (int64_t c = 0; c < g->OW; c++) {
      int cx, cy;
      cell_rect(&gr, r, c, &cx, &cy);
      int64_t q = cp_geom_yoff(g, n, o, r, c);
      int known = q < v->cur_unit || (q == v->cur_unit && done >= v->t.ntaps);
      if (!known) {
        vz_fill(s, cx, cy, cs - (cs >= 6), cs - (cs >= 6), vz_th->pending);
        continue;
      }
      fmt_value(b, sizeof b, yy[q], cs);
      paint_cell(s, cx, cy, cs, vz_diverging(yy[q], v->ymax), b, 0);
      if (v->y[q] != v->y2[q]) mark(s, &gr, r, c, 2, vz_differs_color());
    }
  mark(s, &gr, v->info.idx[2], v->info.idx[3], 3, VZ_ACCENT2);
}

void vzc_panels(vz_canvas *s, vz_view *v, box a, int64_t done) {
  const cp_geom *g = &v->g;
  int gap = v->fs * 2, lab = line_hpx(v->fsm) + 4;
  int wl = a.w * 3 / 10;
  v->hit.nk = v->hit.nout = 0;
  if (v->panels & VZ_PANEL_INPUT)
    vzp_input_panel(s, v, (box){a.x, a.y, wl, a.h}, done);
  else
    wl = -gap;
  box r = {a.x + wl + gap, a.y, a.w - wl - gap, a.h};
  int64_t total;
  int differ = vz_compare_differ(v, &total);
  char t[200];
  snprintf(t, sizeof t, "correlation vs convolution: %d of %lld output cells "
                        "differ in all (outlined)",
           differ, (long long)total);
  clabel(s, v, r.x, r.y, r.w, t, v->fs, VZ_BOLD, VZ_FG);
  vz_panel_box(s, "panel", r.x, r.y, r.w, r.h);
  int top = r.y + v->lh + 4, h = r.y + r.h - top;
  /* the two kernels stacked on the left, the two outputs beside them */
  int64_t tapc = v->by_tap && done > 0 ? (done - 1) / (g->kH * g->kW) : 0;
  int64_t ci = tapc, o = v->info.idx[1];
  int wk = r.w / 4;
  int csk = cfit(v, wk, (h - 2 * lab - 10) / 2, g->kW, g->kH);
  int wo = r.w - wk - gap;
  int cso = cfit(v, (wo - gap) / 2, h - lab, g->OW, g->OH);
  if (cso > csk * 2) cso = csk * 2;
  vz_clip(s, r.x, top, r.w, h);
  char lb[120];
  snprintf(lb, sizeof lb, "w[%lld,%lld] (correlation)", (long long)o + 1,
           (long long)ci + 1);
  clabel(s, v, r.x, top, wk, lb, v->fsm, 0, VZ_FG);
  kernel_grid(s, v, r.x, top + lab, csk, o, ci, 0, done);
  int y2 = top + lab + (int)(g->kH * csk) + 10;
  clabel(s, v, r.x, y2, wk, "flipped (convolution)", v->fsm, 0, VZ_FG);
  kernel_grid(s, v, r.x, y2 + lab, csk, o, ci, 1, done);
  int ox = r.x + wk + gap, ow = (int)(g->OW * cso);
  int ox2 = ox + ow + gap;
  clabel(s, v, ox, top, ow + gap - 6, "conv2d (correlation)", v->fsm, 0,
         VZ_FG);
  output_grid(s, v, ox, top + lab, cso, v->y, done);
  clabel(s, v, ox2, top, r.x + r.w - ox2, "convolve2d (convolution)", v->fsm,
         0, VZ_FG);
  output_grid(s, v, ox2, top + lab, cso, v->y2, done);
  vz_unclip(s);
}
