/* view_pool.c - what a pooling view (max_pool2d, avg_pool2d) says and
 * draws differently from a convolution: the window instead of a kernel,
 * padding that reads -inf (max) or is counted or not (avg), ceil_mode's
 * extra window and the rule that drops it, the argmax and the indices
 * return_indices gives.  Every index comes from the trace and geometry.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/view_priv.h"

#define NEG_INF "−∞"

const char *vz_pool_name(const vz_view *v) {
  if (v->pool == VZ_POOL_UNPOOL) return "max_unpool2d";
  if (v->dims1) return v->pool == VZ_POOL_MAX ? "max_pool1d" : "avg_pool1d";
  return v->pool == VZ_POOL_MAX ? "max_pool2d" : "avg_pool2d";
}

void vz_pool_params(const vz_view *v, cp_pool_params *p) {
  *p = v->preq;
  if (v->pool == VZ_POOL_UNPOOL) return; /* fixed by the indices */
  for (int d = 0; d < 2; d++) {
    p->stride[d] = v->req.stride[d];
    p->pad[d] = v->req.pad[2 * d];
    p->dilation[d] = v->pool == VZ_POOL_AVG ? 1 : v->req.dilation[d];
  }
}

static cp_pool_kind kind_of(const vz_view *v) {
  return v->pool == VZ_POOL_MAX ? CP_POOL_MAX : CP_POOL_AVG;
}

/* max_unpool2d: the indices (checked by cp_max_unpool2d in the binding)
 * beside x, the output size, and the source map. */
static int unpool_setup(vz_view *v, const vz_view_init *in, cp_err *e) {
  v->preq = in->pp;
  v->unpool_hw[0] = in->out_hw[0];
  v->unpool_hw[1] = in->out_hw[1];
  cp_conv_params_default(&v->req);
  v->req.groups = v->x.shape[1];
  cp_tensor i4;
  memset(&i4, 0, sizeof i4);
  int rc = in->ind->ndim == 3 ? cp_tensor_unsqueeze(&i4, in->ind, 0, e)
                              : (cp_tensor_share(&i4, in->ind), 0);
  if (rc) return -1;
  rc = cp_tensor_contiguous(&v->ind, &i4, e);
  cp_tensor_release(&i4);
  if (rc) return -1;
  for (int d = 0; d < 4; d++)
    if (v->ind.shape[d] != v->x.shape[d])
      return cp_fail(e, "indices: expected the input's shape");
  const int64_t *s = v->x.shape;
  double cells = (double)s[0] * (double)s[1] * (double)v->unpool_hw[0] *
                 (double)v->unpool_hw[1];
  if (cells > 4.0 * 1024 * 1024)
    return cp_fail(e, "view: too large to step through (an output of %.0f "
                      "cells); look at a crop (tensor:narrow)",
                   cells);
  v->unpool_src = malloc(sizeof *v->unpool_src * (size_t)(cells > 0 ? cells : 1));
  if (!v->unpool_src) return cp_fail(e, "view: out of memory");
  cp_unpool_sources(s[0], s[1], s[2], s[3], v->unpool_hw[0], v->unpool_hw[1],
                    cp_tensor_data(&v->ind), v->unpool_src);
  int64_t ws[4] = {s[1], 1, 1, 1};
  return cp_tensor_full(&v->w, 4, ws, 1.0f, e);
}

int vz_pool_setup(vz_view *v, const vz_view_init *in, cp_err *e) {
  v->pool = in->pool;
  if (v->pool == VZ_POOL_UNPOOL) return unpool_setup(v, in, e);
  v->preq = in->pp;
  v->ret_idx = in->ret_idx && in->pool == VZ_POOL_MAX;
  cp_conv_params_default(&v->req);
  for (int d = 0; d < 2; d++) {
    v->req.stride[d] = in->pp.stride[d];
    v->req.pad[2 * d] = v->req.pad[2 * d + 1] = in->pp.pad[d];
    v->req.dilation[d] = in->pp.dilation[d];
  }
  v->req.groups = v->x.shape[1];
  /* PyTorch's checks first, so a bad call reads as conv.max_pool2d's */
  cp_pool_geom pg;
  cp_pool_params p;
  vz_pool_params(v, &p);
  if (cp_pool_geom_init(&pg, &p, kind_of(v), 4, v->x.shape, e)) return -1;
  if ((double)p.kernel[0] * (double)p.kernel[1] > 65536)
    return cp_fail(e, "view: too large to step through (a window of "
                      "%lld x %lld cells)",
                   (long long)p.kernel[0], (long long)p.kernel[1]);
  int64_t ws[4] = {v->x.shape[1], 1, p.kernel[0], p.kernel[1]};
  return cp_tensor_full(&v->w, 4, ws, 1.0f, e);
}

int vz_pool_trace(vz_view *v, cp_err *e) {
  if (v->pool == VZ_POOL_UNPOOL) {
    const int64_t *s = v->x.shape;
    if (cp_trace_init_unpool(&v->t, s[0], s[1], s[2], s[3], v->unpool_hw[0],
                             v->unpool_hw[1], cp_tensor_data(&v->x),
                             v->unpool_src, e))
      return -1;
    v->g = v->t.g;
    return 0;
  }
  cp_pool_params p;
  vz_pool_params(v, &p);
  cp_pool_geom pg;
  if (cp_pool_geom_init(&pg, &p, kind_of(v), 4, v->x.shape, e)) return -1;
  if ((double)pg.N * (double)pg.C * (double)pg.OH * (double)pg.OW >
      4.0 * 1024 * 1024)
    return cp_fail(e, "view: too large to step through (an output of "
                      "%lld x %lld x %lld x %lld cells); look at a crop "
                      "(tensor:narrow) or fewer channels",
                   (long long)pg.N, (long long)pg.C, (long long)pg.OH,
                   (long long)pg.OW);
  if (cp_trace_init_pool(&v->t, &pg, cp_tensor_data(&v->x), e)) return -1;
  v->g = v->t.g;
  return 0;
}

int vz_pool_key(vz_view *v, const char *key, int shift) {
  if (v->pool == VZ_POOL_UNPOOL &&
      (!strcmp(key, "s") || !strcmp(key, "p") || !strcmp(key, "d") ||
       !strcmp(key, "e") || !strcmp(key, "i") || !strcmp(key, "m") ||
       !strcmp(key, "f") || !strcmp(key, "o") || !strcmp(key, "v"))) {
    vz_view_status(v, "%s: the indices fix max_unpool2d's output; change "
                      "the max_pool2d that made them", key);
    return 0;
  }
  if (!strcmp(key, "e")) {
    v->preq.ceil_mode = !v->preq.ceil_mode;
    vz_view_rebuild(v);
    return 1;
  }
  if (!strcmp(key, "i")) {
    if (v->pool != VZ_POOL_AVG) {
      vz_view_status(v, "i: count_include_pad belongs to avg pooling "
                        "(max pooling's padding reads -inf)");
      return 0;
    }
    v->preq.count_include_pad = !v->preq.count_include_pad;
    vz_view_rebuild(v);
    return 1;
  }
  if (!strcmp(key, "d") && v->pool == VZ_POOL_AVG) {
    vz_view_status(v, "d: avg pooling has no dilation");
    return 0;
  }
  if (!strcmp(key, "m") || !strcmp(key, "f") || !strcmp(key, "o") ||
      !strcmp(key, "v") || !strcmp(key, "k")) {
    vz_view_status(v, "%s: not a pooling parameter (pooling keys: s p d e%s)",
                   key, v->pool == VZ_POOL_AVG ? " i" : "");
    return 0;
  }
  return -1;
}

void vz_pool_formula(const vz_view *v, int dim, char *buf, size_t n) {
  cp_pool_params p;
  vz_pool_params(v, &p);
  if (v->pool == VZ_POOL_UNPOOL) {
    const char *H = dim ? "W" : "H";
    int64_t in = v->x.shape[2 + dim], s = p.stride[dim];
    int64_t def = (in - 1) * s - 2 * p.pad[dim] + p.kernel[dim];
    int o = snprintf(buf, n, "%s_out = (%s-1)·s - 2p + k = (%lld-1)·%lld - "
                             "2·%lld + %lld = %lld",
                     H, H, (long long)in, (long long)s,
                     (long long)p.pad[dim], (long long)p.kernel[dim],
                     (long long)def);
    if (v->unpool_hw[dim] != def && o > 0 && (size_t)o < n)
      snprintf(buf + o, n - (size_t)o, "; output_size gives %lld",
               (long long)v->unpool_hw[dim]);
    return;
  }
  int64_t in = v->x.shape[2 + dim], k = p.kernel[dim], s = p.stride[dim];
  int64_t pd = p.pad[dim], d = p.dilation[dim];
  const char *H = v->dims1 ? "L" : dim ? "W" : "H";
  if (s < 1) s = 1;
  int64_t raw = cp_pool_out_len_raw(in, k, s, pd, d, p.ceil_mode);
  int64_t out = cp_pool_out_len(in, k, s, pd, d, p.ceil_mode);
  int bad = out < 1 || pd < 0 || pd > k / 2;
  const char *lo = p.ceil_mode ? "⌈" : "⌊", *hi = p.ceil_mode ? "⌉" : "⌋";
  int o = snprintf(buf, n,
                   "%s_out = %s(%s + 2p - d·(k-1) - 1)/s%s + 1 = %s(%lld + "
                   "2·%lld - %lld·(%lld-1) - 1)/%lld%s + 1 = %lld",
                   H, lo, H, hi, lo, (long long)in, (long long)pd,
                   (long long)d, (long long)k, (long long)s, hi,
                   (long long)raw);
  if (o < 0 || (size_t)o >= n) return;
  if (out != raw)
    o += snprintf(buf + o, n - (size_t)o,
                  " - 1 = %lld (the last window starts in the padding: "
                  "dropped)",
                  (long long)out);
  if (bad && o >= 0 && (size_t)o < n)
    snprintf(buf + o, n - (size_t)o, "  (invalid)");
}

/* ====================================================================== */
/* The bottom: taps, headline, result, notes                               */
/* ====================================================================== */

void vzp_pool_tap_text(const vz_view *v, const cp_tap *tp, char *buf,
                       size_t n, int compact, int done) {
  char xs[64], a[24], sm[24];
  if (v->pool == VZ_POOL_UNPOOL) {
    if (tp->kind != CP_TAP_INPUT) {
      snprintf(buf, n, "no index names this cell: it stays 0");
      return;
    }
    vidx(v, xs, sizeof xs, "x", tp->in);
    vz_fmt(a, sizeof a, tp->xv, compact ? 6 : 8);
    snprintf(buf, n, "%s = %s, its index %lld", xs, a,
             (long long)(tp->out[2] * v->g.OW + tp->out[3]));
    return;
  }
  int is_max = v->pool == VZ_POOL_MAX;
  vz_fmt(a, sizeof a, tp->xv, compact ? 6 : 8);
  vz_fmt(sm, sizeof sm, tp->sum, compact ? 7 : 9);
  if (isinf(tp->sum) && tp->sum < 0) snprintf(sm, sizeof sm, NEG_INF);
  if (tp->kind == CP_TAP_BEYOND) {
    snprintf(buf, n, "past the padding: %s",
             is_max ? "not read" : "not read, not counted");
    return;
  }
  if (tp->kind == CP_TAP_PAD) {
    snprintf(xs, sizeof xs, "pad");
    snprintf(a, sizeof a, "%s", is_max ? NEG_INF : "0");
  } else {
    vidx(v, xs, sizeof xs, "x", tp->in);
  }
  const char *acc = is_max ? "max" : "Σ";
  if (compact && !done) snprintf(buf, n, "%s", a);
  else if (compact) snprintf(buf, n, "%s   %s %s", a, acc, sm);
  else if (!done) snprintf(buf, n, "%s = %s", xs, a);
  else if (tp->kind == CP_TAP_PAD && !is_max && !v->preq.count_include_pad)
    snprintf(buf, n, "%s = 0 (not counted)   Σ %s", xs, sm);
  else
    snprintf(buf, n, "%s = %s   %s %s", xs, a, acc, sm);
}

void vzp_pool_headline(const vz_view *v, char *line, size_t n) {
  char y[64];
  vidx(v, y, sizeof y, "y", v->info.idx);
  if (v->pool == VZ_POOL_UNPOOL) {
    snprintf(line, n, "%s gets the x whose index is (%lld-1)·%lld + (%lld-1) "
                      "= %lld, or 0",
             y, (long long)v->info.idx[2] + 1, (long long)v->g.OW,
             (long long)v->info.idx[3] + 1, (long long)v->info.argmax);
    return;
  }
  const cp_pool_params *p = &v->t.pg.p;
  if (v->pool == VZ_POOL_MAX) {
    char dil[48] = "";
    if (v->dims1 && p->dilation[1] > 1)
      snprintf(dil, sizeof dil, ", dilation %lld", (long long)p->dilation[1]);
    else if (!v->dims1 && (p->dilation[0] > 1 || p->dilation[1] > 1))
      snprintf(dil, sizeof dil, ", dilation %lld,%lld",
               (long long)p->dilation[0], (long long)p->dilation[1]);
    char win[48];
    if (v->dims1)
      snprintf(win, sizeof win, "%lld", (long long)p->kernel[1]);
    else
      snprintf(win, sizeof win, "%lldx%lld", (long long)p->kernel[0],
               (long long)p->kernel[1]);
    snprintf(line, n, "%s = max over the %s window%s (padding reads %s)", y,
             win, dil, NEG_INF);
    return;
  }
  const char *why = p->divisor_override ? "divisor_override"
                    : p->count_include_pad
                        ? "cells in input + padding (count_include_pad)"
                        : "cells inside the input (count_include_pad off)";
  snprintf(line, n, "%s = Σ x / %lld  (%s)", y, (long long)v->info.divisor,
           why);
}

void vzp_pool_result(vz_view *v, int64_t done, char *line, size_t n) {
  char y[64], val[32], at[64];
  vidx(v, y, sizeof y, "y", v->info.idx);
  if (v->pool == VZ_POOL_UNPOOL) {
    const cp_tap *tp = &v->taps[0];
    vz_fmt(val, sizeof val, v->info.value, 10);
    if (tp->kind == CP_TAP_INPUT) {
      vidx(v, at, sizeof at, "x", tp->in);
      snprintf(line, n, "%s = %s  ← %s", y, val, at);
    } else {
      snprintf(line, n, "%s = 0  (no maximum came from here)", y);
    }
    return;
  }
  int64_t nt = v->t.ntaps;
  const cp_tap *last = done > 0 ? &v->taps[done - 1] : NULL;
  if (v->pool == VZ_POOL_MAX) {
    int64_t arg = last ? last->arg : v->info.argmax;
    int64_t W = v->g.W, h = arg / W, w = arg % W;
    int64_t in4[4] = {v->info.idx[0], v->info.idx[1], h, w};
    vidx(v, at, sizeof at, "x", in4);
    vz_fmt(val, sizeof val, last ? last->sum : v->info.value, 10);
    if (isinf(last ? last->sum : v->info.value) && done < nt && !(last && last->sum > 0)) {
      snprintf(line, n, "running max after %lld of %lld cells: %s (no "
                        "input cell yet)",
               (long long)done, (long long)nt, NEG_INF);
      return;
    }
    if (done < nt)
      snprintf(line, n, "running max after %lld of %lld cells: %s at %s",
               (long long)done, (long long)nt, val, at);
    else
      snprintf(line, n, "%s = %s, argmax %s → indices = %lld (%s, "
                        "0-based)",
               y, val, at, (long long)v->info.argmax,
               v->dims1 ? "t" : "h·W + w");
    return;
  }
  vz_fmt(val, sizeof val, last ? last->sum : 0, 10);
  if (done < nt) {
    snprintf(line, n, "running sum after %lld of %lld cells: %s",
             (long long)done, (long long)nt, val);
  } else {
    char r[32];
    vz_fmt(r, sizeof r, v->info.value, 10);
    snprintf(line, n, "%s = %s / %lld = %s", y, val,
             (long long)v->info.divisor, r);
  }
}

int vzp_pool_notes(vz_canvas *s, vz_view *v, box b, int y) {
  int fs = v->fsm, end = b.y + b.h;
  char line[400];
  if (v->pool == VZ_POOL_UNPOOL) {
    const char *u[] = {
        "max_unpool2d writes each x into a zero output at its index (h·W_out "
        "+ w, 0-based, as max_pool2d's return_indices); where two indices "
        "agree the later x wins",
        "cells no index names stay 0: only the maxima come back"};
    for (int i = 0; i < 2 && y + line_hpx(fs) <= end; i++)
      y += vz_para(s, b.x, y, b.w, end - y, u[i], fs, 0,
                   i == 0 ? VZ_FG : VZ_DIM) + 2;
    return y;
  }
  const cp_pool_params *p = &v->t.pg.p;
  const char *notes[4];
  int nn = 0;
  if (v->pool == VZ_POOL_MAX) {
    notes[nn++] = "padding reads " NEG_INF ": it never wins the max";
    if (v->ret_idx)
      notes[nn++] = "return_indices: the argmax's flat index h·W + w in its "
                    "plane, 0-based (as PyTorch and conv.max_pool2d)";
  } else if (p->divisor_override) {
    snprintf(line, sizeof line, "divisor_override = %lld divides every sum",
             (long long)p->divisor_override);
  } else {
    notes[nn++] = p->count_include_pad
                      ? "count_include_pad: padding cells count in the "
                        "divisor (i toggles)"
                      : "count_include_pad off: only input cells count in "
                        "the divisor (i toggles)";
  }
  if (p->ceil_mode)
    notes[nn++] = "ceil_mode: a last window covers the leftover input; a "
                  "window that would start in the right padding is dropped "
                  "(e toggles)";
  if (v->pool == VZ_POOL_AVG && p->divisor_override && nn < 4)
    notes[nn++] = line;
  for (int i = 0; i < nn && y + line_hpx(fs) <= end; i++)
    y += vz_para(s, b.x, y, b.w, end - y, notes[i], fs, 0,
                 i == 0 ? VZ_FG : VZ_DIM) + 2;
  return y;
}

/* ====================================================================== */
/* Panels                                                                  */
/* ====================================================================== */

const char *vzp_pool_pad_note(const vz_view *v) {
  if (v->pool == VZ_POOL_UNPOOL) return "the pooled maxima";
  const cp_pool_params *p = &v->t.pg.p;
  int padded = p->pad[0] || p->pad[1];
  int beyond = v->g.p.pad[1] > p->pad[0] || v->g.p.pad[3] > p->pad[1];
  if (v->pool == VZ_POOL_MAX)
    return padded ? "padding reads " NEG_INF : beyond ? "ceil_mode window"
                                                      : NULL;
  if (!padded) return beyond ? "ceil_mode window" : NULL;
  return p->count_include_pad ? "zero padding, counted"
                              : "zero padding, not counted";
}

void vzp_pool_outside_cell(vz_canvas *s, const vz_view *v, int64_t r,
                           int64_t c, int x, int y, int cs) {
  const cp_pool_geom *g = &v->t.pg;
  int past = cp_pool_where(g, 0, r) == 2 || cp_pool_where(g, 1, c) == 2;
  if (past) { /* only a ceil_mode window reaches here: nothing is read */
    vz_fill(s, x, y, cs - 1, cs - 1, VZ_BG);
    if (cs >= 8) vz_dashed(s, x, y, cs - 1, cs - 1, 2, VZ_GRIDLINE);
    return;
  }
  const char *t = v->pool == VZ_POOL_MAX ? NEG_INF : "0";
  paint_cell(s, x, y, cs, vz_th->pad, t, 0);
  if (cs >= 8) vz_dashed(s, x, y, cs - 1, cs - 1, cs >= 24 ? 3 : 2, VZ_DIM);
}

/* ceil_mode's dropped window (one that would start in the right
 * padding), beside the current one: dashed in the error colour. */
static void dropped_window(vz_canvas *s, vz_view *v) {
  const cp_pool_geom *g = &v->t.pg;
  const cp_pool_params *p = &g->p;
  if (!p->ceil_mode) return;
  int64_t out[2] = {g->OH, g->OW}, n[2] = {g->H, g->W};
  for (int d = 0; d < 2; d++) {
    int64_t raw = cp_pool_out_len_raw(n[d], p->kernel[d], p->stride[d],
                                      p->pad[d], p->dilation[d], 1);
    if (raw <= out[d]) continue;
    /* the window index out[d] in dimension d, the current one in the
     * other; its cells span start .. start + d(k-1) */
    int64_t r0 = d == 0 ? cp_pool_in_row(g, out[0], 0)
                        : cp_pool_in_row(g, v->info.idx[2], 0);
    int64_t c0 = d == 1 ? cp_pool_in_col(g, out[1], 0)
                        : cp_pool_in_col(g, v->info.idx[3], 0);
    int64_t rows = p->dilation[0] * (p->kernel[0] - 1) + 1;
    int64_t cols = p->dilation[1] * (p->kernel[1] - 1) + 1;
    for (int i = 0; i < v->hit.nin; i++) {
      vz_grid *gr = &v->hit.gin[i];
      if (gr->ch != v->info.idx[1]) continue;
      /* only what the grid covers */
      int64_t a0 = r0 > gr->r0 ? r0 : gr->r0, b0 = c0 > gr->c0 ? c0 : gr->c0;
      int64_t a1 = r0 + rows < gr->r0 + gr->rows ? r0 + rows
                                                 : gr->r0 + gr->rows;
      int64_t b1 = c0 + cols < gr->c0 + gr->cols ? c0 + cols
                                                 : gr->c0 + gr->cols;
      if (a1 <= a0 || b1 <= b0) continue;
      int x, y;
      cell_rect(gr, a0, b0, &x, &y);
      for (int t = 0; t < 2; t++) /* two lines: as thick as a footprint */
        vz_dashed(s, x + 2 + t, y + 2 + t, (int)((b1 - b0) * gr->cs) - 5 - 2 * t,
                  (int)((a1 - a0) * gr->cs) - 5 - 2 * t, 5, VZ_ERRC);
    }
  }
}

void vzp_pool_input_marks(vz_canvas *s, vz_view *v, int64_t done) {
  if (v->ok) dropped_window(s, v);
  if (v->pool != VZ_POOL_MAX || done < 1 || !v->ok) return;
  const cp_tap *last = &v->taps[done - 1];
  /* no input cell read yet: no argmax to show */
  int any = 0;
  for (int64_t k = 0; k < done; k++) any |= v->taps[k].kind == CP_TAP_INPUT;
  if (!any) return;
  int64_t W = v->g.W, h = last->arg / W, w = last->arg % W;
  for (int i = 0; i < v->hit.nin; i++) {
    vz_grid *gr = &v->hit.gin[i];
    if (gr->ch != v->info.idx[1]) continue;
    int t = gr->cs >= 30 ? 4 : 2;
    mark(s, gr, h, w, t, VZ_ACCENT2);
  }
}

/* The indices grid (return_indices) is drawn under the window when the
 * output plane is small enough to read. */
static int shows_indices(const vz_view *v) {
  return v->ret_idx && v->ok && v->g.OH * v->g.OW <= 1024;
}

void vzp_window_extent(const vz_view *v, vzp_extent *e) {
  memset(e, 0, sizeof *e);
  if (v->pool == VZ_POOL_UNPOOL) {
    e->rows = v->x.shape[2];
    e->cols = v->x.shape[3];
    e->tiles = 1;
    e->label_h = line_hpx(v->fsm) + 2;
    e->fixed_h = v->lh + 4 + line_hpx(v->fsm) + 2 + 8;
    e->max_cs = max_cell(v);
    vz_text_size("indices (0-based)", v->fs, VZ_BOLD, &e->title_w, NULL);
    return;
  }
  e->rows = v->t.pg.p.kernel[0] > 0 ? v->t.pg.p.kernel[0] : v->preq.kernel[0];
  e->cols = v->t.pg.p.kernel[1] > 0 ? v->t.pg.p.kernel[1] : v->preq.kernel[1];
  if (shows_indices(v)) {
    e->rows += v->g.OH;
    if (v->g.OW > e->cols) e->cols = v->g.OW;
  }
  e->tiles = 1;
  e->label_h = line_hpx(v->fsm) + 2;
  e->fixed_h = v->lh + 4 + 2 * (line_hpx(v->fsm) + 2) + 8;
  e->max_cs = max_cell(v);
  char t[64];
  snprintf(t, sizeof t, "window %lldx%lld", (long long)e->rows,
           (long long)e->cols);
  vz_text_size(t, v->fs, VZ_BOLD, &e->title_w, NULL);
}

/* return_indices for the current plane: each computed output's argmax as
 * PyTorch's flat index h*W + w (0-based); cells still to come are blank. */
static void indices_grid(vz_canvas *s, vz_view *v, box b, int y, int cs,
                         int64_t done) {
  int lhs = line_hpx(v->fsm) + 2;
  if (y + lhs > b.y + b.h) return;
  char lab[96];
  snprintf(lab, sizeof lab, "%s", v->dims1 ? "indices (0-based t)"
                                           : "indices (0-based h·W + w)");
  vz_ellipsize(lab, v->fsm, 0, b.w);
  vz_text(s, b.x, y, lab, v->fsm, 0, VZ_FG, VZ_LEFT);
  y += lhs;
  cp_tap *tmp = malloc(sizeof *tmp * (size_t)v->t.ntaps);
  if (!tmp) return;
  vz_clip(s, b.x, y, b.w, b.y + b.h - y);
  int64_t o4[4] = {v->info.idx[0], v->info.idx[1], 0, 0};
  char val[32];
  for (int64_t r = 0; r < v->g.OH; r++)
    for (int64_t c = 0; c < v->g.OW; c++) {
      o4[2] = r, o4[3] = c;
      int64_t u = cp_trace_unit_of(&v->t, o4);
      int x = b.x + v->panx + (int)(c * cs), yy = y + v->pany + (int)(r * cs);
      if (u > v->cur_unit) {
        vz_fill(s, x, yy, cs - 1, cs - 1, vz_th->pending);
        continue;
      }
      /* the current cell: its running argmax, as the output shows its
       * running maximum */
      int64_t arg;
      if (u == v->cur_unit && done > 0) {
        arg = v->taps[done - 1].arg;
      } else {
        cp_unit info;
        cp_trace_unit(&v->t, u, NULL, tmp, &info);
        arg = info.argmax;
      }
      snprintf(val, sizeof val, "%lld", (long long)arg);
      if (!value_px(cs)) val[0] = 0;
      paint_cell(s, x, yy, cs, VZ_PANEL, val, 0);
      if (u == v->cur_unit) vz_frame(s, x, yy, cs - 1, cs - 1, 2, VZ_ACCENT2);
    }
  vz_unclip(s);
  free(tmp);
}

/* The panel's one grid (v->hit.gk[0]) of rows x cols cells at y: the cell size
 * that fits fit_rows x fit_cols cells in the width and the height left
 * (less `below` pixels), capped and zoomed as the other panels. */
static vz_grid *place_grid(vz_view *v, box b, int y, int64_t rows,
                           int64_t cols, int64_t fit_rows, int64_t fit_cols,
                           int below) {
  int avail = b.y + b.h - y - below;
  int cw = (int)(b.w / (fit_cols > 0 ? fit_cols : 1));
  int ch = (int)(avail / (fit_rows > 0 ? fit_rows : 1));
  int cs = cw < ch ? cw : ch;
  if (cs > max_cell(v)) cs = max_cell(v);
  cs = (int)(cs * v->zoom);
  if (cs < 1) cs = 1;
  vz_grid *gr = &v->hit.gk[0];
  v->hit.nk = 1;
  gr->x = b.x + v->panx;
  gr->y = y + v->pany;
  gr->cs = cs;
  gr->r0 = gr->c0 = 0;
  gr->rows = rows;
  gr->cols = cols;
  gr->ch = v->info.idx[1];
  gr->ch2 = 0;
  gr->used = 1;
  return gr;
}

/* max_unpool2d: the indices of the current plane, the one that names the
 * current output cell outlined. */
static void unpool_indices_panel(vz_canvas *s, vz_view *v, box b) {
  char t[64];
  snprintf(t, sizeof t, "indices (0-based)");
  vz_ellipsize(t, v->fs, VZ_BOLD, b.w);
  vz_text(s, b.x, b.y, t, v->fs, VZ_BOLD, VZ_FG, VZ_LEFT);
  vz_panel_box(s, "panel", b.x, b.y, b.w, b.h);
  int lhs = line_hpx(v->fsm) + 2, y = b.y + v->lh + 4;
  char lab[64];
  snprintf(lab, sizeof lab, "where each x goes: h·%lld + w", (long long)v->g.OW);
  vz_ellipsize(lab, v->fsm, 0, b.w);
  vz_text(s, b.x, y, lab, v->fsm, 0, VZ_FG, VZ_LEFT);
  y += lhs;
  int64_t H = v->x.shape[2], W = v->x.shape[3];
  vz_grid *gr = place_grid(v, b, y, H, W, H, W, 4);
  int cs = gr->cs;
  vz_clip(s, b.x, y, b.w, b.y + b.h - y);
  const float *ind = cp_tensor_data(&v->ind);
  char val[32];
  for (int64_t h = 0; h < H; h++)
    for (int64_t w = 0; w < W; w++) {
      int x, yy;
      cell_rect(gr, h, w, &x, &yy);
      float iv = ind[cp_off4(v->ind.shape, v->info.idx[0], v->info.idx[1], h, w)];
      snprintf(val, sizeof val, "%lld", (long long)iv);
      if (!value_px(cs)) val[0] = 0;
      int hit = (int64_t)iv == v->info.argmax;
      paint_cell(s, x, yy, cs, hit ? vz_mix(VZ_ACCENT2, VZ_PANEL, 0.6f)
                                   : VZ_PANEL, val, 0);
    }
  const cp_tap *tp = &v->taps[0];
  if (tp->kind == CP_TAP_INPUT)
    mark(s, gr, tp->pos[0], tp->pos[1], cs >= 30 ? 3 : 2, VZ_ACCENT);
  vz_unclip(s);
}

void vzp_window_panel(vz_canvas *s, vz_view *v, box b, int64_t done) {
  if (v->pool == VZ_POOL_UNPOOL) {
    unpool_indices_panel(s, v, b);
    return;
  }
  const cp_pool_params *p = &v->t.pg.p;
  int64_t kH = p->kernel[0], kW = p->kernel[1];
  char t[96], sub[96];
  if (v->dims1) snprintf(t, sizeof t, "window %lld", (long long)kW);
  else snprintf(t, sizeof t, "window %lldx%lld", (long long)kH, (long long)kW);
  snprintf(sub, sizeof sub, "no weights: the %s",
           v->pool == VZ_POOL_MAX ? "max" : "mean");
  char buf[160];
  snprintf(buf, sizeof buf, "%s", t);
  vz_ellipsize(buf, v->fs, VZ_BOLD, b.w);
  int tw = vz_text(s, b.x, b.y, buf, v->fs, VZ_BOLD, VZ_FG, VZ_LEFT);
  vz_panel_box(s, "panel", b.x, b.y, b.w, b.h);
  int sw;
  vz_text_size(sub, v->fsm, 0, &sw, NULL);
  int y = b.y + v->lh + 4, lhs = line_hpx(v->fsm) + 2;
  if (tw + v->fs + sw <= b.w) {
    vz_text(s, b.x + tw + v->fs, b.y + (v->lh - line_hpx(v->fsm)) / 2, sub,
            v->fsm, 0, VZ_DIM, VZ_LEFT);
  } else {
    vz_ellipsize(sub, v->fsm, 0, b.w);
    vz_text(s, b.x, y, sub, v->fsm, 0, VZ_DIM, VZ_LEFT);
    y += lhs;
  }
  /* what the current window reads: the value at each of its cells */
  char lab[96];
  if (v->dims1 && p->dilation[1] > 1)
    snprintf(lab, sizeof lab, "cells %lld apart (dilation)",
             (long long)p->dilation[1]);
  else if (!v->dims1 && (p->dilation[0] > 1 || p->dilation[1] > 1))
    snprintf(lab, sizeof lab, "cells %lld,%lld apart (dilation)",
             (long long)p->dilation[0], (long long)p->dilation[1]);
  else
    snprintf(lab, sizeof lab, "over y[%lld,%lld,%lld,%lld]",
             (long long)v->info.idx[0] + 1, (long long)v->info.idx[1] + 1,
             (long long)v->info.idx[2] + 1, (long long)v->info.idx[3] + 1);
  vz_ellipsize(lab, v->fsm, 0, b.w);
  vz_text(s, b.x, y, lab, v->fsm, 0, VZ_FG, VZ_LEFT);
  y += lhs;
  /* the window and, under it, the indices grid at the same cell size */
  int idx = shows_indices(v);
  int64_t rows = kH + (idx ? v->g.OH : 0), cols = kW;
  if (idx && v->g.OW > cols) cols = v->g.OW;
  vz_grid *gr = place_grid(v, b, y, kH, kW, rows, cols,
                           4 + (idx ? lhs + 8 : 0));
  int cs = gr->cs;
  vz_clip(s, b.x, y, b.w, b.y + b.h - y);
  int64_t arg = done > 0 ? v->taps[done - 1].arg : -1;
  int64_t argk = -1;
  for (int64_t k = 0; k < v->t.ntaps && k < kH * kW; k++) {
    const cp_tap *tp = &v->taps[k];
    int x, yy;
    cell_rect(gr, tp->k[0], tp->k[1], &x, &yy);
    char val[32] = "";
    if (tp->kind == CP_TAP_BEYOND) {
      vz_fill(s, x, yy, cs - 1, cs - 1, VZ_BG);
      if (cs >= 8) vz_dashed(s, x, yy, cs - 1, cs - 1, 2, VZ_GRIDLINE);
    } else if (tp->kind == CP_TAP_PAD) {
      paint_cell(s, x, yy, cs, vz_th->pad,
                 v->pool == VZ_POOL_MAX ? NEG_INF : "0", 0);
    } else {
      fmt_value(val, sizeof val, tp->xv, cs);
      paint_cell(s, x, yy, cs, vz_diverging(tp->xv, v->xmax), val, 0);
      if (v->pool == VZ_POOL_MAX && k < done &&
          cp_pool_flat(&v->t.pg, tp->pos[0], tp->pos[1]) == arg)
        argk = k;
    }
  }
  int mt = cs >= 30 ? 3 : 2;
  for (int64_t k = 0; k < v->t.ntaps; k++) {
    const cp_tap *tp = &v->taps[k];
    if (k < done)
      mark(s, gr, tp->k[0], tp->k[1], v->by_tap && k == done - 1 ? mt + 2 : mt,
           VZ_ACCENT);
    else
      mark_dashed(s, gr, tp->k[0], tp->k[1], VZ_ACCENT);
  }
  if (argk >= 0)
    mark(s, gr, v->taps[argk].k[0], v->taps[argk].k[1], mt + 1, VZ_ACCENT2);
  vz_unclip(s);
  if (idx) indices_grid(s, v, b, gr->y + (int)(kH * cs) + 8, cs, done);
}

/* ====================================================================== */
/* Tooltip                                                                 */
/* ====================================================================== */

int vzp_pool_tooltip(vz_view *v, char lines[][200], int max) {
  int n = 0;
  char a[64], b[32];
  vidx(v, a, sizeof a, "y", v->hover_idx);
  vz_fmt(b, sizeof b,
         v->y[cp_geom_yoff(&v->g, v->hover_idx[0], v->hover_idx[1],
                           v->hover_idx[2], v->hover_idx[3])],
         10);
  snprintf(lines[n++], 200, "%s = %s", a, b);
  int64_t u = cp_trace_unit_of(&v->t, v->hover_idx);
  if (u < 0 || u >= v->t.nunits || n >= max) return n;
  cp_tap *tmp = malloc(sizeof *tmp * (size_t)v->t.ntaps);
  if (!tmp) return n;
  cp_unit info;
  cp_trace_unit(&v->t, u, NULL, tmp, &info);
  int64_t real = 0;
  for (int64_t k = 0; k < v->t.ntaps; k++) real += tmp[k].kind == CP_TAP_INPUT;
  if (v->pool == VZ_POOL_UNPOOL) {
    if (tmp[0].kind == CP_TAP_INPUT) {
      vidx(v, a, sizeof a, "x", tmp[0].in);
      snprintf(lines[n++], 200, "← %s (its index: %lld)", a,
               (long long)info.argmax);
    } else {
      snprintf(lines[n++], 200, "no index names this cell (index %lld)",
               (long long)info.argmax);
    }
  } else if (v->pool == VZ_POOL_MAX) {
    int64_t W = v->g.W;
    int64_t in4[4] = {info.idx[0], info.idx[1], info.argmax / W,
                      info.argmax % W};
    vidx(v, a, sizeof a, "x", in4);
    snprintf(lines[n++], 200, "= max of %lld input cells, at %s (index %lld)",
             (long long)real, a, (long long)info.argmax);
  } else {
    char sm[32];
    vz_fmt(sm, sizeof sm, info.raw, 10);
    snprintf(lines[n++], 200, "= %s / %lld (%lld input cells)", sm,
             (long long)info.divisor, (long long)real);
  }
  if (u >= v->cur_unit && n < max)
    snprintf(lines[n++], 200, "(computed at step %lld)",
             (long long)cp_trace_step_of(&v->t, v->by_tap, u, 0));
  free(tmp);
  return n;
}
