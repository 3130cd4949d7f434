/* view_compare.c - correlation and true convolution side by side.
 *
 * Key F (or v:compare(true)) lays an opaque panel over the grids of a
 * conv2d view (an overlay: layer 1 in v:layout(), covering the grids'
 * whole area): the kernel and its 180-degree turn, the output of conv2d
 * (correlation) and of the true convolution (the flipped kernel) for the
 * same input, masks, padding and partial rescaling, and their difference,
 * as far as the step has computed them (the current cell holds its running
 * sums); computed cells where the two differ are outlined in both, in a
 * colour of their own (vz_differs_color, in the legend).  Both outputs come from the step
 * model (core/trace.c) with flip off and on, so they are the numbers the
 * view steps through when `f` toggles.  One output channel of one batch
 * item is shown: the one of the current step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "viz/code.h"
#include "viz/compare.h"
#include "viz/view_priv.h"

/* The trace of v with flip set to `flip` (v must be a valid conv2d). */
static int flip_trace(const vz_view *v, int flip, cp_trace *t) {
  cp_trace_src src;
  vz_view_trace_src(v, flip, &src);
  cp_err e;
  return cp_trace_init(t, &v->g, CP_TRACE_CONV, &src, &e);
}

/* Values of units [u0, u0 + n) of trace t into y. */
static int unit_values(const cp_trace *t, int64_t u0, int64_t n, float *y) {
  cp_tap *taps = malloc(sizeof *taps * (size_t)(t->ntaps ? t->ntaps : 1));
  if (!taps) return -1;
  cp_unit info;
  for (int64_t u = 0; u < n; u++) {
    cp_trace_unit(t, u0 + u, NULL, taps, &info);
    y[u] = info.value;
  }
  free(taps);
  return 0;
}

int vz_view_compare_outputs(const vz_view *v, float *corr, float *conv) {
  if (!v->ok || v->req.transposed) return -1;
  cp_trace a, b;
  if (flip_trace(v, 0, &a) || flip_trace(v, 1, &b)) return -1;
  if (unit_values(&a, 0, a.nunits, corr)) return -1;
  return unit_values(&b, 0, b.nunits, conv);
}

/* ====================================================================== */
/* Drawing                                                                 */
/* ====================================================================== */

static int same_value(float a, float b) {
  return a == b || (isnan(a) && isnan(b));
}

vz_color vz_differs_color(void) {
  /* the theme's text colour: no other outline uses it, and it stands out
   * on both ends of every palette */
  return VZ_FG;
}

/* A cell with its value, outlined (thickness t, colour col) when t > 0:
 * the digits fit inside the outline, never under it. */
static void cell(vz_canvas *s, int x, int y, int cs, vz_color fill,
                 float val, int t, vz_color col) {
  char num[32];
  int gap = cs >= 6 ? 1 : 0, inner = cs - gap;
  vz_fill(s, x, y, inner, inner, fill);
  int in = t > 0 ? t + 1 : 0; /* the digits' box, inside the outline */
  fmt_value(num, sizeof num, val, cs - 2 * in);
  int px = value_px(cs);
  if (px && num[0]) {
    int fit = vz_fit_text(num, px, 0, inner - 2 * in - 2, inner - 2 * in);
    if (fit)
      vz_text_box(s, x + in, y + in, inner - 2 * in, inner - 2 * in, num, fit,
                  0, vz_contrast(fill), fill);
  }
  if (t > 0 && inner >= 4) vz_frame(s, x, y, inner, inner, t, col);
}

/* One grid: title over rows x cols cells at (x, y), cell size cs.  known:
 * which cells the step has computed (NULL: all; 2 = the current cell, in
 * progress); mark: computed cells to outline (may be NULL); cur: the cell
 * of the current step (-1: none). */
static int grid(vz_canvas *s, const vz_view *v, int x, int y, int cs,
                const char *title, int tw, const float *val, int64_t rows,
                int64_t cols, float am, const unsigned char *known,
                const unsigned char *mark, int64_t cur) {
  char t[160];
  snprintf(t, sizeof t, "%s", title);
  vz_ellipsize(t, v->fsm, VZ_SANS, tw);
  vz_text(s, x, y, t, v->fsm, VZ_SANS, VZ_FG, VZ_LEFT);
  y += line_hpx(v->fsm) + 4;
  int inner = cs - (cs >= 6 ? 1 : 0), th = inner >= 12 ? 2 : 1;
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) {
      int64_t i = r * cols + c;
      int cx = x + (int)(c * cs), cy = y + (int)(r * cs);
      if (known && !known[i]) {
        vz_fill(s, cx, cy, inner, inner, vz_th->pending);
      } else {
        float f = val[i];
        int out = mark && mark[i] && (!known || known[i] == 1);
        cell(s, cx, cy, cs, vz_diverging(f, am), f, out && inner >= 4 ? th : 0,
             vz_differs_color());
      }
      if (i == cur && inner >= 4) /* around the cell, over the gap */
        vz_frame(s, cx - 1, cy - 1, inner + 2, inner + 2, th, VZ_ACCENT2);
    }
  return y; /* where the cells start */
}

/* Record an output grid of the panel for clicks (vz_view_compare_click). */
static void keep_grid(vz_view *v, int i, int x, int y, int cs, int64_t n,
                      int64_t o) {
  vz_grid *gr = &v->cmp[i];
  gr->x = x;
  gr->y = y;
  gr->cs = cs;
  gr->r0 = gr->c0 = 0;
  gr->rows = v->g.OH;
  gr->cols = v->g.OW;
  gr->ch = o;
  gr->ch2 = n;
  gr->used = 1;
}

static float absmax_of(const float *p, int64_t n) {
  float m = 0;
  for (int64_t i = 0; i < n; i++)
    if (isfinite(p[i]) && fabsf(p[i]) > m) m = fabsf(p[i]);
  return m > 0 ? m : 1;
}

/* The panel's content, drawn at layer 1 by vz_view_compare_draw. */
static void compare_draw(vz_canvas *s, vz_view *v, int x, int y, int w,
                         int h) {
  int fs = v->fsm, lh = line_hpx(fs), pad = fs / 2 + 4;
  if (w < 160 || h < 6 * lh || !v->ok || v->req.transposed ||
      vz_view_steps(v) == 0)
    return;
  const cp_geom *g = &v->g;
  int64_t done;
  vz_view_current(v, &done);
  int64_t n = v->info.idx[0], o = v->info.idx[1];
  int64_t r0 = v->info.idx[2], c0 = v->info.idx[3];
  int64_t plane = g->OH * g->OW, kk = g->kH * g->kW;
  int64_t u0 = (n * g->O + o) * plane;
  float *buf = malloc(sizeof *buf * (size_t)(3 * plane + 2 * kk));
  unsigned char *diff = malloc((size_t)plane), *known = malloc((size_t)plane);
  cp_tap *taps = malloc(sizeof *taps * (size_t)(v->t.ntaps ? v->t.ntaps : 1));
  cp_trace a, b;
  if (!buf || !diff || !known || !taps || flip_trace(v, 0, &a) ||
      flip_trace(v, 1, &b) || unit_values(&a, u0, plane, buf) ||
      unit_values(&b, u0, plane, buf + plane)) {
    free(buf);
    free(diff);
    free(known);
    free(taps);
    return;
  }
  float *corr = buf, *conv = buf + plane, *dy = buf + 2 * plane;
  float *k = buf + 3 * plane, *kf = k + kk;
  int64_t cur = r0 * g->OW + c0;
  /* what the step has computed: the cells before the current one, the
   * current one when its taps are all done, else its running sums */
  int64_t ntaps = v->t.ntaps;
  for (int64_t i = 0; i < plane; i++)
    known[i] = u0 + i < v->cur_unit ||
               (u0 + i == v->cur_unit && done >= ntaps);
  if (done < ntaps && cur >= 0 && cur < plane && done > 0) {
    cp_unit info;
    cp_trace_unit(&a, u0 + cur, NULL, taps, &info);
    corr[cur] = (float)taps[done - 1].sum;
    cp_trace_unit(&b, u0 + cur, NULL, taps, &info);
    conv[cur] = (float)taps[done - 1].sum;
    known[cur] = 2; /* in progress */
  }
  int64_t ndiff = 0, nknown = 0;
  float maxd = 0;
  for (int64_t i = 0; i < plane; i++) {
    dy[i] = conv[i] - corr[i];
    diff[i] = known[i] == 1 && !same_value(corr[i], conv[i]);
    nknown += known[i] == 1;
    ndiff += diff[i];
    if (diff[i] && isfinite(dy[i]) && fabsf(dy[i]) > maxd) maxd = fabsf(dy[i]);
  }
  /* the kernel slice of the first input channel of o's group, masked */
  int symmetric = 1;
  for (int64_t i = 0; i < g->kH; i++)
    for (int64_t j = 0; j < g->kW; j++) {
      k[i * g->kW + j] = wval(v, o, 0, i, j) * kmval(v, i, j);
      kf[i * g->kW + j] = wval(v, o, 0, g->kH - 1 - i, g->kW - 1 - j) *
                          kmval(v, g->kH - 1 - i, g->kW - 1 - j);
    }
  for (int64_t i = 0; i < kk; i++) symmetric &= same_value(k[i], kf[i]);
  int tx = x + pad, ty = y + pad, tw = w - 2 * pad;
  char t[256];
  /* five grids: w, flip(w), corr, conv, difference; one row when the
   * cells are larger so, else kernels above the outputs */
  int title_h = lh + 4, gap = 2 * fs, top = 2 * lh + 2 + 2 * pad;
  int avail_h = h - pad - top;
  int64_t one_w = 2 * g->kW + 3 * g->OW;
  int64_t one_h = g->kH > g->OH ? g->kH : g->OH;
  int cs1 = (int)fmin((double)(tw - 4 * gap) / (double)one_w,
                      (double)(avail_h - title_h) / (double)one_h);
  int64_t two_w = 3 * g->OW > 2 * g->kW ? 3 * g->OW : 2 * g->kW;
  int cs2 = (int)fmin((double)(tw - 2 * gap) / (double)two_w,
                      (double)(avail_h - 2 * title_h - gap) /
                          (double)(g->kH + g->OH));
  int two = cs2 > cs1;
  int cs = two ? cs2 : cs1;
  if (cs > max_cell(v)) cs = max_cell(v);
  if (cs < 2) {
    free(buf);
    free(diff);
    free(known);
    free(taps);
    return;
  }
  /* opaque over all of the grids' area: nothing half covered at its edge */
  vz_fill(s, x, y, w, h, VZ_PANEL);
  vz_frame(s, x, y, w, h, 1.5, VZ_DIM);
  vz_panel_box(s, "compare", x, y, w, h);
  int *ov = v->overlay[1];
  ov[0] = x, ov[1] = y, ov[2] = w, ov[3] = h;
  snprintf(t, sizeof t, "correlation vs true convolution · y[%lld,%lld,:,:]",
           (long long)n + 1, (long long)o + 1);
  vz_ellipsize(t, fs, VZ_BOLD | VZ_SANS, tw);
  vz_text(s, tx, ty, t, fs, VZ_BOLD | VZ_SANS, VZ_FG, VZ_LEFT);
  ty += lh + 2;
  const char *sym = symmetric ? ": the kernel is the same turned 180°" : "";
  if (nknown == 0)
    snprintf(t, sizeof t, "no cell computed yet%s · F hides", sym);
  else if (nknown == plane && ndiff)
    snprintf(t, sizeof t, "%lld of %lld cells differ (outlined) · largest "
                          "|difference| %.4g · F hides",
             (long long)ndiff, (long long)plane, (double)maxd);
  else if (nknown == plane)
    snprintf(t, sizeof t, "no cell differs%s · F hides", sym);
  else if (ndiff)
    snprintf(t, sizeof t, "%lld of the %lld cells computed so far differ "
                          "(outlined) · largest |difference| %.4g · F hides",
             (long long)ndiff, (long long)nknown, (double)maxd);
  else
    snprintf(t, sizeof t, "none of the %lld cells computed so far differs%s"
                          " · F hides", (long long)nknown, sym);
  vz_ellipsize(t, fs, VZ_SANS, tw);
  vz_text(s, tx, ty, t, fs, VZ_SANS, VZ_DIM, VZ_LEFT);
  ty += lh + pad;
  float wam = absmax_of(k, kk) > absmax_of(kf, kk) ? absmax_of(k, kk)
                                                    : absmax_of(kf, kk);
  float yam = fmaxf(absmax_of(corr, plane), absmax_of(conv, plane));
  int kw = (int)(g->kW * cs), ow = (int)(g->OW * cs);
  char lab[5][96];
  snprintf(lab[0], sizeof lab[0], "w[%lld,1]", (long long)o + 1);
  snprintf(lab[1], sizeof lab[1], "turned 180°");
  snprintf(lab[2], sizeof lab[2], "correlation (conv2d)");
  snprintf(lab[3], sizeof lab[3], "convolution (flipped)");
  snprintf(lab[4], sizeof lab[4], "convolution − correlation");
  int cx = tx, cy = ty;
  grid(s, v, cx, cy, cs, lab[0], kw + gap - 4, k, g->kH, g->kW, wam, NULL,
       NULL, -1);
  cx += kw + gap;
  grid(s, v, cx, cy, cs, lab[1], kw + gap - 4, kf, g->kH, g->kW, wam, NULL,
       NULL, -1);
  if (two) {
    cx = tx;
    cy += title_h + (int)(g->kH * cs) + gap;
  } else {
    cx += kw + gap;
  }
  int gy = grid(s, v, cx, cy, cs, lab[2], ow + gap - 4, corr, g->OH, g->OW,
                yam, known, diff, cur);
  keep_grid(v, 0, cx, gy, cs, n, o);
  cx += ow + gap;
  grid(s, v, cx, cy, cs, lab[3], ow + gap - 4, conv, g->OH, g->OW, yam, known,
       diff, cur);
  keep_grid(v, 1, cx, gy, cs, n, o);
  cx += ow + gap;
  if (known[cur < plane && cur >= 0 ? cur : 0] == 2) known[cur] = 0;
  grid(s, v, cx, cy, cs, lab[4], x + w - pad - cx, dy, g->OH, g->OW,
       absmax_of(dy, plane), known, diff, cur);
  keep_grid(v, 2, cx, gy, cs, n, o);
  free(buf);
  free(diff);
  free(known);
  free(taps);
}

void vz_view_compare_draw(vz_canvas *s, vz_view *v, int x, int y, int w,
                          int h) {
  int old = s->layer;
  s->layer = 1; /* over the grids: an overlay */
  compare_draw(s, v, x, y, w, h);
  s->layer = old;
}

void vz_view_compare_click(vz_view *v, int x, int y) {
  if (!v->ok || v->req.transposed || v->t.kind != CP_TRACE_CONV) return;
  for (int i = 0; i < 3; i++) {
    const vz_grid *gr = &v->cmp[i];
    if (!gr->used || gr->cs <= 0 || x < gr->x || y < gr->y) continue;
    int64_t c = (x - gr->x) / gr->cs, r = (y - gr->y) / gr->cs;
    if (r >= gr->rows || c >= gr->cols) continue;
    int64_t idx[4] = {gr->ch2, gr->ch, r, c};
    int64_t u = cp_trace_unit_of(&v->t, idx);
    if (u >= 0 && u < v->t.nunits)
      vz_view_seek(v, cp_trace_step_of(&v->t, v->by_tap, u, 0));
    return;
  }
}
