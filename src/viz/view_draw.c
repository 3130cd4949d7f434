/* view_draw.c - one frame of a step-through view.
 *
 * Frame layout (any size, laid out for 1280 x 800):
 *   header   title, parameters, caption, step counter
 *   panels   input (with padding / zero-insertion canvas) | kernel | output
 *            (view_panels.c)
 *   bottom   the current unit's taps and running sum | formula, groups */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/view_priv.h"

/* ====================================================================== */
/* Bottom: the arithmetic of the current unit, formula, groups             */
/* ====================================================================== */

/* One tap as text; compact (two columns) uses shorter numbers. */
static void tap_text(const vz_view *v, const cp_tap *tp, char *buf,
                     size_t n, int compact) {
  char xs[64], ws[64], a[24], b[24], p[24];
  vz_fmt(a, sizeof a, tp->xv, compact ? 5 : 7);
  vz_fmt(b, sizeof b, tp->wv, compact ? 5 : 7);
  vz_fmt(p, sizeof p, tp->prod, compact ? 5 : 8);
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
    vz_fmt(sm, sizeof sm, tp->sum, compact ? 7 : 8);
    if (tp->kind == CP_TAP_CROPPED)
      snprintf(buf, n, "%s %s×%s = %s  cropped", os, a, b, p);
    else
      snprintf(buf, n, "%s += %s×%s = %s  → %s", os, a, b, p, sm);
    return;
  }
  char sm[24];
  vz_fmt(sm, sizeof sm, tp->sum, compact ? 6 : 9);
  snprintf(buf, n, compact ? "%s=%s × %s=%s = %s  Σ %s"
                           : "%s=%s × %s=%s = %s   Σ %s",
           xs, a, ws, b, p, sm);
}

static void draw_bottom(vz_canvas *s, vz_view *v, box b, int64_t done) {
  vz_fill(s, b.x, b.y, b.w, b.h, VZ_PANEL);
  const cp_geom *g = &v->g;
  int lx = b.x + 12, ly = b.y + 8;
  int split = b.x + b.w * (v->ok && v->t.ntaps > 8 ? 62 : 56) / 100;
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
      tap_text(v, &v->taps[k], line, sizeof line, ncols == 2);
      int is_cur = k == done - 1 && v->by_tap;
      vz_color c = k < done ? (is_cur ? VZ_ACCENT : VZ_FG) : VZ_DIM;
      if (k >= done) {
        /* not yet: show the factors only */
        char *sig = strstr(line, "  Σ");
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
    vz_color fc = strstr(line, "invalid") ? VZ_ERRC : VZ_FG;
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
             "groups=%lld: group %lld reads in %lld-%lld, writes out "
             "%lld-%lld",
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
    int64_t rows = (g->H - 1) * g->p.stride[0] +
                   g->p.dilation[0] * (g->kH - 1) + 1;
    int64_t bot = g->p.pad[1] - g->p.out_pad[0];
    snprintf(line, sizeof line, "canvas: (H-1)s+d(k-1)+1 = %lld rows",
             (long long)rows);
    vz_text(s, rx, ry, line, 12, 0, VZ_FG, VZ_LEFT);
    if (bot >= 0)
      snprintf(line, sizeof line, "cropped: p=%lld rows top, p-op=%lld bottom",
               (long long)g->p.pad[0], (long long)bot);
    else
      snprintf(line, sizeof line,
               "cropped: p=%lld rows top; op > p adds %lld bias-only row(s)",
               (long long)g->p.pad[0], (long long)-bot);
    vz_text(s, rx, ry + 17, line, 12, 0, VZ_FG, VZ_LEFT);
    vz_text(s, rx, ry + 34, "dim cells: no product has landed there yet", 12,
            0, VZ_DIM, VZ_LEFT);
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

static void draw_header(vz_canvas *s, vz_view *v) {
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

static void draw_lines_box(vz_canvas *s, int x, int y, int w, int h,
                           const char *text, int px, vz_color c,
                           vz_color bg) {
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
static void draw_help(vz_canvas *s) {
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

void vz_view_draw(vz_view *v, vz_canvas *s) {
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
  vzp_input_panel(s, v, bin, done);
  vzp_kernel_panel(s, v, bk, done);
  vzp_output_panel(s, v, bout, done);
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

