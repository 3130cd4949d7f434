/* wrap_conv.c - the `conv` module: PyTorch's convolution API for Lua.
 *
 * Option tables use PyTorch's keys and meanings (shared/SEMANTICS.md):
 *   conv.conv2d(x, w, {bias=, stride=, padding=, dilation=, groups=,
 *                      padding_mode=, data_format=})
 * Sizes are a number or {h, w}.  padding also takes "valid", "same" and,
 * beyond PyTorch, {top=, bottom=, left=, right=}.  Unknown keys are errors:
 * a misspelt "strides" must not silently mean stride 1. */
#include <string.h>

#include "core/partial.h"
#include "cpl.h"

/* ====================================================================== */
/* Option parsing                                                          */
/* ====================================================================== */

/* Reject keys not in `allowed` (NULL-terminated). */
void cpl_check_keys(lua_State *L, int idx, const char *fname, int arg,
                    const char *const *allowed) {
  if (lua_isnoneornil(L, idx)) return;
  if (lua_type(L, idx) != LUA_TTABLE)
    cpl_argerror(L, fname, arg, "opts", "table expected, got %s",
                 luaL_typename(L, idx));
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      cpl_argerror(L, fname, arg, "opts", "keys must be option names, got %s",
                   luaL_typename(L, -1));
    const char *k = lua_tostring(L, -1);
    int found = 0;
    for (int i = 0; allowed[i] && !found; i++) found = !strcmp(k, allowed[i]);
    if (!found) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (int i = 0; allowed[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, allowed[i]);
      }
      luaL_pushresult(&b);
      cpl_argerror(L, fname, arg, "opts", "unknown option '%s' (known: %s)", k,
                   lua_tostring(L, -1));
    }
  }
}

/* Whole number at stack index v, the value of option `key`. */
static int64_t value_int(lua_State *L, int v, const char *fname, int arg,
                         const char *key) {
  int isnum;
  lua_Integer n = lua_tointegerx(L, v, &isnum);
  if (!isnum || lua_type(L, v) != LUA_TNUMBER) {
    char what[64];
    snprintf(what, sizeof what, "opts.%s", key);
    cpl_argerror(L, fname, arg, what, "expected a whole number, got %s",
                 lua_type(L, v) == LUA_TNUMBER ? lua_tostring(L, v)
                                               : luaL_typename(L, v));
  }
  return (int64_t)n;
}

/* A size option at stack index v: number or {h, w}. */
static void value_pair(lua_State *L, int v, const char *fname, int arg,
                       const char *key, int64_t *out) {
  if (lua_type(L, v) != LUA_TTABLE) {
    out[0] = out[1] = value_int(L, v, fname, arg, key);
    return;
  }
  int n = (int)lua_rawlen(L, v);
  if (n == 1) { /* a one-element list means the single value (PyTorch) */
    lua_rawgeti(L, v, 1);
    out[0] = out[1] = value_int(L, lua_gettop(L), fname, arg, key);
    lua_pop(L, 1);
    return;
  }
  if (n != 2) {
    char what[64];
    snprintf(what, sizeof what, "opts.%s", key);
    cpl_argerror(L, fname, arg, what,
                 "expected %s to be a single integer value or a list of 2 "
                 "values to match the convolution dimensions, but got a list "
                 "of %d%s",
                 key, n,
                 n == 4 && !strcmp(key, "padding")
                     ? " (for unequal sides use {top=, bottom=, left=, "
                       "right=})"
                     : "");
  }
  for (int i = 0; i < 2; i++) {
    lua_rawgeti(L, v, i + 1);
    out[i] = value_int(L, lua_gettop(L), fname, arg, key);
    lua_pop(L, 1);
  }
}

/* padding at stack index v. */
static void value_padding(lua_State *L, int v, const char *fname, int arg,
                          int transposed, cp_conv_params *p) {
  if (lua_type(L, v) == LUA_TSTRING) {
    const char *s = lua_tostring(L, v);
    if (transposed)
      cpl_argerror(L, fname, arg, "opts.padding",
                   "conv_transpose2d takes a number or {ph, pw}, not the "
                   "string '%s'",
                   s);
    if (!strcmp(s, "valid"))
      p->padspec = CP_PADSPEC_VALID;
    else if (!strcmp(s, "same"))
      p->padspec = CP_PADSPEC_SAME;
    else
      cpl_argerror(L, fname, arg, "opts.padding",
                   "Invalid padding string: '%s' (use \"valid\" or \"same\")",
                   s);
  } else if (lua_type(L, v) == LUA_TTABLE && lua_rawlen(L, v) == 0) {
    /* {top=, bottom=, left=, right=}: explicit sides (missing ones = 0) */
    static const char *const sides[] = {"top", "bottom", "left", "right",
                                        NULL};
    cpl_check_keys(L, v, fname, arg, sides);
    p->padspec = CP_PADSPEC_EXPLICIT;
    memset(p->pad, 0, sizeof p->pad);
    for (int i = 0; i < 4; i++) {
      if (lua_getfield(L, v, sides[i]) != LUA_TNIL)
        p->pad[i] = value_int(L, lua_gettop(L), fname, arg, "padding");
      lua_pop(L, 1);
    }
  } else {
    int64_t pr[2];
    value_pair(L, v, fname, arg, "padding", pr);
    p->padspec = CP_PADSPEC_EXPLICIT;
    p->pad[0] = p->pad[1] = pr[0];
    p->pad[2] = p->pad[3] = pr[1];
  }
}

/* Extra results of an option table beyond cp_conv_params (cpl.h). */
typedef cpl_conv_extra extra_opts;

/* One pass over the option table (this runs on every call, so no lookup
 * per known key): sizes, padding, mode, bias and the extras.  Keys it does
 * not know are left to cpl_check_keys / the caller. */
/* The keys present in the table at idx, over what p holds already. */
static void parse_into(lua_State *L, int idx, int arg, const char *fname,
                       int transposed, cp_conv_params *p, cp_tensor **bias,
                       extra_opts *x);

static void parse_opts(lua_State *L, int idx, const char *fname,
                       int transposed, cp_conv_params *p, cp_tensor **bias,
                       extra_opts *x) {
  cp_conv_params_default(p);
  p->transposed = transposed;
  if (bias) *bias = NULL;
  if (x) memset(x, 0, sizeof *x);
  parse_into(L, idx, idx, fname, transposed, p, bias, x);
}

/* The one parser of conv options: conv.*, viz.* views (created, and
 * changed live with v:set) and the lab's settings go through it; arg
 * numbers the table in messages (1 for a method's opts). */
void cpl_conv_opts_over(lua_State *L, int idx, int arg, const char *fname,
                        cp_conv_params *p) {
  parse_into(L, idx, arg, fname, p->transposed, p, NULL, NULL);
}

static void parse_into(lua_State *L, int idx, int arg, const char *fname,
                       int transposed, cp_conv_params *p, cp_tensor **bias,
                       extra_opts *x) {
  if (lua_isnoneornil(L, idx)) return;
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE)
    cpl_argerror(L, fname, arg, "opts", "table expected, got %s",
                 luaL_typename(L, idx));
  int convert_bias = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int v = lua_gettop(L);
    const char *k = lua_type(L, v - 1) == LUA_TSTRING ? lua_tostring(L, v - 1)
                                                       : "";
    if (!strcmp(k, "stride")) {
      value_pair(L, v, fname, arg, k, p->stride);
    } else if (!strcmp(k, "padding")) {
      value_padding(L, v, fname, arg, transposed, p);
    } else if (!strcmp(k, "dilation")) {
      value_pair(L, v, fname, arg, k, p->dilation);
    } else if (!strcmp(k, "groups")) {
      p->groups = value_int(L, v, fname, arg, "groups");
    } else if (!strcmp(k, "output_padding") && transposed) {
      value_pair(L, v, fname, arg, k, p->out_pad);
      if (x) x->has_out_pad = 1;
    } else if (!strcmp(k, "output_size") && transposed && x) {
      /* {h, w}, or PyTorch's {n, c, h, w}: the last two count */
      if (lua_type(L, v) == LUA_TTABLE && lua_rawlen(L, v) == 4) {
        for (int i = 0; i < 2; i++) {
          lua_rawgeti(L, v, i + 3);
          x->out_size[i] = value_int(L, lua_gettop(L), fname, arg, k);
          lua_pop(L, 1);
        }
      } else {
        value_pair(L, v, fname, arg, k, x->out_size);
      }
      x->has_out_size = 1;
    } else if (!strcmp(k, "padding_mode")) {
      const char *m = lua_tostring(L, v);
      if (lua_type(L, v) != LUA_TSTRING || cp_padmode_parse(m, &p->mode))
        cpl_argerror(L, fname, arg, "opts.padding_mode",
                     "padding_mode must be one of 'zeros', 'reflect', "
                     "'replicate' or 'circular', but got %s",
                     lua_type(L, v) == LUA_TSTRING ? m : luaL_typename(L, v));
    } else if (!strcmp(k, "bias") && bias) {
      /* A tensor is anchored by the table; a plain table is converted
       * after the traversal (the new tensor must stay on the stack). */
      *bias = cpl_totensor(L, v);
      convert_bias = *bias == NULL;
    } else if (!strcmp(k, "data_format") && x) {
      const char *f = lua_tostring(L, v);
      if (lua_type(L, v) != LUA_TSTRING ||
          (strcmp(f, "channels_last") && strcmp(f, "channels_first")))
        cpl_argerror(L, fname, arg, "opts.data_format",
                     "expected \"channels_first\" or \"channels_last\", got "
                     "%s",
                     lua_type(L, v) == LUA_TSTRING ? f : luaL_typename(L, v));
      x->channels_last = !strcmp(f, "channels_last");
    } else if (!strcmp(k, "multi_channel") && x) {
      x->multi_channel = lua_toboolean(L, v);
    }
    lua_pop(L, 1);
  }
  if (convert_bias) {
    lua_getfield(L, idx, "bias");
    *bias = cpl_checktensorlike(L, lua_gettop(L), fname, arg, "opts.bias");
    /* (pushes the tensor) */
    lua_remove(L, -2);                              /* the plain table */
  }
}

void cpl_conv_opts(lua_State *L, int idx, const char *fname, int transposed,
                   cp_conv_params *p, cp_tensor **bias) {
  parse_opts(L, idx, fname, transposed, p, bias, NULL);
}

void cpl_conv_opts_ex(lua_State *L, int idx, const char *fname,
                      int transposed, cp_conv_params *p, cp_tensor **bias,
                      cpl_conv_extra *x) {
  parse_opts(L, idx, fname, transposed, p, bias, x);
}

/* ====================================================================== */
/* Layout helpers (Keras channels_last)                                    */
/* ====================================================================== */

/* NHWC -> NCHW (or HWC -> CHW) view. */
static int to_nchw(cp_tensor *out, const cp_tensor *x, cp_err *e) {
  static const int p4[] = {0, 3, 1, 2}, p3[] = {2, 0, 1};
  if (x->ndim != 3 && x->ndim != 4) {
    char b[160];
    return cp_fail(e,
                   "input: Expected 3D (unbatched) or 4D (batched) input, but "
                   "got input of size: %s",
                   cp_shape_str(x->ndim, x->shape, b, sizeof b));
  }
  return cp_tensor_permute(out, x, x->ndim == 4 ? p4 : p3, e);
}
static int from_nchw(cp_tensor *out, const cp_tensor *y, cp_err *e) {
  static const int p4[] = {0, 2, 3, 1}, p3[] = {1, 2, 0};
  cp_tensor v;
  if (cp_tensor_permute(&v, y, y->ndim == 4 ? p4 : p3, e)) return -1;
  int rc = cp_tensor_clone(out, &v, e);
  cp_tensor_release(&v);
  return rc;
}
/* HWIO kernel -> OIHW view. */
static int hwio_to_oihw(cp_tensor *out, const cp_tensor *w, cp_err *e) {
  static const int p[] = {3, 2, 0, 1};
  if (w->ndim != 4) {
    char b[160];
    return cp_fail(e,
                   "weight: expected a 4-D HWIO kernel (kH, kW, in/groups, "
                   "out), got size %s",
                   cp_shape_str(w->ndim, w->shape, b, sizeof b));
  }
  return cp_tensor_permute(out, w, p, e);
}

/* ====================================================================== */
/* Ops                                                                     */
/* ====================================================================== */

static const char *const conv2d_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode",
    "data_format", NULL};
static const char *const convT_keys[] = {
    "bias", "stride", "padding", "output_padding", "output_size", "dilation",
    "groups", "padding_mode", "data_format", NULL};
static const char *const partial_keys[] = {
    "bias", "stride", "padding", "dilation", "groups", "padding_mode",
    "multi_channel", "data_format", NULL};

enum { OP_CONV, OP_CONVOLVE, OP_TRANSPOSE };

/* conv2d / convolve2d / conv_transpose2d share everything but the core
 * call and whether the kernel is flipped. */
static int do_conv(lua_State *L, const char *fname, int op) {
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_tensor *w = cpl_checktensor_arg(L, 2, 2, fname, "weight");
  cpl_check_keys(L, 3, fname, 3,
                 op == OP_TRANSPOSE ? convT_keys : conv2d_keys);
  cp_conv_params p;
  cp_tensor *bias;
  extra_opts xo;
  parse_opts(L, 3, fname, op == OP_TRANSPOSE, &p, &bias, &xo);
  int cl = xo.channels_last;
  cp_err e;
  /* Every intermediate lives in a userdata, so an error anywhere below
   * leaves nothing to leak; the plain call needs none. */
  cp_tensor *xs = x, *ws = w;
  if (cl) {
    xs = cpl_newtensor(L);
    ws = cpl_newtensor(L);
    if (to_nchw(xs, x, &e) || hwio_to_oihw(ws, w, &e))
      return cpl_error(L, fname, &e);
  }
  if (op == OP_CONVOLVE) {
    if (ws->ndim != 4) {
      char b[160];
      return luaL_error(L,
                        "%s: weight: expected a 4-D weight (out_channels, "
                        "in_channels/groups, kH, kW), but got weight of size "
                        "%s",
                        fname, cp_shape_str(ws->ndim, ws->shape, b, sizeof b));
    }
    static const int hw[] = {2, 3};
    cp_tensor *flipped = cpl_newtensor(L);
    if (cp_tensor_flip(flipped, ws, 2, hw, &e)) return cpl_error(L, fname, &e);
    ws = flipped;
  }
  if (xo.has_out_size) {
    if (xo.has_out_pad)
      return cpl_argerror(L, fname, 3, "opts.output_size",
                          "give output_size or output_padding, not both");
    if ((xs->ndim == 3 || xs->ndim == 4) && ws->ndim == 4 &&
        cp_convT_output_padding(&p, xs->shape + xs->ndim - 2, ws->shape + 2,
                                xo.out_size, p.out_pad, &e))
      return cpl_error(L, fname, &e);
  }
  cp_tensor *y = cpl_newtensor(L);
  int rc = op == OP_TRANSPOSE ? cp_conv_transpose2d(y, xs, ws, bias, &p, &e)
                              : cp_conv2d(y, xs, ws, bias, &p, &e);
  if (rc) return cpl_error(L, fname, &e);
  if (cl) {
    cp_tensor *nhwc = cpl_newtensor(L);
    if (from_nchw(nhwc, y, &e)) return cpl_error(L, fname, &e);
    y = nhwc;
  }
  cpl_account(L, y->st->cap);
  return 1;
}

static int c_conv2d(lua_State *L) {
  return do_conv(L, "conv.conv2d", OP_CONV);
}
static int c_convolve2d(lua_State *L) {
  return do_conv(L, "conv.convolve2d", OP_CONVOLVE);
}
static int c_conv_transpose2d(lua_State *L) {
  return do_conv(L, "conv.conv_transpose2d", OP_TRANSPOSE);
}

static int c_partial_conv2d(lua_State *L) {
  const char *fname = "conv.partial_conv2d";
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_tensor *m = cpl_checktensor_arg(L, 2, 2, fname, "mask");
  cp_tensor *w = cpl_checktensor_arg(L, 3, 3, fname, "weight");
  cpl_check_keys(L, 4, fname, 4, partial_keys);
  cp_conv_params p;
  cp_tensor *bias;
  extra_opts xo;
  parse_opts(L, 4, fname, 0, &p, &bias, &xo);
  int multi = xo.multi_channel, cl = xo.channels_last;
  cp_err e;
  cp_tensor *xs = cpl_newtensor(L), *ms = cpl_newtensor(L),
            *ws = cpl_newtensor(L);
  if (cl) {
    if (to_nchw(xs, x, &e) || to_nchw(ms, m, &e) || hwio_to_oihw(ws, w, &e))
      return cpl_error(L, fname, &e);
  } else {
    cp_tensor_share(xs, x);
    cp_tensor_share(ms, m);
    cp_tensor_share(ws, w);
  }
  cp_tensor *y = cpl_newtensor(L), *nm = cpl_newtensor(L);
  if (cp_partial_conv2d(y, nm, xs, ms, ws, bias, &p, multi, &e))
    return cpl_error(L, fname, &e);
  if (cl) {
    cp_tensor a, b;
    if (from_nchw(&a, y, &e)) return cpl_error(L, fname, &e);
    cp_tensor_release(y);
    *y = a;
    if (from_nchw(&b, nm, &e)) return cpl_error(L, fname, &e);
    cp_tensor_release(nm);
    *nm = b;
  }
  cpl_account(L, y->st ? y->st->cap + nm->st->cap : 0);
  return 2;
}

/* conv.output_size(input, kernel [, opts]) -> h [, w]
 * input and kernel: a number (one dimension) or {h, w}; opts as conv2d or,
 * with transposed = true, as conv_transpose2d.  The same validation as the
 * ops themselves (it runs the geometry module on a 1x1 problem). */
static int c_output_size(lua_State *L) {
  const char *fname = "conv.output_size";
  int64_t in[2], k[2];
  int pair = lua_type(L, 1) == LUA_TTABLE;
  for (int a = 1; a <= 2; a++) {
    int64_t *dst = a == 1 ? in : k;
    const char *what = a == 1 ? "input" : "kernel_size";
    if (lua_type(L, a) == LUA_TTABLE) {
      int len = (int)lua_rawlen(L, a); /* {n} means n, as in PyTorch */
      if (len != 1 && len != 2)
        return cpl_argerror(L, fname, a, what, "expected a number or {h, w}");
      for (int i = 0; i < 2; i++) {
        lua_rawgeti(L, a, len == 1 ? 1 : i + 1);
        dst[i] = cpl_checkint_arg(L, lua_gettop(L), a, fname, what, 0,
                                  INT32_MAX);
        lua_pop(L, 1);
      }
    } else {
      dst[0] = dst[1] = cpl_checkint(L, a, fname, what, 0, INT32_MAX);
    }
  }
  int transposed = 0, pooling = 0, ceil_mode = 0, has_stride = 0;
  if (lua_type(L, 3) == LUA_TTABLE) {
    lua_getfield(L, 3, "transposed");
    transposed = lua_toboolean(L, -1);
    lua_getfield(L, 3, "pooling");
    pooling = lua_toboolean(L, -1);
    lua_getfield(L, 3, "ceil_mode");
    ceil_mode = lua_toboolean(L, -1);
    pooling |= !lua_isnil(L, -1);
    lua_getfield(L, 3, "stride");
    has_stride = !lua_isnil(L, -1);
    lua_pop(L, 4);
    static const char *const keys[] = {"stride", "padding", "output_padding",
                                       "dilation", "padding_mode",
                                       "transposed", "pooling", "ceil_mode",
                                       NULL};
    cpl_check_keys(L, 3, fname, 3, keys);
    if (pooling && transposed)
      return cpl_argerror(L, fname, 3, "opts",
                          "pooling (or ceil_mode) and transposed exclude "
                          "each other");
  }
  if (pooling) {
    /* pooling's rule: stride defaults to the kernel; with ceil_mode the
     * last window must start inside the input or the left padding */
    cp_conv_params cv;
    cpl_conv_opts(L, 3, fname, 0, &cv, NULL);
    if (cv.padspec != CP_PADSPEC_EXPLICIT || cv.pad[0] != cv.pad[1] ||
        cv.pad[2] != cv.pad[3])
      return cpl_argerror(L, fname, 3, "opts.padding",
                          "pooling takes a number or {ph, pw}");
    cp_pool_params pp;
    cp_pool_params_default(&pp, k[0], k[1]);
    if (has_stride) pp.stride[0] = cv.stride[0], pp.stride[1] = cv.stride[1];
    pp.pad[0] = cv.pad[0], pp.pad[1] = cv.pad[2];
    pp.dilation[0] = cv.dilation[0], pp.dilation[1] = cv.dilation[1];
    pp.ceil_mode = ceil_mode;
    int64_t shape[4] = {1, 1, in[0], in[1]};
    cp_pool_geom pg;
    cp_err e;
    if (cp_pool_geom_init(&pg, &pp, CP_POOL_MAX, 4, shape, &e))
      return cpl_error(L, fname, &e);
    lua_pushinteger(L, pg.OH);
    if (!pair) return 1;
    lua_pushinteger(L, pg.OW);
    return 2;
  }
  cp_conv_params p;
  cpl_conv_opts(L, 3, fname, transposed, &p, NULL);
  int64_t xs[4] = {1, 1, in[0], in[1]}, ws[4] = {1, 1, k[0], k[1]};
  cp_geom g;
  cp_err e;
  if (cp_geom_init(&g, &p, xs, ws, 0, 0, 0, &e)) return cpl_error(L, fname, &e);
  lua_pushinteger(L, g.OH);
  if (!pair) return 1;
  lua_pushinteger(L, g.OW);
  return 2;
}

/* conv.pad(x, pad, mode): F.pad for the last two dims.  pad is a number or
 * PyTorch's order {left, right, top, bottom}. */
static int c_pad(lua_State *L) {
  const char *fname = "conv.pad";
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  int64_t pad[4]; /* top, bottom, left, right */
  if (lua_type(L, 2) == LUA_TTABLE) {
    if (lua_rawlen(L, 2) != 4)
      return cpl_argerror(L, fname, 2, "pad",
                          "expected a number or {left, right, top, bottom}");
    static const int order[4] = {2, 3, 0, 1};
    for (int i = 0; i < 4; i++) {
      lua_rawgeti(L, 2, i + 1);
      pad[order[i]] = cpl_checkint_arg(L, lua_gettop(L), 2, fname, "pad", 0,
                                       INT32_MAX);
      lua_pop(L, 1);
    }
  } else {
    pad[0] = pad[1] = pad[2] = pad[3] =
        cpl_checkint(L, 2, fname, "pad", 0, INT32_MAX);
  }
  cp_padmode mode = CP_PAD_ZEROS;
  const char *ms = luaL_optstring(L, 3, "zeros");
  if (!strcmp(ms, "constant")) ms = "zeros";
  if (cp_padmode_parse(ms, &mode))
    return cpl_argerror(L, fname, 3, "mode",
                        "expected 'zeros', 'reflect', 'replicate' or "
                        "'circular', got '%s'",
                        ms);
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_pad2d(y, x, pad, mode, &e)) return cpl_error(L, fname, &e);
  cpl_account(L, y->st->cap);
  return 1;
}

/* conv.hwio(w) / conv.oihw(k): kernel layout conversions (contiguous). */
static int layout(lua_State *L, const char *fname, const int *perm) {
  cp_tensor *w = cpl_checktensor_arg(L, 1, 1, fname, "weight");
  if (w->ndim != 4) {
    char b[160];
    return cpl_argerror(L, fname, 1, "weight", "expected a 4-D kernel, got %s",
                        cp_shape_str(w->ndim, w->shape, b, sizeof b));
  }
  cp_err e;
  cp_tensor v;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_tensor_permute(&v, w, perm, &e)) return cpl_error(L, fname, &e);
  int rc = cp_tensor_clone(y, &v, &e);
  cp_tensor_release(&v);
  if (rc) return cpl_error(L, fname, &e);
  cpl_account(L, y->st->cap);
  return 1;
}
static int c_to_hwio(lua_State *L) {
  static const int p[] = {2, 3, 1, 0};
  return layout(L, "conv.to_hwio", p);
}
static int c_to_oihw(lua_State *L) {
  static const int p[] = {3, 2, 0, 1};
  return layout(L, "conv.to_oihw", p);
}

static int c_set_impl(lua_State *L) {
  static const char *const names[] = {"auto", "reference", NULL};
  cp_conv_set_impl((cp_impl)luaL_checkoption(L, 1, NULL, names));
  return 0;
}
/* conv.sep_conv2d(x, col, row [, opts]): every channel filtered by the
 * kernel col x row (tensors or Lua lists of taps), as cv2.sepFilter2D. */
static const char *const sep_keys[] = {
    "bias", "stride", "padding", "dilation", "padding_mode", NULL};
static int c_sep_conv2d(lua_State *L) {
  const char *fname = "conv.sep_conv2d";
  lua_settop(L, 4); /* tensors made from lists go above the options */
  cp_tensor *x = cpl_checktensor_arg(L, 1, 1, fname, "input");
  cp_tensor *col = cpl_checktensorlike(L, 2, fname, 2, "col");
  cp_tensor *row = cpl_checktensorlike(L, 3, fname, 3, "row");
  cpl_check_keys(L, 4, fname, 4, sep_keys);
  cp_conv_params p;
  cp_tensor *bias;
  extra_opts xo;
  parse_opts(L, 4, fname, 0, &p, &bias, &xo);
  cp_err e;
  cp_tensor *y = cpl_newtensor(L);
  if (cp_sep_conv2d(y, x, col, row, bias, &p, &e))
    return cpl_error(L, fname, &e);
  cpl_account(L, y->st->cap);
  return 1;
}

static int c_get_impl(lua_State *L) {
  lua_pushstring(L, cp_conv_get_impl() == CP_IMPL_AUTO ? "auto" : "reference");
  return 1;
}

static const luaL_Reg conv_funcs[] = {
    {"conv2d", c_conv2d},
    {"convolve2d", c_convolve2d},
    {"conv_transpose2d", c_conv_transpose2d},
    {"sep_conv2d", c_sep_conv2d},
    {"partial_conv2d", c_partial_conv2d},
    {"output_size", c_output_size},
    {"pad", c_pad},
    {"to_hwio", c_to_hwio},
    {"to_oihw", c_to_oihw},
    {"set_impl", c_set_impl},
    {"get_impl", c_get_impl},
    {NULL, NULL}};

int luaopen_conv(lua_State *L) {
  cpl_newlib(L, conv_funcs);
  cpl_conv_ops(L);
  return 1;
}
