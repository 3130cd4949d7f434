/* trace_pool.c - max_pool2d / avg_pool2d as a step model (see trace.h).
 *
 * A pooling unit is one output cell; its taps are the window's cells in the
 * order of the reference loops in pool.c, so the running maximum (with
 * PyTorch's NaN rule and first-maximum ties) and the running float sum
 * reach exactly the values cp_max_pool2d_ref / cp_avg_pool2d_ref store.
 * Every index comes from geometry.h (cp_pool_in_row, cp_pool_where,
 * cp_avg_window, cp_pool_flat). */
#include <math.h>
#include <string.h>

#include "trace.h"

int cp_trace_init_pool(cp_trace *t, const cp_pool_geom *pg, const float *x,
                       cp_err *e) {
  memset(t, 0, sizeof *t);
  if (!x) return cp_fail(e, "view: a pooling trace needs its input");
  t->pg = *pg;
  cp_pool_as_conv(pg, &t->g);
  t->kind = pg->kind == CP_POOL_MAX ? CP_TRACE_MAXPOOL : CP_TRACE_AVGPOOL;
  t->s.x = x;
  t->nunits = pg->N * pg->C * pg->OH * pg->OW;
  t->ntaps = pg->p.kernel[0] * pg->p.kernel[1];
  return 0;
}

int cp_trace_init_unpool(cp_trace *t, int64_t N, int64_t C, int64_t H,
                         int64_t W, int64_t OH, int64_t OW, const float *x,
                         const int64_t *src, cp_err *e) {
  memset(t, 0, sizeof *t);
  if (!x || !src) return cp_fail(e, "view: an unpooling trace needs its input");
  cp_geom *g = &t->g;
  cp_conv_params_default(&g->p);
  g->N = N, g->C = C, g->H = H, g->W = W;
  g->O = C, g->OH = OH, g->OW = OW;
  g->kH = g->kW = 1;
  g->Cg = g->Og = 1;
  g->p.groups = C;
  t->pg.N = N, t->pg.C = C, t->pg.H = H, t->pg.W = W;
  t->pg.OH = OH, t->pg.OW = OW;
  t->kind = CP_TRACE_UNPOOL;
  t->s.x = x;
  t->s.unpool_src = src;
  t->nunits = N * C * OH * OW;
  t->ntaps = 1;
  return 0;
}

void cp_unpool_sources(int64_t N, int64_t C, int64_t H, int64_t W,
                       int64_t OH, int64_t OW, const float *ind,
                       int64_t *src) {
  int64_t plane = OH * OW, in_plane = H * W, m = N * C * in_plane;
  for (int64_t k = 0; k < N * C * plane; k++) src[k] = -1;
  /* in input order, as cp_max_unpool2d writes: the last write wins */
  for (int64_t k = 0; k < m; k++)
    src[(k / in_plane) * plane + (int64_t)ind[k]] = k;
}

static void unpool_unit(const cp_trace *t, int64_t u, cp_tap *tp,
                        cp_unit *info) {
  const cp_geom *g = &t->g;
  int64_t o4[4];
  cp_trace_unit_index(t, u, o4);
  memcpy(info->idx, o4, sizeof o4);
  info->group = o4[1];
  memcpy(tp->out, o4, sizeof o4);
  tp->wv = tp->km = tp->xm = 1.0f;
  tp->w[0] = o4[1];
  int64_t s = t->s.unpool_src[u];
  info->argmax = o4[2] * g->OW + o4[3]; /* the index that names this cell */
  info->argtap = s;
  if (s < 0) {
    tp->kind = CP_TAP_PAD;
    tp->pos[0] = tp->pos[1] = -1;
    tp->in[0] = tp->in[1] = tp->in[2] = tp->in[3] = -1;
    tp->xv = 0.0f;
  } else {
    tp->kind = CP_TAP_INPUT;
    int64_t hw = s % (g->H * g->W);
    tp->in[0] = o4[0], tp->in[1] = o4[1];
    tp->in[2] = tp->pos[0] = hw / g->W;
    tp->in[3] = tp->pos[1] = hw % g->W;
    tp->xv = t->s.x[s];
  }
  tp->prod = tp->sum = tp->xv;
  tp->arg = s;
  info->value = tp->xv;
  info->raw = tp->xv;
}

/* PyTorch's update rule: a larger value, or any NaN. */
static int takes(float v, float m) { return v > m || isnan(v); }

void cp_trace_pool_unit(const cp_trace *t, int64_t u, cp_tap *taps,
                        cp_unit *info) {
  if (t->kind == CP_TRACE_UNPOOL) {
    unpool_unit(t, u, taps, info);
    return;
  }
  const cp_pool_geom *g = &t->pg;
  int64_t o4[4];
  cp_trace_unit_index(t, u, o4);
  memcpy(info->idx, o4, sizeof o4);
  info->group = o4[1];
  int64_t n = o4[0], ch = o4[1], r = o4[2], c = o4[3];
  const float *xp = t->s.x + (n * g->C + ch) * g->H * g->W;
  int is_max = t->kind == CP_TRACE_MAXPOOL;
  /* max: PyTorch starts from the window's first cell inside the input */
  int64_t h0 = cp_pool_in_row(g, r, 0), w0 = cp_pool_in_col(g, c, 0);
  while (h0 < 0) h0 += g->p.dilation[0];
  while (w0 < 0) w0 += g->p.dilation[1];
  float m = -INFINITY, sum = 0.0f;
  int64_t mi = cp_pool_flat(g, h0, w0), mtap = -1, k = 0;
  for (int64_t i = 0; i < g->p.kernel[0]; i++) {
    int64_t h = cp_pool_in_row(g, r, i);
    int wh = cp_pool_where(g, 0, h);
    for (int64_t j = 0; j < g->p.kernel[1]; j++, k++) {
      cp_tap *tp = &taps[k];
      int64_t w = cp_pool_in_col(g, c, j);
      int ww = cp_pool_where(g, 1, w);
      tp->pos[0] = h;
      tp->pos[1] = w;
      tp->k[0] = i;
      tp->k[1] = j;
      memcpy(tp->out, o4, sizeof o4);
      tp->w[0] = ch, tp->w[1] = 0, tp->w[2] = i, tp->w[3] = j;
      tp->wv = 1.0f;
      tp->km = tp->xm = 1.0f;
      tp->in[0] = tp->in[1] = tp->in[2] = tp->in[3] = -1;
      if (wh == 0 && ww == 0) {
        tp->kind = CP_TAP_INPUT;
        tp->in[0] = n, tp->in[1] = ch, tp->in[2] = h, tp->in[3] = w;
        float v = xp[h * g->W + w];
        tp->xv = v;
        if (is_max && takes(v, m)) {
          m = v;
          mi = cp_pool_flat(g, h, w);
          mtap = k;
        }
        if (!is_max) sum += v; /* float, row-major: the reference's order */
      } else {
        tp->kind = wh == 2 || ww == 2 ? CP_TAP_BEYOND : CP_TAP_PAD;
        tp->xv = is_max ? -INFINITY : 0.0f;
      }
      tp->prod = tp->xv;
      tp->sum = is_max ? m : sum;
      tp->arg = is_max ? mi : -1;
    }
  }
  if (is_max) {
    info->value = m;
    info->raw = m;
    info->argmax = mi;
    info->argtap = mtap;
  } else {
    int64_t r0, r1, c0, c1, div;
    cp_avg_window(g, r, c, &r0, &r1, &c0, &c1, &div);
    info->divisor = div;
    info->raw = sum;
    info->value = sum / (float)div;
    info->argmax = -1;
    info->argtap = -1;
  }
}
