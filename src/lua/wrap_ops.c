/* wrap_ops.c - the rest of PyTorch's convolution family in the `conv`
 * module (gradients, unfold/fold, pooling, 1-D ops) and tensor.matmul.
 *
 *   conv.conv2d_backward(x, w, grad_output [, opts]) -> gx, gw, gb
 *   conv.conv_transpose2d_backward(x, w, grad_output [, opts])
 *   conv.unfold(x, kernel_size [, {dilation, padding, stride}])
 *   conv.fold(cols, output_size, kernel_size [, opts])
 *   conv.max_pool2d / avg_pool2d / max_pool1d / avg_pool1d (x, kernel [, opts])
 *   conv.adaptive_avg_pool2d / adaptive_max_pool2d (x, output_size [, opts])
 *   conv.max_unpool2d(x, indices, kernel_size [, opts])
 *   conv.conv1d / conv_transpose1d (x, w [, opts])
 * Sizes are a number, a one-element list or (2-D) {h, w}.  Option keys and
 * meanings are PyTorch's; unknown keys are errors.  Pooling indices are
 * PyTorch's, 0-based within each plane (see README). */
#include <stdio.h>
#include <string.h>

#include "core/backward.h"
#include "core/pool.h"
#include "core/unfold.h"
#include "cpl.h"

#define SIZE_MAX_ARG ((lua_Integer)1 << 40)

/* ====================================================================== */
/* Arguments                                                               */
/* ====================================================================== */

/* A size at stack index v, part of argument #arg: a number, {a} or, when
 * n == 2, {a, b}. */
static void size_at(lua_State *L, int v, int arg, const char *fname,
                    const char *what, int n, int64_t *out) {
  if (lua_type(L, v) != LUA_TTABLE) {
    out[0] = out[n - 1] = cpl_checkint_arg(L, v, arg, fname, what,
                                           -SIZE_MAX_ARG, SIZE_MAX_ARG);
    return;
  }
  int len = (int)lua_rawlen(L, v);
  if (len != 1 && len != n)
    cpl_argerror(L, fname, arg, what,
                 n == 2 ? "expected a number, {n} or {h, w}, got a list of %d"
                        : "expected a number or {n}, got a list of %d",
                 len);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, v, len == 1 ? 1 : i + 1);
    out[i] = cpl_checkint_arg(L, lua_gettop(L), arg, fname, what,
                              -SIZE_MAX_ARG, SIZE_MAX_ARG);
    lua_pop(L, 1);
  }
}

/* opts[key] (table at idx, argument #arg) as a size; 1 when present. */
static int opt_size(lua_State *L, int idx, int arg, const char *fname,
                    const char *key, int n, int64_t *out) {
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  char what[64];
  snprintf(what, sizeof what, "opts.%s", key);
  int present = lua_getfield(L, idx, key) != LUA_TNIL;
  if (present) size_at(L, lua_gettop(L), arg, fname, what, n, out);
  lua_pop(L, 1);
  return present;
}

static int opt_bool(lua_State *L, int idx, int arg, const char *fname,
                    const char *key, int def) {
  if (lua_type(L, idx) != LUA_TTABLE) return def;
  int t = lua_getfield(L, idx, key), v = def;
  if (t == LUA_TBOOLEAN) {
    v = lua_toboolean(L, -1);
  } else if (t != LUA_TNIL) {
    char what[64];
    snprintf(what, sizeof what, "opts.%s", key);
    cpl_argerror(L, fname, arg, what, "expected a boolean, got %s",
                 luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

/* Report a new result's bytes to the collector. */
static void account(lua_State *L, const cp_tensor *t) {
  if (t->st && t->st->refs == 1) cpl_account(L, t->st->cap);
}

/* A contiguous copy of t with dimensions permuted, into a new userdata. */
static cp_tensor *permuted(lua_State *L, const char *fname, const cp_tensor *t,
                           const int *perm) {
  cp_err e;
  cp_tensor v;
  cp_tensor *out = cpl_newtensor(L);
  if (cp_tensor_permute(&v, t, perm, &e)) cpl_error(L, fname, &e);
  int rc = cp_tensor_clone(out, &v, &e);
  cp_tensor_release(&v);
  if (rc) cpl_error(L, fname, &e);
  return out;
}

/* A view with a size-1 dimension inserted at dim (userdata). */
static cp_tensor *unsqueezed(lua_State *L, const char *fname,
                             const cp_tensor *t, int dim) {
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  if (cp_tensor_unsqueeze(out, t, dim, &e)) cpl_error(L, fname, &e);
  return out;
}

/* Replace *t (a userdata's tensor) by its view without dimension dim. */
static void squeeze_in_place(lua_State *L, const char *fname, cp_tensor *t,
                             int dim) {
  cp_err e;
  cp_tensor s;
  if (cp_tensor_squeeze(&s, t, dim, &e)) cpl_error(L, fname, &e);
  cp_tensor_release(t);
  *t = s;
}

/* ====================================================================== */
/* Gradients                                                               */
/* ====================================================================== */

static const char *const bwd_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode",
    "data_format", NULL};
static const char *const bwdT_keys[] = {
    "bias", "stride", "padding", "output_padding", "output_size",
    "dilation", "groups", "padding_mode", "data_format", NULL};

static int do_backward(lua_State *L, const char *fname, int T) {
  static const int nchw4[] = {0, 3, 1, 2}, nchw3[] = {2, 0, 1};
  static const int nhwc4[] = {0, 2, 3, 1}, nhwc3[] = {1, 2, 0};
  static const int oihw[] = {3, 2, 0, 1}, hwio[] = {2, 3, 1, 0};
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_tensor *w = cpl_checktensor_arg(L, 2, 2, fname, "weight");
  cp_tensor *gy = cpl_checktensor_arg(L, 3, 3, fname, "grad_output");
  cpl_check_keys(L, 4, fname, 4, T ? bwdT_keys : bwd_keys);
  cp_conv_params p;
  cp_tensor *bias;
  cpl_conv_extra xo;
  cpl_conv_opts_ex(L, 4, fname, T, &p, &bias, &xo);
  cp_err e;
  int cl = xo.channels_last;
  if (cl) {
    for (int i = 0; i < 3; i++) {
      cp_tensor *t = i == 0 ? x : i == 1 ? w : gy;
      int nd = t->ndim;
      if (i == 1 ? nd != 4 : nd != 3 && nd != 4)
        return cpl_argerror(L, fname, i + 1,
                            i == 0   ? "input"
                            : i == 1 ? "weight"
                                     : "grad_output",
                            "channels_last expects a %s tensor, got %d "
                            "dimensions",
                            i == 1 ? "4-D (kH, kW, in, out)" : "3-D or 4-D",
                            nd);
    }
    x = permuted(L, fname, x, x->ndim == 4 ? nchw4 : nchw3);
    w = permuted(L, fname, w, oihw);
    gy = permuted(L, fname, gy, gy->ndim == 4 ? nchw4 : nchw3);
  }
  if (bias && w->ndim == 4) {
    int64_t O = T ? w->shape[1] * p.groups : w->shape[0];
    if (bias->ndim != 1 || bias->shape[0] != O) {
      char b1[160], b2[160];
      snprintf(e.msg, sizeof e.msg,
               "bias: Given weight of size %s, expected bias to be "
               "1-dimensional with %lld elements, but got bias of size %s "
               "instead",
               cp_shape_str(w->ndim, w->shape, b1, sizeof b1), (long long)O,
               cp_shape_str(bias->ndim, bias->shape, b2, sizeof b2));
      return cpl_error(L, fname, &e);
    }
  }
  if (xo.has_out_size) {
    if (xo.has_out_pad)
      return cpl_argerror(L, fname, 4, "opts.output_size",
                          "give output_size or output_padding, not both");
    if ((x->ndim == 3 || x->ndim == 4) && w->ndim == 4 &&
        cp_convT_output_padding(&p, x->shape + x->ndim - 2, w->shape + 2,
                                xo.out_size, p.out_pad, &e))
      return cpl_error(L, fname, &e);
  }
  cp_tensor *gx = cpl_newtensor(L), *gw = cpl_newtensor(L),
            *gb = cpl_newtensor(L);
  int rc = T ? cp_conv_transpose2d_backward(gx, gw, gb, x, w, gy, &p, &e)
             : cp_conv2d_backward(gx, gw, gb, x, w, gy, &p, &e);
  if (rc) return cpl_error(L, fname, &e);
  if (cl) {
    gx = permuted(L, fname, gx, gx->ndim == 4 ? nhwc4 : nhwc3);
    gw = permuted(L, fname, gw, hwio);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -5); /* gb: the results are the top three */
  }
  account(L, gx);
  account(L, gw);
  account(L, gb);
  return 3;
}

static int c_conv2d_backward(lua_State *L) {
  return do_backward(L, "conv.conv2d_backward", 0);
}
static int c_conv_transpose2d_backward(lua_State *L) {
  return do_backward(L, "conv.conv_transpose2d_backward", 1);
}

/* ====================================================================== */
/* unfold / fold                                                           */
/* ====================================================================== */

static const char *const sliding_keys[] = {"dilation", "padding", "stride",
                                           NULL};

/* dilation, padding, stride from opts at idx (argument #idx). */
static void sliding_opts(lua_State *L, int idx, const char *fname,
                         int64_t *d, int64_t *p, int64_t *s) {
  cpl_check_keys(L, idx, fname, idx, sliding_keys);
  d[0] = d[1] = 1;
  p[0] = p[1] = 0;
  s[0] = s[1] = 1;
  opt_size(L, idx, idx, fname, "dilation", 2, d);
  opt_size(L, idx, idx, fname, "padding", 2, p);
  opt_size(L, idx, idx, fname, "stride", 2, s);
}

static int c_unfold(lua_State *L) {
  const char *fname = "conv.unfold";
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  int64_t k[2], d[2], p[2], s[2];
  size_at(L, 2, 2, fname, "kernel_size", 2, k);
  sliding_opts(L, 3, fname, d, p, s);
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_unfold(y, x, k, d, p, s, &e)) return cpl_error(L, fname, &e);
  account(L, y);
  return 1;
}

static int c_fold(lua_State *L) {
  const char *fname = "conv.fold";
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  int64_t o[2], k[2], d[2], p[2], s[2];
  size_at(L, 2, 2, fname, "output_size", 2, o);
  size_at(L, 3, 3, fname, "kernel_size", 2, k);
  sliding_opts(L, 4, fname, d, p, s);
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_fold(y, x, o, k, d, p, s, &e)) return cpl_error(L, fname, &e);
  account(L, y);
  return 1;
}

/* ====================================================================== */
/* Pooling                                                                 */
/* ====================================================================== */

static const char *const maxpool_keys[] = {
    "stride", "padding", "dilation", "ceil_mode", "return_indices", NULL};
static const char *const avgpool_keys[] = {
    "stride", "padding", "ceil_mode", "count_include_pad",
    "divisor_override", NULL};
static const char *const avgpool1d_keys[] = {
    "stride", "padding", "ceil_mode", "count_include_pad", NULL};

/* Kernel (argument 2) and options (argument 3) of a pooling call.  dims 1:
 * the sizes go to the W dimension of an H = 1 problem. */
void cpl_pool_args(lua_State *L, const char *fname, cp_pool_kind kind,
                   int dims, cp_pool_params *p, int *ret_idx,
                   const char *const *keys) {
  int64_t k[2], v[2];
  size_at(L, 2, 2, fname, "kernel_size", dims, k);
  if (dims == 1) k[1] = k[0], k[0] = 1;
  cpl_check_keys(L, 3, fname, 3,
                 keys                ? keys
                 : kind == CP_POOL_MAX ? maxpool_keys
                 : dims == 2         ? avgpool_keys
                                     : avgpool1d_keys);
  cp_pool_params_default(p, k[0], k[1]);
  int at = dims == 1 ? 1 : 0;
  if (opt_size(L, 3, 3, fname, "stride", dims, v))
    p->stride[at] = v[0], p->stride[1] = v[dims - 1];
  if (opt_size(L, 3, 3, fname, "padding", dims, v))
    p->pad[at] = v[0], p->pad[1] = v[dims - 1];
  if (kind == CP_POOL_MAX && opt_size(L, 3, 3, fname, "dilation", dims, v))
    p->dilation[at] = v[0], p->dilation[1] = v[dims - 1];
  if (dims == 1) p->pad[0] = 0, p->stride[0] = p->dilation[0] = 1;
  p->ceil_mode = opt_bool(L, 3, 3, fname, "ceil_mode", 0);
  if (kind == CP_POOL_AVG) {
    p->count_include_pad = opt_bool(L, 3, 3, fname, "count_include_pad", 1);
    if (lua_type(L, 3) == LUA_TTABLE &&
        lua_getfield(L, 3, "divisor_override") != LUA_TNIL) {
      p->divisor_override =
          cpl_checkint_arg(L, lua_gettop(L), 3, fname,
                           "opts.divisor_override", -SIZE_MAX_ARG,
                           SIZE_MAX_ARG);
      if (p->divisor_override == 0)
        cpl_argerror(L, fname, 3, "opts.divisor_override",
                     "divisor must be not zero");
    }
    if (lua_type(L, 3) == LUA_TTABLE) lua_pop(L, 1);
  }
  if (ret_idx) *ret_idx = opt_bool(L, 3, 3, fname, "return_indices", 0);
}

static int do_pool(lua_State *L, const char *fname, cp_pool_kind kind,
                   int dims) {
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_pool_params p;
  int want_idx = 0;
  cpl_pool_args(L, fname, kind, dims, &p,
                kind == CP_POOL_MAX ? &want_idx : NULL, NULL);
  if (dims == 1) {
    if (x->ndim != 2 && x->ndim != 3) {
      return luaL_error(L,
                        "%s: input: Expected 2 to 3 dimensions, but got "
                        "%d-dimensional tensor for argument #1 'self' (while "
                        "checking arguments for %s)",
                        fname, x->ndim,
                        kind == CP_POOL_MAX ? "max_pool1d" : "avg_pool1d");
    }
    x = unsqueezed(L, fname, x, x->ndim - 1);
  }
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  cp_tensor *ind = want_idx ? cpl_newtensor(L) : NULL;
  int rc = kind == CP_POOL_MAX ? cp_max_pool2d(y, ind, x, &p, &e)
                               : cp_avg_pool2d(y, x, &p, &e);
  if (rc) return cpl_error(L, fname, &e);
  if (dims == 1) {
    squeeze_in_place(L, fname, y, y->ndim - 2);
    if (ind) squeeze_in_place(L, fname, ind, ind->ndim - 2);
  }
  account(L, y);
  if (ind) account(L, ind);
  return ind ? 2 : 1;
}

static int c_max_pool2d(lua_State *L) {
  return do_pool(L, "conv.max_pool2d", CP_POOL_MAX, 2);
}
static int c_avg_pool2d(lua_State *L) {
  return do_pool(L, "conv.avg_pool2d", CP_POOL_AVG, 2);
}
static int c_max_pool1d(lua_State *L) {
  return do_pool(L, "conv.max_pool1d", CP_POOL_MAX, 1);
}
static int c_avg_pool1d(lua_State *L) {
  return do_pool(L, "conv.avg_pool1d", CP_POOL_AVG, 1);
}

static int do_adaptive(lua_State *L, const char *fname, cp_pool_kind kind) {
  static const char *const keys[] = {"return_indices", NULL};
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  int64_t o[2];
  size_at(L, 2, 2, fname, "output_size", 2, o);
  int want_idx = 0;
  if (kind == CP_POOL_MAX) {
    cpl_check_keys(L, 3, fname, 3, keys);
    want_idx = opt_bool(L, 3, 3, fname, "return_indices", 0);
  } else if (!lua_isnoneornil(L, 3)) {
    return cpl_argerror(L, fname, 3, "opts", "adaptive_avg_pool2d takes no "
                                             "options");
  }
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  cp_tensor *ind = want_idx ? cpl_newtensor(L) : NULL;
  if (cp_adaptive_pool2d(y, ind, x, o, kind, &e))
    return cpl_error(L, fname, &e);
  account(L, y);
  if (ind) account(L, ind);
  return ind ? 2 : 1;
}
static int c_adaptive_avg_pool2d(lua_State *L) {
  return do_adaptive(L, "conv.adaptive_avg_pool2d", CP_POOL_AVG);
}
static int c_adaptive_max_pool2d(lua_State *L) {
  return do_adaptive(L, "conv.adaptive_max_pool2d", CP_POOL_MAX);
}

int cpl_unpool_args(lua_State *L, const char *fname,
                    const char *const *keys, cp_pool_params *p,
                    int64_t *o) {
  static const char *const own[] = {"stride", "padding", "output_size", NULL};
  int64_t k[2], v[2];
  size_at(L, 3, 3, fname, "kernel_size", 2, k);
  cpl_check_keys(L, 4, fname, 4, keys ? keys : own);
  cp_pool_params_default(p, k[0], k[1]);
  if (opt_size(L, 4, 4, fname, "stride", 2, v))
    p->stride[0] = v[0], p->stride[1] = v[1];
  if (opt_size(L, 4, 4, fname, "padding", 2, v))
    p->pad[0] = v[0], p->pad[1] = v[1];
  int has_o = 0;
  if (lua_type(L, 4) == LUA_TTABLE &&
      lua_getfield(L, 4, "output_size") != LUA_TNIL) {
    /* {h, w} or PyTorch's {n, c, h, w}: the last two count */
    int v4 = lua_gettop(L);
    if (lua_type(L, v4) == LUA_TTABLE && lua_rawlen(L, v4) == 4) {
      for (int i = 0; i < 2; i++) {
        lua_rawgeti(L, v4, i + 3);
        o[i] = cpl_checkint_arg(L, lua_gettop(L), 4, fname,
                                "opts.output_size", 0, SIZE_MAX_ARG);
        lua_pop(L, 1);
      }
    } else {
      size_at(L, v4, 4, fname, "opts.output_size", 2, o);
    }
    has_o = 1;
    lua_pop(L, 1);
  }
  return has_o;
}

static int c_max_unpool2d(lua_State *L) {
  const char *fname = "conv.max_unpool2d";
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_tensor *ind = cpl_checktensor_arg(L, 2, 2, fname, "indices");
  int64_t o[2];
  cp_pool_params p;
  int has_o = cpl_unpool_args(L, fname, NULL, &p, o);
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_max_unpool2d(y, x, ind, &p, has_o ? o : NULL, &e))
    return cpl_error(L, fname, &e);
  account(L, y);
  return 1;
}

/* ====================================================================== */
/* 1-D convolutions: an H = 1 problem for the 2-D geometry and kernels     */
/* ====================================================================== */

static const char *const conv1d_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode",
    "data_format", NULL};
static const char *const convT1d_keys[] = {
    "bias", "stride", "padding", "output_padding", "output_size", "dilation",
    "groups", "padding_mode", "data_format", NULL};

/* The 2-D geometry words shapes as [a, b, 1, c] and sizes as (1 x c): say
 * them the 1-D way, as PyTorch's conv1d does. */
void cpl_msg_1d(char *m) {
  char out[sizeof ((cp_err *)0)->msg];
  size_t o = 0;
  /* output_size's ranges are (h, w) pairs with h = 1 */
  int pairs = strncmp(m, "output_size:", 12) == 0;
  for (const char *s = m; *s && o + 1 < sizeof out;) {
    long long a, b, c;
    int n = 0;
    if (pairs && *s == '[' && sscanf(s, "[1, %lld]%n", &c, &n) == 1 &&
        n > 0) {
      o += (size_t)snprintf(out + o, sizeof out - o, "[%lld]", c);
      s += n;
    } else if (*s == '[' && sscanf(s, "[%lld, %lld, 1, %lld]%n", &a, &b, &c, &n) == 3 &&
        n > 0) {
      o += (size_t)snprintf(out + o, sizeof out - o, "[%lld, %lld, %lld]", a,
                            b, c);
      s += n;
    } else if (*s == '(' && sscanf(s, "(1 x %lld)%n", &c, &n) == 1 && n > 0) {
      o += (size_t)snprintf(out + o, sizeof out - o, "(%lld)", c);
      s += n;
    } else {
      out[o++] = *s++;
    }
  }
  if (o >= sizeof out) o = sizeof out - 1;
  out[o] = '\0';
  memcpy(m, out, o + 1);
}

/* padding of a 1-D op at stack index v into p->pad[2..3]; *causal set for
 * "causal". */
static void padding_1d(lua_State *L, int v, const char *fname, int T,
                       cp_conv_params *p, int *causal) {
  if (lua_type(L, v) == LUA_TSTRING) {
    const char *s = lua_tostring(L, v);
    if (T)
      cpl_argerror(L, fname, 3, "opts.padding",
                   "conv_transpose1d takes a number or {p}, not the string "
                   "'%s'",
                   s);
    if (!strcmp(s, "valid"))
      p->padspec = CP_PADSPEC_VALID;
    else if (!strcmp(s, "same"))
      p->padspec = CP_PADSPEC_SAME;
    else if (!strcmp(s, "causal"))
      *causal = 1;
    else
      cpl_argerror(L, fname, 3, "opts.padding",
                   "Invalid padding string: '%s' (use \"valid\", \"same\" or "
                   "\"causal\")",
                   s);
  } else if (lua_type(L, v) == LUA_TTABLE && lua_rawlen(L, v) == 0) {
    static const char *const sides[] = {"left", "right", NULL};
    cpl_check_keys(L, v, fname, 3, sides);
    for (int i = 0; i < 2; i++) {
      if (lua_getfield(L, v, sides[i]) != LUA_TNIL)
        p->pad[2 + i] = cpl_checkint_arg(L, lua_gettop(L), 3, fname,
                                         "opts.padding", -SIZE_MAX_ARG,
                                         SIZE_MAX_ARG);
      lua_pop(L, 1);
    }
  } else {
    int64_t v1[1];
    size_at(L, v, 3, fname, "opts.padding", 1, v1);
    p->pad[2] = p->pad[3] = v1[0];
  }
}

void cpl_conv1d_args(lua_State *L, const char *fname, int T,
                     const char *const *keys, cpl_conv1d *a) {
  static const int ncl3[] = {0, 2, 1}, ncl2[] = {1, 0}, kio[] = {2, 1, 0};
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_tensor *w = cpl_checktensor_arg(L, 2, 2, fname, "weight");
  cpl_check_keys(L, 3, fname, 3, keys ? keys : T ? convT1d_keys : conv1d_keys);
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.transposed = T;
  cp_tensor *bias = NULL;
  int causal = 0, cl = 0, has_op = 0, has_os = 0;
  int64_t v[1], os = 0;
  if (lua_type(L, 3) == LUA_TTABLE) {
    if (opt_size(L, 3, 3, fname, "stride", 1, v)) p.stride[1] = v[0];
    if (opt_size(L, 3, 3, fname, "dilation", 1, v)) p.dilation[1] = v[0];
    if (T && opt_size(L, 3, 3, fname, "output_padding", 1, v))
      p.out_pad[1] = v[0], has_op = 1;
    if (T && opt_size(L, 3, 3, fname, "output_size", 1, v))
      os = v[0], has_os = 1;
    if (lua_getfield(L, 3, "groups") != LUA_TNIL)
      p.groups = cpl_checkint_arg(L, lua_gettop(L), 3, fname, "opts.groups",
                                  -SIZE_MAX_ARG, SIZE_MAX_ARG);
    lua_pop(L, 1);
    if (lua_getfield(L, 3, "padding") != LUA_TNIL)
      padding_1d(L, lua_gettop(L), fname, T, &p, &causal);
    lua_pop(L, 1);
    if (lua_getfield(L, 3, "padding_mode") != LUA_TNIL) {
      const char *m = lua_tostring(L, -1);
      if (lua_type(L, -1) != LUA_TSTRING || cp_padmode_parse(m, &p.mode))
        cpl_argerror(L, fname, 3, "opts.padding_mode",
                     "padding_mode must be one of 'zeros', 'reflect', "
                     "'replicate' or 'circular', but got %s",
                     lua_type(L, -1) == LUA_TSTRING ? m
                                                    : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 3, "data_format") != LUA_TNIL) {
      const char *f = lua_tostring(L, -1);
      if (lua_type(L, -1) != LUA_TSTRING ||
          (strcmp(f, "channels_last") && strcmp(f, "channels_first")))
        cpl_argerror(L, fname, 3, "opts.data_format",
                     "expected \"channels_first\" or \"channels_last\", got "
                     "%s",
                     lua_type(L, -1) == LUA_TSTRING ? f
                                                    : luaL_typename(L, -1));
      cl = !strcmp(f, "channels_last");
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 3, "bias") != LUA_TNIL)
      bias = cpl_checktensorlike(L, lua_gettop(L), fname, 3, "opts.bias");
    /* (the bias, or a tensor made from its table, stays on the stack) */
  }
  char b[160];
  if (cl) {
    if (x->ndim != 2 && x->ndim != 3)
      cpl_argerror(L, fname, 1, "input",
                   "channels_last expects (N, L, C) or (L, C), got %s",
                   cp_shape_str(x->ndim, x->shape, b, sizeof b));
    if (w->ndim != 3)
      cpl_argerror(L, fname, 2, "weight",
                   "channels_last expects a (k, in, out) kernel, got %s",
                   cp_shape_str(w->ndim, w->shape, b, sizeof b));
    x = permuted(L, fname, x, x->ndim == 3 ? ncl3 : ncl2);
    w = permuted(L, fname, w, kio);
  }
  if (x->ndim != 2 && x->ndim != 3)
    luaL_error(L,
               "%s: input: Expected 2D (unbatched) or 3D (batched) "
               "input to %s, but got input of size: %s",
               fname, T ? "conv_transpose1d" : "conv1d",
               cp_shape_str(x->ndim, x->shape, b, sizeof b));
  if (w->ndim != 3)
    luaL_error(L,
               "%s: weight: expected a 3-D weight %s, but got weight "
               "of size %s",
               fname,
               T ? "(in_channels, out_channels/groups, kW)"
                 : "(out_channels, in_channels/groups, kW)",
               cp_shape_str(w->ndim, w->shape, b, sizeof b));
  if (causal) {
    int64_t k = w->shape[2], d = p.dilation[1];
    if (k > 0 && d > 0 && d <= ((int64_t)1 << 31) && k <= ((int64_t)1 << 31))
      cp_causal_pad(k, d, &p.pad[2], &p.pad[3]);
    else
      p.pad[3] = 0; /* (the geometry reports the kernel or dilation) */
  }
  cp_err e;
  if (has_os) {
    if (has_op)
      cpl_argerror(L, fname, 3, "opts.output_size",
                   "give output_size or output_padding, not both");
    int64_t in_hw[2] = {1, x->shape[x->ndim - 1]};
    int64_t k_hw[2] = {1, w->shape[2]}, size[2] = {1, os};
    if (cp_convT_output_padding(&p, in_hw, k_hw, size, p.out_pad, &e)) {
      cpl_msg_1d(e.msg);
      cpl_error(L, fname, &e);
    }
  }
  a->p = p;
  a->bias = bias;
  a->x = unsqueezed(L, fname, x, x->ndim - 1);
  a->w = unsqueezed(L, fname, w, 2);
  a->causal = causal;
  a->channels_last = cl;
}

static int do_conv1d(lua_State *L, const char *fname, int T) {
  static const int ncl3[] = {0, 2, 1}, ncl2[] = {1, 0};
  cpl_conv1d a;
  cpl_conv1d_args(L, fname, T, NULL, &a);
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  int rc = T ? cp_conv_transpose2d(y, a.x, a.w, a.bias, &a.p, &e)
             : cp_conv2d(y, a.x, a.w, a.bias, &a.p, &e);
  if (rc) {
    cpl_msg_1d(e.msg);
    return cpl_error(L, fname, &e);
  }
  squeeze_in_place(L, fname, y, y->ndim - 2);
  if (a.channels_last) y = permuted(L, fname, y, y->ndim == 3 ? ncl3 : ncl2);
  account(L, y);
  return 1;
}

static int c_conv1d(lua_State *L) { return do_conv1d(L, "conv.conv1d", 0); }
static int c_conv_transpose1d(lua_State *L) {
  return do_conv1d(L, "conv.conv_transpose1d", 1);
}

/* ====================================================================== */
/* matmul                                                                  */
/* ====================================================================== */

static int matmul(lua_State *L, const char *fname, int method) {
  cp_tensor *a = cpl_checktensor_arg(L, 1, method ? 0 : 1, fname,
                                     method ? "self" : "input");
  cp_tensor *b = cpl_checktensor_arg(L, 2, method ? 1 : 2, fname, "other");
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_matmul(y, a, b, &e)) return cpl_error(L, fname, &e);
  account(L, y);
  return 1;
}
int cpl_tensor_matmul(lua_State *L) { return matmul(L, "tensor.matmul", 0); }
int cpl_tensor_matmul_method(lua_State *L) {
  return matmul(L, "tensor:matmul", 1);
}

static const luaL_Reg ops_funcs[] = {
    {"conv2d_backward", c_conv2d_backward},
    {"conv_transpose2d_backward", c_conv_transpose2d_backward},
    {"unfold", c_unfold},
    {"fold", c_fold},
    {"max_pool2d", c_max_pool2d},
    {"avg_pool2d", c_avg_pool2d},
    {"max_pool1d", c_max_pool1d},
    {"avg_pool1d", c_avg_pool1d},
    {"adaptive_avg_pool2d", c_adaptive_avg_pool2d},
    {"adaptive_max_pool2d", c_adaptive_max_pool2d},
    {"max_unpool2d", c_max_unpool2d},
    {"conv1d", c_conv1d},
    {"conv_transpose1d", c_conv_transpose1d},
    {NULL, NULL}};

void cpl_conv_ops(lua_State *L) { cpl_setfuncs(L, ops_funcs); }
