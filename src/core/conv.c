/* conv.c - the dispatch point and the reference loops. */
#include "conv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sepconv.h"

static cp_impl conv_impl = CP_IMPL_AUTO;
void cp_conv_set_impl(cp_impl impl) { conv_impl = impl; }
cp_impl cp_conv_get_impl(void) { return conv_impl; }

/* ====================================================================== */
/* Reference loops: plain, obviously correct, the yardstick of the tests. */
/* ====================================================================== */

void cp_conv2d_ref(const cp_geom *g, const float *x, const float *w,
                   const float *b, float *y) {
  const cp_padmode mode = g->p.mode;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t o = 0; o < g->O; o++) {
      int64_t c0 = cp_geom_group_of_out(g, o) * g->Cg;
      for (int64_t r = 0; r < g->OH; r++)
        for (int64_t c = 0; c < g->OW; c++) {
          double acc = b ? b[o] : 0.0;
          for (int64_t ci = 0; ci < g->Cg; ci++) {
            const float *xc = x + ((n * g->C) + c0 + ci) * g->H * g->W;
            const float *wc = w + ((o * g->Cg) + ci) * g->kH * g->kW;
            for (int64_t i = 0; i < g->kH; i++) {
              int64_t ri = cp_pad_index(cp_geom_in_row(g, r, i), g->H, mode);
              for (int64_t j = 0; j < g->kW; j++) {
                int64_t cj =
                    cp_pad_index(cp_geom_in_col(g, c, j), g->W, mode);
                /* A padding cell is a real 0 times the weight, so that an
                 * Inf or NaN weight poisons the output as in PyTorch. */
                float xv = (ri < 0 || cj < 0) ? 0.0f : xc[ri * g->W + cj];
                /* The product is rounded to float32 as PyTorch's is (so
                 * 1e30 * 1e30 overflows to Inf); the sum is kept in double
                 * for accuracy. */
                float prod = wc[i * g->kW + j] * xv;
                acc += (double)prod;
              }
            }
          }
          y[((n * g->O + o) * g->OH + r) * g->OW + c] = (float)acc;
        }
    }
}

void cp_conv_transpose2d_ref(const cp_geom *g, const float *x, const float *w,
                             const float *b, float *y) {
  const int64_t plane = g->OH * g->OW;
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t o = 0; o < g->O; o++) {
      float *yo = y + (n * g->O + o) * plane;
      for (int64_t k = 0; k < plane; k++) yo[k] = b ? b[o] : 0.0f;
    }
  /* Scatter: every input pixel times the kernel, added at r*s + i*d - p. */
  for (int64_t n = 0; n < g->N; n++)
    for (int64_t ci = 0; ci < g->C; ci++) {
      int64_t grp = ci / g->Cg;
      const float *xc = x + (n * g->C + ci) * g->H * g->W;
      for (int64_t oo = 0; oo < g->Og; oo++) {
        float *yo = y + (n * g->O + grp * g->Og + oo) * plane;
        const float *wk = w + (ci * g->Og + oo) * g->kH * g->kW;
        for (int64_t r = 0; r < g->H; r++)
          for (int64_t c = 0; c < g->W; c++) {
            float xv = xc[r * g->W + c];
            for (int64_t i = 0; i < g->kH; i++) {
              int64_t orow = cp_geomT_out_row(g, r, i);
              if (orow < 0 || orow >= g->OH) continue;
              for (int64_t j = 0; j < g->kW; j++) {
                int64_t ocol = cp_geomT_out_col(g, c, j);
                if (ocol < 0 || ocol >= g->OW) continue;
                yo[orow * g->OW + ocol] += xv * wk[i * g->kW + j];
              }
            }
          }
      }
    }
}

/* ====================================================================== */
/* Dispatch                                                                */
/* ====================================================================== */

typedef void (*kernel_fn)(const cp_geom *, const float *, const float *,
                          const float *, float *);
typedef int (*fast_fn)(const cp_geom *, const float *, const float *,
                       const float *, float *);

/* Shared body of both ops: rank handling, validation, contiguous copies,
 * output allocation, and the choice between the fast and reference loop. */
static int run_conv(cp_tensor *out, const cp_tensor *x, const cp_tensor *w,
                    const cp_tensor *bias, const cp_conv_params *p,
                    const char *name, kernel_fn ref, fast_fn fast,
                    const cp_sep_factors *sep, cp_err *e) {
  memset(out, 0, sizeof *out);
  char b1[160];
  if (x->ndim == 3) { /* unbatched (C,H,W): run as a batch of one */
    cp_tensor x4, y4;
    if (cp_tensor_unsqueeze(&x4, x, 0, e)) return -1;
    int rc = run_conv(&y4, &x4, w, bias, p, name, ref, fast, sep, e);
    cp_tensor_release(&x4);
    if (rc) return -1;
    rc = cp_tensor_squeeze(out, &y4, 0, e);
    cp_tensor_release(&y4);
    return rc;
  }
  if (x->ndim != 4)
    return cp_fail(e,
                   "input: Expected 3D (unbatched) or 4D (batched) input to "
                   "%s, but got input of size: %s",
                   name, cp_shape_str(x->ndim, x->shape, b1, sizeof b1));
  if (w->ndim != 4)
    return cp_fail(e,
                   "weight: expected a 4-D weight %s, but got weight of size "
                   "%s",
                   p->transposed ? "(in_channels, out_channels/groups, kH, kW)"
                                 : "(out_channels, in_channels/groups, kH, kW)",
                   cp_shape_str(w->ndim, w->shape, b1, sizeof b1));
  cp_geom g;
  if (cp_geom_init(&g, p, x->shape, w->shape, bias != NULL,
                   bias ? bias->ndim : 0, bias ? cp_tensor_numel(bias) : 0, e))
    return -1;
  if (cp_tensor_empty4(out, g.N, g.O, g.OH, g.OW, e)) {
    char why[sizeof e->msg];
    snprintf(why, sizeof why, "%s", e->msg);
    return cp_fail(e, "output: (%lld, %lld, %lld, %lld) cannot be allocated (%s)",
                   (long long)g.N, (long long)g.O, (long long)g.OH,
                   (long long)g.OW, why);
  }
  if (cp_tensor_numel(out) == 0) return 0;
  cp_tensor xc, wc, bc;
  memset(&bc, 0, sizeof bc);
  if (cp_tensor_contiguous(&xc, x, e)) goto fail0;
  if (cp_tensor_contiguous(&wc, w, e)) goto fail1;
  if (bias && cp_tensor_contiguous(&bc, bias, e)) goto fail2;
  const float *bp = bias ? cp_tensor_data(&bc) : NULL;
  /* Given 1-D factors (cp_sep_conv2d), the two passes run first; the
   * direct kernels on their outer product w are the fall-back. */
  if (conv_impl == CP_IMPL_REFERENCE ||
      ((sep == NULL || cp_conv2d_sep(&g, cp_tensor_data(&xc), sep, bp,
                                     cp_tensor_data(out)) != 0) &&
       fast(&g, cp_tensor_data(&xc), cp_tensor_data(&wc), bp,
            cp_tensor_data(out)) != 0))
    ref(&g, cp_tensor_data(&xc), cp_tensor_data(&wc), bp,
        cp_tensor_data(out));
  cp_tensor_release(&bc);
  cp_tensor_release(&wc);
  cp_tensor_release(&xc);
  return 0;
fail2:
  cp_tensor_release(&wc);
fail1:
  cp_tensor_release(&xc);
fail0:
  cp_tensor_release(out);
  return -1;
}

int cp_conv2d(cp_tensor *out, const cp_tensor *x, const cp_tensor *w,
              const cp_tensor *bias, const cp_conv_params *p, cp_err *e) {
  cp_conv_params q = *p;
  q.transposed = 0;
  return run_conv(out, x, w, bias, &q, "conv2d", cp_conv2d_ref,
                  cp_conv2d_fast, NULL, e);
}

int cp_conv_transpose2d(cp_tensor *out, const cp_tensor *x,
                        const cp_tensor *w, const cp_tensor *bias,
                        const cp_conv_params *p, cp_err *e) {
  cp_conv_params q = *p;
  q.transposed = 1;
  return run_conv(out, x, w, bias, &q, "conv_transpose2d",
                  cp_conv_transpose2d_ref, cp_conv_transpose2d_fast, NULL, e);
}

/* A 1-D factor: a non-empty vector, copied contiguous into out. */
static int sep_factor_arg(cp_tensor *out, const cp_tensor *v,
                          const char *what, cp_err *e) {
  char b[160];
  if (v->ndim != 1 || v->shape[0] < 1)
    return cp_fail(e, "%s: expected a non-empty 1-D tensor of kernel taps, "
                   "got size %s", what,
                   cp_shape_str(v->ndim, v->shape, b, sizeof b));
  return cp_tensor_contiguous(out, v, e);
}

int cp_sep_conv2d(cp_tensor *out, const cp_tensor *x, const cp_tensor *col,
                  const cp_tensor *row, const cp_tensor *bias,
                  const cp_conv_params *p, cp_err *e) {
  memset(out, 0, sizeof *out);
  char b1[160];
  if (x->ndim != 3 && x->ndim != 4)
    return cp_fail(e,
                   "input: Expected 3D (unbatched) or 4D (batched) input to "
                   "sep_conv2d, but got input of size: %s",
                   cp_shape_str(x->ndim, x->shape, b1, sizeof b1));
  int64_t C = x->shape[x->ndim - 3];
  if (C < 1)
    return cp_fail(e, "input: sep_conv2d needs at least one channel, got "
                   "size %s", cp_shape_str(x->ndim, x->shape, b1, sizeof b1));
  cp_tensor ct, rt, w;
  if (sep_factor_arg(&ct, col, "col", e)) return -1;
  if (sep_factor_arg(&rt, row, "row", e)) {
    cp_tensor_release(&ct);
    return -1;
  }
  const int64_t kH = ct.shape[0], kW = rt.shape[0];
  int rc = -1;
  if (cp_tensor_empty4(&w, C, 1, kH, kW, e) == 0) {
    /* The weight the op stands for: every channel filtered by col x row. */
    const float *cv = cp_tensor_data(&ct), *rv = cp_tensor_data(&rt);
    float *wp = cp_tensor_data(&w);
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < kH; i++)
        for (int64_t j = 0; j < kW; j++)
          wp[(c * kH + i) * kW + j] = cv[i] * rv[j];
    cp_conv_params q = *p;
    q.transposed = 0;
    q.groups = C;
    cp_sep_factors f = {cv, rv, 0, 0};
    rc = run_conv(out, x, &w, bias, &q, "sep_conv2d", cp_conv2d_ref,
                  cp_conv2d_fast, &f, e);
    cp_tensor_release(&w);
  }
  cp_tensor_release(&rt);
  cp_tensor_release(&ct);
  return rc;
}

/* ====================================================================== */
/* Padding as a tensor op (F.pad for 2-D)                                  */
/* ====================================================================== */

int cp_pad2d(cp_tensor *out, const cp_tensor *x, const int64_t *pad,
             cp_padmode mode, cp_err *e) {
  memset(out, 0, sizeof *out);
  char b1[160];
  if (x->ndim < 2)
    return cp_fail(e, "input: expected at least 2 dimensions, got %s",
                   cp_shape_str(x->ndim, x->shape, b1, sizeof b1));
  for (int i = 0; i < 4; i++)
    if (pad[i] < 0)
      return cp_fail(e, "padding: negative padding is not supported");
  int nd = x->ndim;
  int64_t H = x->shape[nd - 2], W = x->shape[nd - 1];
  if (cp_check_padmode(mode, pad, H, W, e)) return -1;
  int64_t shape[CP_MAXDIM];
  memcpy(shape, x->shape, sizeof shape);
  shape[nd - 2] = H + pad[0] + pad[1];
  shape[nd - 1] = W + pad[2] + pad[3];
  if (cp_tensor_empty(out, nd, shape, e)) return -1;
  cp_tensor xc;
  if (cp_tensor_contiguous(&xc, x, e)) {
    cp_tensor_release(out);
    return -1;
  }
  const float *src = cp_tensor_data(&xc);
  float *dst = cp_tensor_data(out);
  int64_t planes = 1;
  for (int d = 0; d < nd - 2; d++) planes *= shape[d];
  int64_t PH = shape[nd - 2], PW = shape[nd - 1];
  for (int64_t pl = 0; pl < planes; pl++)
    for (int64_t r = 0; r < PH; r++) {
      int64_t sr = cp_pad_index(r - pad[0], H, mode);
      for (int64_t c = 0; c < PW; c++) {
        int64_t sc = cp_pad_index(c - pad[2], W, mode);
        dst[(pl * PH + r) * PW + c] =
            (sr < 0 || sc < 0) ? 0.0f : src[(pl * H + sr) * W + sc];
      }
    }
  cp_tensor_release(&xc);
  return 0;
}
