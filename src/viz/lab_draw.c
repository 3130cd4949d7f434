/* lab_draw.c - one frame of the image lab: the before/after view with zoom,
 * pan and split, the kernel grid, the settings and presets, the hover
 * readout and the compute status.  Every clickable thing drawn is recorded
 * in lb->hits, so clicks land on exactly what the frame showed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "draw.h"
#include "lab_priv.h"

/* ---- view geometry ------------------------------------------------------- */

SDL_Rect lab_view_rect(const vz_lab *lb) {
  SDL_Rect r = {0, 0, lb->surf->w - LAB_PANEL_W, lb->surf->h - LAB_STATUS_H};
  if (r.w < 1) r.w = 1;
  if (r.h < 1) r.h = 1;
  return r;
}

double lab_zoom(const vz_lab *lb) {
  if (lb->v.zoom > 0) return lb->v.zoom;
  SDL_Rect r = lab_view_rect(lb);
  double zw = (double)r.w / (double)lb->m.image.shape[2];
  double zh = (double)r.h / (double)lb->m.image.shape[1];
  return zw < zh ? zw : zh;
}

static void centre(const vz_lab *lb, double *cx, double *cy) {
  if (lb->v.zoom > 0) {
    *cx = lb->v.cx;
    *cy = lb->v.cy;
  } else {
    *cx = lb->m.image.shape[2] / 2.0;
    *cy = lb->m.image.shape[1] / 2.0;
  }
}

void lab_to_image(const vz_lab *lb, double sx, double sy, double *ix,
                  double *iy) {
  SDL_Rect r = lab_view_rect(lb);
  double z = lab_zoom(lb), cx, cy;
  centre(lb, &cx, &cy);
  *ix = cx + (sx - (r.x + r.w / 2.0)) / z;
  *iy = cy + (sy - (r.y + r.h / 2.0)) / z;
}

void lab_to_screen(const vz_lab *lb, double ix, double iy, double *sx,
                   double *sy) {
  SDL_Rect r = lab_view_rect(lb);
  double z = lab_zoom(lb), cx, cy;
  centre(lb, &cx, &cy);
  *sx = r.x + r.w / 2.0 + (ix - cx) * z;
  *sy = r.y + r.h / 2.0 + (iy - cy) * z;
}

int lab_split_x(const vz_lab *lb) {
  SDL_Rect r = lab_view_rect(lb);
  if (lb->v.mode == VZ_VIEW_AFTER) return r.x;
  if (lb->v.mode == VZ_VIEW_BEFORE) return r.x + r.w;
  return r.x + (int)lround(lb->v.split * r.w);
}

/* Screen rectangle of the image-space box [iy0, iy1) x [ix0, ix1). */
static SDL_Rect box(const vz_lab *lb, double iy0, double ix0, double iy1,
                    double ix1) {
  double x0, y0, x1, y1;
  lab_to_screen(lb, ix0, iy0, &x0, &y0);
  lab_to_screen(lb, ix1, iy1, &x1, &y1);
  SDL_Rect r = {(int)lround(x0), (int)lround(y0), 0, 0};
  r.w = (int)lround(x1) - r.x;
  r.h = (int)lround(y1) - r.y;
  if (r.w < 1) r.w = 1;
  if (r.h < 1) r.h = 1;
  return r;
}

static void add_hit(vz_lab *lb, int x, int y, int w, int h, int kind, int a,
                    int b) {
  if (lb->nhits >= LAB_MAXHITS) return;
  lab_hit *t = &lb->hits[lb->nhits++];
  t->r = (SDL_Rect){x, y, w, h};
  t->kind = kind;
  t->a = a;
  t->b = b;
}

/* ---- the image area ---------------------------------------------------------- */

static void blit_clipped(const vz_lab *lb, vz_canvas *dst, SDL_Rect to,
                         SDL_Rect clip) {
  if (to.w <= 0 || to.h <= 0) return;
  vz_clip(dst, clip.x, clip.y, clip.w, clip.h);
  vz_image(dst, lb->in_px, lb->in_w, lb->in_h, lb->in_w, to.x, to.y, to.w,
           to.h, 0);
  vz_unclip(dst);
}

/* The result, sampled straight from the output tensor into the clip
 * rectangle (nearest neighbour), mapped on the way.  Output pixel (r, c)
 * covers input [oy + r*s, oy + (r+1)*s) x [ox + c*s, ...). mu held. */
static void sample_result(vz_lab *lb, SDL_Rect clip) {
  vz_canvas *s = lb->surf;
  static int32_t rows[8192], cols[8192];
  if (clip.w > 8192) clip.w = 8192;
  if (clip.h > 8192) clip.h = 8192;
  double oy, ox, st = (double)lb->m.p.stride;
  cp_lab_out_origin(&lb->m, &oy, &ox);
  int64_t OH = lb->out.shape[1], OW = lb->out.shape[2];
  for (int x = 0; x < clip.w; x++) {
    double ix, iy;
    lab_to_image(lb, clip.x + x + 0.5, 0, &ix, &iy);
    double c = floor((ix - ox) / st);
    cols[x] = c >= 0 && c < OW ? (int32_t)c : -1;
  }
  for (int y = 0; y < clip.h; y++) {
    double ix, iy;
    lab_to_image(lb, 0, clip.y + y + 0.5, &ix, &iy);
    double r = floor((iy - oy) / st);
    rows[y] = r >= 0 && r < OH ? (int32_t)r : -1;
  }
  int stride;
  uint32_t *px = vz_canvas_pixels(s, &stride);
  if (!px) return;
  px += (size_t)clip.y * stride + clip.x;
  cp_lab_sample_argb(&lb->out, lb->m.p.map, rows, clip.h, cols, clip.w, px,
                     stride);
  vz_canvas_dirty(s);
}

/* The taps of the hovered output pixel (flipped weight coordinates), framed
 * on the input, and the output pixel itself. */
static void draw_footprint(vz_lab *lb, SDL_Rect vr) {
  vz_canvas *s = lb->surf;
  if (lb->v.hover_r < 0) return;
  vz_clip(s, vr.x, vr.y, vr.w, vr.h);
  if (lb->v.hover_before) {
    SDL_Rect r = box(lb, lb->v.hover_r, lb->v.hover_c, lb->v.hover_r + 1,
                     lb->v.hover_c + 1);
    vz_frame(s, r.x - 1, r.y - 1, r.w + 2, r.h + 2, 1, VZ_HOVER);
    vz_unclip(s);
    return;
  }
  cp_lab_tap taps[CP_LAB_MAXK * CP_LAB_MAXK];
  cp_lab_readout ro;
  int ch = lb->m.p.full_mix ? 0 : lb->v.readout_ch;
  if (ch >= lb->m.image.shape[0]) ch = 0;
  if (cp_lab_explain(&lb->m, ch, lb->v.hover_r, lb->v.hover_c, taps,
                     CP_LAB_MAXK * CP_LAB_MAXK, &ro, NULL) == 0) {
    int n = ro.ntaps < CP_LAB_MAXK * CP_LAB_MAXK ? ro.ntaps
                                                  : CP_LAB_MAXK * CP_LAB_MAXK;
    int64_t kk = lb->m.kernel.shape[0] * lb->m.kernel.shape[1];
    if (n > kk) n = (int)kk; /* one channel's taps are enough to show */
    double z = lab_zoom(lb);
    int64_t r0 = INT64_MAX, c0 = INT64_MAX, r1 = INT64_MIN, c1 = INT64_MIN;
    for (int k = 0; k < n; k++) {
      cp_lab_tap *t = &taps[k];
      if (t->row < r0) r0 = t->row;
      if (t->col < c0) c0 = t->col;
      if (t->row > r1) r1 = t->row;
      if (t->col > c1) c1 = t->col;
      if (z >= 6) {
        SDL_Rect r = box(lb, t->row, t->col, t->row + 1, t->col + 1);
        vz_color c = t->src_row < 0 ? VZ_DIM : VZ_ACCENT;
        if (t->src_row < 0)
          vz_dashed(s, r.x, r.y, r.w, r.h, 3, c);
        else
          vz_frame(s, r.x, r.y, r.w, r.h, 1, c);
      }
    }
    if (n > 0) {
      SDL_Rect r = box(lb, r0, c0, r1 + 1, c1 + 1);
      vz_frame(s, r.x - 1, r.y - 1, r.w + 2, r.h + 2, 1, VZ_ACCENT);
    }
  }
  double oy, ox, st = (double)lb->m.p.stride;
  cp_lab_out_origin(&lb->m, &oy, &ox);
  SDL_Rect r = box(lb, oy + lb->v.hover_r * st, ox + lb->v.hover_c * st,
                   oy + (lb->v.hover_r + 1) * st, ox + (lb->v.hover_c + 1) * st);
  vz_frame(s, r.x - 2, r.y - 2, r.w + 4, r.h + 4, 2, VZ_ACCENT2);
  vz_unclip(s);
}

static void draw_view(vz_lab *lb) {
  vz_canvas *s = lb->surf;
  SDL_Rect vr = lab_view_rect(lb);
  vz_fill(s, vr.x, vr.y, vr.w, vr.h, VZ_BG);
  int sx = lab_split_x(lb);
  int64_t H = lb->m.image.shape[1], W = lb->m.image.shape[2];
  SDL_Rect left = {vr.x, vr.y, sx - vr.x, vr.h};
  SDL_Rect right = {sx, vr.y, vr.x + vr.w - sx, vr.h};
  if (left.w > 0) blit_clipped(lb, s, box(lb, 0, 0, H, W), left);
  pthread_mutex_lock(&lb->mu);
  if (right.w > 0 && lb->out.st) sample_result(lb, right);
  pthread_mutex_unlock(&lb->mu);
  /* Pixel grid when zoomed in far enough to see pixels. */
  double z = lab_zoom(lb);
  if (z >= 12) {
    vz_clip(s, vr.x, vr.y, vr.w, vr.h);
    vz_color g = VZ_RGBA(0, 0, 0, 60);
    double ix0, iy0, ix1, iy1;
    lab_to_image(lb, vr.x, vr.y, &ix0, &iy0);
    lab_to_image(lb, vr.x + vr.w, vr.y + vr.h, &ix1, &iy1);
    for (double c = floor(ix0); c <= ix1; c += 1) {
      double x, y;
      lab_to_screen(lb, c, 0, &x, &y);
      vz_fill(s, (int)lround(x), vr.y, 1, vr.h, g);
    }
    for (double r = floor(iy0); r <= iy1; r += 1) {
      double x, y;
      lab_to_screen(lb, 0, r, &x, &y);
      vz_fill(s, vr.x, (int)lround(y), vr.w, 1, g);
    }
    vz_unclip(s);
  }
  draw_footprint(lb, vr);
  /* The split handle and the side labels. */
  if (lb->v.mode == VZ_VIEW_SPLIT) {
    vz_fill(s, sx - 1, vr.y, 2, vr.h, VZ_FG);
    vz_fill(s, sx - 5, vr.y + vr.h / 2 - 14, 10, 28, VZ_FG);
  }
  /* Each label on a chip of the panel colour (the theme's text reads on
   * it in both themes), sized to its text and inside its side. */
  static const char *const side[2] = {"before", "after"};
  for (int k = 0; k < 2; k++) {
    if (lb->v.mode == (k ? VZ_VIEW_BEFORE : VZ_VIEW_AFTER)) continue;
    int tw, th;
    vz_text_size(side[k], 13, VZ_BOLD, &tw, &th);
    int cw = tw + 12, ch = th + 4;
    SDL_Rect sd = k ? right : left;
    if (sd.w < cw + 12 || vr.h < ch + 12) continue;
    int cx = k ? sd.x + sd.w - 6 - cw : sd.x + 6, cy = vr.y + 6;
    vz_fill(s, cx, cy, cw, ch, VZ_PANEL);
    vz_frame(s, cx, cy, cw, ch, 1, VZ_GRIDLINE);
    vz_text(s, cx + 6, cy + 2, side[k], 13, VZ_BOLD, VZ_FG, VZ_LEFT);
  }
  /* Progress for a compute slower than a frame. */
  double busy = lab_busy_ms(lb);
  if (busy > 16) {
    int bw = vr.w / 2, bx = vr.x + vr.w / 4, by = vr.y + vr.h - 40;
    vz_fill(s, bx - 8, by - 24, bw + 16, 46, VZ_RGBA(0, 0, 0, 180));
    char t[96];
    snprintf(t, sizeof t, "computing... %d%%  (%.1f s)",
             (int)(lb->progress * 100), busy / 1000);
    vz_text(s, bx, by - 20, t, 13, 0, VZ_FG, VZ_LEFT);
    vz_frame(s, bx, by, bw, 12, 1, VZ_FG);
    vz_fill(s, bx + 2, by + 2, (int)((bw - 4) * lb->progress), 8, VZ_ACCENT);
  }
}

/* ---- the panel --------------------------------------------------------------- */

static int draw_kernel(vz_lab *lb, int x, int y, int w, int hmax) {
  vz_canvas *s = lb->surf;
  cp_lab *m = &lb->m;
  int64_t kH = m->kernel.shape[0], kW = m->kernel.shape[1];
  int cell = (int)(w / kW);
  if (cell > (int)(hmax / kH)) cell = (int)(hmax / kH);
  if (cell > 60) cell = 60;
  if (cell < 3) cell = 3;
  int gx = x + (w - cell * (int)kW) / 2;
  float amax = 0;
  for (int64_t i = 0; i < kH; i++)
    for (int64_t j = 0; j < kW; j++) {
      float v = fabsf(cp_lab_cell(m, i, j));
      if (v > amax) amax = v;
    }
  if (amax == 0) amax = 1;
  int px = cell >= 34 ? 13 : 0; /* digits only where 13 px fit */
  for (int64_t i = 0; i < kH; i++)
    for (int64_t j = 0; j < kW; j++) {
      int cx = gx + (int)j * cell, cy = y + (int)i * cell;
      float v = cp_lab_cell(m, i, j);
      vz_color c = vz_diverging(v, amax);
      vz_fill(s, cx, cy, cell, cell, c);
      vz_frame(s, cx, cy, cell, cell, 1, VZ_GRIDLINE);
      int sel = i == lb->v.sel_i && j == lb->v.sel_j;
      char t[64];
      if (sel && lb->editing) {
        snprintf(t, sizeof t, "%s_", lb->entry);
        vz_fill(s, cx + 1, cy + 1, cell - 2, cell - 2, VZ_PANEL);
        if (px) vz_text_box(s, cx, cy, cell, cell, t, px, 1, VZ_ACCENT, VZ_PANEL);
      } else if (px) {
        vz_fmt(t, sizeof t, v, cell >= 44 ? 6 : 5);
        vz_text_box(s, cx, cy, cell, cell, t, px, 0, vz_contrast(c), c);
      }
      if (sel) vz_frame(s, cx, cy, cell, cell, 2, VZ_ACCENT);
      add_hit(lb, cx, cy, cell, cell, LAB_HIT_CELL, (int)i, (int)j);
    }
  return cell * (int)kH;
}

static void setting_text(const vz_lab *lb, int idx, char *k, char *val,
                         size_t n) {
  const cp_lab *m = &lb->m;
  static const char *const keys[LAB_NSETTINGS] = {
      "k/K", "r/R", "a/A", "e/E", "d/D", "c", "m", "g/G", "n", "v/V", "[ ]", "; '"};
  static const char *const views[3] = {"split", "after", "before"};
  snprintf(k, 8, "%.7s", keys[idx]);
  switch (idx) {
  case 0:
    snprintf(val, n, "size %lldx%lld", (long long)m->kernel.shape[0],
             (long long)m->kernel.shape[1]);
    break;
  case 1: snprintf(val, n, "stride %lld", (long long)m->p.stride); break;
  case 2:
    if (m->p.same) snprintf(val, n, "padding same");
    else snprintf(val, n, "padding %lld", (long long)m->p.pad);
    break;
  case 3: snprintf(val, n, "padding mode %s", cp_padmode_name(m->p.mode)); break;
  case 4: snprintf(val, n, "dilation %lld", (long long)m->p.dilation); break;
  case 5:
    snprintf(val, n, "%s", m->p.flip ? "true convolution (flipped)"
                                     : "correlation (as conv2d)");
    break;
  case 6:
    snprintf(val, n, "%s", m->p.full_mix ? "full RGB mixing (groups 1)"
                                         : "per channel (depthwise)");
    break;
  case 7: snprintf(val, n, "signed output: %s", cp_signmap_name(m->p.map)); break;
  case 8: snprintf(val, n, "normalise kernel"); break;
  case 9: snprintf(val, n, "view %s", views[lb->v.mode]); break;
  case 10:
    if (m->preset == CP_PRESET_GAUSSIAN || m->preset == CP_PRESET_UNSHARP)
      snprintf(val, n, "sigma %.3g", m->args.sigma > 0 ? m->args.sigma
                                     : cp_kernel_default_sigma(m->kernel.shape[0]));
    else if (m->preset == CP_PRESET_MOTION_BLUR)
      snprintf(val, n, "angle %g degrees", m->args.angle);
    else
      snprintf(val, n, "sigma / angle (gaussian, unsharp, motion)");
    break;
  default:
    if (m->preset == CP_PRESET_UNSHARP)
      snprintf(val, n, "amount %.3g", m->args.amount);
    else
      snprintf(val, n, "amount (unsharp)");
    break;
  }
}

/* Lines of units (terms that never break) joined by sep, wrapped to w:
 * continuation lines are indented by two spaces; a unit wider than a line
 * is shortened with "…".  Only lines whose bottom is above ymax are drawn
 * (what is not drawn is not recorded either).  Returns the height used. */
typedef struct {
  vz_canvas *s;
  int x, w, ymax, lh;
} rd_box;

static int rd_width(const char *t, int style) {
  int tw;
  vz_text_size(t, 13, style, &tw, NULL);
  return tw;
}

static int rd_units(const rd_box *b, int y, const char *const *units, int n,
                    const char *sep, int style, vz_color c) {
  char line[512], cand[512];
  int yy = y, len = 0;
  line[0] = 0;
  for (int i = 0; i <= n; i++) {
    if (i < n) {
      if (!len) {
        snprintf(cand, sizeof cand, "%s%s", yy == y ? "" : "  ", units[i]);
      } else {
        snprintf(cand, sizeof cand, "%s%s%s", line, sep, units[i]);
      }
      if (!len || rd_width(cand, style) <= b->w) {
        snprintf(line, sizeof line, "%s", cand);
        len = (int)strlen(line);
        continue;
      }
    }
    if (!len) break;
    if (yy + b->lh > b->ymax) return yy - y;
    if (i < n && yy + 2 * b->lh > b->ymax) { /* the last row: say more follows */
      size_t l = strlen(line);
      snprintf(line + l, sizeof line - l, " …");
      while (rd_width(line, style) > b->w && l > 0) {
        line[--l] = 0; /* cut the unit short, keep the mark */
        snprintf(line + l, sizeof line - l, " …");
      }
    }
    vz_ellipsize(line, 13, style, b->w);
    vz_text(b->s, b->x, yy, line, 13, style, c, VZ_LEFT);
    yy += b->lh;
    len = 0;
    line[0] = 0;
    if (i < n) i--; /* this unit starts the next line */
  }
  return yy - y;
}

static int rd_line(const rd_box *b, int y, const char *t, int style,
                   vz_color c) {
  const char *u[1] = {t};
  return rd_units(b, y, u, 1, "", style, c);
}

static int draw_readout(vz_lab *lb, int x, int y, int w, int ymax) {
  vz_canvas *s = lb->surf;
  cp_lab *m = &lb->m;
  const rd_box b = {s, x, w, ymax, 17};
  char t[256];
  int C = (int)m->image.shape[0];
  static const char *const chn[4] = {"R", "G", "B", "A"};
  if (lb->v.hover_r < 0)
    return rd_line(&b, y, "hover the image for pixel values", 0, VZ_DIM);
  int r = lb->v.hover_r, c = lb->v.hover_c, yy = y;
  char ub[CP_LAB_MAXC + 1][48];
  const char *u[CP_LAB_MAXC + 1];
  if (lb->v.hover_before) {
    snprintf(ub[0], sizeof ub[0], "in [%d, %d]", r, c);
    u[0] = ub[0];
    for (int ch = 0; ch < C && ch < CP_LAB_MAXC; ch++) {
      int64_t idx[3] = {ch, r, c};
      snprintf(ub[ch + 1], sizeof ub[0], "%s %.4f", C == 1 ? "v" : chn[ch],
               *cp_tensor_ptr(&m->image, idx));
      u[ch + 1] = ub[ch + 1];
    }
    return rd_units(&b, yy, u, 1 + (C < CP_LAB_MAXC ? C : CP_LAB_MAXC), "  ", 0,
                    VZ_FG);
  }
  /* Output values of every channel. */
  snprintf(ub[0], sizeof ub[0], "out [%d, %d]", r, c);
  u[0] = ub[0];
  cp_lab_readout ro[CP_LAB_MAXC];
  for (int ch = 0; ch < C; ch++) {
    if (cp_lab_explain(m, ch, r, c, NULL, 0, &ro[ch], NULL)) return 0;
    snprintf(ub[ch + 1], sizeof ub[0], "%s %.4f", C == 1 ? "v" : chn[ch],
             ro[ch].value);
    u[ch + 1] = ub[ch + 1];
  }
  yy += rd_units(&b, yy, u, 1 + C, "  ", 0, VZ_FG);
  int len = snprintf(t, sizeof t, "shown (%s):", cp_signmap_name(m->p.map));
  for (int ch = 0; ch < C; ch++)
    len += snprintf(t + len, sizeof t - len, " %d",
                    (int)(ro[ch].mapped * 255 + 0.5));
  yy += rd_line(&b, yy, t, 0, VZ_DIM);
  /* The computation for one channel, spelled out. */
  int ch = lb->v.readout_ch < C ? lb->v.readout_ch : 0;
  cp_lab_tap taps[CP_LAB_MAXK * 3];
  cp_lab_readout one;
  if (cp_lab_explain(m, ch, r, c, taps, CP_LAB_MAXK * 3, &one, NULL)) return yy - y;
  char f[4][64];
  const char *fu[4];
  int nf;
  if (m->p.magnitude) {
    snprintf(f[0], sizeof f[0], "%s = sqrt(%.4f^2", chn[ch], one.sum);
    snprintf(f[1], sizeof f[1], "+ %.4f^2)", one.sum2);
    snprintf(f[2], sizeof f[2], "= %.4f", one.value);
    snprintf(f[3], sizeof f[3], "(k, k^T)");
    nf = 4;
  } else {
    snprintf(f[0], sizeof f[0], "%s = sum of %d taps w*x", C == 1 ? "v" : chn[ch],
             one.ntaps);
    snprintf(f[1], sizeof f[1], "= %.4f", one.sum);
    nf = 2;
  }
  for (int i = 0; i < nf; i++) fu[i] = f[i];
  yy += rd_units(&b, yy, fu, nf, " ", 1, VZ_ACCENT);
  int64_t kH = m->kernel.shape[0], kW = m->kernel.shape[1];
  if (kW <= 3 && kH <= 5 && one.ntaps <= CP_LAB_MAXK * 3) {
    /* Rows of "w*x" terms (the first input channel of the group). */
    for (int64_t i = 0; i < kH; i++) {
      char term[3][48];
      const char *tu[3];
      for (int64_t j = 0; j < kW; j++) {
        cp_lab_tap *tp = &taps[i * kW + j];
        char wv[16];
        vz_fmt(wv, sizeof wv, tp->w, 5);
        snprintf(term[j], sizeof term[j], "%s%s*%.3f%s", j ? "+ " : "  ", wv,
                 tp->x, tp->src_row < 0 ? "p" : "");
        tu[j] = term[j];
      }
      int h = rd_units(&b, yy, tu, (int)kW, " ", 0, VZ_FG);
      if (!h) return yy - y;
      yy += h;
    }
    if (m->p.full_mix && C > 1) {
      snprintf(t, sizeof t, "  + the same over %d more input channels", C - 1);
      yy += rd_line(&b, yy, t, 0, VZ_DIM);
    }
  } else {
    cp_lab_tap *t0 = &taps[0];
    char a[48], bb[48];
    snprintf(a, sizeof a, "first tap reads (row %lld, col %lld)",
             (long long)t0->row, (long long)t0->col);
    snprintf(bb, sizeof bb, "= padding 0");
    const char *au[2] = {a, bb};
    yy += rd_units(&b, yy, au, t0->src_row < 0 ? 2 : 1, " ", 0, VZ_DIM);
  }
  if (C > 1)
    yy += rd_line(&b, yy, "Tab: the next channel spelled out", 0, VZ_DIM);
  return yy - y;
}

/* A line of text shortened to w. */
static void fit_text(vz_canvas *s, int x, int y, int w, const char *text,
                     int px, int style, vz_color c, int align) {
  char t[PATH_MAX + 128];
  snprintf(t, sizeof t, "%s", text);
  vz_ellipsize(t, px, style, w);
  vz_text(s, x, y, t, px, style, c, align);
}

static int text_h(int px) {
  int h;
  vz_text_size("Ag", px, 0, NULL, &h);
  return h;
}

/* The panel, laid out for the frame's height: title, kernel, its line,
 * the settings, the presets (two or three columns), the readout, and the
 * compute status on a line of its own at the bottom.  When the height is
 * short the kernel shrinks first, the presets take three columns, and the
 * readout keeps what fits; nothing is drawn over anything else. */
static void draw_panel(vz_lab *lb) {
  vz_canvas *s = lb->surf;
  cp_lab *m = &lb->m;
  int x0 = s->w - LAB_PANEL_W, x = x0 + 12, w = LAB_PANEL_W - 24;
  vz_fill(s, x0, 0, LAB_PANEL_W, s->h, VZ_PANEL);
  int px = 13, lh = text_h(px) + 1;
  int bottom = s->h - lh - 6; /* the compute status's line */
  int y = 8;
  char t[PATH_MAX + 64];
  const char *base = strrchr(lb->path, '/');
  vz_text(s, x, y, "image lab", 16, VZ_BOLD | VZ_SANS, VZ_FG, VZ_LEFT);
  int tw;
  vz_text_size("image lab", 16, VZ_BOLD | VZ_SANS, &tw, NULL);
  snprintf(t, sizeof t, "%s", lb->path[0] ? (base ? base + 1 : lb->path)
                                          : "(tensor)");
  fit_text(s, x0 + LAB_PANEL_W - 12, y + 3, w - tw - 16, t, px, 0, VZ_DIM,
           VZ_RIGHT);
  y += text_h(16) + 8;
  /* what the rest needs below the kernel */
  int ncols_p = 2;
  int need = 2 * lh + 8 + LAB_NSETTINGS * lh + 6 + lh +
             (CP_PRESET_COUNT + 1) / 2 * lh + 8 + 2 * lh;
  int room = bottom - y - need;
  if (room < 3 * 20) { /* presets in three columns: two rows fewer */
    ncols_p = 3;
    room += (CP_PRESET_COUNT + 1) / 2 * lh - (CP_PRESET_COUNT + 2) / 3 * lh;
  }
  int kmax = room < 3 * 14 ? 3 * 14 : room > 200 ? 200 : room;
  int gh = draw_kernel(lb, x, y, w, kmax);
  y += gh + 6;
  snprintf(t, sizeof t, "kernel %lldx%lld  sum %.4g  preset %s",
           (long long)m->kernel.shape[0], (long long)m->kernel.shape[1],
           cp_tensor_sum(&m->kernel), cp_preset_name(m->preset));
  fit_text(s, x, y, w, t, px, 0, VZ_FG, VZ_LEFT);
  y += lh;
  if (lb->v.sel_i >= 0) {
    /* 1-based, as the status line and the Lua surface count */
    snprintf(t, sizeof t,
             lb->editing ? "cell (%d, %d): %s_   Enter sets, Esc cancels"
                         : "cell (%d, %d): type a value, wheel/Up/Down%s",
             lb->v.sel_i + 1, lb->v.sel_j + 1, lb->editing ? lb->entry : "");
    fit_text(s, x, y, w, t, px, 0, VZ_ACCENT, VZ_LEFT);
  } else {
    fit_text(s, x, y, w, "click a cell to edit it", px, 0, VZ_DIM, VZ_LEFT);
  }
  y += lh + 8;
  /* settings */
  int kw;
  vz_text_size("k/K", px, VZ_BOLD, &kw, NULL);
  for (int i = 0; i < LAB_NSETTINGS && y + lh <= bottom; i++) {
    char k[8], val[96];
    setting_text(lb, i, k, val, sizeof val);
    vz_text(s, x, y, k, px, VZ_BOLD, VZ_ACCENT, VZ_LEFT);
    fit_text(s, x + kw + 12, y, w - kw - 12, val, px, 0, VZ_FG, VZ_LEFT);
    add_hit(lb, x, y - 1, w, lh, LAB_HIT_SETTING, i, 0);
    y += lh;
  }
  y += 6;
  /* presets */
  static const char *const pkeys[CP_PRESET_COUNT] = {"1", "2", "3", "4", "5", "6",
                                                     "7", "8", "9", "0", "-", "="};
  if (y + 2 * lh <= bottom) {
    vz_text(s, x, y, "presets", px, VZ_BOLD, VZ_DIM, VZ_LEFT);
    y += lh;
    int rows = (CP_PRESET_COUNT + ncols_p - 1) / ncols_p, cw = w / ncols_p;
    int dw;
    vz_text_size("=", px, VZ_BOLD, &dw, NULL);
    for (int p = 0; p < CP_PRESET_COUNT; p++) {
      int col = p / rows, row = p % rows;
      int ppx = x + col * cw, py = y + row * lh;
      if (py + lh > bottom) continue;
      int cur = m->preset == p;
      if (cur) vz_fill(s, ppx - 3, py, cw - 4, lh, vz_mix(VZ_ACCENT, VZ_PANEL, 0.75f));
      vz_text(s, ppx, py, pkeys[p], px, VZ_BOLD,
              cur ? vz_contrast(vz_mix(VZ_ACCENT, VZ_PANEL, 0.75f)) : VZ_ACCENT,
              VZ_LEFT);
      fit_text(s, ppx + dw + 8, py, cw - dw - 14, cp_preset_name((cp_preset)p),
               px, cur ? VZ_BOLD : 0,
               cur ? vz_contrast(vz_mix(VZ_ACCENT, VZ_PANEL, 0.75f)) : VZ_FG,
               VZ_LEFT);
      add_hit(lb, ppx - 3, py, cw - 4, lh, LAB_HIT_PRESET, p, 0);
    }
    y += rows * lh + 8;
  }
  /* readout: what fits above the status line */
  if (y + lh <= bottom) {
    vz_fill(s, x0 + 6, y - 4, LAB_PANEL_W - 12, 1, VZ_GRIDLINE);
    vz_clip(s, x0, y, LAB_PANEL_W, bottom - y);
    draw_readout(lb, x, y, w, bottom);
    vz_unclip(s);
  }
  /* compute status at the bottom, on its own line */
  int by = bottom + 2;
  pthread_mutex_lock(&lb->mu);
  if (lb->out_err[0]) {
    fit_text(s, x, by, w, lb->out_err, px, 0, VZ_ERRC, VZ_LEFT);
  } else if (lb->out.st) {
    snprintf(t, sizeof t, "out %lldx%lldx%lld   compute %.1f ms",
             (long long)lb->out.shape[0], (long long)lb->out.shape[1],
             (long long)lb->out.shape[2], lb->out_ms);
    fit_text(s, x, by, w, t, px, 0, VZ_DIM, VZ_LEFT);
  }
  pthread_mutex_unlock(&lb->mu);
}

static void draw_status(vz_lab *lb) {
  vz_canvas *s = lb->surf;
  SDL_Rect vr = lab_view_rect(lb);
  int y = vr.y + vr.h;
  SDL_Rect clip = {0, y, vr.w, LAB_STATUS_H};
  vz_fill(s, 0, y, vr.w, LAB_STATUS_H, VZ_PANEL);
  vz_clip(s, clip.x, clip.y, clip.w, clip.h);
  char t[64];
  snprintf(t, sizeof t, "zoom %.2fx", lab_zoom(lb));
  int zw, zh, mw = 0, mh;
  vz_text_size(t, 13, 0, &zw, &zh);
  char msg[PATH_MAX + 64];
  snprintf(msg, sizeof msg, "%s",
           lb->msg[0] ? lb->msg
                      : "wheel zoom  drag pan  drag line split  click cell + "
                        "type  s save  ? help  q quit");
  int px = 13;
  vz_text_size(msg, px, 0, &mw, &mh);
  int room = vr.w - 16;
  if (8 + mw + 16 < vr.w - 8 - zw) /* the zoom only where the text leaves room */
    vz_text(s, vr.w - 8, y + 5, t, 13, 0, VZ_DIM, VZ_RIGHT);
  else
    vz_ellipsize(msg, px, 0, room);
  vz_text(s, 8, y + 5, msg, px, 0,
          lb->msg[0] ? (lb->msg_err ? VZ_ERRC : VZ_FG) : VZ_DIM, VZ_LEFT);
  vz_unclip(s);
}

static void draw_help(vz_lab *lb) {
  static const char *const lines[] = {
      "1..9 0 - =   presets (identity ... outline)",
      "click cell   select; type a number + Enter, wheel or Up/Down (+-0.1,",
      "             Shift 1, Ctrl 0.01); Left/Right move; Esc deselects",
      "k / K        kernel size +2 / -2      n  normalise",
      "r / R        stride + / -             d / D  dilation + / -",
      "a / A        padding + / - (same, 0, 1, ...)   e / E  padding mode",
      "c            correlation <-> true convolution (flip)",
      "m            per channel (depthwise) <-> full RGB mixing",
      "g / G        signed output: clamp, abs, offset (0 = grey)",
      "v / V        view: split, after, before    drag the line: split",
      "wheel        zoom at the mouse   drag: pan   z / Z zoom   f fit",
      "Tab          channel spelled out in the readout",
      "[ / ]        sigma (gaussian, unsharp) or angle (motion blur) - / +",
      "; / '        unsharp amount - / +",
      "s            save beside the input (new name)   drop a file: open",
      "? / h / F1   this help            q / Esc  quit",
  };
  vz_canvas *s = lb->surf;
  int n = (int)(sizeof lines / sizeof lines[0]);
  int w = 620, h = 40 + n * 20, x = (s->w - LAB_PANEL_W - w) / 2, y = 60;
  if (x < 4) x = 4;
  vz_fill(s, x, y, w, h, VZ_RGBA(0, 0, 0, 215));
  vz_frame(s, x, y, w, h, 1, VZ_ACCENT);
  vz_text(s, x + 14, y + 10, "image lab keys", 14, 1, VZ_ACCENT, VZ_LEFT);
  for (int i = 0; i < n; i++)
    vz_text(s, x + 14, y + 34 + i * 20, lines[i], 13, 0, VZ_FG, VZ_LEFT);
}

void lab_draw_frame(vz_lab *lb) {
  lb->nhits = 0;
  vz_clear(lb->surf, VZ_BG);
  draw_view(lb);
  draw_panel(lb);
  draw_status(lb);
  if (lb->show_help) draw_help(lb);
}
