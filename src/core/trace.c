/* trace.c - enumerate a convolution tap by tap (see trace.h).  All index
 * arithmetic comes from geometry.h; nothing here re-derives a formula. */
#include "trace.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *cp_trace_kind_name(cp_trace_kind k) {
  switch (k) {
  case CP_TRACE_CONV: return "conv2d";
  case CP_TRACE_GATHER: return "gather";
  case CP_TRACE_SCATTER: return "scatter";
  case CP_TRACE_GRADW: return "grad_weight";
  case CP_TRACE_GRADB: return "grad_bias";
  case CP_TRACE_MAXPOOL: return "max_pool2d";
  case CP_TRACE_AVGPOOL: return "avg_pool2d";
  case CP_TRACE_UNPOOL: return "max_unpool2d";
  }
  return "?";
}

const char *cp_tap_kind_name(cp_tap_kind k) {
  switch (k) {
  case CP_TAP_INPUT: return "input";
  case CP_TAP_PAD: return "padding";
  case CP_TAP_PADSRC: return "padding";
  case CP_TAP_HOLE: return "hole";
  case CP_TAP_CROPPED: return "cropped";
  case CP_TAP_BEYOND: return "beyond";
  }
  return "?";
}

int cp_trace_init(cp_trace *t, const cp_geom *g, cp_trace_kind kind,
                  const cp_trace_src *src, cp_err *e) {
  memset(t, 0, sizeof *t);
  if (kind == CP_TRACE_GRADW || kind == CP_TRACE_GRADB)
    return cp_trace_grad_init(t, g, kind, src, e);
  if ((kind == CP_TRACE_CONV) == (g->p.transposed != 0))
    return cp_fail(e, "view: %s does not fit a %s problem",
                   cp_trace_kind_name(kind),
                   g->p.transposed ? "conv_transpose2d" : "conv2d");
  if (src->partial && kind != CP_TRACE_CONV)
    return cp_fail(e, "partial: partial convolution is a conv2d option");
  if (src->partial && !src->mask)
    return cp_fail(e, "partial: partial convolution needs a mask");
  if (src->flip && kind != CP_TRACE_CONV)
    return cp_fail(e, "flip: true convolution is a conv2d option");
  t->g = *g;
  t->kind = kind;
  t->s = *src;
  if (kind == CP_TRACE_SCATTER) {
    t->nunits = g->N * g->C * g->H * g->W;
    t->ntaps = g->Og * g->kH * g->kW;
  } else {
    t->nunits = g->N * g->O * g->OH * g->OW;
    t->ntaps = g->Cg * g->kH * g->kW;
  }
  return 0;
}

static void unflat(int64_t u, int64_t d1, int64_t d2, int64_t d3,
                   int64_t idx[4]) {
  idx[3] = u % d3;
  u /= d3;
  idx[2] = u % d2;
  u /= d2;
  idx[1] = u % d1;
  idx[0] = u / d1;
}

void cp_trace_unit_index(const cp_trace *t, int64_t u, int64_t idx[4]) {
  const cp_geom *g = &t->g;
  if (t->kind == CP_TRACE_SCATTER) unflat(u, g->C, g->H, g->W, idx);
  else if (t->kind == CP_TRACE_GRADW) unflat(u, g->Cg, g->kH, g->kW, idx);
  else if (t->kind == CP_TRACE_GRADB) unflat(u, 1, 1, 1, idx);
  else unflat(u, g->O, g->OH, g->OW, idx);
}

int64_t cp_trace_unit_of(const cp_trace *t, const int64_t idx[4]) {
  const cp_geom *g = &t->g;
  if (t->kind == CP_TRACE_SCATTER)
    return ((idx[0] * g->C + idx[1]) * g->H + idx[2]) * g->W + idx[3];
  if (t->kind == CP_TRACE_GRADW)
    return ((idx[0] * g->Cg + idx[1]) * g->kH + idx[2]) * g->kW + idx[3];
  if (t->kind == CP_TRACE_GRADB) return idx[0];
  return ((idx[0] * g->O + idx[1]) * g->OH + idx[2]) * g->OW + idx[3];
}

#define xoff cp_geom_xoff

/* The input factor at (n, c, h, w): x times the input mask. */
static void input_factor(const cp_trace *t, cp_tap *tp, int64_t n, int64_t c,
                         int64_t h, int64_t w) {
  int64_t off = xoff(&t->g, n, c, h, w);
  tp->in[0] = n;
  tp->in[1] = c;
  tp->in[2] = h;
  tp->in[3] = w;
  tp->xm = t->s.mask ? t->s.mask[off] : 1.0f;
  tp->xv = t->s.mask ? t->s.x[off] * tp->xm : t->s.x[off];
}

static void no_input(cp_tap *tp) {
  tp->in[0] = tp->in[1] = tp->in[2] = tp->in[3] = -1;
  tp->xv = 0.0f;
  tp->xm = 1.0f;
}

/* The weight factor of element (a, b, i, j), times the kernel mask. */
static void weight_factor(const cp_trace *t, cp_tap *tp, int64_t a, int64_t b,
                          int64_t i, int64_t j) {
  const cp_geom *g = &t->g;
  int64_t per = t->kind == CP_TRACE_CONV ? g->Cg : g->Og;
  tp->w[0] = a;
  tp->w[1] = b;
  tp->w[2] = i;
  tp->w[3] = j;
  float wv = t->s.w[((a * per + b) * g->kH + i) * g->kW + j];
  tp->km = t->s.kmask ? t->s.kmask[i * g->kW + j] : 1.0f;
  tp->wv = t->s.kmask ? wv * tp->km : wv;
}

/* One multiply-add, the same expression as the reference loops so the sums
 * agree: the product rounded to float32 (as PyTorch), summed in double. */
static double add_tap(cp_tap *tp, double acc) {
  float prod = tp->wv * tp->xv;
  tp->prod = prod;
  acc += (double)prod;
  tp->sum = acc;
  return acc;
}

/* Partial convolution: the mask sum under the window of output (r, c).
 * Zero padding, no groups (as the reference implementation). */
static void partial_info(const cp_trace *t, int64_t n, int64_t r, int64_t c,
                         cp_unit *info) {
  const cp_geom *g = &t->g;
  int64_t C = t->s.mask_multi ? g->C : 1;
  float S = 0.0f;
  for (int64_t ch = 0; ch < C; ch++)
    for (int64_t i = 0; i < g->kH; i++) {
      int64_t h = cp_geom_in_row(g, r, i);
      if (h < 0 || h >= g->H) continue;
      for (int64_t j = 0; j < g->kW; j++) {
        int64_t w = cp_geom_in_col(g, c, j);
        if (w < 0 || w >= g->W) continue;
        S += t->s.mask[xoff(g, n, ch, h, w)];
      }
    }
  info->winsize = C * g->kH * g->kW;
  info->msum = S;
  float clampS = S < 0.0f ? 0.0f : S > 1.0f ? 1.0f : S;
  info->newmask = clampS;
  info->ratio = cp_partial_ratio((float)info->winsize, S);
}

/* The start of a unit that is one output cell: its index (o4, NCHW), its
 * group and bias in info; returns the bias, the sum's starting value. */
static double begin_output_unit(const cp_trace *t, int64_t u, int64_t *o4,
                                cp_unit *info) {
  cp_trace_unit_index(t, u, o4);
  double bias = t->s.b ? t->s.b[o4[1]] : 0.0;
  memcpy(info->idx, o4, 4 * sizeof *o4);
  info->group = cp_geom_group_of_out(&t->g, o4[1]);
  info->bias = bias;
  return bias;
}

static void conv_unit(const cp_trace *t, int64_t u, cp_tap *taps,
                      cp_unit *info) {
  const cp_geom *g = &t->g;
  int64_t o4[4];
  double acc = begin_output_unit(t, u, o4, info);
  int64_t n = o4[0], o = o4[1], r = o4[2], c = o4[3];
  int64_t grp = info->group, c0 = grp * g->Cg;
  int64_t k = 0;
  for (int64_t ci = 0; ci < g->Cg; ci++)
    for (int64_t i = 0; i < g->kH; i++) {
      int64_t row = cp_geom_in_row(g, r, i);
      int64_t srow = cp_pad_index(row, g->H, g->p.mode);
      for (int64_t j = 0; j < g->kW; j++, k++) {
        cp_tap *tp = &taps[k];
        int64_t col = cp_geom_in_col(g, c, j);
        int64_t scol = cp_pad_index(col, g->W, g->p.mode);
        tp->pos[0] = row;
        tp->pos[1] = col;
        tp->k[0] = i;
        tp->k[1] = j;
        memcpy(tp->out, o4, sizeof o4);
        int inside = row >= 0 && row < g->H && col >= 0 && col < g->W;
        if (srow < 0 || scol < 0) {
          tp->kind = CP_TAP_PAD;
          no_input(tp);
        } else {
          tp->kind = inside ? CP_TAP_INPUT : CP_TAP_PADSRC;
          input_factor(t, tp, n, c0 + ci, srow, scol);
        }
        if (t->s.flip)
          weight_factor(t, tp, o, ci, g->kH - 1 - i, g->kW - 1 - j);
        else
          weight_factor(t, tp, o, ci, i, j);
        acc = add_tap(tp, acc);
      }
    }
  info->raw = acc;
  info->value = (float)acc;
  if (t->s.partial) {
    partial_info(t, n, r, c, info);
    /* As cp_partial_conv2d (and NVIDIA's layer): with or without a bias
     * the result is multiplied by the updated mask. */
    float raw = (float)acc, b = (float)info->bias;
    info->value = ((raw - b) * info->ratio + b) * info->newmask;
  }
}

static void gather_unit(const cp_trace *t, int64_t u, cp_tap *taps,
                        cp_unit *info) {
  const cp_geom *g = &t->g;
  int64_t o4[4];
  double acc = begin_output_unit(t, u, o4, info);
  int64_t n = o4[0], o = o4[1], R = o4[2], C = o4[3];
  int64_t grp = info->group, oo = o - grp * g->Og;
  int64_t k = 0;
  for (int64_t ci = 0; ci < g->Cg; ci++)
    for (int64_t i = 0; i < g->kH; i++) {
      int64_t zr, row = cp_geomT_gather_row(g, R, i, &zr);
      for (int64_t j = 0; j < g->kW; j++, k++) {
        cp_tap *tp = &taps[k];
        int64_t zc, col = cp_geomT_gather_col(g, C, j, &zc);
        tp->pos[0] = zr;
        tp->pos[1] = zc;
        tp->k[0] = i;
        tp->k[1] = j;
        memcpy(tp->out, o4, sizeof o4);
        if (row == -1 || col == -1) {
          tp->kind = CP_TAP_PAD;
          no_input(tp);
        } else if (row == -2 || col == -2) {
          tp->kind = CP_TAP_HOLE;
          no_input(tp);
        } else {
          tp->kind = CP_TAP_INPUT;
          input_factor(t, tp, n, grp * g->Cg + ci, row, col);
        }
        /* Flipped kernel, in/out swapped within the group. */
        weight_factor(t, tp, grp * g->Cg + ci, oo, g->kH - 1 - i,
                      g->kW - 1 - j);
        acc = add_tap(tp, acc);
      }
    }
  info->raw = acc;
  info->value = (float)acc;
}

#define yoff cp_geom_yoff

static void scatter_unit(const cp_trace *t, int64_t u, const float *canvas,
                         cp_tap *taps, cp_unit *info) {
  const cp_geom *g = &t->g;
  int64_t i4[4];
  cp_trace_unit_index(t, u, i4);
  int64_t n = i4[0], ci = i4[1], r = i4[2], c = i4[3];
  int64_t grp = ci / g->Cg;
  memcpy(info->idx, i4, sizeof i4);
  info->group = grp;
  info->bias = 0;
  info->raw = 0;
  info->value = NAN;
  int64_t k = 0;
  for (int64_t oo = 0; oo < g->Og; oo++) {
    int64_t o = grp * g->Og + oo;
    for (int64_t i = 0; i < g->kH; i++) {
      int64_t orow = cp_geomT_out_row(g, r, i);
      for (int64_t j = 0; j < g->kW; j++, k++) {
        cp_tap *tp = &taps[k];
        int64_t ocol = cp_geomT_out_col(g, c, j);
        tp->pos[0] = orow;
        tp->pos[1] = ocol;
        tp->k[0] = i;
        tp->k[1] = j;
        tp->out[0] = n;
        tp->out[1] = o;
        tp->out[2] = orow;
        tp->out[3] = ocol;
        input_factor(t, tp, n, ci, r, c);
        weight_factor(t, tp, ci, oo, i, j);
        /* As the reference loop: a float product added in float. */
        float p = tp->xv * tp->wv;
        tp->prod = p;
        if (orow < 0 || orow >= g->OH || ocol < 0 || ocol >= g->OW) {
          tp->kind = CP_TAP_CROPPED;
          tp->sum = 0;
        } else {
          tp->kind = CP_TAP_INPUT;
          float before = canvas ? canvas[yoff(g, n, o, orow, ocol)] : 0.0f;
          tp->sum = before + p;
        }
      }
    }
  }
}

void cp_trace_unit(const cp_trace *t, int64_t u, const float *canvas,
                   cp_tap *taps, cp_unit *info) {
  memset(info, 0, sizeof *info);
  memset(taps, 0, sizeof *taps * (size_t)t->ntaps);
  switch (t->kind) {
  case CP_TRACE_CONV: conv_unit(t, u, taps, info); break;
  case CP_TRACE_GATHER: gather_unit(t, u, taps, info); break;
  case CP_TRACE_SCATTER: scatter_unit(t, u, canvas, taps, info); break;
  case CP_TRACE_GRADW:
  case CP_TRACE_GRADB: cp_trace_grad_unit(t, u, taps, info); break;
  case CP_TRACE_MAXPOOL:
  case CP_TRACE_AVGPOOL:
  case CP_TRACE_UNPOOL: cp_trace_pool_unit(t, u, taps, info); break;
  }
}

void cp_trace_scatter_add(const cp_trace *t, int64_t u, float *y) {
  const cp_geom *g = &t->g;
  int64_t i4[4];
  cp_trace_unit_index(t, u, i4);
  int64_t n = i4[0], ci = i4[1], r = i4[2], c = i4[3];
  int64_t grp = ci / g->Cg;
  float xv = t->s.x[xoff(g, n, ci, r, c)];
  if (t->s.mask) xv *= t->s.mask[xoff(g, n, ci, r, c)];
  for (int64_t oo = 0; oo < g->Og; oo++) {
    int64_t o = grp * g->Og + oo;
    const float *wk = t->s.w + (ci * g->Og + oo) * g->kH * g->kW;
    for (int64_t i = 0; i < g->kH; i++) {
      int64_t orow = cp_geomT_out_row(g, r, i);
      if (orow < 0 || orow >= g->OH) continue;
      for (int64_t j = 0; j < g->kW; j++) {
        int64_t ocol = cp_geomT_out_col(g, c, j);
        if (ocol < 0 || ocol >= g->OW) continue;
        float wv = wk[i * g->kW + j];
        if (t->s.kmask) wv *= t->s.kmask[i * g->kW + j];
        y[yoff(g, n, o, orow, ocol)] += xv * wv;
      }
    }
  }
}

void cp_trace_canvas(const cp_trace *t, int64_t u, float *y) {
  const cp_geom *g = &t->g;
  int64_t total = g->N * g->O * g->OH * g->OW;
  if (t->kind == CP_TRACE_GRADW || t->kind == CP_TRACE_GRADB)
    total = t->nunits; /* y is grad_weight (O, C/G, kH, kW) or (O) */
  if (u > t->nunits) u = t->nunits;
  if (t->kind == CP_TRACE_SCATTER) {
    for (int64_t k = 0; k < total; k++)
      y[k] = t->s.b ? t->s.b[(k / (g->OH * g->OW)) % g->O] : 0.0f;
    /* The reference loop visits (n, ci, oo, r, c, i, j); for one output
     * channel that is the order (ci, r, c, i, j) of units then taps here. */
    for (int64_t k = 0; k < u; k++) cp_trace_scatter_add(t, k, y);
    return;
  }
  memset(y, 0, sizeof *y * (size_t)total);
  if (u <= 0 || t->ntaps <= 0) return;
  cp_tap *taps = malloc(sizeof *taps * (size_t)t->ntaps);
  for (int64_t k = 0; k < u; k++) {
    cp_unit info;
    if (!taps) { /* out of memory: say so in the numbers */
      y[k] = NAN;
      continue;
    }
    cp_trace_unit(t, k, NULL, taps, &info);
    y[k] = info.value;
  }
  free(taps);
}

int64_t cp_trace_steps(const cp_trace *t, int by_tap) {
  return by_tap ? t->nunits * t->ntaps : t->nunits;
}

void cp_trace_locate(const cp_trace *t, int by_tap, int64_t step,
                     int64_t *unit, int64_t *taps_done) {
  int64_t n = cp_trace_steps(t, by_tap);
  if (step < 1) step = 1;
  if (step > n) step = n;
  if (!by_tap || t->ntaps == 0) {
    *unit = step - 1;
    *taps_done = t->ntaps;
  } else {
    *unit = (step - 1) / t->ntaps;
    *taps_done = (step - 1) % t->ntaps + 1;
  }
}

int64_t cp_trace_step_of(const cp_trace *t, int by_tap, int64_t u,
                         int64_t k) {
  return by_tap ? u * t->ntaps + k + 1 : u + 1;
}
