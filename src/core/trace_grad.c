/* trace_grad.c - conv2d's grad_weight and grad_bias, tap by tap (see
 * trace.h, CP_TRACE_GRADW / CP_TRACE_GRADB).
 *
 * grad_weight[o, ci, i, j] is the sum, over every forward output position
 * (n, r, c), of the products the forward tap (ci, i, j) of output cell
 * (n, o, r, c) fed with its input: x[n, g*C/G + ci, r*s + i*d - p, c*s +
 * j*d - p] * gy[n, o, r, c].  A unit here is one weight tap; its taps are
 * those output positions in (n, r, c) order, each product rounded to
 * float32 and summed in double, as the reference loops of backward.c.
 * grad_bias[o] is the same sum with the input factor 1.  Every index comes
 * from geometry.h. */
#include "trace.h"

#include <string.h>

int cp_trace_grad_init(cp_trace *t, const cp_geom *g, cp_trace_kind kind,
                       const cp_trace_src *src, cp_err *e) {
  memset(t, 0, sizeof *t);
  if (g->p.transposed)
    return cp_fail(e, "view: %s is the gradient of a conv2d problem",
                   cp_trace_kind_name(kind));
  if (!src->gy)
    return cp_fail(e, "view: %s needs grad_output", cp_trace_kind_name(kind));
  if (src->partial || src->flip || src->mask || src->kmask)
    return cp_fail(e, "view: %s has no masks, partial or flip",
                   cp_trace_kind_name(kind));
  t->g = *g;
  t->kind = kind;
  t->s = *src;
  t->nunits = kind == CP_TRACE_GRADW ? g->O * g->Cg * g->kH * g->kW : g->O;
  t->ntaps = g->N * g->OH * g->OW;
  return 0;
}

int64_t cp_trace_forward_tap(const cp_geom *g, const int64_t y4[4],
                             const int64_t w4[4]) {
  (void)y4;
  return (w4[1] * g->kH + w4[2]) * g->kW + w4[3];
}

/* The grad_output factor of tap (n, r, c) for output channel o. */
static void gy_factor(const cp_trace *t, cp_tap *tp, int64_t n, int64_t o,
                      int64_t r, int64_t c) {
  tp->w[0] = n;
  tp->w[1] = o;
  tp->w[2] = r;
  tp->w[3] = c;
  tp->k[0] = r;
  tp->k[1] = c;
  tp->wv = t->s.gy[cp_geom_yoff(&t->g, n, o, r, c)];
  tp->km = 1.0f;
}

static void gradw_unit(const cp_trace *t, int64_t u, cp_tap *taps,
                       cp_unit *info) {
  const cp_geom *g = &t->g;
  int64_t w4[4];
  cp_trace_unit_index(t, u, w4);
  int64_t o = w4[0], ci = w4[1], i = w4[2], j = w4[3];
  int64_t grp = cp_geom_group_of_out(g, o), ch = grp * g->Cg + ci;
  memcpy(info->idx, w4, sizeof w4);
  info->group = grp;
  double acc = 0.0;
  int64_t k = 0;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t r = 0; r < g->OH; r++) {
      int64_t row = cp_geom_in_row(g, r, i);
      int64_t srow = cp_pad_index(row, g->H, g->p.mode);
      for (int64_t c = 0; c < g->OW; c++, k++) {
        cp_tap *tp = &taps[k];
        int64_t col = cp_geom_in_col(g, c, j);
        int64_t scol = cp_pad_index(col, g->W, g->p.mode);
        tp->pos[0] = row;
        tp->pos[1] = col;
        memcpy(tp->out, w4, sizeof w4);
        if (srow < 0 || scol < 0) {
          tp->kind = CP_TAP_PAD;
          tp->in[0] = tp->in[1] = tp->in[2] = tp->in[3] = -1;
          tp->xv = 0.0f;
        } else {
          int inside = row >= 0 && row < g->H && col >= 0 && col < g->W;
          tp->kind = inside ? CP_TAP_INPUT : CP_TAP_PADSRC;
          tp->in[0] = n;
          tp->in[1] = ch;
          tp->in[2] = srow;
          tp->in[3] = scol;
          tp->xv = t->s.x[cp_geom_xoff(g, n, ch, srow, scol)];
        }
        tp->xm = 1.0f;
        gy_factor(t, tp, n, o, r, c);
        float prod = tp->xv * tp->wv;
        tp->prod = prod;
        acc += (double)prod;
        tp->sum = acc;
      }
    }
  info->raw = acc;
  info->value = (float)acc;
}

static void gradb_unit(const cp_trace *t, int64_t u, cp_tap *taps,
                       cp_unit *info) {
  const cp_geom *g = &t->g;
  int64_t o4[4] = {u, 0, 0, 0};
  memcpy(info->idx, o4, sizeof o4);
  info->group = cp_geom_group_of_out(g, u);
  double acc = 0.0;
  int64_t k = 0;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t r = 0; r < g->OH; r++)
      for (int64_t c = 0; c < g->OW; c++, k++) {
        cp_tap *tp = &taps[k];
        tp->kind = CP_TAP_INPUT;
        tp->pos[0] = r;
        tp->pos[1] = c;
        tp->in[0] = tp->in[1] = tp->in[2] = tp->in[3] = -1;
        tp->xv = 1.0f;
        tp->xm = 1.0f;
        memcpy(tp->out, o4, sizeof o4);
        gy_factor(t, tp, n, u, r, c);
        tp->prod = tp->wv;
        acc += (double)tp->wv;
        tp->sum = acc;
      }
  info->raw = acc;
  info->value = (float)acc;
}

void cp_trace_grad_unit(const cp_trace *t, int64_t u, cp_tap *taps,
                        cp_unit *info) {
  if (t->kind == CP_TRACE_GRADW) gradw_unit(t, u, taps, info);
  else gradb_unit(t, u, taps, info);
}
