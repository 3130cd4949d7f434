/* code_keras.c - the Keras 3 program of a view (channels_last, HWIO), or
 * why Keras cannot express it; see code.h for what it writes and code.c
 * for the shared parts. */
#include <stdio.h>
#include <string.h>

#include "viz/code_priv.h"

/* ====================================================================== */
/* Keras                                                                   */
/* ====================================================================== */

/* TF/Keras "same" padding of one dimension: (before, after). */
static void tf_same(int64_t in, int64_t k, int64_t s, int64_t d,
                    int64_t *before, int64_t *after) {
  int64_t out = (in + s - 1) / s, ke = d * (k - 1) + 1;
  int64_t t = (out - 1) * s + ke - in;
  if (t < 0) t = 0;
  *before = t / 2;
  *after = t - t / 2;
}

/* Why Keras cannot express the view, or NULL when it can. */
const char *vzc_keras_reason(const prob *P, char *b, size_t n) {
  const vz_view *v = P->v;
  if (!v->ok) {
    snprintf(b, n, "the parameters are invalid (%s)", v->err);
    return b;
  }
  if ((P->s[0] > 1 || P->s[1] > 1) && (P->d[0] > 1 || P->d[1] > 1)) {
    snprintf(b, n, "Keras layers do not take strides > 1 together with "
                   "dilation_rate > 1 (here strides %lldx%lld, dilation "
                   "%lldx%lld)",
             (long long)P->s[0], (long long)P->s[1], (long long)P->d[0],
             (long long)P->d[1]);
    return b;
  }
  if (!P->transposed && P->mode != CP_PAD_ZEROS && !pads_zero(P)) {
    snprintf(b, n, "padding_mode=\"%s\": Keras pads with zeros only "
                   "(padding=\"same\", ZeroPadding2D); no layer pads by %s",
             cp_padmode_name((cp_padmode)P->mode),
             P->mode == CP_PAD_REFLECT     ? "reflection"
             : P->mode == CP_PAD_REPLICATE ? "repeating the edge"
                                           : "wrapping around");
    return b;
  }
  if (P->transposed && P->G > 1) {
    snprintf(b, n, "Conv2DTranspose has no groups argument (here groups="
                   "%lld)", (long long)P->G);
    return b;
  }
  if (P->transposed)
    for (int i = 0; i < 2; i++) {
      int64_t after = P->pad[2 * i + 1];
      int64_t q = P->op[i] > after ? P->op[i] - after : 0;
      if (q >= P->s[i]) {
        snprintf(b, n, "the output rows past the canvas need "
                       "output_padding %lld, and Conv2DTranspose needs "
                       "output_padding < strides (%lld)",
                 (long long)q, (long long)P->s[i]);
        return b;
      }
    }
  return NULL;
}

/* Keras's padding for a conv2d with zero padding: "same" or "valid", with
 * a ZeroPadding2D first when neither matches (returns 1). */
static int keras_padding(const prob *P, const char **arg) {
  const vz_view *v = P->v;
  if (pads_zero(P)) {
    *arg = "valid";
    return 0;
  }
  int64_t t, bo, l, r;
  tf_same(v->x.shape[2], P->kH, P->s[0], P->d[0], &t, &bo);
  tf_same(v->x.shape[3], P->kW, P->s[1], P->d[1], &l, &r);
  if (t == P->pad[0] && bo == P->pad[1] && l == P->pad[2] && r == P->pad[3]) {
    *arg = "same";
    return 0;
  }
  *arg = "valid";
  return 1;
}

static void keras_zeropad(sb *o, const prob *P, const char *out,
                          const char *in) {
  vzc_printf(o, "%s = keras.layers.ZeroPadding2D(((%lld, %lld), (%lld, %lld)"
                "))(%s)  # ((top, bottom), (left, right))\n",
             out, (long long)P->pad[0], (long long)P->pad[1],
             (long long)P->pad[2], (long long)P->pad[3], in);
}

/* Strides, dilation as Keras writes them: "(2, 1)". */
typedef struct kargs {
  char s[48], d[48];
  const char *bias, *wts;     /* use_bias, the set_weights list */
} kargs;

static void keras_transposed(sb *o, const prob *P, const kargs *A,
                             const char *xin) {
  /* PyTorch's result is the full canvas cropped by padding (top/left) and
   * padding - output_padding (bottom/right); past the canvas, rows that
   * hold only the bias: Keras's output_padding (at the bottom/right) */
  int64_t q[2], crop[2];
  for (int i = 0; i < 2; i++) {
    int64_t after = P->pad[2 * i + 1];
    q[i] = P->op[i] > after ? P->op[i] - after : 0;
    crop[i] = after > P->op[i] ? after - P->op[i] : 0;
  }
  vzc_printf(o, "conv = keras.layers.Conv2DTranspose(\n"
                "    %lld, (%lld, %lld), strides=%s,\n"
                "    padding=\"valid\", output_padding=(%lld, %lld),\n"
                "    dilation_rate=%s, use_bias=%s)\n",
             (long long)P->O, (long long)P->kH, (long long)P->kW, A->s,
             (long long)q[0], (long long)q[1], A->d, A->bias);
  vzc_printf(o, "xin = %s\nconv.build(xin.shape)\nconv.set_weights(%s)\n"
                "y = conv(xin)\n", xin, A->wts);
  if (P->pad[0] || P->pad[2] || crop[0] || crop[1])
    vzc_printf(o, "y = keras.layers.Cropping2D(((%lld, %lld), (%lld, %lld)"
                  "))(y)  # as PyTorch crops: padding, padding - "
                  "output_padding\n",
               (long long)P->pad[0], (long long)crop[0], (long long)P->pad[2],
               (long long)crop[1]);
}

/* Partial convolution after `conv` was built: S, the ratio, y, new_mask
 * (NHWC; y is transposed by the caller). */
static void keras_partial(sb *o, const prob *P, const kargs *A,
                          const int64_t ms[4], const char *parg, int zp) {
  int multi = P->v->multi;
  int64_t W = (multi ? P->C : 1) * P->kH * P->kW;
  vzc_printf(o, "# partial convolution (NVIDIA PartialConv2d, multi_channel="
                "%s): S = the mask summed under each window\n",
             multi ? "True" : "False");
  if (multi && ms[1] == 1 && P->C > 1) /* one mask for C channels */
    vzc_printf(o, "m = np.repeat(mask, %lld, axis=3)\n", (long long)P->C);
  else
    vzc_printf(o, "m = mask%s\n", multi || ms[1] == 1 ? "" : "[..., :1]");
  if (zp) keras_zeropad(o, P, "m", "m");
  vzc_printf(o, "ones = keras.layers.Conv2D(\n"
                "    %lld, (%lld, %lld), strides=%s,\n"
                "    padding=\"%s\", dilation_rate=%s,\n"
                "    use_bias=False)\n",
             (long long)(multi ? P->O : 1), (long long)P->kH, (long long)P->kW,
             A->s, parg, A->d);
  vzc_printf(o, "ones.build(m.shape)\nones.set_weights([np.ones((%lld, %lld, "
                "%lld, %lld), \"float32\")])\n",
             (long long)P->kH, (long long)P->kW, (long long)(multi ? P->C : 1),
             (long long)(multi ? P->O : 1));
  vzc_puts(o, "S = keras.ops.convert_to_numpy(ones(m))\n");
  vzc_printf(o, "ratio = np.float32(%lld) / (S + np.float32(1e-8)) * "
                "np.clip(S, 0, 1)\n", (long long)W);
  vzc_puts(o, "raw = keras.ops.convert_to_numpy(conv(xin))\n");
  if (P->v->has_b)
    vzc_puts(o, "y = ((raw - b) * ratio + b) * np.clip(S, 0, 1)\n");
  else
    vzc_puts(o, "y = raw * ratio * np.clip(S, 0, 1)\n");
  vzc_puts(o, "new_mask = np.clip(S, 0, 1).transpose(0, 3, 1, 2)\n");
}

static void keras_conv2d(sb *o, const prob *P, const kargs *A,
                         const int64_t ms[4], const char *xin) {
  const char *parg;
  int zp = keras_padding(P, &parg);
  if (zp) keras_zeropad(o, P, "xin", xin);
  else vzc_printf(o, "xin = %s\n", xin);
  vzc_printf(o, "conv = keras.layers.Conv2D(\n"
                "    %lld, (%lld, %lld), strides=%s,\n"
                "    padding=\"%s\", dilation_rate=%s,\n"
                "    groups=%lld, use_bias=%s)\n",
             (long long)P->O, (long long)P->kH, (long long)P->kW, A->s, parg,
             A->d, (long long)P->G, A->bias);
  vzc_printf(o, "conv.build(xin.shape)\nconv.set_weights(%s)\n", A->wts);
  if (P->v->partial) keras_partial(o, P, A, ms, parg, zp);
  else vzc_puts(o, "y = conv(xin)\n");
}

void vzc_keras(gen *G, const prob *P) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  char xs[96], ws[96];
  vzc_shape(xs, sizeof xs, 4, v->x.shape, "x");
  vzc_shape(ws, sizeof ws, 4, v->w.shape, "x");
  vzc_printf(o, "# Keras 3 (channels_last): what convplay draws (%s of x %s "
                "with w %s)\n", P->transposed ? "Conv2DTranspose" : "Conv2D",
             xs, ws);
  vzc_puts(o, "import numpy as np\nimport keras\n");
  int64_t ms[4] = {0};
  vzc_tensors(G, P, ms);
  /* layouts: NHWC input, HWIO kernel (or (kH, kW, out, in)) */
  vzc_puts(o, "x = x.transpose(0, 2, 3, 1)  # NCHW -> NHWC\n");
  if (P->transposed)
    vzc_puts(o, "k = w.transpose(2, 3, 1, 0)  # (C_in, C_out, kH, kW) -> "
                "(kH, kW, C_out, C_in)\n");
  else
    vzc_puts(o, "k = w.transpose(2, 3, 1, 0)  # OIHW -> HWIO\n");
  if (v->has_kmask) vzc_puts(o, "k = k * M[:, :, None, None]\n");
  if (v->flip)
    vzc_puts(o, "k = k[::-1, ::-1].copy()  # true convolution: the kernel "
                "turned 180 degrees\n");
  const char *xin = "x";
  if (v->has_mask) {
    vzc_puts(o, "mask = mask.transpose(0, 2, 3, 1)\n");
    xin = "x * mask";
  }
  kargs A;
  snprintf(A.s, sizeof A.s, "(%lld, %lld)", (long long)P->s[0],
           (long long)P->s[1]);
  snprintf(A.d, sizeof A.d, "(%lld, %lld)", (long long)P->d[0],
           (long long)P->d[1]);
  A.bias = v->has_b ? "True" : "False";
  A.wts = v->has_b ? "[k, b]" : "[k]";
  if (P->transposed) keras_transposed(o, P, &A, xin);
  else keras_conv2d(o, P, &A, ms, xin);
  if (!P->transposed && v->partial)
    vzc_puts(o, "y = y.transpose(0, 3, 1, 2)  # NHWC -> NCHW, as convplay "
                "shows it\n");
  else
    vzc_puts(o, "y = keras.ops.convert_to_numpy(y).transpose(0, 3, 1, 2)  "
                "# NHWC -> NCHW, as convplay shows it\n");
  vzc_puts(o, "print(y)\n");
  if (P->G > 1 && !P->transposed)
    vzc_puts(o, "# groups > 1: TensorFlow's CPU kernels may refuse grouped "
                "convolutions; the JAX and\n# PyTorch backends run them\n");
}

