/* code.c - write the PyTorch / Keras program of a view (see code.h).
 *
 * What each program computes is what the trace computes (core/trace.c):
 *   input factor  x * mask, padded by the padding mode (F.pad)
 *   weight        w * M, turned 180 degrees for true convolution (flip)
 *   partial       S = conv2d(mask, ones) with zero padding and no groups,
 *                 ratio = W / (S + 1e-8) * clamp(S, 0, 1),
 *                 y = ((raw - b) * ratio + b) * clamp(S, 0, 1)
 *   transposed    F.conv_transpose2d; unequal padding sides as a crop.
 */
#include "viz/code.h"
#include "viz/view_pool.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ====================================================================== */
/* A growing string                                                        */
/* ====================================================================== */

typedef struct sb {
  char *s;
  size_t n, cap;
  int oom;
} sb;

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

static void sb_put(sb *o, const char *t, size_t len) {
  sb_grow(o, len);
  if (o->oom) return;
  memcpy(o->s + o->n, t, len);
  o->n += len;
  o->s[o->n] = 0;
}

static void sb_puts(sb *o, const char *t) { sb_put(o, t, strlen(t)); }

static void sb_printf(sb *o, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (k < 0) return;
  if ((size_t)k < sizeof buf) {
    sb_put(o, buf, (size_t)k);
    return;
  }
  sb_grow(o, (size_t)k);
  if (o->oom) return;
  va_start(ap, fmt);
  vsnprintf(o->s + o->n, (size_t)k + 1, fmt, ap);
  va_end(ap);
  o->n += (size_t)k;
}

static void sb_spaces(sb *o, int n) {
  for (int i = 0; i < n; i++) sb_put(o, " ", 1);
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
static void pair(char *b, size_t n, int64_t a, int64_t c) {
  if (a == c) snprintf(b, n, "%lld", (long long)a);
  else snprintf(b, n, "(%lld, %lld)", (long long)a, (long long)c);
}

static void shape_args(char *b, size_t n, int nd, const int64_t *s) {
  int o = 0;
  b[0] = 0;
  for (int i = 0; i < nd && o < (int)n; i++)
    o += snprintf(b + o, n - (size_t)o, "%s%lld", i ? ", " : "",
                  (long long)s[i]);
}

static void shape_x(char *b, size_t n, int nd, const int64_t *s) {
  int o = 0;
  b[0] = 0;
  for (int i = 0; i < nd && o < (int)n; i++)
    o += snprintf(b + o, n - (size_t)o, "%s%lld", i ? "x" : "",
                  (long long)s[i]);
}

/* ====================================================================== */
/* Tensors                                                                 */
/* ====================================================================== */

typedef struct gen {
  sb o;
  vz_code_lang lang;
  int need_b64;               /* the f32() helper is used */
  int need_rand;              /* a seeded random stand-in is used */
} gen;

/* Nested list of d (shape s[0..nd-1]) whose '[' sits at column col. */
static void nested(sb *o, const float *d, int nd, const int64_t *s, int col) {
  char b[48];
  sb_puts(o, "[");
  if (nd == 1) {
    for (int64_t i = 0; i < s[0]; i++) {
      fmt_f32(b, sizeof b, d[i]);
      sb_printf(o, "%s%s", i ? ", " : "", b);
    }
  } else {
    int64_t inner = 1;
    for (int i = 1; i < nd; i++) inner *= s[i];
    for (int64_t i = 0; i < s[0]; i++) {
      if (i) {
        sb_puts(o, ",\n");
        sb_spaces(o, col + 1);
      }
      nested(o, d + i * inner, nd - 1, s + 1, col + 1);
    }
  }
  sb_puts(o, "]");
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
      sb_put(o, out, 4);
      k = 0;
    }
  }
}

/* name = the tensor, in PyTorch's layout (NCHW / OIHW); comment (may be
 * NULL) ends the line. */
static void put_tensor(gen *G, const char *name, const float *d, int nd,
                       const int64_t *s, const char *comment) {
  sb *o = &G->o;
  int64_t n = 1;
  for (int i = 0; i < nd; i++) n *= s[i];
  char sh[96], shx[96];
  shape_args(sh, sizeof sh, nd, s);
  shape_x(shx, sizeof shx, nd, s);
  int keras = G->lang == VZ_CODE_KERAS;
  if (n == 0) {
    if (keras) sb_printf(o, "%s = np.zeros((%s%s), \"float32\")", name, sh,
                         nd == 1 ? "," : "");
    else sb_printf(o, "%s = torch.zeros(%s)", name, sh);
  } else if (n <= VZ_CODE_LITERAL) {
    int col = (int)strlen(name) + (keras ? 12 : 16);
    sb_printf(o, "%s = %s(", name, keras ? "np.array" : "torch.tensor");
    nested(o, d, nd, s, col);
    sb_puts(o, keras ? ", \"float32\")" : ")");
  } else if (n <= VZ_CODE_EXACT) {
    G->need_b64 = 1;
    sb_printf(o, "%s = f32(\"", name);
    base64_f32(o, d, n);
    sb_printf(o, "\", %s)", sh);
  } else {
    G->need_rand = 1;
    if (keras)
      sb_printf(o, "%s = rng.standard_normal((%s)).astype(\"float32\")", name,
                sh);
    else
      sb_printf(o, "%s = torch.randn(%s)", name, sh);
    sb_printf(o, "  # %s values: too many to write; random stand-ins, so "
                 "the numbers differ from convplay's",
              shx);
    comment = NULL;
  }
  if (comment) sb_printf(o, "  # %s", comment);
  sb_puts(o, "\n");
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

typedef struct prob {
  const vz_view *v;
  const cp_conv_params *req; /* as requested (padspec, mode) */
  int64_t pad[4];             /* resolved sides: top, bottom, left, right */
  int64_t s[2], d[2], op[2], G;
  int64_t kH, kW, C, O;
  int transposed, mode;
  int mask_c;                 /* channels of the mask as written */
} prob;

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

static int pads_symmetric(const prob *P) {
  return P->pad[0] == P->pad[1] && P->pad[2] == P->pad[3];
}
static int pads_zero(const prob *P) {
  return !P->pad[0] && !P->pad[1] && !P->pad[2] && !P->pad[3];
}

/* The (left, right, top, bottom) tuple F.pad takes. */
static void fpad_tuple(char *b, size_t n, const prob *P) {
  snprintf(b, n, "(%lld, %lld, %lld, %lld)", (long long)P->pad[2],
           (long long)P->pad[3], (long long)P->pad[0], (long long)P->pad[1]);
}

/* ====================================================================== */
/* PyTorch                                                                 */
/* ====================================================================== */

/* How conv2d's padding is written: the padding= argument (arg), and
 * whether the input needs an F.pad first (returns 1; the padding mode
 * applies when mode is set). */
static int torch_padding(const prob *P, int use_mode, char *arg, size_t n) {
  int mode = use_mode ? P->mode : CP_PAD_ZEROS;
  if (mode == CP_PAD_ZEROS) {
    if (P->req->padspec == CP_PADSPEC_SAME) {
      snprintf(arg, n, "\"same\"");
      return 0;
    }
    if (P->req->padspec == CP_PADSPEC_VALID) {
      snprintf(arg, n, "\"valid\"");
      return 0;
    }
    if (pads_symmetric(P)) {
      pair(arg, n, P->pad[0], P->pad[2]);
      return 0;
    }
  }
  snprintf(arg, n, "0");
  return !pads_zero(P);
}

static void torch_header(gen *G, const prob *P) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  char xs[96], ws[96];
  shape_x(xs, sizeof xs, 4, v->x.shape);
  shape_x(ws, sizeof ws, 4, v->w.shape);
  sb_printf(o, "# PyTorch: what convplay draws (%s of x %s with w %s)\n",
            P->transposed ? "conv_transpose2d" : v->flip ? "true convolution"
            : v->partial ? "partial convolution" : "conv2d", xs, ws);
  if (!v->ok)
    sb_printf(o, "# convplay shows an error for these parameters, and so "
                 "does PyTorch:\n#   %s\n", v->err);
  sb_puts(o, "import torch\nimport torch.nn.functional as F\n");
}

/* x, w, b, mask, M: the tensors, with the helpers they need first. */
static void put_tensors(gen *G, const prob *P, int64_t ms[4]) {
  const vz_view *v = P->v;
  sb body = G->o;
  /* write the tensors into a second buffer, then the helpers before them */
  G->o = (sb){0};
  put_tensor(G, "x", cp_tensor_data(&v->x), 4, v->x.shape,
             G->lang == VZ_CODE_KERAS ? "NCHW, as convplay holds it"
                                      : "input (N, C, H, W)");
  if (!v->pool) /* a pooling window has no weights */
    put_tensor(G, "w", cp_tensor_data(&v->w), 4, v->w.shape,
               P->transposed ? "weight (C_in, C_out/groups, kH, kW)"
                             : "weight (C_out, C_in/groups, kH, kW)");
  if (v->has_b)
    put_tensor(G, "b", cp_tensor_data(&v->b), 1, v->b.shape, "bias");
  if (v->has_mask) {
    mask_shape(v, ms);
    float *m = mask_values(v, ms);
    if (!m) G->o.oom = 1;
    else put_tensor(G, "mask", m, 4, ms, "input mask (broadcasts over x)");
    free(m);
  }
  if (v->has_kmask)
    put_tensor(G, "M", cp_tensor_data(&v->kmask), 2, v->w.shape + 2,
               "kernel mask (kH, kW), the same for every channel");
  sb tens = G->o;
  G->o = body;
  int keras = G->lang == VZ_CODE_KERAS;
  if (G->need_b64) {
    sb_puts(&G->o, "import base64\n");
    if (keras)
      sb_puts(&G->o,
              "\n\ndef f32(text, *shape):  # exact float32 values "
              "(little-endian bytes)\n"
              "    return np.frombuffer(base64.b64decode(text), "
              "\"<f4\").reshape(shape).copy()\n\n");
    else
      sb_puts(&G->o,
              "\n\ndef f32(text, *shape):  # exact float32 values "
              "(little-endian bytes)\n"
              "    return torch.frombuffer(bytearray(base64.b64decode(text)),"
              " dtype=torch.float32).reshape(shape)\n\n");
  }
  sb_puts(&G->o, "\n");
  if (G->need_rand)
    sb_puts(&G->o, keras ? "rng = np.random.default_rng(0)\n"
                         : "torch.manual_seed(0)\n");
  if (tens.s) sb_put(&G->o, tens.s, tens.n);
  if (tens.oom) G->o.oom = 1;
  free(tens.s);
  sb_puts(&G->o, "\n");
}

static void torch_partial(gen *G, const prob *P, const int64_t ms[4],
                          const char *xin, const char *wexpr,
                          const char *args) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  int multi = v->multi;
  char m1[64];
  if (multi && ms[1] == 1 && P->C > 1) /* one mask for C channels */
    snprintf(m1, sizeof m1, "mask.expand(-1, %lld, -1, -1)", (long long)P->C);
  else
    snprintf(m1, sizeof m1, "%s", multi || ms[1] == 1 ? "mask"
                                                      : "mask[:, :1]");
  int64_t W = (multi ? P->C : 1) * P->kH * P->kW;
  sb_printf(o, "# partial convolution (NVIDIA PartialConv2d, multi_channel="
               "%s): the mask\n# summed under each window, S, rescales the "
               "output; zero padding, no groups\n",
            multi ? "True" : "False");
  if (multi)
    sb_printf(o, "ones = torch.ones(%lld, %lld, %lld, %lld)\n",
              (long long)P->O, (long long)P->C, (long long)P->kH,
              (long long)P->kW);
  else
    sb_printf(o, "ones = torch.ones(1, 1, %lld, %lld)\n", (long long)P->kH,
              (long long)P->kW);
  char parg[64], sarg[32], darg[32], ft[64];
  pair(sarg, sizeof sarg, P->s[0], P->s[1]);
  pair(darg, sizeof darg, P->d[0], P->d[1]);
  if (torch_padding(P, 0, parg, sizeof parg)) {
    fpad_tuple(ft, sizeof ft, P);
    sb_printf(o, "S = F.conv2d(F.pad(%s, %s), ones, stride=%s, dilation=%s)"
                 "\n", m1, ft, sarg, darg);
  } else {
    sb_printf(o, "S = F.conv2d(%s, ones, stride=%s, padding=%s, "
                 "dilation=%s)\n", m1, sarg, parg, darg);
  }
  sb_printf(o, "ratio = %lld / (S + 1e-8) * torch.clamp(S, 0, 1)\n",
            (long long)W);
  sb_printf(o, "raw = F.conv2d(%s, %s, %s, %s)\n", xin, wexpr,
            v->has_b ? "b" : "None", args);
  if (v->has_b)
    sb_puts(o, "bb = b.view(1, -1, 1, 1)\n"
               "y = ((raw - bb) * ratio + bb) * torch.clamp(S, 0, 1)\n");
  else
    sb_puts(o, "y = raw * ratio * torch.clamp(S, 0, 1)\n");
  sb_puts(o, "new_mask = torch.clamp(S, 0, 1)  # the mask the next layer "
             "gets\n");
}

static void torch_code(gen *G, const prob *P) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  int64_t ms[4] = {0};
  torch_header(G, P);
  put_tensors(G, P, ms);
  /* the input factor */
  const char *xin = v->has_mask ? "x * mask" : "x";
  char sarg[32], darg[32], parg[64], ft[64], args[256];
  pair(sarg, sizeof sarg, P->s[0], P->s[1]);
  pair(darg, sizeof darg, P->d[0], P->d[1]);
  /* the weight */
  const char *wexpr = v->has_kmask ? "w * M" : "w";
  if (v->flip) {
    sb_printf(o, "wk = torch.flip(%s, dims=[2, 3])  # true convolution: the "
                 "kernel turned 180 degrees\n", wexpr);
    wexpr = "wk";
  }
  if (P->transposed) {
    char oparg[32], tparg[32];
    int crop = !pads_symmetric(P);
    int64_t q[2] = {P->op[0], P->op[1]};
    if (crop) {
      /* unequal sides: no padding, then crop top/left and what is left of
       * bottom/right after output_padding */
      for (int i = 0; i < 2; i++) {
        int64_t after = P->pad[2 * i + 1];
        q[i] = P->op[i] > after ? P->op[i] - after : 0;
      }
      snprintf(tparg, sizeof tparg, "0");
    } else {
      pair(tparg, sizeof tparg, P->pad[0], P->pad[2]);
    }
    pair(oparg, sizeof oparg, q[0], q[1]);
    sb_printf(o, "y = F.conv_transpose2d(%s, %s, %s, stride=%s, padding=%s,"
                 " output_padding=%s,\n                       groups=%lld, "
                 "dilation=%s)\n",
              xin, wexpr, v->has_b ? "b" : "None", sarg, tparg, oparg,
              (long long)P->G, darg);
    if (crop && v->ok)
      sb_printf(o, "y = y[:, :, %lld:%lld, %lld:%lld]  # padding top %lld, "
                   "bottom %lld, left %lld, right %lld\n",
                (long long)P->pad[0], (long long)(P->pad[0] + v->g.OH),
                (long long)P->pad[2], (long long)(P->pad[2] + v->g.OW),
                (long long)P->pad[0], (long long)P->pad[1],
                (long long)P->pad[2], (long long)P->pad[3]);
  } else {
    if (torch_padding(P, 1, parg, sizeof parg)) {
      fpad_tuple(ft, sizeof ft, P);
      if (P->mode != CP_PAD_ZEROS)
        sb_printf(o, "xp = F.pad(%s, %s, mode=\"%s\")  # (left, right, top, "
                     "bottom), as nn.Conv2d(padding_mode=\"%s\") pads\n",
                  xin, ft, cp_padmode_name((cp_padmode)P->mode),
                  cp_padmode_name((cp_padmode)P->mode));
      else
        sb_printf(o, "xp = F.pad(%s, %s)  # zeros (left, right, top, "
                     "bottom): unequal sides\n", xin, ft);
      xin = "xp";
    } else if (P->mode != CP_PAD_ZEROS) {
      sb_printf(o, "# padding_mode=\"%s\" pads nothing: the padding is 0\n",
                cp_padmode_name((cp_padmode)P->mode));
    }
    snprintf(args, sizeof args, "stride=%s, padding=%s, dilation=%s, "
             "groups=%lld", sarg, parg, darg, (long long)P->G);
    if (v->partial) {
      torch_partial(G, P, ms, xin, wexpr, args);
    } else {
      sb_printf(o, "y = F.conv2d(%s, %s, %s,\n             %s)\n", xin, wexpr,
                v->has_b ? "b" : "None", args);
    }
  }
  if (v->ok) {
    int64_t ys[4] = {v->g.N, v->g.O, v->g.OH, v->g.OW};
    char yx[96];
    shape_x(yx, sizeof yx, 4, ys);
    sb_printf(o, "print(y)  # %s (N, C_out, H_out, W_out), as convplay's "
                 "output panel\n", yx);
  } else {
    sb_puts(o, "print(y)\n");
  }
}

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
static const char *keras_reason(const prob *P, char *b, size_t n) {
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
  sb_printf(o, "%s = keras.layers.ZeroPadding2D(((%lld, %lld), (%lld, %lld)"
               "))(%s)  # ((top, bottom), (left, right))\n",
            out, (long long)P->pad[0], (long long)P->pad[1],
            (long long)P->pad[2], (long long)P->pad[3], in);
}

static void keras_code(gen *G, const prob *P) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  char xs[96], ws[96];
  shape_x(xs, sizeof xs, 4, v->x.shape);
  shape_x(ws, sizeof ws, 4, v->w.shape);
  sb_printf(o, "# Keras 3 (channels_last): what convplay draws (%s of x %s "
               "with w %s)\n", P->transposed ? "Conv2DTranspose" : "Conv2D",
            xs, ws);
  sb_puts(o, "import numpy as np\nimport keras\n");
  int64_t ms[4] = {0};
  put_tensors(G, P, ms);
  /* layouts */
  sb_puts(o, "x = x.transpose(0, 2, 3, 1)  # NCHW -> NHWC\n");
  if (P->transposed)
    sb_puts(o, "k = w.transpose(2, 3, 1, 0)  # (C_in, C_out, kH, kW) -> "
               "(kH, kW, C_out, C_in)\n");
  else
    sb_puts(o, "k = w.transpose(2, 3, 1, 0)  # OIHW -> HWIO\n");
  if (v->has_kmask) sb_puts(o, "k = k * M[:, :, None, None]\n");
  if (v->flip)
    sb_puts(o, "k = k[::-1, ::-1].copy()  # true convolution: the kernel "
               "turned 180 degrees\n");
  const char *xin = "x";
  if (v->has_mask) {
    sb_puts(o, "mask = mask.transpose(0, 2, 3, 1)\n");
    xin = "x * mask";
  }
  char sarg[48], darg[48];
  snprintf(sarg, sizeof sarg, "(%lld, %lld)", (long long)P->s[0],
           (long long)P->s[1]);
  snprintf(darg, sizeof darg, "(%lld, %lld)", (long long)P->d[0],
           (long long)P->d[1]);
  const char *bias = v->has_b ? "True" : "False";
  const char *wts = v->has_b ? "[k, b]" : "[k]";
  if (P->transposed) {
    int64_t q[2], crop[2];
    for (int i = 0; i < 2; i++) {
      int64_t after = P->pad[2 * i + 1];
      q[i] = P->op[i] > after ? P->op[i] - after : 0;
      crop[i] = after > P->op[i] ? after - P->op[i] : 0;
    }
    sb_printf(o, "conv = keras.layers.Conv2DTranspose(%lld, (%lld, %lld), "
                 "strides=%s, padding=\"valid\",\n"
                 "                                    output_padding=(%lld, "
                 "%lld), dilation_rate=%s, use_bias=%s)\n",
              (long long)P->O, (long long)P->kH, (long long)P->kW, sarg,
              (long long)q[0], (long long)q[1], darg, bias);
    sb_printf(o, "xin = %s\nconv.build(xin.shape)\nconv.set_weights(%s)\n"
                 "y = conv(xin)\n", xin, wts);
    if (P->pad[0] || P->pad[2] || crop[0] || crop[1])
      sb_printf(o, "y = keras.layers.Cropping2D(((%lld, %lld), (%lld, %lld)"
                   "))(y)  # padding %lld, output_padding %lld\n",
                (long long)P->pad[0], (long long)crop[0],
                (long long)P->pad[2], (long long)crop[1],
                (long long)P->pad[0], (long long)P->op[0]);
  } else {
    const char *parg;
    int zp = keras_padding(P, &parg);
    if (zp) {
      keras_zeropad(o, P, "xin", xin);
    } else {
      sb_printf(o, "xin = %s\n", xin);
    }
    sb_printf(o, "conv = keras.layers.Conv2D(%lld, (%lld, %lld), strides=%s,"
                 " padding=\"%s\", dilation_rate=%s,\n"
                 "                           groups=%lld, use_bias=%s)\n",
              (long long)P->O, (long long)P->kH, (long long)P->kW, sarg, parg,
              darg, (long long)P->G, bias);
    sb_printf(o, "conv.build(xin.shape)\nconv.set_weights(%s)\n", wts);
    if (v->partial) {
      int multi = v->multi;
      int64_t W = (multi ? P->C : 1) * P->kH * P->kW;
      sb_printf(o, "# partial convolution (NVIDIA PartialConv2d, "
                   "multi_channel=%s): S = the mask summed under each window"
                   "\n", multi ? "True" : "False");
      if (multi && ms[1] == 1 && P->C > 1) /* one mask for C channels */
        sb_printf(o, "m = np.repeat(mask, %lld, axis=3)\n", (long long)P->C);
      else
        sb_printf(o, "m = mask%s\n", multi || ms[1] == 1 ? "" : "[..., :1]");
      if (zp) keras_zeropad(o, P, "m", "m");
      sb_printf(o, "ones = keras.layers.Conv2D(%lld, (%lld, %lld), strides=%s,"
                   " padding=\"%s\", dilation_rate=%s,\n"
                   "                           use_bias=False)\n",
                (long long)(multi ? P->O : 1), (long long)P->kH,
                (long long)P->kW, sarg, parg, darg);
      sb_printf(o, "ones.build(m.shape)\nones.set_weights([np.ones((%lld, "
                   "%lld, %lld, %lld), \"float32\")])\n",
                (long long)P->kH, (long long)P->kW,
                (long long)(multi ? P->C : 1), (long long)(multi ? P->O : 1));
      sb_puts(o, "S = keras.ops.convert_to_numpy(ones(m))\n");
      sb_printf(o, "ratio = np.float32(%lld) / (S + np.float32(1e-8)) * "
                   "np.clip(S, 0, 1)\n", (long long)W);
      sb_puts(o, "raw = keras.ops.convert_to_numpy(conv(xin))\n");
      if (v->has_b)
        sb_puts(o, "y = ((raw - b) * ratio + b) * np.clip(S, 0, 1)\n");
      else
        sb_puts(o, "y = raw * ratio * np.clip(S, 0, 1)\n");
      sb_puts(o, "new_mask = np.clip(S, 0, 1).transpose(0, 3, 1, 2)\n");
    } else {
      sb_puts(o, "y = conv(xin)\n");
    }
  }
  if (!P->transposed && v->partial)
    sb_puts(o, "y = y.transpose(0, 3, 1, 2)  # NHWC -> NCHW, as convplay "
               "shows it\n");
  else
    sb_puts(o, "y = keras.ops.convert_to_numpy(y).transpose(0, 3, 1, 2)  "
               "# NHWC -> NCHW, as convplay shows it\n");
  sb_puts(o, "print(y)\n");
  if (P->G > 1 && !P->transposed)
    sb_puts(o, "# groups > 1: TensorFlow's CPU kernels may refuse grouped "
               "convolutions; the JAX and\n# PyTorch backends run them\n");
}

/* ====================================================================== */
/* Pooling views                                                           */
/* ====================================================================== */

/* "(a, b)" of a pool pair, or the W value alone for a 1-D view. */
static void pool_pair(char *b, size_t n, const vz_view *v, const int64_t *a) {
  if (v->dims1) snprintf(b, n, "%lld", (long long)a[1]);
  else pair(b, n, a[0], a[1]);
}

/* Why Keras' MaxPooling / AveragePooling cannot compute this, or NULL. */
static const char *pool_keras_reason(const vz_view *v,
                                     const cp_pool_params *p) {
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
      sb_printf(o, "not expressible in Keras: %s\n", why);
      return;
    }
  }
  char xs[96], k[48], st[48], pd[48], dl[48];
  shape_x(xs, sizeof xs, 4, v->x.shape);
  pool_pair(k, sizeof k, v, p.kernel);
  pool_pair(st, sizeof st, v, p.stride);
  pool_pair(pd, sizeof pd, v, p.pad);
  pool_pair(dl, sizeof dl, v, p.dilation);
  int64_t ms[4] = {0};
  if (keras) {
    sb_printf(o, "# Keras 3 (channels_last): what convplay draws (%s of x "
                 "%s)\n", name, xs);
    sb_puts(o, "import numpy as np\nimport keras\n");
    put_tensors(G, P, ms);
    const char *layer = is_max ? "MaxPooling" : "AveragePooling";
    if (v->dims1) {
      sb_puts(o, "x = x[:, :, 0, :].transpose(0, 2, 1)  # (N, C, 1, L) -> "
                 "(N, L, C)\n");
      sb_printf(o, "y = keras.layers.%s1D(pool_size=%s, strides=%s, "
                   "padding=\"valid\")(x)\n", layer, k, st);
      sb_puts(o, "y = keras.ops.convert_to_numpy(y).transpose(0, 2, 1)  # "
                 "(N, C, L_out)\n");
    } else {
      sb_puts(o, "x = x.transpose(0, 2, 3, 1)  # NCHW -> NHWC\n");
      sb_printf(o, "y = keras.layers.%s2D(pool_size=%s, strides=%s, "
                   "padding=\"valid\")(x)\n", layer, k, st);
      sb_puts(o, "y = keras.ops.convert_to_numpy(y).transpose(0, 3, 1, 2)  "
                 "# NHWC -> NCHW, as convplay shows it\n");
    }
    if (!is_max && !p.count_include_pad)
      sb_puts(o, "# (no padding: count_include_pad changes nothing)\n");
    sb_puts(o, "print(y)\n");
    return;
  }
  sb_printf(o, "# PyTorch: what convplay draws (%s of x %s)\n", name, xs);
  if (!v->ok)
    sb_printf(o, "# convplay shows an error for these parameters, and so "
                 "does PyTorch:\n#   %s\n", v->err);
  sb_puts(o, "import torch\nimport torch.nn.functional as F\n");
  put_tensors(G, P, ms);
  if (v->dims1)
    sb_puts(o, "x = x.squeeze(2)  # (N, C, 1, L) -> (N, C, L)\n");
  const char *ceil = p.ceil_mode ? "True" : "False";
  if (is_max) {
    sb_printf(o, "%s = F.%s(x, kernel_size=%s, stride=%s, padding=%s,\n"
                 "    dilation=%s, ceil_mode=%s%s)\n",
              v->ret_idx ? "y, indices" : "y", name, k, st, pd, dl, ceil,
              v->ret_idx ? ", return_indices=True" : "");
  } else {
    char dv[32] = "None";
    if (p.divisor_override)
      snprintf(dv, sizeof dv, "%lld", (long long)p.divisor_override);
    sb_printf(o, "y = F.%s(x, kernel_size=%s, stride=%s, padding=%s,\n"
                 "    ceil_mode=%s, count_include_pad=%s%s%s)\n",
              name, k, st, pd, ceil, p.count_include_pad ? "True" : "False",
              v->dims1 ? "" : ", divisor_override=", v->dims1 ? "" : dv);
  }
  if (v->dims1)
    sb_puts(o, "y = y.unsqueeze(2)  # (N, C, 1, L_out), as convplay's output "
               "panel\n");
  sb_puts(o, "print(y)\n");
  if (v->ret_idx)
    sb_puts(o, "print(indices)  # the argmax of each window: flat h*W + w in "
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
  } else if (lang == VZ_CODE_KERAS) {
    char why[700];
    const char *r = keras_reason(&P, why, sizeof why);
    if (r) {
      if (expressible) *expressible = 0;
      sb_printf(&G.o, "not expressible in Keras: %s\n", r);
    } else {
      keras_code(&G, &P);
    }
  } else {
    torch_code(&G, &P);
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
