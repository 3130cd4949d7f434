/* show.c - static grids (viz.show). */
#include "viz/show.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/draw.h"

struct vz_show {
  char title[256];                /* header line */
  int n;                          /* items used */
  char name[VZ_SHOW_MAX][32];     /* item labels ("input", ...) */
  cp_tensor t[VZ_SHOW_MAX];       /* contiguous copies (owned) */
  int width, height;              /* frame size */
};

vz_show *vz_show_new(const char *title, int width, int height) {
  vz_show *sh = calloc(1, sizeof *sh);
  if (!sh) return NULL;
  snprintf(sh->title, sizeof sh->title, "%s", title ? title : "");
  sh->width = width > 0 ? width : VZ_DEFAULT_W;
  sh->height = height > 0 ? height : VZ_DEFAULT_H;
  return sh;
}

int vz_show_add(vz_show *sh, const char *name, const cp_tensor *t,
                cp_err *e) {
  if (sh->n >= VZ_SHOW_MAX) return cp_fail(e, "%s: too many grids", name);
  if (t->ndim < 1) return cp_fail(e, "%s: a scalar has no grid", name);
  if (cp_tensor_numel(t) > 1 << 22)
    return cp_fail(e, "%s: too large to show (%lld values)", name,
                   (long long)cp_tensor_numel(t));
  if (cp_tensor_contiguous(&sh->t[sh->n], t, e)) return -1;
  snprintf(sh->name[sh->n], sizeof sh->name[0], "%s", name);
  sh->n++;
  return 0;
}

void vz_show_free(vz_show *sh) {
  if (!sh) return;
  for (int i = 0; i < sh->n; i++) cp_tensor_release(&sh->t[i]);
  free(sh);
}

void vz_draw_slice(vz_canvas *s, const float *v, int64_t rows,
                   int64_t cols, int x, int y, int cs, float lo, float hi,
                   int sequential) {
  float am = fmaxf(fabsf(lo), fabsf(hi));
  char b[32];
  int px = cs >= 20 ? (cs * 36 / 100 < 9 ? 9 : cs * 36 / 100 > 18 ? 18
                                                                   : cs * 36 / 100)
                    : 0;
  int gap = cs >= 6 ? 1 : 0;
  /* Only the cells that can land on the surface: a (2^40, 0) or (1, 2^40)
   * tensor must not loop over rows it cannot draw. */
  if (rows <= 0 || cols <= 0 || cs <= 0) return;
  int64_t r0 = y < 0 ? (int64_t)(-y) / cs : 0, c0 = x < 0 ? (int64_t)(-x) / cs : 0;
  int64_t r1 = r0 + s->h / cs + 2, c1 = c0 + s->w / cs + 2;
  if (r1 > rows) r1 = rows;
  if (c1 > cols) c1 = cols;
  for (int64_t r = r0; r < r1; r++)
    for (int64_t c = c0; c < c1; c++) {
      float val = v[r * cols + c];
      vz_color f = sequential ? vz_sequential(val, lo, hi)
                               : vz_diverging(val, am);
      int cx = x + (int)(c * cs), cy = y + (int)(r * cs);
      vz_fill(s, cx, cy, cs - gap, cs - gap, f);
      if (px) {
        vz_fmt_fit(b, sizeof b, val, px, cs - 4);
        int fit = vz_fit_text(b, px, VZ_SANS, cs - 4, cs - 2);
        if (fit)
          vz_text_box(s, cx, cy, cs - gap, cs - gap, b, fit, VZ_SANS,
                      vz_contrast(f), f);
      }
    }
}

void vz_show_draw(vz_show *sh, vz_canvas *s) {
  vz_clear(s, VZ_BG);
  vz_text(s, 16, 10, sh->title[0] ? sh->title : "viz.show", 20, 1, VZ_FG,
          VZ_LEFT);
  if (sh->n == 0) return;
  int top = 56, W = s->w, H = s->h;
  int pw = (W - 16) / sh->n;
  for (int i = 0; i < sh->n; i++) {
    cp_tensor *t = &sh->t[i];
    int64_t rows = t->ndim >= 2 ? t->shape[t->ndim - 2] : 1;
    int64_t cols = t->shape[t->ndim - 1];
    int64_t plane = rows * cols;
    int64_t ntile = plane ? cp_tensor_numel(t) / plane : 0;
    int shown = ntile > VZ_SHOW_TILES ? VZ_SHOW_TILES : (int)ntile;
    const float *d = cp_tensor_data(t);
    float lo = 0, hi = 0;
    int64_t nn = cp_tensor_numel(t);
    for (int64_t k = 0; k < nn; k++) {
      if (!isfinite(d[k])) continue;
      lo = fminf(lo, d[k]);
      hi = fmaxf(hi, d[k]);
    }
    int seq = lo >= 0 && hi <= 1 && !strcmp(sh->name[i], "mask");
    if (seq) lo = 0, hi = 1;
    if (hi == lo) hi = lo + 1;
    int px0 = 16 + i * pw;
    char lab[160], shp[96];
    snprintf(lab, sizeof lab, "%s %s", sh->name[i],
             cp_shape_str(t->ndim, t->shape, shp, sizeof shp));
    vz_text(s, px0, top, lab, 15, 1, VZ_FG, VZ_LEFT);
    if (shown == 0) { /* a 0-sized dimension: nothing to lay out */
      vz_text(s, px0, top + 28, "(empty)", 12, 0, VZ_DIM, VZ_LEFT);
      continue;
    }
    /* tiles in a near-square arrangement */
    int best = 1, bestc = 1;
    int aw = pw - 24, ah = H - top - 90;
    for (int nc = 1; nc <= shown; nc++) {
      int nr = (shown + nc - 1) / nc;
      int cw = (int)((aw - (nc - 1) * 10) / (nc * cols));
      int ch = (int)((ah - nr * 24) / (nr * rows));
      int cs = cw < ch ? cw : ch;
      if (cs > best) { best = cs; bestc = nc; }
    }
    int cs = best > 64 ? 64 : best;
    for (int k = 0; k < shown; k++) {
      int tx = px0 + (k % bestc) * (int)(cols * cs + 10);
      int ty = top + 28 + (k / bestc) * (int)(rows * cs + 24);
      if (ntile > 1) {
        /* 1-based index of the leading dimensions */
        char ix[64];
        int o = 0;
        int64_t rem = k;
        int64_t idx[8] = {0};
        for (int dd = t->ndim - 3; dd >= 0; dd--) {
          idx[dd] = rem % t->shape[dd];
          rem /= t->shape[dd];
        }
        o += snprintf(ix + o, sizeof ix - o, "[");
        for (int dd = 0; dd <= t->ndim - 3 && o < (int)sizeof ix; dd++)
          o += snprintf(ix + o, sizeof ix - o, "%s%lld", dd ? "," : "",
                        (long long)idx[dd] + 1);
        if (o < (int)sizeof ix) snprintf(ix + o, sizeof ix - o, ",:,:]");
        vz_text(s, tx, ty, ix, 12, 0, VZ_DIM, VZ_LEFT);
      }
      vz_draw_slice(s, d + k * plane, rows, cols, tx, ty + 16, cs, lo, hi,
                    seq);
    }
    if (ntile > shown) {
      snprintf(lab, sizeof lab, "+%lld more slices",
               (long long)(ntile - shown));
      vz_text(s, px0, H - 70, lab, 12, 0, VZ_DIM, VZ_LEFT);
    }
    vz_legend(s, px0, H - 44, pw - 60 < 220 ? pw - 60 : 220, 10, lo, hi,
              !seq, NULL, 13);
  }
}

int vz_show_count(const vz_show *sh) { return sh->n; }

void vz_show_size(const vz_show *sh, int *width, int *height) {
  *width = sh->width;
  *height = sh->height;
}

const char *vz_show_title(const vz_show *sh) { return sh->title; }

void vz_show_set_title(vz_show *sh, const char *title) {
  snprintf(sh->title, sizeof sh->title, "%s", title);
}
