/* view_draw.c - drawing one frame of a step-through view.
 *
 * Frame layout (any size, laid out for 1280 x 800):
 *   header   title, parameters, caption, step counter
 *   panels   input (with padding / zero-insertion canvas) | kernel | output
 *   bottom   the current unit's taps and running sum | formula, groups
 * Every grid drawn is recorded in v->gin / gk / gout for hit tests. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/draw.h"
#include "viz/view.h"

#define HEADER_H 84
#define BOTTOM_H 232

/* ====================================================================== */
/* Small helpers                                                           */
/* ====================================================================== */

static int64_t xoff(const vz_view *v, int64_t n, int64_t c, int64_t h,
                    int64_t w) {
  return ((n * v->x.shape[1] + c) * v->x.shape[2] + h) * v->x.shape[3] + w;
}
static int64_t yoff(const vz_view *v, int64_t n, int64_t o, int64_t r,
                    int64_t c) {
  return ((n * v->g.O + o) * v->g.OH + r) * v->g.OW + c;
}
static float xval(const vz_view *v, int64_t n, int64_t c, int64_t h,
                  int64_t w) {
  return cp_tensor_data(&v->x)[xoff(v, n, c, h, w)];
}
static float mval(const vz_view *v, int64_t n, int64_t c, int64_t h,
                  int64_t w) {
  return v->has_mask ? cp_tensor_data(&v->mask)[xoff(v, n, c, h, w)] : 1.0f;
}
/* Weight element (a, b, i, j) of the stored 4-D weight. */
static float wval(const vz_view *v, int64_t a, int64_t b, int64_t i,
                  int64_t j) {
  const int64_t *s = v->w.shape;
  return cp_tensor_data(&v->w)[((a * s[1] + b) * s[2] + i) * s[3] + j];
}
static float kmval(const vz_view *v, int64_t i, int64_t j) {
  return v->has_kmask ? cp_tensor_data(&v->kmask)[i * v->w.shape[3] + j]
                      : 1.0f;
}

/* Font size for values in a cell of size cs (0: too small for text). */
static int value_px(int cs) {
  if (cs < 20) return 0;
  int px = cs * 36 / 100;
  return px < 9 ? 9 : px > 18 ? 18 : px;
}

/* A coloured cell with its value when it fits. */
static void paint_cell(SDL_Surface *s, int x, int y, int cs, SDL_Color fill,
                       const char *txt, int dim) {
  int gap = cs >= 6 ? 1 : 0;
  vz_fill(s, x, y, cs - gap, cs - gap, fill);
  int px = value_px(cs);
  if (px && txt && *txt) {
    SDL_Color tc = vz_contrast(fill);
    if (dim) tc = vz_mix(tc, fill, 0.45f);
    int fit = vz_fit_text(txt, px, 0, cs - 4, cs - 2);
    if (fit) vz_text_box(s, x, y, cs - gap, cs - gap, txt, fit, 0, tc);
  }
}

static void fmt_value(char *b, size_t n, double v, int cs) {
  int px = value_px(cs);
  int maxc = px ? (cs - 4) * 10 / (px * 6) : 4;
  vz_fmt(b, n, v, maxc < 1 ? 1 : maxc > 8 ? 8 : maxc);
}

static void cell_rect(const vz_grid *g, int64_t r, int64_t c, int *x, int *y) {
  *x = g->x + (int)((c - g->c0) * g->cs);
  *y = g->y + (int)((r - g->r0) * g->cs);
}

/* Outline cell (r, c) of grid g (drawn if the grid covers it). */
static void mark(SDL_Surface *s, const vz_grid *g, int64_t r, int64_t c,
                 int t, SDL_Color col) {
  if (r < g->r0 || c < g->c0 || r >= g->r0 + g->rows ||
      c >= g->c0 + g->cols)
    return;
  int x, y;
  cell_rect(g, r, c, &x, &y);
  int cs = g->cs - (g->cs >= 6 ? 1 : 0);
  if (cs < 3) {
    vz_fill(s, x, y, cs > 0 ? cs : 1, cs > 0 ? cs : 1, col);
    return;
  }
  if (t * 2 >= cs) t = cs / 3 > 0 ? cs / 3 : 1;
  vz_frame(s, x, y, cs, cs, t, col);
}

/* Split the width w into n tiles of rows x cols cells: the cell size that
 * fits best and the number of tile columns. */
static int fit_tiles(int w, int h, int n, int64_t rows, int64_t cols,
                     int label_h, int *ncol_out) {
  int best = 1, bestc = 1;
  for (int nc = 1; nc <= n; nc++) {
    int nr = (n + nc - 1) / nc;
    int cw = (int)((w - (nc - 1) * 14) / (nc * (cols > 0 ? cols : 1)));
    int ch = (int)((h - nr * (label_h + 10)) / (nr * (rows > 0 ? rows : 1)));
    int cs = cw < ch ? cw : ch;
    if (cs > best) {
      best = cs;
      bestc = nc;
    }
  }
  *ncol_out = bestc;
  return best > 64 ? 64 : best;
}

static void idx1(char *b, size_t n, const char *name, const int64_t *i,
                 int k) {
  /* 1-based index text, as the Lua surface shows it */
  int o = snprintf(b, n, "%s[", name);
  for (int j = 0; j < k && o < (int)n; j++)
    o += snprintf(b + o, n - (size_t)o, "%s%lld", j ? "," : "",
                  (long long)(i[j] + 1));
  if (o < (int)n) snprintf(b + o, n - (size_t)o, "]");
}

/* Cut UTF-8 text to at most maxc characters (never inside a character). */
static void utf8_cut(char *t, int maxc) {
  if (maxc < 1) return;
  int n = 0;
  for (char *p = t; *p; p++)
    if (((unsigned char)*p & 0xC0) != 0x80 && n++ == maxc) {
      *p = 0;
      return;
    }
}

/* ====================================================================== */
/* Which channels / slices are shown                                       */
/* ====================================================================== */

/* Input channels to show: all when few, else the current group's. */
static int shown_inputs(const vz_view *v, int64_t grp, int64_t *ch, int max) {
  int64_t C = v->x.shape[1];
  int n = 0;
  if (C <= 4) {
    for (int64_t c = 0; c < C && n < max; c++) ch[n++] = c;
  } else {
    int64_t Cg = v->ok ? v->g.Cg : C;
    for (int64_t c = grp * Cg; c < (grp + 1) * Cg && c < C && n < max; c++)
      ch[n++] = c;
  }
  return n;
}

static int shown_outputs(const vz_view *v, int64_t cur, int64_t *ch,
                         int max) {
  int n = 0;
  if (v->g.O <= 4)
    for (int64_t o = 0; o < v->g.O && n < max; o++) ch[n++] = o;
  else
    ch[n++] = cur;
  return n;
}

/* ====================================================================== */
/* Panels                                                                  */
/* ====================================================================== */

typedef struct box { int x, y, w, h; } box;

static void panel_title(SDL_Surface *s, box b, const char *t,
                        const char *sub) {
  int px = vz_fit_text(t, 16, 1, b.w, 40);
  int w = vz_text(s, b.x, b.y, t, px ? px : 9, 1, VZ_FG, VZ_LEFT);
  int sw;
  vz_text_size(sub ? sub : "", 13, 0, &sw, NULL);
  if (sub && w + 10 + sw <= b.w)
    vz_text(s, b.x + w + 10, b.y + 2, sub, 13, 0, VZ_DIM, VZ_LEFT);
}

/* Rows/cols of the input-side grid and how a cell maps to the input. */
typedef struct inmap {
  int64_t r0, c0, rows, cols; /* drawn range in grid coordinates */
  int canvas;                 /* gather: coordinates on the zero canvas */
} inmap;

static inmap input_map(const vz_view *v) {
  inmap m = {0, 0, v->x.shape[2], v->x.shape[3], 0};
  if (!v->ok) return m;
  const cp_geom *g = &v->g;
  if (v->t.kind == CP_TRACE_CONV) {
    m.r0 = -g->p.pad[0];
    m.c0 = -g->p.pad[2];
    m.rows = g->H + g->p.pad[0] + g->p.pad[1];
    m.cols = g->W + g->p.pad[2] + g->p.pad[3];
  } else if (v->t.kind == CP_TRACE_GATHER) {
    /* Canvas rows R + i*d - q for all outputs and taps, plus z itself. */
    int64_t qh = g->p.dilation[0] * (g->kH - 1) - g->p.pad[0];
    int64_t qw = g->p.dilation[1] * (g->kW - 1) - g->p.pad[2];
    int64_t zh = (g->H - 1) * g->p.stride[0] + 1;
    int64_t zw = (g->W - 1) * g->p.stride[1] + 1;
    int64_t rlo = -qh < 0 ? -qh : 0, clo = -qw < 0 ? -qw : 0;
    int64_t rhi = g->OH - 1 + g->p.dilation[0] * (g->kH - 1) - qh;
    int64_t chi = g->OW - 1 + g->p.dilation[1] * (g->kW - 1) - qw;
    if (rhi < zh - 1) rhi = zh - 1;
    if (chi < zw - 1) chi = zw - 1;
    m.r0 = rlo;
    m.c0 = clo;
    m.rows = rhi - rlo + 1;
    m.cols = chi - clo + 1;
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
    int64_t s0 = v->g.p.stride[0], s1 = v->g.p.stride[1];
    if (r < 0 || c < 0 || r > (H - 1) * s0 || c > (W - 1) * s1) return 1;
    if (r % s0 || c % s1) return 3;
    *sr = r / s0;
    *sc = c / s1;
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

static void draw_input_grid(SDL_Surface *s, vz_view *v, vz_grid *gr,
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
      if (kind == 1 || kind == 3) {
        SDL_Color f = kind == 1 ? VZ_RGB(44, 47, 56) : VZ_RGB(38, 40, 46);
        paint_cell(s, x, y, cs, f, "0", 1);
        if (kind == 1 && cs >= 8)
          vz_dashed(s, x, y, cs - 1, cs - 1, cs >= 24 ? 3 : 2,
                    VZ_RGB(110, 116, 128));
        continue;
      }
      float xv = xval(v, n, ch, sr, sc), mv = mval(v, n, ch, sr, sc);
      SDL_Color f = vz_diverging(xv, v->xmax);
      if (kind == 2) f = vz_mix(f, VZ_BG, 0.45f);
      fmt_value(b, sizeof b, xv, cs);
      paint_cell(s, x, y, cs, f, b, kind == 2);
      if (kind == 2 && cs >= 8)
        vz_dashed(s, x, y, cs - 1, cs - 1, cs >= 24 ? 3 : 2, VZ_FG);
      if (v->has_mask && mv == 0) {
        /* masked: dimmed, crossed */
        vz_fill(s, x, y, cs - 1, cs - 1, VZ_RGBA(0, 0, 0, 170));
        if (cs >= 10) {
          vz_line(s, x + 2, y + 2, x + cs - 4, y + cs - 4, 1, VZ_DIM);
          vz_line(s, x + cs - 4, y + 2, x + 2, y + cs - 4, 1, VZ_DIM);
        }
      }
    }
  if (!active) vz_fill(s, gr->x + (int)((m->c0 - gr->c0) * gr->cs),
                       gr->y + (int)((m->r0 - gr->r0) * gr->cs),
                       (int)(m->cols * gr->cs), (int)(m->rows * gr->cs),
                       VZ_RGBA(24, 26, 31, 150));
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

static void draw_input_panel(SDL_Surface *s, vz_view *v, box b,
                             int64_t done) {
  const cp_geom *g = &v->g;
  int64_t chs[8];
  int64_t grp = v->ok ? v->info.group : 0;
  int nch = shown_inputs(v, grp, chs, 4);
  inmap m = input_map(v);
  const char *sub = !v->ok || v->t.kind == CP_TRACE_SCATTER ? NULL
                    : m.canvas ? "zero-inserted (stride holes) + border"
                    : (g->p.pad[0] || g->p.pad[1] || g->p.pad[2] ||
                       g->p.pad[3])
                        ? (g->p.mode == CP_PAD_ZEROS ? "with zero padding"
                                                     : "with padding")
                        : NULL;
  char title[96];
  snprintf(title, sizeof title, "input x (%lldx%lldx%lldx%lld)",
           (long long)v->x.shape[0], (long long)v->x.shape[1],
           (long long)v->x.shape[2], (long long)v->x.shape[3]);
  panel_title(s, b, title, sub);
  int label_h = 18;
  box a = {b.x, b.y + 26, b.w, b.h - 26 - 36};
  int ncol;
  int cs = fit_tiles(a.w, a.h, nch, m.rows, m.cols, label_h, &ncol);
  cs = (int)(cs * v->zoom);
  if (cs < 1) cs = 1;
  SDL_Rect clip = {b.x, b.y + 22, b.w, b.h - 22 - 30};
  SDL_SetClipRect(s, &clip);
  int64_t n = v->ok ? v->info.idx[0] : 0;
  v->nin = 0;
  for (int t = 0; t < nch; t++) {
    int tc = t % ncol, tr = t / ncol;
    vz_grid *gr = &v->gin[v->nin++];
    gr->cs = cs;
    gr->r0 = m.r0;
    gr->c0 = m.c0;
    gr->rows = m.rows;
    gr->cols = m.cols;
    gr->ch = chs[t];
    gr->used = 1;
    gr->x = a.x + v->panx + tc * (int)(m.cols * cs + 14);
    gr->y = a.y + label_h + v->pany + tr * (int)(m.rows * cs + label_h + 10);
    int active = !v->ok || v->t.kind == CP_TRACE_SCATTER
                     ? (!v->ok || chs[t] == v->info.idx[1])
                     : chs[t] / g->Cg == grp;
    char lab[64];
    snprintf(lab, sizeof lab, "channel %lld", (long long)chs[t] + 1);
    vz_text(s, gr->x, gr->y - label_h, lab, 13, 0, active ? VZ_FG : VZ_DIM,
            VZ_LEFT);
    draw_input_grid(s, v, gr, &m, n, chs[t], active);
  }
  if (v->x.shape[1] > nch)
    vz_text(s, b.x + b.w, b.y + 4, "(current group's channels)", 12, 0,
            VZ_DIM, VZ_RIGHT);
  /* ---- the footprint of the current unit ---- */
  if (v->ok && v->t.ntaps > 0) {
    int th = cs >= 30 ? 3 : 2;
    for (int i = 0; i < v->nin; i++) {
      vz_grid *gr = &v->gin[i];
      if (v->t.kind == CP_TRACE_SCATTER) {
        if (gr->ch == v->info.idx[1]) {
          int64_t r = v->info.idx[2], c = v->info.idx[3];
          mark(s, gr, r, c, th + 1, VZ_ACCENT);
        }
        continue;
      }
      for (int64_t k = 0; k < v->t.ntaps; k++) {
        if (tap_channel(v, k) != gr->ch) continue;
        const cp_tap *tp = &v->taps[k];
        int is_cur = v->by_tap && k == done - 1;
        SDL_Color col = k < done ? VZ_ACCENT : vz_mix(VZ_ACCENT, VZ_BG, 0.5f);
        mark(s, gr, tp->pos[0], tp->pos[1], is_cur ? th + 2 : (k < done ? th : 1),
             col);
        if (is_cur) {
          int x, y;
          cell_rect(gr, tp->pos[0], tp->pos[1], &x, &y);
          vz_fill(s, x, y, cs - 1, cs - 1, VZ_RGBA(255, 196, 0, 70));
        }
        /* a padding tap that reads a real cell: mark the source too */
        if (tp->kind == CP_TAP_PADSRC && k < done && cs >= 8) {
          int x, y;
          cell_rect(gr, tp->in[2], tp->in[3], &x, &y);
          vz_fill(s, x + 2, y + 2, cs / 6 + 2, cs / 6 + 2, VZ_ACCENT);
        }
      }
    }
  }
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
              for (int i = 0; i < v->nin; i++)
                if (v->gin[i].ch == info.idx[1])
                  mark(s, &v->gin[i], info.idx[2], info.idx[3], 2, VZ_HOVER);
        }
      } else {
        int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
        if (u >= 0 && u < v->t.nunits) {
          cp_trace_unit(&v->t, u, NULL, tmp, &info);
          for (int64_t k = 0; k < v->t.ntaps; k++)
            for (int i = 0; i < v->nin; i++)
              if (v->gin[i].ch == info.group * g->Cg + k / (g->kH * g->kW))
                mark(s, &v->gin[i], tmp[k].pos[0], tmp[k].pos[1], 2,
                     VZ_HOVER);
        }
      }
      free(tmp);
    }
  }
  if (v->hover == 2)
    for (int i = 0; i < v->nin; i++)
      if (v->gin[i].ch == v->hover_idx[1]) {
        int64_t r = v->hover_idx[2], c = v->hover_idx[3];
        if (m.canvas) {
          r *= g->p.stride[0];
          c *= g->p.stride[1];
        }
        mark(s, &v->gin[i], r, c, 3, VZ_HOVER);
      }
  SDL_SetClipRect(s, NULL);
  vz_legend(s, b.x, b.y + b.h - 26, b.w < 240 ? b.w - 20 : 220, 10,
            -v->xmax, v->xmax, 1, NULL);
}

/* Kernel slices of the current unit. */
static void draw_kernel_panel(SDL_Surface *s, vz_view *v, box b,
                              int64_t done) {
  const cp_geom *g = &v->g;
  const char *sub = v->t.kind == CP_TRACE_GATHER ? "flipped, in/out swapped"
                    : v->flip                     ? "flipped (true conv)"
                                                  : NULL;
  char title[96];
  snprintf(title, sizeof title, "weight (%lldx%lldx%lldx%lld)",
           (long long)v->w.shape[0], (long long)v->w.shape[1],
           (long long)v->w.shape[2], (long long)v->w.shape[3]);
  panel_title(s, b, title, NULL);
  if (sub) vz_text(s, b.x, b.y + 20, sub, 12, 0, VZ_DIM, VZ_LEFT);
  v->nk = 0;
  if (!v->ok) return;
  int64_t nsl = v->t.kind == CP_TRACE_SCATTER ? g->Og : g->Cg;
  int shown = nsl > 6 ? 6 : (int)nsl;
  int label_h = v->keras ? 32 : 18;
  box a = {b.x, b.y + 40, b.w, b.h - 40 - 36};
  int ncol;
  int cs = fit_tiles(a.w, a.h, shown, g->kH, g->kW, label_h, &ncol);
  if (cs > 56) cs = 56;
  cs = (int)(cs * (v->zoom > 1 ? 1 : v->zoom));
  if (cs < 2) cs = 2;
  char bv[32], lab[96];
  for (int t = 0; t < shown; t++) {
    vz_grid *gr = &v->gk[v->nk++];
    int tc = t % ncol, tr = t / ncol;
    gr->cs = cs;
    gr->r0 = gr->c0 = 0;
    gr->rows = g->kH;
    gr->cols = g->kW;
    gr->used = 1;
    gr->x = a.x + tc * (int)(g->kW * cs + 14);
    gr->y = a.y + label_h + tr * (int)(g->kH * cs + label_h + 10);
    /* weight element of drawn cell (i, j) of this slice */
    int64_t A, B;
    int flipped = v->t.kind == CP_TRACE_GATHER || v->flip;
    if (v->t.kind == CP_TRACE_CONV) {
      A = v->info.idx[1];
      B = t;
    } else if (v->t.kind == CP_TRACE_GATHER) {
      A = v->info.group * g->Cg + t;
      B = v->info.idx[1] - v->info.group * g->Og;
    } else {
      A = v->info.idx[1];
      B = t;
    }
    gr->ch = A;
    gr->ch2 = B;
    int64_t wi[2] = {A, B};
    idx1(lab, sizeof lab, "w", wi, 2);
    vz_text(s, gr->x, gr->y - label_h, lab, 13, 0, VZ_FG, VZ_LEFT);
    if (v->keras) {
      /* HWIO: k[i, j, in, out]; conv2d OIHW (A=o, B=ci) -> [:,:,ci,o] */
      snprintf(lab, sizeof lab, "k[:,:,%lld,%lld]", (long long)B + 1,
               (long long)A + 1);
      vz_text(s, gr->x, gr->y - label_h + 15, lab, 12, 0, VZ_DIM, VZ_LEFT);
    }
    for (int64_t i = 0; i < g->kH; i++)
      for (int64_t j = 0; j < g->kW; j++) {
        int64_t si = flipped ? g->kH - 1 - i : i, sj = flipped ? g->kW - 1 - j : j;
        float wv = wval(v, A, B, si, sj), km = kmval(v, si, sj);
        int x, y;
        cell_rect(gr, i, j, &x, &y);
        SDL_Color f = vz_diverging(wv, v->wmax);
        fmt_value(bv, sizeof bv, wv, cs);
        if (km == 0) f = VZ_RGB(70, 72, 78);
        paint_cell(s, x, y, cs, f, bv, km == 0);
        if (km == 0 && cs >= 10) {
          vz_line(s, x + 3, y + 3, x + cs - 5, y + cs - 5, 2, VZ_BG);
          vz_line(s, x + cs - 5, y + 3, x + 3, y + cs - 5, 2, VZ_BG);
        }
      }
    /* taps of the current unit on this slice */
    int64_t per = g->kH * g->kW;
    for (int64_t k = t * per; k < (t + 1) * per && k < v->t.ntaps; k++) {
      const cp_tap *tp = &v->taps[k];
      int is_cur = v->by_tap && k == done - 1;
      if (k < done)
        mark(s, gr, tp->k[0], tp->k[1], is_cur ? 4 : 2, VZ_ACCENT);
    }
  }
  int bottom = a.y;
  for (int t = 0; t < v->nk; t++) {
    int yb = v->gk[t].y + (int)(g->kH * cs);
    if (yb > bottom) bottom = yb;
  }
  if (nsl > shown) {
    snprintf(lab, sizeof lab, "+%lld more slices", (long long)(nsl - shown));
    vz_text(s, a.x, bottom + 4, lab, 12, 0, VZ_DIM, VZ_LEFT);
    bottom += 18;
  }
  /* every slice of the weight, rows = its first dimension: which slices
   * the current unit uses (its row, or its group) */
  int64_t R = v->w.shape[0], Cc = v->w.shape[1];
  if (R * Cc > 1 && R <= 64 && Cc <= 64) {
    int top2 = bottom + 26, avail_h = b.y + b.h - 40 - top2;
    int csm = (int)((b.w / Cc - 4) / g->kW);
    int csh = (int)((avail_h / R - 3) / g->kH);
    if (csh < csm) csm = csh;
    if (csm > 8) csm = 8;
    if (csm >= 2) {
      vz_text(s, a.x, top2 - 18,
              v->t.kind == CP_TRACE_CONV ? "all slices (out × in)"
                                         : "all slices (in × out)",
              12, 0, VZ_DIM, VZ_LEFT);
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
  vz_legend(s, b.x, b.y + b.h - 26, b.w < 200 ? b.w - 20 : 180, 10,
            -v->wmax, v->wmax, 1, NULL);
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

static void draw_output_panel(SDL_Surface *s, vz_view *v, box b,
                              int64_t done) {
  const cp_geom *g = &v->g;
  char title[96], bv[32];
  if (v->ok)
    snprintf(title, sizeof title, "output y (%lldx%lldx%lldx%lld)",
             (long long)g->N, (long long)g->O, (long long)g->OH,
             (long long)g->OW);
  else
    snprintf(title, sizeof title, "output y");
  panel_title(s, b, title,
              v->t.kind == CP_TRACE_SCATTER && v->ok ? "canvas, padding cropped"
                                                     : NULL);
  v->nout = 0;
  if (!v->ok) return;
  int64_t cur_o = v->t.kind == CP_TRACE_SCATTER
                      ? (done > 0 ? v->taps[done - 1].out[1]
                                  : v->info.group * g->Og)
                      : v->info.idx[1];
  int64_t n = v->info.idx[0];
  int64_t chs[8];
  int nch = shown_outputs(v, cur_o, chs, 4);
  /* scatter: the uncropped canvas around the output */
  int64_t r0 = 0, c0 = 0, rows = g->OH, cols = g->OW;
  if (v->t.kind == CP_TRACE_SCATTER) {
    int64_t rmax = (g->H - 1) * g->p.stride[0] +
                   g->p.dilation[0] * (g->kH - 1) - g->p.pad[0];
    int64_t cmax = (g->W - 1) * g->p.stride[1] +
                   g->p.dilation[1] * (g->kW - 1) - g->p.pad[2];
    r0 = -g->p.pad[0];
    c0 = -g->p.pad[2];
    rows = (rmax > g->OH - 1 ? rmax : g->OH - 1) - r0 + 1;
    cols = (cmax > g->OW - 1 ? cmax : g->OW - 1) - c0 + 1;
  }
  int extra = v->partial ? 1 : 0;
  int label_h = 18;
  box a = {b.x, b.y + 26, b.w, b.h - 26 - 36};
  int ncol;
  int cs = fit_tiles(a.w, a.h, nch + extra, rows, cols, label_h, &ncol);
  cs = (int)(cs * v->zoom);
  if (cs < 1) cs = 1;
  SDL_Rect clip = {b.x, b.y + 22, b.w, b.h - 22 - 30};
  SDL_SetClipRect(s, &clip);
  for (int t = 0; t < nch + extra; t++) {
    int tc = t % ncol, tr = t / ncol;
    vz_grid *gr = &v->gout[v->nout++];
    gr->cs = cs;
    gr->r0 = r0;
    gr->c0 = c0;
    gr->rows = rows;
    gr->cols = cols;
    gr->used = 1;
    gr->x = a.x + v->panx / 2 + tc * (int)(cols * cs + 14);
    gr->y = a.y + label_h + v->pany + tr * (int)(rows * cs + label_h + 10);
    if (t == nch) { /* partial: the updated mask */
      gr->ch = -1;
      vz_text(s, gr->x, gr->y - label_h, "updated mask", 13, 0, VZ_FG,
              VZ_LEFT);
      cp_tap *tmp = malloc(sizeof *tmp * (size_t)v->t.ntaps);
      for (int64_t r = 0; r < g->OH && tmp; r++)
        for (int64_t c = 0; c < g->OW; c++) {
          int64_t idx[4] = {n, cur_o, r, c};
          int64_t u = cp_trace_unit_of(&v->t, idx);
          int x, y;
          cell_rect(gr, r, c, &x, &y);
          if (u > v->cur_unit) {
            paint_cell(s, x, y, cs, VZ_PANEL, NULL, 0);
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
    snprintf(lab, sizeof lab, "channel %lld", (long long)o + 1);
    vz_text(s, gr->x, gr->y - label_h, lab, 13, 0,
            o == cur_o ? VZ_FG : VZ_DIM, VZ_LEFT);
    for (int64_t r = r0; r < r0 + rows; r++)
      for (int64_t c = c0; c < c0 + cols; c++) {
        int x, y;
        cell_rect(gr, r, c, &x, &y);
        if (x > s->w || y > s->h || x + cs < 0 || y + cs < 0) continue;
        if (r < 0 || c < 0 || r >= g->OH || c >= g->OW) {
          /* cropped canvas cell */
          paint_cell(s, x, y, cs, VZ_RGB(36, 38, 44), NULL, 0);
          if (cs >= 8)
            vz_dashed(s, x, y, cs - 1, cs - 1, cs >= 24 ? 3 : 2,
                      VZ_RGB(90, 96, 106));
          continue;
        }
        float val = shown_output(v, n, o, r, c, done);
        if (isnan(val) && v->t.kind != CP_TRACE_SCATTER) {
          paint_cell(s, x, y, cs, VZ_PANEL, NULL, 0);
          continue;
        }
        SDL_Color f = vz_diverging(val, v->ymax);
        fmt_value(bv, sizeof bv, val, cs);
        paint_cell(s, x, y, cs, f, bv, 0);
      }
    /* output_padding: the last op rows/cols un-cropped */
    if (g->p.transposed && (g->p.out_pad[0] || g->p.out_pad[1]) && cs >= 4) {
      int x, y;
      if (g->p.out_pad[0]) {
        cell_rect(gr, g->OH - g->p.out_pad[0], 0, &x, &y);
        vz_fill(s, x, y - 1, (int)(g->OW * cs), 2, VZ_RGB(180, 120, 255));
      }
      if (g->p.out_pad[1]) {
        cell_rect(gr, 0, g->OW - g->p.out_pad[1], &x, &y);
        vz_fill(s, x - 1, y, 2, (int)(g->OH * cs), VZ_RGB(180, 120, 255));
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
        SDL_Color col = k < done ? VZ_ACCENT : vz_mix(VZ_ACCENT, VZ_BG, 0.5f);
        mark(s, gr, tp->pos[0], tp->pos[1], is_cur ? 4 : (k < done ? 2 : 1),
             col);
        if (k < done && cs >= 44 && value_px(cs)) {
          /* the product being added, small in the corner */
          char pb[32];
          int x, y;
          cell_rect(gr, tp->pos[0], tp->pos[1], &x, &y);
          vz_fmt(pb, sizeof pb, tp->prod, 6);
          char t2[40];
          snprintf(t2, sizeof t2, "+%s", pb);
          vz_text(s, x + 3, y + 1, t2, 10, 0, VZ_ACCENT, VZ_LEFT);
        }
      }
    } else if (o == v->info.idx[1]) {
      mark(s, gr, v->info.idx[2], v->info.idx[3], cs >= 30 ? 4 : 2,
           VZ_ACCENT2);
    }
  }
  /* hover */
  if (v->hover == 1)
    for (int i = 0; i < v->nout; i++)
      if (v->gout[i].ch == v->hover_idx[1])
        mark(s, &v->gout[i], v->hover_idx[2], v->hover_idx[3], 3, VZ_HOVER);
  if (v->hover == 2) {
    /* every output the hovered input cell feeds */
    cp_tap *tmp = malloc(sizeof *tmp * (size_t)v->t.ntaps);
    if (tmp) {
      cp_unit info;
      if (v->t.kind == CP_TRACE_SCATTER) {
        int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
        cp_trace_unit(&v->t, u, NULL, tmp, &info);
        for (int64_t k = 0; k < v->t.ntaps; k++)
          for (int i = 0; i < v->nout; i++)
            if (v->gout[i].ch == tmp[k].out[1] &&
                tmp[k].kind != CP_TAP_CROPPED)
              mark(s, &v->gout[i], tmp[k].pos[0], tmp[k].pos[1], 2, VZ_HOVER);
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
              for (int i = 0; i < v->nout; i++)
                if (v->gout[i].ch == oi[1])
                  mark(s, &v->gout[i], oi[2], oi[3], 2, VZ_HOVER);
              break;
            }
        }
      }
      free(tmp);
    }
  }
  SDL_SetClipRect(s, NULL);
  vz_legend(s, b.x, b.y + b.h - 26, b.w < 240 ? b.w - 20 : 220, 10,
            -v->ymax, v->ymax, 1, NULL);
}

/* ====================================================================== */
/* Bottom: the arithmetic of the current unit, formula, groups             */
/* ====================================================================== */

static void tap_text(const vz_view *v, const cp_tap *tp, char *buf,
                     size_t n) {
  char xs[64], ws[64], a[24], b[24], p[24];
  vz_fmt(a, sizeof a, tp->xv, 7);
  vz_fmt(b, sizeof b, tp->wv, 7);
  vz_fmt(p, sizeof p, tp->prod, 8);
  switch (tp->kind) {
  case CP_TAP_PAD: snprintf(xs, sizeof xs, "pad"); break;
  case CP_TAP_HOLE: snprintf(xs, sizeof xs, "hole"); break;
  case CP_TAP_PADSRC: {
    char t[48];
    idx1(t, sizeof t, "x", tp->in, 4);
    snprintf(xs, sizeof xs, "pad=%s", t);
    break;
  }
  default: idx1(xs, sizeof xs, "x", tp->in, 4);
  }
  if (v->has_mask && tp->xm != 1 && tp->kind != CP_TAP_PAD &&
      tp->kind != CP_TAP_HOLE) {
    size_t l = strlen(xs);
    snprintf(xs + l, sizeof xs - l, "·m");
  }
  idx1(ws, sizeof ws, "w", tp->w, 4);
  if (v->has_kmask && tp->km != 1) {
    size_t l = strlen(ws);
    snprintf(ws + l, sizeof ws - l, "·M");
  }
  if (v->t.kind == CP_TRACE_SCATTER) {
    char os[48], sm[24];
    idx1(os, sizeof os, "y", tp->out, 4);
    vz_fmt(sm, sizeof sm, tp->sum, 8);
    if (tp->kind == CP_TAP_CROPPED)
      snprintf(buf, n, "%s %s×%s = %s  cropped", os, a, b, p);
    else
      snprintf(buf, n, "%s += %s×%s = %s  → %s", os, a, b, p, sm);
    return;
  }
  char sm[24];
  vz_fmt(sm, sizeof sm, tp->sum, 9);
  snprintf(buf, n, "%s=%s × %s=%s = %s   Σ %s", xs, a, ws, b, p, sm);
}

static void draw_bottom(SDL_Surface *s, vz_view *v, box b, int64_t done) {
  vz_fill(s, b.x, b.y, b.w, b.h, VZ_PANEL);
  const cp_geom *g = &v->g;
  int lx = b.x + 12, ly = b.y + 8;
  int split = b.x + b.w * 56 / 100;
  char line[512], t1[64], t2[64], t3[64];
  int cw, chh;
  vz_text_size("0", 13, 0, &cw, &chh);
  if (v->ok && v->t.ntaps > 0 && vz_view_steps(v) > 0) {
    /* headline */
    if (v->t.kind == CP_TRACE_SCATTER) {
      float xv = xval(v, v->info.idx[0], v->info.idx[1], v->info.idx[2],
                      v->info.idx[3]);
      idx1(t1, sizeof t1, "x", v->info.idx, 4);
      vz_fmt(t2, sizeof t2, xv, 9);
      snprintf(line, sizeof line,
               "%s = %s scattered: times the kernel, added at (%lld·%lld, "
               "%lld·%lld) - padding",
               t1, t2, (long long)v->info.idx[2], (long long)g->p.stride[0],
               (long long)v->info.idx[3], (long long)g->p.stride[1]);
    } else {
      idx1(t1, sizeof t1, "y", v->info.idx, 4);
      vz_fmt(t2, sizeof t2, v->info.bias, 9);
      snprintf(line, sizeof line, "%s = %s%s + Σ x·w  over %lld taps", t1,
               v->has_b ? "b=" : "", v->has_b ? t2 : "0",
               (long long)v->t.ntaps);
    }
    vz_text(s, lx, ly, line, 15, 1, VZ_FG, VZ_LEFT);
    ly += 24;
    /* taps: one column, or two in a smaller font when they do not fit */
    int px = 13;
    int lines = (b.y + b.h - 40 - ly) / (chh + 1);
    if (lines < 1) lines = 1;
    int ncols = 1;
    if (v->t.ntaps > lines) {
      px = 12;
      vz_text_size("0", px, 0, &cw, &chh);
      lines = (b.y + b.h - 40 - ly) / (chh + 1);
      if (lines < 1) lines = 1;
      ncols = v->t.ntaps > lines ? 2 : 1;
    }
    int colw = (split - lx - 10) / ncols;
    int64_t cap = (int64_t)lines * ncols, first = 0;
    if (v->t.ntaps > cap && done > cap) first = done - cap;
    for (int64_t k = first; k < v->t.ntaps && k < first + cap; k++) {
      tap_text(v, &v->taps[k], line, sizeof line);
      int is_cur = k == done - 1 && v->by_tap;
      SDL_Color c = k < done ? (is_cur ? VZ_ACCENT : VZ_FG) : VZ_DIM;
      if (k >= done) {
        /* not yet: show the factors only */
        char *sig = strstr(line, "   Σ");
        if (sig) *sig = 0;
        char *arrow = strstr(line, "  → ");
        if (arrow) *arrow = 0;
      }
      utf8_cut(line, colw / (cw > 0 ? cw : 8) - 1);
      int row = (int)((k - first) % lines), col = (int)((k - first) / lines);
      vz_text(s, lx + col * colw, ly + row * (chh + 1), line, px, 0, c,
              VZ_LEFT);
    }
    if (v->t.ntaps > first + cap) {
      snprintf(line, sizeof line, "… %lld more taps",
               (long long)(v->t.ntaps - first - cap));
      vz_text(s, lx, b.y + b.h - 38, line, 12, 0, VZ_DIM, VZ_LEFT);
    }
    /* result line */
    int ry = b.y + b.h - 22;
    if (v->t.kind == CP_TRACE_SCATTER) {
      snprintf(line, sizeof line, "%lld of %lld products land in the output",
               (long long)0, (long long)v->t.ntaps);
      int64_t land = 0;
      for (int64_t k = 0; k < v->t.ntaps; k++)
        land += v->taps[k].kind != CP_TAP_CROPPED;
      snprintf(line, sizeof line,
               "%lld of %lld products land in the output, %lld cropped",
               (long long)land, (long long)v->t.ntaps,
               (long long)(v->t.ntaps - land));
      vz_text(s, lx, ry, line, 14, 1, VZ_ACCENT2, VZ_LEFT);
    } else {
      double sum = vz_view_sum(v);
      vz_fmt(t1, sizeof t1, sum, 10);
      idx1(t3, sizeof t3, "y", v->info.idx, 4);
      if (done < v->t.ntaps) {
        snprintf(line, sizeof line, "running sum after %lld of %lld taps: %s",
                 (long long)done, (long long)v->t.ntaps, t1);
      } else if (v->partial) {
        vz_fmt(t2, sizeof t2, v->info.value, 10);
        char rs[24], ms[24];
        vz_fmt(rs, sizeof rs, v->info.ratio, 7);
        vz_fmt(ms, sizeof ms, v->info.msum, 6);
        snprintf(line, sizeof line,
                 "raw %s; mask sum S=%s of %lld, ratio %lld/S·[S>0]=%s  →  "
                 "%s = %s",
                 t1, ms, (long long)v->info.winsize,
                 (long long)v->info.winsize, rs, t3, t2);
      } else {
        vz_fmt(t2, sizeof t2, v->info.value, 10);
        snprintf(line, sizeof line, "%s = %s", t3, t2);
      }
      vz_text(s, lx, ry, line, 14, 1, VZ_ACCENT2, VZ_LEFT);
    }
  } else if (!v->ok) {
    vz_text(s, lx, ly, "no computation: the parameters are invalid", 15, 1,
            VZ_ERRC, VZ_LEFT);
  }
  /* right side: formula, groups */
  int rx = split + 12, ry = b.y + 8;
  vz_text(s, rx, ry, "output size", 15, 1, VZ_FG, VZ_LEFT);
  ry += 22;
  int avail = b.x + b.w - rx - 10;
  for (int d = 0; d < 2; d++) {
    vz_view_formula(v, d, line, sizeof line);
    SDL_Color fc = strstr(line, "invalid") ? VZ_ERRC : VZ_FG;
    int px = vz_fit_text(line, 13, 0, avail, 40);
    char *second = strstr(line + 8, " = ");
    if ((px >= 11 || !second)) {
      vz_text(s, rx, ry, line, px ? px : 9, 0, fc, VZ_LEFT);
      ry += 20;
    } else {
      /* the formula on one line, the numbers on the next */
      *second = 0;
      vz_text(s, rx, ry, line, 12, 0, fc, VZ_LEFT);
      px = vz_fit_text(second + 1, 12, 0, avail - 40, 40);
      vz_text(s, rx + 40, ry + 16, second + 1, px ? px : 9, 0, fc, VZ_LEFT);
      ry += 36;
    }
  }
  if (!v->ok || vz_view_steps(v) == 0) return;
  ry += 6;
  if (g->p.groups > 1) {
    int64_t grp = v->info.group;
    snprintf(line, sizeof line,
             "groups=%lld: group %lld reads input channels %lld-%lld, "
             "writes output channels %lld-%lld",
             (long long)g->p.groups, (long long)grp + 1,
             (long long)(grp * g->Cg + 1), (long long)((grp + 1) * g->Cg),
             (long long)(grp * g->Og + 1), (long long)((grp + 1) * g->Og));
    vz_text(s, rx, ry, line, 12, 0, VZ_FG, VZ_LEFT);
    ry += 18;
    /* wiring: input channels (left) to output channels (right) */
    int64_t C = g->C, O = g->O;
    int top = ry + 4, hgt = b.y + b.h - 10 - top;
    int xl = rx + 40, xr = rx + 220;
    if (hgt > 30 && C <= 64 && O <= 128) {
      for (int64_t o = 0; o < O; o++) {
        int64_t gg = o / g->Og;
        int yo = top + (int)((o + 0.5) * hgt / O);
        for (int64_t ci = gg * g->Cg; ci < (gg + 1) * g->Cg; ci++) {
          int yi = top + (int)((ci + 0.5) * hgt / C);
          vz_line(s, xl, yi, xr, yo, 1,
                  gg == grp ? VZ_ACCENT : VZ_RGB(70, 74, 84));
        }
      }
      for (int64_t ci = 0; ci < C; ci++) {
        int yi = top + (int)((ci + 0.5) * hgt / C);
        vz_fill(s, xl - 4, yi - 3, 7, 7,
                ci / g->Cg == grp ? VZ_ACCENT : VZ_DIM);
      }
      for (int64_t o = 0; o < O; o++) {
        int yo = top + (int)((o + 0.5) * hgt / O);
        int cur = v->t.kind != CP_TRACE_SCATTER && o == v->info.idx[1];
        vz_fill(s, xr - 3, yo - 3, 7, 7,
                cur ? VZ_ACCENT2 : o / g->Og == grp ? VZ_ACCENT : VZ_DIM);
      }
      vz_text(s, xl - 8, top - 2, "in", 11, 0, VZ_DIM, VZ_RIGHT);
      vz_text(s, xr + 8, top - 2, "out", 11, 0, VZ_DIM, VZ_LEFT);
    }
  } else if (v->t.kind == CP_TRACE_GATHER) {
    snprintf(line, sizeof line,
             "zero insertion: %lld hole(s) between pixels, border "
             "d(k-1)-p = %lld (+%lld op)",
             (long long)(g->p.stride[0] - 1),
             (long long)(g->p.dilation[0] * (g->kH - 1) - g->p.pad[0]),
             (long long)g->p.out_pad[0]);
    vz_text(s, rx, ry, line, 12, 0, VZ_FG, VZ_LEFT);
    ry += 18;
    vz_text(s, rx, ry, "then a stride-1 correlation with the flipped kernel",
            12, 0, VZ_DIM, VZ_LEFT);
  } else if (v->t.kind == CP_TRACE_SCATTER) {
    snprintf(line, sizeof line,
             "canvas (H-1)s+d(k-1)+1 = %lld rows; crop p=%lld top, p-op=%lld "
             "bottom",
             (long long)((g->H - 1) * g->p.stride[0] +
                         g->p.dilation[0] * (g->kH - 1) + 1),
             (long long)g->p.pad[0], (long long)(g->p.pad[1] - g->p.out_pad[0]));
    vz_text(s, rx, ry, line, 12, 0, VZ_FG, VZ_LEFT);
  }
  if (v->partial) {
    vz_text(s, rx, b.y + b.h - 22,
            "partial: out = ((raw-b)·ratio + b)·[S>0], new mask = [S>0]", 12,
            0, VZ_DIM, VZ_LEFT);
  }
}

/* ====================================================================== */
/* Header, help, error                                                     */
/* ====================================================================== */

static void draw_header(SDL_Surface *s, vz_view *v) {
  const cp_conv_params *p = v->ok ? &v->g.p : &v->req;
  char line[512], t[256];
  if (v->title[0]) snprintf(t, sizeof t, "%s", v->title);
  else if (!p->transposed) snprintf(t, sizeof t, "conv2d%s",
                                    v->flip ? " (true convolution)" : "");
  else snprintf(t, sizeof t, "conv_transpose2d");
  vz_text(s, 16, 8, t, 20, 1, VZ_FG, VZ_LEFT);
  const char *kind = !p->transposed
                         ? (v->flip ? "true convolution (kernel flipped)"
                                    : "cross-correlation (PyTorch conv2d)")
                         : v->scatter ? "scatter view"
                                      : "zero-insertion (gather) view";
  int n = snprintf(line, sizeof line,
                   "%s   stride %lld,%lld   padding %lld,%lld", kind,
                   (long long)p->stride[0], (long long)p->stride[1],
                   (long long)p->pad[0], (long long)p->pad[2]);
  if (p->pad[1] != p->pad[0] || p->pad[3] != p->pad[2])
    n += snprintf(line + n, sizeof line - n, " (+%lld,%lld)",
                  (long long)p->pad[1], (long long)p->pad[3]);
  n += snprintf(line + n, sizeof line - n, "   dilation %lld,%lld",
                (long long)p->dilation[0], (long long)p->dilation[1]);
  if (p->transposed)
    n += snprintf(line + n, sizeof line - n, "   output_padding %lld,%lld",
                  (long long)p->out_pad[0], (long long)p->out_pad[1]);
  n += snprintf(line + n, sizeof line - n, "   groups %lld",
                (long long)p->groups);
  if (!p->transposed)
    n += snprintf(line + n, sizeof line - n, "   %s",
                  cp_padmode_name(p->mode));
  if (v->has_mask)
    n += snprintf(line + n, sizeof line - n, "   %s",
                  v->partial ? "partial conv" : "input mask");
  if (v->has_kmask) snprintf(line + n, sizeof line - n, "   kernel mask");
  /* leave room for the status on the right */
  int sw = 0;
  if (v->ok) vz_text_size(v->by_tap ? "one tap per step · ▶ playing 512/s · ? help"
                                    : "one input pixel per step · paused 4/s · ? help",
                          13, 0, &sw, NULL);
  int pw = s->w - 32 - sw - 16;
  int ppx = vz_fit_text(line, 14, 0, pw, 40);
  if (!ppx) {
    ppx = 9;
    utf8_cut(line, pw / 6);
  }
  vz_text(s, 16, 36, line, ppx, 0, VZ_DIM, VZ_LEFT);
  if (v->caption[0]) {
    int cpx = vz_fit_text(v->caption, 13, 0, s->w - 32, 40);
    vz_text(s, 16, 58, v->caption, cpx ? cpx : 9, 0, VZ_FG, VZ_LEFT);
  }
  /* step counter */
  if (v->ok) {
    snprintf(line, sizeof line, "step %lld / %lld", (long long)v->step,
             (long long)vz_view_steps(v));
    vz_text(s, s->w - 16, 8, line, 18, 1, VZ_FG, VZ_RIGHT);
    snprintf(line, sizeof line, "%s · %s %g/s · ? help",
             v->by_tap ? "one tap per step" : "one output per step",
             v->playing ? (v->backward ? "◀ playing" : "▶ playing")
                        : "paused",
             v->speed);
    if (v->t.kind == CP_TRACE_SCATTER)
      snprintf(line, sizeof line, "%s · %s %g/s · ? help",
               v->by_tap ? "one tap per step" : "one input pixel per step",
               v->playing ? "▶ playing" : "paused", v->speed);
    vz_text(s, s->w - 16, 36, line, 13, 0, VZ_DIM, VZ_RIGHT);
  }
}

static void draw_lines_box(SDL_Surface *s, int x, int y, int w, int h,
                           const char *text, int px, SDL_Color c,
                           SDL_Color bg) {
  vz_fill(s, x, y, w, h, bg);
  vz_frame(s, x, y, w, h, 1, c);
  int cw, ch;
  vz_text_size("0", px, 0, &cw, &ch);
  int maxc = (w - 24) / (cw > 0 ? cw : 8), ly = y + 12;
  const char *p = text;
  char buf[512];
  while (*p && ly + ch < y + h) {
    const char *nl = strchr(p, '\n');
    int len = nl ? (int)(nl - p) : (int)strlen(p);
    int take = len > maxc ? maxc : len;
    if (take < len) { /* break at a space when possible */
      int sp = take;
      while (sp > maxc / 2 && p[sp] != ' ') sp--;
      if (p[sp] == ' ') take = sp;
    }
    snprintf(buf, sizeof buf, "%.*s", take < 511 ? take : 511, p);
    vz_text(s, x + 12, ly, buf, px, 0, c, VZ_LEFT);
    ly += ch + 2;
    p += take;
    while (*p == ' ' && take < len) p++;
    if (*p == '\n') p++;
  }
}

/* Keyboard help in two columns over the frame. */
static void draw_help(SDL_Surface *s) {
  const char *text = vz_view_help_text();
  int nl = 0;
  for (const char *p = text; *p; p++) nl += *p == '\n';
  int half = (nl + 1) / 2, lh = 22;
  int bw = s->w - 160 < 1000 ? s->w - 160 : 1000, bh = half * lh + 60;
  int bx = (s->w - bw) / 2, by = 100;
  vz_fill(s, bx, by, bw, bh, VZ_RGBA(16, 18, 22, 240));
  vz_frame(s, bx, by, bw, bh, 2, VZ_ACCENT);
  vz_text(s, bx + 16, by + 10, "keys", 16, 1, VZ_ACCENT, VZ_LEFT);
  const char *p = text;
  char buf[128];
  for (int i = 0; *p; i++) {
    const char *e = strchr(p, '\n');
    int len = e ? (int)(e - p) : (int)strlen(p);
    snprintf(buf, sizeof buf, "%.*s", len < 127 ? len : 127, p);
    int col = i / half, row = i % half;
    vz_text(s, bx + 16 + col * bw / 2, by + 40 + row * lh, buf, 14, 0, VZ_FG,
            VZ_LEFT);
    p += len;
    if (*p) p++;
  }
}

void vz_view_draw(vz_view *v, SDL_Surface *s) {
  vz_clear(s, VZ_BG);
  int64_t done = 0;
  vz_view_current(v, &done);
  int W = s->w, H = s->h;
  int top = HEADER_H, bot = H - BOTTOM_H;
  draw_header(s, v);
  if (v->ok && vz_view_steps(v) == 0) {
    /* N = 0, C = 0 or O = 0: a valid problem with nothing to compute */
    char msg[256];
    snprintf(msg, sizeof msg,
             "nothing to step through: the output has %lld x %lld x %lld x "
             "%lld cells and each takes %lld taps",
             (long long)v->g.N, (long long)v->g.O, (long long)v->g.OH,
             (long long)v->g.OW, (long long)v->t.ntaps);
    draw_lines_box(s, 60, top + 60, W - 120, 80, msg, 15, VZ_FG, VZ_PANEL);
    draw_bottom(s, v, (box){8, bot, W - 16, BOTTOM_H - 8}, 0);
    if (v->help) draw_help(s);
    return;
  }
  box bin = {16, top, W * 42 / 100, bot - top - 8};
  box bk = {bin.x + bin.w + 16, top, W * 15 / 100, bot - top - 8};
  box bout = {bk.x + bk.w + 16, top, W - (bk.x + bk.w + 16) - 16,
              bot - top - 8};
  draw_input_panel(s, v, bin, done);
  draw_kernel_panel(s, v, bk, done);
  draw_output_panel(s, v, bout, done);
  draw_bottom(s, v, (box){8, bot, W - 16, BOTTOM_H - 8}, done);
  if (!v->ok) {
    char msg[700];
    snprintf(msg, sizeof msg,
             "invalid parameters:\n%s\n\nchange a parameter (s/S p/P d/D "
             "o/O m) to fix it", v->err);
    draw_lines_box(s, bk.x - 40, top + 60, bout.x + bout.w - bk.x + 40, 170,
                   msg, 15, VZ_ERRC, VZ_RGB(40, 20, 22));
  }
  if (v->help) draw_help(s);
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
  if (!v->ok) return;
  int64_t r, c, n = v->info.idx[0];
  for (int i = 0; i < v->nout; i++)
    if (v->gout[i].ch >= 0 && hit(&v->gout[i], x, y, &r, &c)) {
      if (r >= 0 && c >= 0 && r < v->g.OH && c < v->g.OW) {
        int64_t idx[4] = {n, v->gout[i].ch, r, c};
        vz_view_hover(v, 1, idx);
        return;
      }
    }
  inmap m = input_map(v);
  for (int i = 0; i < v->nin; i++)
    if (hit(&v->gin[i], x, y, &r, &c)) {
      int64_t sr, sc;
      if (input_cell(v, &m, r, c, &sr, &sc) == 0) {
        int64_t idx[4] = {n, v->gin[i].ch, sr, sc};
        vz_view_hover(v, 2, idx);
        return;
      }
    }
  v->hover = 0;
}
