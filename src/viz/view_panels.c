/* view_panels.c - the input, kernel and output panels of a step-through
 * view, and hit tests on what they drew (hover). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/code.h"
#include "viz/view_priv.h"

/* Split the width w into n tiles of rows x cols cells: the cell size that
 * fits best and the number of tile columns. */
int vzp_fit_tiles(int w, int h, int n, int64_t rows, int64_t cols,
                  int label_h, int *ncol_out) {
  int best = 1, bestc = 1;
  for (int nc = 1; nc <= n; nc++) {
    int nr = (n + nc - 1) / nc;
    int cw = (int)((w - (nc - 1) * TILE_GAP) / (nc * (cols > 0 ? cols : 1)));
    int ch = (int)((h - nr * (label_h + 10)) / (nr * (rows > 0 ? rows : 1)));
    int cs = cw < ch ? cw : ch;
    if (cs > best) {
      best = cs;
      bestc = nc;
    }
  }
  *ncol_out = bestc;
  return best;
}

/* ====================================================================== */
/* Which channels / slices are shown                                       */
/* ====================================================================== */

/* First of `shown` consecutive slices out of n that keeps slice cur in
 * view: one before it when two or more are shown, so the step's neighbour
 * is there too; cur itself when only one is. */
static int64_t window_start(int64_t n, int shown, int64_t cur) {
  int64_t first = shown >= 2 ? cur - 1 : cur;
  if (first > n - shown) first = n - shown;
  return first < 0 ? 0 : first;
}

/* How many tiles of rows x cols fit in w x h with cells of at least
 * min_cs pixels (at most max, at least 1). */
static int tiles_that_fit(int w, int h, int max, int64_t rows, int64_t cols,
                          int label_h, int min_cs) {
  int n = max;
  while (n > 1) {
    int nc;
    if (vzp_fit_tiles(w, h, n, rows, cols, label_h, &nc) >= min_cs) break;
    n--;
  }
  return n < 1 ? 1 : n;
}

/* Input channels to show: all that fit; else a window of the current
 * group's, around the channel of the current tap. */
static int shown_inputs(const vz_view *v, int64_t grp, int64_t cur,
                        int64_t *ch, int max) {
  int64_t C = v->x.shape[1];
  int n = 0;
  if (C <= max) {
    for (int64_t c = 0; c < C && n < max; c++) ch[n++] = c;
  } else {
    int64_t Cg = v->ok ? v->g.Cg : C, g0 = grp * Cg;
    int64_t first = g0 + (Cg > max ? window_start(Cg, max, cur - g0) : 0);
    for (int64_t c = first; c < g0 + Cg && c < C && n < max; c++) ch[n++] = c;
  }
  return n;
}

/* Output channels to show: every one that fits (finished ones keep their
 * values); else a window around the current one. */
static int shown_outputs(const vz_view *v, int64_t cur, int64_t *ch,
                         int max) {
  int n = 0;
  int64_t first = v->g.O <= max ? 0 : window_start(v->g.O, max, cur);
  for (int64_t o = first; o < v->g.O && n < max; o++) ch[n++] = o;
  return n;
}

/* ====================================================================== */
/* Panels                                                                  */
/* ====================================================================== */


/* Title (bold) and, when it fits beside it, a note; returns the height. */
static int panel_title(vz_canvas *s, const vz_view *v, box b, const char *t,
                       const char *sub) {
  char buf[160];
  snprintf(buf, sizeof buf, "%s", t);
  vz_ellipsize(buf, v->fs, VZ_BOLD, b.w);
  int w = vz_text(s, b.x, b.y, buf, v->fs, VZ_BOLD, VZ_FG, VZ_LEFT);
  int sw;
  vz_text_size(sub ? sub : "", v->fsm, 0, &sw, NULL);
  if (sub && w + v->fs + sw <= b.w)
    vz_text(s, b.x + w + v->fs, b.y + (v->lh - line_hpx(v->fsm)) / 2, sub,
            v->fsm, 0, VZ_DIM, VZ_LEFT);
  vz_panel_box(s, "panel", b.x, b.y, b.w, b.h);
  return v->lh + 4;
}

/* Height of a legend (bar and tick labels) at the bottom of a panel. */
static int legend_h(const vz_view *v) { return 8 + 2 + line_hpx(v->fsm) + 2; }

static void panel_legend(vz_canvas *s, const vz_view *v, box b, float am) {
  int most = 260 * v->fs / 15; /* 260 px at the default size, growing */
  int w = b.w < most ? b.w : most;
  vz_legend(s, b.x, b.y + b.h - legend_h(v) + 2, w, 8, -am, am, 1, NULL,
            v->fsm);
}

/* A label over a tile, shortened to the tile's width. */
/* Replace the first `from` in t (n bytes) by `to`. */
static void replace_word(char *t, size_t n, const char *from, const char *to) {
  char *at = strstr(t, from);
  if (!at) return;
  char tail[96];
  snprintf(tail, sizeof tail, "%s", at + strlen(from));
  snprintf(at, n - (size_t)(at - t), "%s%s", to, tail);
}

/* A tile's label in w pixels, never past the panel's right edge `right`:
 * "channel 2", else "ch 2" ("sample 1, channel 2": "n1, ch 2"), else cut
 * with "…". */
static void tile_label(vz_canvas *s, const vz_view *v, int x, int y, int w,
                       int right, const char *text, vz_color c) {
  char buf[96];
  snprintf(buf, sizeof buf, "%s", text);
  if (x + w > right) w = right - x;
  int tw;
  vz_text_size(buf, v->fsm, 0, &tw, NULL);
  if (tw > w) {
    replace_word(buf, sizeof buf, "channel ", "ch ");
    replace_word(buf, sizeof buf, "sample ", "n");
  }
  vz_ellipsize(buf, v->fsm, 0, w);
  vz_text(s, x, y, buf, v->fsm, 0, c, VZ_LEFT);
}

/* "input x (1x2x5x5)"; a 1-D view leaves out its H of 1: "(1x2x16)". */
static void shape_title(const vz_view *v, char *b, size_t n, const char *name,
                        int64_t a, int64_t c, int64_t h, int64_t w) {
  if (v->dims1)
    snprintf(b, n, "%s (%lldx%lldx%lld)", name, (long long)a, (long long)c,
             (long long)w);
  else
    snprintf(b, n, "%s (%lldx%lldx%lldx%lld)", name, (long long)a,
             (long long)c, (long long)h, (long long)w);
}

static inmap input_map(const vz_view *v) {
  inmap m = {0, 0, v->x.shape[2], v->x.shape[3], 0};
  if (!v->ok) return m;
  const cp_geom *g = &v->g;
  if (v->t.kind == CP_TRACE_CONV || v->pool) {
    m.r0 = -g->p.pad[0];
    m.c0 = -g->p.pad[2];
    m.rows = g->H + g->p.pad[0] + g->p.pad[1];
    m.cols = g->W + g->p.pad[2] + g->p.pad[3];
  } else if (v->t.kind == CP_TRACE_GATHER) {
    cp_convT_canvas cv;
    cp_geomT_canvas(g, &cv);
    m.r0 = cv.gather_lo[0];
    m.c0 = cv.gather_lo[1];
    m.rows = cv.gather_len[0];
    m.cols = cv.gather_len[1];
    m.canvas = 1;
  }
  return m;
}

/* What a grid cell of the input side holds: returns 0 real input (src set),
 * 1 zero padding, 2 padding with a source (src set), 3 stride hole. */
static int input_cell(const vz_view *v, const inmap *m, int64_t r, int64_t c,
                      int64_t *sr, int64_t *sc) {
  int64_t H = v->x.shape[2], W = v->x.shape[3];
  if (m->canvas) {
    int64_t a = cp_geomT_zsource(&v->g, 0, r), b = cp_geomT_zsource(&v->g, 1, c);
    if (a == -1 || b == -1) return 1;
    if (a < 0 || b < 0) return 3;
    *sr = a;
    *sc = b;
    return 0;
  }
  if (r >= 0 && r < H && c >= 0 && c < W) {
    *sr = r;
    *sc = c;
    return 0;
  }
  cp_padmode mode = v->ok ? v->g.p.mode : CP_PAD_ZEROS;
  *sr = cp_pad_index(r, H, mode);
  *sc = cp_pad_index(c, W, mode);
  return (*sr < 0 || *sc < 0) ? 1 : 2;
}

static void draw_input_grid(vz_canvas *s, vz_view *v, vz_grid *gr,
                            const inmap *m, int64_t n, int64_t ch,
                            int active) {
  char b[32];
  for (int64_t r = m->r0; r < m->r0 + m->rows; r++)
    for (int64_t c = m->c0; c < m->c0 + m->cols; c++) {
      int x, y;
      cell_rect(gr, r, c, &x, &y);
      if (x > s->w || y > s->h || x + gr->cs < 0 || y + gr->cs < 0)
        continue;
      int64_t sr = -1, sc = -1;
      int kind = input_cell(v, m, r, c, &sr, &sc);
      int cs = gr->cs;
      if (kind == 1 && v->pool) {
        vzp_pool_outside_cell(s, v, r, c, x, y, cs);
        continue;
      }
      if (kind == 1 || kind == 3) {
        vz_color f = kind == 1 ? vz_th->pad : vz_th->hole;
        paint_cell(s, x, y, cs, f, "0", 0);
        if (kind == 1 && cs >= 8)
          vz_dashed(s, x, y, cs - 1, cs - 1, cs >= 24 ? 3 : 2, VZ_DIM);
        continue;
      }
      float xv = xval(v, n, ch, sr, sc), mv = mval(v, n, ch, sr, sc);
      vz_color f = vz_diverging(xv, v->xmax);
      int masked = v->has_mask && mv == 0;
      /* padding copies, masked cells and other groups' channels are muted
       * in their fill; their digits keep full contrast on it */
      if (kind == 2 || masked || !active)
        f = vz_mix(f, VZ_BG, masked ? 0.7f : 0.5f);
      fmt_value(b, sizeof b, xv, cs);
      paint_cell(s, x, y, cs, f, b, masked);
      if (kind == 2 && cs >= 8)
        vz_dashed(s, x, y, cs - 1, cs - 1, cs >= 24 ? 3 : 2, VZ_FG);
    }
  /* the real input's border */
  if (!m->canvas && (m->r0 < 0 || m->c0 < 0 || m->rows > v->x.shape[2] ||
                     m->cols > v->x.shape[3])) {
    int x, y;
    cell_rect(gr, 0, 0, &x, &y);
    vz_frame(s, x - 1, y - 1, (int)(v->x.shape[3] * gr->cs) + 1,
             (int)(v->x.shape[2] * gr->cs) + 1, 1, VZ_DIM);
  }
}

/* Channel of the input a tap of the current unit reads (for drawing). */
static int64_t tap_channel(const vz_view *v, int64_t k) {
  const cp_geom *g = &v->g;
  if (v->t.kind == CP_TRACE_SCATTER) return v->info.idx[1];
  return v->info.group * g->Cg + k / (g->kH * g->kW);
}

void vzp_input_panel(vz_canvas *s, vz_view *v, box b,
                             int64_t done) {
  const cp_geom *g = &v->g;
  int64_t chs[VZ_MAXGRIDS];
  int64_t grp = v->ok ? v->info.group : 0;
  int64_t cur = v->ok && v->t.ntaps > 0 && v->t.kind != CP_TRACE_SCATTER
                    ? tap_channel(v, done > 0 ? done - 1 : 0)
                    : (v->ok ? v->info.idx[1] : 0);
  inmap m = input_map(v);
  int label_h = line_hpx(v->fsm) + 2;
  int th0 = v->lh + 4;
  int64_t C = v->x.shape[1];
  int fit = tiles_that_fit(b.w, b.h - th0 - legend_h(v) - 4,
                           C < VZ_MAXGRIDS ? (int)C : VZ_MAXGRIDS, m.rows,
                           m.cols, label_h, 10);
  /* an empty input (zero batch) has no cells to draw, even when the
   * view shows an error (then n = 0 below would read sample 1) */
  int nch = cp_tensor_numel(&v->x) ? shown_inputs(v, grp, cur, chs, fit) : 0;
  const char *sub = v->ok && v->pool ? vzp_pool_pad_note(v)
                    : v->ok && v->causal ? "causal: zeros on the left only"
                    : !v->ok || v->t.kind == CP_TRACE_SCATTER ? NULL
                    : m.canvas ? "zero-inserted (stride holes) + border"
                    : (g->p.pad[0] || g->p.pad[1] || g->p.pad[2] ||
                       g->p.pad[3])
                        ? (g->p.mode == CP_PAD_ZEROS ? "with zero padding"
                                                     : "with padding")
                        : NULL;
  char title[96];
  shape_title(v, title, sizeof title, vz_grad_panel_name(v, 0),
              v->x.shape[0], v->x.shape[1], v->x.shape[2], v->x.shape[3]);
  char chlab[96] = "";
  if (v->x.shape[1] > nch && nch == 1)
    snprintf(chlab, sizeof chlab, "channel %lld of %lld",
             (long long)chs[0] + 1, (long long)v->x.shape[1]);
  else if (v->x.shape[1] > nch && nch > 0)
    snprintf(chlab, sizeof chlab, "channels %lld-%lld of %lld",
             (long long)chs[0] + 1, (long long)chs[nch - 1] + 1,
             (long long)v->x.shape[1]);
  int th = panel_title(s, v, b, title, chlab[0] ? chlab : sub);
  box a = {b.x, b.y + th, b.w, b.h - th - legend_h(v) - 4};
  int ncol;
  int cs = vzp_fit_tiles(a.w, a.h, nch, m.rows, m.cols, label_h, &ncol);
  if (cs > max_cell(v)) cs = max_cell(v);
  cs = (int)(cs * v->zoom);
  if (cs < 1) cs = 1;
  vz_clip(s, a.x, a.y, a.w, a.h);
  int64_t n = v->ok ? v->info.idx[0] : 0;
  v->hit.nin = 0;
  for (int t = 0; t < nch; t++) {
    int tc = t % ncol, tr = t / ncol;
    vz_grid *gr = &v->hit.gin[v->hit.nin++];
    gr->cs = cs;
    gr->r0 = m.r0;
    gr->c0 = m.c0;
    gr->rows = m.rows;
    gr->cols = m.cols;
    gr->ch = chs[t];
    gr->used = 1;
    gr->x = a.x + v->panx + tc * (int)(m.cols * cs + TILE_GAP);
    gr->y = a.y + label_h + v->pany + tr * (int)(m.rows * cs + label_h + 10);
    int active = !v->ok || v->t.kind == CP_TRACE_SCATTER
                     ? (!v->ok || chs[t] == v->info.idx[1])
                     : chs[t] / g->Cg == grp;
    char lab[64];
    if (v->x.shape[0] > 1)
      snprintf(lab, sizeof lab, "sample %lld, channel %lld", (long long)n + 1,
               (long long)chs[t] + 1);
    else
      snprintf(lab, sizeof lab, "channel %lld", (long long)chs[t] + 1);
    tile_label(s, v, gr->x, gr->y - label_h, (int)(m.cols * cs), b.x + b.w,
               lab, active ? VZ_FG : VZ_DIM);
    draw_input_grid(s, v, gr, &m, n, chs[t], active);
  }
  /* ---- the footprint of the current unit ---- */
  if (v->ok && v->t.ntaps > 0) {
    int mt = cs >= 30 ? 3 : 2;
    for (int i = 0; i < v->hit.nin; i++) {
      vz_grid *gr = &v->hit.gin[i];
      if (v->t.kind == CP_TRACE_SCATTER) {
        if (gr->ch == v->info.idx[1]) {
          int64_t r = v->info.idx[2], c = v->info.idx[3];
          mark(s, gr, r, c, mt + 1, VZ_ACCENT);
        }
        continue;
      }
      for (int64_t k = 0; k < v->t.ntaps; k++) {
        if (tap_channel(v, k) != gr->ch) continue;
        const cp_tap *tp = &v->taps[k];
        int is_cur = v->by_tap && k == done - 1;
        /* done taps solid, the rest of the footprint dashed: the whole
         * footprint is visible at every step */
        if (k < done)
          mark(s, gr, tp->pos[0], tp->pos[1], is_cur ? mt + 2 : mt,
               VZ_ACCENT);
        else
          mark_dashed(s, gr, tp->pos[0], tp->pos[1], VZ_ACCENT);
        /* a padding tap that reads a real cell: mark the source too */
        if (tp->kind == CP_TAP_PADSRC && k < done && cs >= 8) {
          int x, y;
          cell_rect(gr, tp->in[2], tp->in[3], &x, &y);
          vz_fill(s, x + 2, y + 2, cs / 6 + 2, cs / 6 + 2, VZ_ACCENT);
        }
      }
    }
  }
  if (v->pool) vzp_pool_input_marks(s, v, done);
  /* ---- hover ---- */
  if (v->ok && v->hover == 1) {
    cp_tap *tmp = malloc(sizeof *tmp * (size_t)v->t.ntaps);
    if (tmp) {
      cp_unit info;
      if (v->t.kind == CP_TRACE_SCATTER) {
        /* receptive field of an output cell under scatter: every input
         * pixel with a tap landing there */
        for (int64_t u = 0; u < v->t.nunits; u++) {
          cp_trace_unit(&v->t, u, NULL, tmp, &info);
          for (int64_t k = 0; k < v->t.ntaps; k++)
            if (tmp[k].kind != CP_TAP_CROPPED &&
                !memcmp(tmp[k].out, v->hover_idx, sizeof v->hover_idx))
              for (int i = 0; i < v->hit.nin; i++)
                if (v->hit.gin[i].ch == info.idx[1])
                  mark(s, &v->hit.gin[i], info.idx[2], info.idx[3], 2,
                       VZ_HOVER);
        }
      } else {
        int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
        if (u >= 0 && u < v->t.nunits) {
          cp_trace_unit(&v->t, u, NULL, tmp, &info);
          for (int64_t k = 0; k < v->t.ntaps; k++)
            for (int i = 0; i < v->hit.nin; i++)
              if (v->hit.gin[i].ch == info.group * g->Cg + k / (g->kH * g->kW))
                mark(s, &v->hit.gin[i], tmp[k].pos[0], tmp[k].pos[1], 2,
                     VZ_HOVER);
        }
      }
      free(tmp);
    }
  }
  if (v->hover == 2)
    for (int i = 0; i < v->hit.nin; i++)
      if (v->hit.gin[i].ch == v->hover_idx[1]) {
        int64_t r = v->hover_idx[2], c = v->hover_idx[3];
        if (m.canvas) {
          r *= g->p.stride[0];
          c *= g->p.stride[1];
        }
        mark(s, &v->hit.gin[i], r, c, 3, VZ_HOVER);
      }
  vz_unclip(s);
  panel_legend(s, v, b, v->xmax);
}

/* Kernel slices of the current unit. */
void vzp_kernel_panel(vz_canvas *s, vz_view *v, box b,
                              int64_t done) {
  if (v->pool && v->ok) {
    vzp_window_panel(s, v, b, done);
    return;
  }
  const cp_geom *g = &v->g;
  const char *sub = v->t.kind == CP_TRACE_GATHER ? "flipped, in/out swapped"
                    : v->flip                     ? "flipped (true conv)"
                                                  : NULL;
  char title[96];
  shape_title(v, title, sizeof title, vz_grad_panel_name(v, 1),
              v->w.shape[0], v->w.shape[1], v->w.shape[2], v->w.shape[3]);
  int th = panel_title(s, v, b, title, NULL);
  int lhs = line_hpx(v->fsm);
  if (sub) {
    char sb[64];
    snprintf(sb, sizeof sb, "%s", sub);
    vz_ellipsize(sb, v->fsm, 0, b.w);
    vz_text(s, b.x, b.y + th, sb, v->fsm, 0, VZ_DIM, VZ_LEFT);
    th += lhs + 2;
  }
  v->hit.nk = 0;
  if (!v->ok) return;
  int64_t nsl = v->t.kind == CP_TRACE_SCATTER ? g->Og : g->Cg;
  int shown = nsl > 6 ? 6 : (int)nsl;
  int64_t per = g->kH * g->kW;
  /* with more slices than fit: those around the current tap's */
  int64_t first = nsl > shown && v->by_tap && done > 0
                      ? window_start(nsl, shown, (done - 1) / per)
                      : 0;
  int label_h = (v->keras ? 2 : 1) * (lhs + 1) + 1;
  int body = b.h - th - legend_h(v) - 4;
  /* the overview of every slice takes at most a third of the panel */
  int64_t R = v->w.shape[0], Cc = v->w.shape[1];
  int csm = 0, ov_h = 0;
  if (R * Cc > 1 && R <= 64 && Cc <= 64) {
    csm = (int)((b.w / Cc - 4) / g->kW);
    int csh = (int)(((body / 3 - lhs - 4) / R - 3) / g->kH);
    if (csh < csm) csm = csh;
    if (csm > 8) csm = 8;
    if (csm < 2) csm = 0;
    else ov_h = lhs + 4 + (int)(R * (g->kH * csm + 3));
  }
  int more_h = nsl > shown ? lhs + 4 : 0;
  box a = {b.x, b.y + th, b.w, body - ov_h - more_h};
  int ncol;
  int cs = vzp_fit_tiles(a.w, a.h, shown, g->kH, g->kW, label_h, &ncol);
  if (cs > max_cell(v) * 7 / 8) cs = max_cell(v) * 7 / 8;
  cs = (int)(cs * (v->zoom > 1 ? 1 : v->zoom));
  if (cs < 2) cs = 2;
  char bv[32], lab[96];
  for (int t = 0; t < shown; t++) {
    vz_grid *gr = &v->hit.gk[v->hit.nk++];
    int tc = t % ncol, tr = t / ncol;
    gr->cs = cs;
    gr->r0 = gr->c0 = 0;
    gr->rows = g->kH;
    gr->cols = g->kW;
    gr->used = 1;
    gr->x = a.x + tc * (int)(g->kW * cs + TILE_GAP);
    gr->y = a.y + label_h + tr * (int)(g->kH * cs + label_h + 10);
    /* weight element of drawn cell (i, j) of this slice */
    int64_t A, B;
    int flipped = v->t.kind == CP_TRACE_GATHER || v->flip;
    int64_t sl = first + t; /* slice: in-channel (conv, gather) or oo */
    if (v->t.kind == CP_TRACE_CONV) {
      A = v->info.idx[1];
      B = sl;
    } else if (v->t.kind == CP_TRACE_GATHER) {
      A = v->info.group * g->Cg + sl;
      B = v->info.idx[1] - v->info.group * g->Og;
    } else {
      A = v->info.idx[1];
      B = sl;
    }
    gr->ch = A;
    gr->ch2 = B;
    int64_t wi[2] = {A, B};
    idx1(lab, sizeof lab, "w", wi, 2);
    int tw = (int)(g->kW * cs) + TILE_GAP - 6;
    tile_label(s, v, gr->x, gr->y - label_h, tw, b.x + b.w, lab, VZ_FG);
    if (v->keras) {
      /* HWIO: k[i, j, in, out]; conv2d OIHW (A=o, B=ci) -> [:,:,ci,o] */
      snprintf(lab, sizeof lab, "k[:,:,%lld,%lld]", (long long)B + 1,
               (long long)A + 1);
      tile_label(s, v, gr->x, gr->y - label_h + lhs + 1, tw, b.x + b.w, lab,
                 VZ_DIM);
    }
    for (int64_t i = 0; i < g->kH; i++)
      for (int64_t j = 0; j < g->kW; j++) {
        int64_t si = flipped ? g->kH - 1 - i : i, sj = flipped ? g->kW - 1 - j : j;
        float wv = wval(v, A, B, si, sj), km = kmval(v, si, sj);
        int x, y;
        cell_rect(gr, i, j, &x, &y);
        vz_color f = vz_diverging(wv, v->wmax);
        fmt_value(bv, sizeof bv, wv, cs);
        if (km == 0) f = vz_th->pad;
        paint_cell(s, x, y, cs, f, bv, km == 0);
        if (km == 0 && cs >= 10) {
          vz_line(s, x + 3, y + 3, x + cs - 5, y + cs - 5, 1.5, VZ_DIM);
          vz_line(s, x + cs - 5, y + 3, x + 3, y + cs - 5, 1.5, VZ_DIM);
        }
      }
    /* taps of the current unit on this slice */
    for (int64_t k = sl * per; k < (sl + 1) * per && k < v->t.ntaps; k++) {
      const cp_tap *tp = &v->taps[k];
      int is_cur = v->by_tap && k == done - 1;
      if (k < done)
        mark(s, gr, tp->k[0], tp->k[1], is_cur ? 4 : 2, VZ_ACCENT);
    }
  }
  int bottom = a.y;
  for (int t = 0; t < v->hit.nk; t++) {
    int yb = v->hit.gk[t].y + (int)(g->kH * cs);
    if (yb > bottom) bottom = yb;
  }
  if (nsl > shown) {
    snprintf(lab, sizeof lab, "slices %lld-%lld of %lld", (long long)first + 1,
             (long long)(first + shown), (long long)nsl);
    tile_label(s, v, a.x, bottom + 4, b.w, b.x + b.w, lab, VZ_DIM);
    bottom += lhs + 4;
  }
  /* every slice of the weight, rows = its first dimension: which slices
   * the current unit uses (its row, or its group) */
  if (csm >= 2) {
    int top2 = bottom + lhs + 8;
    {
      tile_label(s, v, a.x, top2 - lhs - 2, b.w, b.x + b.w,
                 v->t.kind == CP_TRACE_CONV ? "all slices (out × in)"
                                            : "all slices (in × out)",
                 VZ_DIM);
      int sw = (int)(g->kW * csm) + 4, sh = (int)(g->kH * csm) + 3;
      for (int64_t r = 0; r < R; r++)
        for (int64_t c = 0; c < Cc; c++) {
          int x0 = a.x + (int)(c * sw), y0 = top2 + (int)(r * sh);
          for (int64_t i = 0; i < g->kH; i++)
            for (int64_t j = 0; j < g->kW; j++) {
              float wv = wval(v, r, c, i, j) * kmval(v, i, j);
              vz_fill(s, x0 + (int)(j * csm), y0 + (int)(i * csm), csm, csm,
                      vz_diverging(wv, v->wmax));
            }
          int used;
          if (v->t.kind == CP_TRACE_CONV)
            used = r == v->info.idx[1];
          else if (v->t.kind == CP_TRACE_GATHER)
            used = r / g->Cg == v->info.group &&
                   c == v->info.idx[1] - v->info.group * g->Og;
          else
            used = r == v->info.idx[1];
          if (used)
            vz_frame(s, x0 - 1, y0 - 1, (int)(g->kW * csm) + 2,
                     (int)(g->kH * csm) + 2, 1, VZ_ACCENT);
        }
    }
  }
  panel_legend(s, v, b, v->wmax);
}

/* Value shown in output cell (n, o, r, c) at the current step, or NAN when
 * not computed yet. */
static float shown_output(vz_view *v, int64_t n, int64_t o, int64_t r,
                          int64_t c, int64_t done) {
  if (v->t.kind == CP_TRACE_SCATTER) {
    float val = v->canvas[yoff(v, n, o, r, c)];
    for (int64_t k = 0; k < done; k++) {
      const cp_tap *tp = &v->taps[k];
      if (tp->kind != CP_TAP_CROPPED && tp->out[0] == n && tp->out[1] == o &&
          tp->out[2] == r && tp->out[3] == c)
        val = (float)tp->sum;
    }
    return val;
  }
  int64_t idx[4] = {n, o, r, c};
  int64_t u = cp_trace_unit_of(&v->t, idx);
  if (u < v->cur_unit) return v->y[u];
  if (u > v->cur_unit) return NAN;
  if (done < v->t.ntaps) return (float)v->taps[done - 1].sum;
  return v->info.value;
}

/* Scatter: which cells of output channel o (sample n) have received a
 * product by the current step (OH*OW flags, malloc'ed; NULL if out of
 * memory).  Geometry only: the units before the current one, then the
 * current unit's done taps. */
static unsigned char *scatter_touched(const vz_view *v, int64_t n, int64_t o,
                                      int64_t done) {
  const cp_geom *g = &v->g;
  unsigned char *t = calloc((size_t)(g->OH * g->OW), 1);
  if (!t) return NULL;
  int64_t grp = o / g->Og;
  for (int64_t u = 0; u < v->cur_unit; u++) {
    int64_t i4[4];
    cp_trace_unit_index(&v->t, u, i4);
    if (i4[0] != n || i4[1] / g->Cg != grp) continue;
    for (int64_t i = 0; i < g->kH; i++) {
      int64_t orow = cp_geomT_out_row(g, i4[2], i);
      if (orow < 0 || orow >= g->OH) continue;
      for (int64_t j = 0; j < g->kW; j++) {
        int64_t ocol = cp_geomT_out_col(g, i4[3], j);
        if (ocol >= 0 && ocol < g->OW) t[orow * g->OW + ocol] = 1;
      }
    }
  }
  for (int64_t k = 0; k < done; k++) {
    const cp_tap *tp = &v->taps[k];
    if (tp->kind != CP_TAP_CROPPED && tp->out[0] == n && tp->out[1] == o)
      t[tp->out[2] * g->OW + tp->out[3]] = 1;
  }
  return t;
}

void vzp_output_panel(vz_canvas *s, vz_view *v, box b,
                              int64_t done) {
  const cp_geom *g = &v->g;
  char title[96], bv[32];
  if (v->ok)
    shape_title(v, title, sizeof title, vz_grad_panel_name(v, 2), g->N, g->O, g->OH, g->OW);
  else
    snprintf(title, sizeof title, "%s", vz_grad_panel_name(v, 2));
  int th = panel_title(s, v, b, title,
                       v->t.kind == CP_TRACE_SCATTER && v->ok
                           ? "canvas, padding cropped"
                           : NULL);
  v->hit.nout = 0;
  if (!v->ok) return;
  int64_t cur_o = v->t.kind == CP_TRACE_SCATTER
                      ? (done > 0 ? v->taps[done - 1].out[1]
                                  : v->info.group * g->Og)
                      : v->info.idx[1];
  int64_t n = v->info.idx[0];
  int64_t chs[VZ_MAXGRIDS];
  int extra = v->partial ? 1 : 0;
  /* scatter: the uncropped canvas around the output */
  int64_t r0 = 0, c0 = 0, rows = g->OH, cols = g->OW;
  if (v->t.kind == CP_TRACE_SCATTER) {
    cp_convT_canvas cv;
    cp_geomT_canvas(g, &cv);
    r0 = cv.scatter_lo[0];
    c0 = cv.scatter_lo[1];
    rows = cv.scatter_len[0];
    cols = cv.scatter_len[1];
  }
  int fit = tiles_that_fit(b.w, b.h - (v->lh + 4) - legend_h(v) - 4,
                           (g->O < VZ_MAXGRIDS - 1 ? (int)g->O
                                                   : VZ_MAXGRIDS - 1) +
                               extra,
                           rows, cols, line_hpx(v->fsm) + 2, 10) -
            extra;
  int nch = shown_outputs(v, cur_o, chs, fit < 1 ? 1 : fit);
  int label_h = line_hpx(v->fsm) + 2;
  box a = {b.x, b.y + th, b.w, b.h - th - legend_h(v) - 4};
  int ncol;
  int cs = vzp_fit_tiles(a.w, a.h, nch + extra, rows, cols, label_h, &ncol);
  if (cs > max_cell(v)) cs = max_cell(v);
  cs = (int)(cs * v->zoom);
  if (cs < 1) cs = 1;
  vz_clip(s, a.x, a.y, a.w, a.h);
  for (int t = 0; t < nch + extra; t++) {
    int tc = t % ncol, tr = t / ncol;
    vz_grid *gr = &v->hit.gout[v->hit.nout++];
    gr->cs = cs;
    gr->r0 = r0;
    gr->c0 = c0;
    gr->rows = rows;
    gr->cols = cols;
    gr->used = 1;
    gr->x = a.x + v->panx / 2 + tc * (int)(cols * cs + TILE_GAP);
    gr->y = a.y + label_h + v->pany + tr * (int)(rows * cs + label_h + 10);
    if (t == nch) { /* partial: the updated mask */
      gr->ch = -1;
      tile_label(s, v, gr->x, gr->y - label_h, (int)(cols * cs) + TILE_GAP - 6,
                 b.x + b.w, "updated mask", VZ_FG);
      cp_tap *tmp = malloc(sizeof *tmp * (size_t)v->t.ntaps);
      for (int64_t r = 0; r < g->OH && tmp; r++)
        for (int64_t c = 0; c < g->OW; c++) {
          int64_t idx[4] = {n, cur_o, r, c};
          int64_t u = cp_trace_unit_of(&v->t, idx);
          int x, y;
          cell_rect(gr, r, c, &x, &y);
          /* not finished yet: the mask is known only with the sum */
          if (u > v->cur_unit || (u == v->cur_unit && done < v->t.ntaps)) {
            paint_cell(s, x, y, cs, vz_th->pending, NULL, 0);
            continue;
          }
          cp_unit info;
          cp_trace_unit(&v->t, u, NULL, tmp, &info);
          fmt_value(bv, sizeof bv, info.newmask, cs);
          paint_cell(s, x, y, cs, vz_sequential(info.newmask, 0, 1), bv, 0);
        }
      free(tmp);
      mark(s, gr, v->info.idx[2], v->info.idx[3], 3, VZ_ACCENT2);
      continue;
    }
    int64_t o = chs[t];
    gr->ch = o;
    char lab[64];
    if (g->N > 1)
      snprintf(lab, sizeof lab, "sample %lld, channel %lld", (long long)n + 1,
               (long long)o + 1);
    else
      snprintf(lab, sizeof lab, "channel %lld", (long long)o + 1);
    tile_label(s, v, gr->x, gr->y - label_h, (int)(cols * cs), b.x + b.w,
               lab, o == cur_o ? VZ_FG : VZ_DIM);
    unsigned char *touched = v->t.kind == CP_TRACE_SCATTER
                                 ? scatter_touched(v, n, o, done)
                                 : NULL;
    for (int64_t r = r0; r < r0 + rows; r++)
      for (int64_t c = c0; c < c0 + cols; c++) {
        int x, y;
        cell_rect(gr, r, c, &x, &y);
        if (x > s->w || y > s->h || x + cs < 0 || y + cs < 0) continue;
        if (r < 0 || c < 0 || r >= g->OH || c >= g->OW) {
          /* cropped canvas cell */
          paint_cell(s, x, y, cs, vz_th->crop, NULL, 0);
          if (cs >= 8)
            vz_dashed(s, x, y, cs - 1, cs - 1, cs >= 24 ? 3 : 2, VZ_DIM);
          continue;
        }
        float val = shown_output(v, n, o, r, c, done);
        if (isnan(val) && v->t.kind != CP_TRACE_SCATTER) {
          paint_cell(s, x, y, cs, vz_th->pending, NULL, 0);
          continue;
        }
        vz_color f = vz_diverging(val, v->ymax);
        int dim = touched && !touched[r * g->OW + c];
        if (dim) f = vz_mix(f, VZ_BG, 0.6f); /* no product landed yet */
        fmt_value(bv, sizeof bv, val, cs);
        paint_cell(s, x, y, cs, f, bv, 0);
      }
    free(touched);
    /* output_padding: the last op rows/cols un-cropped */
    if (g->p.transposed && (g->p.out_pad[0] || g->p.out_pad[1]) && cs >= 4) {
      int x, y;
      if (g->p.out_pad[0]) {
        cell_rect(gr, g->OH - g->p.out_pad[0], 0, &x, &y);
        vz_fill(s, x, y - 1, (int)(g->OW * cs), 2, vz_th->outpad);
      }
      if (g->p.out_pad[1]) {
        cell_rect(gr, 0, g->OW - g->p.out_pad[1], &x, &y);
        vz_fill(s, x - 1, y, 2, (int)(g->OH * cs), vz_th->outpad);
      }
    }
    if (v->t.kind == CP_TRACE_SCATTER && (r0 < 0 || c0 < 0 ||
                                          rows > g->OH || cols > g->OW)) {
      int x, y;
      cell_rect(gr, 0, 0, &x, &y);
      vz_frame(s, x - 1, y - 1, (int)(g->OW * cs) + 1,
               (int)(g->OH * cs) + 1, 1, VZ_FG);
    }
    /* the current cell / the current unit's targets */
    if (v->t.kind == CP_TRACE_SCATTER) {
      for (int64_t k = 0; k < v->t.ntaps; k++) {
        const cp_tap *tp = &v->taps[k];
        if (tp->out[1] != o) continue;
        int is_cur = v->by_tap && k == done - 1;
        vz_color col = k < done ? VZ_ACCENT : vz_mix(VZ_ACCENT, VZ_BG, 0.5f);
        mark(s, gr, tp->pos[0], tp->pos[1], is_cur ? 4 : 2, col);
      }
    } else if (o == v->info.idx[1]) {
      mark(s, gr, v->info.idx[2], v->info.idx[3], cs >= 30 ? 4 : 2,
           VZ_ACCENT2);
    }
  }
  /* hover */
  if (v->hover == 1)
    for (int i = 0; i < v->hit.nout; i++)
      if (v->hit.gout[i].ch == v->hover_idx[1])
        mark(s, &v->hit.gout[i], v->hover_idx[2], v->hover_idx[3], 3, VZ_HOVER);
  if (v->hover == 2) {
    /* every output the hovered input cell feeds */
    cp_tap *tmp = malloc(sizeof *tmp * (size_t)v->t.ntaps);
    if (tmp) {
      cp_unit info;
      if (v->t.kind == CP_TRACE_SCATTER) {
        int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
        cp_trace_unit(&v->t, u, NULL, tmp, &info);
        for (int64_t k = 0; k < v->t.ntaps; k++)
          for (int i = 0; i < v->hit.nout; i++)
            if (v->hit.gout[i].ch == tmp[k].out[1] &&
                tmp[k].kind != CP_TAP_CROPPED)
              mark(s, &v->hit.gout[i], tmp[k].pos[0], tmp[k].pos[1], 2,
                   VZ_HOVER);
      } else {
        for (int64_t u = 0; u < v->t.nunits; u++) {
          int64_t oi[4];
          cp_trace_unit_index(&v->t, u, oi);
          if (oi[0] != v->hover_idx[0]) continue;
          if (cp_geom_group_of_out(g, oi[1]) != v->hover_idx[1] / g->Cg)
            continue;
          cp_trace_unit(&v->t, u, NULL, tmp, &info);
          for (int64_t k = 0; k < v->t.ntaps; k++)
            if ((tmp[k].kind == CP_TAP_INPUT ||
                 tmp[k].kind == CP_TAP_PADSRC) &&
                !memcmp(tmp[k].in, v->hover_idx, sizeof v->hover_idx)) {
              for (int i = 0; i < v->hit.nout; i++)
                if (v->hit.gout[i].ch == oi[1])
                  mark(s, &v->hit.gout[i], oi[2], oi[3], 2, VZ_HOVER);
              break;
            }
        }
      }
      free(tmp);
    }
  }
  vz_unclip(s);
  panel_legend(s, v, b, v->ymax);
}

/* ====================================================================== */
/* Hit tests                                                               */
/* ====================================================================== */

static int hit(const vz_grid *g, int x, int y, int64_t *r, int64_t *c) {
  if (!g->used || g->cs <= 0) return 0;
  int64_t cc = (x - g->x) >= 0 ? (x - g->x) / g->cs : -1 - (g->x - x) / g->cs;
  int64_t rr = (y - g->y) >= 0 ? (y - g->y) / g->cs : -1 - (g->y - y) / g->cs;
  cc += g->c0;
  rr += g->r0;
  if (rr < g->r0 || cc < g->c0 || rr >= g->r0 + g->rows ||
      cc >= g->c0 + g->cols)
    return 0;
  *r = rr;
  *c = cc;
  return 1;
}

void vz_view_mouse(vz_view *v, int x, int y) {
  v->mousex = x;
  v->mousey = y;
  if (vz_view_in_overlay(v, x, y)) { /* under a panel: nothing hovered */
    if (!v->pinned) vz_view_hover(v, 0, NULL);
    return;
  }
  if (!v->ok || v->pinned) return;
  if (vzg_mouse(v, x, y)) return; /* grad_weight / grad_bias cells */
  int64_t r, c, n = v->info.idx[0];
  for (int i = 0; i < v->hit.nout; i++)
    if (v->hit.gout[i].ch >= 0 && hit(&v->hit.gout[i], x, y, &r, &c)) {
      if (r >= 0 && c >= 0 && r < v->g.OH && c < v->g.OW) {
        int64_t idx[4] = {n, v->hit.gout[i].ch, r, c};
        vz_view_hover(v, 1, idx);
        return;
      }
    }
  inmap m = input_map(v);
  for (int i = 0; i < v->hit.nin; i++)
    if (hit(&v->hit.gin[i], x, y, &r, &c)) {
      int64_t sr, sc;
      if (input_cell(v, &m, r, c, &sr, &sc) == 0) {
        int64_t idx[4] = {n, v->hit.gin[i].ch, sr, sc};
        vz_view_hover(v, 2, idx);
        return;
      }
    }
  v->hover = 0;
}

static const struct vz_control *control_at(const vz_view *v, int x, int y) {
  for (int i = 0; i < v->hit.nctl; i++) {
    const struct vz_control *c = &v->hit.ctl[i];
    if (x >= c->x && y >= c->y && x < c->x + c->w && y < c->y + c->h)
      return c;
  }
  return NULL;
}

static int on_timeline(const vz_view *v, int x, int y) {
  const int *tl = v->hit.tl; /* x, y, w, h */
  return tl[2] > 0 && x >= tl[0] - 6 && x <= tl[0] + tl[2] + 6 &&
         y >= tl[1] && y < tl[1] + tl[3];
}

void vz_view_timeline_to(vz_view *v, int x) {
  int64_t n = vz_view_steps(v);
  if (v->hit.tl[2] <= 0 || n <= 0) return;
  double t = (double)(x - v->hit.tl[0]) / v->hit.tl[2];
  if (t < 0) t = 0;
  if (t > 1) t = 1;
  vz_view_seek(v, 1 + (int64_t)(t * (double)(n - 1) + 0.5));
}

int vz_view_press(vz_view *v, int x, int y) {
  if (!on_timeline(v, x, y)) return 0;
  v->timeline_drag = 1;
  v->playing = 0;
  vz_view_timeline_to(v, x);
  return 1;
}

void vz_view_release(vz_view *v) { v->timeline_drag = 0; }

void vz_view_click(vz_view *v, int x, int y) {
  if (vz_view_overlay_click(v, x, y)) return; /* code / compare panels */
  /* a control: as its key */
  const struct vz_control *c = control_at(v, x, y);
  if (c) {
    char key[sizeof c->key];
    snprintf(key, sizeof key, "%s", c->key);
    vz_view_key(v, key, c->shift);
    return;
  }
  if (on_timeline(v, x, y)) {
    vz_view_timeline_to(v, x);
    return;
  }
  if (vzg_click(v, x, y)) return; /* a grad_weight / grad_bias cell */
  /* a cell: pinned (its tooltip stays), or unpinned by a click elsewhere */
  v->pinned = 0;
  vz_view_mouse(v, x, y);
  if (!v->ok || !v->hover) return;
  v->pinned = 1;
  /* an output cell (conv2d, gather) or an input pixel (scatter) is a unit:
   * go to its step */
  int scatter = v->t.kind == CP_TRACE_SCATTER;
  if ((v->hover == 1 && !scatter) || (v->hover == 2 && scatter)) {
    int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
    if (u >= 0 && u < v->t.nunits)
      vz_view_seek(v, cp_trace_step_of(&v->t, v->by_tap, u, 0));
  }
}

/* ====================================================================== */
/* Width each panel asks for                                               */
/* ====================================================================== */

/* The grid each panel shows: one tile's rows and cols and how many tiles,
 * and the height its text takes around the tiles (title, labels, legend,
 * notes), for view_draw.c's sharing of the width. */
void vzp_input_extent(const vz_view *v, vzp_extent *e) {
  inmap m = input_map(v);
  int64_t C = v->x.shape[1];
  e->rows = m.rows;
  e->cols = m.cols;
  e->tiles = C > 16 ? 16 : (int)C;
  e->label_h = line_hpx(v->fsm) + 2;
  e->fixed_h = v->lh + 4 + legend_h(v) + 4;
  e->max_cs = max_cell(v);
  char t[96];
  shape_title(v, t, sizeof t, vz_grad_panel_name(v, 0),
              v->x.shape[0], v->x.shape[1], v->x.shape[2], v->x.shape[3]);
  vz_text_size(t, v->fs, VZ_BOLD, &e->title_w, NULL);
}

void vzp_kernel_extent(const vz_view *v, vzp_extent *e) {
  if (v->pool && v->ok) {
    vzp_window_extent(v, e);
    return;
  }
  int64_t nsl = v->ok ? (v->t.kind == CP_TRACE_SCATTER ? v->g.Og : v->g.Cg)
                      : 1;
  e->rows = v->w.shape[2];
  e->cols = v->w.shape[3];
  e->tiles = nsl > 6 ? 6 : (int)nsl;
  int lhs = line_hpx(v->fsm);
  e->label_h = (v->keras ? 2 : 1) * (lhs + 1) + 1;
  e->fixed_h = v->lh + 4 + lhs + 2 + legend_h(v) + 4;
  if (v->w.shape[0] * v->w.shape[1] > 1) e->fixed_h += lhs + 8;
  e->max_cs = max_cell(v) * 7 / 8;
  char t[96];
  shape_title(v, t, sizeof t, vz_grad_panel_name(v, 1),
              v->w.shape[0], v->w.shape[1], v->w.shape[2], v->w.shape[3]);
  vz_text_size(t, v->fs, VZ_BOLD, &e->title_w, NULL);
}

void vzp_output_extent(const vz_view *v, vzp_extent *e) {
  e->rows = v->ok ? v->g.OH : 1;
  e->cols = v->ok ? v->g.OW : 1;
  if (v->ok && v->t.kind == CP_TRACE_SCATTER) {
    cp_convT_canvas cv;
    cp_geomT_canvas(&v->g, &cv);
    e->rows = cv.scatter_len[0];
    e->cols = cv.scatter_len[1];
  }
  e->tiles = (v->ok ? (v->g.O > 16 ? 16 : (int)v->g.O) : 1) +
             (v->partial ? 1 : 0);
  e->label_h = line_hpx(v->fsm) + 2;
  e->fixed_h = v->lh + 4 + legend_h(v) + 4;
  e->max_cs = max_cell(v);
  char t[96];
  shape_title(v, t, sizeof t, vz_grad_panel_name(v, 2),
              (v->ok ? v->g.N : 0), (v->ok ? v->g.O : 0), (v->ok ? v->g.OH : 0), (v->ok ? v->g.OW : 0));
  vz_text_size(t, v->fs, VZ_BOLD, &e->title_w, NULL);
}
