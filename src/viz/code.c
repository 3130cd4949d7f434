/* code.c - write the PyTorch / Keras program of a view (see code.h): the
 * shared parts (a growing string, numbers, the tensors as code, the
 * problem as the code sees it) and the entry points.  code_torch.c and
 * code_keras.c write the two languages (code_priv.h).
 *
 * What each program computes is what the trace computes (core/trace.c):
 *   input factor  x * mask, padded by the padding mode (F.pad)
 *   weight        w * M, turned 180 degrees for true convolution (flip)
 *   partial       S = conv2d(mask, ones) with zero padding and no groups,
 *                 ratio = W / (S + 1e-8) * clamp(S, 0, 1),
 *                 y = ((raw - b) * ratio + b) * clamp(S, 0, 1)
 *   transposed    F.conv_transpose2d; unequal padding sides as a crop.
 */
#include "viz/view_pool.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/code_priv.h"

/* ====================================================================== */
/* A growing string                                                        */
/* ====================================================================== */

static void sb_grow(sb *o, size_t add) {
  if (o->oom || o->n + add + 1 <= o->cap) return;
  size_t cap = o->cap ? o->cap : 1024;
  while (cap < o->n + add + 1) cap *= 2;
  char *p = realloc(o->s, cap);
  if (!p) {
    o->oom = 1;
    return;
  }
  o->s = p;
  o->cap = cap;
}

void vzc_put(sb *o, const char *t, size_t len) {
  sb_grow(o, len);
  if (o->oom) return;
  memcpy(o->s + o->n, t, len);
  o->n += len;
  o->s[o->n] = 0;
}

void vzc_puts(sb *o, const char *t) { vzc_put(o, t, strlen(t)); }

void vzc_printf(sb *o, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  if ((size_t)k < sizeof buf) {
    vzc_put(o, buf, (size_t)k);
    return;
  }
  sb_grow(o, (size_t)k);
  if (o->oom) return;
  va_start(ap, fmt);
  vsnprintf(o->s + o->n, (size_t)k + 1, fmt, ap);
  va_end(ap);
  o->n += (size_t)k;
}

static void vzc_spaces(sb *o, int n) {
  for (int i = 0; i < n; i++) vzc_put(o, " ", 1);
}

/* ====================================================================== */
/* Numbers                                                                 */
/* ====================================================================== */

/* The shortest decimal that reads back as the same float32, written as a
 * Python float ("1.0", "-0.25", "1e-08", float("nan")). */
static void fmt_f32(char *b, size_t n, float v) {
  if (isnan(v)) {
    snprintf(b, n, "float(\"nan\")");
    return;
  }
  if (isinf(v)) {
    snprintf(b, n, v > 0 ? "float(\"inf\")" : "-float(\"inf\")");
    return;
  }
  if (v == truncf(v) && fabsf(v) < 1e15f) {
    snprintf(b, n, "%.1f", (double)v); /* whole numbers as "10.0" */
    return;
  }
  for (int p = 1; p <= 9; p++) {
    snprintf(b, n, "%.*g", p, (double)v);
    if ((float)strtod(b, NULL) == v) break;
  }
  if (!strpbrk(b, ".en")) {
    size_t l = strlen(b);
    if (l + 3 <= n) memcpy(b + l, ".0", 3);
  }
}

/* "3" when both are equal, "(3, 1)" otherwise. */
void vzc_pair(char *b, size_t n, int64_t a, int64_t c) {
  if (a == c) snprintf(b, n, "%lld", (long long)a);
  else snprintf(b, n, "(%lld, %lld)", (long long)a, (long long)c);
}

/* "1, 2, 5, 5" (sep ", ") or "1x2x5x5" (sep "x"). */
void vzc_shape(char *b, size_t n, int nd, const int64_t *s,
                      const char *sep) {
  int o = 0;
  b[0] = 0;
  for (int i = 0; i < nd && o < (int)n; i++)
    o += snprintf(b + o, n - (size_t)o, "%s%lld", i ? sep : "",
                  (long long)s[i]);
}

/* ====================================================================== */
/* Tensors                                                                 */
/* ====================================================================== */

/* Nested list of d (shape s[0..nd-1]) whose '[' sits at column col. */
static void nested(sb *o, const float *d, int nd, const int64_t *s, int col) {
  char b[48];
  vzc_puts(o, "[");
  if (nd == 1) {
    for (int64_t i = 0; i < s[0]; i++) {
      fmt_f32(b, sizeof b, d[i]);
      vzc_printf(o, "%s%s", i ? ", " : "", b);
    }
  } else {
    int64_t inner = 1;
    for (int i = 1; i < nd; i++) inner *= s[i];
    for (int64_t i = 0; i < s[0]; i++) {
      if (i) {
        vzc_puts(o, ",\n");
        vzc_spaces(o, col + 1);
      }
      nested(o, d + i * inner, nd - 1, s + 1, col + 1);
    }
  }
  vzc_puts(o, "]");
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The float32 values as base64 of their little-endian bytes. */
static void base64_f32(sb *o, const float *d, int64_t n) {
  int64_t nb = n * 4;
  unsigned char q[3];
  int k = 0;
  for (int64_t i = 0; i < nb; i++) {
    uint32_t u;
    memcpy(&u, &d[i / 4], 4);
    q[k++] = (unsigned char)(u >> (8 * (i % 4)));
    if (k == 3 || i == nb - 1) {
      char out[4];
      out[0] = b64chars[q[0] >> 2];
      out[1] = b64chars[((q[0] & 3) << 4) | (k > 1 ? q[1] >> 4 : 0)];
      out[2] = k > 1 ? b64chars[((q[1] & 15) << 2) | (k > 2 ? q[2] >> 6 : 0)]
                     : '=';
      out[3] = k > 2 ? b64chars[q[2] & 63] : '=';
      vzc_put(o, out, 4);
      k = 0;
    }
  }
}

/* name = the tensor, in PyTorch's layout (NCHW / OIHW); comment (may be
 * NULL) ends the line. */
void vzc_tensor(gen *G, const char *name, const float *d, int nd,
                       const int64_t *s, const char *comment) {
  sb *o = &G->o;
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= s[i];
  char sh[96], shx[96];
  vzc_shape(sh, sizeof sh, nd, s, ", ");
  vzc_shape(shx, sizeof shx, nd, s, "x");
  int keras = G->lang == VZ_CODE_KERAS;
  if (n == 0) {
    if (keras) vzc_printf(o, "%s = np.zeros((%s%s), \"float32\")", name, sh,
                          nd == 1 ? "," : "");
    else vzc_printf(o, "%s = torch.zeros(%s)", name, sh);
  } else if (n <= VZ_CODE_LITERAL) {
    int col = (int)strlen(name) + (keras ? 12 : 16);
    vzc_printf(o, "%s = %s(", name, keras ? "np.array" : "torch.tensor");
    nested(o, d, nd, s, col);
    vzc_puts(o, keras ? ", \"float32\")" : ")");
  } else if (n <= VZ_CODE_EXACT) {
    G->need_b64 = 1;
    vzc_printf(o, "%s = f32(\"", name);
    base64_f32(o, d, n);
    vzc_printf(o, "\", %s)", sh);
  } else {
    G->need_rand = 1;
    if (keras)
      vzc_printf(o, "%s = rng.standard_normal((%s)).astype(\"float32\")", name,
                 sh);
    else
      vzc_printf(o, "%s = torch.randn(%s)", name, sh);
    vzc_printf(o, "  # %s values: too many to write; random stand-ins, so "
                  "the numbers differ from convplay's",
               shx);
    comment = NULL;
  }
  if (comment) vzc_printf(o, "  # %s", comment);
  vzc_puts(o, "\n");
}

/* The input mask in its smallest exact broadcast shape: (1|N, 1|C, H, W). */
static void mask_shape(const vz_view *v, int64_t ms[4]) {
  const float *m = cp_tensor_data(&v->mask);
  const int64_t *s = v->x.shape;
  int64_t plane = s[2] * s[3], per_n = s[1] * plane;
  int same_c = 1, same_n = 1;
  for (int64_t n = 0; n < s[0] && same_c; n++)
    for (int64_t c = 1; c < s[1] && same_c; c++)
      same_c = !memcmp(m + n * per_n, m + n * per_n + c * plane,
                       sizeof *m * (size_t)plane);
  for (int64_t n = 1; n < s[0] && same_n; n++)
    same_n = !memcmp(m, m + n * per_n, sizeof *m * (size_t)per_n);
  ms[0] = same_n ? 1 : s[0];
  ms[1] = same_c ? 1 : s[1];
  ms[2] = s[2];
  ms[3] = s[3];
}

/* The mask's values in shape ms (a copy; NULL when out of memory). */
static float *mask_values(const vz_view *v, const int64_t ms[4]) {
  const float *m = cp_tensor_data(&v->mask);
  const int64_t *s = v->x.shape;
  int64_t plane = s[2] * s[3];
  float *out = malloc(sizeof *out * (size_t)(ms[0] * ms[1] * plane + 1));
  if (!out) return NULL;
  for (int64_t n = 0; n < ms[0]; n++)
    for (int64_t c = 0; c < ms[1]; c++)
      memcpy(out + (n * ms[1] + c) * plane, m + (n * s[1] + c) * plane,
             sizeof *m * (size_t)plane);
  return out;
}

/* ====================================================================== */
/* The problem as the code sees it                                         */
/* ====================================================================== */

static void prob_init(prob *P, const vz_view *v) {
  memset(P, 0, sizeof *P);
  P->v = v;
  P->req = &v->req;
  const cp_conv_params *p = v->ok ? &v->g.p : &v->req;
  P->kH = v->w.shape[2];
  P->kW = v->w.shape[3];
  P->C = v->x.shape[1];
  P->transposed = p->transposed;
  P->G = p->groups;
  P->O = p->transposed ? v->w.shape[1] * (P->G > 0 ? P->G : 1)
                       : v->w.shape[0];
  P->mode = p->mode;
  for (int i = 0; i < 2; i++) {
    P->s[i] = p->stride[i];
    P->d[i] = p->dilation[i];
    P->op[i] = p->out_pad[i];
  }
  if (v->ok) {
    memcpy(P->pad, v->g.p.pad, sizeof P->pad);
  } else if (p->padspec == CP_PADSPEC_SAME) {
    cp_same_pad(P->kH, P->d[0], &P->pad[0], &P->pad[1]);
    cp_same_pad(P->kW, P->d[1], &P->pad[2], &P->pad[3]);
  } else if (p->padspec == CP_PADSPEC_EXPLICIT) {
    memcpy(P->pad, p->pad, sizeof P->pad);
  }
}



/* x, w, b, mask, M: the tensors, with the helpers they need first. */
void vzc_tensors(gen *G, const prob *P, int64_t ms[4]) {
  const vz_view *v = P->v;
  sb body = G->o;
  /* write the tensors into a second buffer, then the helpers before them */
  G->o = (sb){0};
  vzc_tensor(G, "x", cp_tensor_data(&v->x), 4, v->x.shape,
             G->lang == VZ_CODE_KERAS ? "NCHW, as convplay holds it"
                                      : "input (N, C, H, W)");
  if (!v->pool) /* a pooling window has no weights */
  vzc_tensor(G, "w", cp_tensor_data(&v->w), 4, v->w.shape,
             P->transposed ? "weight (C_in, C_out/groups, kH, kW)"
                           : "weight (C_out, C_in/groups, kH, kW)");
  if (v->pool == VZ_POOL_UNPOOL) /* whole numbers, exact as float32 */
    vzc_tensor(G, "indices", cp_tensor_data(&v->ind), 4, v->ind.shape,
               "max_pool2d's indices: flat h*W_out + w in each plane");
  if (v->has_b)
    vzc_tensor(G, "b", cp_tensor_data(&v->b), 1, v->b.shape, "bias");
  if (v->has_mask) {
    mask_shape(v, ms);
    float *m = mask_values(v, ms);
    if (!m) G->o.oom = 1;
    else vzc_tensor(G, "mask", m, 4, ms, "input mask (broadcasts over x)");
    free(m);
  }
  if (v->has_kmask)
    vzc_tensor(G, "M", cp_tensor_data(&v->kmask), 2, v->w.shape + 2,
               "kernel mask (kH, kW), the same for every channel");
  sb tens = G->o;
  G->o = body;
  int keras = G->lang == VZ_CODE_KERAS;
  if (G->need_b64) {
    vzc_puts(&G->o, "import base64\n");
    if (keras)
      vzc_puts(&G->o,
               "\n\ndef f32(text, *shape):  # exact float32 values "
               "(little-endian bytes)\n"
               "    return np.frombuffer(base64.b64decode(text), "
               "\"<f4\").reshape(shape).copy()\n\n");
    else
      vzc_puts(&G->o,
               "\n\ndef f32(text, *shape):  # exact float32 values "
               "(little-endian bytes)\n"
               "    return torch.frombuffer(bytearray(base64.b64decode(text)),"
               " dtype=torch.float32).reshape(shape)\n\n");
  }
  vzc_puts(&G->o, "\n");
  if (G->need_rand)
    vzc_puts(&G->o, keras ? "rng = np.random.default_rng(0)\n"
                          : "torch.manual_seed(0)\n");
  if (tens.s) vzc_put(&G->o, tens.s, tens.n);
  if (tens.oom) G->o.oom = 1;
  free(tens.s);
  vzc_puts(&G->o, "\n");
}

/* ====================================================================== */
/* Pooling views                                                           */
/* ====================================================================== */

/* "(a, b)" of a pool pair, or the W value alone for a 1-D view. */
static void pool_pair(char *b, size_t n, const vz_view *v, const int64_t *a) {
  if (v->dims1) snprintf(b, n, "%lld", (long long)a[1]);
  else vzc_pair(b, n, a[0], a[1]);
}

/* Why Keras' MaxPooling / AveragePooling cannot compute this, or NULL. */
static const char *pool_keras_reason(const vz_view *v,
                                     const cp_pool_params *p) {
  if (v->pool == VZ_POOL_UNPOOL) return "Keras has no max unpooling layer";
  if (p->pad[0] || p->pad[1])
    return "Keras pooling pads only as \"same\" (TensorFlow's rule), not "
           "with PyTorch's symmetric padding";
  if (p->ceil_mode) return "Keras pooling has no ceil_mode";
  if (v->pool == VZ_POOL_MAX && (p->dilation[0] > 1 || p->dilation[1] > 1))
    return "Keras pooling has no dilation";
  if (v->ret_idx) return "Keras pooling does not return indices";
  if (p->divisor_override) return "Keras pooling has no divisor_override";
  return NULL;
}

static void pool_code(gen *G, const prob *P, int *expressible) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  cp_pool_params p;
  vz_pool_params(v, &p);
  const char *name = vz_pool_name(v);
  int keras = G->lang == VZ_CODE_KERAS, is_max = v->pool == VZ_POOL_MAX;
  if (keras) {
    const char *why = pool_keras_reason(v, &p);
    if (why) {
      if (expressible) *expressible = 0;
      vzc_printf(o, "not expressible in Keras: %s\n", why);
      return;
    }
  }
  char xs[96], k[48], st[48], pd[48], dl[48];
  vzc_shape(xs, sizeof xs, 4, v->x.shape, "x");
  pool_pair(k, sizeof k, v, p.kernel);
  pool_pair(st, sizeof st, v, p.stride);
  pool_pair(pd, sizeof pd, v, p.pad);
  pool_pair(dl, sizeof dl, v, p.dilation);
  int64_t ms[4] = {0};
  if (keras) {
    vzc_printf(o, "# Keras 3 (channels_last): what convplay draws (%s of x "
                 "%s)\n", name, xs);
    vzc_puts(o, "import numpy as np\nimport keras\n");
    vzc_tensors(G, P, ms);
    const char *layer = is_max ? "MaxPooling" : "AveragePooling";
    if (v->dims1) {
      vzc_puts(o, "x = x[:, :, 0, :].transpose(0, 2, 1)  # (N, C, 1, L) -> "
                 "(N, L, C)\n");
      vzc_printf(o, "y = keras.layers.%s1D(pool_size=%s, strides=%s, "
                   "padding=\"valid\")(x)\n", layer, k, st);
      vzc_puts(o, "y = keras.ops.convert_to_numpy(y).transpose(0, 2, 1)"
                 "[:, :, None, :]  # (N, C, 1, L_out), as convplay's output "
                 "panel\n");
    } else {
      vzc_puts(o, "x = x.transpose(0, 2, 3, 1)  # NCHW -> NHWC\n");
      vzc_printf(o, "y = keras.layers.%s2D(pool_size=%s, strides=%s, "
                   "padding=\"valid\")(x)\n", layer, k, st);
      vzc_puts(o, "y = keras.ops.convert_to_numpy(y).transpose(0, 3, 1, 2)  "
                 "# NHWC -> NCHW, as convplay shows it\n");
    }
    if (!is_max && !p.count_include_pad)
      vzc_puts(o, "# (no padding: count_include_pad changes nothing)\n");
    vzc_puts(o, "print(y)\n");
    return;
  }
  vzc_printf(o, "# PyTorch: what convplay draws (%s of x %s)\n", name, xs);
  if (!v->ok)
    vzc_printf(o, "# convplay shows an error for these parameters, and so "
                 "does PyTorch:\n#   %s\n", v->err);
  vzc_puts(o, "import torch\nimport torch.nn.functional as F\n");
  vzc_tensors(G, P, ms);
  if (v->dims1)
    vzc_puts(o, "x = x.squeeze(2)  # (N, C, 1, L) -> (N, C, L)\n");
  const char *ceil = p.ceil_mode ? "True" : "False";
  if (v->pool == VZ_POOL_UNPOOL) {
    vzc_printf(o, "y = F.max_unpool2d(x, indices.long(), kernel_size=%s, "
                  "stride=%s, padding=%s,\n    output_size=(%lld, %lld))\n",
               k, st, pd, (long long)v->unpool_hw[0],
               (long long)v->unpool_hw[1]);
  } else if (is_max) {
    vzc_printf(o, "%s = F.%s(x, kernel_size=%s, stride=%s, padding=%s,\n"
                 "    dilation=%s, ceil_mode=%s%s)\n",
              v->ret_idx ? "y, indices" : "y", name, k, st, pd, dl, ceil,
              v->ret_idx ? ", return_indices=True" : "");
  } else {
    char dv[32] = "None";
    if (p.divisor_override)
      snprintf(dv, sizeof dv, "%lld", (long long)p.divisor_override);
    vzc_printf(o, "y = F.%s(x, kernel_size=%s, stride=%s, padding=%s,\n"
                 "    ceil_mode=%s, count_include_pad=%s%s%s)\n",
              name, k, st, pd, ceil, p.count_include_pad ? "True" : "False",
              v->dims1 ? "" : ", divisor_override=", v->dims1 ? "" : dv);
  }
  if (v->dims1)
    vzc_puts(o, "y = y.unsqueeze(2)  # (N, C, 1, L_out), as convplay's output "
               "panel\n");
  vzc_puts(o, "print(y)\n");
  if (v->ret_idx)
    vzc_puts(o, "print(indices)  # the argmax of each window: flat h*W + w in "
               "its plane, 0-based\n");
}

/* ====================================================================== */
/* Entry points                                                            */
/* ====================================================================== */

char *vz_code(const vz_view *v, vz_code_lang lang, int *expressible) {
  gen G;
  memset(&G, 0, sizeof G);
  G.lang = lang;
  prob P;
  prob_init(&P, v);
  if (expressible) *expressible = 1;
  if (v->pool) {
    pool_code(&G, &P, expressible);
  } else if (v->grad) {
    if (lang == VZ_CODE_KERAS) {
      if (expressible) *expressible = 0;
      vzc_puts(&G.o, "not expressible in Keras: convplay writes the backward "
                     "pass as PyTorch autograd code only\n");
    } else {
      vzc_torch_grad(&G, &P);
    }
  } else if (v->cmpview && lang == VZ_CODE_KERAS) {
    if (expressible) *expressible = 0;
    vzc_puts(&G.o, "not expressible in Keras: convplay writes the "
                   "side-by-side comparison as PyTorch code only\n");
  } else if (lang == VZ_CODE_KERAS) {
    char why[700];
    const char *r = vzc_keras_reason(&P, why, sizeof why);
    if (r) {
      if (expressible) *expressible = 0;
      vzc_printf(&G.o, "not expressible in Keras: %s\n", r);
    } else {
      vzc_keras(&G, &P);
    }
  } else {
    vzc_torch(&G, &P);
  }
  if (G.o.oom) {
    free(G.o.s);
    return NULL;
  }
  if (!G.o.s) return calloc(1, 1);
  return G.o.s;
}

int vz_code_parse_lang(const char *s, vz_code_lang *lang) {
  if (!strcmp(s, "pytorch") || !strcmp(s, "torch")) *lang = VZ_CODE_PYTORCH;
  else if (!strcmp(s, "keras")) *lang = VZ_CODE_KERAS;
  else return -1;
  return 0;
}

const char *vz_code_lang_name(vz_code_lang lang) {
  return lang == VZ_CODE_KERAS ? "keras" : "pytorch";
}

static vz_clipboard_fn clip_hook;

void vz_code_set_clipboard(vz_clipboard_fn fn) { clip_hook = fn; }

int vz_code_copy(vz_view *v) {
  if (!clip_hook) return 0;
  char *t = vz_code(v, v->code == 2 ? VZ_CODE_KERAS : VZ_CODE_PYTORCH, NULL);
  if (!t) return 0;
  clip_hook(t);
  free(t);
  return 1;
}

