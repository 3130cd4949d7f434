/* view_gemm.c - conv2d as matrix products: the unfold (im2col) view and
 * the sparse-matrix view, with its transpose (conv_transpose2d).
 *
 * A viz.unfold view is a conv2d view (the CONV trace steps it: a unit is
 * an output cell, its taps the kernel's entries) drawn as
 *   im2col    y[n] = W · unfold(x[n]): the patch of output (r, c) is
 *             column L = r*OW + c of the unfold matrix (K = C*kH*kW rows),
 *             the flattened kernel of channel o is row o of W (block
 *             diagonal with groups), the output cell their dot product;
 *   matrix    y[n] = C · x[n] flattened: C has a row per output cell and a
 *             column per input cell; a row holds the kernel where the
 *             window reads the input (padding taps have no column);
 *   matrix_t  Cᵀ · y[n]: conv_transpose2d (the adjoint): column u of Cᵀ is
 *             the kernel scattered back onto the window of output cell u;
 *             gx accumulates over the units done.
 * Entries come from the trace (geometry.h answers every index). */
#include <stdlib.h>

#include "viz/view_priv.h"

const char *vz_gemm_name(int gemm) {
  switch (gemm) {
  case VZ_GEMM_IM2COL: return "im2col";
  case VZ_GEMM_MATRIX: return "matrix";
  case VZ_GEMM_MATRIX_T: return "matrix_t";
  }
  return "none";
}

/* The largest matrices drawn (a view is for looking). */
#define GEMM_MAX_ROWS 96
#define GEMM_MAX_COLS 256

int vz_gemm_check(const vz_view *v, cp_err *e) {
  const cp_geom *g = &v->g;
  int64_t K = g->C * g->kH * g->kW, L = g->OH * g->OW;
  int64_t R = g->O * L, K2 = g->C * g->H * g->W;
  if (v->gemm == VZ_GEMM_IM2COL && (K + g->O > GEMM_MAX_ROWS ||
                                    K + L > GEMM_MAX_COLS))
    return cp_fail(e, "view: the unfold matrix is %lld x %lld and the "
                      "kernel matrix %lld x %lld: too large to draw (at most "
                      "%d rows and %d columns in all); look at a crop "
                      "(tensor:narrow) or fewer channels",
                   (long long)K, (long long)L, (long long)g->O, (long long)K,
                   GEMM_MAX_ROWS, GEMM_MAX_COLS);
  if (v->gemm >= VZ_GEMM_MATRIX && (R > GEMM_MAX_COLS || K2 > GEMM_MAX_COLS ||
                                    R * K2 > 96 * 256))
    return cp_fail(e, "view: the convolution matrix C is %lld x %lld: too "
                      "large to draw (at most %d x %d cells); look at a crop "
                      "(tensor:narrow) or fewer channels",
                   (long long)R, (long long)K2, GEMM_MAX_ROWS, GEMM_MAX_COLS);
  return 0;
}

int vz_gemm_key(vz_view *v, const char *key, int shift) {
  if (!strcmp(key, "f")) {
    vz_view_status(v, "f: the unfold view draws conv2d's cross-correlation "
                      "(flip the weight to see a true convolution)");
    return 0;
  }
  if (strcmp(key, "u")) return -1;
  int m = v->gemm + (shift ? -1 : 1);
  if (m > VZ_GEMM_MATRIX_T) m = VZ_GEMM_IM2COL;
  if (m < VZ_GEMM_IM2COL) m = VZ_GEMM_MATRIX_T;
  vz_view_set_gemm(v, m);
  return 1;
}

void vz_view_set_gemm(vz_view *v, int gemm) {
  if (!v->gemm || gemm < VZ_GEMM_IM2COL || gemm > VZ_GEMM_MATRIX_T) return;
  v->gemm = gemm;
  v->hover = 0;
  v->pinned = 0;
  vz_view_rebuild(v); /* keeps the step: the units are the same */
}

/* ====================================================================== */
/* The matrices                                                            */
/* ====================================================================== */

/* Row k of the unfold matrix, column L, of sample n: the input cell the
 * conv2d tap reads (0 in zero padding); *pad set for a padding cell. */
static float unfold_entry(const vz_view *v, int64_t n, int64_t k, int64_t L,
                          int *pad) {
  const cp_geom *g = &v->g;
  int64_t kk = g->kH * g->kW, ci = k / kk, i = (k % kk) / g->kW,
          j = k % g->kW, r = L / g->OW, c = L % g->OW;
  int64_t h = cp_pad_index(cp_geom_in_row(g, r, i), g->H, g->p.mode);
  int64_t w = cp_pad_index(cp_geom_in_col(g, c, j), g->W, g->p.mode);
  *pad = h < 0 || w < 0;
  return *pad ? 0.0f : xval(v, n, ci, h, w);
}

/* Column of C (the flattened input cell) a tap reads. */
static int64_t tap_col(const cp_geom *g, const cp_tap *tp) {
  return (tp->in[1] * g->H + tp->in[2]) * g->W + tp->in[3];
}

/* C for sample n: R x K2, NAN where C has no entry.  Built from the trace
 * (a reflect/replicate/circular tap adds into its source's column).
 * Cached per sample in v->cmat. */
static const float *cmatrix(vz_view *v, int64_t n) {
  const cp_geom *g = &v->g;
  int64_t L = g->OH * g->OW, R = g->O * L, K2 = g->C * g->H * g->W;
  if (v->cmat && v->cmat_n == n) return v->cmat;
  free(v->cmat);
  v->cmat = malloc(sizeof *v->cmat * (size_t)(R * K2 > 0 ? R * K2 : 1));
  cp_tap *taps = malloc(sizeof *taps * (size_t)(v->t.ntaps ? v->t.ntaps : 1));
  if (!v->cmat || !taps) {
    free(taps);
    free(v->cmat);
    v->cmat = NULL;
    return NULL;
  }
  for (int64_t q = 0; q < R * K2; q++) v->cmat[q] = NAN;
  for (int64_t row = 0; row < R; row++) {
    cp_unit info;
    cp_trace_unit(&v->t, n * R + row, NULL, taps, &info);
    for (int64_t k = 0; k < v->t.ntaps; k++) {
      const cp_tap *tp = &taps[k];
      if (tp->kind == CP_TAP_PAD) continue;
      int64_t col = (tp->in[1] * g->H + tp->in[2]) * g->W + tp->in[3];
      float *e = &v->cmat[row * K2 + col];
      *e = isnan(*e) ? tp->wv : *e + tp->wv;
    }
  }
  free(taps);
  v->cmat_n = n;
  return v->cmat;
}

/* Cᵀ y[n] over the rows (output cells) before `upto` (in unit order, as
 * conv_transpose2d's scatter adds them): gx, K2 floats. */
static void ct_product(vz_view *v, const float *C, int64_t n, int64_t upto,
                       float *gx) {
  const cp_geom *g = &v->g;
  int64_t L = g->OH * g->OW, R = g->O * L, K2 = g->C * g->H * g->W;
  for (int64_t q = 0; q < K2; q++) gx[q] = 0;
  for (int64_t row = 0; row < R && row < upto; row++) {
    float yv = v->y[n * R + row];
    for (int64_t q = 0; q < K2; q++)
      if (!isnan(C[row * K2 + q])) gx[q] += C[row * K2 + q] * yv;
  }
}

int vz_gemm_ct(vz_view *v, float *gx, int64_t *len) {
  const cp_geom *g = &v->g;
  int64_t L = g->OH * g->OW, R = g->O * L;
  int64_t u = v->cur_unit < 0 ? 0 : v->cur_unit, n = u / (R ? R : 1);
  const float *C = cmatrix(v, n);
  *len = g->C * g->H * g->W;
  if (!C) return -1;
  if (gx) ct_product(v, C, n, u - n * R + 1, gx);
  return 0;
}

/* ====================================================================== */
/* Drawing                                                                 */
/* ====================================================================== */

static void glabel(vz_canvas *s, const vz_view *v, int x, int y, int w,
                   const char *text, vz_color c) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", text);
  if (w < 8) return;
  vz_ellipsize(buf, v->fsm, 0, w);
  vz_text(s, x, y, buf, v->fsm, 0, c, VZ_LEFT);
}

/* A matrix cell: value with colour scale am, or a structural zero. */
static void mcell(vz_canvas *s, int x, int y, int cs, float val, float am,
                  int zero, int dim) {
  char b[32];
  if (zero) {
    vz_fill(s, x, y, cs - (cs >= 6), cs - (cs >= 6), vz_th->pending);
    return;
  }
  vz_color f = vz_diverging(val, am);
  if (dim) f = vz_mix(f, VZ_BG, 0.6f);
  fmt_value(b, sizeof b, val, cs);
  paint_cell(s, x, y, cs, f, b, 0);
}

/* Outline a whole row or column block of a grid. */
static void band(vz_canvas *s, const vz_grid *g, int64_t r, int64_t c,
                 int64_t nr, int64_t nc, vz_color col) {
  int x, y;
  cell_rect(g, r, c, &x, &y);
  int t = g->cs >= 12 ? 2 : 1;
  vz_frame(s, x - t, y - t, (int)(nc * g->cs) + 2 * t - (g->cs >= 6),
           (int)(nr * g->cs) + 2 * t - (g->cs >= 6), t, col);
}

static int known_unit(const vz_view *v, int64_t u, int64_t done) {
  return u < v->cur_unit || (u == v->cur_unit && done >= v->t.ntaps);
}

/* Largest cell size with w >= cols*cs + extra_w, h >= rows*cs + extra_h. */
static int fit_cs(const vz_view *v, int w, int h, int64_t cols, int64_t rows,
                  int extra_w, int extra_h) {
  int cw = (int)((w - extra_w) / (cols > 0 ? cols : 1));
  int ch = (int)((h - extra_h) / (rows > 0 ? rows : 1));
  int cs = cw < ch ? cw : ch;
  if (cs > max_cell(v)) cs = max_cell(v);
  return cs < 2 ? 2 : cs;
}

static void title_line(vz_canvas *s, const vz_view *v, box b, const char *t) {
  char buf[200];
  snprintf(buf, sizeof buf, "%s", t);
  vz_ellipsize(buf, v->fs, VZ_BOLD, b.w);
  vz_text(s, b.x, b.y, buf, v->fs, VZ_BOLD, VZ_FG, VZ_LEFT);
  vz_panel_box(s, "panel", b.x, b.y, b.w, b.h);
}

static void im2col_panels(vz_canvas *s, vz_view *v, box a, int64_t done) {
  const cp_geom *g = &v->g;
  const int64_t *u = v->info.idx;
  int64_t n = u[0], o = u[1], L = u[2] * g->OW + u[3], grp = v->info.group;
  int64_t kk = g->kH * g->kW, K = g->C * kk, Kg = g->Cg * kk, Lt = g->OH * g->OW;
  int gap = v->fs * 2, lab = line_hpx(v->fsm) + 4;
  /* the input, with the patch, on the left */
  int wl = a.w * 3 / 10;
  if (v->panels & VZ_PANEL_INPUT) vzp_input_panel(s, v, (box){a.x, a.y, wl, a.h}, done);
  else wl = -gap;
  box r = {a.x + wl + gap, a.y, a.w - wl - gap, a.h};
  char t[200];
  snprintf(t, sizeof t, "im2col: y = W · unfold(x)  (%lld×%lld · %lld×%lld)",
           (long long)g->O, (long long)K, (long long)K, (long long)Lt);
  title_line(s, v, r, t);
  int top = r.y + v->lh + 4;
  int mgap = 10;
  int cs = fit_cs(v, r.w, r.y + r.h - top - 4, K + Lt, K + g->O,
                  mgap, 2 * lab + mgap);
  vz_clip(s, r.x, top, r.w, r.y + r.h - top);
  vz_grid U = {.cs = cs, .rows = K, .cols = Lt, .used = 1};
  U.x = r.x + (int)(K * cs) + mgap;
  U.y = top + lab;
  vz_grid Wm = {.cs = cs, .rows = g->O, .cols = K, .used = 1};
  Wm.x = r.x;
  Wm.y = U.y + (int)(K * cs) + mgap + lab;
  vz_grid Y = {.cs = cs, .rows = g->O, .cols = Lt, .used = 1};
  Y.x = U.x;
  Y.y = Wm.y;
  /* labels: unfold over its columns, W and y over theirs */
  char lb[256];
  char xn[32] = "x";
  if (g->N > 1) snprintf(xn, sizeof xn, "x[%lld]", (long long)n + 1);
  snprintf(lb, sizeof lb, "unfold(%s): column %lld = the patch of y[%lld,%lld,"
           "%lld,%lld]", xn, (long long)L + 1,
           (long long)n + 1, (long long)o + 1, (long long)u[2] + 1,
           (long long)u[3] + 1);
  glabel(s, v, U.x, U.y - lab + 2, r.x + r.w - U.x, lb, VZ_FG);
  snprintf(lb, sizeof lb, "W: row %lld = kernel %lld flattened", (long long)o + 1,
           (long long)o + 1);
  glabel(s, v, Wm.x, Wm.y - lab + 2, (int)(K * cs) + mgap - 6, lb, VZ_FG);
  snprintf(lb, sizeof lb, "y (%lld × %lld)", (long long)g->O, (long long)Lt);
  glabel(s, v, Y.x, Y.y - lab + 2, r.x + r.w - Y.x, lb, VZ_FG);
  for (int64_t k = 0; k < K; k++)
    for (int64_t l = 0; l < Lt; l++) {
      int x, y, pad;
      cell_rect(&U, k, l, &x, &y);
      float val = unfold_entry(v, n, k, l, &pad);
      if (pad) {
        paint_cell(s, x, y, cs, vz_th->pad, "0", 0);
        continue;
      }
      mcell(s, x, y, cs, val, v->xmax, 0, k / Kg != grp);
    }
  for (int64_t oo = 0; oo < g->O; oo++)
    for (int64_t k = 0; k < K; k++) {
      int x, y;
      cell_rect(&Wm, oo, k, &x, &y);
      int64_t gg = cp_geom_group_of_out(g, oo);
      if (k / Kg != gg) { /* groups: W is block diagonal */
        mcell(s, x, y, cs, 0, 1, 1, 0);
        continue;
      }
      int64_t kl = k % Kg;
      float wv = wval(v, oo, kl / kk, (kl % kk) / g->kW, kl % g->kW);
      mcell(s, x, y, cs, wv, v->wmax, 0, 0);
    }
  for (int64_t oo = 0; oo < g->O; oo++)
    for (int64_t l = 0; l < Lt; l++) {
      int x, y;
      cell_rect(&Y, oo, l, &x, &y);
      int64_t un = ((n * g->O + oo) * g->OH + l / g->OW) * g->OW + l % g->OW;
      if (!known_unit(v, un, done)) {
        mcell(s, x, y, cs, 0, 1, 1, 0);
        continue;
      }
      mcell(s, x, y, cs, v->y[un], v->ymax, 0, 0);
    }
  band(s, &U, 0, L, K, 1, VZ_ACCENT2);
  band(s, &Wm, o, 0, 1, K, VZ_ACCENT2);
  for (int64_t k = 0; k < v->t.ntaps; k++) {
    int cur = v->by_tap && k == done - 1, mt = cur ? 3 : 2;
    int64_t row = grp * Kg + k;
    if (k < done) {
      mark(s, &U, row, L, mt, VZ_ACCENT);
      mark(s, &Wm, o, row, mt, VZ_ACCENT);
    } else {
      mark_dashed(s, &U, row, L, VZ_ACCENT);
      mark_dashed(s, &Wm, o, row, VZ_ACCENT);
    }
  }
  mark(s, &Y, o, L, 3, VZ_ACCENT2);
  vz_unclip(s);
}

/* A flat vector drawn as the tensor it flattens (tiles of rows x cols,
 * channel by channel) beside the matrix: a title, the tiles and a colour
 * bar in box b.  mk[i]: 0 plain, 1 a tap done, 2 a tap to come, 3 the
 * current output cell, 4 the tap of this step; known[i] 0 draws a cell
 * not computed yet. */
typedef struct rgroup {
  char title[120];
  int64_t tiles, rows, cols;
  const float *val;
  const unsigned char *known, *mk;
  float am;
} rgroup;

static int rgroup_cs(const vz_view *v, const rgroup *r, int w, int h,
                     int *nc) {
  int lab = line_hpx(v->fsm) + 4;
  int label_h = r->tiles > 1 ? lab : 0;
  int cs = vzp_fit_tiles(w, h - lab - (8 + lab + 6), (int)r->tiles, r->rows,
                         r->cols, label_h, nc);
  return cs > max_cell(v) ? max_cell(v) : cs;
}

static void rgroup_draw(vz_canvas *s, const vz_view *v, const rgroup *r,
                        box b, int cs, int nc) {
  int lab = line_hpx(v->fsm) + 4;
  int label_h = r->tiles > 1 ? lab : 0;
  char t[64];
  glabel(s, v, b.x, b.y, b.w, r->title, VZ_FG);
  int y0 = b.y + lab, nr = (int)((r->tiles + nc - 1) / nc), bottom = y0;
  for (int64_t tt = 0; tt < r->tiles; tt++) {
    int tx = b.x + (int)(tt % nc) * (int)(r->cols * cs + TILE_GAP);
    int ty = y0 + (int)(tt / nc) * (int)(r->rows * cs + label_h + 10);
    if (label_h) {
      int tw;
      snprintf(t, sizeof t, "channel %lld", (long long)tt + 1);
      vz_text_size(t, v->fsm, 0, &tw, NULL);
      if (tw > r->cols * cs) snprintf(t, sizeof t, "c%lld", (long long)tt + 1);
      glabel(s, v, tx, ty, (int)(r->cols * cs), t, VZ_DIM);
    }
    vz_grid G = {.cs = cs, .rows = r->rows, .cols = r->cols, .used = 1,
                 .x = tx, .y = ty + label_h};
    for (int64_t i = 0; i < r->rows; i++)
      for (int64_t j = 0; j < r->cols; j++) {
        int64_t q = (tt * r->rows + i) * r->cols + j;
        int x, y;
        cell_rect(&G, i, j, &x, &y);
        mcell(s, x, y, cs, r->val[q], r->am, !r->known[q], 0);
      }
    int mt = cs >= 30 ? 3 : 2;
    for (int64_t i = 0; i < r->rows; i++)
      for (int64_t j = 0; j < r->cols; j++) {
        int64_t q = (tt * r->rows + i) * r->cols + j;
        switch (r->mk[q]) {
        case 1: mark(s, &G, i, j, mt, VZ_ACCENT); break;
        case 2: mark_dashed(s, &G, i, j, VZ_ACCENT); break;
        case 3: mark(s, &G, i, j, mt + 1, VZ_ACCENT2); break;
        case 4: mark(s, &G, i, j, mt + 2, VZ_ACCENT); break;
        }
      }
    bottom = ty + label_h + (int)(r->rows * cs);
  }
  /* the colour bar as wide as a row of tiles (160 px at least) */
  int lw = (int)(nc * r->cols * cs + (nc - 1) * TILE_GAP);
  if (nr < 1 || lw < 160) lw = 160;
  if (lw > b.w) lw = b.w;
  if (lw >= 60 && bottom + 8 + lab <= b.y + b.h)
    vz_legend(s, b.x, bottom + 6, lw, 8, -r->am, r->am, 1, NULL, v->fsm);
}

/* Two vectors as tensors in box b, side by side (the width shared as
 * their tiles need it) or stacked, whichever gives the larger cells. */
static void rgroups(vz_canvas *s, const vz_view *v, box b, const rgroup *r1,
                    const rgroup *r2) {
  int gap = v->fs * 2, nc1 = 1, nc2 = 1, best = 0, bw1 = 0, stacked = 0;
  for (int f = 20; f <= 80; f += 5) { /* side by side: r1 gets f% */
    int w1 = (b.w - gap) * f / 100, w2 = b.w - gap - w1, a1, a2;
    int c1 = rgroup_cs(v, r1, w1, b.h, &a1), c2 = rgroup_cs(v, r2, w2, b.h, &a2);
    int c = c1 < c2 ? c1 : c2;
    if (c > best) best = c, bw1 = w1, nc1 = a1, nc2 = a2;
  }
  for (int f = 30; f <= 70; f += 5) { /* stacked: r1 gets f% of the height */
    int h1 = (b.h - gap) * f / 100, h2 = b.h - gap - h1, a1, a2;
    int c1 = rgroup_cs(v, r1, b.w, h1, &a1), c2 = rgroup_cs(v, r2, b.w, h2, &a2);
    int c = c1 < c2 ? c1 : c2;
    if (c > best) best = c, bw1 = h1, nc1 = a1, nc2 = a2, stacked = 1;
  }
  if (best < 2) return;
  if (!stacked) {
    /* the first group as wide as its tiles, the second after it */
    int used = (int)(nc1 * r1->cols * best + (nc1 - 1) * TILE_GAP);
    int w1 = used > 260 ? used : bw1 < 260 ? bw1 : 260;
    rgroup_draw(s, v, r1, (box){b.x, b.y, w1, b.h}, best, nc1);
    rgroup_draw(s, v, r2, (box){b.x + w1 + gap, b.y, b.w - w1 - gap, b.h},
                best, nc2);
  } else {
    int used = (int)(((r1->tiles + nc1 - 1) / nc1) *
                         (r1->rows * best + (r1->tiles > 1 ? line_hpx(v->fsm) + 4 : 0) + 10)) +
               2 * (line_hpx(v->fsm) + 4) + 14;
    int h1 = used < bw1 ? used : bw1;
    rgroup_draw(s, v, r1, (box){b.x, b.y, b.w, h1}, best, nc1);
    rgroup_draw(s, v, r2, (box){b.x, b.y + h1 + gap, b.w, b.h - h1 - gap},
                best, nc2);
  }
}

static void matrix_panels(vz_canvas *s, vz_view *v, box a, int64_t done) {
  const cp_geom *g = &v->g;
  const int64_t *u = v->info.idx;
  int tr = v->gemm == VZ_GEMM_MATRIX_T;
  int64_t n = u[0], Lt = g->OH * g->OW, R = g->O * Lt;
  int64_t K2 = g->C * g->H * g->W, row = v->cur_unit - n * R;
  const float *C = cmatrix(v, n);
  if (!C) return;
  int lab = line_hpx(v->fsm) + 4, mgap = 10;
  char t[200];
  if (tr)
    snprintf(t, sizeof t, "conv_transpose2d multiplies by Cᵀ: gx = Cᵀ · y  "
             "(%lld×%lld · %lld)", (long long)K2, (long long)R, (long long)R);
  else
    snprintf(t, sizeof t, "conv2d as a sparse matrix: y = C · x  "
             "(%lld×%lld · %lld)", (long long)R, (long long)K2, (long long)K2);
  title_line(s, v, a, t);
  int top = a.y + v->lh + 4;
  /* rows x cols of the matrix as drawn, the vector over it (a row), the
   * product beside it (a column) */
  int64_t mr = tr ? K2 : R, mc = tr ? R : K2;
  int cs = fit_cs(v, a.w, a.y + a.h - top - 4, mc + 1, mr + 1, 2 * mgap,
                  2 * lab + mgap);
  /* the width the matrix leaves: the two vectors as the tensors they
   * flatten (x and y, or y and gx) */
  int mw = (int)((mc + 1) * cs) + 2 * mgap, rgap = v->fs * 2;
  int lw = mw, rx = a.x + mw + rgap, rw = a.x + a.w - rx;
  int reshaped = rw >= 200 && rw >= a.w / 4;
  if (reshaped) {
    /* the labels over the matrix may use some of the width up to the
     * tensors (a third of the area at most) */
    int tw;
    vz_text_size(tr ? "Cᵀ: column 99 = the kernel on y[9,9,9,9]'s window"
                    : "C: row 99 = the kernel where y[9,9,9,9] reads x",
                 v->fsm, 0, &tw, NULL);
    lw = tw < a.w / 3 ? tw : a.w / 3;
    if (lw < mw) lw = mw;
    rx = a.x + lw + rgap;
    rw = a.x + a.w - rx;
  } else {
    lw = a.w;
  }
  vz_clip(s, a.x, top, a.w, a.y + a.h - top);
  vz_grid M = {.cs = cs, .rows = mr, .cols = mc, .used = 1};
  M.x = a.x;
  M.y = top + lab + cs + mgap + lab;
  vz_grid Vin = {.cs = cs, .rows = 1, .cols = mc, .used = 1};
  Vin.x = a.x;
  Vin.y = top + lab;
  vz_grid Vout = {.cs = cs, .rows = mr, .cols = 1, .used = 1};
  Vout.x = M.x + (int)(mc * cs) + 2 * mgap;
  Vout.y = M.y;
  char lb[200];
  if (tr)
    snprintf(lb, sizeof lb, "y flattened (sample %lld, O·OH·OW = %lld): Cᵀ's "
             "vector", (long long)n + 1, (long long)R);
  else
    snprintf(lb, sizeof lb, "x flattened (sample %lld, C·H·W = %lld)",
             (long long)n + 1, (long long)K2);
  glabel(s, v, Vin.x, Vin.y - lab + 2, lw, lb, VZ_FG);
  if (tr)
    snprintf(lb, sizeof lb, "Cᵀ: column %lld = the kernel on y[%lld,%lld,"
             "%lld,%lld]'s window",
             (long long)row + 1, (long long)n + 1, (long long)u[1] + 1,
             (long long)u[2] + 1, (long long)u[3] + 1);
  else
    snprintf(lb, sizeof lb, "C: row %lld = the kernel where y[%lld,%lld,%lld,"
             "%lld] reads x (padding taps have no column)",
             (long long)row + 1, (long long)n + 1, (long long)u[1] + 1,
             (long long)u[2] + 1, (long long)u[3] + 1);
  glabel(s, v, M.x, M.y - lab + 2, lw, lb, VZ_FG);
  /* the product's name over its column (beside the vector's strip) */
  {
    /* between the strip's label (ends at Vin.y - 2) and the matrix's */
    int lh = line_hpx(v->fsm), ly = Vin.y + (cs - lh) / 2;
    if (ly < Vin.y - 1) ly = Vin.y - 1;
    const char *pn = tr ? "gx" : "y";
    if (ly + lh <= M.y - lab + 1)
      glabel(s, v, Vout.x, ly, (reshaped ? rx - rgap / 2 : a.x + a.w) -
             Vout.x, pn, VZ_FG);
    else /* no room over it: beside its top */
      glabel(s, v, Vout.x + cs + 3, Vout.y, (reshaped ? rx - 4 : a.x + a.w) -
             (Vout.x + cs + 3), pn, VZ_FG);
  }
  float *gx = NULL, gmax = 0;
  if (tr) {
    gx = malloc(sizeof *gx * (size_t)(K2 ? K2 : 1));
    if (gx) { /* the scale: Cᵀ y over every column (steady while stepping) */
      ct_product(v, C, n, R, gx);
      for (int64_t q = 0; q < K2; q++)
        if (fabsf(gx[q]) > gmax) gmax = fabsf(gx[q]);
      /* the columns before this one, then this column's products done */
      ct_product(v, C, n, row, gx);
      for (int64_t k = 0; k < done && k < v->t.ntaps; k++)
        if (v->taps[k].kind != CP_TAP_PAD)
          gx[tap_col(g, &v->taps[k])] += v->taps[k].wv * v->y[v->cur_unit];
    }
  }
  if (!(gmax > 0)) gmax = 1;
  float cmax = v->wmax;
  for (int64_t i = 0; i < mr; i++)
    for (int64_t j = 0; j < mc; j++) {
      int x, y;
      cell_rect(&M, i, j, &x, &y);
      float e = tr ? C[j * K2 + i] : C[i * K2 + j];
      mcell(s, x, y, cs, e, cmax, isnan(e), 0);
    }
  for (int64_t j = 0; j < mc; j++) {
    int x, y;
    cell_rect(&Vin, 0, j, &x, &y);
    if (tr) {
      /* y is the vector Cᵀ is given: every entry known */
      mcell(s, x, y, cs, v->y[n * R + j], v->ymax, 0, 0);
    } else {
      int64_t ci = j / (g->H * g->W), h = (j / g->W) % g->H, w = j % g->W;
      mcell(s, x, y, cs, xval(v, n, ci, h, w), v->xmax, 0, 0);
    }
  }
  for (int64_t i = 0; i < mr; i++) {
    int x, y;
    cell_rect(&Vout, i, 0, &x, &y);
    if (tr) {
      mcell(s, x, y, cs, gx ? gx[i] : 0, gmax, !gx, 0);
    } else {
      int64_t un = n * R + i;
      mcell(s, x, y, cs, v->y[un], v->ymax, !known_unit(v, un, done), 0);
    }
  }
  /* the tensors: values, known cells and marks */
  float *rv = reshaped ? malloc(sizeof *rv * (size_t)(K2 + R)) : NULL;
  unsigned char *rk = rv ? calloc((size_t)(K2 + R), 1) : NULL;
  unsigned char *rm = rk ? calloc((size_t)(K2 + R), 1) : NULL;
  /* rv: [0, K2) the input side (x or gx), [K2, K2 + R) y */
  if (rm) {
    for (int64_t q = 0; q < K2; q++) {
      int64_t ci = q / (g->H * g->W), h = (q / g->W) % g->H, w = q % g->W;
      rv[q] = tr ? (gx ? gx[q] : 0) : xval(v, n, ci, h, w);
      rk[q] = !tr || gx;
    }
    for (int64_t q = 0; q < R; q++) {
      rv[K2 + q] = v->y[n * R + q];
      rk[K2 + q] = (unsigned char)(tr || known_unit(v, n * R + q, done));
    }
    rm[K2 + row] = 3;
  }
  /* the current output cell: a row of C (a column of Cᵀ), its taps */
  if (tr) band(s, &M, 0, row, mr, 1, VZ_ACCENT2);
  else band(s, &M, row, 0, 1, mc, VZ_ACCENT2);
  for (int64_t k = 0; k < v->t.ntaps; k++) {
    const cp_tap *tp = &v->taps[k];
    if (tp->kind == CP_TAP_PAD) continue;
    int64_t col = tap_col(g, tp);
    int cur = v->by_tap && k == done - 1;
    int mt = cur ? 3 : 2;
    int64_t mi = tr ? col : row, mj = tr ? row : col;
    if (k < done) {
      mark(s, &M, mi, mj, mt, VZ_ACCENT);
      if (tr) mark(s, &Vout, col, 0, mt, VZ_ACCENT);
      else mark(s, &Vin, 0, col, mt, VZ_ACCENT);
    } else {
      mark_dashed(s, &M, mi, mj, VZ_ACCENT);
    }
    if (rm && (rm[col] != 4 && rm[col] != 1))
      rm[col] = (unsigned char)(k < done ? (cur ? 4 : 1) : 2);
    else if (rm && cur)
      rm[col] = 4;
  }
  if (tr) mark(s, &Vin, 0, row, 3, VZ_ACCENT2);
  else mark(s, &Vout, row, 0, 3, VZ_ACCENT2);
  vz_unclip(s);
  if (rm) {
    rgroup ry = {.tiles = g->O, .rows = g->OH, .cols = g->OW,
                 .val = rv + K2, .known = rk + K2, .mk = rm + K2,
                 .am = v->ymax};
    rgroup rx_ = {.tiles = g->C, .rows = g->H, .cols = g->W, .val = rv,
                  .known = rk, .mk = rm, .am = tr ? gmax : v->xmax};
    char sm[32] = ""; /* the sample, with a batch */
    if (g->N > 1) snprintf(sm, sizeof sm, ", sample %lld", (long long)n + 1);
    snprintf(ry.title, sizeof ry.title, "%s (%lld×%lld×%lld%s)",
             tr ? "y" : "y = C·x", (long long)g->O, (long long)g->OH,
             (long long)g->OW, sm);
    snprintf(rx_.title, sizeof rx_.title, "%s (%lld×%lld×%lld%s)",
             tr ? "gx = Cᵀ·y so far" : "x", (long long)g->C, (long long)g->H,
             (long long)g->W, sm);
    box rb = {rx, top, rw, a.y + a.h - top};
    vz_clip(s, rb.x, rb.y, rb.w, rb.h);
    if (tr) rgroups(s, v, rb, &ry, &rx_);
    else rgroups(s, v, rb, &rx_, &ry);
    vz_unclip(s);
  }
  free(rv);
  free(rk);
  free(rm);
  free(gx);
}

void vzu_panels(vz_canvas *s, vz_view *v, box a, int64_t done) {
  v->hit.nk = v->hit.nout = 0;
  if (v->gemm == VZ_GEMM_IM2COL) {
    im2col_panels(s, v, a, done);
  } else {
    v->hit.nin = 0;
    matrix_panels(s, v, a, done);
  }
}

/* ====================================================================== */
/* Text of the bottom panel in the Cᵀ mode                                 */
/* ====================================================================== */

/* gx at tap k's cell after the tap: the columns of Cᵀ before the current
 * one (the output cells done, as ct_product sums them), then this
 * column's taps up to k.  The matrix is a cache of v (hence the cast). */
static double ct_running(const vz_view *v, int64_t k) {
  const cp_geom *g = &v->g;
  int64_t R = g->O * g->OH * g->OW, K2 = g->C * g->H * g->W;
  int64_t n = v->cur_unit / (R ? R : 1), row = v->cur_unit - n * R;
  int64_t col = tap_col(g, &v->taps[k]);
  const float *C = cmatrix((vz_view *)v, n);
  float s = 0, yv = v->y[v->cur_unit];
  if (C)
    for (int64_t r = 0; r < row; r++)
      if (!isnan(C[r * K2 + col])) s += C[r * K2 + col] * v->y[n * R + r];
  for (int64_t j = 0; j <= k; j++)
    if (v->taps[j].kind != CP_TAP_PAD && tap_col(g, &v->taps[j]) == col)
      s += v->taps[j].wv * yv;
  return s;
}

/* One tap of the current column of Cᵀ: the product y·w it adds into gx
 * and gx's cell after it ("gx[1,1,2,3] += y×w[1,1,1,2] = 9.04×(-0.97) =
 * -8.77 → -3.21"); compact without the operands' names. */
int vzu_tap_text(const vz_view *v, const cp_tap *tp, char *buf, size_t n,
                 int compact, int done) {
  if (v->gemm != VZ_GEMM_MATRIX_T || v->cur_unit < 0) return 0;
  char gs[48], ws[48], f[64], p[32], sm[32];
  float yv = v->y[v->cur_unit];
  idx1(ws, sizeof ws, "w", tp->w, 4);
  if (tp->kind == CP_TAP_PAD) {
    snprintf(buf, n, compact ? "%s: padding, nothing added"
                             : "%s reads padding: no entry in Cᵀ, nothing "
                               "added to gx",
             ws);
    return 1;
  }
  idx1(gs, sizeof gs, "gx", tp->in, 4);
  vz_times2(f, sizeof f, yv, tp->wv);
  vz_fmt2(p, sizeof p, (double)yv * tp->wv);
  if (!done) {
    if (compact) snprintf(buf, n, "%s += %s", gs, f);
    else snprintf(buf, n, "%s += y×%s = %s", gs, ws, f);
    return 1;
  }
  vz_fmt2(sm, sizeof sm, ct_running(v, tp - v->taps));
  /* compact 2 (the list's lines measured too wide): the product's value
   * goes first (the running value is the point) */
  if (compact >= 2)
    snprintf(buf, n, "%s += %s → %s", gs, f, sm);
  else if (compact) snprintf(buf, n, "%s += %s = %s → %s", gs, f, p, sm);
  else snprintf(buf, n, "%s += y×%s = %s = %s → %s", gs, ws, f, p, sm);
  return 1;
}

/* The line under the taps in the Cᵀ mode: how much of gx is summed. */
int vzu_result(const vz_view *v, int64_t done, char *line, size_t n) {
  if (v->gemm != VZ_GEMM_MATRIX_T || v->cur_unit < 0) return 0;
  const cp_geom *g = &v->g;
  int64_t R = g->O * g->OH * g->OW, nt = v->t.ntaps, pad = 0, added = 0;
  int64_t row = v->cur_unit % (R ? R : 1);
  for (int64_t k = 0; k < nt; k++) {
    pad += v->taps[k].kind == CP_TAP_PAD;
    added += k < done && v->taps[k].kind != CP_TAP_PAD;
  }
  char ps[64] = "";
  if (pad)
    snprintf(ps, sizeof ps, "; %lld tap%s read padding (no entry)",
             (long long)pad, pad > 1 ? "s" : "");
  if (done < nt)
    snprintf(line, n, "column %lld of Cᵀ: %lld of %lld products added into "
                      "gx%s",
             (long long)row + 1, (long long)added, (long long)(nt - pad), ps);
  else if (row + 1 < R)
    snprintf(line, n, "gx = Cᵀ·y over y's first %lld of %lld entries%s",
             (long long)row + 1, (long long)R, ps);
  else
    snprintf(line, n, "gx = Cᵀ·y = conv_transpose2d(y, w): all %lld entries "
                      "of y added",
             (long long)R);
  return 1;
}

int vzu_headline(const vz_view *v, char *line, size_t n) {
  if (!v->gemm) return 0;
  const cp_geom *g = &v->g;
  const int64_t *u = v->info.idx;
  char t1[64];
  idx1(t1, sizeof t1, "y", u, 4);
  int64_t L = u[2] * g->OW + u[3];
  if (v->gemm == VZ_GEMM_IM2COL)
    snprintf(line, n, "%s = row %lld of W · column %lld of unfold(x): %lld "
                      "products%s",
             t1, (long long)u[1] + 1, (long long)L + 1, (long long)v->t.ntaps,
             g->p.groups > 1 ? " (this group's rows; W is block diagonal)"
                             : "");
  else if (v->gemm == VZ_GEMM_MATRIX)
    snprintf(line, n, "%s = row %lld of C · x: the row holds the kernel at "
                      "the columns of the cells the window reads",
             t1, (long long)(v->cur_unit % (g->O * g->OH * g->OW)) + 1);
  else {
    char ys[32];
    vz_fmt2(ys, sizeof ys, v->cur_unit >= 0 ? v->y[v->cur_unit] : 0);
    snprintf(line, n, "Cᵀ: %s = %s times column %lld of Cᵀ (kernel "
                      "w[%lld,:,:,:] at the cells its window read) adds "
                      "into gx: conv_transpose2d's scatter",
             t1, ys, (long long)(v->cur_unit % (g->O * g->OH * g->OW)) + 1,
             (long long)u[1] + 1);
  }
  return 1;
}
