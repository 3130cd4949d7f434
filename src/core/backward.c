/* backward.c - conv2d / conv_transpose2d gradients: the identities of
 * backward.h on the forward ops, and the choice of a fast path
 * (grad_kernels.c) where the shape allows one. */
#include "backward.h"

#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "grad_kernels.h"
#include "threads.h"
#include "unfold.h"

/* ====================================================================== */
/* Helpers                                                                  */
/* ====================================================================== */

int cp_pad2d_backward(cp_tensor *out, const cp_tensor *g, int64_t H,
                      int64_t W, const int64_t *pad, cp_padmode mode,
                      cp_err *e) {
  memset(out, 0, sizeof *out);
  int nd = g->ndim;
  int64_t shape[CP_MAXDIM];
  memcpy(shape, g->shape, sizeof shape);
  int64_t PH = shape[nd - 2], PW = shape[nd - 1];
  if (PH != H + pad[0] + pad[1] || PW != W + pad[2] + pad[3])
    return cp_fail(e, "grad: padded size does not match the input");
  shape[nd - 2] = H;
  shape[nd - 1] = W;
  if (cp_tensor_zeros(out, nd, shape, e)) return -1;
  int64_t n = cp_tensor_numel(out);
  if (n == 0) return 0;
  cp_tensor gc;
  if (cp_tensor_contiguous(&gc, g, e)) {
    cp_tensor_release(out);
    return -1;
  }
  const float *src = cp_tensor_data(&gc);
  float *dst = cp_tensor_data(out);
  for (int64_t pl = 0; pl < n / (H * W); pl++)
    for (int64_t r = 0; r < PH; r++) {
      int64_t sr = cp_pad_index(r - pad[0], H, mode);
      for (int64_t c = 0; c < PW; c++) {
        int64_t sc = cp_pad_index(c - pad[2], W, mode);
        if (sr >= 0 && sc >= 0)
          dst[(pl * H + sr) * W + sc] += src[(pl * PH + r) * PW + c];
      }
    }
  cp_tensor_release(&gc);
  return 0;
}

/* A 4-D view of a 4-D or (unsqueezed) 3-D tensor. */
static int as4(cp_tensor *out, const cp_tensor *t, cp_err *e) {
  if (t->ndim == 3) return cp_tensor_unsqueeze(out, t, 0, e);
  cp_tensor_share(out, t);
  return 0;
}

/* Back to x's rank. */
static int unbatch(cp_tensor *t, int was3, cp_err *e) {
  if (!was3 || t->st == NULL) return 0;
  cp_tensor s;
  if (cp_tensor_squeeze(&s, t, 0, e)) return -1;
  cp_tensor_release(t);
  *t = s;
  return 0;
}

/* grad_bias: gy (N, O, OH, OW) summed over N, OH, OW; channels split over
 * threads, each sum in eight double chains (one would wait on every add). */
typedef struct bias_job {
  const float *p;
  float *gb;
  int64_t N, O, L;
} bias_job;

static void bias_work(int tid, int nth, void *ctx) {
  const bias_job *J = ctx;
  for (int64_t o = J->O * tid / nth; o < J->O * (tid + 1) / nth; o++) {
    double s[8] = {0};
    for (int64_t n = 0; n < J->N; n++) {
      const float *q = J->p + (n * J->O + o) * J->L;
      int64_t l = 0;
      for (; l + 8 <= J->L; l += 8)
        for (int k = 0; k < 8; k++) s[k] += q[l + k];
      for (; l < J->L; l++) s[0] += q[l];
    }
    for (int k = 1; k < 8; k++) s[0] += s[k];
    J->gb[o] = (float)s[0];
  }
}

static int bias_grad(cp_tensor *gb, const cp_tensor *gy4, int64_t O,
                     cp_err *e) {
  int64_t shape[1] = {O};
  if (cp_tensor_zeros(gb, 1, shape, e)) return -1;
  if (cp_tensor_numel(gy4) == 0) return 0;
  cp_tensor c;
  if (cp_tensor_contiguous(&c, gy4, e)) return -1;
  int64_t Oy = gy4->shape[1] < O ? gy4->shape[1] : O;
  bias_job J = {cp_tensor_data(&c), cp_tensor_data(gb), gy4->shape[0], Oy,
                gy4->shape[2] * gy4->shape[3]};
  int64_t n = cp_tensor_numel(gy4);
  cp_threads_run(n < 65536 || Oy < 2 ? 1 : cp_threads_count(), bias_work, &J);
  cp_tensor_release(&c);
  return 0;
}

static int check_grad_shape(const cp_tensor *gy4, int64_t N, int64_t O,
                            int64_t OH, int64_t OW, const char *op,
                            cp_err *e) {
  if (gy4->ndim == 4 && gy4->shape[0] == N && gy4->shape[1] == O &&
      gy4->shape[2] == OH && gy4->shape[3] == OW)
    return 0;
  char b[160];
  return cp_fail(e,
                 "grad_output: expected the shape of the %s output [%lld, "
                 "%lld, %lld, %lld], but got %s",
                 op, (long long)N, (long long)O, (long long)OH, (long long)OW,
                 cp_shape_str(gy4->ndim, gy4->shape, b, sizeof b));
}

/* The correlation identity for grad_weight, one group at a time:
 * out[:, ...] (rows r0.. of dst along dim 0) = transpose(conv2d(src^T,
 * ker^T; stride sw, dilation dl, pads)) cropped to kH x kW. */
static int corr_group(const cp_tensor *dst, const cp_tensor *src,
                      const cp_tensor *ker, const int64_t *stride,
                      const int64_t *dilation, const int64_t *pad,
                      int64_t kH, int64_t kW, cp_err *e) {
  cp_tensor st, kt, r, c1, c2, rt;
  memset(&r, 0, sizeof r);
  int rc = -1;
  if (cp_tensor_transpose(&st, src, 0, 1, e)) return -1;
  if (cp_tensor_transpose(&kt, ker, 0, 1, e)) goto out1;
  cp_conv_params p;
  cp_conv_params_default(&p);
  for (int i = 0; i < 2; i++) {
    p.stride[i] = stride[i];
    p.dilation[i] = dilation[i];
  }
  memcpy(p.pad, pad, sizeof p.pad);
  if (cp_conv2d(&r, &st, &kt, NULL, &p, e)) goto out2;
  if (cp_tensor_narrow(&c1, &r, 2, 0, kH, e)) goto out3;
  if (cp_tensor_narrow(&c2, &c1, 3, 0, kW, e)) goto out4;
  if (cp_tensor_transpose(&rt, &c2, 0, 1, e)) goto out5;
  cp_tensor_copy_into(dst, &rt);
  rc = 0;
  cp_tensor_release(&rt);
out5:
  cp_tensor_release(&c2);
out4:
  cp_tensor_release(&c1);
out3:
  cp_tensor_release(&r);
out2:
  cp_tensor_release(&kt);
out1:
  cp_tensor_release(&st);
  return rc;
}

/* dst (rows [g*rows, (g+1)*rows) along dim 0 of gw) for each group g:
 * corr_group on channel slices of a and b. */
static int corr_groups(cp_tensor *gw, const cp_tensor *a, int64_t a_per,
                       const cp_tensor *b, int64_t b_per, int64_t G,
                       int64_t rows, const int64_t *stride,
                       const int64_t *dilation, const int64_t *pad,
                       cp_err *e) {
  for (int64_t gi = 0; gi < G; gi++) {
    cp_tensor as, bs, ds;
    if (cp_tensor_narrow(&as, a, 1, gi * a_per, a_per, e)) return -1;
    if (cp_tensor_narrow(&bs, b, 1, gi * b_per, b_per, e)) {
      cp_tensor_release(&as);
      return -1;
    }
    int rc = cp_tensor_narrow(&ds, gw, 0, gi * rows, rows, e);
    if (rc == 0)
      rc = corr_group(&ds, &as, &bs, stride, dilation, pad, gw->shape[2],
                      gw->shape[3], e);
    cp_tensor_release(&ds);
    cp_tensor_release(&bs);
    cp_tensor_release(&as);
    if (rc) return -1;
  }
  return 0;
}

/* Fast grad_weight: gw[gi*na + a, r] += sum_n sum_l A[n, gi*na + a, l] *
 * cols[n, gi*nb + r, l], where cols = unfold of `src` under geometry u.
 * Returns 1 when the columns would be too large (caller falls back). */
static int gemm_groups(cp_tensor *gw, const cp_tensor *A4, const cp_geom *u,
                       const cp_tensor *src, int64_t G, cp_err *e) {
  int64_t kk = u->kH * u->kW, L = u->OH * u->OW;
  int64_t rows = u->C * kk;
  if ((size_t)(u->N * rows) > CP_GRAD_BUF_LIMIT / sizeof(float) / (size_t)(L ? L : 1))
    return 1;
  int64_t shape[3] = {u->N, rows, L};
  cp_tensor cols, sc, ac;
  if (cp_tensor_empty(&cols, 3, shape, e)) return 1;
  if (cp_tensor_contiguous(&sc, src, e)) {
    cp_tensor_release(&cols);
    return -1;
  }
  if (cp_tensor_contiguous(&ac, A4, e)) {
    cp_tensor_release(&sc);
    cp_tensor_release(&cols);
    return -1;
  }
  cp_unfold_fast(u, cp_tensor_data(&sc), cp_tensor_data(&cols));
  int64_t nA = A4->shape[1], na = nA / G, nb = rows / G;
  const float *ap = cp_tensor_data(&ac), *cp = cp_tensor_data(&cols);
  float *gp = cp_tensor_data(gw);
  memset(gp, 0, (size_t)cp_tensor_numel(gw) * sizeof *gp);
  for (int64_t n = 0; n < u->N; n++)
    for (int64_t gi = 0; gi < G; gi++)
      cp_gemm_nt(na, nb, L, ap + (n * nA + gi * na) * L, L,
                 cp + (n * rows + gi * nb) * L, L, gp + gi * na * nb, nb);
  cp_tensor_release(&ac);
  cp_tensor_release(&sc);
  cp_tensor_release(&cols);
  return 0;
}

/* grad_input of a stride-1 conv2d by the gather view of the transposed
 * convolution (SEMANTICS 3b; no stride holes at stride 1): conv2d of gy
 * with the kernel flipped and in/out swapped within each group, padded
 * d(k-1) - p per side, so the forward's fast kernels (Winograd for 3x3)
 * run it.  t: the transposed problem's params.  1: not this case. */
static int gather_grad_input(cp_tensor *out, const cp_tensor *gy4,
                             const cp_tensor *w, const cp_conv_params *t,
                             int64_t kH, int64_t kW, int64_t G, cp_err *e) {
  if (t->stride[0] != 1 || t->stride[1] != 1) return 1;
  cp_conv_params c;
  cp_conv_params_default(&c);
  c.dilation[0] = t->dilation[0], c.dilation[1] = t->dilation[1];
  c.groups = G;
  int64_t span[2] = {t->dilation[0] * (kH - 1), t->dilation[1] * (kW - 1)};
  for (int i = 0; i < 4; i++) {
    c.pad[i] = span[i / 2] - t->pad[i];
    if (c.pad[i] < 0) return 1; /* a crop: the transposed loop does it */
  }
  /* f[g*Cg + ci][oo][i][j] = w[g*Og + oo][ci][kH-1-i][kW-1-j], in one
   * pass (the view form needs a permuted copy and a flip) */
  const int64_t O = w->shape[0], Cg = w->shape[1], Og = O / G, kk = kH * kW;
  int64_t s4[4] = {G * Cg, Og, kH, kW};
  cp_tensor wc, f;
  if (cp_tensor_contiguous(&wc, w, e)) return -1;
  if (cp_tensor_empty(&f, 4, s4, e)) {
    cp_tensor_release(&wc);
    return -1;
  }
  const float *src = cp_tensor_data(&wc);
  float *dst = cp_tensor_data(&f);
  for (int64_t g = 0; g < G; g++)
    for (int64_t oo = 0; oo < Og; oo++)
      for (int64_t ci = 0; ci < Cg; ci++) {
        const float *k = src + ((g * Og + oo) * Cg + ci) * kk;
        float *d = dst + ((g * Cg + ci) * Og + oo) * kk;
        for (int64_t q = 0; q < kk; q++) d[q] = k[kk - 1 - q];
      }
  cp_tensor_release(&wc);
  /* its padding cells are real zeros times the weights: with an Inf or NaN
   * weight they would make NaN where the scatter adds nothing */
  int rc = cp_all_finite(&f) ? cp_conv2d(out, gy4, &f, NULL, &c, e) : 1;
  cp_tensor_release(&f);
  return rc;
}

/* Zero the outputs, then check the ranks of input, weight and
 * grad_output (wdims names the weight's first two dimensions). */
static int check_ranks(cp_tensor *gx, cp_tensor *gw, cp_tensor *gb,
                       const cp_tensor *x, const cp_tensor *w,
                       const cp_tensor *gy, const char *op,
                       const char *wdims, cp_err *e) {
  char b1[160];
  cp_tensor *outs[3] = {gx, gw, gb};
  for (int i = 0; i < 3; i++)
    if (outs[i]) memset(outs[i], 0, sizeof *outs[i]);
  if (x->ndim != 3 && x->ndim != 4)
    return cp_fail(e,
                   "input: Expected 3D (unbatched) or 4D (batched) input to "
                   "%s, but got input of size: %s",
                   op, cp_shape_str(x->ndim, x->shape, b1, sizeof b1));
  if (w->ndim != 4)
    return cp_fail(e,
                   "weight: expected a 4-D weight (%s, kH, kW), but got "
                   "weight of size %s",
                   wdims, cp_shape_str(w->ndim, w->shape, b1, sizeof b1));
  if (gy->ndim != x->ndim)
    return cp_fail(e,
                   "grad_output: expected %d dimensions like the input, but "
                   "got %s",
                   x->ndim, cp_shape_str(gy->ndim, gy->shape, b1, sizeof b1));
  return 0;
}

/* ====================================================================== */
/* conv2d                                                                   */
/* ====================================================================== */

int cp_conv2d_backward(cp_tensor *gx, cp_tensor *gw, cp_tensor *gb,
                       const cp_tensor *x, const cp_tensor *w,
                       const cp_tensor *gy, const cp_conv_params *p,
                       cp_err *e) {
  if (check_ranks(gx, gw, gb, x, w, gy, "conv2d",
                  "out_channels, in_channels/groups", e))
    return -1;
  cp_tensor *outs[3] = {gx, gw, gb}; /* released on failure */
  const int was3 = x->ndim == 3;
  cp_tensor x4, gy4, xp;
  memset(&xp, 0, sizeof xp);
  if (as4(&x4, x, e)) return -1;
  if (as4(&gy4, gy, e)) {
    cp_tensor_release(&x4);
    return -1;
  }
  cp_conv_params q = *p;
  q.transposed = 0;
  cp_geom g;
  int rc = -1;
  if (cp_geom_init(&g, &q, x4.shape, w->shape, 0, 0, 0, e)) goto done;
  if (check_grad_shape(&gy4, g.N, g.O, g.OH, g.OW, "conv2d", e)) goto done;
  const int64_t *pd = g.p.pad;
  const int zeros = g.p.mode == CP_PAD_ZEROS;
  const int empty = cp_tensor_numel(&x4) == 0 || cp_tensor_numel(&gy4) == 0;
  /* The padded input of a non-zero padding mode; convolved with pad 0. */
  int64_t nopad[4] = {0, 0, 0, 0};
  const int64_t *cpad = zeros ? pd : nopad;
  if (!zeros && !empty && cp_pad2d(&xp, &x4, pd, g.p.mode, e)) goto done;
  const cp_tensor *xs = zeros || empty ? &x4 : &xp;
  const int64_t Hs = xs->shape[2], Ws = xs->shape[3];

  if (gx) {
    if (empty) {
      if (cp_tensor_zeros(gx, 4, x4.shape, e)) goto done;
    } else {
      cp_conv_params t = g.p;
      t.transposed = 1;
      t.mode = CP_PAD_ZEROS;
      memcpy(t.pad, cpad, sizeof t.pad);
      t.out_pad[0] = cp_conv_dropped_rows(Hs, g.kH, g.p.stride[0], cpad[0],
                                          cpad[1], g.p.dilation[0]);
      t.out_pad[1] = cp_conv_dropped_rows(Ws, g.kW, g.p.stride[1], cpad[2],
                                          cpad[3], g.p.dilation[1]);
      cp_tensor gs;
      int r1 = 1;
      if (cp_conv_get_impl() == CP_IMPL_AUTO && zeros)
        r1 = cp_wino_grad_input(&gs, &gy4, w, &g, e);
      if (r1 == 1 && cp_conv_get_impl() == CP_IMPL_AUTO)
        r1 = gather_grad_input(&gs, &gy4, w, &t, g.kH, g.kW, g.p.groups, e);
      if (r1 < 0) goto done;
      if (r1 == 1 && cp_conv_transpose2d(&gs, &gy4, w, NULL, &t, e))
        goto done;
      if (zeros) {
        *gx = gs;
      } else {
        int r2 = cp_pad2d_backward(gx, &gs, g.H, g.W, pd, g.p.mode, e);
        cp_tensor_release(&gs);
        if (r2) goto done;
      }
    }
    if (unbatch(gx, was3, e)) goto done;
  }
  if (gw) {
    if (cp_tensor_zeros(gw, 4, w->shape, e)) goto done;
    if (!empty) {
      int r2 = 1;
      if (cp_conv_get_impl() == CP_IMPL_AUTO) {
        cp_geom u = g;
        u.H = Hs, u.W = Ws;
        memcpy(u.p.pad, cpad, sizeof u.p.pad);
        r2 = cp_wino_grad_weight(gw, &gy4, &u, xs, g.p.groups, e);
        if (r2 == 1) r2 = gemm_groups(gw, &gy4, &u, xs, g.p.groups, e);
        if (r2 < 0) goto done;
      }
      if (r2 == 1 &&
          corr_groups(gw, xs, g.Cg, &gy4, g.Og, g.p.groups, g.Og,
                      g.p.dilation, g.p.stride, cpad, e))
        goto done;
    }
  }
  if (gb && bias_grad(gb, &gy4, w->shape[0], e)) goto done;
  rc = 0;
done:
  if (rc)
    for (int i = 0; i < 3; i++)
      if (outs[i]) cp_tensor_release(outs[i]);
  cp_tensor_release(&xp);
  cp_tensor_release(&gy4);
  cp_tensor_release(&x4);
  return rc;
}

/* ====================================================================== */
/* conv_transpose2d                                                         */
/* ====================================================================== */

int cp_conv_transpose2d_backward(cp_tensor *gx, cp_tensor *gw, cp_tensor *gb,
                                 const cp_tensor *x, const cp_tensor *w,
                                 const cp_tensor *gy,
                                 const cp_conv_params *p, cp_err *e) {
  if (check_ranks(gx, gw, gb, x, w, gy, "conv_transpose2d",
                  "in_channels, out_channels/groups", e))
    return -1;
  cp_tensor *outs[3] = {gx, gw, gb}; /* released on failure */
  const int was3 = x->ndim == 3;
  cp_tensor x4, gy4;
  if (as4(&x4, x, e)) return -1;
  if (as4(&gy4, gy, e)) {
    cp_tensor_release(&x4);
    return -1;
  }
  cp_conv_params q = *p;
  q.transposed = 1;
  cp_geom g;
  int rc = -1;
  if (cp_geom_init(&g, &q, x4.shape, w->shape, 0, 0, 0, e)) goto done;
  if (check_grad_shape(&gy4, g.N, g.O, g.OH, g.OW, "conv_transpose2d", e))
    goto done;
  const int empty = cp_tensor_numel(&x4) == 0 || cp_tensor_numel(&gy4) == 0;
  const int64_t *pd = g.p.pad;
  if (gx) {
    if (empty) {
      if (cp_tensor_zeros(gx, 4, x4.shape, e)) goto done;
    } else {
      cp_conv_params t;
      cp_conv_params_default(&t);
      memcpy(t.stride, g.p.stride, sizeof t.stride);
      memcpy(t.dilation, g.p.dilation, sizeof t.dilation);
      memcpy(t.pad, pd, sizeof t.pad);
      t.groups = g.p.groups;
      /* an output_padding of at least the stride (allowed when below the
       * dilation) gives rows past x's: they belong to no input cell */
      cp_tensor full, c1, c2;
      if (cp_conv2d(&full, &gy4, w, NULL, &t, e)) goto done;
      int r2 = cp_tensor_narrow(&c1, &full, 2, 0, g.H, e);
      if (r2 == 0) {
        r2 = cp_tensor_narrow(&c2, &c1, 3, 0, g.W, e);
        if (r2 == 0) {
          r2 = cp_tensor_contiguous(gx, &c2, e);
          cp_tensor_release(&c2);
        }
        cp_tensor_release(&c1);
      }
      cp_tensor_release(&full);
      if (r2) goto done;
    }
    if (unbatch(gx, was3, e)) goto done;
  }
  if (gw) {
    if (cp_tensor_zeros(gw, 4, w->shape, e)) goto done;
    if (!empty) {
      int r2 = 1;
      if (cp_conv_get_impl() == CP_IMPL_AUTO) {
        /* unfold gy with the scatter map: blocks = x's H x W */
        cp_geom u = g;
        u.C = g.O;
        u.H = g.OH, u.W = g.OW;
        u.OH = g.H, u.OW = g.W;
        r2 = gemm_groups(gw, &x4, &u, &gy4, g.p.groups, e);
        if (r2 < 0) goto done;
      }
      if (r2 == 1 &&
          corr_groups(gw, &gy4, g.Og, &x4, g.Cg, g.p.groups, g.Cg,
                      g.p.dilation, g.p.stride, pd, e))
        goto done;
    }
  }
  if (gb && bias_grad(gb, &gy4, g.O, e)) goto done;
  rc = 0;
done:
  if (rc)
    for (int i = 0; i < 3; i++)
      if (outs[i]) cp_tensor_release(outs[i]);
  cp_tensor_release(&gy4);
  cp_tensor_release(&x4);
  return rc;
}
